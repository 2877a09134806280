"""``actfit validate``: evaluate a table in the runtime operators, per dtype, against float64.

For each dtype the table is evaluated by the compiled operator on a dense grid of its range and on
extreme inputs (the dtype's largest values, powers of ten, +-1 and its neighbours, 0), and compared
with the float64 value of the same :class:`~actfit.rational.Rational` at the same (rounded) inputs
and with the target. Gradients (input and every coefficient) are compared with float64 autograd of
the reference, and the forward throughput is measured. The table is read as ``actfit check``
reads it (:mod:`actfit.export.readers`: actfit results and tables, rational_activations' config,
KAT-style files), and each row of the report carries the thresholds it was judged by.
"""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from actfit.approx.conditioning import assess_conditioning
from actfit.check import select_entries
from actfit.errors import FileFormatError, ParameterError
from actfit.export.readers import entry_fit, external_fit, read_tables
from actfit.rational import Rational
from actfit.runtime import ops
from actfit.runtime.module import runtime_form
from actfit.runtime.reference import rational_reference

if TYPE_CHECKING:
    from actfit.fit import Fit

__all__ = ["DtypeReport", "ValidationReport", "load_runtime_table", "thresholds", "validate"]

DTYPES = ("float32", "bfloat16", "float16", "float64")
# Allowed relative error vs the float64 rational (scaled by max(1, |y|)): output rounding for the
# half types (computed in float32), a few ulps of the arithmetic otherwise.
_RTOL = {"float64": 1e-12, "float32": 2e-5, "float16": 2e-3, "bfloat16": 1.6e-2}
# Allowed relative (norm) error of the coefficient gradients, summed in float32 (float64).
_GRAD_RTOL = {"float64": 1e-10, "float32": 1e-4, "float16": 1e-4, "bfloat16": 1e-4}
# The fields of DtypeReport that hold its thresholds (left out of to_dict() unless asked for).
_THRESHOLD_FIELDS = ("tol_rational", "tol_target", "tol_grad_x", "tol_grad_coeff")


def thresholds(dtype: str) -> dict[str, float]:
    """Gives the relative pass thresholds ``validate`` applies to ``dtype``.

    Returns:
        ``rational`` (error vs the float64 rational, relative to max(1, |y|)), ``grad_x`` and
        ``grad_coeff`` (relative norm errors of the gradients). The target check allows the
        fit's own error plus ``rational`` times max(1, |y|) (``DtypeReport.tol_target``).

    Raises:
        ParameterError: unknown dtype.

    Examples:
        >>> thresholds("float32")["rational"]
        2e-05
    """
    (name,) = _parse_dtypes(dtype)
    return {
        "rational": _RTOL[name],
        "grad_x": max(_RTOL[name], 1e-5),
        "grad_coeff": _GRAD_RTOL[name],
    }


@dataclass(frozen=True)
class DtypeReport:
    """What ``validate`` found for one dtype, and the thresholds it was judged by.

    Attributes:
        dtype: the dtype's name.
        max_err_rational: max abs error vs the float64 rational on the grid.
        max_err_target: max abs error vs the target on the grid.
        fit_err_target: max abs error of the float64 rational vs the target (same grid).
        nonfinite: outputs that are NaN, or Inf where the float64 value fits the dtype (must
            be 0).
        grad_err_x: relative (norm) error of the input gradient vs float64 autograd.
        grad_err_coeff: relative (norm) error of the coefficient gradients.
        gbps: forward throughput (bytes read and written per second, in GB/s).
        peak_fraction: ``gbps`` over the device's peak memory bandwidth (CUDA only).
        failures: the checks that failed (empty when the dtype passed).
        tol_rational: allowed error vs the float64 rational, relative to max(1, |y|).
        tol_target: allowed ``max_err_target`` (absolute): the fit's own error plus the
            dtype's rounding at the largest output.
        tol_grad_x: allowed ``grad_err_x``.
        tol_grad_coeff: allowed ``grad_err_coeff``.
    """

    dtype: str
    max_err_rational: float
    max_err_target: float
    fit_err_target: float
    nonfinite: int
    grad_err_x: float
    grad_err_coeff: float
    gbps: float
    peak_fraction: float | None
    failures: tuple[str, ...] = ()
    tol_rational: float = float("nan")
    tol_target: float = float("nan")
    tol_grad_x: float = float("nan")
    tol_grad_coeff: float = float("nan")

    @property
    def passed(self) -> bool:
        """True when every check held."""
        return not self.failures


