"""The ``isobounds`` command line, checked against the closed forms."""

import importlib.metadata
import json
import os
import re
import subprocess
import sys

import mpmath
import pytest

import isobounds
from isobounds import (
    kl_lower_bound_two_gaussians,
    lipschitz_lower_bound_two_gaussians,
    tv_lower_bound_disconnected,
    tv_lower_bound_two_gaussians,
)
from isobounds.cli import _join_negative_values, main, parse_sweep

COMMANDS = ("lipschitz", "tv", "kl", "disconnected", "isoperimetry", "table")


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
        # The message lists the options of this command only.
        (["tv", "--m1", "0", "--m2", "3", "--lip", "2", "--sweep", "mass=0.1:0.2:3"],
         "no --mass option; it can sweep --m1, --m2, --sigma, --lip\n"),
        (["tv", "--m1", "0", "--m2", "3", "--lip", "2", "--sweep", "foo=1:2:3"], "no --foo option; it can sweep --m1,"),
        (["tv", "--m1", "0", "--m2", "3", "--lip", "2", "--sweep", "1x=1:2:3"], "NAME must be an option name"),
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


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full, a device that is always full")
def test_full_output_device_gives_message():
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-m", "isobounds", "table", "--m-max", "3"],
                                stdout=full, stderr=subprocess.PIPE, text=True, timeout=120)
    assert result.returncode == 1
    assert "writing the result failed: No space left on device" in result.stderr
    assert "Traceback" not in result.stderr


def test_closed_stdout_gives_message():
    # `isobounds ... >&-`: Python starts with sys.stdout set to None.
    result = subprocess.run([sys.executable, "-m", "isobounds", "table", "--m-max", "3", "--json"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=120,
                            preexec_fn=lambda: os.close(1))
    assert result.returncode == 1
    assert "standard output is closed" in result.stderr
    assert "Traceback" not in result.stderr


def test_interrupt_exits_130(monkeypatch, capsys):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(isobounds.cli, "_evaluate", interrupted)
    with pytest.raises(SystemExit) as stopped:
        main(["table", "--m-max", "3"])
    assert stopped.value.code == 130
    assert "isobounds table: interrupted" in capsys.readouterr().err


# ---------------------------------------------------------------------------
# Negative values after a space
# ---------------------------------------------------------------------------

def expect_exit(capsys, argv, code=2):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == code
    return capsys.readouterr()


@pytest.mark.parametrize(
    "m1_args, m2_args, m1, m2",
    [
        (["--m1", "-1e-3"], ["--m2", "3"], "-1e-3", "3"),
        (["--m1", "-3,1"], ["--m2", "3,0"], ["-3", "1"], ["3", "0"]),
        (["--m1=-3,1"], ["--m2", "3,0"], ["-3", "1"], ["3", "0"]),
        (["--m1", "-2.5E+0,-1"], ["--m2", "-1e-1,2"], ["-2.5E+0", "-1"], ["-1e-1", "2"]),
        (["--m1", "0"], ["--m2", "-.5e1"], "0", "-.5e1"),
    ],
)
def test_tv_negative_means_after_space(capsys, m1_args, m2_args, m1, m2):
    out = run_json(capsys, "tv", *m1_args, *m2_args, "--lip", "1")
    assert out["m1"] == m1
    assert out["m2"] == m2
    expected = tv_lower_bound_two_gaussians(m1, m2, "1", "1", dps=30)
    assert out["tv_bound"] == mpmath.nstr(expected, 30)


def test_lipschitz_negative_vector_matches_api(capsys):
    out = run_json(capsys, "lipschitz", "--m1", "-3,1", "--m2", "3,-2e-1", "--weight", "0.3")
    assert out["m2"] == ["3", "-2e-1"]
    expected = lipschitz_lower_bound_two_gaussians(["-3", "1"], ["3", "-2e-1"], "1", weight="0.3", dps=30)
    assert out["lipschitz_bound"] == mpmath.nstr(expected, 30)


def test_kl_negative_means_match_api(capsys):
    out = run_json(capsys, "kl", "--m1", "-3e0", "--m2", "3", "--lip", "10", "--model-weight", "0.4")
    expected = kl_lower_bound_two_gaussians("-3e0", "3", "1", "10", "0.4", dps=30)
    assert out["kl_bound"] == mpmath.nstr(expected, 30)
    assert mpmath.mpf(out["kl_bound"]) > 0


def test_negative_sweep_start_after_space(capsys):
    rows = run_json(capsys, "tv", "--m1", "-1e0", "--m2", "1", "--lip", "1", "--sweep", "m1=-3:-1:lin3")
    assert [row["m1"] for row in rows] == ["-3.0", "-2.0", "-1.0"]
    expected = tv_lower_bound_two_gaussians(-2, "1", "1", "1", dps=30)
    assert rows[1]["tv_bound"] == mpmath.nstr(expected, 30)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["tv", "--m1", "0", "--m2", "3", "--sigma", "-1e-3", "--lip", "1"], "--sigma must be a positive finite number in (0, inf), got --sigma=-1e-3"),
        (["tv", "--m1", "0", "--m2", "3", "--lip", "-1e-3"], "--lip must be a positive finite number in (0, inf), got --lip=-1e-3"),
        (["lipschitz", "--m1", "0", "--m2", "3", "--weight", "-1e-3"], "--weight must be in the open interval (0, 1), got --weight=-1e-3"),
        (["kl", "--m1", "0", "--m2", "3", "--lip", "1", "--model-weight", "-1e-3"], "--model-weight must be a probability in [0, 1]"),
        (["disconnected", "--weight", "0.5", "--distance", "-2.5e0", "--lip", "1"], "--distance must be a positive finite number in (0, inf), got --distance=-2.5e0"),
        (["isoperimetry", "--mass", "-1e-3", "--r", "1", "--lip", "1"], "--mass must be a probability in [0, 1], got --mass=-1e-3"),
        (["isoperimetry", "--mass", "0.5", "--r", "-1e-3", "--lip", "1"], "--r must be a nonnegative number in [0, inf), got --r=-1e-3"),
        (["table", "--lip", "-1e-3"], "--lip must be a positive finite number in (0, inf), got --lip=-1e-3"),
        (["table", "--m-max", "-1e0"], "argument --m-max: invalid integer '-1e0'"),
        (["tv", "--m1", "0", "--m2", "3", "--lip", "1", "--dps", "-1e3"], "argument --dps: invalid integer '-1e3'"),
        (["tv", "--m1", "0", "--m2", "3", "--lip", "1", "--sweep", "-1e3"], "invalid sweep '-1e3'"),
    ],
)
def test_negative_value_reaches_validation(capsys, argv, message):
    err = expect_exit(capsys, argv).err
    assert "expected one argument" not in err
    assert message in err


