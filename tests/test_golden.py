"""Published coefficient tables that actfit must reproduce (golden numbers, sources cited)."""

from __future__ import annotations

import numpy as np
import pytest

from actfit.approx.lsq import fit_lsq
from actfit.targets import get_target

# Padé Activation Units (Molina, Schramowski, Kersting, ICLR 2020), initial coefficients of the
# [5,4] "safe" (version A) PAU fitted to the activation on [-3, 3] by least squares, as shipped in
# the authors' pau/rational_activations code (`get_constants_for_inits`, keys "relu" and
# "leaky_relu_0_01"). They were fitted on a grid in float32, so agreement to ~1e-4 relative is
# what a correct global least-squares fit can show.
PAU_INITS = {
    ("relu", None): (
        [0.02996348, 0.61690165, 2.37539147, 3.06608078, 1.52474449, 0.25281987],
        [1.19160814, 4.40811795, 0.91111034, 0.34885983],
    ),
    ("leaky_relu", 0.01): (
        [0.02979246, 0.61837738, 2.32335207, 3.05202660, 1.48548002, 0.25103717],
        [1.14201226, 4.39322834, 0.87154450, 0.34720652],
    ),
}


@pytest.mark.parametrize("name, slope", list(PAU_INITS))
def test_pau_initialisation_tables(name: str, slope: float | None) -> None:
    params = None if slope is None else {"slope": slope}
    fit = fit_lsq(get_target(name, params), (5, 4), (-3.0, 3.0), form="safe")
    num, den = PAU_INITS[(name, slope)]
    np.testing.assert_allclose(fit.rational.numerator, num, rtol=2e-4, atol=2e-6)
    np.testing.assert_allclose(np.abs(fit.rational.denominator), den, rtol=2e-4)
