# %% [markdown]
# # Gaussian isoperimetry, computed to any precision
#
# A push-forward generative model draws a latent vector $z \sim \mu_p = N(0, I_p)$
# and returns $g(z)$. Its distribution is $\rho = g\#\mu_p$. When $g$ is
# $L$-Lipschitz, $\rho$ inherits the isoperimetric inequality of the Gaussian
# measure, so it cannot put arbitrarily little mass around a set. This is
# Theorem 1 of Salmona et al., 2022 (references at the end): for every Borel
# set $A$ and every radius $r \ge 0$,
#
# $$
# L\,\rho^+(\partial A) \;\ge\; I(\rho(A)),
# \qquad
# \rho(A_r) \;\ge\; \alpha(A, r) = \Phi\!\left(\frac{r}{L} + \Phi^{-1}(\rho(A))\right),
# $$
#
# where $A_r = \{x : d(x, A) \le r\}$ is the closed $r$-extension of $A$,
# $\rho^+(\partial A) = \liminf_{\varepsilon \to 0^+} (\rho(A_\varepsilon) - \rho(A)) / \varepsilon$
# is the $\rho$-surface area, $\Phi$ is the standard Gaussian distribution
# function and $I(p) = \varphi(\Phi^{-1}(p))$ is the Gaussian isoperimetric
# profile. The shell $A_r \setminus A$ therefore has mass at least
# $\beta(A, r) = \alpha(A, r) - \rho(A) \ge 0$.
#
# Why it holds: if $z$ lies within $r/L$ of some $z' \in g^{-1}(A)$, then
# $|g(z) - g(z')| \le r$, so $g(z) \in A_r$. Hence the $r/L$-extension of
# $g^{-1}(A)$ lies inside $g^{-1}(A_r)$. The Gaussian isoperimetric
# inequality (Borell; Sudakov and Tsirelson) states that among all sets of
# a given Gaussian mass, half-spaces have the smallest extensions:
# $\mu_p(B_t) \ge \Phi(t + \Phi^{-1}(\mu_p(B)))$. Apply it to $B = g^{-1}(A)$
# with $t = r/L$.
#
# Every quantity in these bounds is a Gaussian tail, and the interesting
# cases (well-separated modes, large $L$) live far out in the tails. This
# notebook shows how `isobounds` evaluates them and why the textbook formulas
# `1 - Phi(x)` and `sqrt(2) * erfinv(2p - 1)` cannot.

# %%
import mpmath
import numpy as np
import scipy.special as sc
import scipy.optimize as so
import matplotlib.pyplot as plt

import isobounds
from isobounds import Phi, Phi_c, Phi_inv, Phi_c_inv, gaussian_mass, isoperimetric_profile, phi
from isobounds.bounds import (
    extension_mass_lower_bound,
    shell_mass_lower_bound,
    surface_area_lower_bound,
)


def relative_error(value, reference):
    """|value / reference - 1| at 60 digits.

    The library computes at its own working precision (30 digits by
    default), but arithmetic on the mpf numbers it returns runs at mpmath's
    global precision, 15 digits unless set, too coarse for these checks.
    """
    with mpmath.workdps(60):
        return abs(mpmath.mpf(value) / mpmath.mpf(reference) - 1)

# %% [markdown]
# ## Two paths: mpmath scalars and float64 arrays
#
# A scalar argument is evaluated with mpmath at the working precision
# (30 significant digits by default) and returned as an `mpmath.mpf`.
# A numpy array is evaluated elementwise in float64 with `scipy.special`.
# `isobounds.precision(dps)` and the `dps=` keyword change the working
# precision. Below, the 50-digit value of $\Phi(1)$ is compared with
# mpmath's own `ncdf` evaluated at 70 digits, an independent implementation.

# %%
print("Phi(1) at the default precision:", mpmath.nstr(Phi(1), 30), type(Phi(1)).__name__)
print("Phi on a float64 array:        ", Phi(np.array([-1.0, 0.0, 1.0])))

