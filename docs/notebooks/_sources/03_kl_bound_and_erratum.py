# %% [markdown]
# # The KL bound, and a correction to it
#
# Theorem 7 of Salmona et al., 2022 bounds the Kullback-Leibler divergence
# (in nats: every logarithm here and in `isobounds` is the natural one)
# between a push-forward model $\rho = g\#N(0, I_p)$ with
# $\mathrm{Lip}(g) \le L$ and a target $\nu$. With the notation of Theorem 1,
# $\beta(A, r) = \Phi(r/L + \Phi^{-1}(\rho(A))) - \rho(A) \le \rho(A_r \setminus A)$,
# $v = \nu(A_r \setminus A)$, and the binary KL divergence
#
# $$
# \mathrm{kl}(a \,\|\, b) = a \log\frac{a}{b} + (1 - a) \log\frac{1 - a}{1 - b},
# $$
#
# the correct statement is
#
# $$
# d_{KL}(\rho \,\|\, \nu) \;\ge\; \sup_{A,\; r > 0 \;:\; \beta(A, r) \,\ge\, v} \mathrm{kl}\big(\beta(A, r) \,\|\, v\big).
# $$
#
# The paper takes the supremum over all $(A, r)$, without the condition
# $\beta \ge v$, and remarks that the bound "becomes negative" for large
# $L$. Both statements are wrong: $\mathrm{kl}$ is never negative, and
# without the condition the formula can exceed the true divergence. This
# notebook derives the bound, shows where the condition comes from, and
# exhibits a model for which the published formula fails, with its KL
# divergence computed exactly.

# %%
import math

import mpmath
import numpy as np
import scipy.optimize as so
import scipy.special as sc
import sympy
import matplotlib.pyplot as plt

from isobounds import Phi, phi
from isobounds.bounds import (
    kl_bin,
    kl_lower_bound,
    kl_lower_bound_two_gaussians,
    maximize_tv_two_gaussians,
)
from isobounds.measures import GaussianMixture
from isobounds.pushforward import PiecewiseLinearMap, kl_divergence, tv_distance
from isobounds.sets import Interval


def relative_error(value, reference):
    """|value / reference - 1| at 60 digits (mpmath's global precision is 15 digits unless set)."""
    with mpmath.workdps(60):
        return abs(mpmath.mpf(value) / mpmath.mpf(reference) - 1)

# %% [markdown]
# ## Where the bound comes from
#
# The Donsker-Varadhan formula gives, for every measurable $S$ and every
# real $\zeta$,
#
# $$
# d_{KL}(\rho \,\|\, \nu) \;\ge\; \zeta\,\rho(S) - \log \int e^{\zeta 1_S}\, d\nu
# = \zeta\,\rho(S) - \log\big(1 - v + v e^{\zeta}\big), \qquad v = \nu(S).
# $$
#
# Take $S = A_r \setminus A$. The model mass $\rho(S)$ is unknown, but
# Theorem 1 gives $\rho(S) \ge \beta$. Replacing $\rho(S)$ by $\beta$ keeps
# the inequality only when $\zeta \ge 0$. So the bound is
#
# $$
# d_{KL}(\rho \,\|\, \nu) \;\ge\; \sup_{\zeta \ge 0} J(\zeta), \qquad
# J(\zeta) = \zeta \beta - \log\big(1 - v + v e^{\zeta}\big).
# $$
#
# Over all real $\zeta$, $J$ is concave with maximum $\mathrm{kl}(\beta \,\|\, v)$
# at $\zeta^* = \log\frac{\beta(1 - v)}{v(1 - \beta)}$. The paper's proof
# sketch restricts to $\zeta > 0$ but then takes this unconstrained maximum,
# and $\zeta^* \ge 0$ exactly when $\beta \ge v$. When $\beta < v$ the
# maximum over $\zeta \ge 0$ is at $\zeta = 0$, where $J = 0$.
#
# sympy checks the algebra. Writing $\beta$ and $v$ through their odds,
# $\beta = x/(1+x)$ and $v = y/(1+y)$ with $x, y > 0$, keeps every
# logarithm's argument visibly positive, so sympy may split and cancel
# them. Then $\zeta^* = \log(x/y)$, which is $\ge 0$ exactly when
# $x \ge y$, that is when $\beta \ge v$.

