"""The shared grid builder and extremum refiner (metrics, minimax, certificate)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actfit.approx.extrema import alternant, dense_grid, error_extrema, refine_maxima


def _lorentzian(peak: float, width: float, height: float):
    def f(x: np.ndarray) -> np.ndarray:
        return height / (1.0 + ((x - peak) / width) ** 2)

    grid = dense_grid(-3.0, 3.0, special=(peak,), graded=40, smallest=1e-3 * width / 3.0)
    i = int(np.argmax(f(grid)))
    return f, grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]


_PEAKS = {
    "peak": st.floats(-2.9, 2.9),
    "width": st.floats(1e-9, 1e-2),
    "height": st.floats(0.1, 10.0),
}


@settings(max_examples=30, deadline=None)
@given(**_PEAKS)
def test_golden_section_finds_a_planted_narrow_peak_exactly(
    peak: float, width: float, height: float
) -> None:
    # A Lorentzian of known height and location between grid points: golden section returns
    # the height to rounding and the location to a tiny fraction of the width.
    f, lo, hi = _lorentzian(peak, width, height)
    x, v = refine_maxima(f, lo, hi)
    assert v[0] == pytest.approx(height, rel=1e-12)
    assert abs(x[0] - peak) <= 1e-5 * width + 4e-16


def test_golden_section_reaches_the_float_resolution_of_a_smooth_maximum() -> None:
    # cos has its maximum 1 at 0: golden section's value is 1 to rounding, position ~sqrt(eps).
    x, v = refine_maxima(np.cos, np.array([-0.3, 2 * math.pi - 0.2]), np.array([0.2, 6.5]))
    np.testing.assert_allclose(v, 1.0, rtol=0, atol=2e-16)
    np.testing.assert_allclose(x, [0.0, 2 * math.pi], rtol=0, atol=3e-8)


def test_dense_grid_is_sorted_unique_and_clipped() -> None:
    g = dense_grid(-1.0, 2.0, special=(0.0, -1.0), extra=[5.0, 0.5, 0.5])
    assert g[0] == -1.0 and g[-1] == 2.0
    assert np.all(np.diff(g) > 0)
    assert 0.5 in g and np.min(np.abs(g[g != 0.0])) < 1e-13  # graded toward the kink at 0


def test_error_extrema_keep_fixed_points_and_signs() -> None:
    # |x| - 1/2 on [-1, 1]: extrema at the ends (+1/2) and at the kink 0 (-1/2), which is fixed.
    grid = dense_grid(-1.0, 1.0, special=(-1.0, 0.0, 1.0))
    xs, es, finite = error_extrema(lambda x: np.abs(x) - 0.5, grid, (-1.0, 0.0, 1.0))
    assert finite
    px, pe = alternant(xs, es, 3)
    assert px.tolist() == [-1.0, 0.0, 1.0] and pe.tolist() == [0.5, -0.5, 0.5]


def test_error_extrema_report_a_pole() -> None:
    grid = np.linspace(-1.0, 1.0, 101)
    with np.errstate(divide="ignore"):
        _, _, finite = error_extrema(lambda x: 1.0 / x, grid)
    assert not finite
