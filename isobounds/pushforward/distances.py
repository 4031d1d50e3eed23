r"""Total variation and Kullback-Leibler divergence between a piecewise-linear push-forward and a target.

The model :math:`\rho = g \# N(0, s^2)` has, between two consecutive images of
knots, a density that is a fixed finite sum of Gaussian terms
:math:`\varphi(z_k(y)/s) / (s|s_k|)`, smooth in ``y``. Both distances are
computed segment by segment on these ``y`` intervals:

- total variation: :math:`d_{TV}(\rho, \nu) = \rho(A^*) - \nu(A^*)` with
  :math:`A^* = \{p_\rho > p_\nu\} \cup \{\text{atoms}\}`. The crossings of
  ``log p_rho - log p_nu`` are bracketed on a grid in each segment and solved
  by ``scipy.optimize.elementwise.find_root``; the masses of ``A*`` are then
  exact (:meth:`PushforwardMeasure.mass` and the target's ``mass`` or
  ``cdf``). An error on a crossing changes the value only to second order.
- KL: :math:`\int p_\rho \log(p_\rho / p_\nu)` by quadrature on every
  segment at once; ``+inf`` when ``rho`` has an atom or puts mass where the
  target density vanishes.

Quadrature. No quadrature is given an infinite interval: the two unbounded
segments are cut where every Gaussian term of the model density on them is
``_TAIL_SIGMAS = 37`` latent standard deviations out. What lies beyond is
bounded analytically for KL (about 8e-297 per Gaussian term, times the growth
of ``|log p_nu|``, see :func:`_kl_tail_bound`) and, for the total variation,
computed from the target's distribution function. (scipy 1.17's ``tanhsinh`` on a half-line can
stop at level 3 with a relative error of 3e-7 and an error estimate of
3e-13.) Each finite interval is integrated twice, by
``scipy.integrate.tanhsinh`` and by an adaptive Gauss-Kronrod (7, 15) rule on
panels graded towards the interval ends, both vectorised over all intervals;
an interval gets the Gauss-Kronrod value and, as error, tanh-sinh's estimate
plus the disagreement of the two rules (see :func:`_integrate`). An interval
where either rule fails is integrated again by ``scipy.integrate.quad`` and
takes quad's value, with error the larger of quad's estimate and its
distances to the converged results. The means of a Gaussian mixture target
and the points where its leading component changes are segment ends, so that
the narrow layers of ``log p_nu`` there lie at interval ends, where the
graded panels resolve them.

Each result carries an error estimate: for the total variation the
difference between the mass formula and a quadrature of
:math:`\int (p_\rho - p_\nu)_+` plus the quadrature's own error; for KL
the quadrature's error, the tail bound and the rounding of the log
densities. The mass formula gives the mass difference of one set, so it
can only fall below the total variation, and a target feature that the
quadrature steps over can only raise the quadrature, so a missed feature of
the target shows in the error (see :func:`_tv_quadrature`).

Targets need a vectorised ``pdf`` (numpy array in, array out), and for the
total variation a ``cdf``; ``logpdf``, ``sf`` and ``mass`` are used when
present. Segment ends are also taken from the target: the 1-D ``means`` of
a Gaussian mixture and the switches of its leading component, the ends of
the pieces of a union of intervals, and for any other target with a
``cdf`` its quantiles at 67 levels (every 1/64, and 1e-6 and 1e-3 from
each end), so that its narrow features get grid points and graded panels.

References
----------
A. Salmona, V. De Bortoli, J. Delon, A. Desolneux, "Can Push-forward
Generative Models Fit Multimodal Distributions?", NeurIPS 2022.

R. Piessens, E. de Doncker-Kapenga, C. Ueberhuber, D. Kahaner, *QUADPACK: A
Subroutine Package for Automatic Integration*, Springer, 1983 (the
Gauss-Kronrod (7, 15) nodes and weights of ``QK15``).
"""

import dataclasses
import math
import numbers
import warnings

import mpmath
import numpy as np
from scipy.integrate import IntegrationWarning, quad, tanhsinh
from scipy.optimize.elementwise import find_root
from scipy.special import ndtr

from .._validation import check_array
from ..measures.gaussian_mixture import _component_crossings
from .measure import PushforwardMeasure, _map_blocks

__all__ = ["DistanceResult", "tv_distance", "kl_divergence"]

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)

# The grid on an unbounded segment reaches at least this many times the
# spread (_Segments.spread) from the outer end, and at least to the tail cut.
_TAIL_DECADES = 4.0

# Largest ratio of consecutive offsets of the geometric grid on an unbounded
# segment: the 64 default points over offsets 1e-10 to 1e4 spreads.
_TAIL_GRID_RATIO = 1.7

# First offset of the grid on an unbounded segment, in units of the width of
# the narrowest Gaussian term of the model there or of a Gaussian mixture
# target. So a crossing a few widths from the segment end is bracketed.
_TAIL_FIRST_OFFSET = 1e-2

_HUGE = 1e300

# A segment whose extent is at most this many float64 spacings of its position
# is a lump (see _Segments.lumps). The quadrature nodes in y fall on few
# distinct float64 numbers there, so integrating in y can lose its mass.
_LUMP_SPACINGS = 1024

_SMALLEST_SUBNORMAL = 2.0**-1074

_END_OFFSET = 1e-10

# The unbounded segments are integrated up to the point where every Gaussian
# term of the model density on them is this many latent standard deviations
# out. Each term has a mass of Phi(-37) = 5.7e-300 beyond, and the bounds on
# what lies there (phi(37) = 2.1e-298) stay representable in float64.
_TAIL_SIGMAS = 37.0

# Smallest grid_size of tv_distance: a finite segment is split in at least 7
# brackets. (The grid on an unbounded segment grows as needed to keep its
# consecutive points within a factor _TAIL_GRID_RATIO.)
_MIN_GRID_SIZE = 8

# Allowed relative tolerances: tanh-sinh cannot reach less than a few units of
# float64 rounding, and a tolerance of 1 or more requests no correct digit.
_MIN_RTOL = 1e-15
_MAX_RTOL = 1.0

# Gauss-Kronrod (7, 15) rule on [-1, 1] (QUADPACK's QK15): nonnegative
# Kronrod nodes with their weights, and the Gauss weights of the nodes of odd
# index (the 7-point Gauss-Legendre rule) from the outermost inwards.
_KRONROD_NODES = (
    0.991455371120812639206854697526329, 0.949107912342758524526189684047851,
    0.864864423359769072789712788640926, 0.741531185599394439863864773280788,
    0.586087235467691130294144845693013, 0.405845151377397166906606412076961,
    0.207784955007898467600689403773245, 0.0,
)
_KRONROD_WEIGHTS = (
    0.022935322010529224963732008058970, 0.063092092629978553290700663189204,
    0.104790010322250183839876322541518, 0.140653259715525918745189590510238,
    0.169004726639267902826583426598550, 0.190350578064785409913256402421014,
    0.204432940075298892414161999234649, 0.209482141084727828012999174891714,
)
_GAUSS_WEIGHTS = (
    0.129484966168869693270611432679082, 0.279705391489276667901467771423780,
    0.381830050505118944950369775488975, 0.417959183673469387755102040816327,
)

# Limits of the adaptive Gauss-Kronrod rule: rounds of bisection, active
# panels per interval, and active panels over all intervals (this many, or
# 64 per interval if more). An interval over a limit stops alone, the
# intervals with the most panels first, and is integrated by
# scipy.integrate.quad.
_KRONROD_ROUNDS = 40
_KRONROD_PANELS_PER_INTERVAL = 2048
_KRONROD_MAX_PANELS = 50_000

# Absolute error accepted on any interval: far below every reported error.
_ABSOLUTE_FLOOR = 1e-290

# Levels of tanh-sinh for the error terms (at most about 1000 nodes per
# interval). Their integrands carry rounding noise, on which tanh-sinh would
# otherwise run to its default last level without converging.
_ROUGH_MAXLEVEL = 6

# Largest Gaussian mixture whose switches of leading component become
# segment ends.
_MAX_SWITCH_COMPONENTS = 64

# Levels of the target quantiles that become segment ends for a target other
# than a Gaussian mixture or a union of intervals. A feature of the target
# density with more than 1/64 of its mass contains one of them.
_QUANTILE_LEVELS = np.concatenate([[1e-6, 1e-3], np.arange(1, 64) / 64, [1 - 1e-3, 1 - 1e-6]])

# Bisection steps of a quantile from the cdf, inside a bracket [x, 10 x]
# (2^-60 relative), and the bracketing points: 0 and +-10^k for |k| <= 300.
_QUANTILE_BISECTIONS = 60
_QUANTILE_BRACKETS = np.concatenate([-np.logspace(300, -300, 601), [0.0], np.logspace(-300, 300, 601)])


def _rule_15():
    """Return ``(nodes, kronrod_weights, gauss_weights)`` of the 15-point rule on [-1, 1], nodes increasing.

    ``gauss_weights`` is 0 on the 8 nodes that belong to the Kronrod rule only.
    """
    half = np.array(_KRONROD_NODES[:-1])
    nodes = np.concatenate([-half, [0.0], half[::-1]])
    kronrod = np.array(_KRONROD_WEIGHTS)
    kronrod = np.concatenate([kronrod, kronrod[-2::-1]])
    gauss_half = np.zeros(8)
    gauss_half[1::2] = _GAUSS_WEIGHTS
    gauss = np.concatenate([gauss_half, gauss_half[-2::-1]])
    return nodes, kronrod, gauss


_NODES_15, _KRONROD_15, _GAUSS_7 = _rule_15()

# Relative positions of the initial panels of the Gauss-Kronrod rule in each
# interval, graded towards both ends (see _gauss_kronrod).
_GRADED_CUTS = np.array([0.0, 1e-6, 1e-4, 1e-2, 0.5, 1 - 1e-2, 1 - 1e-4, 1 - 1e-6, 1.0])

# Further cuts of the outermost panels, in units of the narrowest layer that
# may sit at an interval end (see _graded_panels).
_END_LAYER_CUTS = np.array([1.0, 4.0, 16.0])


@dataclasses.dataclass(frozen=True)
class DistanceResult:
    """A distance with its error estimate.

    Attributes
    ----------
    value : float
        The distance (``inf`` for an infinite KL divergence).
    error : float
        Estimate of ``|value - exact distance|`` (0 for an infinite value).
        It covers a failed quadrature rule and, for the total variation, a
        target feature that the crossing search missed; see the notes of
        :func:`tv_distance` and :func:`kl_divergence` for what it can miss.
    crossings : numpy.ndarray
        Points where the two densities cross (total variation only).
    """

    value: float
    error: float
    crossings: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0), repr=False)

    def __float__(self):
        return float(self.value)