with isobounds.precision(50):
    value_50 = Phi(1)
    print("Phi(1) at 50 digits:           ", value_50)

with mpmath.workdps(70):
    reference = mpmath.ncdf(1)
error = relative_error(value_50, reference)
print("relative error against mpmath.ncdf at 70 digits:", mpmath.nstr(error, 3))
assert error < 1e-48

# %% [markdown]
# ## Why `1 - Phi(x)` fails
#
# $\Phi(x)$ is within $10^{-16}$ of 1 once $x > 8.3$, so in double precision
# `1 - Phi(x)` keeps only the rounding error of $\Phi(x)$: about 10 correct
# digits at $x = 5$, none from $x \approx 8.3$ on. The upper tail
# $\Phi_c(x) = \Phi(-x)$ must be computed as itself. In float64 even the
# correct formula runs out of range. Beyond $x \approx 37.5$, $\Phi(-x)$ is
# below the smallest normal double ($2.2 \times 10^{-308}$), so it comes out
# subnormal, with fewer significant bits. For example,
# `scipy.special.ndtr(-37.6)` is about $1.07 \times 10^{-309}$. From
# $x \approx 37.68$ on, `ndtr(-x)` returns 0, although
# $\Phi(-x) \approx 5.9 \times 10^{-311}$ is still a subnormal double there:
# scipy 1.17 returns 0 once $x^2/2$ exceeds
# $\log(\text{largest double}) \approx 709.78$. The mpmath scalar path has
# no such floor.

# %%
x = np.array([2.0, 5.0, 8.0, 9.0, 20.0, 38.0, 40.0])
naive = 1.0 - sc.ndtr(x)
tail_float64 = Phi_c(x)  # float64 array path: ndtr(-x)
tail_scalar = [Phi_c(float(v)) for v in x]  # mpmath, 30 digits

with mpmath.workdps(60):
    reference = [mpmath.erfc(mpmath.mpf(v) / mpmath.sqrt(2)) / 2 for v in x]

print(f"{'x':>5} {'1 - ndtr(x)':>12} {'ndtr(-x)':>12} {'Phi_c (mpmath)':>16} {'rel. error of 1 - ndtr':>23}")
for v, a, b, c, ref in zip(x, naive, tail_float64, tail_scalar, reference):
    error = abs(mpmath.mpf(a) / ref - 1)
    print(f"{v:5.0f} {a:12.4e} {b:12.4e} {mpmath.nstr(c, 10):>16} {mpmath.nstr(error, 2):>23}")

for c, ref in zip(tail_scalar, reference):
    assert relative_error(c, ref) < 1e-28

# %% [markdown]
# The float64 threshold, found by bisection on `ndtr` itself, against
# $\sqrt{2 \log(\text{largest double})}$ and mpmath's `ncdf` at 30 digits:

# %%
last_nonzero, first_zero = 37.0, 39.0  # ndtr(-37) > 0 and ndtr(-39) == 0
while np.nextafter(last_nonzero, np.inf) < first_zero:
    middle = (last_nonzero + first_zero) / 2
    if sc.ndtr(-middle) == 0:
        first_zero = middle
    else:
        last_nonzero = middle

underflow_limit = np.sqrt(2 * np.log(np.finfo(float).max))
with mpmath.workdps(30):
    phi_at_threshold = mpmath.ncdf(-first_zero)
    phi_at_37_6 = mpmath.ncdf(mpmath.mpf(-37.6))
