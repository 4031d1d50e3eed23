"""Hand-written gradient of the score model's training loss.

One training step of the univariate score model costs three products of
shape ``(1000, 96, 196)`` and many small operations. Under autograd, the
small operations took about as long as the products on a 2-core CPU
(torch 2.13), so a step ran at 1.9 to 2.5 times its floor (``docs/benchmarks.md``).
:func:`score_matching_gradients` computes the same loss and gradients
without an autograd graph, in 89 operations per step instead of 150
(torch profiler, top-level calls, with the Adam update).

The loss is the per-run mean over the batch of the denoising score
matching loss (Song and Ermon, 2019) weighted by ``sigma^2``,
``l(x) = (1/2) ||sigma s(x + sigma z, sigma) + z||^2``, for a
:class:`~isobounds_models.networks.BatchedScoreNet` and a ladder of noise
levels ``sigma_k`` with features ``f_k``. Writing ``a`` for the LeakyReLU
with slope ``c`` and ``a'`` for its derivative (1 above 0, ``c`` at 0 and
below), the forward pass is

- level terms, once per ladder level ``k``:
  ``u_1 = W_e1 f_k + b_e1``, ``u_2 = W_e2 a(u_1) + b_e2``, ``e_k = a(u_2)``,
  ``B_2[k] = W_2e e_k + b_2`` and ``B_3[k] = W_3e e_k + b_3``;
- per sample with level ``k`` and network input ``y = x + sigma_k z``:
  ``v_1 = W_1 y + b_1``,
  ``v_2 = W_2h a(v_1) + B_2[k]``, ``s = W_3h a(v_2) + B_3[k]``;

and the backward pass applies the chain rule to it in reverse:
``g_s = sigma (sigma s + z) / B``, ``g_v2 = a'(v_2) * (W_3h^T g_s)`` and
``g_v1 = a'(v_1) * (W_2h^T g_v2)``. Each weight gradient is the sum over
samples of the outer product of its output gradient and its input.
``g_B2[k]`` (``g_B3[k]``) sums ``g_v2`` (``g_s``) over the samples of level ``k``.

The gradients agree with autograd's to float32 rounding; the tests
compare the two on several networks.
"""

import torch
from torch.nn import functional as F

from .networks import SCORE_EMBEDDING_SIZES, BatchedScoreNet, sinusoidal_embedding

__all__ = ["level_features", "score_matching_gradients"]

_leaky_relu_backward = torch.ops.aten.leaky_relu_backward


def level_features(network, sigmas):
    """Return the sinusoidal features ``f_k`` of the ladder ``sigmas`` for ``network``, shape ``(R, L, 16)``.

    They depend on the ladder only, so a training loop computes them once.
    """
    features = sinusoidal_embedding(network.position(sigmas), SCORE_EMBEDDING_SIZES[0])
    return features.expand(network.layer_1.runs, -1, -1).contiguous()


def score_matching_gradients(network, x, levels, noise, sigmas, features):
    """Compute the denoising score matching loss per run and store its gradients in ``.grad``.

    Parameters
    ----------
    network : BatchedScoreNet
        ``R`` score networks. The ``.grad`` of every parameter that requires
        a gradient is replaced by the gradient of the sum over runs of the
        returned losses.
    x : torch.Tensor, shape (R, B, d)
        Clean samples.
    levels : torch.Tensor of integers, shape (R, B)
        Ladder level of each sample, in ``[0, L)``.
    noise : torch.Tensor, shape (R, B, d)
        Standard normal ``z``. The network's input is ``x + sigmas[levels] z``.
    sigmas : torch.Tensor, shape (L,)
        The ladder, in the dtype of ``x``, which is the network's.
    features : torch.Tensor, shape (R, L, 16)
        :func:`level_features` of ``sigmas``.

    Returns
    -------
    torch.Tensor, shape (R,)
        The loss of each run, ``mean_b (1/2) ||sigma_b s(x_b + sigma_b z_b, sigma_b) + z_b||^2``,
        without an autograd graph.

    Raises
    ------
    TypeError
        When ``network`` is not a :class:`BatchedScoreNet`, an input is not
        a tensor, ``levels`` is not an integer tensor, or ``x``, ``noise``,
        ``sigmas`` or ``features`` does not have the network's dtype.
    ValueError
        When a shape does not match the network or the others, the batch
        is empty, a level lies outside ``[0, L)``, or an input is not on
        the network's device.
    """
    _check_inputs(network, x, levels, noise, sigmas, features)
    # Indexing reads a uint8 tensor as a mask and rejects int16, so the levels are made int64
    # (a no-op for the int64 levels of training).
    with torch.no_grad():
        return _loss_and_gradients(network, x, levels.long(), noise, sigmas, features)


