"""Report findings per variant with the target mass near each mode, run_info settings, and figures at large m."""

import dataclasses
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from scipy.stats import norm

torch = pytest.importorskip("torch")

from isobounds_models import experiments, figures  # noqa: E402
from isobounds_models.cli import main  # noqa: E402
from isobounds_models.experiments import reproduce  # noqa: E402
from isobounds_models.networks import depth_hidden_sizes  # noqa: E402
from isobounds_models.report import findings, markdown_report, target_mass_near_mode  # noqa: E402


def _row(model, m, mass_between, near, variant=None, seed=0):
    row = {"model": model, "m": m, "seed": seed, "lipschitz": 2.0, "tv": 0.5, "kl": 1.0, "tv_bound": 0.1,
           "kl_bound": 0.1, "mass_between": mass_between, "mass_between_bound": 0.0,
           "target_mass_between": 0.01, "checks_passed": True, "checks": [], "mass_near_modes": near}
    if variant is not None:
        row["variant"] = variant
    return row


@pytest.mark.parametrize("m", [0.0, 0.5, 1.0, 2.0, 5.0, 40.0])
def test_target_mass_near_mode_matches_scipy(m):
    # Mass of [m - 2, m + 2] under (1/2)[N(-m, 1) + N(m, 1)].
    expected = 0.5 * (norm.cdf(2) - norm.cdf(-2)) + 0.5 * (norm.cdf(2 * m + 2) - norm.cdf(2 * m - 2))
    assert target_mass_near_mode(m) == pytest.approx(expected, rel=1e-12)


def test_findings_target_mass_for_small_m():
    text = "\n".join(findings([_row("gan", 1.0, 0.2, [0.7, 0.7]), _row("vae", 0.0, 0.3, [0.9, 0.9])]))
    assert f"(target {norm.cdf(2) - norm.cdf(-2):.3g} each)" in text
    at_one = 0.5 * (norm.cdf(2) - norm.cdf(-2)) + 0.5 * (norm.cdf(4) - norm.cdf(0))
    assert f"(target {at_one:.3g} each)" in text
    assert "0.477" not in text


def test_findings_one_line_per_variant():
    rows = [
        _row("gan", 5.0, 0.10, [0.40, 0.40], variant="2 hidden layers"),
        _row("gan", 5.0, 0.30, [0.20, 0.20], variant="4 hidden layers"),
        _row("gan", 5.0, 0.50, [0.10, 0.10], variant="6 hidden layers"),
        _row("vae", 5.0, 0.20, [0.30, 0.30], variant="2 hidden layers"),
    ]
    lines = [line for line in findings(rows) if line.startswith("- ")]
    # The models come in the order vae, gan, sgm, and the variants in the order of the rows.
    assert lines == [
        "- vae (2 hidden layers) at m=5: mass of [-m/2, m/2] 0.2 (target 0.01); mass within 2 of the modes "
        "0.3 and 0.3 (target 0.477 each).",
        "- gan (2 hidden layers) at m=5: mass of [-m/2, m/2] 0.1 (target 0.01); mass within 2 of the modes "
        "0.4 and 0.4 (target 0.477 each).",
        "- gan (4 hidden layers) at m=5: mass of [-m/2, m/2] 0.3 (target 0.01); mass within 2 of the modes "
        "0.2 and 0.2 (target 0.477 each).",
        "- gan (6 hidden layers) at m=5: mass of [-m/2, m/2] 0.5 (target 0.01); mass within 2 of the modes "
        "0.1 and 0.1 (target 0.477 each).",
    ]


def test_findings_average_seeds_without_variant():
    rows = [_row("gan", 5.0, 0.1, [0.4, 0.2], seed=0), _row("gan", 5.0, 0.3, [0.2, 0.4], seed=1),
            _row("gan", 2.0, 0.9, [0.0, 0.0])]
    lines = [line for line in findings(rows) if line.startswith("- ")]
    assert lines == ["- gan at m=5: mass of [-m/2, m/2] 0.2 (target 0.01); mass within 2 of the modes "
                     "0.3 and 0.3 (target 0.477 each)."]
    assert "## Findings" in markdown_report(rows)


def _figure_rows(ms):
    rows = []
    for m in ms:
        row = _row("gan", m, 0.0, [0.5, 0.5])
        row["lipschitz"] = 3.0
        rows.append(row)
    return rows


