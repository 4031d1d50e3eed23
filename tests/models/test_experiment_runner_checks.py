"""Checks of the experiment runner and command line as a user runs them (seconds each).

Output folders shared by several commands, a repeated ``--m``, resuming
after Ctrl-C, and the numbers of a report row against an independent
recomputation from the saved weights.
"""

import json
import math

import numpy as np
import pytest
from scipy.stats import norm

torch = pytest.importorskip("torch")

from isobounds_models.cli import build_parser, main  # noqa: E402
from isobounds_models.experiments import other_results, reproduce  # noqa: E402
from isobounds_models.training import TrainedModels  # noqa: E402


def _one_line_error(capsys, argv):
    """Run ``argv``; assert exit status 2 with one error line and no traceback; return that line."""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1, err
    return lines[0]


def _fake_univariate_results(out):
    """Write the report and run information of a finished ``reproduce univariate`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text('[{"model": "gan", "m": 3.0}]\n')
    (out / "run_info.json").write_text('{"experiment": "univariate", "profile": "micro"}\n')
    return (out / "report.json").read_text()


# Output folders that contain the results of another command.


def test_resume_of_other_experiment_keeps_its_report(tmp_path, capsys):
    # The old code accepted "reproduce bounds --resume" in a univariate folder and replaced its report by [].
    report = _fake_univariate_results(tmp_path)
    line = _one_line_error(capsys, ["reproduce", "bounds", "--profile", "micro", "--out", str(tmp_path), "--resume"])
    assert "reproduce 'univariate'" in line
    assert "choose another folder with --out" in line
    assert (tmp_path / "report.json").read_text() == report
    with pytest.raises(ValueError, match="univariate"):
        reproduce("bounds", profile="micro", out=tmp_path, device="cpu", resume=True)
    assert (tmp_path / "report.json").read_text() == report


@pytest.mark.parametrize("resume", [[], ["--resume"]])
def test_reproduce_rejects_checkpoints_of_train(tmp_path, capsys, resume):
    # A checkpoint of 'train --model gan' cannot be continued by an experiment, whose labels differ, so
    # the message must not advise --resume.
    folder = tmp_path / "checkpoints" / "gan"
    folder.mkdir(parents=True)
    (folder / "checkpoint.pt").write_bytes(b"not read")
    argv = ["reproduce", "gan-penalty", "--profile", "micro", "--out", str(tmp_path)] + resume
    line = _one_line_error(capsys, argv)
    assert "checkpoints of another run" in line
    assert "gan" in line
    assert not (tmp_path / "report.json").exists()


def test_same_experiment_and_temporary_files_are_accepted(tmp_path):
    (tmp_path / "run_info.json").write_text('{"experiment": "epochs"}\n')
    (tmp_path / "checkpoints" / "epochs-gan").mkdir(parents=True)
    (tmp_path / "checkpoints" / "epochs-gan" / "checkpoint.pt").write_bytes(b"")
    # A write killed before its rename leaves only a temporary file, which is no result.
    (tmp_path / "checkpoints" / "gan").mkdir()
    (tmp_path / "checkpoints" / "gan" / ".checkpoint.pt.abc_123.tmp").write_bytes(b"")
    assert other_results(tmp_path, "epochs") is None
    assert "reproduce 'epochs'" in other_results(tmp_path, "depth")
    assert other_results(tmp_path / "missing", "depth") is None


@pytest.mark.parametrize("name", [".DS_Store", ".checkpoint.pt.abc_123.tmp", "notes.txt"])
def test_loose_file_in_checkpoints_is_no_run(tmp_path, name):
    (tmp_path / "checkpoints" / "univariate-vae").mkdir(parents=True)
    (tmp_path / "checkpoints" / name).write_bytes(b"")
    assert other_results(tmp_path, "univariate") is None


def test_evaluate_keeps_report_of_experiment(tmp_path, capsys):
    # The old code measured the trained GAN and replaced the univariate report with its one row.
    assert main(["train", "--model", "gan", "--m", "1", "--profile", "micro", "--out", str(tmp_path)]) == 0
    report = _fake_univariate_results(tmp_path)
    capsys.readouterr()
    line = _one_line_error(capsys, ["evaluate", "--model", "gan", "--profile", "micro", "--out", str(tmp_path)])
    assert "evaluate --model gan" in line
    assert (tmp_path / "report.json").read_text() == report


def test_repeated_m_option_adds_values():
    # argparse's default "store" kept only the last --m, so "--m 1 --m 2" trained m = 2 alone.
    args = build_parser().parse_args(["train", "--model", "gan", "--m", "1", "--m", "2", "5"])
    assert args.m == [1.0, 2.0, 5.0]
    assert build_parser().parse_args(["train", "--model", "gan"]).m is None


# Ctrl-C and --resume.


def test_resumed_report_equals_uninterrupted(interrupt_at_epoch, monkeypatch, tmp_path, capsys):
    common = ["reproduce", "gan-penalty", "--profile", "micro", "--device", "cpu"]
    assert main(common + ["--out", str(tmp_path / "whole")]) == 0
    interrupt_at_epoch(2)
    assert main(common + ["--out", str(tmp_path / "parts")]) == 130
    assert "--resume" in capsys.readouterr().err.strip().splitlines()[-1]
    monkeypatch.undo()
    assert main(common + ["--out", str(tmp_path / "parts"), "--resume"]) == 0
    whole = json.loads((tmp_path / "whole" / "report.json").read_text())
    parts = json.loads((tmp_path / "parts" / "report.json").read_text())
    assert parts == whole


# A report row against an independent recomputation from the saved weights.


def _numpy_generator(module):
    """Return the generator ``module`` (Linear layers and LeakyReLU(0.2)) as a float64 numpy function."""
    layers = [layer for layer in module.modules() if isinstance(layer, torch.nn.Linear)]
    weights = [layer.weight.detach().double().numpy() for layer in layers]
    biases = [layer.bias.detach().double().numpy() for layer in layers]

    def g(z):
        h = z[None, :]
        for k, (w, b) in enumerate(zip(weights, biases)):
            h = w @ h + b[:, None]
            if k < len(weights) - 1:
                h = np.where(h > 0, h, 0.2 * h)
        return h[0]

    def g_chunked(z):
        return np.concatenate([g(chunk) for chunk in np.array_split(z, max(1, z.size // 50_000))])

    return g_chunked


def test_gan_row_matches_independent_recomputation(tmp_path):
    assert main(["train", "--model", "gan", "--m", "1.5", "--profile", "micro", "--out", str(tmp_path)]) == 0
    assert main(["evaluate", "--model", "gan", "--profile", "micro", "--out", str(tmp_path)]) == 0
    (row,) = json.loads((tmp_path / "report.json").read_text())
    trained = TrainedModels.load(tmp_path / "checkpoints" / "gan")
    module = trained.get_generator(0)
    assert (row["model"], row["m"], row["seed"]) == ("gan", 1.5, 0)
    g, m = _numpy_generator(module), 1.5

    # rho = g # N(0, 1) on z-cells of [-9, 9] (mass outside 2e-19), binned in x. The binned TV is at most
    # the exact TV, and it converges to it as the cells and bins shrink. The z-cells span under 1e-4 in x here.
    z = np.linspace(-9.0, 9.0, 200_001)
    values = g(z)
    x = 0.5 * (values[1:] + values[:-1])  # g at the cell midpoints where g is linear on the cell
    weights = np.diff(norm.cdf(z))
    slopes = np.abs(np.diff(values) / np.diff(z))
    assert slopes.max() <= row["lipschitz"] * (1 + 1e-6)
    assert slopes.max() >= row["lipschitz"] * (1 - 1e-3)
    assert slopes.max() * (z[1] - z[0]) < 1e-4

    edges = np.linspace(min(x.min(), -m - 12), max(x.max(), m + 12), 400_001)
    rho, _ = np.histogram(x, bins=edges, weights=weights)
    nu = np.diff(0.5 * (norm.cdf(edges + m) + norm.cdf(edges - m)))
    binned_tv = 0.5 * np.abs(rho - nu).sum()
    assert row["tv"] - 1e-3 < binned_tv <= row["tv"] + 1e-9

    # Monte Carlo of the saved generator for the mass between the modes, within 5 standard errors.
    with torch.no_grad():
        draws = module(torch.randn(200_000, 1, generator=torch.Generator().manual_seed(7))).double().numpy()
    p = np.mean(np.abs(draws) <= m / 2)
    assert abs(p - row["mass_between"]) <= 5 * math.sqrt(max(p * (1 - p), 1e-6) / draws.size)
    # nu([-m/2, m/2]): both components put Phi(3m/2) - Phi(m/2) there.
    target_between = norm.cdf(1.5 * m) - norm.cdf(0.5 * m)
    assert row["target_mass_between"] == pytest.approx(target_between, rel=1e-9)

    # TV bound: Theorem 4 on the half-lines at 0 with the model's masses, best radius on a fine grid, and
    # Corollary 6, written here with scipy. The report takes its radius from a grid, so it may lie a little below.
    lip, r = row["lipschitz"], np.linspace(1e-4, 60.0, 300_001)
    shell = 0.5 * (norm.cdf(r - m) - norm.cdf(-m)) + 0.5 * (norm.cdf(r + m) - norm.cdf(m))
    best = 0.0
    for mass in (row["mass_left"], row["mass_right"]):
        alpha = norm.cdf(norm.ppf(mass) + r / lip) if 0 < mass < 1 else np.full_like(r, float(mass >= 1))
        best = max(best, float(np.max(alpha - min(mass, 0.5) - shell)))
    corollary6 = norm.cdf(2 * m / (4 * lip)) - 0.5 - 0.5 * (norm.cdf(3 * 2 * m / 4) - norm.cdf(2 * m / 4))
    assert row["tv_bound"] == pytest.approx(max(best, corollary6, 0.0), abs=1e-5)
    assert row["tv"] >= row["tv_bound"]


@pytest.mark.parametrize("out", ["", "   "])
def test_empty_out_folder_rejected(out, capsys):
    # Path("") is the current folder, so an empty --out would write there silently.
    with pytest.raises(SystemExit) as stop:
        build_parser().parse_args(["reproduce", "bounds", "--out", out])
    assert stop.value.code == 2
    assert "argument --out: expected a folder name" in capsys.readouterr().err


def test_evaluate_of_two_models_reports_both(tmp_path):
    # Evaluating the VAE after the GAN used to replace the GAN's rows in report.json.
    for model in ("gan", "vae"):
        assert main(["train", "--model", model, "--m", "1", "--profile", "micro", "--out", str(tmp_path)]) == 0
    for model in ("gan", "vae", "gan"):
        assert main(["evaluate", "--model", model, "--profile", "micro", "--out", str(tmp_path)]) == 0
    rows = json.loads((tmp_path / "report.json").read_text())
    assert sorted(row["model"] for row in rows) == ["gan", "vae"]
    assert all(row["experiment"] == "evaluate" for row in rows)
    report = (tmp_path / "report.md").read_text()
    assert "evaluate --model gan, vae" in report


@pytest.mark.parametrize("content", ["{", '{"model": "gan"}'])
def test_evaluate_keeps_damaged_report(tmp_path, capsys, content):
    # A report.json that is not a list of rows counted as no rows, so evaluate replaced it without a word.
    assert main(["train", "--model", "gan", "--m", "1", "--profile", "micro", "--out", str(tmp_path)]) == 0
    (tmp_path / "report.json").write_text(content)
    capsys.readouterr()
    assert main(["evaluate", "--model", "gan", "--profile", "micro", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert f"the earlier report {str(tmp_path / 'report.json')!r}" in err
    assert "repair or remove it" in err
    assert (tmp_path / "report.json").read_text() == content
