"""Lower bounds of Salmona et al. (2022) on push-forwards of N(0, I_p) by Lipschitz maps.

- :mod:`.isoperimetry`: Theorem 1 (surface area, extension and shell masses).
- :mod:`.lipschitz`: Corollaries 2 and 3 (Lipschitz constant needed to fit a target exactly), and
  Corollary 6 inverted (the constant needed to come within a total variation).
- :mod:`.tv`: Theorem 4, Corollaries 5, S11 and 6 (total variation).
- :mod:`.kl`: Theorem 7 and Corollary 8, with their validity condition corrected (Kullback-Leibler).
- :mod:`.optimize`: the same bounds maximised over the radius.
- :mod:`.set_search`: Theorem 4 maximised over half-spaces and intervals as well.

Scalar arguments are computed with mpmath at the working precision (see
:func:`isobounds.precision`) and every function takes ``dps=``.

References
----------
A. Salmona, V. De Bortoli, J. Delon, A. Desolneux, "Can Push-forward
Generative Models Fit Multimodal Distributions?", NeurIPS 2022.
"""

from .isoperimetry import (
    extension_mass_lower_bound,
    shell_mass_lower_bound,
    surface_area_lower_bound,
)
from .kl import kl_bin, kl_lower_bound, kl_lower_bound_two_gaussians
from .lipschitz import (
    OTLipschitzConstant,
    lipschitz_lower_bound_for_tv,
    lipschitz_lower_bound_two_gaussians,
    ot_lipschitz_constant,
)
from .optimize import (
    OptimizedBound,
    maximize_kl_over_radius,
    maximize_tv_over_radius,
    maximize_tv_two_gaussians,
)
from .set_search import maximize_tv_over_half_spaces, maximize_tv_over_intervals
from .tv import (
    MAX_PIECES,
    DisconnectedBound,
    tv_lower_bound,
    tv_lower_bound_disconnected,
    tv_lower_bound_two_gaussians,
)

__all__ = [
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
