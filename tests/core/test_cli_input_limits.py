"""Limits of the ``isobounds`` command line: values out of range are rejected, values just inside are computed.

The expected values come from the formulas of Salmona et al. (2022),
evaluated here with mpmath at a higher precision than the command line's.
"""

import json

import mpmath
import pytest

from isobounds import cli
from isobounds.cli import main, sweep_values


def run_json(capsys, *argv):
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def error_of(capsys, argv):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err.strip().splitlines()[-1]


def Phi_inv(p):
    """Quantile of N(0, 1), at the caller's precision (which must resolve 2p - 1)."""
    return mpmath.sqrt(2) * mpmath.erfinv(2 * p - 1)


# ---------------------------------------------------------------------------
# Out of range: the message names the option, the value and the range.
# ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    "argv, message",
    [
        (["lipschitz", "--m1", "0", "--m2", "1e3000"],
         "argument --m2: 1e3000 is out of range: the command line accepts 0 or an absolute value in [1e-30, 1e30]"),
        (["tv", "--m1", "0,-1e31", "--m2", "1,0", "--lip", "1"],
         "argument --m1: -1e31 in '0,-1e31' is out of range: the command line accepts 0 or an absolute value in [1e-30, 1e30]"),
        (["tv", "--m1", "0", "--m2", "3", "--sigma", "1e-31", "--lip", "1"], "argument --sigma: 1e-31 is out of range"),
        (["kl", "--m1", "0", "--m2", "3", "--lip", "2e30"], "argument --lip: 2e30 is out of range"),
        (["disconnected", "--weight", "0.5", "--distance", "1e31", "--lip", "1"], "argument --distance: 1e31 is out of range"),
        (["isoperimetry", "--mass", "0.5", "--r", "1e-31", "--lip", "1"], "argument --r: 1e-31 is out of range"),
        (["lipschitz", "--m1", "0", "--m2", "5", "--tv", "1e-31"], "argument --tv: 1e-31 is out of range"),
        (["isoperimetry", "--mass", "1e-101", "--r", "1", "--lip", "1"],
         "argument --mass: 1e-101 is out of range: the command line accepts 0 or a value in [1e-100, 1]"),
        (["lipschitz", "--m1", "0", "--m2", "5", "--weight", "9e-101"], "argument --weight: 9e-101 is out of range"),
        (["kl", "--m1", "0", "--m2", "3", "--lip", "1", "--model-weight", "1e-200"], "argument --model-weight: 1e-200 is out of range"),
        (["table", "--lip", "1e-1000"], "argument --lip: 1e-1000 is out of range"),
    ],
)
def test_magnitude_out_of_range(capsys, argv, message):
    assert message in error_of(capsys, argv)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["tv", "--m1", "0", "--m2", "3", "--lip", "1", "--dps", "20000"], "argument --dps: expected an integer in [1, 1000], got 20000"),
        (["tv", "--m1", "0", "--m2", "3", "--lip", "1", "--dps", "1001"], "argument --dps: expected an integer in [1, 1000], got 1001"),
        (["table", "--digits", "1001"], "argument --digits: expected an integer in [1, 1000], got 1001"),
        (["tv", "--m1", "0", "--m2", "3", "--lip", "1", "--optimize", "--dps", "101"],
         "tv --optimize needs a working precision of at most 100 digits, got --dps 101"),
        (["tv", "--m1", "0", "--m2", "3", "--lip", "1", "--optimize", "--digits", "101"],
         "tv --optimize needs a working precision of at most 100 digits, got --digits 101"),
        (["lipschitz", "--m1", "0", "--m2", "3", "--tv", "0.1", "--dps", "101"],
         "lipschitz --tv needs a working precision of at most 100 digits, got --dps 101"),
    ],
)
def test_precision_out_of_range(capsys, argv, message):
    assert message in error_of(capsys, argv)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["tv", "--m1", "0", "--m2", "3", "--lip", "1", "--sweep", "lip=1:2:lin2001"],
         "invalid number of sweep points '2001' in 'lip=1:2:lin2001': expected an integer in [1, 2000]"),
        (["kl", "--m1", "0", "--m2", "3", "--lip", "1", "--sweep", "lip=1:2:lin501"],
         "--sweep lip=1:2:lin501 requests 501 rows, but the command line computes at most 500 rows at 30 digits"),
        (["tv", "--m1", "0", "--m2", "3", "--lip", "1", "--dps", "1000", "--sweep", "lip=1:2:lin21"],
         "--sweep lip=1:2:lin21 requests 21 rows, but the command line computes at most 20 rows at 1000 digits"),
        (["table", "--m-max", "2000"], "--m-max 2000 requests 2001 rows, but the command line computes at most 2000 rows"),
        (["table", "--m-max", "10", "--sweep", "lip=1:10:log182"],
         "--sweep lip=1:10:log182 with --m-max 10 requests 2002 rows"),
        (["tv", "--m1", "0", "--m2", "3", "--lip", "1", "--optimize", "--sweep", "lip=1:2:lin51"],
         "with tv --optimize at 30 digits requests 51 points, but the command line allows points times --dps (30 or more) "
         "up to 1500: at most 50 points at --dps 30"),
        # Sweeping --tv makes lipschitz a search even when --tv itself is not given.
        (["lipschitz", "--m1", "0", "--m2", "3", "--sweep", "tv=0.1:0.2:lin51"], "with lipschitz --tv at 30 digits requests 51 points"),
        (["tv", "--m1", "0", "--m2", "3", "--lip", "1", "--dps", "100", "--optimize", "--sweep", "lip=1:2:lin16"],
         "at most 15 points at --dps 100"),
        (["tv", "--m1", "0", "--m2", "3", "--lip", "1", "--sweep", "lip=1e-31:1:log3"],
         "--sweep lip=1e-31:1:log3: START=1e-31 is out of range: the command line accepts a value in "
         "[1e-30, 1e30] for --lip"),
        (["isoperimetry", "--mass", "0.5", "--r", "1", "--lip", "1", "--sweep", "mass=0:1e-300:lin3"],
         "STOP=1e-300 is out of range: the command line accepts 0 or a value in [1e-100, 1] for --mass"),
    ],
)
def test_sweep_out_of_range(capsys, argv, message):
    assert message in error_of(capsys, argv)


