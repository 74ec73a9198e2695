"""The stable primitives of ``gaussrelbo._numerics`` against mpmath at 50 digits.

References are ``gaussrelbo.testing``'s kernels: each takes the double it is given as an exact
rational and evaluates the textbook expression at 50 digits (extra guard bits where mpmath's
``log1p`` of a tiny argument would lose them), e.g. ``ell(a) = log(a)/(a-1)`` with ``ell(1) = 1``.
"""

import mpmath
import numpy as np
import pytest
from hypothesis import assume, example, given, strategies as st

from gaussrelbo import testing
from gaussrelbo._numerics import (ell, ell_deficit, ell_t, log1p_ratio, log1p_sq_ratio,
                                  renyi_weight)

EPS = np.finfo(float).eps
RTOL = 1e-14

# alpha = 1 exactly, 1 +- 1e-12, the doubles next to 1 (spacing eps above, eps/2 below), both
# sides of the series/direct switch at |alpha - 1| = 1e-6, and the ends of the double range.
NEAR_ONE = ([1.0, 1 + 1e-12, 1 - 1e-12, 1 + 1e-9, 1 - 1e-9]
            + [1 + j * EPS for j in (1, 2, 3, 7, 64, 1000)]
            + [1 - j * EPS / 2 for j in (1, 2, 3, 7, 64, 1000)]
            + [np.nextafter(1 + 1e-6, 0), 1 + 1e-6, np.nextafter(1 + 1e-6, 2),
               np.nextafter(1 - 1e-6, 0), 1 - 1e-6, np.nextafter(1 - 1e-6, 2)]
            + list(1 + np.geomspace(1e-15, 0.1, 29)) + list(1 - np.geomspace(1e-15, 0.1, 29)))
ALPHA_GRID = list(np.geomspace(1e-6, 1e6, 97)) + [0.5, 2.0]
EXTREMES = [5e-324, 1e-320, 2.2250738585072014e-308, 1e-300, 1e-100, 1e100, 1e300,
            1.7976931348623157e308] + list(np.geomspace(5e-324, 1e300, 41))

log_uniform = st.floats(-6.0, 6.0).map(lambda e: 10.0 ** e)


def _rel(got, want):
    """|got - want| / |want| with the double ``got`` taken exactly."""
    assert np.ndim(got) == 0
    return float(abs((mpmath.mpf(float(got)) - want) / want))


# ---- ell ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("alpha", NEAR_ONE + ALPHA_GRID + EXTREMES)
def test_ell_grid(alpha):
    # mpmath: log(a)/(a - 1) at 50 digits, 1 at a = 1
    assert _rel(ell(alpha), testing.ell(alpha)) <= RTOL


@given(st.one_of(log_uniform, st.floats(1e-6, 1e6), st.floats(5e-324, 1e300)))
@example(1.0)
@example(1 + 1e-12)
@example(1 - 1e-12)
@example(1 + 1e-6)
@example(5e-324)
def test_ell_hypothesis(alpha):
    assert _rel(ell(alpha), testing.ell(alpha)) <= RTOL


def test_ell_exact_values():
    # exact: ell(1) = 1 (removable singularity), ell(2) = log 2, ell(1/2) = 2 log 2
    assert ell(1.0) == 1.0
    assert _rel(ell(2.0), mpmath.log(2)) <= RTOL
    assert _rel(ell(0.5), 2 * mpmath.log(2)) <= RTOL
    # strictly decreasing through alpha = 1 (Theory §2), on the doubles next to 1
    a = np.array([1 - 2 * EPS, 1 - EPS, 1 - EPS / 2, 1.0, 1 + EPS, 1 + 2 * EPS])
    assert np.all(np.diff(ell(a)) <= 0) and ell(a)[0] > ell(a)[-1]


# ---- ell_t = log1p(t)/t ----------------------------------------------------------------------

