"""Review tests of the checks, the report files, the figures and resuming.

Independent routes: the theorems' formulas evaluated with mpmath at 60 to
150 digits, with tail masses written in complementary form. JSON is parsed
with the standard library, figure data are read back from the matplotlib
artists, and an uninterrupted training is the reference of an interrupted one.
"""

import dataclasses
import json
import math
import os
import stat
from pathlib import Path

import mpmath as mp
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from isobounds_models import checkpoint, figures  # noqa: E402
from isobounds_models.checks import CheckRow, compute_bounds, run_checks  # noqa: E402
from isobounds_models.report import markdown_report, read_report_row, write_report  # noqa: E402


# ----------------------------------------------------------------------------
# Independent formulas (mpmath)
# ----------------------------------------------------------------------------


def _phi_inv(p):
    p = mp.mpf(p)
    return mp.sqrt(2) * mp.erfinv(2 * p - 1)


def _gaussian_mass(x1, x2):
    """``Phi(x2) - Phi(x1)``, reflected into the lower tail so that no digits cancel."""
    x1, x2 = mp.mpf(x1), mp.mpf(x2)
    if x1 + x2 > 0:
        return mp.ncdf(-x1) - mp.ncdf(-x2)
    return mp.ncdf(x2) - mp.ncdf(x1)


def _target_shell(r, m):
    """``nu((0, r])`` for ``nu = (1/2)[N(-m, 1) + N(m, 1)]``."""
    return (_gaussian_mass(-m, r - m) + _gaussian_mass(m, r + m)) / 2


def _kl_bin(a, b):
    def term(x, y):
        return mp.mpf(0) if x == 0 else x * mp.log(x / y)
    return term(a, b) + term(1 - a, 1 - b)


def _theorem4(lip, m, p, r):
    return mp.ncdf(mp.mpf(r) / lip + _phi_inv(p)) - min(mp.mpf(p), mp.mpf(1) / 2) - _target_shell(r, m)


def _shell_bound(lip, p, r):
    return mp.ncdf(mp.mpf(r) / lip + _phi_inv(p)) - mp.mpf(p)


def _theorem7(lip, m, p, r):
    beta, v = _shell_bound(lip, p, r), _target_shell(r, m)
    return _kl_bin(beta, v) if beta >= v else mp.mpf(0)


def _theorem7_uncorrected(lip, m, p, r):
    return _kl_bin(_shell_bound(lip, p, r), _target_shell(r, m))


def _corollary6(lip, m):
    d = 2 * mp.mpf(m)
    return max(mp.ncdf(d / (4 * lip)) - mp.mpf(1) / 2 - _gaussian_mass(d / 4, 3 * d / 4) / 2, 0)


def _corollary8(lip, m, lam):
    d, lam = 2 * mp.mpf(m), mp.mpf(lam)
    lam = min(lam, 1 - lam)
    a = mp.ncdf(d / (4 * lip) + _phi_inv(lam)) - lam
    b = _gaussian_mass(d / 4, 3 * d / 4) / 2
    return _kl_bin(a, b) if a >= b else mp.mpf(0)


_CASES = [
    # lip, m, mass_left, mass_right, mass_below, mass_above
    (1.0, 3.0, 0.5, 0.5, 0.3, 0.3),
    (5.0, 3.0, 0.3, 0.7, 0.24, 0.56),
    (20.0, 5.0, 0.5, 0.5, 0.4, 0.4),
    (2.0, 10.0, 0.9, 0.1, 0.72, 0.08),
    (1.2, 4.0, 0.02, 0.98, 0.016, 0.784),
    (0.3, 6.0, 0.45, 0.55, 0.36, 0.44),
]


