"""Hypothesis strategies for testing code against gaussrelbo: random well-conditioned
linear-Gaussian VAEs, data points, data moments, sample matrices and Renyi orders.

Public: use them in your own property-based tests (``pip install 'gaussrelbo[testing]'`` brings
hypothesis), e.g. ``@given(strategies.problems())`` gives a model, a point and data moments.

Every entry is drawn by hypothesis itself (no hidden seed), so a falsifying example shrinks to
small dimensions and simple numbers.  Entries are bounded, which bounds the conditioning:

* ``W`` in [-2, 2]^(n x k), ``sigma2`` in [0.1, 4]: M = W^T W + sigma2 I >= sigma2 I and
  cond(W W^T + sigma2 I) <= 1 + 4 n k / sigma2 <= 1441;
* ``D`` diagonal in [0.05, 3], or full ``A A^T + eps I`` with A in [-1, 1]^(k x k) and
  eps in [0.05, 1] (cond <= 1 + k / eps <= 121);
* data: points and means in [-4, 4]^n, covariances ``B B^T`` of any rank 0..n (B in [-2, 2]).

Zeros, repeated entries, zero columns of W (so W^T W diagonal) and singular data covariances all
occur; the model stays well-posed because sigma2 and the encoder covariance are bounded below.

Examples
--------
>>> from hypothesis import given, settings
>>> from gaussrelbo.testing import strategies
>>> import gaussrelbo as gr
>>> @settings(max_examples=5, database=None)
... @given(strategies.problems())
... def test_bound(prob):
...     assert gr.elbo(prob.model, prob.x) <= gr.log_evidence(prob.model, prob.x) + 1e-9
>>> test_bound()
"""

from functools import lru_cache
from typing import NamedTuple

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gaussrelbo as gr

__all__ = [
    "EXAMPLE",
    "Problem",
    "alphas",
    "batches",
    "data_moments",
    "dims",
    "encoder_covs",
    "models",
    "orders_near_one",
    "points",
    "problems",
    "samples",
    "vr_orders",
]

dims = st.integers(1, 6)

# Each strategy is built once per distinct arguments and then reused: hypothesis validates a new
# strategy object on its first draw, and rebuilding the entries' strategies for every generated
# problem cost more than half of drawing it.  The values drawn are the same.
_reused = lru_cache(maxsize=None)


@_reused
def _floats(lo, hi):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False)


@_reused
def _arrays(shape, lo, hi):
    # fill=nothing(): every entry is drawn independently (no constant fill value).
    return hnp.arrays(np.float64, shape, elements=_floats(lo, hi), fill=st.nothing())


class Problem(NamedTuple):
    """A model, one data point ``x`` of shape (n,), and population moments ``data``."""

    model: gr.LinearGaussianVAE
    x: np.ndarray
    data: gr.DataMoments


@_reused
@st.composite
def encoder_covs(draw, k, diagonal):
    """An encoder covariance: diagonal (shape (k,)) or full SPD (shape (k, k))."""
    if diagonal:
        return draw(_arrays((k,), 0.05, 3.0))
    A = draw(_arrays((k, k), -1.0, 1.0))
    eps = draw(_floats(0.05, 1.0))
    D = A @ A.T + eps * np.eye(k)
    return 0.5 * (D + D.T)


@_reused
@st.composite
def models(draw, n=None, k=None, diagonal=None):
    """A ``LinearGaussianVAE`` with n, k in 1..6 and a diagonal or full encoder covariance."""
    n = draw(dims) if n is None else n
    k = draw(dims) if k is None else k
    diagonal = draw(st.booleans()) if diagonal is None else diagonal
    W = draw(_arrays((n, k), -2.0, 2.0))
    b = draw(_arrays((n,), -2.0, 2.0))
    sigma2 = draw(_floats(0.1, 4.0))
    V = draw(_arrays((k, n), -1.0, 1.0))
    c = draw(_arrays((k,), -1.0, 1.0))
    D = draw(encoder_covs(k, diagonal))
    return gr.LinearGaussianVAE(W, b, sigma2, V=V, c=c, D=D,
                                encoder="diagonal" if diagonal else "full")


def points(n):
    """A data point of shape (n,)."""
    return _arrays((n,), -4.0, 4.0)


@_reused
@st.composite
def data_moments(draw, n):
    """``DataMoments`` with mean in [-4, 4]^n and covariance B B^T of rank 0..n."""
    r = draw(st.integers(0, n))
    B = draw(_arrays((n, r), -2.0, 2.0))
    S = B @ B.T
    return gr.DataMoments(draw(points(n)), 0.5 * (S + S.T))


@_reused
@st.composite
def samples(draw, n, max_rows=12):
    """A sample matrix X of shape (N, n), N in 1..max_rows, around an offset in [-4, 4]^n."""
    N = draw(st.integers(1, max_rows))
    offset = draw(points(n))
    return offset + draw(_arrays((N, n), -3.0, 3.0))


@_reused
@st.composite
def problems(draw, n=None, k=None, diagonal=None):
    """A :class:`Problem`: model, data point and population moments of matching n."""
    model = draw(models(n, k, diagonal))
    return Problem(model, draw(points(model.n)), draw(data_moments(model.n)))


@_reused
@st.composite
def batches(draw, max_size=3, diagonal=None):
    """A list of 1..max_size problems sharing n, k and the encoder family (for stacking)."""
    n, k = draw(dims), draw(dims)
    diagonal = draw(st.booleans()) if diagonal is None else diagonal
    size = draw(st.integers(1, max_size))
    return [draw(problems(n, k, diagonal)) for _ in range(size)]


# Renyi orders alpha > 0: the exact limit points, a plain range, and a log-uniform range.
alphas = st.one_of(
    st.sampled_from([1.0, 1.0 + 1e-12, 1.0 - 1e-12, 0.5, 2.0]),
    _floats(0.05, 20.0),
    _floats(-2.0, 2.0).map(lambda e: float(10.0**e)),
)

# |alpha - 1| small but well above rounding (for limits taken numerically).
orders_near_one = st.sampled_from([1.0, 1.0 + 1e-12, 1.0 - 1e-12, 1.0 + 1e-9, 1.0 - 1e-9])

# Li & Turner's order: any real; include the limit points 0 and 1.
vr_orders = st.one_of(st.sampled_from([0.0, 1.0, 0.5, -1.0, 2.0]), _floats(-2.0, 4.0))


def _example_problem(diagonal):
    """A fixed problem for ``@example`` rows (hypothesis requires every argument there)."""
    rng = np.random.default_rng(20231206)
    n, k = 4, 3
    W = rng.normal(size=(n, k))
    A = rng.normal(size=(k, k))
    D = rng.uniform(0.2, 1.0, k) if diagonal else A @ A.T / k + 0.3 * np.eye(k)
    model = gr.LinearGaussianVAE(W, rng.normal(size=n), 0.6, V=0.5 * rng.normal(size=(k, n)),
                                 c=0.3 * rng.normal(size=k),
                                 D=0.5 * (D + D.T) if not diagonal else D,
                                 encoder="diagonal" if diagonal else "full")
    B = rng.normal(size=(n, n))
    return Problem(model, rng.normal(size=n), gr.DataMoments(rng.normal(size=n), B @ B.T / n))


EXAMPLE = {"diag": _example_problem(True), "full": _example_problem(False)}
