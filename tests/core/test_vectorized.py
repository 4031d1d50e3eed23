"""Float64 path against the mpmath path at 40 digits."""

import mpmath
import numpy as np
import pytest

import isobounds
from isobounds import vectorized


def mp_beta(p, r, lip):
    """beta = Phi(r / lip + Phi_inv(p)) - p at 60 digits, from the mpmath kernels."""
    with mpmath.workdps(60):
        p, r, lip = mpmath.mpf(p), mpmath.mpf(r), mpmath.mpf(lip)
        x = mpmath.sqrt(2) * mpmath.erfinv(2 * p - 1) if 1e-10 < p < 1 - 1e-10 else isobounds.Phi_inv(p, dps=60)
        return mpmath.ncdf(x + r / lip) - p


@pytest.mark.parametrize(
    "p, r, lip",
    [(0.3, 1.0, 1.0), (0.5, 1e-12, 1.0), (0.3, 1e-9, 1.0), (0.3, 1e-5, 1.0), (0.9, 0.01, 2.0), (1e-300, 2.0, 1.0), (0.999, 3.0, 1.0), (0.02, 1e-2, 0.5)],
)
def test_shell_mass_matches_mpmath(p, r, lip):
    value = vectorized.shell_mass_lower_bound(p, r, lip)
    reference = float(mp_beta(p, r, lip))
    assert value == pytest.approx(reference, rel=1e-12, abs=0)


def test_shell_mass_edge_values():
    beta = vectorized.shell_mass_lower_bound([0.0, 1.0, 0.4], [1.0, 1.0, 0.0], [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(beta, [0.0, 0.0, 0.0])


def test_infinite_radius_rejected_like_scalar_path():
    with pytest.raises(ValueError, match="r must not contain NaN or infinite values, got r=inf"):
        vectorized.shell_mass_lower_bound(0.4, np.inf, 1.0)


def test_extension_mass_matches_mpmath():
    p = np.array([1e-300, 1e-5, 0.3, 0.5, 0.99])
    alpha = vectorized.extension_mass_lower_bound(p, 2.0, 3.0)
    with mpmath.workdps(40):
        reference = [float(mpmath.ncdf(mpmath.mpf(2) / 3 + isobounds.Phi_inv(mpmath.mpf(float(q)), dps=40))) for q in p]
    # At p = 1e-300, x = Phi_inv(p) ~ -37 carries an absolute error of about
    # 37 * 2**-53, which Phi amplifies by |x|: about 2e-13 relative.
    np.testing.assert_allclose(alpha, reference, rtol=1e-12)


def test_gaussian_mass_vectorized_tails():
    a = np.array([30.0, -31.0, -1e-10, 2.0])
    b = np.array([31.0, -30.0, 1e-10, 3.0])
    out = vectorized.gaussian_mass(a, b)
    with mpmath.workdps(40):
        reference = [float(mpmath.ncdf(mpmath.mpf(float(y))) - mpmath.ncdf(mpmath.mpf(float(x)))) if x < 0 else float(mpmath.ncdf(-mpmath.mpf(float(x))) - mpmath.ncdf(-mpmath.mpf(float(y)))) for x, y in zip(a, b)]
    np.testing.assert_allclose(out, reference, rtol=1e-12)


def test_isoperimetric_profile_near_one():
    p = np.array([1 - 2.0**-40, 0.5, 2.0**-40])
    out = vectorized.isoperimetric_profile(p)
    assert out[0] == pytest.approx(out[2], rel=1e-14)
    assert out[1] == pytest.approx(1 / np.sqrt(2 * np.pi), rel=1e-15)


@pytest.mark.parametrize(
    "kwargs, name",
    [({"p": [0.2, 1.2], "r": 1.0, "lip": 1.0}, "p"), ({"p": 0.2, "r": -1.0, "lip": 1.0}, "r"), ({"p": 0.2, "r": 1.0, "lip": 0.0}, "lip"), ({"p": [np.nan], "r": 1.0, "lip": 1.0}, "p")],
)
def test_theorem1_bad_input(kwargs, name):
    with pytest.raises(ValueError, match=name):
        vectorized.shell_mass_lower_bound(**kwargs)


def test_extension_mass_at_radius_zero():
    # rho(A_0) = rho(A): at r = 0 the bound must return p itself, and for r > 0 it must not fall
    # below p. Phi(ndtri(p)) rounded to 9.999999999998976e-301 at p = 1e-300, and in the
    # other direction it could have claimed more mass than the set has.
    p = np.concatenate([10.0 ** -np.arange(0, 308, 7), 1 - 10.0 ** -np.arange(1, 17), [0.5, 0.3, 5e-324]])
    assert np.array_equal(vectorized.extension_mass_lower_bound(p, 0.0, 1.0), p)
    for c in (1e-300, 1e-12, 1e-3):
        assert np.all(vectorized.extension_mass_lower_bound(p, c, 1.0) >= p)
