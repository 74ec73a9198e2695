"""The closed forms against the seeded Monte Carlo estimators of ``gaussrelbo.montecarlo``.

Tolerance: every agreement check is ``|closed - MC| <= 5 standard errors`` (two-sided
false-alarm rate 6e-7 per comparison for Gaussian errors), with the standard error bounded from
above so the check has power: 0.02-0.03 nats (0.05 for the nested population VR bound, 0.01 for
entropies) against values of 0.5-15 nats; ``test_power_*`` shows that plausible wrong closed forms
are rejected by more than 5 standard errors.  All draws are seeded, one seed per case.
"""

import zlib

import numpy as np
import pytest

import gaussrelbo as gr
from gaussrelbo import montecarlo as mc

N = 200_000           # draws for population values
N_POINT = 100_000     # draws per data point
SIGMA2 = 0.6


def _posterior_cov(W, sigma2):
    # independent of the package: a plain solve
    return sigma2 * np.linalg.solve(W.T @ W + sigma2 * np.eye(W.shape[1]), np.eye(W.shape[1]))


def _problem(seed, n, k, full, narrow=False, perturb=0.2):
    """A random model whose encoder is a perturbation of the exact posterior (so importance
    sampling with the encoder has finite-variance weights), data moments with one zero-variance
    direction, and two data points."""
    rng = np.random.default_rng(seed)
    W, b = rng.normal(size=(n, k)), rng.normal(size=n)
    post = _posterior_cov(W, SIGMA2)
    V = post @ W.T / SIGMA2 + perturb * rng.normal(size=(k, n))
    c = -V @ b + 0.2 * rng.normal(size=k)
    widen = 0.8 if narrow else 1.3
    if full:
        A = rng.normal(size=(k, k))
        D = widen * post + (0.0 if narrow else 0.05) * A @ A.T
    else:
        D = widen * np.diag(post) * (1.0 if narrow else rng.uniform(1.0, 1.5, size=k))
    model = gr.LinearGaussianVAE(W, b, SIGMA2, V=V, c=c, D=D)
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    lam = np.concatenate([rng.uniform(0.3, 3.0, size=n - 1), [0.0]])
    data = gr.DataMoments(rng.normal(size=n), (Q * lam) @ Q.T)
    return model, data, rng.normal(size=(2, n))


PROBLEMS = {
    "n4k2-full": (2, 4, 2, True),
    "n3k3-diag": (4, 3, 3, False),
    "n2k3-full": (3, 2, 3, True),          # n < k: zero-padded singular values
}
DIAG = (1, 4, 2, False)

# name: (Monte Carlo estimator(model, data, n_samples, seed), closed form(model, data))
CASES = {
    "distortion": (lambda m, d, n, s: mc.mc_distortion(m, d, n, s), gr.distortion),
    "rate": (lambda m, d, n, s: mc.mc_rate(m, d, n, s), gr.rate),
    "elbo": (lambda m, d, n, s: mc.mc_elbo(m, d, n, s), gr.elbo),
    "beta_elbo-2.5": (lambda m, d, n, s: mc.mc_beta_elbo(m, d, 2.5, n, s),
                      lambda m, d: gr.beta_elbo(m, d, 2.5)),
    "relbo-0.3": (lambda m, d, n, s: mc.mc_relbo(m, d, 0.3, n, s),
                  lambda m, d: gr.relbo(m, d, 0.3)),
    "relbo-0.8": (lambda m, d, n, s: mc.mc_relbo(m, d, 0.8, n, s),
                  lambda m, d: gr.relbo(m, d, 0.8)),
    "relbo-3": (lambda m, d, n, s: mc.mc_relbo(m, d, 3.0, n, s),
                lambda m, d: gr.relbo(m, d, 3.0)),
    "renyi_term-0.1": (lambda m, d, n, s: mc.mc_renyi_term(m, d, 0.1, n, s),
                       lambda m, d: gr.renyi_term(m, d, 0.1)),
    "log_evidence": (lambda m, d, n, s: mc.mc_log_evidence(m, d, n, s), gr.log_evidence),
}
VR_CASES = {
    "vr_bound--0.5": (lambda m, d, n, s: mc.mc_vr_bound(m, d, -0.5, n, s),
                      lambda m, d: gr.vr_bound(m, d, -0.5)),
    "vr_bound-0.5": (lambda m, d, n, s: mc.mc_vr_bound(m, d, 0.5, n, s),
                     lambda m, d: gr.vr_bound(m, d, 0.5)),
}


