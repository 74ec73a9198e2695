"""The optima atlas (gaussrelbo.optima): stationarity, classification, counts, global maxima.

References come from routes independent of the module under test: values through
gaussrelbo.objectives on models with the optimal encoder (gaussrelbo.encoders), finite
differences of those values, hand-written closed forms in this file, brute-force enumeration,
scipy L-BFGS from random starts and scikit-learn's PCA.
"""

from collections import Counter
from itertools import combinations
from math import comb

import numpy as np
import pytest
from scipy.optimize import minimize

import gaussrelbo as gr
from gaussrelbo import optima
from gaussrelbo.optima import _orthogonal, _problem, _profile, _records

LAM8 = np.array([5.0, 4.0, 3.0, 2.0, 1.2, 0.5])          # Theory §8
LAM9 = np.array([5.0, 3.0, 1.6, 0.9, 0.5, 0.3])          # Theory §9
# well separated (no near-ties, so finite-difference Hessians resolve every curvature)
LAM7 = np.array([6.0, 4.6, 3.5, 2.4, 1.5, 0.7, 0.3])

CASES = [("loglik", {}), ("elbo", {}), ("relbo", {"alpha": 0.3}), ("relbo", {"alpha": 3.0}),
         ("beta_elbo", {"beta": 0.5}), ("beta_elbo", {"beta": 2.0})]


def _gamma(objective, kw):
    return kw.get("beta", 1.0) if objective == "beta_elbo" else 1.0


# ---- the independent route: gaussrelbo.objectives on optimally encoded models -------------------

def _encoded(W, s2, objective, kw, encoder):
    """Model(s) with b = 0 and the optimal encoder; W (..., n, k), s2 (...)."""
    W = np.asarray(W, float)
    n, k = W.shape[-2:]
    m = gr.LinearGaussianVAE.from_decoder(W, np.zeros(n), s2)
    diag = encoder == "diagonal"
    if objective == "beta_elbo":
        return gr.optimal_encoder(m, "beta_elbo", beta=kw["beta"], diagonal=diag)
    return gr.optimal_encoder(m, "relbo", alpha=kw.get("alpha", 1.0), diagonal=diag)


def _ref_value(lam, W, s2, objective, kw, encoder="diagonal"):
    """The profiled objective by the objectives module (batched over W, s2)."""
    data = gr.DataMoments.from_spectrum(lam)
    m = _encoded(W, s2, objective, kw, encoder)
    if objective == "loglik":
        return gr.log_evidence(m, data)
    if objective == "elbo":
        return gr.elbo(m, data)
    if objective == "relbo":
        return gr.relbo(m, data, kw["alpha"])
    return gr.beta_elbo(m, data, kw["beta"])


def _fd_hessian_values(lam, W, s2, objective, kw, h=1e-3):
    """Hessian over vec(W) by second differences of the reference *values* (no gradient)."""
    n, k = W.shape
    p = n * k
    I = np.eye(p) * h
    pts = [W.ravel()]
    for i in range(p):
        pts += [W.ravel() + I[i], W.ravel() - I[i]]
        for j in range(i + 1, p):
            pts += [W.ravel() + I[i] + I[j], W.ravel() + I[i] - I[j],
                    W.ravel() - I[i] + I[j], W.ravel() - I[i] - I[j]]
    X = np.array(pts).reshape(-1, n, k)
    v = np.asarray(_ref_value(lam, X, np.full(X.shape[0], s2), objective, kw))
    H, it = np.empty((p, p)), iter(range(1, v.size))
    f0 = v[0]
    for i in range(p):
        a, b = next(it), next(it)
        H[i, i] = (v[a] - 2 * f0 + v[b]) / h**2
        for j in range(i + 1, p):
            pp, pm, mp, mm = (v[next(it)] for _ in range(4))
            H[i, j] = H[j, i] = (pp - pm - mp + mm) / (4 * h * h)
    return H


def _signs_separated(eigs, zero_below, nonzero_above):
    """Sign counts, asserting a clear gap between the zero and the non-zero eigenvalues."""
    scale = np.max(np.abs(eigs))
    a = np.abs(eigs) / scale
    assert np.all((a <= zero_below) | (a >= nonzero_above)), np.sort(a)[:6]
    zero = a <= zero_below
    return (int(np.sum((eigs > 0) & ~zero)), int(np.sum(zero)), int(np.sum((eigs < 0) & ~zero)))


def _fd_signs(lam, p, objective, kw, encoder, learn):
    """Signs of the gradient-FD Hessian (hessian_fd), W in units of sqrt(lam_1 + t)."""
    H = optima.hessian_fd(p.W, p.sigma2, lam, objective, encoder=encoder, learn_sigma2=learn,
                          **kw)
    c = np.sqrt(lam[0] + _gamma(objective, kw) * p.sigma2)
    d = np.ones(H.shape[0])
    d[:p.W.size] = c
    # FD truncation/rounding puts true zeros below 4e-10 of the scale; the smallest genuine
    # curvature here, two pairs of nearly equal norm rotating into each other, is 7.4e-7 of it
    # (the same at steps 1e-4, 1e-5, 1e-6, so not an FD artefact).
    return _signs_separated(np.linalg.eigvalsh(H * d[:, None] * d[None, :]), 3e-9, 5e-7)


def _rel_grad(lam, p, objective, kw, encoder, learn):
    _, gW, gs = optima.profiled_value_grad(p.W, p.sigma2, lam, objective, encoder=encoder, **kw)
    out = np.sqrt(lam[0]) * np.max(np.abs(gW))
    return max(out, abs(gs) * p.sigma2) if learn else out


