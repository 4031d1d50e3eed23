"""Tests of isobounds_models.measure against independent routes.

The push-forward quantities come from isobounds.pushforward through
piecewise_linear_from_module and exact_distances. They are checked on
exported networks against independent routes: evaluation of the torch network
itself, a dense grid of slopes, Monte Carlo with its binomial error bar, and
mpmath.quad of the densities written in closed form. The score-model tools are
checked with torch.autograd through the unrolled Langevin chain.
"""

import math

import mpmath
import numpy as np
import pytest
from scipy import integrate, stats

torch = pytest.importorskip("torch")

from isobounds_models.measure import (  # noqa: E402
    exact_distances,
    grid_lipschitz,
    kde_estimator_floor,
    langevin_lipschitz,
    langevin_schedule,
    mixture_log_pdf,
    mixture_mass,
    piecewise_linear_from_module,
    sample_distances,
    score_lipschitz_per_level,
    two_mode_target,
)
from isobounds_models.networks import BACKBONE_HIDDEN, GENERATOR_HIDDEN, BatchedMLP, export_mlp  # noqa: E402
from isobounds_models.sampling import annealed_langevin  # noqa: E402


def _random_module(seed, sizes=(1, *GENERATOR_HIDDEN, 1), skip="plain"):
    mlp = BatchedMLP(1, sizes, skip)
    mlp.reset_parameters([torch.Generator().manual_seed(seed)])
    with torch.no_grad():
        # Larger first-layer weights spread the knots over several units of z.
        mlp.layers[0].weight.mul_(3.0)
    return export_mlp(mlp, 0)


def _evaluate_module(module, z):
    with torch.no_grad():
        values = module.double()(torch.as_tensor(z, dtype=torch.float64).reshape(-1, 1)).reshape(-1).numpy()
    module.float()
    return values


@pytest.mark.parametrize("seed,skip", [(0, "plain"), (1, "plain"), (2, "resnet"), (3, "densenet")])
def test_piecewise_map_equals_network(seed, skip):
    sizes = (1, *GENERATOR_HIDDEN, 1) if skip == "plain" else (1, *BACKBONE_HIDDEN, 1)
    module = _random_module(seed, sizes, skip)
    pl = piecewise_linear_from_module(module)
    z = np.random.default_rng(seed).uniform(-40, 40, 20_000)
    reference = _evaluate_module(module, z)
    assert np.max(np.abs(pl(z) - reference)) <= 1e-10 * (1 + np.max(np.abs(reference)))


@pytest.mark.parametrize("seed,sizes,skip", [
    (10, (1, *GENERATOR_HIDDEN, 1), "plain"),
    (11, (1, 64, 64, 1), "plain"),
    (12, (1, 32, 32, 32, 1), "resnet"),
    (13, (1, 32, 32, 32, 1), "densenet"),
])
def test_exact_lipschitz_equals_dense_grid(seed, sizes, skip):
    module = _random_module(seed, sizes, skip)
    pl = piecewise_linear_from_module(module)
    exact = float(pl.lipschitz_constant())

    # The grid covers every knot with a margin, so both end slopes are seen.
    low = min(pl.knots[0], -1.0) - 1.0
    high = max(pl.knots[-1], 1.0) + 1.0
    n_points = 200_001
    dense = grid_lipschitz(module, low, high, n_points)
    spacing = (high - low) / (n_points - 1)
    slopes = pl.slopes
    steepest = int(np.argmax(np.abs(slopes)))
    inner = np.diff(pl.knots)
    steepest_length = np.inf if steepest in (0, slopes.size - 1) else inner[steepest - 1]

    assert dense <= exact * (1 + 1e-9)
    # When the steepest piece spans two grid cells, one cell lies inside it and shows its slope.
    if steepest_length > 2 * spacing:
        assert dense == pytest.approx(exact, rel=1e-7)
    else:
        assert dense >= exact * (1 - 1e-2)


