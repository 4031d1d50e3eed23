"""Tests from a review of the isobounds-models command line, run as a new user would run it."""

import json

import pytest

torch = pytest.importorskip("torch")

from isobounds_models.cli import main  # noqa: E402


def test_evaluate_interrupted_training_warns(tmp_path, capsys, interrupt_at_epoch):
    # The micro profile trains 2 epochs with a checkpoint after each. Interrupted when the second epoch
    # starts, the checkpoint contains the models after exactly 1 of the 2 epochs.
    out = str(tmp_path / "run")
    interrupt_at_epoch(2)
    assert main(["train", "--model", "gan", "--m", "2", "--profile", "micro", "--out", out]) == 130
    capsys.readouterr()

    assert main(["evaluate", "--model", "gan", "--profile", "micro", "--out", out]) == 0
    captured = capsys.readouterr()
    assert "warning" in captured.err
    assert "stopped at epoch 1 of 2" in captured.err
    assert "--resume" in captured.err
    assert "training unfinished (1 of 2 epochs)" in captured.out

    rows = json.loads((tmp_path / "run" / "report.json").read_text())
    assert [(row["epochs_completed"], row["epochs"]) for row in rows] == [(1, 2)]
    report = (tmp_path / "run" / "report.md").read_text()
    assert "Unfinished training: gan m=2 seed 0 (1 of 2 epochs)" in report


def test_unfinished_training_lines_cases():
    from isobounds_models.report import unfinished_training_lines

    rows = [{"model": "vae", "m": 1.0, "seed": 0, "epochs_completed": 20, "epochs": 20},
            {"model": "gan", "m": 1.0, "seed": 0}]
    assert unfinished_training_lines(rows) == []
    rows.append({"model": "gan", "m": 4.0, "seed": 3, "epochs_completed": 5, "epochs": 20})
    assert "gan m=4 seed 3 (5 of 20 epochs)" in unfinished_training_lines(rows)[0]


def test_epochs_figure_title_names_m(tmp_path, monkeypatch):
    # The sweep figures name m in their titles, so Figure S5 (reproduce epochs) names it too.
    from isobounds_models import figures

    drawn = []
    monkeypatch.setattr(figures, "save_figure", lambda figure, stem: drawn.append(figure))
    figures.figure_epochs({"gan": [(5, 13.9), (10, 15.9)], "vae": [(5, 2.2), (10, 3.6)]}, tmp_path / "s5", m=5.0)
    (axis,) = drawn[0].axes
    assert "m = 5" in axis.get_title()
    assert axis.get_xlabel() == "epoch"


class _TrainingStarted(Exception):
    """Raised by a stand-in for ``train``, so that a test learns whether training started."""


@pytest.mark.parametrize("leftover", ["checkpoint", "temporary file"])
def test_reproduce_rejects_earlier_checkpoints(tmp_path, monkeypatch, leftover):
    # Without resume, reproduce must reject the checkpoints of an earlier run before it trains any model.
    from isobounds_models import experiments

    folder = tmp_path / "checkpoints" / "depth-gan-2"
    folder.mkdir(parents=True)
    name = "checkpoint.pt" if leftover == "checkpoint" else ".checkpoint.pt.abc123.tmp"
    (folder / name).write_bytes(b"earlier run")

    def start_training(*args, **kwargs):
        raise _TrainingStarted

    monkeypatch.setattr(experiments, "train", start_training)
    if leftover == "checkpoint":
        with pytest.raises(ValueError, match=r"already contains checkpoints of an earlier run.*resume=True"):
            experiments.reproduce("depth", profile="micro", out=tmp_path, device="cpu")
    else:
        # The temporary file of a killed write is no earlier run, so the experiment reaches its first training.
        with pytest.raises(_TrainingStarted):
            experiments.reproduce("depth", profile="micro", out=tmp_path, device="cpu")


@pytest.mark.parametrize("kls, least", [((0.15, 0.4), 2), ((0.0, 3.0), 3)])
def test_kl_panel_labels_narrow_range(monkeypatch, kls, least):
    # With KL values within one decade the symlog panel showed at most one labelled tick.
    from isobounds_models import figures

    drawn = []
    monkeypatch.setattr(figures, "save_figure", lambda figure, stem: drawn.append(figure) or [])
    rows = [{"model": "gan", "m": m, "seed": 0, "lipschitz": 3.0, "tv": 0.2, "tv_bound": 0.1, "kl": kl,
             "kl_bound": kl, "mass_between": 0.1, "mass_between_bound": 0.05} for m, kl in zip((2.0, 3.0), kls)]
    figures.figure_univariate(rows, "unused")
    kl_axis = drawn[0].axes[2]
    drawn[0].canvas.draw()
    low, high = kl_axis.get_ylim()
    labels = [label.get_text() for label in kl_axis.get_yticklabels() if low <= label.get_position()[1] <= high]
    assert len([text for text in labels if text]) >= least