def test_long_number_message_is_short(capsys):
    number = "1" + "0" * 5000
    message = error_of(capsys, ["tv", "--m1", "0", "--m2", number, "--lip", "1"])
    assert "argument --m2: invalid number 10000000000000000000...0000000000 of 5001 characters" in message
    assert "at most 1100 characters" in message
    assert len(message) < 300


def test_sweep_count_with_non_ascii_digit(capsys):
    message = error_of(capsys, ["tv", "--m1", "0", "--m2", "3", "--lip", "1", "--sweep", "lip=1:2:lin\u00b2"])
    assert "invalid number of sweep points '\u00b2'" in message


# ---------------------------------------------------------------------------
# Just inside the range: the values are computed, and correct.
# ---------------------------------------------------------------------------

def test_lipschitz_at_largest_means(capsys):
    out = run_json(capsys, "lipschitz", "--m1", "-1e30", "--m2", "1e30")
    # Corollary 2, balanced, sigma = 1: exp(D^2 / 8) with D = 2e30.
    with mpmath.workdps(120):
        expected = mpmath.exp(mpmath.mpf("4e60") / 8)
        assert abs(mpmath.mpf(out["lipschitz_bound"]) / expected - 1) < mpmath.mpf("1e-28")


def test_dps_1000_is_accepted(capsys):
    out = run_json(capsys, "lipschitz", "--m1", "-1", "--m2", "1", "--dps", "1000")
    with mpmath.workdps(1020):
        expected = mpmath.nstr(mpmath.exp(mpmath.mpf(1) / 2), 1000)
    assert out["lipschitz_bound"] == expected


def test_optimize_at_dps_100(capsys):
    out = run_json(capsys, "tv", "--m1", "-3", "--m2", "3", "--lip", "5", "--optimize", "--dps", "100")
    # Corollary 6 with D = 6, s = 1, L = 5.
    with mpmath.workdps(130):
        gain = mpmath.ncdf(mpmath.mpf(6) / 20) - mpmath.mpf(1) / 2
        loss = (mpmath.ncdf(mpmath.mpf(18) / 4) - mpmath.ncdf(mpmath.mpf(6) / 4)) / 2
        assert abs(mpmath.mpf(out["tv_bound"]) - (gain - loss)) < mpmath.mpf("1e-98")
        assert mpmath.mpf(out["tv_bound_best_r"]) >= mpmath.mpf(out["tv_bound"])


