"""Tests of isobounds_models.checks: the bounds never exceed exact distances.

Independent routes: exact TV, KL and masses of random piecewise-linear
generators (isobounds.pushforward, through isobounds_models.measure), mpmath
at 30 digits and a brute-force search over r with mpmath. The grid search over
r is also compared with the core optimiser (isobounds.maximize_tv_over_radius),
and the monotone transport map's Lipschitz constant comes from a dense grid.
"""

import math

import mpmath
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from isobounds_models.checks import (  # noqa: E402
    CheckRow,
    compute_bounds,
    kl_bin,
    lipschitz_implied_by_masses,
    radius_grid,
    run_checks,
)
from isobounds_models.measure import (  # noqa: E402
    exact_distances,
    mixture_log_pdf,
    mixture_mass,
    piecewise_linear_from_module,
    two_mode_target,
)
from isobounds_models.networks import BatchedMLP, export_mlp  # noqa: E402


def _mass(pl, a, b):
    return float(pl.pushforward().mass((a, b)))


def _bounds_of(pl, lip, m):
    return compute_bounds(lip, m, _mass(pl, -np.inf, 0.0), _mass(pl, 0.0, np.inf),
                          _mass(pl, -np.inf, -m / 2), _mass(pl, m / 2, np.inf))


def _random_generator(seed, scale):
    mlp = BatchedMLP(1, (1, 32, 32, 1))
    mlp.reset_parameters([torch.Generator().manual_seed(seed)])
    with torch.no_grad():
        mlp.layers[-1].weight.mul_(scale)
    return piecewise_linear_from_module(export_mlp(mlp, 0))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("m", [0.0, 1.0, 3.0, 6.0])
def test_bounds_below_exact_distances_of_random_generators(seed, m):
    pl = _random_generator(seed, scale=[0.5, 3.0, 10.0, 30.0, 80.0, 200.0][seed])
    lip = float(pl.lipschitz_constant())
    tv, kl = exact_distances(pl, m)
    bounds = _bounds_of(pl, lip, m)
    rows = run_checks(bounds, tv.value, kl.value, _mass(pl, -m / 2, m / 2), tv.error, kl.error, 1e-12)
    for row in rows:
        assert row.passed, row.to_dict()


def _ot_lipschitz(m):
    """Lip of the monotone transport map N(0, 1) -> nu: max over y of I(F(y)) / p(y), by a dense grid."""
    from scipy.special import ndtri
    from scipy.stats import norm

    y = np.linspace(-m - 10, m + 10, 400_001)
    cdf = 0.5 * (norm.cdf(y + m) + norm.cdf(y - m))
    profile = norm.pdf(ndtri(np.minimum(cdf, 1 - cdf)))
    return float(np.max(profile / np.exp(mixture_log_pdf(y, m))))


@pytest.mark.parametrize("m", [0.5, 2.0, 4.0])
def test_exact_fit_has_zero_bounds(m):
    # The transport map fits nu exactly with this constant (Corollary 3), so every
    # distance is 0 and every bound must be 0 too. The grid underestimates the constant
    # by less than a relative 1e-6, which the factor below covers.
    lip = _ot_lipschitz(m) * (1 + 1e-6)
    half = 0.5
    below = float(mixture_mass(-np.inf, -m / 2, m))
    bounds = compute_bounds(lip, m, half, half, below, below)
    assert bounds.tv <= 1e-9
    assert bounds.kl <= 1e-9
    assert bounds.mass_between <= bounds.target_mass_between + 1e-12


