"""Networks of the univariate experiment, batched over independent runs.

All networks are built from :class:`~isobounds_models.batched.BatchedLinear`
layers with a leading run dimension ``R``, and LeakyReLU(0.2) activations
(Salmona et al., 2022, appendix S5.1):

- generator / VAE decoder: MLP ``(1, 128, 256, 1)``, 33,537 parameters per run;
- VAE encoder: MLP ``(1, 256, 128)`` followed by two ``(128, 1)`` heads for the
  mean and the log-variance of ``q(z | x)``. The two heads are stored as the
  two rows of one ``(128, 2)`` layer, which is the same map and the same
  parameter count;
- GAN discriminator: MLP ``(1, 512, 256, 128, 1)`` with spectral normalisation;
- score network: see :class:`BatchedScoreNet` (34,665 parameters per run).

Generator variants: any hidden widths (:func:`depth_hidden_sizes` gives the
depth sweep), the ``(1, 256, 256, 256, 1)`` backbone with ``"resnet"`` or
``"densenet"`` skips, and spectral normalisation.

One run is exported as a plain ``torch.nn.Module`` with :func:`export_mlp`:
an ``nn.Sequential`` of ``nn.Linear`` and ``nn.LeakyReLU`` for plain MLPs,
a :class:`SkipMLP` (also built of ``nn.Linear``) otherwise.
:func:`describe_mlp` returns the per-layer ``(weight, bias)`` arrays, in the
torch ``(out, in)`` layout, with the wiring of the skips.

Skip wiring. Write ``f_0`` for the input and ``f_k`` for the output of linear
layer ``k`` (``k = 1..K``), and ``a`` for the LeakyReLU, except that
``a(f_0) = f_0``. The lists ``inputs`` and ``adds`` have one entry per layer,
entry ``k - 1`` for layer ``k``. Layer ``k`` computes
``f_k = W_k concat(a(f_j) for j in inputs[k-1]) + b_k + sum(f_j for j in adds[k-1])``,
and the network returns ``f_K``.

- plain: ``inputs[k-1] = [k-1]``, no adds;
- resnet (additive pre-activation skips): plain inputs, and every hidden
  layer whose input and output widths agree adds its input,
  ``f_k = f_{k-1} + W_k a(f_{k-1}) + b_k``;
- densenet (concatenating pre-activation skips): ``inputs[k-1] = [1, ..., k-1]``
  for ``k >= 2``, so each layer reads every earlier hidden feature.

A resnet needs two consecutive hidden layers of equal width and a densenet
two hidden layers, or the wiring is the plain one. :func:`skip_wiring`
raises ``ValueError`` for such widths (the paper's ``(128, 256)`` generator
and the doubling widths of the depth sweep among them).

References
----------
A. Salmona, V. De Bortoli, J. Delon, A. Desolneux, "Can Push-forward
Generative Models Fit Multimodal Distributions?", NeurIPS 2022.
T. Miyato, T. Kataoka, M. Koyama, Y. Yoshida, "Spectral Normalization for
Generative Adversarial Networks", ICLR 2018.
"""

import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .batched import BatchedLinear, check_run_index, check_size, select_runs
from .sampling import geometric_sigmas

__all__ = [
    "NEGATIVE_SLOPE",
    "GENERATOR_HIDDEN",
    "ENCODER_HIDDEN",
    "DISCRIMINATOR_HIDDEN",
    "SCORE_HIDDEN",
    "SCORE_EMBEDDING_SIZES",
    "BACKBONE_HIDDEN",
    "SKIP_KINDS",
    "SKIP_REQUIREMENTS",
    "depth_hidden_sizes",
    "skip_wiring",
    "skip_is_placeable",
    "BatchedMLP",
    "BatchedVAE",
    "BatchedScoreNet",
    "SkipMLP",
    "export_mlp",
    "describe_mlp",
    "mlp_weights",
    "count_parameters",
    "sinusoidal_embedding",
]

