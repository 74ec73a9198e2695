"""Posterior, escort and encoder Gaussians, Gaussian Renyi/KL divergences, and the bridges to
scikit-learn, the optima atlas and numpyro -- each against an independent route."""

import mpmath
import numpy as np
import pytest
from scipy import integrate, stats

import gaussrelbo as gr


def _model(seed, n=5, k=3, full=True, perturb=0.1):
    rng = np.random.default_rng(seed)
    m0 = gr.LinearGaussianVAE.from_decoder(rng.normal(size=(n, k)), rng.normal(size=n), 0.4)
    m = gr.optimal_encoder(m0, "relbo", alpha=0.7, encoder="full" if full else "diagonal")
    return m.replace(V=m.V + perturb * rng.normal(size=(k, n)),
                     c=m.c + perturb * rng.normal(size=k)), rng.normal(size=n)


# ---- mpmath reference for the Renyi divergence: the textbook formula with det and inverse -------

def _mp_renyi(mp_, Sp, mq, Sq, alpha, dps=50):
    """Gil, Alajaji & Linder (2013): alpha/2 d^T S*^-1 d - log(|S*| / (|Sp|^(1-a)|Sq|^a))/(2(a-1)),
    S* = (1 - a) Sp + a Sq; at a = 1 the KL divergence. mpmath matrices, dps digits."""
    with mpmath.workdps(dps):
        a = mpmath.mpf(alpha)
        Sp, Sq = mpmath.matrix(Sp.tolist()), mpmath.matrix(Sq.tolist())
        d = mpmath.matrix((np.asarray(mp_) - np.asarray(mq)).tolist())
        if a == 1:
            Sqi = Sq ** -1
            k = Sp.rows
            tr = sum((Sqi * Sp)[i, i] for i in range(k))
            return 0.5 * (tr + (d.T * Sqi * d)[0] - k + mpmath.log(mpmath.det(Sq) / mpmath.det(Sp)))
        Ss = (1 - a) * Sp + a * Sq
        quad = (d.T * Ss ** -1 * d)[0]
        logs = (mpmath.log(mpmath.det(Ss)) - (1 - a) * mpmath.log(mpmath.det(Sp))
                - a * mpmath.log(mpmath.det(Sq)))
        return a / 2 * quad - logs / (2 * (a - 1))


@pytest.mark.parametrize("alpha", [0.2, 0.9, 1.0, 1.0 + 1e-9, 1.7, 3.0])
@pytest.mark.parametrize("seed", [0, 1])
def test_renyi_divergence_matches_mpmath(seed, alpha):
    rng = np.random.default_rng(seed)
    k = 3
    A, B = rng.normal(size=(k, k)), rng.normal(size=(k, k))
    Sp, Sq = A @ A.T + 0.5 * np.eye(k), B @ B.T + 0.5 * np.eye(k)
    if alpha > 1:                       # keep (1 - a) Sp + a Sq positive definite
        Sp = 0.5 * Sq + 0.1 * np.eye(k)
    mp_, mq = rng.normal(size=k), rng.normal(size=k)
    got = gr.renyi_divergence(gr.Gaussian(mp_, Sp), gr.Gaussian(mq, Sq), alpha)
    ref = _mp_renyi(mp_, Sp, mq, Sq, alpha)
    assert abs(got - float(ref)) <= 1e-12 * abs(float(ref))


@pytest.mark.parametrize("alpha", [0.3, 1.0, 2.5])
def test_renyi_divergence_1d_quadrature(alpha):
    p, q = gr.Gaussian([0.3], [[0.8]]), gr.Gaussian([-0.5], [[1.5]])
    if alpha == 1.0:
        f = lambda z: stats.norm.pdf(z, 0.3, np.sqrt(0.8)) * (               # noqa: E731
            stats.norm.logpdf(z, 0.3, np.sqrt(0.8)) - stats.norm.logpdf(z, -0.5, np.sqrt(1.5)))
        ref = integrate.quad(f, -40, 40, epsabs=1e-14, epsrel=1e-13)[0]
    else:
        f = lambda z: np.exp(alpha * stats.norm.logpdf(z, 0.3, np.sqrt(0.8))  # noqa: E731
                             + (1 - alpha) * stats.norm.logpdf(z, -0.5, np.sqrt(1.5)))
        ref = np.log(integrate.quad(f, -40, 40, epsabs=1e-15, epsrel=1e-13)[0]) / (alpha - 1)
    assert abs(gr.renyi_divergence(p, q, alpha) - ref) <= 1e-10


