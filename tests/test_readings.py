"""Tests of the three readings of the Renyi VAE (gaussrelbo.readings).

References are independent of the module under test: Monte Carlo (standard errors stated, 5
sigma), mpmath at 30 digits (closed forms and quadrature), numpy slogdet of C - (1-alpha)S, and
numerical maximisation with scipy of a profile written here from scratch.
"""

import difflib
from pathlib import Path

import mpmath as mp
import numpy as np
import pytest
from hypothesis import example, given, strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import minimize

import gaussrelbo as gr
from gaussrelbo.testing import strategies as strat
from gaussrelbo.readings import (READINGS, active_counts, critical_alpha, matched_beta,
                                 reading_collapse_thresholds, reading_global_maximum,
                                 reading_objective, reading_optimal_encoder)

Z_MAX = 5.0


def _model(rng, n, k, diagonal=True, scale=1.0):
    W = rng.normal(size=(n, k))
    if diagonal:
        D = rng.uniform(0.2, 1.0, k)
    else:
        A = rng.normal(size=(k, k))
        D = A @ A.T / k + 0.3 * np.eye(k)
    return gr.LinearGaussianVAE(W, rng.normal(size=n), 0.6, V=0.5 * rng.normal(size=(k, n)),
                                c=0.3 * rng.normal(size=k), D=D)


def _moments(rng, n, scale=1.0):
    B = rng.normal(size=(n, n))
    return gr.DataMoments(rng.normal(size=n), scale * B @ B.T / n)


# ---- Monte Carlo -------------------------------------------------------------------------------

def _log_joint(model, x, z):
    """log p(x, z) for z of shape (N, k), one x; written here from the model definition."""
    n, k = model.n, model.k
    r = x - model.b - z @ model.W.T
    s2 = float(model.sigma2)
    return (-0.5 * (n * np.log(2 * np.pi * s2) + np.sum(r**2, axis=1) / s2)
            - 0.5 * (k * np.log(2 * np.pi) + np.sum(z**2, axis=1)))


def _post_renyi_entropy(model, alpha):
    """H_alpha of p(z|x) = N(., sigma2 M^{-1}) via slogdet (test-only route)."""
    k = model.k
    M = model.W.T @ model.W + model.sigma2 * np.eye(k)
    _, ld = np.linalg.slogdet(float(model.sigma2) * np.linalg.inv(M))
    ell = 1.0 if alpha == 1 else np.log(alpha) / (alpha - 1)
    return 0.5 * (k * np.log(2 * np.pi) + ld) + 0.5 * k * ell


def mc_jensen(model, x, alpha, reading, n_samples, rng):
    """Jensen bound of a reading at one x by sampling z from the distribution Jensen uses:
    q (pointwise) or its escort q_alpha = N(mean, D/alpha) (escort).  Returns (estimate, se).

    alpha log p(x) = log int p(x,z)^alpha - (1-alpha) H_alpha(p(z|x));  Jensen with a density r:
    log int p^alpha >= E_r[alpha log p(x,z)] + H(r)."""
    D = np.diag(model.D) if model.diagonal else model.D
    cov = D / alpha if reading == "escort" else D
    mean = model.V @ x + model.c
    z = rng.multivariate_normal(mean, cov, size=n_samples)
    lj = _log_joint(model, x, z)
    _, ld = np.linalg.slogdet(2 * np.pi * np.e * cov)
    const = (0.5 * ld - (1 - alpha) * _post_renyi_entropy(model, alpha)) / alpha
    return lj.mean() + const, lj.std(ddof=1) / np.sqrt(n_samples)


