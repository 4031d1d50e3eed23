r"""Exact push-forwards of Gaussians by piecewise-linear maps.

A ReLU or LeakyReLU network with one input and one output is a continuous
piecewise-linear map ``g``; its push-forward :math:`g \# N(0, 1)` has
explicit masses (Gaussian masses of preimages), an explicit density (a sum
over preimages) and atoms on the flat pieces. This package builds ``g`` from
the network's weights, evaluates these quantities exactly, and computes the
total variation and KL divergence to a target without histograms, so the
bounds of Salmona et al. (2022) can be checked against true distances.

- :class:`PiecewiseLinearMap`: the map, ``from_mlp``, ``lipschitz_constant``;
- :class:`PushforwardMeasure`: ``mass``, ``cdf``, ``sf``, ``pdf``, ``atoms``;
- :func:`tv_distance`, :func:`kl_divergence`: :class:`DistanceResult` values
  with error estimates;
- :class:`RidgeMap`: ``z -> h(<w, z>)`` from R^p, push-forward ``h#N(0, |w|^2)``.

Examples
--------
>>> import numpy as np
>>> from isobounds.pushforward import PiecewiseLinearMap
>>> g = PiecewiseLinearMap.from_mlp([np.array([[1.0], [-1.0]]), np.array([[1.0, -1.0]])],
...                                 [np.zeros(2), np.zeros(1)], negative_slope=0.5)
>>> g.knots, g.slopes
(array([0.]), array([1.5, 1.5]))

References
----------
A. Salmona, V. De Bortoli, J. Delon, A. Desolneux, "Can Push-forward
Generative Models Fit Multimodal Distributions?", NeurIPS 2022.
"""

from .distances import DistanceResult, kl_divergence, tv_distance
from .measure import PushforwardMeasure
from .piecewise import SKIP_KINDS, PiecewiseLinearMap, skip_wiring
from .ridge import RidgeMap

from_mlp = PiecewiseLinearMap.from_mlp

__all__ = [
    "PiecewiseLinearMap",
    "PushforwardMeasure",
    "RidgeMap",
    "DistanceResult",
    "from_mlp",
    "tv_distance",
    "kl_divergence",
    "skip_wiring",
    "SKIP_KINDS",
]