def _orth_W(lam, J, k, t):
    W = np.zeros((lam.size, k))
    for c, j in enumerate(J):
        W[j, c] = np.sqrt(lam[j] - t)
    return W


# ---- values and gradients -----------------------------------------------------------------------

@pytest.mark.parametrize("objective, kw", CASES)
@pytest.mark.parametrize("encoder", ["diagonal", "full"])
def test_value_and_gradient_against_the_objectives_module(objective, kw, encoder):
    rng = np.random.default_rng(0)
    W, s2 = rng.normal(size=(6, 3)), 0.7
    f, gW, gs = optima.profiled_value_grad(W, s2, LAM8, objective, encoder=encoder, **kw)
    assert gW.shape == (6, 3) and np.ndim(f) == 0 and np.ndim(gs) == 0
    assert np.isclose(f, _ref_value(LAM8, W, s2, objective, kw, encoder), rtol=1e-12)
    # central differences of the reference values; step 1e-5: truncation ~1e-10 relative,
    # rounding ~eps |F| / h ~ 1e-10
    h = 1e-5
    E = np.eye(18).reshape(18, 6, 3) * h
    Wp = np.concatenate([W + E, W - E])
    v = np.asarray(_ref_value(LAM8, Wp, np.full(36, s2), objective, kw, encoder))
    fd = ((v[:18] - v[18:]) / (2 * h)).reshape(6, 3)
    assert np.max(np.abs(fd - gW)) <= 1e-6 * np.max(np.abs(gW))
    vs = np.asarray(_ref_value(LAM8, np.stack([W, W]), np.array([s2 + h, s2 - h]), objective,
                               kw, encoder))
    assert abs((vs[0] - vs[1]) / (2 * h) - gs) <= 1e-6 * max(1.0, abs(gs))


@pytest.mark.parametrize("objective, kw", [("relbo", {"alpha": 0.3}), ("relbo", {"alpha": 4.0}),
                                           ("elbo", {})])
def test_full_encoder_profiles_to_the_log_likelihood(objective, kw):
    rng = np.random.default_rng(1)
    for _ in range(3):
        W, s2 = rng.normal(size=(6, 3)), rng.uniform(0.2, 2)
        full = optima.profiled_value_grad(W, s2, LAM8, objective, encoder="full", **kw)
        ll = optima.profiled_value_grad(W, s2, LAM8, "loglik", **kw)
        assert full[0] == pytest.approx(ll[0], rel=1e-14)
        assert np.allclose(full[1], ll[1], rtol=1e-13, atol=1e-15)
        # ... while the diagonal encoder pays the Hadamard gap (1/2 alpha) log(prod M_ii/det M)
        diag = optima.profiled_value_grad(W, s2, LAM8, objective, **kw)[0]
        M = W.T @ W + s2 * np.eye(3)
        gap = (np.sum(np.log(np.diag(M))) - np.linalg.slogdet(M)[1]) / (2 * kw.get("alpha", 1))
        assert diag == pytest.approx(ll[0] - gap, rel=1e-13)


# ---- every listed point is stationary, with the right value, rate and distortion ---------------

@pytest.mark.parametrize("objective, kw", CASES)
@pytest.mark.parametrize("sigma2", [0.8, None])
@pytest.mark.parametrize("encoder", ["diagonal", "full"])
def test_listed_points_are_stationary(objective, kw, sigma2, encoder):
    lam = LAM8
    atlas = optima.stationary_points(lam, 3, objective, sigma2=sigma2, encoder=encoder, **kw)
    assert atlas.complete and atlas.n_rejected == 0 and atlas.points
    learn = sigma2 is None
    g = _gamma(objective, kw)
    W = np.stack([p.W for p in atlas.points])
    s2 = np.array([p.sigma2 for p in atlas.points])
    assert W.shape == (len(atlas.points), 6, 3)
    ref = np.asarray(_ref_value(lam, W, s2, objective, kw, encoder))
    m = _encoded(W, s2, objective, kw, encoder)
    data = gr.DataMoments.from_spectrum(lam)
    rates, dists = np.asarray(gr.rate(m, data)), np.asarray(gr.distortion(m, data))
    for i, p in enumerate(atlas.points):
        assert _rel_grad(lam, p, objective, kw, encoder, learn) <= 1e-9, p.subset
        assert p.value == pytest.approx(ref[i], rel=1e-12)
        assert p.rate == pytest.approx(rates[i], rel=1e-10, abs=1e-12)
        assert p.distortion == pytest.approx(dists[i], rel=1e-12)
        assert p.active == int(np.sum(np.any(p.W != 0, axis=0)))
        assert np.array_equal(p.b, np.zeros(6))
        D = sorted(p.subset)
        full_rank = all(len(cols) == r for cols, r, _ in p.clusters)
        if learn and full_rank:     # self-consistency written out by hand (no r < c cluster)
            assert p.sigma2 == pytest.approx(np.delete(lam, D).sum() / (6 - g * len(D)),
                                             rel=1e-14)
        if p.orthogonal:
            np.testing.assert_allclose(p.W, _orth_W(lam, D, 3, g * p.sigma2), rtol=1e-14)
    values = [p.value for p in atlas.points]
    assert values == sorted(values, reverse=True)
    assert atlas.global_max.value == values[0]


# ---- Hessian signs -------------------------------------------------------------------------------

