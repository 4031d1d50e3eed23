"""Batched training of the univariate VAE, GAN and score model.

Public entry point: :func:`train`. It trains one model kind for every pair
``(m, seed)`` at once, as one batched network with a leading run dimension,
and returns a :class:`TrainedModels`::

    from isobounds_models import TrainingConfig, train

    config = TrainingConfig.profile("quick")
    trained = train("gan", ms=[2, 5], seeds=[0, 1], config=config)
    run = trained.run_index(m=5, seed=1)
    g = trained.get_generator(run)         # nn.Sequential of nn.Linear + nn.LeakyReLU
    x = trained.sample(run, 10_000, seed=0)  # numpy array, shape (10000,)
    trained.history["generator"][run]      # mean generator loss per epoch

Independence of the runs. Run ``r`` has its own data set, its own initial
weights and its own training randomness (shuffling, latent draws, noise
levels), each from a ``torch.Generator`` seeded from ``(seed, m, model,
stream)``. The batched loss is the sum of the per-run mean losses, so run
``r`` receives exactly the gradient of its own loss, and Adam, being
elementwise, updates it as a separate Adam would. A run trained among others
and the run trained alone therefore differ only by the float rounding of the
batched matrix products, but training amplifies that rounding. Adam moves a
weight by about ``lr`` per step whatever the size of its gradient, so where
a gradient is about 0 its sign follows the rounding, and adversarial
training then spreads the difference. Measured for the GAN on the CPU with
one thread (run ``m = 2``, seed 1, batched with ``m = 0`` and ``m = 5``, 400
samples in batches of 100, ``lr = 1e-3``), the relative norm of the
difference of the most affected weight or bias tensor was about 1e-3 after
8 steps and 0.3 after 36 steps with ``gan_loss="bce"``, and about 1e-2 and
0.3 with ``gan_loss="hinge"``, whose gradient vanishes outside its margin. So a batched run is the same
training as the run alone, but not the same trajectory beyond the first
steps, and ``test_batched_run_equals_run_alone`` compares 8 steps of the
default loss. Trained in float64 (``torch.set_default_dtype``, with the data
converted), a batched run and the run alone agree to a relative 1e-14 after
24 steps of each model (``test_batched_run_equals_run_alone_in_float64``),
so the float32 differences are rounding, not runs that share data or
randomness.

Determinism and resume. All randomness is drawn on the CPU from those
generators, so a run is determined by its seed on a given machine, torch
build and number of CPU threads (the matrix products may round differently
with another thread count). Checkpoints are written atomically every ``config.checkpoint_every``
epochs and at the end. They contain the model, optimizer and generator
states. With ``resume=True`` training continues from the last checkpoint and
gives the same weights as an uninterrupted run, bit for bit on the CPU
(tested). Without it, a folder that already contains a checkpoint raises
``ValueError`` before any training, unless ``overwrite=True`` allows replacing it.

Losses (one value per run and step, averaged over the batch):

- VAE: negative ELBO up to the constant ``d log(c sqrt(2 pi))``,
  ``||x - f(z)||^2 / (2 c^2) + (1/2) sum(mu^2 + sigma^2 - log sigma^2 - 1)``
  with ``z = mu + sigma eps`` and ``sigma^2 = exp(log_var)``;
- GAN, ``gan_loss="bce"``: discriminator ``-log D(x) - log(1 - D(g(z)))``,
  generator ``-log D(g(z))`` (the usual non-saturating form of the vanilla
  loss); ``gan_loss="hinge"``: discriminator ``relu(1 - D(x)) + relu(1 + D(g(z)))``,
  generator ``-D(g(z))``. One discriminator step, then one generator step,
  per batch;
- score model: denoising score matching weighted by ``sigma^2``,
  ``(1/2) sigma^2 ||s(x + sigma z, sigma) + z / sigma||^2``, with the level
  drawn uniformly among the ``n_levels`` geometric levels for each sample.
  Its gradient is computed by hand (:mod:`isobounds_models.score_gradients`),
  which is faster than autograd on CPU.

Optional generator gradient penalty (GAN, ``gradient_penalty_lip = L``),
added to the generator loss, with the maximum over the batch's latent draws:

- ``gradient_penalty_form="norm"`` (default): ``(max_z ||grad g(z)|| - L)^2``,
  the form of the authors' public code;
- ``gradient_penalty_form="squared"``:
  ``(10 / L^2) max_z (||grad g(z)||^2 - L)^2``, the form written in
  Salmona et al., 2022 (appendix S5.1).

The paper reports generators with ``Lip(g)`` close to the target ``L``, which
only the ``"norm"`` form gives. The written form pulls the squared slope
``||grad g||^2`` towards ``L``, so the Lipschitz constant towards ``sqrt(L)``.
Measured with the quick profile at ``m = 5`` (exact constants of the trained
generators), targets 5, 15 and 25 gave 5.08, 15.3 and 25.2 with ``"norm"``
and 2.41, 4.05 and 5.40 with ``"squared"``.

References
----------
A. Salmona, V. De Bortoli, J. Delon, A. Desolneux, "Can Push-forward
Generative Models Fit Multimodal Distributions?", NeurIPS 2022.
"""

import dataclasses
import logging
import struct
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F
from tqdm.auto import tqdm

from isobounds._validation import check_positive

from . import checkpoint as _checkpoint
from .batched import select_runs
from .data import _check_count, _check_m, _check_seed, as_generator, make_dataset
from .networks import (
    BACKBONE_HIDDEN,
    GENERATOR_HIDDEN,
    NEGATIVE_SLOPE,
    SKIP_KINDS,
    SKIP_REQUIREMENTS,
    BatchedMLP,
    BatchedScoreNet,
    BatchedVAE,
    DISCRIMINATOR_HIDDEN,
    export_mlp,
    skip_is_placeable,
)
from .resume import _skip_placed_nothing, check_compatible, check_requested_epochs, check_resumable
from .sampling import ScoreFunction, annealed_langevin, geometric_sigmas
from .score_gradients import level_features, score_matching_gradients

__all__ = [
    "MODELS",
    "PROFILES",
    "TrainingConfig",
    "RunSpec",
    "TrainedModels",
    "train",
    "resolve_device",
    "vae_loss_terms",
    "denoising_score_matching_loss",
    "generator_gradient_penalty",
]

