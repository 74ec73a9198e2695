"""Optimal encoders (Theory §6): the parameters, optimality, and the profiled values.

References are written here with numpy/scipy: the encoder formulas with ``np.linalg.solve``,
log p(x) with ``scipy.stats.multivariate_normal.logpdf`` per point and Theory §5 with solves for
moments, and the profiled values of Theory §6.

Tolerances.  Closed forms agree to RTOL = 1e-10 times ``scale`` = 1 + the magnitudes of the
terms involved (log p(x), distortion, rate, and the log-determinants weighted by 1/alpha or
beta), as in ``test_objectives``.  "Never improves" allows only the rounding of one evaluation of
the objective, ROUND = 1e-12 times the same scale (~5e3 eps); a perturbation of relative size
1e-3 already costs ~1e-6 at a strict maximum, so this cannot hide a wrong optimum, and the small
perturbations are taken in both signs, so a non-zero gradient fails one of them.
"""


import numpy as np
import pytest
from hypothesis import given, strategies as st
from scipy import stats

import gaussrelbo as gr


from gaussrelbo.testing import strategies as strat  # noqa: E402

RTOL = 1e-10
ROUND = 1e-12
LOG2PI = np.log(2.0 * np.pi)

# (objective, order strategy): RELBO's alpha, the beta-ELBO's beta, nothing for the ELBO
ORDERS = st.one_of(st.sampled_from([1.0, 1.0 + 1e-12, 0.5, 2.0]), st.floats(0.05, 20.0),
                   st.floats(-2.0, 2.0).map(lambda e: float(10.0**e)))
OBJECTIVES = pytest.mark.parametrize("objective", ["relbo", "elbo", "beta_elbo"])
FAMILIES = pytest.mark.parametrize("diagonal", [True, False], ids=["diag", "full"])
WHERE = pytest.mark.parametrize("where", ["point", "population"])


# ---- reference routes -------------------------------------------------------------------------

def chol_logdet(A):
    return 2.0 * np.sum(np.log(np.diag(np.linalg.cholesky(A))))


def log_lik(W, b, noise, d):
    """log N(x; b, W W^T + noise I) per point (scipy), or its data average (Theory §5)."""
    n = W.shape[0]
    C = W @ W.T + noise * np.eye(n)
    if not isinstance(d, gr.DataMoments):
        return float(stats.multivariate_normal(b, C).logpdf(d))
    r = d.mean - b
    return -0.5 * (n * LOG2PI + chol_logdet(C) + np.trace(np.linalg.solve(C, d.cov))
                   + r @ np.linalg.solve(C, r))


def hadamard_gap(M):
    """log(prod M_ii / det M) >= 0."""
    return np.sum(np.log(np.diag(M))) - chol_logdet(M)


def value(m, d, objective, order):
    if objective == "relbo":
        return float(gr.relbo(m, d, order))
    if objective == "elbo":
        return float(gr.elbo(m, d))
    return float(gr.beta_elbo(m, d, order))


def kwargs_for(objective, order):
    return {"relbo": {"alpha": order}, "elbo": {}, "beta_elbo": {"beta": order}}[objective]


def scale(m, d, objective, order):
    """1 + magnitudes of the terms of the objective at model m (see the module docstring)."""
    D = np.diag(m.D) if m.diagonal else m.D
    weight = {"relbo": 1 + 1 / order, "elbo": 1.0, "beta_elbo": 1 + order}[objective]
    M = m.W.T @ m.W + m.sigma2 * np.eye(m.k)
    logdets = abs(chol_logdet(D)) + abs(chol_logdet(M)) + m.k * (1 + abs(np.log(m.sigma2)))
    return (1 + abs(log_lik(m.W, m.b, m.sigma2, d)) + abs(float(gr.distortion(m, d)))
            + weight * (abs(float(gr.rate(m, d))) + logdets + m.k * abs(np.log(order))))


def expected_encoder(m0, objective, order, diagonal):
    """(V, c, D) of Theory §6, built with solves."""
    W, b, s2, k = m0.W, m0.b, m0.sigma2, m0.k
    gamma = order if objective == "beta_elbo" else 1.0            # M_gamma = W^T W + gamma s2
    temper = order if objective == "relbo" else 1.0               # RELBO divides D by alpha
    Mg = W.T @ W + gamma * s2 * np.eye(k)
    V = np.linalg.solve(Mg, W.T)
    if diagonal:
        D = gamma * s2 / (temper * (np.sum(W * W, axis=0) + gamma * s2))
    else:
        D = np.linalg.solve(Mg, gamma * s2 * np.eye(k)) / temper
        D = 0.5 * (D + D.T)
    return V, -V @ b, D


