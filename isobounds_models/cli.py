"""Command line of ``isobounds_models``: the console script ``isobounds-models``.

Examples::

    isobounds-models reproduce univariate --profile quick --out results/quick
    isobounds-models reproduce gan-penalty --profile paper --device cuda --out results/penalty
    isobounds-models train --model gan --m 2 5 --out results/gan
    isobounds-models evaluate --model gan --out results/gan

``train`` writes the trained runs to ``OUT/checkpoints/MODEL/checkpoint.pt``;
``evaluate`` reads them from there and writes ``report.json``, ``report.md``
and figures into ``OUT``.

Exit status:

- 2, with a one-line message naming the value, for invalid input: no
  command, an unknown model, a negative ``m``, an output folder that cannot
  be written (or a file in it that cannot, found while the command runs), a
  checkpoint that does not match the training or model asked for, a corrupt,
  truncated or invalid checkpoint, ``evaluate`` with no trained models in
  ``OUT``, a training that diverged, or an ``MPLBACKEND`` environment
  variable that matplotlib rejects;
- 3 when the report was written but a figure failed, with a one-line message;
  the traceback goes to ``OUT/figure_error.txt``;
- 130 when interrupted (Ctrl-C), with a one-line message saying whether a
  checkpoint was written and how to continue from it (``--resume``);
- 1 when a report row has a failed check, and 0 otherwise.
"""

import argparse
import dataclasses
import json
import logging
import math
import os
import shlex
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .memory import keep_freed_memory

__all__ = ["main", "build_parser"]

_MODELS = ("vae", "gan", "sgm")
_DEVICES = ("auto", "cpu", "cuda")
_PROFILES = ("quick", "paper", "micro")
_EXPERIMENTS = ("univariate", "gan-penalty", "depth", "architecture", "epochs", "bounds")
_EXPERIMENT_HELP = {
    "univariate": "VAE, GAN and score model on (1/2)[N(-m, 1) + N(m, 1)] for several m (Figures 2 and 3)",
    "gan-penalty": "GAN with a gradient penalty towards a target Lipschitz constant (Figure 4)",
    "depth": "GAN and VAE with 2 to 6 (paper) or 2 to 4 (quick) hidden layers in the generator (Figure 5)",
    "architecture": "GAN and VAE with plain, resnet and densenet generators and spectral norm (Figure S4)",
    "epochs": "exact Lipschitz constant of GAN and VAE against training epochs (Figure S5)",
    "bounds": "TV and KL bounds against L for several m, no training (Figure S3)",
}

_TRAINING_PROFILES = ("quick (CPU, minutes), paper (appendix settings, 10 runs, for a GPU) "
                      "or micro (seconds, tests only); default quick")
"""Help text of ``--profile`` for the commands that train."""

_MAX_THREADS = 1024
"""Largest ``--threads`` accepted, unless the machine has more cores; torch rejects counts beyond a C int."""

_EXIT_INVALID = 2
_EXIT_INTERRUPTED = 130
"""Exit status after Ctrl-C: 128 + SIGINT, as shells report it."""
_EXIT_FIGURE = 3
"""Exit status when the report was written but a figure failed."""


def build_parser():
    """Return the ``argparse`` parser of ``isobounds-models``."""
    parser = argparse.ArgumentParser(
        prog="isobounds-models",
        description="Train the univariate VAE, GAN and score model of Salmona et al. (2022), measure them "
                    "exactly and check them against the isoperimetric lower bounds.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    reproduce = commands.add_parser(
        "reproduce", help="run one experiment of the paper and write its report",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="experiments:\n" + "\n".join(f"  {name:<13} {text}" for name, text in _EXPERIMENT_HELP.items()),
    )
    reproduce.add_argument("experiment", help=f"experiment to run, one of: {', '.join(_EXPERIMENTS)}")
    _add_output_options(reproduce, _TRAINING_PROFILES)
    _add_training_options(reproduce)

    train = commands.add_parser("train", help="train one model kind for several m and seeds")
    _add_model_options(train)
    _add_output_options(train, _TRAINING_PROFILES)
    _add_training_options(train)

    evaluate = commands.add_parser("evaluate", help="measure models written by 'train' and write a report")
    evaluate.add_argument("--model", required=True, help=f"model kind to evaluate: {', '.join(_MODELS)}")
    _add_output_options(evaluate, "measurement settings (samples per run, bootstrap resamples, differentiated "
                                  "Langevin trajectories) of the profile quick, paper or micro; default quick",
                        out_help="folder given to 'train --out': the models are read from OUT/checkpoints/MODEL "
                                 "and the report is written into OUT (default: results)")
    for command in (reproduce, train, evaluate):
        # Invalid values found after parsing are reported with the usage line of their command.
        command.set_defaults(command_parser=command)
    return parser