def test_renyi_divergence_diverges_and_validates():
    p, q = gr.Gaussian([0.0], [[3.0]]), gr.Gaussian([0.0], [[1.0]])
    # (1 - a) 3 + a 1 <= 0 for a >= 1.5: the integral diverges
    assert gr.renyi_divergence(p, q, 2.0) == np.inf
    assert np.isfinite(gr.renyi_divergence(p, q, 1.4))
    with pytest.raises(ValueError, match="`alpha` must be positive and finite, got -1.0"):
        gr.renyi_divergence(p, q, -1.0)
    with pytest.raises(ValueError, match="`p` and `q` must have the same dimension"):
        gr.renyi_divergence(p, gr.Gaussian([0.0, 0.0], np.eye(2)), 0.5)
    with pytest.raises(ValueError, match="`cov` must be positive definite"):
        gr.Gaussian([0.0, 0.0], [[1.0, 2.0], [2.0, 1.0]])


@pytest.mark.parametrize("full", [True, False])
@pytest.mark.parametrize("alpha", [0.25, 0.999, 1.0, 1.5, 4.0])
def test_divergence_is_the_gap_of_the_vr_bound(full, alpha):
    """log p(x) - vr_bound(alpha) = D_alpha(q || p(z|x)) (Li & Turner 2016, eq. 5): the two are
    computed by different code (vr_bound whitens by the encoder inside the objective)."""
    m, x = _model(3, full=full)
    gap = gr.log_evidence(m, x) - gr.vr_bound(m, x, alpha)
    div = gr.renyi_divergence(gr.encoder_distribution(m, x), gr.posterior(m, x), alpha)
    if np.isinf(gap):                   # alpha D_post + (1 - alpha) D_q not positive definite
        assert div == np.inf
    else:
        assert abs(div - gap) <= 1e-12 * max(1.0, abs(gr.log_evidence(m, x)))


def test_kl_monte_carlo_and_elbo_gap():
    m, x = _model(4)
    q, p = gr.encoder_distribution(m, x), gr.posterior(m, x)
    kl = gr.kl_divergence(q, p)
    assert abs(kl - (gr.log_evidence(m, x) - gr.elbo(m, x))) <= 1e-12 * abs(gr.log_evidence(m, x))
    z = stats.multivariate_normal(q.mean, q.cov).rvs(200000, random_state=5)
    w = (stats.multivariate_normal(q.mean, q.cov).logpdf(z)
         - stats.multivariate_normal(p.mean, p.cov).logpdf(z))
    se = w.std(ddof=1) / np.sqrt(w.size)
    assert abs(w.mean() - kl) <= 4 * se
    # each bracket of the KL is >= 0: tiny for nearly equal Gaussians, with its digits
    eps = 1e-7
    near = gr.kl_divergence(gr.Gaussian([0.0], [[1.0 + eps]]), gr.Gaussian([0.0], [[1.0]]))
    with mpmath.workdps(40):
        e = mpmath.mpf(1.0 + eps) - 1
        ref = (e - mpmath.log1p(e)) / 2
    assert abs(near - float(ref)) <= 1e-14 * float(ref)


