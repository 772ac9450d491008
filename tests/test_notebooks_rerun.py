"""Every notebook survives "run all" twice in the same kernel (quick mode).

No cell may depend on running once (a file it creates, a variable it
consumes), and the outputs nbval compares (cells marked NBVAL_CHECK_OUTPUT)
must come out the same both times.
"""
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CHECK_MARK = "# NBVAL_CHECK_OUTPUT"


def checked_text(cell):
    """The text of a compared cell's outputs (streams and plain-text results)."""
    parts = []
    for output in cell.outputs:
        if output.output_type == "stream":
            parts.append(output.text)
        elif "data" in output:
            parts.append(output.data.get("text/plain", ""))
    return "".join(parts)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_run_all_twice_in_one_kernel_gives_the_same_checked_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    runs = []
    with client.setup_kernel():
        for _ in range(2):
            for index, cell in enumerate(notebook.cells):
                client.execute_cell(cell, index)
            runs.append([checked_text(cell) for cell in notebook.cells
                         if cell.cell_type == "code" and cell.source.startswith(CHECK_MARK)])
    first, second = runs
    assert first == second
