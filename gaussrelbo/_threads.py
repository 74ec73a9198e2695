"""BLAS thread limits for small-matrix work.

The basin maps and sweeps work on many small matrices (a few by a few dozen).  On such sizes a
threaded BLAS gains nothing and, on a loaded machine, loses a lot: its threads spin-wait for each
other in every call.  Parallelism comes from batching and from the sweep engine instead, so by
default these entry points run with BLAS limited to one thread.

``blas_threads`` (an argument of :func:`gaussrelbo.basin_map` and :func:`gaussrelbo.sweep`)
chooses otherwise: a positive integer is a thread limit, ``"all"`` leaves BLAS alone.  When the
argument is ``None`` the environment variable ``GAUSSRELBO_BLAS_THREADS`` decides (same values),
and without it the limit is 1.  The limit needs ``threadpoolctl`` (the ``sweep`` extra); without it
the calls run unchanged.
"""

import contextlib
import os

import numpy as np

__all__ = ["ENV_VAR", "blas_limit", "check_blas_threads"]

ENV_VAR = "GAUSSRELBO_BLAS_THREADS"


def check_blas_threads(value, name="blas_threads"):
    """``None`` (environment, default 1), a positive int, or ``"all"``: an int limit or None."""
    if value is None:
        raw = os.environ.get(ENV_VAR, "").strip()
        if raw == "":
            return 1
        if raw == "all":
            return None
        if raw.isdigit() and int(raw) >= 1:
            return int(raw)
        raise ValueError(f"environment variable {ENV_VAR} must be a positive integer or 'all', "
                         f"got {raw!r}")
    if isinstance(value, str) and value == "all":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"`{name}` must be a positive integer or 'all', got {value!r}")
    return int(value)


@contextlib.contextmanager
def blas_limit(limit):
    """Limit BLAS to ``limit`` threads inside the block (``None``: no change)."""
    if limit is None:
        yield
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:                       # optional: run unchanged
        yield
        return
    with threadpool_limits(limits=limit, user_api="blas"):
        yield
