"""The `reading=` selector on the entry points: optimal_encoder, LinearVAE, basin_map, sweep and
the sweep CLI; the readings' Renyi terms; the profiled cross-entropy value and gradient.

References are independent of the code under test: closed forms written here (numpy slogdet,
eigh and solve; the one-direction optimum c = (2 - alpha) lam of the docs page "Readings of the
Renyi VAE", Theorem 5), finite differences, mpmath quadrature at 30 digits, scipy's logsumexp.
"""

import mpmath as mp
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import logsumexp

import gaussrelbo as gr
from gaussrelbo.readings import (READINGS, matched_beta, reading_global_maximum,
                                 reading_objective, reading_optimal_encoder,
                                 reading_profiled_value_grad, reading_renyi_term)

LAM = np.array([5.0, 4.0, 3.0, 2.0, 1.2, 0.5])


def _model(rng, n=4, k=2, diagonal=True):
    D = rng.uniform(0.2, 1.0, k) if diagonal else np.diag(rng.uniform(0.2, 1.0, k)) + 0.05
    return gr.LinearGaussianVAE(rng.normal(size=(n, k)), rng.normal(size=n), 0.6,
                                V=0.5 * rng.normal(size=(k, n)), c=0.3 * rng.normal(size=k),
                                D=D)


def _moments(rng, n=4, scale=0.3):
    B = rng.normal(size=(n, n))
    return gr.DataMoments(rng.normal(size=n), scale * B @ B.T / n)


def _f_direction(lam, c, alpha):
    """One eigen-direction of the cross-entropy profile (docs, Theorem 4), written here."""
    t = 1.0 - alpha
    if t == 0:
        return -0.5 * np.log(2 * np.pi * c) - 0.5 * lam / c
    return -0.5 * np.log(2 * np.pi * c) + np.log(1 - t * lam / c) / (2 * t)


def _ce_optimum_value(lam, k, alpha, s2):
    """Value of the aligned optimum at a fixed sigma2: c_j = max((2 - alpha) lam_j, s2) on the
    top k directions, s2 elsewhere."""
    c = np.full(lam.size, s2)
    c[:k] = np.maximum((2 - alpha) * lam[:k], s2)
    return float(np.sum([_f_direction(lam_j, c_j, alpha) for lam_j, c_j in zip(lam, c)]))


# ---- the Renyi term of each reading -------------------------------------------------------------

def _renyi_bracket(model, D, alpha):
    """H(N(., D)) - H_alpha(p(z|x)) by slogdet (test-only route)."""
    k = model.k
    M = model.W.T @ model.W + model.sigma2 * np.eye(k)
    _, ld_post = np.linalg.slogdet(float(model.sigma2) * np.linalg.inv(M))
    _, ld_D = np.linalg.slogdet(2 * np.pi * np.e * D)
    ell = 1.0 if alpha == 1 else np.log(alpha) / (alpha - 1)
    return 0.5 * ld_D - 0.5 * (k * np.log(2 * np.pi) + ld_post) - 0.5 * k * ell


@pytest.mark.parametrize("alpha", [0.3, 1.0, 1.7])
@pytest.mark.parametrize("diagonal", [True, False])
def test_renyi_terms_pointwise_and_escort(alpha, diagonal):
    rng = np.random.default_rng(4)
    m = _model(rng, diagonal=diagonal)
    x = rng.normal(size=(3, 4))
    D = np.diag(m.D) if diagonal else m.D
    pw = reading_renyi_term(m, x, alpha, "pointwise")
    es = reading_renyi_term(m, x, alpha, "escort")
    assert pw.shape == (3,)
    assert es.shape == (3,)
    assert_allclose(pw, _renyi_bracket(m, D, alpha), rtol=1e-12)
    assert_allclose(es, _renyi_bracket(m, D / alpha, alpha), rtol=1e-12)
    # the escort identity: RELBO^E(q) = ELBO(q_alpha) + (1 - alpha)/alpha R(q_alpha)
    m_esc = m.replace(D=m.D / alpha)
    assert_allclose(reading_objective(m, x, alpha, "escort"),
                    gr.elbo(m_esc, x) + (1 - alpha) / alpha * es, rtol=1e-12)


mp.mp.dps = 30


