"""The optima atlas per reading of the RELBO (escort, cross-entropy) against independent routes:
the profiled cross-entropy objective written densely here (slogdet; tied to
``gaussrelbo.readings.reading_objective``) with its gradient by matrix calculus (tied to central
differences of the value), a Newton root search of that gradient from random starts,
finite-difference Hessians, scipy BFGS, and the CLI."""

import json

import numpy as np
import pytest
from scipy.optimize import minimize

import gaussrelbo as gr
from gaussrelbo import cli, optima
from gaussrelbo.readings import (critical_alpha, reading_collapse_thresholds,
                                 reading_global_maximum, reading_objective)

LAM4 = np.array([5.0, 3.0, 1.6, 0.9])
LAM5 = np.array([6.0, 3.5, 2.0, 1.1, 0.4])
# (spectrum, alpha, sigma2): for alpha < 1 some directions are forced ((1-alpha) lam >= sigma2)
CASES = [(LAM4, 0.5, 2.0), (LAM4, 1.5, 0.7), (LAM5, 0.5, 1.5), (LAM5, 1.5, 0.5)]
CASE_IDS = ["n4-a0.5", "n4-a1.5", "n5-a0.5", "n5-a1.5"]


def _dense_value(W, s2, lam, alpha):
    """-n/2 log 2pi - 1/2 log det C + log det(I - (1-alpha) S C^-1)/(2(1-alpha)) - P/(2 alpha),
    batched over W (..., n, k) and s2 (...); -inf outside the domain."""
    W = np.asarray(W, float)
    n, k = W.shape[-2:]
    s2 = np.asarray(s2, float)[..., None, None]
    t = 1.0 - alpha
    C = W @ np.swapaxes(W, -1, -2) + s2 * np.eye(n)
    M = np.swapaxes(W, -1, -2) @ W + s2 * np.eye(k)
    _, ldC = np.linalg.slogdet(C)
    sB, ldB = np.linalg.slogdet(C - t * np.diag(lam))
    _, ldM = np.linalg.slogdet(M)
    P = np.sum(np.log(np.diagonal(M, axis1=-2, axis2=-1)), axis=-1) - ldM
    val = -0.5 * n * np.log(2 * np.pi) - 0.5 * ldC + (ldB - ldC) / (2 * t) - P / (2 * alpha)
    return np.where(sB > 0, val, -np.inf)


def _dense_grad(W, s2, lam, alpha):
    """The gradient of :func:`_dense_value` by matrix calculus, batched: ``(dW, ds2)`` with
    d log det C = 2 C^-1 W dW (and tr C^-1 ds2), the same for B = C - (1-alpha) diag(lam) and
    for M = W^T W + s2 I, and d sum_i log M_ii = 2 W diag(1/M_ii) dW (sum 1/M_ii ds2)."""
    W = np.asarray(W, float)
    n, k = W.shape[-2:]
    s2 = np.asarray(s2, float)[..., None, None]
    t = 1.0 - alpha
    Wt = np.swapaxes(W, -1, -2)
    C = W @ Wt + s2 * np.eye(n)
    M = Wt @ W + s2 * np.eye(k)
    CiW = np.linalg.solve(C, W)
    BiW = np.linalg.solve(C - t * np.diag(lam), W)
    WMi = np.swapaxes(np.linalg.solve(M, Wt), -1, -2)
    Md = np.diagonal(M, axis1=-2, axis2=-1)
    gW = -CiW + (BiW - CiW) / t - (W / Md[..., None, :] - WMi) / alpha
    trC = np.trace(np.linalg.inv(C), axis1=-2, axis2=-1)
    trB = np.trace(np.linalg.inv(C - t * np.diag(lam)), axis1=-2, axis2=-1)
    trM = np.trace(np.linalg.inv(M), axis1=-2, axis2=-1)
    gs2 = -0.5 * trC + (trB - trC) / (2 * t) - (np.sum(1.0 / Md, axis=-1) - trM) / (2 * alpha)
    return gW, gs2


