"""Claims of the teaching notebooks and benchmark scripts, checked against independent computations.

Each test reproduces one statement that an earlier version of the notebooks
or benchmarks got wrong. It computes the value in question by another route,
a closed form with scipy or the signature of the function it names, and
checks the corrected text.
"""

import importlib.util
import inspect
import pathlib
import sys

import mpmath
import numpy as np
import pytest
import scipy.stats as st

from isobounds.bounds import tv_lower_bound

ROOT = pathlib.Path(__file__).resolve().parents[2]
NOTEBOOK_04 = ROOT / "docs" / "notebooks" / "_sources" / "04_verify_a_bound_yourself.py"
BENCH_CORE = ROOT / "benchmarks" / "bench_core.py"


def _gaussian_tv(mean_a, sd_a, mean_b, sd_b):
    """Total variation between N(mean_a, sd_a^2) and N(mean_b, sd_b^2) in closed form.

    The densities cross where the quadratic log p_a - log p_b vanishes, so
    the total variation is the largest |P_a(I) - P_b(I)| over the unions of
    the (at most three) intervals between the crossings.
    """
    a = 1 / (2 * sd_b**2) - 1 / (2 * sd_a**2)
    b = mean_a / sd_a**2 - mean_b / sd_b**2
    c = mean_b**2 / (2 * sd_b**2) - mean_a**2 / (2 * sd_a**2) + np.log(sd_b / sd_a)
    if a == 0:
        roots = [] if b == 0 else [-c / b]
    else:
        roots = [r.real for r in np.roots([a, b, c]) if abs(r.imag) < 1e-12]
    edges = [-np.inf, *sorted(roots), np.inf]
    difference = [
        st.norm.cdf(hi, mean_a, sd_a) - st.norm.cdf(lo, mean_a, sd_a)
        - st.norm.cdf(hi, mean_b, sd_b) + st.norm.cdf(lo, mean_b, sd_b)
        for lo, hi in zip(edges[:-1], edges[1:])
    ]
    return sum(d for d in difference if d > 0)


def test_gaussian_tv_closed_form_matches_quadrature():
    tv = _gaussian_tv(0.0, 1.0, 0.3, 1.2)
    with mpmath.workdps(30):
        def difference(x):
            return mpmath.npdf(x, 0, 1) - mpmath.npdf(x, mpmath.mpf("0.3"), mpmath.mpf("1.2"))

        # The densities cross once on each side of the peak; the quadrature splits there, at the kinks of |difference|.
        crossings = [mpmath.findroot(difference, (lo, hi), solver="anderson") for lo, hi in [(-3, 0), (0, 3)]]
        reference = mpmath.quad(lambda x: abs(difference(x)), [-mpmath.inf, *crossings, mpmath.inf]) / 2
    assert tv == pytest.approx(float(reference), rel=1e-10)


def test_tight_bound_cases_are_not_all_tight():
    """Notebook 04 once stated that every draw of tight_bound_cases has a bound within a fraction of a percent of the TV.

    A draw with no far component (w = 0) and a perturbed target has the
    Theorem 4 bound 0, while its total variation, here a closed form between
    two Gaussians, is positive.
    """
    hypothesis = pytest.importorskip("hypothesis")
    from isobounds.testing import tight_bound_cases

    def untight(case):
        if len(case.target.weights) != 1:
            return False
        # The map is affine on latent [-K, K], K >= 9, so rho is N(centre, slope^2) up to a mass of 2 Phi(-9).
        half_width = case.map.knots[-1]
        values = case.map.values
        slope = (values[-1] - values[0]) / (2 * half_width)
        centre = (values[-1] + values[0]) / 2
        mean, sd = float(case.target.means_array[0, 0]), float(case.target.sigmas_array[0])
        rho = case.map.pushforward()
        bound = tv_lower_bound(case.region, case.radius, case.map.lipschitz_constant(),
                               target=case.target, model_mass=rho.mass(case.region))
        return bound == 0 and _gaussian_tv(centre, abs(slope), mean, sd) > 1e-5

    settings = hypothesis.settings(max_examples=300, database=None, derandomize=True,
                                   phases=[hypothesis.Phase.generate])
    case = hypothesis.find(tight_bound_cases(), untight, settings=settings)
    assert untight(case)

    text = NOTEBOOK_04.read_text(encoding="utf-8")
    assert "bound equals the exact total" not in " ".join(text.replace("#", " ").split())


def _load_bench_core():
    """Import benchmarks/bench_core.py, which imports its sibling module _arguments."""
    sys.path.insert(0, str(BENCH_CORE.parent))
    try:
        spec = importlib.util.spec_from_file_location("bench_core_under_test", BENCH_CORE)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCH_CORE.parent))
    return module


def test_bench_core_symbolic_label_names_arguments():
    """The symbolic row of bench_core once called both 1e-300 arguments masses; one is the Lipschitz constant."""
    from isobounds import symbolic

    bench = _load_bench_core()
    bound = inspect.signature(symbolic.kl_lower_bound_two_gaussians).bind(**bench.SYMBOLIC_ARGUMENTS)
    arguments = bound.arguments

    assert f"L = {arguments['lip']}" in bench.SYMBOLIC_LABEL
    assert f"model weight {arguments['model_weight']}" in bench.SYMBOLIC_LABEL
    assert "masses" not in bench.SYMBOLIC_LABEL
    assert "one run" in bench.SYMBOLIC_LABEL

    # docs/benchmarks.md: the expression contains an interval end D / (4 sigma L) near 2.5e299.
    with mpmath.workdps(30):
        end = mpmath.mpf(arguments["m2"] - arguments["m1"]) / (4 * arguments["sigma"] * mpmath.mpf(arguments["lip"]))
    assert mpmath.nstr(end, 2) == "2.5e+299"