logger = logging.getLogger(__name__)

MODELS = ("vae", "gan", "sgm")
PROFILES = ("quick", "paper")
GAN_LOSSES = ("bce", "hinge")
PENALTY_FORMS = ("norm", "squared")
_STREAM_DATA, _STREAM_INIT, _STREAM_TRAIN, _STREAM_SAMPLE = range(4)


@dataclass(frozen=True)
class TrainingConfig:
    """Settings of one training (all runs of one model kind share them).

    Defaults are the appendix settings of Salmona et al., 2022 (S5.1); use
    :meth:`profile` for the ``quick`` and ``paper`` profiles.

    Attributes
    ----------
    epochs : int
        Passes over the data set (400 in the paper).
    batch_size : int
        Samples per step (1000); a last partial batch is kept.
    n_samples : int
        Training set size per run (50,000, so 50 steps per epoch).
    lr : float
        Adam learning rate (1e-4) for every network.
    beta1, beta2 : float
        Adam coefficients. The paper gives ``beta1 = 0.9`` ("momentum") and no
        ``beta2``, which we read as Adam's default 0.999 for all three models,
        the GAN included.
    ms, seeds : tuple
        Values of ``m`` and seeds trained by :func:`train` when it is given
        none. The configuration stored with trained models lists the values
        actually trained.
    dim, latent_dim : int
        Data dimension ``d`` and latent dimension ``p`` (1 and 1).
    generator_hidden : tuple of int
        Hidden widths of the GAN generator and VAE decoder ((128, 256)), at
        least one.
    generator_skip : {"plain", "resnet", "densenet"}
        Skip wiring of the generator / decoder. A resnet needs two
        consecutive hidden layers of equal width and a densenet two hidden
        layers, such as the backbone ``(256, 256, 256)``.
    generator_spectral_norm : bool
        Spectrally normalise the generator / decoder.
    gradient_penalty_lip : float or None
        Target ``L`` of the GAN generator gradient penalty, ``None`` for none.
    gradient_penalty_form : {"norm", "squared"}
        Penalty formula (module docstring); ``"norm"`` reaches the target ``L``.
    vae_c : float
        Standard deviation ``c`` of the VAE decoder (0.1).
    gan_loss : {"bce", "hinge"}
        Adversarial loss.
    sigma_max, sigma_min, n_levels : float, float, int
        Geometric noise ladder of the score model (1, 0.01, 10), with
        ``0 < sigma_min < sigma_max``.
    steps_per_level, langevin_eps : int, float
        Annealed Langevin schedule (100 steps per level, ``eps = 2e-5``).
    negative_slope : float
        LeakyReLU slope (0.2).
    device : {"auto", "cpu", "cuda"} or str
        ``auto`` picks CUDA when available. Any ``torch.device`` string works.
    checkpoint_every : int
        Epochs between checkpoints when a checkpoint folder is given.
    name : str
        Profile name, recorded in results.
    """

    epochs: int = 400
    batch_size: int = 1000
    n_samples: int = 50_000
    lr: float = 1e-4
    beta1: float = 0.9
    beta2: float = 0.999
    ms: tuple = tuple(float(m) for m in range(11))
    seeds: tuple = tuple(range(10))
    dim: int = 1
    latent_dim: int = 1
    generator_hidden: tuple = GENERATOR_HIDDEN
    generator_skip: str = "plain"
    generator_spectral_norm: bool = False
    gradient_penalty_lip: object = None
    gradient_penalty_form: str = "norm"
    vae_c: float = 0.1
    gan_loss: str = "bce"
    sigma_max: float = 1.0
    sigma_min: float = 0.01
    n_levels: int = 10
    steps_per_level: int = 100
    langevin_eps: float = 2e-5
    negative_slope: float = NEGATIVE_SLOPE
    device: str = "auto"
    checkpoint_every: int = 10
    name: str = "paper"

    def __post_init__(self):
        for name in ("epochs", "batch_size", "n_samples", "dim", "latent_dim", "n_levels",
                     "steps_per_level", "checkpoint_every"):
            _check_count(name, getattr(self, name))
        for name in ("lr", "vae_c", "sigma_max", "sigma_min", "langevin_eps", "negative_slope"):
            check_positive(name, getattr(self, name))
        if not self.sigma_min < self.sigma_max:
            raise ValueError(f"noise levels must satisfy 0 < sigma_min < sigma_max < inf, got "
                             f"sigma_min={self.sigma_min}, sigma_max={self.sigma_max}")
        for name in ("beta1", "beta2"):
            value = getattr(self, name)
            if not 0 <= value < 1:
                raise ValueError(f"{name} must be in [0, 1), got {name}={value}")
        if not isinstance(self.generator_spectral_norm, (bool, np.bool_)):
            # A string such as "false" is truthy, so it would switch the normalisation on.
            raise TypeError(f"generator_spectral_norm must be a bool, got "
                            f"generator_spectral_norm={self.generator_spectral_norm!r}")
        object.__setattr__(self, "generator_spectral_norm", bool(self.generator_spectral_norm))
        _check_choice("generator_skip", self.generator_skip, SKIP_KINDS)
        _check_choice("gan_loss", self.gan_loss, GAN_LOSSES)
        _check_choice("gradient_penalty_form", self.gradient_penalty_form, PENALTY_FORMS)
        if self.gradient_penalty_lip is not None:
            check_positive("gradient_penalty_lip", self.gradient_penalty_lip)
        object.__setattr__(self, "ms", tuple(_check_m(m) for m in self.ms))
        object.__setattr__(self, "seeds", tuple(_check_seed(s) for s in self.seeds))
        object.__setattr__(self, "generator_hidden", _check_widths("generator_hidden", self.generator_hidden))
        _check_skip_placeable(self.generator_hidden, self.generator_skip)
        resolve_device(self.device)

    @classmethod
    def profile(cls, name, **overrides):
        """Return the ``quick`` or ``paper`` configuration, with fields replaced by ``overrides``.

        ``paper``: the appendix settings (400 epochs, batch 1000, 50,000
        samples, Adam lr 1e-4), ``m = 0..10``, 10 seeds; meant for a GPU.

        ``quick``: ``m in (1, 4, 7, 10)``, one seed, 20 epochs of 20,000
        samples in batches of 200 (2,000 steps) at lr 2.5e-4, and Langevin
        sampling with 50 steps per level at ``eps = 4e-5``. The architectures
        and losses are the paper's. Training takes a tenth of the paper's
        20,000 steps at 2.5 times its learning rate, so the three models
        train in a few minutes on two CPU cores. The Langevin schedule keeps
        the paper's ``a_k / sigma_k^2 x steps = 20`` per level with half the
        steps. Measured with this profile and seed 0 at ``m = 10`` (mass in
        ``[-5, 5]``, target 3e-7): VAE 0.66, GAN 0.05 with mode weights
        0.42 / 0.58 and modes narrower than the target's, score model
        under 0.01. The VAE is still spreading out after 2,000 steps
        (its 5% and 95% quantiles are -7.8 and 8.3, the target's -11.3 and
        11.3), so part of its mass between the modes is undertraining. A GAN
        lr of 1e-3 made the generator oscillate across tens of units, and
        1e-4 dropped a mode at ``m = 10``.
        """
        if name == "paper":
            base = cls()
        elif name == "quick":
            base = cls(
                epochs=20, batch_size=200, n_samples=20_000, lr=2.5e-4, ms=(1.0, 4.0, 7.0, 10.0), seeds=(0,),
                steps_per_level=50, langevin_eps=4e-5, checkpoint_every=5, name="quick",
            )
        else:
            raise ValueError(f"profile name must be one of {PROFILES}, got name={name!r}")
        return dataclasses.replace(base, **overrides)

    def to_dict(self):
        """Return the configuration as a JSON-serialisable dictionary."""
        return {key: list(value) if isinstance(value, tuple) else value
                for key, value in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, values):
        """Rebuild a configuration from :meth:`to_dict` output.

        A configuration saved by an earlier version with a ``generator_skip``
        that placed no skip connection, such as ``"resnet"`` with the widths
        ``(128, 256)``, trained a plain network. It is read as ``"plain"``,
        with a warning.
        """
        values = {key: tuple(value) if isinstance(value, list) else value for key, value in values.items()}
        skip, hidden = values.get("generator_skip", "plain"), values.get("generator_hidden", GENERATOR_HIDDEN)
        if _skip_placed_nothing(skip, hidden):
            warnings.warn(f"generator_skip={skip!r} placed no skip connection with generator_hidden={hidden}, so "
                          "the network is a plain MLP; reading the configuration with generator_skip='plain'",
                          UserWarning, stacklevel=2)
            values["generator_skip"] = "plain"
        return cls(**values)

    def sigmas(self):
        """Return the score model's noise levels (float64 tensor, decreasing)."""
        return geometric_sigmas(self.sigma_max, self.sigma_min, self.n_levels)