def test_pushforward_mass_matches_monte_carlo():
    pl = piecewise_linear_from_module(_random_module(5))
    rho = pl.pushforward()
    z = np.random.default_rng(0).standard_normal(1_000_000)
    y = pl(z)
    centre = float(np.median(y))
    spread = float(np.subtract(*np.percentile(y, [75, 25])))
    for a, b in [(-np.inf, centre), (centre - spread, centre + spread / 3), (centre + spread, np.inf)]:
        exact = float(rho.mass((a, b)))
        frequency = np.mean((y >= a) & (y <= b))
        error_bar = math.sqrt(max(exact * (1 - exact), 1e-6) / z.size)
        assert abs(frequency - exact) <= 5 * error_bar


def _affine(scale, shift):
    """The exported one-layer network z -> scale z + shift."""
    linear = torch.nn.Linear(1, 1).double()
    with torch.no_grad():
        linear.weight.fill_(scale)
        linear.bias.fill_(shift)
    return piecewise_linear_from_module(torch.nn.Sequential(linear))


def _quad_distances(density, m, breakpoints):
    """TV and KL by mpmath.quad, split at the breakpoints and at the crossings of the densities."""
    def nu(x):
        return 0.5 * (mpmath.npdf(x, -m, 1) + mpmath.npdf(x, m, 1))

    def difference(x):
        return density(x) - nu(x)

    with mpmath.workdps(20):
        grid = np.linspace(-m - 12, m + 12, 4001)
        values = [difference(mpmath.mpf(x)) for x in grid]
        crossings = [mpmath.findroot(difference, (grid[i], grid[i + 1]), solver="anderson")
                     for i in range(grid.size - 1) if values[i] * values[i + 1] < 0]
        points = [-mpmath.inf, *sorted([*breakpoints, *crossings]), mpmath.inf]
        tv = mpmath.quad(lambda x: abs(difference(x)), points) / 2
        kl = mpmath.quad(lambda x: density(x) * mpmath.log(density(x) / nu(x)) if density(x) > 0 else 0, points)
    return float(tv), float(kl)


def test_exact_distances_of_affine_map_against_quadrature():
    # rho = N(0.5, 1.5^2), whose density is written in closed form for mpmath.quad.
    scale, shift, m = 1.5, 0.5, 2.0
    tv_exact, kl_exact = exact_distances(_affine(scale, shift), m)

    def density(x):
        return mpmath.npdf(x, shift, scale)

    tv, kl = _quad_distances(density, m, [-m, shift, m])
    assert tv_exact.value == pytest.approx(tv, abs=1e-10)
    assert kl_exact.value == pytest.approx(kl, abs=1e-10)
    assert tv_exact.error < 1e-8


def test_exact_distances_of_leaky_map_against_quadrature():
    # g(z) = LeakyReLU_0.2(2 z + 1) - 0.5 has density phi((x + 0.5 - 1) / 2) / 2 for x > -0.5
    # and phi(((x + 0.5) / 0.2 - 1) / 2) / 0.4 below.
    first, second = torch.nn.Linear(1, 1).double(), torch.nn.Linear(1, 1).double()
    with torch.no_grad():
        first.weight.fill_(2.0)
        first.bias.fill_(1.0)
        second.weight.fill_(1.0)
        second.bias.fill_(-0.5)
    pl = piecewise_linear_from_module(torch.nn.Sequential(first, torch.nn.LeakyReLU(0.2), second))
    assert pl.knots.tolist() == [-0.5]
    assert float(pl.lipschitz_constant()) == 2.0

    def density(x):
        if x > -0.5:
            return mpmath.npdf((x + 0.5 - 1) / 2) / 2
        return mpmath.npdf(((x + 0.5) / 0.2 - 1) / 2) / 0.4

    m = 3.0
    tv, kl = _quad_distances(density, m, [-m, -0.5, m])
    tv_exact, kl_exact = exact_distances(pl, m)
    assert tv_exact.value == pytest.approx(tv, abs=1e-9)
    assert kl_exact.value == pytest.approx(kl, abs=1e-9)


