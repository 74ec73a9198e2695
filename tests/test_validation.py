"""Bad input raises a ValueError that names the argument (messages pinned)."""

import numpy as np
import pytest

import gaussrelbo as gr

n, k = 4, 2
GOOD = dict(W=np.ones((n, k)), b=np.zeros(n), sigma2=0.5, V=np.zeros((k, n)), c=np.zeros(k),
            D=np.ones(k))


def _model(**kw):
    return gr.LinearGaussianVAE(**{**GOOD, **kw})


@pytest.mark.parametrize("kw, match", [
    (dict(W=np.ones(3)), r"`W` must have shape \(\.\.\., n, k\), got \(3,\)"),
    (dict(b=np.zeros(3)), r"`b` must have shape \(\.\.\., n\) with n=4"),
    (dict(V=np.zeros((k, 3))), r"`V` must have shape \(\.\.\., k, n\) with k=2, n=4"),
    (dict(c=np.zeros(3)), r"`c` must have shape \(\.\.\., k\) with k=2"),
    (dict(D=np.ones(3)), r"`D` must have shape"),
    (dict(D=np.ones((3, 3))), r"`D` must have shape"),
    (dict(sigma2=0.0), r"`sigma2` must be positive and finite, got 0\.0"),
    (dict(sigma2=-0.3), r"`sigma2` must be positive and finite, got -0\.3"),
    (dict(sigma2=np.inf), r"`sigma2` must be finite"),
    (dict(W=np.full((n, k), np.nan)), r"`W` must be finite \(no NaN or inf\)"),
    (dict(b=np.array([0, 0, np.inf, 0])), r"`b` must be finite"),
    (dict(V=np.full((k, n), np.nan)), r"`V` must be finite"),
    (dict(c=np.array([np.nan, 0])), r"`c` must be finite"),
    (dict(D=np.array([1.0, -1.0])), r"`D` \(diagonal encoder variances\) must be positive"),
    (dict(D=np.array([1.0, np.nan])), r"`D` must be finite"),
    (dict(D=np.array([[1.0, 0.5], [0.0, 1.0]])), r"`D` must be symmetric"),
    (dict(D=np.array([[1.0, 2.0], [2.0, 1.0]])), r"`D` must be .*positive definite"),
    (dict(W="abc"), r"`W` must be a real number or array"),
    (dict(W=np.ones((2, n, k)), b=np.zeros((3, n))), r"batch dimensions .* do not broadcast"),
])
def test_model_arguments(kw, match):
    with pytest.raises(ValueError, match=match):
        _model(**kw)


@pytest.mark.parametrize("mean, cov, match", [
    (np.zeros(3), np.eye(4), r"`cov` must have shape \(\.\.\., n, n\) with n=3"),
    (np.zeros(2), np.array([[1.0, 0.3], [0.0, 1.0]]), r"`cov` must be symmetric"),
    (np.zeros(2), np.array([[1.0, 2.0], [2.0, 1.0]]), r"`cov` must be .*positive semi-?definite"),
    (np.array([np.nan, 0.0]), np.eye(2), r"`mean` must be finite"),
    (np.zeros(2), np.array([[np.inf, 0], [0, 1.0]]), r"`cov` must be finite"),
])
def test_data_moments(mean, cov, match):
    with pytest.raises(ValueError, match=match):
        gr.DataMoments(mean, cov)


def test_objective_arguments():
    m = _model()
    data = gr.DataMoments(np.zeros(n), np.eye(n))
    for bad in (0.0, -1.0, np.nan, np.inf):
        with pytest.raises(ValueError, match=r"`alpha` must be"):
            gr.relbo(m, data, bad)
        with pytest.raises(ValueError, match=r"`alpha` must be"):
            gr.renyi_term(m, data, bad)
        with pytest.raises(ValueError, match=r"`beta` must be"):
            gr.beta_elbo(m, data, bad)
    with pytest.raises(ValueError, match=r"`alpha` must be finite"):
        gr.vr_bound(m, data, np.nan)
    with pytest.raises(ValueError, match=r"`x` must have shape \(\.\.\., 4\)|`data`"):
        gr.elbo(m, np.ones(3))
    with pytest.raises(ValueError, match=r"`x` must be finite|`data` must be finite"):
        gr.elbo(m, np.array([0.0, np.nan, 0.0, 0.0]))
    with pytest.raises(ValueError, match=r"`model` must be a gaussrelbo.LinearGaussianVAE"):
        gr.elbo("model", data)
    with pytest.raises(ValueError, match=r"n=3|dimension"):
        gr.elbo(m, gr.DataMoments(np.zeros(3), np.eye(3)))


def test_optimal_encoder_arguments():
    m = _model()
    with pytest.raises(ValueError, match=r"`objective` must be one of"):
        gr.optimal_encoder(m, "vae")
    with pytest.raises(ValueError, match=r"`alpha` is required"):
        gr.optimal_encoder(m, "relbo")
    with pytest.raises(ValueError, match=r"`beta` is required"):
        gr.optimal_encoder(m, "beta_elbo")
    with pytest.raises(ValueError, match=r"`alpha` must be positive"):
        gr.optimal_encoder(m, "relbo", alpha=-2.0)
    with pytest.raises(ValueError, match=r"`beta` must be positive"):
        gr.optimal_encoder(m, "beta_elbo", beta=0.0)
    with pytest.raises(ValueError, match=r"`model` must be a gaussrelbo.LinearGaussianVAE"):
        gr.optimal_encoder(None, "elbo")


def test_from_samples():
    with pytest.raises(ValueError, match=r"`X` must have shape \(N, n\)"):
        gr.DataMoments.from_samples(np.ones(5))
    with pytest.raises(ValueError, match=r"`ddof` must be 0 or 1"):
        gr.DataMoments.from_samples(np.ones((3, 2)), ddof=2)
    with pytest.raises(ValueError, match=r"`X` must be finite"):
        gr.DataMoments.from_samples(np.array([[1.0, np.nan], [0.0, 1.0]]))


def test_no_nan_escapes_for_valid_input():
    # Extreme but valid inputs give finite numbers (or the documented +-inf of the VR bound).
    W = np.array([[1e8, 0.0], [0.0, 1e-8], [0.0, 0.0], [0.0, 0.0]])
    m = gr.optimal_encoder(_model(W=W, sigma2=1e-6), "elbo")
    data = gr.DataMoments(np.zeros(n), np.diag([1e6, 1.0, 1e-6, 0.0]))
    for a in (1e-300, 1e-6, 1.0, 1e6, 1e300):
        assert np.isfinite(gr.relbo(m, data, a))
    for a in (-3.0, 0.0, 0.5, 5.0, 1e6):
        assert not np.isnan(gr.vr_bound(m, data, a))