# %%
zeta = sympy.Symbol("zeta", real=True)
x, y = sympy.symbols("x y", positive=True)
beta, v = x / (1 + x), y / (1 + y)
J = zeta * beta - sympy.log(1 - v + v * sympy.exp(zeta))
zeta_star = sympy.log(beta) + sympy.log(1 - v) - sympy.log(v) - sympy.log(1 - beta)
binary_kl = beta * sympy.log(beta / v) + (1 - beta) * sympy.log((1 - beta) / (1 - v))

slope_at_zeta_star = sympy.simplify(sympy.diff(J, zeta).subs(zeta, zeta_star))
gap = sympy.simplify(sympy.expand_log(sympy.simplify(J.subs(zeta, zeta_star) - binary_kl), force=True))
curvature = sympy.simplify(sympy.diff(J, zeta, 2))
print("dJ/dzeta at zeta*:       ", slope_at_zeta_star)
print("J(zeta*) - kl(beta || v):", gap)
print("zeta* =", sympy.simplify(zeta_star))
print("d2J/dzeta2 =", curvature, " negative:", curvature.is_negative)
assert slope_at_zeta_star == 0
assert gap == 0
assert sympy.simplify(zeta_star - sympy.log(x / y)) == 0
assert curvature.is_negative

# %% [markdown]
# A numerical look at one case with $\beta < v$: over $\zeta \ge 0$ the
# function $J$ is largest at $\zeta = 0$ (value 0), while its unconstrained
# maximum, the published bound, sits at a negative $\zeta$.

# %%
beta_value, v_value = 0.01, 0.05
odds = {x: beta_value / (1 - beta_value), y: v_value / (1 - v_value)}
J_numeric = sympy.lambdify(zeta, J.subs(odds), "numpy")
zetas = np.linspace(-4, 2, 601)

fig, ax = plt.subplots(figsize=(7, 3.5))
ax.plot(zetas, J_numeric(zetas))
ax.axvline(0, c="gray", lw=0.8)
ax.axvspan(-4, 0, color="red", alpha=0.08, label=r"$\zeta < 0$: replacing $\rho(S)$ by $\beta$ is invalid")
ax.axhline(float(kl_bin(beta_value, v_value)), ls="--", c="C1", label=r"$\mathrm{kl}(\beta \| v)$ (published bound)")
ax.set_xlabel(r"$\zeta$")
ax.set_ylabel(r"$J(\zeta)$")
ax.set_ylim(-0.06, 0.03)
ax.set_title(rf"$\beta = {beta_value}$, $v = {v_value}$")
ax.legend(loc="lower left")
fig.tight_layout()

assert J_numeric(zetas[zetas >= 0]).max() <= 1e-15
assert abs(J_numeric(zetas).max() - float(kl_bin(beta_value, v_value))) < 1e-4

# %% [markdown]
# ## The counterexample in closed form
#
# Let $\nu = \tfrac12 N(-m, 1) + \tfrac12 N(m, 1)$ and let $g = T$ be the
# monotone transport map of notebook 02, which pushes $N(0, 1)$ exactly onto
# $\nu$. Then $d_{KL}(\rho \,\|\, \nu) = 0$, and $L = \mathrm{Lip}(T) = e^{m^2/2}$.
# Take $A = (-\infty, 0]$, so $\rho(A) = 1/2$, and $r = m/2$, the radius of
# Corollary 8. Then
#
# $$
# \beta = \Phi\big(r e^{-m^2/2}\big) - \tfrac12, \qquad
# v = \nu\big((0, r]\big) = \tfrac12\big[\Phi(m + r) - \Phi(m - r)\big],
# $$
#
# and for $m = 3$, $\beta \approx 0.0066 < v \approx 0.033$. The published
# formula claims $d_{KL} \ge \mathrm{kl}(\beta \,\|\, v) > 0$; the corrected
# bound is 0. As $L \to \infty$, $\beta \to 0$ and the published formula tends
# to $\mathrm{kl}(0 \,\|\, v) = -\log(1 - v) > 0$.

# %%
m = 3
r = m / 2
target = GaussianMixture.two_gaussians(-m, m, 1)
half_line = Interval(-mpmath.inf, 0)
lip_exact_fit = math.exp(m * m / 2)

published = kl_lower_bound(half_line, r, lip_exact_fit, target=target, model_mass=0.5, corrected=False)
corrected = kl_lower_bound(half_line, r, lip_exact_fit, target=target, model_mass=0.5)

