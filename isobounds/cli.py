"""Command line: evaluate the bounds of Salmona et al. (2022) from flags.

Each subcommand prints a readable table, or JSON with ``--json``. Numbers
are computed at ``--dps`` significant digits (default 30), plus
``OUTPUT_GUARD_DIGITS``, and printed with ``--digits`` of them (``--dps``
of them in JSON). A ``--digits`` above ``--dps`` raises ``--dps`` to
``--digits``, so that every printed digit is computed.
``isobounds COMMAND --help`` describes each subcommand and gives examples.

A negative number or vector may follow its option after a space
(``--m1 -1e-3``, ``--m1 -3,1``) as well as after an equals sign
(``--m1=-3,1``): :func:`main` joins such pairs before argparse sees them.
"""

import argparse
import importlib.metadata
import json
import os
import re
import sys
import textwrap

import mpmath

from ._precision import DEFAULT_DPS, precision

__all__ = ["main", "build_parser", "parse_sweep"]


# ---------------------------------------------------------------------------
# Parsing helpers
# ---------------------------------------------------------------------------

def _point(text):
    """Parse a mean: ``"3"`` or a comma-separated vector ``"0,3.5"``."""
    parts = [part.strip() for part in text.split(",")]
    if not parts or any(not part for part in parts):
        raise argparse.ArgumentTypeError(f"invalid mean {text!r}: expected a number or comma-separated numbers such as 0,3.5")
    for part in parts:
        _parse_mpf(part, text)
    return parts[0] if len(parts) == 1 else parts


def _number(text):
    _parse_mpf(text, text)
    return text


# ---------------------------------------------------------------------------
# Limits of the command line
# ---------------------------------------------------------------------------
#
# The library functions accept any finite number and up to 100000 digits,
# and their cost grows with both: `lipschitz --m1 0 --m2 1e3000`
# needs about 6000 extra digits and ran for minutes. The command line bounds
# its inputs so that every request it accepts returns within a few seconds,
# or about 12 s for the longest sweep of searches.
# The limits were measured with `isobounds` on a 2-core x86-64 machine: the
# slowest accepted requests took 2 to 5 seconds each, not counting the 2
# seconds that starting Python and importing isobounds take.
# NOTE: the limits are sized from those timings, so on a slower machine the
# slowest accepted requests take proportionally longer.

CLI_MAX_DPS = 1000
"""Largest --dps (and --digits) of the command line; a closed-form row takes up to about 0.25 s at 1000 digits."""

SEARCH_MAX_DPS = 100
"""Largest working precision of the searches, ``tv --optimize`` and ``lipschitz --tv``.

They maximise over a radius or solve for L, and their cost grows faster than
the square of the precision: ``tv --m1 -100 --m2 100 --lip 1 --optimize``
took 0.9 s at 100 digits, 16 s at 500 and more than 90 s at 1000.
"""

MAX_SWEEP_POINTS = 2000

OUTPUT_GUARD_DIGITS = 5
"""Digits computed beyond --dps, so that the --dps digits printed are correctly rounded.

A result computed at exactly --dps digits is rounded to that many digits in
binary, then to decimal for printing. The two roundings put the last printed
digit off by one in 7 of 450 random disconnected and isoperimetry results at
--dps 30. The library's results are correct to a few units in their last
digit. With these guard digits, a printed digit can then be wrong only when
the value lies within a few 1e-5 units of that digit from a rounding
boundary.
best_r of tv --optimize is the exception: see the note of that command.
"""

MAX_ROWS = {"lipschitz": 500, "tv": 2000, "kl": 500, "disconnected": 2000, "isoperimetry": 1000, "table": 2000}
"""Maximum number of rows per command (sweep points, times --m-max + 1 for table) at --dps 100 or below.

Each limit is about 4 s of computing for the slowest inputs in range: a row
took up to 6 ms for lipschitz and kl, 3 ms for isoperimetry and 2 ms for the
others. Above --dps 100 a row costs about the square of the precision, so
the limit is ``MAX_ROWS[command] * (100 / dps)**2`` rows there: at --dps
1000 a row took 50 to 250 ms.
"""

SEARCH_DIGIT_BUDGET = 1500
"""Maximum of sweep points times the working precision for the searches: 50 points at --dps 30, 15 at 100.

A point took up to 0.25 s at 30 digits and 0.75 s at 100, so the longest
accepted search sweep takes about 12 s.
"""

LENGTH_EXPONENT = 30
"""Nonzero means, --sigma, --lip, --distance, --r and --tv have absolute values in [1e-30, 1e30].

The library rejects the rest: --sigma and --lip must be positive, --distance and --r nonnegative, --tv at most 1.
"""

PROBABILITY_MIN_EXPONENT = -100
"""--weight, --model-weight and --mass are 0 or at least 1e-100; the library rejects values above 1."""

_PROBABILITY_OPTIONS = ("weight", "model_weight", "mass")

