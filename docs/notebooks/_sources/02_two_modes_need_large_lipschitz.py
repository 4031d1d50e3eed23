# %% [markdown]
# # Two modes need a large Lipschitz constant
#
# Take the target $\nu = \tfrac12 N(-m, 1) + \tfrac12 N(m, 1)$: two unit
# Gaussians whose means are $2m$ apart. A generator $g$ pushes
# $N(0, I_p)$ forward to $\rho = g\#N(0, I_p)$. Theorem 1 (notebook 01)
# states that an $L$-Lipschitz $g$ must put mass in every shell around a set,
# in particular between the modes, where $\nu$ has almost none. This
# notebook follows the consequences drawn by Salmona et al., 2022:
#
# - Corollary 2: fitting $\nu$ exactly needs $L \ge e^{m^2/2}$;
# - Corollary 3: in one dimension the monotone transport map is the least
#   Lipschitz exact fit, which gives the best bound of this kind;
# - Corollary 5 and Theorem 4: with a fixed $L$, the total variation
#   distance to a two-mode target is bounded below, and the bound tends to
#   $1/2$ as the modes separate;
# - Corollary 6: the same for the two-Gaussian target, and how much the
#   bound improves when its free radius is optimised.

# %%
import itertools
import math

import mpmath
import numpy as np
import scipy.optimize as so
import matplotlib.pyplot as plt

from isobounds import Phi, Phi_inv, isoperimetric_profile, phi
from isobounds.bounds import (
    lipschitz_lower_bound_for_tv,
    lipschitz_lower_bound_two_gaussians,
    maximize_tv_two_gaussians,
    ot_lipschitz_constant,
    tv_lower_bound,
    tv_lower_bound_disconnected,
    tv_lower_bound_two_gaussians,
)
from isobounds.measures import GaussianMixture
from isobounds.sets import Interval


def relative_error(value, reference):
    """|value / reference - 1| at 60 digits.

    The library computes at its own working precision (30 digits by
    default), but arithmetic on the mpf numbers it returns runs at mpmath's
    global precision, 15 digits unless set, too coarse for these checks.
    """
    with mpmath.workdps(60):
        return abs(mpmath.mpf(value) / mpmath.mpf(reference) - 1)

# %% [markdown]
# ## Corollary 2: the Lipschitz constant of an exact fit
#
# Let $\nu = \lambda N(m_1, s^2 I_d) + (1 - \lambda) N(m_2, s^2 I_d)$ and
# $D = \|m_2 - m_1\|$. Apply the first inequality of Theorem 1 to the
# half-space $H$ that bisects the two means, on the side of $m_2$. If
# $g\#\mu_p = \nu$, then $L \ge I(\nu(H)) / \nu^+(\partial H)$, where, with
# $t = D/(2s)$,
#
# $$
# \nu(H) = \lambda\,\Phi(-t) + (1 - \lambda)\,\Phi(t),
# \qquad
# \nu^+(\partial H) = \frac{e^{-D^2/(8 s^2)}}{s\sqrt{2\pi}} .
# $$
#
# Since $\nu(H) = \Phi(-t)\lambda + (1 - \Phi(-t))(1 - \lambda)$ lies between
# $\lambda$ and $1 - \lambda$, where the concave and symmetric $I$ is at least
# $I(\lambda) = \varphi(\Phi^{-1}(\lambda))$, replacing $I(\nu(H))$ by $I(\lambda)$
# gives the closed form
#
# $$
# L \;\ge\; s \exp\!\left(\frac{D^2}{8 s^2} - \frac{\Phi^{-1}(\lambda)^2}{2}\right),
# $$
#
# which is $e^{m^2/2}$ for the balanced target with $s = 1$ and $D = 2m$.
# `lipschitz_lower_bound_two_gaussians` returns the closed form, or the
# intermediate ratio with `sharp=True`. We check both against a direct
# mpmath evaluation of the formulas above.

# %%
def sharp_bound_by_hand(m, weight):
    """I(nu(H)) / nu+(dH) for lam N(-m, 1) + (1 - lam) N(m, 1), with mpmath at 50 digits."""
    with mpmath.workdps(50):
        mass_H = weight * mpmath.ncdf(-m) + (1 - weight) * mpmath.ncdf(m)
        quantile = mpmath.sqrt(2) * mpmath.erfinv(2 * mass_H - 1)  # fine here: mass_H is not tiny
        return mpmath.npdf(quantile) / mpmath.npdf(m)