def test_corrected_kl_bound_vanishes_for_steep_exact_fit():
    # Steep map with the target's own masses: beta ~ 0 < nu(shell), so the corrected
    # Theorem 7 gives 0 where the uncorrected kl_bin(beta || v) = -log(1 - v) > 0.
    m, lip = 1.0, 1e6
    bounds = compute_bounds(lip, m, 0.5, 0.5, float(mixture_mass(-np.inf, -0.5, m)),
                            float(mixture_mass(-np.inf, -0.5, m)))
    assert bounds.kl_theorem7 == 0.0
    assert bounds.kl_corollary8 == 0.0
    v = float(mixture_mass(0.0, 1.0, m))
    assert float(kl_bin(0.0, v)) == pytest.approx(-math.log(1 - v), rel=1e-12)
    assert float(kl_bin(0.0, v)) > 0


@pytest.mark.parametrize("lip,m", [(1.0, 1.0), (3.0, 2.5), (50.0, 4.0), (1e4, 6.0)])
def test_corollary6_against_mpmath(lip, m):
    with mpmath.workdps(30):
        D = 2 * mpmath.mpf(m)
        expected = (mpmath.ncdf(D / (4 * lip)) - mpmath.mpf(1) / 2
                    - (mpmath.ncdf(3 * D / 4) - mpmath.ncdf(D / 4)) / 2)
    bounds = compute_bounds(lip, m, 0.5, 0.5, 0.25, 0.25)
    assert bounds.tv_corollary6 == pytest.approx(max(float(expected), 0.0), abs=1e-15)


def test_corollary8_against_mpmath():
    lip, m, lam = 2.0, 3.0, 0.3
    with mpmath.workdps(30):
        a = mpmath.ncdf(mpmath.mpf(m) / (2 * lip) + mpmath.sqrt(2) * mpmath.erfinv(2 * mpmath.mpf(lam) - 1)) - lam
        b = (mpmath.ncdf(mpmath.mpf(3) * m / 2) - mpmath.ncdf(mpmath.mpf(m) / 2)) / 2
        expected = a * mpmath.log(a / b) + (1 - a) * mpmath.log((1 - a) / (1 - b))
    assert a > b
    bounds = compute_bounds(lip, m, lam, 1 - lam, 0.2, 0.2)
    assert bounds.kl_corollary8 == pytest.approx(float(expected), rel=1e-10)
    # A weight above 1/2 is the other half-line's weight below 1/2.
    mirrored = compute_bounds(lip, m, 1 - lam, lam, 0.2, 0.2)
    assert mirrored.kl_corollary8 == pytest.approx(float(expected), rel=1e-10)


def test_theorem4_grid_search_against_brute_force():
    lip, m, p = 2.0, 3.0, 0.4

    def bracket(r, mass):
        r = mpmath.mpf(r)
        alpha = mpmath.ncdf(r / lip + mpmath.sqrt(2) * mpmath.erfinv(2 * mpmath.mpf(mass) - 1))
        shell = (mpmath.ncdf(r + m) - mpmath.ncdf(m) + mpmath.ncdf(r - m) - mpmath.ncdf(-m)) / 2
        return alpha - min(mass, mpmath.mpf(1) / 2) - shell

    with mpmath.workdps(20):
        radii = np.linspace(0.001, 12, 1201)
        best = max(float(bracket(r, q)) for q in (p, 1 - p) for r in radii)
    bounds = compute_bounds(lip, m, p, 1 - p, 0.2, 0.2)
    # The grids have spacings 3e-3 and 1e-2 and the bracket's slope is below 1, so they agree to 1e-2;
    # near the maximum the bracket is flat, so much closer.
    assert bounds.tv_theorem4 == pytest.approx(best, abs=1e-5)