def _mp_elbo_1d(x, w, b, s2, v, c, d):
    """ELBO(x) for n = k = 1 in mpmath: log p(x) - KL(q || p(z|x))."""
    x, w, b, s2, v, c, d = map(mp.mpf, (x, w, b, s2, v, c, d))
    m = w**2 + s2
    logp = -mp.log(2 * mp.pi * m) / 2 - (x - b) ** 2 / (2 * m)
    pm, pv = w * (x - b) / m, s2 / m
    kl = (d / pv + (v * x + c - pm) ** 2 / pv - 1 + mp.log(pv / d)) / 2
    return logp - kl


@pytest.mark.parametrize("alpha", [0.7, 1.4])
def test_cross_entropy_renyi_term_splits_off_the_elbo_aggregate(alpha):
    p = dict(w=0.8, b=0.3, s2=0.5, v=0.4, c=-0.2, d=0.35)
    mu, lam = 0.7, 0.4
    m = gr.LinearGaussianVAE([[p["w"]]], [p["b"]], p["s2"], V=[[p["v"]]], c=[p["c"]],
                             D=[p["d"]])
    data = gr.DataMoments([mu], [[lam]])
    t = 1 - mp.mpf(alpha)
    dens = lambda x: mp.exp(-(x - mu) ** 2 / (2 * lam)) / mp.sqrt(2 * mp.pi * lam)  # noqa: E731
    integral = mp.quad(lambda x: dens(x) * mp.exp(-t * _mp_elbo_1d(x, **p)), [-mp.inf, mu, mp.inf])
    elbo_aggregate = float(-mp.log(integral) / t)
    term = reading_renyi_term(m, data, alpha, "cross_entropy")
    assert term.shape == ()
    assert_allclose(term, _renyi_bracket(m, np.diag(m.D), alpha), rtol=1e-12)
    assert_allclose(reading_objective(m, data, alpha, "cross_entropy"),
                    elbo_aggregate + (1 - alpha) / alpha * term, rtol=1e-12)


def test_renyi_term_validation():
    rng = np.random.default_rng(0)
    m = _model(rng)
    with pytest.raises(ValueError, match="data-level quantity"):
        reading_renyi_term(m, np.ones(4), 0.5, "cross_entropy")
    with pytest.raises(ValueError, match="`reading` must be one of 'pointwise', 'escort', "
                                         "'cross_entropy', got 'tempered'"):
        reading_renyi_term(m, np.ones(4), 0.5, "tempered")


# ---- the profiled cross-entropy objective -------------------------------------------------------