def _as_model(model):
    if isinstance(model, PushforwardMeasure):
        return model
    if hasattr(model, "pushforward"):
        return model.pushforward()
    raise TypeError(f"model must be a PushforwardMeasure or a PiecewiseLinearMap, got model of type {type(model).__name__}")


def _check_target(target, required=("pdf", "cdf")):
    for name in required:
        if not callable(getattr(target, name, None)):
            raise TypeError(f"target must have a vectorised {name}(y) method, got target of type {type(target).__name__}")
    dim = getattr(target, "dim", 1)
    if dim != 1:
        raise ValueError(f"target must be a law on R (dim=1), got a target of dimension {dim}; project it on a line first")


# ----------------------------------------------------------------------
# The model density segment by segment.
# ----------------------------------------------------------------------

class _Segments:
    """Intervals of ``y`` between consecutive knot images, with the model pieces covering each.

    ``edges`` has ``n + 1`` entries (``-inf`` and ``inf`` at the ends); slot
    arrays have shape ``(n, M)`` with ``M`` the largest number of pieces over
    one segment, padded with ``log_norm = -inf``.
    """

    def __init__(self, model, extra_edges=(), target_width=math.inf):
        g = model.map
        self.target_width = float(target_width)
        self.scale = model.scale
        slopes = g.slopes
        t, v = g.anchors()

        # g(0) is the peak of the Gaussian term of the piece containing z = 0.
        # As a segment end, it keeps that peak out of the inside of a segment.
        points = np.concatenate([g.values, [g(0.0)], _narrow_term_edges(g, model.scale), np.asarray(extra_edges, dtype=float)])
        points = np.unique(points[np.isfinite(points)])
        self.edges = np.concatenate([[-np.inf], points, [np.inf]])
        # The spread sets the reach of the tail grids. It follows the scale of
        # the problem: an absolute floor of 1 took the grid of g(z) = 1e-12 z
        # out to 1e16 widths, where log p_rho - log p_nu cancels to rounding
        # noise and gives spurious crossings.
        with np.errstate(over="ignore"):
            widths = model.scale * np.abs(slopes[slopes != 0])
        widest = min(float(widths.max()), _HUGE) if widths.size else 1.0
        self.spread = max(float(points[-1] - points[0]), widest)

        # Every end of a piece's image is a segment end, so a piece covers a
        # segment or meets it at most at an end. Comparing ends, rather than
        # a midpoint, keeps a segment one float64 spacing wide, whose
        # midpoint rounds onto an end.
        image_lo, image_hi = _piece_images(g, slopes)
        covers = (image_lo <= self.edges[:-1, None]) & (self.edges[1:, None] <= image_hi) & (slopes != 0)
        self._build_slots(covers, t, v, slopes)

    def _build_slots(self, covers, t, v, slopes):
        n_seg = covers.shape[0]
        width = max(1, int(covers.sum(axis=1).max()))
        self.t = np.zeros((n_seg, width))
        self.v = np.zeros((n_seg, width))
        self.slope = np.ones((n_seg, width))
        self.log_norm = np.full((n_seg, width), -np.inf)
        rows, pieces = np.nonzero(covers)
        slot = np.concatenate([np.arange(c) for c in covers.sum(axis=1)]) if rows.size else rows
        self.t[rows, slot] = t[pieces]
        self.v[rows, slot] = v[pieces]
        self.slope[rows, slot] = slopes[pieces]
        # A sum of logarithms: the product scale * |slope| can underflow to a subnormal or to 0.
        self.log_norm[rows, slot] = -_LOG_SQRT_2PI - math.log(self.scale) - np.log(np.abs(slopes[pieces]))

    @property
    def count(self):
        return self.edges.size - 1

    def logpdf(self, y, seg):
        """Model log density at ``y`` for points known to lie in segments ``seg`` (same shape).

        The points are taken in blocks of at most 65,536 (point,
        Gaussian term) pairs (:func:`_map_blocks`), so that the temporaries stay
        bounded when many pieces cover one segment.
        """
        seg = np.broadcast_to(seg, y.shape)
        return _map_blocks(self._logpdf_block, self.log_norm.shape[1], y, seg)

    def _logpdf_block(self, y, seg):
        """Model log density at ``y`` in segments ``seg`` (same shape), all points at once."""
        # z * z overflows to inf far out on a piece of slope near 1e-300: a term of density 0.
        with np.errstate(over="ignore"):
            z = (self.t[seg] + (y[..., None] - self.v[seg]) / self.slope[seg]) / self.scale
            return _logsumexp(self.log_norm[seg] - 0.5 * z * z)

    def segment_of(self, y):
        """Index of the segment containing each point of ``y``."""
        return np.clip(np.searchsorted(self.edges, y, side="right") - 1, 0, self.count - 1)

    def logpdf_anywhere(self, y):
        """Model log density at points ``y`` in any segments."""
        return self.logpdf(y, self.segment_of(y))

    def components(self, seg):
        """Return ``(t, v, slope)`` of the model pieces whose Gaussian terms make up the density on segment ``seg``."""
        present = np.isfinite(self.log_norm[seg])
        return self.t[seg][present], self.v[seg][present], self.slope[seg][present]

    def tail_cuts(self):
        r"""Return ``(left, right)``: finite ends for the two unbounded segments.

        On the piece anchored at ``(t, v)`` with slope ``s_k`` the latent
        point of ``y`` is :math:`z = t + (y - v)/s_k`, and
        :math:`|z| \ge Z s` (``Z = _TAIL_SIGMAS``, ``s`` the latent scale)
        holds for all ``y >= v + |s_k| (Z s - sign(s_k) t)`` on the right
        and all ``y <= v - |s_k| (Z s + sign(s_k) t)`` on the left. The cut
        is the farthest of these over the pieces of the outer segment, and
        never inside the finite segments. Beyond it each Gaussian term
        carries a model mass of at most :math:`\Phi(-Z)`.
        """
        reach = _TAIL_SIGMAS * self.scale
        left, right = float(self.edges[1]), float(self.edges[-2])
        t, v, slope = self.components(0)
        if t.size:
            left = min(left, float(np.min(v - np.abs(slope) * (reach + np.sign(slope) * t))))
        t, v, slope = self.components(self.count - 1)
        if t.size:
            right = max(right, float(np.max(v + np.abs(slope) * (reach - np.sign(slope) * t))))
        return left, right

    def tail_terms(self):
        """Return ``(t, v, slope)`` of the Gaussian terms on both unbounded segments together."""
        left, right = self.components(0), self.components(self.count - 1)
        return tuple(np.concatenate([a, b]) for a, b in zip(left, right))

    def lumps(self):
        r"""Return a boolean mask of the segments that are too narrow for quadrature in ``y`` ("lumps").

        A segment is a lump when it carries a Gaussian term and its extent
        between the tail cuts is at most ``_LUMP_SPACINGS`` float64 spacings
        of its position, as for the image of a piece of slope ``1e-15``
        near ``y = 3``. Quadrature nodes in ``y`` collapse onto a few
        float64 numbers there, so :func:`tv_distance` and
        :func:`kl_divergence` treat a lump by its exact model mass and by
        quadrature in the latent variable.
        """
        lo, hi = self.clip_to_cuts(self.edges[:-1], self.edges[1:])
        narrow = hi - lo <= _LUMP_SPACINGS * np.spacing(np.maximum(np.abs(lo), np.abs(hi)))
        return narrow & np.isfinite(self.log_norm).any(axis=1)

    def clip_to_cuts(self, lo, hi):
        """Clip intervals to ``[left cut, right cut]``; an interval beyond a cut shrinks to the cut (length 0)."""
        left, right = self.tail_cuts()
        return np.clip(lo, left, right), np.clip(hi, left, right)

    def grid(self, size):
        """Return grid points spanning each segment, as a list of blocks ``(y, seg)`` with ``y`` and ``seg`` of equal shapes.

        Each finite segment gets ``size`` evenly spaced points, the outer
        ones a relative 1e-10 inside the segment ends. So a target density
        that jumps on a segment end (the end of a support) does not register
        as a crossing there. A segment with a Gaussian term (or a
        Gaussian mixture target) narrower than 100 times that offset also
        gets points at geometric offsets from both ends (:meth:`_end_offsets`).
        Each unbounded segment gets a block of its own from :meth:`tail_grid`.
        """
        blocks = []
        if self.count > 2:
            lo, hi = self.edges[1:-2], self.edges[2:-1]
            u = np.linspace(0.0, 1.0, size)
            u[0], u[-1] = _END_OFFSET, 1.0 - _END_OFFSET
            y = lo[:, None] + (hi - lo)[:, None] * u
            rows = np.arange(1, self.count - 1)
            first = np.minimum(_END_OFFSET * (hi - lo), _TAIL_FIRST_OFFSET * self._narrowest_widths(rows))
            # Each end gets offsets of at least 4 float64 spacings of its own
            # position: near y = 0 these are far finer than at the other end.
            first_lo = np.maximum(first, 4 * np.spacing(np.abs(lo)))
            first_hi = np.maximum(first, 4 * np.spacing(np.abs(hi)))
            graded = np.minimum(first_lo, first_hi) < _END_OFFSET * (hi - lo)
            plain = ~graded
            if plain.any():
                blocks.append((y[plain], np.broadcast_to(rows[plain, None], y[plain].shape)))
            if graded.any():
                last = (hi - lo)[graded] / size
                from_lo = self._end_offsets(np.minimum(first_lo[graded], last), last)
                from_hi = self._end_offsets(np.minimum(first_hi[graded], last), last)
                ends = np.concatenate([lo[graded, None] + from_lo, hi[graded, None] - from_hi], axis=1)
                y = np.sort(np.concatenate([y[graded], ends], axis=1), axis=1)
                blocks.append((y, np.broadcast_to(rows[graded, None], y.shape)))
        for seg in (0, self.count - 1):
            y = self.tail_grid(seg, size)[None, :]
            blocks.append((y, np.full(y.shape, seg)))
        return blocks

    def layer_widths(self, seg):
        """Return, for segment indices ``seg`` (any real dtype), the narrowest width of a Gaussian term there or of the target."""
        return self._narrowest_widths(np.asarray(seg).astype(int))

    def _narrowest_widths(self, rows):
        """Return the width of the narrowest Gaussian term of each segment in ``rows`` or of the target, whichever is smaller."""
        widths = np.where(np.isfinite(self.log_norm[rows]), self.scale * np.abs(self.slope[rows]), np.inf)
        return np.minimum(widths.min(axis=1), self.target_width)

    @staticmethod
    def _end_offsets(first, last):
        """Return rows of geometric offsets from ``first`` to ``last``, consecutive ratios at most ``_TAIL_GRID_RATIO``."""
        # Ratios of logarithms: last / first overflows for slopes near 1e300 or 1e-300.
        span = np.log(last) - np.log(first)
        count = max(2, math.ceil(float(np.max(span)) / math.log(_TAIL_GRID_RATIO)) + 1)
        return np.exp(np.log(first)[:, None] + span[:, None] * np.linspace(0.0, 1.0, count))

    def tail_grid(self, seg, size):
        r"""Return at least ``size`` points on the unbounded segment ``seg``, at geometric offsets from its finite end.

        The offsets run from ``first`` to ``reach``, with consecutive
        ratios at most ``_TAIL_GRID_RATIO``:

        - ``first`` is the smaller of ``1e-10`` spreads of the segment ends
          and ``1e-2`` times the narrowest width :math:`s |s_k|` of a
          Gaussian term of the model on the segment or of a Gaussian
          mixture target. It is at least 4 float64 spacings of the end.
        - ``reach`` is the larger of ``1e4`` spreads and the distance to
          the tail cut (:meth:`tail_cuts`), beyond which the model mass is
          below :math:`\Phi(-37)` per Gaussian term. So the grid scales
          with the slopes and the latent scale, and a crossing beyond it
          can move no more mass than that.

        The spread is the larger of the extent of the finite segment ends
        and the widest Gaussian term :math:`s |s_k|` of the model, so it
        has the scale of the problem (no absolute floor).
        """
        end = float(self.edges[1] if seg == 0 else self.edges[-2])
        narrowest = float(self._narrowest_widths(np.array([seg]))[0])
        first = min(self.spread * _END_OFFSET, _TAIL_FIRST_OFFSET * narrowest)
        first = max(first, 4 * float(np.spacing(abs(end))), np.finfo(float).tiny)
        cut = self.tail_cuts()[0 if seg == 0 else 1]
        reach = max(10.0**_TAIL_DECADES * self.spread, abs(cut - end), first)
        reach = min(reach, _HUGE)
        # A difference of logarithms: reach / first overflows for slopes near 1e300 or 1e-300.
        count = max(size, math.ceil((math.log(reach) - math.log(first)) / math.log(_TAIL_GRID_RATIO)) + 1)
        offsets = np.geomspace(first, reach, count)
        return end - offsets[::-1] if seg == 0 else end + offsets


