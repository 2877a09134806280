"""``RationalActivation``: a torch module evaluating P(x)/Q(x) with the compiled operators."""

from __future__ import annotations

import os
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from actfit.errors import FormError
from actfit.rational import normalize_form
from actfit.runtime import ops
from actfit.runtime._build import RuntimeBuildError, load_library
from actfit.runtime.reference import rational_reference

if TYPE_CHECKING:
    from actfit.fit import Fit

__all__ = ["RationalActivation"]

_IMPLS = ("auto", "op", "reference")


def _runtime_form(form: str) -> str:
    name = normalize_form(form)
    if name not in ops.FORMS:
        raise FormError(
            f"the runtime evaluates the forms plain, safe and abs, not {name!r}; "
            "refit with --form safe or --form abs"
        )
    return name


class RationalActivation(torch.nn.Module):
    """Rational activation y = P(x)/Q(x) with learnable (or fixed) coefficients.

    Works on any shape and device, in float16/bfloat16/float32/float64 (half types are computed
    in float32), with autograd for the input and every coefficient, ``torch.compile`` without
    graph breaks (the operator has a fake kernel) and a ``state_dict`` that carries the form.

    Args:
        numerator: Coefficients a0..am, ascending (m <= 16).
        denominator: Coefficients b1..bn, ascending, the constant 1 implied (n <= 16).
        form: Denominator form: ``plain``, ``safe`` or ``abs`` (aliases N, A, B).
        learnable: Coefficients are parameters (True) or buffers (False).
        impl: ``"op"`` (compiled operator), ``"reference"`` (pure torch) or ``"auto"`` (the
            operator, or the reference with a warning when it cannot be built).
        dtype: Dtype of the stored coefficients (float32 or float64).

    Raises:
        FormError: unknown form, or one the runtime does not evaluate.
        OrderError: a degree above 16.
        RuntimeBuildError: ``impl="op"`` and the operator cannot be built.

    Examples:
        >>> act = RationalActivation([0.0, 1.0], [0.0, 1.0], form="safe", impl="reference")
        >>> act(torch.tensor([2.0])).item()
        0.4
    """

    def __init__(
        self,
        numerator: Any,
        denominator: Any,
        form: str = "safe",
        learnable: bool = True,
        *,
        impl: str = "auto",
        dtype: torch.dtype = torch.float32,
    ) -> None:
        super().__init__()
        from actfit.errors import OrderError

        if impl not in _IMPLS:
            raise ValueError(f"impl must be one of {_IMPLS}, got {impl!r}")
        self.form = _runtime_form(form)
        a = torch.tensor(np.array(numerator, dtype=np.float64).reshape(-1), dtype=dtype)
        b = torch.tensor(np.array(denominator, dtype=np.float64).reshape(-1), dtype=dtype)
        if a.numel() < 1 or a.numel() > 17 or b.numel() > 16:
            raise OrderError(
                f"the runtime takes orders up to [16, 16], got [{a.numel() - 1}, {b.numel()}]"
            )
        if learnable:
            self.numerator = torch.nn.Parameter(a)
            self.denominator = torch.nn.Parameter(b)
        else:
            self.register_buffer("numerator", a)
            self.register_buffer("denominator", b)
        self.impl = self._resolve(impl)

    @staticmethod
    def _resolve(impl: str) -> str:
        if impl == "reference" or os.environ.get("ACTFIT_RUNTIME") == "reference":
            return "reference"
        try:
            load_library()
        except RuntimeBuildError as exc:
            if impl == "op":
                raise
            warnings.warn(
                f"{exc}; falling back to the pure-torch reference", RuntimeWarning, stacklevel=3
            )
            return "reference"
        return "op"

    @classmethod
    def from_fit(cls, fit: Fit, learnable: bool = True, **kwargs: Any) -> RationalActivation:
        """Gives a module with the coefficients and form of a :class:`~actfit.fit.Fit`."""
        r = fit.rational
        return cls(r.numerator, r.denominator, r.form, learnable, **kwargs)

    @classmethod
    def from_file(
        cls, path: str | os.PathLike[str] | Fit, learnable: bool = True, **kwargs: Any
    ) -> RationalActivation:
        """Gives a module for a saved table (``.json``/``.npz``) or a Fit object.

        Raises:
            FileFormatError: the file is not a valid actfit table.
        """
        if isinstance(path, str | os.PathLike):
            from actfit.export import load

            return cls.from_fit(load(path), learnable, **kwargs)
        return cls.from_fit(path, learnable, **kwargs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Gives P(x)/Q(x) elementwise, shaped and typed like ``x``."""
        ct = ops.compute_dtype(x.dtype)
        a = self.numerator.to(ct)
        b = self.denominator.to(ct)
        if self.impl == "reference":
            return rational_reference(x, a, b, self.form)
        return torch.ops.actfit.rational_fwd(x, a, b, self.form)

    def get_extra_state(self) -> dict[str, str]:
        """The denominator form, saved in the ``state_dict`` with the coefficients."""
        return {"form": self.form}

    def set_extra_state(self, state: dict[str, str]) -> None:
        """Restores the form saved by :meth:`get_extra_state`."""
        self.form = _runtime_form(state["form"])

    def extra_repr(self) -> str:
        m = self.numerator.numel() - 1
        n = self.denominator.numel()
        return f"order=[{m}, {n}], form={self.form!r}, impl={self.impl!r}"
