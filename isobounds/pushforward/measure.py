r"""The push-forward :math:`g \# N(0, s^2)` of a Gaussian by a piecewise-linear map.

The preimage of a closed interval under a continuous piecewise-linear map is
a finite union of closed intervals, one per piece at most, so the model mass
of an interval is a sum of Gaussian masses of latent intervals. It is
computed with mpmath from the float64 knots and values, which are exact
rationals, so :meth:`PushforwardMeasure.mass` is exact to the working
precision. Flat pieces map a latent interval of positive mass to one point:
they are the atoms of the push-forward, reported by
:attr:`PushforwardMeasure.atoms`; the density :meth:`PushforwardMeasure.pdf`
is that of the absolutely continuous part.

References
----------
A. Salmona, V. De Bortoli, J. Delon, A. Desolneux, "Can Push-forward
Generative Models Fit Multimodal Distributions?", NeurIPS 2022.
"""

import math

import mpmath
import numpy as np
from scipy.special import logsumexp

from .. import vectorized
from .._precision import GUARD_DIGITS, resolve_dps, workdps, workprec
from .._validation import check_array, check_positive, check_real, is_array_input
from ..gaussian import _gaussian_mass
from ..measures._base import _check_sample_size, _generator
from .piecewise import PiecewiseLinearMap

__all__ = ["PushforwardMeasure", "as_intervals"]

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def as_intervals(region, name="region"):
    """Convert a subset of R to a list of intervals ``(a, b, left_closed, right_closed)``, ends as mpf.

    Parameters
    ----------
    region : isobounds set of dimension 1, pair of reals, or sequence of pairs
        Any one-dimensional set of :mod:`isobounds.sets` (``Interval``,
        ``IntervalUnion``, half-spaces, balls, ...), whose open and closed
        ends are kept; a pair ``(a, b)`` with ``a <= b`` (infinite ends
        allowed), taken closed; or a list of such pairs.
    name : str
        Argument name used in error messages.
    """
    from ..sets import Set, as_intervals as set_intervals

    if isinstance(region, Set):
        return [(p.a, p.b, p.left_closed, p.right_closed) for p in set_intervals(region).intervals]
    if not isinstance(region, (tuple, list)):
        raise TypeError(f"{name} must be an isobounds set of dimension 1 or a pair (a, b), got {name}={region!r}")

    nested = [isinstance(piece, (Set, tuple, list)) for piece in region]
    if region and not any(nested):
        if len(region) != 2:
            raise ValueError(f"{name} must be a pair (a, b) or a list of pairs, got {name}={region!r} with {len(region)} entries")
        return [_check_pair(name, *region)]
    if not all(nested):
        piece = region[nested.index(False)]
        raise TypeError(f"{name} must be a list of pairs (a, b) or of sets, got the entry {piece!r} in {name}={region!r}")
    return [interval for piece in region for interval in as_intervals(piece, name)]


def _check_pair(name, a, b):
    a = check_real(f"{name} lower end", a)
    b = check_real(f"{name} upper end", b)
    if a > b:
        raise ValueError(f"{name} must have lower end <= upper end, got the pair ({a}, {b})")
    return a, b, True, True


