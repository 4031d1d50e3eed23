"""Figures of the univariate experiments, in the manner of Salmona et al., 2022.

Every function writes ``STEM.png`` and ``STEM.pdf``. The figures are
:class:`matplotlib.figure.Figure` objects made without pyplot, so this module
works on machines without a display and leaves the matplotlib backend of the
caller's session as it was. Each file is written to a temporary name in the
destination folder and renamed over the destination, so a reader never sees
a partial figure.

References
----------
A. Salmona, V. De Bortoli, J. Delon, A. Desolneux, "Can Push-forward
Generative Models Fit Multimodal Distributions?", NeurIPS 2022, Figures 2-6
and S3-S5.
"""

import os
import tempfile
import traceback
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import SymmetricalLogLocator

from .checkpoint import atomic_write_text, set_default_mode
from .measure import mixture_log_pdf, mixture_mass

__all__ = [
    "FigureError",
    "FIGURE_ERROR_NAME",
    "draw_after_report",
    "save_figure",
    "figure_samples",
    "figure_univariate",
    "figure_sweep",
    "figure_epochs",
    "figure_bounds",
    "MODEL_LABELS",
]

MODEL_LABELS = {"vae": "VAE", "gan": "GAN", "sgm": "score model"}
_COLORS = {"vae": "tab:blue", "gan": "tab:orange", "sgm": "tab:green"}

FIGURE_ERROR_NAME = "figure_error.txt"
"""File of the output folder that receives the traceback of a figure that failed."""


class FigureError(RuntimeError):
    """A figure could not be drawn after the report was written."""


def draw_after_report(draw, out):
    """Call ``draw()``, which draws the figures of a report already written in ``out``.

    If it raises an ``Exception``, its traceback goes to ``out/figure_error.txt``
    and a :class:`FigureError` with a one-line message replaces it, so that a
    command line can report what failed without hiding that the report exists.
    After a success, a ``figure_error.txt`` left by an earlier run is removed.
    """
    trace = Path(out) / FIGURE_ERROR_NAME
    try:
        draw()
    except Exception as error:
        atomic_write_text(trace, traceback.format_exc())
        raise FigureError(f"the report in {str(out)!r} is complete, but a figure failed with "
                          f"{type(error).__name__}: {error}; traceback in {str(trace)!r}") from error

    # A traceback left by an earlier run no longer describes this folder's figures.
    trace.unlink(missing_ok=True)


def _subplots(*args, figsize, **kwargs):
    """Return ``(figure, axes)`` as ``pyplot.subplots`` does, without pyplot.

    A :class:`matplotlib.figure.Figure` made directly is drawn by the Agg
    canvas when saved and is freed with its last reference, so drawing
    changes neither the backend nor the figures of a caller's session.
    """
    figure = Figure(figsize=figsize)
    return figure, figure.subplots(*args, **kwargs)


def save_figure(figure, stem):
    """Write ``figure`` to ``stem.png`` and ``stem.pdf`` atomically and close it; return the two paths."""
    stem = Path(stem)
    paths = []
    for suffix in (".png", ".pdf"):
        path = stem.with_suffix(suffix)
        descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
        os.close(descriptor)
        try:
            figure.savefig(temporary, dpi=150, bbox_inches="tight")
            set_default_mode(temporary)
            os.replace(temporary, path)
        except BaseException:
            if os.path.exists(temporary):
                os.remove(temporary)
            raise
        paths.append(path)
    return paths