def test_design_8_hessian_sign_counts():
    """Theory §8, from second differences of gaussrelbo.objectives values (no gradient code)."""
    design = {("loglik", (0, 1, 2)): (0, 3, 15), ("loglik", (0, 1, 3)): (1, 3, 14),
              ("relbo", (0, 1, 2)): (0, 0, 18), ("relbo", (0, 1, 3)): (1, 0, 17)}
    cases = [("loglik", {})] + [("relbo", {"alpha": a}) for a in (0.3, 1.0, 3.0)]
    for objective, kw in cases:
        at = {p.subset: p for p in optima.stationary_points(LAM8, 3, objective, sigma2=0.8,
                                                            **kw).points if p.orthogonal}
        for J in ((0, 1, 2), (0, 1, 3)):
            H = _fd_hessian_values(LAM8, _orth_W(LAM8, J, 3, 0.8), 0.8, objective, kw)
            # value differences at h=1e-3: true zeros ~1e-7 of the scale, genuine >= 1e-3
            signs = _signs_separated(np.linalg.eigvalsh(H), 1e-5, 1e-4)
            assert signs == design[objective, J], (objective, kw, J)
            assert at[J].hessian_signs == signs
        assert at[(0, 1, 2)].kind == "maximum" and at[(0, 1, 3)].kind == "saddle"


@pytest.mark.parametrize("lam, k, sigma2", [
    (LAM7, 3, 0.8), (LAM7, 4, 0.8),
    (np.array([4.0, 4.0, 2.0, 1.0, 0.5]), 2, 0.8),          # a repeated used pair
    (np.array([4.0, 2.0, 2.0, 1.0, 0.5]), 2, 0.8),          # a used value tied with an unused one
    (np.array([4.0, 2.0, 0.8, 0.5, 0.3]), 3, 0.8)])         # lambda_3 = sigma2 exactly
@pytest.mark.parametrize("objective, kw", [("loglik", {}), ("relbo", {"alpha": 0.5}),
                                           ("relbo", {"alpha": 2.0}), ("beta_elbo", {"beta": 1.5})])
def test_closed_form_signs_match_fd_hessian(lam, k, sigma2, objective, kw):
    if objective == "beta_elbo" and lam[2] == 0.8:
        sigma2 = 0.8 / 1.5                                   # the threshold tie for beta
    for s2 in (sigma2, None):
        atlas = optima.stationary_points(lam, k, objective, sigma2=s2, **kw)
        assert atlas.complete
        for p in atlas.points:
            fd = _fd_signs(lam, p, objective, kw, "diagonal", s2 is None)
            if p.hessian_signs is not None:
                assert p.hessian_signs == fd, (p.subset, p.pairs, s2)
            assert p.kind == _records._kind(fd)
        # every local maximum is global (with a tie, (0, 1) and (0, 2) are the same circle of
        # maxima); every non-orthogonal point is a saddle
        maxima = [p for p in atlas.points if p.kind == "maximum"]
        assert atlas.global_max in maxima
        assert all(p.value == pytest.approx(atlas.global_max.value, rel=1e-13) for p in maxima)
        assert all(p.kind == "saddle" for p in atlas.points if not p.orthogonal)


@pytest.mark.parametrize("objective, kw", [("loglik", {}), ("relbo", {"alpha": 0.5}),
                                           ("beta_elbo", {"beta": 2.0})])
def test_zero_decoder_is_a_minimum_when_every_eigenvalue_exceeds_the_threshold(objective, kw):
    """Not every non-maximal orthogonal point is a saddle (Theory §8a says so): W = 0 has only
    ascent directions when lam_n > gamma sigma2."""
    for t, kind in ((0.2, "minimum"), (0.4, "saddle")):       # t = gamma sigma2, lam_n = 0.3
        s2 = t / _gamma(objective, kw)
        atlas = optima.stationary_points(LAM7, 3, objective, sigma2=s2, nonorthogonal=False,
                                         **kw)
        zero = next(p for p in atlas.points if p.subset == ())
        fd = _fd_signs(LAM7, zero, objective, kw, "diagonal", False)
        assert zero.kind == kind == _records._kind(fd) and zero.hessian_signs == fd


@pytest.mark.parametrize("objective, kw", [("relbo", {"alpha": 0.5}), ("beta_elbo", {"beta": 0.5}),
                                           ("beta_elbo", {"beta": 2.0})])
def test_length_sigma2_block_matches_finite_differences(objective, kw):
    """The closed-form Hessian over (column lengths, sigma2) at learned-sigma2 points."""
    atlas = optima.stationary_points(LAM7, 3, objective, nonorthogonal=False, **kw)
    sp = _problem._Spec(LAM7, 3, objective, kw.get("alpha"), kw.get("beta"), None, "diagonal")
    h = 1e-6
    for p in atlas.points:
        J, r = p.subset, len(p.subset)
        B = _orthogonal._length_block(sp, J, p.sigma2, True)

        def grad(W, s2):
            _, gW, gs = optima.profiled_value_grad(W, s2, LAM7, objective, **kw)
            return np.append([gW[j, c] for c, j in enumerate(J)], gs)

        fd = np.empty((r + 1, r + 1))
        for c, j in enumerate(J):
            E = np.zeros_like(p.W)
            E[j, c] = h
            fd[c] = (grad(p.W + E, p.sigma2) - grad(p.W - E, p.sigma2)) / (2 * h)
        fd[r] = (grad(p.W, p.sigma2 + h) - grad(p.W, p.sigma2 - h)) / (2 * h)
        assert np.allclose(B, fd, rtol=1e-6, atol=1e-6 * np.max(np.abs(fd))), p.subset


