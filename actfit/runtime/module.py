"""``RationalActivation``: a torch module evaluating P(x)/Q(x) with the compiled operators."""

from __future__ import annotations

import os
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from actfit.errors import FormError, OrderError, ParameterError
from actfit.options import DEFAULT_RANGE, as_range
from actfit.rational import Rational, normalize_form
from actfit.runtime import ops
from actfit.runtime._build import RUNTIME_MAX_DEGREE, RuntimeBuildError
from actfit.runtime.reference import rational_reference
from actfit.targets import Target, as_target, from_dict

if TYPE_CHECKING:
    from pathlib import Path

    from actfit.fit import Fit

__all__ = ["RationalActivation", "runtime_form"]

_IMPLS = ("auto", "op", "reference")
_builtin_range = range  # the methods below take a ``range`` argument, as the fitters do


def runtime_form(form: str) -> str:
    """Return the canonical name of a form the runtime operators evaluate (plain, safe, abs).

    Raises:
        FormError: an unknown form, or one the runtime does not evaluate (form C).
    """
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

    Grouped (as in KAT's group-rational KAN layers, Yang & Wang 2024): with ``groups=G`` the
    channels along ``channel_dim`` are split into G equal consecutive groups, each with its own
    coefficients, stored as ``numerator[G, m+1]`` and ``denominator[G, n]``; 1-D coefficients
    (a fitted table) are copied to every group, the usual initialisation. All groups are one
    fused operator call on x viewed as ``[outer, G, L]`` (per-group coefficient gradients
    reduced deterministically, like the ungrouped ones).

    Args:
        numerator: Coefficients a0..am, ascending (m <= RUNTIME_MAX_DEGREE = 16); ``[G, m+1]``
            for G groups.
        denominator: Coefficients b1..bn, ascending, the constant 1 implied (n <= 16);
            ``[G, n]`` for G groups.
        form: Denominator form: ``plain``, ``safe`` or ``abs`` (aliases N, A, B).
        learnable: Coefficients are parameters (True) or buffers (False).
        impl: ``"op"`` (compiled operator), ``"reference"`` (pure torch) or ``"auto"`` (the
            operator, or the reference with a warning when it cannot be built).
        dtype: Dtype of the stored coefficients (float32 or float64).
        groups: Number of channel groups (1: one rational for every element).
        channel_dim: The dimension holding the channels, for ``groups > 1`` (KAT: the last).
        init_target: The function the coefficients were fitted to (a Target, a registry name
            or an expression), recorded by :meth:`from_fit` and used by :meth:`to_fit`.
        init_range: The range of that fit.

    Training: the safe form's ``|b_k|`` has the subgradient +1 at ``b_k = 0`` (in the compiled
    kernels and the reference alike), so a table's exact zero coefficient (gelu's safe lsq
    ``b4``) receives a gradient and trains; torch's ``abs`` would give it 0 for ever. The table
    itself is used unchanged (nudging zeros would change the function that was fitted).
    :meth:`to_fit` / :meth:`save` turn the learned coefficients back into result documents.

    Raises:
        FormError: unknown form, or one the runtime does not evaluate.
        OrderError: a degree above 16.
        ParameterError: coefficient shapes that do not match ``groups`` (the message gives the
            shape received), or a NaN/Inf coefficient (the message gives its position).
        RuntimeBuildError: ``impl="op"`` and the operator cannot be built.

    Examples:
        >>> act = RationalActivation([0.0, 1.0], [0.0, 1.0], form="safe", impl="reference")
        >>> round(act(torch.tensor([2.0])).item(), 6)
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
        groups: int = 1,
        channel_dim: int = -1,
        init_target: Target | str | None = None,
        init_range: Any = None,
    ) -> None:
        super().__init__()
        self.init_target = None if init_target is None else as_target(init_target, None)
        self.init_range = None if init_range is None else as_range(init_range)
        self.init_settings: dict[str, Any] | None = None  # the initial fit's method, settings
        if impl not in _IMPLS:
            raise ValueError(f"impl must be one of {_IMPLS}, got {impl!r}")
        self.form = runtime_form(form)
        self.groups = _check_groups(groups)
        self.channel_dim = int(channel_dim)
        a = _grouped(numerator, self.groups, "numerator", dtype)
        b = _grouped(denominator, self.groups, "denominator", dtype)
        top = RUNTIME_MAX_DEGREE
        if a.shape[-1] < 1 or a.shape[-1] > top + 1 or b.shape[-1] > top:
            raise OrderError(
                f"the runtime takes orders up to [{top}, {top}], got "
                f"[{a.shape[-1] - 1}, {b.shape[-1]}] (coefficient shapes {tuple(a.shape)} and "
                f"{tuple(b.shape)}); refit with a lower order"
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
            ops.ensure_loaded()
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
        kwargs.setdefault("init_target", fit.target)
        kwargs.setdefault("init_range", fit.range)
        module = cls(r.numerator, r.denominator, r.form, learnable, **kwargs)
        module.init_settings = {"method": fit.method, "settings": dict(fit.settings)}
        return module

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
        """Gives P(x)/Q(x) elementwise, shaped and typed like ``x``.

        Raises:
            ParameterError: grouped, and the channel count is not a multiple of ``groups``.
        """
        ct = ops.compute_dtype(x.dtype)
        a = self.numerator.to(ct)
        b = self.denominator.to(ct)
        if self.groups == 1:
            return self._eval(x, a, b)
        dim = self.channel_dim
        if not -x.dim() <= dim < x.dim() or x.shape[dim] % self.groups:
            raise ParameterError(
                f"a grouped RationalActivation ({self.groups} groups along dim {dim}) needs an "
                f"input whose channel count is a multiple of {self.groups}, got shape "
                f"{tuple(x.shape)}; set channel_dim to the channel dimension"
            )
        # x as [outer, G, L]: group g is the channel block g of every outer index, with its
        # trailing dimensions; one fused operator call for all the groups.
        d = dim % x.dim()
        seg = x.shape[d] // self.groups * x.shape[d + 1 :].numel()
        # -1, not the product of the leading sizes: torch.export keeps the batch size symbolic.
        outer = -1 if seg else x.shape[:d].numel()
        y = self._eval(x.reshape(outer, self.groups, seg), a, b)
        return y.view(x.shape)

    def _eval(self, x: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        # ONNX has no actfit operator: under torch.onnx.export the module traces the pure-torch
        # reference instead, the same math in standard operators (see export_onnx's test).
        if self.impl == "reference" or torch.onnx.is_in_onnx_export():
            return rational_reference(x, a, b, self.form)
        return torch.ops.actfit.rational_fwd(x, a, b, self.form)

    def to_fits(
        self, target: Target | str | None = None, range: Any = None, **params: float
    ) -> list[Fit]:
        """Gives the learned coefficients as result documents, one :class:`Fit` per group.

        Each is a normal fit (method ``"learned"``) of the function the module was initialised
        from, on the range of that fit, with its error and pole reports computed for the learned
        coefficients; ``settings`` holds the group and the initial fit's method and settings.

        Args:
            target: The function to report against; default: the one the module was
                initialised from (:meth:`from_fit`, :meth:`from_file`,
                :func:`~actfit.runtime.replace_activations`). A registry name or an expression.
            range: The range of the reports; default: the initial fit's, else (-3, 3).
            **params: Parameters of ``target`` when it is given by name.

        Raises:
            ParameterError: the module does not know its target and none was given.

        Examples:
            >>> act = RationalActivation([0.0, 1.0], [0.5], impl="reference")
            >>> act.to_fits(target="x / (1 + abs(x)/2)")[0].method
            'learned'
        """
        from actfit.fit import make_fit

        if target is None and self.init_target is None:
            raise ParameterError(
                "this RationalActivation does not know the function it was initialised from; "
                "pass target= (a registry name or an expression in x)"
            )
        tgt = self.init_target if target is None else as_target(target, params)
        if range is not None:
            rng = as_range(range)
        else:
            rng = self.init_range if self.init_range is not None else DEFAULT_RANGE
        a = self.numerator.detach().double().cpu().numpy().reshape(self.groups, -1)
        b = self.denominator.detach().double().cpu().numpy().reshape(self.groups, -1)
        init = self.init_settings
        fits = []
        for g in _builtin_range(self.groups):
            settings: dict[str, Any] = {"group": g, "groups": self.groups}
            if init is not None:
                settings["init"] = init
            fits.append(
                make_fit(
                    tgt,
                    Rational(a[g], b[g], self.form),
                    method="learned",
                    settings=settings,
                    range=rng,
                    allow_poles=True,  # a learned plain table may have them: report, not refuse
                )
            )
        return fits

    def to_fit(
        self,
        target: Target | str | None = None,
        range: Any = None,
        *,
        group: int | None = None,
        **params: float,
    ) -> Fit:
        """Gives the learned coefficients of one group as a :class:`Fit` (see :meth:`to_fits`).

        Raises:
            ParameterError: a grouped module and no ``group``, a group out of range, or no
                target known (see :meth:`to_fits`).
        """
        if group is None:
            if self.groups > 1:
                raise ParameterError(
                    f"this RationalActivation has {self.groups} groups; pass group=0.."
                    f"{self.groups - 1}, or use to_fits() for all of them"
                )
            group = 0
        if not 0 <= group < self.groups:
            raise ParameterError(f"group must be in 0..{self.groups - 1}, got {group}")
        return self.to_fits(target, range, **params)[group]

    def save(
        self, path: str | os.PathLike[str], target: Target | str | None = None, **params: float
    ) -> Path:
        """Writes the learned coefficients as a result document (``.json``/``.npz``); a grouped
        module as one ``actfit.tables`` ``.json`` with a fit per group. Gives the path.

        Raises:
            OutputPathError: the path cannot be written (or a grouped module and not ``.json``).
            ParameterError: no target known (see :meth:`to_fits`).
        """
        from actfit.export import save
        from actfit.export.table import write_table

        fits = self.to_fits(target, **params)
        if self.groups == 1:
            return save(fits[0], path)
        return write_table(fits, path, "actfit")

    def get_extra_state(self) -> dict[str, Any]:
        """The denominator form, grouping and initial fit's target and range, saved in the
        ``state_dict`` with the coefficients."""
        state: dict[str, Any] = {
            "form": self.form,
            "groups": self.groups,
            "channel_dim": self.channel_dim,
        }
        if self.init_target is not None:
            state["init_target"] = self.init_target.to_dict()
        if self.init_range is not None:
            state["init_range"] = list(self.init_range)
        if self.init_settings is not None:
            state["init_settings"] = self.init_settings
        return state

    def set_extra_state(self, state: dict[str, Any]) -> None:
        """Restores what :meth:`get_extra_state` saved (older state_dicts hold the form only)."""
        self.form = runtime_form(state["form"])
        self.groups = _check_groups(state.get("groups", 1))
        self.channel_dim = int(state.get("channel_dim", -1))
        if state.get("init_target") is not None:
            self.init_target = from_dict(state["init_target"])
        if state.get("init_range") is not None:
            self.init_range = tuple(float(v) for v in state["init_range"])
        if state.get("init_settings") is not None:
            self.init_settings = dict(state["init_settings"])

    def extra_repr(self) -> str:
        m = self.numerator.shape[-1] - 1
        n = self.denominator.shape[-1]
        text = f"order=[{m}, {n}], form={self.form!r}, impl={self.impl!r}"
        if self.groups > 1:
            text += f", groups={self.groups}, channel_dim={self.channel_dim}"
        return text


def _check_groups(groups: int) -> int:
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise ParameterError(f"groups must be a positive integer, got {groups!r}")
    return groups


def _grouped(coeffs: Any, groups: int, what: str, dtype: torch.dtype) -> torch.Tensor:
    """Coefficients as a 1-D tensor (one group) or ``[groups, k]`` (1-D input copied)."""
    if isinstance(coeffs, torch.Tensor):
        coeffs = coeffs.detach().cpu().double().numpy()
    try:
        arr = np.array(coeffs, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ParameterError(
            f"{what} coefficients must be numbers in a 1-D list or one row per group: {exc}"
        ) from None
    _check_finite(arr, what, "coefficients must be finite; refit or fix the table")
    if arr.ndim <= 1:
        arr = arr.reshape(-1)
        if groups > 1:
            arr = np.tile(arr, (groups, 1))
    elif arr.ndim != 2 or arr.shape[0] != groups:
        raise ParameterError(
            f"{what} coefficients of shape {arr.shape} do not match groups={groups}: give a "
            f"1-D table (copied to every group) or one row per group, shape ({groups}, k)"
        )
    elif groups == 1:
        arr = arr[0]
    out = torch.tensor(arr, dtype=dtype)
    _check_finite(
        out.double().numpy(),
        what,
        f"it overflows {str(dtype).removeprefix('torch.')}; use dtype=torch.float64",
        arr,
    )
    return out


def _check_finite(arr: np.ndarray, what: str, why: str, shown: np.ndarray | None = None) -> None:
    """ParameterError naming the first NaN/Inf entry of ``arr`` (its value from ``shown``)."""
    bad = np.argwhere(~np.isfinite(arr))
    if not bad.size:
        return
    where = tuple(int(i) for i in bad[0])
    value = float((arr if shown is None else shown)[where])
    at = where[0] if len(where) == 1 else where
    more = f" ({len(bad)} such coefficients)" if len(bad) > 1 else ""
    raise ParameterError(f"{what} coefficient at position {at} is {value:g}{more}: {why}")
