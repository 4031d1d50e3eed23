# %% [markdown]
# # Why score models escape the bounds
#
# The bounds of the earlier notebooks constrain one map $g$ with Lipschitz
# constant $L$, pushed forward from a Gaussian. A score-based model samples
# differently: annealed Langevin dynamics applies its score network
# $s_\theta(x, \sigma)$ a thousand times,
#
# $$
# x_0 = z_0, \qquad
# x_{k+1} = x_k + \tfrac{a_k}{2}\, s_\theta(x_k, \sigma_k) + \sqrt{a_k}\, z_{k+1},
# \qquad a_k = \varepsilon\, \sigma_k^2 / \sigma_{\mathrm{last}}^2,
# $$
#
# with independent $z_k \sim N(0, 1)$ and $\sigma_{\mathrm{last}}$ the smallest
# noise level, as in Song and Ermon (2019); the paper's Section S2.2 writes
# $\sigma_0$ there, which with the largest level would make every step at
# most $\varepsilon$. After $N$ steps, $x_N$ is the
# push-forward of $N(0, I_{N+1})$ by the whole chain
# $(z_0, \dots, z_N) \mapsto x_N$. Theorem 1 is valid in every dimension, so the
# bounds apply to that chain, with the chain's Lipschitz constant in place
# of $L$ (Salmona et al., 2022, "Can Push-forward Generative Models Fit
# Multimodal Distributions?", supplementary Section S2.2). The chain can be
# far steeper than the score network it repeats.
#
# This notebook makes that concrete without training anything. It samples
# the paper's target $\nu = \tfrac12 N(-m, 1) + \tfrac12 N(m, 1)$ with
# $m = 5$ through the *exact* score, the best a network could learn, and the
# paper's schedule: 10 noise levels from 1 to 0.01, 100 steps per level,
# $\varepsilon = 2 \times 10^{-5}$. It computes
#
# - the Lipschitz constant of the exact score at each level (at most
#   $m^2 - 1 = 24$);
# - the derivative of every sample with respect to all 1001 inputs of the
#   chain, along its trajectory;
# - the Lipschitz constant that Theorem 1 forces on any map producing the
#   sampled masses.
#
# `isobounds_models` measures the same quantities for trained score models
# (see `isobounds_models.measure.langevin_lipschitz` and
# `isobounds_models.checks.lipschitz_implied_by_masses`).

# %%
import math

import numpy as np
import sympy
import matplotlib.pyplot as plt

from isobounds import Phi, Phi_inv
from isobounds.bounds import maximize_tv_two_gaussians, shell_mass_lower_bound

m = 5.0
sigmas = np.geomspace(1.0, 0.01, 10)
steps_per_level = 100
eps = 2e-5
step_sizes = eps * sigmas**2 / sigmas[-1] ** 2

# %% [markdown]
# ## The exact score and its Lipschitz constant
#
# Noise of level $\sigma$ turns $\nu$ into
# $\nu_\sigma = \tfrac12 N(-m, v) + \tfrac12 N(m, v)$ with $v = 1 + \sigma^2$,
# whose log-density is $-(x^2 + m^2)/(2v) + \log\cosh(m x / v)$ up to a
# constant. Its score and the derivative of the score are
#
# $$
# s(x, \sigma) = \frac{m \tanh(m x / v) - x}{v},
# \qquad
# \partial_x s(x, \sigma) = \frac{1}{v}\left(\frac{m^2}{v}\,
# \operatorname{sech}^2(m x / v) - 1\right).
# $$
#
# The derivative ranges over $[-1/v,\ m^2/v^2 - 1/v]$, so the Lipschitz
# constant of $s(\cdot, \sigma)$ is $\max(1/v,\ m^2/v^2 - 1/v)$, largest at
# the finest level: about $m^2 - 1 = 24$. sympy differentiates the mixture's
# log-density independently of the formulas, and a dense grid checks the
# Lipschitz constants.

# %%
def score(x, sigma):
    """Exact score of (1/2)[N(-m, v) + N(m, v)], v = 1 + sigma^2, at the points x."""
    v = 1.0 + sigma**2
    return (m * np.tanh(m * x / v) - x) / v


def score_derivative(x, sigma):
    """Derivative in x of `score`."""
    v = 1.0 + sigma**2
    return (m * m / v / np.cosh(m * x / v) ** 2 - 1.0) / v


def score_lipschitz(sigma):
    """Lipschitz constant of `score` in x at the noise level sigma."""
    v = 1.0 + sigma**2
    return max(1.0 / v, m * m / v**2 - 1.0 / v)