print(f"{'m':>3} {'weight':>6} {'closed form':>14} {'sharp':>14} {'exp(m^2/2)':>14}")
for m in [1, 3, 5, 10]:
    for weight in [0.5, 0.9]:
        closed = lipschitz_lower_bound_two_gaussians(-m, m, 1, weight=weight)
        sharp = lipschitz_lower_bound_two_gaussians(-m, m, 1, weight=weight, sharp=True)
        print(f"{m:3d} {weight:6.1f} {mpmath.nstr(closed, 8):>14} {mpmath.nstr(sharp, 8):>14} {mpmath.nstr(mpmath.exp(m * m / 2), 8):>14}")

        with mpmath.workdps(50):
            by_hand = mpmath.exp((2 * m) ** 2 / 8 - (mpmath.sqrt(2) * mpmath.erfinv(2 * mpmath.mpf(weight) - 1)) ** 2 / 2)
        assert relative_error(closed, by_hand) < 1e-28
        assert relative_error(sharp, sharp_bound_by_hand(m, weight)) < 1e-28
        assert sharp >= closed

# %% [markdown]
# The dimension does not enter the bound: only $s$, $D/s$ and $\lambda$
# do. Because it grows like $e^{D^2/(8s^2)}$, it leaves double precision
# (about $10^{308}$) at $D/s \approx 75$; the library returns `mpmath.mpf`
# numbers, which have no such limit.

# %%
print("m = 50 (D = 100):", mpmath.nstr(lipschitz_lower_bound_two_gaussians(-50, 50, 1), 12))
print("exp(1250)       :", mpmath.nstr(mpmath.exp(1250), 12))
print("same separation in R^3:", mpmath.nstr(lipschitz_lower_bound_two_gaussians([0, 0, 0], [60, 80, 0], 1), 12))

# %% [markdown]
# ## Corollary 3: the monotone transport map is the least Lipschitz exact fit
#
# On $\mathbb{R}$ with a positive density $p_\nu$ and distribution function
# $F_\nu$, the monotone map $T = F_\nu^{-1} \circ \Phi$ pushes $N(0, 1)$ onto
# $\nu$. Its slope at $z$ is $\varphi(z) / p_\nu(T(z))$, so with $y = T(z)$,
#
# $$
# \mathrm{Lip}(T) = \sup_y \frac{I(F_\nu(y))}{p_\nu(y)},
# $$
#
# and every $g$ with $g\#\mu_p = \nu$ has $\mathrm{Lip}(g) \ge \mathrm{Lip}(T)$
# (apply Theorem 1 to the half-lines $(-\infty, y]$). For the balanced
# target the supremum sits at $y = 0$, where it equals $e^{m^2/2}$: the same
# value as Corollary 2. The figure shows $T$ for $m = 3$: close to
# $z - m$ for negative $z$ and to $z + m$ for positive $z$ (slope near 1),
# with a steep step of slope up to $e^{4.5} \approx 90$ at $z = 0$.

# %%
m = 3
target = GaussianMixture.two_gaussians(-m, m, 1)


def transport_map(z, target):
    """T(z) = F^{-1}(Phi(z)), solved for each z by bracketing root finding on the float64 cdf."""
    levels = Phi(np.asarray(z, dtype=float))
    return np.array([so.brentq(lambda y: target.cdf(np.array([y]))[0] - q, -60, 60, xtol=1e-13) for q in levels])


latent = np.linspace(-4, 4, 401)
images = transport_map(latent, target)
slopes = phi(latent) / target.pdf(images)

fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
axes[0].plot(latent, images)
axes[0].set_xlabel("latent $z$")
axes[0].set_ylabel("$T(z)$")
axes[0].set_title(r"$T = F_\nu^{-1} \circ \Phi$ for $m = 3$")
axes[1].semilogy(latent, slopes)
axes[1].axhline(math.exp(m * m / 2), ls=":", c="gray", label=r"$e^{m^2/2}$")
axes[1].set_xlabel("latent $z$")
axes[1].set_ylabel("$T'(z)$")
axes[1].set_title("slope of the transport map")
axes[1].legend()
fig.tight_layout()

