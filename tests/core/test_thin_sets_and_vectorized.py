"""Empty and thin sets under a Gaussian mixture, and the float64 Gaussian masses of thin intervals.

Every reference is computed independently of the library: with mpmath's
ncdf, gammainc or erfc at 100 digits and more, or from a closed form stated
next to the test.
"""

import warnings

import mpmath
import numpy as np
import pytest

from isobounds import vectorized
from isobounds.measures import GaussianMixture, gaussian_mixture
from isobounds.sets import Annulus, HalfSpace, Interval, Slab


def rel_err(value, reference):
    with mpmath.workdps(400):
        return abs(mpmath.mpf(value) / reference - 1)


def ref_interval_mass(a, b, dps=400):
    """``Phi(b) - Phi(a)`` for floats or mpf ``a <= b``, on the side of 0 where it does not cancel."""
    with mpmath.workdps(dps):
        a, b = mpmath.mpf(a), mpmath.mpf(b)
        if a >= 0:
            return mpmath.ncdf(-a) - mpmath.ncdf(-b)
        return mpmath.ncdf(b) - mpmath.ncdf(a)


# ---------------------------------------------------------------------------
# Empty annulus: inner == outer.


@pytest.mark.parametrize("dim, radius", [(2, 1.0), (3, 30.0), (5, "2.5")])
def test_empty_annulus_mass_is_zero(dim, radius, monkeypatch):
    # stable_difference would raise the precision up to 100,000 bits on the exactly zero
    # difference, which took minutes, so the empty annulus must not reach it.
    def fail(*args, **kwargs):
        raise AssertionError("stable_difference called for an empty annulus")

    monkeypatch.setattr(gaussian_mixture, "stable_difference", fail)
    mixture = GaussianMixture(["0.5", "0.5"], [[0.0] * dim, [1.0] + [0.0] * (dim - 1)], [1, 2])
    assert mixture.mass(Annulus([0.0] * dim, radius, radius)) == 0


def test_thin_annulus_mass_still_resolved():
    # A centred component: |X|^2 follows the chi-square law with 3 degrees of freedom.
    mixture = GaussianMixture(["1"], [[0, 0, 0]], [1])
    inner, outer = "1", "1.000000000000000000000000001"
    mass = mixture.mass(Annulus([0, 0, 0], inner, outer))
    with mpmath.workdps(200):
        reference = mpmath.gammainc(
            mpmath.mpf(3) / 2, mpmath.mpf(inner) ** 2 / 2, mpmath.mpf(outer) ** 2 / 2, regularized=True
        )
    assert reference > 0
    assert rel_err(mass, reference) < mpmath.mpf("1e-28")


# ---------------------------------------------------------------------------
# Thin slabs keep the digits of string endpoints like intervals do.

THIN_UPPER = "10.000000000000000000001"


def ref_two_component_mass(lower, upper, scale=1):
    """Mass of ``{lower < <u, x> <= upper}`` under ``N((-50, 0), 1) / 2 + N((50, 0), 4) / 2``, ``u = n / scale``."""
    with mpmath.workdps(200):
        lower = mpmath.mpf(lower) / scale
        upper = mpmath.mpf(upper) / scale
        near = ref_interval_mass(lower + 50, upper + 50, dps=200)
        far = ref_interval_mass((lower - 50) / 2, (upper - 50) / 2, dps=200)
        return (near + far) / 2


@pytest.mark.parametrize("normal, scale", [([1, 0], 1), ([2, 0], 2), ([-1, 0], -1)])
def test_thin_slab_mass_matches_reference(normal, scale):
    mixture = GaussianMixture(["0.5", "0.5"], [[-50, 0], [50, 0]], [1, 2])
    if scale > 0:
        slab = Slab(normal, 10, THIN_UPPER)
        reference = ref_two_component_mass(10, THIN_UPPER, scale)
    else:
        # The normal (-1, 0) turns {10 < x_1 <= hi} into {-hi < -x_1 <= -10}.
        slab = Slab(normal, "-" + THIN_UPPER, -10)
        reference = ref_two_component_mass(10, THIN_UPPER)
    assert rel_err(mixture.mass(slab), reference) < mpmath.mpf("1e-29")


def test_thin_slab_diagonal_normal():
    # u = (1, 1) / sqrt(2), a single standard component at the origin: <u, X> ~ N(0, 1).
    mixture = GaussianMixture(["1"], [[0, 0]], [1])
    mass = mixture.mass(Slab([1, 1], 10, THIN_UPPER))
    with mpmath.workdps(200):
        root2 = mpmath.sqrt(2)
        reference = ref_interval_mass(10 / root2, mpmath.mpf(THIN_UPPER) / root2, dps=200)
    assert rel_err(mass, reference) < mpmath.mpf("1e-29")


def test_thin_slab_as_accurate_as_interval():
    one_dim = GaussianMixture(["0.5", "0.5"], [-50, 50], [1, 2])
    two_dim = GaussianMixture(["0.5", "0.5"], [[-50, 0], [50, 0]], [1, 2])
    reference = ref_two_component_mass(10, THIN_UPPER)
    interval_error = rel_err(one_dim.mass(Interval(10, THIN_UPPER)), reference)
    slab_error = rel_err(two_dim.mass(Slab([1, 0], 10, THIN_UPPER)), reference)
    assert slab_error <= max(10 * interval_error, mpmath.mpf("1e-30"))