def figure_samples(samples, stem):
    """Histograms of model samples over the target density, one panel per model and ``m`` (Figure 2).

    ``samples`` maps ``(model, m, seed)`` to a 1D array; the first seed of each
    ``(model, m)`` is drawn.
    """
    models = [m for m in MODEL_LABELS if any(key[0] == m for key in samples)]
    ms = sorted({key[1] for key in samples})
    figure, axes = _subplots(len(models), len(ms), figsize=(2.6 * len(ms), 2.2 * len(models)),
                                squeeze=False, sharey="row")
    for i, model in enumerate(models):
        for j, m in enumerate(ms):
            axis = axes[i][j]
            keys = sorted(key for key in samples if key[0] == model and key[1] == m)
            if not keys:
                axis.set_axis_off()
                continue
            drawn = np.asarray(samples[keys[0]], dtype=float)
            # The range covers the target and all but 0.1 % of the samples on each side.
            low = min(-m - 5, float(np.quantile(drawn, 0.001)))
            high = max(m + 5, float(np.quantile(drawn, 0.999)))
            x = np.linspace(low, high, 600)
            axis.hist(drawn, bins=120, range=(low, high), density=True, color=_COLORS[model], alpha=0.7,
                      label="model samples")
            axis.plot(x, np.exp(mixture_log_pdf(x, m)), color="black", lw=1, label="target density")
            axis.set_title(f"{MODEL_LABELS[model]}, m = {m:g}", fontsize=9)
    # Labels on the outer panels only: the columns share m, and the rows share the y axis.
    for axis in axes[-1]:
        axis.set_xlabel("x", fontsize=8)
    for row in axes:
        row[0].set_ylabel("density", fontsize=8)
    drawn_axes = [axis for row in axes for axis in row if axis.axison]
    if drawn_axes:
        drawn_axes[0].legend(fontsize=6, loc="upper left")
    figure.tight_layout()
    return save_figure(figure, stem)


def figure_univariate(rows, stem):
    """Lipschitz constant, TV against its bound, KL, and mass between the modes, against ``m`` (Figure 3)."""
    figure, axes = _subplots(1, 4, figsize=(17, 5.2))
    for model in MODEL_LABELS:
        ms, stats = _stats_by_m([r for r in rows if r["model"] == model])
        if not ms:
            continue
        color = _COLORS[model]
        label = MODEL_LABELS[model]
        _errorbar(axes[0], ms, stats["lipschitz"], color, label)
        # Sampled distances compare kernel-smoothed laws, which lie below the true distances.
        measured = f"{label} (smoothed)" if model == "sgm" else label
        # The score model's bounds take sampled masses and an estimated Lipschitz constant, and its
        # TV and KL bounds are those of the smoothed laws.
        bound = f"{label} bound (estimated inputs)" if model == "sgm" else f"{label} bound"
        distance_bound = f"{label} bound (smoothed, estimated inputs)" if model == "sgm" else bound
        _errorbar(axes[1], ms, stats["tv"], color, measured)
        _errorbar(axes[1], ms, stats["tv_bound"], color, distance_bound, linestyle="--")
        _errorbar(axes[2], ms, stats["kl"], color, measured)
        _errorbar(axes[2], ms, stats["kl_bound"], color, distance_bound, linestyle="--")
        _errorbar(axes[3], ms, stats["mass_between"], color, label)
        _errorbar(axes[3], ms, stats["mass_between_bound"], color, bound, linestyle="--")
        for axis, name in ((axes[1], "tv_estimator_floor"), (axes[2], "kl_estimator_floor")):
            # Sampled distances: what the estimator gives for a perfect sampler.
            floors = [[r.get(name) for r in rows if r["model"] == model and r["m"] == m] for m in ms]
            _errorbar(axis, ms, floors, color, f"{label}: estimator on target samples", linestyle=":")

    grid = np.linspace(0, max(r["m"] for r in rows) if rows else 1, 200)
    _plot_needed_lipschitz(axes[0], grid, rows)
    axes[3].plot(grid, mixture_mass(-grid / 2, grid / 2, grid), color="black", lw=1, label="target")
    axes[0].set_yscale("log")
    axes[2].set_yscale("symlog", linthresh=1e-2)
    _label_narrow_symlog(axes[2], linthresh=1e-2)
    lipschitz_title = "Lipschitz constant"
    if any(r["model"] == "sgm" for r in rows):
        lipschitz_title += " (score model: whole sampler)"
    titles = [lipschitz_title, "total variation", "KL divergence (nats)", "mass of [-m/2, m/2]"]
    for axis, title in zip(axes, titles):
        axis.set_xlabel("m")
        axis.set_title(title)
        # Below the panel, because inside it the legends covered the curves.
        axis.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)
    figure.tight_layout()
    return save_figure(figure, stem)


def _label_narrow_symlog(axis, linthresh):
    """Put ticks at 1, 2, 3 and 5 times each power of ten on a symlog ``axis`` that shows fewer than two of its ticks.

    A symlog axis puts its ticks at powers of ten only, so values within
    one decade (KL divergences from 0.15 to 0.4, say) show one labelled
    tick or none.
    """
    low, high = axis.get_ylim()
    visible = [tick for tick in axis.get_yticks() if low <= tick <= high]
    if len(visible) < 2:
        axis.yaxis.set_major_locator(SymmetricalLogLocator(linthresh=linthresh, base=10, subs=(1.0, 2.0, 3.0, 5.0)))


