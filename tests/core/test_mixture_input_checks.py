"""Argument checks of GaussianMixture: unordered weights, 0-d sigma, and the sum in messages.

Masses of accepted mixtures are compared with ``mpmath.ncdf`` at 60 digits;
sums printed in messages are parsed back and compared with the exact sum.
"""

import re

import mpmath
import numpy as np
import pytest

import isobounds
from isobounds.measures import GaussianMixture
from isobounds.sets import Interval


def ref_interval_mass(weights, means, sigmas, a, b, dps=60):
    """Mass of [a, b] under sum_i w_i N(m_i, s_i^2), from mpmath.ncdf."""
    with mpmath.workdps(dps):
        return mpmath.fsum(
            mpmath.mpf(w) * (mpmath.ncdf(b, m, s) - mpmath.ncdf(a, m, s)) for w, m, s in zip(weights, means, sigmas)
        )


def rel_err(value, reference):
    with mpmath.workdps(60):
        return abs(value / reference - 1)


# -- weights that have no component order ------------------------------------------


@pytest.mark.parametrize(
    "weights, kind",
    [
        ({0: 0.5, 1: 0.5}, "dict"),
        ({0.25, 0.75}, "set"),
        (frozenset({0.25, 0.75}), "frozenset"),
        ({"a": 0.5, "b": 0.5}.values(), "dict_values"),
    ],
)
def test_unordered_weights_are_rejected(weights, kind):
    with pytest.raises(TypeError) as info:
        GaussianMixture(weights, [0, 1], 1)
    message = str(info.value)
    assert message.startswith("weights must be a sequence of probabilities in [0, 1]")
    assert f"got a {kind}: weights={weights!r}" in message


def test_dict_weights_never_use_keys():
    # The keys (0, 1) would have been valid weights; the mixture must not be built at all.
    with pytest.raises(TypeError, match="weights"):
        GaussianMixture({0: 0.5, 1: 0.5}, [0, 1], 1)


@pytest.mark.parametrize("weights", [np.array(1.0), np.array([[0.5, 0.5]])])
def test_weights_of_the_wrong_dimension(weights):
    with pytest.raises(TypeError, match=r"weights must be a sequence .* got an array of shape"):
        GaussianMixture(weights, [0, 1], 1)


def test_unordered_sigma_is_rejected():
    with pytest.raises(TypeError, match=r"sigma must be a positive number or a sequence of k=2 .* got a set"):
        GaussianMixture([0.5, 0.5], [0, 1], {1, 2})


# -- sigma as a 0-d array or a numpy scalar ------------------------------------------


@pytest.mark.parametrize(
    "sigma, exact",
    [
        (np.array(2.0), "2"),
        (np.array(0.5, dtype=np.float32), "0.5"),
        (np.float64(2.0), "2"),
        (np.float32(0.5), "0.5"),
        (np.int64(3), "3"),
        (np.array(3, dtype=np.int64), "3"),
        (np.array("0.001"), "0.001"),
        (np.array("0.001", dtype=object), "0.001"),
    ],
)
def test_scalar_like_sigma_is_accepted(sigma, exact):
    weights, means = ["0.3", "0.7"], [-1, "0.5"]
    with isobounds.precision(30):
        nu = GaussianMixture(weights, means, sigma)
        mass = nu.mass(Interval(-1, 1))
    with mpmath.workdps(60):
        assert len(nu.sigmas) == 2
        assert abs(nu.sigmas[0] / mpmath.mpf(exact) - 1) < mpmath.mpf("1e-35")
        assert nu.sigmas[1] == nu.sigmas[0]
    reference = ref_interval_mass(weights, means, [exact, exact], -1, 1)
    assert rel_err(mass, reference) < mpmath.mpf("1e-28")


def test_two_gaussians_with_0d_sigma():
    nu = GaussianMixture.two_gaussians(-2, 2, np.array(1.5), weight="0.25")
    mass = nu.mass(Interval(0, np.inf), dps=30)
    reference = ref_interval_mass(["0.25", "0.75"], [-2, 2], ["1.5", "1.5"], 0, mpmath.inf)
    assert rel_err(mass, reference) < mpmath.mpf("1e-28")


