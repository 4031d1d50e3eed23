"""A component of weight 0 must not change the set searches.

Such a component carries no mass. If its mean set the centre of the float64
search stages, a far one would move the real modes to where float64
spacings are thousands wide, and the searches would lose them.
"""

import pytest

import isobounds as ib
from isobounds.measures import GaussianMixture


@pytest.mark.parametrize("far", [1e16, 1e20])
def test_interval_search_ignores_zero_weight(far):
    plain = GaussianMixture([0.3, 0.7], [0, 6], 1)
    padded = GaussianMixture([0.3, 0.7, 0], [0, 6, far], 1)

    expected = ib.maximize_tv_over_intervals(2.0, target=plain, dps=20)
    actual = ib.maximize_tv_over_intervals(2.0, target=padded, dps=20)

    assert actual.value == pytest.approx(float(expected.value), rel=1e-12)
    assert actual.value > 0.2


def test_half_space_search_ignores_zero_weight():
    plain = GaussianMixture([0.3, 0.7], [[0, 0], [6, 1]], 1)
    padded = GaussianMixture([0.3, 0.7, 0], [[0, 0], [6, 1], [1e20, 0]], 1)

    expected = ib.maximize_tv_over_half_spaces(2.0, target=plain, dps=20)
    actual = ib.maximize_tv_over_half_spaces(2.0, target=padded, dps=20)

    assert actual.value == pytest.approx(float(expected.value), rel=1e-12)
    assert actual.value > 0.2
