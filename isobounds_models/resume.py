"""Checks that a checkpoint can resume a training: same settings, consistent contents, no more epochs.

:func:`isobounds_models.training.train` runs them before it loads anything
from a checkpoint, so that a mismatched or damaged file gets a clear error
instead of a crash inside torch or a silently different training.
"""

import torch

from . import checkpoint as _checkpoint
from .networks import SKIP_REQUIREMENTS, skip_is_placeable

__all__ = ["RESUME_FREE_FIELDS", "check_compatible", "check_requested_epochs", "check_resumable"]

RESUME_FREE_FIELDS = ("epochs", "device", "checkpoint_every")
"""Settings that may differ between a checkpoint and the training that resumes it."""


def _placed_skip(saved_config):
    """Return ``saved_config`` with a ``generator_skip`` that placed no skip connection read as ``"plain"``.

    Earlier versions accepted such settings and trained a plain network
    (see :meth:`isobounds_models.training.TrainingConfig.from_dict`).
    """
    skip, hidden = saved_config.get("generator_skip"), saved_config.get("generator_hidden")
    if _skip_placed_nothing(skip, hidden):
        return {**saved_config, "generator_skip": "plain"}
    return saved_config


def _skip_placed_nothing(skip, hidden):
    """Tell whether the saved ``skip`` and nonempty integer widths ``hidden`` describe a plain network.

    Malformed values return False, so that the usual checks report them.
    """
    if not isinstance(skip, str) or skip not in SKIP_REQUIREMENTS:
        return False
    if not isinstance(hidden, (list, tuple)) or not hidden or not all(isinstance(h, int) for h in hidden):
        return False
    return not skip_is_placeable(tuple(hidden), skip)


def check_compatible(state, model, runs, config, folder):
    """Raise ValueError listing what differs between the checkpoint's training and this one."""
    saved = {k: v for k, v in _placed_skip(state["config"]).items() if k not in RESUME_FREE_FIELDS}
    current = {k: v for k, v in config.to_dict().items() if k not in RESUME_FREE_FIELDS}
    saved_pairs = [list(pair) for pair in state["runs"]]
    pairs = [[run.m, run.seed] for run in runs]
    differences = []
    if state["model"] != model:
        differences.append(f"model {state['model']!r} vs {model!r}")
    if saved_pairs != pairs:
        differences.append(f"runs {saved_pairs} vs {pairs}")
    different_settings = sorted(k for k in saved.keys() | current.keys() if saved.get(k) != current.get(k))
    if different_settings:
        differences.append(f"differing settings {different_settings}")
    if differences:
        raise ValueError(f"checkpoint in {str(folder)!r} does not match this training ({', '.join(differences)}); "
                         "use another checkpoint_dir")


def check_requested_epochs(state, config, folder):
    """Raise ValueError when the checkpoint has more epochs than ``config.epochs`` requests.

    Training cannot go back, so resuming such a checkpoint would return a
    model trained longer than requested.
    """
    done = int(state["epoch"])
    if done > config.epochs:
        raise ValueError(
            f"checkpoint in {str(folder)!r} has completed {done} epochs, more than the requested epochs="
            f"{config.epochs}; request epochs >= {done} to resume it, load it as it is with TrainedModels.load, "
            "or use another checkpoint_dir"
        )


def check_resumable(state, task, n_runs, folder):
    """Raise CheckpointError unless the optimizer states, generator states and histories fit ``task``'s runs.

    torch loads an optimizer state without comparing its tensors with the
    parameters, and with torch 2.13 the fused Adam step then corrupted the
    heap and aborted the process, so the shapes are compared here, before
    anything is loaded.
    """
    _check_optimizer_states(state["optimizers"], task.optimizers, folder)

    generator_states = state["generators"]
    if not isinstance(generator_states, list):
        raise _checkpoint.invalid_contents(folder, f"generators is a {type(generator_states).__name__}, expected a "
                                                   f"list of {n_runs} generator states, one per run")
    if len(generator_states) != n_runs:
        raise _checkpoint.invalid_contents(folder, f"generators contains {len(generator_states)} generator states, "
                                                   f"expected {n_runs}, one per run")

    epoch = int(state["epoch"])
    saved_history = state["history"]
    if set(saved_history) != set(task.loss_names):
        raise _checkpoint.invalid_contents(folder, f"history has the losses {sorted(saved_history)}, expected "
                                                   f"{sorted(task.loss_names)}")
    for name, values in saved_history.items():
        if not isinstance(values, torch.Tensor) or tuple(values.shape) != (n_runs, epoch):
            shape = tuple(values.shape) if isinstance(values, torch.Tensor) else type(values).__name__
            raise _checkpoint.invalid_contents(folder, f"history {name!r} has shape {shape}, expected "
                                                       f"{(n_runs, epoch)} (runs, epochs)")


def _check_optimizer_states(saved, optimizers, folder):
    """Raise CheckpointError unless ``saved`` contains a state of each optimizer whose tensors fit its parameters."""
    if not isinstance(saved, dict) or set(saved) != set(optimizers):
        keys = sorted(saved) if isinstance(saved, dict) else type(saved).__name__
        raise _checkpoint.invalid_contents(folder, f"optimizers has the keys {keys}, expected {sorted(optimizers)}")
    for name, optimizer in optimizers.items():
        for index, parameter, entries in _saved_parameter_states(name, saved[name], optimizer, folder):
            for key, value in entries.items():
                _check_optimizer_entry(folder, name, index, key, value, parameter)


def _saved_parameter_states(name, saved, optimizer, folder):
    """Return ``(index, parameter, saved entries)`` for each parameter of ``optimizer``, as torch pairs them."""
    groups = saved.get("param_groups") if isinstance(saved, dict) else None
    states = saved.get("state") if isinstance(saved, dict) else None
    if not isinstance(groups, list) or not isinstance(states, dict):
        raise _checkpoint.invalid_contents(folder, f"optimizer {name!r} has no 'param_groups' list and 'state' "
                                                   "dictionary")
    saved_counts = [len(g["params"]) if isinstance(g, dict) and isinstance(g.get("params"), list) else None
                    for g in groups]
    counts = [len(group["params"]) for group in optimizer.param_groups]
    if saved_counts != counts:
        raise _checkpoint.invalid_contents(folder, f"optimizer {name!r} has {saved_counts} parameters per group, "
                                                   f"expected {counts}")
    # torch pairs the saved parameter indices with the current parameters in group order.
    result = []
    for group, current in zip(groups, optimizer.param_groups):
        for index, parameter in zip(group["params"], current["params"]):
            entries = states.get(index)
            if not isinstance(entries, dict):
                raise _checkpoint.invalid_contents(folder, f"optimizer {name!r} has no state of parameter {index} "
                                                           f"(shape {tuple(parameter.shape)})")
            result.append((index, parameter, entries))
    return result


def _check_optimizer_entry(folder, name, index, key, value, parameter):
    """Raise CheckpointError unless ``value`` is a one-element step or a tensor of ``parameter``'s shape."""
    if key == "step":
        if isinstance(value, torch.Tensor) and value.numel() != 1:
            raise _checkpoint.invalid_contents(
                folder, f"optimizer {name!r} parameter {index} has a step of shape {tuple(value.shape)}, "
                        "expected one number")
        return
    if not isinstance(value, torch.Tensor) or value.shape != parameter.shape:
        shape = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
        raise _checkpoint.invalid_contents(
            folder, f"optimizer {name!r} state {key!r} of parameter {index} has shape {shape}, expected the "
                    f"parameter's shape {tuple(parameter.shape)}")
