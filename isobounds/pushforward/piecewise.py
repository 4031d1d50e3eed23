r"""Continuous piecewise-linear maps R -> R and their exact construction from MLPs.

A :class:`PiecewiseLinearMap` is given by increasing knots ``t_0 < ... < t_{n-1}``,
the values ``v_i = g(t_i)``, and the slopes of the two unbounded pieces. Piece
``k`` (``k = 0..n``) is ``(t_{k-1}, t_k)`` with ``t_{-1} = -inf`` and
``t_n = +inf``; its slope is ``left_slope`` for ``k = 0``, ``right_slope`` for
``k = n`` and ``(v_k - v_{k-1}) / (t_k - t_{k-1})`` in between.

:meth:`PiecewiseLinearMap.from_mlp` converts a ReLU or LeakyReLU network with
one input and one output into this form without sampling. It carries, layer
by layer, the partition of R on which every unit is affine, and splits a
piece wherever a unit's pre-activation changes sign on it.

References
----------
A. Salmona, V. De Bortoli, J. Delon, A. Desolneux, "Can Push-forward
Generative Models Fit Multimodal Distributions?", NeurIPS 2022.
"""

import warnings
from collections.abc import Mapping

import mpmath
import numpy as np

from .._precision import GUARD_DIGITS, resolve_dps, workdps
from .._validation import check_array, is_tensor, tensor_to_numpy

__all__ = ["PiecewiseLinearMap", "SKIP_KINDS", "skip_wiring"]

SKIP_KINDS = (None, "plain", "resnet", "densenet")

_EPS = float(np.finfo(np.float64).eps)

# Breakpoints of from_mlp closer than this (relative to 1 + |x|) are merged:
# such pieces are below the float64 resolution of the unit pre-activations.
_MERGE_RTOL = 8 * _EPS