ot = ot_lipschitz_constant(target)
print("ot_lipschitz_constant:", ot)
with mpmath.workdps(60):
    assert relative_error(ot.value, mpmath.exp(mpmath.mpf(m * m) / 2)) < 1e-28
assert abs(slopes.max() / math.exp(m * m / 2) - 1) < 1e-6

# %% [markdown]
# With unequal weights or widths the supremum moves away from the midpoint
# and can have several local maxima, so `ot_lipschitz_constant` searches a
# grid in logarithms and refines the best candidates at the working
# precision. We check it by brute force: the ratio $I(F(y))/p(y)$ on a
# float64 grid of $2 \times 10^5$ points, which cannot exceed the supremum
# and misses it only by the grid's discretisation. For the unbalanced
# two-Gaussian target the transport bound is well above Corollary 2, which
# only looks at the bisecting half-space.

# %%
def ratio_on_grid(target, low, high, points=200_001):
    y = np.linspace(low, high, points)
    tail = np.minimum(target.cdf(y), target.sf(y))
    return y, isoperimetric_profile(tail) / target.pdf(y)


targets = {
    "0.9 N(-3, 1) + 0.1 N(3, 1)": GaussianMixture.two_gaussians(-3, 3, 1, weight=0.9),
    "0.2 N(-6, 0.5^2) + 0.5 N(0, 1) + 0.3 N(5, 2^2)": GaussianMixture([0.2, 0.5, 0.3], [-6, 0, 5], [0.5, 1, 2]),
}
for name, mixture in targets.items():
    result = ot_lipschitz_constant(mixture)
    y, ratio = ratio_on_grid(mixture, -15, 20)
    best = ratio.argmax()
    print(f"{name}:\n  ot_lipschitz_constant = {mpmath.nstr(result.value, 10)} at y = {mpmath.nstr(result.maximiser, 6)}"
          f"\n  grid maximum          = {ratio[best]:.10g} at y = {y[best]:.6f}")
    assert result.value >= ratio[best] * (1 - 1e-9)
    assert result.value <= ratio[best] * (1 + 1e-6)

unbalanced = targets["0.9 N(-3, 1) + 0.1 N(3, 1)"]
print("Corollary 2, closed form:", lipschitz_lower_bound_two_gaussians(-3, 3, 1, weight=0.9))
print("Corollary 2, sharp:      ", lipschitz_lower_bound_two_gaussians(-3, 3, 1, weight=0.9, sharp=True))
assert ot_lipschitz_constant(unbalanced).value > lipschitz_lower_bound_two_gaussians(-3, 3, 1, weight=0.9, sharp=True)

# %% [markdown]
# The three bounds for weights 0.9 / 0.1 against the separation, with the
# balanced value $e^{m^2/2}$ (where all three coincide) for reference. The
# right panel divides by $e^{m^2/2}$. The closed form of Corollary 2 keeps
# the constant factor $e^{-\Phi^{-1}(0.9)^2/2} \approx 0.44$, and the sharp
# form tends to it as $m$ grows. The transport bound of Corollary 3 stays
# higher, at about $0.74\, e^{m^2/2}$ for $m = 10$: the steepest point of
# the transport map moves towards the lighter mode, away from the bisecting
# hyperplane that Corollary 2 uses. In higher
# dimension Corollary 3 still applies to the law of the projection on the
# line through the means, because a projection is 1-Lipschitz.

# %%
separations = np.arange(0.5, 10.01, 0.5)
curves = {"Corollary 2": [], "Corollary 2, sharp": [], "Corollary 3": []}
for m_value in separations:
    curves["Corollary 2"].append(lipschitz_lower_bound_two_gaussians(-m_value, m_value, 1, weight=0.9))
    curves["Corollary 2, sharp"].append(lipschitz_lower_bound_two_gaussians(-m_value, m_value, 1, weight=0.9, sharp=True))
    curves["Corollary 3"].append(ot_lipschitz_constant(GaussianMixture.two_gaussians(-m_value, m_value, 1, weight=0.9)).value)