def test_mixture_mass_far_tail():
    # nu([-1, 1]) at m = 10 is Phi(11) - Phi(9) for each mode; the CDF difference loses it.
    # mpmath: mpmath.ncdf(-9) - mpmath.ncdf(-11) at 30 digits = 1.1285884059538...e-19
    with mpmath.workdps(30):
        expected = float(mpmath.ncdf(-9) - mpmath.ncdf(-11))
    assert mixture_mass(-1.0, 1.0, 10.0) == pytest.approx(expected, rel=1e-12)


def test_sample_distances_against_exact():
    # Samples of N(0.5, 1.5^2). The KDE's expectation is N(0.5, 1.5^2 + h^2), and the estimator
    # compares it with the target smoothed alike, (1/2)[N(-m, 1 + h^2) + N(m, 1 + h^2)]. Dividing
    # both by k = sqrt(1 + h^2) keeps TV and KL and turns the target into the unit-variance
    # mixture at m / k, so the exact push-forward distances of an affine map are the reference.
    # The sampling noise biases the estimate upward by about the floor.
    scale, shift, m = 1.5, 0.5, 2.0
    samples = shift + scale * np.random.default_rng(1).standard_normal(20_000)
    estimate = sample_distances(samples, m, n_bootstrap=40, seed=2)
    k = math.hypot(1.0, estimate.bandwidth)
    tv, kl = exact_distances(_affine(math.hypot(scale, estimate.bandwidth) / k, shift / k), m / k)

    assert abs(estimate.tv - tv.value) <= 5 * estimate.tv_se + estimate.tv_floor
    assert abs(estimate.kl - kl.value) <= 5 * estimate.kl_se + estimate.kl_floor
    exact_between = float(_affine(scale, shift).pushforward().mass((-m / 2, m / 2)))
    assert abs(estimate.mass_between - exact_between) <= 5 * estimate.mass_between_se


def _mixture_distances(m, sigma_model, sigma_target):
    """TV and KL between (1/2)[N(-m, s1^2) + N(m, s1^2)] and (1/2)[N(-m, s2^2) + N(m, s2^2)] by scipy quad."""
    def model(x):
        return 0.5 * (stats.norm.pdf(x, -m, sigma_model) + stats.norm.pdf(x, m, sigma_model))

    def target(x):
        return 0.5 * (stats.norm.pdf(x, -m, sigma_target) + stats.norm.pdf(x, m, sigma_target))

    points = [-m - 3, -m, -m + 3, 0.0, m - 3, m, m + 3]
    tv = 0.5 * integrate.quad(lambda x: abs(model(x) - target(x)), -m - 15, m + 15, points=points, limit=400)[0]
    kl = integrate.quad(lambda x: model(x) * math.log(model(x) / target(x)) if model(x) > 0 else 0.0,
                        -m - 15, m + 15, points=points, limit=400)[0]
    return tv, kl


def test_sample_distances_estimate_smoothed_distances():
    # Model: the target's modes narrowed to standard deviation 0.3. Smoothing both laws by
    # N(0, h^2) gives mixtures of standard deviations sqrt(0.09 + h^2) and sqrt(1 + h^2), whose
    # TV and KL lie below the unsmoothed ones (data-processing inequality) and are what the
    # estimator targets. n = 2,000 makes h = 0.18, wide enough for the gap to show.
    m, narrow, n = 3.0, 0.3, 2000
    rng = np.random.default_rng(8)
    samples = m * rng.choice([-1.0, 1.0], size=n) + narrow * rng.standard_normal(n)
    estimate = sample_distances(samples, m, n_bootstrap=40, seed=9)
    h = estimate.bandwidth
    tv_true, kl_true = _mixture_distances(m, narrow, 1.0)
    tv_smoothed, kl_smoothed = _mixture_distances(m, math.hypot(narrow, h), math.hypot(1.0, h))

    assert h == pytest.approx(0.9 * n**-0.2)
    assert tv_smoothed < tv_true - 0.01
    assert kl_smoothed < kl_true - 0.05
    assert abs(estimate.tv - tv_smoothed) <= 5 * estimate.tv_se + estimate.tv_floor
    assert abs(estimate.kl - kl_smoothed) <= 5 * estimate.kl_se + estimate.kl_floor
    assert estimate.tv <= tv_true + 3 * estimate.tv_se + estimate.tv_floor
    assert estimate.kl <= kl_true + 3 * estimate.kl_se + estimate.kl_floor