def test_abbreviated_option_takes_negative_value(capsys):
    out = run_json(capsys, "disconnected", "--weight", "0.5", "--dist", "1e1", "--lip", "1")
    assert out["distance"] == "1e1"
    err = expect_exit(capsys, ["disconnected", "--weight", "0.5", "--dist", "-1e1", "--lip", "1"]).err
    assert "--distance must be a positive finite number in (0, inf), got --distance=-1e1" in err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["tv", "--m1", "0", "--m2", "3", "--lip", "1", "--foo", "-1e-3"], "unrecognized arguments: --foo -1e-3"),
        (["tv", "--m1", "0", "--m2", "3", "--lip", "1", "--foo=-1"], "unrecognized arguments: --foo=-1"),
        (["lipschitz", "--m1", "0", "--m2", "3", "--lip", "-1e-3"], "unrecognized arguments: --lip=-1e-3"),
        (["tv", "--m1", "0", "--m2", "3", "--lip", "1", "--json", "-1e-3"], "unrecognized arguments: -1e-3"),
        (["tv", "--m", "-1e-3", "--m2", "3", "--lip", "1"], "ambiguous option: --m=-1e-3"),
    ],
)
def test_unknown_options_still_rejected(capsys, argv, message):
    err = expect_exit(capsys, argv).err
    assert message in err


def test_join_negative_values_cases():
    options = {"--m1", "--lip", "--sweep"}
    assert _join_negative_values(["--m1", "-1e-3"], options) == ["--m1=-1e-3"]
    assert _join_negative_values(["--m1", "-3, 1"], options) == ["--m1=-3, 1"]
    assert _join_negative_values(["--m", "-3,1"], options) == ["--m=-3,1"]
    # Positive values, flags, unknown options, words and everything after -- stay as they are.
    assert _join_negative_values(["--m1", "3,-1"], options) == ["--m1", "3,-1"]
    assert _join_negative_values(["--json", "-1e-3"], options) == ["--json", "-1e-3"]
    assert _join_negative_values(["--foo", "-1e-3"], options) == ["--foo", "-1e-3"]
    assert _join_negative_values(["--m1", "-h"], options) == ["--m1", "-h"]
    assert _join_negative_values(["--m1", "--lip"], options) == ["--m1", "--lip"]
    assert _join_negative_values(["--", "--m1", "-1e-3"], options) == ["--", "--m1", "-1e-3"]
    assert _join_negative_values(["--m1"], options) == ["--m1"]


# ---------------------------------------------------------------------------
# Help pages
# ---------------------------------------------------------------------------

def help_text(capsys, *argv):
    return expect_exit(capsys, [*argv, "--help"], code=0).out