def mc_cross_entropy(model, data, alpha, n_samples, rng):
    """log-mean-exp over x ~ N(mu, S) of the pointwise RELBO (exact per x, gr.relbo); delta-method
    standard error.  Refuses where the estimator's variance is infinite."""
    t = 1.0 - alpha
    # Var e^{-t RELBO} finite iff E e^{-2t RELBO} finite.  RELBO(x) is quadratic in x with
    # Hessian -Q (second differences of gr.relbo are exact up to rounding); over x = mu + L u the
    # average is finite iff 2t * eig(L^T Q L) < 1 (for the optimal encoder: C > 2(1-alpha)S).
    n, h = model.n, 0.5
    Q = np.empty((n, n))
    E = np.eye(n) * h
    f0 = gr.relbo(model, data.mean, alpha)
    for i in range(n):
        for j in range(n):
            Q[i, j] = -(gr.relbo(model, data.mean + E[i] + E[j], alpha)
                        - gr.relbo(model, data.mean + E[i], alpha)
                        - gr.relbo(model, data.mean + E[j], alpha) + f0) / h**2
    L = data.factor
    if t > 0 and 2 * t * np.linalg.eigvalsh(L.T @ (0.5 * (Q + Q.T)) @ L).max() >= 1:
        raise ValueError("Monte Carlo variance is infinite here (needs C > 2(1-alpha)S for the "
                         "optimal encoder)")
    x = rng.multivariate_normal(data.mean, data.cov, size=n_samples)
    f = gr.relbo(model, x, alpha)
    a = -t * f
    amax = a.max()
    e = np.exp(a - amax)
    est = -(np.log(e.mean()) + amax) / t
    se = e.std(ddof=1) / (np.sqrt(n_samples) * e.mean() * abs(t))
    return est, se


MC_CASES = [(a, diag) for a in (0.5, 1.7, 2.5) for diag in (True, False)]


@pytest.mark.parametrize("alpha, diagonal", MC_CASES)
@pytest.mark.parametrize("reading", ["pointwise", "escort"])
def test_pointwise_and_escort_match_monte_carlo(reading, alpha, diagonal):
    rng = np.random.default_rng(12)
    model = _model(rng, 4, 3, diagonal)
    x = rng.normal(size=4)
    est, se = mc_jensen(model, x, alpha, reading, 40_000, rng)
    exact = reading_objective(model, x, alpha, reading)
    assert exact.shape == ()
    assert abs(est - exact) / se < Z_MAX


@pytest.mark.parametrize("alpha", [0.8, 0.9, 1.2, 1.7])
@pytest.mark.parametrize("diagonal", [True, False])
def test_cross_entropy_matches_monte_carlo(alpha, diagonal):
    rng = np.random.default_rng(7)
    model = _model(rng, 3, 2, diagonal)
    data = _moments(rng, 3, scale=0.1)
    est, se = mc_cross_entropy(model, data, alpha, 100_000, rng)
    exact = reading_objective(model, data, alpha, "cross_entropy")
    assert np.isfinite(exact)
    assert abs(est - exact) / se < Z_MAX


def test_cross_entropy_monte_carlo_refuses_infinite_variance():
    rng = np.random.default_rng(3)
    model = _model(rng, 3, 2)
    data = _moments(rng, 3, scale=50.0)
    with pytest.raises(ValueError, match="variance is infinite"):
        mc_cross_entropy(model, data, 0.3, 100, rng)


# ---- mpmath references -------------------------------------------------------------------------

mp.mp.dps = 30


def _mp_relbo_1d(x, w, b, s2, v, c, d, alpha):
    """log p(x) - KL(q || pi_alpha)/alpha for n = k = 1, in mpmath."""
    x, w, b, s2, v, c, d, alpha = map(mp.mpf, (x, w, b, s2, v, c, d, alpha))
    m = w**2 + s2
    logp = -mp.log(2 * mp.pi * m) / 2 - (x - b) ** 2 / (2 * m)
    pm, pv = w * (x - b) / m, s2 / (alpha * m)
    qm = v * x + c
    kl = (d / pv + (qm - pm) ** 2 / pv - 1 + mp.log(pv / d)) / 2
    return logp - kl / alpha


ONE_D = dict(w=0.8, b=0.3, s2=0.5, v=0.4, c=-0.2, d=0.35)


def _model_1d(p):
    return gr.LinearGaussianVAE([[p["w"]]], [p["b"]], p["s2"], V=[[p["v"]]], c=[p["c"]],
                                D=[p["d"]])


MP_ALPHAS = [0.05, 0.5, 1 - 1e-9, 1.0, 1 + 1e-12, 1.5, 1.95]