class PushforwardMeasure:
    r"""The law :math:`\rho = g \# N(0, s^2)` of ``g(Z)`` for ``Z ~ N(0, s^2)``, ``g`` piecewise linear.

    Parameters
    ----------
    g : PiecewiseLinearMap
        The map.
    scale : positive real, default 1
        Standard deviation ``s`` of the latent Gaussian, finite in float64
        (subnormal numbers included).

    Raises
    ------
    TypeError
        For a ``g`` that is not a :class:`PiecewiseLinearMap`, or a
        ``scale`` that is not a real number.
    ValueError
        For a ``scale`` that is not positive or exceeds the float64 range.

    Notes
    -----
    On a piece ``k`` with slope ``s_k != 0`` anchored at ``(t_k, v_k)``,
    ``g(z) in [a, b]`` iff ``z`` lies between ``t_k + (a - v_k) / s_k`` and
    ``t_k + (b - v_k) / s_k``; the preimage of ``[a, b]`` is the union of
    these, clipped to the pieces, and of the flat pieces whose value lies in
    ``[a, b]``. The density is
    :math:`p(y) = \sum_{k:\, g(z_k) = y} \varphi(z_k / s) / (s |s_k|)` over the
    preimages on non-flat pieces.

    Examples
    --------
    >>> from isobounds.pushforward import PiecewiseLinearMap, PushforwardMeasure
    >>> g = PiecewiseLinearMap([-1.0, 1.0], [-1.0, 1.0], 0.0, 0.0)  # clip to [-1, 1]
    >>> rho = PushforwardMeasure(g, scale=2.0)
    >>> [(location, float(mass)) for location, mass in rho.atoms]  # masses Phi(-1/2) at -1 and 1
    [(-1.0, 0.3085375387259869), (1.0, 0.3085375387259869)]
    >>> round(float(rho.mass((-0.5, 0.5))), 12)  # N(0, 4) mass of [-1/2, 1/2]
    0.197412651366
    """

    def __init__(self, g, scale=1):
        if not isinstance(g, PiecewiseLinearMap):
            raise TypeError(
                f"g must be a PiecewiseLinearMap, got g of type {type(g).__name__}; "
                "build one with PiecewiseLinearMap(knots, values, left_slope, right_slope) or PiecewiseLinearMap.from_mlp"
            )
        self._g = g
        if isinstance(scale, (str, bytes)) or isinstance(scale, (bool, np.bool_)):
            raise TypeError(f"scale must be a positive real number, got scale={scale!r} of type {type(scale).__name__}")
        self._scale_mpf = check_positive("scale", scale)
        self._scale = float(self._scale_mpf)
        if not 0 < self._scale < np.inf:
            raise ValueError(f"scale must be a positive number representable in float64, got scale={self._scale_mpf}")
        self._lower, self._upper = g.piece_bounds()
        self._anchor_t, self._anchor_v = g.anchors()
        self._root_scale = None

    @property
    def map(self):
        """The piecewise-linear map ``g``."""
        return self._g

    @property
    def dim(self):
        """Dimension of the space carrying the measure: 1."""
        return 1

    @property
    def scale(self):
        """Standard deviation of the latent Gaussian, as a float."""
        return self._scale

    def __repr__(self):
        return f"PushforwardMeasure({self._g!r}, scale={self._scale!r})"

    # ------------------------------------------------------------------
    # Exact masses (mpmath).
    # ------------------------------------------------------------------

    def _exact_pieces(self):
        """Per piece: ``(lower, upper, t, v, slope)`` as mpf at the current precision."""
        slopes = self._g._exact_slopes_here()
        rows = []
        for k, slope in enumerate(slopes):
            lower = mpmath.mpf(float(self._lower[k]))
            upper = mpmath.mpf(float(self._upper[k]))
            t = mpmath.mpf(float(self._anchor_t[k]))
            v = mpmath.mpf(float(self._anchor_v[k]))
            rows.append((lower, upper, t, v, slope))
        return rows

    def _preimage(self, intervals):
        """Latent preimage of a union of closed intervals, as merged ``(lo, hi)`` mpf pairs."""
        pieces = []
        for lower, upper, t, v, slope in self._exact_pieces():
            for interval in intervals:
                piece = _piece_preimage(lower, upper, t, v, slope, *interval)
                if piece is not None:
                    pieces.append(piece)
        return _merge(sorted(pieces))

    def preimage(self, region, dps=None):
        """Return the latent preimage ``g^{-1}(region)`` as sorted disjoint closed intervals ``(lo, hi)`` of mpf."""
        dps = resolve_dps(dps)
        with workdps(dps + GUARD_DIGITS):
            pieces = self._preimage(as_intervals(region))
        with workdps(dps):
            return [(+lo, +hi) for lo, hi in pieces]

    def mass(self, region, dps=None):
        r"""Return :math:`\rho(A) = N(0, s^2)(g^{-1}(A))` as ``mpmath.mpf``, exact to the working precision.

        Parameters
        ----------
        region : Interval, IntervalUnion, pair (a, b) or list of pairs
            Closed intervals of R; atoms on their ends are included.
        dps : int, optional
            Significant digits of the result.
        """
        dps = resolve_dps(dps)
        with workdps(dps + GUARD_DIGITS):
            intervals = as_intervals(region)
            extra_bits = self._width_guard_bits(intervals)
            with workprec(mpmath.mp.prec + extra_bits):
                pieces = self._preimage(intervals)
            total = self._latent_mass(pieces, extra_bits)
        with workdps(dps):
            return +total

    def _width_guard_bits(self, intervals):
        """Return the extra bits that keep the latent width of the thinnest finite interval.

        A preimage end ``t + (a - v) / slope`` is rounded relative to
        ``max(|t slope|, |a - v|)``, while the latent width of ``[a, b]`` is
        ``(b - a) / |slope|``. So a shell of width ``1e-40`` next to values of
        order 1 needs about 133 more bits, or its two ends round together
        and its mass to 0.
        """
        if self._root_scale is None:
            terms = [abs(t * slope) + abs(v) for _, _, t, v, slope in self._exact_pieces()]
            self._root_scale = max(terms, default=mpmath.mpf(0))
        extra = 0
        for a, b, _, _ in intervals:
            if mpmath.isfinite(a) and mpmath.isfinite(b) and b > a:
                size = max(abs(a), abs(b), self._root_scale)
                if size > 0:
                    extra = max(extra, int(mpmath.mag(size) - mpmath.mag(b - a)) + _WIDTH_GUARD_BITS)
        return extra

    def _latent_mass(self, pieces, extra_bits=0):
        """Return the ``N(0, s^2)`` mass of latent intervals ``(lo, hi)`` whose ends carry ``extra_bits`` more bits."""
        with workprec(mpmath.mp.prec + extra_bits):
            standardized = [(lo / self._scale_mpf, hi / self._scale_mpf) for lo, hi in pieces]
        return mpmath.fsum(_gaussian_mass(x, y) for x, y in standardized)

    @property
    def atoms(self):
        """List of ``(location, mass)``: the flat pieces' values (float) and their masses (mpf, working precision)."""
        dps = resolve_dps(None)
        locations = {}
        with workdps(dps + GUARD_DIGITS):
            for lower, upper, _, v, slope in self._exact_pieces():
                if slope == 0:
                    locations.setdefault(v, []).append((lower, upper))
            atoms = [(float(v), self._latent_mass(_merge(sorted(pieces)))) for v, pieces in sorted(locations.items())]
        with workdps(dps):
            return [(location, +mass) for location, mass in atoms]

    def atom_mass(self):
        """Total mass of the atoms, as mpf."""
        return mpmath.fsum(mass for _, mass in self.atoms)

    # ------------------------------------------------------------------
    # Distribution function and density.
    # ------------------------------------------------------------------

    def cdf(self, y, dps=None):
        r"""Distribution function :math:`\rho((-\infty, y])`.

        A scalar ``y`` gives an exact ``mpmath.mpf``; an array gives float64
        values computed with the vectorised Gaussian masses (absolute
        error about 1e-16 per piece).
        """
        if is_array_input(y):
            return self._cdf_array(check_array("y", y, allow_inf=True))
        return self.mass((-mpmath.inf, check_real("y", y)), dps=dps)

    def sf(self, y, dps=None):
        r"""Survival function :math:`\rho((y, \infty))`, computed from the upper tail (no ``1 - cdf``)."""
        if is_array_input(y):
            return self._sf_array(check_array("y", y, allow_inf=True))
        dps = resolve_dps(dps)
        y = check_real("y", y)
        with workdps(dps + GUARD_DIGITS):
            total = self._latent_mass(self._preimage([(y, mpmath.inf, False, True)]))
        with workdps(dps):
            return +total

    def _clipped_latent(self, y, below):
        """Float64 latent ends ``(lo, hi)``, shape ``(len(y), n_pieces)``, of ``{g <= y}`` (or ``{g > y}``) on each piece."""
        slopes = self._g.slopes
        # A root beyond the float64 range overflows to +-inf, which the clipping to the piece handles.
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            root = self._anchor_t + (y[:, None] - self._anchor_v) / slopes
        increasing = slopes > 0
        lower = np.broadcast_to(self._lower, root.shape)
        upper = np.broadcast_to(self._upper, root.shape)
        if below:
            lo = np.where(increasing, lower, np.maximum(lower, root))
            hi = np.where(increasing, np.minimum(upper, root), upper)
            flat_in = self._anchor_v <= y[:, None]
        else:
            lo = np.where(increasing, np.maximum(lower, root), lower)
            hi = np.where(increasing, upper, np.minimum(upper, root))
            flat_in = self._anchor_v > y[:, None]
        flat = slopes == 0
        lo = np.where(flat, np.where(flat_in, lower, 0.0), lo)
        hi = np.where(flat, np.where(flat_in, upper, 0.0), hi)
        return lo, np.maximum(lo, hi)

    def _cdf_array(self, y):
        return _map_blocks(lambda block: self._tail_mass(block, below=True), self._g.n_pieces, y)

    def _sf_array(self, y):
        return _map_blocks(lambda block: self._tail_mass(block, below=False), self._g.n_pieces, y)

    def _tail_mass(self, y, below):
        """Return the float64 ``rho((-inf, y])`` (or ``rho((y, inf))``) at the points of the 1-D array ``y``."""
        lo, hi = self._clipped_latent(y, below=below)
        mass = vectorized.gaussian_mass(lo / self._scale, hi / self._scale).sum(axis=1)
        return np.clip(mass, 0.0, 1.0)

    def logpdf(self, y):
        """Logarithm of the density of the absolutely continuous part, float64, elementwise."""
        y = check_array("y", y, allow_inf=True)
        return _map_blocks(self._logpdf_block, self._g.n_pieces, y)

    def _logpdf_block(self, y):
        """Return the log density at the points of the 1-D array ``y``."""
        slopes = self._g.slopes
        moving = slopes != 0
        if not moving.any():
            return np.full(y.shape, -np.inf)
        column = y[:, None]
        # A preimage or its square beyond the float64 range overflows to inf, whose log term is -inf, as it should be.
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            z = self._anchor_t[moving] + (column - self._anchor_v[moving]) / slopes[moving]
            u = z / self._scale
            # A sum of logarithms: the product scale * |slope| can underflow to a subnormal or to 0.
            log_terms = -0.5 * u * u - _LOG_SQRT_2PI - math.log(self._scale) - np.log(np.abs(slopes[moving]))
        log_terms = np.where(self._covers(column)[:, moving], log_terms, -np.inf)
        return logsumexp(log_terms, axis=1)

    def _covers(self, y):
        """Return a boolean array of shape ``(len(y), n_pieces)``, true where piece ``k`` has a preimage of ``y`` in ``[t_{k-1}, t_k)``.

        The test compares ``y`` with the values at the piece ends, which are
        the float64 values of the map, so it is exact. Testing the rounded
        preimage instead drops a point within rounding of a knot's image.
        """
        knots_values = self._g.values
        slopes = self._g.slopes
        at_lower = np.concatenate([[-math.copysign(math.inf, slopes[0])], knots_values])
        at_upper = np.concatenate([knots_values, [math.copysign(math.inf, slopes[-1])]])
        increasing = (at_lower <= y) & (y < at_upper)
        decreasing = (at_upper < y) & (y <= at_lower)
        return np.where(slopes > 0, increasing, decreasing)

    def pdf(self, y):
        r"""Density of the absolutely continuous part, :math:`\sum_k \varphi(z_k/s) / (s |s_k|)`, float64, elementwise.

        At the image of a knot each piece counts on its half-open
        ``[t_{k-1}, t_k)``, so a preimage on a knot is counted once.
        Atoms are not included (see :attr:`atoms`).
        """
        return np.exp(self.logpdf(y))

    def sample(self, n, rng=None):
        """Draw ``n`` samples ``g(Z)``, ``Z ~ N(0, s^2)``, as a float64 array.

        Parameters
        ----------
        n : int, >= 0
            Number of samples.
        rng : numpy.random.Generator, int seed or None
        """
        n = _check_sample_size(n)
        rng = _generator(rng)
        return self._g(rng.standard_normal(n) * self._scale)


