"""Reproduce the univariate experiments of Salmona et al., 2022 (section 5.1, appendix S5).

Each experiment trains models with :func:`isobounds_models.training.train`,
measures every run (:func:`evaluate_run`), checks it against the bounds
(:mod:`isobounds_models.checks`) and writes ``report.json``, ``report.md`` and
PNG and PDF figures into an output folder:

- ``univariate``: VAE, GAN and score model for several ``m`` (Figures 2 and 3);
- ``gan-penalty``: GAN with a generator gradient penalty of target ``L`` at
  ``m = 5`` (Figure 4);
- ``depth``: GAN generator and VAE decoder with 2 to 6 hidden layers (Figure 5;
  2 to 4 in the ``quick`` profile);
- ``architecture``: plain, resnet and densenet generators on the
  ``(1, 256, 256, 256, 1)`` backbone, and spectral normalisation (Figure S4);
- ``epochs``: exact Lipschitz constant of GAN and VAE against training epochs
  (Figure S5). The curve is stored next to each checkpoint in
  ``lipschitz_by_epoch.json``, so that ``resume=True`` keeps the points
  recorded before the interruption;
- ``bounds``: the TV and KL bounds of Corollaries 6 and 8 against ``L`` (Figure S3),
  for a model with mass 1/2 on each side of 0 (``lam = 1/2`` in Corollary 8),
  with no training; the curves go to ``bounds.json`` and ``report.json`` is
  an empty list.

Profiles: ``quick`` (CPU, minutes), ``paper`` (the appendix settings with 10
runs, for a GPU) and ``micro``. The ``micro`` profile runs in seconds and
serves the tests of the plumbing only, because its models are not trained
enough to show anything.

References
----------
A. Salmona, V. De Bortoli, J. Delon, A. Desolneux, "Can Push-forward
Generative Models Fit Multimodal Distributions?", NeurIPS 2022.
"""

import dataclasses
import json
import logging
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import figures
from .checkpoint import atomic_write_json, contains_files, is_temporary_file, load_checkpoint
from .checks import bound_curves, compute_bounds, lipschitz_implied_by_masses, run_checks, smoothed_bounds
from .measure import (
    exact_distances,
    grid_lipschitz,
    langevin_lipschitz,
    piecewise_linear_from_module,
    sample_distances,
    score_lipschitz_per_level,
)
from .networks import BACKBONE_HIDDEN, depth_hidden_sizes
from .report import write_report
from .training import MODELS, TrainingConfig, train

__all__ = [
    "EXPERIMENTS",
    "PROFILES",
    "EvaluationConfig",
    "ExperimentSettings",
    "experiment_settings",
    "training_config",
    "evaluate_run",
    "evaluate_trained",
    "reproduce",
    "other_results",
]

logger = logging.getLogger(__name__)

EXPERIMENTS = ("univariate", "gan-penalty", "depth", "architecture", "epochs", "bounds")
PROFILES = ("quick", "paper", "micro")


@dataclass(frozen=True)
class EvaluationConfig:
    """Settings of the measurements.

    Attributes
    ----------
    n_samples : int
        Samples drawn from each model for histograms and, for score models,
        for the TV and KL estimates.
    n_bootstrap : int
        Bootstrap resamples of the score-model estimates.
    n_trajectories : int
        Langevin trajectories differentiated to estimate the sampler's Lipschitz constant.
    n_candidates : int
        Input draws screened to select those trajectories (see
        :func:`~isobounds_models.measure.langevin_lipschitz`).
    grid_points : int
        Points of the grid of [-10, 10] of the grid-slope Lipschitz estimate.
    """

    n_samples: int = 50_000
    n_bootstrap: int = 50
    n_trajectories: int = 512
    n_candidates: int = 16_384
    grid_points: int = 20_001


@dataclass(frozen=True)
class ExperimentSettings:
    """Training configuration, evaluation settings and sweep values of one profile.

    Attributes
    ----------
    training : TrainingConfig
        Configuration of every training of the profile.
    evaluation : EvaluationConfig
    penalty_lips : tuple of float
        Target Lipschitz constants of the ``gan-penalty`` sweep.
    penalty_m : float
        ``m`` of the ``gan-penalty`` sweep.
    depths : tuple of int
        Hidden layers of the generators of the ``depth`` sweep.
    depth_lr : float
        Learning rate of the ``depth`` sweep (see :func:`experiment_settings`).
    sweep_m : float
        ``m`` of the ``depth``, ``architecture`` and ``epochs`` sweeps.
    epochs_every : int
        Epochs between two points of the ``epochs`` curve.
    """

    training: TrainingConfig
    evaluation: EvaluationConfig
    penalty_lips: tuple
    penalty_m: float
    depths: tuple
    depth_lr: float
    sweep_m: float
    epochs_every: int


