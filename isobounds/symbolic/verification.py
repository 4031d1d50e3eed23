r"""Computer-algebra checks of the identities behind the theorems.

:func:`verify` runs each check and returns a :class:`VerificationReport`.
A check is *proved symbolically* when sympy reduces the difference of its two
sides to 0, or decides the sign of an expression from the symbols'
assumptions. Every step it relies on is stated in the check's detail.
Before simplifying, each :class:`gaussian_mass` is rewritten as the
difference of two values of :math:`\Phi` that it stands for. A
claim that sympy does not settle is *checked numerically* at random points
at 50 digits, and the report never calls such a check a proof.

References
----------
A. Salmona, V. De Bortoli, J. Delon, A. Desolneux, "Can Push-forward
Generative Models Fit Multimodal Distributions?", NeurIPS 2022.
"""

import dataclasses
import random

import mpmath
import sympy
from sympy import S

from .._precision import workdps
from .bounds import (
    extension_mass_lower_bound,
    kl_bracket,
    kl_lower_bound_two_gaussians,
    lipschitz_lower_bound_two_gaussians,
    shell_mass_lower_bound,
    surface_area_lower_bound,
    tv_bracket,
    tv_lower_bound_disconnected,
    tv_lower_bound_two_gaussians,
)
from .functions import Phi, Phi_inv, gaussian_mass, isoperimetric_profile, kl_bin, phi, rewrite_with_erf

__all__ = ["PROVED", "CHECKED", "Check", "VerificationReport", "verify"]

PROVED = "proved symbolically"
CHECKED = "checked numerically"

_DIGITS_MARGIN = 5
_REFERENCE_GUARD_DIGITS = 20


@dataclasses.dataclass(frozen=True)
class Check:
    """Outcome of one check of :func:`verify`.

    Attributes
    ----------
    topic : str
        The result of Salmona et al. (2022) that the check concerns, e.g. ``"Theorem 7"``.
    claim : str
        The statement checked, in plain text.
    method : str
        :data:`PROVED` or :data:`CHECKED`.
    passed : bool
        True when the proof went through or every sampled point satisfied the claim.
    detail : str
        How it was proved, or the number of points, the precision and the
        worst deviation found.
    """

    topic: str
    claim: str
    method: str
    passed: bool
    detail: str

    @property
    def proved(self):
        """True when the claim was proved symbolically."""
        return self.method == PROVED and self.passed


@dataclasses.dataclass(frozen=True)
class VerificationReport:
    """Results of :func:`verify`, readable with ``print(report)``.

    Attributes
    ----------
    checks : tuple of Check
        Every check, in the order of the results.
    dps : int
        Significant digits of the numerical checks.
    points : int
        Random points per numerical check.
    seed : int
        Seed of the random points.
    """

    checks: tuple
    dps: int
    points: int
    seed: int

    @property
    def passed(self):
        """True when every check passed."""
        return all(check.passed for check in self.checks)

    @property
    def proved(self):
        """Checks proved symbolically."""
        return tuple(check for check in self.checks if check.method == PROVED)

    @property
    def checked_numerically(self):
        """Checks settled only by numerical evaluation, which are not proofs."""
        return tuple(check for check in self.checks if check.method == CHECKED)

    @property
    def failures(self):
        """Checks that failed."""
        return tuple(check for check in self.checks if not check.passed)

    def __str__(self):
        verdict = "all passed" if self.passed else f"{len(self.failures)} FAILED"
        lines = [f"isobounds.symbolic.verify(): {len(self.checks)} checks, {verdict}", ""]
        sections = (
            (f"Proved symbolically ({len(self.proved)}):", self.proved),
            (
                f"Checked numerically at {self.points} random points at {self.dps} digits, "
                f"not proved ({len(self.checked_numerically)}):",
                self.checked_numerically,
            ),
        )
        for title, checks in sections:
            lines.append(title)
            for check in checks:
                mark = "ok  " if check.passed else "FAIL"
                lines.append(f"  [{mark}] {check.topic}: {check.claim}")
                lines.append(f"         {check.detail}")
            lines.append("")
        return "\n".join(lines).rstrip() + "\n"


# ---------------------------------------------------------------------------
# Check machinery.
# ---------------------------------------------------------------------------

class _Sampler:
    """Random exact points for the numerical checks, reproducible from a seed."""

    def __init__(self, seed, points, dps):
        self.random = random.Random(seed)
        self.points = points
        self.dps = dps
        self.tolerance = sympy.Float(10) ** (_DIGITS_MARGIN - dps)

    def draw(self, domains):
        """Return ``points`` dicts mapping each symbol to a Rational drawn uniformly from its interval."""
        scale = 10**12
        samples = []
        for _ in range(self.points):
            point = {}
            for symbol, (low, high) in domains.items():
                fraction = sympy.Rational(self.random.randrange(1, scale), scale)
                point[symbol] = sympy.Rational(low) + (sympy.Rational(high) - sympy.Rational(low)) * fraction
            samples.append(point)
        return samples

    def evaluate(self, expr, point):
        return expr.evalf(self.dps, subs=point, maxn=4 * self.dps)


def _use_odd_erfinv(expr):
    """Replace ``erfinv(-u)`` by ``-erfinv(u)``: erfinv is the inverse of the odd function erf.

    sympy 1.14 applies ``erf(-u) = -erf(u)`` by itself but not the same rule for erfinv.
    """
    return expr.replace(
        lambda e: isinstance(e, sympy.erfinv) and e.args[0].could_extract_minus_sign(),
        lambda e: -sympy.erfinv(-e.args[0]),
    )


def _reduces_to_zero(difference, closed_form=True):
    """Return True when sympy simplifies ``difference`` to exactly 0."""
    if closed_form:
        difference = _use_odd_erfinv(rewrite_with_erf(difference))
    return sympy.simplify(difference) == 0


