"""``actfit validate --exhaustive``: the runtime operator on every input of a dtype.

A grid misses what a kernel does between its points; a 16-bit dtype has only 65536 inputs, so
:func:`exhaustive` evaluates the compiled operator on **every bit pattern** of bfloat16 and
float16 (and, opt-in, on every float32 in the table's range: about 2^31 values for a range around
0, in chunks of 2^22 on all cores), on the CPU and on CUDA where PyTorch sees a GPU.

References (per input ``x``, exactly converted to float64):

* the **exact rational** ``r(x)``: the table's float64 coefficients evaluated in float64
  (:class:`actfit.rational.Rational`); its own rounding (about 1e-16 relative) is below a
  float32 ulp by 2^29, so it stands for the exact value of the stored coefficients;
* the **target** ``f(x)`` in float64.

The report separates the two errors a user can buy down:

* **approximation error** ``max |r - f|`` over the dtype's inputs in the range (the table: refit
  or raise the order);
* **evaluation error** ``max |kernel - r|``, in absolute terms and in ulps of the dtype at
  ``r(x)`` (the kernel's arithmetic and output rounding: evaluate in a wider type), in the range
  and over every finite input of the dtype;
* and their sum as seen by a user, ``max |kernel - f|`` in the range.

Special inputs, the rule: a NaN input (every NaN bit pattern) must give NaN; ``±Inf`` must give
the exact rational's limit at ``±Inf`` in the dtype: ``±Inf`` with the limit's sign where the
limit is infinite (``m`` above the denominator's effective degree), a finite value otherwise.
A finite input must not give NaN, nor ``±Inf`` where ``r(x)`` is finite in the dtype. Whether the
target's limit has the same class (a [5,4] table grows like ``x`` where GELU tends to 0) is
reported as a note, not a failure: it is a property of the table's type, not of the kernel.
A finite input passes when ``|kernel - r| <= tol max(1, |r|)`` with ``validate``'s tolerance for
the dtype.
"""

from __future__ import annotations

import math
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from actfit.errors import ParameterError
from actfit.rational import Rational
from actfit.runtime import ops
from actfit.runtime.validate import load_runtime_table, thresholds

if TYPE_CHECKING:
    from actfit.fit import Fit

__all__ = ["EXHAUSTIVE_DTYPES", "ExhaustiveReport", "ExhaustiveRow", "exhaustive", "float32_inputs"]

EXHAUSTIVE_DTYPES = ("bfloat16", "float16", "float32")
"""The dtypes :func:`exhaustive` enumerates (float64 has too many inputs)."""
_FORMATS = {"bfloat16": (8, -126), "float16": (11, -14), "float32": (24, -126)}
_CHUNK = 1 << 22
_DIRECT = 2.0**16  # x^12 stays far from float64 overflow below this


@dataclass(frozen=True)
class ExhaustiveRow:
    """What :func:`exhaustive` found for one dtype on one device.

    Attributes:
        dtype, device: where it ran.
        inputs: inputs evaluated (all 65536 bit patterns of a 16-bit dtype; the float32 values
            of the range for float32).
        in_range: of these, the finite ones in the table's range.
        seconds: wall time of the sweep.
        approx_err, approx_at: max |r - f| on the dtype's inputs in the range, and where.
        eval_err, eval_at, eval_err_ulps: max |kernel - r| in the range, where, and in ulps
            of the dtype at r(x) there.
        eval_ulps, eval_ulps_at: max of |kernel - r| in ulps over every finite input, and where.
        total_err, total_at, total_err_ulps: max |kernel - f| in the range, where, in ulps.
        nonfinite: finite inputs with a NaN output, or Inf where r(x) is finite in the dtype.
        specials: what NaN, +Inf and -Inf gave (``{"nan": "nan", "+inf": "inf", ...}``).
        notes: observations that are not failures (target limits the table does not follow).
        failures: the checks that failed.
        tol_rational: the evaluation tolerance, relative to max(1, |r|).
    """

    dtype: str
    device: str
    inputs: int
    in_range: int
    seconds: float
    approx_err: float
    approx_at: float
    eval_err: float
    eval_at: float
    eval_err_ulps: float
    eval_ulps: float
    eval_ulps_at: float
    total_err: float
    total_at: float
    total_err_ulps: float
    nonfinite: int
    specials: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    failures: tuple[str, ...] = ()
    tol_rational: float = float("nan")

    @property
    def passed(self) -> bool:
        """True when every check held."""
        return not self.failures