print(f"ndtr(-x) == 0 from x = {first_zero!r} on; sqrt(2 log(largest double)) = {float(underflow_limit)!r}")
print("Phi(-x) there, mpmath:", mpmath.nstr(phi_at_threshold, 6), "  smallest subnormal double:", np.finfo(float).smallest_subnormal)
print("ndtr(-37.6) =", sc.ndtr(-37.6), "  mpmath:", mpmath.nstr(phi_at_37_6, 16))
assert abs(first_zero - underflow_limit) <= 2 * np.spacing(underflow_limit)
assert round(first_zero, 2) == 37.68
assert phi_at_threshold > np.finfo(float).smallest_subnormal
assert relative_error(sc.ndtr(-37.6), phi_at_37_6) < 1e-10
assert abs(float(phi_at_37_6) / 1.07e-309 - 1) < 0.005
assert abs(float(phi_at_threshold) / 5.9e-311 - 1) < 0.005

# %% [markdown]
# ## Why `sqrt(2) * erfinv(2p - 1)` fails
#
# The quantile $\Phi^{-1}(p) = \sqrt 2\,\operatorname{erf}^{-1}(2p - 1)$ is exact
# algebra but poor arithmetic: $2p - 1$ rounds $p$ to the precision of
# numbers near $-1$. At $p = 10^{-300}$ even 50 significant digits round
# $2p - 1$ to exactly $-1$ and the quantile comes out as $-\infty$.
# In the tails, `isobounds.Phi_inv` instead runs Newton's method on
# $\log \Phi$, so it works with $\log p$ and never forms $2p - 1$. We check the result by
# evaluating $\Phi$ at it with mpmath's `ncdf` at 60 digits: it must return
# $p$.

# %%
p = mpmath.mpf("1e-300")
with mpmath.workdps(50):
    naive_quantile = mpmath.sqrt(2) * mpmath.erfinv(2 * p - 1)
print("sqrt(2) erfinv(2p - 1) at 50 digits:", naive_quantile)

quantile = Phi_inv("1e-300")
print("isobounds.Phi_inv('1e-300'):        ", quantile)

with mpmath.workdps(60):
    round_trip = mpmath.ncdf(quantile)
print("mpmath.ncdf(quantile) at 60 digits: ", mpmath.nstr(round_trip, 30))
assert naive_quantile == -mpmath.inf
assert relative_error(round_trip, "1e-300") < 1e-28

# %% [markdown]
# In float64 the damage starts much earlier. The figure shows the relative
# error of $\Phi(\hat x)$ against $p$, where $\hat x$ is the float64 quantile
# from each formula and $\Phi(\hat x)$ is evaluated by mpmath: the erfinv route
# loses about $10^{-16}/p$ and returns $-\infty$ below $p \approx 10^{-17}$,
# while `scipy.special.ndtri`, the float64 path of `Phi_inv`, stays within
# $x^2$ rounding units, the conditioning of $\Phi$ at $x$ (about $10^{-13}$
# at $p = 10^{-300}$, where $x \approx -37$), down to the smallest doubles.

# %%
probabilities = np.logspace(-300, -0.5, 120)
with np.errstate(divide="ignore"):
    erfinv_quantiles = np.sqrt(2.0) * sc.erfinv(2.0 * probabilities - 1.0)
ndtri_quantiles = Phi_inv(probabilities)


def relative_error_of_quantile(quantiles):
    """|Phi(x) / p - 1| with Phi from mpmath at 40 digits; 1 where x is infinite."""
    errors = []
    with mpmath.workdps(40):
        for q, x_hat in zip(probabilities, quantiles):
            if not np.isfinite(x_hat):
                errors.append(1.0)
                continue
            errors.append(float(abs(mpmath.ncdf(mpmath.mpf(float(x_hat))) / mpmath.mpf(float(q)) - 1)))
    return np.maximum(errors, 1e-18)


erfinv_errors = relative_error_of_quantile(erfinv_quantiles)
ndtri_errors = relative_error_of_quantile(ndtri_quantiles)

fig, ax = plt.subplots(figsize=(7, 3.5))
ax.loglog(probabilities, erfinv_errors, label=r"$\sqrt{2}\,\mathrm{erfinv}(2p-1)$")
ax.loglog(probabilities, ndtri_errors, label=r"ndtri$(p)$ (float64 path of Phi_inv)")
ax.set_xticks(10.0 ** np.arange(-300, 1, 50))
ax.set_xlabel("$p$")
ax.set_ylabel(r"relative error of $\Phi(\hat x)$")
ax.set_title("Float64 Gaussian quantiles far in the lower tail")
ax.legend()
fig.tight_layout()

