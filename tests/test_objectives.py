"""Properties of the closed forms, each checked by an independent route written here."""

import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given, strategies as st
from scipy import stats

sys.path.insert(0, str(Path(__file__).parent))
from _strategies import alphas, problems  # noqa: E402

import gaussrelbo as gr  # noqa: E402

LOG2PI = np.log(2 * np.pi)


def _full_D(m):
    return m.D if not m.diagonal else np.diag(m.D)


def _M(m):
    return m.W.T @ m.W + m.sigma2 * np.eye(m.k)


def escort_relbo(m, data, alpha):
    """DESIGN §5 escort form with explicit solves (the test route)."""
    M = _M(m)
    Minv_Wt = np.linalg.solve(M, m.W.T)
    E = m.V - Minv_Wt
    if isinstance(data, gr.DataMoments):
        mu, S = data.mean, data.cov
    else:
        mu, S = data, np.zeros((m.n, m.n))
    g = E @ mu + m.c + Minv_Wt @ m.b
    Pi = alpha * M / m.sigma2
    D = _full_D(m)
    logdet_pi = np.linalg.slogdet(Pi)[1]
    ll = loglik(m, data)
    return ll - (np.trace(Pi @ D) - m.k - logdet_pi - np.linalg.slogdet(D)[1]
                 + np.trace(Pi @ E @ S @ E.T) + g @ Pi @ g) / (2 * alpha)


def loglik(m, data):
    C = m.W @ m.W.T + m.sigma2 * np.eye(m.n)
    if isinstance(data, gr.DataMoments):
        d = data.mean - m.b
        return -0.5 * (m.n * LOG2PI + np.linalg.slogdet(C)[1]
                       + np.trace(np.linalg.solve(C, data.cov)) + d @ np.linalg.solve(C, d))
    return stats.multivariate_normal(m.b, C).logpdf(data)


def pointwise_elbo(m, x):
    """DESIGN §4 written out."""
    D = _full_D(m)
    mq = m.V @ x + m.c
    r = x - m.b - m.W @ mq
    ell = -0.5 * m.n * np.log(2 * np.pi * m.sigma2) - (r @ r + np.trace(m.W @ D @ m.W.T)) / (
        2 * m.sigma2)
    kl = 0.5 * (np.trace(D) + mq @ mq - m.k - np.linalg.slogdet(D)[1])
    return ell - kl


def entropy_post(m):
    return 0.5 * np.linalg.slogdet(2 * np.pi * np.e * m.sigma2 * np.linalg.inv(_M(m)))[1]


def entropy_q(m):
    return 0.5 * np.linalg.slogdet(2 * np.pi * np.e * _full_D(m))[1]


def close(a, b, rtol=1e-10):
    return abs(a - b) <= rtol * (1 + abs(b))


@given(problems(), alphas, st.booleans())
def test_direct_equals_escort(p, alpha, population):
    m, data, x = p
    d = data if population else x
    assert close(float(gr.relbo(m, d, alpha)), escort_relbo(m, d, alpha))


@given(problems(), alphas, st.booleans())
def test_relbo_below_log_evidence(p, alpha, population):
    m, data, x = p
    d = data if population else x
    ll = float(gr.log_evidence(m, d))
    assert close(ll, loglik(m, d), 1e-12)
    assert float(gr.relbo(m, d, alpha)) <= ll + 1e-12 * (1 + abs(ll))


@given(problems(), st.floats(0.05, 20.0), st.booleans())
def test_tight_at_escort_encoder(p, alpha, population):
    m, data, x = p
    M = _M(m)
    V = np.linalg.solve(M, m.W.T)
    esc = m.replace(V=V, c=-V @ m.b, D=m.sigma2 * np.linalg.inv(M) / alpha, encoder_cov="full")
    d = data if population else x
    assert close(float(gr.relbo(esc, d, alpha)), float(gr.log_evidence(esc, d)), 1e-11)


@given(problems(), st.booleans())
def test_alpha_one_and_beta_one_are_the_elbo(p, population):
    m, data, x = p
    d = data if population else x
    e = float(gr.elbo(m, d))
    assert float(gr.relbo(m, d, 1.0)) == e
    assert float(gr.beta_elbo(m, d, 1.0)) == e
    assert close(e, -float(gr.distortion(m, d)) - float(gr.rate(m, d)), 1e-13)
    assert close(float(gr.elbo(m, x)), pointwise_elbo(m, x), 1e-12)


