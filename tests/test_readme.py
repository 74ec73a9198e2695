"""The README's two set-up commands, CI's script and the installed package agree."""

import os
import re
from pathlib import Path

import gaussrelbo
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands():
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```(?:bash|sh)\n(.*?)\n```", text, flags=re.S)


def test_readme_has_exactly_two_setup_commands():
    setup = [c for c in _readme_commands() if c.startswith("python3 -m venv")]
    assert len(setup) == 2, setup
    assert "gaussrelbo report" in setup[0]
    assert setup[1].endswith("pytest")


def test_ci_runs_the_readme_test_command():
    test_cmd = [c for c in _readme_commands() if c.startswith("python3 -m venv")][1]
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_cmd in ci


@pytest.mark.skipif(not os.environ.get("CI"), reason="only CI installs the package non-editable")
def test_ci_imports_the_installed_package_not_the_source_tree():
    assert Path(gaussrelbo.__file__).resolve().parent != ROOT / "gaussrelbo"


def test_readme_python_example_runs(capsys):
    text = (ROOT / "README.md").read_text()
    first, *rest = re.findall(r"```python\n(.*?)\n```", text, flags=re.S)
    namespace = {}
    exec(compile(first, "README.md", "exec"), namespace)
    printed = [float(v) for v in capsys.readouterr().out.split()]
    assert len(printed) == 3 and printed[0] >= printed[2] and printed[0] >= printed[1]
    pytest.importorskip("sklearn", reason="the estimator example needs gaussrelbo[sklearn]")
    for block in rest:                      # the estimator example continues the first
        exec(compile(block, "README.md", "exec"), namespace)
    active, noise, score = capsys.readouterr().out.split()
    assert 0 <= int(active) <= 3 and float(noise) > 0 and float(score) < 0
