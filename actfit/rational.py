"""The rational function type every fitter returns: coefficients plus their denominator form.

A :class:`Rational` is ``P(x) / Q(x)`` with ascending monomial coefficients
``P(x) = a0 + a1 x + ... + am x^m`` and denominator coefficients ``b1..bn`` whose meaning depends on
the *form* (see docs/architecture.md and the README):

========  ==================================  =========================================
form      Q(x)                                also known as
========  ==================================  =========================================
plain     ``1 + b1 x + ... + bn x^n``         "version N"; the classical Padé form
safe      ``1 + |b1||x| + ... + |bn||x|^n``   PAU / rational_activations "version A"
abs       ``1 + |b1 x + ... + bn x^n|``       "version B" (KAT)
========  ==================================  =========================================

``safe`` and ``abs`` are >= 1 everywhere; ``plain`` can vanish and must be checked
(:meth:`Rational.real_poles`, :mod:`actfit.approx.poles`).

One more form exists only to *read* other projects' tables: ``abs_offset`` (alias ``C``),
rational_activations' "version C", ``Q(x) = 0.1 + |b0 + b1 x + ... + bn x^n|``, whose denominator
array holds ``b0..bn`` (no implied constant; ``Q >= 0.1``). The fitters refuse it
(:func:`require_fit_form`).

Evaluation stays finite for huge ``|x|``: for ``|x| > 1`` both polynomials are evaluated in
``t = 1/x`` (reversed coefficients) and the power ``x^(m-n)`` is applied last, so ``x = 1e200``
gives the true value (or a true overflow), never ``inf/inf``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from actfit.errors import FormError
from actfit.roots import real_roots

__all__ = [
    "FORMS",
    "OFFSET_C",
    "READ_FORMS",
    "Form",
    "Rational",
    "ReadForm",
    "normalize_form",
    "require_fit_form",
]

Form = Literal["plain", "safe", "abs"]
ReadForm = Literal["plain", "safe", "abs", "abs_offset"]
FORMS: tuple[Form, ...] = ("plain", "safe", "abs")
READ_FORMS: tuple[ReadForm, ...] = ("plain", "safe", "abs", "abs_offset")
OFFSET_C = 0.1
"""The constant of form ``abs_offset``: rational_activations' version C, ``0.1 + |S(x)|``."""

_ALIASES: dict[str, ReadForm] = {
    "plain": "plain",
    "n": "plain",
    "safe": "safe",
    "a": "safe",
    "abs": "abs",
    "b": "abs",
    "abs_offset": "abs_offset",
    "c": "abs_offset",
}


def normalize_form(form: str) -> ReadForm:
    """Return the canonical form name for ``form`` (``plain``, ``safe``, ``abs``, ``abs_offset``
    or the aliases N, A, B, C).

    Raises:
        FormError: the name is not a known denominator form.

    Examples:
        >>> normalize_form("A")
        'safe'
    """
    key = str(form).strip().lower()
    if key not in _ALIASES:
        raise FormError(
            f"unknown denominator form {form!r}; use plain, safe or abs (aliases N, A, B), "
            "or abs_offset (alias C) to read rational_activations' version C"
        )
    return _ALIASES[key]


def require_fit_form(form: str) -> Form:
    """Return the canonical name of a form the fitters can produce (``plain``, ``safe``, ``abs``).

    Raises:
        FormError: unknown form, or ``abs_offset`` (version C), which is only for reading.

    Examples:
        >>> require_fit_form("B")
        'abs'
    """
    name = normalize_form(form)
    if name == "abs_offset":
        raise FormError(
            "form C (0.1 + |...|) is only for reading other projects' tables; "
            "fit with plain, safe or abs"
        )
    return name