def test_smallest_mass_and_radius(capsys):
    out = run_json(capsys, "isoperimetry", "--mass", "1e-100", "--r", "1e-30", "--lip", "1")
    # Theorem 1: alpha = Phi(r / L + Phi^-1(mass)), beta = alpha - mass.
    with mpmath.workdps(300):
        mass = mpmath.mpf("1e-100")
        alpha = mpmath.ncdf(mpmath.mpf("1e-30") + Phi_inv(mass))
        assert abs(mpmath.mpf(out["alpha"]) / alpha - 1) < mpmath.mpf("1e-28")
        assert abs(mpmath.mpf(out["beta"]) / (alpha - mass) - 1) < mpmath.mpf("1e-28")


def test_disconnected_at_smallest_lip(capsys):
    out = run_json(capsys, "disconnected", "--weight", "0.3", "--distance", "1", "--lip", "1e-30")
    # Corollary 5 with lambda = 0.7: Phi(D / (2L) + Phi^-1(0.7)) - 0.7, and Phi(5e29 + 0.52) = 1 to far more than 30 digits.
    assert abs(mpmath.mpf(out["tv_bound"]) - mpmath.mpf("0.3")) < mpmath.mpf("1e-29")


def test_sweep_at_row_limit(capsys):
    rows = run_json(capsys, "kl", "--m1", "-3", "--m2", "3", "--lip", "1", "--model-weight", "0.3", "--sweep", "lip=1:1e6:log500")
    assert len(rows) == 500
    # Corollary 8 at L = 1: a = Phi(D/(4L) + Phi^-1(lam)) - lam, b = (1/2)[Phi(D(2s+1)/4) - Phi(D(2s-1)/4)].
    with mpmath.workdps(50):
        lam = mpmath.mpf("0.3")
        a = mpmath.ncdf(mpmath.mpf(6) / 4 + Phi_inv(lam)) - lam
        b = (mpmath.ncdf(mpmath.mpf(18) / 4) - mpmath.ncdf(mpmath.mpf(6) / 4)) / 2
        assert a >= b
        expected = a * mpmath.log(a / b) + (1 - a) * mpmath.log((1 - a) / (1 - b))
        assert abs(mpmath.mpf(rows[0]["kl_bound"]) / expected - 1) < mpmath.mpf("1e-28")


def test_search_sweep_at_point_limit(capsys, monkeypatch):
    # A budget of 390 digit-points keeps the test short: 13 points at 30 digits.
    monkeypatch.setattr(cli, "SEARCH_DIGIT_BUDGET", 390)
    rows = run_json(capsys, "tv", "--m1", "-3", "--m2", "3", "--lip", "5", "--optimize", "--sweep", "lip=1:10:log13")
    assert len(rows) == 13
    assert all(mpmath.mpf(row["tv_bound_best_r"]) >= mpmath.mpf(row["tv_bound"]) for row in rows)


# ---------------------------------------------------------------------------
# Sweep ends
# ---------------------------------------------------------------------------

def test_sweep_ends_are_exact():
    with mpmath.workdps(30):
        # Through log10 and power the last point was 1 + 2e-31, and through the linear step 0.9 + 1e-31.
        assert sweep_values("0.2", "1", 14, True)[-1] == 1
        assert sweep_values("0.2", "0.9", 2, False)[-1] == mpmath.mpf("0.9")


def test_probability_sweep_up_to_one(capsys):
    rows = run_json(capsys, "isoperimetry", "--mass", "0.5", "--r", "1", "--lip", "1", "--sweep", "mass=0.2:1:log14")
    assert len(rows) == 14
    # A set of model mass 1 extends to mass 1, so alpha = 1 and beta = 0.
    assert mpmath.mpf(rows[-1]["alpha"]) == 1
    assert mpmath.mpf(rows[-1]["beta"]) == 0
