"""How well a table can be evaluated on its range: condition of ``Q``, rounding-error bounds.

A plain denominator with no real zero can still come within a few units of rounding of zero on
the range (a complex pair close to the real axis): the table is "pole-free" and certified, yet
float32 evaluation returns noise there. This module measures that, for the stored coefficients:

* the condition number of evaluating ``Q``, ``max SQ(x) / |Q(x)|`` with
  ``SQ(x) = sum |b_k| |x|^k`` (the constant 1 included), and ``min |Q| / max |Q|``;
* a running-error bound of the evaluation as each dtype evaluates it, from Higham, *Accuracy and
  Stability of Numerical Algorithms*, 2nd ed. (SIAM 2002), §5.1: Horner's rule in a precision
  with unit roundoff ``u`` gives ``|p^(x) - p(x)| <= gamma_2n sum |a_k| |x|^k`` with
  ``gamma_k = k u / (1 - k u)``. For ``r = P/Q``, with ``|P^ - P| <= EP`` and ``|Q^ - Q| <= EQ``,
  ``|P^/Q^ - P/Q| <= (EP + |r| EQ) / (|Q| - EQ)``, infinite when ``EQ >= |Q|`` (the computed
  denominator may then be zero: a pole of the evaluated table);
* the worst-case decimal digits each dtype loses: ``log10(bound / (u_out max(1, |r|)))``, the
  scale ``max(1, |y|)`` being the one ``actfit validate`` judges errors by; a dtype *warns* when
  it loses more than half of its digits (:data:`WARN_FRACTION`);
* for the plain form, how close the complex zeros of ``Q`` come to the range (exact isolation by
  :func:`actfit.roots.complex_roots`): "pole-free" stays a statement about real zeros.

The dtypes are modelled as the runtime evaluates them (``actfit/runtime/csrc/rational.h``):
float64 in float64; float32, and bfloat16 and float16 in float32 arithmetic with float32
coefficients and the result rounded to the dtype. The operation counts are taken generously so
that one bound covers Horner in ``x``, the ``t = 1/x`` branch (``|x| > 1`` in
:class:`~actfit.rational.Rational`, ``|x| > thr`` in the kernels), fused or unfused multiply-adds,
the coefficient rounding and a reciprocal within one ulp: ``3m + 1`` roundings for ``P``,
``3n + 3`` for ``Q`` and ``3 + 2|m - n|`` for the quotient and the power of ``x``. Underflow
adds an absolute term. The maximum over the range is taken on a grid of 4001 points, the point of
minimum ``|Q|`` and a golden-section refinement of the largest one: a sampled maximum of a bound
that holds at every point.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from actfit.approx.extrema import refine_maxima
from actfit.rational import OFFSET_C, Rational
from actfit.roots import complex_roots

__all__ = [
    "DTYPES",
    "WARN_FRACTION",
    "Conditioning",
    "DtypeConditioning",
    "assess_conditioning",
    "evaluation_error_bound",
    "pointwise_error_bound",
]

DTYPES = ("float64", "float32", "bfloat16")
"""The dtypes every report covers."""
WARN_FRACTION = 0.5
"""A dtype warns when its worst-case loss exceeds this fraction of its decimal digits."""

# unit roundoff of the result dtype, and the precision the runtime computes it in
_UNIT = {"float64": 2.0**-53, "float32": 2.0**-24, "bfloat16": 2.0**-8, "float16": 2.0**-11}
_COMPUTE = {"float64": "float64", "float32": "float32", "bfloat16": "float32", "float16": "float32"}
_TINY = {"float64": 2.0**-1022, "float32": 2.0**-126}
_ETA = {"float64": 2.0**-1074, "float32": 2.0**-149}
_HUGE = {"float64": float(np.finfo(np.float64).max), "float32": float(np.finfo(np.float32).max)}
# The bound itself is computed in float64: its relative error (a few units of 2^-53 per sum) is
# covered by this factor.
_SLACK = 1.0 + 1e-9
_GRID = 4001


def _gamma(k: int, u: float) -> float:
    """Higham's ``gamma_k = k u / (1 - k u)`` (inf when ``k u >= 1``)."""
    ku = k * u
    return ku / (1.0 - ku) if ku < 1.0 else math.inf


def _horner(coeffs: NDArray[np.float64], x: NDArray[np.float64]) -> NDArray[np.float64]:
    out = np.zeros_like(x)
    for c in coeffs[::-1]:
        out = out * x + c
    return out