@dataclass(frozen=True)
class RunSpec:
    """One run: its index in the batch, its ``m`` and its seed."""

    index: int
    m: float
    seed: int


def resolve_device(device):
    """Return the ``torch.device`` for ``"auto"``, ``"cpu"``, ``"cuda"`` or a ``torch.device`` string.

    Raises ``ValueError`` for an unknown device name or for CUDA when torch finds
    no CUDA device.
    """
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(
            f"device must be 'auto', 'cpu', 'cuda' or a torch device string, got device={device!r}"
        ) from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was requested but torch finds no CUDA device; use device='cpu' or 'auto'")
    if resolved.type not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda', got device={device!r}")
    return resolved


@dataclass
class TrainedModels:
    """Trained runs of one model kind, with their loss histories and configuration.

    Attributes
    ----------
    model : {"vae", "gan", "sgm"}
    config : TrainingConfig
    runs : list of RunSpec
        In ``m``-major order: ``[(m_0, seed_0), (m_0, seed_1), ..., (m_1, seed_0), ...]``.
    epochs_completed : int
    history : dict of str to numpy.ndarray
        Mean loss per run and epoch, shape ``(R, epochs_completed)``. Keys:
        ``"loss"`` (VAE, score model), ``"discriminator"`` and ``"generator"``
        (GAN; ``"generator"`` includes the gradient penalty, also reported
        alone as ``"penalty"`` when it is on).
    networks : dict of str to torch.nn.Module
        The batched networks (``"vae"``; ``"generator"`` and
        ``"discriminator"``; ``"score"``).
    """

    model: str
    config: TrainingConfig
    runs: list
    epochs_completed: int
    history: dict
    networks: dict = field(repr=False)

    def run_index(self, m, seed):
        """Return the index of the run with this ``m`` and ``seed``."""
        for run in self.runs:
            if run.m == float(m) and run.seed == seed:
                return run.index
        available = [(run.m, run.seed) for run in self.runs]
        raise ValueError(f"no run with m={m}, seed={seed}; available (m, seed) pairs: {available}")

    def get_generator(self, run):
        """Return run ``run``'s GAN generator or VAE decoder mean as a plain float32 CPU ``nn.Module``.

        A plain MLP comes back as ``nn.Sequential`` of ``nn.Linear`` and
        ``nn.LeakyReLU`` (read it with :func:`~isobounds_models.networks.mlp_weights`),
        a resnet or densenet generator as a
        :class:`~isobounds_models.networks.SkipMLP`
        (:func:`~isobounds_models.networks.describe_mlp`). Spectral
        normalisation is folded into the weights.
        """
        run = self._check_run(run)
        if self.model == "sgm":
            raise ValueError("model='sgm' has no generator network; use score_fn(run) or sample(run, n, seed)")
        return export_mlp(self._generator_mlp(), run)

    def score_fn(self, run):
        """Return run ``run``'s score ``s(x, sigma)`` as a :class:`~isobounds_models.sampling.ScoreFunction`.

        It maps a tensor ``x`` of shape ``(..., d)`` on ``self.device`` to a tensor of
        the same shape, differentiably; ``sigma`` is a float.
        """
        run = self._check_run(run)
        if self.model != "sgm":
            raise ValueError(f"score_fn needs model='sgm', got model={self.model!r}; use get_generator(run)")
        return ScoreFunction(self.networks["score"].select_run(run))

    def langevin_sampler(self, run):
        """Return run ``run``'s annealed Langevin sampler as a function ``(x0, noise) -> x_N``.

        The schedule is the configuration's (``sigmas()``, ``steps_per_level``,
        ``langevin_eps``). ``x0`` has shape ``(..., d)`` and ``noise`` shape
        ``(N, ..., d)`` with ``N = n_levels * steps_per_level``; both on
        ``self.device``. The function is differentiable in both arguments
        (``torch.func.jacrev`` / ``jvp``), see
        :func:`~isobounds_models.sampling.annealed_langevin`.
        """
        score = self.score_fn(run)
        sigmas = self.config.sigmas()

        def sampler(x0, noise):
            return annealed_langevin(score, x0, sigmas, self.config.steps_per_level, self.config.langevin_eps,
                                     noise=noise)

        return sampler

    @property
    def device(self):
        """Device of the trained networks."""
        return next(next(iter(self.networks.values())).parameters()).device

    def sample(self, run, n, seed=None):
        """Draw ``n`` samples of run ``run``: ``g(z)`` for GAN / VAE, annealed Langevin for the score model.

        Returns a float64 numpy array of shape ``(n,)`` for ``dim = 1`` and
        ``(n, dim)`` otherwise. ``seed`` (int or ``torch.Generator``) fixes the
        draw; ``None`` uses a seed derived from the run.
        """
        run = self._check_run(run)
        return self.sample_all(n, seed if seed is not None else self._sample_seed(run), runs=[run])[0]

    def sample_all(self, n, seed=0, runs=None, progress=False):
        """Draw ``n`` samples of each run in ``runs`` (default all) in one batched pass.

        Returns a float64 numpy array of shape ``(len(runs), n)`` for ``dim = 1``
        and ``(len(runs), n, dim)`` otherwise. The latent draws (and the
        Langevin noise) come from one generator seeded with ``seed``, drawn
        for all selected runs at once, so ``sample(run, n, seed)`` equals
        ``sample_all(n, seed, runs=[run])[0]``. ``seed`` may also be a
        ``torch.Generator``, or ``None`` to draw from torch's global generator
        (``torch.manual_seed`` fixes it).

        Each position in ``runs`` gets its own rows of the draw, so the runs
        of one call are sampled independently of each other. A run's draw
        depends on the whole selection, so ``sample_all(n, seed)[r]``
        generally differs from ``sample(r, n, seed)``. Separate calls with
        one ``seed`` and one selected run each, as ``sample(run, n, seed)``
        makes them, give every run the same draw (common random numbers), so
        estimates from those samples have sampling errors that are correlated
        across runs.
        """
        n = _check_count("n", n)
        runs = [self._check_run(r) for r in (range(len(self.runs)) if runs is None else runs)]
        width = self.config.dim if self.model == "sgm" else self.config.latent_dim
        generator = as_generator(seed)
        x0 = torch.randn((len(runs), n, width), generator=generator).to(self.device)
        with torch.no_grad():
            if self.model == "sgm":
                score = ScoreFunction(select_runs(self.networks["score"], runs).eval())
                samples = annealed_langevin(score, x0, self.config.sigmas(), self.config.steps_per_level,
                                            self.config.langevin_eps, generator=generator, progress=progress)
            else:
                samples = select_runs(self._generator_mlp(), runs).eval()(x0)
        array = samples.double().cpu().numpy()
        return array[..., 0] if self.config.dim == 1 else array

    def loss_history(self, run):
        """Return ``{name: mean loss per epoch}`` of run ``run`` (numpy arrays)."""
        run = self._check_run(run)
        return {name: values[run].copy() for name, values in self.history.items()}

    def save(self, folder):
        """Write the networks and histories to ``folder/checkpoint.pt`` atomically (reload with :meth:`load`).

        The file has no optimizer or generator states, so :func:`train` cannot
        resume from it; do not save into a training checkpoint folder.
        """
        _checkpoint.save_checkpoint(folder, _training_state(self, optimizers=None, generators=None))

    @classmethod
    def load(cls, folder, device="cpu"):
        """Load models written by :meth:`save` or by :func:`train` with a checkpoint folder."""
        state = _checkpoint.load_checkpoint(folder)
        if state is None:
            raise ValueError(
                f"{_checkpoint.CHECKPOINT_NAME} not found in folder={str(folder)!r}; "
                "write it with TrainedModels.save or train(..., checkpoint_dir=folder)"
            )
        device = resolve_device(device)
        with _checkpoint.reading_state(folder):
            config = dataclasses.replace(TrainingConfig.from_dict(state["config"]), device=str(device))
            runs = [RunSpec(i, m, seed) for i, (m, seed) in enumerate(state["runs"])]
            task = _TASKS[_check_choice("model", state["model"], MODELS)](config, len(runs), device)
            task.load_state_dict(state["networks"])
            history = {name: values.numpy() for name, values in state["history"].items()}
            _check_finite_weights(task.networks)
        return cls(state["model"], config, runs, state["epoch"], history, task.networks)

    def _generator_mlp(self):
        if self.model == "vae":
            return self.networks["vae"].decoder
        return self.networks["generator"]

    def _sample_seed(self, run):
        spec = self.runs[run]
        return _derive_seed(spec.seed, spec.m, self.model, _STREAM_SAMPLE)

    def _check_run(self, run):
        if isinstance(run, RunSpec):
            run = run.index
        if isinstance(run, bool) or not isinstance(run, (int, np.integer)) or not 0 <= run < len(self.runs):
            raise ValueError(f"run must be an index in [0, {len(self.runs) - 1}], got run={run!r}")
        return int(run)


