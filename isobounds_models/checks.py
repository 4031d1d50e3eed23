r"""Check trained univariate models against the isoperimetric lower bounds.

The target is ``nu = (1/2)[N(-m, 1) + N(m, 1)]`` and the model is
``rho = g#N(0, I_p)`` with ``g`` ``L``-Lipschitz. For each model the bounds
below are computed from ``L``, ``m`` and (where the theorem uses it) the model's
own mass of the half-line ``H = (-inf, 0]``. Each bound is compared with the
measured distance in one PASS or FAIL row.

- Theorem 4 (TV), with the model's mass: for ``A = H`` and ``A = [0, inf)``,
  ``alpha(A, r) - min(rho(A), nu(A)) - nu(A_r \ A)`` maximised over a grid of
  ``r`` (both shells have the target mass ``nu((0, r])`` by symmetry).
- Corollary 6 (TV): ``[Phi(D/(4L)) - 1/2] - (1/2)[Phi(3D/4) - Phi(D/4)]``,
  ``D = 2m``.
- Theorem 7 (KL), corrected: ``kl_bin(beta(A, r) || nu(A_r \ A))`` where
  ``beta >= nu(A_r \ A)`` and 0 elsewhere, maximised over the same grid.
  Salmona et al., 2022 state the supremum over all ``(A, r)``; the proof
  replaces the shell mass by its lower bound ``beta`` inside a term with a
  nonnegative multiplier only when ``beta >= nu(A_r \ A)``, so elsewhere the
  bound is 0.
- Corollary 8 (KL), corrected likewise, with ``lam = rho(H)`` (or
  ``1 - lam`` when ``lam > 1/2``).
- Theorem 1 (mass between the modes): ``rho([-m/2, m/2]) >= beta(A, m)`` for
  ``A = (-inf, -m/2]`` and for ``A = [m/2, inf)``; the larger is reported.

Every reported bound is a value of the core library (``isobounds.tv_lower_bound``,
``kl_lower_bound``, ``tv_lower_bound_two_gaussians``,
``kl_lower_bound_two_gaussians``, ``shell_mass_lower_bound``, with the target
``isobounds.GaussianMixture`` and the sets ``isobounds.HalfSpace``), evaluated
with mpmath at the arguments given. For Theorems 4 and 7 the radius is chosen
first by the float64 formulas of ``isobounds.vectorized`` on a grid of ``r``
(:func:`radius_grid`); the core function is then evaluated at that radius.

A check passes when ``measured + tolerance >= bound`` and the measured value
is one that a TV, KL or mass can take (:class:`CheckRow`). For push-forward
models the distances are exact and the tolerance is the quadrature error
estimate, so a PASS verifies the bound for that model. For score models the
distances are estimates from samples and the tolerance is three bootstrap
standard errors. The estimates are distances between the model and the
target both smoothed by a Gaussian kernel, which lie below the true
distances, so their TV and KL bounds are those of the smoothed pair
(:func:`smoothed_bounds`). Neither outcome proves anything. A PASS only
means that the estimate is consistent with the bound, because sampling
noise biases the estimates upward (see
:func:`isobounds_models.measure.sample_distances`). A FAIL means that the
estimate lies more than three standard errors below the bound, and it is
not proof of a bug either: the Lipschitz constant is a lower estimate (the
maximum over sampled trajectories), so each bound is computed from a
constant that may be too small, which only raises it. A perfect sampler of
the target whose constant is underestimated fails. Look first at the
Lipschitz estimate of a failed score-model row, then at the code.

A bound of 0 holds for every model, so its check passes whatever was
measured; :attr:`CheckRow.vacuous` marks such rows.

References
----------
A. Salmona, V. De Bortoli, J. Delon, A. Desolneux, "Can Push-forward
Generative Models Fit Multimodal Distributions?", NeurIPS 2022, Theorems 1,
4 and 7, Corollaries 6 and 8.
"""

