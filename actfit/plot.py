"""Figures of fits: target and rational over the range and beyond, error curves, poles.

:func:`plot_fits` writes one figure for one or several fits (overlaid, with a legend: compare
orders, forms, methods or tables):

* top panel: the target(s) (thin dark dashed lines, drawn over the fits so that each stays
  visible where a fit covers it) and each rational over the fit range plus a margin on each side
  (default 50% of the range's length; the title says "x range: fit range ±50% of its length"),
  the fit range shaded;
* bottom panel: the absolute error ``|r(x) - f(x)|``, or the relative error
  ``|r - f| / max(|f|, δ)`` with ``δ = 1e-3 max |f|`` over the fit range (the true relative error
  wherever ``|f| >= δ``; near a zero of ``f``, where ``|r - f| / |f|`` is unbounded, the error in
  units of ``δ``: the floor of the ``relative`` weight), linear or log scale (major gridlines
  only). Each fit's max-error point over its range is marked (the report's ``max_abs`` point,
  or the maximum of the relative curve as drawn), with a distinct marker per fit and its value
  as a label; labels are moved apart (with a leader line) so that none overlaps another;
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
_REL_FLOOR = 1e-3  # δ = 1e-3·max|f| on the fit range: the default floor of the relative weight
_MARKERS = ("o", "s", "D", "^", "v", "P", "X", "h")  # one per fit, so coinciding peaks differ
# Targets are drawn on top of the fits, thin and dashed in one dark colour: visible wherever a
# fit covers them (a faint band under a line of the same colour is not), one legend entry.
_TARGET_STYLE: dict[str, object] = {
    "color": "0.1",
    "ls": (0, (4, 3)),
    "lw": 1.1,
    "alpha": 0.9,
    "zorder": 4,
}


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


def _errors(
    fit: Fit, x: NDArray[np.float64], relative: bool
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Return ``r(x)`` and the error curve drawn for ``fit``.

    The relative error is ``|r - f| / max(|f|, δ)`` with ``δ = 1e-3 max |f|`` over the fit range
    (the floor of the ``relative`` weight): the true relative error wherever ``|f| >= δ``, and the
    error in units of ``δ`` near a zero of ``f``, where ``|r - f| / |f|`` would be unbounded.
    A target that is 0 on the whole range gets ``δ = 1`` (the absolute error).
    """
    with np.errstate(all="ignore"):
        rx = np.asarray(fit.rational(x), dtype=np.float64)
        fx = np.asarray(fit.target(x), dtype=np.float64)
        err = np.abs(rx - fx)
        if not relative:
            return rx, err
        inside = (x >= fit.range[0]) & (x <= fit.range[1]) & np.isfinite(fx)
        scale = float(np.max(np.abs(fx[inside]), initial=0.0))
        delta = _REL_FLOOR * scale if 0 < scale < np.inf else 1.0
        return rx, err / np.maximum(np.abs(fx), delta)


def _peak(
    fit: Fit, x: NDArray[np.float64], err: NDArray[np.float64], relative: bool
) -> tuple[float, float] | None:
    """The max-error point to mark: the report's (absolute), or the drawn curve's (relative)."""
    if not relative:
        xm, ym = fit.errors.max_abs_at, fit.errors.max_abs
        return (xm, ym) if np.isfinite(xm) and np.isfinite(ym) else None
    ok = (x >= fit.range[0]) & (x <= fit.range[1]) & np.isfinite(err)
    if not ok.any():
        return None
    i = np.flatnonzero(ok)[np.argmax(err[ok])]
    return float(x[i]), float(err[i])