T_SPECIAL = [0.0, 1e-12, -1e-12, EPS, -EPS, 5e-324, -5e-324, 1e-300, -1e-300, 1e-6, -1e-6,
             np.nextafter(1e-6, 0), np.nextafter(-1e-6, 0), 0.25, -0.25, -1 + 1e-6, 1e6 - 1,
             *np.geomspace(1e-15, 0.5, 31), *-np.geomspace(1e-15, 0.5, 31)]


@given(st.one_of(st.floats(-1 + 1e-6, 1e6), log_uniform.map(lambda a: a - 1.0),
                 st.floats(-1e-5, 1e-5)))
def test_ell_t_hypothesis(t):
    assume(t > -1)
    assert _rel(ell_t(t), testing.ell_t(t)) <= RTOL


@pytest.mark.parametrize("t", T_SPECIAL)
def test_ell_t_special(t):
    assert _rel(ell_t(t), testing.ell_t(t)) <= RTOL


def test_ell_t_agrees_with_ell():
    # ell(1 + t) = ell_t(t) whenever 1 + t is exact (|t| a multiple of eps near 1)
    t = np.array([-0.5, -EPS / 2, 0.0, EPS, 2.0**-40, 0.75])
    assert np.array_equal(1.0 + t - 1.0, t)
    assert np.allclose(ell(1.0 + t), ell_t(t), rtol=2 * EPS, atol=0)


# ---- ell_deficit = (t - log1p t)/t^2 ------------------------------------------------------------

@given(st.one_of(st.floats(-1 + 1e-6, 1e6), log_uniform.map(lambda a: a - 1.0),
                 st.floats(-0.3, 0.3)))
@example(0.25)
@example(-0.25)
@example(np.nextafter(0.25, 0))
def test_ell_deficit_hypothesis(t):
    assume(t > -1)
    # the direct branch (|t| >= 1/4) loses at most ~2 eps/|t| <= 8 eps (documented)
    assert _rel(ell_deficit(t), testing.ell_deficit(t)) <= RTOL


@pytest.mark.parametrize("t", T_SPECIAL)
def test_ell_deficit_special(t):
    assert _rel(ell_deficit(t), testing.ell_deficit(t)) <= RTOL


def test_ell_deficit_at_zero():
    assert ell_deficit(0.0) == 0.5


# ---- renyi_weight = (1 - alpha)/alpha -----------------------------------------------------------

@given(st.one_of(log_uniform, st.floats(1e-6, 1e6)))
@example(1 + 1e-12)
@example(1 - 1e-12)
@example(1e-6)
@example(1e6)
def test_renyi_weight(alpha):
    assume(alpha != 1.0)
    assert _rel(renyi_weight(alpha), testing.renyi_weight(alpha)) <= RTOL


def test_renyi_weight_exact_zero_at_one():
    assert renyi_weight(1.0) == 0.0
    assert renyi_weight(np.array([1.0, 1.0])).tolist() == [0.0, 0.0]


# ---- log1p_ratio = log1p(t y)/t -----------------------------------------------------------------

def _log1p_ratio_rtol(t, y):
    # y enters through the rounded product u = fl(t y): the relative condition number of
    # log1p(u)/t in y (and in u) is u / ((1 + u) log1p(u)), <= 2 for |u| <= 1/2 and large only
    # as u -> -1, so the tolerance is RTOL plus that condition number times 2 eps.
    with mpmath.workdps(50):
        u = mpmath.mpf(t) * mpmath.mpf(y)
        cond = 1 if u == 0 else abs(u / ((1 + u) * mpmath.log1p(u)))
    return RTOL + 2 * EPS * float(cond)


@given(st.floats(-1.5, 1e6), st.one_of(st.floats(-1e6, 1.0, exclude_max=True),
                                       st.floats(-1.0, 1.0)))
