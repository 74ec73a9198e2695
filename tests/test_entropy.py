"""Gaussian Renyi and Shannon entropies against mpmath, quadrature, Monte Carlo and scipy."""

import numpy as np
import pytest
from scipy import integrate, stats

import gaussrelbo as gr
from gaussrelbo import testing

ALPHAS = [1e-6, 1e-3, 0.5, 1 - 1e-12, 1.0, 1 + 1e-12, 2.0, 1e3, 1e6]


def _cov(eigs, seed=0):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.normal(size=(len(eigs), len(eigs))))
    c = (Q * np.asarray(eigs)) @ Q.T
    return 0.5 * (c + c.T)


@pytest.mark.parametrize("alpha", ALPHAS)
@pytest.mark.parametrize("eigs, rotate", [((1.0,), False), ((0.5, 2.0), True),
                                          ((1e-8, 1.0, 1e8), False), ((3.0, 1e-4, 7.0, 0.2), True),
                                          ((2.0, 0.3, 1.1), True)])
def test_against_mpmath(alpha, eigs, rotate):
    cov = _cov(eigs) if rotate else np.diag(eigs)
    # mpmath: 1/2 log det(2 pi cov) + k/2 ell(alpha) at 50 digits, of the rounded matrix.
    want = float(testing.renyi_entropy(cov, alpha))
    got = gr.renyi_entropy(cov, alpha)
    # A backward-stable Cholesky perturbs cov by ~eps*|cov|, moving log det by up to
    # ~k * cond(cov) * eps (first-order perturbation tr(cov^-1 dcov)); diagonal covariances are
    # factored exactly, so eigenvalues spanning 1e-8..1e8 are tested on the diagonal.
    k, cond = len(eigs), max(eigs) / min(eigs)
    tol = 1e-14 * max(1.0, abs(want)) + (k * cond * np.finfo(float).eps if rotate else 0.0)
    assert abs(float(got) - want) <= tol


def test_shannon_is_alpha_one_and_scipy():
    cov = _cov((0.5, 2.0, 3.0), seed=2)
    mean = np.array([1.0, -2.0, 0.3])
    want = stats.multivariate_normal(mean, cov).entropy()
    assert np.isclose(gr.shannon_entropy(cov), want, rtol=1e-14)
    # Same value by two roundings (k/2 log 2 pi + k/2 vs k/2 (log 2 pi + 1)): within 2 ulp.
    assert abs(gr.renyi_entropy(cov, 1.0) - gr.shannon_entropy(cov)) <= 2 * np.spacing(want)


@pytest.mark.parametrize("alpha", [0.3, 0.5, 2.0, 5.0])
def test_quadrature_1d(alpha):
    s = 1.7
    val, err = integrate.quad(lambda z: stats.norm(0.4, np.sqrt(s)).pdf(z) ** alpha, -np.inf,
                              np.inf, epsabs=0, epsrel=1e-13)
    want = np.log(val) / (1 - alpha)
    assert np.isclose(gr.renyi_entropy(np.array([[s]]), alpha), want, rtol=1e-11)


@pytest.mark.parametrize("alpha", [0.5, 3.0])
def test_quadrature_2d(alpha):
    cov = np.array([[1.0, 0.4], [0.4, 0.8]])
    pdf = stats.multivariate_normal(np.zeros(2), cov).pdf
    val, _ = integrate.dblquad(lambda y, x: pdf([x, y]) ** alpha, -12, 12, -12, 12,
                               epsabs=0, epsrel=1e-11)
    want = np.log(val) / (1 - alpha)
    assert np.isclose(gr.renyi_entropy(cov, alpha), want, rtol=1e-9)


@pytest.mark.parametrize("alpha", [0.5, 1.0, 2.0])
def test_monte_carlo_k3(alpha):
    cov = _cov((0.5, 1.0, 2.0), seed=4)
    rng = np.random.default_rng(9)
    z = rng.multivariate_normal(np.zeros(3), cov, size=400_000)
    logp = stats.multivariate_normal(np.zeros(3), cov).logpdf(z)
    if alpha == 1.0:
        est, se = -logp.mean(), logp.std(ddof=1) / np.sqrt(z.shape[0])
    else:
        a = (alpha - 1) * logp
        m = a.max()
        w = np.exp(a - m)
        est = (m + np.log(w.mean())) / (1 - alpha)
        se = w.std(ddof=1) / w.mean() / np.sqrt(w.size) / abs(1 - alpha)   # delta method
    assert se < 0.01
    assert abs(gr.renyi_entropy(cov, alpha) - est) <= 5 * se


def test_batch_shapes():
    covs = np.stack([_cov((1.0, 2.0), s) for s in range(4)]).reshape(2, 2, 2, 2)
    alphas = np.array([[0.5], [2.0]])
    out = gr.renyi_entropy(covs, alphas)
    assert out.shape == (2, 2)
    assert np.isclose(out[1, 0], gr.renyi_entropy(covs[1, 0], 2.0), rtol=1e-15)
    assert gr.shannon_entropy(covs).shape == (2, 2)


def test_bad_input():
    with pytest.raises(ValueError, match="`alpha` must be positive"):
        gr.renyi_entropy(np.eye(2), 0.0)
    with pytest.raises(ValueError, match="`alpha` must be positive"):
        gr.renyi_entropy(np.eye(2), -1.0)
    with pytest.raises(ValueError, match="`alpha` must be finite"):
        gr.renyi_entropy(np.eye(2), np.nan)
    with pytest.raises(ValueError, match="`cov` must be symmetric"):
        gr.renyi_entropy(np.array([[1.0, 0.5], [0.0, 1.0]]), 2.0)
    with pytest.raises(ValueError, match="`cov` must be .*positive definite"):
        gr.shannon_entropy(np.array([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(ValueError, match="`cov` must be finite"):
        gr.shannon_entropy(np.array([[np.inf, 0.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match=r"`cov` must have shape"):
        gr.shannon_entropy(np.ones((2, 3)))
