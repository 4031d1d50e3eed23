"""A NaN argument raises ValueError naming the argument and the values it allows, whatever type carries the NaN."""

import numpy as np
import pytest
import sympy

import isobounds as ib


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda nan: ib.tv_lower_bound_two_gaussians(0, 1, 1, nan),
         r"lip must not be NaN, got lip=nan\. It must be a positive finite number in \(0, inf\)"),
        (lambda nan: ib.Phi_inv(nan), r"p must not be NaN, got p=nan\. It must be a probability in \[0, 1\]"),
        (lambda nan: ib.kl_lower_bound_two_gaussians(0, 1, 1, 1, nan),
         r"model_weight must not be NaN, got model_weight=nan\. It must be a probability in \[0, 1\]"),
    ],
)
@pytest.mark.parametrize("nan", [float("nan"), "nan", np.float32("nan"), sympy.nan], ids=["float", "str", "float32", "sympy"])
def test_nan_message_states_range(call, message, nan):
    with pytest.raises(ValueError, match=message):
        call(nan)


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda text: ib.shell_mass_lower_bound(text, 1, 1), "mass"),
        (lambda text: ib.tv_lower_bound_two_gaussians(0, text, 1, 1), "m2"),
    ],
)
def test_zero_denominator_string_names_argument(call, name):
    with pytest.raises(ValueError, match=rf"{name} must be a decimal number, got the string {name}='1/0', a fraction with denominator 0"):
        call("1/0")


def test_ragged_array_names_the_argument():
    from isobounds import shell_mass_lower_bound, vectorized

    with pytest.raises(ValueError, match=r"mass must be a rectangular array .* ragged mass=\[\[0.5\], \[0.1, 0.2\]\]"):
        shell_mass_lower_bound([[0.5], [0.1, 0.2]], 1, 1)
    with pytest.raises(ValueError, match=r"a must be a rectangular array"):
        vectorized.gaussian_mass([[0.0], [1.0, 2.0]], 3.0)