def train(model, ms=None, seeds=None, config=None, checkpoint_dir=None, resume=False, progress=True,
          callback=None, overwrite=False):
    """Train ``model`` for every pair ``(m, seed)`` as one batched model.

    Parameters
    ----------
    model : {"vae", "gan", "sgm"}
        Gaussian VAE, GAN, or score model (module docstring).
    ms : sequence of float, optional
        Half distances ``m >= 0`` of the targets ``(1/2)[N(-m, 1) + N(m, 1)]``;
        default ``config.ms``.
    seeds : sequence of int, optional
        Seeds ``>= 0``; default ``config.seeds``. One run per ``(m, seed)``.
    config : TrainingConfig, optional
        Default ``TrainingConfig.profile("quick")``.
    checkpoint_dir : str or Path, optional
        Folder for ``checkpoint.pt``, written every ``config.checkpoint_every``
        epochs and at the end. ``None`` writes nothing. A folder that already
        contains a ``checkpoint.pt`` needs ``resume=True`` or ``overwrite=True``.
    resume : bool
        Continue from ``checkpoint_dir``'s checkpoint when there is one. The
        checkpoint must come from the same model, runs and configuration
        (``epochs``, ``device`` and ``checkpoint_every`` may differ, so a run can
        be extended).
    progress : bool
        Show a tqdm bar over epochs.
    callback : callable, optional
        ``callback(epoch, trained)`` after every epoch (``epoch`` counts from
        1), before that epoch's checkpoint is written. ``trained`` is a live
        :class:`TrainedModels` (copy what you need).
    overwrite : bool
        Train from scratch even when ``checkpoint_dir`` already contains a
        checkpoint. The first checkpoint of this training replaces it, so
        until then the old file stays and ``resume=True`` would continue it.
        Without ``overwrite``, such a folder raises ``ValueError``, as the
        command line does without ``--resume``. Cannot be combined with
        ``resume=True``.

    Returns
    -------
    TrainedModels

    Raises
    ------
    ValueError
        For invalid arguments, or a ``checkpoint_dir`` that is a file. Also
        when ``checkpoint_dir`` already contains a checkpoint and neither
        ``resume`` nor ``overwrite`` is set, or when the checkpoint cannot be
        resumed (another model, other runs or settings, more epochs than
        requested).
    FloatingPointError
        When an epoch ends with a non-finite loss or weight in any run (the
        training diverged). The message names the runs ``(m, seed)`` and the
        epoch; that epoch is not written to the checkpoint.
    """
    _check_choice("model", model, MODELS)
    config = TrainingConfig.profile("quick") if config is None else config
    if not isinstance(config, TrainingConfig):
        raise TypeError(f"config must be a TrainingConfig, got config of type {type(config).__name__}")
    for name, flag in (("resume", resume), ("overwrite", overwrite)):
        if not isinstance(flag, (bool, np.bool_)):
            # A string such as "false" is truthy, so it would resume or overwrite.
            raise TypeError(f"{name} must be a bool, got {name}={flag!r} of type {type(flag).__name__}")
    if resume and checkpoint_dir is None:
        raise ValueError("resume=True needs a checkpoint_dir, got checkpoint_dir=None")
    if resume and overwrite:
        raise ValueError("resume=True and overwrite=True exclude each other, because resume continues the checkpoint "
                         "in checkpoint_dir and overwrite replaces it with a new training; pass only one of them")
    if checkpoint_dir is not None:
        _check_checkpoint_folder(checkpoint_dir, resume, overwrite)
    runs = _make_runs(config.ms if ms is None else ms, config.seeds if seeds is None else seeds)
    config = dataclasses.replace(config, ms=tuple(dict.fromkeys(run.m for run in runs)),
                                 seeds=tuple(dict.fromkeys(run.seed for run in runs)))
    device = resolve_device(config.device)

    data = _stack_datasets(model, runs, config).to(device)
    task = _TASKS[model](config, len(runs), device)
    task.reset_parameters([_seeded(run, model, _STREAM_INIT) for run in runs])
    train_generators = [_seeded(run, model, _STREAM_TRAIN) for run in runs]
    history = {name: [] for name in task.loss_names}
    trained = TrainedModels(model, config, runs, 0, {}, task.networks)

    start = 0
    if resume:
        start = _restore(checkpoint_dir, model, runs, config, task, train_generators, history)
    # Without a progress bar (standard error not a terminal), log lines show that the run advances.
    logger.info("training %s: %d run(s) on %s, %d of %d epochs to go", model, len(runs), device,
                config.epochs - start, config.epochs)
    for epoch in tqdm(range(start, config.epochs), desc=f"train {model}", disable=not progress,
                      initial=start, total=config.epochs):
        epoch_losses = _train_epoch(task, data, train_generators, config)
        _check_finite(model, runs, epoch + 1, epoch_losses, task.networks, config.lr)
        for name, values in epoch_losses.items():
            history[name].append(values)
        trained.epochs_completed = epoch + 1
        trained.history = _history_arrays(history, len(runs))
        # The callback runs before the checkpoint is written, so what it records is never behind the
        # checkpoint, whenever the process is killed.
        if callback is not None:
            callback(epoch + 1, trained)
        if epoch + 1 == config.epochs or (epoch + 1) % config.checkpoint_every == 0:
            if checkpoint_dir is not None:
                _checkpoint.save_checkpoint(checkpoint_dir, _training_state(trained, task.optimizers, train_generators))
            if not progress:
                logger.info("trained %s: epoch %d of %d", model, epoch + 1, config.epochs)

    trained.epochs_completed = config.epochs
    trained.history = _history_arrays(history, len(runs))
    return trained