@pytest.mark.parametrize("lam, k, sigma2, objective, kw", [
    (LAM7, 3, 0.8, "relbo", {"alpha": 0.5}),
    (LAM7, 4, 0.5, "loglik", {}),
    (LAM7, 3, 0.6, "beta_elbo", {"beta": 2.0}),
    (np.array([4.0, 4.0, 2.0, 2.0, 1.0, 0.8, 0.3]), 3, 0.8, "relbo", {"alpha": 2.0}),
    (np.array([4.0, 4.0, 2.0, 2.0, 1.0, 0.8, 0.3]), 3, 0.8, "loglik", {})])
def test_analytic_index_counts_equal_fd_counts(lam, k, sigma2, objective, kw):
    """index_counts (no enumeration) against FD Hessians of every subset, enumerated here."""
    g = _gamma(objective, kw)
    t = g * sigma2
    m = int(np.sum(lam > t))
    counts = Counter()
    for r in range(min(k, m) + 1):
        for J in combinations(range(m), r):
            W = _orth_W(lam, J, k, t)
            H = optima.hessian_fd(W, sigma2, lam, objective, **kw)
            H *= lam[0] + t
            counts[_signs_separated(np.linalg.eigvalsh(H), 3e-9, 1e-5)] += 1
    assert sum(counts.values()) == sum(comb(m, r) for r in range(min(k, m) + 1))
    assert optima.index_counts(lam, k, objective, sigma2=sigma2, **kw) == dict(
        sorted(counts.items()))


# ---- global maxima ---------------------------------------------------------------------------------

def _lbfgs_best(lam, k, objective, kw, sigma2, seeds=range(4)):
    """Best of several scipy L-BFGS runs on the profiled objective over (W, log sigma2)."""
    n = lam.size

    def negf(x):
        W = x[:n * k].reshape(n, k)
        s2 = np.exp(x[-1]) if sigma2 is None else sigma2
        f, gW, gs = optima.profiled_value_grad(W, s2, lam, objective, **kw)
        g = -gW.ravel()
        return -f, (np.append(g, -gs * s2) if sigma2 is None else g)

    best = None
    for seed in seeds:
        rng = np.random.default_rng(seed)
        x0 = rng.normal(size=n * k) * np.sqrt(lam.mean())
        if sigma2 is None:
            x0 = np.append(x0, np.log(rng.uniform(0.3, 2.0)))
        r = minimize(negf, x0, jac=True, method="L-BFGS-B",
                     options={"maxiter": 20000, "maxcor": 30, "ftol": 1e-16, "gtol": 1e-11})
        s2 = np.exp(r.x[-1]) if sigma2 is None else sigma2
        if best is None or -r.fun > best[0]:
            best = (-r.fun, s2)
    return best


@pytest.mark.parametrize("objective, kw", [("relbo", {"alpha": 0.3}), ("relbo", {"alpha": 1.0}),
                                           ("relbo", {"alpha": 3.0}), ("beta_elbo", {"beta": 0.5}),
                                           ("beta_elbo", {"beta": 2.0}),
                                           ("beta_elbo", {"beta": 4.0})])
@pytest.mark.parametrize("sigma2", [0.8, None])
def test_global_maximum_matches_lbfgs_from_random_starts(objective, kw, sigma2):
    gmax = optima.global_maximum(LAM9, 3, objective, sigma2=sigma2, **kw)
    best, s2 = _lbfgs_best(LAM9, 3, objective, kw, sigma2)
    assert abs(best - gmax.value) <= 1e-8 * max(1.0, abs(gmax.value)), (best, gmax.value)
    if sigma2 is None:
        assert s2 == pytest.approx(gmax.sigma2, rel=1e-5)
    assert gmax.kind == "maximum" and gmax.hessian_signs[0] == 0


def _ppca_ml(lam, k):
    """Theory §7, written out."""
    n = lam.size
    s2 = lam[k:].sum() / (n - k)
    return -0.5 * n * (1 + np.log(2 * np.pi)) - 0.5 * (np.log(lam[:k]).sum()
                                                       + (n - k) * np.log(s2)), s2


@pytest.mark.parametrize("alpha", [0.05, 0.3, 1.0, 3.0, 30.0])
@pytest.mark.parametrize("encoder", ["diagonal", "full"])
def test_relbo_global_maximum_is_ppca_ml_for_every_alpha(alpha, encoder):
    for lam, k in ((LAM8, 3), (LAM9, 2), (LAM7, 5)):
        value, s2 = _ppca_ml(lam, k)
        p = optima.global_maximum(lam, k, "relbo", alpha=alpha, encoder=encoder)
        assert p.value == pytest.approx(value, rel=1e-13)
        assert p.sigma2 == pytest.approx(s2, rel=1e-14)
        assert p.subset == tuple(range(k))
        assert np.allclose(np.sum(p.W**2, axis=0), lam[:k] - s2, rtol=1e-13)


@pytest.mark.parametrize("name, ks", [("wine", (2, 5)), ("digits", (10,))])
def test_relbo_global_maximum_reproduces_sklearn_pca_score(name, ks):
    pytest.importorskip("sklearn", reason="scikit-learn is the optional extra gaussrelbo[sklearn]")
    from sklearn import datasets
    from sklearn.decomposition import PCA

    X = getattr(datasets, f"load_{name}")().data.astype(float)
    N, n = X.shape
    Xc = X - X.mean(0)
    lam = np.clip(np.sort(np.linalg.eigvalsh(Xc.T @ Xc / (N - 1)))[::-1], 0.0, None)  # ddof=1
    for k in ks:
        score = PCA(k).fit(X).score(X)
        for alpha in (0.5, 2.0):
            p = optima.global_maximum(lam, k, "relbo", alpha=alpha)
            # Theory §7: score = ML(S_ddof1) + n / (2N)
            assert p.value == pytest.approx(score - n / (2 * N), rel=1e-9), (name, k, alpha)