def _seed(*key):
    """A fixed seed per test case, so that cases do not share their draws."""
    return zlib.crc32(repr(key).encode())


def _check(est, want, max_stderr, shape):
    assert np.shape(est.estimate) == shape and np.shape(est.stderr) == shape
    assert np.shape(want) == shape
    assert np.all(est.stderr > 0)
    assert np.all(est.stderr < max_stderr), (est.stderr, max_stderr)
    z = (est.estimate - want) / est.stderr
    assert np.all(np.abs(z) <= 5.0), (z, est, want)


@pytest.mark.parametrize("problem", list(PROBLEMS))
@pytest.mark.parametrize("name", list(CASES))
def test_population_within_5_sigma(name, problem):
    model, data, _ = _problem(*PROBLEMS[problem])
    estimator, closed = CASES[name]
    est = estimator(model, data, N, _seed(name, problem))
    assert est.n_samples == N
    assert isinstance(est.estimate, np.float64) and isinstance(est.stderr, np.float64)
    # s.e. at most 0.03 nats, against values of 0.5-15 nats (see also test_power_*)
    _check(est, closed(model, data), 0.03, ())


@pytest.mark.parametrize("problem", list(PROBLEMS))
@pytest.mark.parametrize("name", list(CASES) + list(VR_CASES))
def test_points_within_5_sigma(name, problem):
    model, _, x = _problem(*PROBLEMS[problem])
    estimator, closed = {**CASES, **VR_CASES}[name]
    est = estimator(model, x, N_POINT, _seed(name, problem))
    assert est.n_samples == N_POINT and est.estimate.dtype == np.float64
    _check(est, closed(model, x), 0.02, (2,))


@pytest.mark.parametrize("problem", list(PROBLEMS))
@pytest.mark.parametrize("alpha", [-0.5, 0.5])
def test_population_vr_bound_within_5_sigma(alpha, problem):
    # Nested (n_inner draws of z per sampled x, jackknifed): needs an encoder mean close to the
    # posterior mean for the per-point weights to be light-tailed over the data (docstring).
    model, data, _ = _problem(*PROBLEMS[problem], perturb=0.05)
    est = mc.mc_vr_bound(model, data, alpha, 400_000, _seed(alpha, problem), n_inner=25)
    assert est.n_samples == 400_000
    # 16000 sampled x: the s.e. is dominated by the spread of log p(x) over the data
    _check(est, gr.vr_bound(model, data, alpha), 0.05, ())


def test_single_point_gives_numpy_scalars():
    model, _, x = _problem(*PROBLEMS["n4k2-full"])
    for est in (mc.mc_relbo(model, x[0], 0.5, 50_000, 0),
                mc.mc_log_evidence(model, x[0], 50_000, 0),
                mc.mc_vr_bound(model, x[0], 0.5, 50_000, 0)):
        assert isinstance(est.estimate, np.float64) and isinstance(est.stderr, np.float64)
    est = mc.mc_rate(model, np.broadcast_to(x[0], (2, 3, 4)), 50_000, 0)
    _check(est, gr.rate(model, np.broadcast_to(x[0], (2, 3, 4))), 0.02, (2, 3))
    # batch entries get their own draws
    assert len(np.unique(est.estimate)) == 6