def profiled_value(m0, d, objective, order, diagonal):
    """Theory §6: the objective at its optimal encoder."""
    W, b, s2, n, k = m0.W, m0.b, m0.sigma2, m0.n, m0.k
    if objective in ("relbo", "elbo"):
        alpha = order if objective == "relbo" else 1.0
        gap = hadamard_gap(W.T @ W + s2 * np.eye(k)) if diagonal else 0.0
        return log_lik(W, b, s2, d) - gap / (2 * alpha)
    beta = order
    Mb = W.T @ W + beta * s2 * np.eye(k)
    base = (-0.5 * n * np.log(2 * np.pi * s2) + 0.5 * n * beta * np.log(2 * np.pi * beta * s2)
            + beta * log_lik(W, b, beta * s2, d))
    return base - (0.5 * beta * hadamard_gap(Mb) if diagonal else 0.0)


# ---- the encoder itself ----------------------------------------------------------------------

@OBJECTIVES
@FAMILIES
@given(p=st.data(), order=ORDERS)
def test_encoder_parameters(objective, diagonal, p, order):
    m0 = p.draw(strat.models())
    m = gr.optimal_encoder(m0, objective, diagonal=diagonal, **kwargs_for(objective, order))
    assert m is not m0 and m.diagonal == diagonal and m.batch_shape == ()
    # the decoder is kept
    assert np.array_equal(m.W, m0.W) and np.array_equal(m.b, m0.b) and m.sigma2 == m0.sigma2
    V, c, D = expected_encoder(m0, objective, order, diagonal)
    assert m.V.shape == V.shape and m.c.shape == c.shape and m.D.shape == D.shape
    # M_gamma has condition number <= 1 + ||W||^2 / (gamma sigma2) <~ 3e4 here
    assert np.allclose(m.V, V, rtol=1e-10, atol=1e-12)
    assert np.allclose(m.c, c, rtol=1e-10, atol=1e-12 * (1 + np.abs(m0.b).sum()))
    assert np.allclose(m.D, D, rtol=1e-10, atol=1e-12 * np.abs(D).max())


# ---- optimality --------------------------------------------------------------------------------

def _perturbations(m, rng, diagonal):
    """Perturbed encoders (V, c, D separately and together), small and large, both signs of
    each direction.  D moves by D^(1/2) exp(s G) D^(1/2) (G symmetric), which stays SPD."""
    k, n = m.k, m.n
    D = np.diag(m.D) if diagonal else m.D
    lam, Q = np.linalg.eigh(D)
    half = (Q * np.sqrt(lam)) @ Q.T
    for size in (1e-3, 1e-2, 1e-1, 1.0, 3.0):
        dV, dc = rng.normal(size=(k, n)), rng.normal(size=k)
        G = rng.normal(size=(k, k))
        G = 0.5 * (G + G.T)
        if diagonal:
            G = np.diag(np.diag(G))
        for sign in (1.0, -1.0):
            s = sign * size
            g_lam, g_Q = np.linalg.eigh(s * G)
            Dp = half @ ((g_Q * np.exp(g_lam)) @ g_Q.T) @ half
            Dp = np.diag(Dp).copy() if diagonal else 0.5 * (Dp + Dp.T)
            Vp = m.V + s * dV * (1 + np.abs(m.V).max())
            cp = m.c + s * dc * (1 + np.abs(m.c).max())
            yield {"V": Vp}
            yield {"c": cp}
            yield {"D": Dp}
            yield {"V": Vp, "c": cp, "D": Dp}


@OBJECTIVES
@FAMILIES
@WHERE
@given(p=st.data(), order=ORDERS, seed=st.integers(0, 2**32 - 1))
def test_perturbations_never_improve(objective, diagonal, where, p, order, seed):
    prob = p.draw(strat.problems())
    d = prob.x if where == "point" else prob.data
    m = gr.optimal_encoder(prob.model, objective, diagonal=diagonal,
                           **kwargs_for(objective, order))
    best = value(m, d, objective, order)
    slack = ROUND * scale(m, d, objective, order)
    rng = np.random.default_rng(seed)
    count = 0
    for change in _perturbations(m, rng, diagonal):
        cov = {"encoder_cov": "diag" if diagonal else "full"} if "D" in change else {}
        v = value(m.replace(**change, **cov), d, objective, order)
        assert v <= best + slack, (change, v, best)
        count += 1
    assert count == 40


@OBJECTIVES
@WHERE
@given(p=st.data(), order=ORDERS)
def test_full_beats_diagonal(objective, where, p, order):
    """The full optimum is at least the diagonal one (a larger family), and equal to it when
    W^T W is diagonal (the encoders coincide)."""
    prob = p.draw(strat.problems())
    d = prob.x if where == "point" else prob.data
    kw = kwargs_for(objective, order)
    full = gr.optimal_encoder(prob.model, objective, diagonal=False, **kw)
    diag = gr.optimal_encoder(prob.model, objective, diagonal=True, **kw)
    sc = scale(full, d, objective, order)
    assert value(diag, d, objective, order) <= value(full, d, objective, order) + ROUND * sc
    # orthogonal columns: keep W's first column only (others zero), so W^T W is diagonal
    W = np.zeros_like(prob.model.W)
    W[:, 0] = prob.model.W[:, 0]
    m1 = prob.model.replace(W=W)
    f1 = gr.optimal_encoder(m1, objective, diagonal=False, **kw)
    d1 = gr.optimal_encoder(m1, objective, diagonal=True, **kw)
    assert abs(value(f1, d, objective, order) - value(d1, d, objective, order)) <= RTOL * sc


