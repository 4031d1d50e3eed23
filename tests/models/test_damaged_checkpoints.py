"""One-line errors for corrupt checkpoints, and evaluate without creating a missing output folder."""

import pytest

torch = pytest.importorskip("torch")

from isobounds_models.checkpoint import CheckpointError, load_checkpoint  # noqa: E402
from isobounds_models.cli import main  # noqa: E402


@pytest.fixture(scope="module")
def trained_gan(tmp_path_factory):
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