balanced = np.exp(separations**2 / 2)
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
axes[0].semilogy(separations, balanced, "k:", label=r"balanced: $e^{m^2/2}$")
for (label, values), style in zip(curves.items(), ["-", "--", "-."]):
    values = np.array([float(v) for v in values])
    axes[0].semilogy(separations, values, style, label=label)
    axes[1].plot(separations, values / balanced, style, label=label)
axes[0].set_xlabel("half-separation $m$")
axes[0].set_ylabel("lower bound on Lip$(g)$")
axes[0].legend()
axes[1].set_xlabel("half-separation $m$")
axes[1].set_ylabel(r"bound $/\ e^{m^2/2}$")
fig.suptitle(r"Exact fit of $0.9\,N(-m, 1) + 0.1\,N(m, 1)$")
fig.tight_layout()

for closed, sharp, transport in zip(*curves.values()):
    assert closed <= sharp
    assert sharp < transport
assert round(float(curves["Corollary 3"][-1]) / balanced[-1], 2) == 0.74
with mpmath.workdps(60):
    factor = mpmath.exp(-Phi_inv(0.9, dps=50) ** 2 / 2)
    assert round(float(factor), 2) == 0.44
    assert all(relative_error(c, mpmath.exp(mpmath.mpf(v) ** 2 / 2) * factor) < 1e-28
               for c, v in zip(curves["Corollary 2"], separations))

# %% [markdown]
# ## Theorem 4 and Corollary 5: a fixed $L$ costs total variation
#
# Trained generators have moderate Lipschitz constants, so they cannot fit
# such targets exactly. How far must they stay? Theorem 4 turns Theorem 1
# into a total variation bound: for every set $A$ and radius $r > 0$,
#
# $$
# d_{TV}(\rho, \nu) \;\ge\; \alpha(A, r) - \min(\rho(A), \nu(A)) - \nu(A_r \setminus A).
# $$
#
# The model puts at least $\alpha(A, r) - \rho(A)$ in the shell, where the
# target may have little. If $\rho(A) \le \nu(A)$, the proof uses
# $d_{TV} \ge \rho(A_r \setminus A) - \nu(A_r \setminus A)$, and otherwise
# $d_{TV} \ge \rho(A_r) - \nu(A_r)$. In both cases it bounds $\rho(A_r)$
# below by $\alpha(A, r)$. The right side needs $\rho(A)$, which a
# model-free statement does not know. Either $\rho(A) \ge \nu(A)$ or
# $\rho(B) \ge \nu(B)$ for the complement $B$, and $\alpha$ increases with
# the model mass, so
#
# $$
# d_{TV}(\rho, \nu) \;\ge\; \min_{C \in \{A, B\}}\; \sup_{r > 0}\;
# \left[\Phi\!\left(\frac{r}{L} + \Phi^{-1}(\nu(C))\right) - \nu(C) - \nu(C_r \setminus C)\right],
# $$
#
# a bound that involves only $L$ and $\nu$, with a radius for each set.
#
# Corollary 5 is the cleanest case: $\nu$ is carried by two closed pieces at
# distance $D$, the heavier of mass $\lambda \ge 1/2$. Then
#
# $$
# d_{TV}(\rho, \nu) \;\ge\; \Phi\!\left(\frac{D}{2L} + \Phi^{-1}(\lambda)\right) - \lambda \;>\; 0,
# $$
#
# which tends to $1/2$ when $D/L \to \infty$ with $\lambda = 1/2$: a model with
# a bounded Lipschitz constant ends up at total variation $1/2$ from two
# far-apart pieces, the distance of a model that drops one of them.
#
# Proof sketch, from the model-free form: let $A$ be the points within
# $D/2$ of the heavier piece $M_1$, and $B$ its complement. For $r < D/2$
# neither shell $A_r \setminus A$ nor $B_r \setminus B$ meets $M_1$ or $M_2$,
# so both have target mass 0, while $\nu(A) = \lambda$ and
# $\nu(B) = 1 - \lambda$. With $f(p) = \Phi(c + \Phi^{-1}(p)) - p$,
# $c = r/L$ and $x = \Phi^{-1}(\lambda) \ge 0$,
# $f(1 - \lambda) - f(\lambda) = [\Phi(x) - \Phi(-x)] - [\Phi(c + x) - \Phi(c - x)] \ge 0$,
# because the interval $[-x, x]$ has more Gaussian mass than its translate
# $[c - x, c + x]$. So the minimum is $f(\lambda)$, and letting $r \to D/2$
# gives the bound.

