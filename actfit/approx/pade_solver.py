"""The robust Padé solve: SVD rank decisions, exact null vectors, no Froissart doublets.

:func:`robust_pade` is the algorithm of Gonnet, Güttel and Trefethen (2013): the ``n x (n+1)``
Toeplitz block of the linearised Padé conditions is tested for rank with an SVD at ``dps`` digits
(singular values below ``tol * ||c||_2`` count as zero, with the Taylor coefficients scaled to the
range so that ``tol`` is relative to the target's size there); while it is rank deficient by
``d`` the type is lowered from ``[m, n]`` to ``[m-d, n-d]`` (the Padé table's square blocks; Gragg
1972). With exact rational data the rank and the null vector are computed exactly
(``sympy.polys.matrices.DomainMatrix`` over QQ). Common factors ``x^k`` and vanishing top
coefficients are removed, and poles whose residue is negligible (Froissart doublets) lower the
type again, so a defective case such as tanh ``[2, 1]`` (where ``mpmath.pade`` and
``scipy.interpolate.pade`` raise "singular matrix") gives the lower type ``[1, 0]`` instead of an
error.

References:
    P. Gonnet, S. Güttel and L. N. Trefethen, "Robust Padé approximation via SVD", SIAM Review
    55 (2013), 101–117.
    W. B. Gragg, "The Padé table and its relation to certain algorithms of numerical analysis",
    SIAM Review 14 (1972), 1–62.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from actfit.approx.taylor import DEFAULT_DPS, Number, is_exact, to_mpf
from actfit.options import check_order

__all__ = ["DEFAULT_DOUBLET_TOL", "DEFAULT_TOL", "PadeResult", "robust_pade"]

DEFAULT_TOL = 1e-14
"""Relative tolerance of the rank decisions (Gonnet, Güttel and Trefethen's default)."""

DEFAULT_DOUBLET_TOL = 1e-7
"""Relative residue below which a pole counts as a Froissart doublet (see :func:`robust_pade`).

Genuine poles of the approximants of the registry's targets have relative residues above 1e-6;
the doublets found (gelu [4,4], mish [4,4], ...) are below 1e-9."""


def _mp() -> Any:
    import mpmath

    return mpmath


@dataclass(frozen=True)
class PadeResult:
    """A Padé approximant in the expansion variable ``h = x - x0``.

    Attributes:
        numerator: ``a_0..a_mu`` (Fraction where exact, else mpf).
        denominator: ``b_0..b_nu`` with ``b_0 = 1``.
        requested: the type asked for.
        delivered: the type ``(mu, nu)`` of the result.
        reasons: why the delivered type is lower, one sentence per step.
        solve: how the denominator was found.
        sigma: the singular values (relative to ``||c||_2``) of the final Toeplitz block.
    """

    numerator: tuple[Number, ...]
    denominator: tuple[Number, ...]
    requested: tuple[int, int]
    delivered: tuple[int, int]
    reasons: tuple[str, ...]
    solve: str
    sigma: tuple[float, ...] = ()

    @property
    def exact(self) -> bool:
        """True when every coefficient is an exact rational."""
        return all(is_exact(v) for v in (*self.numerator, *self.denominator))


def _toeplitz_block(c: Sequence[Number], m: int, n: int) -> list[list[Number]]:
    """Rows ``m+1..m+n`` of ``Z[i][j] = c_{i-j}``: the linearised Padé conditions on ``b``."""
    zero = Fraction(0)
    return [
        [c[i - j] if i - j >= 0 else zero for j in range(n + 1)] for i in range(m + 1, m + n + 1)
    ]


def _exact_rank_and_null(rows: list[list[Fraction]], ncols: int) -> tuple[int, list[Fraction]]:
    """Return the exact rank of ``rows`` and (when it is ``ncols - 1``) a null vector."""
    from sympy import QQ
    from sympy.polys.matrices import DomainMatrix

    mat = DomainMatrix(
        [[QQ(v.numerator, v.denominator) for v in row] for row in rows], (len(rows), ncols), QQ
    )
    rank = mat.rank()
    if rank != ncols - 1:
        return rank, []
    (null,) = mat.nullspace().to_list()
    return rank, [Fraction(int(v.numerator), int(v.denominator)) for v in null]


def _svd(rows: list[list[Number]], ncols: int) -> tuple[list[Any], Any]:
    """Return the singular values and the last right singular vector (square padding)."""
    mp = _mp()
    size = ncols
    mat = mp.matrix(size, size)
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            mat[i, j] = to_mpf(v)
    _u, s, v = mp.svd_r(mat, compute_uv=True)
    sv = sorted((s[i] for i in range(size)), reverse=True)[: len(rows)]
    k = min(range(size), key=lambda i: s[i])
    null = [v[k, j] for j in range(size)]
    return sv, null


def robust_pade(
    coeffs: Sequence[Number],
    order: tuple[int, int],
    *,
    tol: float = DEFAULT_TOL,
    scale: float = 1.0,
    dps: int = DEFAULT_DPS,
    doublet_tol: float = DEFAULT_DOUBLET_TOL,
    center: float = 0.0,
) -> PadeResult:
    """Return the robust ``[m, n]`` Padé approximant of a power series (Gonnet–Güttel–Trefethen).

    Args:
        coeffs: Taylor coefficients ``c_0 .. c_{m+n}`` (Fractions, ints or mpf; missing ones are
            taken as zero).
        order: the requested type ``(m, n)``.
        tol: relative tolerance: singular values of the Toeplitz block below
            ``tol * ||c||_2`` count as zero, and so do trailing numerator coefficients below it.
        scale: the rank test uses ``c_k * scale**k`` (series in ``h / scale``), so that ``tol``
            is relative to the function on ``|h| <= scale``; the approximant does not depend
            on it.
        dps: decimal digits of the mpmath arithmetic.
        doublet_tol: a pole whose residue is below ``doublet_tol * F * scale`` (``F`` the
            largest ``|c_k| scale^k``) is a Froissart doublet: it is nearly cancelled by a zero
            and changes the function only next to itself. The type is then lowered by the number
            of such poles and the approximant recomputed, until none is left.
        center: added to pole locations in the reasons (they are reported in ``x = x0 + h``).

    Returns:
        The approximant, with its delivered type and the reasons for any lowering. With all
        coefficients rational the rank is computed exactly too and the solve is exact.

    Examples:
        >>> from fractions import Fraction as F
        >>> r = robust_pade([F(0), F(1), F(0), F(-1, 3)], (2, 1))   # tanh: singular system
        >>> r.delivered, [str(v) for v in r.numerator]
        ((1, 0), ['0', '1'])
    """
    m, n = check_order(order, max_degree=10**6)
    res = _pade_once(coeffs, (m, n), tol, scale, dps)
    reasons = list(res.reasons)
    while True:
        found = _doublets(res, coeffs, scale, doublet_tol, dps)
        if not found:
            break
        mu, nu = res.delivered
        k = len(found)
        new = (max(mu - k, 0), nu - k)
        where = ", ".join(_complex_str(z + center) for z, _ in found[:4])
        rel = ", ".join(f"{r:.1e}" for _, r in found[:4])
        reasons.append(
            f"[{mu},{nu}]: {k} pole(s) nearly cancelled by zeros (Froissart doublets) at "
            f"x = {where} (relative residue {rel} < {doublet_tol:g}); lowered to "
            f"[{new[0]},{new[1]}]"
        )
        res = _pade_once(coeffs, new, tol, scale, dps)
        reasons += list(res.reasons)
    return PadeResult(
        res.numerator, res.denominator, (m, n), res.delivered, tuple(reasons), res.solve,
        res.sigma,
    )


def _complex_str(z: complex) -> str:
    if abs(z.imag) <= 1e-12 * abs(z):
        return f"{z.real:.6g}"
    return f"{z.real:.6g}{z.imag:+.6g}i"


def _doublets(
    res: PadeResult, coeffs: Sequence[Number], scale: float, doublet_tol: float, dps: int
) -> list[tuple[complex, float]]:
    """Return ``(pole, relative residue)`` of each pole of ``res`` with a negligible residue."""
    if len(res.denominator) < 2 or doublet_tol <= 0:
        return []
    mp = _mp()
    from mpmath.libmp import NoConvergence

    with mp.workdps(dps):
        num = [to_mpf(v) for v in res.numerator]
        den = [to_mpf(v) for v in res.denominator]
        gamma = mp.mpf(scale)
        size = max(abs(to_mpf(v)) * gamma**k for k, v in enumerate(coeffs))
        try:
            roots = mp.polyroots(den[::-1], maxsteps=400, extraprec=4 * dps)
        except NoConvergence:
            # A multiple root (e.g. Q = (1 + x)^3): Durand-Kerner cannot reach the working
            # precision there. Double-precision roots still tell a pole whose residue is
            # negligible from one whose is not (at a multiple root Q' is ~0: a large residue).
            import numpy as np

            roots = [mp.mpc(z) for z in np.roots([float(v) for v in den[::-1]])]
        dq = [k * den[k] for k in range(1, len(den))]
        out = []
        for z in roots:
            slope = mp.polyval(dq[::-1], z)
            if slope == 0:
                continue
            rel = abs(mp.polyval(num[::-1], z) / slope) / (size * gamma)
            if rel < doublet_tol:
                out.append((complex(z), float(rel)))
    return out


def _pade_once(
    coeffs: Sequence[Number], order: tuple[int, int], tol: float, scale: float, dps: int
) -> PadeResult:
    """One pass of the SVD-based robust Padé algorithm (no doublet check)."""
    m, n = check_order(order, max_degree=10**6)
    requested = (m, n)
    total = m + n + 1
    c: list[Number] = [
        (Fraction(v) if is_exact(v) else v) for v in list(coeffs)[:total]
    ] + [Fraction(0)] * max(0, total - len(coeffs))
    mp = _mp()
    reasons: list[str] = []
    sigma: tuple[float, ...] = ()
    with mp.workdps(dps):
        gamma = to_mpf(Fraction(scale)) if isinstance(scale, float | int) else mp.mpf(scale)
        cs = [to_mpf(v) * gamma**k for k, v in enumerate(c)]
        norm_c = mp.sqrt(sum(v * v for v in cs))
        thresh = tol * norm_c
        head_exact = all(is_exact(v) for v in c[: m + 1])
        if head_exact:
            vanish = all(v == 0 for v in c[: m + 1])
        else:
            vanish = max(abs(v) for v in cs[: m + 1]) <= tol * max(abs(v) for v in cs)
        if vanish:
            which = "c_0" if m == 0 else f"c_0..c_{m}"
            tol_note = "" if head_exact else f" (to tolerance {tol:g})"
            why = f"{which} vanish{tol_note}: the approximant is the zero function"
            return PadeResult(
                (Fraction(0),), (Fraction(1),), requested, (0, 0), (why,), "trivial", ()
            )
        null: list[Number] = []
        block_exact = False
        while n > 0:
            block = _toeplitz_block(c, m, n)
            block_exact = all(is_exact(v) for row in block for v in row)
            sv: list[Any] = []
            if block_exact:
                # exact data: the rank is decided exactly, no tolerance is involved
                rho, null = _exact_rank_and_null(block, n + 1)
                how = f"exactly singular (rank {rho} of {n})"
            else:
                sv, null = _svd(_toeplitz_block(cs, m, n), n + 1)
                rho = sum(1 for s in sv if s > thresh)
                how = (
                    f"numerically singular: {n - rho} singular value(s) below tol*||c|| "
                    f"(smallest {float(sv[-1] / norm_c):.1e} relative, tol {tol:g})"
                )
            if rho == n:
                if not sv:
                    sv = _svd(_toeplitz_block(cs, m, n), n + 1)[0]
                sigma = tuple(float(s / norm_c) for s in sv)
                break
            new_m = max(m - (n - rho), 0)
            reasons.append(
                f"[{m},{n}]: the Toeplitz block of the Padé conditions is {how}, so the "
                f"classical system has no unique solution; lowered to [{new_m},{rho}]"
            )
            m, n = new_m, rho
        if n == 0:
            b: list[Number] = [Fraction(1)]
            solve = "none needed (type [m,0]: Q = 1)"
        elif block_exact:
            b = list(null)
            solve = "exact rational null vector of the Toeplitz block"
        else:
            # scaled null vector -> unscaled coefficients b_j = b~_j / gamma^j
            b = [null[j] / gamma**j for j in range(n + 1)]
            solve = f"SVD null vector of the Toeplitz block at {dps} digits"
        a = [
            sum((c[k - j] * b[j] for j in range(min(k, n) + 1)), Fraction(0)) for k in range(m + 1)
        ]
        mu0, nu0 = m, n
        # size measures in the scaled variable, for the tolerance decisions on inexact data
        bs = [to_mpf(b[j]) * gamma**j for j in range(len(b))]
        nb = mp.sqrt(sum(v * v for v in bs))

        def tiny_b(j: int) -> bool:
            return b[j] == 0 if is_exact(b[j]) else abs(bs[j]) <= tol * nb

        def tiny_a(k: int) -> bool:
            if is_exact(a[k]):
                return a[k] == 0
            return abs(to_mpf(a[k]) * gamma**k) <= thresh * nb

        lead = 0
        while lead < len(b) - 1 and tiny_b(lead):
            lead += 1
        if lead:
            factor = "x" if lead == 1 else f"x^{lead}"
            reasons.append(
                f"[{mu0},{nu0}]: numerator and denominator share the factor {factor} (the "
                f"classical system with b_0 = 1 is singular); it is cancelled"
            )
            b, bs, a = b[lead:], bs[lead:], a[lead:]
        trimmed_exact = True
        while len(b) > 1 and tiny_b(len(b) - 1):
            trimmed_exact &= is_exact(b.pop())
            bs.pop()
        while len(a) > 1 and tiny_a(len(a) - 1):
            trimmed_exact &= is_exact(a.pop())
        if not a or all(v == 0 for v in a):
            a = [Fraction(0)]
        mu, nu = len(a) - 1, len(b) - 1
        if (mu, nu) != (mu0 - lead, nu0 - lead):
            parts = []
            if mu < mu0 - lead:
                parts.append("numerator's " + _powers(mu + 1, mu0 - lead))
            if nu < nu0 - lead:
                parts.append("denominator's " + _powers(nu + 1, nu0 - lead))
            reasons.append(
                f"[{mu0 - lead},{nu0 - lead}]: the "
                + " and the ".join(parts)
                + f"{'' if trimmed_exact else ' (to tolerance)'}; the approximant has "
                f"type [{mu},{nu}]"
            )
        b0 = b[0]
        a = [v / b0 for v in a]
        b = [v / b0 for v in b]
        a = [v if is_exact(v) else +v for v in a]
        b = [v if is_exact(v) else +v for v in b]
    return PadeResult(tuple(a), tuple(b), requested, (mu, nu), tuple(reasons), solve, sigma)


def _powers(lo: int, hi: int) -> str:
    if lo == hi:
        return f"coefficient of x^{lo} vanishes"
    return f"coefficients of x^{lo}..x^{hi} vanish"