def _check_checkpoint_folder(folder, resume, overwrite):
    """Raise ValueError, before any training, when ``folder`` cannot take the checkpoints of a new training.

    ``folder`` must not be a file, because the first checkpoint would
    otherwise fail only after ``checkpoint_every`` epochs. A ``checkpoint.pt``
    already in it is kept unless ``resume`` continues it or ``overwrite``
    allows replacing it.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"checkpoint_dir must be a folder, got checkpoint_dir={str(folder)!r}, which is a file; "
                         "choose another checkpoint_dir")
    path = _checkpoint.checkpoint_path(folder)
    if not resume and not overwrite and path.is_file():
        raise ValueError(f"checkpoint_dir={str(folder)!r} already contains a checkpoint ({str(path)!r}) that this "
                         "training would overwrite; pass resume=True to continue it, overwrite=True to replace "
                         "it, or choose another checkpoint_dir")


def _check_finite(model, runs, epoch, losses, networks, lr):
    """Raise ``FloatingPointError`` naming the runs whose loss or weights are not finite after ``epoch``.

    Every parameter of the batched networks has the run as its first
    dimension; a parameter without it marks all runs when it is not finite.
    """
    diverged = np.zeros(len(runs), dtype=bool)
    for values in losses.values():
        diverged |= ~np.isfinite(values)
    for network in networks.values():
        for parameter in network.parameters():
            finite = torch.isfinite(parameter.detach())
            if parameter.dim() >= 1 and parameter.shape[0] == len(runs):
                diverged |= ~finite.reshape(len(runs), -1).all(1).cpu().numpy()
            elif not bool(finite.all()):
                diverged[:] = True
    if not diverged.any():
        return
    pairs = ", ".join(f"(m={runs[i].m:g}, seed={runs[i].seed})" for i in np.flatnonzero(diverged))
    raise FloatingPointError(
        f"{model} training diverged in epoch {epoch}: the loss or the weights of the runs {pairs} are not "
        f"finite, and epoch {epoch} was not saved; use a smaller learning rate (lr={lr:g} now) or a smaller m"
    )


def _train_epoch(task, data, generators, config):
    """Run one epoch on ``data`` (``(R, N, d)``), returning the mean loss per run (numpy ``(R,)``) by name.

    The mean is over samples: each batch's mean loss counts with its number
    of samples, so a last partial batch counts in proportion to its size.
    """
    n = data.shape[1]
    order = torch.stack([torch.randperm(n, generator=g) for g in generators]).to(data.device)
    shuffled = torch.take_along_dim(data, order.unsqueeze(-1), dim=1)

    totals = {name: torch.zeros(data.shape[0], device=data.device) for name in task.loss_names}
    for start in range(0, n, config.batch_size):
        batch = shuffled[:, start : start + config.batch_size]
        losses = task.step(batch, generators)
        for name, values in losses.items():
            totals[name] += values * batch.shape[1]
    return {name: (total / n).cpu().numpy() for name, total in totals.items()}


class _Task:
    """Networks, optimizers and one training step of one model kind, batched over ``R`` runs."""

    loss_names = ()

    def __init__(self, config, runs, device):
        self.config = config
        self.runs = runs
        self.device = device
        self.networks = {}
        self.optimizers = {}

    def _adam(self, *modules):
        """Return Adam over the parameters of ``modules``, fused into one kernel where torch supports it.

        The fused update (torch >= 2.4 on CPU) applies Adam's formula in one
        kernel per step. On the score model it cut the step time by about a
        fifth. Older torch versions fall back to the multi-tensor update.
        """
        parameters = [p for module in modules for p in module.parameters()]
        options = {"lr": self.config.lr, "betas": (self.config.beta1, self.config.beta2)}
        try:
            return torch.optim.Adam(parameters, fused=True, **options)
        except (RuntimeError, ValueError, TypeError):
            return torch.optim.Adam(parameters, foreach=True, **options)

    def reset_parameters(self, generators):
        for network in self.networks.values():
            network.reset_parameters(generators)

    def state_dict(self):
        return {name: network.state_dict() for name, network in self.networks.items()}

    def load_state_dict(self, state):
        for name, network in self.networks.items():
            network.load_state_dict(state[name])

    def _normal(self, generators, *shape):
        return torch.stack([torch.randn(*shape, generator=g) for g in generators]).to(self.device)


class _VAETask(_Task):
    loss_names = ("loss",)

    def __init__(self, config, runs, device):
        super().__init__(config, runs, device)
        vae = BatchedVAE(runs, config.dim, config.latent_dim, config.generator_hidden, config.generator_skip,
                         config.generator_spectral_norm, config.negative_slope).to(device)
        self.networks = {"vae": vae}
        self.optimizers = {"vae": self._adam(vae)}

    def step(self, x, generators):
        vae = self.networks["vae"]
        optimizer = self.optimizers["vae"]
        eps = self._normal(generators, x.shape[1], self.config.latent_dim)

        mu, log_var = vae.encode(x)
        z = mu + torch.exp(0.5 * log_var) * eps
        reconstruction, kl = vae_loss_terms(x, vae.decoder(z), mu, log_var, self.config.vae_c)
        loss = (reconstruction + kl).mean(1)

        optimizer.zero_grad(set_to_none=True)
        loss.sum().backward()
        optimizer.step()
        return {"loss": loss.detach()}


class _GANTask(_Task):
    def __init__(self, config, runs, device):
        super().__init__(config, runs, device)
        if config.gradient_penalty_lip is not None and (config.dim != 1 or config.latent_dim != 1):
            raise ValueError(
                "gradient_penalty_lip needs dim=1 and latent_dim=1 (the penalty uses the derivative of g), "
                f"got dim={config.dim}, latent_dim={config.latent_dim}"
            )
        generator = BatchedMLP(runs, (config.latent_dim, *config.generator_hidden, config.dim),
                               config.generator_skip, config.generator_spectral_norm, config.negative_slope)
        discriminator = BatchedMLP(runs, (config.dim, *DISCRIMINATOR_HIDDEN, 1), "plain", True,
                                   config.negative_slope)
        self.networks = {"generator": generator.to(device), "discriminator": discriminator.to(device)}
        self.optimizers = {"generator": self._adam(generator), "discriminator": self._adam(discriminator)}
        self.loss_names = ("discriminator", "generator") + (
            ("penalty",) if config.gradient_penalty_lip is not None else ()
        )

    def step(self, x, generators):
        losses = {"discriminator": self._discriminator_step(x, generators)}
        losses.update(self._generator_step(x.shape[1], generators))
        return losses

    def _discriminator_step(self, x, generators):
        generator, discriminator = self.networks["generator"], self.networks["discriminator"]
        z = self._normal(generators, x.shape[1], self.config.latent_dim)
        generator.eval()
        with torch.no_grad():
            fake = generator(z)
        generator.train()

        discriminator.train()
        logits = discriminator(torch.cat([x, fake], dim=1))[..., 0]
        real_logits, fake_logits = logits[:, : x.shape[1]], logits[:, x.shape[1] :]
        if self.config.gan_loss == "bce":
            loss = F.softplus(-real_logits).mean(1) + F.softplus(fake_logits).mean(1)
        else:
            loss = F.relu(1 - real_logits).mean(1) + F.relu(1 + fake_logits).mean(1)

        optimizer = self.optimizers["discriminator"]
        optimizer.zero_grad(set_to_none=True)
        loss.sum().backward()
        optimizer.step()
        return loss.detach()

    def _generator_step(self, batch_size, generators):
        generator, discriminator = self.networks["generator"], self.networks["discriminator"]
        z = self._normal(generators, batch_size, self.config.latent_dim)
        penalized = self.config.gradient_penalty_lip is not None
        z.requires_grad_(penalized)

        # The generator step needs no discriminator weight gradients; skipping them saves a third of its cost.
        discriminator.eval().requires_grad_(False)
        fake = generator(z)
        fake_logits = discriminator(fake)[..., 0]
        loss = F.softplus(-fake_logits).mean(1) if self.config.gan_loss == "bce" else -fake_logits.mean(1)
        result = {}
        if penalized:
            penalty = self._gradient_penalty(fake, z)
            loss = loss + penalty
            result["penalty"] = penalty.detach()

        optimizer = self.optimizers["generator"]
        optimizer.zero_grad(set_to_none=True)
        loss.sum().backward()
        optimizer.step()
        discriminator.train().requires_grad_(True)
        result["generator"] = loss.detach()
        return result

    def _gradient_penalty(self, fake, z):
        """Return the per-run penalty on ``g'(z)`` over the batch (``dim = latent_dim = 1``)."""
        (gradients,) = torch.autograd.grad(fake.sum(), z, create_graph=True)
        return generator_gradient_penalty(gradients, self.config.gradient_penalty_lip,
                                          self.config.gradient_penalty_form)


