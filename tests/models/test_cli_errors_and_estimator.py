"""The smoothed KDE estimator's floor, reports without rows, Ctrl-C, one-line errors, divergence, evaluate's options."""

import json

import numpy as np
import pytest
from scipy import stats
from scipy.stats import gaussian_kde, norm

torch = pytest.importorskip("torch")

from isobounds_models.checkpoint import load_checkpoint  # noqa: E402
from isobounds_models.cli import main  # noqa: E402
from isobounds_models.experiments import EvaluationConfig, evaluate_trained  # noqa: E402
from isobounds_models.measure import kde_estimator_floor, sample_distances, target_samples  # noqa: E402
from isobounds_models.report import markdown_report, write_report  # noqa: E402
from isobounds_models.training import TrainingConfig, train  # noqa: E402


def _tiny(**overrides):
    """A configuration of a few hundred samples and a handful of steps."""
    settings = dict(epochs=2, n_samples=400, batch_size=100, lr=1e-3, checkpoint_every=1, device="cpu",
                    steps_per_level=5, langevin_eps=1e-3)
    settings.update(overrides)
    return TrainingConfig.profile("quick", **settings)


# The floor of the score model's TV and KL estimator.


def _scipy_smoothed_distances(x, m):
    """TV and KL between scipy's Gaussian KDE of ``x`` and the target smoothed by the same kernel.

    Written independently of isobounds_models.measure: the bandwidth ``h = 0.9 n^(-1/5)`` is
    passed to ``scipy.stats.gaussian_kde`` as a factor of the sample standard deviation, the
    smoothed target is ``(1/2)[N(-m, 1 + h^2) + N(m, 1 + h^2)]``, and the integrals use the
    trapezoidal rule on a fine grid of [-m - 12, m + 12].
    """
    h = 0.9 * x.size ** -0.2
    grid = np.linspace(-m - 12, m + 12, 6001)
    p_hat = gaussian_kde(x, bw_method=h / x.std(ddof=1))(grid)
    scale = np.sqrt(1 + h**2)
    p_nu_h = 0.5 * (norm.pdf(grid, -m, scale) + norm.pdf(grid, m, scale))
    tv = 0.5 * np.trapezoid(np.abs(p_hat - p_nu_h), grid)
    ratio = np.where(p_hat > 0, p_hat / p_nu_h, 1.0)
    kl = np.trapezoid(p_hat * np.log(ratio), grid)
    return tv, kl


@pytest.mark.parametrize("m", [0.5, 4.0, 10.0])
def test_floor_matches_scipy_kde(m):
    # The floor is one draw of the estimator on target samples. Its standard deviation over
    # draws at n = 20,000 is about 0.002 in TV and 1.6e-4 in KL (measured over ten seeds at
    # m = 4), so two independent draws differ by less than 0.01 and 8e-4 (3.5 standard deviations).
    n = 20_000
    rng = np.random.default_rng(123)
    independent = rng.standard_normal(n) + m * rng.choice([-1.0, 1.0], size=n)
    tv_expected, kl_expected = _scipy_smoothed_distances(independent, m)

    tv_floor, kl_floor, h = kde_estimator_floor(n, m, seed=0)
    assert h == pytest.approx(0.9 * n**-0.2)
    assert tv_floor == pytest.approx(tv_expected, abs=0.01)
    assert kl_floor == pytest.approx(kl_expected, abs=8e-4)


def test_floor_does_not_grow_with_m():
    # Silverman's bandwidth of the whole sample made a perfect sampler's TV 0.22 at m = 10 and
    # n = 20,000. Smoothing the target as well leaves only sampling noise, about 0.01.
    for m in (1.0, 4.0, 10.0, 100.0):
        tv_floor, kl_floor, _ = kde_estimator_floor(50_000, m, seed=4)
        assert tv_floor < 0.015, m
        assert kl_floor < 0.002, m


def test_floor_ignores_model_samples():
    # Samples of one mode only: far from the target, so their TV is large, while the floor,
    # which depends on n, m and the seed only, stays the floor of target samples.
    m, n = 4.0, 2000
    one_mode = m + np.random.default_rng(5).standard_normal(n)
    estimate = sample_distances(one_mode, m, n_bootstrap=5, seed=3)
    tv_floor, kl_floor, _ = kde_estimator_floor(n, m, seed=3)
    assert (estimate.tv_floor, estimate.kl_floor) == (tv_floor, kl_floor)
    assert estimate.tv > 0.45 > 3 * estimate.tv_floor