@pytest.mark.parametrize("ms", [[1000.0], [40.0, 200.0], [1e200]])
def test_figure_univariate_large_m(tmp_path, ms):
    with np.errstate(over="raise", invalid="raise"):
        paths = figures.figure_univariate(_figure_rows(ms), tmp_path / "figure")
    for path in paths:
        assert path.stat().st_size > 0


def test_figures_keep_the_session_backend(tmp_path):
    # Importing the figures and drawing one must not switch a notebook or script to another backend.
    rows = [{"m": 2.0, "lipschitz": lip, "tv_bound_corollary6": 0.1, "kl_bound_corollary8": 0.2} for lip in (1, 10)]
    code = ("import matplotlib, isobounds_models.figures as f; "
            f"f.figure_bounds({rows!r}, {str(tmp_path / 'bounds')!r}); "
            "print(matplotlib.get_backend())")
    env = {**os.environ, "MPLBACKEND": "svg"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "svg"
    assert (tmp_path / "bounds.png").stat().st_size > 0


def test_evaluate_report_survives_figure_failure(tmp_path, monkeypatch, capsys):
    assert main(["train", "--model", "gan", "--m", "1", "--profile", "micro", "--out", str(tmp_path)]) == 0

    def fail(*args, **kwargs):
        raise RuntimeError("figure failed")

    monkeypatch.setattr(figures, "figure_samples", fail)
    capsys.readouterr()
    assert main(["evaluate", "--model", "gan", "--profile", "micro", "--out", str(tmp_path)]) == 3
    err = capsys.readouterr().err
    assert "Traceback" not in err
    [line] = err.strip().splitlines()
    assert "RuntimeError: figure failed" in line
    assert "figure_error.txt" in line
    assert len(json.loads((tmp_path / "report.json").read_text())) == 1
    assert (tmp_path / "report.md").is_file()
    assert "in fail" in (tmp_path / "figure_error.txt").read_text()


def test_reproduce_report_survives_figure_failure(tmp_path, monkeypatch, capsys):
    def fail(*args, **kwargs):
        raise RuntimeError("figure failed")

    monkeypatch.setattr(figures, "figure_bounds", fail)
    with pytest.raises(figures.FigureError, match="RuntimeError: figure failed") as caught:
        reproduce("bounds", profile="micro", out=tmp_path, device="cpu")
    assert isinstance(caught.value.__cause__, RuntimeError)
    assert (tmp_path / "report.md").is_file()
    assert (tmp_path / "run_info.json").is_file()
    assert "RuntimeError: figure failed" in (tmp_path / "figure_error.txt").read_text()

    out = tmp_path / "cli"
    assert main(["reproduce", "bounds", "--profile", "micro", "--device", "cpu", "--out", str(out)]) == 3
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "figure failed" in err
    assert (out / "report.md").is_file()

    # Once the figure draws again, the stale traceback goes.
    monkeypatch.undo()
    assert main(["reproduce", "bounds", "--profile", "micro", "--device", "cpu", "--out", str(out)]) == 0
    assert not (out / "figure_error.txt").exists()


def test_findings_name_collapsed_runs():
    collapsed = _row("gan", 5.0, 1.0, [0.0, 0.0], variant="4 hidden layers")
    collapsed["interquartile_range"] = 0.004
    healthy = _row("gan", 5.0, 0.1, [0.4, 0.4], variant="2 hidden layers")
    healthy["interquartile_range"] = 9.8
    small_m = _row("gan", 1.0, 1.0, [0.0, 0.0], variant="2 hidden layers")
    small_m["interquartile_range"] = 0.05
    lines = [line for line in findings([healthy, small_m, collapsed]) if line.startswith("- ")]
    assert len(lines) == 4
    assert lines[0].startswith("- gan (2 hidden layers) at m=5: ")
    assert lines[1] == ("- gan (2 hidden layers): collapsed to nearly one point, so not trained: m=1 seed 0 "
                        "(IQR 0.05). The interquartile range of one target component is 1.35.")
    assert lines[2].startswith("- gan (4 hidden layers) at m=5: ")
    assert lines[3].startswith("- gan (4 hidden layers): collapsed to nearly one point, so not trained: m=5 seed 0 "
                               "(IQR 0.004).")


def test_reported_interquartile_range_matches_the_exact_pushforward():
    # The reported range, added to the samples' lower quartile, must reach the upper quartile
    # of the generator's exact push-forward, whose CDF comes from isobounds.pushforward.
    from isobounds_models import train
    from isobounds_models.measure import piecewise_linear_from_module

    settings = experiments.experiment_settings("micro", "cpu")
    trained = train("gan", ms=[3.0], seeds=[0], config=settings.training, progress=False)
    row, samples = experiments.evaluate_run(trained, 0, settings.evaluation)
    rho = piecewise_linear_from_module(trained.get_generator(0)).pushforward()
    median = float(np.median(samples))
    q1 = float(np.quantile(samples, 0.25))
    q3 = q1 + row["interquartile_range"]
    # 500 samples: each empirical quartile's CDF value has standard deviation sqrt(3/16/500) = 0.019.
    assert float(rho.cdf(q1)) == pytest.approx(0.25, abs=0.06)
    assert float(rho.cdf(q3)) == pytest.approx(0.75, abs=0.06)
    assert q1 < median < q3


def test_run_info_records_trained_settings(tmp_path):
    reproduce("depth", profile="micro", out=tmp_path, device="cpu")
    settings = experiments.experiment_settings("micro", "cpu")
    training = json.loads((tmp_path / "run_info.json").read_text())["training"]
    depth = settings.depths[0]
    assert sorted(training) == [f"depth-gan-{depth}", f"depth-vae-{depth}"]
    for label, model in ((f"depth-gan-{depth}", "gan"), (f"depth-vae-{depth}", "vae")):
        assert training[label]["model"] == model
        assert training[label]["ms"] == [settings.sweep_m]
        assert training[label]["generator_hidden"] == list(depth_hidden_sizes(depth))


def test_depth_sweep_trains_at_its_own_learning_rate(tmp_path, monkeypatch):
    micro = experiments.experiment_settings("micro", "cpu")
    assert micro.depth_lr == micro.training.lr
    changed = dataclasses.replace(micro, depth_lr=micro.training.lr / 3)
    monkeypatch.setattr(experiments, "experiment_settings", lambda *args: changed)
    reproduce("depth", profile="micro", out=tmp_path, device="cpu")
    training = json.loads((tmp_path / "run_info.json").read_text())["training"]
    assert {entry["lr"] for entry in training.values()} == {micro.training.lr / 3}


def test_quick_depth_sweep_settings():
    quick = experiments.experiment_settings("quick", "cpu")
    assert quick.depths == (2, 3, 4)
    assert quick.depth_lr < quick.training.lr


def test_run_info_records_penalty(tmp_path):
    reproduce("gan-penalty", profile="micro", out=tmp_path, device="cpu")
    settings = experiments.experiment_settings("micro", "cpu")
    training = json.loads((tmp_path / "run_info.json").read_text())["training"]
    lip = settings.penalty_lips[0]
    entry = training[f"gan-penalty-{lip:g}"]
    assert entry["gradient_penalty_lip"] == lip
    assert entry["ms"] == [settings.penalty_m]



def test_markdown_counts_vacuous_checks():
    from isobounds_models.checks import CheckRow

    row = _row("sgm", 3.0, 0.1, [0.4, 0.4])
    row["checks"] = [CheckRow("theorem4_tv", 0.3, 0.2, 0.0).to_dict(),
                     CheckRow("corollary6_tv", 0.3, 0.0, 0.0).to_dict(),
                     CheckRow("theorem7_kl", 0.1, 0.4, 0.0).to_dict()]
    text = markdown_report([row])
    assert "Checks: 2 passed (1 of them with a bound of 0, which every model meets), 1 failed." in text


def test_run_info_records_the_device_used(tmp_path):
    # "auto" resolves to the CPU without CUDA; the entry records that and torch's thread count.
    torch.set_num_threads(1)
    reproduce("bounds", profile="micro", out=tmp_path, device="auto")
    machine = json.loads((tmp_path / "run_info.json").read_text())["machine"]
    assert machine["device"] == ("cuda" if torch.cuda.is_available() else "cpu")
    assert machine["torch_threads"] == 1
    assert machine["torch"] == torch.__version__