with mpmath.workdps(50):
    beta_by_hand = mpmath.ncdf(r / mpmath.mpf(lip_exact_fit)) - mpmath.mpf(1) / 2
    v_by_hand = (mpmath.ncdf(m + r) - mpmath.ncdf(m - r)) / 2
    kl_by_hand = beta_by_hand * mpmath.log(beta_by_hand / v_by_hand) + (1 - beta_by_hand) * mpmath.log((1 - beta_by_hand) / (1 - v_by_hand))

print("beta =", mpmath.nstr(beta_by_hand, 6), " v =", mpmath.nstr(v_by_hand, 6))
print("published formula kl(beta || v):", published, "  by hand:", mpmath.nstr(kl_by_hand, 15))
print("corrected bound:                ", corrected)
print("true divergence of the exact fit: 0")
assert relative_error(published, kl_by_hand) < 1e-28
assert round(float(beta_by_hand), 4) == 0.0066
assert round(float(v_by_hand), 3) == 0.033
assert published > 0
assert corrected == 0

# %% [markdown]
# ## The same failure, checked on a model with an exact KL divergence
#
# The transport map $T$ has divergence 0 by construction, but $T$
# is available only through a root finder, so no computation confirms it.
# A piecewise-linear interpolation $g$ of $T$ at 101 knots is a
# network-like generator whose push-forward $g\#N(0, 1)$ has an
# explicit density, so `isobounds.pushforward.kl_divergence` computes its
# divergence to $\nu$ by quadrature between the images of the knots. The
# values of $g$ are made exactly odd, so $\rho(A) = 1/2$ exactly. Its
# Lipschitz constant is the largest slope of its pieces: 73.54, which is
# 18 % below $\mathrm{Lip}(T) = e^{m^2/2} \approx 90.02$. Each piece's slope
# is the mean of $T'$ over the piece, and $T'$ falls off quickly on both
# sides of its maximum $e^{m^2/2}$ at $z = 0$.

# %%
def transport_map(z):
    """T(z) = F^{-1}(Phi(z)) by bracketing root finding on the float64 cdf of the target."""
    levels = Phi(np.asarray(z, dtype=float))
    return np.array([so.brentq(lambda y: target.cdf(np.array([y]))[0] - q, -60, 60, xtol=1e-14) for q in levels])


# Knots dense near 0, where T is steep, and out to |z| = 6.
knots = 0.05 * np.sinh(np.linspace(-np.arcsinh(120), np.arcsinh(120), 101))
values = transport_map(knots)
values = (values - values[::-1]) / 2  # T is odd; remove the root finder's asymmetry
end_slopes = phi(knots[[0, -1]]) / target.pdf(values[[0, -1]])
g = PiecewiseLinearMap(knots, values, end_slopes[0], end_slopes[1])

lip = g.lipschitz_constant()
model = g.pushforward()
model_mass = model.mass(half_line)
exact_kl = kl_divergence(g, target)
exact_tv = tv_distance(g, target)
lip_of_transport_map = math.exp(m * m / 2)
largest_slope = np.max(np.abs(np.diff(values) / np.diff(knots)))  # inner pieces; the two end slopes are near 1
print("Lip(g) =", mpmath.nstr(lip, 8), "  e^(m^2/2) =", f"{lip_of_transport_map:.8g}",
      "  ratio =", f"{float(lip) / lip_of_transport_map:.4f}", "  rho(A) =", model_mass)
print("exact KL(rho || nu) =", exact_kl)
print("exact TV(rho, nu)   =", exact_tv)
assert model_mass == mpmath.mpf(1) / 2
assert abs(float(lip) / largest_slope - 1) < 1e-12
assert round(largest_slope, 2) == 73.54
assert round(lip_of_transport_map, 2) == 90.02
assert round(100 * (1 - largest_slope / lip_of_transport_map)) == 18

# %% [markdown]
# Before using these numbers, a Monte Carlo check by another route. For an
# increasing $g$ the model density at $g(z)$ is $\varphi(z) / g'(z)$, with
# $g'(z)$ the slope of the piece that contains $z$ (read off the knots with
# numpy here, not from the library). Then
# $d_{KL} = \mathbb{E}_z\big[\log \varphi(z) - \log g'(z) - \log p_\nu(g(z))\big]$
# and $d_{TV} = \mathbb{E}_z\big[(1 - p_\nu(g(z))\, g'(z) / \varphi(z))_+\big]$,
# estimated from $10^6$ latent draws with their standard errors.

