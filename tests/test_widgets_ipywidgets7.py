"""The explorers work with ipywidgets 7.7, what Google Colab ships.

A throwaway virtual environment gets ipywidgets 7.7 from the package index
and then sees, after its own, the packages of the interpreter that runs the
tests (so `helpers` and its other dependencies are there); the test then checks that every ipywidgets name `helpers/widgets.py`
uses exists there, and drives the explorers from that interpreter.
"""
import re
import subprocess
import textwrap
from pathlib import Path

import pytest

WIDGETS_SOURCE = Path(__file__).resolve().parents[1] / "helpers" / "widgets.py"

DRIVE = textwrap.dedent("""
    import sys
    import ipywidgets
    import numpy as np
    assert ipywidgets.__version__.startswith("7.7"), ipywidgets.__version__
    missing = [name for name in sys.argv[1:] if not hasattr(ipywidgets, name)]
    assert not missing, f"not in ipywidgets {ipywidgets.__version__}: {missing}"
    from helpers.widgets import temperature_explorer, weights_explorer
    panel = temperature_explorer(np.eye(4), np.eye(4), list("abcd"))
    panel.children[0].value = 0.5
    panel.children[1].value = 2
    expected = np.exp(np.eye(4)[2] / (0.5 * 2.0))
    assert np.allclose(panel.result.row, expected / expected.sum()), panel.result.row
    weights = np.random.default_rng(0).random((2, 4, 4))
    panel = weights_explorer(weights, list("abcd"), ("head",), stills=[{}])
    panel.children[0].value = 1
    assert np.array_equal(panel.result.weights, weights[1])
    print("ok", ipywidgets.__version__)
""")


@pytest.fixture(scope="module")
def python_with_ipywidgets_7(throwaway_python):
    return throwaway_python("ipywidgets7", "ipywidgets==7.7.*", see_running_packages=True)


def test_explorers_run_on_ipywidgets_7_7(python_with_ipywidgets_7, tmp_path):
    used = sorted(set(re.findall(r"\bwidgets\.(\w+)", WIDGETS_SOURCE.read_text())))
    assert used, "helpers/widgets.py should name the ipywidgets it uses as widgets.<Name>"
    script = tmp_path / "drive.py"
    script.write_text(DRIVE)
    run = subprocess.run([python_with_ipywidgets_7, script, *used], capture_output=True, text=True,
                         env={"MPLBACKEND": "Agg", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert run.returncode == 0, run.stderr[-3000:]
    assert "ok 7.7" in run.stdout.splitlines()[-1], run.stdout[-500:]