class PiecewiseLinearMap:
    r"""Continuous piecewise-linear map :math:`g : \mathbb{R} \to \mathbb{R}`.

    Parameters
    ----------
    knots : array_like, shape (n,), n >= 1
        Strictly increasing finite knots ``t_0 < ... < t_{n-1}``.
    values : array_like, shape (n,)
        Finite values ``g(t_i)``.
    left_slope, right_slope : float
        Finite slopes of ``g`` on ``(-inf, t_0]`` and ``[t_{n-1}, inf)``.

    Raises
    ------
    TypeError
        For a slope that is not one real number (a sequence, a string, a
        boolean) or knots and values that are not real arrays.
    ValueError
        For NaN or infinite entries, knots that are not strictly increasing,
        values of another shape than the knots, or values that give a piece
        between two knots a slope beyond the float64 range: above about
        1.8e308 in magnitude, or nonzero and below the smallest normal
        float64 number, 2.2e-308 (its float64 value would be rounded to 0 or
        lose most of its digits, so that :attr:`slopes` would call it flat).

    Notes
    -----
    The map is stored in float64. Its exact quantities (slopes, preimages,
    :meth:`lipschitz_constant`) are those of the real map defined by these
    float64 numbers, evaluated with mpmath: every float64 is a rational
    number, so nothing is rounded before the working precision.

    Examples
    --------
    >>> g = PiecewiseLinearMap([-1.0, 1.0], [-1.0, 1.0], 0.0, 0.0)  # clip to [-1, 1]
    >>> g([-3.0, 0.5, 2.0])
    array([-1. ,  0.5,  1. ])
    >>> float(g.lipschitz_constant())
    1.0
    """

    def __init__(self, knots, values, left_slope, right_slope):
        knots = check_array("knots", _as_real_array("knots", knots))
        values = check_array("values", _as_real_array("values", values))
        if knots.ndim != 1 or knots.size == 0:
            raise ValueError(f"knots must be a nonempty one-dimensional array, got shape {knots.shape}")
        if values.shape != knots.shape:
            raise ValueError(f"values must have the shape of knots {knots.shape}, got values of shape {values.shape}")
        with np.errstate(over="ignore"):
            gaps = np.diff(knots)  # inf for knots of both signs near 1e308, which is still > 0
        if (gaps <= 0).any():
            i = int(np.argmax(gaps <= 0))
            raise ValueError(f"knots must be strictly increasing, got knots[{i}]={knots[i]} >= knots[{i + 1}]={knots[i + 1]}")

        self._knots = knots.copy()
        self._values = values.copy()
        self._left_slope = _check_scalar("left_slope", left_slope)
        self._right_slope = _check_scalar("right_slope", right_slope)
        inner = _inner_slopes(knots, values)
        self._slopes = np.concatenate([[self._left_slope], inner, [self._right_slope]])
        for array in (self._knots, self._values, self._slopes):
            array.setflags(write=False)

    # ------------------------------------------------------------------
    # Description of the pieces.
    # ------------------------------------------------------------------

    @property
    def knots(self):
        """Knots ``t_0 < ... < t_{n-1}`` (read-only float64 array)."""
        return self._knots

    @property
    def values(self):
        """Values ``g(t_i)`` at the knots (read-only float64 array)."""
        return self._values

    @property
    def left_slope(self):
        """Slope on ``(-inf, t_0]``."""
        return self._left_slope

    @property
    def right_slope(self):
        """Slope on ``[t_{n-1}, inf)``."""
        return self._right_slope

    @property
    def slopes(self):
        """Float64 slopes of the ``n + 1`` pieces, from left to right."""
        return self._slopes

    @property
    def n_pieces(self):
        """Number of linear pieces, ``len(knots) + 1``."""
        return self._knots.size + 1

    def piece_bounds(self):
        """Return ``(lower, upper)`` float64 arrays of the piece ends, with ``-inf`` and ``inf`` at the ends."""
        lower = np.concatenate([[-np.inf], self._knots])
        upper = np.concatenate([self._knots, [np.inf]])
        return lower, upper

    def anchors(self):
        """Return ``(t, v)``: for each piece a knot of its closure and the value there.

        Piece ``k >= 1`` is anchored at its left knot ``t_{k-1}``, piece 0 at
        ``t_0``, so that ``g(x) = v_k + slope_k (x - t_k)`` on piece ``k``.
        """
        t = np.concatenate([self._knots[:1], self._knots])
        v = np.concatenate([self._values[:1], self._values])
        return t, v

    def __repr__(self):
        """Return the constructor call, with every float written to round-trip exactly.

        Maps of more than 1000 knots are summarized with ``...``, as numpy does.
        """
        knots, values = (_list_repr(a) for a in (self._knots, self._values))
        return f"PiecewiseLinearMap({knots}, {values}, {self._left_slope!r}, {self._right_slope!r})"

    # ------------------------------------------------------------------
    # Evaluation.
    # ------------------------------------------------------------------

    def __call__(self, x):
        """Evaluate ``g`` elementwise in float64; a scalar in returns a float."""
        array = check_array("x", x, allow_inf=True)
        piece = np.searchsorted(self._knots, array, side="right")
        t, v = self.anchors()
        slope = self._slopes[piece]
        # A flat piece is constant up to +-inf, where slope * (x - t) would be 0 * inf = NaN.
        with np.errstate(invalid="ignore"):
            result = v[piece] + np.where(slope == 0, 0.0, slope * (array - t[piece]))
        if np.ndim(x) == 0 and not isinstance(x, np.ndarray):
            return float(result)
        return result

    def exact_slopes(self, dps=None):
        """Return the slopes as a list of ``mpmath.mpf``, exact to the working precision.

        The inner slopes are the quotients ``(v_k - v_{k-1}) / (t_k - t_{k-1})``
        of the float64 knots and values, computed at ``dps + GUARD_DIGITS``
        digits and rounded to ``dps``.
        """
        dps = resolve_dps(dps)
        with workdps(dps + GUARD_DIGITS):
            slopes = self._exact_slopes_here()
        with workdps(dps):
            return [+s for s in slopes]

    def _exact_slopes_here(self):
        """Slopes as mpf at the current mpmath precision."""
        t = [mpmath.mpf(float(x)) for x in self._knots]
        v = [mpmath.mpf(float(y)) for y in self._values]
        inner = [(v[k] - v[k - 1]) / (t[k] - t[k - 1]) for k in range(1, len(t))]
        return [mpmath.mpf(self._left_slope), *inner, mpmath.mpf(self._right_slope)]

    def lipschitz_constant(self, dps=None):
        r"""Return the exact Lipschitz constant :math:`\max_k |s_k|` as ``mpmath.mpf``.

        A continuous piecewise-linear map of R is Lipschitz with the largest
        absolute slope of its pieces as best constant.
        """
        dps = resolve_dps(dps)
        slopes = self.exact_slopes(dps)
        with workdps(dps):
            return max(abs(s) for s in slopes)

    # ------------------------------------------------------------------
    # Push-forward and distances (see measure.py and distances.py).
    # ------------------------------------------------------------------

    def pushforward(self, scale=1):
        r"""Return the push-forward measure :math:`g \# N(0, \mathrm{scale}^2)`.

        Parameters
        ----------
        scale : positive real, default 1
            Standard deviation of the Gaussian latent variable.

        Returns
        -------
        isobounds.pushforward.PushforwardMeasure
        """
        from .measure import PushforwardMeasure

        return PushforwardMeasure(self, scale=scale)

    def tv_distance(self, target, **options):
        """Return the total variation distance between ``g#N(0,1)`` and ``target``.

        See :func:`isobounds.pushforward.tv_distance` for ``options``.
        """
        from .distances import tv_distance

        return tv_distance(self.pushforward(), target, **options)

    def kl_divergence(self, target, **options):
        """Return ``KL(g#N(0,1) || target)``.

        See :func:`isobounds.pushforward.kl_divergence` for ``options``.
        """
        from .distances import kl_divergence

        return kl_divergence(self.pushforward(), target, **options)

    # ------------------------------------------------------------------
    # Construction from a neural network.
    # ------------------------------------------------------------------

    @classmethod
    def from_mlp(cls, weights, biases, negative_slope=0.0, skip=None, *, inputs=None, adds=None):
        r"""Build the exact piecewise-linear map of a ReLU/LeakyReLU MLP with one input and one output.

        Parameters
        ----------
        weights : sequence of array_like
            ``W_1, ..., W_K``, each in the ``(out_features, in_features)``
            layout of ``torch.nn.Linear.weight``; ``W_1`` has one column and
            ``W_K`` one row. Numpy arrays, or anything that ``numpy.asarray``
            converts, such as detached CPU torch tensors. For a torch module,
            use ``isobounds_models.measure.piecewise_linear_from_module``.
        biases : sequence of array_like
            ``b_1, ..., b_K`` of shapes ``(out_features,)``.
        negative_slope : float, default 0
            Slope of the activation ``a(u) = max(u, 0) + negative_slope *
            min(u, 0)`` on negative inputs (0 for ReLU, 0.2 for the
            LeakyReLU(0.2) of Salmona et al., 2022). Any finite real number.
        skip : {None, "plain", "resnet", "densenet"}, default None
            Skip connections, wired as described in the Notes (None and
            "plain" are the same plain MLP). Ignored when ``inputs`` is given.
        inputs, adds : list of lists of int, optional
            Explicit wiring: for linear layer ``k`` (list index ``k - 1``),
            the features it reads and the features it adds. Pass the
            ``inputs`` and ``adds`` that describe a network feature by
            feature; ``adds`` defaults to no additions.

        Returns
        -------
        PiecewiseLinearMap

        Notes
        -----
        Features: ``f_0 = x`` is the input and ``f_k`` the output of linear
        layer ``k = 1..K``; ``a(f_0) = f_0`` (the input is not activated) and
        ``a(f_k)`` is the activation of ``f_k`` otherwise. Layer ``k`` computes

        .. math::

            f_k = W_k \,\mathrm{concat}(a(f_j),\ j \in \mathrm{inputs}_k) + b_k
                  + \sum_{j \in \mathrm{adds}_k} f_j,

        and the network returns ``f_K``. The wirings named by ``skip``:

        - plain: ``inputs_k = [k-1]``, no additions, i.e.
          ``x -> W_K a(... a(W_1 x + b_1) ...) + b_K``;
        - "resnet" (additive pre-activation skips): plain inputs, and each
          hidden layer ``2 <= k <= K-1`` whose input and output widths agree
          adds its input: ``f_k = f_{k-1} + W_k a(f_{k-1}) + b_k``;
        - "densenet" (concatenating pre-activation skips): ``inputs_k =
          [1, ..., k-1]`` for ``k >= 2`` (features concatenated in that
          order), so every layer, the last included, reads all earlier
          hidden features.

        Each feature is affine on every piece of the current partition of R.
        After layer ``k`` the zero crossings of each unit of ``f_k`` inside a
        piece are added as breakpoints (numpy, all units and pieces at once),
        and the activation's slope on each new piece is chosen from the sign
        of the unit at the piece's midpoint.

        Accuracy: float64 throughout. A new root closer than about
        ``2e-15 (1 + |x|)`` to an existing breakpoint or to another new root
        is merged into it, and the existing breakpoint is kept. The values at
        the knots carry the rounding of a forward pass (relative error of order
        ``K * 1e-16 * prod_k ||W_k||``), and the slope of a piece of width
        ``h`` carries an absolute error of order ``1e-16 |g| / h``, so the
        exact quantities of the returned map describe the network to that
        accuracy.
        """
        layers = _check_layers(weights, biases)
        slope = _check_scalar("negative_slope", negative_slope)
        if inputs is None:
            inputs, adds = skip_wiring([w.shape for w, _ in layers], skip)
        elif adds is None:
            adds = [[] for _ in layers]
        _check_wiring(layers, inputs, adds)
        breaks, gain, offset, magnitude = _propagate(layers, slope, inputs, adds)
        rounding = 2 * _EPS * sum(w.shape[1] + 1 + len(add) for (w, _), add in zip(layers, adds))
        return cls._from_partition(breaks, gain, offset, magnitude, rounding)

    @classmethod
    def _from_partition(cls, breaks, gain, offset, magnitude=None, rounding=0.0):
        """Build the map from breakpoints and the affine output ``gain x + offset`` on each piece.

        ``magnitude`` is ``(abs_gain, abs_offset)``: on each piece the output's
        forward pass sums terms of total size at most ``abs_gain |x| + abs_offset``,
        so it is rounded by at most ``rounding`` times that.
        """
        if breaks.size == 0:
            return cls([0.0], [offset[0]], gain[0], gain[0])

        if magnitude is not None:
            left = gain[:-1] * breaks + offset[:-1]
            right = gain[1:] * breaks + offset[1:]
            _warn_on_jumps(breaks, gain, left, right, *magnitude, rounding)

        # A piece with gain exactly 0 (every path through it passes a ReLU at
        # 0) is flat: it takes one value, so that its atom is kept. A run of
        # adjacent flat pieces takes the offset of its first piece.
        flat = gain == 0
        starts = np.where(flat & ~np.concatenate([[False], flat[:-1]]), np.arange(flat.size), 0)
        offset = np.where(flat, offset[np.maximum.accumulate(starts)], offset)
        left = gain[:-1] * breaks + offset[:-1]
        right = gain[1:] * breaks + offset[1:]

        # Value at a knot: the flat piece's offset next to a flat piece, and
        # otherwise the mean of the two adjacent affine pieces, which agree up
        # to rounding because the network is continuous.
        with np.errstate(over="ignore"):
            values = np.where(flat[:-1], left, np.where(flat[1:], right, 0.5 * (left + right)))
        if not np.isfinite(values).all():
            raise ValueError(
                "weights and biases must keep the network's values and slopes finite in float64, "
                f"but the output overflows at the knots (largest |knot| {np.abs(breaks).max():.6g}); rescale the weights"
            )
        try:
            return cls(breaks, values, gain[0], gain[-1])
        except ValueError as error:
            raise ValueError(
                "weights and biases must keep the network's slopes finite and, unless zero, normal in float64; "
                f"the network's pieces give: {error}"
            ) from None


