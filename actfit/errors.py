"""The exceptions actfit raises for errors a user can cause.

Every such error is an :class:`ActfitError` subclass whose message names the problem and the way
out. The command line turns it into one red line on stderr and exit code 2; anything else is a bug
and keeps its traceback.
"""

from __future__ import annotations

__all__ = [
    "ActfitError",
    "ExpressionError",
    "FileFormatError",
    "FitError",
    "FormError",
    "NotAnalyticError",
    "OrderError",
    "OutputPathError",
    "ParameterError",
    "PoleError",
    "RangeError",
    "TargetDomainError",
    "UnknownTargetError",
]


class ActfitError(Exception):
    """Base class of every error a user can cause; its message says what to do next."""


class UnknownTargetError(ActfitError):
    """The target name is neither in the registry nor a valid expression."""


class ParameterError(ActfitError):
    """An unknown target parameter, or a parameter value that is not allowed."""


class ExpressionError(ActfitError):
    """An expression in x that cannot be parsed safely (unknown names, Python syntax)."""


class TargetDomainError(ActfitError):
    """The target is NaN or infinite somewhere on the requested range."""


class OrderError(ActfitError):
    """A malformed, negative or too large order [m, n]."""


class RangeError(ActfitError):
    """A reversed, empty or non-finite fit range."""


class FormError(ActfitError):
    """An unknown denominator form, or a form the requested method cannot produce."""


class PoleError(ActfitError):
    """The fitted denominator vanishes on the range (use --allow-poles to keep it anyway)."""


class NotAnalyticError(ActfitError):
    """A series expansion was requested at a point where the target is not analytic."""


class FitError(ActfitError):
    """A fit could not be computed for the given inputs (the message says which to change)."""


class FileFormatError(ActfitError):
    """A coefficient file that is corrupt, inconsistent or of an unknown format."""


class OutputPathError(ActfitError):
    """An output path that cannot be written (missing folder, unknown suffix)."""