def _digits(u: float) -> float:
    return -math.log10(u)


def _sums(rational: Rational, x: NDArray[np.float64]) -> tuple[NDArray, NDArray, NDArray]:
    """``SP = sum |a_k||x|^k``, ``SQ`` (the same for ``Q``) and ``sum_k |x|^k`` up to the degree."""
    ax = np.abs(x)
    with np.errstate(over="ignore", invalid="ignore"):
        sp = _horner(np.abs(rational.numerator), ax)
        full = np.abs(rational.denominator_polynomial())
        sq = _horner(full, ax) + (OFFSET_C if rational.form == "abs_offset" else 0.0)
        deg = max(rational.numerator.size, full.size)
        powers = _horner(np.ones(deg), ax)
    return sp, sq, powers


def pointwise_error_bound(rational: Rational, x: ArrayLike, dtype: str = "float64") -> NDArray:
    """Return a bound of ``|r^(x) - r(x)|`` at each ``x``, ``r^`` the table evaluated in ``dtype``.

    ``r`` is the exact rational of the stored (float64) coefficients; ``x`` is taken as given
    (a value the dtype represents). See the module docstring for the model (Higham 2002, §5.1).

    Args:
        rational: the table.
        x: points.
        dtype: ``float64``, ``float32``, ``bfloat16`` or ``float16``.

    Raises:
        ValueError: an unknown dtype.

    Examples:
        >>> r = Rational([0.0, 1.0], [0.0, 1.0], "plain")   # x / (1 + x^2)
        >>> float(pointwise_error_bound(r, [0.5], "float32")[0]) < 1e-6
        True
    """
    if dtype not in _UNIT:
        raise ValueError(f"unknown dtype {dtype!r}; use one of {sorted(_UNIT)}")
    x = np.atleast_1d(np.asarray(x, dtype=np.float64))
    return _bound(rational, _shared(rational, x), dtype)


def _shared(rational: Rational, x: NDArray[np.float64]) -> tuple[NDArray, ...]:
    """The dtype-independent part of the bound at ``x``: ``x``, ``SP``, ``SQ``, ``sum |x|^k``
    and the float64 ``|P|``, ``|Q|`` (computed once for all the dtypes of a report)."""
    sp, sq, powers = _sums(rational, x)
    with np.errstate(over="ignore", invalid="ignore"):
        return x, sp, sq, powers, np.abs(rational.numerator_at(x)), np.abs(
            rational.denominator_at(x)
        )


def _bound(rational: Rational, shared: tuple[NDArray, ...], dtype: str) -> NDArray:
    """:func:`pointwise_error_bound` from :func:`_shared`'s arrays."""
    x, sp, sq, powers, p_abs, q_abs = shared
    uo, comp = _UNIT[dtype], _COMPUTE[dtype]
    uc = _UNIT[comp]
    num, full = rational.numerator, rational.denominator_polynomial()
    m, n = num.size - 1, full.size - 1
    rounded = comp != "float64"  # the coefficients are rounded to the compute dtype
    u64 = _UNIT["float64"]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        # the exact P, Q from their float64 values and a float64 bound of the difference
        q_lo = q_abs - _gamma(3 * n + 3, u64) * sq
        p_hi = p_abs + _gamma(3 * m + 1, u64) * sp
        r_hi = np.where(q_lo > 0, p_hi / q_lo, np.inf)
        ep = _gamma(3 * m + 1 + rounded, uc) * sp
        eq = _gamma(3 * n + 3 + rounded, uc) * sq
        # underflow: a coefficient below the smallest normal may be lost whole, and every
        # operation may add an absolute error of the smallest subnormal, carried by |x|^j
        tiny, eta = _TINY[comp], _ETA[comp]
        for coeffs, err in ((num, ep), (full, eq)):
            small = np.where(np.abs(coeffs) < tiny, np.abs(coeffs), 0.0)
            err += _horner(small, np.abs(x)) + 2.0 * eta * powers
        if rounded and max(np.abs(num).max(), np.abs(full).max()) > _HUGE[comp]:
            ep = ep + np.inf
        room = q_lo - eq
        d = np.where(room > 0, (ep + r_hi * eq) / room, np.inf)
        gf = _gamma(3 + 2 * abs(m - n), uc)
        e = d + gf * (r_hi + d)
        if uo > uc:
            e = e + uo * (r_hi + e)
    return np.where(np.isnan(e), np.inf, e * _SLACK)


