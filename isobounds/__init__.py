"""isobounds: Gaussian isoperimetry bounds for push-forward generative models.

A model ``g#N(0, I_p)`` whose generator ``g`` is ``L``-Lipschitz cannot put
little mass between well-separated modes, so its total variation and
Kullback-Leibler distances to a multimodal target are bounded below by
explicit functions of ``L`` and the separation (Salmona et al., 2022).

References
----------
A. Salmona, V. De Bortoli, J. Delon, A. Desolneux, "Can Push-forward
Generative Models Fit Multimodal Distributions?", NeurIPS 2022.
"""

from ._precision import get_dps, precision
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

__version__ = "0.1.0"

__all__ = [
    "precision",
    "get_dps",
    "phi",
    "Phi",
    "Phi_c",
    "log_Phi",
    "Phi_inv",
    "Phi_c_inv",
    "isoperimetric_profile",
    "gaussian_mass",
]