@pytest.mark.parametrize("alpha", [0.7, 1.0, 1.6])
@pytest.mark.parametrize("learn", [False, True])
def test_profiled_cross_entropy_gradient_matches_finite_differences(alpha, learn):
    rng = np.random.default_rng(8)
    n, k = LAM.size, 3
    W = rng.normal(size=(n, k)) * 1.5
    s2 = 1.3
    f, gW, gs = reading_profiled_value_grad(W, s2, LAM, alpha)
    assert np.isfinite(f)
    h = 1e-6
    for _ in range(6):
        i, j = rng.integers(n), rng.integers(k)
        E = np.zeros_like(W)
        E[i, j] = h
        fd = (reading_profiled_value_grad(W + E, s2, LAM, alpha)[0]
              - reading_profiled_value_grad(W - E, s2, LAM, alpha)[0]) / (2 * h)
        assert_allclose(gW[i, j], fd, rtol=1e-6, atol=1e-8)
    if learn:
        fd = (reading_profiled_value_grad(W, s2 + h, LAM, alpha)[0]
              - reading_profiled_value_grad(W, s2 - h, LAM, alpha)[0]) / (2 * h)
        assert_allclose(gs, fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("alpha", [0.7, 1.0, 1.6])
def test_profiled_cross_entropy_is_the_objective_at_the_optimal_encoder(alpha):
    rng = np.random.default_rng(9)
    n, k = LAM.size, 3
    W = rng.normal(size=(5, n, k)) * 1.5
    s2 = np.array([1.3, 1.6, 2.0, 1.1, 1.5])
    f, gW, gs = reading_profiled_value_grad(W, s2, LAM, alpha)
    assert f.shape == (5,)
    assert gW.shape == (5, n, k)
    assert gs.shape == (5,)
    data = gr.DataMoments.from_spectrum(LAM)
    for i in range(5):
        m = reading_optimal_encoder(gr.LinearGaussianVAE.from_decoder(W[i], np.zeros(n), s2[i]),
                                    alpha, "cross_entropy")
        ref = reading_objective(m, data, alpha, "cross_entropy")
        if np.isfinite(ref):
            assert_allclose(f[i], ref, rtol=1e-11)
        else:
            assert f[i] == -np.inf


def test_profiled_cross_entropy_stationary_at_the_aligned_optimum_and_minus_inf_outside():
    alpha, s2, k = 1.5, 0.8, 3
    W = np.zeros((LAM.size, k))
    w2 = np.maximum((2 - alpha) * LAM[:k] - s2, 0.0)
    W[np.arange(k), np.arange(k)] = np.sqrt(w2)
    f, gW, gs = reading_profiled_value_grad(W, s2, LAM, alpha)
    assert np.max(np.abs(gW)) < 1e-12
    assert_allclose(f, _ce_optimum_value(LAM, k, alpha, s2), rtol=1e-13)
    f_out, g_out, _ = reading_profiled_value_grad(np.zeros((LAM.size, k)), 0.5, LAM, 0.5)
    assert f_out == -np.inf                 # C = 0.5 I, (1 - alpha) lam_1 = 2.5: outside
    assert np.all(np.isnan(g_out))


# ---- optimal_encoder(reading=...) ----------------------------------------------------------------

@pytest.mark.parametrize("encoder", ["diagonal", "full"])
@pytest.mark.parametrize("alpha", [0.4, 2.5])
def test_optimal_encoder_reading(encoder, alpha):
    rng = np.random.default_rng(1)
    m0 = gr.LinearGaussianVAE.from_decoder(rng.normal(size=(5, 3)), rng.normal(size=5), 0.7)
    M = m0.W.T @ m0.W + 0.7 * np.eye(3)
    post = 0.7 * np.linalg.inv(M)                          # test-only reference route
    ref = np.diag(0.7 / np.diag(M)) if encoder == "diagonal" else post
    out = {r: gr.optimal_encoder(m0, "relbo", alpha=alpha, encoder=encoder, reading=r)
           for r in READINGS}
    D = {r: (np.diag(o.D) if encoder == "diagonal" else o.D) for r, o in out.items()}
    assert_allclose(D["escort"], ref, rtol=1e-12, atol=1e-14)
    assert_allclose(D["pointwise"], ref / alpha, rtol=1e-12, atol=1e-14)
    assert_allclose(D["cross_entropy"], ref / alpha, rtol=1e-12, atol=1e-14)
    for r in READINGS:
        assert_allclose(out[r].V, np.linalg.solve(M, m0.W.T), rtol=1e-11, atol=1e-14)
        assert_allclose(out[r].c, -np.linalg.solve(M, m0.W.T) @ m0.b, rtol=1e-11, atol=1e-14)
    # escort: tight (log p(x)) with a full encoder, for every alpha
    if encoder == "full":
        x = rng.normal(size=5)
        assert_allclose(reading_objective(out["escort"], x, alpha, "escort"),
                        gr.log_evidence(m0, x), rtol=1e-12)


def test_optimal_encoder_reading_validation():
    m0 = gr.LinearGaussianVAE.from_decoder(np.ones((3, 1)), np.zeros(3), 0.5)
    with pytest.raises(ValueError, match="`reading` must be one of 'pointwise', 'escort', "
                                         "'cross_entropy', got 'jensen'"):
        gr.optimal_encoder(m0, "relbo", alpha=0.5, reading="jensen")
    with pytest.raises(ValueError, match="applies to objective='relbo' only"):
        gr.optimal_encoder(m0, "elbo", reading="escort")


# ---- LinearVAE(reading=...) ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def LinearVAE():
    pytest.importorskip("sklearn", reason="scikit-learn is the optional extra")
    return gr.LinearVAE


@pytest.fixture(scope="module")
def X():
    rng = np.random.default_rng(0)
    return rng.normal(size=(400, 6)) * np.sqrt(LAM) @ np.linalg.qr(rng.normal(size=(6, 6)))[0]


def _sample_spectrum(X):
    Xc = X - X.mean(axis=0)
    return np.sort(np.linalg.eigvalsh(Xc.T @ Xc / (X.shape[0] - 1)))[::-1]     # ddof=1


@pytest.mark.parametrize("alpha, sigma2", [(0.8, 1.5), (1.5, 0.8), (1.8, 1.0)])
def test_linear_vae_cross_entropy_fixed_sigma2(LinearVAE, X, alpha, sigma2):
    k = 4
    lam = _sample_spectrum(X)
    vae = LinearVAE(n_components=k, alpha=alpha, sigma2=sigma2, reading="cross_entropy").fit(X)
    w2 = np.sort(np.sum(vae.components_**2, axis=1))[::-1]
    assert_allclose(w2, np.maximum((2 - alpha) * lam[:k] - sigma2, 0.0), rtol=1e-9, atol=1e-12)
    assert vae.n_active_ == int(np.sum(lam[:k] > sigma2 / (2 - alpha)))
    # encoder pi_alpha: D_ii = sigma2 / (alpha M_ii)
    assert_allclose(vae.encoder_cov_, sigma2 / (alpha * (np.sum(vae.components_**2, axis=1)
                                                          + sigma2)), rtol=1e-12)


@pytest.mark.parametrize("alpha", [0.6, 1.5])
def test_linear_vae_cross_entropy_learned_sigma2(LinearVAE, X, alpha):
    k = 3
    lam = _sample_spectrum(X)
    vae = LinearVAE(n_components=k, alpha=alpha, reading="cross_entropy").fit(X)
    s2 = vae.noise_variance_
    active = lam[:k] > s2 / (2 - alpha)
    assert vae.n_active_ == int(np.sum(active))
    disc = np.concatenate([lam[:k][~active], lam[k:]])
    # the learned-noise equation of the docs (Theorem 6), written here
    assert abs(np.sum(((2 - alpha) * disc - s2) / (s2 - (1 - alpha) * disc))) < 1e-9 * disc.size
    # and s2 maximises the aligned value over a grid around it
    grid = s2 * np.exp(np.linspace(-0.2, 0.2, 41))

    def value(v):
        c = np.full(lam.size, v)
        c[:k] = np.where(lam[:k] > v / (2 - alpha), (2 - alpha) * lam[:k], v)
        return np.sum([_f_direction(a, b, alpha) for a, b in zip(lam, c)])

    vals = [value(v) for v in grid]
    assert np.argmax(vals) == 20


def test_linear_vae_escort(LinearVAE, X):
    k, alpha = 3, 0.4
    pw = LinearVAE(n_components=k, alpha=alpha).fit(X)
    es = LinearVAE(n_components=k, alpha=alpha, reading="escort").fit(X)
    assert_allclose(es.components_, pw.components_, rtol=1e-12)
    assert es.noise_variance_ == pw.noise_variance_
    M_ii = np.sum(es.components_**2, axis=1) + es.noise_variance_
    assert_allclose(es.encoder_cov_, es.noise_variance_ / M_ii, rtol=1e-12)    # posterior
    # the escort objective at its optimum equals the pointwise one at its optimum (Theorem 3)
    assert_allclose(es.score(X), pw.score(X), rtol=1e-12)
    lb = LinearVAE(n_components=k, alpha=alpha, reading="escort", solver="lbfgs",
                   random_state=0).fit(X)
    assert_allclose(lb.score(X), es.score(X), rtol=1e-8)
    assert_allclose(np.sort(lb.encoder_cov_), np.sort(es.encoder_cov_), rtol=1e-5)


def test_linear_vae_cross_entropy_score_is_the_empirical_log_mean_exp(LinearVAE, X):
    alpha = 0.7
    vae = LinearVAE(n_components=2, alpha=alpha, sigma2=1.5, reading="cross_entropy").fit(X)
    per = vae.score_samples(X)
    assert per.shape == (X.shape[0],)
    assert_allclose(per, gr.relbo(vae.model_, X, alpha), rtol=1e-13)
    t = 1 - alpha
    ref = -(logsumexp(-t * per) - np.log(per.size)) / t
    assert_allclose(vae.score(X), ref, rtol=1e-12)
    assert vae.objective_value_ == vae.score(X)


@pytest.mark.parametrize("params, match", [
    (dict(reading="jensen"), "reading"),
    (dict(objective="beta_elbo", reading="escort"), "applies to objective='relbo' only"),
    (dict(alpha=2.5, reading="cross_entropy"), "0 < alpha < 2"),
    (dict(alpha=0.5, reading="cross_entropy", solver="lbfgs"), "not available"),
])
def test_linear_vae_reading_validation(LinearVAE, X, params, match):
    with pytest.raises(ValueError, match=match):
        LinearVAE(n_components=2, **params).fit(X)


def test_linear_vae_cross_entropy_check_estimator(LinearVAE):
    from sklearn.utils.estimator_checks import check_estimator

    check_estimator(LinearVAE(alpha=1.5, reading="cross_entropy"))


# ---- basin_map(reading=...) ---------------------------------------------------------------------

@pytest.mark.parametrize("alpha, sigma2, subset", [(1.3, 0.8, (0, 1, 2)), (1.6, 1.5, (0, 1)),
                                                   (0.8, 1.0, (0, 1, 2))])
def test_basin_map_cross_entropy_reaches_the_reading_maximum(alpha, sigma2, subset):
    bm = gr.basin_map(LAM, 3, "relbo", params=(alpha,), n_runs=12, sigma2=sigma2,
                      reading="cross_entropy")
    assert bm.reading == "cross_entropy"
    label = f"subset={subset} maximum"
    assert bm.counts[0].get(label, 0) + bm.counts[0].get("infeasible start", 0) == 12
    assert bm.counts[0].get(label, 0) >= 1
    ref = _ce_optimum_value(LAM, 3, alpha, sigma2)
    for run in bm.runs[0]:
        if run["label"] == label:
            assert run["value"] == pytest.approx(ref, rel=1e-9)
            assert run["support"] == subset


def test_basin_map_cross_entropy_learned_sigma2_matches_per_start():
    kw = dict(params=(1.5,), n_runs=6, reading="cross_entropy")
    batched = gr.basin_map(LAM, 3, "relbo", **kw)
    per_start = gr.basin_map(LAM, 3, "relbo", method="per_start", **kw)
    assert batched.counts == per_start.counts
    opt = reading_global_maximum(LAM, 3, 1.5, "cross_entropy")
    for run in batched.runs[0]:
        assert run["sigma2"] == pytest.approx(opt.sigma2, rel=1e-6)


@pytest.mark.parametrize("mode", ["profiled", "full"])
def test_basin_map_escort_reaches_the_pointwise_maximum(mode):
    kw = dict(params=(0.5,), n_runs=4, sigma2=0.8, mode=mode)
    es = gr.basin_map(LAM, 3, "relbo", reading="escort", **kw)
    pw = gr.basin_map(LAM, 3, "relbo", **kw)
    assert es.counts == [{"subset=(0, 1, 2) maximum": 4}]
    # pPCA at fixed sigma2 (Tipping & Bishop 1999): the maximum is alpha-free
    ml = -0.5 * (6 * np.log(2 * np.pi) + np.log(LAM[:3]).sum() + 3 + 3 * np.log(0.8)
                 + LAM[3:].sum() / 0.8)
    for run in es.runs[0]:
        assert run["value"] == pytest.approx(ml, rel=1e-9)
    if mode == "profiled":
        assert [r["value"] for r in es.runs[0]] == [r["value"] for r in pw.runs[0]]


def test_basin_map_reading_validation():
    with pytest.raises(ValueError, match="`reading` must be one of 'pointwise', 'escort', "
                                         "'cross_entropy', got 'x'"):
        gr.basin_map(LAM, 3, "relbo", reading="x")
    with pytest.raises(ValueError, match="applies to objective='relbo' only"):
        gr.basin_map(LAM, 3, "beta_elbo", params=(2.0,), reading="escort")
    with pytest.raises(ValueError, match="`mode` must be 'profiled'"):
        gr.basin_map(LAM, 3, "relbo", reading="cross_entropy", mode="full")
    with pytest.raises(ValueError, match="0 < alpha < 2"):
        gr.basin_map(LAM, 3, "relbo", params=(2.5,), reading="cross_entropy")
    with pytest.raises(ValueError, match="-inf for every decoder"):
        gr.basin_map(LAM, 3, "relbo", params=(0.5,), sigma2=0.5, reading="cross_entropy")


# ---- sweep(reading=...) and the CLI -------------------------------------------------------------

@pytest.fixture
def xarray():
    return pytest.importorskip("xarray", reason="the sweep extra")


def test_sweep_readings(xarray):
    alphas = [0.8, 1.5, 1.9]
    ds = gr.sweep({"lam": LAM}, k=3, objective=["relbo", "beta_elbo"], alpha=alphas,
                  beta=[2.0], sigma2=[0.8], reading=list(READINGS), scheduler="synchronous")
    cell = ds.sel(spectrum="lam", k=3, sigma2=0.8, beta=2.0)
    for i, a in enumerate(alphas):
        ce = cell.sel(objective="relbo", reading="cross_entropy").isel(alpha=i)
        assert int(ce.n_active) == int(np.sum(LAM[:3] > 0.8 / (2 - a)))
        assert float(ce.max_value) == pytest.approx(_ce_optimum_value(LAM, 3, a, 0.8), rel=1e-12)
        es = cell.sel(objective="relbo", reading="escort").isel(alpha=i)
        pw = cell.sel(objective="relbo", reading="pointwise").isel(alpha=i)
        assert float(es.max_value) == pytest.approx(float(pw.max_value), rel=1e-13)
    # the reading does not apply to the beta-ELBO: constant along that axis
    b = cell.sel(objective="beta_elbo").max_value.values
    assert np.all(b == b[..., :1])
    with pytest.raises(ValueError, match="'pointwise', 'escort', 'cross_entropy', got 'x'"):
        gr.sweep({"lam": LAM}, reading=["x"])


def test_sweep_cross_entropy_out_of_domain_is_nan(xarray):
    ds = gr.sweep({"lam": LAM}, k=3, alpha=[0.5, 2.5], sigma2=[0.5], reading="cross_entropy",
                  scheduler="synchronous")
    v = ds.max_value.squeeze().values
    assert np.all(np.isnan(v))          # alpha = 0.5: -inf for every decoder; 2.5: unbounded


def test_sweep_cli_reading(xarray, capsys):
    from gaussrelbo.cli import main

    rc = main(["sweep", "--spectrum", "design9", "--k", "3", "--alpha", "1.5", "--sigma2", "0.8",
               "--reading", "pointwise,cross_entropy", "--scheduler", "synchronous"])
    out = capsys.readouterr().out
    assert rc == 0
    rows = [line.split() for line in out.splitlines() if line.split()[:1] == ["design9"]]
    active = {row[6]: int(row[-1]) for row in rows}
    from gaussrelbo.datasets import load_spectrum

    lam = load_spectrum("design9")
    assert active["cross_entropy"] == int(np.sum(lam[:3] > 0.8 / 0.5))
    assert active["pointwise"] == int(np.sum(lam[:3] > 0.8))


# ---- matched beta with learned sigma2 -----------------------------------------------------------

@pytest.mark.parametrize("reading", READINGS)
@pytest.mark.parametrize("alpha", [0.6, 1.0, 1.5])
def test_matched_beta_learned_sigma2(reading, alpha):
    mb = matched_beta(alpha, LAM, 3, None, reading)
    # the beta-ELBO optimum with learned sigma2 (Lucas et al. 2019, written here): active set
    # A = {lam_j > beta s2}, s2 = sum_{j not in A} lam_j / (n - beta |A|), rate as below
    s2 = mb.beta_sigma2
    act = LAM[:3][LAM[:3] > mb.beta * s2]
    assert s2 == pytest.approx(LAM[act.size:].sum() / (LAM.size - mb.beta * act.size), rel=1e-9)
    assert 0.5 * np.sum(np.log(act / (mb.beta * s2))) == pytest.approx(mb.rate, rel=1e-8)
    assert mb.excess >= -1e-9
    if alpha == 1.0 or reading == "escort":
        assert mb.beta == pytest.approx(1.0, rel=1e-8)
        assert abs(mb.excess) < 1e-8