@pytest.mark.parametrize("case", _CASES)
def test_bounds_match_mpmath(case):
    lip, m, left, right, below, above = case
    bounds = compute_bounds(*case)
    with mp.workdps(60):
        # Each grid bound is the theorem's value at the reported radius, for the better of the two half-lines.
        at_r4 = max(_theorem4(lip, m, p, bounds.tv_theorem4_r) for p in (left, right))
        at_r7 = max(_theorem7(lip, m, p, bounds.kl_theorem7_r) for p in (left, right))
        assert bounds.tv_theorem4 == pytest.approx(float(at_r4), rel=1e-9)
        assert bounds.kl_theorem7 == pytest.approx(float(at_r7), rel=1e-9)
        # And at least the best value on an independent scan of 60 radii up to 4 m + 10 L (up to the
        # grid spacing, which costs at most 1e-4 relative here).
        scan = np.linspace(0.01, 4 * m + 10 * lip, 60)
        best4 = max(float(_theorem4(lip, m, p, r)) for p in (left, right) for r in scan)
        best7 = max(float(_theorem7(lip, m, p, r)) for p in (left, right) for r in scan)
        assert bounds.tv_theorem4 >= best4 * (1 - 1e-4)
        assert bounds.kl_theorem7 >= best7 * (1 - 1e-4)
        assert bounds.tv_corollary6 == pytest.approx(float(_corollary6(lip, m)), rel=1e-9, abs=1e-15)
        assert bounds.kl_corollary8 == pytest.approx(float(_corollary8(lip, m, left)), rel=1e-9, abs=1e-15)
        between = max(_shell_bound(lip, p, m) for p in (below, above))
        assert bounds.mass_between == pytest.approx(float(between), rel=1e-9)
        target = (_gaussian_mass(-m / 2 + m, m / 2 + m) + _gaussian_mass(-m / 2 - m, m / 2 - m)) / 2
        assert bounds.target_mass_between == pytest.approx(float(target), rel=1e-9)


def test_kl_bound_zero_without_validity():
    """m = 1, L = 10: the uncorrected Theorem 7 gives a positive number, the corrected one none."""
    lip, m = 10.0, 1.0
    bounds = compute_bounds(lip, m, 0.5, 0.5, 0.3, 0.3)
    with mp.workdps(50):
        radii = np.linspace(0.01, 60.0, 300)
        # The validity condition beta >= nu(shell) fails at every radius scanned ...
        assert all(_shell_bound(lip, 0.5, r) < _target_shell(r, m) for r in radii)
        # ... where the uncorrected formula would report a positive "bound".
        assert max(_theorem7_uncorrected(lip, m, 0.5, r) for r in radii) > 0.1
    assert bounds.kl_theorem7 == 0.0
    assert math.isnan(bounds.kl_theorem7_r)
    assert bounds.kl_corollary8 == 0.0
    rows = run_checks(bounds, 0.5, 0.0, 0.5, 0.0, 0.0, 0.0)
    kl_rows = [row for row in rows if row.name.endswith("_kl")]
    assert all(row.vacuous for row in kl_rows)
    assert all(row.passed for row in kl_rows)
    text = markdown_report([_row(bounds, rows)])
    assert "validity condition" in text


def test_theorem7_underflowing_target_shell():
    """m = 40: nu((0, r]) underflows float64 for small r; the search used to stop at the first such radius.

    The old code reported 1.25e-5 (at r = 0.04), below Corollary 8's 1.53e-3, which is Theorem 7 at one
    particular set and radius (the half-line at 0, r = D/4 = 20).
    """
    lip, m = 1e6, 40.0
    bounds = compute_bounds(lip, m, 0.5, 0.5, 0.49, 0.49)
    with mp.workdps(150):
        at_cor8_radius = float(_theorem7(lip, m, 0.5, 20.0))
        at_reported = float(_theorem7(lip, m, 0.5, bounds.kl_theorem7_r))
    assert at_cor8_radius == pytest.approx(1.5309e-3, rel=1e-3)
    assert bounds.kl_theorem7 >= at_cor8_radius
    assert bounds.kl_theorem7 == pytest.approx(at_reported, rel=1e-9)


@pytest.mark.parametrize("lip", [1e-6, 1e-3])
def test_small_lipschitz_constant_searches_small_radii(lip):
    """A model with L far below the even grid's first radius 0.0025 has its best radii near a few L.

    The grid used to start at 0.0025, where Theorem 7 gave 4.9 at L = 1e-6 instead of more than 7.7.
    """
    m, p = 3.0, 0.5
    bounds = compute_bounds(lip, m, p, 1 - p, 0.3, 0.3)
    with mp.workdps(60):
        scan = [lip * k for k in (0.5, 1, 2, 3, 5, 8, 10)]
        best4 = max(float(_theorem4(lip, m, p, r)) for r in scan)
        best7 = max(float(_theorem7(lip, m, p, r)) for r in scan)
    assert bounds.tv_theorem4 >= best4 * (1 - 1e-3)
    assert bounds.kl_theorem7 >= best7 * (1 - 1e-3)


def test_one_sided_model_reaches_half():
    """All the model's mass left of 0: Theorem 4 tends to 1/2 as r tends to 0 (it stopped at 0.4994 before)."""
    bounds = compute_bounds(1.0, 3.0, 1.0, 0.0, 1.0, 0.0)
    with mp.workdps(60):
        at_tiny_radius = float(_theorem4(1.0, 3.0, 1.0, 1e-8))
    assert at_tiny_radius > 0.4999999
    assert bounds.tv_theorem4 >= at_tiny_radius


