"""Run the Examples sections of every public module as doctests, on the installed package."""

import doctest
import importlib
import pkgutil

import gaussrelbo
import pytest

MODULES = sorted(name for _, name, _ in pkgutil.walk_packages(gaussrelbo.__path__,
                                                              prefix="gaussrelbo.")
                 if name != "gaussrelbo.__main__" and ".derivations" not in name)


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    if name == "gaussrelbo.estimator":
        pytest.importorskip("sklearn", reason="the estimator needs the optional extra "
                            "gaussrelbo[sklearn]")
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert result.failed == 0, f"{result.failed} doctest(s) failed in {name}"


def test_public_modules_have_doctests():
    counted = {name: doctest.testmod(importlib.import_module(name)).attempted for name in MODULES
               if name != "gaussrelbo.estimator"}
    for name in ("gaussrelbo.entropy", "gaussrelbo.objectives", "gaussrelbo.encoders"):
        assert counted[name] > 0, name
