"""Write the results of an experiment as ``report.json`` and ``report.md``.

``report.json`` is a list of rows, one per model, ``m`` and run. Every row has
at least the keys of :data:`REQUIRED_KEYS`:

- ``model`` ("vae", "gan" or "sgm"), ``m``, ``seed``;
- ``lipschitz``: exact for GAN and VAE; for score models the largest local
  Lipschitz constant of the whole Langevin sampler over the differentiated
  trajectories (a lower estimate);
- ``tv``, ``kl``: exact for GAN and VAE. For score models, KDE estimates of
  the distances between model and target both smoothed by the kernel. Those
  distances lie below the true ones, but sampling noise biases their
  estimates upward (see ``estimator``, ``tv_error``, ``kl_error``);
- for score models only, ``tv_estimator_floor`` and ``kl_estimator_floor``:
  the estimator applied to as many samples of the target itself, the value
  a perfect sampler would get (the upward bias of the sampling noise);
- ``tv_bound``, ``kl_bound``: the largest TV and KL lower bounds (Theorem 4
  and Corollary 6; Theorem 7 and Corollary 8 corrected);
- ``mass_between``, ``mass_between_bound``, ``target_mass_between``: ``rho``,
  Theorem 1's lower bound and ``nu`` of ``[-m/2, m/2]``;
- ``checks_passed`` and ``checks`` (each check with its status, and
  ``vacuous`` true where the bound is 0, which every model meets);
- ``interquartile_range``: the distance between the quartiles of the
  model's samples. A run below :data:`COLLAPSED_IQR` has collapsed to nearly
  one point, and the findings of ``report.md`` name it;
- ``epochs_completed`` and ``epochs``: the epochs the model was trained for
  and those its training planned. ``report.md`` names the rows where the
  first is smaller (a checkpoint of an interrupted training).

Non-finite numbers, which JSON cannot hold, are written as the strings
``"inf"``, ``"-inf"`` and ``"nan"``. Both files are written atomically
(temporary file, then ``os.replace``).
"""

import math
from pathlib import Path

import numpy as np

from .checkpoint import atomic_write_json, atomic_write_text
from .measure import mixture_mass

__all__ = ["REQUIRED_KEYS", "TABLE_COLUMNS", "COLLAPSED_IQR", "json_safe", "read_report_row", "write_report", "markdown_report",
           "estimator_notes", "findings", "target_mass_near_mode", "unfinished_training_lines"]

REQUIRED_KEYS = (
    "model", "m", "seed", "lipschitz", "tv", "kl", "tv_bound", "kl_bound",
    "mass_between", "mass_between_bound", "target_mass_between", "checks_passed",
)

#: Interquartile range below which a model has collapsed: one component of the
#: target has 2 * 0.6745 = 1.35, so a model this narrow has lost the shape of both modes.
COLLAPSED_IQR = 0.1

TABLE_COLUMNS = (
    ("model", "model"), ("variant", "variant"), ("m", "m"), ("seed", "seed"), ("lipschitz", "L"),
    ("lipschitz_grid", "L grid"), ("lipschitz_implied", "L implied"), ("tv", "TV"),
    ("tv_estimator_floor", "TV floor"), ("tv_bound", "TV bound"), ("kl", "KL"), ("kl_estimator_floor", "KL floor"),
    ("kl_bound", "KL bound"), ("mass_between", "rho(mid)"), ("mass_between_bound", "bound"),
    ("target_mass_between", "nu(mid)"), ("interquartile_range", "IQR"), ("checks_passed", "checks"),
)


