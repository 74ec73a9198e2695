"""Optimal encoders: no perturbation improves them; profiled values equal DESIGN §6."""

import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, strategies as st

sys.path.insert(0, str(Path(__file__).parent))
from _strategies import problems  # noqa: E402

import gaussrelbo as gr  # noqa: E402

LOG2PI = np.log(2 * np.pi)


def _ll(W, b, s2, data):
    """pPCA population log-likelihood with noise s2, by explicit solves."""
    n = W.shape[0]
    C = W @ W.T + s2 * np.eye(n)
    d = data.mean - b
    return -0.5 * (n * LOG2PI + np.linalg.slogdet(C)[1] + np.trace(np.linalg.solve(C, data.cov))
                   + d @ np.linalg.solve(C, d))


def _value(m, data, objective, param):
    if objective == "relbo":
        return float(gr.relbo(m, data, param))
    if objective == "elbo":
        return float(gr.elbo(m, data))
    return float(gr.beta_elbo(m, data, param))


@pytest.mark.parametrize("objective, param", [("relbo", 0.3), ("relbo", 3.0), ("elbo", None),
                                              ("beta_elbo", 0.5), ("beta_elbo", 4.0)])
@pytest.mark.parametrize("diagonal", [True, False])
@given(p=problems(), seed=st.integers(0, 2**32 - 1))
def test_perturbations_never_improve(objective, param, diagonal, p, seed):
    m0, data, _ = p
    kw = {"alpha": param} if objective == "relbo" else (
        {"beta": param} if objective == "beta_elbo" else {})
    m = gr.optimal_encoder(m0, objective, diagonal=diagonal, **kw)
    best = _value(m, data, objective, param)
    rng = np.random.default_rng(seed)
    for scale in (1e-4, 1e-2, 0.3):
        dV = scale * rng.normal(size=m.V.shape)
        dc = scale * rng.normal(size=m.c.shape)
        if diagonal:
            D = m.D * np.exp(scale * rng.normal(size=m.k))
        else:
            B = np.eye(m.k) + scale * rng.normal(size=(m.k, m.k))   # D -> B D B^T: SPD
            D = B @ m.D @ B.T
        for kwargs in ({"V": m.V + dV}, {"c": m.c + dc}, {"D": D},
                       {"V": m.V + dV, "c": m.c + dc, "D": D}):
            cov = {"encoder_cov": "diag" if diagonal else "full"} if "D" in kwargs else {}
            v = _value(m.replace(**kwargs, **cov), data, objective, param)
            assert v <= best + 1e-10 * (1 + abs(best))


@given(p=problems(), alpha=st.floats(0.05, 20.0))
def test_relbo_profiles(p, alpha):
    m0, data, _ = p
    W, b, s2 = m0.W, m0.b, m0.sigma2
    M = W.T @ W + s2 * np.eye(m0.k)
    ll = _ll(W, b, s2, data)
    full = gr.optimal_encoder(m0, "relbo", alpha=alpha, diagonal=False)
    assert np.isclose(float(gr.relbo(full, data, alpha)), ll, rtol=1e-11, atol=1e-11)
    diag = gr.optimal_encoder(m0, "relbo", alpha=alpha, diagonal=True)
    hadamard = np.sum(np.log(np.diag(M))) - np.linalg.slogdet(M)[1]
    assert hadamard >= -1e-12
    assert np.isclose(float(gr.relbo(diag, data, alpha)), ll - hadamard / (2 * alpha),
                      rtol=1e-11, atol=1e-11)


@given(p=problems(), beta=st.floats(0.05, 20.0))
def test_beta_profiles(p, beta):
    m0, data, _ = p
    W, b, s2, n = m0.W, m0.b, m0.sigma2, m0.n
    Mb = W.T @ W + beta * s2 * np.eye(m0.k)
    base = (-0.5 * n * np.log(2 * np.pi * s2) + 0.5 * n * beta * np.log(2 * np.pi * beta * s2)
            + beta * _ll(W, b, beta * s2, data))
    full = gr.optimal_encoder(m0, "beta_elbo", beta=beta, diagonal=False)
    assert np.isclose(float(gr.beta_elbo(full, data, beta)), base, rtol=1e-11, atol=1e-11)
    diag = gr.optimal_encoder(m0, "beta_elbo", beta=beta, diagonal=True)
    gap = 0.5 * beta * (np.sum(np.log(np.diag(Mb))) - np.linalg.slogdet(Mb)[1])
    assert np.isclose(float(gr.beta_elbo(diag, data, beta)), base - gap, rtol=1e-11, atol=1e-11)


def test_batched_encoder():
    rng = np.random.default_rng(1)
    W = rng.normal(size=(3, 5, 2))
    m0 = gr.LinearGaussianVAE(W, np.zeros(5), 0.4, np.zeros((2, 5)), np.zeros(2), np.ones(2))
    m = gr.optimal_encoder(m0, "relbo", alpha=np.array([0.5, 1.0, 2.0]), diagonal=False)
    assert m.V.shape == (3, 2, 5) and m.D.shape == (3, 2, 2)
    for i, a in enumerate([0.5, 1.0, 2.0]):
        M = W[i].T @ W[i] + 0.4 * np.eye(2)
        assert np.allclose(m.D[i], 0.4 * np.linalg.inv(M) / a, rtol=1e-13)
        assert np.allclose(m.V[i], np.linalg.solve(M, W[i].T), rtol=1e-12)
