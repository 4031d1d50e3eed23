r"""Mixtures of uniform laws on disjoint intervals or balls.

The target of Salmona et al. (2022), Corollaries 5 and S11: a law carried
by disjoint closed pieces :math:`M_1, \dots, M_N` with masses :math:`w_i`,
here uniform on each piece, with the distances :math:`d(M_i, M_j)` that the
total variation bounds use.

Masses are exact at the working precision:

- one dimension: lengths of intersections with any set (all sets of R are
  unions of intervals);
- balls in R^d, half-spaces and slabs: a coordinate :math:`t` of the
  uniform law on the unit ball has density proportional to
  :math:`(1 - t^2)^{(d-1)/2}`. So the fraction of a ball of radius R on the
  side :math:`t \le h` of a hyperplane at signed distance :math:`h R` from
  its centre is :math:`I_{(1 + h)/2}(\frac{d+1}{2}, \frac{d+1}{2})`, the
  regularized incomplete beta function (``mpmath.betainc``).
- balls in R^d, balls, annuli and ball complements: the intersection of two
  balls is the union of two caps cut by their radical hyperplane.
"""

import math

import mpmath
import numpy as np

from .._validation import check_array, check_real, check_weights
from ..sets import Annulus, Ball, BallComplement, HalfSpace, Interval, Slab, as_intervals
from ._base import Measure, MixtureWeights, _check_sample_size, _construction_precision, _generator, _is_scalar, stable_difference

__all__ = ["DisconnectedSupport"]


def _interval_distance(p, q):
    return max(q.a - p.b, p.a - q.b, mpmath.mpf(0))


def _center_distance(c1, c2):
    return mpmath.sqrt(mpmath.fsum((a - b) ** 2 for a, b in zip(c1, c2)))


def _ball_below_fraction(d, h):
    """Fraction of a ball of R^d on the side ``<u, x - c> <= h R`` of a hyperplane, ``h`` in units of R."""
    if h <= -1:
        return mpmath.mpf(0)
    if h >= 1:
        return mpmath.mpf(1)
    beta = mpmath.mpf(d + 1) / 2
    if h <= 0:
        return mpmath.betainc(beta, beta, 0, (1 + h) / 2, regularized=True)
    return 1 - mpmath.betainc(beta, beta, 0, (1 - h) / 2, regularized=True)


def _ball_above_fraction(d, h):
    """Fraction of a ball beyond the hyperplane ``<u, x - c> = h R`` (the cap), from the small side."""
    return _ball_below_fraction(d, -h)


def _cap_fraction(d, height):
    """Fraction of a ball of R^d beyond a hyperplane that cuts off a cap of height ``height`` (in units of R).

    ``height`` lies in [0, 2]; a cap of height t is the part ``<u, x - c> >= (1 - t) R``.
    """
    if height <= 0:
        return mpmath.mpf(0)
    if height >= 2:
        return mpmath.mpf(1)
    beta = mpmath.mpf(d + 1) / 2
    if height <= 1:
        return mpmath.betainc(beta, beta, 0, height / 2, regularized=True)
    return 1 - mpmath.betainc(beta, beta, 0, 1 - height / 2, regularized=True)


def _lens_fraction(d, center, radius, other_center, other_radius):
    """Fraction of the ball (center, radius) inside the ball (other_center, other_radius)."""
    distance = _center_distance(center, other_center)
    if distance >= radius + other_radius:
        return mpmath.mpf(0)
    if distance + radius <= other_radius:
        return mpmath.mpf(1)
    if distance + other_radius <= radius:
        return (other_radius / radius) ** d

    # The radical hyperplane cuts the intersection into the cap of the first ball beyond it
    # and the cap of the second before it. With r, R the radii and D the distance, their
    # heights are (r + R - D)(R + D - r) / (2 D) and (r + R - D)(r + D - R) / (2 D). Each
    # factor is a difference of the inputs taken without cancellation, so a thin lens
    # between two nearly tangent balls keeps its digits: computing the heights as
    # r - (D^2 + r^2 - R^2) / (2 D) lost 10 of 40 digits for r + R - D = 1e-20.
    def recomputed_distance():
        return _center_distance(center, other_center)

    overlap = stable_difference(lambda: (radius + other_radius, recomputed_distance()))
    first_factor = stable_difference(lambda: (recomputed_distance(), radius - other_radius))
    second_factor = stable_difference(lambda: (recomputed_distance(), other_radius - radius))
    first_height = overlap * first_factor / (2 * distance * radius)
    second_height = overlap * second_factor / (2 * distance * other_radius)
    return _cap_fraction(d, first_height) + (other_radius / radius) ** d * _cap_fraction(d, second_height)