_WIDTH_GUARD_BITS = 20

# Largest number of (point, piece) or (point, Gaussian term) pairs that one
# evaluation of a density, cdf or sf handles at once (see _map_blocks). Each
# float64 temporary of a block then takes at most 512 KiB, and the peak memory
# no longer grows with the number of points times the number of pieces.
# Blocks of this size also ran faster than larger ones: the KL divergence of
# a sawtooth map with 400 pieces over one range took 3.2 s of CPU time against
# 8.7 s with 2**20 (numpy 2.4, shared x86-64 machine).
_BLOCK_ELEMENTS = 2**16


def _map_blocks(func, width, y, *arrays):
    """Return ``func(y, *arrays)`` for an elementwise ``func`` whose temporaries have ``width`` entries per point.

    ``func`` receives the flattened 1-D points (and ``arrays``, of the shape
    of ``y``, flattened alike) in consecutive blocks of
    ``_BLOCK_ELEMENTS // width`` points (at least one), and the results are
    put back in the shape of ``y``. Each result depends on its own point
    alone, so the blocks change no value.
    """
    flat = [np.ravel(array) for array in (y, *arrays)]
    step = max(1, _BLOCK_ELEMENTS // max(1, width))
    if flat[0].size <= step:
        return np.asarray(func(*flat)).reshape(np.shape(y))
    parts = [func(*(array[start:start + step] for array in flat)) for start in range(0, flat[0].size, step)]
    return np.concatenate(parts).reshape(np.shape(y))


def _piece_preimage(lower, upper, t, v, slope, a, b, left_closed, right_closed):
    """Latent interval of piece ``[lower, upper]`` mapped into the interval, or None.

    Open ends matter only for a flat piece (an atom); elsewhere the latent
    closed interval differs from the exact preimage by null sets. An
    interval of R that starts at ``+inf`` or ends at ``-inf`` is empty.
    """
    if a == mpmath.inf or b == -mpmath.inf:
        return None
    if slope == 0:
        above = a <= v if left_closed else a < v
        below = v <= b if right_closed else v < b
        return (lower, upper) if above and below else None
    lo_root = t + (a - v) / slope if mpmath.isfinite(a) else -mpmath.inf * mpmath.sign(slope)
    hi_root = t + (b - v) / slope if mpmath.isfinite(b) else mpmath.inf * mpmath.sign(slope)
    if slope < 0:
        lo_root, hi_root = hi_root, lo_root
    lo = max(lower, lo_root)
    hi = min(upper, hi_root)
    return (lo, hi) if lo <= hi else None


def _merge(pieces):
    """Merge sorted closed intervals that overlap or touch."""
    merged = []
    for lo, hi in pieces:
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged
