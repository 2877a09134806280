"""Kinked targets at high degree: the barycentric minimax fit, certified against 40-digit mpmath.

relu [10,10] on [-1,1] has poles clustered toward the kink (the Chebyshev basis could not
represent its optimum at [12,12]); the fit must be certified ``global`` with a gap below 1e-6,
and an independent 40-digit computation must agree: the errors of the stored table at the
certificate's points, evaluated in mpmath, alternate and are >= the claimed lower bound, and
the levelled solution at those points (Newton in 50 digits on ``f Q - P = ±E Q``, monomial
basis, its own code) gives ``|E|``, itself a de la Vallée Poussin lower bound, between the
certificate's bounds. The barycentric representation's pieces are checked on their own:
bounded rows, Berrut's pole-free start, and the exact conversion to monomials. |x| at [12,12]
(the even reduction, in s = x^2) must match baryrat's BRASIL on sqrt(s) [6,6].
"""

from __future__ import annotations

import itertools

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actfit.approx.barycentric import basis, denominator_basis, support_points, to_monomial
from actfit.approx.minimax import fit_minimax
from actfit.rational import Rational
from actfit.targets import get_target

# Stahl's bracket for relu = x/2 + |x|/2 of type [2k, 2k] on [-1, 1]: the error lies between
# E_{2k,2k}(|x|)/2 and E_{2k,2k-2}(|x|)/2 (x/2 + an even [2k, 2k-2] rational is of type
# [2k, 2k]; r - x/2 of type [2k+1, 2k] approximates |x|/2, and the best such is even). The
# |x| values are E_{k,k}(sqrt), E_{k,k-1}(sqrt) on [0, 1] from baryrat's BRASIL (converged,
# tol 1e-8; an independent code): E_{5,5} = 2.68957e-4 and E_{5,4} = 4.39366e-4.
_ABS_10_10 = 2.689570615919755e-4
_ABS_10_8 = 4.39365724723422e-4


def _relu(x: mpmath.mpf) -> mpmath.mpf:
    return x if x > 0 else mpmath.mpf(0)


def _levelled(points, num, den, e0):
    """Newton in 50 digits on ``f(x_i) Q(x_i) - P(x_i) = s_i E Q(x_i)``, ``Q(0) = 1``: the
    levelled error ``E`` at the reference ``points`` and the levelled ``Q``'s coefficients."""
    with mpmath.workdps(50):
        xs = [mpmath.mpf(float(v)) for v in points]
        m, n = len(num) - 1, len(den)
        s = [(-1) ** i for i in range(len(xs))]
        z = [mpmath.mpf(float(c)) for c in num] + [mpmath.mpf(float(c)) for c in den]
        z.append(mpmath.mpf(e0))
        for _ in range(30):
            p, q, e = z[: m + 1], [mpmath.mpf(1), *z[m + 1 : m + 1 + n]], z[-1]
            jac = mpmath.matrix(len(xs), len(z))
            res = mpmath.matrix(len(xs), 1)
            for i, x in enumerate(xs):
                f = _relu(x)
                pv = mpmath.polyval(p[::-1], x)
                qv = mpmath.polyval(q[::-1], x)
                res[i] = f * qv - pv - s[i] * e * qv
                for k in range(m + 1):
                    jac[i, k] = -(x**k)
                for k in range(1, n + 1):
                    jac[i, m + k] = (f - s[i] * e) * x**k
                jac[i, len(z) - 1] = -s[i] * qv
            step = mpmath.lu_solve(jac, -res)
            z = [zi + dz for zi, dz in zip(z, step, strict=True)]
            if mpmath.norm(step) <= mpmath.mpf(10) ** -40 * (1 + mpmath.norm(mpmath.matrix(z))):
                break
        return z[-1], [mpmath.mpf(1), *z[m + 1 : m + 1 + n]]


@pytest.fixture(scope="module")
def relu_10_10():
    return fit_minimax("relu", (10, 10), (-1.0, 1.0), form="plain", allow_poles=True)


def test_relu_10_10_is_certified_against_mpmath(relu_10_10) -> None:
    fit = relu_10_10
    cert = fit.certificate
    assert cert.status == "global"
    assert cert.gap is not None and cert.gap <= 1e-6
    assert len(cert.points) >= 22
    # Stahl's bracket (see above), from BRASIL's |x| value: a fit far from the optimum (the
    # Chebyshev basis gave 2.4e-4 for the even [12,12] problem) fails it.
    assert 0.5 * _ABS_10_10 <= cert.lower <= cert.upper <= 0.5 * _ABS_10_8
    num, den = np.asarray(fit.rational.numerator), np.asarray(fit.rational.denominator)
    # 40 digits on the stored binary coefficients: the errors alternate and reach the bound.
    with mpmath.workdps(40):
        p = [mpmath.mpf(float(c)) for c in num][::-1]
        q = ([mpmath.mpf(1)] + [mpmath.mpf(float(c)) for c in den])[::-1]
        errs = [_relu(mpmath.mpf(x)) - mpmath.polyval(p, mpmath.mpf(x))
                / mpmath.polyval(q, mpmath.mpf(x)) for x in cert.points]
    signs = [mpmath.sign(e) for e in errs]
    assert all(a == -b for a, b in itertools.pairwise(signs))
    assert min(abs(float(e)) for e in errs) >= cert.lower
    assert max(abs(float(e)) for e in errs) <= cert.upper * (1 + 1e-12)
    # The levelled solution at the certificate's reference, in 50 digits.
    start = float(errs[0])
    e_lev, q_lev = _levelled(cert.points, num, den, start)
    xs = np.concatenate([np.linspace(-1.0, 1.0, 401), np.geomspace(1e-9, 1.0, 200),
                         -np.geomspace(1e-9, 1.0, 200)])
    with mpmath.workdps(50):
        assert min(mpmath.polyval(q_lev[::-1], mpmath.mpf(float(x))) for x in xs) > 0
    lev = abs(float(e_lev))
    assert cert.lower * (1 - 1e-9) <= lev <= cert.upper * (1 + 1e-9)
    assert abs(lev - cert.upper) <= 1e-6 * cert.upper


