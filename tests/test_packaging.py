"""Packaging: one version, the metadata files, the type check, lazy imports and __dir__."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import gaussrelbo

ROOT = Path(__file__).resolve().parents[1]


def test_single_version():
    from importlib.metadata import version
    assert version("gaussrelbo") == gaussrelbo.__version__
    cff = (ROOT / "CITATION.cff").read_text()
    assert f'version: "{gaussrelbo.__version__}"' in cff
    assert "arXiv:2312.06828" in cff                     # the seed paper is cited
    assert (ROOT / "LICENSE").read_text().startswith("BSD 3-Clause License")
    assert "## [Unreleased]" in (ROOT / "CHANGELOG.md").read_text()


def test_package_is_typed():
    assert (Path(gaussrelbo.__file__).parent / "py.typed").is_file()


def test_import_is_lazy_and_dir_lists_everything():
    code = ("import sys, json, gaussrelbo as gr; heavy = [m for m in ('scipy', 'matplotlib', "
            "'sklearn', 'sympy', 'mpmath', 'gaussrelbo.optima', 'gaussrelbo.montecarlo') "
            "if m in sys.modules]; print(json.dumps([heavy, dir(gr)]))")
    heavy, names = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True,
                                             text=True, check=True).stdout)
    assert heavy == []
    for name in gaussrelbo.__all__ + ["optima", "montecarlo", "testing", "__version__"]:
        assert name in names, name
    assert gaussrelbo.optima.__name__ == "gaussrelbo.optima"
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        gaussrelbo.nonexistent


def test_monte_carlo_imports_scipy_stats_only_when_it_needs_it():
    code = ("import sys, gaussrelbo.montecarlo; print('scipy.stats' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False"


def test_garbage_collector_is_on_while_tests_run():
    # tests/conftest.py switches it off for start-up and collection only
    import gc
    assert gc.isenabled()


def test_mypy_type_checks_the_package_and_catches_misuse(tmp_path):
    pytest.importorskip("mypy", reason="mypy is in the test extra; CI installs it")
    src = Path(gaussrelbo.__file__).resolve().parent
    # the project's [tool.mypy] settings (the optional back ends are not followed)
    cmd = [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"),
           "--cache-dir", str(tmp_path / "cache"), "--no-error-summary"]
    env = dict(os.environ)
    env.pop("MYPYPATH", None)
    if "site-packages" not in src.parts:
        # an editable install: mypy does not follow its import hook, so point it at the source
        env["MYPYPATH"] = str(src.parent)
    proc = subprocess.run(cmd + ["-p", "gaussrelbo"], capture_output=True, text=True,
                          cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # the public signatures are seen by the type checker: a wrong call is an error
    bad = tmp_path / "bad.py"
    bad.write_text("import gaussrelbo as gr\n"
                   "m = gr.LinearGaussianVAE.from_decoder([[1.0]], [0.0])\n"
                   "gr.optimal_encoder(m, encoder=1)\n")
    proc = subprocess.run(cmd + [str(bad)], capture_output=True, text=True, cwd=tmp_path,
                          env=env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert 'Missing positional argument "sigma2"' in proc.stdout
    assert 'Argument "encoder" to "optimal_encoder" has incompatible type "int"' in proc.stdout


def test_no_top_level_derivations_and_generator_never_writes_into_the_install(tmp_path):
    import importlib.util
    assert importlib.util.find_spec("derivations") is None
    installed = Path(gaussrelbo.__file__).resolve().parent != ROOT / "gaussrelbo"
    if not installed:
        pytest.skip("editable install: the generator's default root is this checkout")
    pytest.importorskip("sympy", reason="the generator needs the derive extra (sympy)")
    # run outside the checkout, so that `-m` finds the installed package, not ./gaussrelbo
    proc = subprocess.run([sys.executable, "-m", "gaussrelbo.derivations", "--no-check"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2
    assert "pass --root DIR" in proc.stderr