NEEDED_LIPSCHITZ_CEILING = 1e12
"""Lowest value up to which :func:`figure_univariate` draws the curve exp(m^2/2)."""


def _plot_needed_lipschitz(axis, grid, rows):
    """Plot exp(m^2/2), the Lipschitz constant needed to fit the target, on the log-scale ``axis``.

    The curve is drawn up to a ceiling: the larger of
    :data:`NEEDED_LIPSCHITZ_CEILING` and 1000 times the largest finite
    measured constant, at most 1e300. So exp never overflows for any finite
    ``m``. Above the ceiling the curve stops, and its label gives the ceiling.
    """
    measured = [r["lipschitz"] for r in rows if r.get("lipschitz") is not None and np.isfinite(r["lipschitz"])
                and r["lipschitz"] > 0]
    log_ceiling = max(np.log(NEEDED_LIPSCHITZ_CEILING), np.log(max(measured, default=1.0)) + np.log(1e3))
    log_ceiling = min(log_ceiling, np.log(1e300))
    # The curve reaches the ceiling at this m. Comparing m with it, not m^2 / 2 with the log ceiling,
    # avoids squaring a large m.
    m_ceiling = np.sqrt(2 * log_ceiling)
    label = "needed to fit: exp(m^2/2)"
    if grid[-1] > m_ceiling:
        grid = np.append(grid[grid < m_ceiling], m_ceiling)
        label += f", drawn up to {np.exp(log_ceiling):.0e}"
    axis.plot(grid, np.exp(grid**2 / 2), color="black", lw=1, label=label)


def figure_sweep(rows, key, xlabel, stem, tick_labels=None):
    """Lipschitz constant, TV and mass between the modes against a sweep variable (Figures 4, 5, S4)."""
    figure, axes = _subplots(1, 3, figsize=(13, 3.6))
    for model in MODEL_LABELS:
        model_rows = [r for r in rows if r["model"] == model]
        if not model_rows:
            continue
        values = sorted({r[key] for r in model_rows})
        stats = {name: [[r[name] for r in model_rows if r[key] == v] for v in values]
                 for name in ("lipschitz", "tv", "tv_bound", "mass_between")}
        color, label = _COLORS[model], MODEL_LABELS[model]
        _errorbar(axes[0], values, stats["lipschitz"], color, label)
        _errorbar(axes[1], values, stats["tv"], color, label)
        _errorbar(axes[1], values, stats["tv_bound"], color, f"{label} bound", linestyle="--")
        _errorbar(axes[2], values, stats["mass_between"], color, label)
    if key == "penalty_lip":
        values = sorted({r[key] for r in rows})
        # Markers too, so that the reference stays visible when the sweep has a single value.
        axes[0].plot(values, values, color="black", lw=1, marker="_", markersize=12, label="target L")
    ms = sorted({r["m"] for r in rows})
    for m in ms:
        # The target's own mass between its modes, the reference of the mass panel.
        axes[2].axhline(float(mixture_mass(-m / 2, m / 2, m)), color="black", lw=1, linestyle=":",
                        label=f"target (m = {m:g})")
    at_m = f", m = {', '.join(f'{m:g}' for m in ms)}" if ms else ""
    for axis, title in zip(axes, ["Lipschitz constant", "total variation", "mass of [-m/2, m/2]"]):
        axis.set_xlabel(xlabel)
        axis.set_title(title + at_m)
        axis.legend(fontsize=7)
        if tick_labels is not None:
            axis.set_xticks(range(len(tick_labels)), tick_labels)
        else:
            axis.set_xticks(sorted({r[key] for r in rows}))
    figure.tight_layout()
    return save_figure(figure, stem)