# ---- non-orthogonal points ----------------------------------------------------------------------

def _u_closed_form(lp, lq, a):
    """(1+u)(1+u/a) = rho (1-u)(1-u/a) is the quadratic u^2 - B u + a = 0,
    B = (a+1)(rho+1)/(rho-1); its smaller root (stable form) lies in (0, min(1, a))."""
    B = (a + 1) * (lp + lq) / (lp - lq)
    return 2 * a / (B + np.sqrt(B * B - 4 * a))


def _second_derivative(F, h=2e-3):
    """Central second difference with one Richardson step: truncation O(h^4) ~ 1e-11,
    rounding ~ eps |F| / h^2 ~ 1e-9 (|F| ~ 10)."""
    d = lambda h: (F(h) - 2 * F(0.0) + F(-h)) / h**2          # noqa: E731
    return (4 * d(h / 2) - d(h)) / 3


def _rotate(W, i, j, theta):
    R = np.eye(W.shape[1])
    c, s = np.cos(theta), np.sin(theta)
    R[[i, i, j, j], [i, j, i, j]] = [c, -s, s, c]
    return W @ R


@pytest.mark.parametrize("alpha", [0.3, 1.0, 3.0])
def test_nonorthogonal_saddles(alpha):
    s2, k = 0.8, 3
    atlas = optima.stationary_points(LAM8, k, "relbo", alpha=alpha, sigma2=s2)
    # one equal-norm pair (a cluster of two columns and rank two) plus orthogonal columns
    extra = [p for p in atlas.points if len(p.pairs) == 1
             and sum(len(cols) for cols, _, _ in p.clusters) == 2 + len(p.clusters) - 1]
    # expected configurations, counted by hand: pairs p < q whose smaller column norm is
    # positive, c_q = lam_q / (1 - u/alpha) > sigma2, times orthogonal singles (lam_j > sigma2)
    eligible = set(np.flatnonzero(LAM8 > s2))
    expected = set()
    for p, q in combinations(range(6), 2):
        u = _u_closed_form(LAM8[p], LAM8[q], alpha)
        if LAM8[q] / (1 - u / alpha) > s2:
            rest = sorted(eligible - {p, q})
            expected |= {((p, q), S) for r in range(k - 1) for S in combinations(rest, r)}
    assert {(p.pairs[0], tuple(sorted(set(p.subset) - set(p.pairs[0])))) for p in extra} \
        == expected
    # beyond DESIGN's lam_q > sigma2: lam_q = 0.5 pairs with 5 (alpha = 0.3 and 1), since
    # c_q = lam_q / (1 - u/alpha) > sigma2 is all that is needed
    assert any(LAM8[p.pairs[0][1]] < s2 for p in extra) == (alpha < 3)
    for p in extra:
        (a, b), = p.pairs
        u = _u_closed_form(LAM8[a], LAM8[b], alpha)
        m = LAM8[a] / ((1 + u) * (1 + u / alpha))
        M = p.W.T @ p.W + s2 * np.eye(k)
        assert np.allclose([M[0, 0], M[1, 1], abs(M[0, 1])], [m, m, u * m], rtol=1e-12)
        assert _rel_grad(LAM8, p, "relbo", {"alpha": alpha}, "diagonal", False) <= 1e-9
        assert p.kind == "saddle"
        assert p.hessian_signs == _fd_signs(LAM8, p, "relbo", {"alpha": alpha}, "diagonal",
                                            False)

        def F(theta):
            return optima.profiled_value_grad(_rotate(p.W, 0, 1, theta), s2, LAM8, "relbo",
                                              alpha=alpha)[0]

        assert _second_derivative(F) == pytest.approx(4 * (u * m) ** 2 / (alpha * m * m),
                                                      rel=1e-5)


def test_several_disjoint_pairs_are_stationary_saddles():
    for objective, kw in (("relbo", {"alpha": 0.5}), ("beta_elbo", {"beta": 0.7})):
        a, g = kw.get("alpha", 1.0), _gamma(objective, kw)
        for s2 in (0.6, None):
            atlas = optima.stationary_points(LAM8, 4, objective, sigma2=s2, **kw)
            multi = [p for p in atlas.points if len(p.pairs) == 2 and len(p.clusters) == 2]
            assert multi and atlas.complete
            if s2 is not None:      # every pair of valid disjoint pairs, enumerated by hand
                valid = [(p, q) for p, q in combinations(range(6), 2)
                         if LAM8[q] / (1 - _u_closed_form(LAM8[p], LAM8[q], a) / a) > g * s2]
                want = {(A, B) for A, B in combinations(valid, 2) if not set(A) & set(B)}
                assert {tuple(sorted(p.pairs)) for p in multi
                        if len(p.clusters) == 2} == want
            for p in multi:
                assert _rel_grad(LAM8, p, objective, kw, "diagonal", s2 is None) <= 1e-9
                assert p.kind == "saddle"
                M = p.W.T @ p.W
                assert np.isclose(M[0, 0], M[1, 1], rtol=1e-12)
                assert np.isclose(M[2, 2], M[3, 3], rtol=1e-12)
                assert np.allclose(M[:2, 2:], 0.0, atol=1e-14)