@dataclass(frozen=True)
class ValidationReport:
    """Per-dtype results of ``validate`` for one table on one device.

    ``conditioning`` is the one-line worst-case rounding analysis of the table on its range
    (:meth:`actfit.approx.conditioning.Conditioning.summary`) and ``conditioning_warnings`` the
    dtypes that may lose more than half of their digits there.
    """

    source: str
    device: str
    device_name: str
    form: str
    order: tuple[int, int]
    range: tuple[float, float]
    rows: tuple[DtypeReport, ...] = field(default_factory=tuple)
    conditioning: str = ""
    conditioning_warnings: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        """True when every dtype passed."""
        return all(r.passed for r in self.rows)

    def to_dict(self) -> dict[str, Any]:
        """The report as plain JSON-able data, each row with the thresholds it was judged by."""
        d = asdict(self)
        d["passed"] = self.passed
        for row, r in zip(d["rows"], self.rows, strict=True):
            tols = {k: row.pop(k) for k in _THRESHOLD_FIELDS}
            row["passed"] = r.passed
            row["thresholds"] = tols
        return d


def _parse_dtypes(dtypes: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    names = dtypes.split(",") if isinstance(dtypes, str) else list(dtypes)
    out = []
    for name in (n.strip().lower().removeprefix("torch.") for n in names):
        name = {"fp32": "float32", "bf16": "bfloat16", "fp16": "float16", "half": "float16"}.get(
            name, name
        )
        if name not in DTYPES:
            raise ParameterError(
                f"unknown dtype {name!r}; use a comma-separated list of {', '.join(DTYPES)}"
            )
        out.append(name)
    if not out:
        raise ParameterError("give at least one dtype, e.g. --dtype float32,bfloat16")
    return tuple(dict.fromkeys(out))


def _extremes(torch: Any, dtype: Any) -> Any:
    fi = torch.finfo(dtype)
    vals = [fi.max, fi.max / 2, fi.tiny, 1.0, 1 + fi.eps, 1 - fi.eps / 2, 0.0, 0.5]
    vals += [10.0**k for k in range(1, 39) if 10.0**k < fi.max]
    v = torch.tensor(vals, dtype=torch.float64)
    return torch.cat([v, -v]).to(dtype)


def _peak_bandwidth(torch: Any, device: Any) -> float | None:
    props = torch.cuda.get_device_properties(device)
    clock = getattr(props, "memory_clock_rate", None)  # kHz
    width = getattr(props, "memory_bus_width", None)  # bits
    return 2.0 * clock * 1e3 * width / 8 if clock and width else None


def _throughput(torch: Any, a: Any, b: Any, form: str, dtype: Any, device: Any, numel: int):
    x = (torch.rand(numel, device=device, dtype=torch.float32) * 6 - 3).to(dtype)

    def run() -> None:
        torch.ops.actfit.rational_fwd(x, a, b, form)

    cuda = device.type == "cuda"
    for _ in range(2):
        run()
    times = []
    for _ in range(10 if cuda else 3):
        if cuda:
            start = torch.cuda.Event(enable_timing=True)
            end = torch.cuda.Event(enable_timing=True)
            start.record()
            run()
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end) / 1e3)
        else:
            t0 = time.perf_counter()
            run()
            times.append(time.perf_counter() - t0)
    return 2 * numel * x.element_size() / statistics.median(times) / 1e9


def _load_fit(
    source: str | os.PathLike[str], name: str | None, form: str | None
) -> tuple[Fit, str]:
    """The table ``name`` of a file (or its only one) as a fit, and the label of the report."""
    label = str(source)
    entries = read_tables(source)
    chosen = select_entries(entries, name, label)
    if len(chosen) > 1:
        keys = ", ".join(e.key for e in chosen[:8]) + (", ..." if len(chosen) > 8 else "")
        raise FileFormatError(
            f"{label} holds {len(chosen)} tables; validate one at a time: give its name, "
            f"one of {keys}"
        )
    (entry,) = chosen
    if len(entries) > 1:
        label = f"{label}:{entry.key}"
    if entry.fit is not None and form is None:
        return entry.fit, label
    return entry_fit(entry, form=form, source=str(source)), label


def load_runtime_table(
    source: str | os.PathLike[str] | Fit, *, name: str | None = None, form: str | None = None
) -> tuple[Fit, str, str]:
    """The table ``validate`` would check: the fit, its label and the runtime form.

    Raises:
        FileFormatError, FormError, UnknownTargetError: as :func:`validate`.
    """
    if isinstance(source, str | os.PathLike):
        fit, label = _load_fit(source, name, form)
    else:
        fit, label = source, "<fit>"
        if form is not None:
            r = fit.rational
            fit = external_fit(
                r.numerator, r.denominator, form=form, target=fit.target, range=fit.range
            )
    return fit, label, runtime_form(fit.rational.form)