@pytest.mark.parametrize("lip,m,p", [(2.0, 3.0, 0.4), (20.0, 5.0, 0.45), (1.5, 1.0, 0.3)])
def test_grid_radius_bounds_against_core_optimiser(lip, m, p):
    # The grid picks r and the core function evaluates the bound there. Each fixed r gives a
    # valid bound, so the result cannot exceed the core optimiser's value, and it agrees with it
    # to the resolution of the grid.
    import isobounds

    target = two_mode_target(m)
    bounds = compute_bounds(lip, m, p, 1 - p, 0.2, 0.2)
    optimum_tv = max(float(isobounds.maximize_tv_over_radius(region, lip, target=target, model_mass=q).value)
                     for region, q in ((isobounds.HalfSpace(1, 0), p), (isobounds.HalfSpace(-1, 0), 1 - p)))
    optimum_kl = max(float(isobounds.maximize_kl_over_radius(region, lip, target=target, model_mass=q).value)
                     for region, q in ((isobounds.HalfSpace(1, 0), p), (isobounds.HalfSpace(-1, 0), 1 - p)))
    assert bounds.tv_theorem4 <= optimum_tv * (1 + 1e-12)
    assert bounds.tv_theorem4 == pytest.approx(optimum_tv, rel=1e-4)
    assert bounds.kl_theorem7 <= optimum_kl * (1 + 1e-12)
    assert bounds.kl_theorem7 == pytest.approx(optimum_kl, rel=1e-3)


def test_mass_between_bound_is_theorem1_shell():
    lip, m, below, above = 3.0, 4.0, 0.3, 0.45
    with mpmath.workdps(30):
        expected = max(mpmath.ncdf(mpmath.mpf(m) / lip + mpmath.sqrt(2) * mpmath.erfinv(2 * mpmath.mpf(q) - 1)) - q
                       for q in (below, above))
    bounds = compute_bounds(lip, m, 0.5, 0.5, below, above)
    assert bounds.mass_between == pytest.approx(float(expected), rel=1e-12)


def test_kl_bin_against_mpmath():
    with mpmath.workdps(30):
        a, b = mpmath.mpf("0.3"), mpmath.mpf("0.05")
        expected = a * mpmath.log(a / b) + (1 - a) * mpmath.log((1 - a) / (1 - b))
    assert float(kl_bin(0.3, 0.05)) == pytest.approx(float(expected), rel=1e-14)
    assert float(kl_bin(0.2, 0.2)) == 0.0


@pytest.mark.parametrize("lip,m,p", [(30.0, 5.0, 0.02), (15.0, 5.0, 0.1), (100.0, 3.0, 0.1)])
def test_theorem7_grid_reaches_large_radius_limit(lip, m, p):
    # For L much larger than m the Theorem 7 bracket approaches its limit r -> inf,
    # kl_bin(1 - p || 1/2) = kl_bin(p || 1/2), only at radii of several L.
    with mpmath.workdps(30):
        p_mp = mpmath.mpf(p)
        limit = float(p_mp * mpmath.log(2 * p_mp) + (1 - p_mp) * mpmath.log(2 * (1 - p_mp)))
    bounds = compute_bounds(lip, m, p, 1 - p, 0.9 * p, 0.9 * (1 - p))
    assert bounds.kl_theorem7 >= 0.999 * limit
    assert bounds.kl_theorem7_r > max(4 * m, 10.0)


def test_radius_grid_extends_with_lipschitz_constant():
    near = radius_grid(5.0)
    extended = radius_grid(5.0, lip=30.0)
    assert near[-1] == 20.0
    assert np.array_equal(extended[extended >= near[0]][: near.size], near)
    assert extended[-1] == pytest.approx(20.0 + 50 * 30.0)
    assert np.all(np.diff(extended) > 0)


def test_radius_grid_stays_finite_at_extreme_lip():
    huge = radius_grid(2.0, lip=1e307)
    assert np.all(np.isfinite(huge))
    assert huge[-1] == pytest.approx(1e300)
    tiny = radius_grid(2.0, lip=1e-300)
    assert tiny[0] == 1e-300
    assert np.array_equal(tiny[tiny >= 10.0 / 4001], radius_grid(2.0))
    bounds = compute_bounds(1e307, 2.0, 0.5, 0.5, 0.4, 0.4)
    assert bounds.tv >= 0