assert np.all(ndtri_errors < 1e-15 * (1 + ndtri_quantiles**2))
assert erfinv_errors[probabilities < 1e-17].min() == 1.0

# %% [markdown]
# Masses close to 1 have the mirror problem: $1 - 10^{-40}$ is 1 at 30 digits.
# Keep such a mass as its complement $q = 1 - p$ and call
# `Phi_c_inv(q)`, which solves $\Phi_c(x) = q$ from $q$ itself.

# %%
print("Phi_inv(1 - 1e-40) at 30 digits:", Phi_inv(1 - mpmath.mpf("1e-40")))
print("Phi_c_inv('1e-40'):              ", Phi_c_inv("1e-40"))
with mpmath.workdps(60):
    assert relative_error(mpmath.ncdf(-Phi_c_inv("1e-40")), "1e-40") < 1e-28

# %% [markdown]
# ## The isoperimetric profile $I(p) = \varphi(\Phi^{-1}(p))$
#
# $I$ is the Gaussian surface area of the half-space of mass $p$. It is
# symmetric, $I(p) = I(1 - p)$, vanishes at 0 and 1, peaks at
# $I(1/2) = 1/\sqrt{2\pi}$, and satisfies $I'(p) = -\Phi^{-1}(p)$ and
# $I''(p) = -1/I(p)$, so it is concave. Near 0 it behaves like
# $p\sqrt{2\log(1/p)}$, which is why a small mass $p$ still forces a
# surface area of order $p\sqrt{2 \log (1/p)}/L$.

# %%
grid = np.linspace(1e-4, 1 - 1e-4, 400)
tails = np.logspace(-300, -1, 300)

fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
axes[0].plot(grid, isoperimetric_profile(grid))
axes[0].axhline(1 / np.sqrt(2 * np.pi), ls=":", c="gray", label=r"$1/\sqrt{2\pi}$")
axes[0].set_xlabel("$p$")
axes[0].set_ylabel("$I(p)$")
axes[0].legend(loc="lower center")
axes[0].set_title(r"$I(p) = \varphi(\Phi^{-1}(p))$")

asymptote = tails * np.sqrt(2 * np.log(1 / tails))
axes[1].semilogx(tails, isoperimetric_profile(tails) / asymptote)
axes[1].set_xticks(10.0 ** np.arange(-300, 1, 50))
axes[1].set_xlim(tails[0], tails[-1])  # without this, the log axis margin runs past p = 1
axes[1].set_xlabel("$p$")
axes[1].set_ylabel("ratio")
axes[1].set_title(r"$I(p) \,/\, p\sqrt{2\log(1/p)}$ tends to 1, slowly")
fig.tight_layout()

# %% [markdown]
# The derivative identities give a check by another route: mpmath
# differentiates the 40-digit profile by finite differences (step
# $h = 10^{-9} p$, error about $h^2$), and we compare with $-\Phi^{-1}(p)$
# and $-1/I(p)$.

# %%
with isobounds.precision(40):
    for p in ["0.3", "0.01", "1e-10"]:
        p = mpmath.mpf(p)
        step = p * mpmath.mpf("1e-9")
        first = mpmath.diff(isoperimetric_profile, p, h=step)
        second = mpmath.diff(isoperimetric_profile, p, 2, h=step)
        print(f"p = {mpmath.nstr(p, 3):>6}: I'(p) = {mpmath.nstr(first, 15):>20}   "
              f"-Phi_inv(p) = {mpmath.nstr(-Phi_inv(p), 15):>20}   I''(p) I(p) = {mpmath.nstr(second * isoperimetric_profile(p), 12)}")
        assert relative_error(first, -Phi_inv(p)) < 1e-15
        assert relative_error(second * isoperimetric_profile(p), -1) < 1e-15

