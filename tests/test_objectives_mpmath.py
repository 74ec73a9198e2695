"""Population closed forms against the 50-digit mpmath references of gaussrelbo.testing."""

import numpy as np
import pytest

import gaussrelbo as gr
from gaussrelbo import testing

ALPHAS = [1e-6, 1e-3, 0.5, 1 - 1e-12, 1.0, 1 + 1e-12, 2.0, 1e3, 1e6]


def _problem(svals, full, seed):
    rng = np.random.default_rng(seed)
    n, k = 5, len(svals)
    U, _ = np.linalg.qr(rng.normal(size=(n, k)))
    R, _ = np.linalg.qr(rng.normal(size=(k, k)))
    W = (U * np.asarray(svals)) @ R.T
    decoder = gr.LinearGaussianVAE(W, rng.normal(size=n), 0.7, np.zeros((k, n)), np.zeros(k),
                                   np.ones(k))
    model = gr.optimal_encoder(decoder, "elbo", diagonal=not full)
    # Perturb the encoder off its optimum so no term vanishes.
    model = model.replace(V=model.V + 0.1 * rng.normal(size=model.V.shape),
                          c=model.c + 0.1 * rng.normal(size=k))
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    data = gr.DataMoments(rng.normal(size=n), (Q * rng.uniform(0.2, 3.0, n)) @ Q.T)
    return model, data


def _args(model, data):
    return (model.W, model.b, model.sigma2, model.V, model.c, model.D, data.mean, data.cov)


SPECTRA = [(0.5, 1.0, 2.0), (1e-8, 1.0, 1e8), (1e-4, 3.0, 1e4)]
WORST = {}


def _check(name, got, want, scale):
    err = abs(float(got) - float(want)) / scale
    WORST[name] = max(WORST.get(name, 0.0), err)
    return err


@pytest.mark.parametrize("svals", SPECTRA)
@pytest.mark.parametrize("full", [False, True])
def test_population_forms(svals, full):
    model, data = _problem(svals, full, seed=len(svals) + int(full))
    args = _args(model, data)
    # Relative error against the scale of the largest term: with s up to 1e8 the distortion
    # and log-evidence carry O(s^2) terms that cancel in nothing but are huge; errors of the
    # rounded inputs propagate as eps times that size (conditioning, not algorithm).
    scale = max(1.0, abs(float(testing.distortion(*args))), abs(float(testing.rate(*args))))
    for name, got, want in [
            ("log_evidence", gr.log_evidence(model, data), testing.log_evidence(*args)),
            ("distortion", gr.distortion(model, data), testing.distortion(*args)),
            ("rate", gr.rate(model, data), testing.rate(*args)),
            ("elbo", gr.elbo(model, data), testing.elbo(*args)),
            ("beta_elbo", gr.beta_elbo(model, data, 2.5), testing.beta_elbo(*args, 2.5))]:
        assert _check(name, got, want, max(scale, abs(float(want)))) <= 1e-12, name
    # A full D is a stored, rounded matrix: log det D of a matrix with condition number kappa
    # is determined only to ~k * kappa * eps (first-order perturbation tr(D^-1 dD)), and the
    # RELBO multiplies it by (1 - alpha)/(2 alpha) (1e6 at alpha = 1e-6).  With s = 1e8 the
    # encoder's D has kappa ~ 1e16: that part of the error is the problem's, not the code's.
    kappa = np.linalg.cond(model.D) if full else 1.0
    k = model.k
    for alpha in ALPHAS:
        want = testing.relbo(*args, alpha)
        got = gr.relbo(model, data, alpha)
        intrinsic = (abs(1 - alpha) / (2 * alpha) * k * kappa * np.finfo(float).eps
                     if full else 0.0)
        err = abs(float(got) - float(want))
        assert err <= 1e-12 * max(scale, abs(float(want))) + intrinsic, alpha
        if not full or kappa < 1e8:
            _check("relbo", got, want, max(scale, abs(float(want))))


@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("alpha", [0.0, 0.3, 0.999, 1.0, 1.5, 3.0, -0.5])
def test_vr_bound(full, alpha):
    model, data = _problem((0.5, 1.0, 2.0), full, seed=7)
    want = testing.vr_bound(*_args(model, data), alpha)
    got = gr.vr_bound(model, data, alpha)
    if not np.isfinite(float(want)):
        assert got == float(want)
    else:
        assert _check("vr_bound", got, want, max(1.0, abs(float(want)))) <= 1e-12


def test_report_worst_errors(capsys):
    """Print the worst relative errors measured above (run with -s to see them)."""
    for name, err in sorted(WORST.items()):
        print(f"worst relative error vs mpmath (50 digits), {name}: {err:.2e}")
    assert all(err <= 1e-12 for err in WORST.values())