def _coefficients(torch: Any, rat: Rational, ct: Any, dev: Any) -> tuple[Any, Any]:
    """The coefficients in the compute dtype; ParameterError when one is not finite there."""
    out = []
    for what, coef in (("numerator", rat.numerator), ("denominator", rat.denominator)):
        t = torch.tensor(np.asarray(coef, dtype=np.float64), dtype=ct)
        bad = (~torch.isfinite(t)).nonzero()
        if bad.numel():
            k = int(bad[0, 0])
            raise ParameterError(
                f"{what} coefficient {k} of the table is {float(coef[k]):g}, which is not a "
                f"finite {str(ct).removeprefix('torch.')}: the runtime cannot evaluate this "
                "table; refit it, or validate in float64 only"
            )
        out.append(t.to(dev))
    return out[0], out[1]


def _dtype_row(
    torch: Any,
    dname: str,
    fit: Fit,
    form: str,
    coeffs: dict[Any, tuple[Any, Any]],
    dev: Any,
    grid64: Any,
    upstream: Any,
    numel: int,
    peak: float | None,
) -> DtypeReport:
    """Runs every check of ``validate`` for one dtype."""
    dtype = getattr(torch, dname)
    ct = torch.float64 if dtype == torch.float64 else torch.float32
    a, b = coeffs[ct]
    # Coefficients as the runtime sees them (rounded to the compute dtype).
    a64, b64 = a.double().cpu(), b.double().cpu()
    rat_c = Rational(a64.numpy(), b64.numpy(), form)
    tol = thresholds(dname)
    failures = []

    x = grid64.to(dtype)
    xs = x.double().numpy()
    y = torch.ops.actfit.rational_fwd(x.to(dev), a, b, form).double().cpu().numpy()
    y64 = rat_c(xs)
    tgt = np.asarray(fit.target(xs), dtype=np.float64)
    err_r = np.abs(y - y64)
    scale = np.maximum(1.0, np.abs(y64))
    max_err_r = float(np.nanmax(err_r)) if err_r.size else 0.0
    if not np.all(err_r <= tol["rational"] * scale):
        failures.append(f"error vs float64 rational above {tol['rational']:g} (relative)")
    err_t = float(np.nanmax(np.abs(y - tgt)))
    fit_t = float(np.nanmax(np.abs(y64 - tgt)))
    tol_t = fit_t + tol["rational"] * float(np.max(scale))
    if not err_t <= tol_t:
        failures.append("error vs target above the fit's own error plus the dtype's rounding")

    xe = _extremes(torch, dtype)
    ye = torch.ops.actfit.rational_fwd(xe.to(dev), a, b, form).double().cpu()
    ye64 = torch.from_numpy(rat_c(xe.double().numpy()))
    fits = torch.isfinite(ye64.to(dtype).double())
    yall = torch.cat([torch.from_numpy(y), ye])
    fall = torch.cat([torch.from_numpy(np.isfinite(y64.astype(np.float32))), fits])
    nonfinite = int((yall.isnan() | (~torch.isfinite(yall) & fall)).sum())
    if nonfinite:
        failures.append(f"{nonfinite} NaN/Inf outputs where the float64 value is finite")

    xg = x.to(dev).detach().clone().requires_grad_(True)
    ag = a.clone().requires_grad_(True)
    bg = b.clone().requires_grad_(True)
    torch.ops.actfit.rational_fwd(xg, ag, bg, form).backward(upstream.to(dtype).to(dev))
    xr = x.double().detach().clone().requires_grad_(True)
    ar = a64.clone().requires_grad_(True)
    br = b64.clone().requires_grad_(True)
    rational_reference(xr, ar, br, form).backward(upstream.to(dtype).double())

    def rel(u: Any, v: Any) -> float:
        u, v = u.double().cpu(), v.double()
        return float((u - v).norm() / v.norm().clamp(min=1e-300))

    gx = rel(xg.grad, xr.grad)
    gc = max(rel(ag.grad, ar.grad), rel(bg.grad, br.grad) if b.numel() else 0.0)
    if not gx <= tol["grad_x"]:
        failures.append(f"input gradient off by {gx:.2g} (relative)")
    if not gc <= tol["grad_coeff"]:
        failures.append(f"coefficient gradients off by {gc:.2g} (relative)")

    gbps = _throughput(torch, a, b, form, dtype, dev, numel)
    return DtypeReport(
        dtype=dname,
        max_err_rational=max_err_r,
        max_err_target=err_t,
        fit_err_target=fit_t,
        nonfinite=nonfinite,
        grad_err_x=gx,
        grad_err_coeff=gc,
        gbps=gbps,
        peak_fraction=gbps * 1e9 / peak if peak else None,
        failures=tuple(failures),
        tol_rational=tol["rational"],
        tol_target=tol_t,
        tol_grad_x=tol["grad_x"],
        tol_grad_coeff=tol["grad_coeff"],
    )