def _points(rational: Rational, a: float, b: float, extra: Sequence[float]) -> NDArray:
    xs = np.linspace(a, b, _GRID)
    more = np.array([v for v in extra if a <= v <= b], dtype=np.float64)
    return np.sort(np.concatenate((xs, more)))


def _sampled_max(
    func: Callable[[NDArray], NDArray],
    xs: NDArray,
    near: float | None = None,
    vals: NDArray | None = None,
) -> tuple[float, float, tuple[float, float] | None]:
    """Max of ``func`` on ``xs`` refined by golden section, and the span where it is infinite.

    An infinite maximum is placed at the infinite point nearest ``near`` (the minimum of |Q|).
    ``vals``: ``func(xs)`` when the caller has it already.
    """
    vals = func(xs) if vals is None else vals
    inf = np.isinf(vals)
    if inf.any():
        where = xs[inf]
        at = where[0] if near is None else where[int(np.argmin(np.abs(where - near)))]
        return math.inf, float(at), (float(where.min()), float(where.max()))
    i = int(np.argmax(vals))
    best_x, best = float(xs[i]), float(vals[i])
    lo, hi = xs[max(i - 1, 0)], xs[min(i + 1, xs.size - 1)]
    if hi > lo:
        # 12 steps shrink the bracket (two grid spacings, 3e-3 of the range) by 3e-3: the
        # bound is smooth there, so its maximum is found to ~1e-7 relative, more than a
        # digits-lost figure needs (48 steps took 3x the time of the whole assessment)
        x, v = refine_maxima(func, [lo], [hi], steps=12)
        if v[0] > best:
            best_x, best = float(x[0]), float(v[0])
    return best, best_x, None


def evaluation_error_bound(
    rational: Rational, a: float, b: float, dtype: str = "float64", *, extra: Sequence[float] = ()
) -> float:
    """Return the max on ``[a, b]`` of the rounding-error bound of the table evaluated in ``dtype``.

    The exact error of the stored rational plus this bound bounds the error of the table as
    evaluated (in float64: :class:`~actfit.rational.Rational` itself, and the float64 runtime).
    The maximum is sampled (grid, ``extra`` points such as the minimum of ``|Q|``, refinement).

    Raises:
        ValueError: an unknown dtype.

    Examples:
        >>> r = Rational([0.0, 1.0], [0.0, 1.0], "plain")
        >>> evaluation_error_bound(r, -3.0, 3.0, "float64") < 1e-14
        True
    """
    xs = _points(rational, a, b, extra)
    return _sampled_max(lambda t: pointwise_error_bound(rational, t, dtype), xs)[0]