@pytest.mark.parametrize("alpha", MP_ALPHAS + [3.0, 50.0])
def test_pointwise_and_escort_match_mpmath(alpha):
    m = _model_1d(ONE_D)
    x = 1.3
    ref_p = _mp_relbo_1d(x, **ONE_D, alpha=alpha)
    escort = dict(ONE_D, d=ONE_D["d"] / alpha)
    ref_e = _mp_relbo_1d(x, **escort, alpha=alpha)
    assert_allclose(reading_objective(m, np.array([x]), alpha, "pointwise"), float(ref_p),
                    rtol=1e-13)
    assert_allclose(reading_objective(m, np.array([x]), alpha, "escort"), float(ref_e),
                    rtol=1e-13)


def mp_cross_entropy_1d(p, mu, lam, alpha):
    """-(1/(1-alpha)) log int N(x; mu, lam) exp(-(1-alpha) RELBO(x)) dx by mpmath quadrature;
    at alpha = 1 the data average of the RELBO."""
    mu, lam = mp.mpf(mu), mp.mpf(lam)
    dens = lambda x: mp.exp(-(x - mu) ** 2 / (2 * lam)) / mp.sqrt(2 * mp.pi * lam)  # noqa: E731
    if alpha == 1:
        return mp.quad(lambda x: dens(x) * _mp_relbo_1d(x, **p, alpha=1), [-mp.inf, mu, mp.inf])
    t = 1 - mp.mpf(alpha)
    integ = mp.quad(lambda x: dens(x) * mp.exp(-t * _mp_relbo_1d(x, **p, alpha=alpha)),
                    [-mp.inf, mu, mp.inf])
    return -mp.log(integ) / t


@pytest.mark.parametrize("alpha", [0.6, 0.9, 1 - 1e-6, 1.0, 1.3, 1.95, 3.0])
def test_cross_entropy_matches_mpmath_quadrature(alpha):
    mu, lam = 0.7, 0.4
    ref = mp_cross_entropy_1d(ONE_D, mu, lam, alpha)
    val = reading_objective(_model_1d(ONE_D), gr.DataMoments([mu], [[lam]]), alpha,
                            "cross_entropy")
    assert isinstance(val, float)
    assert_allclose(val, float(ref), rtol=1e-11)


# ---- properties ----------------------------------------------------------------------------------

@given(strat.problems())
@example(strat.EXAMPLE["diag"])
@example(strat.EXAMPLE["full"])
def test_every_reading_is_the_elbo_at_alpha_one(problem):
    m, x, data = problem
    elbo_x, elbo_pop = gr.elbo(m, x), gr.elbo(m, data)
    assert reading_objective(m, x, 1.0, "pointwise") == elbo_x
    assert reading_objective(m, x, 1.0, "escort") == elbo_x
    assert reading_objective(m, data, 1.0, "escort") == elbo_pop
    # the cross-entropy formula at t = 0 is a different expression (rounding only)
    assert_allclose(reading_objective(m, data, 1.0, "cross_entropy"), elbo_pop, rtol=1e-11,
                    atol=1e-11)


def _renyi_cross_entropy(model, data, alpha):
    """-(1/(1-alpha)) log E p(x)^(alpha-1) for Gaussian data (slogdet; -inf off the domain)."""
    n = model.n
    C = model.W @ model.W.T + model.sigma2 * np.eye(n)
    t = 1 - alpha
    r = data.mean - model.b
    s1, ldC = np.linalg.slogdet(C)
    s2, ldB = np.linalg.slogdet(C - t * data.cov)
    if s2 <= 0 or np.min(np.linalg.eigvalsh(C - t * data.cov)) <= 0:
        return -np.inf
    # E exp(-t/2 (y+r)^T C^{-1} (y+r)) over y ~ N(0, S), closed form
    A = np.linalg.solve(C - t * data.cov, r)
    logE = 0.5 * (ldC - ldB) - 0.5 * t * r @ A
    logE += t * (0.5 * n * np.log(2 * np.pi) + 0.5 * ldC)
    return -logE / t