def _numeric_identity(sampler, lhs, rhs, domains):
    worst = S.Zero
    for point in sampler.draw(domains):
        left, right = sampler.evaluate(lhs, point), sampler.evaluate(rhs, point)
        scale = max(S.One, abs(left), abs(right))
        worst = max(worst, abs(left - right) / scale)
    passed = worst <= sampler.tolerance
    return passed, (
        f"largest |lhs - rhs| / max(1, |lhs|, |rhs|) = {sympy.Float(worst, 3)} "
        f"(tolerance {sympy.Float(sampler.tolerance, 2)})"
    )


def _numeric_inequality(sampler, larger, smaller, domains):
    tightest = None
    for point in sampler.draw(domains):
        left, right = sampler.evaluate(larger, point), sampler.evaluate(smaller, point)
        scale = max(S.One, abs(left), abs(right))
        margin = (left - right) / scale
        tightest = margin if tightest is None else min(tightest, margin)
    passed = tightest >= -sampler.tolerance
    return passed, (
        f"smallest (larger - smaller) / max(1, |larger|, |smaller|) = {sympy.Float(tightest, 3)} "
        f"(must be >= -{sympy.Float(sampler.tolerance, 2)})"
    )


def _identity_check(sampler, topic, claim, lhs, rhs, domains, proof, closed_form=True):
    """Prove ``lhs == rhs`` by simplification, or fall back to a numerical check over ``domains``."""
    if _reduces_to_zero(lhs - rhs, closed_form):
        return Check(topic, claim, PROVED, True, proof)
    passed, detail = _numeric_identity(sampler, lhs, rhs, domains)
    return Check(topic, claim, CHECKED, passed, f"sympy did not reduce the difference to 0; {detail}")


def _inequality_check(sampler, topic, claim, larger, smaller, domains, reason):
    passed, detail = _numeric_inequality(sampler, larger, smaller, domains)
    return Check(topic, claim, CHECKED, passed, f"{detail}; {reason}")


def _bound_values_check(sampler, topic, claim, function, arguments, reference, domains, reason):
    """Compare a bound function with an independent ``reference`` expression at random points.

    The bound is evaluated in both of the ways it can be used: built once
    from the symbolic ``arguments`` and lambdified to mpmath, and built at
    each point from the exact values of the arguments and evaluated by
    ``evalf``. The second way matters because the bound functions decide
    maxima, minima and the condition of the KL bracket between numbers when
    the bound is built. The lambdified bound and the reference are evaluated
    with ``_REFERENCE_GUARD_DIGITS`` more digits than the check's precision.
    """
    symbols = list(domains)
    evaluate_symbolic = sympy.lambdify(symbols, function(*arguments), "mpmath")
    evaluate_reference = sympy.lambdify(symbols, reference, "mpmath")
    worst = S.Zero
    for point in sampler.draw(domains):
        built_value = sampler.evaluate(function(*(argument.subs(point) for argument in arguments)), {})
        if not built_value.is_Float and not built_value.is_zero:
            # The bound did not evaluate to a finite number.
            worst = S.Infinity
            continue
        with workdps(sampler.dps + _REFERENCE_GUARD_DIGITS):
            values = [mpmath.mpf(point[symbol].p) / point[symbol].q for symbol in symbols]
            expected = mpmath.mpf(evaluate_reference(*values))
            for value in (mpmath.mpf(evaluate_symbolic(*values)), built_value._to_mpmath(mpmath.mp.prec)):
                gap = abs(value - expected) / max(1, abs(value), abs(expected))
                worst = max(worst, sympy.Float(gap, sampler.dps) if mpmath.isfinite(gap) else S.Infinity)
    passed = worst <= sampler.tolerance
    return Check(topic, claim, CHECKED, passed, (
        f"largest |bound - reference| / max(1, |bound|, |reference|) = {sympy.Float(worst, 3)} "
        f"(tolerance {sympy.Float(sampler.tolerance, 2)}), with the bound lambdified from symbols "
        f"and built from numbers; {reason}"
    ))


# ---------------------------------------------------------------------------
# Independent closed forms of the bounds, written with erf, erfinv and log
# only, so that they share no code with the bound functions they check.
# ---------------------------------------------------------------------------

def _closed_Phi(x):
    return (1 + sympy.erf(x / sympy.sqrt(2))) / 2


def _closed_Phi_inv(p):
    return sympy.sqrt(2) * sympy.erfinv(2 * p - 1)


def _closed_shell_bound(mass, r, lip):
    """Theorem 1's beta = Phi(r/L + Phi_inv(rho(A))) - rho(A)."""
    return _closed_Phi(r / lip + _closed_Phi_inv(mass)) - mass


def _closed_kl(a, b):
    return a * sympy.log(a / b) + (1 - a) * sympy.log((1 - a) / (1 - b))


# ---------------------------------------------------------------------------
# The checks, in the order of the results of Salmona et al. (2022).
# ---------------------------------------------------------------------------

