"""Every Mermaid diagram in the notebooks carries a picture rendered from its current source.

Colab, the classic Notebook, nbviewer and GitHub do not draw ```mermaid blocks;
their readers see the PNG that tools/render_diagrams.py embeds above each block,
with sha256 of the block's source in its alt text. These tests only read the
notebooks: no Node.js, no Chromium. When one fails, run the script.
"""
import base64
import hashlib
import io
import re
from pathlib import Path

import nbformat
import pytest
from PIL import Image

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
FENCE = re.compile(r"^```mermaid[ \t]*\n(.*?)^```[ \t]*$", re.S | re.M)
PICTURE = re.compile(r"!\[[^\]\n]*\(mermaid-sha256:([0-9a-f]{12})\)\]\(data:image/png;base64,([A-Za-z0-9+/=]+)\)")
FIX = "run `python tools/render_diagrams.py`"


def diagram_problems(notebook):
    """One line per Mermaid block that lacks a picture of its own source just above it."""
    problems = []
    for cell in notebook.cells:
        if cell.cell_type != "markdown":
            continue
        previous_end = 0
        for block in FENCE.finditer(cell.source):
            where = f"cell {cell.get('id', '?')}, diagram starting {block.group(1).strip().splitlines()[0]!r}"
            pictures = PICTURE.findall(cell.source[previous_end:block.start()])
            previous_end = block.end()
            if not pictures:
                problems.append(f"{where}: no picture above the Mermaid source; {FIX}")
                continue
            recorded, data = pictures[-1]
            expected = hashlib.sha256(block.group(1).strip().encode("utf-8")).hexdigest()[:12]
            if recorded != expected:
                problems.append(f"{where}: the picture was rendered from another source "
                                f"(sha256 {recorded}, the source now hashes to {expected}); {FIX}")
                continue
            try:
                Image.open(io.BytesIO(base64.b64decode(data, validate=True))).verify()
            except Exception as err:  # binascii.Error or any of Pillow's decoding errors
                problems.append(f"{where}: the picture is not a readable PNG ({err}); {FIX}")
    return problems


def mermaid_notebooks():
    return [path for path in sorted(NOTEBOOKS.glob("*.ipynb")) if "```mermaid" in path.read_text(encoding="utf-8")]


def edited_copy(path, old, new):
    """The notebook at `path`, read into memory, with `old` replaced by `new` in its Mermaid cell."""
    notebook = nbformat.read(path, as_version=4)
    cell = next(cell for cell in notebook.cells if cell.cell_type == "markdown" and FENCE.search(cell.source))
    assert old in cell.source
    cell.source = cell.source.replace(old, new, 1)
    return notebook


def test_the_series_has_mermaid_diagrams():
    assert mermaid_notebooks(), "no notebook has a ```mermaid block: the checks below would check nothing"


@pytest.mark.parametrize("path", mermaid_notebooks(), ids=lambda path: path.stem)
def test_every_diagram_shows_a_picture_of_its_current_source(path):
    problems = diagram_problems(nbformat.read(path, as_version=4))
    assert not problems, f"{path.name}:\n" + "\n".join(problems)


def test_a_diagram_edited_after_rendering_is_reported():
    notebook = edited_copy(mermaid_notebooks()[0], "flowchart LR\n", "flowchart LR\n    Z --> X\n")
    problems = diagram_problems(notebook)
    assert len(problems) == 1 and "rendered from another source" in problems[0], problems


def test_a_diagram_without_a_picture_is_reported():
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        "Some text.\n\n```mermaid\nflowchart LR\n    A --> B\n```\n")])
    problems = diagram_problems(notebook)
    assert len(problems) == 1 and "no picture" in problems[0], problems


def test_a_picture_belongs_to_the_diagram_below_it_not_to_another():
    path = mermaid_notebooks()[0]
    notebook = nbformat.read(path, as_version=4)
    cell = next(cell for cell in notebook.cells if cell.cell_type == "markdown" and FENCE.search(cell.source))
    cell.source += "\n\n```mermaid\nflowchart LR\n    A --> B\n```\n"
    problems = diagram_problems(notebook)
    assert len(problems) == 1 and "'flowchart LR'" in problems[0] and "no picture" in problems[0], problems


def test_a_damaged_picture_is_reported():
    path = mermaid_notebooks()[0]
    notebook = edited_copy(path, "data:image/png;base64,iVBOR", "data:image/png;base64,AAAAA")
    problems = diagram_problems(notebook)
    assert len(problems) == 1 and "not a readable PNG" in problems[0], problems
