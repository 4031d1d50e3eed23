"""Command line: evaluate the bounds of Salmona et al. (2022) from flags.

Each subcommand prints a readable table, or JSON with ``--json``. Numbers
are computed at ``--dps`` significant digits (default 30) and printed with
``--digits`` of them. A ``--digits`` above ``--dps`` raises the working
precision to ``--digits``, so that every printed digit is computed.
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

from ._precision import DEFAULT_DPS, MAX_DPS, precision

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
        try:
            mpmath.mpf(part)
        except (ValueError, TypeError):
            raise argparse.ArgumentTypeError(f"invalid number {part!r} in {text!r}") from None
    return parts[0] if len(parts) == 1 else parts


def _number(text):
    try:
        mpmath.mpf(text)
    except (ValueError, TypeError):
        raise argparse.ArgumentTypeError(f"invalid number {text!r}") from None
    return text


MAX_SWEEP_POINTS = 10_000

# Parameters that --sweep may vary: the numeric options of the subcommands.
SWEEPABLE = ("m1", "m2", "sigma", "lip", "weight", "model_weight", "distance", "mass", "r", "tv")


def parse_sweep(text):
    """Parse ``NAME=START:STOP:SPEC`` into ``(name, start, stop, count, log)``.

    ``SPEC`` is ``logN`` (N points evenly spaced in log10, START and STOP > 0)
    or ``linN`` or ``N`` (N points evenly spaced), with 1 <= N <= 10000.

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
    if not count_text.isdigit() or not 1 <= int(count_text) <= MAX_SWEEP_POINTS:
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
        return [mpmath.power(10, mpmath.log10(start) + i * (mpmath.log10(stop) - mpmath.log10(start)) / (count - 1)) for i in range(count)]
    return [start + i * (stop - start) / (count - 1) for i in range(count)]


class _SweepOnce(argparse.Action):
    """Store --sweep, rejecting a second one (a sweep varies a single parameter)."""

    def __call__(self, parser, namespace, values, option_string=None):
        if getattr(namespace, self.dest, None) is not None:
            parser.error("--sweep may be given only once: it varies a single parameter")
        setattr(namespace, self.dest, values)