def _function_checks(sampler):
    p = sympy.Symbol("p", positive=True)
    x, u = sympy.symbols("x u", real=True)
    a, b = sympy.symbols("a b", real=True)
    profile = isoperimetric_profile(p)
    closed_profile = rewrite_with_erf(profile)
    topic = "Gaussian functions"
    return [
        _identity_check(
            sampler, topic, "d Phi/dx = phi(x), from the erf closed form",
            sympy.diff(rewrite_with_erf(Phi(x)), x), rewrite_with_erf(phi(x)), {x: (-8, 8)},
            "simplify(d/dx (1 + erf(x/sqrt 2))/2 - exp(-x^2/2)/sqrt(2 pi)) = 0",
        ),
        _identity_check(
            sampler, topic, "d Phi_inv/dp = 1/I(p) = 1/phi(Phi_inv(p)), from the erfinv closed form",
            sympy.diff(rewrite_with_erf(Phi_inv(p)), p), 1 / closed_profile, {p: (0, 1)},
            "simplify(d/dp sqrt(2) erfinv(2p - 1) - sqrt(2 pi) exp(erfinv(2p - 1)^2)) = 0",
        ),
        _identity_check(
            sampler, topic, "I'(p) = -Phi_inv(p), from the erfinv closed form",
            sympy.diff(closed_profile, p), rewrite_with_erf(-Phi_inv(p)), {p: (0, 1)},
            "simplify of the difference of the closed forms = 0",
        ),
        _identity_check(
            sampler, topic, "I''(p) = -1/I(p), from the erfinv closed form",
            sympy.diff(closed_profile, p, 2), -1 / closed_profile, {p: (0, 1)},
            "simplify of the difference of the closed forms = 0",
        ),
        _identity_check(
            sampler, topic, "I(1 - p) = I(p)",
            isoperimetric_profile((1 - u) / 2), isoperimetric_profile((1 + u) / 2), {u: (-1, 1)},
            "with p = (1 + u)/2, erfinv(-u)^2 = erfinv(u)^2 because erfinv is odd",
        ),
        *(
            _identity_check(
                sampler, topic, f"gaussian_mass(a, b) = Phi(b) - Phi(a) has the derivative {claimed} in {variable}",
                sympy.diff(rewrite_with_erf(gaussian_mass(a, b)), variable),
                rewrite_with_erf(sympy.diff(gaussian_mass(a, b), variable)), {a: (-8, 8), b: (-8, 8)},
                f"simplify(d/d{variable} (erf(b/sqrt 2) - erf(a/sqrt 2))/2 minus the closed form of {claimed}) = 0",
            )
            for variable, claimed in ((a, "-phi(a)"), (b, "phi(b)"))
        ),
    ]


def _theorem_1_checks(sampler):
    p, r, L = sympy.symbols("p r L", positive=True)
    alpha = extension_mass_lower_bound(p, r, L)
    derivative_at_zero = sympy.diff(alpha, r).subs(r, 0)
    topic = "Theorem 1"
    return [
        _identity_check(
            sampler, topic, "alpha(A, 0) = rho(A): inequality (2) is an equality at r = 0",
            alpha.subs(r, 0), p, {p: (0, 1)}, "Phi(Phi_inv(p)) = p",
        ),
        _identity_check(
            sampler, topic, "beta = alpha - rho(A): shell_mass_lower_bound is Phi(r/L + Phi_inv(p)) - p",
            shell_mass_lower_bound(p, r, L).rewrite(Phi), alpha - p, {p: (0, 1), r: (0, 10), L: (S(1) / 10, 10)},
            "gaussian_mass(Phi_inv(p), Phi_inv(p) + r/L) rewrites to Phi(Phi_inv(p) + r/L) - Phi(Phi_inv(p)), "
            "and Phi(Phi_inv(p)) = p",
        ),
        _identity_check(
            sampler, topic, "(2) implies (1): d alpha/dr at r = 0 equals I(p)/L",
            derivative_at_zero, surface_area_lower_bound(p, L), {p: (0, 1), L: (S(1) / 10, 10)},
            "d/dr Phi(r/L + Phi_inv(p)) = phi(r/L + Phi_inv(p))/L, which is phi(Phi_inv(p))/L = I(p)/L at r = 0",
        ),
    ]


def _corollary_2_checks(sampler):
    sigma, D, lam, t = sympy.symbols("sigma D lambda t", positive=True)
    closed = lipschitz_lower_bound_two_gaussians(0, D, sigma, lam)
    sharp = lipschitz_lower_bound_two_gaussians(0, D, sigma, lam, sharp=True)
    via_profile = sigma * sympy.sqrt(2 * S.Pi) * isoperimetric_profile(lam) * sympy.exp(D**2 / (8 * sigma**2))
    half_space_mass = lam * Phi(-t) + (1 - lam) * Phi(t)
    topic = "Corollary 2"
    return [
        _identity_check(
            sampler, topic, "sigma sqrt(2 pi) I(lambda) exp(D^2/(8 sigma^2)) equals the closed form",
            via_profile, closed, {sigma: (S(1) / 4, 4), D: (0, 10), lam: (0, 1)},
            "I(lambda) = exp(-Phi_inv(lambda)^2/2)/sqrt(2 pi)",
        ),
        _identity_check(
            sampler, topic, "at lambda = 1/2 the sharp bound equals the closed form sigma exp(D^2/(8 sigma^2))",
            sharp.subs(lam, S.Half), closed.subs(lam, S.Half), {sigma: (S(1) / 4, 4), D: (0, 10)},
            "nu(H) = Phi(-t)/2 + Phi(t)/2 = 1/2, I(1/2) = 1/sqrt(2 pi), nu+(dH) = phi(t)/sigma",
        ),
        _identity_check(
            sampler, topic, "nu(H) = lambda Phi(-t) + (1 - lambda) Phi(t) lies between lambda and 1 - lambda: "
            "nu(H) = Phi(t) (1 - lambda) + (1 - Phi(t)) lambda",
            half_space_mass, Phi(t) * (1 - lam) + (1 - Phi(t)) * lam, {t: (0, 10), lam: (0, 1)},
            "Phi(-t) = 1 - Phi(t), a convex combination with weight Phi(t) in [1/2, 1)",
        ),
        _identity_check(
            sampler, topic, "I is maximal at 1/2: I'(1/2) = 0 (and I'' = -1/I < 0 above)",
            sympy.diff(isoperimetric_profile(lam), lam).subs(lam, S.Half), S.Zero, {},
            "I'(1/2) = -Phi_inv(1/2) = 0",
        ),
        _inequality_check(
            sampler, topic, "the sharp bound I(nu(H))/nu+(dH) is >= the closed form",
            sharp, closed, {sigma: (S(1) / 4, 4), D: (0, 10), lam: (0, 1)},
            "follows from the three checks above (a concave, symmetric I is at least I(lambda) between lambda and "
            "1 - lambda), an argument sympy does not carry out",
        ),
    ]


