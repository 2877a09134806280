"""Where an expression in ``x`` is not analytic: a best-effort search for its kinks.

The candidates are read off the sympy tree: the real zeros of the arguments of ``Abs``,
``sign``, ``Heaviside``, of the differences of ``Max``/``Min`` arguments and of ``Piecewise``
conditions (odd-multiplicity zeros only: a tangential zero of ``|u|`` is no kink), and of the
bases of non-integer or negative powers, ``log`` arguments and the branch points of
``atanh``/``asin``/``acos``/``acosh``. Polynomial candidates are solved exactly (sympy's
``real_roots``, an exact real-root isolation); others are scanned on
[-1e8, 1e8] for sign changes and refined with scipy's ``brentq`` (Brent (1973), "Algorithms for
Minimization without Derivatives", ch. 4).

Examples:
    >>> import sympy
    >>> from actfit.targets.types import symbol
    >>> x = symbol()
    >>> _expression_kinks(sympy.Abs(x**2 - 4), x)
    (-2.0, 2.0)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__: list[str] = []

_MAX_KINKS = 200


def _expression_kinks(expr: Any, x: Any) -> tuple[float, ...]:
    """Return the points where ``expr`` is (probably) not analytic; see parse_expression."""
    import sympy as sp

    candidates: list[tuple[Any, bool]] = []  # (u, only sign changes count)
    for node in sp.preorder_traversal(expr):
        if isinstance(node, (sp.Abs, sp.sign, sp.Heaviside)):
            candidates.append((node.args[0], True))
        elif isinstance(node, (sp.Max, sp.Min)):
            args = node.args
            for i in range(len(args)):
                for j in range(i + 1, len(args)):
                    candidates.append((args[i] - args[j], True))
        elif isinstance(node, sp.Piecewise):
            for _, cond in node.args:
                for rel in cond.atoms(sp.core.relational.Relational):
                    candidates.append((rel.lhs - rel.rhs, True))
        elif isinstance(node, sp.Pow):
            base, exponent = node.args
            if not (exponent.is_Integer and exponent >= 0):
                candidates.append((base, False))
        elif isinstance(node, sp.log):
            candidates.append((node.args[0], False))
        elif isinstance(node, (sp.atanh, sp.asin, sp.acos)):
            candidates += [(node.args[0] - 1, False), (node.args[0] + 1, False)]
        elif isinstance(node, sp.acosh):
            candidates.append((node.args[0] - 1, False))
    zeros: set[float] = set()
    seen: set[Any] = set()
    for u, odd in candidates:
        if not u.has(x) or (u, odd) in seen:
            continue
        seen.add((u, odd))
        try:
            zeros.update(_real_zeros(u, x, odd))
        except Exception:  # best effort by contract
            continue
        if len(zeros) > _MAX_KINKS:
            break
    finite = sorted(z for z in zeros if math.isfinite(z))
    merged: list[float] = []
    for z in finite:
        if not merged or abs(z - merged[-1]) > 1e-12 * max(1.0, abs(z)):
            merged.append(z)
    return tuple(merged[:_MAX_KINKS])


def _real_zeros(u: Any, x: Any, odd: bool) -> list[float]:
    import sympy as sp

    if _degree_bound(u, x) <= 30 and u.is_polynomial(x):
        poly = sp.Poly(u, x)
        if poly.degree() <= 0:
            return []
        if poly.degree() <= 30 and (poly.domain.is_QQ or poly.domain.is_ZZ):
            pairs = sp.real_roots(poly, multiple=False)
            return [float(r) for r, m in pairs if not odd or m % 2 == 1]
        coeffs = [complex(c) for c in poly.all_coeffs()]
        roots = np.roots(coeffs)
        return [float(r.real) for r in roots if abs(r.imag) <= 1e-12 * max(1.0, abs(r))]
    return _scan_zeros(u, x)


def _degree_bound(u: Any, x: Any) -> float:
    """Return an upper bound of the polynomial degree of ``u`` without expanding it."""
    if not u.has(x):
        return 0
    if u == x:
        return 1
    if u.is_Add:
        return max(_degree_bound(a, x) for a in u.args)
    if u.is_Mul:
        return sum(_degree_bound(a, x) for a in u.args)
    if u.is_Pow and u.exp.is_Integer and u.exp >= 0:
        return int(u.exp) * _degree_bound(u.base, x)
    return math.inf


def _scan_zeros(u: Any, x: Any) -> list[float]:
    import sympy as sp
    from scipy.optimize import brentq

    f = sp.lambdify(x, u, modules=["scipy", "numpy"])
    inner = np.linspace(-100.0, 100.0, 40001)
    outer = np.logspace(2.0, 8.0, 601)[1:]
    grid = np.concatenate([-outer[::-1], inner, outer])
    with np.errstate(all="ignore"):
        vals = np.asarray(f(grid), dtype=np.float64) * np.ones_like(grid)

        def scalar(t: float) -> float:
            return float(np.asarray(f(np.float64(t)), dtype=np.float64))

        out = [float(t) for t in grid[vals == 0.0]]
        s = np.sign(vals)
        idx = np.nonzero(np.isfinite(vals[:-1]) & np.isfinite(vals[1:]) & (s[:-1] * s[1:] < 0))[0]
        for i in idx[: _MAX_KINKS + 1]:
            try:
                out.append(float(brentq(scalar, grid[i], grid[i + 1], xtol=1e-300, rtol=1e-15)))
            except (ValueError, RuntimeError):
                continue
    return out