# Smallest positive normal float64 number. A nonzero slope below it in
# magnitude is subnormal in float64: rounded to 0 (a flat piece for every
# float64 computation) or to a few significant bits.
_TINY = float(np.finfo(np.float64).tiny)


def _inner_slopes(knots, values):
    """Return the float64 slopes ``(v_k - v_{k-1}) / (t_k - t_{k-1})`` between consecutive knots.

    The float64 quotient of the float64 differences is within a few
    roundings of the exact slope, unless a difference overflows (knots or
    values of opposite signs near 1e308) or the quotient leaves the normal
    range. Those slopes are recomputed from the exact rationals with mpmath.
    An exact slope beyond the float64 range, or nonzero below the smallest
    normal number, raises ``ValueError``.
    """
    with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
        inner = np.diff(values) / np.diff(knots)
    # Equal values give an exact 0, so only a nonzero difference can leave a slope below the normal range.
    differ = values[1:] != values[:-1]
    suspect = np.flatnonzero(~np.isfinite(inner) | ((np.abs(inner) < _TINY) & differ))
    if suspect.size == 0:
        return inner
    inner = inner.copy()
    with workdps(30):
        for k in suspect:
            exact = (mpmath.mpf(float(values[k + 1])) - mpmath.mpf(float(values[k]))) / (
                mpmath.mpf(float(knots[k + 1])) - mpmath.mpf(float(knots[k]))
            )
            where = f"between knots[{k}]={float(knots[k])!r} and knots[{k + 1}]={float(knots[k + 1])!r}"
            if abs(exact) > np.finfo(np.float64).max:
                raise ValueError(
                    f"values must give finite float64 slopes between consecutive knots, got the slope {mpmath.nstr(exact, 6)} {where} "
                    f"(values[{k}]={float(values[k])!r}, values[{k + 1}]={float(values[k + 1])!r})"
                )
            if exact != 0 and abs(exact) < _TINY:
                raise ValueError(
                    f"values must give slopes of magnitude 0 or at least {_TINY!r} (the smallest normal float64) between "
                    f"consecutive knots, got the slope {mpmath.nstr(exact, 6)} {where} "
                    f"(values[{k}]={float(values[k])!r}, values[{k + 1}]={float(values[k + 1])!r}); make the piece flat or steeper"
                )
            inner[k] = float(exact)
    return inner


