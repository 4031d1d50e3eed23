"""Independent reference computations for the bound tests.

They use mpmath's own ``ncdf`` and ``findroot`` at high precision, not the
kernels of isobounds, so that a test compares two different routes.
"""

import mpmath
import scipy.special as sc


def quantile(p, dps=80):
    """Phi^{-1}(p) by Newton's method on log(ncdf) at ``dps`` digits."""
    with mpmath.workdps(dps):
        p = mpmath.mpf(p)
        if p > 0.5:
            return -quantile(1 - p, dps)
        start = float(sc.ndtri_exp(float(mpmath.log(p))))
        return mpmath.findroot(lambda x: mpmath.log(mpmath.ncdf(x)) - mpmath.log(p), start)


def shell_bound(p, r, lip, dps=80):
    """beta = Phi(r / L + Phi^{-1}(p)) - p, at ``dps`` digits (enough to absorb the cancellation)."""
    with mpmath.workdps(dps):
        p = mpmath.mpf(p)
        return mpmath.ncdf(mpmath.mpf(r) / mpmath.mpf(lip) + quantile(p, dps)) - p


def profile(p, dps=80):
    with mpmath.workdps(dps):
        return mpmath.npdf(quantile(p, dps))


def mixture_mass(weights, means, sigmas, a, b, dps=80):
    """Mass of [a, b] under a univariate Gaussian mixture, as a plain difference of ncdf at ``dps`` digits."""
    with mpmath.workdps(dps):
        return mpmath.fsum(
            mpmath.mpf(w) * (mpmath.ncdf((mpmath.mpf(b) - m) / s) - mpmath.ncdf((mpmath.mpf(a) - m) / s))
            for w, m, s in zip(weights, map(mpmath.mpf, means), map(mpmath.mpf, sigmas))
        )


def kl_bin(a, b, dps=120):
    with mpmath.workdps(dps):
        a, b = mpmath.mpf(a), mpmath.mpf(b)
        first = 0 if a == 0 else a * mpmath.log(a / b)
        second = 0 if a == 1 else (1 - a) * mpmath.log((1 - a) / (1 - b))
        return first + second


def assert_close(actual, expected, rel, abs_tol=0):
    """Assert |actual - expected| <= rel * |expected| + abs_tol, comparing at 120 digits."""
    with mpmath.workdps(120):
        actual, expected = mpmath.mpf(actual), mpmath.mpf(expected)
        error = abs(actual - expected)
        assert error <= rel * abs(expected) + abs_tol, f"{mpmath.nstr(actual, 40)} != {mpmath.nstr(expected, 40)}"