def _reading_value(W, s2, lam, alpha):
    """The same value by gaussrelbo.readings (general-encoder route, optimal encoder)."""
    n = lam.size
    m = gr.optimal_encoder(gr.LinearGaussianVAE.from_decoder(W, np.zeros(n), s2), "relbo",
                           alpha=alpha, encoder="diagonal")
    return reading_objective(m, gr.DataMoments.from_spectrum(lam), alpha, "cross_entropy")


def _fd_grad(W, s2, lam, alpha, h):
    """Central differences of the dense value, batched: W (S, n, k) -> (S, n*k)."""
    S, n, k = W.shape
    p = n * k
    E = np.eye(p).reshape(p, n, k) * h
    f = _dense_value(np.concatenate([W[:, None] + E, W[:, None] - E], axis=1), s2, lam, alpha)
    with np.errstate(invalid="ignore"):                 # -inf - -inf next to the boundary
        return (f[:, :p] - f[:, p:]) / (2 * h)


def _fd_hess(W, s2, lam, alpha, h):
    """Second differences of the dense value, batched: (S, p, p)."""
    S, n, k = W.shape
    p = n * k
    E = np.eye(p).reshape(p, n, k) * h
    pp = E[:, None] + E[None, :]
    pm = E[:, None] - E[None, :]
    X = np.stack([pp, pm, -pm, -pp], axis=0)                  # (4, p, p, n, k)
    f = _dense_value(W[:, None, None, None] + X[None], s2, lam, alpha)
    with np.errstate(invalid="ignore"):
        H = (f[:, 0] - f[:, 1] - f[:, 2] + f[:, 3]) / (4 * h * h)
    return 0.5 * (H + np.swapaxes(H, 1, 2))


def _grad_flat(W, s2, lam, alpha):
    """:func:`_dense_grad` in W, flattened: (..., n*k)."""
    gW, _ = _dense_grad(W, s2, lam, alpha)
    return gW.reshape(gW.shape[:-2] + (-1,))


def _jac(W, s2, lam, alpha, h):
    """Central differences of the analytic gradient, batched: (S, p, p)."""
    S, n, k = W.shape
    p = n * k
    E = np.eye(p).reshape(p, n, k) * h
    g = _grad_flat(np.concatenate([W[:, None] + E, W[:, None] - E], axis=1), s2, lam, alpha)
    J = (g[:, :p] - g[:, p:]) / (2 * h)
    return 0.5 * (J + np.swapaxes(J, 1, 2))


def _root_search(lam, k, alpha, s2, starts, seed, iters=60):
    """Levenberg-Marquardt on the gradient g(W) = 0 (the matrix-calculus gradient, its central
    differences as the Jacobian; a step is kept only if |g| falls and the point stays inside
    the domain) from random starts inside the domain; the distinct values of the converged
    points and their number."""
    rng = np.random.default_rng(seed)
    n = lam.size
    W = (rng.normal(size=(4 * starts, n, k)) * np.sqrt(lam)[:, None]
         * rng.uniform(0.3, 1.3, size=(4 * starts, 1, 1)))
    W = W[np.isfinite(_dense_value(W, s2, lam, alpha))][:starts]
    hh = 1e-6 * np.sqrt(lam[0])
    mu = np.full(len(W), 1e-2)
    g = _grad_flat(W, s2, lam, alpha)
    for _ in range(iters):
        H = _jac(W, s2, lam, alpha, hh)
        A = H @ H + mu[:, None, None] * np.eye(H.shape[-1])
        step = np.linalg.solve(A, (H @ g[:, :, None]))[:, :, 0]
        Wn = W - step.reshape(W.shape)
        inside = np.isfinite(_dense_value(Wn, s2, lam, alpha))
        with np.errstate(invalid="ignore", divide="ignore"):
            gn = _grad_flat(Wn, s2, lam, alpha)
        better = (inside & np.all(np.isfinite(gn), axis=1)
                  & (np.sum(gn**2, axis=1) < np.sum(g**2, axis=1)))
        W = np.where(better[:, None, None], Wn, W)
        g = np.where(better[:, None], gn, g)
        mu = np.where(better, mu / 4, mu * 8)
    f = _dense_value(W, s2, lam, alpha)
    wn = np.sqrt(np.sum(W * W, axis=(1, 2)))
    conv = np.isfinite(f) & (np.max(np.abs(g), axis=1) * np.sqrt(lam[0]) <= 1e-8) & (
        wn**2 <= 10 * k * lam[0])
    vals = np.sort(f[conv])
    uniq = [v for i, v in enumerate(vals) if i == 0 or v - vals[i - 1] > 1e-7 * abs(v)]
    return np.array(uniq), int(conv.sum())