# ----------------------------------------------------------------------------
# PASS and FAIL
# ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bounds_l1_m3():
    return compute_bounds(1.0, 3.0, 0.5, 0.5, 0.3, 0.3)


def _statuses(bounds, tv, kl, mass):
    return {row.name: row.status for row in run_checks(bounds, tv, kl, mass, 0.0, 0.0, 0.0)}


def test_tv_below_the_bound_fails(bounds_l1_m3):
    with mp.workdps(50):
        # Theorem 4 at r = 1.73 (near its best radius) is at least 0.407: a TV of 0.4 is impossible.
        bound = float(_theorem4(1.0, 3.0, 0.5, 1.73))
    assert bound > 0.407
    statuses = _statuses(bounds_l1_m3, 0.4, 5.0, 0.9)
    assert statuses["theorem4_tv"] == "FAIL"
    assert statuses["corollary6_tv"] == "PASS"  # Corollary 6 gives 0.3998 only


@pytest.mark.parametrize("tv, mass", [(math.inf, 0.9), (2.0, 0.9), (math.nan, 0.9), (-math.inf, 0.9)])
def test_impossible_tv_fails(bounds_l1_m3, tv, mass):
    statuses = _statuses(bounds_l1_m3, tv, 5.0, mass)
    assert statuses["theorem4_tv"] == statuses["corollary6_tv"] == "FAIL"


@pytest.mark.parametrize("mass", [math.inf, 1.7, math.nan, -0.2])
def test_impossible_mass_fails(bounds_l1_m3, mass):
    assert _statuses(bounds_l1_m3, 0.9, 5.0, mass)["theorem1_mass_between"] == "FAIL"


def test_kl_non_finite_values(bounds_l1_m3):
    assert _statuses(bounds_l1_m3, 0.9, math.inf, 0.9)["theorem7_kl"] == "PASS"
    assert _statuses(bounds_l1_m3, 0.9, math.nan, 0.9)["theorem7_kl"] == "FAIL"
    assert _statuses(bounds_l1_m3, 0.9, -math.inf, 0.9)["corollary8_kl"] == "FAIL"


def test_nan_bound_or_tolerance_fails():
    assert CheckRow("theorem4_tv", 0.5, math.nan, 0.0).status == "FAIL"
    assert CheckRow("theorem4_tv", 0.5, 0.1, math.nan).status == "FAIL"
    # An infinite TV fails even with an infinite tolerance; an infinite KL passes.
    assert CheckRow("theorem4_tv", math.inf, 0.1, math.inf).status == "FAIL"
    assert CheckRow("theorem7_kl", math.inf, 0.1, 0.0).status == "PASS"


# ----------------------------------------------------------------------------
# report.json and report.md
# ----------------------------------------------------------------------------


def _row(bounds, rows, **extra):
    row = {"model": "gan", "m": 3.0, "seed": 0, "lipschitz": 1.0, "tv": rows[0].measured, "kl": rows[2].measured,
           "tv_bound": bounds.tv, "kl_bound": bounds.kl, "mass_between": rows[4].measured,
           "mass_between_bound": bounds.mass_between, "target_mass_between": bounds.target_mass_between,
           "tv_bound_theorem4_r": bounds.tv_theorem4_r, "kl_bound_theorem7_r": bounds.kl_theorem7_r,
           "checks": [row.to_dict() for row in rows], "checks_passed": all(row.passed for row in rows)}
    row.update(extra)
    return row