x_sym, v_sym, m_sym = sympy.symbols("x v m", positive=True)
density = sympy.exp(-(x_sym - m_sym) ** 2 / (2 * v_sym)) + sympy.exp(-(x_sym + m_sym) ** 2 / (2 * v_sym))
score_sym = sympy.diff(sympy.log(density), x_sym)
score_from_sympy = sympy.lambdify((x_sym, v_sym, m_sym), score_sym, "numpy")
derivative_from_sympy = sympy.lambdify((x_sym, v_sym, m_sym), sympy.diff(score_sym, x_sym), "numpy")

grid = np.linspace(-3.0, 3.0, 200_001)
for sigma in sigmas:
    v = 1.0 + sigma**2
    assert np.allclose(score(grid, sigma), score_from_sympy(grid, v, m), rtol=1e-12, atol=1e-12)
    assert np.allclose(score_derivative(grid, sigma), derivative_from_sympy(grid, v, m), rtol=1e-10, atol=1e-10)
    slopes = np.abs(np.diff(score(grid, sigma)) / np.diff(grid))
    assert abs(slopes.max() / score_lipschitz(sigma) - 1) < 1e-6

score_lipschitz_per_level = np.array([score_lipschitz(sigma) for sigma in sigmas])
print("Lipschitz constant of the exact score per level:", np.round(score_lipschitz_per_level, 2))
assert np.all(score_lipschitz_per_level < m * m - 1)
assert round(score_lipschitz_per_level.max(), 2) == 24.0

# %% [markdown]
# ## The chain and its derivatives along trajectories
#
# Step $k$ maps $(x_k, z_{k+1})$ to $x_{k+1}$ with partial derivatives
# $f_k = 1 + \tfrac{a_k}{2}\, \partial_x s(x_k, \sigma_k)$ and
# $\sqrt{a_k}$. By the chain rule, the derivative $J_k$ of $x_k$ with
# respect to the starting point $z_0$, and the squared norm $G_k$ of its
# gradient with respect to all inputs $(z_0, \dots, z_k)$, follow the
# recursions
#
# $$
# J_{k+1} = f_k\, J_k, \qquad G_{k+1} = f_k^2\, G_k + a_k,
# \qquad J_0 = G_0 = 1 .
# $$
#
# Replacing $|f_k|$ by its maximum over $x$ gives an upper bound $U_N$ on
# the chain's Lipschitz constant $\sup \sqrt{G_N}$. Every sample is
# propagated at once, with one Python step per Langevin step and none per
# sample.

# %%
def langevin_chain(x0, noise, sigmas, step_sizes, steps_per_level):
    """Run annealed Langevin dynamics from x0 and differentiate it along each trajectory.

    ``noise`` is either a numpy Generator, which draws each step's noise, or
    an array of shape (number of steps, len(x0)) containing it. Returns x_N,
    dx_N/dz_0 and the squared norm G_N of the gradient in (z_0, ..., z_N).
    """
    x = np.array(x0, dtype=float)
    derivative = np.ones_like(x)
    squared_gradient = np.ones_like(x)
    step = 0
    for sigma, a in zip(sigmas, step_sizes):
        for _ in range(steps_per_level):
            z = noise[step] if isinstance(noise, np.ndarray) else noise.standard_normal(x.shape)
            factor = 1.0 + 0.5 * a * score_derivative(x, sigma)
            x = x + 0.5 * a * score(x, sigma) + math.sqrt(a) * z
            derivative = factor * derivative
            squared_gradient = factor**2 * squared_gradient + a
            step += 1
    return x, derivative, squared_gradient


def chain_lipschitz_upper_bound(sigmas, step_sizes, steps_per_level):
    """Upper bound U_N on the chain's Lipschitz constant from the per-level score bounds."""
    squared = 1.0
    for sigma, a in zip(sigmas, step_sizes):
        v = 1.0 + sigma**2
        largest_factor = max(abs(1.0 - 0.5 * a / v), abs(1.0 + 0.5 * a * (m * m / v**2 - 1.0 / v)))
        for _ in range(steps_per_level):
            squared = largest_factor**2 * squared + a
    return math.sqrt(squared)


n_samples = 20_000
seed = 0
rng = np.random.default_rng(seed)
z0 = rng.standard_normal(n_samples)
samples, derivative, squared_gradient = langevin_chain(z0, rng, sigmas, step_sizes, steps_per_level)
gradient_norm = np.sqrt(squared_gradient)
upper_bound = chain_lipschitz_upper_bound(sigmas, step_sizes, steps_per_level)