def _loss_and_gradients(network, x, levels, noise, sigmas, features):
    slope = network.negative_slope
    runs, batch, _ = x.shape
    n_levels = features.shape[1]
    hidden_1 = network.layer_1.out_features
    hidden_2 = network.layer_2.out_features
    w_1, b_1 = network.layer_1.weight, network.layer_1.bias
    w_2h, w_2e = network.layer_2.weight[:, :, :hidden_1], network.layer_2.weight[:, :, hidden_1:]
    w_3h, w_3e = network.layer_3.weight[:, :, :hidden_2], network.layer_3.weight[:, :, hidden_2:]

    # Level terms, one row per ladder level.
    u_1 = _affine(network.embed_1.bias, features, network.embed_1.weight)
    e_1 = F.leaky_relu(u_1, slope)
    u_2 = _affine(network.embed_2.bias, e_1, network.embed_2.weight)
    e = F.leaky_relu(u_2, slope)
    level_bias_2 = _affine(network.layer_2.bias, e, w_2e)
    level_bias_3 = _affine(network.layer_3.bias, e, w_3e)

    # Per-sample forward pass. Row r * L + k of a flattened level table belongs to level k of run r.
    rows = levels.reshape(-1)
    if runs > 1:
        rows = (levels + n_levels * torch.arange(runs, device=levels.device).unsqueeze(1)).reshape(-1)
    sigma = sigmas[levels].unsqueeze(-1)
    perturbed = torch.addcmul(x, sigma, noise)
    if perturbed.shape[-1] == 1:
        # A product with one term: the elementwise form skips a slow batched product with K = 1.
        v_1 = torch.addcmul(b_1.unsqueeze(1), perturbed, w_1.transpose(1, 2))
    else:
        v_1 = _affine(b_1, perturbed, w_1)
    h_1 = F.leaky_relu(v_1, slope)
    v_2 = torch.baddbmm(_pick(level_bias_2, rows), h_1, w_2h.transpose(1, 2))
    h_2 = F.leaky_relu(v_2, slope)
    score = torch.baddbmm(_pick(level_bias_3, rows), h_2, w_3h.transpose(1, 2))
    residual = torch.addcmul(noise, sigma, score)
    losses = residual.square().sum((1, 2)) * (0.5 / batch)

    # Backward pass through the per-sample layers.
    g_score = residual * (sigma / batch)
    g_h2 = g_score * w_3h if g_score.shape[-1] == 1 else torch.bmm(g_score, w_3h)
    g_v2 = _leaky_relu_backward(g_h2, v_2, slope, False)
    g_h1 = torch.bmm(g_v2, w_2h)
    g_v1 = _leaky_relu_backward(g_h1, v_1, slope, False)
    g_level_bias_2 = _sum_by_row(g_v2, rows, runs * n_levels).view(runs, n_levels, hidden_2)
    g_level_bias_3 = _sum_by_row(g_score, rows, runs * n_levels).view(runs, n_levels, -1)

    # Backward pass through the level terms.
    g_e = torch.bmm(g_level_bias_2, w_2e).baddbmm_(g_level_bias_3, w_3e)
    g_u2 = _leaky_relu_backward(g_e, u_2, slope, False)
    g_e1 = torch.bmm(g_u2, network.embed_2.weight)
    g_u1 = _leaky_relu_backward(g_e1, u_1, slope, False)

    _store(network.layer_1, g_v1, perturbed)
    _store(network.layer_2, g_v2, h_1, g_level_bias_2, e)
    _store(network.layer_3, g_score, h_2, g_level_bias_3, e)
    _store(network.embed_2, g_u2, e_1)
    _store(network.embed_1, g_u1, features)
    return losses