def _digit_count(text):
    """Parse ``--dps`` or ``--digits``: an integer in [1, MAX_DPS], the range that :func:`precision` accepts."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid integer {text!r}") from None
    if not 1 <= value <= MAX_DPS:
        raise argparse.ArgumentTypeError(f"expected an integer in [1, {MAX_DPS}], got {value}")
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
    parser.add_argument("--m1", type=_point, required=True,
                        help="first mean: a number or comma-separated coordinates, such as -3,1")
    parser.add_argument("--m2", type=_point, required=True, help="second mean, same dimension as --m1")
    parser.add_argument("--sigma", type=_number, default="1", help="common standard deviation of both components (default 1)")
    if lip:
        parser.add_argument("--lip", type=_number, required=True, help="Lipschitz constant L of the generator")


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


# NOTE: at m = 0 the two components coincide and the corollaries (which need
# distinct means) do not apply; the table shows the trivial values 1, 0, 0.


def _package_version():
    """Return the installed version of isobounds, or ``isobounds.__version__`` when the package is not installed."""
    try:
        return importlib.metadata.version("isobounds")
    except importlib.metadata.PackageNotFoundError:
        from . import __version__

        return __version__


def _add_common_options(parser, sweep_example):
    """Add the precision, output and ``--sweep`` options to ``parser``, with ``sweep_example`` in the ``--sweep`` help."""
    parser.add_argument("--dps", type=_digit_count, default=DEFAULT_DPS,
                        help="working precision in significant digits (default 30; raised to --digits if lower)")
    parser.add_argument("--digits", type=_digit_count, default=10, help="significant digits printed in the table (default 10)")
    parser.add_argument("--json", action="store_true", help="print JSON (numbers as strings with --dps digits)")
    parser.add_argument(
        "--sweep",
        type=parse_sweep,
        action=_SweepOnce,
        metavar="NAME=START:STOP:SPEC",
        help=f"evaluate over a grid of one numeric option of this command, such as {sweep_example}. "
        f"SPEC is logN (N points evenly spaced in log10, START > 0 and STOP > 0), or linN or N "
        f"(N evenly spaced points), with N in [1, {MAX_SWEEP_POINTS}]. A required option must still "
        f"be given when it is swept, and the sweep replaces its value.",
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
        description="Lower bounds on the Lipschitz constant, total variation and KL divergence of push-forward "
        "generative models fitting Gaussian mixtures (Salmona et al., 2022).",
        epilog="Run 'isobounds COMMAND --help' for what a command computes, its options and examples.",
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
    lipschitz.add_argument("--weight", type=_number, default="0.5", help="weight w of the component at --m1, in (0, 1) (default 0.5)")
    lipschitz.add_argument("--tv", type=_number, default=None,
                           help="total variation in [0, 1] that the generator reaches (balanced mixture only); "
                           "default: an exact fit")
    _add_common_options(lipschitz, "sigma=0.5:2:lin7")
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
    _add_common_options(tv, "lip=1:1e6:log25")
    tv.set_defaults(run=_run_tv)

    kl = _add_command(
        commands,
        "kl",
        "Corollary 8 (corrected): KL bound in nats for a balanced two-Gaussian mixture",
        "Compute a lower bound, in nats, on the Kullback-Leibler divergence KL(g#N(0, I) || target) for an "
        "L-Lipschitz generator g and the target (1/2)[N(m1, sigma^2 I) + N(m2, sigma^2 I)] (Corollary 8 of "
        "Salmona et al., 2022). The bound depends on the model mass rho(H1) (--model-weight) of the half-space "
        "H1 on the m1 side of the hyperplane that bisects the means. The published statement omits the "
        "condition a >= b of its proof. The bound here adds that condition and is 0 when it fails.",
        [
            "isobounds kl --m1 -3 --m2 3 --sigma 1 --lip 10 --model-weight 0.5",
            "isobounds kl --m1 -3 --m2 3 --lip 10 --model-weight 0.5 --sweep model-weight=0.01:0.5:lin50",
        ],
    )
    _two_gaussian_args(kl)
    kl.add_argument("--model-weight", type=_number, default="0.5", help="model mass rho(H1) of the half-space on the m1 side, in [0, 1] (default 0.5)")
    _add_common_options(kl, "model-weight=0.01:0.5:lin50")
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
    disconnected.add_argument("--weight", type=_number, required=True, help="mass w of one piece, in [0, 1] (0 and 1 give the trivial bound 0)")
    disconnected.add_argument("--distance", type=_number, required=True, help="distance D between the pieces, > 0")
    disconnected.add_argument("--lip", type=_number, required=True, help="Lipschitz constant L of the generator")
    _add_common_options(disconnected, "distance=1:100:log9")
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
    iso.add_argument("--mass", type=_number, required=True, help="model mass rho(A), in [0, 1]")
    iso.add_argument("--r", type=_number, required=True, help="extension radius r >= 0")
    iso.add_argument("--lip", type=_number, required=True, help="Lipschitz constant L of the generator")
    _add_common_options(iso, "r=0:5:lin11")
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
        "condition a >= b added. At m = 0 the two components coincide and the corollaries do not apply, so the "
        "row shows 1, 0 and 0.",
        [
            "isobounds table --lip 10",
            "isobounds table --lip 100 --m-max 20 --json",
            "isobounds table --m-max 5 --sweep lip=1:1e6:log7",
        ],
    )
    table.add_argument("--lip", type=_number, default="10", help="Lipschitz constant L for the TV and KL columns (default 10)")
    table.add_argument("--m-max", type=_nonnegative_int, default=10, help="largest m, an integer >= 0 (default 10)")
    _add_common_options(table, "lip=1:1e6:log7")
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


def main(argv=None):
    """Entry point of the ``isobounds`` console script; returns the exit status."""
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(_join_negative_values(argv, _value_options(parser)))
    args.dps = max(args.dps, args.digits)
    try:
        with precision(args.dps):
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