print(f"largest |dx_N/dz_0| over the samples:  {np.abs(derivative).max():.1f}")
print(f"largest gradient norm over the samples: {gradient_norm.max():.1f} (median {np.median(gradient_norm):.3f})")
print(f"upper bound U_N on the chain's Lipschitz constant: {upper_bound:.3e}")

# %% [markdown]
# Two independent checks of the recursions. First, finite differences in
# $z_0$: the chain is run again from $z_0 \pm h$ with the same noise, and
# the difference quotient is compared with $J_N$ on the five steepest
# trajectories. Second, on a short chain of 8 steps, finite differences in
# each of the 9 inputs give the whole gradient, whose norm is compared with
# $\sqrt{G_N}$.

# %%
h = 1e-8
steepest = np.argsort(np.abs(derivative))[-5:]
shifted = []
for shift in (h, -h):
    rerun = np.random.default_rng(seed)
    rerun.standard_normal(n_samples)
    shifted.append(langevin_chain(z0 + shift, rerun, sigmas, step_sizes, steps_per_level)[0])
difference_quotient = (shifted[0] - shifted[1]) / (2 * h)
assert np.all(np.abs(difference_quotient[steepest] / derivative[steepest] - 1) < 1e-5)

short_rng = np.random.default_rng(1)
short_x0 = short_rng.uniform(-1.0, 1.0, 50)
short_noise = short_rng.standard_normal((8, 50))
short_sigmas, short_steps = sigmas[:1], step_sizes[:1]
_, _, short_squared = langevin_chain(short_x0, short_noise, short_sigmas, short_steps, 8)
partials = []
for index in range(9):
    ends = []
    for shift in (h, -h):
        x0, noise = short_x0.copy(), short_noise.copy()
        if index == 0:
            x0 += shift
        else:
            noise[index - 1] += shift
        ends.append(langevin_chain(x0, noise, short_sigmas, short_steps, 8)[0])
    partials.append((ends[0] - ends[1]) / (2 * h))
finite_difference_norm = np.sqrt(np.sum(np.square(partials), axis=0))
assert np.all(np.abs(finite_difference_norm / np.sqrt(short_squared) - 1) < 1e-6)
assert gradient_norm.max() <= upper_bound

# %% [markdown]
# ## What Theorem 1 implies for these samples
#
# Take $A = (-\infty, -m/2]$ and $r = m$, so that $A_r \setminus A$ is the
# interval $(-m/2, m/2]$ between the modes. For any $L$-Lipschitz
# push-forward $\rho$ of a Gaussian, Theorem 1 gives
# $\rho(A_r) \ge \Phi(\Phi^{-1}(\rho(A)) + r/L)$. With $p = \rho(A)$ and
# $q = \rho((-m/2, m/2])$ this reads $q \ge \Phi(\Phi^{-1}(p) + m/L) - p$,
# or equivalently
#
# $$
# L \;\ge\; \frac{m}{\Phi^{-1}(p + q) - \Phi^{-1}(p)} .
# $$
#
# The samples estimate $p$ and $q$ with binomial standard errors. The right
# side decreases as $q$ grows and as $p$ moves away from about $1/2$, so over
# the box of two standard errors around the estimates it is smallest at a
# corner. That smallest value is a lower bound on the chain's Lipschitz
# constant up to sampling error.

# %%
p_hat = np.mean(samples <= -m / 2)
q_hat = np.mean(np.abs(samples) < m / 2)
p_error = math.sqrt(p_hat * (1 - p_hat) / n_samples)
q_error = math.sqrt(q_hat * (1 - q_hat) / n_samples)
# Each component puts Phi(-m/2) - Phi(-3m/2) on (-m/2, m/2), so nu does too.
target_between = float(Phi(-m / 2)) - float(Phi(-3 * m / 2))


def implied_lipschitz(p, q):
    """Smallest L with Phi(Phi_inv(p) + m / L) - p <= q (Theorem 1 with r = m)."""
    return m / (float(Phi_inv(p + q)) - float(Phi_inv(p)))


implied = min(
    implied_lipschitz(p_hat + dp, q_hat + dq)
    for dp in (-2 * p_error, 2 * p_error)
    for dq in (-2 * q_error, 2 * q_error)
)
finest_score_lipschitz = score_lipschitz_per_level.max()
forced_between = float(shell_mass_lower_bound(p_hat, m, finest_score_lipschitz))
tv_bound = maximize_tv_two_gaussians(-m, m, 1, finest_score_lipschitz).value