def _same(a, b):
    """Equality of report values, with NaN equal to NaN and tuples equal to lists."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return isinstance(b, list) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return type(a) is type(b) and a == b


def _strict_json(path):
    def reject(token):
        raise AssertionError(f"report.json contains the non-standard token {token}")
    return json.loads(Path(path).read_text(), parse_constant=reject)


@pytest.fixture
def report_rows(bounds_l1_m3):
    finite = run_checks(bounds_l1_m3, 0.9, 5.0, 0.9, 0.0, 0.0, 0.0)
    odd = run_checks(bounds_l1_m3, math.nan, math.inf, 2.0, 0.0, 0.0, 0.0)
    return [_row(bounds_l1_m3, finite, interquartile_range=2.5),
            _row(bounds_l1_m3, odd, model="vae", seed=1, lipschitz=np.float64(1.5),
                 mass_near_modes=(0.4, 0.45), interquartile_range=np.float32(0.05))]


def test_report_json_round_trips(report_rows, tmp_path):
    json_path, _ = write_report(report_rows, tmp_path)
    raw = _strict_json(json_path)
    # Non-finite values, nested ones included, are strings in the file.
    assert raw[1]["tv"] == "nan"
    assert raw[1]["checks"][2]["measured"] == "inf"
    read = [read_report_row(row) for row in raw]
    expected = [dict(row, lipschitz=float(row["lipschitz"]), interquartile_range=float(row["interquartile_range"]))
                for row in report_rows]
    for got, want in zip(read, expected):
        assert _same(want, got), (want, got)
    assert isinstance(read[0]["seed"], int)
    assert isinstance(read[0]["checks_passed"], bool)


def test_report_md_matches_report_json(report_rows, tmp_path):
    json_path, md_path = write_report(report_rows, tmp_path)
    text = md_path.read_text()
    read = [read_report_row(row) for row in _strict_json(json_path)]
    # The text drawn from the rows read back is the text written.
    assert markdown_report(read) == text
    table = [line for line in text.splitlines() if line.startswith("| ")]
    headers = [cell.strip() for cell in table[0].strip("|").split("|")]
    columns = {"model": "model", "m": "m", "seed": "seed", "L": "lipschitz", "TV": "tv", "TV bound": "tv_bound",
               "KL": "kl", "KL bound": "kl_bound", "rho(mid)": "mass_between", "bound": "mass_between_bound",
               "nu(mid)": "target_mass_between", "IQR": "interquartile_range", "checks": "checks_passed"}
    assert set(headers) == set(columns)
    for line, row in zip(table[1:], read):
        cells = dict(zip(headers, (cell.strip() for cell in line.strip("|").split("|"))))
        for header, key in columns.items():
            value = row[key]
            if isinstance(value, bool):
                expected = "PASS" if value else "FAIL"
            elif isinstance(value, float):
                expected = format(value, ".4g")
            else:
                expected = str(value)
            assert cells[header] == expected, (header, cells[header], expected)
    # 5 + 2 passed checks (the KL of +inf passes both); NaN TV and a mass of 2 fail 3 checks.
    assert "7 passed" in text
    assert "3 failed" in text
    assert text.count("- FAIL vae") == 3
    # An impossible measurement is reported as such, not as a value below the bound.
    assert "measured 2 is no possible value" in text
    assert "measured nan is no possible value" in text


def test_interrupted_report_write_keeps_old(report_rows, tmp_path, monkeypatch):
    write_report(report_rows[:1], tmp_path)
    before = (tmp_path / "report.json").read_bytes(), (tmp_path / "report.md").read_bytes()

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        write_report(report_rows, tmp_path)
    monkeypatch.undo()
    assert ((tmp_path / "report.json").read_bytes(), (tmp_path / "report.md").read_bytes()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json", "report.md"]
    write_report(report_rows, tmp_path)
    assert len(_strict_json(tmp_path / "report.json")) == 2


# ----------------------------------------------------------------------------
# Figures
# ----------------------------------------------------------------------------


def _captured(monkeypatch):
    drawn = []
    monkeypatch.setattr(figures, "save_figure", lambda figure, stem: drawn.append(figure) or [])
    return drawn


def _series(axis):
    """Map each legend label of ``axis`` to the (x, y) data drawn under it."""
    series = {}
    for container in axis.containers:
        line = container.lines[0]
        series[container.get_label()] = (np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float))
    for line in axis.get_lines():
        if not line.get_label().startswith("_"):
            series[line.get_label()] = (np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float))
    return series


def _figure_row(model, m, seed, lip, tv):
    return {"model": model, "m": m, "seed": seed, "lipschitz": lip, "tv": tv, "tv_bound": 0.1 * m, "kl": 2 * tv,
            "kl_bound": 0.2 * m, "mass_between": 0.3, "mass_between_bound": 0.1, "target_mass_between": 0.05}


def test_figure_univariate_plots_report_values(monkeypatch):
    rows = [_figure_row("gan", 1.0, 0, 1.5, 0.4), _figure_row("gan", 1.0, 1, 2.5, 0.6),
            _figure_row("gan", 3.0, 0, 4.0, math.nan), _figure_row("gan", 3.0, 1, 6.0, 0.9)]
    drawn = _captured(monkeypatch)
    figures.figure_univariate(rows, "unused")
    lipschitz, tv, kl, mass = drawn[0].axes
    assert [axis.get_xlabel() for axis in drawn[0].axes] == ["m"] * 4
    assert lipschitz.get_yscale() == "log"
    x, y = _series(lipschitz)["GAN"]
    np.testing.assert_allclose(x, [1.0, 3.0])
    np.testing.assert_allclose(y, [2.0, 5.0])  # means over the seeds
    x, y = _series(tv)["GAN"]
    np.testing.assert_allclose(y, [0.5, 0.9])  # the NaN run is left out of the mean ...
    x, _ = _series(tv)["GAN: NaN, left out"]  # ... and marked, so that it does not vanish
    np.testing.assert_allclose(x, [3.0])
    np.testing.assert_allclose(_series(tv)["GAN bound"][1], [0.1, 0.3])
    np.testing.assert_allclose(_series(kl)["GAN bound"][1], [0.2, 0.6])
    np.testing.assert_allclose(_series(mass)["GAN"][1], [0.3, 0.3])


# ----------------------------------------------------------------------------
# Resuming after a kill in the middle of a checkpoint write
# ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_config():
    from isobounds_models.training import TrainingConfig

    return dataclasses.replace(TrainingConfig.profile("quick"), epochs=3, n_samples=200, batch_size=100,
                               ms=(3.0,), seeds=(0,), generator_hidden=(8, 8), checkpoint_every=1, device="cpu")


def _parameters(trained):
    return trained.get_generator(0).state_dict()


def test_resume_after_kill_mid_write(tiny_config, tmp_path, monkeypatch):
    from isobounds_models.training import train

    reference = _parameters(train("gan", config=tiny_config, checkpoint_dir=tmp_path / "whole", progress=False))
    real_write = checkpoint.atomic_write_bytes
    writes = []

    def killed_at_second_checkpoint(path, data):
        if Path(path).name == checkpoint.CHECKPOINT_NAME:
            writes.append(path)
            if len(writes) == 2:
                # What SIGKILL leaves: half a temporary file and the previous checkpoint.
                (Path(path).parent / f".{Path(path).name}.k1ll3d.tmp").write_bytes(data[: len(data) // 2])
                raise KeyboardInterrupt
        return real_write(path, data)

    monkeypatch.setattr(checkpoint, "atomic_write_bytes", killed_at_second_checkpoint)
    folder = tmp_path / "killed"
    with pytest.raises(KeyboardInterrupt):
        train("gan", config=tiny_config, checkpoint_dir=folder, progress=False)
    monkeypatch.undo()
    assert checkpoint.load_checkpoint(folder)["epoch"] == 1
    resumed = _parameters(train("gan", config=tiny_config, checkpoint_dir=folder, progress=False, resume=True))
    assert reference.keys() == resumed.keys()
    assert all(torch.equal(reference[key], resumed[key]) for key in reference)
    assert [path.name for path in folder.iterdir()] == [checkpoint.CHECKPOINT_NAME]


@pytest.mark.parametrize("content", [b"", b'{"model": "gan"}\n', b"PK\x03\x04 truncated"])
def test_damaged_checkpoint_names_file(tiny_config, tmp_path, content):
    from isobounds_models.training import train

    (tmp_path / checkpoint.CHECKPOINT_NAME).write_bytes(content)
    with pytest.raises(checkpoint.CheckpointError, match="checkpoint.pt.*cannot be loaded"):
        train("gan", config=tiny_config, checkpoint_dir=tmp_path, progress=False, resume=True)


def test_checkpoint_path_folder_rejected(tiny_config, tmp_path, monkeypatch):
    """It used to fail with IsADirectoryError from os.replace, after the first epochs had trained."""
    from isobounds_models import training

    (tmp_path / checkpoint.CHECKPOINT_NAME).mkdir()
    monkeypatch.setattr(training, "_train_epoch", lambda *args, **kwargs: pytest.fail("trained an epoch"))
    with pytest.raises(checkpoint.CheckpointError, match="exists but is not a file"):
        training.train("gan", config=tiny_config, checkpoint_dir=tmp_path, progress=False, resume=True)


def test_checkpoint_folder_file_rejected(tmp_path):
    (tmp_path / "taken").write_text("a file\n")
    with pytest.raises(ValueError, match="must be a folder.*which is a file"):
        checkpoint.save_checkpoint(tmp_path / "taken", {"epoch": 0})


def test_atomic_write_flushes_folder_after_rename(tmp_path, monkeypatch):
    # The rename was not flushed, so after a power loss the folder could still list the old file.
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(descriptor):
        events.append("fsync folder" if stat.S_ISDIR(os.fstat(descriptor).st_mode) else "fsync file")
        real_fsync(descriptor)

    def replace(source, target):
        events.append("replace")
        real_replace(source, target)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    checkpoint.atomic_write_text(tmp_path / "report.json", "[]\n")
    assert events == ["fsync file", "replace", "fsync folder"]
    assert (tmp_path / "report.json").read_text() == "[]\n"