def _place_labels(fig: Figure, ax, labels: list, marks: list) -> None:
    """Move the max-error labels (Annotations in ``ax``) so that none overlaps another.

    Greedy, lowest peak first: each label takes the first free slot of a short list (just above
    its marker, then further up, then below; on the right of the marker, or on the left near the
    right edge), preferring slots inside the panel; obstacles are the labels already placed and
    the other fits' markers (``marks``). A label moved away from its marker gets a leader line.
    """
    if not labels:
        return
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text

    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw_without_rendering()  # settle the constrained layout first
    box = ax.get_window_extent(renderer)
    pt = fig.dpi / 72.0
    marker_boxes = [m.get_window_extent(renderer) for m in marks]
    placed: list = []
    for i in sorted(range(len(labels)), key=lambda i: labels[i].xy[1]):
        ann = labels[i]
        ext = Text.get_window_extent(ann, renderer)  # the text alone, not its leader line
        w, h = ext.width / pt + 3.0, ext.height / pt + 2.5
        anchor_x = ax.transData.transform(ann.xy)[0]
        sides = (6.0, -6.0 - w) if anchor_x + (w + 12.0) * pt < box.x1 else (-6.0 - w, 6.0)
        steps = range(len(labels) + 2)
        slots = [(dx, 4.0 + j * h) for dx in sides for j in steps]
        slots += [(dx, -4.0 - (j + 1) * h) for dx in sides for j in steps]
        obstacles = placed + [b for k, b in enumerate(marker_boxes) if k != i]

        slot = next(
            (
                s
                for strict in (True, False)
                for s in slots
                if _free(ann, s, obstacles, box if strict else None, renderer)
            ),
            slots[0],
        )
        ann.xyann = slot
        if slot != slots[0]:  # moved away: redrawn with a leader line to its marker
            moved = _max_label(ax, ann.get_text(), ann.xy, ann.get_color(), ann.get_gid(), slot)
            ann.remove()
            ann = moved
            ann.update_positions(renderer)
        placed.append(Text.get_window_extent(ann, renderer))


def _max_label(
    ax,
    text: str,
    xy: tuple[float, float],
    color: str,
    gid: str,
    slot: tuple[float, float] | None = None,
):
    """A max-error label at offset ``slot`` (points) from ``xy``; with a leader line if given."""
    leader = None
    if slot is not None:
        # From the label's corner nearest the marker, so that the line does not cross the text.
        leader = {
            "arrowstyle": "-",
            "color": color,
            "lw": 0.6,
            "shrinkA": 0,
            "shrinkB": 5,
            "relpos": (float(slot[0] < 0), float(slot[1] < 0)),
        }
    ann = ax.annotate(
        text,
        xy,
        textcoords="offset points",
        xytext=slot or (6.0, 4.0),
        fontsize=8,
        color=color,
        zorder=6,
        gid=gid,
        # Readable over the curves it may cross.
        bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.8},
        arrowprops=leader,
    )
    ann.set_in_layout(False)  # labels are placed after the layout, not part of it
    return ann


