"""The README's Python example: its printed values match its comments and mpmath.

The target is (1/2)[N(-5, 1) + N(5, 1)] and A = (-inf, 0], so by symmetry the
model-free Theorem 4 bound is ``Phi(r/L) - 1/2 - nu((0, r])``. The references
below evaluate that formula, and its maximum over r, with mpmath at 50 digits.
"""

import contextlib
import io
import pathlib
import re

import mpmath

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"


def _example():
    """Return the first Python block of the README that calls tv_lower_bound."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.DOTALL)
    return next(block for block in blocks if "tv_lower_bound(" in block)


def _shell(r):
    """Return nu((0, r]) for nu = (1/2)[N(-5, 1) + N(5, 1)]."""
    return (mpmath.ncdf(r + 5) - mpmath.ncdf(5) + mpmath.ncdf(r - 5) - mpmath.ncdf(-5)) / 2


def _bound(r, lip=10):
    return mpmath.ncdf(r / lip) - mpmath.mpf(1) / 2 - _shell(r)


def _printed_lines():
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        exec(compile(_example(), str(README), "exec"), {})
    return output.getvalue().splitlines()


def test_readme_comments_match_output():
    example = _example()
    comments = [line.split("#", 1)[1].strip() for line in example.splitlines()
                if line.startswith("print(") and "#" in line]
    printed = _printed_lines()
    assert len(printed) == len(comments)
    for line, comment in zip(printed, comments):
        # A comment may shorten the output with "...".
        for part in comment.split("..."):
            assert part in line, (line, comment)


def test_readme_values_match_mpmath():
    printed = _printed_lines()
    with mpmath.workdps(50):
        fixed = _bound(mpmath.mpf("2.5"))

        # The best radius solves phi(r/L)/L = nu's density at r.
        def slope(r):
            return mpmath.npdf(r / 10) / 10 - (mpmath.npdf(r + 5) + mpmath.npdf(r - 5)) / 2

        radius = mpmath.findroot(slope, 3.2)
        best = _bound(radius)

        # Read the other way: sup_r r / Phi^-1(1/2 + 0.01 + nu((0, r])).
        def ratio(r):
            return r / mpmath.sqrt(2) / mpmath.erfinv(2 * (mpmath.mpf("0.51") + _shell(r)) - 1)

        peak = mpmath.findroot(lambda r: mpmath.diff(ratio, r), 2.5)
        lipschitz = ratio(peak)

    assert abs(mpmath.mpf(printed[0]) / fixed - 1) < 1e-14
    assert abs(mpmath.mpf(printed[1]) / best - 1) < 1e-14
    assert all(abs(mpmath.mpf(value) / radius - 1) < 1e-10 for value in re.findall(r"mpf\('([^']+)'\)", printed[2]))
    assert abs(mpmath.mpf(printed[3]) / lipschitz - 1) < 1e-14