class _ScoreTask(_Task):
    loss_names = ("loss",)

    def __init__(self, config, runs, device):
        super().__init__(config, runs, device)
        score = BatchedScoreNet(runs, config.dim, config.sigma_max, config.sigma_min, config.n_levels,
                                config.negative_slope).to(device)
        self.networks = {"score": score}
        self.optimizers = {"score": self._adam(score)}
        # The ladder in the network's dtype (float32 unless the default dtype is changed), rounded from float64.
        self.sigmas = config.sigmas().to(device=device, dtype=score.layer_1.weight.dtype)
        self.features = level_features(score, self.sigmas)

    def step(self, x, generators):
        score = self.networks["score"]
        batch_size = x.shape[1]
        levels = torch.stack(
            [torch.randint(self.config.n_levels, (batch_size,), generator=g) for g in generators]
        ).to(self.device)
        noise = self._normal(generators, batch_size, self.config.dim)

        loss = score_matching_gradients(score, x, levels, noise, self.sigmas, self.features)
        self.optimizers["score"].step()
        return {"loss": loss}


_TASKS = {"vae": _VAETask, "gan": _GANTask, "sgm": _ScoreTask}


def vae_loss_terms(x, decoded, mu, log_var, c):
    """Return the per-sample reconstruction and KL terms of the Gaussian VAE's negative ELBO.

    Parameters
    ----------
    x, decoded : torch.Tensor, shape (..., d)
        Data and decoder mean ``f(z)``.
    mu, log_var : torch.Tensor, shape (..., p)
        Mean and log-variance of ``q(z | x)``.
    c : float
        Decoder standard deviation, ``c > 0``.

    Returns
    -------
    (reconstruction, kl) : tuple of torch.Tensor, shape (...)
        ``||x - f(z)||^2 / (2 c^2)``, which is ``-log N(x; f(z), c^2 I)`` less
        the constant ``d log(c sqrt(2 pi))``, and
        ``KL(N(mu, sigma^2) || N(0, I)) = (1/2) sum(mu^2 + sigma^2 - log sigma^2 - 1)``
        with ``sigma^2 = exp(log_var)`` (the variance, not its square).
    """
    c = float(check_positive("c", c))
    reconstruction = ((x - decoded) ** 2).sum(-1) / (2 * c**2)
    kl = 0.5 * (mu**2 + torch.exp(log_var) - log_var - 1).sum(-1)
    return reconstruction, kl


