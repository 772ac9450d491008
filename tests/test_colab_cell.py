"""Every notebook opens with the same set-up cell, which makes it run in Google Colab.

The cell installs `helpers` from `$HOSA_SOURCE` when `import helpers` would fail,
and does nothing where the package is installed. Here it runs three ways:
where `helpers` is installed (no pip call), without `helpers` and without
`$HOSA_SOURCE` (a short message, no stack trace), and in a throwaway virtual
environment that, like Colab, already has ipywidgets 7.7 but not `helpers`:
the cell installs `helpers` from a copy of this repository and leaves
ipywidgets at 7.7 (Colab breaks when 8 is forced on it).
"""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def first_code_cell(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return "".join(next(cell for cell in cells if cell["cell_type"] == "code")["source"])


SETUP = first_code_cell(NOTEBOOKS[0])


def run_cell(python, tmp_path, **env):
    script = tmp_path / "setup_cell.py"
    script.write_text(SETUP + "\nimport helpers\nprint('helpers from', helpers.__file__)\n")
    return subprocess.run([str(python), str(script)], capture_output=True, text=True, cwd=tmp_path,
                          env={"PATH": os.environ["PATH"], "HOME": str(tmp_path), **env})


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_notebook_starts_with_the_same_setup_cell(path):
    assert first_code_cell(path) == SETUP
    assert 'os.environ.get("HOSA_SOURCE")' in SETUP and "pip" in SETUP


def test_does_nothing_where_helpers_is_installed(tmp_path):
    run = run_cell(sys.executable, tmp_path, HOSA_SOURCE="/nonexistent/would-fail-if-used")
    assert run.returncode == 0, run.stderr[-2000:]
    assert f"helpers from {REPO / 'helpers' / '__init__.py'}" in run.stdout


@pytest.fixture(scope="module")
def colab_like_python(throwaway_python):
    """A Python with ipywidgets 7.7 (as Colab has) and no `helpers`."""
    return throwaway_python("colab", "ipywidgets==7.7.*", see_running_packages=False)


def test_without_a_source_says_what_to_do(colab_like_python, tmp_path):
    run = run_cell(colab_like_python, tmp_path)
    assert run.returncode == 1
    assert "helpers is not installed. In Colab run  %env HOSA_SOURCE=git+" in run.stderr
    assert "Traceback" not in run.stderr


def test_installs_helpers_and_keeps_ipywidgets_7(colab_like_python, tmp_path):
    source = tmp_path / "series"
    shutil.copytree(REPO / "helpers", source / "helpers", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    run = run_cell(colab_like_python, tmp_path, HOSA_SOURCE=str(source))
    assert run.returncode == 0, run.stderr[-3000:]
    installed = Path(run.stdout.split("helpers from ", 1)[1].strip())
    assert "site-packages" in installed.parts, installed
    check = subprocess.run([colab_like_python, "-c", "import ipywidgets, sacrebleu; print(ipywidgets.__version__)"],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr[-2000:]
    assert check.stdout.startswith("7.7"), f"the cell changed ipywidgets to {check.stdout}"
