"""Command line: evaluate the bounds of the paper from flags.

Examples
--------
::

    isobounds lipschitz --m1 -5 --m2 5 --sigma 1
    isobounds tv --m1 0 --m2 20 --sigma 1 --lip 100
    isobounds kl --m1 -3 --m2 3 --sigma 1 --lip 10 --model-weight 0.5
    isobounds tv --m1 -5 --m2 5 --sigma 1 --lip 10 --sweep lip=1:1e6:log25
    isobounds table --lip 10

Each subcommand prints a readable table, or JSON with ``--json``. Numbers
are computed at ``--dps`` significant digits (default 30) and printed with
``--digits`` of them. A ``--digits`` above ``--dps`` raises the working
precision to ``--digits``, so that every printed digit is computed.

NOTE: the radius printed by ``tv --optimize`` is the location of a
maximum, which is ill-conditioned: its last three or four printed digits
can change with ``--dps``, while the bound itself is accurate to every
printed digit.
"""

import argparse
import json
import os
import sys

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
SWEEPABLE = ("m1", "m2", "sigma", "lip", "weight", "model_weight", "distance", "mass", "r")


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
    if name not in SWEEPABLE:
        raise argparse.ArgumentTypeError(f"cannot sweep {name!r}: the sweepable parameters are {', '.join(SWEEPABLE)}")
    log = spec.startswith("log")
    count_text = spec[3:] if spec[:3] in ("log", "lin") else spec
    if not count_text.isdigit() or not 1 <= int(count_text) <= MAX_SWEEP_POINTS:
        raise argparse.ArgumentTypeError(f"invalid number of sweep points {count_text!r} in {text!r}: expected an integer in [1, {MAX_SWEEP_POINTS}]")
    _number(start)
    _number(stop)
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


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid integer {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
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
# Subcommands: each maps parsed arguments to a list of (column, value) rows.
# ---------------------------------------------------------------------------

def _two_gaussian_args(parser, lip=True):
    parser.add_argument("--m1", type=_point, required=True, help="first mean: a number or comma-separated coordinates")
    parser.add_argument("--m2", type=_point, required=True, help="second mean, same dimension as --m1")
    parser.add_argument("--sigma", type=_number, default="1", help="common standard deviation of both components (default 1)")
    if lip:
        parser.add_argument("--lip", type=_number, required=True, help="Lipschitz constant L of the generator")


def _run_lipschitz(args):
    from .bounds import lipschitz_lower_bound_two_gaussians

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


def build_parser():
    """Build the argument parser of the ``isobounds`` command."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--dps", type=_positive_int, default=DEFAULT_DPS,
                        help="working precision in significant digits (default 30; raised to --digits if lower)")
    common.add_argument("--digits", type=_positive_int, default=10, help="significant digits printed in the table (default 10)")
    common.add_argument("--json", action="store_true", help="print JSON (numbers as strings with --dps digits)")
    common.add_argument(
        "--sweep",
        type=parse_sweep,
        action=_SweepOnce,
        metavar="NAME=START:STOP:SPEC",
        help="evaluate over a grid of one parameter, e.g. lip=1:1e6:log25 or sigma=0.5:2:lin7",
    )

    parser = argparse.ArgumentParser(
        prog="isobounds",
        description="Lower bounds on the Lipschitz constant, total variation and KL divergence of push-forward "
        "generative models fitting Gaussian mixtures (Salmona et al., 2022).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    lipschitz = commands.add_parser("lipschitz", parents=[common], help="Corollary 2: Lipschitz constant needed to fit two Gaussians exactly")
    _two_gaussian_args(lipschitz, lip=False)
    lipschitz.add_argument("--weight", type=_number, default="0.5", help="weight of the first component, in (0, 1) (default 0.5)")
    lipschitz.set_defaults(run=_run_lipschitz)

    tv = commands.add_parser("tv", parents=[common], help="Corollary 6: total variation bound for a balanced two-Gaussian mixture")
    _two_gaussian_args(tv)
    tv.add_argument(
        "--optimize",
        action="store_true",
        help="also maximise Theorem 4 over the radius r on the bisecting half-space (sharper than Corollary 6)",
    )
    tv.set_defaults(run=_run_tv)

    kl = commands.add_parser("kl", parents=[common], help="Corollary 8 (corrected): KL bound for a balanced two-Gaussian mixture")
    _two_gaussian_args(kl)
    kl.add_argument("--model-weight", type=_number, default="0.5", help="model mass rho(H1) of the half-space on the m1 side (default 0.5)")
    kl.set_defaults(run=_run_kl)

    disconnected = commands.add_parser("disconnected", parents=[common], help="Corollary 5: total variation bound for a target on two pieces")
    disconnected.add_argument("--weight", type=_number, required=True, help="mass of one piece, in [0, 1] (0 and 1 give the trivial bound 0)")
    disconnected.add_argument("--distance", type=_number, required=True, help="distance between the pieces, > 0")
    disconnected.add_argument("--lip", type=_number, required=True, help="Lipschitz constant L of the generator")
    disconnected.set_defaults(run=_run_disconnected)

    iso = commands.add_parser("isoperimetry", parents=[common], help="Theorem 1: lower bounds on rho(A_r), rho(A_r minus A) and the surface area")
    iso.add_argument("--mass", type=_number, required=True, help="model mass rho(A), in [0, 1]")
    iso.add_argument("--r", type=_number, required=True, help="extension radius r >= 0")
    iso.add_argument("--lip", type=_number, required=True, help="Lipschitz constant L of the generator")
    iso.set_defaults(run=_run_isoperimetry)

    table = commands.add_parser("table", parents=[common], help="bounds for (1/2)[N(-m,1) + N(m,1)], m = 0..10")
    table.add_argument("--lip", type=_number, default="10", help="Lipschitz constant for the TV and KL columns (default 10)")
    table.add_argument("--m-max", type=_nonnegative_int, default=10, help="largest m, an integer >= 0 (default 10)")
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
    if not hasattr(args, name):
        raise ValueError(f"cannot sweep {name!r}: the {args.command} command has no --{name.replace('_', '-')} option")
    rows = []
    for value in sweep_values(start, stop, count, log):
        setattr(args, name, value)
        result = args.run(args)
        rows.extend(result if isinstance(result, list) else [_inputs(args) | result])
    return rows


def _inputs(args):
    skip = {"command", "run", "sweep", "dps", "digits", "json", "optimize"}
    return {key: value for key, value in vars(args).items() if key not in skip}


def main(argv=None):
    """Entry point of the ``isobounds`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.dps = max(args.dps, args.digits)
    try:
        with precision(args.dps):
            rows = _evaluate(args)
    except (ValueError, TypeError) as error:
        parser.exit(2, f"isobounds {args.command}: error: {error}\n")

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
    return 0
