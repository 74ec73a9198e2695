"""Compare a stochastic estimate of a VAE objective with its exact value."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

__all__ = ["OracleCheck", "assert_matches_exact", "compare_to_exact"]


class OracleCheck(NamedTuple):
    """Outcome of :func:`compare_to_exact`: Monte Carlo mean and standard error, the exact value,
    the z-score ``(estimate - exact) / stderr`` and whether ``|z| <= z_max``."""

    estimate: float
    stderr: float
    exact: float
    z: float
    passed: bool

    def __str__(self) -> str:
        verdict = "PASS" if self.passed else "FAIL"
        return (f"{verdict}: estimate {self.estimate:.6f} +- {self.stderr:.2g} (s.e.), exact "
                f"{self.exact:.6f}, z = {self.z:+.2f}")


def compare_to_exact(samples, exact, *, z_max=4.0) -> OracleCheck:
    """Compare independent Monte Carlo samples of an estimator with the exact value.

    Parameters
    ----------
    samples : array_like, 1-D
        Independent, identically distributed draws whose mean estimates ``exact`` (e.g. one
        single-particle ELBO estimate per random seed).  At least 2, all finite.
    exact : float
        The exact value, e.g. ``gaussrelbo.elbo(model, x)``.
    z_max : float
        The check passes when ``|mean - exact| <= z_max * stderr``; 4 gives a false alarm rate
        of 6e-5 for a normal mean.

    Returns
    -------
    OracleCheck

    Examples
    --------
    >>> import numpy as np
    >>> draws = 1.0 + np.random.default_rng(0).normal(size=10000)
    >>> compare_to_exact(draws, 1.0).passed
    True
    """
    s = np.asarray(samples, dtype=np.float64).ravel()
    if s.size < 2 or not np.all(np.isfinite(s)):
        raise ValueError(f"`samples` must hold at least 2 finite values, got {s.size} values "
                         f"with {int(np.count_nonzero(~np.isfinite(s)))} non-finite")
    exact = float(exact)
    if not math.isfinite(exact):
        raise ValueError(f"`exact` must be finite, got {exact!r}")
    if not (isinstance(z_max, (int, float)) and z_max > 0):
        raise ValueError(f"`z_max` must be a positive number, got {z_max!r}")
    est = float(np.mean(s))
    se = float(np.std(s, ddof=1) / math.sqrt(s.size))
    diff = est - exact
    z = diff / se if se > 0 else (0.0 if diff == 0 else math.copysign(math.inf, diff))
    return OracleCheck(est, se, exact, z, abs(z) <= z_max)


def assert_matches_exact(samples, exact, *, z_max=4.0) -> OracleCheck:
    """:func:`compare_to_exact`, raising ``AssertionError`` (with the numbers) when it fails.

    Parameters
    ----------
    samples : array_like, shape (N,)
        Independent Monte Carlo draws of the quantity under test (one estimate per draw).
    exact : float
        The exact value it must reproduce (e.g. a gaussrelbo closed form).
    z_max : float, default 4.0
        Largest accepted ``|z|``, with ``z`` = (sample mean − exact) / standard error.

    Returns
    -------
    OracleCheck
        The comparison (estimate, standard error, exact value, z-score), when it passed.
    """
    check = compare_to_exact(samples, exact, z_max=z_max)
    if not check.passed:
        raise AssertionError(str(check))
    return check
