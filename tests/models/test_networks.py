"""Architectures, batching, export and description of one run (isobounds_models.networks)."""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from isobounds_models.batched import BatchedLinear, select_runs  # noqa: E402
from isobounds_models.networks import (  # noqa: E402
    BACKBONE_HIDDEN,
    BatchedMLP,
    BatchedScoreNet,
    BatchedVAE,
    SkipMLP,
    count_parameters,
    depth_hidden_sizes,
    describe_mlp,
    export_mlp,
    mlp_weights,
    sinusoidal_embedding,
)
from isobounds_models.sampling import ScoreFunction  # noqa: E402



def _generators(count, seed=0):
    return [torch.Generator().manual_seed(seed + r) for r in range(count)]


def _mlp(sizes, runs=3, skip="plain", spectral_norm=False, seed=0):
    mlp = BatchedMLP(runs, sizes, skip, spectral_norm)
    mlp.reset_parameters(_generators(runs, seed))
    return mlp


def _dense_count(sizes):
    return sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))


def _numpy_forward(description, z):
    """Evaluate a described LeakyReLU MLP in float64 numpy, independently of torch."""
    slope = description["negative_slope"]
    features = [z]
    activated = [z]
    for (weight, bias), read, add in zip(description["layers"], description["inputs"], description["adds"]):
        layer_input = np.concatenate([activated[j] for j in read], axis=1)
        out = layer_input @ weight.T + bias
        for j in add:
            out = out + features[j]
        features.append(out)
        activated.append(np.where(out > 0, out, slope * out))
    return features[-1]


def test_generator_parameter_count():
    # (1 + 1) * 128 + (128 + 1) * 256 + (256 + 1) * 1 = 256 + 33,024 + 257
    assert count_parameters(_mlp((1, 128, 256, 1)), runs=3) == 33_537
    assert count_parameters(export_mlp(_mlp((1, 128, 256, 1)), 0)) == 33_537


def test_score_network_parameter_count():
    # (1+1)*96 + (16+1)*32 + (32+1)*64 + (96+64+1)*196 + (196+64+1)*1
    # = 192 + 544 + 2,112 + 31,556 + 261
    net = BatchedScoreNet(2, 1, 1.0, 0.01, 10)
    assert count_parameters(net, runs=2) == 34_665


def test_vae_parameter_counts():
    vae = BatchedVAE(1, 1, 1)
    # Encoder (1, 256, 128) plus two (128, 1) heads, decoder (1, 128, 256, 1).
    encoder = _dense_count((1, 256, 128)) + 2 * (128 + 1)
    assert count_parameters(vae.encoder) == encoder
    assert count_parameters(vae.decoder) == 33_537


def test_discriminator_parameter_count():
    mlp = _mlp((1, 512, 256, 128, 1), runs=1, spectral_norm=True)
    assert count_parameters(mlp) == _dense_count((1, 512, 256, 128, 1))


@pytest.mark.parametrize("hidden_layers", [2, 3, 4, 5, 6])
def test_depth_sweep_widths(hidden_layers):
    widths = depth_hidden_sizes(hidden_layers)
    assert len(widths) == hidden_layers
    assert widths[0] == 128
    assert all(b == 2 * a for a, b in zip(widths[:-1], widths[1:]))


def test_backbone_counts_by_skip():
    sizes = (1, *BACKBONE_HIDDEN, 1)
    plain = _dense_count(sizes)
    assert count_parameters(_mlp(sizes, runs=1, skip="resnet")) == plain
    # Densenet layers read [f1], [f1, f2], [f1, f2, f3]: inputs 256, 512, 768.
    dense = (1 + 1) * 256 + (256 + 1) * 256 + (512 + 1) * 256 + (768 + 1) * 1
    assert count_parameters(_mlp(sizes, runs=1, skip="densenet")) == dense