def _learned_fn(lam, alpha, k):
    """The dense value over y = (vec W, log sigma2), batched over leading axes."""
    n = lam.size

    def fn(Y):
        return _dense_value(Y[..., :-1].reshape(Y.shape[:-1] + (n, k)), np.exp(Y[..., -1]),
                            lam, alpha)
    return fn


def _learned_grad(lam, alpha, k):
    """The matrix-calculus gradient of :func:`_learned_fn` over y (chain rule on log sigma2)."""
    n = lam.size

    def grad(Y):
        s2 = np.exp(Y[..., -1])
        gW, gs2 = _dense_grad(Y[..., :-1].reshape(Y.shape[:-1] + (n, k)), s2, lam, alpha)
        return np.concatenate([gW.reshape(Y.shape[:-1] + (-1,)), (s2 * gs2)[..., None]],
                              axis=-1)
    return grad


def _fd_grad_y(fn, Y, h):
    """Central differences of fn at Y (S, P), steps h (P,)."""
    E = np.diag(h)
    f = fn(np.concatenate([Y[:, None] + E, Y[:, None] - E], axis=1))
    P = Y.shape[1]
    with np.errstate(invalid="ignore"):
        return (f[:, :P] - f[:, P:]) / (2 * h)


def _fd_hess_y(fn, Y, h):
    """Second differences of fn at Y (S, P), steps h (P,): (S, P, P)."""
    E = np.diag(h)
    pp, pm = E[:, None] + E[None, :], E[:, None] - E[None, :]
    f = fn(Y[:, None, None, None] + np.stack([pp, pm, -pm, -pp])[None])
    with np.errstate(invalid="ignore"):
        H = (f[:, 0] - f[:, 1] - f[:, 2] + f[:, 3]) / (4 * np.outer(h, h))
    return 0.5 * (H + np.swapaxes(H, 1, 2))


def _jac_y(grad, Y, h):
    """Central differences of the gradient at Y (S, P), steps h (P,): (S, P, P), symmetrised
    in the scaled sense (the Jacobian of a gradient is symmetric)."""
    E = np.diag(h)
    g = grad(np.concatenate([Y[:, None] + E, Y[:, None] - E], axis=1))
    P = Y.shape[1]
    J = (g[:, :P] - g[:, P:]) / (2 * h[None, :, None])
    return 0.5 * (J + np.swapaxes(J, 1, 2))


def _root_search_learned(lam, k, alpha, starts, seed, iters=60):
    """As _root_search, over (W, log sigma2)."""
    rng = np.random.default_rng(seed)
    n = lam.size
    fn, grad = _learned_fn(lam, alpha, k), _learned_grad(lam, alpha, k)
    W = (rng.normal(size=(4 * starts, n, k)) * np.sqrt(lam)[:, None]
         * rng.uniform(0.3, 1.3, size=(4 * starts, 1, 1)))
    ls = np.log(lam[0] * rng.uniform(0.05, 1.0, size=(4 * starts, 1)))
    Y = np.concatenate([W.reshape(4 * starts, -1), ls], axis=1)
    Y = Y[np.isfinite(fn(Y))][:starts]
    P = Y.shape[1]
    hg = np.append(np.full(P - 1, 1e-5 * np.sqrt(lam[0])), 1e-5)
    hh = 0.1 * hg
    mu = np.full(len(Y), 1e-2)
    g = grad(Y)
    for _ in range(iters):
        H = _jac_y(grad, Y, hh)
        step = np.linalg.solve(H @ H + mu[:, None, None] * np.eye(P), H @ g[:, :, None])[:, :, 0]
        Yn = Y - step
        inside = np.isfinite(fn(Yn))
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            gn = grad(Yn)
        better = (inside & np.all(np.isfinite(gn), axis=1)
                  & (np.sum(gn**2, axis=1) < np.sum(g**2, axis=1)))
        Y = np.where(better[:, None], Yn, Y)
        g = np.where(better[:, None], gn, g)
        mu = np.where(better, mu / 4, mu * 8)
    f = fn(Y)
    conv = np.isfinite(f) & (np.max(np.abs(g) * hg / hg[0], axis=1) * np.sqrt(lam[0]) <= 1e-8) \
        & (np.sum(Y[:, :-1] ** 2, axis=1) <= 10 * k * lam[0]) & (Y[:, -1] > np.log(lam[0]) - 20)
    vals = np.sort(f[conv])
    uniq = [v for i, v in enumerate(vals) if i == 0 or v - vals[i - 1] > 1e-7 * abs(v)]
    return np.array(uniq), int(conv.sum())