def test_large_nonorthogonal_points_get_exact_signs():
    """n k = 225 parameters: every listed cluster point carries closed-form sign counts, equal to
    the finite-difference ones (checked on a few)."""
    lam = np.geomspace(8.0, 0.1, 25)
    atlas = optima.stationary_points(lam, 9, "relbo", alpha=0.5, sigma2=1.0, max_points=60)
    extra = [p for p in atlas.points if not p.orthogonal]
    assert extra and not atlas.complete
    assert any(cap.startswith("max_points") for cap in atlas.truncated_by)
    for p in extra[:2]:
        assert p.kind == "saddle"
        assert _rel_grad(lam, p, "relbo", {"alpha": 0.5}, "diagonal", False) <= 1e-9
        assert p.hessian_signs == _fd_signs(lam, p, "relbo", {"alpha": 0.5}, "diagonal", False)


# ---- rotational stiffness -----------------------------------------------------------------------

@pytest.mark.parametrize("alpha", [0.25, 1.0, 4.0])
def test_rotation_stiffness_matches_finite_differences(alpha):
    s2 = 0.8
    atlas = optima.stationary_points(LAM8, 3, "relbo", alpha=alpha, sigma2=s2)
    points = {p.subset: p for p in atlas.points if p.orthogonal}
    for J in ((0, 1, 2), (0, 3), (1,)):
        p = points[J]
        stiff = optima.rotation_stiffness(p, alpha)
        assert stiff.shape == (3, 3) and np.all(np.diag(stiff) == 0)
        m = np.array([LAM8[j] for j in J] + [s2] * (3 - len(J)))   # used: lam_j; zero: sigma2
        for i, j in combinations(range(3), 2):
            want = -(m[i] - m[j]) ** 2 / (alpha * m[i] * m[j])
            assert stiff[i, j] == pytest.approx(want, rel=1e-12, abs=1e-15)

            def F(theta):
                return optima.profiled_value_grad(_rotate(p.W, i, j, theta), s2, LAM8, "relbo",
                                                  alpha=alpha)[0]

            assert _second_derivative(F) == pytest.approx(want, rel=1e-5, abs=1e-9)


# ---- beta-ELBO: collapse and learned sigma2 ----------------------------------------------------------

def test_design_9_table():
    table = {0.5: (3, "0.37778"), 1.0: (3, "0.56667"), 2.0: (1, "1.575"), 4.0: (0, "1.8833")}
    n, k = 6, 3
    for beta, (r, s2) in table.items():
        p = optima.global_maximum(LAM9, k, "beta_elbo", beta=beta)
        digits = len(s2.split(".")[1])                   # as printed: half a unit of the last
        assert p.active == r and abs(p.sigma2 - float(s2)) <= 0.5 * 10.0 ** -digits
        # independent route: every subset, its self-consistent sigma2 and its value
        best = None
        for size in range(k + 1):
            for J in combinations(range(n), size):
                if n - beta * size <= 0:
                    continue
                s = np.delete(LAM9, J).sum() / (n - beta * size)
                if not np.all(LAM9[list(J)] > beta * s):
                    continue
                f = float(_ref_value(LAM9, _orth_W(LAM9, J, k, beta * s), s, "beta_elbo",
                                     {"beta": beta}))
                if best is None or f > best[0]:
                    best = (f, J, s)
        assert best[1] == p.subset and p.value == pytest.approx(best[0], rel=1e-12)
        assert p.sigma2 == pytest.approx(best[2], rel=1e-14)


@pytest.mark.parametrize("beta", [0.5, 1.0, 2.0, 4.0])
def test_learned_sigma2_lists_every_self_consistent_point(beta):
    n, k = 6, 3
    want = {}
    for size in range(k + 1):
        for J in combinations(range(n), size):
            if n - beta * size > 0:
                s = np.delete(LAM9, J).sum() / (n - beta * size)
                if np.all(LAM9[list(J)] > beta * s):
                    want[J] = s
    atlas = optima.stationary_points(LAM9, k, "beta_elbo", beta=beta, encoder="full")
    got = {p.subset: p.sigma2 for p in atlas.points}
    assert got.keys() == want.keys()
    assert all(got[J] == pytest.approx(want[J], rel=1e-14) for J in want)
    assert atlas.n_orthogonal == len(want) and atlas.complete
    # top-r sets: one per size, the best of their size
    tops = optima.sigma2_fixed_points(LAM9, k, beta)
    assert [(r, pytest.approx(s, rel=1e-14)) for r, s in tops] == [
        (len(J), want[J]) for J in sorted(want, key=len) if J == tuple(range(len(J)))]
    for r, _ in tops:
        same = [p for p in atlas.points if len(p.subset) == r]
        assert max(same, key=lambda p: p.value).subset == tuple(range(r))


def test_top_r_dominates_every_self_consistent_set_of_its_size():
    """The module's proof (swap to a larger eigenvalue), checked by brute force."""
    rng = np.random.default_rng(11)
    checked = 0
    for _ in range(40):
        n = int(rng.integers(4, 8))
        lam = np.sort(rng.gamma(1.0, size=n))[::-1]
        beta = float(rng.choice([0.3, 0.7, 1.0, 1.5, 3.0]))
        for r in range(1, n):
            if n - beta * r <= 0:
                continue
            vals = {}
            for J in combinations(range(n), r):
                s = np.delete(lam, J).sum() / (n - beta * r)
                if np.all(lam[list(J)] > beta * s):
                    # closed form of the value at a self-consistent point, written out
                    vals[J] = (-0.5 * beta * np.log(lam[list(J)]).sum()
                               - 0.5 * (n - beta * r) * np.log(s))
            if vals:
                checked += 1
                assert max(vals, key=vals.get) == tuple(range(r))
    assert checked > 50


