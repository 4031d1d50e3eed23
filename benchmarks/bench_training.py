"""Epoch time of the univariate models and Langevin sampling time, beside a GEMM floor.

For each model (VAE, GAN, score model) the script trains with the
configuration of Salmona et al., 2022, appendix S5.1 (50,000 samples, batch
1000, so one epoch is 50 steps), for one run and for ``--runs`` runs batched.
It prints the time of one epoch beside:

- the floor for this machine: the time the epoch's matrix products take when
  run alone, measured with ``torch.mm`` / ``torch.bmm`` at the same shapes
  (forward, input-gradient and weight-gradient products of every linear
  layer), so ``epoch FLOPs / measured sgemm throughput at those shapes``;
- the time of the same number of runs trained one after the other
  (``runs x`` the one-run time).

It then times annealed Langevin sampling of 50,000 points with the paper's
schedule (10 levels x 100 steps) for one score network.

Usage::

    python benchmarks/bench_training.py             # full measurement
    python benchmarks/bench_training.py --quick     # 10-step epochs, 100 Langevin steps, scaled up
    python benchmarks/bench_training.py --device cuda
    python benchmarks/bench_training.py --threads 1 --clock process   # on a loaded machine

On a machine shared with other programs, wall times measure the load, not
the code. With ``--threads 1 --clock process`` the script reports the CPU
time of its single compute thread instead.

Reference: a straightforward implementation that feeds a DataLoader one
sample tensor at a time and estimates the Lipschitz constant every epoch
takes about 0.9 s (VAE), 2.5 s (GAN) and 0.85 s (score model) per epoch on a
2-core machine, and 90 s for 50,000 Langevin samples.

Like the ``isobounds-models`` command, the script first calls
:func:`isobounds_models.memory.keep_freed_memory`, so freed tensors are
reused instead of being returned to the kernel between steps.
"""

import argparse
import os
import statistics
import time

import torch

from isobounds_models.memory import keep_freed_memory
from isobounds_models.networks import (
    DISCRIMINATOR_HIDDEN,
    ENCODER_HIDDEN,
    GENERATOR_HIDDEN,
    SCORE_EMBEDDING_SIZES,
    SCORE_HIDDEN,
    BatchedScoreNet,
)
from isobounds_models.sampling import N_LEVELS, SCORE_CHUNK, ScoreFunction, annealed_langevin, geometric_sigmas
from isobounds_models.training import TrainingConfig, resolve_device, train

from _arguments import positive_int

MODELS = ("vae", "gan", "sgm")
# Quoted, not measured: epoch and sampling times of a straightforward implementation
# (a DataLoader fed one sample tensor at a time, with a Lipschitz estimate every epoch)
# on a 2-core machine of the kind the timed rows come from. The "reference s" column
# multiplies the epoch time by the number of runs.
REFERENCE_EPOCH_S = {"vae": 0.9, "gan": 2.5, "sgm": 0.85}
REFERENCE_LANGEVIN_S = 90.0
CLOCKS = {"wall": time.perf_counter, "process": time.process_time}
clock = time.perf_counter


def linear_shapes(model, batch):
    """Return ``(rows, in, out, backward)`` for every linear layer evaluation of one training step.

    ``backward`` is 0 (forward only), 1 (input gradient only) or 2 (input and
    weight gradients). Every layer is counted with its input gradient, the
    first layer included, although torch skips that product there.
    """
    def chain(sizes):
        return list(zip(sizes[:-1], sizes[1:]))

    generator = chain((1, *GENERATOR_HIDDEN, 1))
    if model == "vae":
        layers = chain((1, *ENCODER_HIDDEN, 2)) + generator
        return [(batch, a, b, 2) for a, b in layers]
    if model == "gan":
        discriminator = chain((1, *DISCRIMINATOR_HIDDEN, 1))
        shapes = [(batch, a, b, 0) for a, b in generator]                   # fake samples for D
        shapes += [(2 * batch, a, b, 2) for a, b in discriminator]          # D step
        shapes += [(batch, a, b, 2) for a, b in generator]                  # G step: generator
        shapes += [(batch, a, b, 1) for a, b in discriminator]              # G step: through D
        return shapes
    # The noise embedding and its terms in layers 2 and 3 are computed once per
    # level (10 rows) and gathered, so only the x parts of the layers run per sample.
    embed_in, embed_mid, embed_out = SCORE_EMBEDDING_SIZES
    hidden_1, hidden_2 = SCORE_HIDDEN
    per_level = [(embed_in, embed_mid), (embed_mid, embed_out), (embed_out, hidden_2), (embed_out, 1)]
    per_sample = [(1, hidden_1), (hidden_1, hidden_2), (hidden_2, 1)]
    return [(N_LEVELS, a, b, 2) for a, b in per_level] + [(batch, a, b, 2) for a, b in per_sample]


