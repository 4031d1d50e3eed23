"""One-line errors for corrupt checkpoints, and evaluate without creating a missing output folder."""

import pytest

torch = pytest.importorskip("torch")

from isobounds_models.checkpoint import CheckpointError, load_checkpoint  # noqa: E402
from isobounds_models.cli import main  # noqa: E402


@pytest.fixture(scope="module")
def trained_gan(tmp_path_factory, one_thread_per_module):
    """Train the micro GAN at m = 1 once and return the bytes of its checkpoint."""
    out = tmp_path_factory.mktemp("gan")
    assert main(["train", "--model", "gan", "--m", "1", "--profile", "micro", "--out", str(out)]) == 0
    return (out / "checkpoints" / "gan" / "checkpoint.pt").read_bytes()


def _damaged(data):
    return {
        "truncated": data[: len(data) // 2],
        "empty": b"",
        "garbage": b"not a checkpoint " * 20,
    }


@pytest.mark.parametrize("damage", ["truncated", "empty", "garbage"])
@pytest.mark.parametrize("command", ["evaluate", "train"])
def test_corrupt_checkpoint_one_line_exit_2(trained_gan, tmp_path, capsys, damage, command):
    checkpoint = tmp_path / "checkpoints" / "gan" / "checkpoint.pt"
    checkpoint.parent.mkdir(parents=True)
    checkpoint.write_bytes(_damaged(trained_gan)[damage])
    argv = [command, "--model", "gan", "--profile", "micro", "--out", str(tmp_path)]
    if command == "train":
        argv += ["--m", "1", "--resume"]

    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("isobounds-models: error: checkpoint file ")
    assert str(checkpoint) in err[0]
    assert "delete it and train again" in err[0]
    assert "Traceback" not in err[0]


def test_load_checkpoint_rejects_non_state(tmp_path):
    torch.save([1, 2, 3], tmp_path / "checkpoint.pt")
    with pytest.raises(CheckpointError, match="contains no training state"):
        load_checkpoint(tmp_path)


def test_load_checkpoint_error_is_value_error(tmp_path):
    (tmp_path / "checkpoint.pt").write_bytes(b"")
    with pytest.raises(ValueError, match="corrupt or truncated"):
        load_checkpoint(tmp_path)


def test_evaluate_missing_out_not_created(tmp_path, capsys):
    out = tmp_path / "missing"
    assert main(["evaluate", "--model", "gan", "--profile", "micro", "--out", str(out)]) == 2
    assert "no trained models" in capsys.readouterr().err
    assert not out.exists()


def _edited(state, edit):
    """Apply one edit named ``edit`` to a loaded checkpoint state, in place."""
    if edit == "no networks":
        state["networks"] = {}
    elif edit == "unknown model":
        state["model"] = "flow"
    elif edit == "wrong shape":
        networks = state["networks"]["generator"]
        name = next(key for key in networks if key.endswith("weight"))
        networks[name] = torch.zeros(3, 3)
    elif edit == "no runs":
        state["runs"] = []
    elif edit == "unknown setting":
        state["config"] = {"foo": 1}
    elif edit == "config not a dictionary":
        state["config"] = [1, 2]
    elif edit == "epoch not an integer":
        state["epoch"] = "x"
    elif edit == "epoch past the end":
        state["epoch"] = 10**6
    elif edit == "nan weights":
        networks = state["networks"]["generator"]
        name = next(key for key in networks if key.endswith("weight"))
        networks[name] = torch.full_like(networks[name], float("nan"))


@pytest.mark.parametrize("edit", ["no networks", "unknown model", "wrong shape", "no runs", "unknown setting",
                                  "config not a dictionary", "epoch not an integer", "epoch past the end",
                                  "nan weights"])
@pytest.mark.parametrize("command", ["evaluate", "train"])
def test_invalid_contents_one_line_exit_2(trained_gan, tmp_path, capsys, edit, command):
    checkpoint = tmp_path / "checkpoints" / "gan" / "checkpoint.pt"
    checkpoint.parent.mkdir(parents=True)
    checkpoint.write_bytes(trained_gan)
    state = torch.load(checkpoint, weights_only=True)
    _edited(state, edit)
    torch.save(state, checkpoint)
    argv = [command, "--model", "gan", "--profile", "micro", "--out", str(tmp_path)]
    if command == "train":
        argv += ["--m", "1", "--resume"]

    status = main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2
    assert len(err) == 1
    assert "Traceback" not in err[0]
    if not (command == "train" and edit in ("unknown model", "no runs", "unknown setting")):
        assert str(checkpoint) in err[0]
    else:
        # A resume first compares the model, runs and settings, and names the folder when they differ.
        assert str(checkpoint.parent) in err[0]


def test_evaluate_rejects_other_model(tmp_path, capsys):
    assert main(["train", "--model", "vae", "--m", "1", "--profile", "micro", "--out", str(tmp_path)]) == 0
    (tmp_path / "checkpoints" / "vae").rename(tmp_path / "checkpoints" / "gan")
    capsys.readouterr()

    assert main(["evaluate", "--model", "gan", "--profile", "micro", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "contains 'vae' runs, not 'gan'" in err[0]
    assert not (tmp_path / "report.json").exists()


@pytest.mark.parametrize("blocked", ["checkpoints", "report.json"])
def test_unwritable_output_file_one_line_exit_2(tmp_path, capsys, blocked):
    # A file where the checkpoint folder goes, or a folder where the report goes, fails while the command runs.
    if blocked == "checkpoints":
        (tmp_path / "checkpoints").write_text("in the way")
    else:
        (tmp_path / "report.json").mkdir()

    status = main(["reproduce", "depth", "--profile", "micro", "--device", "cpu", "--out", str(tmp_path)])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2
    assert len(err) == 1
    assert err[0].startswith("isobounds-models: error: reading or writing ")
    assert str(tmp_path / blocked) in err[0]