def denoising_score_matching_loss(score_values, sigma, noise):
    """Return the per-sample denoising score matching loss weighted by ``sigma^2``.

    For ``x_tilde = x + sigma z`` the target score is ``-z / sigma``, so the
    weighted loss is ``(1/2) sigma^2 ||s(x_tilde, sigma) + z / sigma||^2 =
    (1/2) ||sigma s(x_tilde, sigma) + z||^2`` (Song and Ermon, 2019).

    Parameters
    ----------
    score_values : torch.Tensor, shape (..., d)
        ``s(x_tilde, sigma)``.
    sigma : torch.Tensor, shape (...)
        Noise level of each sample.
    noise : torch.Tensor, shape (..., d)
        The standard normal ``z``.

    Raises ``ValueError`` when ``noise`` does not have the shape of
    ``score_values`` or ``sigma`` that shape less its last axis; broadcasting
    would otherwise pair samples with the wrong noise.
    """
    if noise.shape != score_values.shape or sigma.shape != score_values.shape[:-1]:
        raise ValueError(
            f"score_values and noise must have one shape (..., d) and sigma that shape less its last axis, got "
            f"score_values.shape={tuple(score_values.shape)}, sigma.shape={tuple(sigma.shape)}, "
            f"noise.shape={tuple(noise.shape)}"
        )
    residual = sigma.unsqueeze(-1) * score_values + noise
    return 0.5 * (residual**2).sum(-1)


def generator_gradient_penalty(gradients, lip, form="norm"):
    """Return the gradient penalty of a GAN generator, per run.

    Parameters
    ----------
    gradients : torch.Tensor, shape (R, B, p)
        ``grad g(z)`` at the batch's latent draws (one output dimension).
    lip : float
        Target Lipschitz constant ``L > 0``.
    form : {"norm", "squared"}
        ``"squared"``: ``(10 / L^2) max_z (||grad g(z)||^2 - L)^2``, as written in
        Salmona et al., 2022 (appendix S5.1); ``"norm"``:
        ``(max_z ||grad g(z)|| - L)^2``, as in the authors' public code.

    Returns
    -------
    torch.Tensor, shape (R,)
    """
    lip = float(check_positive("lip", lip))
    _check_choice("form", form, PENALTY_FORMS)
    if gradients.dim() != 3:
        raise ValueError(f"gradients must have shape (R, B, p), got gradients.shape={tuple(gradients.shape)}")
    squared_norms = (gradients**2).sum(-1)
    if form == "squared":
        return (10.0 / lip**2) * ((squared_norms - lip) ** 2).amax(1)
    # The floor keeps the derivative of the square root finite when every slope is 0.
    return (torch.sqrt(squared_norms.amax(1).clamp_min(1e-30)) - lip) ** 2