def test_sample_distances_biased_upward_at_target():
    # Samples of the target itself: the true TV and KL are 0, and the estimates exceed them by
    # about the floor, far more than their bootstrap error bars, as the docstring states.
    m = 4.0
    rng = np.random.default_rng(3)
    samples = m * rng.choice([-1.0, 1.0], size=20_000) + rng.standard_normal(20_000)
    estimate = sample_distances(samples, m, n_bootstrap=30, seed=1)
    assert estimate.tv > 3 * estimate.tv_se
    assert estimate.kl > 0
    assert 0.3 * estimate.tv_floor < estimate.tv < 3 * estimate.tv_floor


@pytest.mark.parametrize("call,error,name", [
    (lambda: sample_distances(np.zeros(30), 1.0, grid_size=10**9), ValueError, "grid_size"),
    (lambda: sample_distances(np.zeros(30), 1.0, grid_size=1), ValueError, "grid_size"),
    (lambda: kde_estimator_floor(5, 1.0), ValueError, "n must be an integer >= 10"),
    (lambda: mixture_mass(1.0, -1.0, 2.0), ValueError, "a must not exceed b"),
    (lambda: mixture_mass(0.0, 1.0, -2.0), ValueError, "m must contain"),
    (lambda: mixture_mass(0.0, 1.0, 2.0, sigma=0.0), ValueError, "sigma must contain"),
    (lambda: mixture_mass(np.nan, 1.0, 2.0), ValueError, "NaN"),
    (lambda: grid_lipschitz(np.sin, n_points=2.7), TypeError, "n_points must be an integer >= 2"),
    (lambda: grid_lipschitz(np.sin, n_points=100.0), TypeError, "n_points must be an integer >= 2"),
    (lambda: score_lipschitz_per_level(_gaussian_score, []), ValueError, "sigmas"),
    (lambda: score_lipschitz_per_level(_gaussian_score, [1.0], low=5.0, high=-5.0), ValueError, "low and high"),
    (lambda: score_lipschitz_per_level(_gaussian_score, [1.0], n_points=1), ValueError, "n_points"),
    (lambda: langevin_schedule([1.0, 0.1], 0, 1e-3), ValueError, "steps_per_level"),
    (lambda: langevin_schedule([1.0, 0.1], 2, -1.0), ValueError, "step_size"),
    (lambda: langevin_schedule([0.1, 1.0], 2, 1e-3), ValueError, "sigmas must decrease"),
    (lambda: langevin_schedule([], 2, 1e-3), ValueError, "sigmas must be a non-empty"),
    (lambda: langevin_schedule([0.0], 2, 1e-3), ValueError, "sigmas must be positive"),
    (lambda: langevin_lipschitz(_gaussian_score, [1.0], 2, 1e-3, n_trajectories=0), ValueError, "n_trajectories"),
    (lambda: langevin_lipschitz(_gaussian_score, [1.0], 2, 1e-3, init_scale=-1.0), ValueError, "init_scale"),
    (lambda: langevin_lipschitz(_gaussian_score, [1.0], 2, float("nan")), ValueError, "step_size"),
    (lambda: langevin_lipschitz(_gaussian_score, [1.0], 2, 1e-3, n_candidates=8, boundary=float("nan")),
     ValueError, "boundary"),
])
def test_measure_helpers_reject_bad_input(call, error, name):
    with pytest.raises(error, match=name):
        call()