def test_relu_error_scales_with_the_range(relu_10_10) -> None:
    """relu(c x) = c relu(x): the best error on [-c, c] is c times that on [-1, 1], a check that
    involves neither the same grid nor the same support points."""
    one = relu_10_10
    eight = fit_minimax("relu", (10, 10), (-8.0, 8.0), form="plain", allow_poles=True)
    assert eight.certificate.status == "global"
    assert abs(eight.certificate.upper - 8.0 * one.certificate.upper) <= (
        1e-6 * eight.certificate.upper
    )


# E_{6,6}(sqrt(s), [0, 1]) = E_{12,12}(|x|, [-1, 1]) by baryrat's BRASIL (converged, tol 1e-8,
# its error measured on 200001 geometric points): an independent code and representation.
_ABS_12_12 = 1.0747116288614087e-4


def test_abs_12_12_matches_brasil() -> None:
    """The even reduction in s = x^2 with the barycentric basis: |x| at [12,12], where the
    Chebyshev basis stopped at 2.41e-4 ("local")."""
    fit = fit_minimax("abs", (12, 12), (-1.0, 1.0), form="plain", allow_poles=True)
    cert = fit.certificate
    assert cert.status == "global" and cert.gap is not None and cert.gap <= 1e-6
    assert cert.lower <= _ABS_12_12 * (1 + 1e-6)
    assert abs(cert.upper - _ABS_12_12) <= 1e-6 * _ABS_12_12


_SUPPORT = st.lists(st.floats(-1.0, 1.0, allow_nan=False), min_size=3, max_size=9, unique=True)


@settings(max_examples=30, deadline=None)
@given(_SUPPORT, st.data())
def test_basis_rows_are_bounded_and_berrut_is_pole_free(z, data) -> None:
    z = np.sort(np.asarray(z))
    if np.min(np.diff(z)) < 1e-6:
        return
    x = np.asarray(data.draw(st.lists(st.floats(-1.0, 1.0, allow_nan=False), min_size=1,
                                      max_size=20)))
    x = np.concatenate([x, z])  # support points themselves: unit rows
    b = basis(x, z)
    assert np.allclose(np.sum(np.abs(b), axis=1), 1.0)
    assert np.all(b @ np.ones(z.size) > 0)  # Berrut (1988): equal b_j, no real pole
    g = np.full(z.size, 1.0 / z.size)
    g[0] = 1.0
    assert np.allclose(denominator_basis(x, z) @ g, b @ np.full(z.size, 1.0 / z.size))


@settings(max_examples=30, deadline=None)
@given(_SUPPORT, st.data())
def test_to_monomial_is_the_barycentric_rational(z, data) -> None:
    z = np.sort(np.asarray(z))
    if np.min(np.diff(z)) < 1e-3:
        return
    k = z.size
    a = np.asarray(data.draw(st.lists(st.floats(-2.0, 2.0), min_size=k, max_size=k)))
    b = np.asarray(data.draw(st.lists(st.floats(0.05, 1.0), min_size=k, max_size=k)))
    b = b / b.sum()
    gamma = b.copy()
    gamma[0] = 1.0
    num, den = to_monomial(z, a, gamma)
    r = Rational(num, den, "plain")
    x = np.linspace(-1.0, 1.0, 7) + 1e-3 / 7
    bx = basis(x, z)
    want = (bx @ a) / (bx @ b)
    assert np.allclose(r(x), want, rtol=1e-9, atol=1e-9 * np.max(np.abs(want)))


def test_support_points_grade_toward_the_kink() -> None:
    grid = np.union1d(np.linspace(-3.0, 3.0, 601), 3.0 * np.geomspace(1e-4, 1.0, 50))
    grid = np.union1d(grid, -grid)
    z = support_points(-3.0, 3.0, get_target("relu").kinks, 13, grid)
    assert z.size == 13 and z[0] == -3.0 and z[-1] == 3.0
    assert np.min(np.abs(z)) <= 1e-2  # graded toward 0, not Chebyshev (min |z| = 0.39 there)
