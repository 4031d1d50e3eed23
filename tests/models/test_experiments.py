"""Tests of the experiment drivers: profiles, and a micro end-to-end reproduction (seconds)."""

import json
import math

import pytest

torch = pytest.importorskip("torch")

from isobounds_models.cli import main  # noqa: E402
from isobounds_models.experiments import experiment_settings, reproduce, training_config  # noqa: E402
from isobounds_models.report import REQUIRED_KEYS, write_report  # noqa: E402


@pytest.fixture(scope="module")
def micro_run(tmp_path_factory, one_thread_per_module):
    out = tmp_path_factory.mktemp("micro")
    rows = reproduce("univariate", profile="micro", out=out, device="cpu")
    return out, rows


def test_micro_reproduce_writes_report(micro_run):
    out, rows = micro_run
    stored = json.loads((out / "report.json").read_text())
    assert len(stored) == len(rows) == 3 * 2
    assert {row["model"] for row in stored} == {"vae", "gan", "sgm"}
    assert sorted({row["m"] for row in stored}) == [0.0, 3.0]
    for row in stored:
        missing = [key for key in REQUIRED_KEYS if key not in row]
        assert not missing, (row["model"], row["m"], missing)
        assert isinstance(row["checks_passed"], bool)
        assert [check["name"] for check in row["checks"]] == [
            "theorem4_tv", "corollary6_tv", "theorem7_kl", "corollary8_kl", "theorem1_mass_between"]


def test_micro_exact_models_pass_checks(micro_run):
    # GAN and VAE distances are exact, so a failed check would be a bug in a bound or a measurement.
    _, rows = micro_run
    for row in rows:
        if row["model"] in ("vae", "gan"):
            assert row["checks_passed"], [c for c in row["checks"] if c["status"] != "PASS"]
            assert row["estimator"] == "exact"
            assert row["lipschitz_grid"] <= row["lipschitz"] * (1 + 1e-9)


def test_micro_report_markdown_and_figures(micro_run):
    out, rows = micro_run
    text = (out / "report.md").read_text()
    assert text.count("\n| vae |") == 2
    assert "Checks:" in text
    for stem in ("figure2_samples", "figure3_lipschitz_distances"):
        assert (out / f"{stem}.png").stat().st_size > 0
        assert (out / f"{stem}.pdf").stat().st_size > 0
    leftovers = [p.name for p in out.iterdir() if p.name.endswith(".tmp") or p.name.startswith(".")]
    assert leftovers == []


def test_micro_resume_gives_same_rows(micro_run, tmp_path):
    out, rows = micro_run
    again = reproduce("univariate", profile="micro", out=out, device="cpu", resume=True)
    for first, second in zip(rows, again):
        assert (first["model"], first["m"]) == (second["model"], second["m"])
        assert first["lipschitz"] == second["lipschitz"]
        assert first["tv"] == second["tv"]


def test_train_then_evaluate_command(tmp_path):
    assert main(["train", "--model", "gan", "--m", "1", "--profile", "micro", "--out", str(tmp_path)]) in (0, 1)
    status = main(["evaluate", "--model", "gan", "--profile", "micro", "--out", str(tmp_path)])
    rows = json.loads((tmp_path / "report.json").read_text())
    assert [(row["model"], row["m"]) for row in rows] == [("gan", 1.0)]
    assert status == (0 if rows[0]["checks_passed"] else 1)


def test_paper_profile_is_appendix_configuration():
    settings = experiment_settings("paper", device="cpu")
    config = settings.training
    assert (config.epochs, config.batch_size, config.n_samples) == (400, 1000, 50_000)
    assert (config.lr, config.beta1) == (1e-4, 0.9)
    assert config.ms == tuple(float(m) for m in range(11))
    assert len(config.seeds) == 10
    assert config.generator_hidden == (128, 256)
    assert config.vae_c == 0.1
    assert config.gan_loss == "bce"
    assert (config.sigma_max, config.sigma_min, config.n_levels) == (1.0, 0.01, 10)
    assert (config.steps_per_level, config.langevin_eps) == (100, 2e-5)
    assert config.negative_slope == 0.2
    assert settings.penalty_lips == (5.0, 10.0, 15.0, 20.0, 25.0)
    assert settings.penalty_m == 5.0
    assert settings.depths == (2, 3, 4, 5, 6)
    assert settings.depth_lr == 1e-4
    assert settings.evaluation.grid_points == 20_001