class DisconnectedSupport(Measure):
    r"""Mixture :math:`\sum_i w_i \, U(M_i)` of uniform laws on disjoint intervals or balls.

    Parameters
    ----------
    pieces : sequence of N >= 1 Interval (finite, positive length) or Ball (positive radius)
        The pieces :math:`M_i`, all of one dimension, pairwise at positive
        distance (closed pieces that touch are rejected). In one dimension
        balls are intervals and both kinds may be mixed.
    weights : sequence of N reals in [0, 1] summing to 1
        Mass :math:`w_i` of each piece.

    Notes
    -----
    :meth:`mass` is exact at the working precision for every set of
    :mod:`isobounds.sets`. In one dimension every set is a union of
    intervals. For balls in any dimension, the half-spaces, slabs, balls,
    annuli, ball complements, the empty set, the whole space and disjoint
    unions are all measured exactly, so no combination raises
    ``NotImplementedError``.

    References
    ----------
    A. Salmona, V. De Bortoli, J. Delon, A. Desolneux, "Can Push-forward
    Generative Models Fit Multimodal Distributions?", NeurIPS 2022,
    Corollaries 5 and S11.
    """

    def __init__(self, pieces, weights):
        pieces = tuple(pieces)
        if not pieces:
            raise ValueError("pieces must contain at least one Interval or Ball, got an empty sequence")
        if not isinstance(pieces[0], (Interval, Ball)) and _looks_like_pieces(weights):
            # GaussianMixture and tv_lower_bound_disconnected take the weights first; this class does not.
            raise TypeError(
                f"pieces must be Interval or Ball objects, got pieces={pieces!r}: the arguments look swapped, "
                "call DisconnectedSupport(pieces, weights)"
            )
        for i, piece in enumerate(pieces):
            _check_piece(i, piece)
        dims = {piece.dim for piece in pieces}
        if len(dims) > 1:
            raise ValueError(f"pieces must share one dimension, got dimensions {sorted(dims)}")
        with _construction_precision():
            weights = MixtureWeights(check_weights("weights", weights, normalize=False))
        if len(weights) != len(pieces):
            raise ValueError(f"weights has {len(weights)} entries but there are {len(pieces)} pieces")

        self._pieces = pieces
        self._weight_values = weights
        self._dim = pieces[0].dim
        self._intervals = tuple(as_intervals(p).intervals[0] for p in pieces) if self._dim == 1 else None
        self._check_disjoint()

    def _check_disjoint(self):
        with _construction_precision():
            for i in range(len(self._pieces)):
                for j in range(i + 1, len(self._pieces)):
                    if self._distance(i, j) <= 0:
                        raise ValueError(
                            "pieces must be pairwise disjoint and at positive distance, "
                            f"got pieces[{i}]={self._pieces[i]!r} and pieces[{j}]={self._pieces[j]!r}"
                        )

    def _distance(self, i, j):
        if self._dim == 1:
            return _interval_distance(self._intervals[i], self._intervals[j])
        p, q = self._pieces[i], self._pieces[j]
        return max(_center_distance(p.center, q.center) - p.radius - q.radius, mpmath.mpf(0))

    @property
    def dim(self):
        return self._dim

    @property
    def pieces(self):
        """The pieces as given, a tuple of Interval or Ball."""
        return self._pieces

    @property
    def weights(self):
        """Mass of each piece, a tuple of mpf summing to 1 at the current precision."""
        return self._weight_values.current()

    def __repr__(self):
        weights = ", ".join(mpmath.nstr(w, 12) for w in self.weights)
        return f"DisconnectedSupport([{', '.join(repr(p) for p in self._pieces)}], weights=[{weights}])"

    def pairwise_distances(self):
        """Return the N x N float64 array of distances ``d(M_i, M_j)`` (0 on the diagonal)."""
        n = len(self._pieces)
        distances = np.zeros((n, n))
        with _construction_precision():
            for i in range(n):
                for j in range(i + 1, n):
                    distances[i, j] = distances[j, i] = float(self._distance(i, j))
        return distances

    # -- masses ---------------------------------------------------------------

    def _mass_of(self, subset):
        if self._dim == 1:
            union = as_intervals(subset)
            return mpmath.fsum(
                w * mpmath.fsum(p.length for p in union.intersection(piece).intervals) / piece.length
                for w, piece in zip(self.weights, self._intervals)
            )
        fraction = self._fraction_function(subset)
        return mpmath.fsum(w * fraction(ball) for w, ball in zip(self.weights, self._pieces) if w != 0)

    def _fraction_function(self, subset):
        """Return the function giving the fraction of a piece (a ball) inside ``subset``."""
        d = self._dim
        if isinstance(subset, HalfSpace):
            return lambda ball: _ball_below_fraction(d, _signed_offset(subset.normal, subset.offset, ball))
        if isinstance(subset, Slab):
            return lambda ball: _slab_fraction(d, subset, ball)
        if isinstance(subset, Ball):
            return lambda ball: _lens_fraction(d, ball.center, ball.radius, subset.center, subset.radius)
        if isinstance(subset, BallComplement):
            return lambda ball: _outside_fraction(d, ball, subset)
        if isinstance(subset, Annulus):
            return lambda ball: _annulus_fraction(d, ball, subset)
        raise NotImplementedError(
            f"DisconnectedSupport cannot measure a {type(subset).__name__} in dimension {d}"
        )

    # -- densities and sampling ---------------------------------------------------

    def _volumes(self):
        if self._dim == 1:
            return np.array([float(p.length) for p in self._intervals])
        d = self._dim
        radii = np.array([float(p.radius) for p in self._pieces])
        return math.pi ** (d / 2) / math.gamma(d / 2 + 1) * radii**d

    def pdf(self, x):
        """Density ``sum_i w_i 1{x in M_i} / vol(M_i)`` in float64 (points along the last axis)."""
        inside = np.stack([piece.contains(x) for piece in self._pieces], axis=-1)
        weights = self._weight_values.as_float64()
        return (inside * (weights / self._volumes())).sum(axis=-1)

    def logpdf(self, x):
        """Log-density in float64, ``-inf`` outside the pieces."""
        with np.errstate(divide="ignore"):
            return np.log(self.pdf(x))

    def cdf(self, x):
        """Distribution function (one dimension): exact mpf for a scalar, float64 for an array."""
        if self._dim != 1:
            raise ValueError(f"cdf is defined for one-dimensional pieces, but these have dimension {self._dim}")
        if _is_scalar(x):
            t = check_real("x", x)
            # Interval(-inf, -inf) would be invalid. The mass below -inf is 0, as on the array path.
            return mpmath.mpf(0) if t == mpmath.ninf else self.mass(Interval(-mpmath.inf, t))
        a = np.array([float(p.a) for p in self._intervals])
        b = np.array([float(p.b) for p in self._intervals])
        weights = self._weight_values.as_float64()
        t = check_array("x", x, allow_inf=True)[..., None]
        return (weights * np.clip((t - a) / (b - a), 0.0, 1.0)).sum(axis=-1)

    def sample(self, n, rng=None):
        """Draw ``n`` samples (shape (n,) in one dimension, (n, dim) otherwise)."""
        n = _check_sample_size(n)
        rng = _generator(rng)
        weights = self._weight_values.as_float64()
        labels = rng.choice(len(weights), size=n, p=weights / weights.sum())
        if self._dim == 1:
            a = np.array([float(p.a) for p in self._intervals])
            b = np.array([float(p.b) for p in self._intervals])
            return a[labels] + (b - a)[labels] * rng.random(n)
        centers = np.array([[float(c) for c in p.center] for p in self._pieces])
        radii = np.array([float(p.radius) for p in self._pieces])
        directions = rng.standard_normal((n, self._dim))
        directions /= np.linalg.norm(directions, axis=1, keepdims=True)
        lengths = radii[labels] * rng.random(n) ** (1.0 / self._dim)
        return centers[labels] + lengths[:, None] * directions


