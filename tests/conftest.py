"""Fixtures shared by the tests in this folder."""
import site
import subprocess
import sys
import venv
from pathlib import Path

import pytest


def _site_dirs():
    """The running interpreter's site-packages folders: a venv's, a conda env's or the system's."""
    dirs = list(site.getsitepackages())
    if site.ENABLE_USER_SITE:
        dirs.append(site.getusersitepackages())
    return dirs


@pytest.fixture(scope="session")
def throwaway_python(tmp_path_factory):
    """make(name, *packages, see_running_packages) -> the python of a new virtual environment.

    The environment lives in a temporary folder and gets `packages` from the
    package index. With see_running_packages it then also sees the packages
    of the interpreter running the tests (`helpers` among them), after its
    own, so what it installed wins: a `.pth` file adds that interpreter's
    site-packages with `site.addsitedir`, which also reads their `.pth` files
    (the editable install of `helpers` is one). This works whatever runs the
    suite: a venv, a conda env or the system Python (`venv`'s
    `system_site_packages` would see the base interpreter's packages, not a
    venv's). Without it, the environment has only what pip installed.
    """
    def make(name, *packages, see_running_packages):
        env = tmp_path_factory.mktemp(name)
        venv.create(env, with_pip=True)
        python = env / "bin" / "python"
        install = subprocess.run([python, "-m", "pip", "install", "-q", *packages],
                                 capture_output=True, text=True)
        assert install.returncode == 0, f"could not install {packages}:\n{install.stderr[-2000:]}"
        if see_running_packages:
            own = subprocess.run([python, "-c", "import site; print(site.getsitepackages()[0])"],
                                 capture_output=True, text=True, check=True).stdout.strip()
            lines = [f"import site; site.addsitedir({d!r})" for d in _site_dirs()]
            (Path(own) / "zz_running_interpreter.pth").write_text("\n".join(lines) + "\n")
        return python

    return make


@pytest.fixture
def verdict(capsys):
    """verdict(check, fn, expected) -> what check(fn) returned, after asserting its printout holds `expected`."""
    def judge(check, fn, expected):
        result = check(fn)
        out = capsys.readouterr().out
        assert expected in out, out
        return result

    return judge