def test_quick_profile_covers_models_and_m():
    config = training_config("quick", device="cpu")
    assert max(config.ms) == 10.0
    assert len(config.ms) >= 3
    assert config.device == "cpu"


def test_seed_option_replaces_seeds():
    assert training_config("paper", device="cpu", seed=7).seeds == (7,)


def test_unknown_profile_rejected():
    with pytest.raises(ValueError, match="profile must be one of"):
        training_config("fast")
    with pytest.raises(ValueError, match="experiment must be one of"):
        reproduce("mnist", profile="micro")


def test_write_report_rejects_missing_keys(tmp_path):
    with pytest.raises(ValueError, match=r"rows\[0\] must contain the keys"):
        write_report([{"model": "gan"}], tmp_path)
    assert not (tmp_path / "report.json").exists()


def test_report_writes_non_finite_numbers_as_strings(tmp_path):
    row = {key: 0.0 for key in REQUIRED_KEYS}
    row.update(model="gan", seed=0, kl=math.inf, checks_passed=True)
    write_report([row], tmp_path)
    assert json.loads((tmp_path / "report.json").read_text())[0]["kl"] == "inf"


@pytest.mark.parametrize("experiment,figure,rows_expected", [
    ("gan-penalty", "figure4_gan_penalty", 1),
    ("depth", "figure5_depth", 2),
    ("architecture", "figureS4_architecture", 8),
    ("epochs", "figureS5_epochs", 2),
])
def test_micro_sweeps_write_reports(tmp_path, experiment, figure, rows_expected):
    rows = reproduce(experiment, profile="micro", out=tmp_path, device="cpu")
    stored = json.loads((tmp_path / "report.json").read_text())
    assert len(stored) == len(rows) == rows_expected
    assert (tmp_path / f"{figure}.png").stat().st_size > 0
    assert (tmp_path / f"{figure}.pdf").stat().st_size > 0
    for row in stored:
        assert row["experiment"] == experiment
        assert row["checks_passed"], [c for c in row["checks"] if c["status"] != "PASS"]
    if experiment == "epochs":
        # The last recorded constant is that of the final generator.
        for row in stored:
            assert row["lipschitz_by_epoch"][-1][1] == pytest.approx(row["lipschitz"], rel=1e-12)


def test_micro_score_rows_use_smoothed_bounds(micro_run):
    # Score-model distances are those of the laws smoothed by N(0, h^2), so Corollary 6 is taken with
    # L' = sqrt(L^2 + h^2) and s' = sqrt(1 + h^2) (written here with scipy), h from the sample count.
    from scipy import stats

    from isobounds_models.measure import smoothing_bandwidth

    _, rows = micro_run
    h = smoothing_bandwidth(experiment_settings("micro").evaluation.n_samples)
    score_rows = [row for row in rows if row["model"] == "sgm" and row["m"] > 0]
    assert score_rows
    for row in score_rows:
        lip, s, D = math.hypot(row["lipschitz"], h), math.hypot(1.0, h), 2 * row["m"]
        gain = stats.norm.cdf(D / (4 * s * lip)) - 0.5
        loss = 0.5 * (stats.norm.cdf(D * (2 * s + 1) / (4 * s * s)) - stats.norm.cdf(D * (2 * s - 1) / (4 * s * s)))
        assert row["tv_bound_corollary6"] == pytest.approx(max(gain - loss, 0.0), rel=1e-9, abs=1e-12)