def _corollary_3_check(sampler):
    m = sympy.Symbol("m", positive=True)
    y = sympy.Symbol("y", real=True)
    density = (sympy.exp(-(y + m) ** 2 / 2) + sympy.exp(-(y - m) ** 2 / 2)) / (2 * sympy.sqrt(2 * S.Pi))
    cdf_at_zero = sympy.integrate(density, (y, -sympy.oo, 0))
    slope_at_zero = isoperimetric_profile(cdf_at_zero) / density.subs(y, 0)
    return _identity_check(
        sampler, "Corollary 3",
        "on (1/2)[N(-m, 1) + N(m, 1)], I(F(0))/p(0) equals Corollary 2's exp(m^2/2)",
        slope_at_zero, lipschitz_lower_bound_two_gaussians(-m, m, 1), {m: (0, 10)},
        "F(0) = integral of the density over (-inf, 0] = 1/2 (sympy.integrate), so I(F(0)) = 1/sqrt(2 pi)",
    )


def _theorem_4_checks(sampler):
    # With R, S > 0, rho(A) = 1/(1 + R) covers (0, 1). nu(A) = rho(A)/(1 + S) lies
    # below rho(A) and nu(A) = rho(A) + (1 - rho(A))/(1 + S) above it, so sympy
    # decides min(rho(A), nu(A)) and max(0, rho(A) - nu(A)) from the assumptions.
    R, S_, nu, v, r, L = sympy.symbols("R S nu v r L", positive=True)
    rho = 1 / (1 + R)
    ranges = {r: (0, 10), L: (S(1) / 10, 10), v: (0, 1)}
    topic = "Theorem 4"
    checks = [_identity_check(
        sampler, topic, "model-free tv_bracket(nu(A), v, r, L) is Phi(r/L + Phi_inv(nu(A))) - nu(A) - v",
        tv_bracket(nu, v, r, L), _closed_Phi(r / L + _closed_Phi_inv(nu)) - nu - v, {nu: (0, 1), **ranges},
        "gaussian_mass(a, b) rewrites to Phi(b) - Phi(a), and Phi(Phi_inv(nu)) = nu",
    )]
    for relation, target, target_text, decided in (
        ("rho(A) >= nu(A)", rho / (1 + S_), "rho(A)/(1 + S)", "min = nu(A)"),
        (
            "rho(A) < nu(A)", rho + (1 - rho) / (1 + S_), "rho(A) + (1 - rho(A))/(1 + S)",
            "min = rho(A) and max(0, rho(A) - nu(A)) = 0",
        ),
    ):
        checks.append(_identity_check(
            sampler, topic, f"where {relation}, tv_bracket with model_mass=rho(A) is "
            "Phi(r/L + Phi_inv(rho(A))) - min(rho(A), nu(A)) - v",
            tv_bracket(target, v, r, L, model_mass=rho),
            _closed_Phi(r / L + _closed_Phi_inv(rho)) - sympy.Min(rho, target) - v,
            {R: (0, 100), S_: (0, 100), **ranges},
            f"with rho(A) = 1/(1 + R) and nu(A) = {target_text}, R, S > 0, sympy decides {decided}",
        ))
    return checks


def _corollary_5_checks(sampler):
    D, L, mu = sympy.symbols("D L mu", positive=True)
    balanced = tv_lower_bound_disconnected(S.Half, D, L)
    lam = (1 + mu) / 2
    general = tv_lower_bound_disconnected(lam, D, L)
    topic = "Corollary 5"
    checks = []
    for claim, expr, variable, expected in (
        ("at lambda = 1/2 the bound tends to 1/2 as D -> infinity", balanced, D, S.Half),
        ("for lambda in [1/2, 1) the bound tends to 0 as L -> infinity", general, L, S.Zero),
    ):
        limit = sympy.limit(rewrite_with_erf(expr), variable, sympy.oo)
        checks.append(Check(
            topic, claim, PROVED, sympy.simplify(limit - expected) == 0,
            f"sympy.limit of the erf closed form = {limit}" + (" (lambda = (1 + mu)/2, mu > 0)" if variable is L else ""),
        ))
    checks.append(_identity_check(
        sampler, topic, "the bound is Theorem 1's beta(lambda, D/2, L) for lambda >= 1/2, hence positive",
        general, shell_mass_lower_bound(lam, D / 2, L), {D: (0, 10), L: (S(1) / 10, 10), mu: (0, 1)},
        "min(lambda, 1 - lambda) = (1 - mu)/2 for lambda = (1 + mu)/2, mu > 0; the bound is "
        "Phi(D/(2L) - Phi_inv((1 - mu)/2)) - Phi(-Phi_inv((1 - mu)/2)), and with erfinv odd, "
        "-Phi_inv((1 - mu)/2) = Phi_inv(lambda) and Phi(Phi_inv(lambda)) = lambda",
    ))
    return checks


def _mixture_masses(D, sigma, radius):
    """Return the balanced mixture's masses of H and of H_r minus H, by sympy.integrate along the axis of the means."""
    y = sympy.Symbol("y", real=True)
    density = sum(
        sympy.exp(-(y - center) ** 2 / (2 * sigma**2)) / (sigma * sympy.sqrt(2 * S.Pi)) for center in (-D / 2, D / 2)
    ) / 2
    half_space = sympy.simplify(sympy.integrate(density, (y, -sympy.oo, 0)))
    shell = sympy.integrate(density, (y, 0, radius))
    return half_space, shell


def _bracket_of(clipped):
    """Return ``bracket`` from ``Max(0, bracket)``."""
    (bracket,) = (argument for argument in clipped.args if argument != 0)
    return bracket


def _tail_and_published_forms(clipped):
    """Return the two forms of Corollary 6's bracket, the lower-tail one and the published one, from ``Max(0, Piecewise(...))``."""
    bracket = _bracket_of(clipped)
    if not isinstance(bracket, sympy.Piecewise) or len(bracket.args) != 2:
        raise TypeError(f"expected Max(0, Piecewise) with two branches, got {clipped}")
    return bracket.args[0].expr, bracket.args[1].expr