_LENGTH_HELP = f"0 or of absolute value in [1e-{LENGTH_EXPONENT}, 1e{LENGTH_EXPONENT}]"
_PROBABILITY_HELP = f"0 or at least 1e{PROBABILITY_MIN_EXPONENT}"

MAX_NUMBER_CHARS = 1100
"""Maximum length of a number, in characters: room for the 1000 digits of --dps 1000 and an exponent."""


def _parse_mpf(part, text):
    """Return ``part`` as an mpf, or raise ArgumentTypeError naming it (``text`` is the whole value given)."""
    if len(part) > MAX_NUMBER_CHARS:
        raise argparse.ArgumentTypeError(
            f"invalid number {part[:20]}...{part[-10:]} of {len(part)} characters: the command line accepts at most "
            f"{MAX_NUMBER_CHARS} characters per number")
    try:
        return mpmath.mpf(part)
    except (ValueError, TypeError):
        raise argparse.ArgumentTypeError(f"invalid number {part!r}" + (f" in {text!r}" if part != text else "")) from None


def _range_text(option):
    """Return the values that the command line accepts for ``option`` (a destination name such as ``"lip"``)."""
    if option in _PROBABILITY_OPTIONS:
        return f"0 or a value in [1e{PROBABILITY_MIN_EXPONENT}, 1]"
    if option in ("sigma", "lip"):
        return f"a value in [1e-{LENGTH_EXPONENT}, 1e{LENGTH_EXPONENT}]"
    if option in ("distance", "r"):
        return f"0 or a value in [1e-{LENGTH_EXPONENT}, 1e{LENGTH_EXPONENT}]"
    if option == "tv":
        return f"0 or a value in [1e-{LENGTH_EXPONENT}, 1]"
    return f"0 or an absolute value in [1e-{LENGTH_EXPONENT}, 1e{LENGTH_EXPONENT}]"


def _out_of_range(option, value):
    """Return whether the finite nonzero ``value`` of ``option`` lies outside the command line's range.

    NaN, infinities, negative probabilities and probabilities above 1 are
    left to the library, which rejects them at once with its own message.
    """
    if not mpmath.isfinite(value) or value == 0:
        return False
    if option in _PROBABILITY_OPTIONS:
        return 0 < value < mpmath.mpf(10) ** PROBABILITY_MIN_EXPONENT
    magnitude = abs(value)
    bound = mpmath.mpf(10) ** LENGTH_EXPONENT
    return magnitude > bound or magnitude < 1 / bound


def _bounded(option, parse):
    """Return an argparse type for ``option`` that parses with ``parse`` and rejects values out of range."""

    def parse_bounded(text):
        value = parse(text)
        for part in value if isinstance(value, list) else [value]:
            if _out_of_range(option, mpmath.mpf(part)):
                where = f" in {text!r}" if part != text else ""
                raise argparse.ArgumentTypeError(
                    f"{part}{where} is out of range: the command line accepts {_range_text(option)} "
                    f"(the library functions accept any value)")
        return value

    # argparse names the type in its "invalid ... value" message, but these raise their own messages.
    parse_bounded.__name__ = parse.__name__
    return parse_bounded


# Parameters that --sweep may vary: the numeric options of the subcommands.
SWEEPABLE = ("m1", "m2", "sigma", "lip", "weight", "model_weight", "distance", "mass", "r", "tv")


def parse_sweep(text):
    """Parse ``NAME=START:STOP:SPEC`` into ``(name, start, stop, count, log)``.

    ``SPEC`` is ``logN`` (N points evenly spaced in log10, START and STOP > 0)
    or ``linN`` or ``N`` (N points evenly spaced), with 1 <= N <= MAX_SWEEP_POINTS (2000).

    >>> parse_sweep("lip=1:100:log3")
    ('lip', '1', '100', 3, True)
    """
    try:
        name, grid = text.split("=", 1)
        start, stop, spec = grid.split(":")
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid sweep {text!r}: expected NAME=START:STOP:logN or NAME=START:STOP:linN, e.g. lip=1:1e6:log25") from None

    name = name.strip().replace("-", "_")
    if not name.isidentifier():
        raise argparse.ArgumentTypeError(f"invalid sweep {text!r}: NAME must be an option name such as lip")
    log = spec.startswith("log")
    count_text = spec[3:] if spec[:3] in ("log", "lin") else spec
    if not (count_text.isascii() and count_text.isdigit()) or not 1 <= int(count_text) <= MAX_SWEEP_POINTS:
        raise argparse.ArgumentTypeError(f"invalid number of sweep points {count_text!r} in {text!r}: expected an integer in [1, {MAX_SWEEP_POINTS}]")
    _number(start)
    _number(stop)
    for end, value in (("START", start), ("STOP", stop)):
        if not mpmath.isfinite(mpmath.mpf(value)):
            raise argparse.ArgumentTypeError(f"a sweep needs finite START and STOP, got {end}={value} in {text!r}")
    if log and (mpmath.mpf(start) <= 0 or mpmath.mpf(stop) <= 0):
        raise argparse.ArgumentTypeError(f"a log sweep needs START > 0 and STOP > 0, got {start}:{stop}")
    return name, start, stop, int(count_text), log


