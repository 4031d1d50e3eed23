"""Benchmark of the core library; prints a table of medians against goals.

Run: ``python benchmarks/bench_core.py [--repeat N]``. Timings depend on the
machine. The goals are the project's speed targets for the core library; the
searches over radii and sets and the symbolic case have none.
"""

import argparse
import platform
import statistics
import time

import numpy as np
import scipy.special as sc

import isobounds
from isobounds import vectorized

from _arguments import positive_int

# Arguments of the symbolic case, by name: the Lipschitz constant and the
# model's mass of the half-space are both 1e-300, so D / (4 sigma L) is 2.5e299.
SYMBOLIC_ARGUMENTS = {"m1": 0, "m2": 1, "sigma": 1, "lip": "1e-300", "model_weight": "1e-300"}
SYMBOLIC_LABEL = "symbolic kl_lower_bound_two_gaussians, L = 1e-300, model weight 1e-300: build, evalf(30), one run"


def median_seconds(func, repeat, number=1):
    """Median over ``repeat`` runs of the time of ``number`` calls, per call."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            func()
        times.append((time.perf_counter() - start) / number)
    return statistics.median(times)


def bench_tv_two_gaussians(repeat):
    from isobounds import tv_lower_bound_two_gaussians

    calls = iter(range(10**9))
    # Vary lip so that no cache can serve the call.
    return median_seconds(lambda: tv_lower_bound_two_gaussians(-3, 3, 1, 10 + next(calls) * 1e-6), repeat, number=50)


def bench_alpha_array(repeat):
    rng = np.random.default_rng(0)
    p = rng.uniform(size=1_000_000)
    r, lip = 2.0, 3.0
    ours = median_seconds(lambda: vectorized.extension_mass_lower_bound(p, r, lip), repeat)
    bare = median_seconds(lambda: sc.ndtr(r / lip + sc.ndtri(p)), repeat)
    return ours, bare


def bench_huge_argument(repeat):
    """Phi, Phi_c and log_Phi at |x| = 1e5000 and 30 digits, where x^2 / 2 is an integer of 10000 digits."""
    return median_seconds(lambda: (isobounds.Phi("-1e5000"), isobounds.Phi_c("1e5000"), isobounds.log_Phi("-1e5000")), repeat)


def bench_ot_lipschitz(repeat):
    from isobounds import GaussianMixture, ot_lipschitz_constant

    target = GaussianMixture([0.2, 0.5, 0.3], [-6.0, 0.0, 5.0], [0.7, 1.0, 1.5])
    return median_seconds(lambda: ot_lipschitz_constant(target), repeat)


def bench_searches(repeat):
    """Return ``(case, seconds)`` for the radius and set searches, which have no goal."""
    from isobounds import GaussianMixture, Interval
    from isobounds.bounds import (
        maximize_kl_over_radius,
        maximize_tv_over_half_spaces,
        maximize_tv_over_intervals,
        maximize_tv_two_gaussians,
    )

    target = GaussianMixture([0.2, 0.5, 0.3], [-6.0, 0.0, 5.0], [0.7, 1.0, 1.5])
    far_modes = GaussianMixture([0.5, 0.5], [-40, 40], 1)
    cases = [
        ("maximize_tv_two_gaussians, modes 6 apart, L = 2", lambda: maximize_tv_two_gaussians(-3, 3, 1, 2)),
        # The bound is 1/2 - 6e-20 over a wide range of radii, so the search runs again with more digits.
        ("maximize_tv_two_gaussians, modes 200 apart, L = 10", lambda: maximize_tv_two_gaussians(-100, 100, 1, 10)),
        ("maximize_tv_over_half_spaces, 3 components, L = 3", lambda: maximize_tv_over_half_spaces(3, target=target)),
        ("maximize_tv_over_intervals, 3 components, L = 3", lambda: maximize_tv_over_intervals(3, target=target)),
        # Radii near 1e-300 give shells far thinner than the working precision of their ends.
        ("maximize_kl_over_radius, modes 80 apart, L = 1e-300", lambda: maximize_kl_over_radius(
            Interval(float("-inf"), 0), "1e-300", target=far_modes, model_mass="0.5")),
    ]
    return [(case, median_seconds(call, max(1, repeat // 3))) for case, call in cases]


def bench_symbolic_extreme():
    """Return the seconds to build and to evaluate the symbolic KL bound at ``SYMBOLIC_ARGUMENTS`` (one run each).

    sympy's cache is cleared first, because a repeated call would be served from it.
    """
    import sympy

    from isobounds import symbolic

    sympy.core.cache.clear_cache()
    start = time.perf_counter()
    expression = symbolic.kl_lower_bound_two_gaussians(**SYMBOLIC_ARGUMENTS)
    built = time.perf_counter()
    expression.evalf(30)
    return built - start, time.perf_counter() - built


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=positive_int, default=7,
                        help="timed repetitions per case (default 7); the searches run a third as many, "
                             "at least 1, and the symbolic case runs once")
    args = parser.parse_args()

    rows = []
    tv = bench_tv_two_gaussians(args.repeat)
    rows.append(("tv_lower_bound_two_gaussians, 30 digits", f"{tv * 1e6:.0f} us", "<= 300 us", tv <= 300e-6))
    ours, bare = bench_alpha_array(args.repeat)
    ratio = ours / bare
    rows.append(("alpha on 1e6 points / bare ndtr(c + ndtri(p))", f"{ours * 1e3:.1f} ms / {bare * 1e3:.1f} ms = {ratio:.2f}x", "<= 1.5x", ratio <= 1.5))
    huge = bench_huge_argument(args.repeat)
    rows.append(("Phi + Phi_c + log_Phi at |x| = 1e5000, 30 digits", f"{huge * 1e3:.1f} ms", "<= 1 s", huge <= 1.0))
    ot = bench_ot_lipschitz(args.repeat)
    rows.append(("ot_lipschitz_constant, 3-component mixture", f"{ot * 1e3:.1f} ms", "<= 50 ms", ot <= 50e-3))
    rows += [(case, f"{seconds * 1e3:.0f} ms", "none", None) for case, seconds in bench_searches(args.repeat)]
    build, evaluate = bench_symbolic_extreme()
    rows.append((SYMBOLIC_LABEL, f"{build:.1f} s, {evaluate:.1f} s", "none", None))

    print(f"isobounds {isobounds.__version__}, Python {platform.python_version()}, {platform.machine()}, numpy {np.__version__}")
    widths = [max(len(str(row[i])) for row in rows + [("case", "median", "goal", "met")]) for i in range(3)]
    header = ("case", "median", "goal")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)) + "  met")
    for case, value, goal, met in rows:
        verdict = "-"
        if met is not None:
            verdict = "yes" if met else "NO"
        print(f"{case.ljust(widths[0])}  {value.ljust(widths[1])}  {goal.ljust(widths[2])}  {verdict}")


if __name__ == "__main__":
    main()