def _corollary_6_and_8_checks(sampler):
    sigma, D, L, lam, c = sympy.symbols("sigma D L lambda c", positive=True)
    u = sympy.Symbol("u", negative=True)
    radius = D / (4 * sigma)
    half_space, shell = _mixture_masses(D, sigma, radius)
    domains = {sigma: (S(1) / 4, 4), D: (0, 10), L: (S(1) / 10, 10)}

    corollary_6 = tv_lower_bound_two_gaussians(0, D, sigma, L)
    tail_form, published_form = _tail_and_published_forms(corollary_6)
    theorem_4 = sympy.Max(0, tv_bracket(half_space, shell, radius, L))
    published_shell = (Phi(D * (2 * sigma + 1) / (4 * sigma**2)) - Phi(D * (2 * sigma - 1) / (4 * sigma**2))) / 2
    published_bracket = tv_bracket(S.Half, published_shell, radius, L)
    # D(1 - 2 sigma)/(4 sigma^2) >= 4 and D/(4 sigma L) >= 1 here, where the bounds use their lower-tail forms.
    far_modes = {sigma: (S(1) / 8, S(1) / 4), D: (2, 10), L: (S(1) / 10, 2)}

    # Theorem 7's corrected bracket written out with erf, erfinv and log, sharing no code with kl_bracket.
    theorem_7_beta = _closed_shell_bound(lam, radius, L)
    theorem_7 = sympy.Piecewise((_closed_kl(theorem_7_beta, shell), theorem_7_beta >= shell), (0, True))
    lam_u = (1 + u) / 2
    published_a = Phi(c - Phi_inv(1 - lam_u)) - Phi(-Phi_inv(1 - lam_u))
    return [
        _identity_check(
            sampler, "Corollary 6", "the slab mass of the bound equals the published "
            "(1/2)[Phi(D(2 sigma + 1)/(4 sigma^2)) - Phi(D(2 sigma - 1)/(4 sigma^2))]",
            published_form, published_bracket,
            domains, "the slab's gaussian_mass(a, b) rewrites to Phi(b) - Phi(a), "
            "and Phi(b) - Phi(a) = Phi(-a) - Phi(-b) (erf is odd)",
        ),
        _identity_check(
            sampler, "Corollary 6", "the lower-tail form [Phi(-u) + Phi(l)]/2 - Phi(-D/(4 sigma L)), "
            "u = D(1 - 2 sigma)/(4 sigma^2), l = -D(1 + 2 sigma)/(4 sigma^2), used where u >= 1 and "
            "D/(4 sigma L) >= 1, equals the published bracket",
            tail_form, published_bracket, far_modes,
            "Phi(-x) = 1 - Phi(x) (erf is odd), so the two halves cancel",
        ),
        _identity_check(
            sampler, "Corollary 6", "equals max(0, Theorem 4's bracket) for the bisecting half-space H, "
            "r = D/(4 sigma), nu(H) and nu(H_r \\ H) integrated from the mixture density",
            corollary_6, theorem_4, domains,
            f"sympy.integrate gives nu(H) = {half_space} and the slab mass in erf form",
        ),
        _bound_values_check(
            sampler, "Corollary 8", "for lambda <= 1/2 equals Theorem 7's corrected bracket for H, r = D/(4 sigma), "
            "rho(H) = lambda and the integrated slab mass, the bracket written independently with erf, erfinv and log",
            lambda D_, sigma_, L_, lam_: kl_lower_bound_two_gaussians(0, D_, sigma_, L_, lam_),
            (D, sigma, L, lam), theorem_7, {D: (0, 40), sigma: (S(1) / 4, 4), L: (S(1) / 10, 10), lam: (0, S.Half)},
            "the bracket is kl(beta || v) where beta >= v and 0 elsewhere, with beta = Phi(r/L + Phi_inv(lambda)) "
            "- lambda and v the slab mass from sympy.integrate; D in (0, 40), sigma in (1/4, 4), L in (1/10, 10), "
            "lambda in (0, 1/2)",
        ),
        _bound_values_check(
            sampler, "Corollary 8", "for far modes, where the bound writes a and b as numbers minus lower tails, "
            "it equals Theorem 7's corrected bracket for H, r = D/(4 sigma), rho(H) = lambda",
            lambda D_, sigma_, L_, lam_: kl_lower_bound_two_gaussians(0, D_, sigma_, L_, lam_),
            (D, sigma, L, lam), theorem_7, {**far_modes, L: (S(1) / 10, S.Half), lam: (S(1) / 4, S.Half)},
            "the same independent bracket; D in (2, 10), sigma in (1/8, 1/4), L in (1/10, 1/2), lambda in (1/4, 1/2), "
            "where D(1 - 2 sigma)/(4 sigma^2) >= 4 and D/(4 sigma L) + Phi_inv(lambda) > 3",
        ),
        _identity_check(
            sampler, "Corollary 8", "Phi(c + Phi_inv(lambda)) - lambda equals the published integral of phi "
            "from -Phi_inv(1 - lambda) to c - Phi_inv(1 - lambda)",
            Phi(c + Phi_inv(lam_u)) - lam_u, published_a, {c: (0, 10), u: (-1, 0)},
            "with lambda = (1 + u)/2, Phi_inv(1 - lambda) = -sqrt(2) erfinv(u) = -Phi_inv(lambda) (erfinv is odd)",
        ),
    ]


