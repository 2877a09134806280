"""Validation of the inputs every fitter shares: order [m, n], range [a, b], parameters.

The command line and the library call the same functions, so a bad order or range gets the same
message from ``actfit lsq --order 5,x`` and from ``fit_lsq(..., order=(5, -1))``.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Callable, Iterable, Sequence

from actfit.errors import OrderError, ParameterError, RangeError

__all__ = [
    "DEFAULT_ORDER",
    "DEFAULT_RANGE",
    "MAX_DEGREE",
    "MAX_RANGE_ABS",
    "MIN_RANGE_ULPS",
    "Progress",
    "as_range",
    "check_order",
    "check_range",
    "parse_order",
    "parse_params",
]

MAX_DEGREE = 12
"""The largest numerator or denominator degree a fitter accepts."""
DEFAULT_ORDER: tuple[int, int] = (5, 4)
"""The type [m, n] every fitter and command uses unless told otherwise."""
DEFAULT_RANGE: tuple[float, float] = (-3.0, 3.0)
"""The fit range every fitter and command uses unless told otherwise."""

MAX_RANGE_ABS = 1e10
"""The largest magnitude a fit range may reach (see :func:`check_range`)."""
MIN_RANGE_ULPS = 4096
"""The fewest floats a fit range must hold (see :func:`check_range`)."""

Progress = Callable[[str, float], None]
"""A progress callback shared by the fitters: ``progress(stage, fraction_done)``.

The library is silent without one; the command line draws a bar or prints a line from it."""
_ORDER_RE = re.compile(r"^\s*\[?\s*([+-]?\d+)\s*[,/ ]\s*([+-]?\d+)\s*\]?\s*$")


def _is_whole(v: object) -> bool:
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        return False
    return math.isfinite(v) and int(v) == v


def check_order(order: Sequence[int], max_degree: int = MAX_DEGREE) -> tuple[int, int]:
    """Return ``(m, n)`` after checking both degrees are whole numbers in ``0..max_degree``.

    Raises:
        OrderError: not two whole numbers, negative, or larger than ``max_degree``.
    """
    try:
        m, n = order
    except (TypeError, ValueError):
        raise OrderError(f"order {order!r} is not a pair [m, n]; e.g. --order 5,4") from None
    if not all(_is_whole(v) for v in (m, n)):
        raise OrderError(f"order {order!r} must hold whole numbers; e.g. --order 5,4")
    m, n = int(m), int(n)
    if m < 0 or n < 0:
        raise OrderError(f"order [{m},{n}] has a negative degree; degrees must be >= 0")
    if m > max_degree or n > max_degree:
        raise OrderError(
            f"order [{m},{n}] is too large: degrees up to {max_degree} are supported "
            "(higher degrees are numerically meaningless in float64 on this problem class)"
        )
    return m, n


def parse_order(text: str, max_degree: int = MAX_DEGREE) -> tuple[int, int]:
    """Return ``(m, n)`` from text such as ``"5,4"`` (also ``"5/4"``, ``"[5, 4]"``).

    Raises:
        OrderError: malformed text or degrees out of range (see :func:`check_order`).

    Examples:
        >>> parse_order("5,4")
        (5, 4)
    """
    match = _ORDER_RE.match(str(text))
    if not match:
        raise OrderError(
            f"order {text!r} is not M,N with whole numbers M and N; e.g. --order 5,4"
        )
    return check_order((int(match.group(1)), int(match.group(2))), max_degree)


def check_range(a: float, b: float) -> tuple[float, float]:
    """Return ``(a, b)`` as floats after checking ``a < b``, both finite and of sensible size.

    The ends are limited to ``|x| <= MAX_RANGE_ABS`` (1e10): the fitters form powers up to
    ``x^(2 * MAX_DEGREE)`` (squared basis functions), and ``1e10^24 = 1e240`` is the last
    decade that keeps them comfortably inside float64. The range must also hold more than a
    few thousand floats (``b - a >= MIN_RANGE_ULPS`` ulps of its larger end), or every fit on it is
    rounding noise.

    Raises:
        RangeError: non-finite, reversed, empty, too wide or too narrow a range.
    """
    try:
        a, b = float(a), float(b)
    except (TypeError, ValueError):
        raise RangeError(f"range [{a}, {b}] must be two numbers; e.g. range -3 3") from None
    if not (math.isfinite(a) and math.isfinite(b)):
        bad = ", ".join(f"{v}" for v in (a, b) if not math.isfinite(v))
        raise RangeError(
            f"range [{a:g}, {b:g}] must have finite ends (got {bad}); give two numbers, e.g. -3 3"
        )
    if a == b:
        raise RangeError(f"range [{a:g}, {b:g}] is empty; give two different ends, e.g. -3 3")
    if a > b:
        raise RangeError(f"range [{a:g}, {b:g}] is reversed; give it as {b:g} {a:g}")
    big = max(abs(a), abs(b))
    if big > MAX_RANGE_ABS:
        raise RangeError(
            f"range [{a:g}, {b:g}] reaches beyond +-{MAX_RANGE_ABS:g}, where the powers of a "
            "rational overflow float64; fit on a range such as -8 8 (the rational's tail "
            "covers larger inputs)"
        )
    if b - a < MIN_RANGE_ULPS * math.ulp(big):
        raise RangeError(
            f"range [{a!r}, {b!r}] holds fewer than {MIN_RANGE_ULPS} floats, too few for a fit; "
            "give a wider range"
        )
    return a, b


def as_range(rng: Sequence[float]) -> tuple[float, float]:
    """Return a library ``range=(a, b)`` argument as checked floats (see :func:`check_range`).

    Raises:
        RangeError: not a pair, or not a valid range.
    """
    try:
        a, b = rng
    except (TypeError, ValueError):
        raise RangeError(f"range {rng!r} is not a pair (a, b); e.g. range=(-3, 3)") from None
    return check_range(a, b)


def parse_params(items: Iterable[str]) -> dict[str, float]:
    """Return ``{name: value}`` from ``NAME=VALUE`` strings (the ``-p`` option).

    Raises:
        ParameterError: an item without ``=``, an empty name, a value that is not a number, or
            the same name twice.
    """
    out: dict[str, float] = {}
    for item in items:
        name, sep, value = str(item).partition("=")
        name = name.strip()
        if not sep or not name:
            raise ParameterError(f"parameter {item!r} is not NAME=VALUE; e.g. -p beta=1.5")
        try:
            number = float(value)
        except ValueError:
            raise ParameterError(
                f"parameter {name}={value!r} is not a number; e.g. -p {name}=0.5"
            ) from None
        if not math.isfinite(number):
            raise ParameterError(f"parameter {name}={value} must be finite")
        if name in out:
            raise ParameterError(f"parameter {name!r} is given twice; give it once")
        out[name] = number
    return out