def _folder(text):
    """Parse ``--out``: an empty name would silently mean the current folder."""
    if not text.strip():
        raise argparse.ArgumentTypeError(f"expected a folder name, got {text!r}; use --out . for the current folder")
    return text


def _add_model_options(parser):
    parser.add_argument("--model", required=True, help=f"model kind: {', '.join(_MODELS)}")
    # "extend", so that a repeated --m adds its values instead of silently replacing the earlier ones.
    parser.add_argument("--m", type=float, nargs="+", action="extend", default=None, metavar="M",
                        help="half distances m >= 0 between the modes, for example --m 2 5 (default: the "
                             "profile's values)")


def _add_output_options(parser, profile_help, out_help="output folder, created if missing (default: results)"):
    """Add the options of every command: ``--profile``, ``--out``, ``--device`` and ``--threads``."""
    parser.add_argument("--profile", default="quick", help=profile_help)
    parser.add_argument("--out", type=_folder, default="results", help=out_help)
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda (default: auto)")
    parser.add_argument("--threads", type=int, default=None, metavar="N",
                        help="CPU threads of torch (default: torch's default, one per core). On a machine "
                             "that other jobs share, --threads 1 can be several times faster")


def _add_training_options(parser):
    """Add the options of the commands that train: ``--resume``, ``--seed`` and ``--progress``."""
    parser.add_argument("--resume", action="store_true", help="continue training from the checkpoints in OUT")
    parser.add_argument("--seed", type=int, default=None,
                        help="train one run per m with this seed instead of the profile's seeds")
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show progress bars (default: only when standard error is a terminal)",
    )


def _show_progress(args):
    """Show progress bars when asked, or by default when standard error is a terminal."""
    return sys.stderr.isatty() if args.progress is None else args.progress


class _CommandError(Exception):
    """Invalid input found while a command runs; :func:`main` prints it on one line and exits with ``status``."""

    def __init__(self, message, status=_EXIT_INVALID):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class _Outcome:
    """Exit status and closing line of a command that ran to the end."""

    status: int
    action: str
    details: str

    def summary(self, elapsed):
        """Return the closing line, with the wall time ``elapsed`` in seconds."""
        return f"{self.action} in {elapsed:.1f} s: {self.details}"