def products(rows, fan_in, fan_out, backward):
    """Return the matrix products ``(m, k, n)`` of one layer evaluation with its backward pass."""
    result = [(rows, fan_in, fan_out)]
    if backward >= 1:
        result.append((rows, fan_out, fan_in))
    if backward >= 2:
        result.append((fan_out, rows, fan_in))
    return result


def time_call(function, repeats):
    """Return the median time (``--clock``) of ``function()`` over ``repeats`` calls after two warm-ups."""
    for _ in range(2):
        function()
    times = []
    for _ in range(repeats):
        start = clock()
        function()
        _synchronize()
        times.append(clock() - start)
    return statistics.median(times)


def gemm_floor(model, runs, batch, steps, device, repeats):
    """Return ``(seconds, flops)`` of one epoch's matrix products, measured alone at the same shapes."""
    seconds = 0.0
    flops = 0
    cache = {}
    for rows, fan_in, fan_out, backward in linear_shapes(model, batch):
        for m, k, n in products(rows, fan_in, fan_out, backward):
            if (m, k, n) not in cache:
                a = torch.randn(runs, m, k, device=device)
                b = torch.randn(runs, k, n, device=device)
                cache[(m, k, n)] = time_call(lambda: torch.bmm(a, b) if runs > 1 else torch.mm(a[0], b[0]), repeats)
            seconds += cache[(m, k, n)]
            flops += 2 * runs * m * k * n
    return seconds * steps, flops * steps


def langevin_time(n_samples, steps_per_level, device):
    """Return the time of annealed Langevin sampling of ``n_samples`` points with one score network."""
    network = BatchedScoreNet(1, 1, 1.0, 0.01, 10).to(device)
    network.reset_parameters([torch.Generator().manual_seed(0)])
    score = ScoreFunction(network.eval())
    x0 = torch.randn(1, n_samples, 1, device=device)
    start = clock()
    with torch.no_grad():
        annealed_langevin(score, x0, geometric_sigmas(), steps_per_level, generator=0)
    _synchronize()
    return clock() - start


def langevin_floor(n_samples, n_steps, device, repeats):
    """Return the time of the (96 -> 196) products of Langevin sampling, in the sampler's chunks of samples."""
    rows = min(n_samples, SCORE_CHUNK)
    a = torch.randn(rows, SCORE_HIDDEN[0], device=device)
    b = torch.randn(SCORE_HIDDEN[0], SCORE_HIDDEN[1], device=device)
    return time_call(lambda: torch.mm(a, b), repeats) * n_steps * n_samples / rows


def _now():
    _synchronize()
    return clock()


def _synchronize():
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()


def model_list(text):
    """Parse ``--models``: a comma-separated, nonempty list of names from :data:`MODELS`."""
    names = [name.strip() for name in text.split(",")]
    unknown = [name for name in names if name not in MODELS]
    if unknown:
        raise argparse.ArgumentTypeError(f"expected comma-separated names from {', '.join(MODELS)}, got {text!r}")
    return names