print(f"mass between the modes: chain {q_hat:.5f} +- {q_error:.5f}, target {target_between:.5f}")
print(f"mass that any {finest_score_lipschitz:.2f}-Lipschitz push-forward with the same p puts there: >= {forced_between:.4f}")
print(f"Lipschitz constant implied by the sampled masses: >= {implied:.0f}")
print(f"TV bound for any {finest_score_lipschitz:.2f}-Lipschitz generator (Corollary 6, best r): {float(tv_bound):.4f}")
print(f"Lipschitz constant of an exact fit (Corollary 2): >= exp(m^2/2) = {math.exp(m * m / 2):.0f}")

assert q_hat + 5 * q_error < forced_between
assert 0.05 < q_hat / forced_between < 0.2  # "about a tenth", in the next cell
assert 100 <= implied < 1000  # "in the hundreds"
assert implied > 5 * finest_score_lipschitz
assert implied <= upper_bound
assert abs(q_hat - target_between) < 0.005

# %% [markdown]
# The chain puts almost as little mass between the modes as the target
# does, about a tenth of what Theorem 1 allows for a map as steep as the
# score it repeats. It can, because the chain as a whole is much steeper:
# the sampled masses force a Lipschitz constant in the hundreds. The figure
# shows how rare that steepness is. A step stretches a trajectory
# ($f_k > 1$) only in the unstable region around $x = 0$, where
# $\partial_x s > 0$ and the score pushes points apart towards the two
# modes. Inside a mode every step contracts ($f_k < 1$) and damps what
# earlier steps stretched. So almost every trajectory ends with a gradient
# norm near 1, and only the few that were still undecided late in a level
# keep a large one. Theorem 1 implies that such inputs exist, however
# rare: without them the chain could not empty the region between the
# modes.

# %%
figure, (histogram_axes, gradient_axes) = plt.subplots(1, 2, figsize=(11, 4))

line = np.linspace(-9.0, 9.0, 1001)
target_density = 0.5 * (np.exp(-(line - m) ** 2 / 2) + np.exp(-(line + m) ** 2 / 2)) / math.sqrt(2 * math.pi)
histogram_axes.hist(samples, bins=120, range=(-9, 9), density=True, color="tab:green", alpha=0.6,
                    label="annealed Langevin, exact score")
histogram_axes.plot(line, target_density, color="black", label=r"target $\nu$")
histogram_axes.axvspan(-m / 2, m / 2, color="grey", alpha=0.15, label="between the modes")
histogram_axes.set_xlabel("$x$")
histogram_axes.set_ylabel("density")
histogram_axes.set_title(f"{n_samples:,} samples, m = {m:g}")
histogram_axes.legend(loc="upper center", fontsize=8)

bins = np.geomspace(gradient_norm.min(), 1.5 * max(implied, gradient_norm.max()), 60)
gradient_axes.hist(gradient_norm, bins=bins, color="tab:purple", alpha=0.7)
gradient_axes.axvline(finest_score_lipschitz, color="tab:orange", linestyle="--",
                      label=f"Lipschitz constant of the score ({finest_score_lipschitz:.1f})")
gradient_axes.axvline(implied, color="tab:red", linestyle=":",
                      label=f"lower bound implied by the masses ({implied:.0f})")
gradient_axes.set_xscale("log")
gradient_axes.set_yscale("log")
gradient_axes.set_xlabel(r"gradient norm of $x_N$ in $(z_0, \dots, z_N)$")
gradient_axes.set_ylabel("number of trajectories")
steeper = int(np.sum(gradient_norm > finest_score_lipschitz))
gradient_axes.set_title(f"Steepness of the chain: {steeper} of {n_samples:,} above the score's")
gradient_axes.legend(fontsize=8)
figure.tight_layout()
plt.show()

# %% [markdown]
# ## What to take away
#
# - The isoperimetric bounds constrain the map from the noise to the
#   samples. For a GAN or a VAE that map is the network; for a score model
#   it is the whole sampler, 1000 applications of the network.
# - Each application is mild: the exact score here is 24-Lipschitz, and a
#   trained network that fits it well is about as steep. The composition is still
#   steep on a rare set of inputs, the trajectories that choose a mode late.
# - Sampled masses give a lower bound on the sampler's Lipschitz constant
#   through Theorem 1. `isobounds-models reproduce univariate` reports it
#   for trained score models beside the derivatives along their
#   trajectories.
# - NOTE: the largest gradient norm along 20,000 trajectories and the
#   constant implied by the masses are both lower estimates of the chain's
#   Lipschitz constant. The only upper bound here, $U_N$, multiplies the
#   worst case of every step and is far too large to be informative.

