"""Testing helpers: high-precision mpmath references (re-exported from ``_references``)."""

from ._references import *  # noqa: F401,F403
from ._references import __all__  # noqa: F401