# ---- the dense reference is the readings module's value -----------------------------------------

@pytest.mark.parametrize("alpha", [0.5, 1.5])
def test_dense_reference_equals_reading_objective(alpha):
    rng = np.random.default_rng(3)
    for _ in range(3):
        W = rng.normal(size=(5, 3)) * 1.5
        a = float(_dense_value(W, 3.5, LAM5, alpha))   # 3.5 > 0.5 lam_1: inside
        b = float(_reading_value(W, 3.5, LAM5, alpha))
        assert np.isfinite(a)
        assert abs(a - b) <= 1e-11 * abs(b)


@pytest.mark.parametrize("alpha", [0.5, 1.5])
def test_dense_gradient_equals_central_differences(alpha):
    # the root searches below follow the matrix-calculus gradient: it is the value's
    rng = np.random.default_rng(4)
    W = rng.normal(size=(6, 5, 3)) * 1.5
    s2 = rng.uniform(3.5, 5.0, size=6)                  # > (1 - alpha) lam_1: inside
    assert np.all(np.isfinite(_dense_value(W, s2, LAM5, alpha)))
    gW, gs2 = _dense_grad(W, s2, LAM5, alpha)
    h = 1e-5
    np.testing.assert_allclose(_fd_grad(W, s2[:, None], LAM5, alpha, h).reshape(W.shape), gW,
                               rtol=1e-6, atol=1e-8)
    fd_s2 = (_dense_value(W, s2 + h, LAM5, alpha) - _dense_value(W, s2 - h, LAM5, alpha)) / (2 * h)
    np.testing.assert_allclose(fd_s2, gs2, rtol=1e-6, atol=1e-8)
    # and the chain rule on log sigma2 of the learned-noise search
    fn, grad = _learned_fn(LAM5, alpha, 3), _learned_grad(LAM5, alpha, 3)
    Y = np.concatenate([W.reshape(6, -1), np.log(s2)[:, None]], axis=1)
    np.testing.assert_allclose(_fd_grad_y(fn, Y, np.full(Y.shape[1], h)), grad(Y),
                               rtol=1e-6, atol=1e-8)


# ---- cross-entropy atlas: every stationary point, values, gradients, Hessian signs --------------

@pytest.mark.parametrize("lam, alpha, s2", CASES, ids=CASE_IDS)
def test_cross_entropy_root_search_finds_only_atlas_values(lam, alpha, s2):
    atlas = optima.stationary_points(lam, 3, "relbo", alpha=alpha, sigma2=s2,
                                     reading="cross_entropy")
    assert atlas.complete
    assert atlas.truncated_by == ()
    assert atlas.reading == "cross_entropy"
    vals = np.array([p.value for p in atlas.points])
    found, n_conv = _root_search(lam, 3, alpha, s2, starts=40, seed=11)
    assert n_conv >= 5                               # the search itself worked
    assert len(found) >= 3
    for v in found:
        assert np.min(np.abs(vals - v)) <= 1e-8 * abs(v), (v, vals)
    # it found clusters of three columns (beyond the orthogonal and pair families)
    three = [p.value for p in atlas.points if any(len(c) == 3 for c, _, _ in p.clusters)]
    assert any(np.min(np.abs(np.array(three) - v)) <= 1e-8 * abs(v) for v in found)


