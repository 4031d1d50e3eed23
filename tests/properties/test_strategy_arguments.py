"""Arguments of the isobounds.testing strategies that used to draw invalid objects or fail inside hypothesis."""

import pytest
from hypothesis import find, settings
from hypothesis.errors import NoSuchExample

from isobounds.testing import gaussian_mixtures, half_spaces, intervals, piecewise_linear_maps, probabilities, radii

SEARCH = settings(max_examples=300, database=None)


def test_radii_reject_negative_min_positive():
    # radii(min_positive=-1) drew the radius -1.0.
    with pytest.raises(ValueError, match="min_positive must be nonnegative"):
        find(radii(min_positive=-1.0), lambda r: r < 0, settings=SEARCH)


def test_radii_with_max_value_zero_draw_only_zero():
    # st.floats(0, 0, exclude_min=True) is empty: hypothesis raised InvalidArgument.
    with pytest.raises(NoSuchExample):
        find(radii(max_value=0.0), lambda r: r != 0.0, settings=SEARCH)
    assert find(radii(max_value=0.0), lambda r: True, settings=SEARCH) == 0.0


@pytest.mark.parametrize("kwargs, match", [
    (dict(min_sigma=0.0), "min_sigma must be positive"),  # GaussianMixture raised at draw time, naming sigma[0]
    (dict(min_sigma=-1.0, max_sigma=1.0), "min_sigma must be positive"),
    (dict(max_components=0), "max_components must be an integer >= 1"),  # ZeroDivisionError
    (dict(max_components=2.5), "max_components must be an integer >= 1"),
    (dict(max_mean=-1.0), "max_mean must be a finite number >= 0"),  # hypothesis InvalidArgument
])
def test_gaussian_mixtures_check_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        find(gaussian_mixtures(**kwargs), lambda target: True, settings=SEARCH)


@pytest.mark.parametrize("max_offset", [-1.0, float("nan"), float("inf")])
def test_half_spaces_check_max_offset(max_offset):
    with pytest.raises(ValueError, match="max_offset must be a finite number >= 0"):
        find(half_spaces(2, max_offset=max_offset), lambda H: True, settings=SEARCH)


@pytest.mark.parametrize("max_pieces", [2.5, "3", True])
def test_maps_check_max_pieces_type(max_pieces):
    # 2.5 failed inside hypothesis (InvalidArgument), "3" with a TypeError on '<'.
    with pytest.raises(ValueError, match="max_pieces must be an integer >= 2"):
        find(piecewise_linear_maps(max_pieces=max_pieces), lambda g: True, settings=SEARCH)


@pytest.mark.parametrize("strategy, name", [
    (lambda: probabilities(allow_zero="x"), "allow_zero"),
    (lambda: probabilities(allow_one=1), "allow_one"),
    (lambda: piecewise_linear_maps(allow_flat="no"), "allow_flat"),
    (lambda: intervals(allow_infinite=None), "allow_infinite"),
])
def test_flags_must_be_bool(strategy, name):
    # A string such as "no" is truthy, so it used to switch the option on.
    with pytest.raises(TypeError, match=f"{name} must be True or False"):
        find(strategy(), lambda value: True, settings=SEARCH)