@pytest.mark.parametrize("alpha", [0.02, 0.3, 0.5, 0.7, 1.0, 1.0 + 1e-9, 1.4, 3.0, 50.0])
def test_renyi_entropy_within_5_sigma(alpha):
    # H_alpha = 1/2 log det(2 pi cov) + (3/2) log(alpha)/(alpha - 1): gr.renyi_entropy
    cov = np.array([[2.0, 0.3, 0.0], [0.3, 1.0, 0.2], [0.0, 0.2, 0.5]])
    est = mc.mc_renyi_entropy(np.array([1.0, -2.0, 0.5]), cov, alpha, N, _seed(alpha))
    assert est.n_samples == N
    assert isinstance(est.estimate, np.float64)
    _check(est, gr.renyi_entropy(cov, alpha), 0.01, ())


def test_vr_bound_beyond_one_needs_a_narrow_encoder():
    # alpha > 1: finite only when alpha Sigma_post + (1 - alpha) D is positive definite
    model, data, x = _problem(5, 4, 2, True, narrow=True, perturb=0.05)
    est = mc.mc_vr_bound(model, x, 1.3, N_POINT, 3)
    _check(est, gr.vr_bound(model, x, 1.3), 0.02, (2,))
    est = mc.mc_vr_bound(model, data, 1.3, 400_000, 3, n_inner=25)
    _check(est, gr.vr_bound(model, data, 1.3), 0.05, ())
    # D = 3 Sigma_post: 3 Sigma_post - 2 D is negative definite, the closed form is -inf, and the
    # estimator refuses (its weights have infinite variance) instead of returning a number
    wide = model.replace(D=3.0 * _posterior_cov(model.W, SIGMA2))
    assert np.all(np.isneginf(gr.vr_bound(wide, x, 3.0)))
    with pytest.raises(ValueError, match=r"`alpha`: the importance weights .* infinite variance"):
        mc.mc_vr_bound(wide, x, 3.0, 1000, 0)
    # ... and already where the bound is finite but the weights' variance is not (alpha = 1.3:
    # the mean needs 1.3 - 0.3 * 3 > 0, the variance 1.6 - 0.6 * 3 > 0)
    assert np.all(np.isfinite(gr.vr_bound(wide, x, 1.3)))
    with pytest.raises(ValueError, match=r"`alpha`: the importance weights .* infinite variance"):
        mc.mc_vr_bound(wide, x, 1.3, 1000, 0)


def test_importance_sampling_refuses_a_too_narrow_encoder():
    model, _, x = _problem(1, 4, 2, False)
    narrow = model.replace(D=0.4 * np.diag(_posterior_cov(model.W, SIGMA2)))
    with pytest.raises(ValueError, match=r"`model`: the importance weights p\(x,z\)/q\(z\|x\)"):
        mc.mc_log_evidence(narrow, x, 1000, 0)
    # the population route does not sample z and is unaffected
    mc.mc_log_evidence(narrow, gr.DataMoments(np.zeros(4), np.eye(4)), 1000, 0)


def test_limits_agree_with_the_elbo_and_the_evidence():
    model, data, x = _problem(*DIAG)
    for d in (data, x):
        elbo = mc.mc_elbo(model, d, 20_000, 9)
        for other in (mc.mc_relbo(model, d, 1.0, 20_000, 9), mc.mc_vr_bound(model, d, 1.0,
                                                                              20_000, 9)):
            np.testing.assert_allclose(other.estimate, elbo.estimate, rtol=1e-13)
            np.testing.assert_allclose(other.stderr, elbo.stderr, rtol=1e-10)
    # the VR bound is continuous at alpha = 1 (no cancellation in (1/t) log mean exp(t a))
    elbo = mc.mc_elbo(model, x, 20_000, 9)
    for alpha in (1.0 - 1e-9, 1.0 + 1e-12):
        near = mc.mc_vr_bound(model, x, alpha, 20_000, 9)
        np.testing.assert_allclose(near.estimate, elbo.estimate, rtol=1e-8)
        np.testing.assert_allclose(near.stderr, elbo.stderr, rtol=1e-6)
    # alpha = 0 is importance-sampled log p(x), draw for draw
    a, b = mc.mc_vr_bound(model, x, 0.0, 20_000, 9), mc.mc_log_evidence(model, x, 20_000, 9)
    np.testing.assert_array_equal(a.estimate, b.estimate)
    np.testing.assert_array_equal(a.stderr, b.stderr)


