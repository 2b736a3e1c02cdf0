"""Fisher's z test of two independent correlations, against a hand computation and scipy."""

import math

import numpy as np
import pytest
from scipy import stats

from benchmark.stats.fisher import compare_correlations, fisher_z, standard_error


def test_one_pair_by_hand():
    # r1 = .5 from 40 raters, r2 = .1 from 50 raters, Spearman.
    z1, z2 = 0.5 * math.log(1.5 / 0.5), 0.5 * math.log(1.1 / 0.9)  # 0.549306, 0.100335
    se = math.sqrt(1.06 / 37 + 1.06 / 47)  # 0.226278
    z = (z1 - z2) / se
    assert z == pytest.approx(1.98415, abs=1e-5)
    result = compare_correlations(0.5, 40, 0.1, 50)
    assert float(result.z) == pytest.approx(z, rel=1e-12)
    p = math.erfc(abs(z) / math.sqrt(2))  # two-sided normal p, by hand
    assert float(result.p) == pytest.approx(p, rel=1e-12)
    assert float(result.p) == pytest.approx(0.047239, abs=1e-6)
    pearson = compare_correlations(0.5, 40, 0.1, 50, method="pearson")
    assert float(pearson.z) == pytest.approx((z1 - z2) / math.sqrt(1 / 37 + 1 / 47), rel=1e-12)


def test_vectorised_over_pairs_matches_scipy_elementwise():
    rng = np.random.default_rng(3)
    r1, r2 = rng.uniform(-0.9, 0.9, 200), rng.uniform(-0.9, 0.9, 200)
    n1, n2 = rng.integers(4, 300, 200), rng.integers(4, 300, 200)
    result = compare_correlations(r1, n1, r2, n2)
    for k in range(200):
        se = math.sqrt(1.06 / (n1[k] - 3) + 1.06 / (n2[k] - 3))
        z = (math.atanh(r1[k]) - math.atanh(r2[k])) / se
        assert result.z[k] == pytest.approx(z, rel=1e-10)
        assert result.p[k] == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-9)
    assert np.all((result.p > 0) & (result.p <= 1))
    # Swapping the languages flips the sign, not the p-value.
    swapped = compare_correlations(r2, n2, r1, n1)
    np.testing.assert_allclose(swapped.z, -result.z)
    np.testing.assert_allclose(swapped.p, result.p)


def test_undefined_cases_are_nan_not_numbers():
    result = compare_correlations([np.nan, 1.0, 0.3, 0.3], [30, 30, 3, 30], [0.2] * 4, [30] * 4)
    assert np.isnan(result.z[:3]).all() and np.isnan(result.p[:3]).all()
    assert np.isfinite(result.z[3]) and 0 < result.p[3] < 1  # an ordinary pair beside them
    assert np.isnan(fisher_z(-1.0)) and np.isnan(standard_error(2))
    with pytest.raises(ValueError):
        standard_error(10, "kendall")


def test_equal_correlations_are_not_different():
    result = compare_correlations(0.35, 80, 0.35, 25)
    assert float(result.z) == 0.0 and float(result.p) == 1.0