def _narrow_term_edges(g, scale):
    r"""Return segment ends that enclose the Gaussian terms too narrow for quadrature in ``y``.

    The term of piece ``k`` carries its mass on the image of the latent
    interval :math:`[-Z s, Z s]` (``Z = _TAIL_SIGMAS``) clipped to the
    piece. Such an image can span at most ``_LUMP_SPACINGS / 2`` float64
    spacings of its position, as for a piece of slope ``1e-20`` at
    ``y = 3`` or a latent scale of ``1e-200``. Its two ends, moved 4
    spacings outwards to cover the rounding of the image, then become
    segment ends, so the segment between them is a lump
    (:meth:`_Segments.lumps`) whose mass is counted exactly. Without them
    such a term sits inside a wide segment, within an ulp of its end, where
    every grid point and quadrature node in ``y`` misses it and the error
    does not show the lost mass.
    """
    slopes = g.slopes
    lower, upper = g.piece_bounds()
    t, v = g.anchors()
    reach = _TAIL_SIGMAS * scale
    z_lo, z_hi = np.maximum(lower, -reach), np.minimum(upper, reach)
    moving = (slopes != 0) & (z_lo < z_hi)
    with np.errstate(over="ignore", invalid="ignore"):
        ends = v[moving, None] + slopes[moving, None] * (np.stack([z_lo[moving], z_hi[moving]], axis=1) - t[moving, None])
    lo, hi = ends.min(axis=1), ends.max(axis=1)
    ok = np.isfinite(lo) & np.isfinite(hi)
    lo, hi = lo[ok], hi[ok]
    position = np.maximum(np.abs(lo), np.abs(hi))
    narrow = hi - lo <= 0.5 * _LUMP_SPACINGS * np.spacing(position)
    pad = 4 * np.spacing(position[narrow])
    return np.concatenate([lo[narrow] - pad, hi[narrow] + pad])


def _piece_images(g, slopes):
    """Images ``[lo, hi]`` of the pieces (half-lines for the unbounded ones)."""
    _, v = g.anchors()
    end_lo = np.concatenate([[v[0]], g.values])
    end_hi = np.concatenate([g.values, [v[-1]]])
    end_lo[0] = v[0] if slopes[0] == 0 else -math.copysign(math.inf, slopes[0])
    end_hi[-1] = v[-1] if slopes[-1] == 0 else math.copysign(math.inf, slopes[-1])
    return np.minimum(end_lo, end_hi), np.maximum(end_lo, end_hi)


def _logsumexp(terms):
    """Return ``log(sum(exp(terms), axis=-1))`` without overflow, and ``-inf`` for a row of ``-inf``.

    The same as ``scipy.special.logsumexp(terms, axis=-1)`` for real input,
    without its array-API dispatch, which dominated the run time of the
    quadratures.
    """
    top = np.max(terms, axis=-1)
    shift = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        return shift + np.log(np.sum(np.exp(terms - shift[..., None]), axis=-1))


def _target_logpdf(target, y):
    r"""Return the target log density at ``y`` (any shape).

    A 1-D Gaussian mixture is evaluated here from its float arrays,
    :math:`\log \sum_k w_k \varphi((y - m_k)/\sigma_k)/\sigma_k`, the
    formula of its ``logpdf``; any other target through its ``logpdf``, or
    the log of its ``pdf``.
    """
    mixture = _mixture_arrays(target)
    if mixture is not None:
        weights, means, sigmas = mixture
        with np.errstate(divide="ignore"):
            level = np.log(weights) - np.log(sigmas) - _LOG_SQRT_2PI

        def mixture_block(points):
            with np.errstate(over="ignore"):
                u = (points[..., None] - means) / sigmas
                return _logsumexp(level - 0.5 * u * u)

        return _map_blocks(mixture_block, means.size, np.asarray(y, dtype=float))
    flat = y.ravel()
    if callable(getattr(target, "logpdf", None)):
        values = np.asarray(target.logpdf(flat), dtype=float)
    else:
        with np.errstate(divide="ignore"):
            values = np.log(np.asarray(target.pdf(flat), dtype=float))
    return values.reshape(y.shape)


def _extra_edges(target, breaks):
    """Return the segment ends taken from the target, or ``breaks`` when given.

    Without ``breaks``: the means of a 1-D Gaussian mixture and the points
    where its leading component changes (:func:`_mixture_switches`); the ends
    of 1-D pieces; for any other target its quantiles (:func:`_target_quantiles`).

    Raises
    ------
    ValueError
        If ``breaks`` has more than one dimension or contains NaN or infinite values.
    """
    if breaks is not None:
        array = check_array("breaks", breaks)
        if array.ndim > 1:
            raise ValueError(f"breaks must be a 1-D array of points, got breaks of shape {array.shape}")
        return array.ravel()
    edges = []
    means = getattr(target, "means", None)
    if means is not None:
        means = np.asarray(means, dtype=float)
        if means.ndim == 1 or (means.ndim == 2 and means.shape[1] == 1):
            edges.extend(means.ravel())
    edges.extend(_mixture_switches(target))
    pieces = [piece for piece in getattr(target, "pieces", None) or () if hasattr(piece, "a") and hasattr(piece, "b")]
    for piece in pieces:
        edges.extend([float(piece.a), float(piece.b)])
    if _mixture_arrays(target) is None and not pieces:
        edges.extend(_target_quantiles(target))
    return np.array(edges, dtype=float)


def _target_quantiles(target):
    r"""Return points of a target other than a Gaussian mixture where its features lie: quantiles and support ends.

    The quantiles at ``_QUANTILE_LEVELS``: from ``frozen.ppf`` for a wrapped
    ``scipy.stats`` law (:class:`isobounds.measures.UnivariateDistribution`),
    with the finite ends of ``frozen.support()``, and otherwise by bisection
    on the target's ``cdf`` (:func:`_invert_cdf`). None for a target without
    a ``cdf``.
    """
    frozen = getattr(target, "frozen", None)
    if callable(getattr(frozen, "ppf", None)) and callable(getattr(frozen, "support", None)):
        with np.errstate(all="ignore"):
            points = np.concatenate([np.asarray(frozen.ppf(_QUANTILE_LEVELS), dtype=float), np.asarray(frozen.support(), dtype=float)])
    elif callable(getattr(target, "cdf", None)):
        points = _invert_cdf(target.cdf, _QUANTILE_LEVELS)
    else:
        return []
    return list(points[np.isfinite(points)])


def _invert_cdf(cdf, levels):
    """Return, per level, a point ``y`` with ``cdf(y) >= level`` and ``cdf(y - w) < level`` for a ``w`` below 1e-17 ``|y|``.

    Each level is first bracketed between two consecutive points of
    ``_QUANTILE_BRACKETS`` and then bisected. A level that the cdf does not
    reach inside ``[-1e300, 1e300]`` gets NaN.
    """
    with np.errstate(all="ignore"):
        values = np.fmax.accumulate(np.nan_to_num(np.asarray(cdf(_QUANTILE_BRACKETS), dtype=float), nan=0.0))
    index = np.searchsorted(values, levels, side="left")
    found = (index > 0) & (index < values.size)
    index = np.clip(index, 1, values.size - 1)
    lo, hi = _QUANTILE_BRACKETS[index - 1], _QUANTILE_BRACKETS[index]
    for _ in range(_QUANTILE_BISECTIONS):
        middle = 0.5 * (lo + hi)
        with np.errstate(all="ignore"):
            above = np.asarray(cdf(middle), dtype=float) >= levels
        lo, hi = np.where(above, lo, middle), np.where(above, middle, hi)
    return np.where(found, hi, np.nan)


def _target_width(target):
    """Return the smallest standard deviation of a 1-D Gaussian mixture target, or ``inf`` for another target."""
    arrays = _mixture_arrays(target)
    return float(arrays[2].min()) if arrays is not None else math.inf


def _mixture_arrays(target):
    """Return the ``(weights, means, sigmas)`` float arrays of a 1-D Gaussian mixture with positive sigmas, or None."""
    arrays = [getattr(target, name, None) for name in ("weights_array", "means_array", "sigmas_array")]
    if any(array is None for array in arrays):
        return None
    weights, means, sigmas = (np.asarray(array, dtype=float) for array in arrays)
    if means.ndim != 2 or means.shape[1] != 1 or not (sigmas > 0).all():
        return None
    return weights, means[:, 0], sigmas


_SWITCH_REACH = 100.0