# %% [markdown]
# ## Theorem 1 on a concrete generator
#
# Take $p = 1$ and $g(z) = 1.5 z + \sin z$. Its slope $g'(z) = 1.5 + \cos z$
# lies in $[0.5, 2.5]$, so $g$ is increasing with Lipschitz constant $L = 2.5$.
# An increasing map sends half-lines to half-lines, so the model masses are
# exact: $\rho((-\infty, a]) = \Phi(g^{-1}(a))$, with $g^{-1}$ found by a
# root finder. With $A = (-\infty, a]$ we have $A_r = (-\infty, a + r]$, and
# Theorem 1 states $\Phi(g^{-1}(a + r)) \ge \Phi(r/L + g^{-1}(a))$. For the
# linear map $g(z) = L z$ both sides are equal (the last assertion below):
# half-spaces are the extremal sets.

# %%
lip = 2.5


def generator(z):
    return 1.5 * z + np.sin(z)


def generator_inverse(y):
    """Solve g(z) = y; g is increasing and |g(z) - 1.5 z| <= 1 brackets the root."""
    return so.brentq(lambda z: generator(z) - y, (y - 1) / 1.5 - 1e-9, (y + 1) / 1.5 + 1e-9, xtol=1e-14)


def model_cdf(y):
    return Phi(np.array([generator_inverse(v) for v in np.atleast_1d(y)]))


a = -1.0
radii = np.linspace(0.0, 6.0, 61)
mass_A = model_cdf(a)[0]
mass_extension = model_cdf(a + radii)
alpha = extension_mass_lower_bound(np.full_like(radii, mass_A), radii, lip)
linear_model = Phi((a + radii) / lip)
alpha_linear = extension_mass_lower_bound(np.full_like(radii, Phi(np.array([a / lip]))[0]), radii, lip)

fig, ax = plt.subplots(figsize=(7, 3.5))
ax.plot(radii, mass_extension, label=r"$\rho(A_r)$ for $g(z) = 1.5z + \sin z$")
ax.plot(radii, alpha, "--", label=r"Theorem 1: $\alpha(A, r)$, $L = 2.5$")
ax.set_xlabel("radius $r$")
ax.set_ylabel("mass of $A_r$")
ax.set_title(r"$A = (-\infty, -1]$")
ax.legend()
fig.tight_layout()

assert np.all(mass_extension >= alpha - 1e-14)
assert np.allclose(linear_model, alpha_linear, rtol=1e-12, atol=0)

# %% [markdown]
# The exact masses above come from the root finder. A Monte Carlo estimate
# checks them by a different route: push $10^6$ latent samples through $g$
# and count, with a binomial standard error.

# %%
rng = np.random.default_rng(2022)
samples = generator(rng.standard_normal(1_000_000))
for r in [0.0, 1.0, 3.0]:
    frequency = np.mean(samples <= a + r)
    standard_error = np.sqrt(frequency * (1 - frequency) / samples.size)
    exact = model_cdf(a + r)[0]
    print(f"r = {r}: Monte Carlo {frequency:.5f} +- {standard_error:.5f}, exact {exact:.5f}")
    assert abs(frequency - exact) < 5 * standard_error

# %% [markdown]
# The first inequality, on surface area, is the limit $r \to 0$ of the
# second. For $A = (-\infty, a]$ the surface area is the model density at
# $a$: $\rho^+(\partial A) = \varphi(z)/g'(z)$ with $z = g^{-1}(a)$. The
# theorem states that $L$ times the density is never below $I(\rho(A))$. Here
# $L\,\varphi(z)/g'(z) = I(\Phi(z)) \cdot 2.5/(1.5 + \cos z)$, so the two
# curves touch exactly where the slope reaches $L$: at $z = 2\pi k$, that
# is $a = g(2\pi k) = 3\pi k$ (in the plotted range, only at $a = 0$).

