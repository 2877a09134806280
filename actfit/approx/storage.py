"""Coefficients in their storage format: exactly representable, and re-optimised for it.

A table that runs in a kernel, an FPGA or fixed-point inference stores its coefficients as
float32, bfloat16, float16 or fixed point. Rounding the float64 fit to nearest throws away much
of what a format-aware choice can keep: with 8 significant bits (bfloat16) the rounding errors of
the coefficients add up to an error far above the fit's own. :func:`store_coefficients` solves
the problem Sollya's ``fpminimax`` solves for polynomials (Brisebarre and Chevillard, "Efficient
polynomial L-infinity approximations", ARITH 18, 2007), extended to rationals:

1. **Denominator first.** The denominator's coefficients are rounded to the format. Its error
   enters nonlinearly (``P/Q``), so it cannot be posed as a lattice problem; but once ``Q`` is
   fixed the problem is *linear* in the numerator's coefficients, and the numerator can absorb
   most of what the denominator's rounding did. (Rounding the nonlinear part first and refitting
   the linear part is the "rounding in a well-chosen order" of Brisebarre, Muller and Tisserand,
   "Computing machine-efficient polynomial approximations", ACM TOMS 32 (2006), §3.)
2. **Numerator by lattice reduction.** With ``Q`` fixed, the best continuous numerator ``P_c`` is
   a linear minimax problem on a grid (an LP, HiGHS), and the best numerator on the format's
   lattice ``a_k = M_k 2^{e_k}`` (``M_k`` integers, ``2^{e_k}`` the format's quantum at
   ``P_c``'s coefficient) is the closest vector problem of Brisebarre and Chevillard: the lattice
   spanned by ``(2^{e_k} x_i^k / Q(x_i))_i`` at Chebyshev nodes ``x_i``, the target vector
   ``(P_c(x_i) / Q(x_i))_i``; LLL reduction (python-flint, Lenstra, Lenstra, Lovász 1982) and
   Babai's nearest plane (Combinatorica 6, 1986) solve it approximately. Their choice of ``m+1``
   nodes and a denser set of ``4(m+1)`` nodes are both tried.
3. **Neighbourhood search.** A coordinate search over the denominator's coefficients (each one
   format quantum up or down; the numerator re-solved by step 2 each time), then over all
   coefficients jointly (±1 quantum each, the error on a dense grid as the objective), as
   Brisebarre and Chevillard suggest to recover from the approximate CVP. The naive rounding is
   a candidate too, so the result is never worse than it on the grid.

Formats (:func:`parse_format`): ``float64``, ``float32``, ``bfloat16``, ``float16`` (IEEE-style
binary formats with subnormals, round-half-even, an overflow is an error) and ``fixed:F`` (integer
multiples of ``2^-F``, ``1 <= F <= 62``, stored as signed 64-bit integers: ``|c| 2^F < 2^63``).
:func:`round_to_format` rounds bit-exactly (exact power-of-two scaling and Python's
round-half-even on float64, whose 53 bits hold every narrower format's result exactly).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from actfit.errors import ActfitError, ParameterError
from actfit.rational import OFFSET_C, Rational

if TYPE_CHECKING:
    from actfit.fit import Fit

__all__ = [
    "FORMAT_NAMES",
    "MAX_FRACTION_BITS",
    "StorageFormat",
    "format_quantum",
    "is_representable",
    "parse_format",
    "round_to_format",
    "store_coefficients",
]

MAX_FRACTION_BITS = 62
"""The largest ``F`` of ``fixed:F`` (values are stored as signed 64-bit integers)."""
# name: (significand bits with the implicit one, smallest normal exponent, largest exponent)
_FLOATS = {
    "float64": (53, -1022, 1023),
    "float32": (24, -126, 127),
    "bfloat16": (8, -126, 127),
    "float16": (11, -14, 15),
}
FORMAT_NAMES = (*_FLOATS, "fixed:F")
"""The coefficient formats :func:`parse_format` accepts."""
_ALIASES = {"fp64": "float64", "double": "float64", "fp32": "float32", "single": "float32",
            "bf16": "bfloat16", "fp16": "float16", "half": "float16"}
_GRID = 4001
_ROUNDS = 8


@dataclass(frozen=True)
class StorageFormat:
    """A coefficient storage format.

    Attributes:
        name: ``"float32"``, ``"bfloat16"``, ``"fixed:12"``, ...
        kind: ``"float"`` or ``"fixed"``.
        precision: significand bits, the implicit one included (float formats; 0 for fixed).
        emin, emax: smallest normal and largest exponent (float formats).
        fraction_bits: ``F`` of ``fixed:F`` (None for float formats).
    """

    name: str
    kind: str
    precision: int = 0
    emin: int = 0
    emax: int = 0
    fraction_bits: int | None = None

    @property
    def max_value(self) -> float:
        """The largest finite value of the format."""
        if self.kind == "fixed":
            return (2.0**63 - 1) * 2.0 ** -(self.fraction_bits or 0)
        return (2.0 - 2.0 ** (1 - self.precision)) * 2.0**self.emax


def parse_format(spec: str | StorageFormat) -> StorageFormat:
    """Return the :class:`StorageFormat` named by ``spec``.

    Args:
        spec: ``float64``, ``float32``, ``bfloat16``, ``float16`` (or fp64, fp32, bf16, fp16,
            half) or ``fixed:F`` with ``1 <= F <= 62`` fractional bits.

    Raises:
        ParameterError: an unknown format, or ``F`` out of range.

    Examples:
        >>> parse_format("bf16").precision
        8
        >>> parse_format("fixed:12").fraction_bits
        12
    """
    if isinstance(spec, StorageFormat):
        return spec
    text = str(spec).strip().lower()
    text = _ALIASES.get(text, text)
    if text in _FLOATS:
        p, emin, emax = _FLOATS[text]
        return StorageFormat(text, "float", p, emin, emax)
    match = re.fullmatch(r"fixed:([+-]?\d+)", text)
    if match:
        bits = int(match.group(1))
        if not 1 <= bits <= MAX_FRACTION_BITS:
            raise ParameterError(
                f"fixed-point format {spec!r} has {bits} fractional bits; give 1 to "
                f"{MAX_FRACTION_BITS} (values are stored as 64-bit integers), e.g. fixed:12"
            )
        return StorageFormat(f"fixed:{bits}", "fixed", fraction_bits=bits)
    raise ParameterError(
        f"unknown coefficient format {spec!r}; use float64, float32, bfloat16, float16 or "
        f"fixed:F (F fractional bits, 1 to {MAX_FRACTION_BITS}), e.g. fixed:12"
    )


def format_quantum(value: float, fmt: str | StorageFormat) -> float:
    """Return the spacing of the format's values at ``value`` (its ulp; ``2^-F`` for fixed).

    Examples:
        >>> format_quantum(1.0, "bfloat16")
        0.0078125
    """
    f = parse_format(fmt)
    if f.kind == "fixed":
        return 2.0 ** -(f.fraction_bits or 0)
    _, e = math.frexp(value) if value != 0 else (0.0, f.emin + 1)
    return math.ldexp(1.0, max(e - 1, f.emin) - (f.precision - 1))


def _round_one(c: float, f: StorageFormat) -> float:
    if not math.isfinite(c):
        raise ParameterError(f"coefficient {c} is not finite; it cannot be stored in {f.name}")
    if f.kind == "fixed":
        n = round(math.ldexp(c, f.fraction_bits or 0))  # exact scaling, then half-even
        if abs(n) >= 2**63:
            raise ParameterError(
                f"coefficient {c:.6g} does not fit in {f.name} (|c| 2^F must be below 2^63); "
                "use fewer fractional bits or a floating-point format"
            )
        return math.ldexp(float(n), -(f.fraction_bits or 0))
    if c == 0.0:
        return c
    q = format_quantum(c, f)
    r = round(c / q) * q  # c / q is exact (a power of two); round() is half-even
    if abs(r) > f.max_value:
        raise ParameterError(
            f"coefficient {c:.6g} overflows {f.name} (largest {f.max_value:.6g}); use a wider "
            "format (float32) or refit on a smaller range"
        )
    return float(r)


def round_to_format(values: ArrayLike, fmt: str | StorageFormat) -> NDArray[np.float64]:
    """Return ``values`` rounded to nearest (ties to even) in the format, as float64.

    Raises:
        ParameterError: a value is not finite, overflows the float format, or does not fit the
            fixed-point format's 64-bit integers.

    Examples:
        >>> round_to_format([1.0 + 2**-9, 0.1], "bfloat16").tolist()
        [1.0, 0.10009765625]
    """
    f = parse_format(fmt)
    arr = np.asarray(values, dtype=np.float64)
    return np.array([_round_one(float(c), f) for c in arr.ravel()]).reshape(arr.shape)


def is_representable(values: ArrayLike, fmt: str | StorageFormat) -> bool:
    """True when every value is exactly a value of the format."""
    try:
        arr = np.asarray(values, dtype=np.float64)
        return bool(np.array_equal(round_to_format(arr, fmt), arr))
    except ActfitError:
        return False


def _step(c: float, f: StorageFormat, direction: int) -> float | None:
    """The neighbour of the representable ``c`` in the format, up (+1) or down (-1); None
    where it overflows."""
    # the spacing on the side we move to decides (below a power of two it is half as large)
    side = math.nextafter(c, direction * math.inf)
    try:
        return _round_one(c + direction * format_quantum(side, f), f)
    except ActfitError:
        return None


# -- the error of candidate coefficients on a grid ---------------------------------------------
class _Problem:
    """The target on a dense grid, and the error of coefficient vectors in one form."""

    def __init__(self, fit: Fit, objective: str) -> None:
        a, b = fit.range
        k = np.arange(_GRID)
        cheb = 0.5 * (a + b) - 0.5 * (b - a) * np.cos(np.pi * k / (_GRID - 1))
        kinks = [x for x in fit.target.kinks if a < x < b]
        self.x = np.unique(np.concatenate([np.linspace(a, b, _GRID), cheb, kinks]))
        with np.errstate(all="ignore"):
            self.f = np.asarray(fit.target(self.x), dtype=np.float64)
        self.form = fit.rational.form
        self.m, self.n = fit.rational.degree
        self.objective = objective
        self.vp = np.vander(self.x, self.m + 1, increasing=True)
        self.vq = self.q_basis(self.x)
        self.a, self.b = a, b

    def q_basis(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        """Columns whose combination with the stored denominator coefficients is ``S(x)``."""
        n_den = self.n + 1 if self.form == "abs_offset" else self.n
        first = 0 if self.form == "abs_offset" else 1
        xx = np.abs(x) if self.form == "safe" else x
        return xx[:, None] ** np.arange(first, first + n_den)[None, :]

    def q_values(self, den: NDArray[np.float64], vq: NDArray[np.float64]) -> NDArray[np.float64]:
        if self.form == "plain":
            return 1.0 + vq @ den
        if self.form == "safe":
            return 1.0 + vq @ np.abs(den)
        if self.form == "abs":
            return 1.0 + np.abs(vq @ den)
        return OFFSET_C + np.abs(vq @ den)

    def error(self, num: NDArray[np.float64], den: NDArray[np.float64]) -> float:
        q = self.q_values(den, self.vq)
        if self.form == "plain" and not (q.min() > 0 or q.max() < 0):
            return math.inf  # Q changes sign on the range: a pole
        with np.errstate(all="ignore"):
            e = self.f - (self.vp @ num) / q
        if self.objective == "l2":
            v = float(np.sqrt(np.mean(e * e)))
        else:
            v = float(np.max(np.abs(e)))
        return v if math.isfinite(v) else math.inf


def _continuous_numerator(pb: _Problem, den: NDArray[np.float64]) -> NDArray[np.float64]:
    """The best float64 numerator for a fixed denominator: linear minimax (LP) or least squares
    on the grid (every column scaled to max 1, which HiGHS and lstsq both need at degree 12)."""
    q = pb.q_values(den, pb.vq)
    a_mat = pb.vp / q[:, None]
    scale = np.max(np.abs(a_mat), axis=0)
    scale[scale == 0] = 1.0
    a_mat = a_mat / scale
    if pb.objective == "l2":
        sol = np.linalg.lstsq(a_mat, pb.f, rcond=None)[0]
        return sol / scale
    from scipy.optimize import linprog

    sub = slice(None, None, 4)  # a quarter of the grid: the LP only seeds the lattice step
    am, fv = a_mat[sub], pb.f[sub]
    ones = np.ones((am.shape[0], 1))
    a_ub = np.block([[am, -ones], [-am, -ones]])
    b_ub = np.concatenate([fv, -fv])
    c = np.zeros(am.shape[1] + 1)
    c[-1] = 1.0
    bounds = [(None, None)] * am.shape[1] + [(0, None)]
    res = linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
    if res.status != 0:
        sol = np.linalg.lstsq(a_mat, pb.f, rcond=None)[0]
        return sol / scale
    return res.x[:-1] / scale


def _babai(basis: NDArray[np.float64], target: NDArray[np.float64]) -> NDArray[np.int64]:
    """Integer coordinates of the lattice vector that Babai's nearest plane finds near
    ``target`` (``basis`` rows LLL-reduced, so float64 Gram-Schmidt is accurate enough)."""
    q, r = np.linalg.qr(basis.T)
    y = q.T @ target
    k = basis.shape[0]
    c = np.zeros(k)
    for i in range(k - 1, -1, -1):
        c[i] = np.round((y[i] - r[i, i + 1:] @ c[i + 1:]) / r[i, i])
    return c.astype(np.int64)


def _lattice_numerator(
    pb: _Problem, den: NDArray[np.float64], f: StorageFormat, nodes: int
) -> NDArray[np.float64] | None:
    """Brisebarre-Chevillard: the numerator on the format's lattice closest to the best
    continuous one at ``nodes`` Chebyshev nodes, for the fixed denominator ``den``."""
    import flint

    pc = _continuous_numerator(pb, den)
    free = [k for k in range(pb.m + 1) if f.kind == "fixed" or abs(pc[k]) > 1e-300]
    if not free:
        return np.zeros(pb.m + 1)
    k = np.arange(nodes)
    xi = 0.5 * (pb.a + pb.b) - 0.5 * (pb.b - pb.a) * np.cos(np.pi * (k + 0.5) / nodes)
    q = pb.q_values(den, pb.q_basis(xi))
    quanta = np.array([format_quantum(float(pc[j]), f) for j in free])
    basis = (xi[None, :] ** np.array(free)[:, None]) / q[None, :] * quanta[:, None]
    target = np.polynomial.polynomial.polyval(xi, pc) / q
    top = float(np.max(np.abs(basis)))
    if not (math.isfinite(top) and top > 0):
        return None
    shift = 60 - math.frexp(top)[1]  # about 60 significant bits in the integer lattice
    ints = [[int(v) for v in row] for row in np.round(np.ldexp(basis, shift))]
    try:
        reduced, trans = flint.fmpz_mat(ints).lll(transform=True)
    except Exception:  # a rank-deficient lattice (nodes < free coefficients)
        return None
    red = np.array([[float(int(reduced[i, j])) for j in range(reduced.ncols())]
                    for i in range(reduced.nrows())])
    coords = _babai(red, np.ldexp(target, shift))
    t = np.array([[int(trans[i, j]) for j in range(trans.ncols())] for i in range(trans.nrows())],
                 dtype=object)
    mult = [sum(int(coords[i]) * t[i, j] for i in range(len(coords))) for j in range(len(free))]
    num = np.zeros(pb.m + 1)
    for j, kk in enumerate(free):
        num[kk] = float(mult[j]) * quanta[j]
    try:
        return round_to_format(num, f)
    except ActfitError:
        return None


def _best_numerator(
    pb: _Problem, den: NDArray[np.float64], f: StorageFormat
) -> tuple[float, NDArray[np.float64]]:
    best: tuple[float, NDArray[np.float64]] = (math.inf, np.zeros(pb.m + 1))
    for nodes in sorted({pb.m + 1, 4 * (pb.m + 1)}):
        num = _lattice_numerator(pb, den, f, nodes)
        if num is not None:
            e = pb.error(num, den)
            if e < best[0]:
                best = (e, num)
    return best


def _coordinate_search(
    coeffs: NDArray[np.float64],
    f: StorageFormat,
    cost: Callable[[NDArray[np.float64]], float],
    start: float,
    rounds: int,
) -> tuple[float, NDArray[np.float64]]:
    """Greedy ±1 quantum moves on each coordinate while the cost drops."""
    best, cur = start, coeffs.copy()
    for _ in range(rounds):
        improved = False
        for k in range(cur.size):
            for direction in (1, -1):
                nxt = _step(float(cur[k]), f, direction)
                if nxt is None:
                    continue
                trial = cur.copy()
                trial[k] = nxt
                e = cost(trial)
                if e < best:
                    best, cur, improved = e, trial, True
        if not improved:
            break
    return best, cur


def _optimise(fit: Fit, f: StorageFormat, objective: str) -> tuple[Rational, Rational]:
    """Return (format-aware, naive) rationals."""
    r = fit.rational
    pb = _Problem(fit, objective)
    naive_num, naive_den = round_to_format(r.numerator, f), round_to_format(r.denominator, f)
    naive = Rational(naive_num, naive_den, r.form)
    cands: list[tuple[float, NDArray[np.float64], NDArray[np.float64]]] = [
        (pb.error(naive_num, naive_den), naive_num, naive_den)
    ]
    if naive_den.size:
        cache: dict[bytes, tuple[float, NDArray[np.float64]]] = {}

        def den_cost(den: NDArray[np.float64]) -> float:
            key = den.tobytes()
            if key not in cache:
                cache[key] = _best_numerator(pb, den, f)
            return cache[key][0]

        e0 = den_cost(naive_den)
        e_den, den = _coordinate_search(naive_den, f, den_cost, e0, 3)
        cands.append((e_den, cache[den.tobytes()][1], den))
    else:
        e_num, num = _best_numerator(pb, naive_den, f)
        cands.append((e_num, num, naive_den))
    e, num, den = min(cands, key=lambda c: c[0])
    split = num.size

    def joint(c: NDArray[np.float64]) -> float:
        return pb.error(c[:split], c[split:])

    _, both = _coordinate_search(np.concatenate([num, den]), f, joint, e, _ROUNDS)
    return Rational(both[:split], both[split:], r.form), naive


def _max_error(fit: Fit, rational: Rational, prove: bool) -> tuple[float, bool]:
    """The max error of ``rational`` against the fit's target: proven upper bound (supnorm) when
    the target has an enclosure, else the attained max of actfit's error report."""
    from actfit.approx.enclosure import NoEnclosureError
    from actfit.approx.metrics import error_report

    a, b = fit.range
    if prove:
        from actfit.approx.supnorm import supnorm

        try:
            return supnorm(fit.target, rational, a, b).upper, True
        except NoEnclosureError:
            pass
    rep = error_report(fit.target, rational, a, b, fit.target.kinks, ())
    return float(rep.max_abs), False


