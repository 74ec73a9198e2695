"""Spectral (axis-aligned) objectives equal the general matrix closed forms."""

import numpy as np
import pytest
from hypothesis import given, strategies as st

import gaussrelbo as gr


def _axis_model(lam, w, v, d, sigma2, used, mean):
    n, k = lam.size, w.size
    W, V = np.zeros((n, k)), np.zeros((k, n))
    W[used, np.arange(k)] = w
    V[np.arange(k), used] = v
    return gr.LinearGaussianVAE(W, mean, sigma2, V=V, c=-V @ mean, D=d), gr.DataMoments(
        mean, np.diag(lam))


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 7), alpha=st.floats(0.05, 20),
       beta=st.floats(0.05, 20))
def test_spectral_equals_matrix_route(seed, n, alpha, beta):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(1, n + 1))
    lam = np.sort(rng.uniform(0.1, 5.0, n))[::-1]
    w, v = rng.normal(size=k), rng.normal(size=k)
    d = rng.uniform(0.1, 2.0, k)
    sigma2 = float(rng.uniform(0.1, 2.0))
    used = rng.permutation(n)[:k]
    model, data = _axis_model(lam, w, v, d, sigma2, used, rng.normal(size=n))
    pairs = [("loglik", gr.log_evidence(model, data), {}),
             ("elbo", gr.elbo(model, data), {}),
             ("relbo", gr.relbo(model, data, alpha), {"alpha": alpha}),
             ("beta_elbo", gr.beta_elbo(model, data, beta), {"beta": beta})]
    for objective, want, kw in pairs:
        got = gr.spectral_objective(lam, w, v, d, sigma2, objective, used=used, **kw)
        assert np.isclose(got, want, rtol=1e-12, atol=1e-12), objective


@given(seed=st.integers(0, 2**32 - 1), alpha=st.floats(0.05, 20), beta=st.floats(0.05, 20))
def test_profiled_equals_optimal_encoder(seed, alpha, beta):
    rng = np.random.default_rng(seed)
    n, k = 5, 3
    lam = np.sort(rng.uniform(0.1, 5.0, n))[::-1]
    w = rng.normal(size=k)
    sigma2 = float(rng.uniform(0.1, 2.0))
    used = rng.permutation(n)[:k]
    mean = rng.normal(size=n)
    model, data = _axis_model(lam, w, np.zeros(k), np.ones(k), sigma2, used, mean)
    relbo_opt = gr.relbo(gr.optimal_encoder(model, "relbo", alpha=alpha), data, alpha)
    beta_opt = gr.beta_elbo(gr.optimal_encoder(model, "beta_elbo", beta=beta), data, beta)
    assert np.isclose(gr.profiled_objective(lam, w**2, sigma2, "relbo", alpha=alpha, used=used),
                      relbo_opt, rtol=1e-12)
    assert np.isclose(gr.profiled_objective(lam, w**2, sigma2, "beta_elbo", beta=beta,
                                            used=used), beta_opt, rtol=1e-12)


def test_bad_input():
    lam = np.array([2.0, 1.0])
    with pytest.raises(ValueError, match="`objective` must be one of"):
        gr.spectral_objective(lam, [1.0], [0.1], [0.5], 0.3, "vae")
    with pytest.raises(ValueError, match="`alpha` is required"):
        gr.spectral_objective(lam, [1.0], [0.1], [0.5], 0.3, "relbo")
    with pytest.raises(ValueError, match="`alpha` must be positive"):
        gr.spectral_objective(lam, [1.0], [0.1], [0.5], 0.3, "relbo", alpha=0.0)
    with pytest.raises(ValueError, match="`sigma2` must be positive"):
        gr.profiled_objective(lam, [1.0], -0.3, "loglik")
    with pytest.raises(ValueError, match="`lam` .* non-negative"):
        gr.profiled_objective([-1.0, 2.0], [1.0], 0.3, "loglik")
    with pytest.raises(ValueError, match="`used` must be distinct"):
        gr.spectral_objective(lam, [1.0, 1.0], [0.1, 0.1], [0.5, 0.5], 0.3, "elbo", used=[0, 0])
    with pytest.raises(ValueError, match="`w2` must be"):
        gr.profiled_objective(lam, [1.0, 1.0, 1.0], 0.3, "loglik")
    with pytest.raises(ValueError, match="`d` must be positive"):
        gr.spectral_objective(lam, [1.0], [0.1], [0.0], 0.3, "elbo")