import math
from dataclasses import dataclass

import numpy as np
import scipy.special as sc

import isobounds
from isobounds import vectorized

from .data import _check_count
from .measure import mixture_mass, two_mode_target

__all__ = [
    "BoundSet",
    "CheckRow",
    "kl_bin",
    "radius_grid",
    "compute_bounds",
    "smoothed_bounds",
    "bound_curves",
    "run_checks",
    "lipschitz_implied_by_masses",
]

_ABSOLUTE_TOLERANCE = 1e-9


@dataclass(frozen=True)
class BoundSet:
    """Lower bounds for one model (module docstring), with the best radius of each grid search."""

    tv_theorem4: float
    tv_theorem4_r: float
    tv_corollary6: float
    kl_theorem7: float
    kl_theorem7_r: float
    kl_corollary8: float
    mass_between: float
    target_mass_between: float

    @property
    def tv(self):
        """Largest TV bound."""
        return max(self.tv_theorem4, self.tv_corollary6)

    @property
    def kl(self):
        """Largest KL bound."""
        return max(self.kl_theorem7, self.kl_corollary8)


@dataclass(frozen=True)
class CheckRow:
    """One comparison ``measured + tolerance >= bound``.

    ``upper`` is the largest value the measured quantity can take: 1 for a
    total variation or a mass, ``inf`` for a KL divergence. The default
    ``None`` takes ``inf`` when ``name`` contains ``"kl"`` and 1 otherwise.
    A measured value that no law can have is a measurement error, so its
    check fails whatever the bound. Such values are NaN, values below
    ``-tolerance`` or above ``upper + tolerance``, and infinite values unless
    ``upper`` is infinite. (The KL divergence of a model whose law has an
    atom is ``+inf``.) A NaN bound or tolerance fails too.
    """

    name: str
    measured: float
    bound: float
    tolerance: float
    upper: float = None

    @property
    def measured_range(self):
        """``(0, upper)``: the values the measured quantity can take."""
        upper = self.upper
        if upper is None:
            upper = math.inf if "kl" in self.name else 1.0
        return 0.0, float(upper)

    @property
    def possible(self):
        """Whether the measured value lies in :attr:`measured_range` (widened by the tolerance)."""
        low, high = self.measured_range
        measured, tolerance = float(self.measured), float(self.tolerance)
        if math.isnan(measured) or math.isnan(tolerance):
            return False
        if math.isinf(measured):
            return measured > 0 and math.isinf(high)
        return low - tolerance <= measured <= high + tolerance

    @property
    def passed(self):
        """Whether the measured value is possible and at least the bound, within the tolerance."""
        return bool(self.possible and self.measured + self.tolerance >= self.bound)

    @property
    def vacuous(self):
        """Whether the bound is 0 or less, so that the check passes for every model and tests nothing."""
        return bool(self.bound <= 0)

    @property
    def status(self):
        """``"PASS"`` or ``"FAIL"``."""
        return "PASS" if self.passed else "FAIL"

    def to_dict(self):
        """Return the row as a dictionary, non-finite floats included (:func:`isobounds_models.report.json_safe` encodes them).

        ``possible`` is False where the measured value lies outside
        ``measured_range``, a failure that the bound has no part in.
        """
        return {"name": self.name, "measured": self.measured, "bound": self.bound,
                "tolerance": self.tolerance, "status": self.status, "vacuous": self.vacuous,
                "measured_range": list(self.measured_range), "possible": self.possible}