def test_check_row_with_zero_bound_is_vacuous():
    row = CheckRow("corollary6_tv", measured=0.0, bound=0.0, tolerance=0.0)
    assert row.passed
    assert row.vacuous
    assert row.to_dict()["vacuous"] is True
    assert not CheckRow("corollary6_tv", 0.3, 0.2, 0.0).vacuous


def test_check_row_reports_failure():
    row = CheckRow("theorem4_tv", measured=0.1, bound=0.2, tolerance=0.05)
    assert not row.passed
    assert row.status == "FAIL"
    assert CheckRow("theorem4_tv", 0.1, 0.2, 0.1).status == "PASS"


@pytest.mark.parametrize("kwargs,name", [
    ({"lip": 0.0}, "lip"), ({"lip": math.inf}, "lip"), ({"m": -1.0}, "m"), ({"mass_left": 1.5}, "mass_left"),
    ({"mass_left": 0.1, "mass_right": 0.1}, "mass_left \\+ mass_right"),
    ({"mass_below": 0.6}, "mass_below must be at most mass_left"),
    ({"mass_above": 0.7}, "mass_above must be at most mass_right"),
    ({"radii": [1.0, float("nan")]}, "radii"), ({"radii": [-1.0]}, "radii"), ({"radii": []}, "radii"),
])
def test_compute_bounds_rejects_bad_input(kwargs, name):
    arguments = {"lip": 1.0, "m": 1.0, "mass_left": 0.5, "mass_right": 0.5, "mass_below": 0.2, "mass_above": 0.2}
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=name):
        compute_bounds(**arguments)


@pytest.mark.parametrize("call,name", [
    (lambda: kl_bin(0.3, 1.5), "b"),
    (lambda: kl_bin(np.array([0.1, np.nan]), 0.5), "a"),
    (lambda: lipschitz_implied_by_masses(-3.0, 0.1, 0.1, 0.1), "m"),
    (lambda: lipschitz_implied_by_masses(3.0, float("nan"), 0.1, 0.1), "mass_below"),
    (lambda: lipschitz_implied_by_masses(3.0, 0.1, 0.1, -0.5), "mass_between"),
    (lambda: run_checks(compute_bounds(1.0, 1.0, 0.5, 0.5, 0.2, 0.2), 0.1, 0.1, 0.1, -1.0, 0.0, 0.0),
     "tv_tolerance"),
    (lambda: run_checks(compute_bounds(1.0, 1.0, 0.5, 0.5, 0.2, 0.2), 0.1, 0.1, 0.1, 0.0, float("nan"), 0.0),
     "kl_tolerance"),
    (lambda: radius_grid(-1.0), "m"),
    (lambda: radius_grid(1.0, lip=0.0), "lip"),
    (lambda: radius_grid(1.0, n_points=0), "n_points"),
])
def test_check_helpers_reject_bad_input(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_implied_lipschitz_inverts_theorem1():
    # At the implied constant the Theorem 1 bound on the mass between equals the measured mass.
    m, below, above, between = 4.0, 0.3, 0.45, 0.1
    lip = lipschitz_implied_by_masses(m, below, above, between)
    bounds = compute_bounds(lip, m, 0.5, 0.5, below, above)
    assert bounds.mass_between == pytest.approx(between, rel=1e-9)
    assert lipschitz_implied_by_masses(m, 0.0, 1.0, 0.0) == 0.0
    assert lipschitz_implied_by_masses(m, 0.3, 0.4, 0.0) == math.inf


def test_implied_lipschitz_below_exact_constant():
    for seed in range(4):
        pl = _random_generator(seed, scale=[1.0, 10.0, 50.0, 200.0][seed])
        m = 3.0
        implied = lipschitz_implied_by_masses(m, _mass(pl, -np.inf, -m / 2), _mass(pl, m / 2, np.inf),
                                              _mass(pl, -m / 2, m / 2))
        assert implied <= float(pl.lipschitz_constant()) * (1 + 1e-9)