ALL = [
    lambda m, d, s, n: mc.mc_distortion(m, d, n, s),
    lambda m, d, s, n: mc.mc_rate(m, d, n, s),
    lambda m, d, s, n: mc.mc_beta_elbo(m, d, 2.0, n, s),
    lambda m, d, s, n: mc.mc_relbo(m, d, 0.4, n, s),
    lambda m, d, s, n: mc.mc_renyi_term(m, d, 2.0, n, s),
    lambda m, d, s, n: mc.mc_log_evidence(m, d, n, s),
    lambda m, d, s, n: mc.mc_vr_bound(m, d, 0.5, n, s, n_inner=10),
    lambda m, d, s, n: mc.mc_renyi_entropy(np.zeros(2), np.diag([1.0, 0.3]), 0.4, n, s),
]


@pytest.mark.parametrize("i", range(len(ALL)))
def test_reproducible(i):
    model, data, x = _problem(*PROBLEMS["n4k2-full"])
    for d in (data, x):
        a, b = ALL[i](model, d, 42, 2000), ALL[i](model, d, 42, 2000)
        g = ALL[i](model, d, np.random.default_rng(42), 2000)
        c = ALL[i](model, d, 43, 2000)
        for e in (b, g):
            np.testing.assert_array_equal(e.estimate, a.estimate)
            np.testing.assert_array_equal(e.stderr, a.stderr)
        assert np.all(c.estimate != a.estimate)


def test_chunked_sampling_is_seamless(monkeypatch):
    model, data, x = _problem(*DIAG)
    whole = [mc.mc_relbo(model, x, 0.3, 50_000, 1), mc.mc_relbo(model, data, 0.3, 50_000, 1)]
    monkeypatch.setattr(mc, "_CHUNK_ELEMENTS", 1000)     # a few hundred draws per chunk
    # data points: z is the only randomness, drawn in stream order: chunking changes nothing
    est = mc.mc_relbo(model, x, 0.3, 50_000, 1)
    np.testing.assert_allclose(est.estimate, whole[0].estimate, rtol=1e-14)
    np.testing.assert_allclose(est.stderr, whole[0].stderr, rtol=1e-12)
    # moments: x and z interleave, so the draws differ, but the estimate is still right
    est = mc.mc_relbo(model, data, 0.3, 50_000, 1)
    assert est.estimate != whole[1].estimate
    _check(est, gr.relbo(model, data, 0.3), 0.03, ())
    est = mc.mc_vr_bound(model, data, 0.5, 40_000, 1, n_inner=20)
    _check(est, gr.vr_bound(model, data, 0.5), 0.15, ())


@pytest.mark.parametrize("i", range(len(ALL)))
def test_stderr_shrinks_like_inverse_sqrt_n(i):
    model, data, x = _problem(*PROBLEMS["n4k2-full"])
    d = x[0] if i == 6 else data          # the population VR bound is nested: use a point
    small, large = ALL[i](model, d, 5, 10_000), ALL[i](model, d, 6, 160_000)
    assert small.n_samples == 10_000 and large.n_samples == 160_000
    ratio = small.stderr / large.stderr    # sqrt(160_000 / 10_000) = 4
    assert 3.5 < ratio < 4.5, ratio