def kl_bin(a, b):
    """Binary KL divergence ``a log(a/b) + (1-a) log((1-a)/(1-b))`` elementwise, with ``0 log 0 = 0``.

    Float64 and vectorised, for the search over the radius grid; the reported
    bounds come from ``isobounds.kl_lower_bound`` (mpmath). Both arguments
    are probabilities in [0, 1].
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    for name, value in (("a", a), ("b", b)):
        outside = ~((value >= 0) & (value <= 1))
        if np.any(outside):
            raise ValueError(f"{name} must contain probabilities in [0, 1], got {name}={value[outside].flat[0]}")
    return sc.rel_entr(a, b) + sc.rel_entr(1.0 - a, 1.0 - b)


_MAX_RADIUS = 1e300
"""Largest radius of :func:`radius_grid`."""

_MIN_RADIUS = 1e-300
"""Smallest radius that :func:`radius_grid` adds below ``r_near / n_points``."""

_SMALL_POINTS = 400
"""Number of radii below ``r_near / n_points`` that :func:`radius_grid` adds whenever ``lip`` is given."""

_MIN_GROWTH = 1e-9
"""Relative growth ``50 lip / r_near`` below which :func:`radius_grid` adds no far radii (they would repeat ``r_near``)."""


def radius_grid(m, lip=None, n_points=4001, far_points=2000):
    """Return the radii searched by Theorems 4 and 7.

    ``n_points`` values evenly spaced in ``(0, r_near]``, ``r_near = max(4 m, 10)``,
    where the target's shell ``nu((0, r])`` grows. When ``lip`` is given,
    ``far_points`` more values spaced geometrically in ``(r_near, r_near + 50 lip]``
    follow, up to at most 1e300 (none when ``50 lip`` is below ``1e-9 r_near``).
    The model's shell bound ``Phi(r / L + Phi^{-1}(p)) - p`` reaches its
    limit ``1 - p`` only at ``r`` of several times ``L``, so a grid that stops at
    ``r_near`` misses the Theorem 7 bound of a model with a large ``L``, which
    tends to ``kl_bin(1 - p || 1/2)``. At ``r = r_near + 50 L`` that bound is within
    float64 rounding of its limit for every mass ``p >= 1e-300``
    (``Phi^{-1}(1e-300) = -37.05``).

    For the same reason a model with a small ``L`` reaches that limit at a
    radius of a few times ``L``, where the target's shell is still nearly
    empty, and a model with all its mass on one side (``p`` of 0 or 1) has
    its best radius at 0. So when ``lip`` is given, 400 values spaced
    geometrically in ``[r_0, r_near / n_points)`` come first, with
    ``r_0 = min(lip / 100, 1e-6 r_near / n_points)``, and at least 1e-300.
    """
    _check_m(m)
    if lip is not None and not (lip > 0 and math.isfinite(lip)):
        raise ValueError(f"lip must be a positive finite number or None, got lip={lip}")
    n_points, far_points = _check_count("n_points", n_points), _check_count("far_points", far_points)
    r_near = max(4.0 * m, 10.0)
    near = np.linspace(r_near / n_points, r_near, n_points)
    if lip is not None:
        smallest = max(min(lip / 100.0, 1e-6 * near[0]), _MIN_RADIUS)
        near = np.concatenate([np.geomspace(smallest, near[0], _SMALL_POINTS, endpoint=False), near])
    # The far end is capped at _MAX_RADIUS so that a lip near the float64 maximum stays finite.
    growth = min(50.0 * lip / r_near, _MAX_RADIUS / r_near) if lip is not None else 0.0
    if growth < _MIN_GROWTH:
        return near
    far = r_near * np.geomspace(1.0, 1.0 + growth, far_points + 1)[1:]
    return np.concatenate([near, far])


def compute_bounds(lip, m, mass_left, mass_right, mass_below, mass_above, radii=None, sigma=1.0):
    """Compute the lower bounds of the module docstring for one model.

    Parameters
    ----------
    lip : float
        Lipschitz constant ``L > 0`` of the model's generator.
    m : float
        Half distance between the target's modes, ``m >= 0``.
    mass_left, mass_right : float
        Model masses ``rho((-inf, 0])`` and ``rho([0, inf))``, in [0, 1].
    mass_below, mass_above : float
        Model masses ``rho((-inf, -m/2])`` and ``rho([m/2, inf))``, in [0, 1].
    radii : numpy.ndarray, optional
        Radii of the grid search, each positive and finite; default
        :func:`radius_grid` ``(m, lip)``.
    sigma : float
        Standard deviation of each target mode, ``> 0``: 1 in the paper,
        ``sqrt(1 + h^2)`` in :func:`smoothed_bounds`.

    Returns
    -------
    BoundSet
        Floats rounded from the ``mpmath.mpf`` values of the core functions.
    """
    if not (lip > 0 and math.isfinite(lip)):
        raise ValueError(f"lip must be a positive finite number, got lip={lip}")
    _check_m(m)
    for name, value in (("mass_left", mass_left), ("mass_right", mass_right),
                        ("mass_below", mass_below), ("mass_above", mass_above)):
        _check_probability(name, value)
    _check_consistent_masses(mass_left, mass_right, mass_below, mass_above)
    if not (sigma > 0 and math.isfinite(sigma)):
        raise ValueError(f"sigma must be a positive finite number, got sigma={sigma}")
    radii = radius_grid(m, lip) if radii is None else _check_radii(radii)

    target = two_mode_target(m, sigma)
    # (-inf, 0] and [0, inf) with the model's masses; both have the target shell nu((0, r]).
    sides = ((isobounds.HalfSpace(1, 0), mass_left), (isobounds.HalfSpace(-1, 0), mass_right))
    tv4, tv4_r = _theorem4(lip, m, sides, target, radii, sigma)
    kl7, kl7_r = _theorem7(lip, m, sides, target, radii, sigma)

    between = max(float(isobounds.shell_mass_lower_bound(p, m, lip)) for p in (mass_below, mass_above))
    return BoundSet(
        tv_theorem4=tv4,
        tv_theorem4_r=tv4_r,
        tv_corollary6=float(isobounds.tv_lower_bound_two_gaussians(-m, m, sigma, lip)),
        kl_theorem7=kl7,
        kl_theorem7_r=kl7_r,
        kl_corollary8=float(isobounds.kl_lower_bound_two_gaussians(-m, m, sigma, lip, mass_left)),
        mass_between=between,
        target_mass_between=float(target.mass(isobounds.Interval(-m / 2, m / 2))),
    )


def smoothed_bounds(lip, m, samples, bandwidth):
    r"""Bounds of :func:`compute_bounds` for the model and the target both smoothed by ``N(0, h^2)``.

    A score model's TV and KL are estimated between the smoothed laws
    ``rho_h = rho * N(0, h^2)`` and ``nu_h = nu * N(0, h^2)``
    (:func:`isobounds_models.measure.sample_distances`), which lie below the
    true distances. So they are checked against the bounds for that pair,
    which the theorems give directly: ``rho_h`` is the push-forward of
    ``N(0, I_{p+1})`` by ``(z, w) -> g(z) + h w``, whose Lipschitz constant
    is at most ``sqrt(L^2 + h^2)`` (Cauchy-Schwarz), and
    ``nu_h = (1/2)[N(-m, 1 + h^2) + N(m, 1 + h^2)]``. The masses of
    ``rho_h`` come from the samples ``x_i``: ``rho_h((-inf, t]) =
    mean(Phi((t - x_i) / h))``.

    Parameters
    ----------
    lip : float
        Lipschitz constant ``L > 0`` of the model's sampler.
    m : float
        Half distance between the target's modes, ``m >= 0``.
    samples : array_like
        Samples of the model, finite, at least one, of shape ``(n,)`` or ``(n, 1)``.
    bandwidth : float
        Standard deviation ``h > 0`` of the smoothing kernel.

    Returns
    -------
    BoundSet
        The TV and KL bounds of the smoothed pair. Its ``mass_between`` and
        ``target_mass_between`` are those of the smoothed laws as well; the
        mass between the modes is checked on the samples themselves.
    """
    if not (bandwidth > 0 and math.isfinite(bandwidth)):
        raise ValueError(f"bandwidth must be a positive finite number, got bandwidth={bandwidth}")
    if not (lip > 0 and math.isfinite(lip)):
        raise ValueError(f"lip must be a positive finite number, got lip={lip}")
    _check_m(m)
    x = np.asarray(samples, dtype=np.float64)
    # Univariate samples: shape (n,) or (n, 1). A wider array would be flattened into the samples
    # of several coordinates without notice.
    if x.ndim > 2 or (x.ndim == 2 and x.shape[1] != 1):
        raise ValueError(f"samples must be univariate, of shape (n,) or (n, 1), got shape {x.shape}")
    x = x.ravel()
    if x.size == 0:
        raise ValueError("samples must be a non-empty array of finite numbers, got 0 samples")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"samples must be a non-empty array of finite numbers, got {x.size} samples with "
                         f"the value {x[~np.isfinite(x)][0]}")

    def mass_up_to(t):
        # A subnormal bandwidth overflows the quotient to +-inf, whose Phi is the right limit.
        with np.errstate(over="ignore"):
            return float(np.mean(sc.ndtr((t - x) / bandwidth)))

    def mass_from(t):
        with np.errstate(over="ignore"):
            return float(np.mean(sc.ndtr((x - t) / bandwidth)))

    return compute_bounds(math.hypot(lip, bandwidth), m, mass_up_to(0.0), mass_from(0.0), mass_up_to(-m / 2),
                          mass_from(m / 2), sigma=math.hypot(1.0, bandwidth))


_MASS_ROUNDING = 1e-9
"""Slack allowed in the relations between the masses, for their float64 rounding."""


def _check_m(m):
    if not (m >= 0 and math.isfinite(m)):
        raise ValueError(f"m must be a nonnegative finite number, got m={m}")


def _check_probability(name, value):
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be a probability in [0, 1], got {name}={value}")


def _check_consistent_masses(mass_left, mass_right, mass_below, mass_above):
    """Raise ValueError unless the four masses can be those of one law (within float64 rounding).

    ``(-inf, 0]`` and ``[0, inf)`` cover the line, ``(-inf, -m/2]`` lies
    inside the first and ``[m/2, inf)`` inside the second.
    """
    if mass_left + mass_right < 1.0 - _MASS_ROUNDING:
        raise ValueError(f"mass_left + mass_right must be at least 1, because (-inf, 0] and [0, inf) cover the "
                         f"line, got mass_left={mass_left}, mass_right={mass_right}")
    for name, inner, outer_name, outer in (("mass_below", mass_below, "mass_left", mass_left),
                                           ("mass_above", mass_above, "mass_right", mass_right)):
        if inner > outer + _MASS_ROUNDING:
            raise ValueError(f"{name} must be at most {outer_name}, because its set lies inside the other, "
                             f"got {name}={inner}, {outer_name}={outer}")


def _check_radii(radii):
    radii = np.asarray(radii, dtype=np.float64)
    if radii.ndim != 1 or radii.size == 0:
        raise ValueError(f"radii must be a non-empty one-dimensional array, got shape {radii.shape}")
    if not np.all(np.isfinite(radii) & (radii > 0)):
        bad = radii[~(np.isfinite(radii) & (radii > 0))][0]
        raise ValueError(f"radii must be positive finite numbers, got the radius {bad}")
    return radii


def bound_curves(ms, lips):
    """Return the balanced two-mode bounds of Corollaries 6 and 8 against ``L``, one row per ``(m, L)``.

    The target is ``(1/2)[N(-m, 1) + N(m, 1)]`` and the model is balanced
    (``lam = 1/2`` in Corollary 8), the setting of Figure S3 of Salmona et
    al., 2022.

    Parameters
    ----------
    ms : sequence of float
        Half distances between the modes, each ``m > 0``.
    lips : sequence of float
        Lipschitz constants, each ``L > 0``.

    Returns
    -------
    list of dict
        Keys ``m``, ``lipschitz``, ``tv_bound_corollary6`` and
        ``kl_bound_corollary8`` (floats), ``m`` varying slowest.
    """
    rows = []
    for m in ms:
        if not (m > 0 and math.isfinite(m)):
            raise ValueError(f"every m must be a positive finite number, got m={m}")
        for lip in lips:
            if not (lip > 0 and math.isfinite(lip)):
                raise ValueError(f"every lip must be a positive finite number, got lip={lip}")
            rows.append({
                "m": float(m),
                "lipschitz": float(lip),
                "tv_bound_corollary6": float(isobounds.tv_lower_bound_two_gaussians(-m, m, 1, lip)),
                "kl_bound_corollary8": float(isobounds.kl_lower_bound_two_gaussians(-m, m, 1, lip, 0.5)),
            })
    return rows


def _best_radius(grid_values, core_bound, radii):
    """Radius of the largest grid value, and the core bound there (0 and NaN when no radius helps)."""
    i = int(np.argmax(grid_values))
    if not grid_values[i] > 0:
        return 0.0, float("nan")
    return float(core_bound(radii[i])), float(radii[i])


def _theorem4(lip, m, sides, target, radii, sigma):
    shell = mixture_mass(0.0, radii, m, sigma)
    best, best_r = 0.0, float("nan")
    for region, p in sides:
        grid = vectorized.extension_mass_lower_bound(p, radii, lip) - min(p, 0.5) - shell

        def core(r, region=region, p=p):
            return isobounds.tv_lower_bound(region, r, lip, target=target, model_mass=p)

        value, r = _best_radius(grid, core, radii)
        if value > best:
            best, best_r = value, r
    return best, best_r


def _log_gaussian_mass(x1, x2):
    """``log(Phi(x2) - Phi(x1))`` for ``x1 < x2`` elementwise, without cancellation or underflow.

    Intervals mostly in the upper tail are reflected to ``log(Phi(-x1) - Phi(-x2))``.
    """
    x1, x2 = np.broadcast_arrays(np.asarray(x1, dtype=np.float64), np.asarray(x2, dtype=np.float64))
    upper = x1 + x2 > 0
    low = np.where(upper, -x2, x1)
    high = np.where(upper, -x1, x2)
    log_high = sc.log_ndtr(high)
    with np.errstate(divide="ignore"):
        return log_high + np.log(-np.expm1(sc.log_ndtr(low) - log_high))


def _log_shell_mass(radii, m, sigma):
    """``log nu((0, r])`` for each radius, for ``nu = (1/2)[N(-m, sigma^2) + N(m, sigma^2)]``.

    ``nu((0, r])`` itself underflows float64 for ``m / sigma`` above about 38
    and small ``r``, where its logarithm (about ``-m^2 / (2 sigma^2)``) is finite.
    """
    near = _log_gaussian_mass(-m / sigma, (radii - m) / sigma)
    far = _log_gaussian_mass(m / sigma, (radii + m) / sigma)
    return np.log(0.5) + np.logaddexp(near, far)


def _kl_bin_log(a, log_b):
    """Binary KL divergence ``kl_bin(a || b)`` from ``a`` and ``log b``, with ``0 log 0 = 0``.

    Finite where ``b`` underflows float64 but ``log b`` does not, so that the
    grid search of Theorem 7 can rank radii whose target shell mass underflows.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.exp(log_b)
    with np.errstate(divide="ignore", invalid="ignore"):
        first = np.where(a > 0, a * (np.log(a) - log_b), 0.0)
        second = np.where(a < 1, (1.0 - a) * (np.log1p(-a) - np.log1p(-b)), 0.0)
    return first + second