def _list_repr(array):
    """Return a 1-D float array as a Python list literal whose floats round-trip, summarized beyond 1000 entries."""
    if array.size <= 1000:
        return "[" + ", ".join(repr(float(x)) for x in array) + "]"
    return np.array2string(array, separator=", ", floatmode="unique", max_line_width=10**9)


def _check_scalar(name, x):
    """Return ``x`` as a float, or raise if it is not one finite real number.

    Accepts Python and numpy real scalars and 0-d arrays. None, booleans,
    strings, sequences and arrays of another shape raise ``TypeError``; NaN and
    infinities raise ``ValueError``.
    """
    expected = f"{name} must be a finite real number (a scalar)"
    if x is None or isinstance(x, (bool, np.bool_, str, bytes)):
        raise TypeError(f"{expected}, got {name}={x!r} of type {type(x).__name__}")
    if is_tensor(x):
        x = tensor_to_numpy(x)
        if x.dtype == np.bool_:
            raise TypeError(f"{expected}, got {name}={x!r} of type {type(x).__name__}")
    try:
        array = np.asarray(x, dtype=np.float64)
    except OverflowError:
        # A Python integer beyond the float64 range.
        raise ValueError(f"{expected}, got {name}={x!r}, beyond the float64 range") from None
    except (TypeError, ValueError):
        raise TypeError(f"{expected}, got {name}={x!r} of type {type(x).__name__}") from None
    if array.ndim != 0:
        raise TypeError(f"{expected}, got {name}={x!r} of shape {array.shape}")
    value = float(array)
    if not np.isfinite(value):
        raise ValueError(f"{expected}, got {name}={value}")
    return value