def _check_inputs(network, x, levels, noise, sigmas, features):
    if not isinstance(network, BatchedScoreNet):
        raise TypeError(f"network must be a BatchedScoreNet, got network of type {type(network).__name__}")
    runs, dim = network.layer_1.runs, network.dim
    dtype, device = network.layer_1.weight.dtype, network.layer_1.weight.device
    for name, value in (("x", x), ("levels", levels), ("noise", noise), ("sigmas", sigmas), ("features", features)):
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {name} of type {type(value).__name__}")
        if value.device != device:
            raise ValueError(f"{name} must be on the network's device {device}, got {name}.device={value.device}")
    for name, value in (("x", x), ("noise", noise), ("sigmas", sigmas), ("features", features)):
        if value.dtype != dtype:
            raise TypeError(f"{name} must have the network's dtype {dtype}, got {name}.dtype={value.dtype}")
    if x.dim() != 3 or x.shape[0] != runs or x.shape[2] != dim or x.shape[1] == 0:
        raise ValueError(f"x must have shape (runs={runs}, batch >= 1, dim={dim}), got x.shape={tuple(x.shape)}")
    if noise.shape != x.shape:
        raise ValueError(f"noise must have the shape of x, {tuple(x.shape)}, got noise.shape={tuple(noise.shape)}")
    if levels.dtype.is_floating_point or levels.dtype.is_complex or levels.dtype == torch.bool:
        raise TypeError(f"levels must be an integer tensor, got levels.dtype={levels.dtype}")
    if levels.shape != x.shape[:2]:
        raise ValueError(f"levels must have shape {tuple(x.shape[:2])}, got levels.shape={tuple(levels.shape)}")
    n_levels = sigmas.shape[0] if sigmas.dim() == 1 else -1
    expected_features = (runs, n_levels, SCORE_EMBEDDING_SIZES[0])
    if n_levels < 1 or features.shape != expected_features:
        raise ValueError(
            f"sigmas must be one-dimensional and features of shape (runs, len(sigmas), "
            f"{SCORE_EMBEDDING_SIZES[0]}), got sigmas.shape={tuple(sigmas.shape)}, "
            f"features.shape={tuple(features.shape)}"
        )
    low, high = (int(value) for value in torch.aminmax(levels))
    if low < 0 or high >= n_levels:
        raise ValueError(f"levels must lie in [0, {n_levels - 1}], got levels from {low} to {high}")


def _affine(bias, inputs, weight):
    return torch.baddbmm(bias.unsqueeze(1), inputs, weight.transpose(1, 2))


def _pick(table, rows):
    """Return ``table[r, levels[r, b]]`` as ``(R, B, width)``, with ``rows`` the flattened indices."""
    runs, n_levels, width = table.shape
    return table.reshape(runs * n_levels, width).index_select(0, rows).view(runs, -1, width)


def _sum_by_row(values, rows, n_rows):
    """Return the sums of the rows of ``values`` (``(R, B, width)``) grouped by ``rows``, shape ``(n_rows, width)``.

    ``index_add_`` is the fast form on CPU. On other devices it may add in
    a varying order (torch lists it among the nondeterministic operations
    on CUDA), so there a product with the one-hot matrix of ``rows`` keeps
    training reproducible.

    NOTE: the one-hot form is tested on CPU only; no GPU has run it yet.
    """
    width = values.shape[-1]
    flat = values.reshape(-1, width)
    if values.device.type == "cpu":
        return values.new_zeros(n_rows, width).index_add_(0, rows, flat)
    return _one_hot_sum(flat, rows, n_rows)


def _one_hot_sum(flat, rows, n_rows):
    one_hot = F.one_hot(rows, n_rows).to(flat.dtype)
    return one_hot.transpose(0, 1) @ flat


def _store(layer, g_output, inputs, g_level_bias=None, level_inputs=None):
    """Set the gradients of a batched linear layer from its output gradient and its input.

    Layers 2 and 3 see ``[h, e]``, so their weight gradient is the
    per-sample part ``g^T h`` beside the per-level part ``g_B^T e``, and
    their bias gradient sums the level gradients (each sample's bias
    reaches it through its level's row).
    """
    weight_grad = torch.bmm(g_output.transpose(1, 2), inputs)
    if g_level_bias is None:
        bias_grad = g_output.sum(1)
    else:
        weight_grad = torch.cat([weight_grad, torch.bmm(g_level_bias.transpose(1, 2), level_inputs)], 2)
        bias_grad = g_level_bias.sum(1)

    # As under autograd, a parameter with requires_grad=False keeps its .grad (normally None, which Adam skips).
    if layer.weight.requires_grad:
        layer.weight.grad = weight_grad
    if layer.bias.requires_grad:
        layer.bias.grad = bias_grad