def validate(
    source: str | os.PathLike[str] | Fit,
    device: str = "cpu",
    dtypes: str | tuple[str, ...] | list[str] = ("float32", "bfloat16", "float16"),
    points: int = 100_001,
    bench_numel: int | None = None,
    *,
    name: str | None = None,
    form: str | None = None,
) -> ValidationReport:
    """Gives the per-dtype validation of a table evaluated by the runtime operators.

    Args:
        source: A table file in any format ``actfit check`` reads (actfit ``.json``/``.npz``
            results and tables, rational_activations' config, KAT-style files) or a
            :class:`~actfit.fit.Fit`.
        device: ``"cpu"`` or ``"cuda"`` (``"cuda:N"`` too).
        dtypes: Dtype names, a list or one comma-separated string.
        points: Grid points on the fit range.
        bench_numel: Elements of the throughput measurement (default 2**22 CPU, 2**27 CUDA).
        name: Which table of a file holding several (a key such as
            ``Rational_version_A5/4:leaky_relu``, an index, or a unique activation name).
        form: The denominator form to evaluate the table in; needed for files that do not
            record it (KAT-style), overrides the file's otherwise.

    Returns:
        The report; ``report.passed`` is False when a check failed for some dtype.

    Raises:
        ParameterError: unknown dtype or device, no CUDA device, or a coefficient that is not
            finite in the compute dtype (e.g. 1e308 in float32).
        FileFormatError: the file is not a valid table, holds several and ``name`` picks none.
        FormError: the file does not record the form and ``form`` is not given, or a form the
            runtime does not evaluate.
        UnknownTargetError: a third-party table whose name maps to no known activation.
        RuntimeBuildError: the operators could not be built.

    Examples:
        >>> report = validate("gelu.json", dtypes="float32")  # doctest: +SKIP
        >>> report.rows[0].tol_rational  # doctest: +SKIP
        2e-05
    """
    import torch

    names = _parse_dtypes(dtypes)
    fit, label, form = load_runtime_table(source, name=name, form=form)
    try:
        dev = torch.device(device)
    except RuntimeError as exc:
        raise ParameterError(f"unknown device {device!r}; use cpu or cuda") from exc
    if dev.type not in ("cpu", "cuda"):
        raise ParameterError(f"unknown device {device!r}; use cpu or cuda")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ParameterError("--device cuda, but PyTorch sees no CUDA GPU here; use --device cpu")
    rat = fit.rational
    coeffs = {
        ct: _coefficients(torch, rat, ct, dev)
        for ct in {torch.float64 if n == "float64" else torch.float32 for n in names}
    }
    ops.ensure_loaded()
    lo, hi = fit.range
    peak = _peak_bandwidth(torch, dev) if dev.type == "cuda" else None
    numel = bench_numel or (2**27 if dev.type == "cuda" else 2**22)
    gen = torch.Generator().manual_seed(0)
    grid64 = torch.linspace(lo, hi, points, dtype=torch.float64)
    upstream = torch.randn(points, generator=gen, dtype=torch.float64)

    rows = []
    # Overflow in the float64 oracle (huge coefficients) is judged below, not warned about.
    with np.errstate(over="ignore", invalid="ignore"):
        for dname in names:
            rows.append(
                _dtype_row(torch, dname, fit, form, coeffs, dev, grid64, upstream, numel, peak)
            )
    device_name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu"
    # The worst-case rounding analysis of the same table (float64, float32, bfloat16), so that a
    # dtype row that fails near a near-pole of Q is explained.
    cond = fit.poles.conditioning or assess_conditioning(rat, float(lo), float(hi))
    return ValidationReport(
        source=label,
        device=str(dev),
        device_name=device_name,
        form=form,
        order=rat.degree,
        range=(float(lo), float(hi)),
        rows=tuple(rows),
        conditioning=cond.summary(),
        conditioning_warnings=tuple(
            [] if fit.poles.poles_on_range else cond.warnings()
        ),
    )