@dataclass(frozen=True)
class ExhaustiveReport:
    """Per-dtype, per-device results of :func:`exhaustive` for one table."""

    source: str
    form: str
    order: tuple[int, int]
    range: tuple[float, float]
    reference: str
    rows: tuple[ExhaustiveRow, ...] = ()

    @property
    def passed(self) -> bool:
        """True when every row passed."""
        return all(r.passed for r in self.rows)

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-able data (non-finite floats become strings when dumped)."""
        d = asdict(self)
        d["passed"] = self.passed
        for row, r in zip(d["rows"], self.rows, strict=True):
            row["passed"] = r.passed
        return d


def _ulp(v: np.ndarray, dtype: str) -> np.ndarray:
    """The spacing of ``dtype``'s values at ``v`` (its ulp; subnormal spacing near 0)."""
    p, emin = _FORMATS[dtype]
    _, e = np.frexp(np.where(np.isfinite(v), v, 1.0))
    return np.ldexp(1.0, np.maximum(e - 1, emin) - (p - 1))


def _patterns16(torch: Any, dtype: Any) -> Any:
    return torch.arange(-32768, 32768, dtype=torch.int32).to(torch.int16).view(dtype)


def float32_inputs(a: float, b: float) -> list[tuple[int, int]]:
    """The float32 bit patterns of ``[a, b]`` as half-open ranges ``[start, stop)`` of uint32.

    Both zeros are included when 0 is in the range.

    Examples:
        >>> float32_inputs(1.0, 2.0)
        [(1065353216, 1073741825)]
    """
    def bits(v: float) -> int:
        return int(np.array(v, dtype=np.float32).view(np.uint32))

    lo, hi = np.float32(a), np.float32(b)
    if lo < a:
        lo = np.nextafter(lo, np.float32(np.inf))
    if hi > b:
        hi = np.nextafter(hi, np.float32(-np.inf))
    lo_f, hi_f = float(lo), float(hi)
    sign = 0x80000000
    out = []
    if hi_f >= 0:  # non-negative floats: bit order is value order
        out.append((bits(lo_f if lo_f > 0 else 0.0), bits(hi_f) + 1))
    if lo_f <= 0:  # -0 and the negative floats: the bits of |x| with the sign bit
        out.append((bits(0.0 if hi_f >= 0 else -hi_f) | sign, (bits(-lo_f) | sign) + 1))
    return [(s, e) for s, e in out if e > s]


class _Sweep:
    """Running maxima over chunks of inputs."""

    def __init__(self, dtype: str, rat: Rational, target: Any, a: float, b: float,
                 tol: float) -> None:
        self.dtype, self.rat, self.target, self.a, self.b, self.tol = dtype, rat, target, a, b, tol
        self.best: dict[str, tuple[float, float, float]] = {}
        self.nonfinite = self.inputs = self.in_range = self.bad_eval = 0

    def _keep(self, key: str, err: np.ndarray, x: np.ndarray, ulps: np.ndarray | None) -> None:
        if err.size == 0:
            return
        i = int(np.argmax(err))
        v = float(err[i])
        if key not in self.best or v > self.best[key][0]:
            self.best[key] = (v, float(x[i]), float(ulps[i]) if ulps is not None else v)

    def add(self, x: np.ndarray, y: np.ndarray) -> None:
        """Fold the float64 inputs ``x`` and the kernel's outputs ``y`` (as float64) in."""
        fin = np.isfinite(x)
        x, y = x[fin], y[fin]
        self.inputs += int(fin.sum())
        with np.errstate(all="ignore"):
            r = _reference(self.rat, x)
            r_dt = _round_dtype(r, self.dtype)
            bad = np.isnan(y) | (np.isinf(y) & np.isfinite(r_dt))
            self.nonfinite += int(bad.sum())
            ok = np.isfinite(y) & np.isfinite(r)
            ev = np.abs(y - r)
            ev = np.where(ok, ev, 0.0)
            ulp_r = _ulp(r, self.dtype)
            self.bad_eval += int((ev > self.tol * np.maximum(1.0, np.abs(r))).sum())
            self._keep("eval_line", ev / ulp_r, x, ev / ulp_r)
            inr = (x >= self.a) & (x <= self.b)
            self.in_range += int(inr.sum())
            if inr.any():
                xr, yr, rr = x[inr], y[inr], r[inr]
                f = np.asarray(self.target(xr), dtype=np.float64)
                u = ulp_r[inr]
                self._keep("approx", np.abs(rr - f), xr, None)
                self._keep("eval", np.where(np.isfinite(yr), np.abs(yr - rr), np.inf), xr,
                           np.abs(yr - rr) / u)
                tot = np.where(np.isfinite(yr), np.abs(yr - f), np.inf)
                self._keep("total", tot, xr, tot / _ulp(f, self.dtype))

    def get(self, key: str) -> tuple[float, float, float]:
        return self.best.get(key, (0.0, math.nan, 0.0))


