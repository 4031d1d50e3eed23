"""Atomic result files and training checkpoints.

Every writer here writes to a temporary file in the destination folder,
flushes it to disk, then renames it over the destination with ``os.replace``.
A reader therefore sees either the previous complete file or the new
complete file, never a partial one, even if the process is killed
mid-write (``os.replace`` is atomic on POSIX and Windows file systems when
source and destination are in the same folder).

A training checkpoint is one ``torch.save`` dictionary holding the model and
optimizer states, the state of every run's ``torch.Generator``, the loss
histories, the number of completed epochs and the configuration; see
:func:`isobounds_models.training.train`.
"""

import contextlib
import glob
import io
import json
import os
import pickle
import re
import tempfile
from pathlib import Path

import numpy as np
import torch

__all__ = [
    "CHECKPOINT_NAME",
    "CheckpointError",
    "atomic_write_bytes",
    "atomic_write_text",
    "atomic_write_json",
    "atomic_save_npz",
    "atomic_torch_save",
    "save_checkpoint",
    "load_checkpoint",
    "checkpoint_path",
    "is_temporary_file",
    "contains_files",
    "invalid_contents",
]

CHECKPOINT_NAME = "checkpoint.pt"
"""File name of the latest training checkpoint inside a checkpoint folder."""


def set_default_mode(path):
    """Give ``path`` the mode a plain ``open`` would (0666 less the umask).

    ``tempfile.mkstemp`` creates files readable by their owner only, which
    would make results unreadable to the other users of a shared machine.
    """
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)


_TEMPORARY_NAME = re.compile(r"\.(?P<target>.+)\.[a-z0-9_]+\.tmp")
"""Name of the temporary files of :func:`atomic_write_bytes`: ``tempfile.mkstemp`` puts random letters, digits
and underscores between the prefix ``.NAME.`` and the suffix ``.tmp``."""


def atomic_write_bytes(path, data):
    """Write ``data`` (bytes) to ``path`` atomically; the parent folder must exist."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ValueError(
            f"path must be in an existing folder, got path={str(path)!r} (folder {str(folder)!r} not found)"
        )
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        set_default_mode(temporary)
        os.replace(temporary, path)
    except BaseException:
        _remove_quietly(temporary)
        raise
    _fsync_folder(folder)


def _fsync_folder(folder):
    """Flush the folder entry of a rename to disk, so that a power loss cannot bring back the old file.

    Folders cannot be opened for fsync on Windows, so there the rename is left as it is.
    """
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def atomic_write_text(path, text):
    """Write a UTF-8 string to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path, obj, indent=2):
    """Write ``obj`` as JSON to ``path`` atomically (``allow_nan=False``: NaN and inf raise ValueError)."""
    atomic_write_text(path, json.dumps(obj, indent=indent, allow_nan=False) + "\n")


def atomic_save_npz(path, **arrays):
    """Write numpy arrays to an ``.npz`` file atomically (``numpy.savez_compressed``)."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    atomic_write_bytes(path, buffer.getvalue())


def atomic_torch_save(path, obj):
    """``torch.save`` ``obj`` to ``path`` atomically."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def checkpoint_path(folder):
    """Return the path of the latest checkpoint in ``folder``."""
    return Path(folder) / CHECKPOINT_NAME


def is_temporary_file(path):
    """Tell whether ``path`` is named like the temporary file of an atomic write (``.NAME.RANDOM.tmp``).

    Such a file is left behind only when the process was killed between
    creating it and renaming it, so it never contains a complete result.
    """
    return _TEMPORARY_NAME.fullmatch(Path(path).name) is not None


def contains_files(folder):
    """Tell whether ``folder`` exists and contains a file at any depth, not counting leftover temporary files.

    A process killed while it writes a checkpoint leaves a temporary file
    but no checkpoint, so that file alone does not make an earlier run.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return False
    return any(path.is_file() and not is_temporary_file(path) for path in folder.rglob("*"))


def save_checkpoint(folder, state):
    """Write the training ``state`` dictionary to ``folder/checkpoint.pt`` atomically, creating ``folder``.

    Then remove the temporary files of earlier writes of this checkpoint
    that a killed process left behind (:func:`is_temporary_file`).
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"checkpoint folder must be a folder, got folder={str(folder)!r}, which is a file; "
                         "choose another folder")
    folder.mkdir(parents=True, exist_ok=True)
    path = checkpoint_path(folder)
    _check_regular_file(path)
    atomic_torch_save(path, state)
    _remove_stale_temporary_files(path)


def _remove_stale_temporary_files(path):
    """Remove the leftover temporary files of atomic writes to ``path``.

    NOTE: a second process writing the same checkpoint at this moment would
    lose its temporary file and fail, but two trainings must not share a
    checkpoint folder anyway.
    """
    for candidate in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        match = _TEMPORARY_NAME.fullmatch(candidate.name)
        if match is not None and match["target"] == path.name and candidate.is_file():
            _remove_quietly(candidate)


