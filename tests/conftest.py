import mpmath
import pytest


@pytest.fixture(autouse=True)
def _restore_mpmath_precision():
    """Restore mpmath's global precision after each test, whatever the test did."""
    prec = mpmath.mp.prec
    yield
    mpmath.mp.prec = prec
