"""Batched linear layers: R independent networks evaluated as one.

Every parameter carries a leading run dimension ``R``. A batched layer maps an
input of shape ``(R, B, in)`` to ``(R, B, out)`` with one ``torch.baddbmm``,
so ten tiny networks cost about as much Python overhead as one. Run ``r`` only
ever touches slice ``r`` of each parameter. The gradient of a sum of per-run
losses therefore gives each run the gradient of its own loss, and Adam (an
elementwise update) on the stacked parameters performs the same steps as one
Adam per run.

Each run is initialised from its own ``torch.Generator`` with the default
``torch.nn.Linear`` distribution (weights and biases uniform on
``[-1/sqrt(in), 1/sqrt(in)]``), so run ``r`` starts from the same weights
whether it is trained alone or among others.
"""

import math
from copy import deepcopy

import torch
from torch import nn

__all__ = ["BatchedLinear", "POWER_ITERATIONS_AT_INIT", "select_runs"]

POWER_ITERATIONS_AT_INIT = 15
"""Power iterations run when a spectrally normalised layer is initialised.

The same number as ``torch.nn.utils.parametrizations.spectral_norm`` (torch 2.13).
"""


class BatchedLinear(nn.Module):
    """``R`` affine maps ``x -> W_r x + b_r``, optionally spectrally normalised.

    Parameters
    ----------
    runs : int
        Number of independent runs ``R``.
    in_features, out_features : int
        Layer shape; ``weight`` has shape ``(R, out_features, in_features)``
        (the ``torch.nn.Linear`` layout per run) and ``bias`` ``(R, out_features)``.
    spectral_norm : bool
        Divide each run's weight by an estimate of its largest singular value
        (Miyato et al., 2018). The estimate comes from one power iteration per
        forward pass in training mode. Evaluation mode reuses the stored
        vectors ``u``, ``v``, as ``torch.nn.utils.parametrizations.spectral_norm`` does.
    """

    def __init__(self, runs, in_features, out_features, spectral_norm=False):
        super().__init__()
        self.runs = runs
        self.in_features = in_features
        self.out_features = out_features
        self.spectral_norm = spectral_norm
        self.weight = nn.Parameter(torch.empty(runs, out_features, in_features))
        self.bias = nn.Parameter(torch.empty(runs, out_features))
        if spectral_norm:
            self.register_buffer("sn_u", torch.empty(runs, out_features))
            self.register_buffer("sn_v", torch.empty(runs, in_features))

    def reset_parameters(self, generators):
        """Initialise run ``r`` from ``generators[r]`` (CPU ``torch.Generator``)."""
        bound = 1.0 / math.sqrt(self.in_features)
        with torch.no_grad():
            for r, generator in enumerate(generators):
                weight = torch.empty(self.out_features, self.in_features).uniform_(-bound, bound, generator=generator)
                bias = torch.empty(self.out_features).uniform_(-bound, bound, generator=generator)
                self.weight[r].copy_(weight)
                self.bias[r].copy_(bias)
                if self.spectral_norm:
                    self.sn_u[r].copy_(_normalize(torch.randn(self.out_features, generator=generator)))
                    self.sn_v[r].copy_(_normalize(torch.randn(self.in_features, generator=generator)))
            for _ in range(POWER_ITERATIONS_AT_INIT if self.spectral_norm else 0):
                self._power_iteration()

    def effective_weight(self):
        """Return the forward-pass weight ``(R, out, in)``: ``W / sigma(W)`` under spectral normalisation."""
        if not self.spectral_norm:
            return self.weight
        if self.training:
            with torch.no_grad():
                self._power_iteration()
        # Clones keep this forward's u, v intact for backward if a later forward updates the buffers.
        weight_v = torch.bmm(self.weight, self.sn_v.clone().unsqueeze(2)).squeeze(2)
        sigma = (self.sn_u.clone() * weight_v).sum(-1)
        return self.weight / sigma[:, None, None]

    def forward(self, x):
        """Map ``x`` of shape ``(R, B, in)`` to ``(R, B, out)``."""
        weight = self.effective_weight()
        return torch.baddbmm(self.bias.unsqueeze(1), x, weight.transpose(1, 2))

    def _power_iteration(self):
        weight = self.weight.detach()
        v = _normalize(torch.bmm(self.sn_u.unsqueeze(1), weight).squeeze(1))
        u = _normalize(torch.bmm(weight, v.unsqueeze(2)).squeeze(2))
        self.sn_v.copy_(v)
        self.sn_u.copy_(u)

    def extra_repr(self):
        return (
            f"runs={self.runs}, in_features={self.in_features}, out_features={self.out_features}, "
            f"spectral_norm={self.spectral_norm}"
        )


def _normalize(x, eps=1e-12):
    return x / x.norm(dim=-1, keepdim=True).clamp_min(eps)


def select_runs(module, indices):
    """Return a copy of a batched ``module`` keeping only the runs ``indices``, in that order.

    Every :class:`BatchedLinear` inside is sliced along its run dimension
    (parameters and spectral-normalisation vectors); other attributes named
    ``runs`` are updated. The copy is on the device of ``module``.
    """
    indices = [int(i) for i in indices]
    copy = deepcopy(module)
    with torch.no_grad():
        for submodule in copy.modules():
            if isinstance(submodule, BatchedLinear):
                submodule.weight = nn.Parameter(submodule.weight[indices].clone())
                submodule.bias = nn.Parameter(submodule.bias[indices].clone())
                if submodule.spectral_norm:
                    submodule.sn_u = submodule.sn_u[indices].clone()
                    submodule.sn_v = submodule.sn_v[indices].clone()
            if hasattr(submodule, "runs"):
                submodule.runs = len(indices)
    return copy