# ----------------------------------------------------------------------
# from_mlp helpers.
# ----------------------------------------------------------------------

def skip_wiring(shapes, skip):
    """Return ``(inputs, adds)`` of the named skip wiring for layers of the given weight shapes.

    ``shapes[k - 1]`` is the ``(out_features, in_features)`` shape of layer
    ``k``; see :meth:`PiecewiseLinearMap.from_mlp` for the wirings.
    """
    if skip not in SKIP_KINDS:
        raise ValueError(f"skip must be one of {SKIP_KINDS}, got skip={skip!r}")
    n_layers = len(shapes)
    inputs, adds = [], []
    for k in range(1, n_layers + 1):
        if skip == "densenet" and k >= 2:
            inputs.append(list(range(1, k)))
        else:
            inputs.append([k - 1])
        square = k >= 2 and shapes[k - 2][0] == shapes[k - 1][0]
        adds.append([k - 1] if skip == "resnet" and 2 <= k < n_layers and square else [])
    return inputs, adds


def _is_torch_module(x):
    """Return whether ``x`` is a ``torch.nn.Module``, without importing torch."""
    return any(cls.__name__ == "Module" and cls.__module__.startswith("torch.nn") for cls in type(x).__mro__)


def _check_layers(weights, biases):
    if _is_torch_module(weights):
        raise TypeError(
            f"weights must be a sequence of 2-D arrays, got the torch module {type(weights).__name__}. "
            "Convert a LeakyReLU MLP with isobounds_models.measure.piecewise_linear_from_module(module), "
            "or pass the layers' weights and biases as arrays (tensor.detach().numpy())"
        )
    for name, layers in (("weights", weights), ("biases", biases)):
        if isinstance(layers, (str, bytes, np.ndarray, Mapping)) or not hasattr(layers, "__len__"):
            kind = "2-D arrays" if name == "weights" else "1-D arrays"
            raise TypeError(f"{name} must be a sequence of {kind}, one per layer, got {name} of type {type(layers).__name__}")
    if len(biases) != len(weights):
        count = len(biases) if hasattr(biases, "__len__") else biases
        raise ValueError(f"biases must hold one array per weight matrix ({len(weights)}), got {count}")
    if len(weights) == 0:
        raise ValueError("weights must contain at least one layer, got an empty sequence")

    layers = []
    for k, (w, b) in enumerate(zip(weights, biases)):
        w = check_array(f"weights[{k}]", _as_real_array(f"weights[{k}]", w))
        b = check_array(f"biases[{k}]", _as_real_array(f"biases[{k}]", b))
        if w.ndim != 2:
            raise ValueError(f"weights[{k}] must be a 2-D (out_features, in_features) array, got shape {w.shape}")
        if b.shape != (w.shape[0],):
            raise ValueError(f"biases[{k}] must have shape ({w.shape[0]},) to match weights[{k}], got shape {b.shape}")
        layers.append((w, b))
    if layers[-1][0].shape[0] != 1:
        raise ValueError(f"the last layer must have one output, got weights[{len(layers) - 1}] of shape {layers[-1][0].shape}")
    return layers