# ---- profiled values (Theory §6) -------------------------------------------------------------

@OBJECTIVES
@FAMILIES
@WHERE
@given(p=st.data(), order=ORDERS)
def test_profiled_values(objective, diagonal, where, p, order):
    prob = p.draw(strat.problems())
    d = prob.x if where == "point" else prob.data
    m = gr.optimal_encoder(prob.model, objective, diagonal=diagonal,
                           **kwargs_for(objective, order))
    ref = profiled_value(prob.model, d, objective, order, diagonal)
    got = value(m, d, objective, order)
    assert abs(got - ref) <= RTOL * scale(m, d, objective, order), (got, ref)
    if objective == "relbo" and not diagonal:
        # the full-covariance RELBO optimum is the escort, where the bound is tight
        assert abs(got - log_lik(m.W, m.b, m.sigma2, d)) <= RTOL * scale(m, d, objective, order)
    if objective in ("relbo", "elbo") and diagonal:
        assert hadamard_gap(m.W.T @ m.W + m.sigma2 * np.eye(m.k)) >= -1e-12 * m.k


@given(p=st.data(), alpha=ORDERS)
def test_optimal_encoder_is_the_escort(p, alpha):
    """Full RELBO optimum: q* = pi_alpha = N(m(x), sigma2 M^-1 / alpha) at every point."""
    prob = p.draw(strat.problems())
    m = gr.optimal_encoder(prob.model, "relbo", alpha=alpha, diagonal=False)
    M = m.W.T @ m.W + m.sigma2 * np.eye(m.k)
    mean = m.V @ prob.x + m.c
    assert np.allclose(mean, np.linalg.solve(M, m.W.T @ (prob.x - m.b)), rtol=1e-10,
                       atol=1e-11 * (1 + np.abs(prob.x - m.b).sum()))
    assert np.allclose(m.D * alpha, m.sigma2 * np.linalg.solve(M, np.eye(m.k)), rtol=1e-10,
                       atol=1e-13)


# ---- batches -----------------------------------------------------------------------------------

@OBJECTIVES
@FAMILIES
@given(batch=strat.batches(), order=st.lists(ORDERS, min_size=1, max_size=3))
def test_batched_encoder_equals_the_loop(objective, diagonal, batch, order):
    """A batch of decoders with a batch of orders gives the per-element encoders."""
    B = len(batch)
    ms = [q.model for q in batch]
    m0 = gr.LinearGaussianVAE(np.stack([q.W for q in ms]), np.stack([q.b for q in ms]),
                              np.array([q.sigma2 for q in ms]), V=np.stack([q.V for q in ms]),
                              c=np.stack([q.c for q in ms]), D=np.stack([q.D for q in ms]),
                              encoder=ms[0].encoder)
    orders = (order * B)[:B]
    kw = kwargs_for(objective, np.array(orders))
    m = gr.optimal_encoder(m0, objective, diagonal=diagonal, **kw)
    assert m.batch_shape == (B,) and m.diagonal == diagonal
    assert m.V.shape == (B, m0.k, m0.n) and m.c.shape == (B, m0.k)
    assert m.D.shape == ((B, m0.k) if diagonal else (B, m0.k, m0.k))
    for j, q in enumerate(ms):
        V, c, D = expected_encoder(q, objective, orders[j], diagonal)
        assert np.allclose(m.V[j], V, rtol=1e-10, atol=1e-12)
        assert np.allclose(m.c[j], c, rtol=1e-10, atol=1e-12 * (1 + np.abs(q.b).sum()))
        assert np.allclose(m.D[j], D, rtol=1e-10, atol=1e-12 * np.abs(D).max())


def test_full_encoder_of_a_decoder_with_singular_values_16_orders_apart():
    # The escort covariance sigma2 M^-1 / alpha has eigenvalues from ~1e-17 to ~1: formed as a
    # matrix it rounds to a numerically indefinite one, so its Cholesky factor comes from a QR
    # of its square root.  The model must build, its factor must reproduce D, and log det D
    # must equal sum log(tau_i / alpha) with tau_i = sigma2 / (s_i^2 + sigma2).
    rng = np.random.default_rng(3)
    U, _ = np.linalg.qr(rng.normal(size=(5, 3)))
    R, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    s = np.array([1e-8, 1.0, 1e8])
    m0 = gr.LinearGaussianVAE.from_decoder((U * s) @ R.T, np.zeros(5), 0.7)
    m = gr.optimal_encoder(m0, "relbo", alpha=2.0, diagonal=False)
    L = m._chol_D
    assert np.allclose(L, np.tril(L)) and np.all(np.diag(L) > 0)
    np.testing.assert_allclose(L @ L.T, m.D, rtol=0, atol=4 * np.finfo(float).eps)
    s_num = np.linalg.svd(m.W, compute_uv=False)
    want = np.sum(np.log(0.7 / (s_num**2 + 0.7) / 2.0))
    assert abs(m.logdet_D - want) <= 1e-13 * abs(want)
