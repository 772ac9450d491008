"""Every notebook survives "run all" twice in the same kernel (quick mode).

No cell may depend on running once (a file it creates, a variable it
consumes), and the outputs nbval compares (cells marked NBVAL_CHECK_OUTPUT)
must come out the same both times. The cells go to the kernel through
jupyter_client's blocking `execute_interactive`: nbclient's asynchronous
shell polling can miss the reply of a cell that opens widgets and wait out
its whole timeout (nbclient issue 312).
"""
from pathlib import Path

import nbformat
import pytest
from jupyter_client.manager import start_new_kernel

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CHECK_MARK = "# NBVAL_CHECK_OUTPUT"


def run_all(client, cells):
    """Run `cells` in order; return the text of the compared cells' outputs."""
    checked = []
    for index, cell in enumerate(cells):
        texts = []

        def keep(message):
            content = message["content"]
            if message["msg_type"] == "stream":
                texts.append(content["text"])
            elif message["msg_type"] in ("execute_result", "display_data"):
                texts.append(content["data"].get("text/plain", ""))

        reply = client.execute_interactive(cell.source, timeout=900, output_hook=keep)["content"]
        assert reply["status"] == "ok", (
            f"cell {index} failed: {reply.get('ename')}: {reply.get('evalue')}\n{cell.source[:300]}")
        if cell.source.startswith(CHECK_MARK):
            checked.append("".join(texts))
    return checked


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_run_all_twice_in_one_kernel_gives_the_same_checked_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    manager, client = start_new_kernel(kernel_name="python3", cwd=str(path.parent))
    try:
        first = run_all(client, cells)
        second = run_all(client, cells)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    assert first == second