@pytest.mark.parametrize(
    "command, source",
    [
        ("lipschitz", "Corollary 2"),
        ("tv", "Corollary 6"),
        ("kl", "Corollary 8"),
        ("disconnected", "Corollary 5"),
        ("isoperimetry", "Theorem 1"),
        ("table", "Corollary 6"),
    ],
)
def test_subcommand_help_has_description(capsys, command, source):
    text = help_text(capsys, command)
    description = " ".join(text.split("\n\n")[1].split())
    assert description.startswith(("Compute", "Tabulate"))
    assert source in description
    assert "Salmona et al., 2022" in description
    assert f"examples:\n  isobounds {command} " in text


@pytest.mark.parametrize("command", ["kl", "table"])
def test_kl_help_states_nats(capsys, command):
    assert "in nats" in help_text(capsys, command)


def test_tv_help_has_optimize_note(capsys):
    text = help_text(capsys, "tv")
    note = text[text.index("NOTE:"):]
    assert "best_r" in note
    assert "--dps" in note


def test_module_docstring_points_to_help():
    import isobounds.cli

    assert "isobounds COMMAND --help" in isobounds.cli.__doc__
    assert "Examples\n" not in isobounds.cli.__doc__


def examples(text):
    block = text[text.index("examples:\n"):].split("\n\n")[0]
    return [line.split()[1:] for line in block.splitlines()[1:]]


@pytest.mark.parametrize("command", COMMANDS)
def test_help_examples_run(capsys, command):
    lines = examples(help_text(capsys, command))
    assert lines
    for argv in lines:
        assert argv[0] == command
        assert main(argv) == 0, argv
        assert capsys.readouterr().err == ""


@pytest.mark.parametrize("command", COMMANDS)
def test_sweep_help_example_uses_own_option(capsys, command):
    text = help_text(capsys, command)
    sweep_help = " ".join(text[text.index("--sweep NAME=START:STOP:SPEC\n"):].split())
    name = re.search(r"such as ([\w-]+)=", sweep_help).group(1)
    usage = " ".join(text.split("\n\n")[0].split())
    assert f"--{name.replace('_', '-')} " in usage


def test_lipschitz_help_has_no_lip_sweep(capsys):
    text = help_text(capsys, "lipschitz")
    assert "lip=" not in text
    assert "sigma=0.5:2:lin7" in text


def test_top_level_help_table_range(capsys):
    text = " ".join(help_text(capsys).split())
    assert "m = 0..10" not in text
    assert "from 0 to --m-max (default 10)" in text


def test_table_help_names_corollaries(capsys):
    text = " ".join(help_text(capsys, "table").split())
    assert "tv_bound is Corollary 6, Theorem 4 on the bisecting half-space at the fixed radius r = D/(4 sigma)" in text
    assert "kl_bound, in nats, is Corollary 8 with the model weight rho(H1) = 1/2" in text


def test_table_columns_match_help(capsys):
    rows = run_json(capsys, "table", "--lip", "3", "--m-max", "3")
    assert [row["m"] for row in rows] == [0, 1, 2, 3]
    for row in rows[1:]:
        m = row["m"]
        # Theorem 4 on the bisecting half-space at r = D/(4 sigma) = m/2, for D = 2m and sigma = 1.
        with mpmath.workdps(50):
            r = mpmath.mpf(m) / 2
            shell = (mpmath.ncdf(m + r) - mpmath.ncdf(m - r)) / 2
            theorem_4 = mpmath.ncdf(r / 3) - mpmath.mpf(1) / 2 - shell
            assert abs(mpmath.mpf(row["tv_bound"]) - max(theorem_4, 0)) < mpmath.mpf("1e-28")
        assert row["tv_bound"] == mpmath.nstr(tv_lower_bound_two_gaussians(-m, m, 1, "3", dps=30), 30)
        assert row["kl_bound"] == mpmath.nstr(kl_lower_bound_two_gaussians(-m, m, 1, "3", "0.5", dps=30), 30)


# ---------------------------------------------------------------------------
# Error messages name the options
# ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    "argv, message",
    [
        (["disconnected", "--weight", "2", "--distance", "1", "--lip", "1"], "--weight must be a probability in [0, 1], got --weight=2"),
        (["disconnected", "--weight", "nan", "--distance", "1", "--lip", "1"], "--weight must not be NaN, got --weight=nan"),
        (["disconnected", "--weight", "0.5", "--distance", "0", "--lip", "1"], "--distance must be a positive finite number in (0, inf), got --distance=0"),
        (["disconnected", "--weight", "0.5", "--distance", "inf", "--lip", "1"], "--distance must be a positive finite number in (0, inf), got --distance=inf"),
        (["disconnected", "--weight", "0.5", "--distance", "1", "--lip", "0"], "--lip must be a positive finite number in (0, inf), got --lip=0"),
        (["kl", "--m1", "0", "--m2", "3", "--lip", "1", "--model-weight", "2"], "--model-weight must be a probability in [0, 1], got --model-weight=2"),
        (["lipschitz", "--m1", "0,1", "--m2", "3"], "--m1 and --m2 must have the same dimension"),
    ],
)
def test_errors_name_options(capsys, argv, message):
    err = expect_exit(capsys, argv).err
    assert message in err
    assert "weights" not in err
    assert "distances" not in err
    assert "model_weight" not in err