def _mixture_switches(target):
    r"""Return the points where the leading component of a 1-D Gaussian mixture changes (none for other targets).

    There :math:`\log p_\nu` turns from one parabola to another within
    about :math:`\sigma^2 / |m_i - m_j|`, a near-corner of the KL integrand
    that adaptive quadratures can step over. Components ``i`` and ``j`` are
    equal where :math:`c_i - (y - m_i)^2 / (2 \sigma_i^2) = c_j - (y - m_j)^2 / (2 \sigma_j^2)`,
    :math:`c = \log w - \log \sigma`, a quadratic (linear for equal
    sigmas) in ``y``; of its real roots those where ``i`` and ``j`` lead
    all components are kept.

    NOTE: skipped for mixtures of more than ``_MAX_SWITCH_COMPONENTS``
    components (the search is cubic in their number); the quadrature
    cross-check still covers the near-corners there.
    """
    arrays = _mixture_arrays(target)
    if arrays is None or arrays[0].size > _MAX_SWITCH_COMPONENTS:
        return []
    weights, means, sigmas = arrays
    keep = weights > 0
    weights, means, sigmas = weights[keep], means[keep], sigmas[keep]
    # Solved in the standardized variable x = (y - centre) / unit: 1 / sigma^2
    # overflows for sigmas near 1e-200 and underflows for sigmas near 1e200.
    unit = float(sigmas.max())
    centre = 0.5 * float(means.min()) + 0.5 * float(means.max())
    means, sigmas = (means - centre) / unit, sigmas / unit
    curvature = 0.5 / sigmas**2
    level = np.log(weights) - np.log(sigmas)
    roots = np.array([y for _, _, y, _ in _component_crossings(level, curvature, means)], dtype=float)
    # Switches far outside the components (nearly equal means give roots near 1e245) sit where
    # every density underflows, so only those within _SWITCH_REACH sigmas of a mean are kept.
    reach = _SWITCH_REACH * sigmas.max()
    roots = roots[np.isfinite(roots) & (roots >= means.min() - reach) & (roots <= means.max() + reach)]
    if roots.size == 0:
        return []
    logs = level - curvature * (roots[:, None] - means) ** 2
    top_two = np.sort(logs, axis=1)[:, -2:]
    leading = top_two[:, 0] >= top_two[:, 1] - 1e-9 * (1.0 + np.abs(top_two[:, 1]))
    with np.errstate(over="ignore"):
        switches = centre + unit * roots[leading]
    return list(switches[np.isfinite(switches)])


# ----------------------------------------------------------------------
# Crossings.
# ----------------------------------------------------------------------

def _log_ratio(segments, target):
    """``log p_rho - log p_nu``, finite: where a density vanishes it is +-1e300, where both do it is -1e300.

    Finite values keep the root finder's brackets valid across the jumps of
    a target density at the ends of its support. Points where both
    densities vanish count as "model not above target", which changes no
    mass.
    """
    def ratio(y, seg):
        with np.errstate(invalid="ignore"):
            values = segments.logpdf(y, seg.astype(int)) - _target_logpdf(target, y)
        return np.nan_to_num(values, nan=-_HUGE, posinf=_HUGE, neginf=-_HUGE)
    return ratio


def _crossings(segments, target, grid_size):
    """Return the sorted crossings of the two densities, with a bound on the mass each may misassign.

    A crossing known to lie in a bracket of width ``w`` misassigns at most
    ``w * max |p_rho - p_nu|`` over the bracket. The estimate takes that
    maximum at the bracket ends, which is exact for a bracket so short that
    the difference is monotone on it. It is 0 when the log ratio vanishes
    exactly at the returned point.
    """
    ratio = _log_ratio(segments, target)
    left, right, rows = _sign_changes(segments.grid(grid_size), ratio)
    if rows.size == 0:
        return np.empty(0), np.empty(0)

    tolerances = dict(xatol=0.0, xrtol=4 * np.finfo(float).eps)
    result = find_root(ratio, (left, right), args=(rows.astype(float),), tolerances=tolerances)
    width = np.abs(result.bracket[1] - result.bracket[0])
    gap = np.maximum(_density_gap(segments, target, result.bracket[0], rows), _density_gap(segments, target, result.bracket[1], rows))
    misassigned = np.where(result.f_x == 0, 0.0, width * gap)
    order = np.argsort(result.x)
    return result.x[order], misassigned[order]


def _sign_changes(blocks, ratio):
    """Return ``(left, right, seg)`` of the grid brackets over which the sign of ``ratio`` changes."""
    lefts, rights, segs = [], [], []
    for y, seg in blocks:
        positive = ratio(y, seg.astype(float)) > 0
        rows, cols = np.nonzero(positive[:, 1:] != positive[:, :-1])
        lefts.append(y[rows, cols])
        rights.append(y[rows, cols + 1])
        segs.append(seg[rows, cols])
    return np.concatenate(lefts), np.concatenate(rights), np.concatenate(segs).astype(int)


def _density_gap(segments, target, y, seg):
    # A model term narrower than about 1e-309 has a density beyond the float64 range: inf.
    with np.errstate(invalid="ignore", over="ignore"):
        gap = np.abs(np.exp(segments.logpdf(y, seg)) - np.exp(_target_logpdf(target, y)))
    return np.nan_to_num(gap, nan=0.0)


def _cuts(segments, crossings):
    """Sorted segment ends and crossings, with points closer than a few ulps merged (the edge is kept)."""
    cuts = np.unique(np.concatenate([segments.edges, crossings]))
    finite = np.isfinite(cuts)
    gap = np.diff(cuts)
    scale = 4 * np.finfo(float).eps * np.maximum(np.abs(cuts[1:]), np.abs(cuts[:-1]))
    close = np.concatenate([[False], finite[1:] & finite[:-1] & (gap <= np.maximum(scale, 4 * _SMALLEST_SUBNORMAL))])
    is_edge = np.isin(cuts, segments.edges)
    # Of two close points keep the segment end when there is one.
    drop = close & ~is_edge
    drop_previous = np.concatenate([close[1:] & is_edge[1:] & ~is_edge[:-1], [False]])
    return cuts[~(drop | drop_previous)]


def _split_points(segments, crossings):
    """Pieces ``(lo, hi)`` between consecutive cuts and a probe point inside each.

    The probe is the midpoint of the part of the piece between the tail
    cuts (:meth:`_Segments.tail_cuts`), where the model has its mass. Far
    beyond the cuts ``log p_rho - log p_nu`` is a difference of two huge
    numbers that can cancel to rounding noise, so a probe there could give
    a piece that reaches back to the segment end the wrong sign. A piece
    entirely beyond a cut gets its midpoint, or a point ``max(1, |end|)``
    beyond its finite end when it is unbounded.
    """
    cuts = _cuts(segments, crossings)
    lo, hi = cuts[:-1], cuts[1:]
    # A step of max(1, |end|): beyond 2**53 a step of 1 would round back onto the end.
    with np.errstate(invalid="ignore"):
        probe = np.where(np.isinf(lo), hi - np.maximum(1.0, np.abs(hi)), np.where(np.isinf(hi), lo + np.maximum(1.0, np.abs(lo)), 0.5 * (lo + hi)))
    inner_lo, inner_hi = segments.clip_to_cuts(lo, hi)
    with np.errstate(over="ignore"):
        inner = 0.5 * inner_lo + 0.5 * inner_hi
    probe = np.where((inner_hi > inner_lo) & (inner > lo) & (inner < hi), inner, probe)
    return lo, hi, probe


def _positive_intervals(segments, target, crossings):
    """Closed intervals where the model density exceeds the target's, between segment ends and crossings."""
    lo, hi, probe = _split_points(segments, crossings)
    with np.errstate(invalid="ignore"):
        positive = segments.logpdf_anywhere(probe) > _target_logpdf(target, probe)
    positive &= ~segments.lumps()[segments.segment_of(probe)]
    return _merge_adjacent(lo[positive], hi[positive])


def _merge_adjacent(lo, hi):
    intervals = []
    for a, b in zip(lo, hi):
        if intervals and a <= intervals[-1][1]:
            intervals[-1][1] = b
        else:
            intervals.append([a, b])
    return [(float(a), float(b)) for a, b in intervals]


def _target_mass(target, a, b):
    """Target mass of ``[a, b]`` as mpf: ``target.mass`` when available, else a tail-side cdf difference."""
    if callable(getattr(target, "mass", None)):
        try:
            from ..sets import Interval
        except ImportError:
            Interval = None
        if Interval is not None:
            return mpmath.mpf(target.mass(Interval(a, b)))
    if callable(getattr(target, "sf", None)) and a > 0:
        return mpmath.mpf(float(np.asarray(target.sf(np.array([a])))[0])) - mpmath.mpf(float(np.asarray(target.sf(np.array([b])))[0]))
    values = np.asarray(target.cdf(np.array([a, b])), dtype=float)
    return mpmath.mpf(values[1]) - mpmath.mpf(values[0])


# ----------------------------------------------------------------------
# Argument checks.
# ----------------------------------------------------------------------

def _check_grid_size(grid_size):
    """Return ``grid_size`` as an int, or raise if it is not an integer >= ``_MIN_GRID_SIZE``."""
    if isinstance(grid_size, bool) or not isinstance(grid_size, numbers.Integral):
        raise TypeError(f"grid_size must be an integer >= {_MIN_GRID_SIZE}, got grid_size={grid_size!r} of type {type(grid_size).__name__}")
    if grid_size < _MIN_GRID_SIZE:
        raise ValueError(f"grid_size must be an integer >= {_MIN_GRID_SIZE}, got grid_size={grid_size}")
    return int(grid_size)


def _check_rtol(rtol):
    """Return ``rtol`` as a float, or raise if it is not a real number in ``[_MIN_RTOL, _MAX_RTOL)``."""
    if isinstance(rtol, bool) or not isinstance(rtol, numbers.Real):
        raise TypeError(f"rtol must be a real number in [{_MIN_RTOL:g}, {_MAX_RTOL:g}), got rtol={rtol!r} of type {type(rtol).__name__}")
    value = float(rtol)
    if not _MIN_RTOL <= value < _MAX_RTOL:
        raise ValueError(f"rtol must be a real number in [{_MIN_RTOL:g}, {_MAX_RTOL:g}), got rtol={rtol!r}")
    return value


# ----------------------------------------------------------------------
# Public functions.
# ----------------------------------------------------------------------