@pytest.mark.parametrize("lam, alpha, s2", CASES, ids=CASE_IDS)
def test_cross_entropy_atlas_points_are_stationary_with_the_listed_values(lam, alpha, s2):
    atlas = optima.stationary_points(lam, 3, "relbo", alpha=alpha, sigma2=s2,
                                     reading="cross_entropy")
    W = np.stack([p.W for p in atlas.points])
    dense = _dense_value(W, s2, lam, alpha)
    g = _fd_grad(W, s2, lam, alpha, 1e-5 * np.sqrt(lam[0]))
    for p, v, gi in zip(atlas.points, dense, g):
        assert abs(p.value - v) <= 1e-12 * abs(v)
        assert np.max(np.abs(gi)) * np.sqrt(lam[0]) <= 1e-8, (p.clusters, gi)
    # rate and distortion: those of the optimal encoder pi_alpha (gaussrelbo.rate/distortion)
    p = atlas.points[-1]
    m = gr.optimal_encoder(gr.LinearGaussianVAE.from_decoder(p.W, np.zeros(lam.size), s2),
                           "relbo", alpha=alpha, encoder="diagonal")
    data = gr.DataMoments.from_spectrum(lam)
    assert abs(p.rate - gr.rate(m, data)) <= 1e-12 * max(1.0, abs(p.rate))
    assert abs(p.distortion - gr.distortion(m, data)) <= 1e-12 * abs(p.distortion)
    # clusters beyond orthogonal columns are listed
    assert any(not p.orthogonal for p in atlas.points) or alpha < 1


def _fd_signs(H):
    e = np.linalg.eigvalsh(H)
    scale = np.max(np.abs(e))
    small = np.abs(e) <= 1e-5 * scale
    # a clear gap between numerical zeros (FD error ~1e-7 of the scale) and genuine curvature
    assert not np.any((np.abs(e) > 1e-5 * scale) & (np.abs(e) <= 1e-4 * scale)), \
        np.sort(np.abs(e) / scale)[:6]
    return (int(np.sum((e > 0) & ~small)), int(np.sum(small)), int(np.sum((e < 0) & ~small)))


@pytest.mark.parametrize("lam, alpha, s2", CASES + [(np.array([5.0, 3.0, 3.0, 0.9]), 1.3, 0.6),
                                                    (np.array([4.0, 2.5, 1.6, 0.9]), 1.5, 0.8)],
                         ids=CASE_IDS + ["tie-inside", "tie-threshold"])
def test_cross_entropy_closed_form_signs_equal_fd_signs(lam, alpha, s2):
    atlas = optima.stationary_points(lam, 3, "relbo", alpha=alpha, sigma2=s2,
                                     reading="cross_entropy")
    assert atlas.complete
    W = np.stack([p.W for p in atlas.points])
    H = _fd_hess(W, s2, lam, alpha, 1e-4 * np.sqrt(lam[0]))
    for p, h in zip(atlas.points, H):
        assert p.hessian_signs == _fd_signs(h), p.clusters
    # index counts over all orthogonal points = the enumerated ones (complete atlas)
    counts = {}
    for p in atlas.points:
        if p.orthogonal:
            counts[p.hessian_signs] = counts.get(p.hessian_signs, 0) + 1
    assert dict(sorted(counts.items())) == atlas.index_counts
    assert atlas.index_counts == optima.index_counts(lam, 3, "relbo", alpha=alpha, sigma2=s2,
                                                     reading="cross_entropy")
    assert sum(counts.values()) == atlas.n_orthogonal
    assert [p.kind for p in atlas.points].count("maximum") == 1
    assert atlas.points[0] is atlas.global_max