def test_target_samples_follow_mixture():
    m = 2.5
    x = target_samples(50_000, m, seed=7)

    def mixture_cdf(t):
        return 0.5 * (norm.cdf(t + m) + norm.cdf(t - m))

    assert stats.kstest(x, mixture_cdf).pvalue > 1e-3
    assert abs(np.mean(x < 0) - 0.5) < 4 * 0.5 / np.sqrt(x.size)


def test_bootstrap_needs_two_resamples():
    with pytest.raises(ValueError, match="n_bootstrap must be an integer >= 2"):
        sample_distances(np.zeros(30), 1.0, n_bootstrap=1)


@pytest.fixture(scope="module")
def score_rows(one_thread_per_module):
    trained = train("sgm", ms=[3.0], seeds=[0], config=_tiny(), progress=False)
    evaluation = EvaluationConfig(n_samples=500, n_bootstrap=5, n_trajectories=16, n_candidates=64,
                                  grid_points=2001)
    rows, _ = evaluate_trained(trained, evaluation)
    return rows


def test_score_rows_carry_floor(score_rows):
    (row,) = score_rows
    tv_floor, kl_floor, _ = kde_estimator_floor(500, 3.0, seed=0)
    assert row["tv_estimator_floor"] == tv_floor
    assert row["kl_estimator_floor"] == kl_floor
    assert 0 < row["tv_estimator_floor"] < 1
    assert "tv_estimator_floor" in row["estimator"]


def test_report_states_estimator_floor(score_rows, tmp_path):
    write_report(score_rows, tmp_path, title="sgm")
    stored = json.loads((tmp_path / "report.json").read_text())
    assert stored[0]["tv_estimator_floor"] == score_rows[0]["tv_estimator_floor"]
    text = (tmp_path / "report.md").read_text()
    header = next(line for line in text.splitlines() if line.startswith("| model"))
    columns = [cell.strip() for cell in header.strip("|").split("|")]
    sgm_line = next(line for line in text.splitlines() if line.startswith("| sgm"))
    cells = [cell.strip() for cell in sgm_line.strip("|").split("|")]
    assert cells[columns.index("TV floor")] == f"{score_rows[0]['tv_estimator_floor']:.4g}"
    assert cells[columns.index("KL floor")] == f"{score_rows[0]['kl_estimator_floor']:.4g}"
    assert "smoothed" in text
    assert "data-processing inequality" in text
    assert "perfect sampler" in text
    assert "sampling noise only" in text


def test_exact_rows_without_estimator_note():
    row = {"model": "gan", "m": 1.0, "seed": 0, "tv": 0.1, "checks_passed": True}
    text = markdown_report([row])
    assert "floor" not in text.lower()
    assert "| gan |" in text


# A report without rows.


def test_empty_report_has_no_table():
    text = markdown_report([], "reproduce bounds", {"note": "The curves are in bounds.json.", "wall_time_s": 1.0})
    # Nothing was trained, so the wall time does not mention training.
    assert text == ("# reproduce bounds\n\nWall time: 1.0 s (without starting Python and drawing the figures)."
                    "\n\nThe curves are in bounds.json.\n")


# Ctrl-C.


def test_interrupt_names_checkpoint_epoch(interrupt_at_epoch, monkeypatch, tmp_path, capsys):
    argv = ["train", "--model", "gan", "--m", "1", "--profile", "micro", "--out", str(tmp_path)]
    interrupt_at_epoch(2)
    assert main(argv) == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("isobounds-models: interrupted; rerun the same command with --resume")
    assert err[-1].endswith("checkpoint.pt', epoch 1 of 2")
    assert load_checkpoint(tmp_path / "checkpoints" / "gan")["epoch"] == 1

    monkeypatch.undo()
    assert main(argv + ["--resume"]) == 0
    assert load_checkpoint(tmp_path / "checkpoints" / "gan")["epoch"] == 2


def test_interrupt_before_any_checkpoint(interrupt_at_epoch, tmp_path, capsys):
    interrupt_at_epoch(1)
    status = main(["train", "--model", "vae", "--m", "1", "--profile", "micro", "--out", str(tmp_path)])
    assert status == 130
    message = capsys.readouterr().err.strip().splitlines()[-1]
    assert "before any checkpoint was written" in message
    assert "rerun the same command with --resume" in message


