"""Train the univariate generative models of Salmona et al., 2022 and sample them.

This optional subpackage needs torch (``pip install isobounds[models]``); the
core ``isobounds`` package never imports it.

Training API (details in :mod:`isobounds_models.training`)::

    from isobounds_models import TrainingConfig, train, mlp_weights

    config = TrainingConfig.profile("quick")           # or "paper"
    trained = train("vae", ms=[1, 4], seeds=[0, 1], config=config,
                    checkpoint_dir="runs/vae", resume=True)
    run = trained.run_index(m=4, seed=0)
    decoder = trained.get_generator(run)   # nn.Sequential(nn.Linear, nn.LeakyReLU, ...)
    layers, slope = mlp_weights(decoder)   # [(W (out, in), b)] as float64 numpy, 0.2
    samples = trained.sample(run, 10_000, seed=1)  # numpy array of shape (10000,)
    trained.history["loss"][run]           # mean loss per epoch

    score_model = train("sgm", ms=[4], seeds=[0], config=config)
    s = score_model.score_fn(0)            # s(x, sigma) for x of shape (..., 1)

Modules: :mod:`~isobounds_models.data` (Gaussian mixtures),
:mod:`~isobounds_models.networks` (architectures, export of one run),
:mod:`~isobounds_models.batched` (batched layers),
:mod:`~isobounds_models.training` (configuration and training loop),
:mod:`~isobounds_models.score_gradients` (the score model's hand-written
training gradient),
:mod:`~isobounds_models.sampling` (Langevin dynamics, differentiable in its
injected noise), :mod:`~isobounds_models.checkpoint` (atomic writes),
:mod:`~isobounds_models.memory` (allocator settings that make CPU training
faster; call ``keep_freed_memory()`` before training from your own script).

References
----------
A. Salmona, V. De Bortoli, J. Delon, A. Desolneux, "Can Push-forward
Generative Models Fit Multimodal Distributions?", NeurIPS 2022.
"""

from isobounds import __version__  # noqa: F401 - the version of the isobounds distribution, which ships this package

from .checkpoint import atomic_save_npz, atomic_torch_save, atomic_write_json, atomic_write_text
from .data import MixtureSpec, make_dataset, sample_gaussian_mixture, two_mode_mixture
from .memory import keep_freed_memory
from .networks import (
    SkipMLP,
    count_parameters,
    depth_hidden_sizes,
    describe_mlp,
    export_mlp,
    mlp_weights,
)
from .sampling import (
    ScoreFunction,
    annealed_langevin,
    geometric_sigmas,
    langevin_noise,
    langevin_step_sizes,
    sample_pushforward,
)
from .training import MODELS, PROFILES, RunSpec, TrainedModels, TrainingConfig, resolve_device, train

__all__ = [
    "MixtureSpec",
    "two_mode_mixture",
    "sample_gaussian_mixture",
    "make_dataset",
    "SkipMLP",
    "count_parameters",
    "depth_hidden_sizes",
    "describe_mlp",
    "export_mlp",
    "mlp_weights",
    "ScoreFunction",
    "annealed_langevin",
    "geometric_sigmas",
    "langevin_noise",
    "langevin_step_sizes",
    "sample_pushforward",
    "MODELS",
    "PROFILES",
    "RunSpec",
    "TrainedModels",
    "TrainingConfig",
    "resolve_device",
    "train",
    "atomic_save_npz",
    "atomic_torch_save",
    "atomic_write_json",
    "atomic_write_text",
    "keep_freed_memory",
]