def training_config(profile, device="auto", seed=None):
    """Return the training configuration of ``profile`` ("quick", "paper" or "micro").

    ``seed`` replaces the profile's seeds by the single seed given.
    """
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, got profile={profile!r}")
    if profile == "micro":
        config = dataclasses.replace(
            TrainingConfig.profile("quick"), epochs=2, n_samples=1000, batch_size=500, ms=(0.0, 3.0),
            steps_per_level=5, checkpoint_every=1, name="micro",
        )
    else:
        config = TrainingConfig.profile(profile)
    overrides = {"device": device}
    if seed is not None:
        overrides["seeds"] = (int(seed),)
    return dataclasses.replace(config, **overrides)


def experiment_settings(profile, device="auto", seed=None):
    """Return the :class:`ExperimentSettings` of ``profile``.

    The ``paper`` profile sweeps 2 to 6 hidden layers at the paper's learning
    rate. The ``quick`` profile sweeps 2 to 4 hidden layers (widths up to
    1024) at the paper's learning rate 1e-4 rather than the quick profile's
    2.5e-4.
    Measured at ``m = 5`` on CPU, two runs of the 4-layer GAN at 2.5e-4 went
    wrong: one collapsed to a point (L = 0.25, TV = 1.00) and the other
    reached KL = 473. At 1e-4 both fitted as well as the 2-layer GAN (TV 0.66
    and 0.64). The 5-layer GAN took 81 s and collapsed even at 1e-4. The
    6-layer one (widths up to 4096) takes several minutes. So both stay in
    the ``paper`` profile.

    One run of the ``paper`` profile's 5-layer GAN (seed 0, ``m = 5``, 400
    epochs, 110 minutes on two shared CPU cores) did not collapse to a
    point. From epoch 60 to 340 it mostly covered both modes, with modes
    narrower than the target's. At the end it had dropped one mode: exact
    L = 1.51, TV = 0.69, KL = 1.40, every check passed.
    """
    config = training_config(profile, device, seed)
    if profile == "paper":
        return ExperimentSettings(config, EvaluationConfig(), (5.0, 10.0, 15.0, 20.0, 25.0), 5.0,
                                  (2, 3, 4, 5, 6), config.lr, 5.0, 10)
    if profile == "quick":
        evaluation = EvaluationConfig(n_samples=20_000, n_bootstrap=30, n_trajectories=256, n_candidates=4096)
        return ExperimentSettings(config, evaluation, (5.0, 15.0, 25.0), 5.0, (2, 3, 4), 1e-4, 5.0, 5)
    evaluation = EvaluationConfig(n_samples=500, n_bootstrap=5, n_trajectories=16, n_candidates=64,
                                  grid_points=2001)
    return ExperimentSettings(config, evaluation, (5.0,), 3.0, (2,), config.lr, 3.0, 1)


# ----------------------------------------------------------------------------
# Measuring one run
# ----------------------------------------------------------------------------