def _reference(rat: Rational, x: np.ndarray) -> np.ndarray:
    """``r(x)`` in float64: direct Horner for moderate ``|x|`` (measured 30x faster than
    ``Rational.__call__``, 280 ns a point, which rewrites in ``1/x``), that rewrite beyond."""
    out = np.empty_like(x)
    small = np.abs(x) <= _DIRECT
    xs = x[small]
    p = np.zeros_like(xs)
    for c in rat.numerator[::-1]:
        p = p * xs + c
    out[small] = p / rat.denominator_at(xs)
    if not small.all():
        out[~small] = rat(x[~small])
    return out


def _round_dtype(v: np.ndarray, dtype: str) -> np.ndarray:
    """``v`` rounded to the dtype (torch's round-to-nearest; overflow to Inf)."""
    import torch

    return torch.from_numpy(np.ascontiguousarray(v)).to(getattr(torch, dtype)).double().numpy()


def _class(v: float) -> str:
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "+inf" if v > 0 else "-inf"
    return "finite"


def _specials(torch: Any, dtype: Any, dname: str, dev: Any, a: Any, b: Any, form: str,
              rat: Rational, target: Any) -> tuple[dict[str, str], list[str], list[str]]:
    xs = torch.tensor([math.nan, math.inf, -math.inf], dtype=torch.float64)
    y = torch.ops.actfit.rational_fwd(xs.to(dtype).to(dev), a, b, form).double().cpu().numpy()
    with np.errstate(all="ignore"):
        lim = _round_dtype(rat(np.array([math.inf, -math.inf])), dname)
    got = {"nan": _class(float(y[0])), "+inf": _class(float(y[1])), "-inf": _class(float(y[2]))}
    failures, notes = [], []
    if got["nan"] != "nan":
        failures.append(f"NaN input gave {got['nan']}, not NaN")
    for key, lv, big in (("+inf", lim[0], 1e300), ("-inf", lim[1], -1e300)):
        want = _class(float(lv))
        if got[key] != want:
            failures.append(f"{key} input gave {got[key]}, the table's limit is {want}")
        with np.errstate(all="ignore"):
            ft = float(np.asarray(target(np.array([math.copysign(math.inf, big)])))[0])
            if math.isnan(ft):
                ft = float(np.asarray(target(np.array([big])))[0])
        tclass = _class(float(_round_dtype(np.array([ft]), dname)[0]))
        if tclass != want:
            notes.append(
                f"at {key} the table tends to {want} ({float(lv):g}) while the target tends to "
                f"{tclass} ({ft:g}): a property of the [m,n] type outside the range"
            )
    return got, failures, notes


def _run(torch: Any, dname: str, dev: Any, fit: Fit, form: str, float32_range: tuple | None,
         threads: int) -> ExhaustiveRow:
    dtype = getattr(torch, dname)
    rat = fit.rational
    a_t = torch.tensor(np.asarray(rat.numerator, dtype=np.float64), dtype=torch.float32).to(dev)
    b_t = torch.tensor(np.asarray(rat.denominator, dtype=np.float64), dtype=torch.float32).to(dev)
    lo, hi = fit.range
    tol = thresholds(dname)["rational"]
    sweep = _Sweep(dname, rat, fit.target, lo, hi, tol)
    start = time.perf_counter()

    def evaluate(x: Any) -> tuple[np.ndarray, np.ndarray]:
        y = torch.ops.actfit.rational_fwd(x.to(dev), a_t, b_t, form)
        return x.double().numpy(), y.double().cpu().numpy()

    if dname == "float32":
        a32, b32 = float32_range or (lo, hi)
        chunks = [(c, min(c + _CHUNK, e)) for s, e in float32_inputs(a32, b32)
                  for c in range(s, e, _CHUNK)]
        sweep = _Sweep(dname, rat, fit.target, a32, b32, tol)
        lock = threading.Lock()

        def work(chunk: tuple[int, int]) -> None:
            bits = np.arange(chunk[0], chunk[1], dtype=np.uint32)
            x, y = evaluate(torch.from_numpy(bits.view(np.float32)))
            # the float64 references dominate the time (numpy releases the GIL): fold each
            # chunk's maxima into the running ones under a lock
            local = _Sweep(dname, rat, fit.target, a32, b32, tol)
            local.add(x, y)
            with lock:
                _merge(sweep, local)

        with ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(work, chunks))
    else:
        x, y = evaluate(_patterns16(torch, dtype))
        sweep.add(x, y)
    specials, failures, notes = _specials(torch, dtype, dname, dev, a_t, b_t, form, rat,
                                          fit.target)
    seconds = time.perf_counter() - start
    if sweep.nonfinite:
        failures.append(f"{sweep.nonfinite} finite inputs gave NaN/Inf where r(x) is finite")
    if sweep.bad_eval:
        failures.append(
            f"{sweep.bad_eval} inputs with |kernel - r| above {tol:g} max(1, |r|)"
        )
    ap, ev, el, tt = (sweep.get(k) for k in ("approx", "eval", "eval_line", "total"))
    return ExhaustiveRow(
        dtype=dname, device=str(dev), inputs=sweep.inputs if dname == "float32" else 65536,
        in_range=sweep.in_range, seconds=seconds,
        approx_err=ap[0], approx_at=ap[1],
        eval_err=ev[0], eval_at=ev[1], eval_err_ulps=ev[2],
        eval_ulps=el[0], eval_ulps_at=el[1],
        total_err=tt[0], total_at=tt[1], total_err_ulps=tt[2],
        nonfinite=sweep.nonfinite, specials=specials, notes=tuple(notes),
        failures=tuple(failures), tol_rational=tol,
    )