def main(argv=None):
    """Run ``isobounds-models`` with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return _EXIT_INVALID

    problem = _validate(args)
    if problem is not None:
        args.command_parser.error(problem)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", stream=sys.stderr)
    keep_freed_memory()
    if args.threads is not None:
        import torch

        torch.set_num_threads(args.threads)
    started = time.perf_counter()
    try:
        outcome = _COMMANDS[args.command](args)
    except _CommandError as error:
        print(f"isobounds-models: error: {error}", file=sys.stderr)
        return error.status
    except OSError as error:
        print(f"isobounds-models: error: {_file_error_message(error)}", file=sys.stderr)
        return _EXIT_INVALID
    except KeyboardInterrupt:
        print(_interrupted_message(args), file=sys.stderr)
        return _EXIT_INTERRUPTED
    print(outcome.summary(time.perf_counter() - started))
    return outcome.status


def _file_error_message(error):
    """Return the one-line message of an ``OSError`` raised while a command reads or writes its files."""
    # os.replace, which writes every output file, names its temporary source first and the destination second.
    name = error.filename2 if error.filename2 is not None else error.filename
    path = f" {str(name)!r}" if name is not None else ""
    reason = error.strerror or str(error)
    return (f"reading or writing{path} failed ({reason}); check the permissions of the output folder and "
            "that no folder has the name of an output file, or choose another folder with --out")


def _validate(args):
    """Return a message for the first invalid argument, or ``None``."""
    if args.command == "reproduce" and args.experiment not in _EXPERIMENTS:
        return f"experiment must be one of {', '.join(_EXPERIMENTS)}, got experiment={args.experiment!r}"
    if getattr(args, "model", None) is not None and args.model not in _MODELS:
        return f"--model must be one of {', '.join(_MODELS)}, got --model {args.model!r}"
    for m in getattr(args, "m", None) or []:
        if not (m >= 0 and math.isfinite(m)):
            return f"--m must be nonnegative finite numbers, got --m {m}"
        from .data import MAX_M

        if m > MAX_M:
            return f"--m must be at most {MAX_M:g}, because the training data are float32, got --m {m:g}"
    if args.profile not in _PROFILES:
        return f"--profile must be one of {', '.join(_PROFILES)}, got --profile {args.profile!r}"
    if args.device not in _DEVICES:
        return f"--device must be one of {', '.join(_DEVICES)}, got --device {args.device!r}"
    max_threads = max(_MAX_THREADS, os.cpu_count() or 1)
    if args.threads is not None and not 1 <= args.threads <= max_threads:
        return f"--threads must be an integer in [1, {max_threads}], got --threads {args.threads}"
    if getattr(args, "seed", None) is not None and args.seed < 0:
        return f"--seed must be a nonnegative integer, got --seed {args.seed}"
    if args.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            return "--device cuda was requested but torch finds no CUDA device; use --device cpu or auto"
    if args.command in ("reproduce", "evaluate"):
        # matplotlib goes first, because the check of --out imports the experiments, which import it.
        problem = _matplotlib_problem() or _other_results_problem(args)
        if problem is not None:
            return problem
    if args.command in ("reproduce", "train") and not args.resume:
        checkpoints = Path(args.out) / "checkpoints"
        if args.command == "train":
            checkpoints = checkpoints / args.model
        if _has_files(checkpoints):
            return (f"{str(checkpoints)!r} already holds checkpoints of an earlier run; pass --resume to "
                    "continue them, or choose another folder with --out")
    if args.command == "evaluate" and not Path(args.out).exists():
        # evaluate reads OUT, so it must not create it: the command then reports that no trained models exist.
        return None
    return _check_writable(args.out)


def _other_results_problem(args):
    """Return a message when ``--out`` contains results that ``reproduce`` or ``evaluate`` would overwrite, or ``None``.

    See :func:`isobounds_models.experiments.other_results`: ``--resume``
    cannot continue another experiment, and a plain run would replace its
    report.
    """
    from .experiments import other_results

    experiment = args.experiment if args.command == "reproduce" else None
    other = other_results(args.out, experiment)
    if other is None:
        return None
    command = f"reproduce {experiment}" if experiment is not None else f"evaluate --model {args.model}"
    return (f"--out {str(args.out)!r} already contains {other}, which {command} would overwrite or mix with "
            "its own results; choose another folder with --out")


def _matplotlib_problem():
    """Return a message when matplotlib, which draws the figures, cannot be imported, or ``None``."""
    try:
        import matplotlib  # noqa: F401
    except ValueError as error:
        # matplotlib validates the MPLBACKEND environment variable when it is imported.
        backend = os.environ.get("MPLBACKEND")
        return (f"matplotlib cannot start with the environment variable MPLBACKEND={backend!r} "
                f"({str(error).split(';')[0]}); unset it or set it to agg")
    return None


def _has_files(folder):
    """Tell whether ``folder`` contains files of an earlier run (see :func:`isobounds_models.checkpoint.contains_files`)."""
    # Imported here because checkpoint imports torch, which the other checks of the arguments do not need.
    from .checkpoint import contains_files

    return contains_files(folder)


def _check_writable(folder):
    """Create ``folder`` and write a probe file in it; return a message if either fails."""
    path = Path(folder)
    if path.exists() and not path.is_dir():
        return f"output folder is a file: out={str(folder)!r}; choose a folder with --out"
    try:
        path.mkdir(parents=True, exist_ok=True)
        descriptor, probe = tempfile.mkstemp(prefix=".write-test-", dir=path)
        os.close(descriptor)
        os.remove(probe)
    except OSError as error:
        return (f"output folder is not writable: out={str(folder)!r} ({error.strerror or error}); "
                "choose another folder with --out")
    return None


def _for_command_line(error):
    """Return the message of ``error`` with the library's parameter names replaced by the options that set them."""
    return str(error).replace("checkpoint_dir", "--out")