def evaluate_run(trained, run, evaluation=None, sample_seed=None):
    """Measure run ``run`` of ``trained`` and check it against the bounds.

    ``sample_seed`` fixes the draw of the model's samples. The default
    ``None`` derives it from the run's seed and ``m``, so that the runs of a
    sweep have independent sampling errors and their mean averages them out.

    Returns
    -------
    tuple
        ``(row, samples)``: the report row (a dict of JSON-compatible values,
        keys in :mod:`isobounds_models.report`) and ``evaluation.n_samples``
        samples of the model (numpy array) for the figures.
    """
    evaluation = EvaluationConfig() if evaluation is None else evaluation
    spec = trained.runs[run]
    samples = np.asarray(trained.sample(run, evaluation.n_samples, seed=sample_seed), dtype=np.float64)
    if trained.model == "sgm":
        row = _measure_score_model(trained, run, samples, evaluation)
    else:
        row = _measure_pushforward(trained, run, evaluation)

    bounds = compute_bounds(row["lipschitz"], spec.m, row["mass_left"], row["mass_right"],
                            row["mass_below"], row["mass_above"])
    if trained.model == "sgm":
        # The sampled TV and KL are those of the kernel-smoothed laws, so their bounds are those of the
        # smoothed pair. The mass between the modes is measured on the samples, against the bound above.
        smoothed = smoothed_bounds(row["lipschitz"], spec.m, samples, row.pop("_bandwidth"))
        bounds = dataclasses.replace(smoothed, mass_between=bounds.mass_between,
                                     target_mass_between=bounds.target_mass_between)
    checks = run_checks(bounds, row["tv"], row["kl"], row["mass_between"],
                        row.pop("_tv_tolerance"), row.pop("_kl_tolerance"), row.pop("_mass_tolerance"))
    row.update(
        interquartile_range=float(np.subtract(*np.quantile(samples, [0.75, 0.25]))),
        lipschitz_implied=lipschitz_implied_by_masses(spec.m, row["mass_below"], row["mass_above"],
                                                      row["mass_between"]),
        tv_bound=bounds.tv,
        kl_bound=bounds.kl,
        tv_bound_theorem4=bounds.tv_theorem4,
        tv_bound_theorem4_r=bounds.tv_theorem4_r,
        tv_bound_corollary6=bounds.tv_corollary6,
        kl_bound_theorem7=bounds.kl_theorem7,
        kl_bound_theorem7_r=bounds.kl_theorem7_r,
        kl_bound_corollary8=bounds.kl_corollary8,
        mass_between_bound=bounds.mass_between,
        target_mass_between=bounds.target_mass_between,
        checks=[c.to_dict() for c in checks],
        checks_passed=all(c.passed for c in checks),
    )
    return {"model": trained.model, "m": spec.m, "seed": spec.seed, **row}, samples


def _measure_pushforward(trained, run, evaluation):
    if trained.config.latent_dim != 1 or trained.config.dim != 1:
        raise ValueError("exact measurement needs latent_dim = dim = 1, got "
                         f"latent_dim={trained.config.latent_dim}, dim={trained.config.dim}")
    m = trained.runs[run].m
    module = trained.get_generator(run)
    g = piecewise_linear_from_module(module)
    tv, kl = exact_distances(g, m)
    rho = g.pushforward()

    def mass(a, b):
        return float(rho.mass((a, b)))

    return {
        "lipschitz": float(g.lipschitz_constant()),
        "lipschitz_grid": grid_lipschitz(module, -10.0, 10.0, evaluation.grid_points),
        "n_pieces": int(g.n_pieces),
        "estimator": "exact",
        "tv": tv.value,
        "tv_error": tv.error,
        "kl": kl.value,
        "kl_error": kl.error,
        "mass_between": mass(-m / 2, m / 2),
        "mass_left": mass(-math.inf, 0.0),
        "mass_right": mass(0.0, math.inf),
        "mass_below": mass(-math.inf, -m / 2),
        "mass_above": mass(m / 2, math.inf),
        "mass_near_modes": [mass(-m - 2, -m + 2), mass(m - 2, m + 2)],
        "_tv_tolerance": tv.error,
        "_kl_tolerance": kl.error,
        "_mass_tolerance": 1e-12,
    }


