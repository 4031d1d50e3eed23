"""The public namespace: ``__all__`` lists exactly what is defined."""

import importlib

import pytest

import isobounds

PACKAGES = ["isobounds", "isobounds.bounds", "isobounds.sets", "isobounds.measures", "isobounds.vectorized", "isobounds.gaussian"]


@pytest.mark.parametrize("name", PACKAGES)
def test_all_names_exist(name):
    module = importlib.import_module(name)
    missing = [item for item in module.__all__ if not hasattr(module, item)]
    assert missing == []


@pytest.mark.parametrize("name", PACKAGES)
def test_all_has_no_duplicates(name):
    module = importlib.import_module(name)
    assert len(module.__all__) == len(set(module.__all__))


def test_top_level_reexports_every_bound():
    from isobounds import bounds

    for item in bounds.__all__:
        assert getattr(isobounds, item) is getattr(bounds, item)


def test_core_import_does_not_load_torch_or_sympy_layer():
    import subprocess
    import sys

    code = "import sys, isobounds; print('torch' in sys.modules, 'isobounds.symbolic' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]


@pytest.mark.parametrize("name", ["symbolic", "pushforward", "testing"])
def test_subpackage_by_attribute(name):
    # Attribute access imports the subpackage, as "imported on demand" promises.
    import subprocess
    import sys

    code = f"import isobounds; print(isobounds.{name}.__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == [f"isobounds.{name}"]


def test_unknown_attribute_raises():
    with pytest.raises(AttributeError, match="module 'isobounds' has no attribute 'no_such_name'"):
        isobounds.no_such_name  # noqa: B018