NEGATIVE_SLOPE = 0.2
GENERATOR_HIDDEN = (128, 256)
ENCODER_HIDDEN = (256, 128)
DISCRIMINATOR_HIDDEN = (512, 256, 128)
SCORE_HIDDEN = (96, 196)
SCORE_EMBEDDING_SIZES = (16, 32, 64)
BACKBONE_HIDDEN = (256, 256, 256)
SKIP_KINDS = ("plain", "resnet", "densenet")


def depth_hidden_sizes(hidden_layers):
    """Return the hidden widths of the depth sweep: ``hidden_layers`` layers doubling from 128.

    ``depth_hidden_sizes(2) == (128, 256)`` is the paper's generator; the sweep
    of Salmona et al., 2022 (Figure 5) uses 2 to 6 hidden layers.
    """
    if isinstance(hidden_layers, bool) or not isinstance(hidden_layers, (int, np.integer)) or hidden_layers < 1:
        raise ValueError(f"hidden_layers must be a positive integer, got hidden_layers={hidden_layers!r}")
    return tuple(128 * 2**i for i in range(int(hidden_layers)))


def skip_wiring(sizes, skip):
    """Return ``(inputs, adds, in_widths)`` of an MLP with layer widths ``sizes`` and skip kind ``skip``.

    ``inputs[k]`` and ``adds[k]`` list the feature indices read and added by
    linear layer ``k + 1`` (features numbered as in the module docstring), and
    ``in_widths[k]`` is that layer's input width.

    Raises ``ValueError`` when ``skip`` is ``"resnet"`` or ``"densenet"`` but
    the widths leave no place for a skip (:data:`SKIP_REQUIREMENTS`), so
    that the network would silently be a plain MLP.
    """
    if skip not in SKIP_KINDS:
        raise ValueError(f"skip must be one of {SKIP_KINDS}, got skip={skip!r}")
    n_layers = len(sizes) - 1
    inputs, adds, in_widths = [], [], []
    for k in range(1, n_layers + 1):
        if skip == "densenet" and k >= 2:
            read = list(range(1, k))
        else:
            read = [k - 1]
        square = sizes[k - 1] == sizes[k]
        add = [k - 1] if skip == "resnet" and k >= 2 and k < n_layers and square else []
        inputs.append(read)
        adds.append(add)
        in_widths.append(sum(sizes[j] for j in read))
    if skip != "plain" and not _has_skip(inputs, adds):
        raise ValueError(
            f"skip={skip!r} places no skip connection in an MLP with layer widths sizes={tuple(sizes)}: "
            f"{skip} needs {SKIP_REQUIREMENTS[skip]}; use skip='plain' or other widths"
        )
    return inputs, adds, in_widths


SKIP_REQUIREMENTS = {
    "resnet": "two consecutive hidden layers of equal width",
    "densenet": "at least two hidden layers",
}
"""Condition on the hidden widths under which each skip kind places at least one skip connection."""


def skip_is_placeable(hidden, skip):
    """Return whether skip kind ``skip`` places at least one skip connection between hidden layers ``hidden``.

    ``"plain"`` places none and is always valid, so it returns True. Raises
    ``ValueError`` for a skip kind outside :data:`SKIP_KINDS`.
    """
    if skip not in SKIP_KINDS:
        raise ValueError(f"skip must be one of {SKIP_KINDS}, got skip={skip!r}")
    if skip == "resnet":
        return any(a == b for a, b in zip(hidden[:-1], hidden[1:]))
    if skip == "densenet":
        return len(hidden) >= 2
    return True


def _has_skip(inputs, adds):
    return any(add for add in adds) or any(len(read) > 1 for read in inputs)


