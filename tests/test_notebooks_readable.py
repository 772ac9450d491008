"""The committed notebooks read well without a kernel: on GitHub, nbviewer, a handout, Colab before "run all".

These tests read the executed notebooks as committed (they run nothing):
every explorer has its static companion, figures are wide enough for a
projector, errors shown to students are clean, every notebook ends with
References, and no text points at a notebook that does not exist.
"""
import base64
import io
import re
from pathlib import Path

import nbformat
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
EXPLORERS = re.compile(r"^\s*\w*explorer\(", re.MULTILINE)  # a call at the start of a line, not a def
MIN_WIDTH = 600  # px: readable from the back of a classroom


def cells(path, kind):
    return [(i, cell) for i, cell in enumerate(nbformat.read(path, as_version=4).cells) if cell.cell_type == kind]


def images(cell):
    return [base64.b64decode(out["data"]["image/png"]) for out in cell.get("outputs", [])
            if "image/png" in out.get("data", {})]


def output_text(cell):
    parts = []
    for out in cell.get("outputs", []):
        parts.append(out.get("text", ""))
        parts.extend(out.get("traceback", []))
        parts.append(str(out.get("data", {}).get("text/plain", "")))
    return "".join(parts)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_explorer_has_a_static_companion(path):
    explorers = [(i, cell) for i, cell in cells(path, "code") if EXPLORERS.search(cell.source)]
    for i, cell in explorers:
        assert images(cell), f"{path.name} cell {i} shows an explorer without a static figure (pass stills=...)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_figures_are_wide_enough_for_a_projector(path):
    for i, cell in cells(path, "code"):
        for png in images(cell):
            width, height = Image.open(io.BytesIO(png)).size
            assert width >= MIN_WIDTH, f"{path.name} cell {i}: a figure {width} x {height} px, under {MIN_WIDTH} px wide"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_errors_shown_to_students_are_clean(path):
    for i, cell in cells(path, "code"):
        text = output_text(cell)
        assert "\x1b[" not in text, f"{path.name} cell {i}: raw ANSI escapes in the output"
        assert "Exception encountered when calling" not in text, f"{path.name} cell {i}: Keras's wrapper, not our message"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_ends_with_references(path):
    last = cells(path, "markdown")[-1][1].source
    assert last.lstrip().startswith("## References"), f"{path.name}: the last markdown cell is not References"
    entries = [line for line in last.splitlines() if re.match(r"\s*(\d+\.|-) ", line)]
    assert entries and all("http" in line or "docs/" in line for line in entries), \
        f"{path.name}: every reference needs a link"
    text = "\n".join(cell.source for _, cell in cells(path, "markdown"))
    if "Vaswani" in text:
        assert "Attention Is All You Need" in last, f"{path.name} names Vaswani et al. without the paper's title"


def pointers(text):
    return {int(n) for n in re.findall(r"\bnotebooks? (\d\d)\b", text)}


def test_no_text_points_at_a_notebook_that_does_not_exist():
    present = {int(path.name[:2]) for path in NOTEBOOKS}
    texts = {path.name: "\n".join(cell.source for cell in nbformat.read(path, as_version=4).cells)
             for path in NOTEBOOKS}
    texts["README.md"] = (ROOT / "README.md").read_text(encoding="utf-8")
    series = (ROOT / "docs" / "SERIES.md").read_text(encoding="utf-8")
    texts["docs/SERIES.md"] = "\n".join(line for line in series.splitlines() if "(planned)" not in line)
    for name, text in texts.items():
        missing = pointers(text) - present
        assert not missing, f"{name} points at notebook(s) {sorted(missing)}, which are not in notebooks/"


def test_pointer_finder_sees_what_it_must():
    assert pointers("as notebook 10 shows; notebooks 03 and 04") == {10, 3}
