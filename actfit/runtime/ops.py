"""Typed wrapper of the compiled ``actfit::rational_fwd`` / ``actfit::rational_bwd`` operators.

The schemas and the CPU/CUDA kernels are C++ (``csrc/``, compiled by :mod:`._build`); this module
registers what PyTorch needs on top of them, as pytorch/extension-cpp does: a fake (meta) kernel
for ``torch.compile`` and export, and the autograd formula (the backward operator gives the input
and all coefficient gradients in one pass). :func:`ensure_loaded` does both steps, once.
"""

from __future__ import annotations

import threading

import torch

from actfit.rational import FORMS
from actfit.runtime._build import BuildResult, build_and_load
from actfit.runtime.reference import compute_dtype, rational_reference

__all__ = ["FORMS", "build_ops", "compute_dtype", "ensure_loaded", "load_library", "rational"]

_REGISTERED = threading.Event()
_REGISTER_LOCK = threading.Lock()


def ensure_loaded() -> str:
    """Builds (first use only) and loads the operators, and registers their Python side once.

    Returns:
        ``"cuda"`` when the CUDA implementation was built too, else ``"cpu"``.

    Raises:
        RuntimeBuildError: no C++ compiler, or the compilation failed.

    Examples:
        >>> ensure_loaded() in ("cpu", "cuda")  # doctest: +SKIP
        True
    """
    result = build_and_load()
    if not _REGISTERED.is_set():
        with _REGISTER_LOCK:
            if not _REGISTERED.is_set():
                _register_python_kernels()
                _REGISTERED.set()
    return result.variant


load_library = ensure_loaded
"""The name :func:`ensure_loaded` had before (``actfit.runtime.load_library``)."""


def build_ops() -> BuildResult:
    """Compiles the runtime operators into the build cache now, so that the first use does not.

    For ``actfit build-ops`` and test set-ups: a later process with the same sources, flags and
    ``ACTFIT_BUILD_DIR`` loads the cached library without compiling. The library is loaded into
    this process as well.

    Returns:
        The variant built (``"cpu"`` or ``"cuda"``), the library's path, whether it was cached
        already and the seconds it took.

    Raises:
        RuntimeBuildError: no C++ compiler, or the compilation failed.

    Examples:
        >>> build_ops().library.is_file()  # doctest: +SKIP
        True
    """
    ensure_loaded()
    return build_and_load()


def rational(
    x: torch.Tensor, numerator: torch.Tensor, denominator: torch.Tensor, form: str = "safe"
) -> torch.Tensor:
    """Gives P(x)/Q(x) elementwise, computed by the compiled operator (differentiable).

    Args:
        x: Input of any shape, float16/bfloat16/float32/float64, on the CPU or a CUDA device;
            ``[..., G, L]`` with per-group coefficients (row g applies to ``x[..., g, :]``).
        numerator: Coefficients a0..am (ascending), 1-D, or ``[G, m+1]`` per group.
        denominator: Coefficients b1..bn (ascending, the constant 1 implied), 1-D, or
            ``[G, n]`` per group.
        form: ``"plain"``, ``"safe"`` or ``"abs"`` (already normalised).

    Returns:
        A tensor shaped and typed like ``x``. Half types are computed in float32 internally.

    Raises:
        RuntimeBuildError: the operators could not be compiled.
    """
    ensure_loaded()
    ct = compute_dtype(x.dtype)
    return torch.ops.actfit.rational_fwd(x, numerator.to(ct), denominator.to(ct), form)


def _fwd_fake(x, numerator, denominator, form):
    torch._check(numerator.dim() == denominator.dim() and numerator.dim() in (1, 2))
    if numerator.dim() == 2:
        torch._check(x.dim() >= 2 and x.shape[-2] == numerator.shape[0])
    return torch.empty(x.shape, dtype=x.dtype, device=x.device)


def _bwd_fake(grad, x, numerator, denominator, form, coeff_grad):
    return (
        torch.empty(x.shape, dtype=x.dtype, device=x.device),
        torch.empty_like(numerator),
        torch.empty_like(denominator),
    )


def _setup_context(ctx, inputs, output):
    x, numerator, denominator, form = inputs
    ctx.save_for_backward(x, numerator, denominator)
    ctx.form = form


def _backward(ctx, grad):
    x, numerator, denominator = ctx.saved_tensors
    need_x, need_a, need_b = ctx.needs_input_grad[:3]
    if torch.is_grad_enabled() and any(t.requires_grad for t in (grad, x, numerator, denominator)):
        return _differentiable_backward(ctx.form, grad, x, numerator, denominator)
    gx, ga, gb = torch.ops.actfit.rational_bwd(
        grad, x, numerator, denominator, ctx.form, bool(need_a or need_b)
    )
    return (gx if need_x else None, ga if need_a else None, gb if need_b else None, None)


def _differentiable_backward(form, grad, x, numerator, denominator):
    """First derivatives as a graph (``create_graph=True``): double backward, Hessian-vector
    products and gradient penalties. They come from the pure-torch reference, the same math with
    ordinary operations, so autograd can differentiate them again; slower than the kernel, and
    used only when a second derivative was asked for.
    """
    inputs = [x, numerator, denominator]
    wanted = [t for t in inputs if t.requires_grad]
    if not wanted:
        return None, None, None, None
    with torch.enable_grad():
        y = rational_reference(x, numerator, denominator, form)
        grads = iter(torch.autograd.grad(y, wanted, grad, create_graph=True, allow_unused=True))
    out = [next(grads) if t.requires_grad else None for t in inputs]
    return (*out, None)


def _register_python_kernels() -> None:
    """Registers the fake kernels and autograd; called once, by :func:`ensure_loaded`."""
    torch.library.register_fake("actfit::rational_fwd")(_fwd_fake)
    torch.library.register_fake("actfit::rational_bwd")(_bwd_fake)
    torch.library.register_autograd("actfit::rational_fwd", _backward, setup_context=_setup_context)