def sweep_values(start, stop, count, log):
    """Return the ``count`` grid points from ``start`` to ``stop`` as mpf at the working precision.

    >>> [mpmath.nstr(v, 3) for v in sweep_values("1", "100", 3, True)]
    ['1.0', '10.0', '100.0']
    """
    start, stop = mpmath.mpf(start), mpmath.mpf(stop)
    if count == 1:
        return [start]
    if log:
        values = [mpmath.power(10, mpmath.log10(start) + i * (mpmath.log10(stop) - mpmath.log10(start)) / (count - 1)) for i in range(count)]
    else:
        values = [start + i * (stop - start) / (count - 1) for i in range(count)]
    # The ends are START and STOP exactly, not rounded through log10 and power: a sweep
    # of a probability up to 1 must not end at 1 + 1e-30, which the library rejects.
    values[0], values[-1] = start, stop
    return values


class _SweepOnce(argparse.Action):
    """Store --sweep, rejecting a second one (a sweep varies a single parameter)."""

    def __call__(self, parser, namespace, values, option_string=None):
        if getattr(namespace, self.dest, None) is not None:
            parser.error("--sweep may be given only once: it varies a single parameter")
        setattr(namespace, self.dest, values)


def _digit_count(text):
    """Parse ``--dps`` or ``--digits``: an integer in [1, CLI_MAX_DPS]."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid integer {text!r}") from None
    if not 1 <= value <= CLI_MAX_DPS:
        raise argparse.ArgumentTypeError(
            f"expected an integer in [1, {CLI_MAX_DPS}], got {value}; at most {SEARCH_MAX_DPS} with "
            f"tv --optimize or lipschitz --tv (the library functions accept more digits)")
    return value


def _nonnegative_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid integer {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {value}")
    return value


# ---------------------------------------------------------------------------
# Negative values after a space
# ---------------------------------------------------------------------------

def _value_options(parser):
    """Return the option strings of ``parser`` and of its subcommands that take a value."""
    # argparse has no public API that lists a parser's options, so this reads its actions.
    options = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for subparser in action.choices.values():
                options |= _value_options(subparser)
        elif action.option_strings and action.nargs != 0:
            options.update(action.option_strings)
    return options


_NUMBER_LIKE = re.compile(r"-(\d|\.\d|inf|nan)", re.IGNORECASE)
"""A token that starts like a negative number: joined to its option, so that an invalid one gets that option's message."""


def _is_negative_value(token):
    """Return whether ``token`` starts with a minus sign and looks like a number or comma-separated numbers.

    A token that :func:`_point` parses counts, and so does one that only
    starts like a number (``-nan``, ``-0x10``), which the option's own
    parser then reports as invalid instead of argparse's "expected one
    argument".
    """
    if not token.startswith("-"):
        return False
    if _NUMBER_LIKE.match(token):
        return True
    try:
        _point(token)
    except argparse.ArgumentTypeError:
        return False
    return True


def _join_negative_values(argv, value_options):
    """Join each option that takes a value with a following negative value: ``--m1 -1e-3`` becomes ``--m1=-1e-3``.

    argparse reads a token that starts with ``-`` as an option unless it
    looks like ``-1`` or ``-0.5``, so ``--m1 -1e-3`` and ``--m1 -3,1``
    fail with "expected one argument". A token joined here is an option
    in ``value_options``, or an abbreviation of one (argparse resolves
    it, or reports it as ambiguous), followed by a token that
    :func:`_point` parses. Every other token, and everything after
    ``--``, is left as it is, so argparse still rejects unknown options.

    >>> _join_negative_values(["tv", "--m1", "-3,1", "--lip", "1"], {"--m1", "--lip"})
    ['tv', '--m1=-3,1', '--lip', '1']
    """
    joined = []
    index = 0
    while index < len(argv):
        token = argv[index]
        if token == "--":
            joined.extend(argv[index:])
            break
        takes_value = (
            token.startswith("--")
            and "=" not in token
            and any(option.startswith(token) for option in value_options)
        )
        if takes_value and index + 1 < len(argv) and _is_negative_value(argv[index + 1]):
            joined.append(f"{token}={argv[index + 1]}")
            index += 2
        else:
            joined.append(token)
            index += 1
    return joined


# ---------------------------------------------------------------------------
# Subcommands: each maps parsed arguments to a list of (column, value) rows.
# ---------------------------------------------------------------------------

def _two_gaussian_args(parser, lip=True):
    parser.add_argument("--m1", type=_bounded("m1", _point), required=True,
                        help=f"first mean: a number or comma-separated coordinates, such as -3,1, each {_LENGTH_HELP}")
    parser.add_argument("--m2", type=_bounded("m2", _point), required=True, help="second mean, same dimension and range as --m1")
    parser.add_argument("--sigma", type=_bounded("sigma", _number), default="1",
                        help=f"common standard deviation of both components, in [1e-{LENGTH_EXPONENT}, 1e{LENGTH_EXPONENT}] (default 1)")
    if lip:
        parser.add_argument("--lip", type=_bounded("lip", _number), required=True,
                            help=f"Lipschitz constant L of the generator, in [1e-{LENGTH_EXPONENT}, 1e{LENGTH_EXPONENT}]")


