"""The generated kernel module: fresh (byte for byte) and equal to the sympy expressions."""

import difflib
import functools
import sys
from pathlib import Path

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given, strategies as st

from gaussrelbo import _generated

SOURCE = Path(__file__).resolve().parents[1]
COMMAND = "python -m gaussrelbo.derivations.generate"
# The derivation modules derive their expressions when imported (seconds of sympy): they are
# imported by the tests that use them, not at collection, so that only the pytest-xdist worker
# that runs a test pays for it.
TOPICS = ("renyi_entropy", "relbo_identity", "closed_forms", "spectral", "stationary")
# Every test that imports the derivation modules or uses their cached symbolic results (the
# checks, the kernels' expressions, the Derivations page's equations and differences; also in
# tests/test_docs.py and tests/test_readings.py) runs on one pytest-xdist worker, so each result
# is computed once per test run.
DERIVATIONS = pytest.mark.xdist_group("derivations")


def _module(name):
    return pytest.importorskip(f"gaussrelbo.derivations.{name}",
                               reason="the derivations package is installed with gaussrelbo")


@DERIVATIONS
def test_topics_are_the_generators():
    generate = _module("generate")
    assert TOPICS == tuple(m.__name__.rsplit(".", 1)[-1] for m in generate.TOPICS)


def _diff(expected, actual, name):
    return "".join(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True),
                                        f"checked-in {name}", f"regenerated {name}"))


@pytest.fixture(scope="module")
def regenerated(run_once):
    # once per test run (shared by the pytest-xdist workers, see conftest.py); the symbolic
    # checks the generator runs by default are run below, one test per derivation, so that
    # pytest-xdist spreads them over the workers instead of one process running them all
    root, proc = run_once("regen", [sys.executable, "-m", "gaussrelbo.derivations", "--root",
                                    "{root}", "--no-check"], timeout=300)
    assert proc.returncode == 0, proc.stderr
    return root


@DERIVATIONS
@pytest.mark.parametrize("topic", TOPICS)
def test_derivation_checks_pass(topic):
    # what `python -m gaussrelbo.derivations` runs before it writes (check() raises
    # AssertionError when a symbolic identity fails)
    _module(topic).check()


def test_sympy_version_is_the_pinned_one():
    assert sp.__version__ == "1.14.0", (
        f"generated text is pinned to sympy 1.14.0, found {sp.__version__}: "
        "install the test extra (pip install '.[test]')")


@pytest.mark.xdist_group("regen")
@pytest.mark.parametrize("rel", ["gaussrelbo/_generated.py", "docs/derivations/renyi_entropy.md",
                                 "docs/derivations/relbo_identity.md",
                                 "docs/derivations/closed_forms.md",
                                 "docs/derivations/spectral.md",
                                 "docs/derivations/stationary.md"])
def test_checked_in_files_are_fresh(regenerated, rel):
    new = (regenerated / rel).read_text()
    old_path = SOURCE / rel
    # tests/ only exists in a source checkout, so a missing generated file is a failure
    assert old_path.exists(), f"{rel} is missing; run `{COMMAND}` and commit the result."
    old = old_path.read_text()
    assert old == new, (f"{rel} is stale; run `{COMMAND}` and commit the result.\n"
                        + _diff(old, new, rel))


@pytest.mark.xdist_group("regen")
def test_installed_generated_module_is_fresh(regenerated):
    installed = Path(_generated.__file__).read_text()
    new = (regenerated / "gaussrelbo/_generated.py").read_text()
    assert installed == new, ("the installed gaussrelbo/_generated.py differs from a fresh "
                              f"`{COMMAND}`:\n" + _diff(installed, new, "_generated.py"))


def test_generated_header():
    text = Path(_generated.__file__).read_text()
    head = text.splitlines()[:3]
    assert COMMAND in head[0] and "DO NOT EDIT" in head[1] and "sympy 1.14.0" in head[1]


@DERIVATIONS
def test_every_kernel_is_generated_and_exported():
    names = [k[0] for k in _module("generate").kernels()]
    assert sorted(names) == sorted(_generated.__all__)
    for name in names:
        assert callable(getattr(_generated, name))


# ---- kernels against the sympy expressions evaluated in mpmath (version independent) -------------

def _mp_ell(a):
    a = mpmath.mpf(a)
    return mpmath.mpf(1) if a == 1 else mpmath.log(a) / (a - 1)


_RANGES = {"lam": (0.05, 20.0), "w": (-3.0, 3.0), "w2": (0.0, 9.0), "v": (-3.0, 3.0),
           "d": (0.05, 5.0), "sigma2": (0.05, 5.0), "alpha": (0.05, 20.0), "beta": (0.05, 20.0),
           "L": (0.1, 20.0), "n": (20.0, 40.0), "r": (0.0, 4.0)}
_RANGE_FLOATS = {a: st.floats(lo, hi) for a, (lo, hi) in _RANGES.items()}


@functools.lru_cache(maxsize=None)
def _lambdified():
    """``{name: (argument names, the sympy expressions lambdified to mpmath)}``, built on first
    use (once per worker)."""
    out = {}
    for name, args, exprs, kind, _ in _module("generate").kernels():
        flat = [exprs] if kind == "scalar" else (
            list(exprs) if kind == "vector" else [e for row in exprs for e in row])
        f = sp.lambdify(args, flat, modules=[{"ell": _mp_ell}, "mpmath"])
        out[name] = ([a.name for a in args], f)
    return out


# every exported kernel (test_every_kernel_is_generated_and_exported: exactly the generator's)
@DERIVATIONS
@pytest.mark.parametrize("name", _generated.__all__)
@given(data=st.data())
def test_kernel_matches_mpmath(name, data):
    argnames, ref = _lambdified()[name]
    vals = [data.draw(_RANGE_FLOATS[a], label=a) for a in argnames]
    if name == "sigma2_fixed_point":
        # defined only where it exists: n - beta r > 0 (Theory §9); keep it off the pole
        L, n, r, beta = vals
        assume(n - beta * r >= 1.0)
    got = np.ravel(getattr(_generated, name)(*vals))
    with mpmath.workdps(50):
        want = [mpmath.mpf(x) for x in ref(*[mpmath.mpf(v) for v in vals])]
    assert got.shape == (len(want),)
    for g_, w_ in zip(got, want):
        # Inputs are O(1)..O(20): rounding error is a few ulps of the largest term, at most
        # ~1e3 in these ranges (lam/sigma2^2), so 1e-12 of max(1, |value|) is ~10x headroom.
        assert abs(g_ - w_) <= 1e-12 * max(1, abs(w_)), (name, vals, g_, w_)


def test_kernels_broadcast():
    lam = np.array([[1.0], [2.0]])
    w = np.array([0.5, 1.0, 1.5])
    assert _generated.f_loglik(lam, w, 0.3).shape == (2, 3)
    assert _generated.grad_beta(lam, w**2, 0.3, 2.0).shape == (2, 3, 2)
    assert _generated.hess_beta(lam, w**2, 0.3, 2.0).shape == (2, 3, 2, 2)


def test_relbo_kernel_at_alpha_near_one_has_no_jump():
    args = (2.0, 1.1, 0.4, 0.3, 0.5)
    f1 = _generated.f_relbo(*args, 1.0)
    assert f1 == _generated.f_elbo(*args)
    for t in (1e-12, -1e-12):
        assert abs(_generated.f_relbo(*args, 1.0 + t) - f1) <= 1e-10 * (1 + abs(f1))