def tv_distance(model, target, *, grid_size=64, breaks=None, rtol=1e-12):
    r"""Total variation distance :math:`d_{TV}(g \# N(0, s^2), \nu) = \sup_A |\rho(A) - \nu(A)|`.

    Parameters
    ----------
    model : PushforwardMeasure or PiecewiseLinearMap
        The model; a map stands for its push-forward of ``N(0, 1)``.
    target : univariate distribution
        Any object with vectorised ``pdf(y)`` and ``cdf(y)`` (float64 arrays),
        e.g. :class:`isobounds.measures.GaussianMixture`; ``logpdf``, ``sf``,
        ``mass`` and ``means`` are used when present. It must be absolutely
        continuous.
    grid_size : int >= 8, default 64
        Grid points per finite segment used to bracket the density
        crossings. An unbounded segment gets at least as many, at geometric
        offsets reaching past the model's tail cut (37 latent standard
        deviations out, so the reach scales with the slopes and the latent
        scale), at most a factor 1.7 apart.
    breaks : 1-D array_like, optional
        Extra segment ends, so that narrow target features get grid points
        and jumps of the target density lie on segment ends; they replace
        the default: the ``means`` of a 1-D Gaussian mixture and the points
        where its leading component changes, the ends of the ``pieces``
        of a :class:`isobounds.measures.DisconnectedSupport`, or the
        quantiles of any other target (see the module notes).
    rtol : float in [1e-15, 1), default 1e-12
        Relative tolerance of the quadrature cross-check.

    Returns
    -------
    DistanceResult
        ``value`` in [0, 1], ``error`` its estimated absolute error and the
        ``crossings`` used.

    Raises
    ------
    TypeError
        For a model or target of the wrong kind, a ``grid_size`` that is not
        an integer or an ``rtol`` that is not a real number.
    ValueError
        For ``grid_size < 8``, ``rtol`` outside [1e-15, 1) (NaN included),
        ``breaks`` with more than one dimension or a target of dimension
        other than 1.

    Notes
    -----
    The bracketing misses two crossings closer than the grid spacing of
    their segment. The value, the mass difference of the set found, then
    lies below the distance. The quadrature cross-check integrates
    :math:`(p_\rho - p_\nu)_+`, where a narrow target feature that the
    quadrature steps over can only add model mass, so the difference of
    the two is part of ``error`` and covers the miss.

    A segment between knot images that is at most 1024 float64 spacings
    wide (the image of a piece of slope near 0, as for
    ``g(z) = 3 + 1e-15 z`` on a bounded piece) is too narrow for quadrature
    nodes in ``y``. It counts as one block: in the set when its exact model
    mass exceeds its target mass, and ``error`` includes the smaller of the
    two masses, which bounds what the block can miss. A Gaussian term whose
    mass (37 latent standard deviations) spans at most 512 spacings inside
    a wider segment, as for a piece ``3 + 1e-20 z`` on ``0 < z < 1e25`` or
    a latent scale of ``1e-200``, gets segment ends 4 spacings outside that
    span, so that it forms such a block (:func:`_narrow_term_edges`).

    The model density is evaluated in blocks of at most 2**16 (point,
    Gaussian term) pairs, so its temporaries stay within 512 KiB each. NOTE:
    the tables of the pieces covering each segment still take 32 bytes
    times the number of segments times the largest number of pieces
    covering one segment, and the run time grows as that product times
    the number of evaluation points. A sawtooth map whose 400 pieces all
    cover one range peaks at about 15 MB (tracemalloc) and takes about
    0.8 s of CPU time for the total variation and 3.3 s for KL (shared
    x86-64 machine, numpy 2.4, scipy 1.17). With 4000 such pieces the
    tables alone take about 0.5 GB.

    NOTE: a wider segment on which a Gaussian term of the model is only a
    few thousand float64 spacings wide (``g(z) = 3 + 1e-12 z``) is still
    integrated in ``y``. The rounding of the quadrature nodes then limits
    the cross-check, and ``error`` grows to about ``ulp(y) / width``.

    Examples
    --------
    >>> from isobounds.measures import GaussianMixture
    >>> from isobounds.pushforward import PiecewiseLinearMap, tv_distance
    >>> g = PiecewiseLinearMap([0.0], [0.0], 1.0, 1.0)  # identity: g#N(0, 1) = N(0, 1)
    >>> result = tv_distance(g, GaussianMixture([1.0], [0.0], [2.0]))
    >>> round(result.value, 6), result.error < 1e-10
    (0.322675, True)
    """
    grid_size = _check_grid_size(grid_size)
    rtol = _check_rtol(rtol)
    model = _as_model(model)
    _check_target(target)
    segments = _Segments(model, _extra_edges(target, breaks), _target_width(target))

    crossings, misassigned = _crossings(segments, target, grid_size)
    outside_lumps = ~segments.lumps()[segments.segment_of(crossings)]
    crossings, misassigned = crossings[outside_lumps], misassigned[outside_lumps]
    positive = _positive_intervals(segments, target, crossings)
    atoms = [(location, location) for location, _ in model.atoms]
    lumps = _tv_lumps(segments, model, target)
    heavy = [(a, b) for a, b, model_mass, target_mass in lumps if model_mass > target_mass]
    chosen = positive + heavy + atoms
    model_part = model.mass(chosen) if chosen else mpmath.mpf(0)
    target_part = mpmath.fsum(_target_mass(target, a, b) for a, b in positive + heavy)
    value = min(max(float(model_part - target_part), 0.0), 1.0)

    lump_part = sum(max(float(model_mass - target_mass), 0.0) for _, _, model_mass, target_mass in lumps)
    lump_error = sum(float(min(model_mass, target_mass)) for _, _, model_mass, target_mass in lumps)
    check, check_error = _tv_quadrature(segments, target, crossings, float(model.atom_mass()) + lump_part, rtol)
    error = abs(value - check) + check_error + lump_error + float(np.sum(misassigned))
    return DistanceResult(value, float(error), crossings)


def _tv_lumps(segments, model, target):
    r"""Return ``(a, b, model_mass, target_mass)`` for each lump (:meth:`_Segments.lumps`), masses as mpf.

    ``[a, b]`` is the lump's extent between the tail cuts. Its model mass
    is exact and leaves out the atoms, which :func:`tv_distance` counts on
    their own. On a lump :math:`\int (p_\rho - p_\nu)_+` lies between
    :math:`(\rho - \nu)_+` and :math:`\rho` of the lump, so counting the
    lump as one block is off by at most :math:`\min(\rho, \nu)` of it.
    """
    rows = np.flatnonzero(segments.lumps())
    if rows.size == 0:
        return []
    lo, hi = segments.clip_to_cuts(segments.edges[rows], segments.edges[rows + 1])
    result = []
    for a, b in zip(lo.tolist(), hi.tolist()):
        atoms = mpmath.fsum(mass for location, mass in model.atoms if a <= location <= b)
        result.append((a, b, model.mass((a, b)) - atoms, _target_mass(target, a, b)))
    return result


def kl_divergence(model, target, *, breaks=None, rtol=1e-12):
    r"""Kullback-Leibler divergence :math:`KL(g \# N(0, s^2) \,\|\, \nu) = \int p_\rho \log(p_\rho / p_\nu)`.

    Parameters
    ----------
    model : PushforwardMeasure or PiecewiseLinearMap
        The model; a map stands for its push-forward of ``N(0, 1)``.
    target : univariate distribution
        Object with a vectorised ``pdf``. Its ``logpdf`` is used when
        present, and its ``cdf`` when present gives quantiles as segment
        ends for a target other than a Gaussian mixture (see the module
        notes).
    breaks : 1-D array_like, optional
        Extra segment ends (default as in :func:`tv_distance`).
    rtol : float in [1e-15, 1), default 1e-12
        Relative tolerance of the quadrature on each segment.

    Returns
    -------
    DistanceResult
        ``value = inf`` (with ``error = 0``) when the model has an atom (a
        flat piece) or puts mass where the target density is 0.

    Raises
    ------
    TypeError
        For a model or target of the wrong kind or an ``rtol`` that is not
        a real number.
    ValueError
        For ``rtol`` outside [1e-15, 1) (NaN included), ``breaks`` with
        more than one dimension or a target of dimension other than 1.

    Notes
    -----
    NOTE: a narrow feature of a target other than a Gaussian mixture lies
    at a segment end only if it contains one of the quantiles, which a
    feature with more than 1/64 of the target mass does. A narrower and lighter one,
    or any feature of a target without ``cdf``, can be stepped over by the
    quadrature without showing in ``error``; pass its location in
    ``breaks``.

    The integral stops at the cuts of the unbounded segments (37 latent
    standard deviations out) and ``error`` includes a bound on the rest,
    :func:`_kl_tail_bound`.

    NOTE: that bound is rigorous for a :class:`GaussianMixture` target. For
    any other target it takes the growth of ``|log p_nu|`` from its values
    at the two cuts. It can then be too small for a target whose log density
    falls faster than a quadratic beyond them, where the model mass is below
    6e-300 per Gaussian term.

    NOTE: a target without ``logpdf`` is evaluated as ``log(pdf(y))``.
    Where its ``pdf`` underflows to 0 while the model still has mass (a
    target of standard deviation 1e-4 and a model of standard deviation 1
    do, 0.4 or more away from its mean), the result is ``inf`` although the
    divergence is finite. Give such a target a ``logpdf``.

    Segments of the kind that :func:`tv_distance` counts as one block are
    integrated in the latent variable instead, one model piece at a time
    (:func:`_kl_lumps`).

    NOTE: a wider segment on which a Gaussian term of the model is only a
    few thousand float64 spacings wide is integrated in ``y``. For
    ``g(z) = 3 + 1e-12 z`` against ``N(3, (2e-12)^2)`` the value is then
    about 1e-4 off and ``error`` is about 2e-3.

    NOTE: the rounding part of ``error`` treats the rounding of the two log
    densities as independent. For a model and a target of scale ``1e-200``
    or ``1e200`` both are near 460 in magnitude and their rounding mostly
    cancels, so ``error`` (about 4e-12) is 200 to 3000 times the actual
    error.

    Examples
    --------
    >>> import math
    >>> from isobounds.measures import GaussianMixture
    >>> from isobounds.pushforward import PiecewiseLinearMap, kl_divergence
    >>> g = PiecewiseLinearMap([0.0], [0.0], 1.0, 1.0)  # identity: g#N(0, 1) = N(0, 1)
    >>> result = kl_divergence(g, GaussianMixture([1.0], [0.0], [2.0]))
    >>> exact = math.log(2.0) + 1.0 / 8.0 - 0.5  # KL(N(0, 1) || N(0, 4))
    >>> abs(result.value - exact) < 1e-12, result.error < 1e-10
    (True, True)
    """
    rtol = _check_rtol(rtol)
    model = _as_model(model)
    _check_target(target, required=("pdf",))
    if model.atoms:
        return DistanceResult(math.inf, 0.0)
    segments = _Segments(model, _extra_edges(target, breaks), _target_width(target))
    integrand = _kl_integrand(segments, target)

    if _misses_target(segments, target):
        return DistanceResult(math.inf, 0.0)

    lo, hi = segments.clip_to_cuts(segments.edges[:-1], segments.edges[1:])
    lumps = segments.lumps()
    lump_value, lump_error = _kl_lumps(segments, target, lo[lumps], hi[lumps], np.flatnonzero(lumps), rtol)
    # The lumps are integrated in the latent variable, so the y quadrature skips them.
    hi = np.where(lumps, lo, hi)
    seg = np.arange(segments.count, dtype=float)
    integrals, errors = _integrate(integrand, lo, hi, seg, rtol, segments.layer_widths(seg))
    if not (np.isfinite(integrals).all() and math.isfinite(lump_value)):
        return DistanceResult(math.inf, 0.0)
    error = float(np.sum(errors)) + _rounding_floor(segments, target, lo, hi, seg, integrand) + _kl_tail_bound(segments, target)
    return DistanceResult(max(float(np.sum(integrals)) + lump_value, 0.0), error + lump_error)


