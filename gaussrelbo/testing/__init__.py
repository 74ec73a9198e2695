"""Testing helpers: use gaussrelbo as the exact oracle for other VAE code.

* the mpmath references of every closed form (``dps`` digits, no SVD or Cholesky) and
  :func:`error_scale`, the floating-point error scale of a problem's conditioning;
* :func:`compare_to_exact` / :func:`assert_matches_exact`: a Monte Carlo estimate against the
  exact value, by its z-score;
* :mod:`gaussrelbo.testing.strategies`: public hypothesis strategies (needs hypothesis).

See the documentation page "Test your VAE loss against the exact answer".
"""

from ._references import *  # noqa: F401,F403
from ._references import __all__ as _REFERENCES
from ._oracle import OracleCheck, assert_matches_exact, compare_to_exact

__all__ = [*_REFERENCES, "OracleCheck", "assert_matches_exact", "compare_to_exact"]
