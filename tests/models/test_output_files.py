"""Output files: readable modes and no silent overwrite of earlier checkpoints."""

import os
import stat

import pytest

from isobounds_models.checkpoint import atomic_write_text
from isobounds_models.cli import main


def test_atomic_write_uses_umask_mode(tmp_path):
    previous = os.umask(0o022)
    try:
        path = tmp_path / "report.md"
        atomic_write_text(path, "table\n")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert path.read_text() == "table\n"


def test_rerun_without_resume_is_rejected(tmp_path, capsys):
    checkpoint = tmp_path / "checkpoints" / "univariate-vae" / "checkpoint.pt"
    checkpoint.parent.mkdir(parents=True)
    checkpoint.write_bytes(b"earlier run")
    with pytest.raises(SystemExit) as exit_info:
        main(["reproduce", "univariate", "--profile", "micro", "--out", str(tmp_path), "--device", "cpu"])
    assert exit_info.value.code == 2
    assert "--resume" in capsys.readouterr().err
    assert checkpoint.read_bytes() == b"earlier run"


def test_out_that_is_a_file_is_rejected(tmp_path, capsys):
    target = tmp_path / "afile"
    target.write_text("x")
    with pytest.raises(SystemExit) as exit_info:
        main(["reproduce", "univariate", "--profile", "micro", "--out", str(target), "--device", "cpu"])
    assert exit_info.value.code == 2
    assert "is a file" in capsys.readouterr().err