def _as_coefficients(values: Iterable[float] | ArrayLike, what: str) -> NDArray[np.float64]:
    arr = np.array(values, dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{what} coefficients must be finite, got {arr.tolist()}")
    arr.setflags(write=False)
    return arr


def _horner(coeffs: NDArray[np.float64], x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Evaluate ``sum(coeffs[k] * x**k)`` by Horner's rule (ascending coefficients)."""
    out = np.zeros_like(x)
    for c in coeffs[::-1]:
        out = out * x + c
    return out


def _times_power(
    v: NDArray[np.float64], x: NDArray[np.float64], t: NDArray[np.float64], k: int
) -> NDArray[np.float64]:
    """Return ``v * x**k`` for ``|x| > 1`` (``t = 1/x``) one factor at a time.

    Each factor moves ``|v|`` monotonically (up by ``|x|`` for ``k > 0``, down by ``|t|``
    otherwise), so an intermediate overflows or underflows only if the result does; a separate
    ``x**k`` would overflow where ``v * x**k`` is finite (a tiny leading coefficient).
    """
    factor = x if k > 0 else t
    for _ in range(abs(k)):
        v = v * factor
    return v


class Rational:
    """A real rational function ``P(x)/Q(x)`` in one of the denominator forms.

    Args:
        numerator: ``a0..am``, ascending.
        denominator: ``b1..bn``, ascending; the constant term of ``Q`` is 1 and implied.
            For ``abs_offset`` (version C) it is ``b0..bn``, with no implied constant.
        form: ``plain``, ``safe`` or ``abs`` (aliases N, A, B), or ``abs_offset`` (C).

    Examples:
        >>> r = Rational([0.0, 1.0], [0.0, 1.0], form="plain")   # x / (1 + x^2)
        >>> float(r(1.0))
        0.5
    """

    __slots__ = ("_den", "_form", "_num")

    def __init__(
        self,
        numerator: ArrayLike,
        denominator: ArrayLike = (),
        form: str = "safe",
    ) -> None:
        num = _as_coefficients(numerator, "numerator")
        if num.size == 0:
            raise ValueError("the numerator needs at least one coefficient (a0)")
        self._num = num
        self._den = _as_coefficients(denominator, "denominator")
        self._form: ReadForm = normalize_form(form)
        if self._form == "abs_offset" and self._den.size == 0:
            raise ValueError("form abs_offset (C) needs at least the denominator's b0")

    # -- basic properties -------------------------------------------------------------------
    @property
    def numerator(self) -> NDArray[np.float64]:
        """Numerator coefficients ``a0..am`` (read-only array)."""
        return self._num

    @property
    def denominator(self) -> NDArray[np.float64]:
        """Denominator coefficients ``b1..bn`` (read-only array; the constant 1 is implied);
        ``b0..bn`` for ``abs_offset``."""
        return self._den

    @property
    def form(self) -> ReadForm:
        """The denominator form: ``plain``, ``safe``, ``abs`` (or ``abs_offset``, read only)."""
        return self._form

    @property
    def degree(self) -> tuple[int, int]:
        """The nominal type ``(m, n)``: numbers of coefficients minus one, and ``len(b)``
        (``len(b) - 1`` for ``abs_offset``, whose array holds ``b0..bn``)."""
        if self._form == "abs_offset":
            return self._num.size - 1, self._den.size - 1
        return self._num.size - 1, self._den.size

    def __repr__(self) -> str:
        return (
            f"Rational(numerator={self._num.tolist()}, denominator={self._den.tolist()}, "
            f"form={self._form!r})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Rational):
            return NotImplemented
        return (
            self._form == other._form
            and np.array_equal(self._num, other._num)
            and np.array_equal(self._den, other._den)
        )

    def __hash__(self) -> int:
        return hash((self._form, self._num.tobytes(), self._den.tobytes()))

    def with_form(self, form: str) -> Rational:
        """Return the same coefficients read in another denominator form."""
        return Rational(self._num, self._den, form)

    def denominator_polynomial(self) -> NDArray[np.float64]:
        """Return ``[1, b1, ..., bn]``: the plain-form ``Q`` as ascending monomial coefficients.

        For ``abs_offset`` it is ``[b0, ..., bn]``, the polynomial inside ``0.1 + |...|``.
        """
        if self._form == "abs_offset":
            return self._den.copy()
        return np.concatenate(([1.0], self._den))

    def kinks(self, a: float, b: float) -> tuple[float, ...]:
        """Return the points of ``(a, b)`` where ``Q`` (hence ``P/Q``) is not smooth.

        ``safe``: ``x = 0`` (``|x|^k``) when some ``b_k`` with ``k >= 1`` is non-zero; ``abs`` and
        ``abs_offset``: the real zeros of ``S`` inside the range, where ``|S|`` has a corner
        (isolated exactly, :func:`actfit.roots.real_roots`); ``plain``: none. Quadrature and
        maximum searches split there.
        """
        if self._form == "safe":
            return (0.0,) if a < 0.0 < b and np.any(self._den != 0) else ()
        if self._form == "plain":
            return ()
        s = self._den.copy() if self._form == "abs_offset" else np.concatenate(([0.0], self._den))
        if not np.any(s[1:] != 0):
            return ()
        return tuple(float(r) for r in real_roots(s) if a < r < b)

    # -- evaluation ----------------------------------------------------------------------------
    def _trimmed(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Numerator and full denominator ``[1, b...]`` without exact trailing zeros."""
        num = np.trim_zeros(self._num, "b")
        if num.size == 0:
            num = np.zeros(1)
        den = np.trim_zeros(self.denominator_polynomial(), "b")
        if den.size == 0:  # abs_offset with S = 0: Q is the constant 0.1
            den = np.zeros(1)
        return num, den

    def numerator_at(self, x: ArrayLike) -> NDArray[np.float64]:
        """Return ``P(x)`` (direct Horner evaluation)."""
        return _horner(self._num, np.asarray(x, dtype=np.float64))

    def denominator_at(self, x: ArrayLike) -> NDArray[np.float64]:
        """Return ``Q(x)`` in this rational's form (direct evaluation)."""
        x = np.asarray(x, dtype=np.float64)
        full = self.denominator_polynomial()
        if self._form == "plain":
            return _horner(full, x)
        if self._form == "safe":
            return _horner(np.abs(full), np.abs(x))
        if self._form == "abs_offset":
            return OFFSET_C + np.abs(_horner(full, x))
        s = _horner(np.concatenate(([0.0], self._den)), x)
        return 1.0 + np.abs(s)

    def __call__(self, x: ArrayLike) -> NDArray[np.float64]:
        """Return ``P(x)/Q(x)``, vectorised, finite wherever the true value is finite."""
        x = np.asarray(x, dtype=np.float64)
        num, den = self._trimmed()
        m, n = num.size - 1, den.size - 1
        out = np.empty_like(x)
        small = np.abs(x) <= 1.0
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            xs = x[small]
            out[small] = _horner(num, xs) / self.denominator_at(xs)
            xb = x[~small]
            t = 1.0 / xb
            p_t = _horner(num[::-1], t)  # P(x) / x^m
            if self._form == "plain":
                q_t = _horner(den[::-1], t)  # Q(x) / x^n
                out[~small] = _times_power(p_t / q_t, xb, t, m - n)
            else:
                if self._form == "safe":
                    q_t = _horner(np.abs(den[::-1]), np.abs(t))  # Q(x) / |x|^n
                elif self._form == "abs_offset":
                    q_t = OFFSET_C * np.abs(t) ** n + np.abs(_horner(den[::-1], t))
                else:
                    s_t = _horner(np.concatenate((den[1:][::-1], [0.0])), t)  # S(x) / x^n
                    q_t = np.abs(t) ** n + np.abs(s_t)
                # x^m / |x|^n = x^(m-n) * sign(x)^n
                out[~small] = _times_power(p_t / q_t * np.sign(xb) ** n, xb, t, m - n)
        return out

    def deriv(self, x: ArrayLike) -> NDArray[np.float64]:
        """Return the derivative ``d/dx P(x)/Q(x)``, i.e. ``(P' - r Q') / Q``.

        For ``abs`` the derivative of ``|S|`` at a sign change of ``S`` is taken as 0.
        """
        x = np.asarray(x, dtype=np.float64)
        num, _ = self._trimmed()
        r = self(x)
        dp_coef = np.polynomial.polynomial.polyder(num) if num.size > 1 else np.zeros(1)
        q = self.denominator_at(x)
        dq = self._denominator_deriv(x)
        with np.errstate(over="ignore", invalid="ignore"):
            return (_horner(dp_coef, x) - r * dq) / q

    def _denominator_deriv(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        full = self.denominator_polynomial()
        if full.size == 1:
            return np.zeros_like(x)
        if self._form == "plain":
            return _horner(np.polynomial.polynomial.polyder(full), x)
        if self._form == "safe":
            d = np.polynomial.polynomial.polyder(np.abs(full))
            return _horner(d, np.abs(x)) * np.sign(x)
        if self._form == "abs_offset":
            return np.sign(_horner(full, x)) * _horner(np.polynomial.polynomial.polyder(full), x)
        s_coef = np.concatenate(([0.0], self._den))
        s = _horner(s_coef, x)
        return np.sign(s) * _horner(np.polynomial.polynomial.polyder(s_coef), x)

    def coefficient_gradients(
        self, x: ArrayLike
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Return ``(dr/da, dr/db)`` with shapes ``x.shape + (m+1,)`` and ``x.shape + (n,)``.

        ``dr/da_k = x^k / Q``; ``dr/db_k = -r * dQ/db_k / Q`` with ``dQ/db_k`` equal to ``x^k``
        (plain), ``sign(b_k) |x|^k`` (safe; ``+|x|^k`` at ``b_k = 0``, the subgradient the runtime
        uses so that exact zeros can train) or ``sign(S(x)) x^k`` (abs, and abs_offset, whose
        ``k`` runs from 0 and whose second array has ``n + 1`` columns).
        """
        x = np.asarray(x, dtype=np.float64)
        m, n = self.degree
        q = self.denominator_at(x)[..., None]
        r = self(x)[..., None]
        xe = x[..., None]
        da = xe ** np.arange(m + 1) / q
        k = np.arange(1, n + 1)
        if self._form == "abs_offset":
            s = _horner(self._den, x)[..., None]
            dq = np.sign(s) * xe ** np.arange(n + 1)
        elif self._form == "plain":
            dq = xe**k
        elif self._form == "safe":
            # d|b|/db := +1 at b = 0 (also -0.0), the runtime's subgradient convention, so that
            # an exact zero coefficient can train (actfit/runtime/csrc/rational.h, finish_b).
            dq = np.where(self._den < 0, -1.0, 1.0) * np.abs(xe) ** k
        else:
            s = _horner(np.concatenate(([0.0], self._den)), x)[..., None]
            dq = np.sign(s) * xe**k
        return da, -r * dq / q

    def real_poles(self) -> NDArray[np.float64]:
        """Return the sorted real zeros of ``Q`` (always empty for ``safe``, ``abs`` and
        ``abs_offset``, whose ``Q`` is >= 1, resp. >= 0.1).

        Zeros are isolated exactly (certified enclosures on the exact binary values of the
        coefficients; see :func:`actfit.roots.real_roots`), so none is missed.
        """
        if self._form != "plain":
            return np.zeros(0)
        return real_roots(self.denominator_polynomial())
