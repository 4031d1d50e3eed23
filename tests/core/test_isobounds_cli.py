"""The ``isobounds`` command line, checked against the closed forms."""

import json
import subprocess
import sys

import mpmath
import pytest

from isobounds.cli import main, parse_sweep


def run_json(capsys, *argv):
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_lipschitz_matches_closed_form(capsys):
    out = run_json(capsys, "lipschitz", "--m1", "-5", "--m2", "5", "--sigma", "1")
    # Balanced case, sigma = 1, means -m and m: L >= exp(m^2 / 2).
    with mpmath.workdps(40):
        expected = mpmath.exp(mpmath.mpf(25) / 2)
        assert abs(mpmath.mpf(out["lipschitz_bound"]) / expected - 1) < mpmath.mpf("1e-28")


def test_lipschitz_huge_separation_is_finite(capsys):
    out = run_json(capsys, "lipschitz", "--m1", "-50", "--m2", "50", "--sigma", "1")
    with mpmath.workdps(40):
        assert abs(mpmath.mpf(out["lipschitz_bound"]) / mpmath.exp(1250) - 1) < mpmath.mpf("1e-28")


def test_tv_matches_corollary_6(capsys):
    out = run_json(capsys, "tv", "--m1", "0", "--m2", "20", "--sigma", "1", "--lip", "100")
    with mpmath.workdps(50):
        D, s, L = mpmath.mpf(20), mpmath.mpf(1), mpmath.mpf(100)
        gain = mpmath.ncdf(D / (4 * s * L)) - mpmath.mpf(1) / 2
        loss = (mpmath.ncdf(-D * (2 * s - 1) / (4 * s**2)) - mpmath.ncdf(-D * (2 * s + 1) / (4 * s**2))) / 2
        expected = max(gain - loss, 0)
        assert abs(mpmath.mpf(out["tv_bound"]) / expected - 1) < mpmath.mpf("1e-28")


def test_sweep_rows_and_monotone(capsys):
    rows = run_json(capsys, "tv", "--m1", "-6", "--m2", "6", "--sigma", "1", "--lip", "1", "--sweep", "lip=1:1e6:log25")
    assert len(rows) == 25
    assert [float(r["lip"]) for r in rows][::24] == [1.0, 1e6]
    values = [mpmath.mpf(r["tv_bound"]) for r in rows]
    assert all(a >= b for a, b in zip(values, values[1:]))


def test_dps_controls_digits(capsys):
    out = run_json(capsys, "lipschitz", "--m1", "-1", "--m2", "1", "--dps", "50")
    with mpmath.workdps(60):
        expected = mpmath.nstr(mpmath.exp(mpmath.mpf(1) / 2), 50)
    assert out["lipschitz_bound"] == expected


