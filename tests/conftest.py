"""Shared test configuration: deterministic hypothesis profiles, and where gaussrelbo came from."""

import contextlib
import fcntl
import gc
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

# Start-up (this file's imports, then collecting the test modules, which import scipy, sympy,
# matplotlib, scikit-learn, ...) creates about a million long-lived objects and little garbage.
# With the cyclic garbage collector on, every full collection rescans all of them: start-up took
# 6.3 s per process, 4.3 s without.  So it is off until collection ends (pytest_collection
# below), which then frees what garbage there is and freezes the survivors out of later scans.
gc.disable()

# The suite works on small matrices: one BLAS thread per process.  Two pytest-xdist workers with
# two BLAS threads each would fight over two cores (small-matrix code 3-12 times slower).  Set
# before numpy loads where this file is imported first, inherited by the subprocesses (the
# report, the docs build, the quick benchmark), and enforced below where numpy is already loaded.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
# The jax tests (numpyro bridge, oracle recipe) compile a few small functions once each and run
# them once: XLA's optimisation passes cost more than they save (their CPU: 14-16 s -> 10 s).
os.environ.setdefault("XLA_FLAGS", "--xla_backend_optimization_level=0 "
                                   "--xla_llvm_disable_expensive_passes=true")

import gaussrelbo  # noqa: E402
import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

try:                                          # in the test extra; a plain install may lack it
    from threadpoolctl import threadpool_limits
except ImportError:                           # pragma: no cover
    pass
else:
    threadpool_limits(limits=1, user_api="blas")

# The docs-site helpers (tests/docsite.py: one build per test run, shared by test_docs.py and
# test_browser.py) are registered once here: with --import-mode=importlib a test module cannot
# import its sibling by name.
if "gaussrelbo_test_docsite" not in sys.modules:
    _spec = importlib.util.spec_from_file_location("gaussrelbo_test_docsite",
                                                   Path(__file__).with_name("docsite.py"))
    _module = importlib.util.module_from_spec(_spec)
    sys.modules["gaussrelbo_test_docsite"] = _module
    _spec.loader.exec_module(_module)

# The shared hypothesis strategies are public: `from gaussrelbo.testing import strategies`.

# "ci" is deterministic (derandomized, no example database) so a CI run is reproducible;
# "dev" explores more.  CI=true selects "ci"; HYPOTHESIS_PROFILE overrides.
settings.register_profile("ci", derandomize=True, database=None, max_examples=40, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow], print_blob=True)
settings.register_profile("dev", max_examples=100, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE",
                                     "ci" if os.environ.get("CI") else "dev"))


@pytest.hookimpl(hookwrapper=True)
def pytest_collection(session):
    # also under pytest-xdist, whose controller collects nothing: collection "ends" there at once
    yield
    gc.enable()
    gc.collect()
    gc.freeze()


def pytest_report_header(config):
    return f"gaussrelbo {gaussrelbo.__version__} imported from {os.path.dirname(gaussrelbo.__file__)}"


# ---- expensive commands run once per test run, shared by the pytest-xdist workers -------------

@contextlib.contextmanager
def _locked(path):
    """An exclusive lock on ``path``: one process at a time."""
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def run_once(tmp_path_factory):
    """``run_once(name, args, prepare=None, **kw)`` runs ``args`` (``{root}`` in an argument is
    replaced by the command's directory) once per test run, in a fresh directory ``name`` under
    the run's temporary directory, and returns ``(directory, CompletedProcess)``.  Under
    pytest-xdist the first worker to ask runs it while holding a file lock; the others wait and
    read its result, so a docs build or a regeneration is not repeated per worker.
    ``prepare(directory)`` fills the directory first; ``kw`` goes to :func:`subprocess.run`."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent                      # the run's directory, above every worker's

    def run(name, args, prepare=None, **kw):
        root = base / name
        with _locked(base / f"{name}.lock"):
            done = base / f"{name}.json"
            if done.exists():
                return root, subprocess.CompletedProcess(**json.loads(done.read_text()))
            shutil.rmtree(root, ignore_errors=True)
            root.mkdir()
            if prepare is not None:
                prepare(root)
            proc = subprocess.run([str(a).format(root=root) for a in args], cwd=root,
                                  capture_output=True, text=True, **kw)
            done.write_text(json.dumps({"args": proc.args, "returncode": proc.returncode,
                                        "stdout": proc.stdout, "stderr": proc.stderr}))
        return root, proc

    return run


# The default report: `gaussrelbo report --out DIR` with every other option at its default, built
# once per test run and shared.  The docs site copies its figures (`docs/build.py --gallery-from`)
# instead of drawing them again; tests/test_report.py reads the same build ("report-default").
DEFAULT_REPORT_COMMAND = (sys.executable, "-m", "gaussrelbo", "report", "--out", "{root}/report")


@pytest.fixture(scope="session")
def default_report(run_once):
    """``(directory, CompletedProcess)`` of the default report (:data:`DEFAULT_REPORT_COMMAND`),
    built by the first pytest-xdist worker that asks (``run_once``)."""
    root, proc = run_once("report-default", DEFAULT_REPORT_COMMAND)
    # run_once shares a build by its name: whoever built "report-default" must have run the same
    # command (tests/test_report.py spells it too)
    expected = [str(a).format(root=root) for a in DEFAULT_REPORT_COMMAND]
    if list(proc.args) != expected:
        raise RuntimeError(f"'report-default' was built by {proc.args}, not by {expected}")
    return root / "report", proc