def _reproduce(args):
    from .experiments import reproduce
    from .figures import FigureError

    try:
        rows = reproduce(args.experiment, profile=args.profile, out=args.out, device=args.device,
                         resume=args.resume, seed=args.seed, progress=_show_progress(args))
    except (ValueError, FloatingPointError) as error:
        raise _CommandError(_for_command_line(error)) from error
    except FigureError as error:
        raise _CommandError(str(error), _EXIT_FIGURE) from error
    return _report_outcome(args, rows)


def _report_outcome(args, rows):
    """Return the outcome of a command that wrote ``rows`` into ``args.out``: status 1 if a check failed."""
    if not rows:
        return _Outcome(0, f"wrote {args.out}", "no report rows, because no model was trained (see report.md)")
    failed = sum(not row.get("checks_passed", True) for row in rows)
    count = f"{len(rows)} row{'s' if len(rows) > 1 else ''}"
    return _Outcome(1 if failed else 0, f"wrote {args.out}", f"{count}, {failed} with a failed check")


def _train(args):
    from .experiments import training_config
    from .training import train

    config = training_config(args.profile, args.device, args.seed)
    if args.m is not None:
        config = dataclasses.replace(config, ms=tuple(args.m))
    folder = _train_folder(args)
    try:
        trained = train(args.model, config=config, checkpoint_dir=folder, resume=args.resume,
                        progress=_show_progress(args))
    except (ValueError, FloatingPointError) as error:
        raise _CommandError(_for_command_line(error)) from error
    return _train_outcome(args, trained, folder)


def _train_folder(args):
    """Return the checkpoint folder of ``train``: ``OUT/checkpoints/MODEL``."""
    return Path(args.out) / "checkpoints" / args.model


def _train_outcome(args, trained, folder):
    """Return the outcome of ``train``: what was trained, where it is, and the command that measures it."""
    from .checkpoint import checkpoint_path

    runs = len(trained.runs)
    ms = ", ".join(f"{m:g}" for m in trained.config.ms)
    seeds = ", ".join(str(seed) for seed in trained.config.seeds)
    profile = "" if args.profile == "quick" else f" --profile {args.profile}"
    return _Outcome(
        0,
        f"trained {runs} {args.model} run{'s' if runs > 1 else ''}",
        f"m = {ms}; seeds {seeds}; {trained.epochs_completed} epochs; checkpoint {checkpoint_path(folder)}; "
        f"measure with: isobounds-models evaluate --model {args.model} --out {shlex.quote(str(args.out))}{profile}",
    )


def _evaluate(args):
    from .checkpoint import checkpoint_path
    from .experiments import evaluate_trained, experiment_settings
    from .figures import FigureError, draw_after_report, figure_samples, figure_univariate
    from .report import write_report
    from .training import TrainedModels

    folder = _train_folder(args)
    if not checkpoint_path(folder).is_file():
        raise _CommandError(f"no trained models in {str(folder)!r}; train them first with: "
                            f"isobounds-models train --model {args.model} --out {shlex.quote(str(args.out))}")
    settings = experiment_settings(args.profile, args.device)
    try:
        trained = TrainedModels.load(folder, device=settings.training.device)
    except ValueError as error:
        raise _CommandError(str(error)) from error
    if trained.model != args.model:
        raise _CommandError(f"checkpoint {str(checkpoint_path(folder))!r} contains {trained.model!r} runs, not "
                            f"{args.model!r}; train {args.model!r} into another folder, or move the checkpoint "
                            f"to {str(Path(args.out) / 'checkpoints' / trained.model)!r}")
    unfinished = trained.epochs_completed < trained.config.epochs
    if unfinished:
        # The checkpoint of an interrupted training contains unfinished models, and the report would not show it.
        print(f"isobounds-models: warning: the training in {str(checkpoint_path(folder))!r} stopped at epoch "
              f"{trained.epochs_completed} of {trained.config.epochs}, so the report measures unfinished models; "
              "rerun the same train command with --resume to finish it, then evaluate again", file=sys.stderr)
    out = Path(args.out)
    # Rows that evaluate wrote for the other models stay, so evaluating the GAN and then the VAE reports both.
    # They are read before the measurement, so that a damaged report stops the command at once.
    other_rows = _evaluated_rows_of_other_models(out / "report.json", args.model)
    try:
        rows, draws = evaluate_trained(trained, settings.evaluation, {"experiment": "evaluate"})
    except ValueError as error:
        raise _CommandError(str(error)) from error
    samples = {(row["model"], row["m"], row["seed"]): draw for row, draw in zip(rows, draws)}
    models = sorted({row["model"] for row in other_rows} | {args.model})
    # The report goes first, so that a figure that fails cannot lose the measured rows.
    write_report(other_rows + rows, out, title=f"evaluate --model {', '.join(models)}")

    def draw_figures():
        figure_samples(samples, out / f"samples_{args.model}")
        figure_univariate(rows, out / f"lipschitz_distances_{args.model}")

    try:
        draw_after_report(draw_figures, out)
    except FigureError as error:
        raise _CommandError(str(error), _EXIT_FIGURE) from error
    outcome = _report_outcome(args, rows)
    if unfinished:
        outcome = dataclasses.replace(outcome, details=f"{outcome.details}; training unfinished "
                                                       f"({trained.epochs_completed} of {trained.config.epochs} epochs)")
    return outcome


