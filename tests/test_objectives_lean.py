"""The lean single-model path of the objectives (one unbatched model, unbatched moments, a float
alpha or beta) against the 50-digit mpmath references of ``gaussrelbo.testing``.

Same tolerance as ``tests/test_objectives_mpmath.py``: |got - ref| <= 16 eps (T + K), with T + K
from ``testing.error_scale`` (the rounding of the sums plus the first-order sensitivity to the
backward error of the factorisations).
"""

import mpmath
import numpy as np
import pytest

import gaussrelbo as gr
from gaussrelbo import testing

EPS = np.finfo(float).eps
C_TOL = 16
ALPHAS = [1e-6, 0.5, 1 - 1e-12, 1.0, 1 + 1e-12, 2.0, 1e6]
BETAS = [1e-3, 1.0, 2.5]


def _orth(rng, n, k):
    Q, R = np.linalg.qr(rng.normal(size=(n, k)))
    return Q * np.sign(np.diag(R))


def _problem(n, k, svals, full, seed):
    rng = np.random.default_rng(seed)
    r = min(n, k)
    W = (_orth(rng, n, r) * np.asarray(svals[:r])) @ _orth(rng, k, r).T
    if full:
        A = rng.normal(size=(k, k))
        D = A @ A.T / k + 0.1 * np.eye(k)
        D = 0.5 * (D + D.T)
    else:
        D = rng.uniform(0.1, 2.0, size=k)
    model = gr.LinearGaussianVAE(W, rng.normal(size=n), 0.7, V=rng.normal(size=(k, n)),
                                 c=rng.normal(size=k), D=D)
    Q = _orth(rng, n, n)
    cov = (Q * rng.uniform(0.2, 3.0, n)) @ Q.T
    data = gr.DataMoments(rng.normal(size=n), 0.5 * (cov + cov.T))
    args = (model.W, model.b, model.sigma2, model.V, model.c, model.D, data.mean, data.cov)
    return model, data, args


PROBLEMS = {"tall/diag": (5, 3, (0.5, 1.0, 2.0), False, 1),
            "tall/full": (5, 3, (0.5, 1.0, 2.0), True, 2),
            "square/diag": (3, 3, (1e-4, 1.0, 1e4), False, 3),
            "wide/diag": (3, 5, (0.5, 1.0, 2.0), False, 4)}


@pytest.mark.parametrize("name", PROBLEMS)
def test_lean_relbo_and_beta_elbo_match_mpmath(name):
    model, data, args = _problem(*PROBLEMS[name])
    s = testing.error_scale(*args)
    for alpha in ALPHAS:
        got = gr.relbo(model, data, alpha)
        assert type(got) is np.float64
        want = testing.relbo(*args, alpha)
        scale = (s["distortion"] + s["rate"]
                 + abs(1 - alpha) / alpha * (s["renyi"] + model.k * (1 + testing.ell(alpha)) / 2))
        err = abs(mpmath.mpf(float(got)) - want)
        assert err <= C_TOL * EPS * scale, (alpha, float(got), mpmath.nstr(want, 20))
    for beta in BETAS:
        got = gr.beta_elbo(model, data, beta)
        want = testing.beta_elbo(*args, beta)
        err = abs(mpmath.mpf(float(got)) - want)
        assert err <= C_TOL * EPS * (s["distortion"] + beta * s["rate"]), (beta, float(got))


def test_lean_path_agrees_with_the_batched_path():
    # A batch of one model goes through the general (broadcasting) path; the lean path must
    # agree with it to rounding, and alpha = 1 / beta = 1 must give the ELBO bit for bit.
    model, data, _ = _problem(5, 3, (0.5, 1.0, 2.0), False, 7)
    batch = gr.LinearGaussianVAE(model.W[None], model.b[None], np.array([model.sigma2]),
                                 V=model.V[None], c=model.c[None], D=model.D[None])
    for alpha in (0.3, 1.0, 4.0):
        lean = gr.relbo(model, data, alpha)
        general = gr.relbo(batch, data, alpha)
        assert general.shape == (1,)
        assert abs(lean - general[0]) <= 8 * EPS * abs(general[0])
    assert gr.relbo(model, data, 1.0) == gr.elbo(model, data)
    assert gr.beta_elbo(model, data, 1.0) == gr.elbo(model, data)


def test_lean_path_rejects_what_the_general_path_rejects():
    model, data, _ = _problem(5, 3, (0.5, 1.0, 2.0), False, 8)
    with pytest.raises(ValueError, match="`alpha` must be positive"):
        gr.relbo(model, data, -0.5)
    with pytest.raises(ValueError, match="`alpha` must be finite"):
        gr.relbo(model, data, float("nan"))
    with pytest.raises(ValueError, match="`beta` must be positive"):
        gr.beta_elbo(model, data, 0.0)
