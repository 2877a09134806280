"""Pure-torch reference of the rational activation: the test oracle and the fallback.

It follows the math of ``csrc/rational.h`` (evaluation in t = 1/x for large |x|, with the
denominator trimmed to its effective degree) with ordinary torch operations, so autograd gives its
gradients and ``torch.compile`` can trace it (no data-dependent Python control flow). It switches
to the 1/x branch for |x| > 1, the compiled kernels only for |x| > thr = 2^floor(64 / max(m, n))
(faster for typical inputs); both branches are exact rewrites of P/Q, so the two agree to
rounding.
"""

from __future__ import annotations

import torch

__all__ = ["compute_dtype", "rational_reference"]


def compute_dtype(dtype: torch.dtype) -> torch.dtype:
    """Gives the dtype the coefficients and the arithmetic use for inputs of ``dtype``."""
    return torch.float64 if dtype == torch.float64 else torch.float32


def rational_reference(
    x: torch.Tensor, numerator: torch.Tensor, denominator: torch.Tensor, form: str = "safe"
) -> torch.Tensor:
    """Gives P(x)/Q(x) elementwise with torch operations (differentiable, compilable).

    Args:
        x: Input of any shape and floating dtype; half types are computed in float32. With
            per-group coefficients, shaped ``[..., G, L]``: row g applies to ``x[..., g, :]``.
        numerator: Coefficients a0..am (ascending), 1-D, or ``[G, m+1]`` per group.
        denominator: Coefficients b1..bn (ascending, the constant 1 implied), 1-D, or
            ``[G, n]`` per group.
        form: ``"plain"``, ``"safe"`` or ``"abs"``.

    Returns:
        A tensor shaped and typed like ``x``.

    Examples:
        >>> import torch
        >>> y = rational_reference(torch.tensor([0.5]), torch.tensor([0.0, 1.0]), torch.ones(1))
        >>> round(y.item(), 6)
        0.333333
    """
    ct = compute_dtype(x.dtype)
    xs = x.to(ct)
    a = numerator.to(ct)
    b = denominator.to(ct)
    if a.dim() == 2:
        # Coefficient k of every group as a [G, 1] column, broadcast over x's [..., G, L].
        a = a.T.unsqueeze(-1)
        b = b.T.unsqueeze(-1)
    m = a.shape[0] - 1
    n = b.shape[0]
    safe = form == "safe"
    absf = form == "abs"
    # |b| with the kernels' subgradient d|b|/db := +1 at b = 0 (csrc/rational.h, finish_b), not
    # torch.abs's 0: a table's exact zero coefficient can then train.
    bq = torch.where(b < 0, -b, b) if safe else b

    big = xs.abs() > 1
    xd = torch.where(big, torch.zeros_like(xs), xs)
    xb = torch.where(big, xs, torch.ones_like(xs))
    t = 1 / xb

    # |x| <= 1: direct Horner (the kernels use it up to thr, see the module docstring).
    p = a[m] * torch.ones_like(xd)
    for k in range(m - 1, -1, -1):
        p = p * xd + a[k]
    wd = xd.abs() if safe else xd
    h = torch.zeros_like(xd)
    for k in range(n, 0, -1):
        h = h * wd + bq[k - 1]
    s = wd * h
    y_direct = p / (1 + (s.abs() if absf else s))

    # |x| > 1: P(x) = x^m Pt(t), Q(x) = X^ne Qt(t), with ne the effective denominator degree.
    if n > 0:
        ks = torch.arange(1, n + 1, device=b.device).view(-1, *([1] * (b.dim() - 1)))
        ne = torch.where(b != 0, ks, torch.zeros_like(ks)).amax(0)
    else:
        ne = torch.zeros(b.shape[1:], dtype=torch.int64, device=b.device)
    pt = a[0] * torch.ones_like(t)
    for k in range(1, m + 1):
        pt = pt * t + a[k]
    wt = t.abs() if safe else t
    ht = torch.zeros_like(t)
    e0 = torch.ones_like(t)
    we = t.abs() if (safe or absf) else t
    for k in range(1, n + 1):
        on = k <= ne
        ht = torch.where(on, ht * wt + bq[k - 1], ht)
        e0 = torch.where(on, e0 * we, e0)
    # Trimmed coefficients (b_k = 0, k > ne) add nothing to the value, but their gradient is
    # x^(k-ne)-scaled: keep them in the graph with a zero-valued term.
    xw = xb.abs() if safe else xb
    for k in range(2, n + 1):
        pw = torch.ones_like(xb)
        for j in range(1, k):
            pw = torch.where(j <= k - ne, pw * xw, pw)
        pw = torch.where(torch.isfinite(pw), pw, torch.zeros_like(pw))
        ht = ht + torch.where(k > ne, bq[k - 1] * pw, torch.zeros_like(pw))
    qt = e0 + (ht.abs() if absf else ht)
    y_big = pt / qt
    if form != "plain":
        flip = (xb < 0) & (ne % 2 == 1)
        y_big = torch.where(flip, -y_big, y_big)
    d = m - ne
    for j in range(1, m + 1):
        y_big = torch.where(j <= d, y_big * xb, y_big)
    for j in range(1, n + 1):
        y_big = torch.where(j <= -d, y_big * t, y_big)

    return torch.where(big, y_big, y_direct).to(x.dtype)