def store_coefficients(
    fit: Fit,
    fmt: str | StorageFormat,
    *,
    objective: str = "max",
    prove: bool = True,
) -> Fit:
    """Return the fit with coefficients exactly representable in ``fmt``, re-optimised for it.

    See the module docstring for the algorithm (denominator rounded and searched, numerator by
    Brisebarre-Chevillard lattice reduction, then a ±1-quantum neighbourhood search). The
    result keeps the method and the settings, and adds ``settings["storage"]``: the format, the
    objective, and the max error of the stored coefficients, of naive round-to-nearest of the
    float64 fit and of the float64 fit itself (``proven``: whether these are proven upper bounds
    from :func:`actfit.approx.supnorm.supnorm` or, for targets without an interval enclosure,
    attained maxima). When the naive rounding's error is not above the format-aware one it is
    delivered instead (``"naive_kept": true``), so the result is never worse than it.

    Args:
        fit: The float64 fit (any method and form).
        fmt: A format name or :class:`StorageFormat` (see :func:`parse_format`); ``float64``
            returns ``fit`` unchanged.
        objective: ``"max"`` (the max error on a dense grid) or ``"l2"`` (its rms) for the
            search.
        prove: Prove the three errors with :func:`supnorm` where the target allows it.

    Raises:
        ParameterError: unknown format or objective; a coefficient overflows the format.
        PoleError: (plain form) the stored denominator vanishes on the range.

    Examples:
        >>> from actfit.approx.lsq import fit_lsq
        >>> fit = store_coefficients(fit_lsq("gelu", (5, 4)), "bfloat16")  # doctest: +SKIP
        >>> fit.settings["storage"]["error_stored"] <= fit.settings["storage"]["error_naive"]
        True
    """
    from actfit.fit import make_fit

    f = parse_format(fmt)
    if objective not in ("max", "l2"):
        raise ParameterError(f"unknown storage objective {objective!r}; use 'max' or 'l2'")
    if f.name == "float64":
        return fit
    stored, naive = _optimise(fit, f, objective)
    e_stored, proven = _max_error(fit, stored, prove)
    e_naive, _ = _max_error(fit, naive, prove)
    e_float, _ = _max_error(fit, fit.rational, prove)
    kept = False
    if e_naive <= e_stored:
        stored, e_stored, kept = naive, e_naive, True
    settings = dict(fit.settings)
    settings["storage"] = {
        "format": f.name,
        "objective": objective,
        "algorithm": "denominator rounded + coordinate search; numerator by LLL/Babai "
        "(Brisebarre-Chevillard 2007) on the format's lattice; ±1-quantum search",
        "error_stored": e_stored,
        "error_naive": e_naive,
        "error_float64": e_float,
        "proven": proven,
        "naive_kept": kept,
    }
    cert = fit.certificate
    if cert is not None:
        lower = cert.lower
        gap = None if lower is None or e_stored <= 0 else (e_stored - lower) / e_stored
        cert = dataclasses.replace(
            cert, upper=e_stored, gap=gap,
            detail=(cert.detail + "; " if cert.detail else "")
            + f"upper: the stored {f.name} coefficients' error",
        )
    return make_fit(
        fit.target, stored, method=fit.method, settings=settings, range=fit.range,
        allow_poles=bool(fit.poles.poles_on_range), certificate=cert,
    )
