"""Hypothesis strategies for testing code built on isobounds.

Install with the ``testing`` extra (``pip install isobounds[testing]``), which
brings in hypothesis; the rest of isobounds does not import this package.

Strategies
----------
- :func:`probabilities`: masses in (0, 1), or [0, 1] with ``allow_zero``
  and ``allow_one``, with the extreme tails (1e-300,
  1 - 1e-16, the smallest subnormal) drawn often;
- :func:`lipschitz_constants`: positive finite Lipschitz constants from
  1e-3 to 1e300 by default;
- :func:`radii`: radii ``r >= 0`` of the extensions ``A_r``, 0 and tiny
  radii included, up to 20 by default;
- :func:`unit_vectors`: unit vectors of R^dim (every direction can be
  drawn, though not uniformly);
- :func:`gaussian_mixtures`: :class:`isobounds.measures.GaussianMixture`
  targets in any dimension;
- :func:`piecewise_linear_maps`: :class:`isobounds.pushforward.PiecewiseLinearMap`
  generators with a bounded number of pieces and Lipschitz constant;
- :func:`intervals`: :class:`isobounds.sets.Interval` sets of R;
- :func:`half_spaces`: :class:`isobounds.sets.HalfSpace` sets of R^dim;
- :func:`tight_bound_cases`: a generator, a target built around it, and a
  set and radius (:class:`BoundCase`) at which the total variation and KL
  lower bounds come within a fraction of a percent of the exact distances,
  so that a property test can tell a bound from an inflated one.

Example
-------
A property test that checks the isoperimetric inequality of Theorem 1 (2)
of Salmona et al. (2022) on exact push-forwards::

    from hypothesis import given
    from isobounds.bounds import extension_mass_lower_bound
    from isobounds.testing import intervals, piecewise_linear_maps, radii

    @given(piecewise_linear_maps(max_pieces=5, max_lip=10), intervals(), radii())
    def test_extension_mass_bound(g, A, r):
        rho = g.pushforward()
        alpha = extension_mass_lower_bound(rho.mass(A), r, g.lipschitz_constant())
        assert rho.mass(A.extension(r)) >= alpha * (1 - 1e-12)

References
----------
A. Salmona, V. De Bortoli, J. Delon, A. Desolneux, "Can Push-forward
Generative Models Fit Multimodal Distributions?", NeurIPS 2022.
"""

from .strategies import (
    EXTREME_PROBABILITIES,
    BoundCase,
    gaussian_mixtures,
    half_spaces,
    intervals,
    lipschitz_constants,
    piecewise_linear_maps,
    probabilities,
    radii,
    tight_bound_cases,
    unit_vectors,
)

__all__ = [
    "EXTREME_PROBABILITIES",
    "probabilities",
    "lipschitz_constants",
    "radii",
    "unit_vectors",
    "gaussian_mixtures",
    "piecewise_linear_maps",
    "intervals",
    "half_spaces",
    "BoundCase",
    "tight_bound_cases",
]
