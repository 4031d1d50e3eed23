"""Tests of the isobounds-models command line: invalid input gets a clear message."""

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
from scipy.stats import norm

torch = pytest.importorskip("torch")

from isobounds_models.cli import main  # noqa: E402


def _error_message(capsys, argv):
    with pytest.raises(SystemExit) as raised:
        main(argv)
    assert raised.value.code == 2
    return capsys.readouterr().err


def test_unknown_model_message(capsys, tmp_path):
    message = _error_message(capsys, ["train", "--model", "flow", "--out", str(tmp_path)])
    assert "--model must be one of vae, gan, sgm" in message
    assert "--model 'flow'" in message
    # The usage line and the error name the subcommand, as argparse does for its own errors.
    assert "isobounds-models train: error:" in message


def test_negative_m_message(capsys, tmp_path):
    message = _error_message(capsys, ["train", "--model", "gan", "--m", "2", "-1", "--out", str(tmp_path)])
    assert "--m must be nonnegative finite numbers, got --m -1.0" in message


def test_m_beyond_float32_resolution_message(capsys, tmp_path):
    # float32 data near 1e7 are spaced by 1, too coarse for modes of standard deviation 1.
    message = _error_message(capsys, ["train", "--model", "gan", "--m", "1e7", "--out", str(tmp_path)])
    assert "--m must be at most 1e+06, because the training data are float32, got --m 1e+07" in message


def test_training_config_rejects_m_beyond_float32_resolution():
    from isobounds_models.training import TrainingConfig

    assert np.spacing(np.float32(1e7)) == 1.0
    with pytest.raises(ValueError, match=r"m must be a nonnegative number of at most 1e\+06 .*got m=10000000.0"):
        TrainingConfig(ms=(2.0, 1e7))


def test_unknown_experiment_message(capsys, tmp_path):
    message = _error_message(capsys, ["reproduce", "mnist", "--out", str(tmp_path)])
    assert "experiment must be one of univariate" in message
    assert "'mnist'" in message


def test_unknown_profile_message(capsys, tmp_path):
    message = _error_message(capsys, ["reproduce", "univariate", "--profile", "fast", "--out", str(tmp_path)])
    assert "--profile must be one of quick, paper, micro, got --profile 'fast'" in message


def test_unknown_device_message(capsys, tmp_path):
    message = _error_message(capsys, ["reproduce", "bounds", "--device", "tpu", "--out", str(tmp_path)])
    assert "--device must be one of auto, cpu, cuda, got --device 'tpu'" in message


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_gpu_message(capsys, tmp_path):
    message = _error_message(capsys, ["reproduce", "bounds", "--device", "cuda", "--out", str(tmp_path)])
    assert "torch finds no CUDA device" in message


def test_output_folder_under_a_file(capsys, tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder")
    message = _error_message(capsys, ["reproduce", "bounds", "--out", str(blocker / "results")])
    assert "output folder is not writable" in message
    assert "--out" in message


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can write to read-only folders")
def test_read_only_output_folder(capsys, tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        message = _error_message(capsys, ["reproduce", "bounds", "--out", str(folder)])
    finally:
        folder.chmod(0o700)
    assert "output folder is not writable" in message


def test_evaluate_without_training_message(capsys, tmp_path):
    assert main(["evaluate", "--model", "gan", "--out", str(tmp_path)]) == 2
    message = capsys.readouterr().err
    assert message.startswith("isobounds-models: error: no trained models")
    assert "isobounds-models train --model gan" in message


@pytest.mark.parametrize("threads", ["0", "99999999999"])
def test_threads_out_of_range_message(capsys, tmp_path, threads):
    message = _error_message(capsys, ["reproduce", "bounds", "--threads", threads, "--out", str(tmp_path)])
    assert re.search(rf"--threads must be an integer in \[1, \d+\], got --threads {threads}$", message.strip())


def test_threads_option_sets_torch_threads(tmp_path):
    # The subprocess keeps the thread count of this test process unchanged.
    code = ("import torch; from isobounds_models.cli import main; "
            f"status = main(['reproduce', 'bounds', '--threads', '1', '--out', {str(tmp_path)!r}]); "
            "print(status, torch.get_num_threads())")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-2:] == ["0", "1"]


def test_version_option(capsys):
    import isobounds

    with pytest.raises(SystemExit) as raised:
        main(["--version"])
    assert raised.value.code == 0
    assert capsys.readouterr().out.strip() == f"isobounds-models {isobounds.__version__}"


def test_module_entry_point_help():
    result = subprocess.run([sys.executable, "-m", "isobounds_models", "--help"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0
    for command in ("reproduce", "train", "evaluate"):
        assert command in result.stdout


def test_reproduce_bounds_outputs(tmp_path, capsys):
    assert main(["reproduce", "bounds", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "figureS3_bounds.png").stat().st_size > 0
    assert (tmp_path / "figureS3_bounds.pdf").stat().st_size > 0
    assert (tmp_path / "report.json").read_text().strip() == "[]"
    report = (tmp_path / "report.md").read_text()
    assert "bounds.json" in report
    assert "lam = 1/2 in Corollary 8" in report
    for absent in ("|", "rho(mid)", "L grid", "Checks:"):
        assert absent not in report
    assert "no report rows" in capsys.readouterr().out

    curves = json.loads((tmp_path / "bounds.json").read_text())
    assert {row["m"] for row in curves} == {1, 2, 3, 5, 7, 10}
    assert len(curves) == 6 * 121
    for row in curves[::37]:
        tv, kl = _balanced_corollaries(row["m"], row["lipschitz"])
        assert row["tv_bound_corollary6"] == pytest.approx(tv, rel=1e-9, abs=1e-12)
        assert row["kl_bound_corollary8"] == pytest.approx(kl, rel=1e-7, abs=1e-12)
    assert any(row["tv_bound_corollary6"] > 0.1 for row in curves)


def _balanced_corollaries(m, lip):
    """Corollaries 6 and 8 (corrected, lam = 1/2) for (1/2)[N(-m, 1) + N(m, 1)], in scipy float64.

    With D = 2m and s = 1: TV >= [Phi(m / (2L)) - 1/2] - b, and KL >= kl_bin(a || b)
    when a >= b, where a = Phi(m / (2L)) - 1/2 and b = (1/2)[Phi(3m/2) - Phi(m/2)].
    """
    a = norm.cdf(m / (2 * lip)) - 0.5
    b = 0.5 * (norm.sf(m / 2) - norm.sf(3 * m / 2))
    kl = a * np.log(a / b) + (1 - a) * np.log((1 - a) / (1 - b)) if a >= b else 0.0
    return max(a - b, 0.0), kl


def test_suggested_command_quotes_out(capsys, tmp_path):
    # The suggested command must work when pasted into a shell, spaces included.
    import shlex

    folder = tmp_path / "with space"
    folder.mkdir()
    assert main(["evaluate", "--model", "gan", "--out", str(folder)]) == 2
    message = capsys.readouterr().err
    suggestion = message.split("with: ", 1)[1].strip()
    assert shlex.split(suggestion)[-1] == str(folder)


def test_invalid_matplotlib_backend_message(tmp_path):
    # matplotlib rejects an unknown MPLBACKEND when it is imported, before anything is measured.
    env = {**os.environ, "MPLBACKEND": "no-such-backend"}
    argv = [sys.executable, "-m", "isobounds_models", "reproduce", "bounds", "--profile", "micro",
            "--out", str(tmp_path / "out")]
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "MPLBACKEND='no-such-backend'" in result.stderr
    assert "unset it or set it to agg" in result.stderr