# %%
rng = np.random.default_rng(7)
z = rng.standard_normal(1_000_000)
inner_slopes = np.diff(values) / np.diff(knots)
all_slopes = np.concatenate([[end_slopes[0]], inner_slopes, [end_slopes[1]]])
slope_at_z = all_slopes[np.searchsorted(knots, z)]
log_ratio = -0.5 * z**2 - 0.5 * math.log(2 * math.pi) - np.log(slope_at_z) - target.logpdf(g(z))

kl_samples = log_ratio
tv_samples = np.maximum(1 - np.exp(-log_ratio), 0)
for name, samples, exact in [("KL", kl_samples, exact_kl.value), ("TV", tv_samples, exact_tv.value)]:
    estimate, error = samples.mean(), samples.std() / math.sqrt(samples.size)
    print(f"{name}: Monte Carlo {estimate:.6f} +- {error:.6f}, exact {exact:.6f}")
    assert abs(estimate - exact) < 5 * error

# %% [markdown]
# Now the bounds at this model's own $L$ and $\rho(A)$. The published
# formula claims more than the model's true divergence; the corrected one
# does not. Corollary 8 is the same computation for the balanced mixture
# $\tfrac12[N(m_1, s^2 I) + N(m_2, s^2 I)]$ with $D = \|m_2 - m_1\|$. It
# takes the half-space $H_1$ on the side of $m_1$ of the bisecting
# hyperplane and the radius $r = D/(4s)$. With $\lambda = \rho(H_1) \le 1/2$
# (otherwise exchange $m_1$ and $m_2$ and use $1 - \lambda$),
#
# $$
# a = \Phi\!\left(\frac{D}{4sL} + \Phi^{-1}(\lambda)\right) - \lambda, \qquad
# b = \tfrac12\left[\Phi\!\left(\frac{D(2s+1)}{4s^2}\right) - \Phi\!\left(\frac{D(2s-1)}{4s^2}\right)\right],
# \qquad
# d_{KL}(\rho \,\|\, \nu) \ge \begin{cases} \mathrm{kl}(a \,\|\, b) & \text{if } a \ge b, \\ 0 & \text{otherwise.} \end{cases}
# $$
#
# Here $a = \beta(H_1, r)$ and $b = \nu(H_{1,r} \setminus H_1)$, so the
# published version, $\mathrm{kl}(a \,\|\, b)$ without the case $a < b$,
# fails in the same way.

# %%
published = kl_lower_bound(half_line, r, lip, target=target, model_mass=model_mass, corrected=False)
corrected = kl_lower_bound(half_line, r, lip, target=target, model_mass=model_mass)
published_cor8 = kl_lower_bound_two_gaussians(-m, m, 1, lip, model_weight=model_mass, corrected=False)
corrected_cor8 = kl_lower_bound_two_gaussians(-m, m, 1, lip, model_weight=model_mass)

print(f"exact KL of the model:        {exact_kl.value:.6f} (error estimate {exact_kl.error:.1e})")
print(f"Theorem 7, published formula: {mpmath.nstr(published, 6)}")
print(f"Theorem 7, corrected:         {mpmath.nstr(corrected, 6)}")
print(f"Corollary 8, published:       {mpmath.nstr(published_cor8, 6)}")
print(f"Corollary 8, corrected:       {mpmath.nstr(corrected_cor8, 6)}")
assert published > exact_kl.value + exact_kl.error
assert published_cor8 > exact_kl.value + exact_kl.error
assert corrected <= exact_kl.value
assert corrected_cor8 <= exact_kl.value

# %% [markdown]
# ## The published formula against $L$
#
# For the balanced target with $m = 3$ and a model with $\rho(H_1) = 1/2$,
# Corollary 8 as a function of $L$. Below the crossing $L^\dagger$ where
# $\beta = v$ the two versions agree. Beyond it the published formula does
# not "become negative": it rises again, towards $-\log(1 - v) \approx 0.034$
# as $L \to \infty$, although from $L = e^{m^2/2} \approx 90$ on the
# transport map fits the target exactly with divergence 0. The corrected
# bound is 0 beyond the crossing. Pinsker's
# inequality $d_{KL} \ge 2\, d_{TV}^2$ turns the total variation bound of
# Corollary 6 (with its radius optimised) into another valid KL bound,
# shown for comparison. The dot is the piecewise-linear model above.