@pytest.mark.parametrize("lam, alpha", [(LAM4, 0.5), (LAM5, 1.5)], ids=["n4-a0.5", "n5-a1.5"])
def test_cross_entropy_learned_sigma2_atlas(lam, alpha):
    """Learned noise: every point is stationary in (W, sigma2) with the listed value, its signs
    over (vec W, sigma2) are the FD ones, and a root search over (W, log sigma2) finds only
    atlas values."""
    k = 3
    atlas = optima.stationary_points(lam, k, "relbo", alpha=alpha, reading="cross_entropy")
    assert atlas.complete
    assert atlas.n_rejected == 0
    g = reading_global_maximum(lam, k, alpha, "cross_entropy")
    assert atlas.global_max.value == pytest.approx(g.value, rel=1e-13)
    assert atlas.points[0] is atlas.global_max
    assert {(len(c), r) for p in atlas.points for c, r, _ in p.clusters} >= {(2, 1), (3, 2)}
    fn = _learned_fn(lam, alpha, k)
    Y = np.stack([np.append(p.W.ravel(), np.log(p.sigma2)) for p in atlas.points])
    np.testing.assert_allclose(fn(Y), [p.value for p in atlas.points], rtol=1e-12)
    h = np.append(np.full(lam.size * k, 1e-5 * np.sqrt(lam[0])), 1e-5)
    assert np.max(np.abs(_fd_grad_y(fn, Y, h)) * h) <= 1e-13
    H = _fd_hess_y(fn, Y, 10 * h) * np.outer(10 * h, 10 * h)[None]   # unit steps: congruent
    for p, hp in zip(atlas.points, H):
        assert p.hessian_signs == _fd_signs(hp), (p.clusters, p.sigma2)
    assert [p.kind for p in atlas.points].count("maximum") == 1
    vals = np.array([p.value for p in atlas.points])
    found, n_conv = _root_search_learned(lam, k, alpha, starts=20, seed=5, iters=40)
    assert n_conv >= 3                               # the search itself worked
    for v in found:
        assert np.min(np.abs(vals - v)) <= 1e-8 * abs(v), (v, vals)
    gm = optima.global_maximum(lam, k, "relbo", alpha=alpha, reading="cross_entropy")
    assert gm.kind == "maximum"
    assert gm.value == atlas.global_max.value


def test_cross_entropy_strict_maxima_at_tiny_noise():
    """Curvatures of order 1/sigma2 and 1/lambda side by side (digits, learned sigma2 ~ 1e-3 at
    alpha = 1.9): the global maximum of distinct eigenvalues has no flat direction (the
    Hadamard penalty breaks the rotations), so every eigenvalue is negative."""
    lam = gr.datasets.load_spectrum("digits")
    gm = optima.global_maximum(lam, 10, "relbo", alpha=1.9, reading="cross_entropy")
    assert gm.sigma2 < 2e-3
    assert gm.hessian_signs == (0, 0, lam.size * 10 + 1)
    gf = optima.global_maximum(lam, 10, "relbo", alpha=1.9, sigma2=1e-3, reading="cross_entropy")
    assert gf.hessian_signs == (0, 0, lam.size * 10)


# ---- global maxima and collapse per reading -----------------------------------------------------

@pytest.mark.parametrize("alpha, s2", [(0.5, 1.5), (0.8, 1.0), (1.3, 0.8), (1.7, 0.5)])
def test_cross_entropy_global_maximum_equals_bfgs_over_W(alpha, s2):
    lam, k = LAM5, 3
    gm = optima.global_maximum(lam, k, "relbo", alpha=alpha, sigma2=s2,
                               reading="cross_entropy")
    ref = reading_global_maximum(lam, k, alpha, "cross_entropy", sigma2=s2)
    assert gm.value == pytest.approx(ref.value, rel=1e-13)
    assert gm.active == ref.active
    assert gm.kind == "maximum"
    np.testing.assert_allclose(np.sort(np.sum(gm.W**2, axis=0))[::-1], ref.w2, rtol=1e-12)
    rng = np.random.default_rng(5)
    best = -np.inf
    n = lam.size
    for _ in range(6):
        W0 = rng.normal(size=(n, k)) * np.sqrt(lam[0])
        if not np.isfinite(_dense_value(W0, s2, lam, alpha)):
            continue

        def neg(x):
            v = float(_dense_value(x.reshape(n, k), s2, lam, alpha))
            return -v if np.isfinite(v) else 1e10

        res = minimize(neg, W0.ravel(), method="BFGS", options={"gtol": 1e-9})
        best = max(best, -res.fun)
    assert best == pytest.approx(gm.value, rel=1e-8, abs=1e-8)