def _evaluated_rows_of_other_models(path, model):
    """Return the rows of ``path`` (a ``report.json``) that ``evaluate`` wrote for models other than ``model``.

    A missing file gives no rows. A file that is not a JSON list raises
    :class:`_CommandError`, instead of being replaced along with the rows it
    may still hold. The strings ``"inf"``, ``"-inf"`` and ``"nan"``, which the
    report writes for non-finite values, are read back as floats.
    """
    path = Path(path)
    if not path.exists():
        return []
    advice = "repair or remove it, or pass another --out"
    try:
        rows = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise _CommandError(f"cannot read the earlier report {str(path)!r} ({error}); {advice}") from error
    if not isinstance(rows, list):
        raise _CommandError(f"the earlier report {str(path)!r} contains a {type(rows).__name__}, not a list of rows; {advice}")
    from .report import read_report_row

    return [
        read_report_row(row)
        for row in rows
        if isinstance(row, dict) and row.get("experiment") == "evaluate" and row.get("model") != model
    ]


_COMMANDS = {"reproduce": _reproduce, "train": _train, "evaluate": _evaluate}


def _interrupted_message(args):
    """Return the one line printed after Ctrl-C: what was kept and how to continue."""
    if args.command == "evaluate":
        return (f"isobounds-models: interrupted; the report in {args.out!r} is missing or from an earlier run; "
                "rerun the same command to measure again")
    folder = _train_folder(args) if args.command == "train" else Path(args.out) / "checkpoints"
    latest = _latest_checkpoint(folder)
    if latest is None:
        # A plain rerun rejects a folder that contains files written before the first checkpoint, such
        # as the curve of reproduce epochs. With no checkpoint, --resume starts from the beginning.
        return (f"isobounds-models: interrupted before any checkpoint was written in {str(folder)!r}; "
                "rerun the same command with --resume to start again from the beginning")
    epoch = _checkpoint_epoch(latest)
    latest_text = repr(str(latest)) + ("" if epoch is None else f", {epoch}")
    if args.command == "train":
        resume_from = f"the checkpoint {latest_text}"
    else:
        resume_from = f"the checkpoints in {str(folder)!r} (the latest: {latest_text})"
    return f"isobounds-models: interrupted; rerun the same command with --resume to continue from {resume_from}"


def _latest_checkpoint(folder):
    """Return the most recently written checkpoint file in ``folder`` or its subfolders, or ``None``."""
    from .checkpoint import CHECKPOINT_NAME

    if not folder.is_dir():
        return None
    paths = [path for path in folder.rglob(CHECKPOINT_NAME) if path.is_file()]
    return max(paths, key=lambda path: path.stat().st_mtime, default=None)


def _checkpoint_epoch(path):
    """Return "epoch E of N" for the checkpoint file ``path``, or ``None`` when it cannot be read."""
    from .checkpoint import load_checkpoint

    try:
        state = load_checkpoint(path.parent)
        return f"epoch {int(state['epoch'])} of {int(state['config']['epochs'])}"
    except Exception:  # noqa: BLE001 - the message is complete without the epoch, so any read failure is ignored.
        return None
