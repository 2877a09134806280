"""Typed wrapper of the compiled ``actfit::rational_fwd`` / ``actfit::rational_bwd`` operators.

The schemas and the CPU/CUDA kernels are C++ (``csrc/``); this module registers what PyTorch needs
on top of them, as pytorch/extension-cpp does: a fake (meta) kernel for ``torch.compile`` and
export, and the autograd formula (the backward operator gives the input and all coefficient
gradients in one pass).
"""

from __future__ import annotations

import torch

from actfit.rational import FORMS
from actfit.runtime._build import load_library
from actfit.runtime.reference import compute_dtype, rational_reference

__all__ = ["FORMS", "compute_dtype", "rational"]


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
    load_library()
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
    """Registers the fake kernels and autograd; called once, right after the library loads."""
    torch.library.register_fake("actfit::rational_fwd")(_fwd_fake)
    torch.library.register_fake("actfit::rational_bwd")(_bwd_fake)
    torch.library.register_autograd("actfit::rational_fwd", _backward, setup_context=_setup_context)