@dataclass(frozen=True)
class DtypeConditioning:
    """The rounding-error bound of one dtype on the range.

    Attributes:
        dtype: the dtype name.
        bound: max over the range of the evaluation-error bound (absolute; inf where the
            computed ``Q`` may vanish).
        bound_at: where that maximum is.
        digits: the dtype's decimal digits, ``-log10(u)``.
        digits_lost: worst-case digits lost, ``log10(bound / (u max(1, |r|)))`` clipped to
            ``[0, digits]``.
        useless_on: the span of the sampled points where the bound is infinite (the computed
            ``Q`` may vanish there), or None.
    """

    dtype: str
    bound: float
    bound_at: float
    digits: float
    digits_lost: float
    useless_on: tuple[float, float] | None = None

    @property
    def warns(self) -> bool:
        """True when more than :data:`WARN_FRACTION` of the digits may be lost."""
        return self.digits_lost > WARN_FRACTION * self.digits

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dictionary (non-finite floats are made strings by the document writer)."""
        return {
            "dtype": self.dtype,
            "bound": self.bound,
            "bound_at": self.bound_at,
            "digits": self.digits,
            "digits_lost": self.digits_lost,
            "warns": self.warns,
            "useless_on": None if self.useless_on is None else list(self.useless_on),
        }

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> DtypeConditioning:
        """Inverse of :meth:`to_dict` (``warns`` is recomputed)."""
        span = d.get("useless_on")
        return cls(
            dtype=str(d["dtype"]),
            bound=float(d["bound"]),  # type: ignore[arg-type]
            bound_at=float(d["bound_at"]),  # type: ignore[arg-type]
            digits=float(d["digits"]),  # type: ignore[arg-type]
            digits_lost=float(d["digits_lost"]),  # type: ignore[arg-type]
            useless_on=None if span is None else (float(span[0]), float(span[1])),  # type: ignore[index]
        )


@dataclass(frozen=True)
class Conditioning:
    """How well the table evaluates on its range, per dtype, and how close ``Q``'s zeros come.

    Attributes:
        form: the denominator form.
        min_abs_q: minimum of ``|Q|`` on the range (as the pole report found it).
        max_abs_q: maximum of ``|Q|`` on the range.
        cond_q: ``max SQ(x) / |Q(x)|``, the condition number of evaluating ``Q`` (1 for safe).
        cond_q_at: where it is reached.
        dtypes: the bound per dtype (:data:`DTYPES`).
        complex_zero: the non-real zero of ``Q`` nearest the range as ``(re, |im|)`` (plain form
            only; None when there is none or the form has no polynomial denominator).
        complex_zero_distance: its distance to ``[a, b]`` (None with ``complex_zero``).
        note: what the form guarantees (safe/abs: ``Q >= 1``).
    """

    form: str
    min_abs_q: float
    max_abs_q: float
    cond_q: float
    cond_q_at: float
    dtypes: tuple[DtypeConditioning, ...] = field(default_factory=tuple)
    complex_zero: tuple[float, float] | None = None
    complex_zero_distance: float | None = None
    note: str = ""

    def dtype(self, name: str) -> DtypeConditioning:
        """The entry of dtype ``name``.

        Raises:
            KeyError: the dtype is not reported.
        """
        for d in self.dtypes:
            if d.dtype == name:
                return d
        raise KeyError(name)

    @property
    def min_abs_q_relative(self) -> float:
        """``min |Q| / max |Q|`` on the range."""
        return self.min_abs_q / self.max_abs_q if self.max_abs_q > 0 else 0.0

    def zeros_text(self) -> str:
        """Where the nearest complex zeros of ``Q`` are, in words."""
        if self.complex_zero is None:
            return self.note or "no non-real zero of Q"
        re, im = self.complex_zero
        return (
            f"nearest complex zeros of Q at {re:.6g} ± {im:.3g}i, "
            f"{self.complex_zero_distance:.3g} from the range"
        )

    def q_text(self) -> str:
        """The condition of evaluating ``Q`` on the range, in words (short)."""
        return f"cond {self.cond_q:.3g}, min|Q|/max|Q| {self.min_abs_q_relative:.3g}"

    def digits_text(self) -> str:
        """The worst-case digits lost per dtype, in words (short)."""
        return ", ".join(f"{d.dtype} {_lost(d)}" for d in self.dtypes) + " (worst case)"

    def summary(self) -> str:
        """One line: the condition of ``Q`` and the digits lost per dtype."""
        return f"Q: {self.q_text()}; digits lost: {self.digits_text()}"

    def warnings(self) -> list[str]:
        """A line per dtype that loses more than :data:`WARN_FRACTION` of its digits."""
        out = []
        for d in self.dtypes:
            if not d.warns:
                continue
            if d.useless_on is not None:
                lo, hi = d.useless_on
                what = (
                    f"useless on [{lo:.4g}, {hi:.4g}], where the computed Q may vanish "
                    f"(min |Q| {self.min_abs_q:.3g} at x = {d.bound_at:.6g})"
                )
            else:
                what = f"error bound {d.bound:.3g} near x = {d.bound_at:.6g}"
            out.append(f"{d.dtype} loses {_lost(d)} of its {d.digits:.1f} digits: {what}")
        if out and self.complex_zero is not None:
            out.append(f"cause: {self.zeros_text()}")
        return out

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dictionary."""
        return {
            "form": self.form,
            "min_abs_q": self.min_abs_q,
            "max_abs_q": self.max_abs_q,
            "min_abs_q_relative": self.min_abs_q_relative,
            "cond_q": self.cond_q,
            "cond_q_at": self.cond_q_at,
            "dtypes": [d.to_dict() for d in self.dtypes],
            "complex_zero": None if self.complex_zero is None else list(self.complex_zero),
            "complex_zero_distance": self.complex_zero_distance,
            "note": self.note,
            "warnings": self.warnings(),
            "warn_fraction": WARN_FRACTION,
        }

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> Conditioning:
        """Inverse of :meth:`to_dict` (derived values are recomputed)."""
        cz = d.get("complex_zero")
        dist = d.get("complex_zero_distance")
        return cls(
            form=str(d["form"]),
            min_abs_q=float(d["min_abs_q"]),  # type: ignore[arg-type]
            max_abs_q=float(d["max_abs_q"]),  # type: ignore[arg-type]
            cond_q=float(d["cond_q"]),  # type: ignore[arg-type]
            cond_q_at=float(d["cond_q_at"]),  # type: ignore[arg-type]
            dtypes=tuple(DtypeConditioning.from_dict(v) for v in d["dtypes"]),  # type: ignore[union-attr]
            complex_zero=None if cz is None else (float(cz[0]), float(cz[1])),  # type: ignore[index]
            complex_zero_distance=None if dist is None else float(dist),  # type: ignore[arg-type]
            note=str(d.get("note", "")),
        )