def _theorem7(lip, m, sides, target, radii, sigma):
    shell = mixture_mass(0.0, radii, m, sigma)
    # kl_bin(beta || shell) on float64 shells is infinite wherever the shell underflows to 0 (m above
    # about 38), so argmax would pick the smallest such radius. The logarithm of the shell does not underflow.
    log_shell = _log_shell_mass(radii, m, sigma)
    best, best_r = 0.0, float("nan")
    for region, p in sides:
        beta = vectorized.shell_mass_lower_bound(p, radii, lip)
        grid = np.where(beta >= shell, _kl_bin_log(beta, log_shell), 0.0)

        def core(r, region=region, p=p):
            return isobounds.kl_lower_bound(region, r, lip, target=target, model_mass=p)

        value, r = _best_radius(grid, core, radii)
        if value > best:
            best, best_r = value, r
    return best, best_r


def run_checks(bounds, tv, kl, mass_between, tv_tolerance, kl_tolerance, mass_tolerance):
    """Compare measured distances with ``bounds``; return the list of :class:`CheckRow`.

    Tolerances are absolute and nonnegative; ``1e-9`` is added to each for
    float rounding. An infinite KL passes every KL check. A NaN measurement
    fails its checks, and so does a TV or mass outside [0, 1] (an infinite one
    included) and a negative KL, beyond the tolerance (:class:`CheckRow`).
    """
    for name, value in (("tv_tolerance", tv_tolerance), ("kl_tolerance", kl_tolerance),
                        ("mass_tolerance", mass_tolerance)):
        if not value >= 0:
            raise ValueError(f"{name} must be a nonnegative number (inf allowed), got {name}={value}")
    rows = [
        CheckRow("theorem4_tv", tv, bounds.tv_theorem4, tv_tolerance + _ABSOLUTE_TOLERANCE, 1.0),
        CheckRow("corollary6_tv", tv, bounds.tv_corollary6, tv_tolerance + _ABSOLUTE_TOLERANCE, 1.0),
        CheckRow("theorem7_kl", kl, bounds.kl_theorem7, kl_tolerance + _ABSOLUTE_TOLERANCE, math.inf),
        CheckRow("corollary8_kl", kl, bounds.kl_corollary8, kl_tolerance + _ABSOLUTE_TOLERANCE, math.inf),
        CheckRow("theorem1_mass_between", mass_between, bounds.mass_between, mass_tolerance + _ABSOLUTE_TOLERANCE,
                 1.0),
    ]
    return rows