def _measure_score_model(trained, run, samples, evaluation):
    m = trained.runs[run].m
    config = trained.config
    sigmas = [float(s) for s in config.sigmas()]
    score = _cpu_score(trained.score_fn(run), trained.device)

    estimate = sample_distances(samples, m, n_bootstrap=evaluation.n_bootstrap)
    per_level = score_lipschitz_per_level(score, sigmas)
    sampler = langevin_lipschitz(score, sigmas, config.steps_per_level, config.langevin_eps,
                                 n_trajectories=evaluation.n_trajectories, n_candidates=evaluation.n_candidates)
    n = samples.size
    return {
        "lipschitz": sampler.max,
        "lipschitz_median": sampler.median,
        "lipschitz_grid": float(per_level.max()),
        "score_lipschitz_per_level": [float(v) for v in per_level],
        "sigmas": sigmas,
        "estimator": f"kde with bandwidth {estimate.bandwidth:.3g} against the target smoothed by the same "
                     f"kernel (smoothed distances lie below the true ones, but sampling noise biases their "
                     f"estimates upward), {n} samples, "
                     f"{evaluation.n_bootstrap} bootstrap resamples; a perfect sampler gets "
                     f"tv_estimator_floor and kl_estimator_floor",
        "tv": estimate.tv,
        "tv_error": estimate.tv_se,
        "tv_estimator_floor": estimate.tv_floor,
        "kl": estimate.kl,
        "kl_error": estimate.kl_se,
        "kl_estimator_floor": estimate.kl_floor,
        "mass_between": estimate.mass_between,
        "mass_left": float(np.mean(samples <= 0)),
        "mass_right": float(np.mean(samples >= 0)),
        "mass_below": float(np.mean(samples <= -m / 2)),
        "mass_above": float(np.mean(samples >= m / 2)),
        "mass_near_modes": [float(np.mean(np.abs(samples + m) <= 2)), float(np.mean(np.abs(samples - m) <= 2))],
        "_bandwidth": estimate.bandwidth,
        "_tv_tolerance": 3 * estimate.tv_se,
        "_kl_tolerance": 3 * estimate.kl_se,
        "_mass_tolerance": 3 * estimate.mass_between_se,
    }


def _cpu_score(score, device):
    if device.type == "cpu":
        return score
    return lambda x, sigma: score(x.to(device), sigma).cpu()


def evaluate_trained(trained, evaluation, extra=None):
    """Evaluate every run of ``trained``; return ``(rows, samples)`` (``samples[i]`` for ``rows[i]``).

    Each row also records ``epochs_completed`` (the epochs that ``trained``
    went through) and ``epochs`` (the epochs of its configuration), so that
    the report of a checkpoint whose training was interrupted can name it
    (:func:`isobounds_models.report.markdown_report`).
    """
    rows, samples = [], []
    for spec in trained.runs:
        row, draw = evaluate_run(trained, spec.index, evaluation)
        row.update(epochs_completed=int(trained.epochs_completed), epochs=int(trained.config.epochs))
        row.update(extra or {})
        rows.append(row)
        samples.append(draw)
        logger.info("%s m=%s seed=%s: L=%.4g tv=%.4g (bound %.4g) checks %s", row["model"], row["m"],
                    row["seed"], row["lipschitz"], row["tv"], row["tv_bound"],
                    "PASS" if row["checks_passed"] else "FAIL")
    return rows, samples


# ----------------------------------------------------------------------------
# Experiments
# ----------------------------------------------------------------------------


def reproduce(experiment, profile="quick", out="results", device="auto", resume=False, seed=None,
              progress=False):
    """Run one experiment and write its report and figures into ``out``.

    Parameters
    ----------
    experiment : str
        One of :data:`EXPERIMENTS`.
    profile : {"quick", "paper", "micro"}
    out : str or Path
        Output folder, created if missing. Checkpoints go to ``out/checkpoints``.
    device : {"auto", "cpu", "cuda"}
    resume : bool
        Continue each training from its checkpoint in ``out/checkpoints``.
        Without it, an ``out/checkpoints`` folder that contains files of an
        earlier run raises ``ValueError`` before any training, as on the
        command line.
    seed : int, optional
        Train one run per ``m`` with this seed instead of the profile's seeds.

    Returns
    -------
    list of dict
        The report rows.

    Raises
    ------
    isobounds_models.figures.FigureError
        If a figure fails after the report was written; the traceback is in
        ``out/figure_error.txt``.
    """
    if experiment not in EXPERIMENTS:
        raise ValueError(f"experiment must be one of {EXPERIMENTS}, got experiment={experiment!r}")
    settings = experiment_settings(profile, device, seed)
    out = Path(out)
    other = other_results(out, experiment)
    if other is not None:
        raise ValueError(f"out={str(out)!r} already contains {other}, which reproduce {experiment!r} would "
                         "overwrite or mix with its own results; choose another output folder (out)")
    if not resume and contains_files(out / "checkpoints"):
        raise ValueError(f"out={str(out)!r} already contains checkpoints of an earlier run in its 'checkpoints' folder; "
                         "pass resume=True to continue them, or choose another output folder (out)")
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()

    runner = _RUNNERS[experiment]
    result = runner(settings, out, resume, progress)

    elapsed = time.perf_counter() - started
    metadata = {"experiment": experiment, "profile": profile, "wall_time_s": round(elapsed, 1), "resumed": resume,
                "machine": _machine_metadata(device),
                "training": _training_metadata(result.trainings),
                "evaluation": dataclasses.asdict(settings.evaluation)}
    if experiment == "bounds":
        metadata["note"] = ("This experiment trains no model, so there is no table. The bound curves of the "
                            "figure are in bounds.json, one row per m and L. The KL curves assume that the "
                            "model puts mass 1/2 on each side of 0, the midpoint between the modes "
                            "(lam = 1/2 in Corollary 8); another mass gives another KL bound.")
    # The report goes first, so that a figure that fails cannot lose the measured rows.
    write_report(result.rows, out, title=f"reproduce {experiment} --profile {profile}", metadata=metadata)
    figures.draw_after_report(result.draw_figures, out)
    return result.rows


