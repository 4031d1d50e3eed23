"""Review of the searches over radii and half-spaces against independent brute force and closed forms."""

import mpmath
import numpy as np
import pytest
import scipy.optimize
from scipy.special import ndtr, ndtri

from isobounds.bounds import (
    maximize_tv_over_half_spaces,
    maximize_tv_over_radius,
    ot_lipschitz_constant,
    tv_lower_bound,
)
from isobounds.measures import GaussianMixture
from isobounds.sets import Interval

# ---------------------------------------------------------------------------
# Model mass above the target's: the supremum over r is the limit r -> 0.
# ---------------------------------------------------------------------------

def test_model_mass_one_at_radius_zero():
    # With rho(A) = 1, beta = 0 at every radius, so the bracket 1 - nu(A) - nu(A_r minus A)
    # only falls with r and its supremum is 1 - nu(A), reached as r -> 0.
    # mpmath at 40 digits: 1 - [0.4 (Phi(2) - Phi(0.25)) + 0.6 (Phi(1) - Phi(-0.75))].
    nu = GaussianMixture([0.4, 0.6], [-1, 1], 2)
    with mpmath.workdps(40):
        expected = 1 - (0.4 * (mpmath.ncdf(2) - mpmath.ncdf(0.25)) + 0.6 * (mpmath.ncdf(1) - mpmath.ncdf(-0.75)))
    result = maximize_tv_over_radius(Interval(-0.5, 3), 1, target=nu, model_mass=1, dps=20)
    assert abs(result.value - expected) < mpmath.mpf(10) ** -19 * expected


def test_huge_lip_model_mass_limit():
    # lip = 1e300 makes beta about r * 1e-300, so the bracket is rho - nu(A) - nu(A_r minus A),
    # largest as r -> 0: 1/2 - (Phi(4) - Phi(2)) for the modes -3 and 3 and A = [-1, 1] (mpmath).
    nu = GaussianMixture([0.5, 0.5], [-3, 3], 1)
    with mpmath.workdps(40):
        expected = mpmath.mpf(1) / 2 - (mpmath.ncdf(4) - mpmath.ncdf(2))
    result = maximize_tv_over_radius(Interval(-1, 1), 1e300, target=nu, model_mass=0.5, dps=20)
    assert abs(result.value - expected) < mpmath.mpf(10) ** -19 * expected
    again = tv_lower_bound(Interval(-1, 1), result.radius, 1e300, target=nu, model_mass=0.5, dps=20)
    assert again == result.value


# ---------------------------------------------------------------------------
# Half-spaces in the plane: brute force over angle, offset and radii in float64.
# ---------------------------------------------------------------------------

_WEIGHTS = [0.44438116325040566, 0.17084106944274666, 0.23965148841779768, 0.14512627888905003]
_MEANS = [[5.305357326077974, -1.6186779810620573], [-4.734056645157246, 1.5492978184765107],
          [5.12585463681441, -0.7154741434105922], [5.455085924288847, -0.001250235748235795]]
_SIGMAS = [1.0228886622434283, 1.3543628684261424, 1.991664058900051, 1.913204247394201]
_LIP = 1.5056159928588224


def _ray_score(angle, offset, radii):
    """min over the two sides of max over radii, for the ray {<u, x> <= offset}, written from scratch in float64."""
    w, s = np.array(_WEIGHTS), np.array(_SIGMAS)
    projected = np.array(_MEANS) @ np.array([np.cos(angle), np.sin(angle)])

    def mass(a, b):
        za, zb = (a[..., None] - projected) / s, (b[..., None] - projected) / s
        return (w * np.where(za > 0, ndtr(-za) - ndtr(-zb), ndtr(zb) - ndtr(za))).sum(-1)

    def beta(p, c):
        x = ndtri(p)
        return np.where(x <= 0, ndtr(x + c) - p, (1 - p) - ndtr(-x - c))

    t = np.array(offset)
    inside = float((w * ndtr((t - projected) / s)).sum())

    def side(values):
        best = int(np.argmax(values(radii)))
        low, high = np.log(radii[max(best - 1, 0)]), np.log(radii[min(best + 1, radii.size - 1)])
        found = scipy.optimize.minimize_scalar(lambda u: -values(np.array([np.exp(u)]))[0], bounds=(low, high),
                                               method="bounded", options={"xatol": 1e-12})
        return max(values(radii).max(), -found.fun)

    side_a = side(lambda r: beta(inside, r / _LIP) - mass(t + 0 * r, t + r))
    side_b = side(lambda r: beta(1 - inside, r / _LIP) - mass(t - r, t + 0 * r))
    return min(side_a, side_b)


def test_half_space_ridge_maximum_in_plane():
    # Nelder-Mead on (angle, offset) stopped at 0.1713756596 on the ridge where the two sides
    # are equal. The brute force below maximises over angles near the optimum, each with its
    # best offset, and reaches 0.1713761400.
    radii = np.geomspace(1e-3, 1e3, 150)

    def best_over_offset(angle):
        found = scipy.optimize.minimize_scalar(lambda t: -_ray_score(angle, t, radii), bounds=(-3.0, -2.7),
                                               method="bounded", options={"xatol": 1e-10})
        return -found.fun

    found = scipy.optimize.minimize_scalar(lambda a: -best_over_offset(a), bounds=(2.40, 2.43), method="bounded",
                                           options={"xatol": 1e-6})
    brute_force = -found.fun
    assert brute_force > 0.17137613
    nu = GaussianMixture(_WEIGHTS, _MEANS, _SIGMAS)
    result = maximize_tv_over_half_spaces(_LIP, target=nu, dps=20)
    assert float(result.value) > brute_force - 1e-10
    again = tv_lower_bound(result.region, result.radius, _LIP, target=nu, dps=20)
    assert again == result.value


@pytest.mark.parametrize("bad", [0, 1])
def test_ot_constant_names_the_nan_direction_entry(bad):
    # The message should point at the entry of the direction that is NaN.
    target = GaussianMixture([0.5, 0.5], [[0.0, 0.0], [1.0, 1.0]], 1.0)
    direction = [1.0, 1.0]
    direction[bad] = float("nan")
    with pytest.raises(ValueError, match=rf"direction\[{bad}\] must not be NaN"):
        ot_lipschitz_constant(target, direction=direction)