def _looks_like_pieces(weights):
    """Return whether ``weights`` is a sequence of pieces, as when the two arguments are given swapped."""
    try:
        return len(weights) > 0 and all(isinstance(w, (Interval, Ball)) for w in weights)
    except TypeError:
        return False


def _check_piece(i, piece):
    if isinstance(piece, Interval):
        if not (mpmath.isfinite(piece.a) and mpmath.isfinite(piece.b)) or piece.a >= piece.b:
            raise ValueError(f"pieces[{i}] must be a bounded interval of positive length, got {piece!r}")
    elif isinstance(piece, Ball):
        if piece.radius <= 0:
            raise ValueError(f"pieces[{i}] must be a ball of positive radius, got {piece!r}")
    else:
        raise TypeError(f"pieces[{i}] must be an Interval or a Ball, got {piece!r}")


def _signed_offset(normal, offset, ball):
    """Offset of the hyperplane ``<u, x> = offset`` from the ball's centre, in units of its radius."""
    return (offset - mpmath.fsum(a * b for a, b in zip(normal, ball.center))) / ball.radius


def _slab_fraction(d, slab, ball):
    # The offsets are recomputed inside each evaluation, so that a thin slab gets its
    # width at the raised precision of stable_difference.
    def offsets():
        return _signed_offset(slab.normal, slab.lower, ball), _signed_offset(slab.normal, slab.upper, ball)

    def upper_side():
        lower, upper = offsets()
        return _ball_above_fraction(d, lower), _ball_above_fraction(d, upper)

    def lower_side():
        lower, upper = offsets()
        return _ball_below_fraction(d, upper), _ball_below_fraction(d, lower)

    terms = upper_side if offsets()[0] >= 0 else lower_side
    return max(stable_difference(terms), mpmath.mpf(0))


def _outside_fraction(d, ball, complement):
    inside = lambda: (mpmath.mpf(1), _lens_fraction(d, ball.center, ball.radius, complement.center, complement.radius))  # noqa: E731
    return max(stable_difference(inside), mpmath.mpf(0))


def _annulus_fraction(d, ball, annulus):
    def terms():
        outer = _lens_fraction(d, ball.center, ball.radius, annulus.center, annulus.outer)
        inner = _lens_fraction(d, ball.center, ball.radius, annulus.center, annulus.inner)
        return outer, inner

    return max(stable_difference(terms), mpmath.mpf(0))
