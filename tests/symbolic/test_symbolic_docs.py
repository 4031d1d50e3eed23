"""The symbolic docs page shows the formulas that ``latex`` prints now, and its examples run."""

import doctest
import pathlib
import re

import pytest

import isobounds.symbolic
from isobounds.symbolic import FORMULA_NAMES, bounds, functions, latex, verification

PAGE = pathlib.Path(__file__).resolve().parents[2] / "docs" / "symbolic.md"


@pytest.fixture(scope="module")
def page():
    return PAGE.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", FORMULA_NAMES)
def test_docs_formula_matches_latex(page, name):
    assert f"$$\n{latex(name)}\n$$" in page


def test_docs_examples_run(page, capsys):
    # The verify() block is left out here because test_symbolic_verify runs verify() itself.
    blocks = re.findall(r"```python\n(.*?)```", page, flags=re.DOTALL)
    runnable = [block for block in blocks if "verify()" not in block]
    assert len(runnable) == len(blocks) - 1
    namespace = {}
    for block in runnable:
        exec(compile(block, str(PAGE), "exec"), namespace)
    printed = capsys.readouterr().out
    assert "-p + Phi(Phi_inv(p) + r/L)" in printed
    assert r"\left(\Phi\left(\Phi^{-1}\left(p\right) + \frac{r}{L}\right) - p\right)" in printed


@pytest.mark.parametrize("module", [isobounds.symbolic, functions, bounds, verification])
def test_docstring_examples(module):
    failures, attempted = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert attempted > 0
    assert failures == 0
