"""isobounds: Gaussian isoperimetry bounds for push-forward generative models.

A model ``g#N(0, I_p)`` whose generator ``g`` is ``L``-Lipschitz cannot put
little mass between well-separated modes, so its total variation and
Kullback-Leibler distances to a multimodal target are bounded below by
explicit functions of ``L`` and the separation (Salmona et al., 2022).

Scalar functions compute with mpmath at the working precision (30 digits by
default; see :func:`precision`) and return ``mpmath.mpf``; numpy arrays go
through the float64 functions of :mod:`isobounds.vectorized`.

Subpackages imported on demand: :mod:`isobounds.symbolic` (sympy
expressions and ``verify()``), :mod:`isobounds.pushforward` (exact
push-forwards of piecewise-linear maps), :mod:`isobounds.testing`
(hypothesis strategies).

References
----------
A. Salmona, V. De Bortoli, J. Delon, A. Desolneux, "Can Push-forward
Generative Models Fit Multimodal Distributions?", NeurIPS 2022.
"""

from ._precision import get_dps, precision
from .bounds import (
    MAX_PIECES,
    DisconnectedBound,
    OptimizedBound,
    OTLipschitzConstant,
    extension_mass_lower_bound,
    kl_bin,
    kl_lower_bound,
    kl_lower_bound_two_gaussians,
    lipschitz_lower_bound_for_tv,
    lipschitz_lower_bound_two_gaussians,
    maximize_kl_over_radius,
    maximize_tv_over_half_spaces,
    maximize_tv_over_intervals,
    maximize_tv_over_radius,
    maximize_tv_two_gaussians,
    ot_lipschitz_constant,
    shell_mass_lower_bound,
    surface_area_lower_bound,
    tv_lower_bound,
    tv_lower_bound_disconnected,
    tv_lower_bound_two_gaussians,
)
from .gaussian import (
    Phi,
    Phi_c,
    Phi_c_inv,
    Phi_inv,
    gaussian_mass,
    isoperimetric_profile,
    log_Phi,
    phi,
)
from .measures import DisconnectedSupport, EmpiricalMeasure, GaussianMixture, Measure, UnivariateDistribution
from .sets import (
    Annulus,
    AnnulusComplement,
    Ball,
    BallComplement,
    EmptySet,
    HalfSpace,
    Interval,
    IntervalUnion,
    Set,
    SetUnion,
    Slab,
    SlabComplement,
    WholeSpace,
)

__version__ = "0.1.0"

__all__ = [
    # precision
    "precision",
    "get_dps",
    # Gaussian functions
    "phi",
    "Phi",
    "Phi_c",
    "log_Phi",
    "Phi_inv",
    "Phi_c_inv",
    "isoperimetric_profile",
    "gaussian_mass",
    # sets
    "Set",
    "EmptySet",
    "WholeSpace",
    "SetUnion",
    "Interval",
    "IntervalUnion",
    "HalfSpace",
    "Slab",
    "SlabComplement",
    "Ball",
    "Annulus",
    "AnnulusComplement",
    "BallComplement",
    # target measures
    "Measure",
    "GaussianMixture",
    "UnivariateDistribution",
    "DisconnectedSupport",
    "EmpiricalMeasure",
    # bounds
    "surface_area_lower_bound",
    "extension_mass_lower_bound",
    "shell_mass_lower_bound",
    "lipschitz_lower_bound_two_gaussians",
    "lipschitz_lower_bound_for_tv",
    "ot_lipschitz_constant",
    "OTLipschitzConstant",
    "tv_lower_bound",
    "tv_lower_bound_disconnected",
    "tv_lower_bound_two_gaussians",
    "DisconnectedBound",
    "MAX_PIECES",
    "kl_bin",
    "kl_lower_bound",
    "kl_lower_bound_two_gaussians",
    "OptimizedBound",
    "maximize_tv_over_radius",
    "maximize_kl_over_radius",
    "maximize_tv_two_gaussians",
    "maximize_tv_over_half_spaces",
    "maximize_tv_over_intervals",
]

_LAZY_SUBPACKAGES = ("symbolic", "pushforward", "testing")


def __getattr__(name):
    """Import a subpackage of :data:`_LAZY_SUBPACKAGES` on first access, so that ``import isobounds`` stays light."""
    if name in _LAZY_SUBPACKAGES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
