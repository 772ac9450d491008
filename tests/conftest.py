"""Fixtures shared by the tests in this folder."""
import subprocess
import venv

import pytest


@pytest.fixture(scope="session")
def throwaway_python(tmp_path_factory):
    """make(name, *packages, system_site_packages) -> the python of a new virtual environment.

    The environment lives in a temporary folder and gets `packages` from the
    package index; with system_site_packages it also sees this machine's
    packages (and `helpers`), without it only what pip installed.
    """
    def make(name, *packages, system_site_packages):
        env = tmp_path_factory.mktemp(name)
        venv.create(env, system_site_packages=system_site_packages, with_pip=True)
        python = env / "bin" / "python"
        install = subprocess.run([python, "-m", "pip", "install", "-q", *packages],
                                 capture_output=True, text=True)
        assert install.returncode == 0, f"could not install {packages}:\n{install.stderr[-2000:]}"
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
