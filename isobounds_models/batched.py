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

import numpy as np
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
        Both hold NaN until :meth:`reset_parameters` (or ``load_state_dict``)
        sets them.
    spectral_norm : bool
        Divide each run's weight by an estimate of its largest singular value
        (Miyato et al., 2018). The estimate comes from one power iteration per
        forward pass in training mode. Evaluation mode reuses the stored
        vectors ``u``, ``v``, as ``torch.nn.utils.parametrizations.spectral_norm`` does.
    """

    def __init__(self, runs, in_features, out_features, spectral_norm=False):
        super().__init__()
        self.runs = check_size("runs", runs)
        self.in_features = check_size("in_features", in_features)
        self.out_features = check_size("out_features", out_features)
        if not isinstance(spectral_norm, (bool, np.bool_)):
            # A string such as "false" would otherwise switch the normalisation on.
            raise TypeError(f"spectral_norm must be a bool, got spectral_norm={spectral_norm!r} of type "
                            f"{type(spectral_norm).__name__}")
        self.spectral_norm = bool(spectral_norm)
        # NaN until reset_parameters or load_state_dict fills them, so that a network used
        # before either gives NaN outputs instead of whatever memory torch.empty returned.
        nan = math.nan
        self.weight = nn.Parameter(torch.full((self.runs, self.out_features, self.in_features), nan))
        self.bias = nn.Parameter(torch.full((self.runs, self.out_features), nan))
        if self.spectral_norm:
            self.register_buffer("sn_u", torch.full((self.runs, self.out_features), nan))
            self.register_buffer("sn_v", torch.full((self.runs, self.in_features), nan))

    def reset_parameters(self, generators):
        """Initialise run ``r`` from ``generators[r]`` (CPU ``torch.Generator``), one generator per run."""
        check_generators(generators, self.runs)
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


def check_size(name, value):
    """Return ``value`` as an int; raise TypeError unless an integer, ValueError unless positive."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be a positive integer, got {name}={value!r} of type {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {name}={value}")
    return int(value)


def check_run_index(run, runs, name="run"):
    """Return ``run`` as an int; raise TypeError unless an integer, ValueError unless in ``[0, runs - 1]``.

    A negative index is rejected rather than counted from the end, and a
    float such as ``1.5`` rather than truncated, so that no call silently
    reads another run.
    """
    if isinstance(run, bool) or not isinstance(run, (int, np.integer)):
        raise TypeError(f"{name} must be an integer index in [0, {runs - 1}], got {name}={run!r} of type "
                        f"{type(run).__name__}")
    if not 0 <= run < runs:
        raise ValueError(f"{name} must be an index in [0, {runs - 1}], got {name}={run}")
    return int(run)


def check_generators(generators, runs):
    """Raise ValueError unless ``generators`` contains one ``torch.Generator`` per run.

    With fewer generators than runs, the runs without one would keep the
    uninitialised memory of ``torch.empty`` as weights.
    """
    generators = list(generators)
    if len(generators) != runs:
        raise ValueError(f"generators must hold one torch.Generator per run, {runs} in all, got "
                         f"{len(generators)} generators")
    for index, generator in enumerate(generators):
        if not isinstance(generator, torch.Generator):
            raise TypeError(f"generators must hold torch.Generator objects, got a {type(generator).__name__} "
                            f"at index {index}")


def select_runs(module, indices):
    """Return a copy of a batched ``module`` keeping only the runs ``indices``, in that order.

    Every :class:`BatchedLinear` inside is sliced along its run dimension
    (parameters and spectral-normalisation vectors); other attributes named
    ``runs`` are updated. The copy is on the device of ``module``.

    Raises ``ValueError`` when ``indices`` is empty or an index lies outside
    ``[0, R - 1]`` (``R`` the runs of ``module``), ``TypeError`` when one is
    not an integer.
    """
    runs = _module_runs(module)
    indices = list(indices)
    if not indices:
        raise ValueError("indices must name at least one run, got indices=[]")
    indices = [check_run_index(index, runs, f"indices[{position}]") for position, index in enumerate(indices)]
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


def _module_runs(module):
    """Return the number of runs of the first :class:`BatchedLinear` in ``module``."""
    for submodule in module.modules():
        if isinstance(submodule, BatchedLinear):
            return submodule.runs
    raise TypeError(f"module must contain a BatchedLinear layer, got module of type {type(module).__name__}")