def test_halfspace_string_offset_keeps_digits():
    mixture = GaussianMixture(["1"], [[0, 0]], [1])
    offset = "-10.000000000000000000000000000000000001"
    with mpmath.workdps(60):
        mass = mixture.mass(HalfSpace([1, 0], offset), dps=45)
    with mpmath.workdps(200):
        reference = mpmath.ncdf(mpmath.mpf(offset))
    assert rel_err(mass, reference) < mpmath.mpf("1e-43")


# ---------------------------------------------------------------------------
# vectorized.gaussian_mass of thin and wide intervals.

POSITIONS = [0.0, 1e-3, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0]
WIDTHS = [1e-300, 1e-200, 1e-100, 1e-30, 1e-14, 1e-12, 1e-9, 1e-6, 1e-3, 0.05, 0.3, 0.69, 1.0]


@pytest.mark.parametrize("sign", [1.0, -1.0])
@pytest.mark.parametrize("position", POSITIONS)
def test_vectorized_gaussian_mass_relative_error(sign, position):
    a = np.full(len(WIDTHS), sign * position)
    b = a + np.array(WIDTHS)
    # Widths below the spacing of doubles near a give b == a, an empty interval.
    a, b = a[b > a], b[b > a]
    masses = vectorized.gaussian_mass(a, b)
    for lower, upper, mass in zip(a, b, masses):
        reference = ref_interval_mass(float(lower), float(upper))
        assert reference > 0
        assert rel_err(mass, reference) < 1e-14, f"[{lower!r}, {upper!r}]"


@pytest.mark.parametrize(
    "a, width",
    [(10.0, 1e-10), (1.0, 1e-12), (-1.0, 1e-13), (1e-3, 1e-14), (-30.0, 1e-8), (0.5, 1e-9)],
)
def test_vectorized_gaussian_mass_reported_cases(a, width):
    b = a + width
    mass = vectorized.gaussian_mass(np.array([a]), np.array([b]))[0]
    assert rel_err(mass, ref_interval_mass(a, b)) < 1e-14


def test_vectorized_gaussian_mass_straddling_and_infinite():
    a = np.array([-1e-300, -0.3, -np.inf, -np.inf, 2.0])
    b = np.array([1e-300, 0.2, np.inf, -1.0, np.inf])
    masses = vectorized.gaussian_mass(a, b)
    references = [ref_interval_mass(x, y) for x, y in zip(a, b)]
    for mass, reference in zip(masses, references):
        assert rel_err(mass, reference) < 1e-14


def test_vectorized_gaussian_mass_far_tail_is_zero():
    masses = vectorized.gaussian_mass(np.array([45.0, -46.0, 1e200]), np.array([45.5, -45.0, np.inf]))
    assert np.all(masses == 0)


# ---------------------------------------------------------------------------
# Theorem 1 functions: overflowing r / lip, broadcast errors, 0-d results.


def test_shell_overflowing_ratio_without_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        shell = vectorized.shell_mass_lower_bound([0.3], [1e300], [1e-300])
        extension = vectorized.extension_mass_lower_bound([0.3], [1e300], [1e-300])
    # Phi(inf) - 0.3 and Phi(inf).
    assert shell[0] == 0.7
    assert extension[0] == 1.0


def test_shell_broadcast_error_names_shapes():
    with pytest.raises(ValueError, match=r"p of shape \(2,\), r of shape \(3,\) and lip of shape \(\)"):
        vectorized.shell_mass_lower_bound([0.3, 0.4], [1, 2, 3], 1.0)
    with pytest.raises(ValueError, match=r"p, r and lip must broadcast"):
        vectorized.extension_mass_lower_bound([0.3, 0.4], [1, 2, 3], 1.0)


def test_zero_dimensional_results_are_numpy_scalars():
    shell = vectorized.shell_mass_lower_bound(np.float64(0.3), np.array(1.0), 2.0)
    extension = vectorized.extension_mass_lower_bound(np.array(0.3), np.array(1.0), np.array(2.0))
    assert type(shell) is np.float64
    assert type(extension) is np.float64
    # Closed forms: beta = Phi(r / L + Phi_inv(p)) - p and alpha = Phi(r / L + Phi_inv(p)).
    with mpmath.workdps(50):
        alpha = mpmath.ncdf(mpmath.mpf(1) / 2 + mpmath.sqrt(2) * mpmath.erfinv(2 * mpmath.mpf(0.3) - 1))
        assert rel_err(extension, alpha) < 1e-14
        assert rel_err(shell, alpha - mpmath.mpf(0.3)) < 1e-14


def test_one_dimensional_results_stay_arrays():
    shell = vectorized.shell_mass_lower_bound([0.3], 1.0, 2.0)
    extension = vectorized.extension_mass_lower_bound([0.3], 1.0, 2.0)
    assert isinstance(shell, np.ndarray) and shell.shape == (1,)
    assert isinstance(extension, np.ndarray) and extension.shape == (1,)