# %%
lips = np.logspace(-1, 4, 60)
fig, ax = plt.subplots(figsize=(7, 3.8))
for distance in [1, 5, 20, 100]:
    values = [float(tv_lower_bound_disconnected(0.5, distance, lip)) for lip in lips]
    ax.semilogx(lips, values, label=f"$D = {distance}$")
ax.axhline(0.5, ls=":", c="gray")
ax.set_xlabel("Lipschitz constant $L$")
ax.set_ylabel("lower bound on $d_{TV}$")
ax.set_title(r"Corollary 5, two pieces of mass $1/2$")
ax.legend()
fig.tight_layout()

for weight, distance, lip in [(0.5, 5, 10), (0.7, 20, 3), (0.5, 100, 1e6)]:
    value = tv_lower_bound_disconnected(weight, distance, lip)
    with mpmath.workdps(50):
        by_hand = mpmath.ncdf(mpmath.mpf(distance) / (2 * mpmath.mpf(lip)) + mpmath.sqrt(2) * mpmath.erfinv(2 * mpmath.mpf(weight) - 1)) - mpmath.mpf(weight)
    print(f"weight {weight}, D = {distance}, L = {lip:g}: bound {mpmath.nstr(value, 12)}, by hand {mpmath.nstr(by_hand, 12)}")
    assert relative_error(value, by_hand) < 1e-28

# %% [markdown]
# ## Corollary 6: two Gaussians at a fixed $L$
#
# For the balanced mixture $\tfrac12[N(m_1, s^2 I) + N(m_2, s^2 I)]$, apply
# Theorem 4 to the bisecting half-space $H$ ($\nu(H) = 1/2$) with the radius
# $r = D/(4s)$:
#
# $$
# d_{TV}(\rho, \nu) \;\ge\; \left[\Phi\!\left(\frac{D}{4sL}\right) - \frac12\right]
# - \frac12\left[\Phi\!\left(\frac{D(2s+1)}{4s^2}\right) - \Phi\!\left(\frac{D(2s-1)}{4s^2}\right)\right].
# $$
#
# The paper writes $s \ge 0$; $s = 0$ divides by zero, so `sigma` must be
# positive. The radius $D/(4s)$ is a convenient choice, not the best one
# (it is not even in the units of $D$ when $s \ne 1$), and
# `maximize_tv_two_gaussians` maximises the Theorem 4 bracket over $r$:
#
# $$
# \sup_{r > 0}\; \Phi(r/L) - \tfrac12 - \tfrac12\big[\Phi((D/2 + r)/s) - \Phi((D/2 - r)/s)\big].
# $$
#
# Below, for $m = 3$ and $L = 10$, the library's optimum is compared with a
# brute-force maximum of the same bracket written out in mpmath on a grid
# of 2001 radii, and with the library's generic Theorem 4 on the ray
# $A = (-\infty, 0]$ at the optimal radius.

# %%
m, lip = 3, 10
fixed = tv_lower_bound_two_gaussians(-m, m, 1, lip)
optimized = maximize_tv_two_gaussians(-m, m, 1, lip)


def bracket_by_hand(r):
    with mpmath.workdps(40):
        r = mpmath.mpf(r)
        return mpmath.ncdf(r / lip) - mpmath.mpf(1) / 2 - (mpmath.ncdf(m + r) - mpmath.ncdf(m - r)) / 2


radii = np.linspace(0.0, 6.0, 2001)
brute_force = max(bracket_by_hand(r) for r in radii)
ray = tv_lower_bound(Interval(-mpmath.inf, 0), optimized.radius, lip, target=GaussianMixture.two_gaussians(-m, m, 1))

print("Corollary 6 (r = D/4 = 1.5):       ", fixed)
print("Theorem 4 at r = 1.5, by hand:      ", mpmath.nstr(bracket_by_hand(1.5), 15))
print("optimised over r:                   ", optimized.value, "at r =", mpmath.nstr(optimized.radius, 6))
print("brute force on a grid of radii:     ", mpmath.nstr(brute_force, 15))
print("Theorem 4, model-free, on (-inf, 0]:", ray)
assert relative_error(fixed, bracket_by_hand(1.5)) < 1e-28
assert brute_force <= optimized.value * (1 + 1e-20)
assert optimized.value - brute_force < 1e-6
assert relative_error(ray, optimized.value) < 1e-28