def test_digits_above_dps_are_computed(capsys):
    # Printing 50 digits at the default --dps 30 used to print 20 digits that were never computed.
    assert main(["tv", "--m1", "-3", "--m2", "3", "--sigma", "1", "--lip", "1", "--digits", "50"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    printed = lines[-1].split()[-1]
    with mpmath.workdps(80):
        D, s, L = mpmath.mpf(6), mpmath.mpf(1), mpmath.mpf(1)
        gain = mpmath.ncdf(D / (4 * s * L)) - mpmath.mpf(1) / 2
        loss = (mpmath.ncdf(-D * (2 * s - 1) / (4 * s**2)) - mpmath.ncdf(-D * (2 * s + 1) / (4 * s**2))) / 2
        expected = mpmath.nstr(gain - loss, 50)
    assert printed == expected


def test_table_prints_every_m(capsys):
    assert main(["table", "--lip", "10"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 + 11
    assert lines[0].split()[:2] == ["m", "lip"]


def test_parse_sweep():
    assert parse_sweep("lip=1:100:log3") == ("lip", "1", "100", 3, True)
    assert parse_sweep("sigma=1:2:lin3") == ("sigma", "1", "2", 3, False)
    assert parse_sweep("sigma=1:2:3") == ("sigma", "1", "2", 3, False)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["tv", "--m1", "0", "--m2", "3", "--sigma", "1", "--lip", "-2"], "lip"),
        (["tv", "--m1", "0", "--m2", "3", "--sigma", "0", "--lip", "2"], "sigma"),
        (["lipschitz", "--m1", "0,1", "--m2", "3", "--sigma", "1"], "m"),
        (["tv", "--m1", "0", "--m2", "3", "--lip", "2", "--sweep", "lip=0:10:log3"], "log sweep"),
        (["tv", "--m1", "0", "--m2", "3", "--lip", "2", "--sweep", "foo=1:2:3"], "foo"),
        (["tv", "--m1", "zero", "--m2", "3", "--lip", "2"], "zero"),
        (["lipschitz", "--m1", "0", "--m2", "3", "--dps", "0"], "dps"),
    ],
)
def test_bad_input_exits_with_message(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_module_entry_point():
    result = subprocess.run(
        [sys.executable, "-m", "isobounds", "disconnected", "--weight", "0.5", "--distance", "10", "--lip", "1", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    value = mpmath.mpf(json.loads(result.stdout)["tv_bound"])
    # Corollary 5 at lambda = 1/2: Phi(D / (2 L)) - 1/2.
    assert abs(value - (mpmath.ncdf(5) - 0.5)) < 1e-14


def test_tv_optimize_is_at_least_corollary_6(capsys):
    out = run_json(capsys, "tv", "--m1", "-3", "--m2", "3", "--sigma", "1", "--lip", "5", "--optimize")
    assert mpmath.mpf(out["tv_bound_best_r"]) >= mpmath.mpf(out["tv_bound"]) > 0
    assert "optimize" not in out
    # Theorem 4 on the bisecting half-space at the reported radius, from its formula:
    # alpha(1/2, r) - 1/2 - nu(shell), with nu(shell) = (1/2)[Phi(r - 3) - Phi(-3)] + (1/2)[Phi(r + 3) - Phi(3)].
    with mpmath.workdps(40):
        r = mpmath.mpf(out["best_r"])
        shell = (mpmath.ncdf(r - 3) - mpmath.ncdf(-3) + mpmath.ncdf(r + 3) - mpmath.ncdf(3)) / 2
        value = mpmath.ncdf(r / 5) - mpmath.mpf(1) / 2 - shell
        assert abs(value - mpmath.mpf(out["tv_bound_best_r"])) < mpmath.mpf("1e-25")


@pytest.mark.parametrize(
    "argv, message",
    [
        (["table", "--m-max", "-1"], "m-max"),
        (["lipschitz", "--m1", "-5", "--m2", "5", "--sweep", "dps=10:50:lin3"], "cannot sweep 'dps'"),
        (["table", "--sweep", "m_max=1:3:lin3"], "cannot sweep 'm_max'"),
        (["tv", "--m1", "0", "--m2", "3", "--lip", "2", "--sweep", "optimize=0:1:lin2"], "cannot sweep 'optimize'"),
        (["tv", "--m1", "0", "--m2", "3", "--lip", "2", "--sweep", "lip=1:2:lin3", "--sweep", "sigma=1:2:lin3"], "only once"),
        (["tv", "--m1", "0", "--m2", "3", "--lip", "2", "--digits", "0"], "digits"),
        (["tv", "--m1", "0", "--m2", "3", "--lip", "2", "--sweep", "lip=1:2:lin100000000"], "sweep points"),
        (["kl", "--m1", "0", "--m2", "3", "--lip", "2", "--sweep", "weight=0.1:0.2:3"], "no --weight option"),
    ],
)
def test_bad_options_exit_with_message(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_sweep_values_keep_working_precision(capsys):
    rows = run_json(capsys, "lipschitz", "--m1", "-1", "--m2", "1", "--sigma", "1", "--dps", "40", "--sweep", "sigma=1:2:lin4")
    with mpmath.workdps(60):
        sigma = mpmath.mpf(4) / 3
        expected = sigma * mpmath.exp(mpmath.mpf(4) / (8 * sigma**2))
        assert abs(mpmath.mpf(rows[1]["lipschitz_bound"]) / expected - 1) < mpmath.mpf("1e-38")
    assert rows[1]["sigma"].startswith("1.333333333333333333333333333333333333")


def test_closed_pipe_is_not_an_error():
    # `isobounds ... | head -1`: the reader leaves early, and the command must
    # end quietly with status 0 instead of a BrokenPipeError traceback. The
    # 2,000 rows exceed a pipe's buffer, so the command is still writing.
    command = [sys.executable, "-m", "isobounds", "tv", "--m1", "-3", "--m2", "3", "--sigma", "1", "--lip", "1",
               "--sweep", "lip=1:1e6:log2000"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.readline()
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == 0
    assert "Traceback" not in stderr