def _machine_metadata(device):
    """Return what the wall time of a run depends on: the device used, torch's CPU threads and versions.

    ``device`` is the requested device, ``"auto"`` included. The entry
    records the device it resolved to, so a CPU run and a GPU run differ in
    ``run_info.json``.
    """
    import platform

    import torch

    from .training import resolve_device

    resolved = resolve_device(device)
    machine = {"device": str(resolved), "torch_threads": torch.get_num_threads(), "torch": torch.__version__,
               "python": platform.python_version(), "cpu_count": os.cpu_count()}
    if resolved.type == "cuda":
        machine["cuda_device"] = torch.cuda.get_device_name(resolved)
    return machine


RUN_INFO_NAME = "run_info.json"
"""File of the output folder that records the experiment, profile and settings of ``reproduce``."""


def other_results(out, experiment):
    """Describe the results in ``out`` that belong to something else than ``reproduce experiment``, or return ``None``.

    Every experiment writes ``report.json``, ``report.md`` and ``run_info.json``
    into ``out`` and its checkpoints into ``out/checkpoints/EXPERIMENT-...``
    (``train`` uses ``out/checkpoints/MODEL``). A second experiment, or
    ``evaluate``, in the same folder would replace the first one's report, and
    ``resume`` cannot continue checkpoints of another experiment. So this
    returns a description of ``out/run_info.json`` when it records another
    experiment, or of the first checkpoint folder whose name does not start
    with ``EXPERIMENT-`` (files directly in ``out/checkpoints`` are ignored). With ``experiment=None`` (``evaluate``) any
    ``run_info.json`` that records an experiment is described. Folders that
    contain only temporary files of a killed write count as empty.
    """
    out = Path(out)
    info_path = out / RUN_INFO_NAME
    if info_path.is_file():
        try:
            recorded = json.loads(info_path.read_text()).get("experiment")
        except (ValueError, AttributeError, UnicodeDecodeError):
            recorded = None
        if isinstance(recorded, str) and recorded != experiment:
            return f"the results of reproduce {recorded!r} ({str(info_path)!r})"
    if experiment is None:
        return None
    checkpoints = out / "checkpoints"
    if not checkpoints.is_dir():
        return None
    for folder in sorted(checkpoints.iterdir()):
        # Each run checkpoints into a folder, so a loose file (.DS_Store, a temporary file) is no run's checkpoint.
        if folder.name.startswith(f"{experiment}-") or not folder.is_dir():
            continue
        if any(path.is_file() and not is_temporary_file(path) for path in folder.rglob("*")):
            return f"checkpoints of another run ({str(folder)!r})"
    return None


@dataclass
class _RunnerResult:
    """Report rows of one experiment, the training configurations it used and the call that draws its figures.

    ``trainings`` maps each checkpoint label (the folder under
    ``out/checkpoints``) to the model kind and the configuration trained there.
    """

    rows: list
    trainings: dict
    draw_figures: object


def _training_metadata(trainings):
    """Return the ``training`` entry of ``run_info.json``: the model and configuration of each checkpoint label."""
    return {label: {"model": model, **config.to_dict()} for label, (model, config) in trainings.items()}


def _train(model, config, out, label, resume, progress, callback=None):
    folder = out / "checkpoints" / label
    return train(model, config=config, checkpoint_dir=folder, resume=resume, progress=progress, callback=callback)


