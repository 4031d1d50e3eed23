"""Build the teaching notebooks from their percent-format sources, without outputs.

Each ``_sources/NN_name.py`` contains one notebook as a Python script whose cells
start with ``# %%`` (code) or ``# %% [markdown]`` (markdown, every line
commented with ``# ``), the format that jupytext and VS Code read. This script
writes ``NN_name.ipynb`` beside itself with fixed cell ids and metadata, so
running it twice gives byte-identical files, and the tests check that the
committed notebooks equal what it builds.

Usage::

    python docs/notebooks/_build.py          # write every notebook
    python docs/notebooks/_build.py --check  # exit with status 1 if a notebook is stale
"""

import argparse
import pathlib
import sys

import nbformat

__all__ = ["NOTEBOOK_DIR", "SOURCE_DIR", "build_notebook", "build_all", "main"]

NOTEBOOK_DIR = pathlib.Path(__file__).resolve().parent
SOURCE_DIR = NOTEBOOK_DIR / "_sources"

_CODE_MARKER = "# %%"
_MARKDOWN_MARKER = "# %% [markdown]"

_METADATA = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}


def _split_cells(text):
    """Split a percent-format script into ``(kind, lines)`` pairs, kind "code" or "markdown"."""
    cells = []
    for line in text.splitlines():
        stripped = line.rstrip()
        if stripped == _MARKDOWN_MARKER:
            cells.append(("markdown", []))
        elif stripped == _CODE_MARKER:
            cells.append(("code", []))
        elif cells:
            cells[-1][1].append(line)
        elif stripped:
            raise ValueError(f"text before the first cell marker: {line!r}")
    return cells


def _uncomment(line):
    """Strip the ``# `` prefix of a markdown line (a bare ``#`` or a blank line is an empty line)."""
    if line.startswith("# "):
        return line[2:]
    if line.rstrip() in ("#", ""):
        return ""
    raise ValueError(f"markdown line is not commented with '# ': {line!r}")


def _trim(lines):
    """Drop leading and trailing blank lines."""
    while lines and not lines[0].strip():
        lines = lines[1:]
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines


def build_notebook(source_path):
    """Return the notebook (an ``nbformat.NotebookNode``, no outputs) built from one source file."""
    cells = []
    for index, (kind, lines) in enumerate(_split_cells(pathlib.Path(source_path).read_text(encoding="utf-8"))):
        if kind == "markdown":
            lines = [_uncomment(line) for line in lines]
        text = "\n".join(_trim(lines))
        if not text:
            raise ValueError(f"{source_path}: cell {index} is empty")
        cell_id = f"cell-{index:02d}"
        if kind == "markdown":
            cells.append(nbformat.v4.new_markdown_cell(text, id=cell_id))
        else:
            cells.append(nbformat.v4.new_code_cell(text, id=cell_id))

    notebook = nbformat.v4.new_notebook(cells=cells, metadata=_METADATA)
    notebook.nbformat_minor = 5
    nbformat.validate(notebook)
    return notebook


def build_all():
    """Return ``{notebook path: notebook text}`` for every source in ``_sources``."""
    built = {}
    for source_path in sorted(SOURCE_DIR.glob("[0-9][0-9]_*.py")):
        notebook = build_notebook(source_path)
        built[NOTEBOOK_DIR / f"{source_path.stem}.ipynb"] = nbformat.writes(notebook) + "\n"
    return built


def main(argv=None):
    parser = argparse.ArgumentParser(description="Build the notebooks in docs/notebooks from _sources/*.py.")
    parser.add_argument("--check", action="store_true", help="only compare; exit with status 1 if a notebook differs")
    args = parser.parse_args(argv)

    stale = []
    for path, text in build_all().items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        stale.append(path.name)
        if not args.check:
            path.write_text(text, encoding="utf-8")

    listed = ", ".join(stale) if stale else "none"
    if args.check and stale:
        print(f"stale notebooks (run python docs/notebooks/_build.py): {listed}")
        return 1
    if args.check:
        print("stale notebooks: none")
    else:
        print(f"written: {listed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
