"""Review of the target measures: NaN points in arrays and scalars raise ValueError naming ``x``.

The vectorized Gaussian functions and ``EmpiricalMeasure.cdf`` reject NaN;
the float64 paths of the other measures returned NaN silently (and
``UnivariateDistribution`` did for scalars too), and
``DisconnectedSupport.cdf(nan)`` named the argument ``b`` of an internal
interval.
"""

import math

import mpmath
import numpy as np
import pytest
import scipy.stats

from isobounds.measures import DisconnectedSupport, GaussianMixture, UnivariateDistribution
from isobounds.sets import Interval

NAN_MESSAGE = r"x must not (contain|be) NaN"


def _one_dimensional():
    return GaussianMixture([0.25, 0.75], [-1.0, 2.0], [1.0, 0.5])


@pytest.mark.parametrize("method", ["pdf", "logpdf", "cdf", "sf"])
def test_mixture_arrays_reject_nan(method):
    nu = _one_dimensional()
    with pytest.raises(ValueError, match=NAN_MESSAGE):
        getattr(nu, method)(np.array([0.0, np.nan]))


@pytest.mark.parametrize("method", ["pdf", "logpdf"])
def test_mixture_points_in_two_dimensions_reject_nan(method):
    nu = GaussianMixture([0.5, 0.5], [[0.0, 0.0], [3.0, 0.0]], 1.0)
    with pytest.raises(ValueError, match=NAN_MESSAGE):
        getattr(nu, method)(np.array([[0.0, 0.0], [1.0, np.nan]]))


def test_mixture_arrays_still_match_closed_form():
    # Density and tails of 0.25 N(-1, 1) + 0.75 N(2, 0.25), written out with math.erfc.
    nu = _one_dimensional()
    x = np.array([-np.inf, -3.0, 0.5, 2.0, np.inf])

    def tail(z):
        return 0.5 * math.erfc(z / math.sqrt(2))

    cdf = [0.25 * tail(-(t + 1)) + 0.75 * tail(-(t - 2) / 0.5) for t in x]
    sf = [0.25 * tail(t + 1) + 0.75 * tail((t - 2) / 0.5) for t in x]
    np.testing.assert_allclose(nu.cdf(x), cdf, rtol=1e-14)
    np.testing.assert_allclose(nu.sf(x), sf, rtol=1e-14)
    pdf = 0.25 * math.exp(-0.5 * 1.5**2) / math.sqrt(2 * math.pi) + 0.75 * math.exp(-0.5 * 3.0**2) / (0.5 * math.sqrt(2 * math.pi))
    assert nu.pdf(np.array([0.5]))[0] == pytest.approx(pdf, rel=1e-14)


@pytest.mark.parametrize("method", ["pdf", "logpdf", "cdf", "sf"])
def test_univariate_rejects_nan(method):
    nu = UnivariateDistribution(scipy.stats.norm())
    with pytest.raises(ValueError, match=NAN_MESSAGE):
        getattr(nu, method)(float("nan"))
    with pytest.raises(ValueError, match=NAN_MESSAGE):
        getattr(nu, method)(np.array([0.0, np.nan]))


def test_univariate_names_x_for_a_bad_string():
    nu = UnivariateDistribution(scipy.stats.norm())
    with pytest.raises(ValueError, match="x must be a decimal number"):
        nu.pdf("a")
    # Phi(1) from mpmath, an independent route.
    assert float(nu.cdf("1")) == pytest.approx(float(mpmath.ncdf(1)), rel=1e-15)


def test_univariate_invalid_scipy_parameters_are_explained():
    with pytest.raises(ValueError, match="negative scale"):
        UnivariateDistribution(scipy.stats.norm(0, -1))


def test_disconnected_cdf_rejects_nan_naming_x():
    nu = DisconnectedSupport([Interval(0, 1), Interval(2, 4)], [0.25, 0.75])
    with pytest.raises(ValueError, match=NAN_MESSAGE):
        nu.cdf(float("nan"))
    with pytest.raises(ValueError, match=NAN_MESSAGE):
        nu.cdf(np.array([0.5, np.nan]))
    # The uniform laws give 0.25 * 1 + 0.75 * (1 / 2) at x = 3.
    assert nu.cdf(3) == mpmath.mpf(0.25) * mpmath.mpf(1) + mpmath.mpf(0.75) / 2
    np.testing.assert_allclose(nu.cdf(np.array([-np.inf, 0.5, 3.0, np.inf])), [0.0, 0.125, 0.625, 1.0], rtol=1e-15)


@pytest.mark.parametrize("point", [-math.inf, mpmath.ninf, "-inf", math.inf, mpmath.inf, "inf"])
def test_scalar_cdf_and_sf_at_infinite_points(point):
    # Below every point the mass is 0 and above every point it is 0, as on the array path
    # (and in UnivariateDistribution). The scalar path raised ValueError for an empty
    # Interval(-inf, -inf) or Interval(inf, inf).
    lower = mpmath.mpf(point) < 0
    nu = _one_dimensional()
    pieces = DisconnectedSupport([Interval(0, 1), Interval(2, 3)], [0.5, 0.5])
    assert nu.cdf(point) == (0 if lower else 1)
    assert nu.sf(point) == (1 if lower else 0)
    assert pieces.cdf(point) == (0 if lower else 1)
    assert nu.cdf(np.array([float(mpmath.mpf(point))]))[0] == (0 if lower else 1)