# %% [markdown]
# The two bounds against $L$ for several separations. Each curve decreases
# in $L$ and, at a fixed $L$, rises towards $1/2$ as $m$ grows.

# %%
lips = np.logspace(0, 4, 25)
separations = [1, 2, 3, 5, 10]
fig, ax = plt.subplots(figsize=(7, 3.8))
table = {}
for m_value, color in zip(separations, plt.cm.viridis(np.linspace(0, 0.9, len(separations)))):
    fixed_values = np.array([float(tv_lower_bound_two_gaussians(-m_value, m_value, 1, lip)) for lip in lips])
    optimized_values = np.array([float(maximize_tv_two_gaussians(-m_value, m_value, 1, lip).value) for lip in lips[::3]])
    table[m_value] = fixed_values
    ax.semilogx(lips, fixed_values, "--", color=color)
    ax.semilogx(lips[::3], optimized_values, "o-", color=color, ms=3, label=f"$m = {m_value}$")
    assert np.all(np.diff(fixed_values) <= 1e-15)
    assert np.all(optimized_values >= fixed_values[::3] - 1e-15)
ax.axhline(0.5, ls=":", c="gray")
ax.set_xlabel("Lipschitz constant $L$")
ax.set_ylabel("lower bound on $d_{TV}$")
ax.set_title("Corollary 6 (dashed) and its optimised radius (dots)")
ax.legend()
fig.tight_layout()

for smaller, larger in zip(separations, separations[1:]):
    assert np.all(table[larger] >= table[smaller] - 1e-15)

# %% [markdown]
# ## How large must $L$ be for a small total variation?
#
# Fix a tolerance $\varepsilon$. A model with total variation below
# $\varepsilon$ needs a Lipschitz constant at least the $L_\varepsilon(m)$ at
# which the bound falls to $\varepsilon$. `lipschitz_lower_bound_for_tv`
# returns it: Corollary 6 solved for $L$ in closed form, and with
# `sharp=True` the optimised radius,
# $L_\varepsilon = \sup_r r / \Phi^{-1}(\tfrac12 + \varepsilon + S(r))$ with $S(r)$
# the target's shell mass. Each value is checked on the bound itself,
# which decreases in $L$: it must be above $\varepsilon$ at
# $L_\varepsilon (1 - 10^{-9})$ and below at $L_\varepsilon (1 + 10^{-9})$.
#
# The result shows a contrast worth knowing. An exact fit needs
# $e^{m^2/2}$ (Corollary 2), but these total variation bounds only force a
# growth linear in $m$. For large $m$, and $r$ at least a few units below
# $m$, the target shell mass is negligible and, for large $L$, the bracket is about
# $\Phi(r/L) - 1/2 \approx r / (L\sqrt{2\pi})$. Corollary 6
# takes $r = m/2$, so $L_\varepsilon \approx m / (2\varepsilon\sqrt{2\pi})$. The
# optimised radius stays a few units below $m$ (the target's shell mass
# must stay small), so its $L_\varepsilon$ approaches
# $m / (\varepsilon\sqrt{2\pi})$ from below, slowly. These are lower bounds:
# they state what the theory proves, not what training achieves.

# %%
epsilon = 0.05
half_separations = np.array([1, 2, 3, 4, 6, 8, 10])
needed_fixed = np.array([float(lipschitz_lower_bound_for_tv(-v, v, 1, epsilon)) for v in half_separations])
needed_optimized = np.array([float(lipschitz_lower_bound_for_tv(-v, v, 1, epsilon, sharp=True))
                             for v in half_separations])


def check_crossing(bound, lip, m_value, relative_step=mpmath.mpf("1e-9")):
    """Assert that bound(m_value, L) is above epsilon just below lip and below it just above lip."""
    assert bound(m_value, lip * (1 - relative_step)) > epsilon
    assert bound(m_value, lip * (1 + relative_step)) < epsilon