class BatchedMLP(nn.Module):
    """``R`` LeakyReLU MLPs with layer widths ``sizes`` and optional skips.

    Parameters
    ----------
    runs : int
        Number of runs ``R``.
    sizes : tuple of int
        Widths ``(in, hidden..., out)``.
    skip : {"plain", "resnet", "densenet"}
        Skip wiring (module docstring).
    spectral_norm : bool
        Spectrally normalise every layer. A plain MLP is then about
        1-Lipschitz, not at most 1-Lipschitz: the power-iteration estimate
        ``u^T W v`` is at most the largest singular value, so each normalised
        layer has spectral norm 1 or a little above (1.0005 after 16 Adam
        steps at ``lr = 1e-2``, checked with numpy's SVD). A resnet skip adds
        its input, so each such layer may have a Lipschitz constant up to 2.
        A densenet layer reads several features at once, so the bound grows
        with depth there too.
    negative_slope : float
        Slope of the LeakyReLU on negative inputs.
    """

    def __init__(self, runs, sizes, skip="plain", spectral_norm=False, negative_slope=NEGATIVE_SLOPE):
        super().__init__()
        self.runs = check_size("runs", runs)
        sizes = tuple(sizes)
        if len(sizes) < 2:
            raise ValueError(f"sizes must list at least an input and an output width, got sizes={sizes}")
        for width in sizes:
            if isinstance(width, bool) or not isinstance(width, (int, np.integer)) or width < 1:
                raise ValueError(f"sizes must be positive integer widths, got sizes={sizes} (width {width!r})")
        self.sizes = tuple(int(width) for width in sizes)
        self.skip = skip
        self.negative_slope = check_negative_slope(negative_slope)
        self.inputs, self.adds, in_widths = skip_wiring(self.sizes, skip)
        self.layers = nn.ModuleList(
            BatchedLinear(runs, width, out, spectral_norm) for width, out in zip(in_widths, self.sizes[1:])
        )

    def reset_parameters(self, generators):
        """Initialise run ``r`` of every layer from ``generators[r]``."""
        for layer in self.layers:
            layer.reset_parameters(generators)

    def forward(self, x):
        """Map ``x`` of shape ``(R, B, in)`` to ``(R, B, out)``."""
        features = [x]
        activated = [x]
        for layer, read, add in zip(self.layers, self.inputs, self.adds):
            layer_input = activated[read[0]] if len(read) == 1 else torch.cat([activated[j] for j in read], dim=-1)
            out = layer(layer_input)
            for j in add:
                out = out + features[j]
            features.append(out)
            activated.append(F.leaky_relu(out, self.negative_slope))
        return features[-1]


class BatchedVAE(nn.Module):
    """``R`` Gaussian VAEs: encoder ``(d, 256, 128) + heads``, decoder a :class:`BatchedMLP`.

    The encoder returns the mean and log-variance of ``q(z | x) = N(mu, diag(sigma^2))``;
    the decoder mean is ``f(z)`` and the decoder distribution ``N(f(z), c^2 I)``.
    """

    def __init__(self, runs, dim, latent_dim, decoder_hidden=GENERATOR_HIDDEN, skip="plain",
                 spectral_norm=False, negative_slope=NEGATIVE_SLOPE):
        super().__init__()
        check_size("runs", runs)
        check_size("dim", dim)
        self.latent_dim = check_size("latent_dim", latent_dim)
        self.encoder = BatchedMLP(runs, (dim, *ENCODER_HIDDEN, 2 * latent_dim), negative_slope=negative_slope)
        self.decoder = BatchedMLP(runs, (latent_dim, *decoder_hidden, dim), skip, spectral_norm, negative_slope)

    def reset_parameters(self, generators):
        """Initialise run ``r`` of the encoder, then the decoder, from ``generators[r]``."""
        self.encoder.reset_parameters(generators)
        self.decoder.reset_parameters(generators)

    def encode(self, x):
        """Return ``(mu, log_var)`` of ``q(z | x)``, each of shape ``(R, B, latent_dim)``."""
        out = self.encoder(x)
        return out[..., : self.latent_dim], out[..., self.latent_dim :]


