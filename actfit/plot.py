"""Figures of fits: target and rational over the range and beyond, error curves, poles.

:func:`plot_fits` writes one figure for one or several fits (overlaid, with a legend: compare
orders, forms, methods or tables):

* top panel: the target(s) and each rational over the fit range plus a margin on each side
  (default 50% of the range's length), the fit range shaded;
* bottom panel: the absolute error ``|r(x) - f(x)|`` (or the relative error
  ``|r - f| / |f|``), linear or log scale, with each fit's max-error point marked;
* real poles of ``Q`` inside the window are drawn as vertical dotted lines in both panels (with
  ``gid`` ``pole-<i>-<x>`` in SVG output) and curves are broken there; poles outside the window
  are listed in the legend.

The figure is built with matplotlib's object API on an Agg canvas (no display, no pyplot global
state, no backend switch); ``.png``, ``.svg`` and ``.pdf`` are chosen by suffix.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from actfit.errors import OutputPathError, ParameterError
from actfit.export.io import atomic_write, check_output_path
from actfit.export.names import target_label

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from actfit.fit import Fit
    from actfit.targets import Target

__all__ = ["PLOT_SUFFIXES", "make_figure", "plot_fits"]

PLOT_SUFFIXES = (".png", ".svg", ".pdf")
_POINTS = 4001
_TINY = 1e-300  # floor for log-scale errors (an exact table has error 0)


def _window(fits: Sequence[Fit], margin: float) -> tuple[float, float, float, float]:
    a = min(f.range[0] for f in fits)
    b = max(f.range[1] for f in fits)
    pad = margin * (b - a)
    return a, b, a - pad, b + pad


def _grid(lo: float, hi: float, fits: Sequence[Fit]) -> NDArray[np.float64]:
    extra = [k for f in fits for k in (*f.target.kinks, *f.range, f.errors.max_abs_at)]
    x = np.linspace(lo, hi, _POINTS)
    extra_in = [v for v in extra if np.isfinite(v) and lo <= v <= hi]
    return np.unique(np.concatenate((x, extra_in)))


def _break_at(
    x: NDArray[np.float64], y: NDArray[np.float64], poles: Sequence[float]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Insert NaN at each pole so that no line joins the two sides of a pole."""
    y = np.where(np.isfinite(y), y, np.nan)
    inside = [p for p in poles if x[0] < p < x[-1]]
    if not inside:
        return x, y
    xs = np.concatenate((x, inside))
    ys = np.concatenate((y, np.full(len(inside), np.nan)))
    order = np.argsort(xs, kind="stable")
    return xs[order], ys[order]


def _ylim(values: list[NDArray[np.float64]]) -> tuple[float, float]:
    finite = np.concatenate([v[np.isfinite(v)] for v in values] or [np.zeros(1)])
    if finite.size == 0:
        return -1.0, 1.0
    # Robust to a target's own singularity inside the window: the extreme 0.5% on each side
    # do not set the scale.
    lo, hi = (float(v) for v in np.percentile(finite, [0.5, 99.5]))
    pad = 0.12 * (hi - lo) if hi > lo else max(abs(hi), 1.0) * 0.1
    return lo - pad, hi + pad


def _target_label(t: Target) -> str:
    return target_label(t)


def _label(fit: Fit, with_target: bool) -> str:
    m, n = fit.order
    base = f"{fit.method} [{m},{n}] {fit.form}"
    return f"{_target_label(fit.target)}: {base}" if with_target else base