def _run_lipschitz(args):
    from .bounds import lipschitz_lower_bound_for_tv, lipschitz_lower_bound_two_gaussians

    if args.tv is not None:
        if mpmath.mpf(args.weight) != 0.5:
            raise ValueError(f"--tv needs the balanced mixture, --weight 0.5, got --weight {args.weight}")
        closed = lipschitz_lower_bound_for_tv(args.m1, args.m2, args.sigma, args.tv)
        sharp = lipschitz_lower_bound_for_tv(args.m1, args.m2, args.sigma, args.tv, sharp=True)
        return {"lipschitz_bound": closed, "lipschitz_bound_sharp": sharp}
    closed = lipschitz_lower_bound_two_gaussians(args.m1, args.m2, args.sigma, weight=args.weight)
    sharp = lipschitz_lower_bound_two_gaussians(args.m1, args.m2, args.sigma, weight=args.weight, sharp=True)
    return {"lipschitz_bound": closed, "lipschitz_bound_sharp": sharp}


def _run_tv(args):
    from .bounds import maximize_tv_two_gaussians, tv_lower_bound_two_gaussians

    row = {"tv_bound": tv_lower_bound_two_gaussians(args.m1, args.m2, args.sigma, args.lip)}
    if args.optimize:
        best = maximize_tv_two_gaussians(args.m1, args.m2, args.sigma, args.lip)
        row.update(tv_bound_best_r=best.value, best_r=best.radius)
    return row


def _run_kl(args):
    from .bounds import kl_lower_bound_two_gaussians

    return {"kl_bound": kl_lower_bound_two_gaussians(args.m1, args.m2, args.sigma, args.lip, args.model_weight)}


def _run_disconnected(args):
    from .bounds import tv_lower_bound_disconnected

    return {"tv_bound": tv_lower_bound_disconnected(args.weight, args.distance, args.lip)}


def _run_isoperimetry(args):
    from .bounds import extension_mass_lower_bound, shell_mass_lower_bound, surface_area_lower_bound

    return {
        "alpha": extension_mass_lower_bound(args.mass, args.r, args.lip),
        "beta": shell_mass_lower_bound(args.mass, args.r, args.lip),
        "surface_area_bound": surface_area_lower_bound(args.mass, args.lip),
    }


def _run_table(args):
    """Bounds for the paper's univariate target (1/2)[N(-m, 1) + N(m, 1)]."""
    from .bounds import (
        kl_lower_bound_two_gaussians,
        lipschitz_lower_bound_two_gaussians,
        tv_lower_bound_two_gaussians,
    )

    rows = []
    for m in range(args.m_max + 1):
        row = {"m": m, "lip": args.lip}
        if m == 0:
            row.update(lipschitz_bound=mpmath.mpf(1), tv_bound=mpmath.mpf(0), kl_bound=mpmath.mpf(0))
        else:
            row["lipschitz_bound"] = lipschitz_lower_bound_two_gaussians(-m, m, 1)
            row["tv_bound"] = tv_lower_bound_two_gaussians(-m, m, 1, args.lip)
            row["kl_bound"] = kl_lower_bound_two_gaussians(-m, m, 1, args.lip, "0.5")
        rows.append(row)
    return rows


# NOTE: at m = 0 the two components coincide. Corollary 2 gives sigma exp(0) = 1,
# and Corollaries 6 and 8 (which need distinct means) are replaced by the trivial bounds 0.


def _package_version():
    """Return the installed version of isobounds, or ``isobounds.__version__`` when the package is not installed."""
    try:
        return importlib.metadata.version("isobounds")
    except importlib.metadata.PackageNotFoundError:
        from . import __version__

        return __version__


def _add_common_options(parser, command, sweep_example):
    """Add the precision, output and ``--sweep`` options to ``parser``, with ``sweep_example`` in the ``--sweep`` help."""
    rows = MAX_ROWS[command]
    table_rows = ", where each point has --m-max + 1 rows" if command == "table" else ""
    search_rows = ""
    if command in ("tv", "lipschitz"):
        search = "--optimize" if command == "tv" else "--tv"
        search_rows = (f" With {search} the command allows N times --dps (counted as at least 30) up to "
                       f"{SEARCH_DIGIT_BUDGET}: {SEARCH_DIGIT_BUDGET // 30} points at --dps 30, "
                       f"{SEARCH_DIGIT_BUDGET // SEARCH_MAX_DPS} at --dps {SEARCH_MAX_DPS}.")
    parser.add_argument("--dps", type=_digit_count, default=DEFAULT_DPS,
                        help=f"working precision in significant digits, in [1, {CLI_MAX_DPS}] (default 30; raised to "
                        f"--digits if lower). tv --optimize and lipschitz --tv allow at most {SEARCH_MAX_DPS}")
    parser.add_argument("--digits", type=_digit_count, default=10,
                        help=f"significant digits printed in the table, in [1, {CLI_MAX_DPS}] (default 10)")
    parser.add_argument("--json", action="store_true", help="print JSON (numbers as strings with --dps digits)")
    parser.add_argument(
        "--sweep",
        type=parse_sweep,
        action=_SweepOnce,
        metavar="NAME=START:STOP:SPEC",
        help=f"evaluate over a grid of one numeric option of this command, such as {sweep_example}. "
        f"SPEC is logN (N points evenly spaced in log10, START > 0 and STOP > 0), or linN or N "
        f"(N evenly spaced points), with N in [1, {MAX_SWEEP_POINTS}]. START and STOP must lie in the range "
        f"of the swept option. A required option must still be given when it is swept, and the sweep "
        f"replaces its value. The command line computes at most {rows} rows up to --dps 100 and "
        f"{rows}*(100/dps)^2 rows above{table_rows}.{search_rows}",
    )