def _run_univariate(settings, out, resume, progress):
    rows, samples, trainings = [], {}, {}
    for model in MODELS:
        label = f"univariate-{model}"
        trained = _train(model, settings.training, out, label, resume, progress)
        trainings[label] = (model, settings.training)
        model_rows, draws = evaluate_trained(trained, settings.evaluation, {"experiment": "univariate"})
        rows += model_rows
        for row, draw in zip(model_rows, draws):
            samples[(model, row["m"], row["seed"])] = draw

    def draw_figures():
        figures.figure_samples(samples, out / "figure2_samples")
        figures.figure_univariate(rows, out / "figure3_lipschitz_distances")

    return _RunnerResult(rows, trainings, draw_figures)


def _run_gan_penalty(settings, out, resume, progress):
    rows, trainings = [], {}
    for lip in settings.penalty_lips:
        config = dataclasses.replace(settings.training, ms=(settings.penalty_m,), gradient_penalty_lip=lip)
        label = f"gan-penalty-{lip:g}"
        trained = _train("gan", config, out, label, resume, progress)
        trainings[label] = ("gan", config)
        rows += evaluate_trained(trained, settings.evaluation,
                                 {"experiment": "gan-penalty", "variant": f"penalty L={lip:g}",
                                  "penalty_lip": lip})[0]

    def draw_figures():
        figures.figure_sweep(rows, "penalty_lip", "target Lipschitz constant of the penalty",
                             out / "figure4_gan_penalty")

    return _RunnerResult(rows, trainings, draw_figures)


def _run_depth(settings, out, resume, progress):
    rows, trainings = [], {}
    for model in ("gan", "vae"):
        for depth in settings.depths:
            config = dataclasses.replace(settings.training, ms=(settings.sweep_m,), lr=settings.depth_lr,
                                         generator_hidden=depth_hidden_sizes(depth))
            label = f"depth-{model}-{depth}"
            trained = _train(model, config, out, label, resume, progress)
            trainings[label] = (model, config)
            rows += evaluate_trained(trained, settings.evaluation,
                                     {"experiment": "depth", "variant": f"{depth} hidden layers",
                                      "depth": depth})[0]

    def draw_figures():
        figures.figure_sweep(rows, "depth", "hidden layers of the generator", out / "figure5_depth")

    return _RunnerResult(rows, trainings, draw_figures)


def _run_architecture(settings, out, resume, progress):
    rows, trainings = [], {}
    variants = [("plain", False), ("resnet", False), ("densenet", False), ("plain", True)]
    for model in ("gan", "vae"):
        for index, (skip, spectral) in enumerate(variants):
            hidden = BACKBONE_HIDDEN if not spectral else settings.training.generator_hidden
            config = dataclasses.replace(settings.training, ms=(settings.sweep_m,), generator_hidden=hidden,
                                         generator_skip=skip, generator_spectral_norm=spectral)
            name = "spectral norm" if spectral else skip
            label = f"architecture-{model}-{name.replace(' ', '-')}"
            trained = _train(model, config, out, label, resume, progress)
            trainings[label] = (model, config)
            rows += evaluate_trained(trained, settings.evaluation,
                                     {"experiment": "architecture", "variant": name, "architecture": index})[0]

    def draw_figures():
        figures.figure_sweep(rows, "architecture", "generator: plain, resnet, densenet, spectral norm",
                             out / "figureS4_architecture", tick_labels=[name for name, _ in variants[:3]] + ["SN"])

    return _RunnerResult(rows, trainings, draw_figures)


LIPSCHITZ_CURVE_NAME = "lipschitz_by_epoch.json"
"""File of the per-epoch Lipschitz curve of ``reproduce epochs``, next to the checkpoint of each model."""