def _free(ann, slot: tuple[float, float], obstacles: list, box, renderer) -> bool:
    """Whether label ``ann`` moved to ``slot`` misses every obstacle (and lies inside ``box``)."""
    from matplotlib.text import Text

    ann.xyann = slot
    ann.update_positions(renderer)
    e = Text.get_window_extent(ann, renderer)  # the text alone, not its leader line
    if any(e.overlaps(o) for o in obstacles):
        return False
    return box is None or (box.x0 <= e.x0 and e.x1 <= box.x1 and box.y0 <= e.y0 and e.y1 <= box.y1)


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
        relative: plot the relative error ``|r - f| / max(|f|, δ)``, ``δ = 1e-3 max |f|`` over
            the fit range (the true relative error except near zeros of ``f``), instead of
            ``|r - f|``; the marked point is then the maximum of that curve over the fit range.

    Raises:
        ValueError: no fits.
        ParameterError: a negative or non-finite margin.

    Examples:
        >>> # fig = make_figure([fit_lsq("gelu"), fit_lsq("tanh")], log=True)
        >>> # fig.axes[1].set_ylim(1e-8, 1e-2); fig.savefig("cmp.png")
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

    # Shade each distinct fit range; the first shading is the legend's entry.
    for j, (ra, rb) in enumerate(dict.fromkeys(f.range for f in fits)):
        for ax in (top, bottom):
            label = "fit range" if j == 0 and ax is top else None
            ax.axvspan(ra, rb, color="0.92", zorder=0, lw=0, label=label)

    y_ref: list[NDArray[np.float64]] = []
    for j, t in enumerate(targets):
        with np.errstate(all="ignore"):
            fx = np.asarray(t(x), dtype=np.float64)
        y_ref.append(fx)
        label = ("targets f(x)" if with_target else "target f(x)") if j == 0 else None
        top.plot(x, fx, label=label, gid=f"target-{j}", **_TARGET_STYLE)  # type: ignore[arg-type]

    err_in_range: list[float] = []
    far_poles: list[str] = []
    labels: list = []
    marks: list = []
    for k, (fit, color) in enumerate(zip(fits, colors, strict=True)):
        poles = [float(p) for p in fit.poles.poles_on_real_line]
        rx, err = _errors(fit, x, relative)
        peak = _peak(fit, x, err, relative)
        what = "max rel err" if relative else "max err"
        value = peak[1] if relative and peak else fit.errors.max_abs
        label = f"{_label(fit, with_target)}, {what} {value:.2e}"
        xr, yr = _break_at(x, rx, poles)
        top.plot(xr, yr, color=color, lw=1.4, label=label, zorder=3, gid=f"fit-{k}")
        inside = (x >= fit.range[0]) & (x <= fit.range[1])
        e_plot = np.maximum(err, _TINY) if log else err
        xe, ye = _break_at(x, e_plot, poles)
        bottom.plot(xe, ye, color=color, lw=1.3, gid=f"err-{k}")
        finite_in = err[inside & np.isfinite(err)]
        if finite_in.size:
            err_in_range.append(float(finite_in.max()))
        if peak is not None:
            xm, ym = peak
            ym_plot = max(ym, _TINY) if log else ym
            (mark,) = bottom.plot(
                [xm],
                [ym_plot],
                marker=_MARKERS[k % len(_MARKERS)],
                ms=7,
                mfc="none",
                mec=color,
                mew=1.8,
                ls="none",
                zorder=5,
                clip_on=False,  # a peak at the panel's edge (error 0, range end) stays whole
                gid=f"maxerr-{k}",
            )
            ann = _max_label(bottom, f"{ym:.2e}", (xm, ym_plot), color, f"maxerr-label-{k}")
            marks.append(mark)
            labels.append(ann)
        in_window = [p for p in poles if lo <= p <= hi]
        for j, p in enumerate(in_window):
            for ax in (top, bottom):
                label = (
                    f"pole{'s' * (len(in_window) > 1)} of Q ({fit.form})"
                    if j == 0 and ax is top
                    else None
                )
                ax.axvline(p, color=color, ls=":", lw=1.5, gid=f"pole-{k}-{p:.9g}", label=label)
        far_poles += [f"{p:.4g}" for p in poles if not lo <= p <= hi]

    # The targets set the scale; a rational that leaves it (a bad table, a pole) is clipped.
    top.set_ylim(*_ylim(y_ref))
    top.set_xlim(lo, hi)
    if far_poles:  # a text-only legend entry (its handle draws nothing)
        top.plot(
            [],
            [],
            ls="none",
            marker="",
            label="poles outside the plot at x = " + ", ".join(far_poles),
        )
    top.set_ylabel("f(x), r(x)")
    top.grid(True, alpha=0.3)
    top.legend(fontsize=7 if len(fits) > 3 else 8, loc="best", framealpha=0.85)
    ranges = sorted(dict.fromkeys(f.range for f in fits))
    rtext = ", ".join(f"[{ra:g}, {rb:g}]" for ra, rb in ranges[:3])
    rtext += ", ..." if len(ranges) > 3 else ""
    names = ", ".join(_target_label(t) for t in targets)
    if len(names) > 60:
        names = f"{len(targets)} targets"
    # Line 2 says in words how far beyond the range(s) the x axis reaches (the margin).
    span = "fit range" if len(ranges) == 1 else "span of the fit ranges"
    reach = f"{span} ±{100 * margin:g}% of its length" if margin > 0 else span
    top.set_title(
        f"{names}\nfit range{'s' * (len(ranges) > 1)} {rtext} (shaded); x range: {reach}",
        fontsize=10,
    )
    if relative:
        bottom.set_ylabel("relative error")
        bottom.set_title(
            f"relative error |r - f| / max(|f|, δ), δ = {_REL_FLOOR:g}·max|f| on the fit range",
            fontsize=7,
            loc="right",
        )
    else:
        bottom.set_ylabel("absolute error |r - f|")
    bottom.set_xlabel("x")
    # Major gridlines only: on a log axis the minor ones (8 a decade) bury the curves.
    bottom.grid(True, which="major", alpha=0.3)
    bottom.grid(False, which="minor")
    top_err = max(err_in_range) if err_in_range else 1.0
    if log:
        bottom.set_yscale("log")
        floor = min((e for e in err_in_range if e > 0), default=1e-16)
        bottom.set_ylim(max(floor * 1e-4, 1e-18), max(top_err, _TINY) * 1e3)
    else:
        # Inside-range errors fill the panel; growth beyond the range is clipped at the top.
        bottom.set_ylim(0.0, 1.6 * top_err if top_err > 0 else 1.0)
    _place_labels(fig, bottom, labels, marks)
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
        relative: relative instead of absolute error (``|r - f| / max(|f|, δ)``, see
            :func:`make_figure`).

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
