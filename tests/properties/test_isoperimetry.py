"""Theorem 1 of Salmona et al. (2022) on exact piecewise-linear push-forwards.

For ``rho = g#N(0, 1)`` with ``g`` piecewise linear, ``rho(A)``, ``rho(A_r)``
and ``rho(A_r \\ A)`` are exact Gaussian masses of preimages (30 digits),
and ``Lip(g)`` is the exact largest slope, so each inequality is checked
without any statistical slack: the tolerance only covers the last digits.
"""

import mpmath
from hypothesis import example, given
from hypothesis import strategies as st

from isobounds.bounds import extension_mass_lower_bound, shell_mass_lower_bound, surface_area_lower_bound
from isobounds.gaussian import isoperimetric_profile
from isobounds.pushforward import PiecewiseLinearMap
from isobounds.sets import Interval
from isobounds.testing import intervals, lipschitz_constants, piecewise_linear_maps, radii

MAPS = piecewise_linear_maps(max_pieces=7, max_lip=20.0)
# A steep ramp whose push-forward puts mass 1e-300-ish in the far tails.
STEEP = PiecewiseLinearMap([-1.0, 1.0], [-1e3, 1e3], 1e-3, 1e-3)
TOLERANCE = mpmath.mpf(10) ** -25


@given(MAPS, intervals(), radii(), st.floats(min_value=1.0, max_value=1e3))
@example(STEEP, Interval(-1e3, -999), 0.5, 1.0)
@example(STEEP, Interval(-40, -38), 1e-6, 1.0)
@example(PiecewiseLinearMap([0.0], [0.0], 1.0, 1.0), Interval(-float("inf"), -37), 1.0, 1.0)
def test_extension_mass_bound(g, A, r, lip_factor):
    """Theorem 1 (2): rho(A_r) >= Phi(r / L + Phi_inv(rho(A))) for every L >= Lip(g)."""
    rho = g.pushforward()
    with mpmath.workdps(40):
        lip = g.lipschitz_constant() * lip_factor
        alpha = extension_mass_lower_bound(rho.mass(A), r, lip)
        extension = rho.mass(A.extension(r))
        assert extension >= alpha * (1 - TOLERANCE)


@given(MAPS, intervals(), radii())
@example(STEEP, Interval(-1e3, -999), 0.5)
def test_shell_mass_bound(g, A, r):
    """Theorem 1: rho(A_r minus A) >= beta = alpha - rho(A) >= 0."""
    rho = g.pushforward()
    lip = g.lipschitz_constant()
    with mpmath.workdps(40):
        beta = shell_mass_lower_bound(rho.mass(A), r, lip)
        assert beta >= 0
        shell = rho.mass(A.shell(r)) if r > 0 else mpmath.mpf(0)
        assert shell >= beta * (1 - TOLERANCE) - TOLERANCE * rho.mass(A.extension(r))


@given(MAPS, intervals(min_length=1e-3), lipschitz_constants(min_value=1.0, max_value=1e6))
def test_surface_area_bound(g, A, lip_factor):
    """Theorem 1 (1): L rho^+(dA) >= I(rho(A)), with rho^+ an exact one-sided difference quotient.

    ``rho^+(dA) = lim (rho(A_e) - rho(A)) / e``; the quotient at ``e = 1e-30``
    with 80-digit masses differs from the limit by O(e) relative.
    """
    rho = g.pushforward()
    with mpmath.workdps(80):
        lip = g.lipschitz_constant(dps=60) * lip_factor
        e = mpmath.mpf(10) ** -30

        # The quotient is the mass of the two thin shells, each measured
        # directly (pairs keep the 80-digit ends; an Interval rounds them).
        shell = rho.mass((A.a - e, A.a), dps=80) if mpmath.isfinite(A.a) else 0
        shell += rho.mass((A.b, A.b + e), dps=80) if mpmath.isfinite(A.b) else 0
        surface = shell / e

        # I is symmetric, so the smaller of rho(A) and rho(complement) gives
        # the bound without the cancellation of a mass near 1.
        inner = min(rho.mass(A, dps=80), rho.mass(A.complement(), dps=80))
        bound = surface_area_lower_bound(inner, lip, dps=40)
        assert surface >= bound * (1 - mpmath.mpf(10) ** -20)
        assert abs(bound * lip - isoperimetric_profile(inner, dps=40)) <= mpmath.mpf(10) ** -35 * bound * lip