def _make_runs(ms, seeds):
    if isinstance(ms, (int, float)) or isinstance(seeds, int):
        raise TypeError(f"ms and seeds must be sequences, got ms={ms!r}, seeds={seeds!r}")
    ms = [_check_m(m) for m in ms]
    seeds = [_check_seed(s) for s in seeds]
    if not ms or not seeds:
        raise ValueError(f"ms and seeds must be nonempty, got ms={ms}, seeds={seeds}")
    pairs = [(m, seed) for m in ms for seed in seeds]
    if len(set(pairs)) != len(pairs):
        raise ValueError(f"(m, seed) pairs must be distinct, got ms={ms}, seeds={seeds}")
    return [RunSpec(i, m, seed) for i, (m, seed) in enumerate(pairs)]


def _stack_datasets(model, runs, config):
    return torch.stack([
        make_dataset(run.m, config.n_samples, _seeded(run, model, _STREAM_DATA), config.dim) for run in runs
    ])


def _derive_seed(seed, m, model, stream):
    """Mix ``(seed, m, model, stream)`` into one 63-bit seed with numpy's SeedSequence.

    ``m`` enters as ``round(m * 10^6)``, plus its IEEE 754 bits when ``m``
    is not a multiple of ``10^-6``. Values of ``m`` closer than ``10^-6``,
    such as 1 and 1.0000001, which :func:`train` accepts as distinct runs,
    therefore get distinct randomness. The multiples of ``10^-6`` (every
    ``m`` written with at most six decimals) keep the seeds of earlier
    versions.
    """
    m = float(m)
    micros = int(round(m * 1_000_000))
    key = [int(seed), micros, MODELS.index(model), int(stream)]
    if micros / 1_000_000 != m:
        key.append(struct.unpack("<Q", struct.pack("<d", m))[0])
    return int(np.random.SeedSequence(key).generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def _seeded(run, model, stream):
    return torch.Generator().manual_seed(_derive_seed(run.seed, run.m, model, stream))


def _history_arrays(history, runs):
    return {name: np.stack(values, axis=1) if values else np.zeros((runs, 0)) for name, values in history.items()}


def _training_state(trained, optimizers, generators):
    networks = trained.networks
    return {
        "model": trained.model,
        "runs": [[run.m, run.seed] for run in trained.runs],
        "config": trained.config.to_dict(),
        "epoch": trained.epochs_completed,
        "networks": {name: network.state_dict() for name, network in networks.items()},
        "optimizers": None if optimizers is None else {name: opt.state_dict() for name, opt in optimizers.items()},
        "generators": None if generators is None else [g.get_state() for g in generators],
        "history": {name: torch.from_numpy(np.ascontiguousarray(values)) for name, values in trained.history.items()},
    }


def _restore(folder, model, runs, config, task, generators, history):
    """Load ``folder``'s checkpoint into ``task``, ``generators`` and ``history``; return the epochs done."""
    state = _checkpoint.load_checkpoint(folder)
    if state is None:
        logger.info("no checkpoint in %s; training from scratch", folder)
        return 0
    check_compatible(state, model, runs, config, folder)
    check_requested_epochs(state, config, folder)
    if state["optimizers"] is None or state["generators"] is None:
        raise ValueError(f"checkpoint in {str(folder)!r} was written by TrainedModels.save and cannot be resumed")
    try:
        check_resumable(state, task, len(runs), folder)
    except (TypeError, KeyError, AttributeError, IndexError) as error:
        # A structure that the checks did not foresee, such as a list where an index belongs.
        raise _checkpoint.invalid_contents(folder, f"{type(error).__name__}: {error}") from error

    with _checkpoint.reading_state(folder):
        task.load_state_dict(state["networks"])
        for name, optimizer in task.optimizers.items():
            optimizer.load_state_dict(state["optimizers"][name])
        for generator, generator_state in zip(generators, state["generators"], strict=True):
            generator.set_state(generator_state)
        for name, values in state["history"].items():
            history[name].extend(values.numpy().T.copy())
        _check_finite_weights(task.networks)
    logger.info("resumed %s from %s at epoch %d", model, folder, state["epoch"])
    return int(state["epoch"])


def _check_finite_weights(networks):
    """Raise ValueError naming the first parameter of ``networks`` that contains NaN or an infinity."""
    for network_name, network in networks.items():
        for name, tensor in network.state_dict().items():
            if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
                raise ValueError(f"parameter {network_name}.{name} contains NaN or infinite values")


def _check_widths(name, widths):
    """Return the layer widths ``widths`` as a tuple of int; raise unless a nonempty sequence of positive integers.

    A tuple, list, range or one-dimensional numpy array is accepted.
    """
    requirement = f"{name} must be a nonempty sequence of positive integers"
    one_dimensional_array = isinstance(widths, np.ndarray) and widths.ndim == 1
    if not (isinstance(widths, (tuple, list, range)) or one_dimensional_array):
        raise TypeError(f"{requirement}, got {name}={widths!r} of type {type(widths).__name__}")
    if one_dimensional_array:
        widths = widths.tolist()
    if not widths:
        raise ValueError(f"{requirement}, got {name}={widths!r}")
    for width in widths:
        if isinstance(width, bool) or not isinstance(width, (int, np.integer)):
            raise TypeError(f"{requirement}, got {name}={widths!r} (width {width!r} is a {type(width).__name__})")
        if width < 1:
            raise ValueError(f"{requirement}, got {name}={widths!r} (width {width} is not positive)")
    return tuple(int(width) for width in widths)


def _check_skip_placeable(hidden, skip):
    if not skip_is_placeable(hidden, skip):
        raise ValueError(
            f"generator_skip={skip!r} places no skip connection with generator_hidden={hidden}, so the generator "
            f"would be a plain MLP: {skip} needs {SKIP_REQUIREMENTS[skip]}, such as {BACKBONE_HIDDEN}; use "
            "generator_skip='plain' or other widths"
        )


def _check_choice(name, value, allowed):
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {name}={value!r}")
    return value