def _as_real_array(name, x):
    """Return ``x`` as a numpy array of real numbers, or raise naming ``name``.

    A torch tensor is detached and moved to the CPU first, so a tensor that
    requires grad is accepted. Complex arrays raise ``TypeError`` and ragged
    nested sequences ``ValueError``.
    """
    if isinstance(x, (str, bytes)):
        raise TypeError(f"{name} must be an array of real numbers, got the string {name}={x!r}")
    if is_tensor(x):
        x = tensor_to_numpy(x)
    try:
        array = np.asarray(x)
    except ValueError as error:
        raise ValueError(f"{name} must be a rectangular array of real numbers, got a ragged nested sequence ({error})") from None
    except OverflowError:
        raise ValueError(f"{name} must contain finite real numbers, got an integer beyond the float64 range in {name}") from None
    if np.iscomplexobj(array):
        raise TypeError(f"{name} must be an array of real numbers, got complex entries of dtype {array.dtype}")
    return array


def _check_wiring(layers, inputs, adds):
    widths = [1] + [w.shape[0] for w, _ in layers]
    for name, wiring in (("inputs", inputs), ("adds", adds)):
        _check_feature_lists(name, wiring)
    if len(inputs) != len(layers) or len(adds) != len(layers):
        raise ValueError(f"inputs and adds must have one entry per layer ({len(layers)}), got {len(inputs)} and {len(adds)}")
    for k, (w, _) in enumerate(layers, start=1):
        read, add = [int(j) for j in inputs[k - 1]], [int(j) for j in adds[k - 1]]
        if not read:
            raise ValueError(f"inputs[{k - 1}] must list at least one feature, got inputs[{k - 1}]={read}")
        if any(not 0 <= j < k for j in read + add):
            raise ValueError(f"inputs[{k - 1}] and adds[{k - 1}] may only list features 0..{k - 1}, got {read} and {add}")
        in_width = sum(widths[j] for j in read)
        if w.shape[1] != in_width and k == 1 and read == [0]:
            raise ValueError(f"weights[0] must have shape (width, 1), because the network's input is one-dimensional "
                             f"here, got shape {w.shape}; a network from R^p needs a ridge form z -> h(<w, z>) (RidgeMap)")
        if w.shape[1] != in_width:
            raise ValueError(f"weights[{k - 1}] must have {in_width} input features, the total width of the features "
                             f"it reads (inputs[{k - 1}]={read}), got shape {w.shape}")
        for j in add:
            if widths[j] != w.shape[0]:
                raise ValueError(f"adds[{k - 1}] lists feature {j} of width {widths[j]}, which differs from the layer width {w.shape[0]}")