def _run_epochs(settings, out, resume, progress):
    rows, curves, trainings = [], {}, {}
    config = dataclasses.replace(settings.training, ms=(settings.sweep_m,))
    n_runs = len(config.seeds)
    for model in ("gan", "vae"):
        label = f"epochs-{model}"
        folder = out / "checkpoints" / label
        trace = _resumed_curve(folder, config, settings.epochs_every, n_runs) if resume else []
        curve_path = folder / LIPSCHITZ_CURVE_NAME
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_json(curve_path, {"model": model, "lipschitz_by_epoch": trace})

        def record(epoch, trained, trace=trace, path=curve_path, model=model):
            if _records_epoch(epoch, settings.epochs_every, config.epochs):
                trace.append([epoch] + [_exact_lipschitz(trained, run) for run in range(len(trained.runs))])
                # Points past the checkpoint's epoch are dropped on resume, because training repeats them.
                atomic_write_json(path, {"model": model, "lipschitz_by_epoch": trace})

        trained = _train(model, config, out, label, resume, progress, callback=record)
        trainings[label] = (model, config)
        curves[model] = [tuple(point) for point in trace]
        model_rows = evaluate_trained(trained, settings.evaluation, {"experiment": "epochs"})[0]
        for run, row in enumerate(model_rows):
            row["lipschitz_by_epoch"] = [[point[0], point[1 + run]] for point in trace]
        rows += model_rows

    def draw_figures():
        figures.figure_epochs(curves, out / "figureS5_epochs", m=settings.sweep_m)

    return _RunnerResult(rows, trainings, draw_figures)


def _records_epoch(epoch, every, last):
    """Tell whether the epoch curve gets a point after ``epoch``: every ``every`` epochs and at the last one."""
    return epoch % every == 0 or epoch == last


def _resumed_curve(folder, config, every, n_runs):
    """Return the curve points ``[epoch, L_1, ..., L_n]`` stored in ``folder`` up to the epoch of its checkpoint.

    Each point contains the exact Lipschitz constant of each of the ``n_runs``
    runs. Training resumes from the checkpoint and records the later points
    again, so stored points past the checkpoint's epoch are dropped. Raises
    ``ValueError`` when the checkpoint exists but the stored curve is missing,
    lacks points up to that epoch or has points of another number of runs,
    because the curve could not be rebuilt.
    """
    # Memory-mapped, so that only the epoch is read here and train() loads the tensors once.
    state = load_checkpoint(folder, mmap=True)
    if state is None:
        return []
    done = int(state["epoch"])
    path = folder / LIPSCHITZ_CURVE_NAME
    try:
        stored = json.loads(path.read_text())["lipschitz_by_epoch"]
    except FileNotFoundError:
        stored = None
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"curve file {str(path)!r} is invalid ({error}); rerun without --resume into another "
                         "folder (--out) to record the whole curve") from error
    expected = [epoch for epoch in range(1, done + 1) if _records_epoch(epoch, every, config.epochs)]
    if stored is None and expected:
        raise ValueError(f"curve file {str(path)!r} not found, so the Lipschitz constants of epochs 1 to {done} "
                         "cannot be restored; rerun without --resume into another folder (--out) to record the "
                         "whole curve")
    try:
        points = [[int(point[0])] + [float(lip) for lip in point[1:]] for point in (stored or [])]
    except (ValueError, KeyError, TypeError, IndexError) as error:
        raise ValueError(f"curve file {str(path)!r} is invalid ({error}); rerun without --resume into another "
                         "folder (--out) to record the whole curve") from error
    points = [point for point in points if point[0] <= done]
    if any(len(point) != 1 + n_runs for point in points):
        raise ValueError(f"curve file {str(path)!r} has points of another number of runs than the {n_runs} of this "
                         "experiment; rerun without --resume into another folder (--out) to record the whole curve")
    missing = sorted(set(expected) - {point[0] for point in points})
    if missing:
        raise ValueError(f"curve file {str(path)!r} lacks the epochs {missing}; rerun without --resume into "
                         "another folder (--out) to record the whole curve")
    return points


def _exact_lipschitz(trained, run):
    return float(piecewise_linear_from_module(trained.get_generator(run)).lipschitz_constant())


BOUNDS_MS = (1, 2, 3, 5, 7, 10)
"""Half distances between the modes drawn by ``reproduce bounds``."""


def _run_bounds(settings, out, resume, progress):
    """Write ``bounds.json`` (the curves of Figure S3) and return the call that draws the figure. It trains no model."""
    del settings, resume, progress
    curves = bound_curves(BOUNDS_MS, np.logspace(0, 4, 121))
    atomic_write_json(out / "bounds.json", curves)

    def draw_figures():
        figures.figure_bounds(curves, out / "figureS3_bounds")

    return _RunnerResult([], {}, draw_figures)


_RUNNERS = {
    "univariate": _run_univariate,
    "gan-penalty": _run_gan_penalty,
    "depth": _run_depth,
    "architecture": _run_architecture,
    "epochs": _run_epochs,
    "bounds": _run_bounds,
}