def _misses_target(segments, target):
    r"""Return whether the model has a positive float64 density at a point of a 16-point grid per segment where the target's is 0.

    The test compares log densities, not the integrand: the product
    :math:`p_\rho \log(p_\rho / p_\nu)` overflows to ``inf`` where a
    model term narrower than about ``1e-306`` has a density near the float64
    limit, although the divergence is finite there.
    """
    for y, seg in segments.grid(16):
        log_model = segments.logpdf(y, seg.astype(int))
        with np.errstate(invalid="ignore", over="ignore"):
            log_target = _target_logpdf(target, y)
            positive = np.exp(log_model) > 0
        # Where the model density underflows, its mass is below float64 reach (a target pdf that underflowed there is no miss).
        if np.any(positive & ~(log_target > -np.inf)):
            return True
    return False


def _kl_lumps(segments, target, lo, hi, rows, rtol):
    r"""Return ``(value, error)`` of :math:`\int p_\rho \log(p_\rho / p_\nu)` over the lumps ``[lo, hi]`` of segments ``rows``.

    Each Gaussian term ``k`` of a lump is integrated over the latent
    interval that its piece maps onto the lump, in the standardized latent
    variable :math:`u = z / s`:
    :math:`\int \varphi(u)\,(\log p_\rho(y) - \log p_\nu(y))\,du`
    with :math:`y = v_k + s_k (s u - t_k)`. The ends of that interval are
    the exact preimages of the float64 lump ends (mpmath), clipped to
    :math:`|u| \le 40`, beyond which :math:`\varphi(u)` is below the
    float64 range. Every term of :math:`p_\rho` is computed from ``u``
    itself: the latent point of term ``j`` is the affine function
    :math:`u_j = \alpha_{jk} + \beta_{jk} u` with
    :math:`\beta_{jk} = s_k / s_j` and
    :math:`\alpha_{jk} = (t_j + (v_k - s_k t_k - v_j) / s_j) / s`, both
    formed in mpmath and rounded once. So two terms far narrower than a
    float64 spacing of ``y`` (a latent scale of ``1e-200``) keep their
    relative position. :math:`p_\nu` is evaluated at the float64 ``y``.

    The error adds three parts: the quadrature error, 16 float64 epsilons
    of the integral of the absolute integrand, and the lump's latent mass
    times the change of :math:`\log p_\nu` between the lump's ends. The
    last part estimates what evaluating the target at float64 ``y`` can
    miss.
    """
    if rows.size == 0:
        return 0.0, 0.0
    lump_index, slots = np.nonzero(np.isfinite(segments.log_norm[rows]))
    seg = rows[lump_index]
    t, v, slope = segments.t[seg, slots], segments.v[seg, slots], segments.slope[seg, slots]
    scale = segments.scale
    width = segments.log_norm.shape[1]
    u_lo, u_hi = np.empty(seg.size), np.empty(seg.size)
    alpha, beta = np.zeros((seg.size, width)), np.ones((seg.size, width))
    with mpmath.workdps(40):
        s_mp = mpmath.mpf(scale)
        for i in range(seg.size):
            t_k, v_k, s_k = (mpmath.mpf(float(x)) for x in (t[i], v[i], slope[i]))
            ends = sorted((t_k + (mpmath.mpf(float(y)) - v_k) / s_k) / s_mp for y in (lo[lump_index[i]], hi[lump_index[i]]))
            u_lo[i], u_hi[i] = (float(min(max(x, -_LUMP_LATENT_REACH), _LUMP_LATENT_REACH)) for x in ends)
            centre = v_k - s_k * t_k
            for j in np.flatnonzero(np.isfinite(segments.log_norm[seg[i]])):
                t_j, v_j, s_j = (mpmath.mpf(float(x)) for x in (segments.t[seg[i], j], segments.v[seg[i], j], segments.slope[seg[i], j]))
                alpha[i, j] = float((t_j + (centre - v_j) / s_j) / s_mp)
                beta[i, j] = float(s_k / s_j)
            alpha[i, slots[i]], beta[i, slots[i]] = 0.0, 1.0

    def integrand_block(u, term):
        term = term.astype(int)
        with np.errstate(over="ignore", invalid="ignore"):
            y = v[term] + slope[term] * (scale * u - t[term])
            others = alpha[term] + beta[term] * u[..., None]
            terms = segments.log_norm[seg[term]] - 0.5 * others * others
            density = np.exp(-0.5 * u * u - _LOG_SQRT_2PI)
            values = density * (_logsumexp(terms) - _target_logpdf(target, y))
        return np.where(density > 0, values, 0.0)

    def integrand(u, term):
        return _map_blocks(integrand_block, width, u, np.broadcast_to(term, u.shape))

    index = np.arange(seg.size, dtype=float)
    integrals, errors = _integrate(integrand, u_lo, u_hi, index, rtol)
    with np.errstate(divide="ignore", invalid="ignore"):
        ends = _target_logpdf(target, np.stack([lo[lump_index], hi[lump_index]]))
        mass = ndtr(u_hi) - ndtr(u_lo)
        spread = np.nan_to_num(np.abs(ends[1] - ends[0]) * mass, nan=0.0)
    absolute = _rough_integrals(lambda u, term: np.abs(integrand(u, term)), u_lo, u_hi, index)
    value = float(np.sum(integrals))
    error = float(np.sum(errors) + np.sum(spread) + 16 * np.finfo(float).eps * np.sum(absolute))
    return value, error


# Latent reach of the lump integrals, in latent standard deviations: the
# Gaussian density is below the smallest float64 number beyond it.
_LUMP_LATENT_REACH = 40.0


def _kl_integrand(segments, target):
    r"""Return the :class:`_Integrand` ``f(y, seg) = p_rho(y) (log p_rho(y) - log p_nu(y))``, 0 where ``p_rho`` underflows.

    Its rounding noise:
    :math:`8 \varepsilon\, p \left[(2 + |\log p|)\,|\log p - \log q| + 1 + |\log p| + |\log q|\right]`.
    The first part is the relative error :math:`\varepsilon (1 + |\log p|)`
    of a density computed as the exponential of its logarithm, and the
    rounding of the product, times the log ratio. The second is the
    rounding of the two logarithms and of their difference. The log ratio
    is taken as computed, not bounded by :math:`|\log p| + |\log q|`: for
    a model and a target of scale ``1e-200`` both logarithms are near 460
    while their difference is of order 1, and that bound made the error
    estimate of :func:`kl_divergence` about 5e4 times the actual error.
    """
    eps = np.finfo(float).eps

    def parts(y, seg):
        log_model = segments.logpdf(y, seg.astype(int))
        log_target = _target_logpdf(target, y)
        density = np.exp(log_model)
        with np.errstate(invalid="ignore", over="ignore"):
            log_ratio = log_model - log_target
            values = density * log_ratio
            # fmin takes the bound |log p| + |log q| where the difference is NaN (inf - inf).
            ratio_size = np.fmin(np.abs(log_ratio), np.abs(log_model) + np.abs(log_target))
            noise = 8 * eps * density * ((2 + np.abs(log_model)) * ratio_size + 1 + np.abs(log_model) + np.abs(log_target))

        # Where the model density underflows, its contribution is below
        # 1e-308 times the log ratio, and a target pdf that underflowed to
        # 0 there would otherwise give 0 * inf.
        underflow = density == 0
        return np.where(underflow, 0.0, values), np.where(underflow, 0.0, noise)

    return _Integrand(parts)


class _Integrand:
    """An integrand ``f(y, seg)`` with a pointwise bound on the rounding noise of its float64 values.

    ``parts(y, seg)`` returns ``(values, noise)``. Calling the object returns
    the values alone, as ``scipy.integrate.tanhsinh`` expects. The adaptive
    Gauss-Kronrod rule accepts a panel whose error estimate is below the
    integral of the noise, because bisection cannot reduce rounding.
    """

    def __init__(self, parts):
        self.parts = parts

    def __call__(self, y, seg):
        return self.parts(y, seg)[0]


# ----------------------------------------------------------------------
# Quadrature: tanh-sinh checked by Gauss-Kronrod, quad as referee.
# ----------------------------------------------------------------------

def _integrate(integrand, lo, hi, seg, rtol, widths=None):
    """Integrate ``integrand(y, seg)`` over each finite ``[lo[i], hi[i]]``; return (integrals, errors).

    All intervals go through ``scipy.integrate.tanhsinh`` (value ``T``,
    estimate ``e``) and through :func:`_gauss_kronrod` (value
    ``K``, rounding noise ``n``) at once. Where both converge the result is
    ``K`` with error ``e + |T - K| + n``. This bounds the error of ``K`` if
    ``T`` is right to ``e``, and overestimates it if ``K`` is right; ``n``
    covers the panels that ``K`` accepted because rounding limits them. ``K`` is preferred because tanh-sinh's estimate is
    the less reliable one. On half-lines scipy 1.17's tanh-sinh stopped at
    level 3, 3e-7 off with an estimate of 3e-13. On a finite interval with a
    layer 3e-5 of its length wide at one end, it was 9e-11 off with an
    estimate of 2e-14, where the graded Gauss-Kronrod rule matched mpmath.

    Tanh-sinh counts here when its value and estimate are finite, even if
    it stopped at its last level before meeting ``rtol``. The rounding noise
    of the integrand can keep it from converging, and its estimate then
    still measures the difference of its last two levels. An interval where
    the Gauss-Kronrod rule did not converge, or where tanh-sinh gave nothing
    finite, is integrated again alone by ``scipy.integrate.quad``. Its error
    then also covers the distance from quad's value to every finite result
    of the other two rules, converged or not (see :func:`_referee`), so that
    a feature that only one rule resolved shows in the error.

    Raises
    ------
    ValueError
        If an interval end is infinite: tanh-sinh's change of variable on a
        half-line can report convergence long before it is reached.
    """
    if not (np.isfinite(lo).all() and np.isfinite(hi).all()):
        raise ValueError("_integrate needs finite intervals; cut the unbounded segments first")
    lo, hi, seg = (np.asarray(x, dtype=float) for x in (lo, hi, seg))
    empty = ~(hi > lo)
    if empty.any():
        # An interval of length 0 (a lump, or a segment beyond a tail cut) is
        # not evaluated: at a lump the model density can exceed the float64 range.
        integrals, errors = np.zeros(lo.shape), np.zeros(lo.shape)
        keep = ~empty
        if keep.any():
            kept_widths = None if widths is None else np.asarray(widths)[keep]
            integrals[keep], errors[keep] = _integrate(integrand, lo[keep], hi[keep], seg[keep], rtol, kept_widths)
        return integrals, errors
    result = tanhsinh(integrand, lo, hi, args=(seg,), rtol=rtol, atol=_ABSOLUTE_FLOOR)
    tanh_sinh = np.array(result.integral, dtype=float)
    estimate = np.array(result.error, dtype=float)
    tanh_sinh_ok = np.isfinite(estimate) & np.isfinite(tanh_sinh)
    kronrod, _, kronrod_ok, noise = _gauss_kronrod(integrand, lo, hi, seg, rtol, widths)
    kronrod_ok &= np.isfinite(kronrod)

    integrals = kronrod.copy()
    with np.errstate(invalid="ignore"):
        errors = estimate + np.abs(tanh_sinh - kronrod) + noise
    for i in np.flatnonzero(~(tanh_sinh_ok & kronrod_ok)):
        others = [value for value in (tanh_sinh[i], kronrod[i]) if np.isfinite(value)]
        integrals[i], errors[i] = _referee(integrand, lo[i], hi[i], seg[i], rtol, others)
    return integrals, errors