def lipschitz_implied_by_masses(m, mass_below, mass_above, mass_between):
    r"""Return the smallest Lipschitz constant compatible with Theorem 1 and the measured masses.

    With ``p = rho((-inf, -m/2])`` (or ``rho([m/2, inf))``) and
    ``q = rho([-m/2, m/2])``, Theorem 1 with ``r = m`` gives
    ``Phi(m/L + Phi^{-1}(p)) - p <= q``, that is
    ``L >= m / (Phi^{-1}(p + q) - Phi^{-1}(p))``. The larger of the two sides
    is returned (0 when neither side constrains ``L``, ``inf`` when ``q = 0``
    and a side has ``0 < p < 1``). For a score model it is a lower bound on the
    Lipschitz constant of the whole sampler, up to the sampling error of the masses.

    Raises ValueError for a negative or non-finite ``m`` or a mass outside [0, 1].
    """
    _check_m(m)
    for name, value in (("mass_below", mass_below), ("mass_above", mass_above), ("mass_between", mass_between)):
        _check_probability(name, value)
    best = 0.0
    for p in (mass_below, mass_above):
        if not 0.0 < p < 1.0 or m == 0:
            continue
        gap = float(sc.ndtri(min(p + mass_between, 1.0)) - sc.ndtri(p))
        best = max(best, math.inf if gap == 0 else m / gap)
    return best
