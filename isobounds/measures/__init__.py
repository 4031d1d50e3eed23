"""Target measures whose masses of sets are computed exactly (or, for scipy laws, in float64).

- :class:`GaussianMixture`: isotropic Gaussian mixtures in any dimension,
  exact at the working precision.
- :class:`UnivariateDistribution`: a frozen ``scipy.stats`` law on R, float64.
- :class:`DisconnectedSupport`: uniform laws on disjoint intervals or balls,
  exact, with the distances between pieces.
- :class:`EmpiricalMeasure`: the uniform law on a sample.

Each has ``dim``, ``mass(set, *, dps=None)`` returning ``mpmath.mpf`` and
``sample(n, rng)``, with ``pdf``, ``cdf`` and ``logpdf`` where they make sense.
"""

from ._base import Measure
from .disconnected import DisconnectedSupport
from .empirical import EmpiricalMeasure
from .gaussian_mixture import GaussianMixture
from .univariate import UnivariateDistribution

__all__ = ["Measure", "GaussianMixture", "UnivariateDistribution", "DisconnectedSupport", "EmpiricalMeasure"]
