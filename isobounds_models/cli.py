"""Command line of ``isobounds_models``: the console script ``isobounds-models``.

Examples::

    isobounds-models reproduce univariate --profile quick --out results/quick
    isobounds-models reproduce gan-penalty --profile paper --device cuda --out results/penalty
    isobounds-models train --model gan --m 2 5 --out results/gan
    isobounds-models evaluate --model gan --out results/gan

``train`` writes the trained runs to ``OUT/checkpoints/MODEL``; ``evaluate``
reads them from there and writes ``report.json``, ``report.md`` and figures
into ``OUT``. Invalid input (an unknown model, a negative ``m``, an output
folder that cannot be written) stops the program with exit status 2 and a
message naming the value. The exit status is 1 when a report row has a
failed check, and 0 otherwise.
"""

import argparse
import logging
import math
import os
import sys
import tempfile
import time
from pathlib import Path

from .memory import keep_freed_memory

__all__ = ["main", "build_parser"]

_MODELS = ("vae", "gan", "sgm")
_DEVICES = ("auto", "cpu", "cuda")
_PROFILES = ("quick", "paper", "micro")
_EXPERIMENTS = ("univariate", "gan-penalty", "depth", "architecture", "epochs", "bounds")


def build_parser():
    """Return the ``argparse`` parser of ``isobounds-models``."""
    parser = argparse.ArgumentParser(
        prog="isobounds-models",
        description="Train the univariate VAE, GAN and score model of Salmona et al. (2022), measure them "
                    "exactly and check them against the isoperimetric lower bounds.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    reproduce = commands.add_parser("reproduce", help="run one experiment of the paper and write its report")
    reproduce.add_argument("experiment", help=f"experiment to run, one of: {', '.join(_EXPERIMENTS)}")
    _add_common(reproduce)

    train = commands.add_parser("train", help="train one model kind for several m and seeds")
    _add_model_options(train)
    _add_common(train)

    evaluate = commands.add_parser("evaluate", help="measure models written by 'train' and write a report")
    evaluate.add_argument("--model", required=True, help=f"model kind to evaluate: {', '.join(_MODELS)}")
    _add_common(evaluate)
    return parser


def _add_model_options(parser):
    parser.add_argument("--model", required=True, help=f"model kind: {', '.join(_MODELS)}")
    parser.add_argument("--m", type=float, nargs="+", default=None, metavar="M",
                        help="half distances m >= 0 between the modes (default: the profile's values)")


def _add_common(parser):
    parser.add_argument("--profile", default="quick",
                        help="quick (CPU, minutes), paper (appendix settings, 10 runs, for a GPU) "
                             "or micro (seconds, tests only); default quick")
    parser.add_argument("--out", default="results", help="output folder, created if missing (default: results)")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda (default: auto)")
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


def main(argv=None):
    """Run ``isobounds-models`` with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2

    problem = _validate(args)
    if problem is not None:
        parser.error(problem)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", stream=sys.stderr)
    keep_freed_memory()
    started = time.perf_counter()
    if args.command == "reproduce":
        rows = _reproduce(args)
    elif args.command == "train":
        rows = _train(args)
    else:
        rows = _evaluate(args)
    elapsed = time.perf_counter() - started

    failed = [r for r in rows if not r.get("checks_passed", True)]
    print(f"wrote {args.out} in {elapsed:.1f} s: {len(rows)} rows, {len(failed)} with a failed check")
    return 1 if failed else 0


def _validate(args):
    """Return a message for the first invalid argument, or ``None``."""
    if args.command == "reproduce" and args.experiment not in _EXPERIMENTS:
        return f"experiment must be one of {', '.join(_EXPERIMENTS)}, got experiment={args.experiment!r}"
    if getattr(args, "model", None) is not None and args.model not in _MODELS:
        return f"model must be one of {', '.join(_MODELS)}, got model={args.model!r}"
    for m in getattr(args, "m", None) or []:
        if not (m >= 0 and math.isfinite(m)):
            return f"m must be a nonnegative finite number, got m={m}"
    if args.profile not in _PROFILES:
        return f"profile must be one of {', '.join(_PROFILES)}, got profile={args.profile!r}"
    if args.device not in _DEVICES:
        return f"device must be one of {', '.join(_DEVICES)}, got device={args.device!r}"
    if args.seed is not None and args.seed < 0:
        return f"seed must be a nonnegative integer, got seed={args.seed}"
    if args.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            return "device='cuda' was requested but torch finds no CUDA device; use --device cpu or auto"
    if args.command in ("reproduce", "train") and not args.resume:
        checkpoints = Path(args.out) / "checkpoints"
        if args.command == "train":
            checkpoints = checkpoints / args.model
        if _has_files(checkpoints):
            return (f"{str(checkpoints)!r} already holds checkpoints of an earlier run; pass --resume to "
                    "continue them, or choose another folder with --out")
    return _check_writable(args.out)


def _has_files(folder):
    """Return whether ``folder`` exists and contains a file at any depth."""
    return folder.is_dir() and any(path.is_file() for path in folder.rglob("*"))


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


def _reproduce(args):
    from .experiments import reproduce

    return reproduce(args.experiment, profile=args.profile, out=args.out, device=args.device,
                     resume=args.resume, seed=args.seed, progress=_show_progress(args))


def _train(args):
    import dataclasses

    from .experiments import training_config
    from .training import train

    config = training_config(args.profile, args.device, args.seed)
    if args.m is not None:
        config = dataclasses.replace(config, ms=tuple(args.m))
    folder = Path(args.out) / "checkpoints" / args.model
    trained = train(args.model, config=config, checkpoint_dir=folder, resume=args.resume, progress=_show_progress(args))
    trained.save(folder)
    return []


def _evaluate(args):
    from .experiments import evaluate_trained, experiment_settings
    from .figures import figure_samples, figure_univariate
    from .report import write_report
    from .training import TrainedModels

    folder = Path(args.out) / "checkpoints" / args.model
    if not (folder / "checkpoint.pt").is_file():
        raise SystemExit(f"isobounds-models: error: no trained models in {str(folder)!r}; "
                         f"run 'isobounds-models train --model {args.model} --out {args.out}' first")
    settings = experiment_settings(args.profile, args.device)
    trained = TrainedModels.load(folder, device=settings.training.device)
    rows, draws = evaluate_trained(trained, settings.evaluation, {"experiment": "evaluate"})
    samples = {(row["model"], row["m"], row["seed"]): draw for row, draw in zip(rows, draws)}
    out = Path(args.out)
    figure_samples(samples, out / f"samples_{args.model}")
    figure_univariate(rows, out / f"lipschitz_distances_{args.model}")
    write_report(rows, out, title=f"evaluate --model {args.model}")
    return rows
