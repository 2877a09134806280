"""Figures: files written (PNG/SVG/PDF, size, dimensions), poles drawn where they are, options."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
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
