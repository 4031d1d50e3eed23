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


def _interrupt_checkpoint_write(monkeypatch, epoch):
    """Make the checkpoint write of ``epoch`` raise KeyboardInterrupt; return the arguments of setattr that undo it."""
    real_save = training._checkpoint.save_checkpoint

    def interrupting_save(folder, state):
        if state["epoch"] == epoch:
            raise KeyboardInterrupt
        return real_save(folder, state)

    monkeypatch.setattr(training._checkpoint, "save_checkpoint", interrupting_save)
    return training._checkpoint, "save_checkpoint", real_save


@pytest.mark.parametrize("step", ["curve point", "checkpoint write"])
def test_epochs_resume_after_kill_at_epoch_end(four_epochs, monkeypatch, tmp_path, step):
    # A kill while epoch 4 records its curve point, or just after it while its checkpoint is
    # written: the checkpoint of epoch 2 and the curve must still resume together.
    reference = _curves(reproduce("epochs", profile="micro", out=tmp_path / "whole", device="cpu"))
    out = tmp_path / "killed"
    if step == "curve point":
        real_exact_lipschitz = experiments._exact_lipschitz

        def interrupting_exact_lipschitz(trained, run):
            if trained.epochs_completed == EPOCHS:
                raise KeyboardInterrupt
            return real_exact_lipschitz(trained, run)

        monkeypatch.setattr(experiments, "_exact_lipschitz", interrupting_exact_lipschitz)
        restore = (experiments, "_exact_lipschitz", real_exact_lipschitz)
    else:
        restore = _interrupt_checkpoint_write(monkeypatch, EPOCHS)
    with pytest.raises(KeyboardInterrupt):
        reproduce("epochs", profile="micro", out=out, device="cpu")
    assert load_checkpoint(out / "checkpoints" / "epochs-gan")["epoch"] == 2
    monkeypatch.setattr(*restore)

    resumed = reproduce("epochs", profile="micro", out=out, device="cpu", resume=True)
    assert _curves(resumed) == reference


def test_epochs_curve_belongs_to_each_run(monkeypatch, tmp_path):
    real_settings = experiments.experiment_settings

    def two_seeds(profile, device="auto", seed=None):
        base = real_settings(profile, device, seed)
        config = dataclasses.replace(base.training, seeds=(0, 1), epochs=2)
        return dataclasses.replace(base, training=config, epochs_every=1)

    monkeypatch.setattr(experiments, "experiment_settings", two_seeds)
    rows = reproduce("epochs", profile="micro", out=tmp_path, device="cpu")
    assert sorted((row["model"], row["seed"]) for row in rows) == [("gan", 0), ("gan", 1), ("vae", 0), ("vae", 1)]
    for row in rows:
        assert [epoch for epoch, _ in row["lipschitz_by_epoch"]] == [1, 2]
        # The last point is the exact constant of this row's own final generator.
        assert row["lipschitz_by_epoch"][-1][1] == pytest.approx(row["lipschitz"], rel=1e-12)
    for model in ("gan", "vae"):
        first, second = (row["lipschitz_by_epoch"] for row in rows if row["model"] == model)
        assert first != second
    stored = json.loads((tmp_path / "checkpoints" / "epochs-gan" / LIPSCHITZ_CURVE_NAME).read_text())
    assert [len(point) for point in stored["lipschitz_by_epoch"]] == [3, 3]


def test_epochs_resume_with_two_runs(monkeypatch, tmp_path):
    # Points hold one constant per run, so resuming must read points of three values.
    real_settings = experiments.experiment_settings

    def two_seeds(profile, device="auto", seed=None):
        base = real_settings(profile, device, seed)
        config = dataclasses.replace(base.training, seeds=(0, 1), epochs=EPOCHS, checkpoint_every=2)
        return dataclasses.replace(base, training=config, epochs_every=1)

    monkeypatch.setattr(experiments, "experiment_settings", two_seeds)

    def curves(rows):
        return {(row["model"], row["seed"]): row["lipschitz_by_epoch"] for row in rows}

    reference = curves(reproduce("epochs", profile="micro", out=tmp_path / "whole", device="cpu"))
    again = curves(reproduce("epochs", profile="micro", out=tmp_path / "whole", device="cpu", resume=True))
    assert again == reference

    restore = _interrupt_checkpoint_write(monkeypatch, EPOCHS)
    with pytest.raises(KeyboardInterrupt):
        reproduce("epochs", profile="micro", out=tmp_path / "killed", device="cpu")
    monkeypatch.setattr(*restore)
    resumed = curves(reproduce("epochs", profile="micro", out=tmp_path / "killed", device="cpu", resume=True))
    assert resumed == reference