class CheckpointError(ValueError):
    """A checkpoint file that exists but cannot be loaded: corrupt, truncated or not a training checkpoint."""


def _check_regular_file(path):
    """Raise :class:`CheckpointError` when ``path`` exists but is not a file (a folder, for instance).

    Such a path can be neither loaded nor replaced by a new checkpoint, and
    ``os.replace`` would fail only after the training of the first epochs.
    """
    if path.exists() and not path.is_file():
        raise CheckpointError(f"checkpoint path {str(path)!r} exists but is not a file; remove it or use "
                              "another checkpoint folder")


_CHECKPOINT_KEYS = ("model", "runs", "config", "epoch", "networks", "history")
"""Keys that every state written by :func:`save_checkpoint` contains."""


def load_checkpoint(folder, mmap=False):
    """Return the state saved by :func:`save_checkpoint` in ``folder``, or ``None`` if there is none.

    The file is loaded with ``weights_only=True`` (tensors, numbers, strings,
    lists and dictionaries only), so loading a checkpoint runs no code. With
    ``mmap=True`` the tensors are memory-mapped from the file instead of read,
    which makes a look at the epoch or the settings cheap for any model size.

    Raises :class:`CheckpointError` (a ``ValueError``) naming the file when it
    is corrupt or truncated, or holds no training state.
    """
    path = checkpoint_path(folder)
    _check_regular_file(path)
    if not path.is_file():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
    except (RuntimeError, EOFError, KeyError, pickle.UnpicklingError) as error:
        # torch raises RuntimeError for a damaged zip archive, EOFError for an empty file and
        # KeyError or UnpicklingError for bytes that are not a torch file.
        reason = str(error).split(". ")[0]
        detail = type(error).__name__ + (f": {reason}" if reason else "")
        raise CheckpointError(f"checkpoint file {str(path)!r} is corrupt or truncated and cannot be loaded "
                              f"({detail}); delete it and train again, or restore it from a backup") from error
    if not isinstance(state, dict) or any(key not in state for key in _CHECKPOINT_KEYS):
        raise CheckpointError(f"checkpoint file {str(path)!r} contains no training state (expected a dictionary "
                              f"with the keys {list(_CHECKPOINT_KEYS)}); delete it and train again")
    for key in ("config", "networks", "history"):
        if not isinstance(state[key], dict):
            raise CheckpointError(f"checkpoint file {str(path)!r} has invalid contents ({key} is a "
                                  f"{type(state[key]).__name__}, expected a dictionary); delete it and train again")
    _check_epoch(path, state)
    _check_runs(folder, state["runs"])
    return state


def invalid_contents(folder, detail):
    """Return the :class:`CheckpointError` for ``folder``'s checkpoint with invalid contents, ``detail`` naming the problem."""
    return CheckpointError(f"checkpoint file {str(checkpoint_path(folder))!r} has invalid contents ({detail}); "
                           "delete it and train again, or restore it from a backup")


def _check_runs(folder, runs):
    """Raise CheckpointError unless ``runs`` is a list of ``[m, seed]`` pairs."""
    pairs = isinstance(runs, list) and all(isinstance(pair, (list, tuple)) and len(pair) == 2 for pair in runs)
    if not pairs:
        runs_text = repr(runs) if len(repr(runs)) <= 80 else repr(runs)[:77] + "..."
        raise invalid_contents(folder, f"runs={runs_text}, expected a list of [m, seed] pairs")


def _check_epoch(path, state):
    """Raise CheckpointError unless ``state["epoch"]`` is an integer from 0 to the configured number of epochs."""
    epoch, epochs = state["epoch"], state["config"].get("epochs")
    integer = isinstance(epoch, (int, np.integer)) and not isinstance(epoch, bool)
    if not integer or epoch < 0 or (isinstance(epochs, int) and epoch > epochs):
        raise CheckpointError(f"checkpoint file {str(path)!r} has invalid contents (epoch={epoch!r}, expected an "
                              f"integer from 0 to the configured epochs={epochs!r}); delete it and train again")


@contextlib.contextmanager
def reading_state(folder):
    """Turn the errors of rebuilding models from a loaded checkpoint state into :class:`CheckpointError`.

    A file that loads but whose contents are not what :func:`save_checkpoint`
    writes (a missing network, a tensor of the wrong shape, an unknown
    setting) fails inside torch or the configuration with an error that
    does not name the file. Inside this context such an error becomes a
    ``CheckpointError`` naming it.
    """
    try:
        yield
    except (KeyError, IndexError, TypeError, AttributeError, RuntimeError, ValueError) as error:
        if isinstance(error, CheckpointError):
            raise
        reason = str(error).splitlines()[0] if str(error) else ""
        detail = type(error).__name__ + (f": {reason}" if reason else "")
        raise CheckpointError(f"checkpoint file {str(checkpoint_path(folder))!r} has invalid contents ({detail}); "
                              "delete it and train again, or restore it from a backup") from error


def _remove_quietly(path):
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
