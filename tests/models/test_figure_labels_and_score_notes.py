"""Report wording on failed score-model checks, and the labels and reference lines of the figures."""

import math

import numpy as np
import pytest
from scipy import stats

pytest.importorskip("torch")
pytest.importorskip("matplotlib")

from isobounds_models import figures  # noqa: E402
from isobounds_models.checks import compute_bounds, run_checks  # noqa: E402
from isobounds_models.measure import sample_distances, target_samples  # noqa: E402
from isobounds_models.report import estimator_notes  # noqa: E402


def test_failed_score_check_not_called_bug():
    # Samples of the target itself: the true TV is 0. Any map that pushes N(0, I) exactly onto the
    # target needs L >= exp(m^2 / 2) (Corollary 2, balanced case), so L = 1 underestimates the
    # sampler's constant by a factor exp(8) ~ 3000 at m = 4.
    m = 4.0
    x = target_samples(20_000, m, seed=3)
    estimate = sample_distances(x, m, n_bootstrap=10, seed=0)
    assert estimate.tv < 0.05
    lip = 1.0
    assert lip < math.exp(m**2 / 2)
    bounds = compute_bounds(lip, m, np.mean(x <= 0), np.mean(x >= 0), np.mean(x <= -m / 2), np.mean(x >= m / 2))
    # Corollary 6 at L = 1, m = 4 from scipy: [Phi(2) - 1/2] - (1/2)[Phi(6) - Phi(2)] = 0.466.
    corollary6 = (stats.norm.cdf(2.0) - 0.5) - 0.5 * (stats.norm.cdf(6.0) - stats.norm.cdf(2.0))
    assert bounds.tv_corollary6 == pytest.approx(corollary6, rel=1e-12)
    rows = run_checks(bounds, estimate.tv, estimate.kl, estimate.mass_between, 3 * estimate.tv_se,
                      3 * estimate.kl_se, 3 * estimate.mass_between_se)
    assert {row.name for row in rows if not row.passed} >= {"corollary6_tv", "theorem4_tv"}

    # So a failed score-model check is no proof of a bug, and the report must not say it is.
    note = " ".join(estimator_notes([{"model": "sgm", "tv_estimator_floor": 0.01}]))
    assert "evidence of a bug" not in note
    assert "not proof of a bug" in note
    assert "Lipschitz constant estimated too small" in note


def _capture(monkeypatch):
    captured = []

    def fake_save(figure, stem):
        captured.append(figure)
        return []

    monkeypatch.setattr(figures, "save_figure", fake_save)
    return captured


def test_samples_figure_labels_and_legend(monkeypatch):
    captured = _capture(monkeypatch)
    rng = np.random.default_rng(0)
    samples = {(model, m, 0): rng.standard_normal(500) + m for model in ("vae", "gan") for m in (1.0, 4.0)}
    figures.figure_samples(samples, "unused")
    (figure,) = captured
    axes = np.array(figure.axes).reshape(2, 2)
    assert [axis.get_xlabel() for axis in axes[-1]] == ["x", "x"]
    assert [row[0].get_ylabel() for row in axes] == ["density", "density"]
    legend = axes[0][0].get_legend()
    assert legend is not None
    assert sorted(text.get_text() for text in legend.get_texts()) == ["model samples", "target density"]


def test_penalty_sweep_reference_lines(monkeypatch):
    captured = _capture(monkeypatch)
    m = 3.0
    rows = [{"model": "gan", "m": m, "seed": 0, "penalty_lip": 5.0, "lipschitz": 0.3, "tv": 0.9, "tv_bound": 0.6,
             "mass_between": 1.0}]
    figures.figure_sweep(rows, "penalty_lip", "target L", "unused")
    (figure,) = captured
    lipschitz_axis, _, mass_axis = figure.axes
    (reference,) = [line for line in lipschitz_axis.get_lines() if line.get_label() == "target L"]
    # A single point of a plain line draws nothing; a marker makes it visible.
    assert reference.get_marker() not in (None, "None", "", " ")
    (target,) = [line for line in mass_axis.get_lines() if line.get_label().startswith("target")]
    # nu([-m/2, m/2]) of (1/2)[N(-m, 1) + N(m, 1)] from scipy, one component at a time.
    expected = 0.5 * (stats.norm.cdf(m / 2 + m) - stats.norm.cdf(-m / 2 + m)) \
        + 0.5 * (stats.norm.cdf(m / 2 - m) - stats.norm.cdf(-m / 2 - m))
    assert np.allclose(target.get_ydata(), expected, rtol=1e-12)


def test_infinite_kl_is_marked_not_dropped(monkeypatch):
    # A generator with a flat piece has an atom, so its KL divergence to the target is infinite.
    # Such a run must stay visible in the KL panel instead of being dropped with the NaNs.
    captured = _capture(monkeypatch)
    rows = []
    for m, kl in ((2.0, 0.4), (4.0, math.inf)):
        rows.append({"model": "gan", "m": m, "seed": 0, "lipschitz": 3.0, "tv": 0.2, "tv_bound": 0.1,
                     "kl": kl, "kl_bound": 0.05, "mass_between": 0.1, "mass_between_bound": 0.05})
    figures.figure_univariate(rows, "unused")
    (figure,) = captured
    kl_axis = figure.axes[2]
    (marker,) = [line for line in kl_axis.get_lines() if line.get_label().endswith("infinite")]
    assert marker.get_marker() == "^"
    assert list(marker.get_xdata()) == [4.0]
    # The finite run keeps its own point on the measured curve.
    (measured,) = [container for container in kl_axis.containers if container.get_label() == "GAN"]
    data_line = measured.lines[0]
    assert list(data_line.get_xdata()) == [2.0]
    assert list(data_line.get_ydata()) == [0.4]