@pytest.mark.parametrize("alpha", [0.5, 1.5])
def test_cross_entropy_learned_global_maximum_equals_bfgs(alpha):
    lam, k = LAM5, 3
    gm = optima.global_maximum(lam, k, "relbo", alpha=alpha, reading="cross_entropy")
    fn = _learned_fn(lam, alpha, k)
    rng = np.random.default_rng(9)
    best = -np.inf
    for _ in range(6):
        y0 = np.append(rng.normal(size=lam.size * k) * np.sqrt(lam[0]), np.log(lam[0] / 2))
        if not np.isfinite(fn(y0)):
            continue

        def neg(y):
            v = float(fn(y))
            return -v if np.isfinite(v) else 1e10

        best = max(best, -minimize(neg, y0, method="BFGS", options={"gtol": 1e-9}).fun)
    assert best == pytest.approx(gm.value, rel=1e-8, abs=1e-8)


@pytest.mark.parametrize("alpha", [0.5, 1.5])
def test_escort_atlas_is_the_pointwise_atlas_rescored(alpha):
    lam, s2 = LAM5, 0.8
    e = optima.stationary_points(lam, 3, "relbo", alpha=alpha, sigma2=s2, reading="escort")
    p = optima.stationary_points(lam, 3, "relbo", alpha=alpha, sigma2=s2)
    assert e.reading == "escort"
    assert "pointwise atlas" in e.note
    assert len(e.points) == len(p.points)
    for a, b in zip(e.points, p.points):
        assert a.value == b.value
        assert a.hessian_signs == b.hessian_signs
        assert a.clusters == b.clusters
    # the escort encoder is the exact posterior's: rate and distortion of the ELBO encoder
    q = e.points[3]
    m = gr.optimal_encoder(gr.LinearGaussianVAE.from_decoder(q.W, np.zeros(5), s2), "elbo",
                           encoder="diagonal")
    data = gr.DataMoments.from_spectrum(lam)
    assert q.rate == pytest.approx(float(gr.rate(m, data)), rel=1e-13)
    assert q.distortion == pytest.approx(float(gr.distortion(m, data)), rel=1e-13)
    # and the escort reading's objective at that encoder is the listed value
    val = reading_objective(m, data, alpha, "escort")
    assert float(val) == pytest.approx(q.value, rel=1e-12)
    g = optima.global_maximum(lam, 3, "relbo", alpha=alpha, sigma2=s2, reading="escort")
    ref = reading_global_maximum(lam, 3, alpha, "escort", sigma2=s2)
    assert g.value == pytest.approx(ref.value, rel=1e-13)
    assert g.rate == pytest.approx(ref.rate, rel=1e-12)
    assert g.distortion == pytest.approx(ref.distortion, rel=1e-12)
    assert optima.index_counts(lam, 3, "relbo", alpha=alpha, sigma2=s2, reading="escort") == \
        optima.index_counts(lam, 3, "relbo", alpha=alpha, sigma2=s2)


@pytest.mark.parametrize("reading", ["escort", "cross_entropy"])
@pytest.mark.parametrize("alpha", [0.5, 1.5, 1.9])
def test_collapse_thresholds_agree_with_readings(reading, alpha):
    lam, s2 = np.array([6.0, 3.5, 2.0, 1.1, 0.4]), 0.9
    thr, active = optima.collapse_thresholds(lam, s2, reading=reading, alpha=alpha)
    tau, ref_active = reading_collapse_thresholds(lam, s2, alpha, reading)
    np.testing.assert_array_equal(active, ref_active)
    np.testing.assert_array_equal(active, alpha < thr)
    if reading == "cross_entropy":
        np.testing.assert_array_equal(thr, critical_alpha(lam, s2))
        assert tau == s2 / (2 - alpha)
        gm = optima.global_maximum(lam, 3, "relbo", alpha=alpha, sigma2=s2, reading=reading)
        assert gm.active == int(np.sum(active[:3]))