def sinusoidal_embedding(position, n_features):
    """Return the sine-cosine encoding of Vaswani et al. (2017) of ``position``.

    ``position`` of any shape gives ``(..., n_features)`` features
    ``[sin(t w_0), ..., sin(t w_{h-1}), cos(t w_0), ..., cos(t w_{h-1})]``
    with ``h = n_features / 2`` frequencies ``w_i = 10000^(-i/h)``.
    ``position`` must be a floating-point tensor; the features have its dtype.
    """
    if not isinstance(position, torch.Tensor) or not position.is_floating_point():
        received = f"a {position.dtype} tensor" if isinstance(position, torch.Tensor) else type(position).__name__
        raise TypeError(f"position must be a floating-point torch.Tensor, got {received}")
    if isinstance(n_features, bool) or not isinstance(n_features, (int, np.integer)) or n_features < 2 \
            or n_features % 2:
        # An odd count would silently give one feature fewer than requested.
        raise ValueError(f"n_features must be a positive even integer, got n_features={n_features!r}")
    half = int(n_features) // 2
    frequencies = torch.exp(
        -math.log(10000.0) * torch.arange(half, dtype=position.dtype, device=position.device) / half
    )
    angles = position.unsqueeze(-1) * frequencies
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1)


class BatchedScoreNet(nn.Module):
    """``R`` noise-conditional score networks ``s(x, sigma)`` of the univariate experiment.

    Wiring (34,665 parameters per run for ``dim = 1``):

    1. the noise level is mapped to a position ``t`` with level ``i`` of the
       geometric ladder ``sigma_max ... sigma_min`` at ``t = i``
       (``t = (L - 1) log(sigma_max / sigma) / log(sigma_max / sigma_min)``),
       encoded by :func:`sinusoidal_embedding` into 16 features, then by the
       MLP ``(16, 32, 64)`` with LeakyReLU after each layer, giving ``e``;
    2. the main MLP ``(d, 96, 196, d)`` computes ``h_1 = a(W_1 x + b_1)``,
       ``h_2 = a(W_2 [h_1, e] + b_2)``, ``s = W_3 [h_2, e] + b_3``, where
       ``[., .]`` is concatenation and ``a`` the LeakyReLU.

    Salmona et al., 2022 (appendix S5.1, Figure S2) describe the noise
    information as concatenated "at each layer" and give 34,665 parameters.
    Concatenating ``e`` to the input of the second and third layers is the
    wiring of the stated widths that gives that count:
    ``(1 + 1)*96 + (16 + 1)*32 + (32 + 1)*64 + (96 + 64 + 1)*196 + (196 + 64 + 1)*1
    = 192 + 544 + 2,112 + 31,556 + 261 = 34,665``. Concatenating at the first layer
    too would give 40,809.

    The split ``W_2 = [W_2h | W_2e]`` is used in the forward pass, so the
    embedding term ``W_2e e + b_2`` is computed once per noise level when
    all samples share it (Langevin sampling).
    """

    def __init__(self, runs, dim, sigma_max, sigma_min, n_levels, negative_slope=NEGATIVE_SLOPE):
        super().__init__()
        if not 0 < sigma_min < sigma_max < math.inf:
            # position() divides by log(sigma_max / sigma_min), which is 0 for equal levels.
            raise ValueError(f"noise levels must satisfy 0 < sigma_min < sigma_max < inf, got "
                             f"sigma_min={sigma_min}, sigma_max={sigma_max}")
        check_size("runs", runs)
        self.dim = check_size("dim", dim)
        check_size("n_levels", n_levels)
        self.sigma_max = float(sigma_max)
        self.sigma_min = float(sigma_min)
        self.n_levels = int(n_levels)
        self.negative_slope = check_negative_slope(negative_slope)
        embed_in, embed_mid, embed_out = SCORE_EMBEDDING_SIZES
        hidden_1, hidden_2 = SCORE_HIDDEN
        self.embed_1 = BatchedLinear(runs, embed_in, embed_mid)
        self.embed_2 = BatchedLinear(runs, embed_mid, embed_out)
        self.layer_1 = BatchedLinear(runs, dim, hidden_1)
        self.layer_2 = BatchedLinear(runs, hidden_1 + embed_out, hidden_2)
        self.layer_3 = BatchedLinear(runs, hidden_2 + embed_out, dim)

    def reset_parameters(self, generators):
        """Initialise run ``r`` of every layer from ``generators[r]``."""
        for layer in (self.embed_1, self.embed_2, self.layer_1, self.layer_2, self.layer_3):
            layer.reset_parameters(generators)

    def position(self, sigma):
        """Return the position ``t`` of noise level ``sigma`` (level ``i`` of the ladder has ``t = i``)."""
        span = math.log(self.sigma_max / self.sigma_min)
        return (self.n_levels - 1) * (math.log(self.sigma_max) - torch.log(sigma)) / span

    def embed(self, sigma):
        """Return the noise embedding ``e`` of shape ``(R, S, 64)`` for ``sigma`` of shape ``(R, S)``."""
        features = sinusoidal_embedding(self.position(sigma), SCORE_EMBEDDING_SIZES[0])
        hidden = F.leaky_relu(self.embed_1(features), self.negative_slope)
        return F.leaky_relu(self.embed_2(hidden), self.negative_slope)

    def forward(self, x, sigma):
        """Return ``s(x, sigma)`` of shape ``(R, B, d)``.

        ``x`` has shape ``(R, B, d)``; ``sigma`` has shape ``(R, B)`` (one level
        per sample) or ``(R, 1)`` (one level per run, shared by its samples).
        """
        return self.forward_embedded(x, self.embed(sigma))

    def forward_levels(self, x, levels):
        """Return the score at the ladder's levels ``levels`` (integer tensor ``(R, B)``), shape ``(R, B, d)``.

        Equal to ``forward(x, sigma_ladder[levels])``, but the embedding and
        its terms in layers 2 and 3 are computed once per level, which removes
        their per-sample cost. Each sample then picks its level's row by a
        product with its one-hot level vector. The product is exact (one term
        is nonzero) and, on CPU, its backward pass is several times faster
        than that of ``torch.gather``. Training does not use this method but
        the hand-written gradient of :mod:`isobounds_models.score_gradients`.
        """
        runs = self.layer_1.runs
        sigmas = geometric_sigmas(self.sigma_max, self.sigma_min, self.n_levels)
        sigmas = sigmas.to(dtype=x.dtype, device=x.device).expand(runs, self.n_levels)
        bias_2, bias_3 = self.embedding_biases(self.embed(sigmas))
        # F.one_hot takes int64 indices only.
        one_hot = F.one_hot(levels.long(), self.n_levels).to(x.dtype)
        return self.forward_biased(x, torch.bmm(one_hot, bias_2), torch.bmm(one_hot, bias_3))

    def forward_embedded(self, x, embedding):
        """Return the score for a precomputed embedding ``e`` of shape ``(R, B, 64)`` or ``(R, 1, 64)``."""
        return self.forward_biased(x, *self.embedding_biases(embedding))

    def forward_biased(self, x, bias_2, bias_3):
        """Return the score given the noise terms ``(bias_2, bias_3)`` of :meth:`embedding_biases`."""
        hidden_1 = F.leaky_relu(self.layer_1(x), self.negative_slope)
        hidden_2 = F.leaky_relu(self._split_linear(self.layer_2, hidden_1, bias_2), self.negative_slope)
        return self._split_linear(self.layer_3, hidden_2, bias_3)

    def embedding_biases(self, embedding):
        """Return ``W_2e e + b_2`` and ``W_3e e + b_3``, the noise terms of layers 2 and 3."""
        biases = []
        for layer in (self.layer_2, self.layer_3):
            width = layer.in_features - embedding.shape[-1]
            noise_weight = layer.weight[:, :, width:]
            biases.append(torch.baddbmm(layer.bias.unsqueeze(1), embedding, noise_weight.transpose(1, 2)))
        return biases

    def select_run(self, run):
        """Return a one-run copy (``R = 1``) of run ``run``, in evaluation mode, on the same device."""
        run = check_run_index(run, self.embed_1.runs)
        return select_runs(self, [run]).eval()

    @staticmethod
    def _split_linear(layer, hidden, bias):
        width = hidden.shape[-1]
        return torch.baddbmm(bias, hidden, layer.weight[:, :, :width].transpose(1, 2))