def _theorem_7_checks(sampler):
    # beta = 1/(1 + B) and v = 1/(1 + V) with B, V > 0 cover (0, 1) and let
    # sympy see that beta, v, 1 - beta and 1 - v are positive, so that it
    # splits the logarithms without being forced.
    B, V, zeta = sympy.symbols("B V zeta", positive=True)
    beta, v = 1 / (1 + B), 1 / (1 + V)
    objective = zeta * beta - sympy.log(1 + (sympy.exp(zeta) - 1) * v)
    zeta_star = sympy.log(beta * (1 - v)) - sympy.log(v * (1 - beta))
    domains = {B: (0, 100), V: (0, 100)}
    topic = "Theorem 7"

    beta_symbol, v_symbol = sympy.symbols("beta v", positive=True)
    numerator_gap = sympy.expand(beta_symbol * (1 - v_symbol) - v_symbol * (1 - beta_symbol))

    return [
        *_kl_bracket_checks(sampler),
        *_kl_boundary_checks(sampler),
        _identity_check(
            sampler, topic, "zeta* = log[beta (1 - v)] - log[v (1 - beta)] solves dJ/dzeta = 0, "
            "J(zeta) = zeta beta - log(1 + (e^zeta - 1) v)",
            sympy.diff(objective, zeta).subs(zeta, zeta_star), S.Zero, domains,
            "simplify(dJ/dzeta at zeta*) = 0, with beta = 1/(1 + B), v = 1/(1 + V), B, V > 0", closed_form=False,
        ),
        _identity_check(
            sampler, topic, "J(zeta*) = kl(beta || v)",
            sympy.expand_log(objective.subs(zeta, zeta_star)), sympy.expand_log(kl_bin(beta, v).rewrite(sympy.log)),
            domains, "simplify of the expanded logarithms = 0, with beta = 1/(1 + B), v = 1/(1 + V), B, V > 0",
            closed_form=False,
        ),
        Check(
            topic, "zeta* >= 0 exactly when beta >= v (the validity condition of the corrected bound)", PROVED,
            sympy.simplify(numerator_gap - (beta_symbol - v_symbol)) == 0,
            f"zeta* = log X - log Y with X, Y > 0 and X - Y = {numerator_gap}, and log is increasing",
        ),
        _uncorrected_counterexample_check(sampler),
    ]


def _uncorrected_counterexample_check(sampler):
    """Check a case where the published Theorem 7 exceeds d_KL = 0 and the corrected bracket does not.

    rho = nu = N(0, 1) on the line is the push-forward of N(0, 1) by the
    identity, which is L-Lipschitz for L = 2, so Theorem 7 applies with
    L = 2. For A = (-inf, 0] and r = 1, beta = Phi(1/2) - 1/2 and
    v = nu(A_r minus A) = Phi(1) - 1/2, both written with erf here.
    """
    lip, r = 2, 1
    beta = _closed_Phi(S(r) / lip) - S.Half
    v = _closed_Phi(r) - S.Half
    published = sampler.evaluate(_closed_kl(beta, v), {})
    corrected = kl_bracket(v, r, lip, S.Half)
    passed = bool(published > 0) and corrected == 0
    return Check(
        "Theorem 7", "the uncorrected formula fails: for rho = nu = N(0, 1), the identity map declared 2-Lipschitz, "
        "A = (-inf, 0] and r = 1, kl(beta || v) > 0 = d_KL(rho || nu), while the corrected bracket is 0",
        CHECKED, passed,
        f"beta = Phi(1/2) - 1/2 = {sympy.Float(sampler.evaluate(beta, {}), 6)} < v = Phi(1) - 1/2 = "
        f"{sympy.Float(sampler.evaluate(v, {}), 6)}, kl(beta || v) = {sympy.Float(published, 6)}, "
        f"kl_bracket(v, 1, 2, 1/2) = {corrected}",
    )


def _kl_bracket_checks(sampler):
    # rho(A) = Phi(x) with x in (-3, 3) covers rho(A) in (0.0013, 0.9987) and keeps
    # erfinv out of v, which sympy's evalf would evaluate many times per point.
    # For s in (0, 1), v = s beta lies below beta and v = beta + (1 - beta) s above it.
    x = sympy.Symbol("x", real=True)
    r, L, s = sympy.symbols("r L s", positive=True)
    rho = Phi(x)
    beta = _closed_Phi(x + r / L) - _closed_Phi(x)
    domains = {x: (-3, 3), r: (0, 10), L: (S(1) / 10, 10), s: (0, 1)}
    below, above = s * beta, beta + (1 - beta) * s
    topic = "Theorem 7"
    return [
        _bound_values_check(
            sampler, topic, "where beta >= v, kl_bracket(v, r, L, rho(A)) is kl(beta || v), "
            "beta = Phi(r/L + Phi_inv(rho(A))) - rho(A)",
            kl_bracket, (below, r, L, rho), _closed_kl(beta, below), domains,
            "rho(A) = Phi(x), x in (-3, 3), v = s beta with s in (0, 1)",
        ),
        _bound_values_check(
            sampler, topic, "where beta < v, kl_bracket(v, r, L, rho(A)) is 0: "
            "the corrected bound drops kl(beta || v), which the published statement keeps",
            kl_bracket, (above, r, L, rho), S.Zero, domains,
            "rho(A) = Phi(x), x in (-3, 3), v = beta + (1 - beta) s with s in (0, 1)",
        ),
    ]