def test_cross_entropy_at_alpha_one_is_the_pointwise_atlas():
    lam, s2 = LAM5, 0.8
    ce = optima.stationary_points(lam, 3, "relbo", alpha=1.0, sigma2=s2, reading="cross_entropy")
    pw = optima.stationary_points(lam, 3, "relbo", alpha=1.0, sigma2=s2)
    assert len(ce.points) == len(pw.points)
    np.testing.assert_allclose([p.value for p in ce.points], [p.value for p in pw.points],
                               rtol=1e-12)
    assert [p.hessian_signs for p in ce.points] == [p.hessian_signs for p in pw.points]


# ---- bad input ----------------------------------------------------------------------------------

def test_bad_readings_are_value_errors():
    with pytest.raises(ValueError, match=r"`reading` must be one of 'pointwise', 'escort'"):
        optima.stationary_points(LAM4, 2, "relbo", alpha=0.5, sigma2=1.0, reading="bogus")
    with pytest.raises(ValueError, match=r"applies to objective='relbo'.*got objective='elbo'"):
        optima.stationary_points(LAM4, 2, "elbo", sigma2=1.0, reading="escort")
    with pytest.raises(ValueError, match=r"0 < alpha < 2 .*got 2\b"):
        optima.stationary_points(LAM4, 2, "relbo", alpha=2.0, sigma2=1.0,
                                 reading="cross_entropy")
    with pytest.raises(ValueError, match=r"0 < alpha < 2 .*got 3\b"):
        optima.global_maximum(LAM4, 2, "relbo", alpha=3.0, sigma2=1.0, reading="cross_entropy")
    with pytest.raises(ValueError, match=r"encoder='diagonal'"):
        optima.stationary_points(LAM4, 2, "relbo", alpha=0.5, sigma2=1.0, encoder="full",
                                 reading="cross_entropy")
    for lam, s2, need in ((LAM4, "1", "1.5"), (LAM4 * 1e-3, "0.001", "0.0015")):
        with pytest.raises(ValueError, match=rf"-inf for every decoder at alpha=0.5, "
                           rf"sigma2={s2}:.* = {need} "):            # the caller's units
            optima.stationary_points(lam, 1, "relbo", alpha=0.5, sigma2=float(lam[0]) / 5,
                                     reading="cross_entropy")
    with pytest.raises(ValueError, match=r"`alpha` is required"):
        optima.collapse_thresholds(LAM4, 1.0, reading="cross_entropy")


# ---- CLI ----------------------------------------------------------------------------------------

def test_cli_cross_entropy_lists_the_collapsed_dimensions(capsys):
    lam = np.array([5.0, 4.0, 3.0, 2.0, 1.2, 0.5])      # the built-in "synthetic" spectrum
    args = ["optima", "--spectrum", "synthetic", "--k", "4", "--objective", "relbo",
            "--reading", "cross_entropy", "--alpha", "1.5", "--sigma2", "1.2"]
    assert cli.main(args + ["--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    tau = 1.2 / (2 - 1.5)                               # 2.4: lambda = 2 collapses
    assert d["reading"] == "cross_entropy"
    assert d["collapse"]["threshold"] == pytest.approx(tau, rel=1e-15)
    assert d["collapse"]["collapsed"] == [int(j) for j in np.flatnonzero(lam[:4] <= tau)]
    assert d["collapse"]["collapsed"] == [3]
    assert d["global_maximum"]["active"] == 3
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert "collapsed dimensions (lambda_j <= sigma2/(2 - alpha) = 2.4): [3]" in out
    assert "reading cross_entropy" in out


@pytest.mark.parametrize("extra, message", [
    (["--objective", "relbo", "--reading", "cross_entropy", "--alpha", "2"], "0 < alpha < 2"),
    (["--objective", "elbo", "--reading", "escort"], "applies to --objective relbo"),
    (["--objective", "relbo", "--reading", "nope", "--alpha", "1"], "invalid choice"),
])
def test_cli_reading_errors_are_one_line(capsys, extra, message):
    try:
        code = cli.main(["optima", "--k", "2", "--sigma2", "0.8", *extra])
    except SystemExit as exc:                           # argparse's own errors
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1