def test_sample_distances_far_outlier_escapes():
    # One sample at 1e8 is farther than a 2^22-point grid at spacing h / 4 reaches. It is
    # counted as escaped: TV gains half its mass, KL gains p_out log(p_out / nu_out) with
    # nu_out the target's mass beyond the grid, and the bandwidth stays the floor's.
    n, m = 1000, 3.0
    clean = sample_distances(np.zeros(n), m, n_bootstrap=2)
    estimate = sample_distances(np.r_[np.zeros(n - 1), 1e8], m, n_bootstrap=2)
    assert estimate.bandwidth == pytest.approx(0.9 * n**-0.2)
    assert abs(estimate.tv - clean.tv) < 2.0 / n
    assert estimate.tv > 0.9

    # The grid reaches about (2^22 - 1) h / 8 beyond the target on each side. The smoothed
    # target's log-mass beyond that edge is about -edge^2 / (2 (1 + h^2)), so the escaped
    # point's share of KL is (1/n) (log(1/n) - that), over 1e6.
    h = estimate.bandwidth
    edge = (2**22 - 1) * h / 8
    share = (math.log(1 / n) + edge**2 / (2 * (1 + h**2))) / n
    assert estimate.kl == pytest.approx(clean.kl * (n - 1) / n + share, rel=0.05)


def test_sample_distances_rejects_unresolvable_target():
    with pytest.raises(ValueError, match="m / sigma = .* is too large"):
        sample_distances(np.zeros(100), 1e20)
    with pytest.raises(ValueError, match="m / sigma = .* is too large"):
        sample_distances(np.zeros(100), 3.0, sigma=1e-200)


def test_sample_distances_rejects_bad_samples():
    with pytest.raises(ValueError, match="samples must be finite"):
        sample_distances(np.array([0.0] * 20 + [np.nan]), 1.0)
    with pytest.raises(ValueError, match="at least 10"):
        sample_distances(np.zeros(3), 1.0)
    with pytest.raises(ValueError, match="m must be"):
        sample_distances(np.zeros(30), -1.0)
    with pytest.raises(ValueError, match="sigma must be a positive"):
        sample_distances(np.zeros(30), 1.0, sigma=0.0)
    with pytest.raises(ValueError, match=r"shape \(n,\) or \(n, 1\)"):
        sample_distances(np.zeros((30, 2)), 1.0)
    with pytest.raises(TypeError, match="n_bootstrap must be a positive integer, got n_bootstrap=2.5"):
        sample_distances(np.zeros(30), 1.0, n_bootstrap=2.5)
    with pytest.raises(ValueError, match="n_bootstrap must be an integer >= 2"):
        sample_distances(np.zeros(30), 1.0, n_bootstrap=1)
    with pytest.raises(TypeError, match="seed must be a nonnegative integer, got seed=None"):
        sample_distances(np.zeros(30), 1.0, seed=None)
    with pytest.raises(ValueError, match="seed must be a nonnegative integer, got seed=-1"):
        sample_distances(np.zeros(30), 1.0, seed=-1)


def test_from_module_rejects_bad_networks():
    with pytest.raises(ValueError, match="weights"):
        piecewise_linear_from_module(torch.nn.Sequential(torch.nn.Linear(2, 1)))
    with pytest.raises(TypeError, match="module"):
        piecewise_linear_from_module(torch.nn.Linear(1, 1))
    with pytest.raises(ValueError, match="m must be"):
        two_mode_target(-1.0)


def _gaussian_score(x, sigma):
    # Score of N(0, 1 + sigma^2): the data N(0, 1) convolved with noise of level sigma.
    return -x / (1.0 + sigma**2)


