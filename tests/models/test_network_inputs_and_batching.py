"""Review tests: batched networks against separately built ones, inputs, data and the benchmark scripts."""

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from isobounds_models.batched import BatchedLinear  # noqa: E402
from isobounds_models.data import MixtureSpec, make_dataset, sample_gaussian_mixture, two_mode_mixture  # noqa: E402
from isobounds_models.networks import (  # noqa: E402
    BatchedMLP,
    BatchedScoreNet,
    BatchedVAE,
    count_parameters,
    depth_hidden_sizes,
    sinusoidal_embedding,
    skip_is_placeable,
)

ROOT = Path(__file__).resolve().parents[2]
BENCHMARKS = ROOT / "benchmarks"
SEEDS = (3, 7, 11)


def _generators(seeds):
    return [torch.Generator().manual_seed(seed) for seed in seeds]


def _load_script(name):
    # The scripts import their shared helpers from their own folder, as `python benchmarks/NAME.py` allows.
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- batched runs against separately built one-run networks, float64 -------------------------


@pytest.mark.parametrize("sizes, skip, spectral_norm", [
    ((1, 16, 16, 16, 1), "plain", False),
    ((1, 16, 16, 16, 1), "resnet", True),
    ((1, 16, 16, 16, 1), "densenet", True),
    ((2, 8, 16, 3), "plain", True),
    ((2, 8, 8, 8, 3), "resnet", False),
])
def test_batched_mlp_equals_separate_models(sizes, skip, spectral_norm):
    # Several forward passes in training mode, so the power iterations of every step must agree too.
    batched = BatchedMLP(len(SEEDS), sizes, skip, spectral_norm).double().train()
    batched.reset_parameters(_generators(SEEDS))
    singles = []
    for seed in SEEDS:
        single = BatchedMLP(1, sizes, skip, spectral_norm).double().train()
        single.reset_parameters(_generators([seed]))
        singles.append(single)
    inputs = torch.randn(3, len(SEEDS), 20, sizes[0], dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    for x in inputs:
        batched.zero_grad()
        out = batched(x)
        (out**2).sum().backward()
        for r, single in enumerate(singles):
            single.zero_grad()
            alone = single(x[r : r + 1])
            (alone**2).sum().backward()
            torch.testing.assert_close(out[r], alone[0], rtol=1e-12, atol=1e-12)
            for p_batched, p_single in zip(batched.parameters(), single.parameters()):
                torch.testing.assert_close(p_batched.grad[r], p_single.grad[0], rtol=1e-12, atol=1e-12)
            for l_batched, l_single in zip(batched.layers, single.layers):
                if spectral_norm:
                    torch.testing.assert_close(l_batched.sn_u[r], l_single.sn_u[0], rtol=1e-12, atol=1e-12)
                    torch.testing.assert_close(l_batched.sn_v[r], l_single.sn_v[0], rtol=1e-12, atol=1e-12)


def test_batched_score_net_and_vae_equal_separate_models():
    x = torch.randn(len(SEEDS), 15, 1, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    sigma = torch.rand(len(SEEDS), 15, dtype=torch.float64, generator=torch.Generator().manual_seed(4)) * 0.9 + 0.05
    for build, call in [
        (lambda runs: BatchedScoreNet(runs, 1, 1.0, 0.01, 10), lambda net, r: net(x[r], sigma[r])),
        (lambda runs: BatchedVAE(runs, 1, 1), lambda net, r: torch.cat(net.encode(x[r]), -1) + net.decoder(x[r])),
    ]:
        batched = build(len(SEEDS)).double()
        batched.reset_parameters(_generators(SEEDS))
        out = call(batched, slice(None))
        out.pow(2).sum().backward()
        for r, seed in enumerate(SEEDS):
            single = build(1).double()
            single.reset_parameters(_generators([seed]))
            alone = call(single, slice(r, r + 1))
            alone.pow(2).sum().backward()
            torch.testing.assert_close(out[r], alone[0], rtol=1e-12, atol=1e-14)
            for p_batched, p_single in zip(batched.parameters(), single.parameters()):
                torch.testing.assert_close(p_batched.grad[r], p_single.grad[0], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("fan_in, fan_out", [(1, 128), (128, 256), (256, 1), (260, 1)])
def test_init_equals_torch_linear_default(fan_in, fan_out):
    # torch.nn.Linear draws its weight, then its bias, from the global generator.
    torch.manual_seed(5)
    linear = torch.nn.Linear(fan_in, fan_out)
    layer = BatchedLinear(1, fan_in, fan_out)
    layer.reset_parameters(_generators([5]))
    assert torch.equal(layer.weight[0], linear.weight)
    assert torch.equal(layer.bias[0], linear.bias)


@pytest.mark.parametrize("spectral_norm", [False, True])
def test_layer_is_nan_until_initialised(spectral_norm):
    # torch.empty returns whatever memory it finds, often finite values such as 2.8e30.
    mlp = BatchedMLP(2, (1, 8, 1), spectral_norm=spectral_norm)
    assert all(torch.isnan(parameter).all() for parameter in mlp.parameters())
    assert torch.isnan(mlp(torch.zeros(2, 3, 1))).all()
    mlp.reset_parameters(_generators([0, 1]))
    assert torch.isfinite(mlp(torch.zeros(2, 3, 1))).all()


# --- widths and parameter counts of the variants --------------------------------------------


@pytest.mark.parametrize("hidden_layers", [2, 3, 4, 5, 6])
def test_depth_sweep_counts(hidden_layers):
    hidden = [128 * 2**i for i in range(hidden_layers)]
    sizes = (1, *hidden, 1)
    plain = sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))
    # Densenet layer k >= 2 reads every hidden feature before it.
    reads = [1] + [sum(hidden[:k]) for k in range(1, hidden_layers + 1)]
    dense = sum((a + 1) * b for a, b in zip(reads, sizes[1:]))
    assert depth_hidden_sizes(hidden_layers) == tuple(hidden)
    for skip, spectral_norm, expected in [("plain", False, plain), ("plain", True, plain),
                                          ("densenet", True, dense)]:
        mlp = BatchedMLP(1, sizes, skip, spectral_norm)
        assert count_parameters(mlp) == expected
        assert [tuple(layer.weight.shape[1:]) for layer in mlp.layers] == list(zip(sizes[1:], reads if
                                                                                  skip == "densenet" else sizes))
    with pytest.raises(ValueError, match="skip='resnet' places no skip connection"):
        BatchedMLP(1, sizes, "resnet")


# --- unchecked inputs -------------------------------------------------------------------------


def test_spectral_norm_must_be_bool():
    with pytest.raises(TypeError, match="spectral_norm must be a bool, got spectral_norm='false'"):
        BatchedLinear(1, 2, 3, "false")
    with pytest.raises(TypeError, match="spectral_norm must be a bool"):
        BatchedMLP(1, (1, 4, 1), spectral_norm=0)


@pytest.mark.parametrize("kwargs, name", [({"latent_dim": 0}, "latent_dim"), ({"latent_dim": 1.5}, "latent_dim"),
                                          ({"dim": 0}, "dim")])
def test_vae_sizes_named(kwargs, name):
    arguments = {"runs": 1, "dim": 1, "latent_dim": 1, **kwargs}
    with pytest.raises((TypeError, ValueError), match=f"{name} must be a positive integer, got {name}="):
        BatchedVAE(**arguments)


def test_skip_is_placeable_rejects_unknown_kind():
    with pytest.raises(ValueError, match="skip must be one of .*got skip='res'"):
        skip_is_placeable((256, 256), "res")


def test_sinusoidal_embedding_needs_float_tensor():
    with pytest.raises(TypeError, match="position must be a floating-point torch.Tensor, got float"):
        sinusoidal_embedding(3.0, 16)
    with pytest.raises(TypeError, match="got a torch.int64 tensor"):
        sinusoidal_embedding(torch.arange(3), 16)


@pytest.mark.parametrize("slope, error", [(math.nan, ValueError), (math.inf, ValueError), ("0.2", TypeError)])
def test_negative_slope_checked(slope, error):
    with pytest.raises(error, match="negative_slope must be a finite real number"):
        BatchedMLP(1, (1, 4, 1), negative_slope=slope)
    with pytest.raises(error, match="negative_slope must be a finite real number"):
        BatchedScoreNet(1, 1, 1.0, 0.01, 10, negative_slope=slope)


# --- data -----------------------------------------------------------------------------------


def test_mapping_and_set_weights_rejected():
    # tuple() of a dict gives its keys, so {0.3: ..., 0.7: ...} would pass as the weights (0.3, 0.7).
    with pytest.raises(TypeError, match="got a dict"):
        sample_gaussian_mixture({0.3: "a", 0.7: "b"}, [[0.0], [1.0]], 1.0, 3, 0)
    with pytest.raises(TypeError, match="got a set"):
        MixtureSpec({0.5}, [[0.0]], 1.0)


@pytest.mark.parametrize("m, sigma", [(1e39, 1.0), (1e300, 1.0), (1.0, 1e38)])
def test_float32_overflow_rejected(m, sigma):
    # Without the check the samples are +-inf, because the largest float32 is 3.4e38.
    with pytest.raises(ValueError, match="float32 samples finite"):
        two_mode_mixture(m, sigma=sigma).sample(5, 0)


def test_largest_accepted_mixture_has_finite_samples():
    m = float(np.finfo(np.float32).max) / 2
    assert torch.isfinite(make_dataset(m, 1000, seed=0)).all()


def test_sigma_rounding_to_zero_rejected():
    with pytest.raises(ValueError, match="sigma must be a positive float64 number, got sigma='1e-400'"):
        two_mode_mixture(1.0, sigma="1e-400")


def test_spec_with_means_rejected():
    with pytest.raises(ValueError, match="means and sigma must be None when weights is a MixtureSpec"):
        sample_gaussian_mixture(two_mode_mixture(2.0), [[100.0]], 5.0, 4, 0)


def test_spec_sample_equals_function():
    spec = MixtureSpec((0.2, 0.5, 0.3), ((-4.0,), (0.0,), (6.0,)), 0.5)
    assert torch.equal(spec.sample(50, 3), sample_gaussian_mixture(spec.weights, spec.means, 0.5, 50, 3))


def test_component_frequencies_within_binomial_error():
    # Components 20 standard deviations apart: each sample is assigned to its component without error.
    weights = (0.1, 0.6, 0.3)
    n = 40_000
    x = sample_gaussian_mixture(weights, [-20.0, 0.0, 20.0], 1.0, n, 7).numpy()[:, 0]
    counts = np.array([(x < -10).sum(), ((x > -10) & (x < 10)).sum(), (x > 10).sum()])
    errors = np.sqrt(n * np.array(weights) * (1 - np.array(weights)))
    assert np.all(np.abs(counts - n * np.array(weights)) < 5 * errors)


# --- benchmark scripts ------------------------------------------------------------------------


def _hand_flops(model, runs, batch=1000, steps=50):
    """FLOPs of one epoch counted by hand: 2 m k n per product, 3 products per layer with weight gradient."""
    def pairs(sizes):
        return sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))

    generator = pairs((1, 128, 256, 1))                   # 128 + 32,768 + 256 = 33,152
    if model == "vae":
        step = 6 * batch * (pairs((1, 256, 128, 2)) + generator)
    elif model == "gan":
        discriminator = pairs((1, 512, 256, 128, 1))      # 512 + 131,072 + 32,768 + 128 = 164,480
        # D step: G forward, then D forward and both gradients on real + fake;
        # G step: G forward and both gradients, D forward and input gradient.
        step = 2 * batch * generator + 6 * (2 * batch) * discriminator + 6 * batch * generator \
            + 4 * batch * discriminator
    else:
        per_level = 16 * 32 + 32 * 64 + 64 * 196 + 64 * 1
        per_sample = 1 * 96 + 96 * 196 + 196 * 1
        step = 6 * 10 * per_level + 6 * batch * per_sample
    return runs * steps * step