class SkipMLP(nn.Module):
    """One LeakyReLU MLP with skips, built of ``nn.Linear`` layers (wiring in the module docstring).

    Attributes
    ----------
    linears : nn.ModuleList of nn.Linear
    inputs, adds : list of list of int
        Features read (concatenated, after the activation) and added by each layer.
    negative_slope : float
    """

    def __init__(self, linears, inputs, adds, negative_slope):
        super().__init__()
        self.linears = nn.ModuleList(linears)
        self.inputs = [list(r) for r in inputs]
        self.adds = [list(a) for a in adds]
        self.negative_slope = negative_slope

    def forward(self, x):
        """Map ``x`` of shape ``(B, in)`` to ``(B, out)``."""
        features = [x]
        activated = [x]
        for linear, read, add in zip(self.linears, self.inputs, self.adds):
            out = linear(torch.cat([activated[j] for j in read], dim=-1))
            for j in add:
                out = out + features[j]
            features.append(out)
            activated.append(F.leaky_relu(out, self.negative_slope))
        return features[-1]


def export_mlp(mlp, run):
    """Copy run ``run`` of a :class:`BatchedMLP` into a plain float32 ``torch.nn.Module``.

    Spectral normalisation is folded in (each weight is divided by its current
    estimate of the largest singular value). Returns an ``nn.Sequential`` of
    ``nn.Linear`` and ``nn.LeakyReLU`` for a plain MLP and a :class:`SkipMLP`
    otherwise, on the CPU, in evaluation mode, with gradients enabled.
    """
    run = check_run_index(run, mlp.runs)
    mlp_was_training = mlp.training
    mlp.eval()
    linears = []
    with torch.no_grad():
        for layer in mlp.layers:
            weight = layer.effective_weight()[run].detach().cpu().clone()
            linear = nn.Linear(layer.in_features, layer.out_features)
            linear.weight.copy_(weight)
            linear.bias.copy_(layer.bias[run].detach().cpu())
            linears.append(linear)
    mlp.train(mlp_was_training)

    if mlp.skip == "plain":
        modules = []
        for linear in linears[:-1]:
            modules += [linear, nn.LeakyReLU(mlp.negative_slope)]
        module = nn.Sequential(*modules, linears[-1])
    else:
        module = SkipMLP(linears, mlp.inputs, mlp.adds, mlp.negative_slope)
    return module.eval()