def test_power_wrong_closed_forms_are_rejected():
    model, data, x = _problem(*PROBLEMS["n4k2-full"])
    relbo = mc.mc_relbo(model, data, 3.0, N, 5)
    assert abs(relbo.z_score(gr.relbo(model, data, 3.0))) <= 5
    assert abs(relbo.z_score(gr.relbo(model, data, 1.5))) > 5            # another alpha
    flipped = gr.elbo(model, data) - (1 - 3.0) / 3.0 * gr.renyi_term(model, data, 3.0)
    assert abs(relbo.z_score(flipped)) > 5                                # Renyi term sign
    assert abs(relbo.z_score(gr.log_evidence(model, data))) > 5           # the bound is not tight
    beta = mc.mc_beta_elbo(model, x, 2.5, N, 5)
    assert np.all(np.abs(beta.z_score(gr.beta_elbo(model, x, 2.3))) > 5)
    vr = mc.mc_vr_bound(model, x, 0.5, N, 5)
    assert np.all(np.abs(vr.z_score(gr.vr_bound(model, x, 0.3))) > 5)
    cov = np.diag([2.0, 0.5, 1.0])
    h = mc.mc_renyi_entropy(np.zeros(3), cov, 3.0, N, 5)
    assert abs(h.z_score(gr.renyi_entropy(cov, 3.0))) <= 5
    assert abs(h.z_score(gr.renyi_entropy(cov, 2.8))) > 5
    assert abs(h.z_score(gr.shannon_entropy(cov))) > 5


@pytest.mark.parametrize("t", [0.0, 1e-12, 1e-5, 0.3, 1.0, -2.0, 15.0])
@pytest.mark.parametrize("weighted", [False, True])
def test_log_mean_exp_against_mpmath(t, weighted):
    # (1/t) log(sum w e^{t a} / sum w) and its delta-method s.e. at 50 digits; the expm1 branch
    # (|t (a - c)| <= 30) and the logsumexp branch (t = 15) are both exercised
    import mpmath as mpm
    mpm.mp.dps = 50
    rng = np.random.default_rng(3)
    a, lw = 3.0 * rng.normal(size=(12, 2)), (rng.normal(size=(12, 2)) if weighted else None)
    value, se = mc._log_mean_exp(a, t, lw)
    for j in range(2):
        w = [mpm.exp(v) for v in (lw[:, j] if weighted else np.zeros(12))]
        if t == 0.0:
            mean = mpm.fsum(wi * ai for wi, ai in zip(w, a[:, j])) / mpm.fsum(w)
            psi = [wi * (ai - mean) / (mpm.fsum(w) / 12) for wi, ai in zip(w, a[:, j])]
        else:
            f = [mpm.exp(t * mpm.mpf(ai)) for ai in a[:, j]]
            num = mpm.fsum(wi * fi for wi, fi in zip(w, f)) / 12
            den = mpm.fsum(w) / 12
            mean = mpm.log(num / den) / t
            psi = [(wi * fi / num - wi / den) / t for wi, fi in zip(w, f)]
        pbar = mpm.fsum(psi) / 12
        ref_se = mpm.sqrt(mpm.fsum((p - pbar) ** 2 for p in psi) / 11 / 12)
        assert abs(value[j] - float(mean)) <= 1e-14 * max(1.0, abs(float(mean)))
        assert abs(se[j] / float(ref_se) - 1.0) <= 1e-13


_NS = r"`n_samples` must be an integer in \[2, 1000000000000\]"

@pytest.mark.parametrize("t", [0.0, 1e-12, 0.1, 1.0, -0.7, 20.0])
def test_jackknife_against_mpmath(t):
    # n L - (n - 1) mean_i L_{-i}, L = (1/t) log mean e^{t a}, at 50 digits
    import mpmath as mpm
    mpm.mp.dps = 50
    a = 2.0 * np.random.default_rng(4).normal(size=(10, 2))
    got = mc._log_mean_exp_jackknife(a, t)

    def lme(v):
        if t == 0.0:
            return mpm.fsum(v) / len(v)
        return mpm.log(mpm.fsum(mpm.exp(t * mpm.mpf(x)) for x in v) / len(v)) / t

    for j in range(2):
        v = list(a[:, j])
        ref = 10 * lme(v) - 9 * mpm.fsum(lme(v[:i] + v[i + 1:]) for i in range(10)) / 10
        assert abs(got[j] - float(ref)) <= 1e-13 * max(1.0, abs(float(ref)))


