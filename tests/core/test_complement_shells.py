"""Model-free Theorem 4 for slabs and annuli, whose complements are unions of two pieces."""

import mpmath
import pytest

from isobounds import tv_lower_bound
from isobounds.measures import GaussianMixture
from isobounds.sets import Annulus, AnnulusComplement, Interval, Slab, SlabComplement, WholeSpace


def _beta(mass, c):
    return mpmath.ncdf(c + mpmath.sqrt(2) * mpmath.erfinv(2 * mass - 1)) - mass


def _ring_mass(inner, outer):
    """Mass of {inner < |x| <= outer} under N(0, I_2): exp(-inner^2 / 2) - exp(-outer^2 / 2)."""
    return mpmath.exp(-mpmath.mpf(inner) ** 2 / 2) - mpmath.exp(-mpmath.mpf(outer) ** 2 / 2)


@pytest.mark.parametrize("r", ["0.1", "0.25", "0.6"])
def test_annulus_bound_matches_radial_formula(r):
    # N(0, I_2) and A = {1 < |x| <= 3}: every mass is a difference of
    # exp(-rho^2 / 2), and the two sides are written out by hand.
    r, lip = mpmath.mpf(r), mpmath.mpf("0.5")
    with mpmath.workdps(50):
        inside = _ring_mass(1, 3)
        side_a = _beta(inside, r / lip) - _ring_mass(1 - r, 1) - _ring_mass(3, 3 + r)
        side_b = _beta(1 - inside, r / lip) - _ring_mass(1, 1 + r) - _ring_mass(3 - r, 3)
        expected = max(min(side_a, side_b), 0)
    target = GaussianMixture([1], [[0, 0]], 1)
    value = tv_lower_bound(Annulus((0, 0), 1, 3), r, lip, target=target)
    assert expected > 0
    assert abs(value - expected) <= mpmath.mpf("1e-25") * expected


@pytest.mark.parametrize("r", ["0.5", "2", "3"])
def test_slab_bound_matches_interval_bound(r):
    # A slab across the x axis of a 2-D mixture whose means lie on that axis
    # is the interval (0, 8] of the projected 1-D mixture, whose complement
    # goes through the interval code instead.
    target_2d = GaussianMixture([0.3, 0.7], [[-4, 1], [4, -2]], 1.5)
    target_1d = GaussianMixture([0.3, 0.7], [-4, 4], 1.5)
    slab = tv_lower_bound(Slab((1, 0), 0, 8), r, 0.7, target=target_2d)
    interval = tv_lower_bound(Interval(0, 8), r, 0.7, target=target_1d)
    assert interval > 0
    assert abs(slab - interval) <= mpmath.mpf("1e-25") * max(abs(interval), mpmath.mpf("1e-30"))


def test_complement_sets_round_trip():
    slab = Slab((0, 2), -1, 3)
    annulus = Annulus((1, 1), 0.5, 2)
    assert isinstance(slab.complement(), SlabComplement)
    assert slab.complement().complement() == slab
    assert isinstance(annulus.complement(), AnnulusComplement)
    assert annulus.complement().complement() == annulus


def test_complement_extension_and_shell_limits():
    slab_complement = Slab((1, 0), -1, 1).complement()
    assert slab_complement.extension(1) == WholeSpace(2)
    assert slab_complement.shell(1) == Slab((1, 0), -1, 1)
    assert slab_complement.extension(0.25).complement() == Slab((1, 0), -0.75, 0.75)

    ring_complement = Annulus((0, 0), 0, 2).complement()
    # The centre point belongs to the complement, so its shell starts at the centre.
    assert ring_complement.shell(0.5).pieces[0] == Annulus((0, 0), 0, 0.5)
    assert ring_complement.extension(1) == WholeSpace(2)


def test_empty_slab_and_annulus_complements_are_whole_space():
    assert Slab((1, 0), 2, 2).complement() == WholeSpace(2)
    assert Annulus((0, 0), 1, 1).complement() == WholeSpace(2)