def test_sigma_array_of_two_dimensions():
    pattern = r"sigma must be a scalar or a 1-D sequence .*\(k=2\), got an array of shape \(1, 2\)"
    with pytest.raises(ValueError, match=pattern):
        GaussianMixture([0.5, 0.5], [0, 1], np.array([[1.0, 2.0]]))


# -- the sum of the weights in the message -------------------------------------------


def printed_sum(message):
    match = re.search(r"got sum\(weights\)=([0-9.e+-]+),", message)
    assert match, message
    return match.group(1)


@pytest.mark.parametrize("dps, tiny", [(30, "1e-30"), (50, "3e-48"), (15, "2e-14")])
def test_sum_message_shows_differing_digits(dps, tiny):
    with isobounds.precision(dps), pytest.raises(ValueError) as info:
        GaussianMixture([tiny, "1"], [0, 1], 1)
    message = str(info.value)
    assert message.startswith("weights must sum to 1, got sum(weights)=")
    with mpmath.workdps(100):
        printed = mpmath.mpf(printed_sum(message))
        deviation = mpmath.mpf(tiny)
        # The printed sum differs from 1, by the right amount to two digits.
        assert printed != 1
        assert abs((printed - 1) / deviation - 1) < mpmath.mpf("0.01")
    assert "allowed deviation" in message


def test_float_sum_keeps_short_form():
    with pytest.raises(ValueError) as info:
        GaussianMixture([0.5, 0.6], [0, 1], 1)
    assert printed_sum(str(info.value)) == "1.1"


def test_sum_within_tolerance_is_rescaled():
    with isobounds.precision(30):
        nu = GaussianMixture(["1e-45", "1"], [0, 1], 1)
    with mpmath.workdps(60):
        assert abs(nu.weights[0] - mpmath.mpf("1e-45")) < mpmath.mpf("1e-80")
        assert abs(nu.weights[1] - 1) < mpmath.mpf("1e-38")


def test_float32_softmax_weights_accepted():
    # A float32 softmax of ten logits sums to 1 only within float32 rounding
    # (1.49e-8 here); the weights are rescaled to sum to 1 exactly.
    logits = np.linspace(-1.0, 1.0, 10, dtype=np.float32)
    weights = np.exp(logits) / np.exp(logits).sum()
    assert weights.dtype == np.float32
    target = GaussianMixture(weights, list(range(10)), 1.0)
    with mpmath.workdps(50):
        assert abs(mpmath.fsum(target.weights) - 1) < mpmath.mpf(10) ** -35


def test_float32_weights_far_from_one_rejected():
    with pytest.raises(ValueError, match=r"sum to 1.*allowed deviation: 9\.5"):
        GaussianMixture(np.float32([0.5, 0.6]), [0, 1], 1)


def test_float64_weights_keep_tight_tolerance():
    with pytest.raises(ValueError, match=r"allowed deviation: 1\.0e-12"):
        GaussianMixture([0.5, 0.5000001], [0, 1], 1)


@pytest.mark.parametrize("weights", [
    np.zeros(256, dtype=np.float16),
    np.r_[np.float16(0.5), np.zeros(299, dtype=np.float16)],
    np.float16([0.5, 0.465]),
])
def test_float16_weights_far_from_one_rejected(weights):
    # The float16 tolerance 4 k eps would exceed 1 for 256 weights; it stops at 1e-3.
    with pytest.raises(ValueError, match=r"allowed deviation: 0\.001\)"):
        GaussianMixture(weights, list(range(len(weights))), 1)


def test_disconnected_support_swapped_arguments_named():
    from isobounds import DisconnectedSupport, Interval

    with pytest.raises(TypeError, match=r"the arguments look swapped, call DisconnectedSupport\(pieces, weights\)"):
        DisconnectedSupport([0.5, 0.5], [Interval(0, 1), Interval(3, 4)])