@example(0.0, 0.3)
@example(1e-12, -0.7)
@example(-1e-12, 0.7)
@example(5e-324, 0.5)
@example(1e-300, -3.0)
@example(-1.0, 1 - 1e-12)       # alpha = 0 in vr_bound: log(1/mu)/(-1) with mu = 1e12
@example(-1.0, 0.5)
def test_log1p_ratio(t, y):
    with mpmath.workdps(50):
        assume(1 + mpmath.mpf(t) * mpmath.mpf(y) > 0)
    want = testing.log1p_ratio(t, y)
    got = log1p_ratio(t, y)
    if want == 0:
        assert got == 0
    else:
        assert _rel(got, want) <= _log1p_ratio_rtol(t, y)


def test_log1p_ratio_limit():
    # exactly y at t = 0
    assert log1p_ratio(0.0, 0.3) == 0.3
    assert log1p_ratio(0.0, -7.0) == -7.0


# ---- shapes: arrays in -> arrays out, scalars in -> numpy scalars out ---------------------------

@pytest.mark.parametrize("fn, arg", [(ell, 2.0), (ell_t, 0.5), (ell_deficit, 0.5),
                                     (renyi_weight, 2.0)])
def test_scalar_in_scalar_out(fn, arg):
    out = fn(arg)
    assert isinstance(out, np.float64) and np.ndim(out) == 0
    out = fn(np.float64(arg))
    assert isinstance(out, np.float64)


@pytest.mark.parametrize("fn, ref, base", [
    (ell, testing.ell, np.array([[1e-6, 0.5, 1.0], [1 + 1e-12, 2.0, 1e6]])),
    (ell_t, testing.ell_t, np.array([[-0.5, 0.0, 1e-12], [1e-6, 0.3, 1e5]])),
    (ell_deficit, testing.ell_deficit, np.array([[-0.5, 0.0, 1e-12], [0.25, 0.3, 1e5]])),
    (renyi_weight, testing.renyi_weight, np.array([[1e-6, 0.5, 1.0 + 1e-12], [1.5, 2.0, 1e6]])),
])
def test_array_in_array_out(fn, ref, base):
    for arr in (base, base[:, :, None], base.ravel(), base.tolist()):
        out = fn(arr)
        assert isinstance(out, np.ndarray) and out.shape == np.shape(arr)
        for got, x in zip(np.ravel(out), np.ravel(arr)):
            want = ref(x)
            assert (got == 0 if want == 0 else _rel(got, want) <= RTOL)
    assert fn(np.empty((0, 3))).shape == (0, 3)


def test_log1p_ratio_broadcasts():
    t = np.array([[0.0], [1e-12], [-0.5]])
    y = np.array([0.3, -0.9, 0.99, 1e-3])
    out = log1p_ratio(t, y)
    assert out.shape == (3, 4)
    for i in range(3):
        for j in range(4):
            assert _rel(out[i, j], testing.log1p_ratio(t[i, 0], y[j])) <= \
                _log1p_ratio_rtol(t[i, 0], y[j])
    assert isinstance(log1p_ratio(0.5, 0.5), np.float64)


# ---- one float in: the scalar fast paths give the array path's value, bit for bit ---------------

@pytest.mark.parametrize("alpha", [1e-300, 1e-8, 0.3, 1.0 - 1e-7, 1.0, 1.0 + 1e-13, 2.0, 1e300])
def test_scalar_fast_paths_equal_the_array_path(alpha):
    assert ell(alpha) == ell(np.array([alpha]))[0]
    assert renyi_weight(alpha) == renyi_weight(np.array([alpha]))[0]


@pytest.mark.parametrize("sigma2", [1e-300, 1e-10, 0.7, 1e300])
def test_log1p_sq_ratio_float_noise_equals_array_noise(sigma2):
    s = np.array([1e200, 1e5, 3.0, 1e-200, 0.0])
    np.testing.assert_array_equal(log1p_sq_ratio(s, sigma2),
                                  log1p_sq_ratio(s, np.array([sigma2])))