def _kl_boundary_checks(sampler):
    """Check the condition of the corrected Theorem 7 where beta and v agree to 3 to 40 digits.

    The checks of :func:`_kl_bracket_checks` keep v far from beta, and at
    those points a condition off by a relative 1e-3 takes the same branch.
    Here ``v = beta (1 -+ 10^-e)``. Above beta the bracket must be exactly
    0. Below it the bracket must equal ``kl(beta || v)``, about
    ``beta 10^(-2e) / 2``, to the check's relative precision, against an
    mpmath reference at enough digits to absorb the cancellation of its two
    terms.
    """
    x, e = sympy.Symbol("x", real=True), sympy.Symbol("e", positive=True)
    r, L = sympy.symbols("r L", positive=True)
    domains = {x: (-3, 3), r: (0, 10), L: (S(1) / 10, 10), e: (3, 40)}
    beta = _closed_Phi(x + r / L) - _closed_Phi(x)
    worst, nonzero = S.Zero, 0
    for point in sampler.draw(domains):
        point_beta, gap = beta.subs(point), sympy.Pow(10, -point[e])
        arguments = (point[r], point[L], Phi(point[x]))
        if kl_bracket(point_beta * (1 + gap), *arguments) != 0:
            nonzero += 1
        value = sampler.evaluate(kl_bracket(point_beta * (1 - gap), *arguments), {})
        with workdps(sampler.dps + _REFERENCE_GUARD_DIGITS + 2 * 40):
            x_, r_, L_, e_ = (mpmath.mpf(point[symbol].p) / point[symbol].q for symbol in (x, r, L, e))
            beta_ = mpmath.ncdf(x_ + r_ / L_) - mpmath.ncdf(x_)
            v_ = beta_ * (1 - mpmath.power(10, -e_))
            expected = beta_ * mpmath.log(beta_ / v_) + (1 - beta_) * mpmath.log((1 - beta_) / (1 - v_))
            found = value._to_mpmath(mpmath.mp.prec) if value.is_Float else mpmath.mpf(0)
            worst = max(worst, sympy.Float(abs(found - expected) / expected, sampler.dps))
    topic = "Theorem 7"
    domain = "rho(A) = Phi(x), x in (-3, 3), r in (0, 10), L in (1/10, 10), e in (3, 40)"
    return [
        Check(topic, "where v = beta (1 + 10^-e), just above beta, kl_bracket(v, r, L, rho(A)) is exactly 0",
              CHECKED, nonzero == 0, f"{nonzero} of {sampler.points} points gave a nonzero bracket; {domain}"),
        Check(topic, "where v = beta (1 - 10^-e), just below beta, kl_bracket(v, r, L, rho(A)) is kl(beta || v)",
              CHECKED, worst <= sampler.tolerance,
              f"largest |bracket - kl(beta || v)| / kl(beta || v) = {sympy.Float(worst, 3)} "
              f"(tolerance {sympy.Float(sampler.tolerance, 2)}); {domain}"),
    ]


def _corollary_8_checks(sampler):
    D, sigma, L, lam = sympy.symbols("D sigma L lambda", positive=True)
    smaller = sympy.Min(lam, 1 - lam)
    a = _closed_shell_bound(smaller, D / (4 * sigma), L)
    b = (_closed_Phi(D * (2 * sigma + 1) / (4 * sigma**2)) - _closed_Phi(D * (2 * sigma - 1) / (4 * sigma**2))) / 2
    arguments = (S.Zero, D, sigma, L, lam)
    topic = "Corollary 8"

    # a >= b here. D/(4 sigma L) >= 2 and Phi_inv(min(lambda, 1 - lambda)) > -0.68
    # give a > Phi(1.32) - 1/2 > 0.4. sigma >= 1/2 puts the slab's lower end
    # D(2 sigma - 1)/(4 sigma^2) at or above 0, so b <= 1/4.
    large_a = {D: (4, 10), sigma: (S.Half, 1), L: (S(1) / 10, S.Half), lam: (S(1) / 4, S(3) / 4)}
    # a < b here. a <= phi(0) D/(4 sigma L) < 0.001 because Phi is 1/sqrt(2 pi)-Lipschitz.
    # The slab is at least 1/8 wide and starts in [0, 1], so b >= phi(9/8)/16 > 0.013.
    small_a = {D: (1, 4), sigma: (S.Half, 2), L: (1000, 10000), lam: (0, 1)}
    return [
        _bound_values_check(
            sampler, topic, "where a >= b, kl_lower_bound_two_gaussians is kl(a || b) with "
            "a = Phi(D/(4 sigma L) + Phi_inv(lambda)) - lambda and the published slab mass b, "
            "lambda exchanged for 1 - lambda above 1/2",
            kl_lower_bound_two_gaussians, arguments, _closed_kl(a, b), large_a,
            "D in (4, 10), sigma in (1/2, 1), L in (1/10, 1/2), lambda in (1/4, 3/4)",
        ),
        _bound_values_check(
            sampler, topic, "where a < b, kl_lower_bound_two_gaussians is 0: "
            "the corrected bound drops kl(a || b), which the published statement keeps",
            kl_lower_bound_two_gaussians, arguments, S.Zero, small_a,
            "D in (1, 4), sigma in (1/2, 2), L in (1000, 10000), lambda in (0, 1)",
        ),
    ]