def test_collapse_thresholds():
    s2 = 0.5
    thr, active = optima.collapse_thresholds(LAM9, s2, beta=4.0)
    assert thr.shape == (6,) and np.allclose(thr, LAM9 / s2, rtol=1e-15)
    assert active.tolist() == [True, True, False, False, False, False]
    assert np.array_equal(optima.collapse_thresholds(LAM9, s2), thr)
    # crossing beta_j switches dimension j off (the optimum is re-derived, not read from thr)
    for j in range(3):
        for factor, on in ((0.999, True), (1.001, False)):
            beta = factor * LAM9[j] / s2
            p = optima.global_maximum(LAM9, 3, "beta_elbo", beta=beta, sigma2=s2)
            assert (j in p.subset) == on
            norms = np.sum(p.W**2, axis=0)
            assert np.allclose(norms, np.maximum(LAM9[:3] - beta * s2, 0.0), rtol=1e-12,
                               atol=1e-15)


# ---- large problems -------------------------------------------------------------------------------

def _pair_W(lam, pairs, singles, k, t, alpha):
    """Hand construction of a Theory §8b configuration (pairs first, then singles)."""
    W = np.zeros((lam.size, k))
    c = 0
    for p, q in pairs:
        u = _u_closed_form(lam[p], lam[q], alpha)
        hp, hq = lam[p] / (1 + u / alpha) - t, lam[q] / (1 - u / alpha) - t
        W[[p, q], c] = np.sqrt(hp / 2), np.sqrt(hq / 2)
        W[[p, q], c + 1] = np.sqrt(hp / 2), -np.sqrt(hq / 2)
        c += 2
    for j in singles:
        W[j, c] = np.sqrt(lam[j] - t)
        c += 1
    return W


def test_capped_enumeration_lists_the_best_points_in_value_order():
    """A capped atlas lists exactly the best `cap` stationary values of the complete atlas (at
    fixed sigma2 the order is exact); the orthogonal ones are checked by brute force."""
    lam = np.geomspace(9.0, 0.2, 8)
    k, s2, cap, alpha = 3, 0.5, 40, 0.7
    full = optima.stationary_points(lam, k, "relbo", alpha=alpha, sigma2=s2)
    atlas = optima.stationary_points(lam, k, "relbo", alpha=alpha, sigma2=s2, max_points=cap)
    assert full.complete
    assert not atlas.complete
    assert atlas.truncated_by == (f"max_points={cap}",)
    m = int(np.sum(lam > s2))
    assert atlas.n_orthogonal == sum(comb(m, r) for r in range(k + 1))
    got = [p.value for p in atlas.points]
    assert len(got) == cap
    np.testing.assert_allclose(got, [p.value for p in full.points][:cap], rtol=1e-12)

    def value(W):
        return optima.profiled_value_grad(W, s2, lam, "relbo", alpha=alpha)[0]

    orth = sorted((p.value for p in full.points if p.orthogonal), reverse=True)
    brute = sorted((value(_orth_W(lam, J, k, s2)) for r in range(k + 1)
                    for J in combinations(range(m), r)), reverse=True)
    np.testing.assert_allclose(orth, brute, rtol=1e-12)


def test_completeness_flags():
    lam = np.geomspace(9.0, 0.2, 10)
    n_sets = sum(comb(10, r) for r in range(4))                     # learned: all subsets
    for s2, expect_n in ((0.5, sum(comb(int(np.sum(lam > 0.5)), r) for r in range(4))),
                         (None, None)):
        capped = optima.stationary_points(lam, 3, "elbo", sigma2=s2, max_points=5,
                                          nonorthogonal=False)
        assert not capped.complete and len(capped.points) == 5
        assert capped.n_orthogonal == expect_n
        full = optima.stationary_points(lam, 3, "elbo", sigma2=s2, max_points=n_sets,
                                        nonorthogonal=False)
        assert full.complete and full.n_orthogonal == len(full.points)
        if s2 is None:
            assert capped.index_counts == {}
            assert sum(full.index_counts.values()) == len(full.points)


def test_n64_k10_atlas_is_capped_counted_and_quick():
    lam = np.sort(np.random.default_rng(3).uniform(0.1, 10, 64))[::-1]
    s2 = float(np.median(lam))
    atlas = optima.stationary_points(lam, 10, "relbo", alpha=0.5, sigma2=s2, max_points=200)
    m = int(np.sum(lam > s2))
    assert not atlas.complete
    assert atlas.n_orthogonal == sum(comb(m, r) for r in range(11))
    assert sum(atlas.index_counts.values()) == atlas.n_orthogonal
    assert atlas.index_counts[(0, 0, 640)] == 1                  # a single local maximum
    # the empty set: a zero column grows along every eligible direction, k * m ascents
    assert atlas.index_counts[(10 * m, 0, 640 - 10 * m)] == 1
    # one used direction j (position i): i + 9 (m - 1) ascents, one set for each i < m
    for i in range(m):
        key = (i + 9 * (m - 1), 0, 640 - i - 9 * (m - 1))
        assert atlas.index_counts.get(key, 0) >= 1
    assert atlas.global_max.subset == tuple(range(10))
    assert len(atlas.points) == 200
    assert all(p.grad_norm <= 1e-9 for p in atlas.points)


# ---- inputs -------------------------------------------------------------------------------------

def test_data_moments_input_and_data_coordinates():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(300, 5)) @ rng.normal(size=(5, 5)) + 3.0
    data = gr.DataMoments.from_samples(X)
    atlas = optima.stationary_points(data, 2, "relbo", alpha=0.5)
    lam = np.sort(data.eigenvalues)[::-1]
    assert atlas.global_max.value == pytest.approx(_ppca_ml(lam, 2)[0], rel=1e-12)
    p, U = atlas.global_max, atlas.eigenvectors
    model = gr.LinearGaussianVAE.from_decoder(U @ p.W, p.b, p.sigma2)
    assert np.array_equal(p.b, data.mean)
    assert gr.log_evidence(model, data) == pytest.approx(p.value, rel=1e-12)