# %%
lips = np.logspace(0, 6, 61)
published_curve = np.array([float(kl_lower_bound_two_gaussians(-m, m, 1, L, 0.5, corrected=False)) for L in lips])
corrected_curve = np.array([float(kl_lower_bound_two_gaussians(-m, m, 1, L, 0.5)) for L in lips])
pinsker_curve = np.array([2 * float(maximize_tv_two_gaussians(-m, m, 1, L).value) ** 2 for L in lips[::4]])

with mpmath.workdps(40):
    v_cor8 = (mpmath.ncdf(m + r) - mpmath.ncdf(m - r)) / 2
    limit = -mpmath.log(1 - v_cor8)
    crossing = so.brentq(lambda t: float(mpmath.ncdf(r / 10.0**t) - mpmath.mpf(1) / 2 - v_cor8), -3, 6)

fig, ax = plt.subplots(figsize=(7, 4))
ax.loglog(lips, np.maximum(published_curve, 1e-8), "--", label="Corollary 8 as published")
ax.loglog(lips, np.maximum(corrected_curve, 1e-8), label="Corollary 8 corrected")
ax.loglog(lips[::4], np.maximum(pinsker_curve, 1e-8), ":", label=r"$2\,(\mathrm{TV\ bound})^2$ (Pinsker)")
ax.axhline(float(limit), c="gray", lw=0.8, label=r"$-\log(1 - v)$, limit of the published formula")
ax.axvline(10.0**crossing, c="gray", lw=0.8, ls=":")
ax.plot([float(lip)], [exact_kl.value], "ko", label="exact KL of the piecewise-linear model")
ax.set_ylim(1e-5, 2)
ax.set_xlabel("Lipschitz constant $L$")
ax.set_ylabel("KL lower bound")
ax.set_title(r"$m = 3$, $\rho(H_1) = 1/2$; vertical line: $\beta = v$")
ax.legend(loc="upper right", fontsize=8)
fig.tight_layout()

print(f"crossing L = {10.0**crossing:.4g}, limit -log(1 - v) = {mpmath.nstr(limit, 6)}")
assert np.all(published_curve >= 0)
assert np.all(corrected_curve[lips > 10.0**crossing] == 0)
assert np.allclose(published_curve[lips < 10.0**crossing], corrected_curve[lips < 10.0**crossing], rtol=0, atol=0)
assert abs(published_curve[-1] - float(limit)) < 1e-3
assert round(float(limit), 3) == 0.034

# %% [markdown]
# ## Far-apart modes: a tail computation
#
# With $L = 10$, $r = m/2$ and $m = 40$, the target shell mass is
# $v = \tfrac12[\Phi(60) - \Phi(20)] \approx 1.4 \times 10^{-89}$. Written as
# a difference of two distribution function values in float64 it is 0 (both
# round to 1), and $\mathrm{kl}(a \,\|\, 0) = \infty$. The library evaluates
# each difference of $\Phi$ as a Gaussian mass from the tail side. The
# reference is an mpmath evaluation at 60 digits with `erfc`. At $m = 60$,
# $v \approx 2.5 \times 10^{-198}$.

# %%
for m_far in [40, 60]:
    bound = kl_lower_bound_two_gaussians(-m_far, m_far, 1, 10, 0.5)
    with mpmath.workdps(60):
        r_far = mpmath.mpf(m_far) / 2
        a = mpmath.erf(r_far / 10 / mpmath.sqrt(2)) / 2  # Phi(r / L) - 1/2
        b = (mpmath.erfc((m_far - r_far) / mpmath.sqrt(2)) - mpmath.erfc((m_far + r_far) / mpmath.sqrt(2))) / 4
        reference = a * mpmath.log(a / b) + (1 - a) * mpmath.log((1 - a) / (1 - b))
    naive_v = 0.5 * (sc.ndtr(m_far + m_far / 2) - sc.ndtr(m_far - m_far / 2))
    print(f"m = {m_far}: float64 cdf difference v = {naive_v}, tail-side v = {mpmath.nstr(b, 6)}")
    print(f"        bound = {mpmath.nstr(bound, 15)}, reference = {mpmath.nstr(reference, 15)}")
    assert naive_v == 0
    assert relative_error(bound, reference) < 1e-28
    assert mpmath.nstr(b, 2) == {40: "1.4e-89", 60: "2.5e-198"}[m_far]