@pytest.mark.parametrize("skip", ["plain", "resnet", "densenet"])
@pytest.mark.parametrize("spectral_norm", [False, True])
def test_export_matches_batched_forward(skip, spectral_norm):
    sizes = (1, 32, 32, 32, 1)
    mlp = _mlp(sizes, runs=3, skip=skip, spectral_norm=spectral_norm).eval()
    z = torch.linspace(-4, 4, 101).reshape(1, -1, 1).expand(3, -1, -1).contiguous()
    with torch.no_grad():
        batched = mlp(z)
        for run in range(3):
            exported = export_mlp(mlp, run)
            assert torch.allclose(exported(z[run]), batched[run], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("skip", ["plain", "resnet", "densenet"])
def test_description_reproduces_network(skip):
    module = export_mlp(_mlp((1, 16, 16, 16, 1), runs=2, skip=skip, seed=4), 1)
    description = describe_mlp(module)
    z = np.linspace(-5, 5, 57)[:, None]
    with torch.no_grad():
        expected = module(torch.tensor(z, dtype=torch.float32)).double().numpy()
    assert np.allclose(_numpy_forward(description, z), expected, rtol=1e-5, atol=1e-5)


def test_plain_export_is_linear_and_leaky_relu():
    module = export_mlp(_mlp((1, 128, 256, 1)), 2)
    kinds = [type(layer).__name__ for layer in module]
    assert kinds == ["Linear", "LeakyReLU", "Linear", "LeakyReLU", "Linear"]


def test_mlp_weights_layout():
    layers, slope = mlp_weights(export_mlp(_mlp((1, 128, 256, 1)), 0))
    assert slope == pytest.approx(0.2)
    assert [w.shape for w, _ in layers] == [(128, 1), (256, 128), (1, 256)]
    assert [b.shape for _, b in layers] == [(128,), (256,), (1,)]
    assert all(w.dtype == np.float64 for w, _ in layers)


def test_mlp_weights_rejects_skips():
    module = export_mlp(_mlp((1, 8, 8, 8, 1), runs=1, skip="resnet"), 0)
    assert isinstance(module, SkipMLP)
    with pytest.raises(ValueError, match="describe_mlp"):
        mlp_weights(module)


@pytest.mark.parametrize("layout", [
    ("linear", "linear"),
    ("linear", "act", "linear", "act"),
    ("linear", "act", "act", "linear"),
    ("act", "linear", "act", "linear"),
    (),
])
def test_description_rejects_other_layouts(layout):
    # Each layout computes another map than alternating layers would, so it must not be described as one.
    widths = iter([(1, 4), (4, 4), (4, 1)])
    layers = []
    for kind in layout:
        layers.append(torch.nn.Linear(*next(widths)) if kind == "linear" else torch.nn.LeakyReLU(0.2))
    with pytest.raises(ValueError, match=r"alternate nn.Linear and nn.LeakyReLU \(or nn.ReLU\)"):
        describe_mlp(torch.nn.Sequential(*layers))


def test_description_of_layer_without_bias():
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(1, 4, bias=False), torch.nn.LeakyReLU(0.2), torch.nn.Linear(4, 1))
    weight, bias = describe_mlp(module)["layers"][0]
    assert weight.shape == (4, 1)
    assert np.array_equal(bias, np.zeros(4))


def test_resnet_wiring_adds_inputs_of_square_layers():
    description = describe_mlp(export_mlp(_mlp((1, 8, 8, 8, 1), runs=1, skip="resnet"), 0))
    assert description["adds"] == [[], [1], [2], []]
    assert description["inputs"] == [[0], [1], [2], [3]]


def test_densenet_wiring_reads_all_hidden_features():
    description = describe_mlp(export_mlp(_mlp((1, 8, 8, 8, 1), runs=1, skip="densenet"), 0))
    assert description["inputs"] == [[0], [1], [1, 2], [1, 2, 3]]
    assert description["adds"] == [[], [], [], []]


def test_runs_start_from_their_own_generator():
    # Run r of a 3-run network equals a 1-run network seeded like run r.
    batched = _mlp((1, 16, 16, 1), runs=3, seed=10)
    alone = BatchedMLP(1, (1, 16, 16, 1))
    alone.reset_parameters([torch.Generator().manual_seed(12)])
    for a, b in zip(batched.parameters(), alone.parameters()):
        assert torch.equal(a[2], b[0])


def test_init_matches_torch_linear_bounds():
    layer = BatchedLinear(1, 64, 32)
    layer.reset_parameters(_generators(1))
    bound = 1 / math.sqrt(64)
    assert layer.weight.abs().max() <= bound
    assert layer.weight.abs().max() > 0.9 * bound


def test_spectral_norm_gives_unit_spectral_norm():
    mlp = _mlp((1, 64, 48, 1), runs=2, spectral_norm=True).train()
    x = torch.randn(2, 10, 1)
    for _ in range(100):
        mlp(x)
    mlp.eval()
    for layer in mlp.layers:
        weight = layer.effective_weight().detach().double()
        norms = torch.linalg.matrix_norm(weight, ord=2)
        assert torch.allclose(norms, torch.ones(2, dtype=torch.float64), atol=1e-3)


