"""Stable primitives against mpmath at 50 digits."""

import mpmath
import numpy as np
import pytest
from hypothesis import example, given, strategies as st

from gaussrelbo import testing
from gaussrelbo._numerics import ell, ell_deficit, ell_t, log1p_ratio, renyi_weight

EPS = np.finfo(float).eps
SPECIAL = [1.0, 1 + 1e-12, 1 - 1e-12, 1 + EPS, 1 - EPS / 2, 1 + 1e-6, 1 - 1e-6, 1 + 1.1e-6,
           0.5, 2.0, 1e-6, 1e6, 5e-324, 1e-300, 1e300]


def _rel(got, want):
    want = mpmath.mpf(want)
    return float(abs((mpmath.mpf(float(got)) - want) / want))


@pytest.mark.parametrize("alpha", SPECIAL + list(np.geomspace(1e-6, 1e6, 61)))
def test_ell_grid(alpha):
    # mpmath: log(a)/(a-1) at 50 digits, 1 at a = 1 (gaussrelbo.testing.ell)
    assert _rel(ell(alpha), testing.ell(alpha)) <= 1e-14


@given(st.floats(1e-6, 1e6))
@example(1.0)
@example(1 + 1e-12)
@example(1 - 1e-12)
def test_ell_hypothesis(alpha):
    assert _rel(ell(alpha), testing.ell(alpha)) <= 1e-14


def test_ell_exact_one_and_array():
    assert ell(1.0) == 1.0
    a = np.array([[0.5, 1.0], [2.0, 1 + 1e-12]])
    out = ell(a)
    assert out.shape == (2, 2) and out[0, 1] == 1.0
    assert isinstance(ell(2.0), float) or np.ndim(ell(2.0)) == 0


@given(st.floats(-0.999, 1e3))
@example(0.0)
@example(1e-12)
@example(-1e-12)
def test_ell_t(t):
    with mpmath.workdps(50):
        tt = mpmath.mpf(t)
        want = 1 if t == 0 else mpmath.log1p(tt) / tt
    assert _rel(ell_t(t), want) <= 1e-14


@given(st.floats(-0.99, 1e3))
@example(0.0)
@example(1e-12)
@example(0.2499)
@example(0.25)
@example(-0.25)
def test_ell_deficit(t):
    with mpmath.workdps(60):
        tt = mpmath.mpf(t)
        # Series below 1e-30 (mpmath's log1p of a subnormal is exact to its precision only).
        want = (mpmath.mpf(1) / 2 - tt / 3 + tt**2 / 4 if abs(t) < 1e-30
                else (tt - mpmath.log1p(tt)) / tt**2)
    # The direct quotient loses at most ~2 eps/|t| (documented); |t| >= 1/4 there.
    assert _rel(ell_deficit(t), want) <= 1e-14


@given(st.floats(1e-6, 1e6))
@example(1.0)
def test_renyi_weight(alpha):
    with mpmath.workdps(50):
        want = (1 - mpmath.mpf(alpha)) / mpmath.mpf(alpha)
    got = renyi_weight(alpha)
    if alpha == 1.0:
        assert got == 0.0
    else:
        # (1 - a) is exact for 1/2 <= a <= 2 and has relative error <= eps otherwise.
        assert _rel(got, want) <= 4 * EPS


@given(st.floats(-0.5, 0.5), st.floats(-1.0, 1.0))
@example(0.0, 0.3)
@example(1e-12, -0.7)
@example(5e-324, 0.5)
def test_log1p_ratio(t, y):
    with mpmath.workdps(50):
        u = mpmath.mpf(t) * mpmath.mpf(y)
        want = mpmath.mpf(y) if t == 0 else mpmath.log1p(u) / mpmath.mpf(t)
    got = log1p_ratio(t, y)
    if want == 0:
        assert got == 0
    else:
        # t*y is rounded once (relative eps), the quotient once more.
        assert _rel(got, want) <= 4 * EPS