def _tail_checks(sampler):
    """Check Phi_inv, and Corollary 8 through it, at masses from 1e-30 to 1e-1 and their complements.

    The other checks evaluate Phi_inv only between 1/4 and 3/4, or on
    Phi(x), where Phi_inv(Phi(x)) simplifies to x, and so would miss an
    error of the tail quantile. The masses are m 10^-k with m in (1, 5) and
    k from 1 to 30. The reference is sqrt(2) erfinv(2p - 1) from mpmath with
    2k more digits than the check, because erfinv near -1 loses about k of
    them.
    """
    worst_quantile, worst_bound = S.Zero, S.Zero
    for _ in range(sampler.points):
        exponent = sampler.random.randint(1, 30)
        mass = sympy.Rational(sampler.random.randrange(10**12, 5 * 10**12), 10**(12 + exponent))
        found = [sampler.evaluate(Phi_inv(mass), {}), sampler.evaluate(Phi_inv(1 - mass), {})]

        D = sympy.Rational(sampler.random.randrange(80 * 10**6, 120 * 10**6), 10**6)
        sigma = sympy.Rational(sampler.random.randrange(75 * 10**6, 100 * 10**6), 10**8)
        shift = sympy.Rational(sampler.random.randrange(2 * 10**6, 6 * 10**6), 10**6)
        lip = D / (4 * sigma * shift)
        bound = sampler.evaluate(kl_lower_bound_two_gaussians(0, D, sigma, lip, mass), {})

        with workdps(sampler.dps + _REFERENCE_GUARD_DIGITS + 2 * exponent):
            p = mpmath.mpf(mass.p) / mass.q
            quantile = mpmath.sqrt(2) * mpmath.erfinv(2 * p - 1)
            for value, expected in zip(found, (quantile, -quantile)):
                gap = abs(value._to_mpmath(mpmath.mp.prec) - expected) / abs(expected)
                worst_quantile = max(worst_quantile, sympy.Float(gap, sampler.dps))

            D_, sigma_, shift_ = (mpmath.mpf(x.p) / x.q for x in (D, sigma, shift))
            a = mpmath.ncdf(shift_ + quantile) - p
            b = (mpmath.ncdf(-D_ * (2 * sigma_ - 1) / (4 * sigma_**2))
                 - mpmath.ncdf(-D_ * (2 * sigma_ + 1) / (4 * sigma_**2))) / 2
            expected = a * mpmath.log(a / b) + (1 - a) * mpmath.log((1 - a) / (1 - b)) if a >= b else mpmath.mpf(0)
            found_bound = bound._to_mpmath(mpmath.mp.prec) if bound.is_Float else mpmath.mpf(bound)
            gap = abs(found_bound - expected) / max(1, abs(expected))
            worst_bound = max(worst_bound, sympy.Float(gap, sampler.dps))

    domain = "p = m 10^-k, m in (1, 5), k in 1..30"
    tolerance = sympy.Float(sampler.tolerance, 2)
    return [
        Check(
            "Gaussian functions", "Phi_inv(p) and Phi_inv(1 - p) in the tails equal sqrt(2) erfinv(2p - 1) "
            "and its negative", CHECKED, worst_quantile <= sampler.tolerance,
            f"largest relative error = {sympy.Float(worst_quantile, 3)} (tolerance {tolerance}); {domain}, "
            "mpmath's erfinv with 2k extra digits as the reference",
        ),
        Check(
            "Corollary 8", "for lambda in the tail, kl_lower_bound_two_gaussians is kl(a || b) with "
            "a = Phi(D/(4 sigma L) + Phi_inv(lambda)) - lambda", CHECKED, worst_bound <= sampler.tolerance,
            f"largest |bound - reference| / max(1, |reference|) = {sympy.Float(worst_bound, 3)} "
            f"(tolerance {tolerance}); lambda = {domain}, D in (80, 120), sigma in (3/4, 1), "
            "D/(4 sigma L) in (2, 6), where a > b; the reference is computed with mpmath's ncdf and erfinv",
        ),
    ]


def _concavity_check():
    c = sympy.Symbol("c", positive=True)
    x = sympy.Symbol("x", real=True)
    p = sympy.Symbol("p", positive=True)
    second = sympy.diff(Phi(c + Phi_inv(p)), p, 2)
    expected = -c * phi(c + Phi_inv(p)) / isoperimetric_profile(p) ** 2
    identity = sympy.simplify(second - expected) == 0
    in_x = expected.subs(p, Phi(x))
    sign = in_x.is_nonpositive
    return Check(
        "Theorem 1", "p -> Phi(c + Phi_inv(p)) is concave on (0, 1) for c > 0", PROVED, bool(identity and sign),
        f"second derivative = -c phi(c + Phi_inv(p))/I(p)^2; with p = Phi(x), x real, it is {in_x}, "
        f"which sympy finds nonpositive: {sign}",
    )


def verify(dps=50, points=50, seed=0):
    r"""Check the identities behind the theorems and return a report.

    The checks cover the derivatives of the Gaussian functions and Theorem 1:
    (2) implies (1), equality at r = 0, and concavity of
    :math:`p \mapsto \Phi(c + \Phi^{-1}(p))`. They cover Corollary 2 (the
    closed form through :math:`\mathcal{I}`, the sharp bound), Corollary 3
    at the midpoint of a balanced mixture, and Corollary 5 (limits, link with
    Theorem 1). Corollaries 6 and 8 are checked as Theorems 4 and 7 on the
    bisecting half-space, and Theorem 7 through its optimal :math:`\zeta`
    and the erratum.

    The exported :func:`tv_bracket` (with and without ``model_mass``),
    :func:`kl_bracket` and :func:`kl_lower_bound_two_gaussians` are compared
    with the theorems written out independently with erf, erfinv and log, on
    both sides of each case split: :math:`\rho(A) \ge \nu(A)` and
    :math:`\rho(A) < \nu(A)` in Theorem 4, and :math:`\beta \ge v` and
    :math:`\beta < v` in the corrected Theorem 7 and Corollary 8, where the
    bound must be 0. :func:`kl_bracket` is also checked where :math:`v`
    differs from :math:`\beta` by a relative :math:`10^{-40}` to
    :math:`10^{-3}` on either side, so that a condition off by a small
    factor fails.

    Parameters
    ----------
    dps : int, optional
        Significant digits of the numerical checks (at least 15; default 50).
    points : int, optional
        Random points per numerical check (at least 1; default 50).
    seed : int, optional
        Seed of the random points.

    Returns
    -------
    VerificationReport
        ``print(report)`` lists the symbolic proofs and the numerical checks
        apart; ``report.passed`` is True when everything passed.

    Examples
    --------
    >>> report = verify()
    >>> report.passed
    True
    """
    for name, value, low in (("dps", dps, 15), ("points", points, 1)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be an integer >= {low}, got {name}={value!r} of type {type(value).__name__}")
        if value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {name}={value!r}")
    sampler = _Sampler(seed, points, dps)
    checks = [
        *_function_checks(sampler),
        *_theorem_1_checks(sampler),
        _concavity_check(),
        *_corollary_2_checks(sampler),
        _corollary_3_check(sampler),
        *_theorem_4_checks(sampler),
        *_corollary_5_checks(sampler),
        *_corollary_6_and_8_checks(sampler),
        *_corollary_8_checks(sampler),
        *_tail_checks(sampler),
        *_theorem_7_checks(sampler),
    ]
    return VerificationReport(tuple(checks), dps, points, seed)