for v in half_separations:
    check_crossing(lambda m_value, lip: tv_lower_bound_two_gaussians(-m_value, m_value, 1, lip, clip=False),
                   lipschitz_lower_bound_for_tv(-v, v, 1, epsilon), v)
    check_crossing(lambda m_value, lip: maximize_tv_two_gaussians(-m_value, m_value, 1, lip).value,
                   lipschitz_lower_bound_for_tv(-v, v, 1, epsilon, sharp=True), v)

fig, ax = plt.subplots(figsize=(7, 3.8))
ax.semilogy(half_separations, needed_fixed, "s--", label=rf"Corollary 6 falls to $\varepsilon = {epsilon}$")
ax.semilogy(half_separations, needed_optimized, "o-", label="the same with the optimised radius")
ax.semilogy(half_separations, half_separations / (epsilon * math.sqrt(2 * math.pi)), "k:", label=r"$m / (\varepsilon\sqrt{2\pi})$")
ax.semilogy(half_separations, half_separations / (2 * epsilon * math.sqrt(2 * math.pi)), "k--", lw=0.8,
            label=r"$m / (2\varepsilon\sqrt{2\pi})$")
ax.semilogy(half_separations, np.exp(half_separations**2 / 2), "r-.", label=r"exact fit: $e^{m^2/2}$")
ax.set_ylim(0.5, 1e5)
ax.set_xlabel("half-separation $m$")
ax.set_ylabel(r"Lipschitz constant $L_\varepsilon$")
ax.legend()
fig.tight_layout()

print(f"{'m':>3} {'L (Cor. 6)':>12} {'m/(2 eps sqrt(2 pi))':>21} {'L (optimised)':>14} {'m/(eps sqrt(2 pi))':>19}")
for v, a, b in zip(half_separations, needed_fixed, needed_optimized):
    slope = v / (epsilon * math.sqrt(2 * math.pi))
    print(f"{v:3d} {a:12.2f} {slope / 2:21.2f} {b:14.2f} {slope:19.2f}")
linear = half_separations / (epsilon * math.sqrt(2 * math.pi))
assert np.all(needed_optimized >= needed_fixed)
assert np.all(needed_optimized <= linear)
assert abs(needed_fixed[-1] / (linear[-1] / 2) - 1) < 0.01

# %% [markdown]
# ## Exercise: three pieces, and which split matters
#
# Corollary S11, in the appendix of Salmona et al., 2022, extends Corollary 5 to $N$ pieces
# $M_1, \dots, M_N$ with masses $w_i$ and distances $d_{ij}$: for every
# nonempty proper subset $I$ of the pieces, with
# $\lambda_I = \max(w(I), 1 - w(I))$ and $D_I = \min_{i \in I,\, j \notin I} d_{ij}$,
#
# $$
# d_{TV}(\rho, \nu) \;\ge\; \max_I\; \Phi\!\left(\frac{D_I}{2L} + \Phi^{-1}(\lambda_I)\right) - \lambda_I .
# $$
#
# Take three points on a line, $0$, $2$ and $12$, with masses 0.5, 0.2 and
# 0.3 (points are closed pieces).
#
# 1. Evaluate the bound by brute force over the subsets, at $L = 1$ and
#    $L = 5$, and compare with `tv_lower_bound_disconnected`.
# 2. At $L = 1$ the best split isolates the piece at 0 (balanced masses,
#    distance 2); at $L = 5$ it isolates the piece at 12 (masses 0.7 / 0.3,
#    distance 10). Explain the switch.
#
# **Solution.** 1. The next cell enumerates the six subsets.
#
# 2. The bracket $\Phi(D_I/(2L) + \Phi^{-1}(\lambda_I)) - \lambda_I$ grows
# with $D_I/L$ from 0 towards $1 - \lambda_I$. At $L = 1$ the far split,
# with $D_I/(2L) = 5$, is already at its limit 0.3, while the balanced
# split, with $D_I/(2L) = 1$, has reached $\Phi(1) - 1/2 \approx 0.341$ on
# its way to $1/2$: the larger limit wins. As $L$ grows, each bracket
# shrinks towards its linear part $I(\lambda_I)\, D_I / (2L)$ (its
# derivative in $D_I/(2L)$ at 0 is $\varphi(\Phi^{-1}(\lambda_I))$), so for
# large $L$ the product of the profile and the distance decides:
# $I(0.5) \cdot 2 \approx 0.80$ against $I(0.7) \cdot 10 \approx 3.48$, and
# the far piece wins. At $L = 5$ the far split's $D_I/(2L) = 1$ is not
# small, and its linear part, about 0.348, overestimates its bracket,
# about 0.236. But the linear parts already order the two splits as the
# brackets do: 0.080 and 0.348 against 0.079 and 0.236.

