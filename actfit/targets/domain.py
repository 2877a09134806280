"""Where a target is finite: the check every fitter runs on its range first.

Examples:
    >>> from actfit.targets import parse_expression
    >>> check_finite(parse_expression("log(x)"), 0.5, 3.0)  # finite: returns None
"""

from __future__ import annotations

import math

import numpy as np

from actfit.errors import RangeError, TargetDomainError
from actfit.targets.constants import _num
from actfit.targets.types import Target

__all__ = ["check_finite"]


def check_finite(target: Target, a: float, b: float, n: int = 4097) -> None:
    """Raise if ``target`` is NaN or infinite anywhere on a dense grid of ``[a, b]``.

    The grid has ``n`` equispaced points plus the kinks inside the range.

    Raises:
        RangeError: ``a``, ``b`` not finite, or ``a >= b``.
        TargetDomainError: The target is not finite at some grid point (the message names one).
    """
    a, b = float(a), float(b)
    if not (math.isfinite(a) and math.isfinite(b)) or a >= b:
        raise RangeError(f"range [{_num(a)}, {_num(b)}] must be finite with a < b")
    grid = np.linspace(a, b, max(int(n), 2))
    inside = [k for k in target.kinks if a <= k <= b]
    grid = np.union1d(grid, np.asarray(inside, dtype=np.float64))
    vals = target(grid)
    bad = ~np.isfinite(vals)
    if bad.any():
        at = float(grid[np.argmax(bad)])
        raise TargetDomainError(
            f"target '{target.label}' is NaN or infinite on [{_num(a)}, {_num(b)}] (e.g. at "
            f"x = {_num(at) if abs(at) >= 1e-4 or at == 0 else f'{at:.6g}'}); choose a range "
            "where it is finite"
        )