def describe_mlp(module):
    """Describe a plain or skip LeakyReLU MLP for an exact piecewise-linear analysis.

    Parameters
    ----------
    module : nn.Sequential or SkipMLP
        As returned by :func:`export_mlp`: ``nn.Linear`` layers separated by
        ``nn.LeakyReLU`` with one common slope (``nn.ReLU`` counts as slope 0).

    Returns
    -------
    dict
        ``layers``: list of ``(weight, bias)`` float64 numpy arrays, weight in the
        torch ``(out, in)`` layout; ``negative_slope``; ``skip`` ("plain" or
        "skip"); ``inputs`` and ``adds``: entry ``k`` lists the features read
        and added by layer ``k + 1`` (module docstring). A plain MLP has
        ``inputs[k] = [k]`` and no adds.
    """
    if isinstance(module, SkipMLP):
        linears, slope = list(module.linears), module.negative_slope
        inputs, adds, kind = module.inputs, module.adds, "skip"
    elif isinstance(module, nn.Sequential):
        linears, slope = _sequential_parts(module)
        inputs = [[k] for k in range(len(linears))]
        adds = [[] for _ in linears]
        kind = "plain"
    else:
        raise TypeError(f"module must be an nn.Sequential or a SkipMLP, got module of type {type(module).__name__}")
    layers = [(linear.weight.detach().cpu().double().numpy(), _bias_float64(linear)) for linear in linears]
    return {"layers": layers, "negative_slope": slope, "skip": kind, "inputs": inputs, "adds": adds}