@given(problems())
def test_first_order_in_alpha(p):
    m, data, _ = p
    e = float(gr.elbo(m, data))
    coef = entropy_post(m) - entropy_q(m)
    errs = []
    for t in (1e-2, 1e-3, 1e-4):
        for sign in (1, -1):
            a = 1 + sign * t
            diff, c, rem = gr.relbo_expansion(m, data, a)
            assert close(float(c), coef, 1e-10)
            # difference from the expansion agrees with the subtraction of the two bounds
            assert abs(float(diff) - (float(gr.relbo(m, data, a)) - e)) <= 1e-12 * (1 + abs(e))
            err = abs(float(diff) / (a - 1) - coef)
            # DESIGN §3 second order: RELBO_a - ELBO - t coef = (t^2/a) [B1 - (k/2) g(t)] with
            # B1 = H(q) - H(p(z|x)) + k/2 - ... bounded here by |B1| + k/2 (g <= 1/2 + |t|).
            b1 = 0.5 * (np.linalg.slogdet(_full_D(m))[1]
                        - np.linalg.slogdet(m.sigma2 * np.linalg.inv(_M(m)))[1])
            assert err <= 1.01 * t / a * (abs(b1) + m.k / 2) + 1e-9
            errs.append(err)
    # ... so the error shrinks at least linearly: >= 5x per decade when it is above rounding
    for i in (0, 1):
        for s in (0, 1):
            big, small = errs[2 * i + s], errs[2 * (i + 1) + s]
            if big > 1e-8:
                assert big / small > 5


@given(problems(), st.booleans())
def test_no_jump_across_one(p, population):
    m, data, x = p
    d = data if population else x
    e = float(gr.elbo(m, d))
    for a in (1 + 1e-12, 1 - 1e-12):
        assert abs(float(gr.relbo(m, d, a)) - e) <= 1e-10 * (1 + abs(e))


@given(problems(), st.booleans())
def test_vr_bound_limits_and_monotone(p, population):
    m, data, x = p
    d = data if population else x
    ll, e = float(gr.log_evidence(m, d)), float(gr.elbo(m, d))
    assert close(float(gr.vr_bound(m, d, 0.0)), ll, 1e-11)
    assert float(gr.vr_bound(m, d, 1.0)) == e or close(float(gr.vr_bound(m, d, 1.0)), e, 1e-12)
    assert close(float(gr.vr_bound(m, d, 1 - 1e-9)), e, 1e-7)
    grid = np.linspace(-2.0, 4.0, 49)
    vals = np.asarray(gr.vr_bound(m, d, grid), float)
    assert not np.any(np.isnan(vals))
    finite = np.isfinite(vals)
    v = vals[finite]
    assert np.all(np.diff(v) <= 1e-9 * (1 + np.abs(v[:-1])))


def test_vr_bound_minus_inf_for_wide_q():
    m = gr.LinearGaussianVAE(np.array([[2.0]]), np.zeros(1), 0.5, np.zeros((1, 1)), np.zeros(1),
                             np.array([5.0]))          # q far wider than the posterior
    assert gr.vr_bound(m, np.ones(1), 3.0) == -np.inf
    assert gr.vr_bound(m, np.ones(1), -3.0) == np.inf or np.isfinite(gr.vr_bound(m, np.ones(1),
                                                                                 -3.0))


@given(problems(), alphas, st.integers(2, 40))
def test_population_is_sample_average(p, alpha, N):
    m, _, _ = p
    X = np.random.default_rng(N).normal(size=(N, m.n)) * 1.3 + 0.2
    data = gr.DataMoments.from_samples(X, ddof=0)
    for f in (lambda d: gr.relbo(m, d, alpha), lambda d: gr.elbo(m, d),
              lambda d: gr.beta_elbo(m, d, 2.5), lambda d: gr.log_evidence(m, d),
              lambda d: gr.rate(m, d), lambda d: gr.distortion(m, d),
              lambda d: gr.renyi_term(m, d, alpha), lambda d: gr.vr_bound(m, d, 0.5)):
        pop = float(f(data))
        pts = np.asarray(f(X))
        assert pts.shape == (N,)
        assert close(pop, float(np.mean(pts)), 1e-10)


def test_batch_shapes_broadcast():
    rng = np.random.default_rng(0)
    B, n, k = 3, 4, 2
    W = rng.normal(size=(B, n, k))
    m = gr.LinearGaussianVAE(W, np.zeros(n), np.array([0.5, 0.7, 0.9]), rng.normal(size=(k, n)),
                             np.zeros(k), np.array([0.4, 0.6]))
    data = gr.DataMoments(np.ones(n), np.eye(n))
    alphas_ = np.array([[0.5], [2.0]])
    out = gr.relbo(m, data, alphas_)
    assert out.shape == (2, B)
    for i in range(2):
        for j in range(B):
            mj = gr.LinearGaussianVAE(W[j], np.zeros(n), [0.5, 0.7, 0.9][j], m.V, m.c, m.D)
            assert out[i, j] == pytest.approx(float(gr.relbo(mj, data, alphas_[i, 0])), rel=1e-13)
    X = rng.normal(size=(5, n))
    assert gr.elbo(m, X[:, None, :]).shape == (5, B)
    assert np.ndim(gr.elbo(m.replace(W=W[0], sigma2=0.5), data)) == 0