# %%
levels = np.linspace(-8, 8, 161)
latent = np.array([generator_inverse(v) for v in levels])
density = phi(latent) / (1.5 + np.cos(latent))
surface_bound = surface_area_lower_bound(Phi(latent), lip)

fig, ax = plt.subplots(figsize=(7, 3.5))
ax.plot(levels, density, label=r"$\rho^+(\partial A)$ = model density at $a$")
ax.plot(levels, surface_bound, "--", label=r"$I(\rho(A)) / L$")
ax.set_xlabel("$a$")
ax.set_ylabel("density")
ax.legend()
fig.tight_layout()

assert np.all(density >= surface_bound * (1 - 1e-12))

# %% [markdown]
# ## Tails at any precision
#
# Lipschitz constants of trained generators can be huge, and then
# $\beta = \Phi(r/L + \Phi^{-1}(p)) - p$ is a tiny difference of two numbers
# of order $p$. In float64, $\Phi(10^{-300}) - 1/2$ is exactly 0;
# `shell_mass_lower_bound` evaluates it as the Gaussian mass of
# $[x, x + r/L]$ with $x = \Phi^{-1}(p)$, with a Taylor series where that
# interval is short. Near $r/L = 0$, $\beta = I(p)\, r/L + O((r/L)^2)$.
# The reference below subtracts at 700 digits, where nothing cancels.

# %%
print("float64: ndtr(1e-300 + ndtri(0.5)) - 0.5 =", sc.ndtr(1e-300 + sc.ndtri(0.5)) - 0.5)

beta = shell_mass_lower_bound("0.5", 1, "1e300")
with mpmath.workdps(700):
    reference = mpmath.ncdf(mpmath.mpf("1e-300")) - mpmath.mpf("0.5")
print("shell_mass_lower_bound(0.5, r=1, lip=1e300) =", beta)
print("reference at 700 digits                     =", mpmath.nstr(reference, 30))
assert relative_error(beta, reference) < 1e-28

# %% [markdown]
# The same holds for tiny masses: a set of model mass $10^{-300}$ and a
# radius $r = L$ give $\beta = \Phi(1 + \Phi^{-1}(10^{-300})) - 10^{-300}$,
# a number far below the double range. The reference inverts $\Phi$ with
# mpmath's `findroot` at 60 digits.

# %%
beta_tiny = shell_mass_lower_bound("1e-300", 1, 1)
with mpmath.workdps(60):
    x0 = mpmath.findroot(lambda t: mpmath.log(mpmath.ncdf(t)) - mpmath.log(mpmath.mpf("1e-300")), -37)
    reference = mpmath.ncdf(x0 + 1) - mpmath.mpf("1e-300")
print("shell_mass_lower_bound('1e-300', 1, 1) =", beta_tiny)
print("reference                              =", mpmath.nstr(reference, 30))
assert relative_error(beta_tiny, reference) < 1e-28

# %% [markdown]
# And a Gaussian mass between two far points, $\Phi(31) - \Phi(30)$, is a
# difference of two numbers equal to 1 in their first 197 digits. The
# library takes it from the upper tail, $\Phi_c(30) - \Phi_c(31)$. The
# reference is mpmath's quadrature of the density, written as
# $\varphi(30) \int_0^1 e^{-30u - u^2/2}\,du$: integrating $\varphi$ over
# $[30, 31]$ directly, tanh-sinh quadrature misses the steep decay and gets
# only 5 digits.

# %%
mass = gaussian_mass(30, 31)
with mpmath.workdps(50):
    reference = mpmath.npdf(30) * mpmath.quad(lambda u: mpmath.exp(-30 * u - u * u / 2), [0, 1])
print("gaussian_mass(30, 31) =", mass)
print("mpmath.quad           =", mpmath.nstr(reference, 30))
assert relative_error(mass, reference) < 1e-28