def test_bad_input():
    with pytest.raises(ValueError, match="`objective` must be one of"):
        optima.stationary_points(LAM8, 3, "vae")
    with pytest.raises(ValueError, match=r"`k` must be an integer \[1, 6\]"):
        optima.stationary_points(LAM8, 0, "elbo")
    with pytest.raises(ValueError, match=r"`k` must be an integer \[1, 6\]"):
        optima.global_maximum(LAM8, 2.0, "elbo")
    with pytest.raises(ValueError, match="`alpha` is required"):
        optima.stationary_points(LAM8, 3, "relbo")
    with pytest.raises(ValueError, match="`alpha` must be positive"):
        optima.stationary_points(LAM8, 3, "relbo", alpha=0.0)
    with pytest.raises(ValueError, match="`alpha` must be a scalar"):
        optima.global_maximum(LAM8, 3, "relbo", alpha=[1.0, 2.0])
    with pytest.raises(ValueError, match="`beta` is required"):
        optima.global_maximum(LAM8, 3, "beta_elbo")
    with pytest.raises(ValueError, match="`beta` must be positive"):
        optima.stationary_points(LAM8, 3, "beta_elbo", beta=-1.0)
    with pytest.raises(ValueError, match="`lam` eigenvalues must be sorted in descending"):
        optima.stationary_points(LAM8[::-1], 3, "elbo")
    with pytest.raises(ValueError, match="`lam` eigenvalues must be non-negative"):
        optima.stationary_points([2.0, -1.0], 1, "elbo")
    with pytest.raises(ValueError, match="`lam` must be finite"):
        optima.stationary_points([2.0, np.nan], 1, "elbo")
    with pytest.raises(ValueError, match="`lam` must be a non-empty 1-D array"):
        optima.stationary_points(np.ones((2, 2)), 1, "elbo")
    with pytest.raises(ValueError, match="`lam` must have a positive eigenvalue"):
        optima.stationary_points([0.0, 0.0], 1, "elbo")
    with pytest.raises(ValueError, match=r"`max_points` must be an integer >= 1"):
        optima.stationary_points(LAM8, 3, "elbo", max_points=0)
    with pytest.raises(ValueError, match="`sigma2` must be positive"):
        optima.stationary_points(LAM8, 3, "elbo", sigma2=0.0)
    with pytest.raises(ValueError, match="`encoder` must be 'diagonal' or 'full'"):
        optima.stationary_points(LAM8, 3, "elbo", encoder="dense")
    with pytest.raises(ValueError, match="unbounded above"):
        optima.global_maximum([3.0, 1.0, 0.0, 0.0], 2, "elbo")   # rank 2 <= k, learned sigma2
    with pytest.raises(ValueError, match="`sigma2` must be fixed"):
        optima.index_counts(LAM8, 3, "elbo")
    with pytest.raises(ValueError, match="`sigma2` must be positive and finite, got None"):
        optima.profiled_value_grad(np.zeros((6, 3)), None, LAM8, "elbo")
    with pytest.raises(ValueError, match=r"`W` must have shape \(\.\.\., n, k\) with n=6"):
        optima.profiled_value_grad(np.zeros((5, 3)), 1.0, LAM8, "elbo")
    with pytest.raises(ValueError, match="`point` must be a StationaryPoint"):
        optima.rotation_stiffness("not a point")
    nonorth = next(p for p in optima.stationary_points(LAM8, 3, "elbo", sigma2=0.8).points
                   if not p.orthogonal)
    with pytest.raises(ValueError, match="`point` must be an orthogonal"):
        optima.rotation_stiffness(nonorth)
    with pytest.raises(ValueError, match="`sigma2` must be positive"):
        optima.collapse_thresholds(LAM9, -1.0)


def test_profiled_value_grad_batched_matches_single_calls():
    """A leading batch axis (W (..., n, k), sigma2 (...), broadcasting) gives the same numbers
    as one call per decoder; scalar input keeps returning Python floats."""
    rng = np.random.default_rng(3)
    Ws = rng.normal(size=(2, 3, 6, 3))
    s2 = np.array([0.5, 0.8, 1.3])
    for objective, kw in (("relbo", {"alpha": 0.5}), ("beta_elbo", {"beta": 2.0}),
                          ("loglik", {})):
        f, gW, gs = optima.profiled_value_grad(Ws, s2, LAM8, objective, **kw)
        assert f.shape == (2, 3)
        assert gW.shape == (2, 3, 6, 3)
        assert gs.shape == (2, 3)
        for i in range(2):
            for j in range(3):
                f1, gW1, gs1 = optima.profiled_value_grad(Ws[i, j], float(s2[j]), LAM8,
                                                          objective, **kw)
                assert isinstance(f1, float)
                assert isinstance(gs1, float)
                np.testing.assert_allclose(f[i, j], f1, rtol=1e-13)
                np.testing.assert_allclose(gW[i, j], gW1, rtol=1e-11, atol=1e-13)
                np.testing.assert_allclose(gs[i, j], gs1, rtol=1e-11)
    with pytest.raises(ValueError, match="do not broadcast"):
        optima.profiled_value_grad(Ws, np.ones(4), LAM8, "elbo")
    with pytest.raises(ValueError, match="`sigma2` must be positive and finite, got -1.0"):
        optima.profiled_value_grad(Ws, -1.0, LAM8, "elbo")