@pytest.mark.parametrize("model, runs, gflop", [("vae", 1, 19.9296), ("gan", 10, 1448.44), ("sgm", 1, 5.777904)])
def test_benchmark_flop_count(monkeypatch, model, runs, gflop):
    bench = _load_script("bench_training")
    monkeypatch.setattr(bench, "time_call", lambda function, repeats: 0.0)
    _, flops = bench.gemm_floor(model, runs, 1000, 50, torch.device("cpu"), 1)
    assert flops == _hand_flops(model, runs)
    assert flops / 1e9 == pytest.approx(gflop, rel=1e-5)


def test_benchmark_ms_are_distinct():
    bench = _load_script("bench_training")
    assert bench.benchmark_ms(10) == tuple(float(m) for m in range(10))
    for runs in (1, 11, 12, 30):
        ms = bench.benchmark_ms(runs)
        assert len(ms) == runs
        assert len(set(ms)) == runs
        assert min(ms) == 0
        assert max(ms) <= 10


@pytest.fixture
def run_script(monkeypatch, capsys):
    """Return ``run(name, *arguments) -> (exit code, stdout, stderr)`` calling a script's ``main()`` in this process.

    Only argument handling is exercised: every call here exits in argparse. The
    thread variables that ``bench_pushforward`` sets on import are restored afterwards.
    """
    for variable in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
        monkeypatch.delenv(variable, raising=False)

    def run(name, *arguments):
        monkeypatch.setattr(sys, "argv", [f"{name}.py", *arguments])
        module = _load_script(name)
        with pytest.raises(SystemExit) as stop:
            module.main()
        captured = capsys.readouterr()
        return stop.value.code, captured.out, captured.err

    return run


