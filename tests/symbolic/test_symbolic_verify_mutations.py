"""``verify()`` must fail when a bound function is replaced by a wrong version.

Each mutation below is a plausible bug: the KL bracket with its validity
condition reversed, removed (the published, uncorrected Theorem 7) or off by
a relative 1e-3,
Theorem 4's bracket without its model-mass term ``max(0, rho(A) - nu(A))``,
and Corollary 5 with a wrong factor. The mutant is patched into the module
attribute that ``verify()`` calls. The KL bracket is also patched into
:mod:`isobounds.symbolic.bounds` alone, where ``kl_lower_bound_two_gaussians``
calls it. Each test names the claim of the report that must fail.
"""

import pytest
import sympy

from isobounds.symbolic import bounds, verification, verify
from isobounds.symbolic.bounds import shell_mass_lower_bound
from isobounds.symbolic.functions import Phi_inv, gaussian_mass, kl_bin

POINTS = 10


def kl_bracket_condition_reversed(target_shell_mass, r, lip, model_mass):
    """Theorem 7's bracket, kept where beta <= v instead of beta >= v."""
    beta = shell_mass_lower_bound(model_mass, r, lip)
    shell = sympy.sympify(target_shell_mass)
    return sympy.Piecewise((kl_bin(beta, shell), beta <= shell), (0, True))


def kl_bracket_published(target_shell_mass, r, lip, model_mass):
    """Theorem 7's bracket as published: kl(beta || v) for every set and radius."""
    return kl_bin(shell_mass_lower_bound(model_mass, r, lip), sympy.sympify(target_shell_mass))


def kl_bracket_condition_loose(target_shell_mass, r, lip, model_mass):
    """Theorem 7's bracket, kept down to beta >= v (1 - 1/1000)."""
    beta = shell_mass_lower_bound(model_mass, r, lip)
    shell = sympy.sympify(target_shell_mass)
    return sympy.Piecewise((kl_bin(beta, shell), beta >= shell * (1 - sympy.Rational(1, 1000))), (0, True))


def kl_bracket_condition_strict(target_shell_mass, r, lip, model_mass):
    """Theorem 7's bracket, kept only from beta >= v (1 + 1/1000)."""
    beta = shell_mass_lower_bound(model_mass, r, lip)
    shell = sympy.sympify(target_shell_mass)
    return sympy.Piecewise((kl_bin(beta, shell), beta >= shell * (1 + sympy.Rational(1, 1000))), (0, True))


def tv_bracket_without_model_term(target_mass, target_shell_mass, r, lip, model_mass=None):
    """Theorem 4's bracket with rho(A) in beta but without max(0, rho(A) - nu(A))."""
    mass = target_mass if model_mass is None else model_mass
    return shell_mass_lower_bound(mass, r, lip) - sympy.sympify(target_shell_mass)


def tv_disconnected_wrong_factor(weights, distances, lip):
    """Corollary 5 with D/L in place of D/(2L)."""
    weight = sympy.Max(weights, 1 - weights)
    start = Phi_inv(weight)
    return gaussian_mass(start, start + distances / lip)


def failed_claims(report):
    return [check.claim for check in report.failures]


def test_unmutated_verify_passes():
    report = verify(points=POINTS)
    assert report.passed, str(report)


@pytest.mark.parametrize(
    "module, attribute, mutant, failing_claim",
    [
        (verification, "kl_bracket", kl_bracket_condition_reversed, "where beta >= v, kl_bracket"),
        (verification, "kl_bracket", kl_bracket_published, "where beta < v, kl_bracket"),
        (verification, "kl_bracket", kl_bracket_condition_loose, "just above beta, kl_bracket"),
        (verification, "kl_bracket", kl_bracket_condition_strict, "just below beta, kl_bracket"),
        (bounds, "kl_bracket", kl_bracket_condition_reversed, "where a >= b, kl_lower_bound_two_gaussians"),
        (bounds, "kl_bracket", kl_bracket_published, "where a < b, kl_lower_bound_two_gaussians"),
        (verification, "tv_bracket", tv_bracket_without_model_term, "where rho(A) >= nu(A), tv_bracket"),
        (verification, "tv_lower_bound_disconnected", tv_disconnected_wrong_factor, "Theorem 1's beta(lambda, D/2, L)"),
    ],
    ids=[
        "kl-condition-reversed",
        "kl-published-formula",
        "kl-condition-loose-by-1e-3",
        "kl-condition-strict-by-1e-3",
        "kl-condition-reversed-inside-corollary-8",
        "kl-published-formula-inside-corollary-8",
        "tv-without-model-term",
        "corollary-5-wrong-factor",
    ],
)
def test_verify_fails_on_mutation(monkeypatch, module, attribute, mutant, failing_claim):
    monkeypatch.setattr(module, attribute, mutant)
    report = verify(points=POINTS)
    assert not report.passed
    assert any(failing_claim in claim for claim in failed_claims(report)), failed_claims(report)
