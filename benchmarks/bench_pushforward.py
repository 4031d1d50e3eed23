"""Benchmark of the exact push-forward package; prints a table of medians against goals.

Run: ``python benchmarks/bench_pushforward.py [--repeat N] [--blas-threads K]``.

The network is the generator of Salmona et al. (2022), an MLP
(1, 128, 256, 1) with LeakyReLU(0.2), with random weights drawn like
``torch.nn.Linear``'s default initialisation (uniform on +-1/sqrt(fan_in)),
in numpy. BLAS is limited to ``--blas-threads`` threads (default 1),
because multithreaded BLAS on a small matrix product is slower and far
noisier on a shared machine. The limit is set through the thread variables
of OpenBLAS, MKL and OpenMP before numpy loads, and also through
threadpoolctl when it is installed. Timings depend on the machine.
"""

import argparse
import contextlib
import os
import platform
import statistics
import sys
import time

_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS")


def _requested_blas_threads(argv):
    """Return the value of ``--blas-threads`` in ``argv`` (default 1), read before argparse runs."""
    for i, item in enumerate(argv):
        if item == "--blas-threads" and i + 1 < len(argv):
            return argv[i + 1]
        if item.startswith("--blas-threads="):
            return item.split("=", 1)[1]
    return "1"


# BLAS reads these variables once, when numpy loads it, so they are set before the import.
for _name in _THREAD_VARIABLES:
    os.environ[_name] = _requested_blas_threads(sys.argv[1:])

import numpy as np  # noqa: E402

from isobounds.measures import GaussianMixture  # noqa: E402
from isobounds.pushforward import PiecewiseLinearMap, kl_divergence, tv_distance  # noqa: E402

from _arguments import positive_int  # noqa: E402

SIZES = (1, 128, 256, 1)
NEGATIVE_SLOPE = 0.2


def random_generator_weights(rng, sizes=SIZES):
    """Weights and biases of an MLP, uniform on +-1/sqrt(fan_in) as in torch.nn.Linear."""
    weights, biases = [], []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = 1.0 / np.sqrt(fan_in)
        weights.append(rng.uniform(-bound, bound, (fan_out, fan_in)))
        biases.append(rng.uniform(-bound, bound, fan_out))
    return weights, biases


def median_seconds(func, repeat):
    """Median wall time of ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def blas_limit(threads):
    """Context limiting BLAS threads through threadpoolctl, or a no-op without it (the variables set above then apply)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=threads, user_api="blas")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=positive_int, default=20, help="timed calls per row (default 20)")
    parser.add_argument("--blas-threads", type=positive_int, default=1, help="BLAS threads during the run (default 1)")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    weights, biases = random_generator_weights(rng)
    target = GaussianMixture.two_gaussians(-3, 3, 1)

    with blas_limit(args.blas_threads):
        g = PiecewiseLinearMap.from_mlp(weights, biases, NEGATIVE_SLOPE)
        tv = tv_distance(g, target)
        kl = kl_divergence(g, target)
        rows = [
            ("from_mlp (1, 128, 256, 1), LeakyReLU(0.2)", median_seconds(lambda: PiecewiseLinearMap.from_mlp(weights, biases, NEGATIVE_SLOPE), args.repeat), 0.050),
            ("tv_distance to 0.5 N(-3,1) + 0.5 N(3,1)", median_seconds(lambda: tv_distance(g, target), args.repeat), 1.0),
            ("kl_divergence to 0.5 N(-3,1) + 0.5 N(3,1)", median_seconds(lambda: kl_divergence(g, target), args.repeat), 1.0),
            ("from_mlp + tv_distance + kl_divergence", median_seconds(lambda: (tv_distance(PiecewiseLinearMap.from_mlp(weights, biases, NEGATIVE_SLOPE), target), kl_divergence(g, target)), max(3, args.repeat // 4)), None),
        ]

    print(f"# bench_pushforward: Python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}, BLAS threads {args.blas_threads}")
    print(f"# map: {g.n_pieces} linear pieces, Lip(g) = {float(g.lipschitz_constant()):.6g}")
    print(f"# TV = {tv.value:.12g} (error estimate {tv.error:.2g}), KL = {kl.value:.12g} (error estimate {kl.error:.2g})")
    print(f"{'operation':<46} {'median':>10} {'goal':>8}  status")
    for name, seconds, goal in rows:
        goal_text = f"{goal * 1e3:.0f} ms" if goal is not None else "-"
        status = "" if goal is None else ("ok" if seconds <= goal else "SLOW")
        print(f"{name:<46} {seconds * 1e3:>7.2f} ms {goal_text:>8}  {status}")


if __name__ == "__main__":
    main()