def test_interrupted_epochs_rerun_as_advised(interrupt_at_epoch, monkeypatch, tmp_path, capsys):
    # reproduce epochs writes its curve file before the first checkpoint, so a plain
    # rerun refuses the folder; the advised --resume starts again from the beginning.
    from isobounds_models import training

    real_epoch = training._train_epoch
    interrupt_at_epoch(1)
    argv = ["reproduce", "epochs", "--profile", "micro", "--out", str(tmp_path), "--device", "cpu"]
    assert main(argv) == 130
    assert "--resume" in capsys.readouterr().err.strip().splitlines()[-1]
    monkeypatch.setattr(training, "_train_epoch", real_epoch)
    assert main(argv + ["--resume"]) == 0


# Invalid input found while training or evaluating.


def _one_line_error(capsys, argv):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("isobounds-models: error:")]
    assert len(lines) == 1, err
    return lines[0]


def test_resume_other_m_one_line(tmp_path, capsys):
    common = ["train", "--model", "gan", "--profile", "micro", "--out", str(tmp_path)]
    assert main(common + ["--m", "5"]) == 0
    capsys.readouterr()
    message = _one_line_error(capsys, common + ["--m", "7", "--resume"])
    assert "does not match this training" in message
    assert "use another --out" in message
    assert "checkpoint_dir" not in message


def test_repeated_m_one_line(tmp_path, capsys):
    message = _one_line_error(capsys, ["train", "--model", "vae", "--m", "5", "5", "--out", str(tmp_path)])
    assert "(m, seed) pairs must be distinct" in message


# Divergence.


def test_divergence_names_runs_epoch(tmp_path):
    # With m = 1e6 the VAE's loss becomes NaN in the first epoch, while the run at m = 1 trains normally.
    with pytest.raises(FloatingPointError) as raised:
        train("vae", ms=[1e6, 1.0], seeds=[0], config=_tiny(n_samples=1000, batch_size=500, lr=2.5e-4),
              checkpoint_dir=tmp_path, progress=False)
    message = str(raised.value)
    assert "vae training diverged in epoch 1" in message
    assert "(m=1e+06, seed=0)" in message
    assert "m=1," not in message
    assert "smaller learning rate" in message
    assert load_checkpoint(tmp_path) is None


def test_huge_lr_diverges():
    with pytest.raises(FloatingPointError, match=r"sgm training diverged in epoch 1: .*\(m=1, seed=0\)"):
        train("sgm", ms=[1.0], seeds=[0], config=_tiny(n_samples=64, batch_size=32, lr=1e6), progress=False)


def test_divergence_command_line(tmp_path, capsys):
    message = _one_line_error(capsys, ["train", "--model", "vae", "--m", "1e6", "--profile", "micro",
                                       "--out", str(tmp_path)])
    assert "diverged" in message
    assert "m=1e+06" in message


# Evaluate's options and train's closing line.


def test_evaluate_rejects_training_options(tmp_path, capsys):
    for option in (["--seed", "3"], ["--resume"], ["--progress"]):
        with pytest.raises(SystemExit) as raised:
            main(["evaluate", "--model", "gan", "--out", str(tmp_path)] + option)
        assert raised.value.code == 2
        assert "unrecognized arguments" in capsys.readouterr().err


def test_evaluate_help_is_accurate(capsys):
    with pytest.raises(SystemExit):
        main(["evaluate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "continue training" not in text
    assert "train one run" not in text
    assert "measurement settings" in text


def test_train_closing_line(tmp_path, capsys):
    assert main(["train", "--model", "gan", "--m", "1", "2", "--profile", "micro", "--out", str(tmp_path)]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    checkpoint = tmp_path / "checkpoints" / "gan" / "checkpoint.pt"
    state = load_checkpoint(checkpoint.parent)
    assert line.startswith("trained 2 gan runs in ")
    assert f"m = 1, 2; seeds 0; {state['epoch']} epochs" in line
    assert str(checkpoint) in line
    assert "rows" not in line
    # The final checkpoint is the training's, so it can be resumed (a longer run, say).
    assert state["optimizers"] is not None