def _add_command(commands, name, summary, description, examples, note=None):
    """Add subcommand ``name``: ``summary`` for ``isobounds --help``, ``description`` and ``examples`` for its own help."""
    epilog = "examples:\n" + "".join(f"  {line}\n" for line in examples)
    if note is not None:
        epilog += "\n" + textwrap.fill(note, width=79)
    return commands.add_parser(
        name,
        help=summary,
        description=textwrap.fill(description, width=79),
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def build_parser():
    """Build the argument parser of the ``isobounds`` command."""
    parser = argparse.ArgumentParser(
        prog="isobounds",
        description=textwrap.fill(
            "Lower bounds on the Lipschitz constant, total variation and KL divergence of push-forward "
            "generative models fitting Gaussian mixtures (Salmona et al., 2022).",
            width=79,
        ),
        epilog="Run 'isobounds COMMAND --help' for what a command computes, its options and examples.\n\n"
        + textwrap.fill(
            f"Limits: so that every request returns within seconds, the command line accepts numbers "
            f"that are 0 or of absolute value in [1e-{LENGTH_EXPONENT}, 1e{LENGTH_EXPONENT}] (weights and masses: "
            f"0 or at least 1e{PROBABILITY_MIN_EXPONENT}), --dps and --digits up to {CLI_MAX_DPS} "
            f"({SEARCH_MAX_DPS} for tv --optimize and lipschitz --tv) and {min(MAX_ROWS.values())} to {max(MAX_ROWS.values())} rows. Each "
            f"command's --help gives the details. The functions of the Python library have none of these "
            f"limits.",
            width=79,
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_package_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    lipschitz = _add_command(
        commands,
        "lipschitz",
        "Corollary 2: Lipschitz constant needed to fit two Gaussians exactly",
        "Compute a lower bound on the Lipschitz constant of any generator g for which g#N(0, I) equals the "
        "mixture w N(m1, sigma^2 I) + (1 - w) N(m2, sigma^2 I) (Corollary 2 of Salmona et al., 2022). "
        "lipschitz_bound is the closed form sigma exp(D^2 / (8 sigma^2) - Phi^-1(w)^2 / 2), with D = |m2 - m1|, "
        "and lipschitz_bound_sharp is the intermediate step of the proof, which is never smaller. "
        "With --tv EPS the bounds are for a generator that only comes within total variation EPS of the "
        "balanced mixture: lipschitz_bound solves Corollary 6 for L, and lipschitz_bound_sharp takes the "
        "best radius of Theorem 4 on the bisecting half-space (at --tv 0 it equals the exact-fit bound).",
        [
            "isobounds lipschitz --m1 -5 --m2 5 --sigma 1",
            "isobounds lipschitz --m1 -3,1 --m2 3,0 --weight 0.3",
            "isobounds lipschitz --m1 -5 --m2 5 --tv 0.01",
            "isobounds lipschitz --m1 -5 --m2 5 --sweep sigma=0.5:2:lin7",
        ],
    )
    _two_gaussian_args(lipschitz, lip=False)
    lipschitz.add_argument("--weight", type=_bounded("weight", _number), default="0.5", help=f"weight w of the component at --m1, in (0, 1) and {_PROBABILITY_HELP} (default 0.5)")
    lipschitz.add_argument("--tv", type=_bounded("tv", _number), default=None,
                           help=f"total variation that the generator reaches (balanced mixture only), 0 or in "
                           f"[1e-{LENGTH_EXPONENT}, 1]; default: an exact fit. It makes the command a search, which allows "
                           f"--dps up to {SEARCH_MAX_DPS} and fewer sweep points (see --sweep)")
    _add_common_options(lipschitz, "lipschitz", "sigma=0.5:2:lin7")
    lipschitz.set_defaults(run=_run_lipschitz)

    tv = _add_command(
        commands,
        "tv",
        "Corollary 6: total variation bound for a balanced two-Gaussian mixture",
        "Compute a lower bound on the total variation distance, a number in [0, 1], between g#N(0, I) for an "
        "L-Lipschitz generator g and the mixture (1/2)[N(m1, sigma^2 I) + N(m2, sigma^2 I)] (Corollary 6 of "
        "Salmona et al., 2022). It is Theorem 4 on the half-space that bisects the means, at the fixed radius "
        "r = D/(4 sigma) with D = |m2 - m1|.",
        [
            "isobounds tv --m1 0 --m2 20 --sigma 1 --lip 100",
            "isobounds tv --m1 -3,1 --m2 3,0 --lip 10 --optimize",
            "isobounds tv --m1 -5 --m2 5 --sigma 1 --lip 10 --sweep lip=1:1e6:log25",
        ],
        note="NOTE: the radius best_r printed by --optimize is the location of a maximum, which is "
        "ill-conditioned. Its last three or four printed digits can change with --dps, while the bound "
        "itself is accurate to every printed digit. Where tv_bound_best_r is 0, every radius gives 0, "
        "and best_r is only where the search stopped.",
    )
    _two_gaussian_args(tv)
    tv.add_argument(
        "--optimize",
        action="store_true",
        help="also print tv_bound_best_r, Theorem 4 on the bisecting half-space maximised over the radius r "
        "(never below Corollary 6), and the maximising radius best_r",
    )
    _add_common_options(tv, "tv", "lip=1:1e6:log25")
    tv.set_defaults(run=_run_tv)

    kl = _add_command(
        commands,
        "kl",
        "Corollary 8 (corrected): KL bound in nats for a balanced two-Gaussian mixture",
        "Compute a lower bound, in nats, on the Kullback-Leibler divergence KL(g#N(0, I) || target) for an "
        "L-Lipschitz generator g and the target (1/2)[N(m1, sigma^2 I) + N(m2, sigma^2 I)] (Corollary 8 of "
        "Salmona et al., 2022). The bound depends on the model mass rho(H1) (--model-weight) of the half-space "
        "H1 on the m1 side of the hyperplane that bisects the means. The bound is kl_bin(a || b), where a is "
        "Theorem 1's lower bound on the model mass of the slab between H1 and its extension at radius "
        "r = D/(4 sigma), and b is the target mass of that slab. Its proof needs a >= b, a condition that the "
        "published statement omits. The bound here adds that condition and is 0 when it fails.",
        [
            "isobounds kl --m1 -3 --m2 3 --sigma 1 --lip 10 --model-weight 0.5",
            "isobounds kl --m1 -3 --m2 3 --lip 10 --model-weight 0.5 --sweep model-weight=0.01:0.5:lin50",
        ],
    )
    _two_gaussian_args(kl)
    kl.add_argument("--model-weight", type=_bounded("model_weight", _number), default="0.5", help=f"model mass rho(H1) of the half-space on the m1 side, in [0, 1] and {_PROBABILITY_HELP} (default 0.5)")
    _add_common_options(kl, "kl", "model-weight=0.01:0.5:lin50")
    kl.set_defaults(run=_run_kl)

    disconnected = _add_command(
        commands,
        "disconnected",
        "Corollary 5: total variation bound for a target on two pieces",
        "Compute a lower bound on the total variation distance between g#N(0, I), for an L-Lipschitz generator "
        "g, and a target carried by two pieces of masses w and 1 - w that lie a distance D apart (Corollary 5 "
        "of Salmona et al., 2022). With lambda = max(w, 1 - w), the bound is "
        "Phi(D / (2L) + Phi^-1(lambda)) - lambda.",
        [
            "isobounds disconnected --weight 0.5 --distance 10 --lip 1",
            "isobounds disconnected --weight 0.3 --distance 10 --lip 1 --sweep distance=1:100:log9",
        ],
    )
    disconnected.add_argument("--weight", type=_bounded("weight", _number), required=True, help=f"mass w of one piece, in [0, 1] and {_PROBABILITY_HELP} (0 and 1 give the trivial bound 0)")
    disconnected.add_argument("--distance", type=_bounded("distance", _number), required=True, help=f"distance D between the pieces, in [1e-{LENGTH_EXPONENT}, 1e{LENGTH_EXPONENT}]")
    disconnected.add_argument("--lip", type=_bounded("lip", _number), required=True,
                              help=f"Lipschitz constant L of the generator, in [1e-{LENGTH_EXPONENT}, 1e{LENGTH_EXPONENT}]")
    _add_common_options(disconnected, "disconnected", "distance=1:100:log9")
    disconnected.set_defaults(run=_run_disconnected)

    iso = _add_command(
        commands,
        "isoperimetry",
        "Theorem 1: lower bounds on rho(A_r), rho(A_r minus A) and the surface area",
        "Compute lower bounds for a set A of model mass rho(A) under g#N(0, I), for an L-Lipschitz generator g "
        "(Theorem 1 of Salmona et al., 2022). alpha bounds the model mass of the extension A_r, the points within "
        "distance r of A. beta bounds the model mass of the shell A_r minus A, and surface_area_bound bounds "
        "the model's surface area of A.",
        [
            "isobounds isoperimetry --mass 0.5 --r 1 --lip 2",
            "isobounds isoperimetry --mass 1e-6 --r 1 --lip 2 --sweep r=0:5:lin11",
        ],
    )
    iso.add_argument("--mass", type=_bounded("mass", _number), required=True, help=f"model mass rho(A), in [0, 1] and {_PROBABILITY_HELP}")
    iso.add_argument("--r", type=_bounded("r", _number), required=True, help=f"extension radius r, 0 or in [1e-{LENGTH_EXPONENT}, 1e{LENGTH_EXPONENT}]")
    iso.add_argument("--lip", type=_bounded("lip", _number), required=True,
                     help=f"Lipschitz constant L of the generator, in [1e-{LENGTH_EXPONENT}, 1e{LENGTH_EXPONENT}]")
    _add_common_options(iso, "isoperimetry", "r=0:5:lin11")
    iso.set_defaults(run=_run_isoperimetry)

    table = _add_command(
        commands,
        "table",
        "Corollaries 2, 6 and 8 for (1/2)[N(-m,1) + N(m,1)] at each integer m from 0 to --m-max (default 10)",
        "Tabulate the bounds for the univariate target (1/2)[N(-m, 1) + N(m, 1)] at m = 0, 1, ..., --m-max, for "
        "a generator with Lipschitz constant --lip (Salmona et al., 2022). lipschitz_bound is Corollary 2, the "
        "Lipschitz constant needed to fit the target exactly, which does not depend on --lip. tv_bound is "
        "Corollary 6, Theorem 4 on the bisecting half-space at the fixed radius r = D/(4 sigma) = m/2, since "
        "D = 2m and sigma = 1. kl_bound, in nats, is Corollary 8 with the model weight rho(H1) = 1/2 and the "
        "condition a >= b of its proof added (a: the model's lower bound, b: the target mass of the slab; see "
        "isobounds kl --help). At m = 0 the two components coincide: Corollary 2 gives 1, and the row shows the "
        "trivial TV and KL bounds 0.",
        [
            "isobounds table --lip 10",
            "isobounds table --lip 100 --m-max 20 --json",
            "isobounds table --m-max 5 --sweep lip=1:1e6:log7",
        ],
    )
    table.add_argument("--lip", type=_bounded("lip", _number), default="10", help=f"Lipschitz constant L for the TV and KL columns, in [1e-{LENGTH_EXPONENT}, 1e{LENGTH_EXPONENT}] (default 10)")
    table.add_argument("--m-max", type=_nonnegative_int, default=10, help="largest m, an integer >= 0 (default 10); the table has --m-max + 1 rows, and --sweep limits their number")
    _add_common_options(table, "table", "lip=1:1e6:log7")
    table.set_defaults(run=_run_table)
    return parser


# ---------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------

def _format(value, digits):
    if isinstance(value, mpmath.mpf):
        return mpmath.nstr(value, digits)
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def _json_value(value, dps):
    if isinstance(value, mpmath.mpf):
        return mpmath.nstr(value, dps)
    return value


def _print_table(rows, digits, out):
    columns = list(rows[0])
    cells = [[_format(row[c], digits) for c in columns] for row in rows]
    widths = [max(len(c), *(len(line[i]) for line in cells)) for i, c in enumerate(columns)]
    out.write("  ".join(c.rjust(w) for c, w in zip(columns, widths)) + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    for line in cells:
        out.write("  ".join(v.rjust(w) for v, w in zip(line, widths)) + "\n")


def _evaluate(args):
    """Run the subcommand once, or once per sweep value; return table rows."""
    if args.sweep is None:
        result = args.run(args)
        return result if isinstance(result, list) else [_inputs(args) | result]

    name, start, stop, count, log = args.sweep
    sweepable = [option for option in SWEEPABLE if hasattr(args, option)]
    if name not in sweepable:
        flag = "--" + name.replace("_", "-")
        is_option = hasattr(args, name) and name not in ("run", "command")
        reason = f"{flag} cannot be swept" if is_option else f"the {args.command} command has no {flag} option"
        listed = ", ".join("--" + option.replace("_", "-") for option in sweepable) or "none of its options"
        raise ValueError(f"cannot sweep {name!r}: {reason}; it can sweep {listed}")
    rows = []
    for value in sweep_values(start, stop, count, log):
        setattr(args, name, value)
        result = args.run(args)
        rows.extend(result if isinstance(result, list) else [_inputs(args) | result])
    return rows


def _inputs(args):
    skip = {"command", "run", "sweep", "dps", "digits", "json", "optimize"}
    # An optional input left out (lipschitz without --tv) gets no column.
    return {key: value for key, value in vars(args).items() if key not in skip and value is not None}


# Library arguments whose names differ from the options that set them, per subcommand.
_ARGUMENT_OPTIONS = {"disconnected": {"weights": "--weight", "distances": "--distance"}}


def _name_options(message, args):
    """Replace the library argument names in an error ``message`` by the options of ``args.command``.

    The library names its arguments (``weights must be a probability in
    [0, 1], got weights=2``), and the user typed options (``--weight``).
    A name is replaced only as a whole word that is not part of a longer
    name, a call such as ``len(m1)``, an index or a quoted string.

    >>> args = argparse.Namespace(command="disconnected", weight="2", distance="1", lip="1")
    >>> _name_options("weights must be a probability in [0, 1], got weights=2", args)
    '--weight must be a probability in [0, 1], got --weight=2'
    """
    options = {name: "--" + name.replace("_", "-") for name in vars(args) if name in SWEEPABLE}
    options.update(_ARGUMENT_OPTIONS.get(args.command, {}))
    for name, option in options.items():
        message = re.sub(rf"(?<![\w.'(\[-]){re.escape(name)}(?![\w'(\[-])", option, message)
    return message


def _is_search(args):
    """Return whether ``args`` requests a search: ``tv --optimize`` or ``lipschitz --tv``."""
    if args.command == "lipschitz":
        return args.tv is not None or (args.sweep is not None and args.sweep[0] == "tv")
    return bool(getattr(args, "optimize", False))


def _limit_error(args):
    """Return why ``args`` exceeds the limits of the command line, or None when it is within them.

    ``args.dps`` must already be the working precision, the larger of
    ``--dps`` and ``--digits``.
    """
    precision_options = f"--dps {args.dps}" if args.dps != args.digits else f"--digits {args.digits}"
    search = "tv --optimize" if args.command == "tv" else "lipschitz --tv"
    if _is_search(args) and args.dps > SEARCH_MAX_DPS:
        return (f"{search} needs a working precision of at most {SEARCH_MAX_DPS} digits, got {precision_options} "
                f"(the larger of --dps and --digits is used)")

    sweep_text = ""
    points = 1
    if args.sweep is not None:
        name, start, stop, points, log = args.sweep
        sweep_text = f"--sweep {name.replace('_', '-')}={start}:{stop}:{'log' if log else 'lin'}{points}"
        for end, value in (("START", start), ("STOP", stop)):
            if name in SWEEPABLE and hasattr(args, name) and _out_of_range(name, mpmath.mpf(value)):
                option = "--" + name.replace("_", "-")
                return (f"{sweep_text}: {end}={value} is out of range: the command line accepts {_range_text(name)} "
                        f"for {option}")

    if _is_search(args):
        if points * max(args.dps, DEFAULT_DPS) > SEARCH_DIGIT_BUDGET:
            return (f"{sweep_text} with {search} at {args.dps} digits requests {points} points, but the command "
                    f"line allows points times --dps (30 or more) up to {SEARCH_DIGIT_BUDGET}: at most "
                    f"{SEARCH_DIGIT_BUDGET // max(args.dps, DEFAULT_DPS)} points at --dps {args.dps}")
        return None

    rows = points * (args.m_max + 1) if args.command == "table" else points
    limit = MAX_ROWS[args.command]
    allowed = limit if args.dps <= 100 else max(1, limit * 100**2 // args.dps**2)
    if rows > allowed:
        request = " with ".join(part for part in (sweep_text, f"--m-max {args.m_max}" if args.command == "table" else "") if part)
        return (f"{request} requests {rows} rows, but the command line computes at most {allowed} rows at "
                f"{args.dps} digits ({limit} up to --dps 100, {limit} * (100/dps)^2 above)")
    return None


def main(argv=None):
    """Entry point of the ``isobounds`` console script; returns the exit status."""
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(_join_negative_values(argv, _value_options(parser)))
    args.dps = max(args.dps, args.digits)
    limit_error = _limit_error(args)
    if limit_error is not None:
        parser.exit(2, f"isobounds {args.command}: error: {limit_error}\n")
    try:
        with precision(args.dps + OUTPUT_GUARD_DIGITS):
            rows = _evaluate(args)
    except (ValueError, TypeError) as error:
        parser.exit(2, f"isobounds {args.command}: error: {_name_options(str(error), args)}\n")
    except KeyboardInterrupt:
        # 130 = 128 + SIGINT, the status shells report for a command stopped with Ctrl-C.
        parser.exit(130, f"isobounds {args.command}: interrupted\n")

    if sys.stdout is None:
        parser.exit(1, f"isobounds {args.command}: error: standard output is closed, so the result cannot be written\n")
    try:
        if args.json:
            payload = [{key: _json_value(value, args.dps) for key, value in row.items()} for row in rows]
            json.dump(payload if args.sweep or len(payload) > 1 else payload[0], sys.stdout, indent=2)
            sys.stdout.write("\n")
        else:
            _print_table(rows, args.digits, sys.stdout)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader (such as `head`) closed the pipe early, which is not an error. Point stdout
        # at /dev/null so that the flush at exit does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except OSError as error:
        # Such as a full disk (ENOSPC). Point stdout at /dev/null so that the flush at exit
        # does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        parser.exit(1, f"isobounds {args.command}: error: writing the result failed: {error.strerror or error}\n")
    return 0