# %% [markdown]
# ## Exercise: a latent space of dimension 2
#
# Theorem 1 does not depend on the latent dimension $p$. Take $p = 2$ and
# the norm $g(z) = \|z\|$, which is 1-Lipschitz, so that $\rho = g\#N(0, I_2)$
# is the Rayleigh distribution.
#
# 1. For $A = (-\infty, a]$ with $a > 0$, compute $\rho(A)$, $\rho(A_r)$ and
#    the surface area $\rho^+(\partial A)$ in closed form.
# 2. Check both inequalities of Theorem 1 (with $L = 1$) on a grid of $a$ and
#    $r$, and check $\rho(A)$ by Monte Carlo with its standard error.
# 3. The preimage $g^{-1}(A)$ is a disc of radius $a$. For which $a$ is the
#    surface-area inequality nearly an equality, and why?
#
# **Solution.** 1. $\|z\|^2$ has the $\chi^2_2$ law, an exponential law of
# mean 2, so $\rho(A) = P(\|z\| \le a) = 1 - e^{-a^2/2}$ and
# $\rho(A_r) = 1 - e^{-(a + r)^2/2}$. The surface area is the Rayleigh
# density at $a$: $\rho^+(\partial A) = a\, e^{-a^2/2}$.
#
# 2. The next cell checks both inequalities and the Monte Carlo estimates.
#
# 3. The ratio $a e^{-a^2/2} / I(1 - e^{-a^2/2})$ is large for small $a$ and
# decreases towards 1 as $a$ grows. A small disc has a long boundary for its
# Gaussian mass. A large disc leaves only a far tail outside. On the scale
# where that tail's mass lives, the boundary circle of radius $a$ is almost
# flat, so the disc behaves like a half-space, the extremal set. With
# $q = e^{-a^2/2}$ the ratio is $a q / I(q)$, and
# $I(q) \approx q \sqrt{2 \log(1/q)} = a q$ up to logarithmic corrections.

# %%
radii_a = np.linspace(0.05, 6.0, 120)
extension_radii = np.linspace(0.0, 4.0, 41)
a_grid, r_grid = np.meshgrid(radii_a, extension_radii, indexing="ij")

mass_disc = 1 - np.exp(-a_grid**2 / 2)
mass_extension = 1 - np.exp(-(a_grid + r_grid) ** 2 / 2)
assert np.all(mass_extension >= extension_mass_lower_bound(mass_disc, r_grid, 1.0) - 1e-14)

surface_area = radii_a * np.exp(-radii_a**2 / 2)
ratio = surface_area / isoperimetric_profile(1 - np.exp(-radii_a**2 / 2))
print(f"surface area / I(rho(A)): {ratio[0]:.2f} at a = {radii_a[0]}, {ratio[-1]:.3f} at a = {radii_a[-1]}")
assert np.all(ratio >= 1)
assert np.all(np.diff(ratio) < 0)

latent_2d = np.random.default_rng(1).standard_normal((200_000, 2))
norms = np.linalg.norm(latent_2d, axis=1)
for a_value in [0.5, 1.5, 3.0]:
    frequency = np.mean(norms <= a_value)
    standard_error = np.sqrt(frequency * (1 - frequency) / norms.size)
    exact = 1 - np.exp(-a_value**2 / 2)
    print(f"rho((-inf, {a_value}]): Monte Carlo {frequency:.5f} +- {standard_error:.5f}, closed form {exact:.5f}")
    assert abs(frequency - exact) < 5 * standard_error

# %% [markdown]
# ## What comes next
#
# Notebook 02 applies Theorem 1 to a two-mode target and shows why the
# Lipschitz constant must grow like $e^{m^2/2}$ with the separation $m$.
#
# ## References
#
# A. Salmona, V. De Bortoli, J. Delon, A. Desolneux, "Can Push-forward
# Generative Models Fit Multimodal Distributions?", NeurIPS 2022.
# Theorem 1 is the isoperimetric inequality for Lipschitz push-forwards used
# throughout.