def test_posterior_against_gaussian_conditioning():
    """p(z|x) from the joint Gaussian of (z, x) by numpy solves (Bishop 2006, eq. 2.81-2.82)."""
    m, x = _model(6)
    W, b, s2 = m.W, m.b, float(m.sigma2)
    C = W @ W.T + s2 * np.eye(m.n)
    mean = W.T @ np.linalg.solve(C, x - b)
    cov = np.eye(m.k) - W.T @ np.linalg.solve(C, W)
    p = gr.posterior(m, x)
    np.testing.assert_allclose(p.mean, mean, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(p.cov, cov, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(p.chol @ p.chol.T, cov, rtol=1e-12, atol=1e-13)
    e = gr.escort_posterior(m, x, 2.5)
    np.testing.assert_allclose(e.cov, cov / 2.5, rtol=1e-12, atol=1e-13)
    np.testing.assert_array_equal(e.mean, p.mean)
    # the RELBO is tight at the escort: the optimal full encoder for relbo(alpha)
    opt = gr.optimal_encoder(m, "relbo", alpha=2.5, encoder="full")
    q = gr.encoder_distribution(opt, x)
    np.testing.assert_allclose(q.cov, e.cov, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(q.mean, e.mean, rtol=1e-12, atol=1e-13)
    # batched x
    X = np.stack([x, x + 1.0])
    assert gr.posterior(m, X).mean.shape == (2, m.k)
    with pytest.raises(ValueError, match=r"`x` must have shape \(\.\.\., n\) with n=5"):
        gr.posterior(m, np.zeros(4))
    with pytest.raises(ValueError, match="has no encoder"):
        gr.encoder_distribution(m.decoder_only(), x)
    logpdf = stats.multivariate_normal(p.mean, p.cov).logpdf(x[:3])
    assert abs(p.logpdf(x[:3]) - logpdf) <= 1e-12 * abs(logpdf)


# ---- scikit-learn --------------------------------------------------------------------------------

def test_from_pca_and_factor_analysis():
    sk = pytest.importorskip("sklearn.decomposition")
    from types import SimpleNamespace
    rng = np.random.default_rng(7)
    X = rng.normal(size=(300, 6)) @ rng.normal(size=(6, 6)) + rng.normal(size=6)
    pca = sk.PCA(n_components=3).fit(X)
    m = gr.from_pca(pca)
    assert not m.has_encoder
    np.testing.assert_allclose(m.W @ m.W.T + m.sigma2 * np.eye(6), pca.get_covariance(),
                               rtol=1e-10, atol=1e-12)
    # sklearn's score is the mean log-likelihood of pPCA (Tipping & Bishop 1999)
    assert abs(np.mean(gr.log_evidence(m, X)) - pca.score(X)) <= 1e-10 * abs(pca.score(X))
    fa = sk.FactorAnalysis(n_components=2, random_state=0).fit(X)
    with pytest.raises(ValueError, match="must be isotropic"):
        gr.from_pca(fa)
    iso = SimpleNamespace(components_=fa.components_, mean_=fa.mean_,
                          noise_variance_=np.full(6, 0.7))
    mi = gr.from_pca(iso)
    np.testing.assert_array_equal(mi.W, fa.components_.T)
    assert abs(float(mi.sigma2) - 0.7) <= 1e-15
    with pytest.raises(ValueError, match="n_components < n_features"):
        gr.from_pca(sk.PCA(n_components=6).fit(X))
    with pytest.raises(ValueError, match="must be a fitted PCA"):
        gr.from_pca(object())
    vae = gr.LinearVAE(n_components=2).fit(X)
    assert gr.from_pca(vae) is vae.model_


def test_to_data_coordinates_gives_the_atlas_value():
    """The atlas's global maximum of the log-likelihood, rotated back, has that log-evidence on
    the (rotated, non-diagonal) data moments."""
    rng = np.random.default_rng(8)
    Q, _ = np.linalg.qr(rng.normal(size=(5, 5)))
    lam = np.array([4.0, 2.5, 1.0, 0.6, 0.3])
    data = gr.DataMoments(rng.normal(size=5), (Q * lam) @ Q.T)
    best = gr.optima.global_maximum(data, 2, "loglik")
    m = gr.to_data_coordinates(best, data)
    assert abs(gr.log_evidence(m, data) - best.value) <= 1e-12 * abs(best.value)
    W = gr.to_data_coordinates(best.W, data)
    np.testing.assert_array_equal(W, m.W)
    with pytest.raises(ValueError, match=r"`W` must have shape \(n, k\) with n=5"):
        gr.to_data_coordinates(np.ones((4, 2)), data)


# ---- numpyro ---------------------------------------------------------------------------------------

# with the recipe test (tests/test_recipe.py) on one pytest-xdist worker: jax loads once
@pytest.mark.xdist_group("jax")
def test_numpyro_export_reproduces_elbo_and_vr_bound():
    pytest.importorskip("numpyro", reason="numpyro is in the test extra; CI installs it")
    import jax
    jax.config.update("jax_enable_x64", True)
    from numpyro.infer import RenyiELBO, Trace_ELBO

    def draws(elbo, m, data, n_keys, seed):
        """-loss for n_keys independent keys (one estimate each), compiled once."""
        model_fn, guide_fn = gr.to_numpyro(m)
        keys = jax.random.split(jax.random.PRNGKey(seed), n_keys)
        run = jax.jit(jax.vmap(lambda key: elbo.loss(key, {}, model_fn, guide_fn, data)))
        return -np.asarray(run(keys))

    # Trace_ELBO with one particle per key: i.i.d. unbiased estimates of the ELBO
    m, x = _model(10, n=4, k=2, full=False, perturb=0.05)
    gr.testing.assert_matches_exact(draws(Trace_ELBO(), m, x, 2000, 0), gr.elbo(m, x))
    # RenyiELBO with K particles estimates the VR bound with an O(1/K) bias: about
    # Var(w^(1-a)) / (2 K (1-a) E^2) = 3.9e-4 for this full encoder and K = 100, measured from
    # 2e5 weights -- an eighth of the standard error (3e-3).
    m, x = _model(11, n=4, k=2, full=True, perturb=0.05)
    gr.testing.assert_matches_exact(draws(RenyiELBO(alpha=0.5, num_particles=100), m, x, 200, 1),
                                    gr.vr_bound(m, x, 0.5))
    # a data plate: the sum over rows
    X = np.stack([x, x - 0.5, x + 0.3])
    gr.testing.assert_matches_exact(draws(Trace_ELBO(), m, X, 1000, 2), np.sum(gr.elbo(m, X)))
    # a decoder-only model exports the exact posterior as the guide: every estimate is log p(x)
    np.testing.assert_allclose(draws(Trace_ELBO(), m.decoder_only(), x, 20, 3),
                               gr.log_evidence(m, x), rtol=1e-12)


# ---- pyro (not in the test extra: runs where pyro-ppl and torch are installed) -------------------

def test_pyro_export_reproduces_elbo_and_vr_bound():
    """The numpyro test above, for the pyro export; the same models, so the same bias budget."""
    pyro = pytest.importorskip("pyro", reason="pyro-ppl is not in the test extra (torch is heavy)")
    import warnings

    import torch
    from pyro.infer import RenyiELBO, Trace_ELBO

    def draws(elbo, m, data, n_draws, seed):
        """-loss of n_draws independent calls (one estimate each)."""
        pyro.set_rng_seed(seed)
        model_fn, guide_fn = gr.to_pyro(m)
        return np.array([-elbo.loss(model_fn, guide_fn, data) for _ in range(n_draws)])

    # Trace_ELBO with one particle per call: i.i.d. unbiased estimates of the ELBO
    m, x = _model(10, n=4, k=2, full=False, perturb=0.05)
    gr.testing.assert_matches_exact(draws(Trace_ELBO(), m, x, 2000, 0), gr.elbo(m, x))
    # RenyiELBO with K = 100 particles (bias ~3.9e-4, an eighth of the standard error: see the
    # numpyro test), vectorized; pyro sums the per-row bounds over a data plate
    m, x = _model(11, n=4, k=2, full=True, perturb=0.05)
    renyi = RenyiELBO(alpha=0.5, num_particles=100, vectorize_particles=True, max_plate_nesting=1)
    gr.testing.assert_matches_exact(draws(renyi, m, x, 200, 1), gr.vr_bound(m, x, 0.5))
    X = np.stack([x, x - 0.5, x + 0.3])
    gr.testing.assert_matches_exact(draws(renyi, m, X, 200, 2), np.sum(gr.vr_bound(m, X, 0.5)))
    # two nested data plates, x given as a float32 tensor
    X2 = np.stack([X, X + 0.1])
    X2_t = torch.tensor(X2, dtype=torch.float32)
    gr.testing.assert_matches_exact(draws(Trace_ELBO(), m, X2_t, 1000, 3),
                                    np.sum(gr.elbo(m, X2_t.double().numpy())))
    # a decoder-only model exports the exact posterior as the guide: every estimate is log p(x);
    # the model's read-only arrays are copied (torch warns on a view of a read-only array)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = draws(Trace_ELBO(), m.decoder_only(), x, 20, 4)
    np.testing.assert_allclose(est, gr.log_evidence(m, x), rtol=1e-12)
    with pytest.raises(ValueError, match="`model` must be unbatched to export"):
        gr.to_pyro(gr.LinearGaussianVAE.from_decoder(np.ones((2, 3, 1)), np.zeros((2, 3)), 0.5))
