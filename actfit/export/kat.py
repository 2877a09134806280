"""KAT's table files (``init.json``): writing them from safe-form fits, diagnosing what is read.

KAT (Yang & Wang 2024, "Kolmogorov-Arnold Transformer"; github.com/Adamdad/rational_kat_cu)
initialises its group-rational layers from ``kat_rational/init.json``, one object per activation::

    {"gelu": {"init_w_numerator": [a0, ..., a5], "init_w_denominator": [b1, ..., b4],
              "ub": 3, "lb": -3}, ...}

(layout as in ``kat_rational/init.json`` of Adamdad/rational_kat_cu, commit 50eaff7). The file
does not say the denominator form, and KAT evaluates three: its CUDA/Triton kernels
``1 + Σ|b_k||x|^k`` (actfit's ``safe``), its fitting script fits ``1 + |Σ b_k x^k|`` (``abs``),
and its CPU fallback evaluates ``1 + Σ|b_k| x^k``, which falls below 1 for ``x < 0`` and can
vanish. :func:`to_kat` therefore writes only safe-form fits (what the kernels evaluate), and
:func:`kat_diagnosis` says, for a table read from such a file, which form it was evidently fitted
in and where the CPU fallback has poles.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from actfit.approx.metrics import max_error
from actfit.errors import FormError
from actfit.export.names import activation_name
from actfit.rational import Rational
from actfit.roots import real_roots

if TYPE_CHECKING:
    from actfit.fit import Fit
    from actfit.targets import Target

__all__ = ["KAT_FORM", "kat_diagnosis", "to_kat"]

KAT_FORM = "safe"
"""The form KAT's CUDA/Triton kernels evaluate, the only one :func:`to_kat` writes."""


def to_kat(fits: Sequence[Fit]) -> dict[str, Any]:
    """Gives KAT's ``init.json`` structure for ``fits``: ``{name: {init_w_numerator,
    init_w_denominator, ub, lb}}``, names from :func:`actfit.export.names.activation_name`
    (a name used twice gets ``#2``, ``#3``).

    Raises:
        FormError: a fit that is not in form safe (KAT's kernels would evaluate it wrongly).
    """
    out: dict[str, Any] = {}
    for fit in fits:
        if fit.form != KAT_FORM:
            raise FormError(
                f"KAT's kernels evaluate form safe, but the {_describe(fit)} fit is form "
                f"{fit.form}; fit it with form safe to write a KAT file"
            )
        name = base = activation_name(fit.target)
        k = 2
        while name in out:
            name, k = f"{base}#{k}", k + 1
        out[name] = {
            "init_w_numerator": fit.rational.numerator.tolist(),
            "init_w_denominator": fit.rational.denominator.tolist(),
            "ub": fit.range[1],
            "lb": fit.range[0],
        }
    return out


def _describe(fit: Fit) -> str:
    m, n = fit.order
    return f"{activation_name(fit.target)} [{m},{n}]"


_KAT_FORMS = ("safe", "abs", "plain")


def kat_diagnosis(
    numerator: Sequence[float],
    denominator: Sequence[float],
    target: Target,
    range: tuple[float, float],
) -> dict[str, Any]:
    """Say which form a KAT table was evidently fitted in, and whether KAT's CPU fallback is
    safe for it.

    KAT's CUDA/Triton kernels evaluate ``1 + Σ|b_k||x|^k`` (``safe``), its fitting script fits
    ``1 + |Σ b_k x^k|`` (``abs``), and its CPU fallback evaluates ``1 + Σ|b_k| x^k``, which falls
    below 1 for negative ``x`` and can vanish. The evident form is the one of safe, abs and
    plain whose max error on the range is smallest (a plain reading with a pole on the range is
    left out); the fallback's real zeros are isolated exactly
    (:func:`actfit.roots.real_roots` on ``[1, |b1|, ..., |bn|]``).

    Returns:
        ``evident_form``, ``errors`` (max abs error per form, ``inf`` with a pole on the range),
        ``cpu_fallback_zeros`` (the real zeros of ``1 + Σ|b_k| x^k``) and ``warnings``.
    """
    a, b = range
    errors: dict[str, float] = {}
    for form in _KAT_FORMS:
        r = Rational(numerator, denominator, form)
        if any(a <= p <= b for p in r.real_poles()):
            errors[form] = math.inf
            continue
        with np.errstate(all="ignore"):
            err, _ = max_error(lambda x, r=r: r(x) - target(x), a, b, target.kinks, refine=2)
        errors[form] = err if math.isfinite(err) else math.inf
    # Forms whose readings agree to rounding (S of one sign almost everywhere) are a tie,
    # settled in the order safe, abs, plain (KAT's kernels, then KAT's fitting script).
    best = min(errors.values())
    evident = next(f for f in _KAT_FORMS if errors[f] <= best * (1.0 + 1e-6) + 1e-15)
    fallback = [1.0, *(abs(float(v)) for v in denominator)]
    zeros = [float(z) for z in real_roots(fallback)] if len(fallback) > 1 else []
    others = ", ".join(f"{f} {errors[f]:.3e}" for f in _KAT_FORMS if f != evident)
    warnings = [
        f"evidently fitted in form {evident} (max error {errors[evident]:.3e} on "
        f"[{a:g}, {b:g}]; read as {others}); KAT's CUDA/Triton kernels evaluate form safe"
    ]
    if zeros:
        where = ", ".join(f"{z:.9g}" for z in zeros)
        warnings.append(
            f"KAT's CPU fallback 1 + Σ|b_k| x^k is not pole-free: for this table it vanishes at "
            f"x = {where}; run it with KAT's GPU kernels (or actfit's runtime) only"
        )
    else:
        warnings.append(
            "KAT's CPU fallback 1 + Σ|b_k| x^k is not pole-free in general (it falls below 1 "
            "for x < 0); for this table it has no real zero, but it is not the form the "
            "kernels evaluate"
        )
    return {
        "evident_form": evident,
        "errors": errors,
        "cpu_fallback_zeros": zeros,
        "warnings": warnings,
    }