def _check_feature_lists(name, wiring):
    """Raise TypeError unless ``wiring`` is a sequence of sequences of integer feature indices."""
    if isinstance(wiring, (str, bytes, Mapping)) or not hasattr(wiring, "__len__"):
        raise TypeError(f"{name} must be a list with one list of feature indices per layer, got {name}={wiring!r}")
    for k, entry in enumerate(wiring):
        if isinstance(entry, (str, bytes, Mapping)) or not hasattr(entry, "__len__"):
            raise TypeError(f"{name}[{k}] must be a list of integer feature indices, got {name}[{k}]={entry!r}")
        for j in entry:
            if isinstance(j, (bool, np.bool_)) or not isinstance(j, (int, np.integer)):
                raise TypeError(f"{name}[{k}] must contain integer feature indices, got {j!r} in {name}[{k}]={entry!r}")


def _propagate(layers, negative_slope, inputs, adds):
    """Propagate affine pieces through the network.

    Returns ``(breaks, gain, offset, (abs_gain, abs_offset))`` of the output.
    Each feature ``j`` is kept as four arrays ``A_j, C_j, |A|_j, |C|_j`` of
    shape ``(n_pieces, width_j)``: on piece ``i`` it equals
    ``A_j[i] x + C_j[i]``, and ``|A|_j[i] |x| + |C|_j[i]`` bounds the terms
    that its forward pass sums (the same layers with absolute weights).
    """
    breaks = np.empty(0)
    features = [(np.ones((1, 1)), np.zeros((1, 1)), np.ones((1, 1)), np.zeros((1, 1)))]
    activated = [features[0]]

    for k, (w, b) in enumerate(layers, start=1):
        read = [np.concatenate([activated[j][i] for j in inputs[k - 1]], axis=1) for i in range(4)]
        with np.errstate(over="ignore", invalid="ignore"):
            feature = [read[0] @ w.T, read[1] @ w.T + b, read[2] @ np.abs(w).T, read[3] @ np.abs(w).T + np.abs(b)]
            for j in adds[k - 1]:
                feature = [x + y for x, y in zip(feature, features[j])]
        _check_finite_layer(k, feature[0], feature[1])
        features.append(tuple(feature))

        if k == len(layers):
            activated.append(None)
            break

        new_breaks = _refine(breaks, _zero_crossings(breaks, feature[0], feature[1]))
        if new_breaks.size != breaks.size:
            parent = _parent_pieces(breaks, new_breaks)
            features = [tuple(x[parent] for x in f) for f in features]
            activated = [tuple(x[parent] for x in f) for f in activated]
            breaks = new_breaks
        activated.append(_activate(breaks, *features[-1], negative_slope))

    gain, offset, abs_gain, abs_offset = (x[:, 0] for x in features[-1])
    return breaks, gain, offset, (abs_gain, abs_offset)


def _check_finite_layer(k, gain, offset):
    """Raise ValueError when the affine pieces of layer ``k`` overflow float64."""
    if not (np.isfinite(gain).all() and np.isfinite(offset).all()):
        raise ValueError(
            f"weights and biases must keep the network finite in float64, but the affine pieces of layer {k} "
            f"(weights[{k - 1}], biases[{k - 1}]) overflow; rescale the weights"
        )


def _warn_on_jumps(breaks, gain, left, right, abs_gain, abs_offset, rounding):
    """Warn when merging breakpoints lost a piece steeper than its neighbours.

    The two pieces at a knot ``x`` disagree by a jump ``J`` beyond the
    rounding of the forward pass when roots closer than
    ``W = _MERGE_RTOL (1 + |x|)`` were merged into ``x``. The network then
    has a slope of at least ``J / W`` between them. When that exceeds the
    slopes of both pieces, the returned map's Lipschitz constant may be
    below the network's, and the map differs from the network by up to ``J``.
    """
    width = _MERGE_RTOL * (1.0 + np.abs(breaks))
    size = np.maximum(abs_gain[:-1] * np.abs(breaks) + abs_offset[:-1], abs_gain[1:] * np.abs(breaks) + abs_offset[1:])
    jump = np.abs(left - right)
    neighbours = np.maximum(np.abs(gain[:-1]), np.abs(gain[1:]))
    bad = jump > rounding * size + neighbours * width
    if bad.any():
        i = int(np.argmax(np.where(bad, jump, -np.inf)))
        warnings.warn(
            f"from_mlp merged breakpoints closer than {width[i]:.3g} at x={float(breaks[i])!r}, and the network changes by "
            f"{jump[i]:.6g} between them (knots with such a jump: {int(bad.sum())}). The returned map is continuous there, "
            f"so it differs from the network near x, and it lost a slope of at least {jump[i] / width[i]:.3g}: "
            "its Lipschitz constant can be below the network's",
            RuntimeWarning,
            stacklevel=4,
        )


