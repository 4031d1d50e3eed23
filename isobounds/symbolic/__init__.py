r"""Symbolic layer: the bounds of Gaussian isoperimetry as sympy expressions.

The Gaussian functions :class:`phi`, :class:`Phi`, :class:`Phi_inv`,
:class:`isoperimetric_profile` (alias ``I``), the Gaussian mass of an
interval :class:`gaussian_mass` and the binary KL divergence
:class:`kl_bin` are sympy functions with derivatives, LaTeX printing and
mpmath evaluation. The bound functions carry the same names and argument
order as the numeric core and return sympy expressions of whatever symbols or
numbers they receive; :func:`latex` prints a bound by name, and
:func:`verify` checks the identities behind the theorems and returns a
report that separates symbolic proofs from numerical checks.

Only sympy and mpmath are imported (numpy only when an expression is
lambdified to numpy).

Examples
--------
>>> import sympy
>>> from isobounds.symbolic import Phi, shell_mass_lower_bound
>>> p, r, L = sympy.symbols("p r L", positive=True)
>>> beta = shell_mass_lower_bound(p, r, L)
>>> beta
gaussian_mass(Phi_inv(p), Phi_inv(p) + r/L)
>>> beta.rewrite(Phi)
-p + Phi(Phi_inv(p) + r/L)
>>> sympy.N(shell_mass_lower_bound(sympy.Rational(1, 2), 1, 10**300), 20)
3.9894228040143267794e-301

References
----------
A. Salmona, V. De Bortoli, J. Delon, A. Desolneux, "Can Push-forward
Generative Models Fit Multimodal Distributions?", NeurIPS 2022.
"""

from .bounds import (
    FORMULA_NAMES,
    extension_mass_lower_bound,
    formula,
    kl_bracket,
    kl_lower_bound_two_gaussians,
    latex,
    lipschitz_lower_bound_two_gaussians,
    shell_mass_lower_bound,
    surface_area_lower_bound,
    tv_bracket,
    tv_lower_bound_disconnected,
    tv_lower_bound_two_gaussians,
    two_gaussian_shell_mass,
)
from .functions import Phi, Phi_inv, gaussian_mass, isoperimetric_profile, kl_bin, phi, rewrite_with_erf
from .verification import Check, VerificationReport, verify

I = isoperimetric_profile
"""Short name of :class:`isoperimetric_profile`, the notation of Salmona et al. (2022).

NOTE: ``I`` is left out of ``__all__`` so that ``from isobounds.symbolic import *``
does not shadow sympy's imaginary unit ``sympy.I``.
"""

__all__ = [
    "phi",
    "Phi",
    "Phi_inv",
    "isoperimetric_profile",
    "gaussian_mass",
    "kl_bin",
    "rewrite_with_erf",
    "surface_area_lower_bound",
    "extension_mass_lower_bound",
    "shell_mass_lower_bound",
    "lipschitz_lower_bound_two_gaussians",
    "tv_bracket",
    "tv_lower_bound_two_gaussians",
    "tv_lower_bound_disconnected",
    "kl_bracket",
    "kl_lower_bound_two_gaussians",
    "two_gaussian_shell_mass",
    "formula",
    "latex",
    "FORMULA_NAMES",
    "verify",
    "Check",
    "VerificationReport",
]