def figure_epochs(curves, stem, m=None):
    """Exact Lipschitz constant against training epochs (Figure S5).

    ``curves[model]`` is a list of points ``(epoch, L_1, ..., L_n)``, one
    constant per run. Each run is a thin line, and their median is marked.
    ``m``, the half distance between the target's modes, goes into the
    title when given.
    """
    figure, axis = _subplots(figsize=(5, 3.6))
    for model, trace in curves.items():
        if not trace:
            continue
        epochs = [point[0] for point in trace]
        lips = np.array([point[1:] for point in trace], dtype=float)
        n_runs = lips.shape[1]
        if n_runs > 1:
            for run in range(n_runs):
                axis.plot(epochs, lips[:, run], color=_COLORS[model], linewidth=0.6, alpha=0.35)
        label = MODEL_LABELS[model] if n_runs == 1 else f"{MODEL_LABELS[model]} (median of {n_runs} runs)"
        axis.plot(epochs, np.median(lips, axis=1), marker="o", color=_COLORS[model], label=label)
    axis.set_xlabel("epoch")
    axis.set_ylabel("Lipschitz constant (exact)")
    if m is not None:
        axis.set_title(f"Lipschitz constant during training, m = {m:g}")
    axis.legend()
    figure.tight_layout()
    return save_figure(figure, stem)


def figure_bounds(curves, stem):
    """TV (Corollary 6) and corrected KL (Corollary 8, ``lam = 1/2``) bounds against ``L`` (Figure S3).

    ``curves`` contains the rows of :func:`isobounds_models.checks.bound_curves`.
    """
    figure, axes = _subplots(1, 2, figsize=(10, 3.6))
    for m in sorted({row["m"] for row in curves}):
        rows = sorted((row for row in curves if row["m"] == m), key=lambda row: row["lipschitz"])
        lips = [row["lipschitz"] for row in rows]
        axes[0].plot(lips, [row["tv_bound_corollary6"] for row in rows], label=f"m = {m:g}")
        axes[1].plot(lips, [row["kl_bound_corollary8"] for row in rows], label=f"m = {m:g}")
    titles = ["TV lower bound (Corollary 6)", "KL lower bound (Corollary 8, corrected)"]
    for axis, title, ylabel in zip(axes, titles, ["total variation", "KL divergence (nats)"]):
        axis.set_xscale("log")
        axis.set_xlabel("Lipschitz constant L")
        axis.set_ylabel(ylabel)
        axis.set_title(title)
        axis.legend(fontsize=7)
    figure.tight_layout()
    return save_figure(figure, stem)


def _stats_by_m(rows):
    ms = sorted({r["m"] for r in rows})
    names = ("lipschitz", "tv", "tv_bound", "kl", "kl_bound", "mass_between", "mass_between_bound")
    return ms, {name: [[r[name] for r in rows if r["m"] == m] for m in ms] for name in names}


def _errorbar(axis, xs, groups, color, label, linestyle="-"):
    """Plot the mean of each group with its standard deviation (0 for one run).

    A measured curve (solid) has round markers and a bound or reference
    (dashed or dotted) has crosses, so the two differ where a single ``m``
    draws no line. A run with an infinite value (the KL divergence of a
    generator with a flat piece, whose law has an atom) is left out of the
    mean and marked by a triangle at the top of the panel, labelled
    "infinite", so that it does not vanish from the figure. A NaN (or
    ``-inf``) value, a failed measurement, is left out likewise and marked by
    a downward triangle at the bottom of the panel, labelled "NaN, left out".
    """
    finite = [[v for v in group if v is not None and np.isfinite(v)] for group in groups]
    infinite = [xs[i] for i, group in enumerate(groups) if any(v is not None and v == np.inf for v in group)]
    undefined = [xs[i] for i, group in enumerate(groups)
                 if any(v is not None and not np.isfinite(v) and v != np.inf for v in group)]
    # x in data coordinates, y in axes coordinates: the top or bottom of the panel on any scale.
    if infinite:
        axis.plot(infinite, [0.97] * len(infinite), linestyle="none", marker="^", color=color,
                  transform=axis.get_xaxis_transform(), label=f"{label}: infinite")
    if undefined:
        axis.plot(undefined, [0.03] * len(undefined), linestyle="none", marker="v", color=color,
                  transform=axis.get_xaxis_transform(), label=f"{label}: NaN, left out")
    keep = [i for i, group in enumerate(finite) if group]
    if not keep:
        return
    means = [np.mean(finite[i]) for i in keep]
    spread = [np.std(finite[i]) for i in keep]
    axis.errorbar([xs[i] for i in keep], means, yerr=spread, color=color, label=label, linestyle=linestyle,
                  marker="o" if linestyle == "-" else "x", markersize=3 if linestyle == "-" else 5, capsize=2)