@pytest.mark.parametrize("name", ["bench_training", "bench_core", "bench_pushforward"])
def test_benchmark_help(run_script, name):
    code, out, _ = run_script(name, "--help")
    assert code == 0
    assert "usage" in out


@pytest.mark.parametrize("arguments, message", [
    (("--epochs", "0"), "argument --epochs: expected a positive integer, got 0"),
    (("--runs", "-1"), "argument --runs: expected a positive integer, got -1"),
    (("--threads", "0"), "argument --threads: expected a positive integer, got 0"),
    (("--models", "sgm,foo"), "argument --models: expected comma-separated names"),
    (("--device", "tpu"), "argument --device: device must be"),
])
def test_benchmark_training_rejects_arguments(run_script, arguments, message):
    code, _, err = run_script("bench_training", *arguments)
    assert code == 2
    assert message in err


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without CUDA")
def test_benchmark_training_without_cuda(run_script):
    code, _, err = run_script("bench_training", "--device", "cuda")
    assert code == 2
    assert "argument --device: device='cuda' was requested but torch finds no CUDA device" in err


@pytest.mark.parametrize("name, option", [("bench_core", "--repeat"), ("bench_pushforward", "--repeat"),
                                          ("bench_pushforward", "--blas-threads")])
def test_benchmark_counts_must_be_positive(run_script, name, option):
    code, _, err = run_script(name, option, "0")
    assert code == 2
    assert f"argument {option}: expected a positive integer, got 0" in err


def test_relu_module_is_slope_zero():
    # nn.ReLU was rejected, although it is the LeakyReLU of slope 0.
    from isobounds_models.measure import piecewise_linear_from_module

    torch.manual_seed(3)
    net = torch.nn.Sequential(torch.nn.Linear(1, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1)).double()
    g = piecewise_linear_from_module(net)
    z = np.linspace(-6.0, 6.0, 2001)
    with torch.no_grad():
        expected = net(torch.from_numpy(z)[:, None]).numpy()[:, 0]
    assert np.allclose(g(z), expected, rtol=1e-12, atol=1e-12)
    mixed = torch.nn.Sequential(torch.nn.Linear(1, 4), torch.nn.ReLU(), torch.nn.Linear(4, 4),
                                torch.nn.LeakyReLU(0.2), torch.nn.Linear(4, 1))
    with pytest.raises(ValueError, match="one LeakyReLU slope"):
        piecewise_linear_from_module(mixed)
