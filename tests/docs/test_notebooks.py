"""Execute every teaching notebook in docs/notebooks and check how they are stored.

Each notebook checks its own numbers with ``assert`` against an independent
route (mpmath at higher precision, quadrature, Monte Carlo), so running it
without an error is the test. The kernel is ``python3`` from the environment
that runs pytest: jupyter_client starts it with ``sys.executable`` when
ipykernel is installed there, so no kernel registration is needed.
"""

import importlib.util
import pathlib

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")
pytest.importorskip("hypothesis")

NOTEBOOK_DIR = pathlib.Path(__file__).resolve().parents[2] / "docs" / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))

# Seconds allowed to one cell. The slowest cell takes a few seconds on a
# 2-core machine; the margin covers a loaded CI runner.
CELL_TIMEOUT = 120


def _load_builder():
    spec = importlib.util.spec_from_file_location("docs_notebook_builder", NOTEBOOK_DIR / "_build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_notebooks_exist():
    names = [path.name for path in NOTEBOOKS]
    assert len(names) >= 5, names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_notebook_stored_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code_cells, f"{path.name} has no code cell"
    assert all(not cell.outputs for cell in code_cells), f"{path.name} is stored with outputs"
    assert all(cell.execution_count is None for cell in code_cells), f"{path.name} is stored with execution counts"


def test_notebooks_match_build_script():
    builder = _load_builder()
    built = builder.build_all()
    assert sorted(built) == NOTEBOOKS, "every source in docs/notebooks/_sources needs its notebook and back"
    for path, text in built.items():
        assert path.read_text(encoding="utf-8") == text, f"{path.name} is stale: run python docs/notebooks/_build.py"


PAPER_TITLE = "Can Push-forward Generative Models Fit Multimodal Distributions?"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_notebook_has_exercise_and_reference(path):
    notebook = nbformat.read(path, as_version=4)
    markdown = " ".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    words = " ".join(markdown.split())  # a title may be wrapped over several lines
    assert "## Exercise" in markdown, f"{path.name} has no exercise section"
    assert "**Solution.**" in markdown, f"{path.name} has an exercise without a worked solution"
    assert PAPER_TITLE in words, f"{path.name} does not cite the paper by its title"
    assert "/work/" not in markdown, f"{path.name} cites a file on the development machine"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_notebook_runs(path, monkeypatch, tmp_path):
    # The kernel inherits this environment: matplotlib opens no window, and
    # hypothesis keeps its cache in a temporary folder, not beside the notebooks.
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("HYPOTHESIS_STORAGE_DIRECTORY", str(tmp_path / "hypothesis"))
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )

    client.execute()

    errors = [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "error"
    ]
    assert not errors, errors