def benchmark_ms(runs):
    """Return ``runs`` distinct values of ``m``: 0, 1, ..., 10 for up to 11 runs, else evenly spaced on [0, 10].

    Salmona et al. (2022) train on the integers 0 to 10, and a batched
    model needs distinct ``(m, seed)`` pairs. The seed is fixed to 0 here.
    """
    if runs <= 11:
        return tuple(float(m) for m in range(runs))
    return tuple(10.0 * i / (runs - 1) for i in range(runs))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="auto, cpu or cuda (default cpu)")
    parser.add_argument("--runs", type=positive_int, default=10,
                        help="runs trained as one batched model (default 10)")
    parser.add_argument("--epochs", type=positive_int, default=2,
                        help="timed epochs after one warm-up epoch (default 2)")
    parser.add_argument("--quick", action="store_true",
                        help="time 10-step epochs and 100 Langevin steps and scale to the full sizes")
    parser.add_argument("--threads", type=positive_int, default=None,
                        help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall",
                        help="wall time, or CPU time of this process: with --threads 1 the CPU time is "
                             "the compute time even when other programs load the machine (default wall)")
    parser.add_argument("--skip-training", action="store_true", help="time Langevin sampling only")
    parser.add_argument("--models", type=model_list, default=list(MODELS),
                        help="comma-separated models to time (default all)")
    args = parser.parse_args()
    try:
        device = resolve_device(args.device)
    except ValueError as error:
        parser.error(f"argument --device: {error}")

    global clock
    clock = CLOCKS[args.clock]

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    memory_kept = keep_freed_memory()
    batch = 1000
    n_samples = 10_000 if args.quick else 50_000
    steps = n_samples // batch
    scale = 50 / steps
    repeats = 3 if args.quick else 10

    print(f"device={device}, torch {torch.__version__}, threads={torch.get_num_threads()}, clock={args.clock}, "
          f"load average before={os.getloadavg()[0]:.2f}, keep_freed_memory={memory_kept}")
    scaled = f" (timed on {steps} steps, scaled x{scale:g})" if args.quick else ""
    print(f"epoch = 50 steps of batch {batch}{scaled}")
    print("reference s = quoted epoch time of a straightforward implementation times the runs, not measured here")
    header = (f"{'model':<6}{'runs':>5}{'epoch s':>10}{'floor s':>10}{'ratio':>7}{'GFLOP':>8}"
              f"{'seq. s':>9}{'speedup':>9}{'reference s':>13}")
    print(header)
    print("-" * len(header))
    for model in () if args.skip_training else args.models:
        one_run = None
        for runs in (1, args.runs):
            config = TrainingConfig.profile("paper", epochs=args.epochs + 1, n_samples=n_samples,
                                            device=str(device), ms=benchmark_ms(runs),
                                            seeds=(0,))
            seconds = _epoch_seconds(model, config) * scale
            floor, flops = gemm_floor(model, runs, batch, steps, device, repeats)
            floor *= scale
            flops *= scale
            if runs == 1:
                one_run = seconds
            sequential = one_run * runs
            print(f"{model:<6}{runs:>5}{seconds:>10.3f}{floor:>10.3f}{seconds / floor:>7.2f}{flops / 1e9:>8.1f}"
                  f"{sequential:>9.3f}{sequential / seconds:>9.2f}{REFERENCE_EPOCH_S[model] * runs:>13.2f}")

    n_langevin = 50_000
    steps_per_level = 10 if args.quick else 100
    langevin_scale = 100 / steps_per_level
    seconds = langevin_time(n_langevin, steps_per_level, device) * langevin_scale
    floor = langevin_floor(n_langevin, 10 * steps_per_level, device, repeats) * langevin_scale
    print()
    print(f"Langevin, {n_langevin} samples, 10 levels x 100 steps: {seconds:.1f} s "
          f"(floor of the 96x196 products {floor:.1f} s, ratio {seconds / floor:.2f}, "
          f"reference {REFERENCE_LANGEVIN_S:.0f} s)"
          + (f", timed on {steps_per_level} steps per level" if args.quick else ""))
    print(f"load average after={os.getloadavg()[0]:.2f}")


def _epoch_seconds(model, config):
    stamps = [_now()]
    train(model, config=config, progress=False, callback=lambda epoch, trained: stamps.append(_now()))
    intervals = [b - a for a, b in zip(stamps[1:-1], stamps[2:])]
    return statistics.median(intervals)


if __name__ == "__main__":
    main()