def _referee(integrand, lo, hi, seg, rtol, others):
    """Integrate one interval by ``scipy.integrate.quad``; return (value, error).

    The error is quad's estimate plus the largest distance from quad's value
    to ``others``, the finite results of the other rules, converged or not.
    """
    def scalar(y):
        return float(integrand(np.array([y]), np.array([seg]))[0])

    # quad's warning that it missed its tolerance is redundant, because its
    # error estimate, which is returned, reports the same.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IntegrationWarning)
        value, error = quad(scalar, lo, hi, epsrel=max(rtol, 1e-10), epsabs=0.0, limit=200)
    return value, error + max([0.0, *(abs(value - other) for other in others)])


def _gauss_kronrod(integrand, lo, hi, seg, rtol, widths=None):
    r"""Integrate every interval at once by an adaptive Gauss-Kronrod (7, 15) rule.

    Each interval starts as 8 panels graded towards both ends, at relative
    positions 0, 1e-6, 1e-4, 1e-2, 0.5, 1 - 1e-2, 1 - 1e-4, 1 - 1e-6 and 1,
    with the outermost panels cut again at ``widths`` when those are
    narrower (:func:`_graded_panels`).
    A layer at an interval end can be far narrower than the distance from
    the end to the outermost node of a single panel, and then no node of
    either rule would sample it. Such layers are a narrow target component
    centred at the end, or the turn of ``log p_nu`` at a switch of its
    leading component. Each panel ``[a, b]`` gets the 15-point Kronrod sum
    ``K`` and the 7-point Gauss sum ``G`` of the same evaluations. It is
    accepted when :math:`|K - G|` is at most the largest of

    - :math:`\mathrm{rtol} \int_a^b |f|`;
    - ``rtol`` times the panel's share of the interval times the current
      estimate of :math:`\int |f|` over the whole interval, so that the
      accepted errors add up to at most ``rtol`` times that integral;
    - the integral of the rounding noise of the values
      (:func:`_panel_sums`), which bisection cannot reduce;
    - ``1e-290`` times the panel's share of the interval,

    and bisected otherwise, for at most ``_KRONROD_ROUNDS`` rounds.
    ``|K - G|`` estimates the error of ``G``, so ``K`` is typically far
    more accurate than required. An interval stops unconverged once it has
    more than ``_KRONROD_PANELS_PER_INTERVAL`` active panels, or when all
    intervals together have more than ``_KRONROD_MAX_PANELS`` (or 64 per
    interval), the intervals with the most panels first.

    Returns
    -------
    integrals, magnitudes : numpy.ndarray
        Sums of ``K`` and of the Kronrod sums of ``|f|`` over the panels.
        For an unconverged interval, the accepted panels plus ``K`` of the
        panels left unaccepted: an estimate of unknown accuracy.
    converged : numpy.ndarray of bool
        False for an interval with a panel left unaccepted.
    noises : numpy.ndarray
        Sums of the noise integrals of the panels: an estimate of what rounding
        alone, the node positions included, can change in ``integrals``.
    """
    lo, hi, seg = (np.asarray(x, dtype=float) for x in (lo, hi, seg))
    integrals = np.zeros(lo.shape)
    magnitudes = np.zeros(lo.shape)
    noises = np.zeros(lo.shape)
    converged = np.ones(lo.shape, dtype=bool)
    length = hi - lo
    a, b, owner = _graded_panels(lo, hi, widths)
    for _ in range(_KRONROD_ROUNDS):
        if owner.size == 0:
            break
        kronrod, gauss, absolute, noise = _panel_sums(integrand, a, b, seg[owner])
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(length[owner] > 0, (b - a) / length[owner], 1.0)
        whole = magnitudes + np.bincount(owner, weights=np.nan_to_num(absolute), minlength=lo.size)
        allowed = np.maximum(rtol * np.maximum(absolute, share * whole[owner]), noise)
        accept = np.abs(kronrod - gauss) <= np.maximum(allowed, _ABSOLUTE_FLOOR * share)
        np.add.at(integrals, owner[accept], kronrod[accept])
        np.add.at(magnitudes, owner[accept], absolute[accept])
        np.add.at(noises, owner[accept], noise[accept])

        stop = _over_budget(owner[~accept], lo.size)
        if stop.any():
            dropped = ~accept & stop[owner]
            np.add.at(integrals, owner[dropped], kronrod[dropped])
            converged[stop] = False
            accept |= dropped
        middle = 0.5 * (a + b)
        split = ~accept
        a = np.concatenate([a[split], middle[split]])
        b = np.concatenate([middle[split], b[split]])
        owner = np.concatenate([owner[split], owner[split]])
    if owner.size:
        # The last round's panels left unaccepted: their Kronrod sums stand in.
        kronrod, _, _, _ = _panel_sums(integrand, a, b, seg[owner])
        np.add.at(integrals, owner, kronrod)
        converged[owner] = False
    return integrals, magnitudes, converged, noises


def _over_budget(owner, count):
    """Return a mask of the intervals to stop, given the ``owner`` of each panel to be bisected (2 panels each next round).

    The intervals over ``_KRONROD_PANELS_PER_INTERVAL`` panels, then, while
    the total is over ``max(_KRONROD_MAX_PANELS, 64 * count)``, the
    intervals with the most panels.
    """
    panels = 2 * np.bincount(owner, minlength=count)
    stop = panels > _KRONROD_PANELS_PER_INTERVAL
    remaining = np.where(stop, 0, panels)
    limit = max(_KRONROD_MAX_PANELS, 64 * count)
    if remaining.sum() > limit:
        order = np.argsort(-remaining, kind="stable")
        excess = np.cumsum(remaining[order]) - (remaining.sum() - limit)
        stop[order[: int(np.searchsorted(excess, 0, side="left")) + 1]] = True
    return stop


def _graded_panels(lo, hi, widths=None):
    """Return the initial panels ``(a, b, owner)``: each interval cut at the relative positions ``_GRADED_CUTS``.

    Where ``widths`` (the narrowest layer that may sit at each end) is
    below ``1e-6 / 16`` of an interval's length, its two outermost panels
    are cut again at ``1, 4`` and ``16`` widths from the end. Otherwise the
    outermost nodes of those panels, ``4e-9`` lengths from the ends, could
    all lie beyond such a layer and see none of it.
    """
    cuts = lo[:, None] + (hi - lo)[:, None] * _GRADED_CUTS
    cuts[:, -1] = hi
    a, b = cuts[:, :-1], cuts[:, 1:]
    owner = np.broadcast_to(np.arange(lo.size)[:, None], a.shape)
    if widths is None:
        return a.ravel(), b.ravel(), owner.ravel()

    with np.errstate(divide="ignore", invalid="ignore"):
        fine = np.asarray(widths) * _END_LAYER_CUTS[-1] < _GRADED_CUTS[1] * (hi - lo)
    keep = np.ones(a.shape, dtype=bool)
    keep[fine, 0] = keep[fine, -1] = False
    offsets = np.asarray(widths)[fine, None] * _END_LAYER_CUTS
    left = np.concatenate([lo[fine, None], lo[fine, None] + offsets, cuts[fine, 1:2]], axis=1)
    right = np.concatenate([cuts[fine, -2:-1], hi[fine, None] - offsets[:, ::-1], hi[fine, None]], axis=1)
    extra_owner = np.broadcast_to(np.flatnonzero(fine)[:, None], offsets.shape[:1] + (_END_LAYER_CUTS.size + 1,))
    a = np.concatenate([a[keep], left[:, :-1].ravel(), right[:, :-1].ravel()])
    b = np.concatenate([b[keep], left[:, 1:].ravel(), right[:, 1:].ravel()])
    owner = np.concatenate([owner[keep], extra_owner.ravel(), extra_owner.ravel()])
    return a, b, owner


def _panel_sums(integrand, a, b, seg):
    r"""Return the Kronrod and Gauss sums of ``integrand`` on panels ``[a, b]``, and the Kronrod sums of its absolute value, and its noise.

    The noise estimates what rounding alone can change in ``K`` and in
    ``|K - G|``: the Kronrod sum of the pointwise noise of an
    :class:`_Integrand` (0 for another integrand) plus the effect of the
    float64 nodes, each off by up to an ulp from its exact position:
    :math:`2\,\mathrm{ulp}(y)\,|f'(y)|`, with :math:`|f'|` estimated by the
    larger of the difference quotients to the neighbouring nodes. On a
    piece of slope near 0 this term dominates: one ulp of ``y`` moves the
    latent point by many of its own ulps.
    """
    half = 0.5 * (b - a)
    y = 0.5 * (a + b)[:, None] + half[:, None] * _NODES_15
    seg = np.broadcast_to(seg[:, None], y.shape)
    if isinstance(integrand, _Integrand):
        values, noise = integrand.parts(y, seg)
    else:
        values, noise = integrand(y, seg), np.zeros(y.shape)
    noise = noise + 2 * np.spacing(np.abs(y)) * _node_derivatives(values, y)
    kronrod = half * (values @ _KRONROD_15)
    gauss = half * (values @ _GAUSS_7)
    return kronrod, gauss, half * (np.abs(values) @ _KRONROD_15), half * (noise @ _KRONROD_15)