@given(strat.problems(), st.sampled_from([0.3, 0.7, 0.99, 1.01, 1.5, 1.9]))
@example(strat.EXAMPLE["full"], 0.7)
def test_bounds(problem, alpha):
    m, x, data = problem
    assert reading_objective(m, x, alpha, "pointwise") <= gr.log_evidence(m, x) + 1e-9
    assert reading_objective(m, x, alpha, "escort") <= gr.log_evidence(m, x) + 1e-9
    ce = reading_objective(m, data, alpha, "cross_entropy")
    assert not np.isnan(ce)
    bound = _renyi_cross_entropy(m, data, alpha)
    if bound == -np.inf:
        assert ce == -np.inf
    else:
        assert ce <= bound + 1e-8 * (1 + abs(bound))
    if alpha < 1:   # Jensen: also below the data-averaged RELBO, hence below E log p(x)
        assert ce <= gr.relbo(m, data, alpha) + 1e-8 * (1 + abs(ce))


@given(strat.models(diagonal=False), strat.alphas)
@example(strat.EXAMPLE["full"].model, 1.0)
@example(strat.EXAMPLE["full"].model, 0.3)
def test_optimal_encoder_escort_is_posterior_pointwise_is_pi_alpha(model, alpha):
    k = model.k
    M = model.W.T @ model.W + model.sigma2 * np.eye(k)
    post = float(model.sigma2) * np.linalg.inv(M)         # test-only reference route
    e = reading_optimal_encoder(model, alpha, "escort", "full")
    p = reading_optimal_encoder(model, alpha, "pointwise", "full")
    c = reading_optimal_encoder(model, alpha, "cross_entropy", "full")
    assert e.D.shape == (k, k)
    assert_allclose(e.D, post, rtol=1e-9, atol=1e-12)
    assert_allclose(p.D, post / alpha, rtol=1e-9, atol=1e-12)
    assert_allclose(c.D, post / alpha, rtol=1e-9, atol=1e-12)
    assert_allclose(e.V, np.linalg.solve(M, model.W.T), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("reading", READINGS)
@pytest.mark.parametrize("alpha", [0.6, 1.4])
def test_optimal_encoder_is_a_maximum(reading, alpha):
    rng = np.random.default_rng(5)
    base = _model(rng, 3, 2)
    data = _moments(rng, 3, scale=0.2)
    best = reading_optimal_encoder(base, alpha, reading, "diagonal")
    f0 = reading_objective(best, data, alpha, reading)
    for _ in range(8):
        pert = best.replace(V=best.V + 1e-3 * rng.normal(size=best.V.shape),
                            c=best.c + 1e-3 * rng.normal(size=2),
                            D=best.D * np.exp(1e-3 * rng.normal(size=2)))
        assert reading_objective(pert, data, alpha, reading) < f0


def _quadratic(model, mu, alpha):
    """a0, g, Q of RELBO(mu + y) = a0 + g^T y - y^T Q y / 2, from values of gr.relbo (exact
    differences for a quadratic, up to rounding)."""
    n = model.n
    E = np.eye(n)
    f0 = gr.relbo(model, mu, alpha)
    g = np.array([(gr.relbo(model, mu + E[i], alpha) - gr.relbo(model, mu - E[i], alpha)) / 2
                  for i in range(n)])
    Q = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            Q[i, j] = -(gr.relbo(model, mu + E[i] + E[j], alpha) - gr.relbo(model, mu + E[i], alpha)
                        - gr.relbo(model, mu + E[j], alpha) + f0)
    return f0, g, 0.5 * (Q + Q.T)


def _gaussian_log_mean_exp(model, data, alpha):
    """-(1/t) log E exp(-t RELBO(x)), x ~ N(mu, S): the Gaussian integral in closed form,
    log E = -t a0 - log det(I - tSQ)/2 + t^2 g^T (S^-1 - tQ)^-1 g / 2."""
    t = 1 - alpha
    a0, g, Q = _quadratic(model, data.mean, alpha)
    S = data.cov
    sign, ld = np.linalg.slogdet(np.eye(model.n) - t * S @ Q)
    A = np.linalg.inv(S) - t * Q
    if sign <= 0 or np.min(np.linalg.eigvalsh(0.5 * (A + A.T))) <= 0:
        return -np.inf
    logE = -t * a0 - 0.5 * ld + 0.5 * t**2 * g @ np.linalg.solve(A, g)
    return -logE / t


def test_cross_entropy_batched_matches_unbatched_and_the_gaussian_integral():
    rng = np.random.default_rng(21)
    n, k = 3, 2
    models = [_model(rng, n, k, diagonal=(i % 2 == 0)) for i in range(3)]
    datas = [_moments(rng, n, scale=0.2) for _ in range(2)]
    alphas = np.array([0.8, 1.3, 1.7])
    # batch (3, 2): models along axis 0 (full encoders too), data along axis 1, alpha per row
    for diagonal in (True, False):
        ms = [m if m.diagonal == diagonal else _model(rng, n, k, diagonal) for m in models]
        D = np.stack([m.D for m in ms])[:, None]
        batched_model = gr.LinearGaussianVAE(
            np.stack([m.W for m in ms])[:, None], np.stack([m.b for m in ms])[:, None],
            np.array([float(m.sigma2) for m in ms])[:, None],
            V=np.stack([m.V for m in ms])[:, None], c=np.stack([m.c for m in ms])[:, None], D=D)
        batched_data = gr.DataMoments(np.stack([d.mean for d in datas])[None],
                                      np.stack([d.cov for d in datas])[None])
        out = reading_objective(batched_model, batched_data, alphas[:, None], "cross_entropy")
        assert out.shape == (3, 2)
        for i, m in enumerate(ms):
            for j, d in enumerate(datas):
                single = reading_objective(m, d, alphas[i], "cross_entropy")
                assert np.shape(single) == ()
                # a single model takes the direct route (log det from a QR factorisation), a
                # batch the SVD route: the same value up to rounding
                assert_allclose(out[i, j], single, rtol=4 * np.finfo(float).eps, atol=0)
                assert_allclose(single, _gaussian_log_mean_exp(m, d, alphas[i]), rtol=1e-9)


def test_cross_entropy_batch_mixes_finite_and_minus_inf():
    rng = np.random.default_rng(2)
    m = _model(rng, 3, 2)
    data = _moments(rng, 3, scale=100.0)
    out = reading_objective(m, data, np.array([0.2, 1.0, 1.5]), "cross_entropy")
    assert out.shape == (3,)
    assert out[0] == -np.inf
    assert np.all(np.isfinite(out[1:]))
    assert_allclose(out[1], gr.elbo(m, data), rtol=1e-11)


def test_cross_entropy_outside_domain_is_minus_inf_not_nan():
    rng = np.random.default_rng(2)
    m = _model(rng, 3, 2)
    data = _moments(rng, 3, scale=100.0)
    val = reading_objective(m, data, 0.2, "cross_entropy")
    assert val == -np.inf
    assert reading_objective(m, data, 1.5, "cross_entropy") > -np.inf


# ---- fitted optima (scipy) ----------------------------------------------------------------------

LAM = np.array([4.0, 2.0, 1.2, 0.3])
K = 3


def _profile_ce(W, s2, lam, alpha):
    """-n/2 log 2pi - 1/2 log det C + log det(I - (1-alpha) S C^{-1})/(2(1-alpha)) - P/(2 alpha),
    P = sum log M_ii - log det M, for S = diag(lam); -inf off the domain."""
    n, k = W.shape
    C = W @ W.T + s2 * np.eye(n)
    M = W.T @ W + s2 * np.eye(k)
    _, ldC = np.linalg.slogdet(C)
    _, ldM = np.linalg.slogdet(M)
    P = np.sum(np.log(np.diag(M))) - ldM
    t = 1.0 - alpha
    if t == 0:
        term = -0.5 * np.trace(np.linalg.solve(C, np.diag(lam)))
    else:
        ev = np.linalg.eigvalsh(C - t * np.diag(lam))
        if ev.min() <= 0:
            return -np.inf
        term = (np.sum(np.log(ev)) - ldC) / (2 * t)
    return -0.5 * n * np.log(2 * np.pi) - 0.5 * ldC + term - P / (2 * alpha)


def _fit(alpha, sigma2, rng, starts=3, lam=LAM, k=K):
    n, K = lam.size, k
    LAM = lam
    learn = sigma2 is None

    def neg(theta):
        W = theta[: n * K].reshape(n, K)
        s2 = np.exp(theta[-1]) if learn else sigma2
        v = _profile_ce(W, s2, LAM, alpha)
        return 1e6 if not np.isfinite(v) else -v

    best = None
    for _ in range(starts):
        th = rng.normal(size=n * K + learn)
        if learn:
            th[-1] = np.log(3.0)
        res = minimize(neg, th, method="BFGS", options={"gtol": 1e-9, "maxiter": 4000})
        if best is None or res.fun < best.fun:
            best = res
    W = best.x[: n * K].reshape(n, K)
    s2 = float(np.exp(best.x[-1])) if learn else sigma2
    return -best.fun, np.sort(np.sum(W**2, axis=0))[::-1], s2


@pytest.mark.parametrize("alpha", [0.5, 0.8, 1.0, 1.3, 1.7])
def test_fitted_cross_entropy_optimum_fixed_sigma2(alpha):
    rng = np.random.default_rng(int(alpha * 10))
    s2 = 1.0
    val, w2, _ = _fit(alpha, s2, rng)
    opt = reading_global_maximum(LAM, K, alpha, "cross_entropy", sigma2=s2)
    assert_allclose(opt.value, val, rtol=1e-7)
    assert_allclose(opt.w2, w2, atol=2e-4)
    # collapse exactly below sigma2/(2 - alpha)
    tau, active = reading_collapse_thresholds(LAM, s2, alpha, "cross_entropy")
    assert tau == pytest.approx(s2 / (2 - alpha), rel=1e-15)
    assert opt.active == int(np.count_nonzero(active[:K]))
    assert_array_equal(w2 > 1e-3, active[:K])


@pytest.mark.parametrize("seed", range(4))
def test_aligned_point_is_the_cross_entropy_global_maximum_random_spectra(seed):
    """The numerical check of the docs' Theorem 5 (proved there): BFGS over full W (random
    starts, the profile written here) finds no value above the aligned closed form."""
    rng = np.random.default_rng(100 + seed)
    lam = np.sort(rng.gamma(1.0, 2.0, size=5))[::-1]
    alpha = float(rng.uniform(0.3, 1.9))
    # sigma2 > (1 - alpha) lam_1 keeps every W inside the domain (alpha < 1)
    s2 = float(max(1.1 * (1 - alpha) * lam[0], rng.uniform(0.2, 1.0) * lam[2]))
    val, w2, _ = _fit(alpha, s2, rng, starts=4, lam=lam, k=3)
    opt = reading_global_maximum(lam, 3, alpha, "cross_entropy", sigma2=s2)
    assert val <= opt.value + 1e-9 * abs(opt.value)
    assert_allclose(val, opt.value, rtol=1e-8)
    assert_allclose(w2, np.maximum((2 - alpha) * lam[:3] - s2, 0.0), atol=1e-4)


@pytest.mark.parametrize("alpha", [0.5, 1.5])
def test_fitted_cross_entropy_optimum_learned_sigma2(alpha):
    rng = np.random.default_rng(11)
    val, w2, s2 = _fit(alpha, None, rng)
    opt = reading_global_maximum(LAM, K, alpha, "cross_entropy")
    assert_allclose(opt.value, val, rtol=1e-7)
    assert_allclose(opt.sigma2, s2, rtol=1e-4)
    assert_allclose(opt.w2, w2, atol=2e-4)


def test_cross_entropy_optimum_value_matches_objective():
    opt = reading_global_maximum(LAM, K, 1.3, "cross_entropy", sigma2=0.7)
    W = np.zeros((LAM.size, K))
    W[np.arange(K), np.arange(K)] = np.sqrt(opt.w2)
    m = gr.LinearGaussianVAE(W, np.zeros(4), 0.7, V=np.zeros((K, 4)), c=np.zeros(K),
                             D=np.ones(K))
    m = reading_optimal_encoder(m, 1.3, "cross_entropy")
    data = gr.DataMoments.from_spectrum(LAM)
    assert_allclose(reading_objective(m, data, 1.3, "cross_entropy"), opt.value, rtol=1e-12)
    assert_allclose(gr.rate(m, data), opt.rate, rtol=1e-12)
    assert_allclose(gr.distortion(m, data), opt.distortion, rtol=1e-12)


def test_pointwise_and_escort_optima_are_ppca():
    for reading in ("pointwise", "escort"):
        for alpha in (0.3, 2.0):
            opt = reading_global_maximum(LAM, K, alpha, reading)
            assert opt.sigma2 == pytest.approx(LAM[K:].mean(), rel=1e-12)
            assert_allclose(opt.w2, LAM[:K] - LAM[K:].mean(), rtol=1e-12)


# ---- matched beta, active counts ----------------------------------------------------------------

@pytest.mark.parametrize("reading", READINGS)
@pytest.mark.parametrize("alpha", [0.7, 1.0, 1.6])
def test_matched_beta_has_equal_rate_and_excess_distortion(reading, alpha):
    s2 = 0.9
    mb = matched_beta(alpha, LAM, K, s2, reading)
    # beta-ELBO rate at its optimum (Lucas et al. 2019), written here
    act = LAM[:K][LAM[:K] > mb.beta * s2]
    assert 0.5 * np.sum(np.log(act / (mb.beta * s2))) == pytest.approx(mb.rate, rel=1e-9)
    if alpha == 1.0 or reading == "escort":
        assert mb.beta == pytest.approx(1.0, rel=1e-9)
        assert abs(mb.excess) < 1e-9
    else:
        assert mb.excess > 1e-6          # beta-ELBO optima dominate at equal rate


def test_active_counts_and_critical_alpha():
    s2 = 1.0
    alphas = [0.5, 0.8, 1.0, 1.3, 1.7]
    assert_array_equal(active_counts(LAM, K, alphas, "cross_entropy", s2), [3, 3, 3, 2, 1])
    assert_array_equal(active_counts(LAM, K, alphas, "pointwise", s2), [3, 3, 3, 3, 3])
    crit = critical_alpha(LAM, s2)
    assert_allclose(crit, 2 - s2 / LAM, rtol=1e-15)
    assert_array_equal(active_counts(LAM, K, [0.2], "cross_entropy", 0.1), [-1])


# ---- validation ----------------------------------------------------------------------------------

def test_validation_messages():
    rng = np.random.default_rng(0)
    m = _model(rng, 3, 2)
    data = _moments(rng, 3)
    with pytest.raises(ValueError, match="`reading` must be one of"):
        reading_objective(m, data, 0.5, "tempered")
    with pytest.raises(ValueError, match="data-level quantity"):
        reading_objective(m, np.ones(3), 0.5, "cross_entropy")
    with pytest.raises(ValueError, match="`alpha` must be positive and finite, got -0.5"):
        reading_objective(m, data, -0.5, "cross_entropy")
    with pytest.raises(ValueError, match=r"0 < alpha < 2"):
        reading_global_maximum(LAM, K, 2.5, "cross_entropy", sigma2=1.0)
    with pytest.raises(ValueError, match=r"-inf for every decoder"):
        reading_global_maximum(LAM, K, 0.2, "cross_entropy", sigma2=0.1)
    with pytest.raises(ValueError, match="has no maximum"):
        reading_global_maximum([3.0, 1.0, 0.5, 0.0, 0.0], 3, 1.9, "cross_entropy")
    with pytest.raises(ValueError, match="`k` must be an integer"):
        reading_global_maximum(LAM, 9, 1.0)
    with pytest.raises(ValueError, match="`encoder` must be"):
        reading_optimal_encoder(m, 1.0, "escort", encoder="block")


# ---- the derivation: checks pass, the checked-in LaTeX is fresh ---------------------------------

@pytest.mark.xdist_group("derivations")  # one worker for the sympy tests (tests/test_generated.py)
def test_derivation_checks_and_latex_is_fresh():
    derivation = pytest.importorskip("gaussrelbo.derivations.readings",
                                     reason="the derivations package is installed with gaussrelbo")
    assert derivation.check() is True
    path = Path(__file__).resolve().parents[1] / "docs" / "derivations" / "readings.md"
    checked_in, regenerated = path.read_text(), derivation.latex()
    diff = "".join(difflib.unified_diff(checked_in.splitlines(True), regenerated.splitlines(True),
                                        "checked-in", "regenerated"))
    assert not diff, ("stale docs/derivations/readings.md; run python -m gaussrelbo.derivations.readings\n"
                      + diff)