def json_safe(value):
    """Convert numpy scalars and arrays, tuples and non-finite floats into JSON-compatible values."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [json_safe(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return value
    return value


_NON_FINITE = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}


def read_report_row(row):
    """Return a ``report.json`` row with the strings that :func:`json_safe` writes for non-finite floats as floats.

    Nested values (the ``checks`` list and its dictionaries, lists of numbers)
    are converted too, so that reading back what :func:`write_report` wrote
    gives the rows it was given, up to tuples and numpy types read back as
    lists and Python numbers.
    """
    if not isinstance(row, dict):
        raise TypeError(f"row must be a dictionary (one entry of report.json), got a {type(row).__name__}")
    return _read_value(row)


def _read_value(value):
    if isinstance(value, dict):
        return {key: _read_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_read_value(item) for item in value]
    if isinstance(value, str):
        return _NON_FINITE.get(value, value)
    return value


def write_report(rows, out, title="report", metadata=None):
    """Write ``out/report.json`` (the rows) and ``out/report.md`` (a table); return the two paths.

    Raises ``ValueError`` naming the first row that lacks a key of :data:`REQUIRED_KEYS`.
    """
    for i, row in enumerate(rows):
        missing = [key for key in REQUIRED_KEYS if key not in row]
        if missing:
            raise ValueError(f"rows[{i}] must contain the keys {list(REQUIRED_KEYS)}, missing {missing}")
    out = Path(out)
    json_path, md_path = out / "report.json", out / "report.md"
    atomic_write_json(json_path, json_safe(list(rows)))
    atomic_write_text(md_path, markdown_report(rows, title, metadata))
    if metadata is not None:
        atomic_write_json(out / "run_info.json", json_safe(metadata))
    return json_path, md_path


def markdown_report(rows, title="report", metadata=None):
    """Return the Markdown text of ``report.md``: the table of rows and every failed check.

    With no rows (an experiment that trains no model) the text is the title,
    the wall time and ``metadata["note"]`` only: no table, legend or check count.
    """
    lines = [f"# {title}", ""]
    if metadata and "wall_time_s" in metadata:
        if metadata.get("resumed"):
            lines += [f"Wall time since the resume: {metadata['wall_time_s']} s (the time before the interruption "
                      "is not counted).", ""]
        elif rows:
            lines += [f"Wall time: {metadata['wall_time_s']} s of training and measurement (without starting "
                      "Python and drawing the figures).", ""]
        else:
            lines += [f"Wall time: {metadata['wall_time_s']} s (without starting Python and drawing the "
                      "figures).", ""]
    if metadata and metadata.get("note"):
        lines += [metadata["note"], ""]
    if not rows:
        return "\n".join(lines).rstrip("\n") + "\n"
    lines += unfinished_training_lines(rows)

    columns = [(key, header) for key, header in TABLE_COLUMNS if any(key in row for row in rows)]
    lines.append("| " + " | ".join(header for _, header in columns) + " |")
    lines.append("|" + "---|" * len(columns))
    for row in rows:
        lines.append("| " + " | ".join(_cell(row.get(key)) for key, _ in columns) + " |")
    lines += ["", "rho(mid), nu(mid): model and target mass of [-m/2, m/2]; bound: Theorem 1's lower bound on rho(mid).",
              "L grid: slopes on a grid of [-10, 10] (GAN, VAE); largest score-network constant over the noise "
              "levels (score model).",
              "L: exact (GAN, VAE); largest local constant of the whole Langevin sampler over the differentiated "
              "trajectories, a lower estimate (score model). L implied: smallest L that Theorem 1 allows "
              "given the measured masses.",
              "TV bound: the larger of Theorem 4 (the half-lines at 0 with the model's masses, best radius on a "
              "grid) and Corollary 6. KL bound: the larger of the corrected Theorem 7 (same sets and radii) and "
              "the corrected Corollary 8. A KL bound of 0 means that no set and radius met the validity condition "
              "of the corrected theorems (shell bound beta at least the target's shell mass), so no positive KL "
              "bound applies to that model. KL values are in nats. IQR: interquartile range of the model's "
              "samples.",
              ""]
    lines += estimator_notes(rows)

    lines += findings(rows)

    checks = [check for row in rows for check in row.get("checks", [])]
    failures = [(row, check) for row in rows for check in row.get("checks", []) if check["status"] != "PASS"]
    vacuous = sum(1 for check in checks if check["status"] == "PASS" and check.get("vacuous"))
    lines.append(f"Checks: {len(checks) - len(failures)} passed ({vacuous} of them with a bound of 0, which every "
                 f"model meets), {len(failures)} failed.")
    for row, check in failures:
        lines.append(f"- FAIL {row['model']} m={row['m']} seed={row['seed']} {check['name']}: " + _failure_reason(check))
    return "\n".join(lines) + "\n"


def unfinished_training_lines(rows):
    """Return Markdown lines naming the rows whose training stopped before its last epoch.

    Rows record ``epochs_completed`` and ``epochs``
    (:func:`isobounds_models.experiments.evaluate_trained`). A checkpoint of a
    training that was interrupted has fewer completed epochs than planned,
    and its models are measured as they were at that epoch, so the report
    names these rows before its table. Rows without these keys get no line.
    """
    unfinished = [row for row in rows
                  if isinstance(row.get("epochs_completed"), int) and isinstance(row.get("epochs"), int)
                  and row["epochs_completed"] < row["epochs"]]
    if not unfinished:
        return []
    runs = ", ".join(f"{row['model']} m={row['m']:g} seed {row['seed']} ({row['epochs_completed']} of "
                     f"{row['epochs']} epochs)" for row in unfinished)
    return [f"Unfinished training: {runs}. These models are measured as they were when the training stopped. "
            "Continue the training with --resume, then measure the trained models again.", ""]


def _failure_reason(check):
    """Return why ``check`` (a dictionary of :meth:`isobounds_models.checks.CheckRow.to_dict`) failed."""
    measured, tolerance, bound = (_as_float(check.get(key)) for key in ("measured", "tolerance", "bound"))
    if check.get("possible") is False or math.isnan(measured):
        low, high = check.get("measured_range", (0.0, math.inf))
        return (f"measured {_cell(measured)} is no possible value (range [{_cell(_as_float(low))}, "
                f"{_cell(_as_float(high))}], tolerance {_cell(tolerance)}): a measurement error")
    if math.isnan(bound):
        return f"measured {_cell(measured)}, but the bound is NaN: a bound computation error"
    return f"measured {_cell(measured)} + tolerance {_cell(tolerance)} < bound {_cell(bound)}"


def _as_float(value):
    """Return ``value`` as a float, reading the strings that :func:`json_safe` writes for non-finite numbers.

    Values that are no number give NaN.
    """
    if isinstance(value, str):
        return _NON_FINITE.get(value, math.nan)
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def estimator_notes(rows):
    """Return Markdown lines stating how the TV and KL of score-model rows were estimated, and their bias.

    Rows measured exactly (GAN, VAE) need no note. Rows with
    ``tv_estimator_floor`` (score models) get a sentence on the estimator,
    on what the floor columns mean and on what the error bars cover.
    """
    estimated = [row for row in rows if "tv_estimator_floor" in row]
    if not estimated:
        return []
    models = ", ".join(sorted({row["model"] for row in estimated}))
    note = (
        f"TV, KL of {models}: estimated, not exact. A Gaussian kernel density estimate of the model's samples "
        "is compared with the target smoothed by the same kernel, so the columns estimate the TV and KL between "
        "the model and the target both smoothed (bandwidth and sample count per row: key estimator in "
        "report.json). By the data-processing inequality the smoothed distances lie below the true TV and KL, "
        "but sampling noise biases their estimates upward. TV floor, KL floor: the same estimator applied to as "
        "many samples of the target itself, the value a perfect sampler would get. They measure that upward "
        "bias, so compare the TV and KL of these rows with them. A passed check of these rows means that the "
        "estimate is consistent with the bound, not that the bound is verified. The TV and KL bounds of these "
        "rows are those of the smoothed pair (Lipschitz constant sqrt(L^2 + h^2), target standard deviation "
        "sqrt(1 + h^2), the smoothed model's masses), because the estimates concern the smoothed laws. A failed "
        "check (estimate more than 3 error bars below the bound) is not proof of a bug either: a Lipschitz "
        "constant estimated too small raises the bound, so look first at the Lipschitz estimate. The error bars "
        "(tv_error and kl_error in "
        "report.json, 3 of which the checks add to the measured value as tolerance) are bootstrap standard "
        "deviations and cover sampling noise only. The TV and KL bounds of these rows are not certified either: "
        "they take the model's masses from its samples, and its Lipschitz constant from the differentiated "
        "trajectories, an estimate from below, which can only raise a bound. Where the bound is near 0 (small m) "
        "it mostly reflects the sampling noise of the masses."
    )
    return [note, ""]


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "PASS" if value else "FAIL"
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.4g}"
    return str(value)


def findings(rows):
    """Return Markdown lines comparing each model's mass between and near the modes with the target's, at the largest ``m``.

    The target ``(1/2)[N(-m, 1) + N(m, 1)]`` puts ``nu([-m/2, m/2])`` between
    the modes and :func:`target_mass_near_mode` within 2 of each mode (0.477
    for ``m >= 4``, more for smaller ``m`` where the other component adds to
    it). A model that interpolates puts much more mass between the modes; a
    model that drops or thins a mode puts much less near it. Rows with a
    ``variant`` key (the sweeps) get one line per model and variant, in the
    order of the rows, because their variants are different models. Runs
    whose interquartile range is below :data:`COLLAPSED_IQR`, at any ``m``,
    did not train, and a line of their own names them.
    """
    lines = []
    for model in ("vae", "gan", "sgm"):
        model_rows = [r for r in rows if r["model"] == model and "mass_near_modes" in r]
        variants = list(dict.fromkeys(r.get("variant") for r in model_rows))
        for variant in variants:
            variant_rows = [r for r in model_rows if r.get("variant") == variant]
            name = model if variant is None else f"{model} ({variant})"
            lines.append(_finding(name, variant_rows))
            lines += _collapse_lines(name, variant_rows)
    return (["## Findings", ""] + lines + [""]) if lines else []


def _finding(name, rows):
    """Return the findings line of ``rows`` (one model, one variant): the mean masses over the runs at the largest ``m``."""
    m = max(r["m"] for r in rows)
    at_m = [r for r in rows if r["m"] == m]
    between = np.mean([r["mass_between"] for r in at_m])
    near = np.mean([r["mass_near_modes"] for r in at_m], axis=0)
    target_near = target_mass_near_mode(m)
    return (f"- {name} at m={m:g}: mass of [-m/2, m/2] {between:.3g} (target "
            f"{at_m[0]['target_mass_between']:.3g}); mass within 2 of the modes "
            f"{near[0]:.3g} and {near[1]:.3g} (target {target_near:.3g} each).")


def _collapse_lines(name, rows):
    """Return a findings line naming the runs of ``rows``, at any ``m``, that collapsed to nearly one point."""
    collapsed = [r for r in rows if r.get("interquartile_range", math.inf) < COLLAPSED_IQR]
    if not collapsed:
        return []
    runs = ", ".join(f"m={r['m']:g} seed {r['seed']} (IQR {r['interquartile_range']:.2g})" for r in collapsed)
    return [f"- {name}: collapsed to nearly one point, so not trained: {runs}. The interquartile range of "
            f"one target component is 1.35."]


def target_mass_near_mode(m):
    """Return the mass of ``[m - 2, m + 2]`` under the target ``(1/2)[N(-m, 1) + N(m, 1)]``.

    By symmetry ``[-m - 2, -m + 2]`` has the same mass.
    """
    return float(mixture_mass(m - 2.0, m + 2.0, m))