def _zero_crossings(breaks, gain, offset):
    """Return the roots ``-c / a`` of every unit that lie strictly inside their piece."""
    lower = np.concatenate([[-np.inf], breaks])[:, None]
    upper = np.concatenate([breaks, [np.inf]])[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        root = -offset / gain + 0.0  # + 0.0 turns -0.0 into 0.0
    inside = (gain != 0) & (root > lower) & (root < upper)
    return root[inside]


def _refine(breaks, roots):
    """Add the new roots to the sorted breakpoints; return the refined sorted breakpoints.

    Every old breakpoint is kept, because :func:`_parent_pieces` locates each
    new piece in the old partition by its left end. A root closer than
    ``_MERGE_RTOL (1 + |x|)`` to an old breakpoint (on either side) or to the
    next smaller new root is dropped. Its unit then changes sign at that
    point, up to the float64 rounding of its pre-activation, and
    :func:`_activate` reads the sign at the middle of each piece.
    """
    roots = np.unique(roots)
    if roots.size == 0:
        return breaks
    roots = roots[~_near_breaks(roots, breaks)]
    if roots.size > 1:
        gap = np.diff(roots)
        roots = roots[np.concatenate([[True], gap > _MERGE_RTOL * (1.0 + np.abs(roots[1:]))])]
    return np.sort(np.concatenate([breaks, roots]))


def _near_breaks(roots, breaks):
    """Boolean mask of the sorted ``roots`` within ``_MERGE_RTOL (1 + |root|)`` of a breakpoint."""
    if breaks.size == 0:
        return np.zeros(roots.shape, dtype=bool)
    right = np.searchsorted(breaks, roots)
    below = breaks[np.maximum(right - 1, 0)]
    above = breaks[np.minimum(right, breaks.size - 1)]
    distance = np.minimum(np.abs(roots - below), np.abs(above - roots))
    return distance <= _MERGE_RTOL * (1.0 + np.abs(roots))


def _parent_pieces(old_breaks, new_breaks):
    """Index of the old piece that contains each piece of the refined partition.

    ``new_breaks`` must contain every old breakpoint (as :func:`_refine`
    ensures), so each new piece lies inside one old piece, the one that
    contains its left end.
    """
    left_ends = np.concatenate([[-np.inf], new_breaks])
    return np.searchsorted(old_breaks, left_ends, side="right")


def _representative_points(breaks):
    """Return a point inside each piece: the midpoints, and ``max(1, |t|)`` beyond each outer breakpoint ``t``.

    The outer step grows with ``|t|``: beyond ``2**53`` a step of 1 rounds
    back onto the breakpoint, where the sign of a unit that vanishes there is
    that of rounding. The outer points are clipped to the finite float64 range.
    """
    if breaks.size == 0:
        return np.zeros(1)
    with np.errstate(over="ignore"):
        middle = 0.5 * (breaks[:-1] + breaks[1:])
    # Two breakpoints beyond 9e307 of one sign overflow their sum. Halving
    # each first is exact there, because only subnormals lose a bit when halved.
    middle = np.where(np.isfinite(middle), middle, 0.5 * breaks[:-1] + 0.5 * breaks[1:])
    largest = np.finfo(np.float64).max
    with np.errstate(over="ignore"):
        left = max(breaks[0] - max(1.0, abs(breaks[0])), -largest)
        right = min(breaks[-1] + max(1.0, abs(breaks[-1])), largest)
    return np.concatenate([[left], middle, [right]])


def _activate(breaks, gain, offset, abs_gain, abs_offset, negative_slope):
    """Apply the LeakyReLU to affine pieces whose sign is constant on each piece."""
    x = _representative_points(breaks)[:, None]
    with np.errstate(over="ignore", invalid="ignore"):
        factor = np.where(gain * x + offset >= 0, 1.0, negative_slope)
    return gain * factor, offset * factor, abs_gain * np.abs(factor), abs_offset * np.abs(factor)
