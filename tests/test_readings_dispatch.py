"""`gr.relbo(..., reading=...)` and `gr.renyi_term(..., reading=...)`: the top-level objectives
dispatch the non-pointwise readings to gaussrelbo.readings.

References written here: the escort reading as log p(x) - KL(q_alpha || pi_alpha)/alpha with
numpy's slogdet and solve; the cross-entropy reading by mpmath quadrature (30 digits) in one
dimension; the Renyi term as Shannon minus Renyi entropy by slogdet.
"""

import mpmath as mp
import numpy as np
import pytest
from numpy.testing import assert_allclose

import gaussrelbo as gr

mp.mp.dps = 30


def _model(rng, n=4, k=2):
    return gr.LinearGaussianVAE(rng.normal(size=(n, k)), rng.normal(size=n), 0.6,
                                V=0.5 * rng.normal(size=(k, n)), c=0.3 * rng.normal(size=k),
                                D=rng.uniform(0.2, 1.0, k))


def _escort_reference(m, x, alpha):
    """log p(x) - KL(N(Vx+c, D/alpha) || N(m(x), sigma2 M^{-1}/alpha)) / alpha."""
    k, s2 = m.k, float(m.sigma2)
    M = m.W.T @ m.W + s2 * np.eye(k)
    C = m.W @ m.W.T + s2 * np.eye(m.n)
    r = x - m.b
    _, ldC = np.linalg.slogdet(C)
    logp = -0.5 * (m.n * np.log(2 * np.pi) + ldC + r @ np.linalg.solve(C, r))
    P = np.linalg.inv(s2 * np.linalg.inv(M) / alpha)        # precision of pi_alpha
    Q = np.diag(m.D / alpha)
    d = m.V @ x + m.c - np.linalg.solve(M, m.W.T @ r)
    _, ldQ = np.linalg.slogdet(Q)
    _, ldP = np.linalg.slogdet(P)
    kl = 0.5 * (np.trace(P @ Q) + d @ P @ d - k - ldQ - ldP)
    return logp - kl / alpha


@pytest.mark.parametrize("alpha", [0.3, 1.0, 2.5])
def test_relbo_reading_escort(alpha):
    rng = np.random.default_rng(3)
    m = _model(rng)
    x = rng.normal(size=4)
    val = gr.relbo(m, x, alpha, reading="escort")
    assert np.shape(val) == ()
    assert_allclose(val, _escort_reference(m, x, alpha), rtol=1e-12)
    assert gr.relbo(m, x, alpha, reading="pointwise") == gr.relbo(m, x, alpha)


def _mp_relbo_1d(x, w, b, s2, v, c, d, alpha):
    x, w, b, s2, v, c, d, alpha = map(mp.mpf, (x, w, b, s2, v, c, d, alpha))
    m = w**2 + s2
    logp = -mp.log(2 * mp.pi * m) / 2 - (x - b) ** 2 / (2 * m)
    pm, pv = w * (x - b) / m, s2 / (alpha * m)
    kl = (d / pv + (v * x + c - pm) ** 2 / pv - 1 + mp.log(pv / d)) / 2
    return logp - kl / alpha


@pytest.mark.parametrize("alpha", [0.7, 1.6])
def test_relbo_reading_cross_entropy(alpha):
    p = dict(w=0.8, b=0.3, s2=0.5, v=0.4, c=-0.2, d=0.35)
    mu, lam = 0.7, 0.4
    m = gr.LinearGaussianVAE([[p["w"]]], [p["b"]], p["s2"], V=[[p["v"]]], c=[p["c"]],
                             D=[p["d"]])
    t = 1 - mp.mpf(alpha)
    dens = lambda x: mp.exp(-(x - mu) ** 2 / (2 * lam)) / mp.sqrt(2 * mp.pi * lam)  # noqa: E731
    integral = mp.quad(lambda x: dens(x) * mp.exp(-t * _mp_relbo_1d(x, **p, alpha=alpha)),
                       [-mp.inf, mu, mp.inf])
    val = gr.relbo(m, gr.DataMoments([mu], [[lam]]), alpha, reading="cross_entropy")
    assert_allclose(val, float(-mp.log(integral) / t), rtol=1e-11)
    with pytest.raises(ValueError, match="data-level quantity"):
        gr.relbo(m, np.array([0.5]), alpha, reading="cross_entropy")


def test_relbo_reading_unknown():
    m = _model(np.random.default_rng(0))
    with pytest.raises(ValueError, match="reading"):
        gr.relbo(m, np.ones(4), 0.5, reading="tempered")


@pytest.mark.parametrize("alpha", [0.4, 1.8])
def test_renyi_term_reading(alpha):
    rng = np.random.default_rng(6)
    m = _model(rng)
    x = rng.normal(size=(2, 4))
    M = m.W.T @ m.W + 0.6 * np.eye(2)
    _, ld_post = np.linalg.slogdet(0.6 * np.linalg.inv(M))
    ell = np.log(alpha) / (alpha - 1)
    h_post = 0.5 * (2 * np.log(2 * np.pi) + ld_post) + ell      # k = 2: (k/2) ell = ell
    h_escort = 0.5 * np.sum(np.log(2 * np.pi * np.e * m.D / alpha))
    es = gr.renyi_term(m, x, alpha, reading="escort")
    assert es.shape == (2,)
    assert_allclose(es, h_escort - h_post, rtol=1e-12)
    data = gr.DataMoments(np.zeros(4), np.eye(4))
    assert_allclose(gr.renyi_term(m, data, alpha, reading="cross_entropy"),
                    gr.renyi_term(m, data, alpha), rtol=1e-15)
