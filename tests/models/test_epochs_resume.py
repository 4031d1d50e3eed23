"""Resuming ``reproduce epochs`` keeps the per-epoch Lipschitz curve recorded before the interruption."""

import dataclasses
import json

import pytest

torch = pytest.importorskip("torch")

from isobounds_models import experiments, training  # noqa: E402
from isobounds_models.checkpoint import load_checkpoint  # noqa: E402
from isobounds_models.experiments import LIPSCHITZ_CURVE_NAME, reproduce  # noqa: E402

EPOCHS = 4

_real_train_epoch = training._train_epoch


@pytest.fixture
def four_epochs(monkeypatch):
    """Train the micro profile for 4 epochs with a checkpoint every 2 epochs and a curve point every epoch."""
    real_settings = experiments.experiment_settings

    def settings(profile, device="auto", seed=None):
        base = real_settings(profile, device, seed)
        config = dataclasses.replace(base.training, epochs=EPOCHS, checkpoint_every=2)
        return dataclasses.replace(base, training=config, epochs_every=1)

    monkeypatch.setattr(experiments, "experiment_settings", settings)



def _curves(rows):
    return {row["model"]: row["lipschitz_by_epoch"] for row in rows}


def test_epochs_resume_after_interrupt_keeps_curve(four_epochs, interrupt_at_epoch, monkeypatch, tmp_path):
    reference = _curves(reproduce("epochs", profile="micro", out=tmp_path / "whole", device="cpu"))
    assert [epoch for epoch, _ in reference["gan"]] == [1, 2, 3, 4]
    assert [epoch for epoch, _ in reference["vae"]] == [1, 2, 3, 4]

    out = tmp_path / "interrupted"
    # Epoch 4 starts after the checkpoint of epoch 2 and the curve point of epoch 3.
    interrupt_at_epoch(4)
    with pytest.raises(KeyboardInterrupt):
        reproduce("epochs", profile="micro", out=out, device="cpu")
    assert load_checkpoint(out / "checkpoints" / "epochs-gan")["epoch"] == 2
    monkeypatch.setattr(training, "_train_epoch", _real_train_epoch)

    resumed = reproduce("epochs", profile="micro", out=out, device="cpu", resume=True)
    assert _curves(resumed) == reference


def test_epochs_resume_of_finished_run_keeps_curve(four_epochs, tmp_path):
    first = _curves(reproduce("epochs", profile="micro", out=tmp_path, device="cpu"))
    again = reproduce("epochs", profile="micro", out=tmp_path, device="cpu", resume=True)
    assert _curves(again) == first
    assert len(first["gan"]) == EPOCHS
    stored = json.loads((tmp_path / "report.json").read_text())
    assert _curves(stored) == first
    # The wall time counts only the resumed part, and the report states it.
    assert json.loads((tmp_path / "run_info.json").read_text())["resumed"] is True
    assert "Wall time since the resume: " in (tmp_path / "report.md").read_text()


def test_epochs_resume_without_curve_file_is_rejected(four_epochs, tmp_path):
    reproduce("epochs", profile="micro", out=tmp_path, device="cpu")
    curve = tmp_path / "checkpoints" / "epochs-gan" / LIPSCHITZ_CURVE_NAME
    curve.unlink()
    with pytest.raises(ValueError, match="not found.*rerun without --resume"):
        reproduce("epochs", profile="micro", out=tmp_path, device="cpu", resume=True)


def test_epochs_resume_reads_tensors_once(four_epochs, monkeypatch, tmp_path):
    reproduce("epochs", profile="micro", out=tmp_path, device="cpu")
    loads = []
    real_load = torch.load

    def counting_load(path, *args, **kwargs):
        loads.append(bool(kwargs.get("mmap")))
        return real_load(path, *args, **kwargs)

    monkeypatch.setattr(torch, "load", counting_load)
    reproduce("epochs", profile="micro", out=tmp_path, device="cpu", resume=True)
    # One memory-mapped look at the epoch and one full load per model (GAN, VAE).
    assert loads.count(False) == 2
    assert loads.count(True) == 2
