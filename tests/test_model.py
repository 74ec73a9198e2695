"""The model and data-moment containers."""

import numpy as np
import pytest

import gaussrelbo as gr


def test_shapes_and_batch():
    rng = np.random.default_rng(0)
    m = gr.LinearGaussianVAE(rng.normal(size=(2, 1, 5, 3)), np.zeros(5), np.ones((3,)),
                             np.zeros((3, 5)), np.zeros(3), np.ones(3))
    assert (m.n, m.k, m.batch_shape, m.diagonal) == (5, 3, (2, 3), True)
    full = m.replace(D=np.eye(3))
    assert not full.diagonal and full.batch_shape == (2, 3)
    assert "n=5, k=3" in repr(m)
    with pytest.raises(ValueError, match="unknown parameter"):
        m.replace(Z=1)


@pytest.mark.parametrize("shape", [(6, 3), (2, 4), (3, 3)])
def test_svd_and_posterior(shape):
    n, k = shape
    rng = np.random.default_rng(n * 10 + k)
    W = rng.normal(size=(n, k))
    m = gr.LinearGaussianVAE(W, np.zeros(n), 0.3, np.zeros((k, n)), np.zeros(k), np.ones(k))
    U, s, R = m.svd
    r = U.shape[-1]
    assert s.shape == (k,) and np.all(s[r:] == 0)
    assert np.allclose((U * s[:r]) @ R[:, :r].T, W, atol=1e-13)
    assert np.allclose(R.T @ R, np.eye(k), atol=1e-13)
    M = W.T @ W + 0.3 * np.eye(k)
    assert np.allclose(m.posterior_gain(), np.linalg.solve(M, W.T), atol=1e-13)
    assert np.isclose(m.log_post_ratio, np.linalg.slogdet(0.3 * np.linalg.inv(M))[1], rtol=1e-13)
    tau, Rr = m.posterior_cov_eigen()
    assert np.allclose((Rr * tau) @ Rr.T, 0.3 * np.linalg.inv(M), atol=1e-13)


def test_data_moments():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(30, 4))
    d0 = gr.DataMoments.from_samples(X)
    d1 = gr.DataMoments.from_samples(X, ddof=1)
    assert np.allclose(d0.cov, np.cov(X.T, ddof=0), atol=1e-14)
    assert np.allclose(d1.cov, np.cov(X.T, ddof=1), atol=1e-14)
    assert np.allclose(d0.mean, X.mean(axis=0))
    L = d0.factor
    assert np.allclose(L @ L.T, d0.cov, atol=1e-13)
    s = gr.DataMoments.from_spectrum([3.0, 1.0, 0.0])
    assert np.array_equal(s.cov, np.diag([3.0, 1.0, 0.0])) and s.mean.shape == (3,)
    assert np.allclose(np.sort(s.eigenvalues), [0.0, 1.0, 3.0])