@pytest.mark.parametrize("option", ["--dps", "--digits"])
def test_digit_count_above_max_names_option(capsys, option):
    err = expect_exit(capsys, ["tv", "--m1", "0", "--m2", "3", "--lip", "1", option, "100001"]).err
    assert f"argument {option}: expected an integer in [1, 1000], got 100001" in err


def test_disconnected_matches_api(capsys):
    out = run_json(capsys, "disconnected", "--weight", "0.3", "--distance", "4", "--lip", "2")
    assert out["tv_bound"] == mpmath.nstr(tv_lower_bound_disconnected("0.3", "4", "2", dps=30), 30)


def test_sweep_error_keeps_its_wording(capsys):
    argv = ["kl", "--m1", "0", "--m2", "3", "--lip", "2", "--sweep", "weight=0.1:0.2:3"]
    err = expect_exit(capsys, argv).err
    assert "cannot sweep 'weight': the kl command has no --weight option" in err


# ---------------------------------------------------------------------------
# --version
# ---------------------------------------------------------------------------

def test_version_prints_package_version(capsys):
    out = expect_exit(capsys, ["--version"], code=0).out
    assert out == f"isobounds {importlib.metadata.version('isobounds')}\n"


def test_version_falls_back_to_module(capsys, monkeypatch):
    def not_installed(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", not_installed)
    out = expect_exit(capsys, ["--version"], code=0).out
    assert out == f"isobounds {isobounds.__version__}\n"


def test_module_entry_point_version():
    result = subprocess.run([sys.executable, "-m", "isobounds", "--version"], capture_output=True, text=True, check=True)
    assert result.stdout == f"isobounds {importlib.metadata.version('isobounds')}\n"


@pytest.mark.parametrize("sweep, end", [("m1=-inf:-1:3", "START=-inf"), ("lip=1:inf:log3", "STOP=inf"),
                                        ("m2=1:nan:3", "STOP=nan")])
def test_sweep_with_infinite_end_message(capsys, sweep, end):
    err = expect_exit(capsys, ["tv", "--m1", "0", "--m2", "3", "--lip", "1", "--sweep", sweep]).err
    assert f"a sweep needs finite START and STOP, got {end}" in err


@pytest.mark.parametrize("value", ["-nan", "-0x10"])
def test_invalid_negative_looking_value_names_option(capsys, value):
    err = expect_exit(capsys, ["tv", "--m1", value, "--m2", "3", "--lip", "1"]).err
    assert f"argument --m1: invalid number '{value}'" in err
    assert "expected one argument" not in err


def test_sweep_of_internal_attribute_names_no_option(capsys):
    # run and command are attributes of the parsed arguments, not options.
    with pytest.raises(SystemExit):
        main(["tv", "--m1", "0", "--m2", "3", "--lip", "2", "--sweep", "run=1:2:2"])
    assert "the tv command has no --run option" in capsys.readouterr().err


def test_lipschitz_for_tv_matches_api(capsys):
    out = run_json(capsys, "lipschitz", "--m1", "-5", "--m2", "5", "--tv", "0.1")
    with mpmath.workdps(40):
        closed = isobounds.lipschitz_lower_bound_for_tv(-5, 5, 1, "0.1", dps=30)
        sharp = isobounds.lipschitz_lower_bound_for_tv(-5, 5, 1, "0.1", sharp=True, dps=30)
        assert abs(mpmath.mpf(out["lipschitz_bound"]) / closed - 1) < mpmath.mpf("1e-28")
        assert abs(mpmath.mpf(out["lipschitz_bound_sharp"]) / sharp - 1) < mpmath.mpf("1e-28")
    # Without --tv the row has no tv column, and the bounds are those of an exact fit.
    out = run_json(capsys, "lipschitz", "--m1", "-5", "--m2", "5")
    assert "tv" not in out


def test_lipschitz_tv_rejects_unbalanced_weight(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["lipschitz", "--m1", "-5", "--m2", "5", "--tv", "0.1", "--weight", "0.3"])
    assert exit_info.value.code == 2
    assert "--tv needs the balanced mixture, --weight 0.5, got --weight 0.3" in capsys.readouterr().err
