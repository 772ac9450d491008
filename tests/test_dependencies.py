"""requirements.txt (pip) and environment.yml (conda) list the same packages."""
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def normalise(line):
    return "".join(line.split()).lower()


def pip_requirements():
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    return {normalise(line) for line in lines if line.strip() and not line.startswith("#")}


def conda_pip_section():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_lists = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(pip_lists) == 1, "environment.yml must have one pip: section"
    return {normalise(entry) for entry in pip_lists[0]} - {"-e."}


def test_environment_yml_lists_the_same_packages_as_requirements_txt():
    pip, conda = pip_requirements(), conda_pip_section()
    assert pip == conda, (f"only in requirements.txt: {sorted(pip - conda)}; "
                          f"only in environment.yml: {sorted(conda - pip)}")


def test_environment_pins_python_311():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "python=3.11" in env["dependencies"]