def _lost(d: DtypeConditioning) -> str:
    return "all" if d.digits_lost >= d.digits else f"{d.digits_lost:.1f}"



def _nearest_complex_zero(
    rational: Rational, a: float, b: float
) -> tuple[tuple[float, float] | None, float | None]:
    zs = [z for z in complex_roots(rational.denominator_polynomial()) if z.imag != 0.0]
    if not zs:
        return None, None

    def dist(z: complex) -> float:
        dx = a - z.real if z.real < a else (z.real - b if z.real > b else 0.0)
        return math.hypot(dx, z.imag)

    z = min(zs, key=dist)
    return (float(z.real), abs(float(z.imag))), dist(z)


def assess_conditioning(
    rational: Rational,
    a: float,
    b: float,
    *,
    min_abs_q: float | None = None,
    min_abs_q_at: float | None = None,
    dtypes: Sequence[str] = DTYPES,
) -> Conditioning:
    """Return the conditioning of evaluating ``rational`` on ``[a, b]`` (see the module docstring).

    Args:
        rational: the table.
        a: left end of the range.
        b: right end.
        min_abs_q: the minimum of ``|Q|`` if known (the pole report's), else sampled.
        min_abs_q_at: where it is; a point the bounds are also evaluated at.
        dtypes: the dtypes to bound.

    Raises:
        ValueError: an unknown dtype.

    Examples:
        >>> c = assess_conditioning(Rational([0.0, 1.0], [0.0, 1.0], "safe"), -3.0, 3.0)
        >>> c.cond_q, c.warnings()
        (1.0, [])
    """
    extra = () if min_abs_q_at is None else (float(min_abs_q_at),)
    xs = _points(rational, a, b, extra)
    with np.errstate(all="ignore"):
        q = np.abs(rational.denominator_at(xs))
        _, sq, _ = _sums(rational, xs)
        ratio = np.where(q > 0, sq / q, np.inf)
    k = int(np.argmax(ratio))
    if min_abs_q is None:
        i = int(np.argmin(q))
        min_abs_q, min_abs_q_at = float(q[i]), float(xs[i])
    entries = []
    with np.errstate(all="ignore"):
        r = np.abs(rational(xs))
    shared = _shared(rational, xs)
    for name in dtypes:
        if name not in _UNIT:
            raise ValueError(f"unknown dtype {name!r}; use one of {sorted(_UNIT)}")
        bound, at, span = _sampled_max(
            lambda t, nm=name: pointwise_error_bound(rational, t, nm), xs, min_abs_q_at,
            vals=_bound(rational, shared, name),
        )
        u = _UNIT[name]
        digits = _digits(u)
        j = int(np.argmin(np.abs(xs - at)))
        scale = max(1.0, float(r[j])) if math.isfinite(r[j]) else 1.0
        lost = digits if not math.isfinite(bound) else math.log10(max(bound / (u * scale), 1.0))
        entries.append(DtypeConditioning(name, bound, at, digits, min(lost, digits), span))
    if rational.form == "plain":
        cz, dist = _nearest_complex_zero(rational, a, b)
        note = ""
    else:
        cz, dist = None, None
        floor = "0.1" if rational.form == "abs_offset" else "1"
        note = f"{rational.form} form: Q >= {floor} on the real line, min Q on the range >= {floor}"
    return Conditioning(
        form=rational.form,
        min_abs_q=float(min_abs_q),
        max_abs_q=float(q.max()),
        cond_q=float(ratio[k]),
        cond_q_at=float(xs[k]),
        dtypes=tuple(entries),
        complex_zero=cz,
        complex_zero_distance=dist,
        note=note,
    )
