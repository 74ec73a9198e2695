"""Shared test configuration: deterministic hypothesis profiles, and where gaussrelbo came from."""

import importlib.util
import os
import sys
from pathlib import Path

import gaussrelbo
from hypothesis import HealthCheck, settings

# The docs-site helpers (tests/docsite.py: one build per session, shared by test_docs.py and
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


def pytest_report_header(config):
    return f"gaussrelbo {gaussrelbo.__version__} imported from {os.path.dirname(gaussrelbo.__file__)}"