# %% [markdown]
# ## Exercise: where does a step stretch?
#
# The explanation above rests on one claim: a Langevin step stretches
# ($|f_k| > 1$) only in a small region around $x = 0$.
#
# 1. With $f_k = 1 + \tfrac{a_k}{2}\, \partial_x s(x, \sigma_k)$, find in
#    closed form the set of $x$ where $f_k > 1$ at the level $\sigma$, and
#    its half-width at each of the 10 levels.
# 2. What mass does the noised target $\nu_\sigma$ put there at the finest
#    level? How many of the 20,000 samples do you expect to end there?
# 3. Where did the steepest trajectory end?
#
# **Solution.** 1. $f_k > 1$ exactly where $\partial_x s > 0$, that is
# $\tfrac{m^2}{v} \operatorname{sech}^2(m x / v) > 1$, or
# $\cosh(m x / v) < m / \sqrt{v}$:
#
# $$
# |x| < w(\sigma) = \frac{v}{m} \operatorname{arccosh}\frac{m}{\sqrt v}, \qquad v = 1 + \sigma^2 .
# $$
#
# (The step never flips a sign: $f_k \ge 1 - a_k / (2v) > 0$ for these
# step sizes, so $|f_k| > 1$ means $f_k > 1$.) The half-width falls from
# $w(1) \approx 0.77$ to $w(0.01) \approx 0.46$.
#
# 2. Each component $N(\pm m, v)$ puts
# $\Phi((w - m)/\sqrt v) - \Phi((-w - m)/\sqrt v)$ there, about
# $2.8 \times 10^{-6}$. The two components have weight 1/2 each, so
# $\nu_\sigma$ puts the same mass there, and about 0.055 of the 20,000
# samples are expected to end there. None does in this run.
#
# 3. At a mode, like almost every sample: a large gradient norm records
# the past of a trajectory, the steps it spent near 0 while the noise still
# decided its mode, not the place where it ends.

# %%
variances = 1.0 + sigmas**2
half_widths = variances / m * np.arccosh(m / np.sqrt(variances))
print("half-width w(sigma) of the stretching region per level:", np.round(half_widths, 3))

for sigma, width in zip(sigmas, half_widths):
    inside = np.linspace(-0.999 * width, 0.999 * width, 101)
    outside = np.concatenate([np.linspace(-8.0, -1.001 * width, 101), np.linspace(1.001 * width, 8.0, 101)])
    assert np.all(score_derivative(inside, sigma) > 0)
    assert np.all(score_derivative(outside, sigma) < 0)
assert np.all(1 - 0.5 * step_sizes / variances > 0)

finest_std = math.sqrt(variances[-1])
region_mass = float(Phi((half_widths[-1] - m) / finest_std)) - float(Phi((-half_widths[-1] - m) / finest_std))
ending_inside = int(np.sum(np.abs(samples) < half_widths[-1]))
steepest_end = samples[np.argmax(gradient_norm)]
print(f"nu_sigma mass of |x| < {half_widths[-1]:.3f} at sigma = {sigmas[-1]}: {region_mass:.2e}, "
      f"expected samples there {n_samples * region_mass:.3f}, observed {ending_inside}")
print(f"the steepest trajectory (gradient norm {gradient_norm.max():.0f}) ends at x = {steepest_end:.2f}")
assert round(half_widths[0], 2) == 0.77
assert round(half_widths[-1], 2) == 0.46
assert round(region_mass * 1e6, 1) == 2.8
assert ending_inside == 0
assert abs(abs(steepest_end) - m) < 1

# %% [markdown]
# ## References
#
# A. Salmona, V. De Bortoli, J. Delon, A. Desolneux, "Can Push-forward
# Generative Models Fit Multimodal Distributions?", NeurIPS 2022: Theorem 1
# and Corollaries 2 and 6, and the description of score-based models as
# push-forwards in supplementary Section S2.2. Annealed Langevin dynamics
# and its step-size rule come from Y. Song and S. Ermon, "Generative
# Modeling by Estimating Gradients of the Data Distribution", NeurIPS 2019.