# %%
weights = [0.5, 0.2, 0.3]
positions = [0.0, 2.0, 12.0]
distances = [[abs(a - b) for b in positions] for a in positions]


def corollary_s11_by_brute_force(lip):
    """Maximum of the Corollary S11 bracket over all nonempty proper subsets, in mpmath at 50 digits."""
    best_value, best_subset = -mpmath.inf, None
    with mpmath.workdps(50):
        for size in (1, 2):
            for subset in itertools.combinations(range(3), size):
                rest = [j for j in range(3) if j not in subset]
                mass = sum(mpmath.mpf(weights[i]) for i in subset)
                lam = max(mass, 1 - mass)
                gap = min(distances[i][j] for i in subset for j in rest)
                value = mpmath.ncdf(gap / (2 * mpmath.mpf(lip)) + mpmath.sqrt(2) * mpmath.erfinv(2 * lam - 1)) - lam
                if value > best_value:
                    best_value, best_subset = value, subset
    return best_value, best_subset


def isolated_point(subset):
    """Position of the piece that a split of three pieces puts alone on one side."""
    alone = subset if len(subset) == 1 else [i for i in range(3) if i not in subset]
    return positions[alone[0]]


for lip, expected in [(1, 0.0), (5, 12.0)]:
    by_hand, subset = corollary_s11_by_brute_force(lip)
    result = tv_lower_bound_disconnected(weights, distances, lip, return_subset=True)
    print(f"L = {lip}: brute force {mpmath.nstr(by_hand, 10)}, isolating the point at {isolated_point(subset):g}; "
          f"library {mpmath.nstr(result.value, 10)}, isolating the point at {isolated_point(result.subset):g}")
    assert relative_error(result.value, by_hand) < 1e-28
    assert isolated_point(subset) == isolated_point(result.subset) == expected

profile_times_distance = [float(isoperimetric_profile(0.5)) * 2, float(isoperimetric_profile(0.7)) * 10]
print("I(0.5) * 2 =", round(profile_times_distance[0], 2), "  I(0.7) * 10 =", round(profile_times_distance[1], 2))
assert [round(v, 2) for v in profile_times_distance] == [0.80, 3.48]


def bracket_s11(lam, gap, lip):
    """Corollary S11 bracket Phi(gap / (2 lip) + Phi_inv(lam)) - lam in mpmath at 50 digits."""
    with mpmath.workdps(50):
        lam = mpmath.mpf(lam)
        return mpmath.ncdf(mpmath.mpf(gap) / (2 * lip) + mpmath.sqrt(2) * mpmath.erfinv(2 * lam - 1)) - lam


balanced_split, far_split = (0.5, 2), (0.7, 10)
print("L = 1: brackets", [mpmath.nstr(bracket_s11(*split, 1), 6) for split in (balanced_split, far_split)])
print("L = 5: brackets", [mpmath.nstr(bracket_s11(*split, 5), 6) for split in (balanced_split, far_split)],
      " linear parts", [round(v / 10, 3) for v in profile_times_distance])
assert round(float(bracket_s11(*far_split, 1)), 3) == 0.300
assert round(float(bracket_s11(*balanced_split, 1)), 3) == 0.341
assert [round(float(bracket_s11(*split, 5)), 3) for split in (balanced_split, far_split)] == [0.079, 0.236]
assert [round(v / 10, 3) for v in profile_times_distance] == [0.080, 0.348]

# %% [markdown]
# ## References
#
# A. Salmona, V. De Bortoli, J. Delon, A. Desolneux, "Can Push-forward
# Generative Models Fit Multimodal Distributions?", NeurIPS 2022:
# Theorem 1 (isoperimetry of Lipschitz push-forwards), Corollaries 2 and 3
# (Lipschitz constant of an exact fit), Theorem 4 and Corollaries 5 and 6
# (total variation at a fixed Lipschitz constant), and Corollary S11 of the
# appendix (total variation for a target carried by $N$ pieces).