def make_figure(
    fits: Sequence[Fit], *, margin: float = 0.5, log: bool = False, relative: bool = False
) -> Figure:
    """Return the matplotlib figure :func:`plot_fits` saves (for further customisation).

    Args:
        fits: one or more fits; overlaid with a legend.
        margin: the window extends this fraction of the range's length beyond each end.
        log: log scale for the error panel.
        relative: plot ``|r - f| / |f|`` instead of ``|r - f|``.

    Raises:
        ValueError: no fits.
        ParameterError: a negative or non-finite margin.
    """
    from matplotlib.figure import Figure

    if not fits:
        raise ValueError("plot_fits needs at least one fit")
    if not (np.isfinite(margin) and margin >= 0):
        raise ParameterError(f"--margin must be a finite number >= 0, got {margin}; e.g. 0.5")
    _, _, lo, hi = _window(fits, margin)
    x = _grid(lo, hi, fits)
    fig = Figure(figsize=(8.0, 6.5), dpi=150, layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    colors = [f"C{i % 10}" for i in range(len(fits))]
    targets = list(dict.fromkeys(f.target for f in fits))
    with_target = len(targets) > 1

    # Shade each distinct fit range.
    for ra, rb in dict.fromkeys(f.range for f in fits):
        for ax in (top, bottom):
            ax.axvspan(ra, rb, color="0.92", zorder=0, lw=0)
    top.plot([], [], color="0.85", lw=8, label="fit range")

    # Targets: thick and faded under the fits; in the colour of their fit when they have only
    # one (a table of several activations), grey otherwise (several fits of one target).
    y_ref: list[NDArray[np.float64]] = []
    for t in targets:
        mine = [c for f, c in zip(fits, colors, strict=True) if f.target == t]
        with np.errstate(all="ignore"):
            fx = np.asarray(t(x), dtype=np.float64)
        y_ref.append(fx)
        tcolor = mine[0] if len(mine) == 1 and len(fits) > 1 else "0.2"
        top.plot(x, fx, color=tcolor, lw=4.0, alpha=0.3, zorder=2, solid_capstyle="butt")
    top.plot([], [], color="0.2", lw=4.0, alpha=0.3, label="target" + "s" * with_target)

    err_in_range: list[float] = []
    far_poles: list[str] = []
    for k, (fit, color) in enumerate(zip(fits, colors, strict=True)):
        poles = [float(p) for p in fit.poles.poles_on_real_line]
        with np.errstate(all="ignore"):
            rx = np.asarray(fit.rational(x), dtype=np.float64)
            fx = np.asarray(fit.target(x), dtype=np.float64)
            err = np.abs(rx - fx)
            if relative:
                err = err / np.abs(fx)
        xr, yr = _break_at(x, rx, poles)
        label = f"{_label(fit, with_target)}, max err {fit.errors.max_abs:.2e}"
        top.plot(xr, yr, color=color, lw=1.4, label=label, zorder=3)
        inside = (x >= fit.range[0]) & (x <= fit.range[1])
        e_plot = np.maximum(err, _TINY) if log else err
        xe, ye = _break_at(x, e_plot, poles)
        bottom.plot(xe, ye, color=color, lw=1.3)
        finite_in = err[inside & np.isfinite(err)]
        if finite_in.size:
            err_in_range.append(float(finite_in.max()))
        # The max-error point of the report (absolute); in relative mode at the same x.
        xm = fit.errors.max_abs_at
        if np.isfinite(fit.errors.max_abs) and np.isfinite(xm):
            if relative:
                with np.errstate(all="ignore"):
                    fm = float(np.abs(fit.target(np.array([xm])))[0])
                ym = fit.errors.max_abs / fm if fm > 0 else np.nan
            else:
                ym = fit.errors.max_abs
            if np.isfinite(ym):
                ym_plot = max(ym, _TINY) if log else ym
                bottom.plot(
                    [xm],
                    [ym_plot],
                    marker="o",
                    ms=7,
                    mfc="none",
                    mec=color,
                    mew=1.8,
                    ls="none",
                    gid=f"maxerr-{k}",
                )
                if len(fits) == 1:  # with several fits the legend carries the values
                    bottom.annotate(
                        f"{ym:.2e}",
                        (xm, ym_plot),
                        textcoords="offset points",
                        xytext=(6, 6),
                        fontsize=8,
                        color=color,
                    )
        for p in poles:
            if lo <= p <= hi:
                for ax in (top, bottom):
                    ax.axvline(p, color=color, ls=":", lw=1.5, gid=f"pole-{k}-{p:.9g}")
            else:
                far_poles.append(f"{p:.4g}")
        if any(lo <= p <= hi for p in poles):
            top.plot([], [], color=color, ls=":", lw=1.5, label=f"pole(s) of Q ({fit.form})")

    # The targets set the scale; a rational that leaves it (a bad table, a pole) is clipped.
    top.set_ylim(*_ylim(y_ref))
    top.set_xlim(lo, hi)
    if far_poles:
        top.plot([], [], ls="none", label="poles outside the plot at x = " + ", ".join(far_poles))
    top.set_ylabel("f(x), r(x)")
    top.grid(True, alpha=0.3)
    top.legend(fontsize=7 if len(fits) > 3 else 8, loc="best", framealpha=0.85)
    ranges = sorted(dict.fromkeys(f.range for f in fits))
    rtext = ", ".join(f"[{ra:g}, {rb:g}]" for ra, rb in ranges[:3])
    rtext += ", ..." if len(ranges) > 3 else ""
    names = ", ".join(_target_label(t) for t in targets)
    if len(names) > 60:
        names = f"{len(targets)} targets"
    top.set_title(
        f"{names} — fit range{'s' * (len(ranges) > 1)} {rtext} (shaded), margin {margin:g}",
        fontsize=10,
    )
    what = "relative error |r - f| / |f|" if relative else "absolute error |r - f|"
    bottom.set_ylabel(what)
    bottom.set_xlabel("x")
    bottom.grid(True, which="both", alpha=0.3)
    peak = max(err_in_range) if err_in_range else 1.0
    if log:
        bottom.set_yscale("log")
        floor = min((e for e in err_in_range if e > 0), default=1e-16)
        bottom.set_ylim(max(floor * 1e-4, 1e-18), max(peak, _TINY) * 1e3)
    else:
        # Inside-range errors fill the panel; growth beyond the range is clipped at the top.
        bottom.set_ylim(0.0, 1.6 * peak if peak > 0 else 1.0)
    return fig


def plot_fits(
    fits: Sequence[Fit],
    path: str | os.PathLike[str],
    *,
    margin: float = 0.5,
    log: bool = False,
    relative: bool = False,
) -> Path:
    """Plot fits (target, rational, error, poles) to ``path`` (.png, .svg or .pdf); return it.

    See the module docstring for what the figure shows. Several fits are overlaid with a
    legend. The file is written atomically.

    Args:
        fits: one or more fits.
        path: output file; the suffix selects the format.
        margin: fraction of the range's length shown beyond each end (default 0.5).
        log: log scale for the error panel.
        relative: relative instead of absolute error.

    Raises:
        OutputPathError: unknown suffix or missing folder.
        ParameterError: a negative or non-finite margin.
        ValueError: no fits.

    Examples:
        >>> # plot_fits([fit_lsq(get_target("gelu"))], "gelu.png", log=True)
    """
    import io

    p = check_output_path(path, PLOT_SUFFIXES)
    fig = make_figure(fits, margin=margin, log=log, relative=relative)
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format=p.suffix.lower().lstrip("."))
    except (OSError, ValueError) as exc:  # pragma: no cover - matplotlib backend problems
        raise OutputPathError(f"cannot write {str(p)!r}: {exc}") from None
    atomic_write(p, buf.getvalue())
    return p