def _merge(into: _Sweep, part: _Sweep) -> None:
    into.inputs += part.inputs
    into.in_range += part.in_range
    into.nonfinite += part.nonfinite
    into.bad_eval += part.bad_eval
    for key, val in part.best.items():
        if key not in into.best or val[0] > into.best[key][0]:
            into.best[key] = val


def exhaustive(
    source: str | os.PathLike[str] | Fit,
    dtypes: str | tuple[str, ...] | list[str] = ("bfloat16", "float16"),
    *,
    devices: tuple[str, ...] | None = None,
    name: str | None = None,
    form: str | None = None,
    float32_range: tuple[float, float] | None = None,
    threads: int | None = None,
) -> ExhaustiveReport:
    """Evaluate a table's runtime operator on every input of each dtype (see the module doc).

    Args:
        source: A table file (any format ``actfit check`` reads) or a :class:`~actfit.fit.Fit`.
        dtypes: ``bfloat16`` and ``float16`` (all 65536 bit patterns each) and ``float32``
            (every float32 in the range; about 2^31 values for a range around 0: minutes).
            Others (float64) are refused.
        devices: Where to run; default the CPU, and CUDA when PyTorch sees a GPU.
        name, form: Which table of a file, and the form to read it in (as ``validate``).
        float32_range: Enumerate the float32 inputs of this interval instead of the table's
            range (for a quicker partial sweep); the errors "in the range" then refer to it.
        threads: Worker threads for the float32 sweep (default: every core).

    Returns:
        The report; ``report.passed`` is False when a rule failed for some dtype or device.

    Raises:
        ParameterError: a dtype that cannot be enumerated, an unknown device.
        FileFormatError, FormError, UnknownTargetError, RuntimeBuildError: as ``validate``.

    Examples:
        >>> rep = exhaustive("gelu.json", "bfloat16")  # doctest: +SKIP
        >>> rep.rows[0].inputs
        65536
    """
    import torch

    names = [d.strip().lower() for d in (dtypes.split(",") if isinstance(dtypes, str) else dtypes)]
    names = [{"bf16": "bfloat16", "fp16": "float16", "half": "float16", "fp32": "float32"}.get(
        n, n) for n in names if n]
    for n in names:
        if n not in EXHAUSTIVE_DTYPES:
            raise ParameterError(
                f"cannot enumerate every {n} input; exhaustive checks cover "
                f"{', '.join(EXHAUSTIVE_DTYPES)}"
            )
    fit, label, rform = load_runtime_table(source, name=name, form=form)
    if devices is None:
        devices = ("cpu", "cuda") if torch.cuda.is_available() else ("cpu",)
    devs = []
    for d in devices:
        try:
            dev = torch.device(d)
        except RuntimeError as exc:
            raise ParameterError(f"unknown device {d!r}; use cpu or cuda") from exc
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise ParameterError("no CUDA GPU visible to PyTorch; run on the cpu")
        devs.append(dev)
    ops.ensure_loaded()
    workers = threads or os.cpu_count() or 1
    rows = [
        _run(torch, dname, dev, fit, rform, float32_range, workers)
        for dev in devs
        for dname in dict.fromkeys(names)
    ]
    lo, hi = fit.range
    return ExhaustiveReport(
        source=label,
        form=rform,
        order=fit.rational.degree,
        range=(float(lo), float(hi)),
        reference="float64 evaluation of the table's float64 coefficients (exact to ~1e-16 "
        "relative) and the float64 target",
        rows=tuple(rows),
    )