BAD = [
    (lambda m, d: mc.mc_elbo(m, d, 0), _NS + r", got 0"),
    (lambda m, d: mc.mc_elbo(m, d, -5), _NS + r", got -5"),
    (lambda m, d: mc.mc_elbo(m, d, 1), _NS + r", got 1"),
    (lambda m, d: mc.mc_elbo(m, d, 10.5), _NS + r", got 10.5"),
    (lambda m, d: mc.mc_elbo(m, d, 1000.0), r"`n_samples` must be an integer"),
    (lambda m, d: mc.mc_elbo(m, d, True), r"`n_samples` must be an integer"),
    (lambda m, d: mc.mc_relbo(m, d, 0.0), r"`alpha` must be positive and finite, got 0.0"),
    (lambda m, d: mc.mc_relbo(m, d, -1.0), r"`alpha` must be positive and finite, got -1.0"),
    (lambda m, d: mc.mc_relbo(m, d, np.nan), r"`alpha` must be finite"),
    (lambda m, d: mc.mc_relbo(m, d, [0.5, 2.0]), r"`alpha` must be a scalar"),
    (lambda m, d: mc.mc_renyi_term(m, d, -0.5), r"`alpha` must be positive and finite"),
    (lambda m, d: mc.mc_vr_bound(m, d, np.inf), r"`alpha` must be finite"),
    (lambda m, d: mc.mc_beta_elbo(m, d, 0.0), r"`beta` must be positive and finite, got 0.0"),
    (lambda m, d: mc.mc_beta_elbo(m, d, -2.0), r"`beta` must be positive and finite"),
    (lambda m, d: mc.mc_rate(m, d, 100, "seed"), r"`random_state` must be None, a non-negative"),
    (lambda m, d: mc.mc_rate(m, d, 100, -1), r"`random_state` must be None, a non-negative"),
    (lambda m, d: mc.mc_rate(m, np.ones(3)), r"`data` must be a DataMoments or an array of "
                                              r"shape \(\.\.\., n\) with n=4, got \(3,\)"),
    (lambda m, d: mc.mc_rate(m, gr.DataMoments(np.zeros(3), np.eye(3))),
     r"`data` has dimension n=3 but the model has n=4"),
    (lambda m, d: mc.mc_rate(m, gr.DataMoments(np.zeros((2, 4)), np.eye(4))),
     r"`data` must be unbatched moments"),
    (lambda m, d: mc.mc_rate(m.replace(sigma2=[0.5, 0.6]), d),
     r"`model` must be unbatched for Monte Carlo, got batch_shape \(2,\)"),
    (lambda m, d: mc.mc_rate("model", d), r"`model` must be a gaussrelbo.LinearGaussianVAE"),
    (lambda m, d: mc.mc_vr_bound(m, d, 0.5, 1000, n_inner=1), r"`n_inner` must be an integer"),
    (lambda m, d: mc.mc_vr_bound(m, d, 0.5, 1000, n_inner=600),
     r"`n_samples` must be at least 2 \* n_inner = 1200"),
    (lambda m, d: mc.mc_renyi_entropy(np.zeros(2), -np.eye(2), 2.0),
     r"`cov` must be positive definite"),
    (lambda m, d: mc.mc_renyi_entropy(np.zeros(2), np.eye(3), 2.0),
     r"`cov` must have shape \(k, k\) with k=2, got \(3, 3\)"),
    (lambda m, d: mc.mc_renyi_entropy(np.zeros((2, 2)), np.eye(2), 2.0),
     r"`mean` and `cov` must be unbatched"),
    (lambda m, d: mc.mc_renyi_entropy(np.zeros(2), np.eye(2), 0.0), r"`alpha` must be positive"),
    (lambda m, d: mc.mc_renyi_entropy(np.zeros(2), np.eye(2), 1.0, 0),
     _NS),
]


@pytest.mark.parametrize("call, message", BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_input(call, message):
    model, data, _ = _problem(*DIAG)
    with pytest.raises(ValueError, match=message):
        call(model, data)
