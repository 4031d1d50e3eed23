"""Help text and range messages of the ``isobounds`` command line, as a new user reads them."""

import mpmath
import pytest

from isobounds.cli import main


def _error_of(capsys, argv):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    return capsys.readouterr().err


def _help_of(capsys, command):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    return " ".join(capsys.readouterr().out.split())


@pytest.mark.parametrize(
    "argv, accepted",
    [
        (["tv", "--m1", "0", "--m2", "3", "--lip", "1e-31"], "accepts a value in [1e-30, 1e30]"),
        (["tv", "--m1", "0", "--m2", "3", "--sigma", "1e31", "--lip", "1"], "accepts a value in [1e-30, 1e30]"),
        (["isoperimetry", "--mass", "0.5", "--r", "1e-31", "--lip", "1"], "accepts 0 or a value in [1e-30, 1e30]"),
        (["lipschitz", "--m1", "0", "--m2", "5", "--tv", "1e-31"], "accepts 0 or a value in [1e-30, 1]"),
    ],
)
def test_range_message_matches_accepted_values(capsys, argv, accepted):
    # --lip 0 and --sigma -1 are rejected, so their messages must not offer 0 or an absolute value.
    assert accepted in _error_of(capsys, argv)


@pytest.mark.parametrize("value", ["0", "-1"])
def test_lip_zero_or_negative_rejected(capsys, value):
    assert "lip" in _error_of(capsys, ["tv", "--m1", "0", "--m2", "3", "--lip", value])


@pytest.mark.parametrize("command", ["kl", "table"])
def test_help_defines_a_and_b(capsys, command):
    text = _help_of(capsys, command)

    assert "a >= b" in text
    assert "a is Theorem 1's lower bound" in text or "a: the model's lower bound" in text
    assert "b is the target mass" in text or "b: the target mass" in text


def test_kl_help_slab_mass_is_corollary8_b():
    # The help calls b the target mass of the slab between H1 and its extension at r = D/(4 sigma).
    # For the target (1/2)[N(-D/2, s^2) + N(D/2, s^2)] with H1 = (-inf, 0], that mass integrated
    # directly must equal Corollary 8's b = (1/2)[Phi(D(2s+1)/(4s^2)) - Phi(D(2s-1)/(4s^2))].
    with mpmath.workdps(30):
        D, s = mpmath.mpf(5), mpmath.mpf("0.7")
        r = D / (4 * s)

        def density(x):
            return (mpmath.npdf(x, -D / 2, s) + mpmath.npdf(x, D / 2, s)) / 2

        slab = mpmath.quad(density, [0, r])
        b = (mpmath.ncdf(D * (2 * s + 1) / (4 * s**2)) - mpmath.ncdf(D * (2 * s - 1) / (4 * s**2))) / 2
    assert slab == pytest.approx(float(b), rel=1e-12)


def test_table_help_gives_corollary2_at_zero(capsys):
    text = _help_of(capsys, "table")

    assert "corollaries do not apply" not in text
    assert "Corollary 2 gives 1" in text