# %% [markdown]
# ## Exercise: the condition from the data-processing inequality
#
# A second proof of the corrected bound shows at a glance why it needs
# $\beta \ge v$. The indicator $x \mapsto 1_S(x)$ of $S = A_r \setminus A$
# maps $\rho$ and $\nu$ to Bernoulli laws with parameters $\rho(S)$ and
# $v = \nu(S)$.
#
# 1. Show that $d_{KL}(\rho \,\|\, \nu) \ge \mathrm{kl}(\rho(S) \,\|\, v)$.
# 2. Use the shape of $a \mapsto \mathrm{kl}(a \,\|\, v)$ on $[0, 1]$ to show
#    that $\rho(S) \ge \beta \ge v$ implies
#    $\mathrm{kl}(\rho(S) \,\|\, v) \ge \mathrm{kl}(\beta \,\|\, v)$, and that
#    $\beta < v$ gives no positive bound.
# 3. For the piecewise-linear model $g$ above and $S = (0, 3/2]$, compute
#    $\rho(S)$ exactly and order the numbers $\mathrm{kl}(\beta \,\|\, v)$,
#    $\mathrm{kl}(\rho(S) \,\|\, v)$ and $d_{KL}(\rho \,\|\, \nu)$.
#
# **Solution.** 1. The data-processing inequality: a KL divergence does not
# increase when both laws are pushed through the same measurable map, and
# the KL divergence between the two Bernoulli laws is
# $\mathrm{kl}(\rho(S) \,\|\, v)$. It is also the Donsker-Varadhan bound
# with the exact $\rho(S)$ in place of $\beta$, maximised over all real
# $\zeta$ (the sympy computation above with $\beta$ renamed).
#
# 2. $\mathrm{kl}(\cdot \,\|\, v)$ is convex, vanishes at $v$, decreases on
# $[0, v]$ and increases on $[v, 1]$. If $\beta \ge v$, then
# $\rho(S) \ge \beta \ge v$ lie on the increasing branch, and the inequality
# follows. If $\beta < v$, the constraint $\rho(S) \ge \beta$ allows
# $\rho(S) = v$, where $\mathrm{kl}$ is 0. That is the case of a model that
# fits $\nu$, so no positive bound can follow.
#
# 3. Below: $\rho(S)$ lies close to $v$ (the model fits the target well),
# so $\mathrm{kl}(\rho(S) \,\|\, v)$ is tiny, at most the exact divergence,
# while $\mathrm{kl}(\beta \,\|\, v)$, computed on the decreasing branch,
# is much larger than both.

# %%
shell = half_line.shell(r)
model_shell_mass = model.mass(shell)
target_shell_mass = target.mass(shell)
with mpmath.workdps(50):
    beta_model = mpmath.ncdf(r / lip) - mpmath.mpf(1) / 2  # beta for rho(A) = 1/2 at the model's own L


def kl_bin_by_hand(a, b):
    """Binary KL divergence in nats, at 50 digits."""
    with mpmath.workdps(50):
        a, b = mpmath.mpf(a), mpmath.mpf(b)
        return a * mpmath.log(a / b) + (1 - a) * mpmath.log((1 - a) / (1 - b))


data_processing_bound = kl_bin_by_hand(model_shell_mass, target_shell_mass)
published_value = kl_bin_by_hand(beta_model, target_shell_mass)
print(f"beta = {mpmath.nstr(beta_model, 6)},  rho(S) = {mpmath.nstr(model_shell_mass, 6)},  v = {mpmath.nstr(target_shell_mass, 6)}")
print(f"kl(rho(S) || v) = {mpmath.nstr(data_processing_bound, 6)} <= exact KL {exact_kl.value:.6f}"
      f" < kl(beta || v) = {mpmath.nstr(published_value, 6)}")
assert beta_model < target_shell_mass
assert data_processing_bound <= exact_kl.value + exact_kl.error
assert published_value > exact_kl.value + exact_kl.error
assert relative_error(published_value, published) < 1e-25

# %% [markdown]
# ## References
#
# A. Salmona, V. De Bortoli, J. Delon, A. Desolneux, "Can Push-forward
# Generative Models Fit Multimodal Distributions?", NeurIPS 2022:
# Theorem 7 and Corollary 8 (KL bounds), corrected here by the condition
# $\beta \ge \nu(A_r \setminus A)$ (for Corollary 8, $a \ge b$) that their proof
# needs.