def test_select_runs_keeps_chosen_runs():
    mlp = _mlp((1, 8, 1), runs=4, spectral_norm=True).eval()
    subset = select_runs(mlp, [3, 1]).eval()
    z = torch.randn(4, 7, 1)
    with torch.no_grad():
        assert torch.allclose(subset(z[[3, 1]]), mlp(z)[[3, 1]])
    assert subset.runs == 2


def test_sinusoidal_embedding_formula():
    position = torch.tensor([0.0, 1.0, 7.5], dtype=torch.float64)
    features = sinusoidal_embedding(position, 16).numpy()
    frequencies = 10000.0 ** (-np.arange(8) / 8)
    angles = np.outer([0.0, 1.0, 7.5], frequencies)
    assert np.allclose(features, np.concatenate([np.sin(angles), np.cos(angles)], axis=1))


def test_score_net_matches_concatenated_form():
    # Independent evaluation: concatenate the embedding and use full weights.
    net = BatchedScoreNet(2, 1, 1.0, 0.01, 10)
    net.reset_parameters(_generators(2, 3))
    x = torch.randn(2, 9, 1)
    sigma = torch.rand(2, 9) * 0.99 + 0.01
    embedding = net.embed(sigma)

    def dense(layer, value):
        return value @ layer.weight.transpose(1, 2) + layer.bias.unsqueeze(1)

    leaky = torch.nn.functional.leaky_relu
    hidden_1 = leaky(dense(net.layer_1, x), 0.2)
    hidden_2 = leaky(dense(net.layer_2, torch.cat([hidden_1, embedding], -1)), 0.2)
    expected = dense(net.layer_3, torch.cat([hidden_2, embedding], -1))
    assert torch.allclose(net(x, sigma), expected, rtol=1e-5, atol=1e-6)


def test_score_levels_map_to_integer_positions():
    net = BatchedScoreNet(1, 1, 1.0, 0.01, 10)
    sigmas = torch.tensor(np.geomspace(1.0, 0.01, 10), dtype=torch.float64)
    assert torch.allclose(net.position(sigmas), torch.arange(10, dtype=torch.float64))


def test_score_function_single_run_shapes():
    net = BatchedScoreNet(3, 1, 1.0, 0.01, 10)
    net.reset_parameters(_generators(3))
    score = ScoreFunction(net.select_run(1))
    x = torch.randn(5, 1)
    with torch.no_grad():
        batched = net(x.expand(3, 5, 1).contiguous(), torch.full((3, 5), 0.3))[1]
        assert torch.allclose(score(x, 0.3), batched, rtol=1e-5, atol=1e-6)
        assert score(torch.randn(4, 5, 1), 0.3).shape == (4, 5, 1)


def test_unknown_skip_rejected():
    with pytest.raises(ValueError, match="skip='highway'"):
        BatchedMLP(1, (1, 4, 1), skip="highway")


def test_export_run_out_of_range_rejected():
    with pytest.raises(ValueError, match="run=5"):
        export_mlp(_mlp((1, 4, 1), runs=2), 5)


def test_depth_rejects_zero_layers():
    with pytest.raises(ValueError, match="hidden_layers=0"):
        depth_hidden_sizes(0)


def test_score_function_chunks_without_autograd():
    net = BatchedScoreNet(2, 1, 1.0, 0.01, 10)
    net.reset_parameters(_generators(2, 6))
    score = ScoreFunction(net.eval())
    x = torch.randn(2, 5000, 1)
    direct = net(x, torch.full((2, 1), 0.2)).detach()
    with torch.no_grad():
        chunked = score(x, 0.2)
    assert torch.allclose(chunked, direct, rtol=1e-5, atol=1e-6)


def test_score_levels_path_matches_per_sample_sigma():
    net = BatchedScoreNet(2, 1, 1.0, 0.01, 10)
    net.reset_parameters(_generators(2, 8))
    levels = torch.randint(10, (2, 40), generator=torch.Generator().manual_seed(1))
    ladder = torch.tensor(np.geomspace(1.0, 0.01, 10), dtype=torch.float32)
    x = torch.randn(2, 40, 1)
    assert torch.allclose(net.forward_levels(x, levels), net(x, ladder[levels]), rtol=1e-5, atol=1e-5)
