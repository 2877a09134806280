"""Figures: files written (PNG/SVG/PDF, size, dimensions), poles drawn where they are, options."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from actfit.cli import app
from actfit.errors import OutputPathError, ParameterError
from actfit.export import save
from actfit.export.readers import external_fit
from actfit.plot import make_figure, plot_fits
from actfit.targets import get_target, parse_expression

runner = CliRunner()

# rational_activations, rational/rationals_config.json, "Rational_version_A5/4" -> "leaky_relu".
NUM = [
    0.029792778657264946,
    0.6183735264987601,
    2.323309062531321,
    3.051936237265109,
    1.4854203263828845,
    0.2510244961111299,
]
DEN = [-1.1419548357285474, 4.393159974992486, 0.8714712309957245, 0.34719662339598834]


@pytest.fixture(scope="module")
def safe_fit():
    return external_fit(NUM, DEN, form="safe", target=get_target("leaky_relu"))


@pytest.fixture(scope="module")
def pole_fit():
    # r(x) = x / (1 - x/3.5), plain: accurate for its own target, a real pole at x = 3.5,
    # just outside [-3, 3] and inside the plotted window [-6, 6].
    return external_fit(
        [0.0, 1.0], [-1.0 / 3.5], form="plain", target=parse_expression("x/(1 - x/3.5)")
    )


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_png_written_and_non_trivial(safe_fit, pole_fit, tmp_path: Path) -> None:
    path = plot_fits([safe_fit, pole_fit], tmp_path / "fit.png")
    assert path == tmp_path / "fit.png"
    # 8 x 6.5 inches at 150 dpi.
    assert _png_size(path) == (1200, 975)
    assert path.stat().st_size > 30_000
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp file left


def test_svg_and_pdf_by_suffix(safe_fit, pole_fit, tmp_path: Path) -> None:
    svg = plot_fits([safe_fit, pole_fit], tmp_path / "fit.svg", log=True).read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    # The pole line carries its position in its id (both panels), the max-error markers too.
    assert svg.count('id="pole-1-3.5"') == 2
    assert 'id="maxerr-0"' in svg and 'id="maxerr-1"' in svg
    pdf = plot_fits([safe_fit], tmp_path / "fit.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 5_000


def test_pole_drawn_where_it_is(pole_fit) -> None:
    fig = make_figure([pole_fit])
    top, bottom = fig.axes
    for ax in (top, bottom):
        xs = [
            np.asarray(line.get_xdata(), dtype=float)
            for line in ax.get_lines()
            if (line.get_gid() or "").startswith("pole-")
        ]
        assert len(xs) == 1 and np.allclose(xs[0], 3.5, rtol=0, atol=1e-12)
    # The rational's curve is broken at the pole (a NaN there), not joined across it.
    curve = next(ln for ln in top.get_lines() if "plain" in (ln.get_label() or ""))
    x, y = np.asarray(curve.get_xdata()), np.asarray(curve.get_ydata())
    assert np.isnan(y[np.abs(x - 3.5) < 1e-9]).any()
    assert np.isfinite(y[np.abs(x - 3.5) > 1e-3]).all()
    # The window is the range plus 50% each side; the range is shaded.
    assert top.get_xlim() == pytest.approx((-6.0, 6.0))


def test_pole_outside_window_listed_in_legend(pole_fit) -> None:
    fig = make_figure([pole_fit], margin=0.1)  # window [-3.6, 3.6] contains 3.5
    assert any("pole" in t.get_text() for t in fig.axes[0].get_legend().get_texts())
    fig = make_figure([pole_fit], margin=0.05)  # window [-3.3, 3.3]
    texts = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any("outside the plot at x = 3.5" in t for t in texts)
    assert not [ln for ln in fig.axes[0].get_lines() if (ln.get_gid() or "").startswith("pole")]


def test_options_log_relative_margin(safe_fit) -> None:
    fig = make_figure([safe_fit], log=True, relative=True, margin=0.0)
    top, bottom = fig.axes
    assert bottom.get_yscale() == "log" and "relative" in bottom.get_ylabel()
    assert top.get_xlim() == pytest.approx((-3.0, 3.0))
    assert make_figure([safe_fit]).axes[1].get_yscale() == "linear"


def test_errors_before_writing(safe_fit, tmp_path: Path) -> None:
    with pytest.raises(OutputPathError, match="suffix"):
        plot_fits([safe_fit], tmp_path / "fit.gif")
    with pytest.raises(ParameterError, match="margin"):
        plot_fits([safe_fit], tmp_path / "fit.png", margin=-1.0)
    with pytest.raises(ValueError, match="at least one"):
        plot_fits([], tmp_path / "fit.png")
    assert list(tmp_path.iterdir()) == []


def test_cli_plot_and_plot_option(safe_fit, pole_fit, tmp_path: Path) -> None:
    a = save(safe_fit, tmp_path / "a.json")
    b = save(pole_fit, tmp_path / "b.npz")
    out = tmp_path / "both.png"
    res = runner.invoke(app, ["plot", str(a), str(b), "--out", str(out), "--log"])
    assert res.exit_code == 0, res.output
    assert "2 fits" in res.stdout and _png_size(out) == (1200, 975)
    res = runner.invoke(app, ["plot", str(a), "--out", str(tmp_path / "x.gif")])
    assert res.exit_code == 2 and "suffix" in res.output
    res = runner.invoke(app, ["plot", str(a), "--out", str(out), "--margin", "-2"])
    assert res.exit_code == 2 and "margin" in res.output
    # --plot on a fit command goes through the same function.
    fig = tmp_path / "lsq.svg"
    res = runner.invoke(app, ["lsq", "tanh", "--order", "3,2", "--plot", str(fig)])
    assert res.exit_code == 0, res.output
    assert "<svg" in fig.read_text()


# --- what the figure says matches what it draws (the "Plots" issue) ---------------------------


def _line(ax, gid: str):
    return next(ln for ln in ax.get_lines() if ln.get_gid() == gid)


def _labels(ax) -> list:
    return [t for t in ax.texts if (t.get_gid() or "").startswith("maxerr-label-")]


def _renderer(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw_without_rendering()
    return renderer


@pytest.fixture(scope="module")
def tanh_fit():
    from actfit import fit_lsq

    return fit_lsq(get_target("tanh"), (3, 2))


def _check_relative_peak(fit, **kw) -> None:
    fig = make_figure([fit], relative=True, **kw)
    bottom = fig.axes[1]
    err = _line(bottom, "err-0")
    x, y = np.asarray(err.get_xdata(), float), np.asarray(err.get_ydata(), float)
    ok = (x >= fit.range[0]) & (x <= fit.range[1]) & np.isfinite(y)
    i = np.flatnonzero(ok)[np.argmax(y[ok])]
    mark = _line(bottom, "maxerr-0")
    assert mark.get_xdata()[0] == x[i] and mark.get_ydata()[0] == y[i]
    (label,) = _labels(bottom)
    assert label.get_text() == f"{y[i]:.2e}"
    assert f"max rel err {y[i]:.2e}" in _line(fig.axes[0], "fit-0").get_label()


def test_relative_marks_the_peak_of_the_drawn_curve(safe_fit) -> None:
    # leaky_relu's absolute peak is at its kink x = 0 where f = 0; the marker used to sit there
    # (or vanish); it must be the relative curve's own maximum over the fit range.
    _check_relative_peak(safe_fit)
    _check_relative_peak(safe_fit, log=True, margin=0.0)
    mark = _line(make_figure([safe_fit]).axes[1], "maxerr-0")  # absolute: the report's point
    assert mark.get_xdata()[0] == safe_fit.errors.max_abs_at
    assert mark.get_ydata()[0] == safe_fit.errors.max_abs


def test_relative_error_definition_near_zero(safe_fit) -> None:
    # |r - f| / max(|f|, δ), δ = 1e-3 max_[a,b] |f| = 3e-3 for leaky_relu(0.01) on [-3, 3].
    fig = make_figure([safe_fit], relative=True)
    err = _line(fig.axes[1], "err-0")
    x, y = np.asarray(err.get_xdata(), float), np.asarray(err.get_ydata(), float)
    f = np.asarray(safe_fit.target(x), float)
    r = np.asarray(safe_fit.rational(x), float)
    delta = 1e-3 * 3.0
    far = np.abs(f) >= delta
    near = ~far
    assert near.sum() > 10 and far.sum() > 10
    np.testing.assert_allclose(y[far], np.abs(r - f)[far] / np.abs(f[far]), rtol=1e-12)
    np.testing.assert_allclose(y[near], np.abs(r - f)[near] / delta, rtol=1e-12)
    assert np.isfinite(y).all()  # no division by the zero of f
    assert "δ" in fig.axes[1].get_title(loc="right")


@settings(max_examples=6, deadline=None)
@given(slope=st.floats(0.0, 0.5), margin=st.sampled_from([0.0, 0.3]), log=st.booleans())
def test_relative_peak_property(slope: float, margin: float, log: bool) -> None:
    fit = external_fit(NUM, DEN, form="safe", target=get_target("leaky_relu", {"slope": slope}))
    _check_relative_peak(fit, margin=margin, log=log)


def test_legend_describes_drawn_artists(safe_fit, pole_fit, tanh_fit) -> None:
    fits = [safe_fit, pole_fit, tanh_fit]
    top = make_figure(fits, margin=0.05).axes[0]  # pole 3.5 outside: a text-only entry
    handles, labels = top.get_legend_handles_labels()
    drawn = set(top.get_lines()) | set(top.patches)
    for h, text in zip(handles, labels, strict=True):
        assert h in drawn and h.get_visible(), text
        if text.startswith("poles outside the plot"):
            continue
        if hasattr(h, "get_xdata"):  # a line with data, not an empty proxy
            assert len(h.get_xdata()) > 0, text
    assert {"fit range", "targets f(x)"} <= set(labels)
    # Every target drawn, above every fit, opaque enough, in a colour no fit has.
    target_lines = [ln for ln in top.get_lines() if (ln.get_gid() or "").startswith("target-")]
    fit_lines = [ln for ln in top.get_lines() if (ln.get_gid() or "").startswith("fit-")]
    assert len(target_lines) == 3 and len(fit_lines) == 3
    fit_colors = {ln.get_color() for ln in fit_lines}
    for t in target_lines:
        assert t.get_visible() and (t.get_alpha() or 1.0) >= 0.8
        assert t.get_zorder() > max(f.get_zorder() for f in fit_lines)
        assert t.get_color() not in fit_colors
        assert t.get_linestyle() == target_lines[0].get_linestyle() != "-"
    # The legend's swatch for targets looks like the target lines (the old grey band did not).
    legend = top.get_legend()
    swatch = legend.legend_handles[[t.get_text() for t in legend.get_texts()].index("targets f(x)")]
    assert swatch.get_color() == target_lines[0].get_color()
    assert swatch.get_linestyle() == target_lines[0].get_linestyle()
    assert swatch.get_linewidth() == target_lines[0].get_linewidth()


@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("relative", [False, True])
def test_max_error_labels_do_not_collide(safe_fit, tanh_fit, log: bool, relative: bool) -> None:
    # Three fits whose peaks coincide (one rational, three slopes) plus one elsewhere.
    same = [
        external_fit(NUM, DEN, form="safe", target=get_target("leaky_relu", {"slope": s}))
        for s in (0.01, 0.0101, 0.0102)
    ]
    for fits in (same, [safe_fit, tanh_fit, same[2]]):
        fig = make_figure(fits, log=log, relative=relative)
        bottom = fig.axes[1]
        renderer = _renderer(fig)
        from matplotlib.text import Text

        labels = _labels(bottom)
        assert len(labels) == len(fits)
        boxes = [Text.get_window_extent(t, renderer) for t in labels]
        marks = [_line(bottom, f"maxerr-{k}").get_window_extent(renderer) for k in range(3)]
        panel = bottom.get_window_extent(renderer)
        for i, b in enumerate(boxes):
            assert panel.x0 <= b.x0 and b.x1 <= panel.x1 and panel.y0 <= b.y0 and b.y1 <= panel.y1
            for j, c in enumerate(boxes[i + 1 :], i + 1):
                assert not b.overlaps(c), (i, j)
            for j, m in enumerate(marks):
                assert j == i or not b.overlaps(m), (i, j)
        # Distinct marker shapes: coinciding peaks stay countable.
        assert len({_line(bottom, f"maxerr-{k}").get_marker() for k in range(3)}) == 3


def test_log_error_panel_has_major_grid_only(safe_fit, tanh_fit) -> None:
    fig = make_figure([safe_fit, tanh_fit], log=True)
    _renderer(fig)
    bottom = fig.axes[1]
    for axis in (bottom.yaxis, bottom.xaxis):
        assert not any(t.gridline.get_visible() for t in axis.get_minor_ticks())
        assert not any(
            t.label1.get_visible() and t.label1.get_text() for t in axis.get_minor_ticks()
        )
    assert any(t.gridline.get_visible() for t in bottom.yaxis.get_major_ticks())


def test_title_says_what_the_margin_means(safe_fit) -> None:
    title = make_figure([safe_fit]).axes[0].get_title()
    assert "x range: fit range ±50% of its length" in title and "margin" not in title
    assert "±25%" in make_figure([safe_fit], margin=0.25).axes[0].get_title()
    title = make_figure([safe_fit], margin=0.0).axes[0].get_title()
    assert title.endswith("x range: fit range") and "%" not in title
