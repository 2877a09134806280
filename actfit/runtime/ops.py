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
from actfit.runtime.reference import compute_dtype

__all__ = ["FORMS", "compute_dtype", "rational"]



def rational(
    x: torch.Tensor, numerator: torch.Tensor, denominator: torch.Tensor, form: str = "safe"
) -> torch.Tensor:
    """Gives P(x)/Q(x) elementwise, computed by the compiled operator (differentiable).

    Args:
        x: Input of any shape, float16/bfloat16/float32/float64, on the CPU or a CUDA device.
        numerator: Coefficients a0..am (ascending), 1-D.
        denominator: Coefficients b1..bn (ascending, the constant 1 implied), 1-D.
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
    torch._check(numerator.dim() == 1 and denominator.dim() == 1)
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
    gx, ga, gb = torch.ops.actfit.rational_bwd(
        grad, x, numerator, denominator, ctx.form, bool(need_a or need_b)
    )
    return (gx if need_x else None, ga if need_a else None, gb if need_b else None, None)


def _register_python_kernels() -> None:
    """Registers the fake kernels and autograd; called once, right after the library loads."""
    torch.library.register_fake("actfit::rational_fwd")(_fwd_fake)
    torch.library.register_fake("actfit::rational_bwd")(_bwd_fake)
    torch.library.register_autograd(
        "actfit::rational_fwd", _backward, setup_context=_setup_context
    )