def _bias_float64(linear):
    """Return the bias of ``linear`` as a float64 array, zeros for a layer built with ``bias=False``."""
    if linear.bias is None:
        return np.zeros(linear.out_features)
    return linear.bias.detach().cpu().double().numpy()


def mlp_weights(module):
    """Return ``(layers, negative_slope)`` of a plain LeakyReLU MLP.

    ``layers`` is the list of ``(weight, bias)`` float64 numpy arrays with the
    weight in the torch ``(out, in)`` layout; the network is
    ``x -> W_K a(... a(W_1 x + b_1) ...) + b_K``. Raises ``ValueError`` for a
    network with skips (use :func:`describe_mlp`).
    """
    description = describe_mlp(module)
    if description["skip"] != "plain":
        raise ValueError("module has skip connections, so it is not a plain MLP; use describe_mlp(module) instead")
    return description["layers"], description["negative_slope"]


def check_negative_slope(negative_slope):
    """Return ``negative_slope`` as a float; raise TypeError unless a real number, ValueError unless finite."""
    if isinstance(negative_slope, (bool, np.bool_)) or not isinstance(negative_slope, (int, float, np.integer,
                                                                                        np.floating)):
        raise TypeError(f"negative_slope must be a finite real number, got negative_slope={negative_slope!r} of "
                        f"type {type(negative_slope).__name__}")
    if not math.isfinite(negative_slope):
        raise ValueError(f"negative_slope must be a finite real number, got negative_slope={negative_slope!r}")
    return float(negative_slope)


def count_parameters(module, runs=None):
    """Return the number of trainable parameters of ``module``, per run when ``runs`` is given.

    Raises ``ValueError`` when ``runs`` does not divide the total, which
    would make the count per run a truncated quotient.
    """
    total = sum(p.numel() for p in module.parameters() if p.requires_grad)
    if runs is None:
        return total
    runs = check_size("runs", runs)
    if total % runs:
        raise ValueError(f"runs must divide the {total} trainable parameters of module, got runs={runs}")
    return total // runs


def _sequential_parts(module):
    """Return the linear layers and the slope of ``Linear, LeakyReLU, Linear, ..., Linear``; reject other layouts.

    The exact analysis applies the activation between every two linear
    layers, so a missing, doubled, leading or trailing activation would
    describe another map than the module computes. An ``nn.ReLU`` counts as
    a LeakyReLU of slope 0.
    """
    children = list(module)
    linears, slopes = [], set()
    for position, child in enumerate(children):
        if isinstance(child, nn.Linear):
            linears.append(child)
        elif isinstance(child, nn.LeakyReLU):
            slopes.add(float(child.negative_slope))
        elif isinstance(child, nn.ReLU):
            slopes.add(0.0)
        else:
            raise TypeError(f"module must contain only nn.Linear, nn.LeakyReLU and nn.ReLU, got a {type(child).__name__}")
        expected = (nn.Linear,) if position % 2 == 0 else (nn.LeakyReLU, nn.ReLU)
        if not isinstance(child, expected):
            raise ValueError(
                f"module must alternate nn.Linear and nn.LeakyReLU (or nn.ReLU), starting and ending with nn.Linear, but "
                f"layer {position} is a {type(child).__name__} where a {expected[0].__name__} belongs; the layout "
                f"is {[type(c).__name__ for c in children]}"
            )
    if not children or len(children) % 2 == 0:
        raise ValueError(
            f"module must alternate nn.Linear and nn.LeakyReLU (or nn.ReLU), starting and ending with nn.Linear, got the "
            f"layout {[type(c).__name__ for c in children]}"
        )
    if len(slopes) > 1:
        raise ValueError(f"module must use one LeakyReLU slope, got slopes {sorted(slopes)}")
    slope = slopes.pop() if slopes else NEGATIVE_SLOPE
    return linears, slope