def _node_derivatives(values, y):
    """Return estimates of ``|f'|`` at the nodes ``y`` (rows increasing): the larger difference quotient to a neighbour."""
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        quotients = np.abs(np.diff(values, axis=-1)) / np.diff(y, axis=-1)
    quotients = np.nan_to_num(quotients, nan=0.0, posinf=0.0)
    return np.maximum(np.pad(quotients, ((0, 0), (1, 0))), np.pad(quotients, ((0, 0), (0, 1))))


# ----------------------------------------------------------------------
# Beyond the cuts.
# ----------------------------------------------------------------------

def _gaussian_tail_moments():
    r"""Return :math:`(\int_Z^\infty \varphi,\ \int_Z^\infty u^2 \varphi)` for ``Z = _TAIL_SIGMAS``.

    Closed forms: :math:`\Phi(-Z)` and :math:`Z \varphi(Z) + \Phi(-Z)`.
    """
    z = _TAIL_SIGMAS
    upper = float(ndtr(-z))
    density = math.exp(-0.5 * z * z - _LOG_SQRT_2PI)
    return upper, z * density + upper


def _model_tail_mass(segments):
    """Return an upper bound on the model mass beyond the cuts: ``Phi(-Z)`` per Gaussian term on the unbounded segments."""
    t, _, _ = segments.tail_terms()
    return t.size * _gaussian_tail_moments()[0]


def _kl_tail_bound(segments, target):
    r"""Return an upper bound on :math:`\int p_\rho |\log p_\rho - \log p_\nu|` beyond the cuts.

    Term ``j`` of the model density on an unbounded segment is
    :math:`\varphi(u)/\tau_j` in :math:`u = z/s`, with
    :math:`\tau_j = s |s_j|`, centre :math:`c_j = v_j - s_j t_j` (the image
    of ``z = 0`` by its line) and :math:`|u| \ge Z` beyond the cut. There
    :math:`|\log p_\rho| \le u^2/2 + |\log(\tau_j \sqrt{2\pi})| + \max(0, \log \bar p)`
    with :math:`\bar p = \varphi(Z) \sum_j 1/\tau_j` the largest density
    beyond the cuts, and :math:`|\log p_\nu(y)| \le a + (y/w)^2` with
    :math:`y^2 \le 2 c_j^2 + 2 \tau_j^2 u^2` (:func:`_log_target_envelope`).
    Integrating against :math:`\varphi(u)` over :math:`u \ge Z` gives
    ``A_j I0 + B_j I2`` with the moments of :func:`_gaussian_tail_moments`.

    The ratios :math:`c_j / w` and :math:`\tau_j / w` and the logarithms are
    formed without squaring or inverting ``tau`` and ``w`` alone, which
    overflow for slopes and target widths near ``1e-200`` or ``1e200``.
    """
    t, v, slope = segments.tail_terms()
    if t.size == 0:
        return 0.0
    log_tau = math.log(segments.scale) + np.log(np.abs(slope))
    mass, second = _gaussian_tail_moments()
    log_peak = -0.5 * _TAIL_SIGMAS**2 - _LOG_SQRT_2PI + float(_logsumexp(-log_tau))
    a, width = _log_target_envelope(target, segments)
    with np.errstate(over="ignore", invalid="ignore"):
        centre = v - slope * t
        centre_ratio = np.abs(centre) / width
        tau_ratio = np.exp(log_tau - math.log(width)) if math.isfinite(width) else np.zeros(t.shape)
        constant = np.abs(log_tau + _LOG_SQRT_2PI) + max(0.0, log_peak) + a + 2.0 * centre_ratio**2
        quadratic = 0.5 + 2.0 * tau_ratio**2
        bound = float(np.sum(constant * mass + quadratic * second))
    return bound if math.isfinite(bound) else math.inf


def _log_target_envelope(target, segments):
    r"""Return ``(a, w)`` with :math:`|\log p_\nu(y)| \le a + (y / w)^2` beyond the cuts (``w = inf``: no quadratic part).

    For a 1-D Gaussian mixture (``weights_array``, ``means_array``,
    ``sigmas_array``), everywhere: :math:`\log p_\nu \le U = \log \sum_k w_k / (\sigma_k \sqrt{2\pi})`,
    and the heaviest component ``k`` gives
    :math:`-\log p_\nu(y) \le -\log w_k + \log(\sigma_k \sqrt{2\pi}) + (y^2 + m_k^2)/\sigma_k^2`,
    so ``w = sigma_k``.

    Any other target: ``a = max |log p_nu|`` at the cuts of the unbounded
    segments that carry a Gaussian term of the model (the others bound no
    model mass), and ``w = max(|y|, 1) / sqrt(a)`` over them, the quadratic
    growth of a Gaussian tail. NOTE: an estimate, not a bound; ``inf``
    when the target density vanishes (or underflows) at such a cut.
    """
    envelope = _mixture_envelope(target)
    if envelope is not None:
        return envelope
    cuts = np.array(segments.tail_cuts())
    carries = np.array([segments.components(0)[0].size > 0, segments.components(segments.count - 1)[0].size > 0])
    y = cuts[carries]
    if y.size == 0:
        return 0.0, math.inf
    with np.errstate(divide="ignore", invalid="ignore"):
        size = np.abs(_target_logpdf(target, y))
    if not np.isfinite(size).all():
        return math.inf, math.inf
    a = float(np.max(size))
    if a == 0.0:
        return 0.0, math.inf
    return a, float(np.min(np.maximum(np.abs(y), 1.0) / math.sqrt(a)))


def _mixture_envelope(target):
    """Return the envelope ``(a, w)`` of :func:`_log_target_envelope` for a 1-D Gaussian mixture, or None for another target."""
    arrays = _mixture_arrays(target)
    if arrays is None:
        return None
    weights, means, sigmas = arrays
    with np.errstate(divide="ignore"):
        upper = float(_logsumexp(np.log(weights) - np.log(sigmas))) - _LOG_SQRT_2PI
    k = int(np.argmax(weights))
    lower = -math.log(weights[k]) + math.log(sigmas[k]) + _LOG_SQRT_2PI + (means[k] / sigmas[k]) ** 2
    return abs(upper) + abs(lower), float(sigmas[k])


# ----------------------------------------------------------------------
# The total variation by quadrature, and the rounding floor of KL.
# ----------------------------------------------------------------------

def _split_segments(segments, crossings):
    """Return the intervals between consecutive cuts, clipped to the tail cuts, and the segment of each."""
    lo, hi, probe = _split_points(segments, crossings)
    seg = segments.segment_of(probe).astype(float)
    lo, hi = segments.clip_to_cuts(lo, hi)
    return lo, hi, seg


def _tv_quadrature(segments, target, crossings, atom_mass, rtol):
    r"""Return :math:`\int (p_\rho - p_\nu)_+ + \text{atom mass}`, the total variation by quadrature, and its error.

    ``atom_mass`` also carries :math:`(\rho - \nu)_+` of each lump
    (:meth:`_Segments.lumps`), which the quadrature skips.

    The integrand :math:`(p_\rho - p_\nu)_+` is at most :math:`p_\rho`,
    whose features all lie at segment ends. A narrow feature of the target
    density that the quadrature steps over therefore changes the integral by
    at most the model mass over the feature, and only upwards. Integrated
    between the tail cuts by :func:`_integrate`; beyond them the integral
    lies between 0 and the model's tail mass (:func:`_model_tail_mass`).
    """
    lo, hi, seg = _split_segments(segments, crossings)
    # The lumps enter through atom_mass, with their exact masses.
    hi = np.where(segments.lumps()[seg.astype(int)], lo, hi)

    eps = np.finfo(float).eps

    def parts(y, seg):
        log_model = segments.logpdf(y, seg.astype(int))
        log_target = _target_logpdf(target, y)
        with np.errstate(over="ignore"):
            model, target_density = np.exp(log_model), np.exp(log_target)
        with np.errstate(invalid="ignore", over="ignore"):
            noise = 8 * eps * (model * (1 + np.abs(log_model)) + target_density * (1 + np.abs(log_target)))
        return np.maximum(model - target_density, 0.0), np.nan_to_num(noise, nan=0.0)

    integrals, errors = _integrate(_Integrand(parts), lo, hi, seg, rtol, segments.layer_widths(seg))
    tail = _model_tail_mass(segments)
    value = float(np.sum(integrals)) + atom_mass + 0.5 * tail
    error = float(np.sum(errors)) + 0.5 * tail + 4 * eps * value
    return value, error


def _rounding_floor(segments, target, lo, hi, seg, integrand):
    r"""Return the rounding error of the KL quadrature, to 1e-3 relative.

    Two sources, integrated together over the intervals ``[lo, hi]``:

    - the integrand subtracts two logarithms of float64 densities, each
      rounded to about ``eps`` times its magnitude:
      :math:`8\,\varepsilon \int p\,(|\log p| + |\log q|)`;
    - the quadrature nodes are float64 numbers, off by up to an ulp or so
      from the nodes of the rule. On a piece of slope :math:`s_k` near 0
      the density changes by a relative
      :math:`|z| \,\mathrm{ulp}(y) / (s^2 |s_k|)` per ulp of ``y``, so
      this dominates there:
      :math:`2 \int |f(y^+) - f(y)|` with :math:`y^+` the next float64
      after ``y`` and ``f = integrand``.

    A divergence cannot be computed more accurately than this in float64.
    """
    eps = np.finfo(float).eps

    def magnitude(y, seg):
        log_model = segments.logpdf(y, seg.astype(int))
        density = np.exp(log_model)
        with np.errstate(invalid="ignore"):
            logs = density * (np.abs(log_model) + np.abs(_target_logpdf(target, y)))
            nodes = np.abs(integrand(np.nextafter(y, np.inf), seg) - integrand(y, seg))
        return np.where(density > 0, 8 * eps * logs, 0.0) + 2 * nodes

    return float(np.sum(_rough_integrals(magnitude, lo, hi, seg)))


def _rough_integrals(integrand, lo, hi, seg):
    """Return integrals of a nonnegative integrand over finite intervals, to about 1e-3 relative, rounded up.

    For error terms, whose integrands carry rounding noise: tanh-sinh's
    value plus its error estimate after at most ``_ROUGH_MAXLEVEL`` levels,
    converged or not, and
    ``scipy.integrate.quad``'s value plus its estimate where tanh-sinh gives
    nothing finite.
    """
    result = tanhsinh(integrand, lo, hi, args=(seg,), rtol=1e-3, atol=_ABSOLUTE_FLOOR, maxlevel=_ROUGH_MAXLEVEL)
    values = np.abs(np.asarray(result.integral, dtype=float)) + np.abs(np.asarray(result.error, dtype=float))
    for i in np.flatnonzero(~np.isfinite(values)):
        def scalar(y, i=i):
            return float(integrand(np.array([y]), np.array([seg[i]]))[0])

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", IntegrationWarning)
            value, error = quad(scalar, lo[i], hi[i], epsrel=1e-3, limit=50)
        values[i] = abs(value) + error
    return values