def test_score_lipschitz_per_level_of_gaussian_score():
    sigmas = [1.0, 0.3, 0.01]
    result = score_lipschitz_per_level(_gaussian_score, sigmas, n_points=101)
    np.testing.assert_allclose(result, [1 / (1 + s**2) for s in sigmas], rtol=1e-6)
    with pytest.raises(ValueError, match="sigmas must be positive"):
        score_lipschitz_per_level(_gaussian_score, [1.0, 0.0])


@pytest.mark.parametrize("method", ["autograd", "jvp"])
def test_langevin_lipschitz_matches_autograd_through_chain(method):
    torch.manual_seed(0)
    network = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1)).double()

    def score(x, sigma):
        features = torch.cat([x, torch.full_like(x, math.log(sigma))], dim=-1)
        return network(features.to(torch.float64)).to(x.dtype)

    sigmas, steps, eps, n = [1.0, 0.5, 0.25], 4, 0.05, 8
    result = langevin_lipschitz(score, sigmas, steps, eps, n_trajectories=n, seed=3, method=method)

    # Same inputs as langevin_lipschitz draws, then the gradient of each output by backpropagation.
    generator = torch.Generator().manual_seed(3)
    noise = torch.randn(len(sigmas) * steps + 1, n, 1, generator=generator)
    x0 = noise[0].clone().requires_grad_(True)
    injected = noise[1:].clone().requires_grad_(True)
    output = annealed_langevin(score, x0, sigmas, steps, eps, noise=injected)
    grad_x0, grad_noise = torch.autograd.grad(output.sum(), (x0, injected))
    norms = torch.sqrt(grad_x0.reshape(-1) ** 2 + (grad_noise.reshape(-1, n) ** 2).sum(0)).double().numpy()

    np.testing.assert_allclose(result.local, norms, rtol=1e-4)
    np.testing.assert_allclose(result.samples, output.detach().reshape(-1).double().numpy(), rtol=1e-5, atol=1e-6)


def test_langevin_lipschitz_closed_form_for_linear_score():
    # With s(x, sigma) = -x / (1 + sigma^2), J_k = 1 - a_k / (2 (1 + sigma_k^2)) is constant
    # along any trajectory and the gradient norm has the closed form below.
    sigmas, steps, eps = [1.0, 0.1], 3, 0.01
    result = langevin_lipschitz(_gaussian_score, sigmas, steps, eps, n_trajectories=4)
    levels = np.repeat(sigmas, steps)
    a = eps * levels**2 / sigmas[-1] ** 2
    jacobian = 1 - a / (2 * (1 + levels**2))
    terms = [np.prod(jacobian)] + [math.sqrt(a[j]) * np.prod(jacobian[j + 1:]) for j in range(a.size)]
    np.testing.assert_allclose(result.local, np.linalg.norm(terms), rtol=1e-6)


def test_mixture_log_pdf_matches_scipy():
    from scipy.stats import norm

    x = np.linspace(-8, 8, 33)
    expected = np.log(0.5 * norm.pdf(x, -2, 1) + 0.5 * norm.pdf(x, 2, 1))
    np.testing.assert_allclose(mixture_log_pdf(x, 2.0), expected, rtol=1e-12)


def test_langevin_selection_keeps_local_constants():
    # Selected trajectories are differentiated with the same inputs as without selection.
    torch.manual_seed(1)
    network = torch.nn.Sequential(torch.nn.Linear(1, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))

    def score(x, sigma):
        return network(x) / sigma

    sigmas, steps, eps = [1.0, 0.5], 3, 0.05
    everything = langevin_lipschitz(score, sigmas, steps, eps, n_trajectories=64, seed=4)
    selected = langevin_lipschitz(score, sigmas, steps, eps, n_trajectories=16, n_candidates=64, seed=4)
    assert selected.indices.size == 16
    assert np.unique(selected.indices).size == 16
    np.testing.assert_allclose(selected.local, everything.local[selected.indices], rtol=1e-5)
    closest = np.argsort(np.abs(everything.samples))[:8]
    assert set(closest.tolist()) <= set(selected.indices.tolist())
