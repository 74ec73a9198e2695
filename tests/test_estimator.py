"""The scikit-learn estimator LinearVAE."""

import subprocess
import sys

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn", reason="scikit-learn is the optional extra "
                              "gaussrelbo[sklearn]; CI installs it")
from sklearn.datasets import load_breast_cancer, load_wine  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import check_estimator  # noqa: E402

from gaussrelbo import LinearVAE  # noqa: E402


@pytest.mark.parametrize("params", [dict(objective="relbo", alpha=0.5),
                                    dict(objective="elbo"),
                                    dict(objective="beta_elbo", beta=2.0),
                                    dict(objective="relbo", alpha=2.0, encoder="full")])
def test_check_estimator(params):
    check_estimator(LinearVAE(**params))


@pytest.fixture(scope="module")
def wine():
    return StandardScaler().fit_transform(load_wine().data)


def _projector(A):
    Q, _ = np.linalg.qr(A.T)
    return Q @ Q.T


@pytest.mark.parametrize("objective, kw", [("elbo", {}), ("relbo", {"alpha": 0.3}),
                                           ("relbo", {"alpha": 3.0})])
def test_matches_pca(wine, objective, kw):
    k = 4
    vae = LinearVAE(n_components=k, objective=objective, **kw).fit(wine)
    pca = PCA(n_components=k).fit(wine)
    assert vae.components_.shape == (k, wine.shape[1])
    assert np.allclose(_projector(vae.components_), _projector(pca.components_), atol=1e-8)
    assert np.isclose(vae.noise_variance_, pca.noise_variance_, rtol=1e-8)
    assert np.allclose(vae.get_covariance(), pca.get_covariance(), rtol=1e-8, atol=1e-10)
    # Theory §7: PCA.score is the mean log-likelihood of the fit to S_ddof1, scored with the
    # samples; at the optimum the RELBO / ELBO with diagonal encoder equals the log-likelihood.
    assert np.isclose(np.mean(vae.log_likelihood(wine)), pca.score(wine), rtol=1e-10)
    assert np.isclose(vae.score(wine), pca.score(wine), rtol=1e-10)


def test_beta_elbo_active_dimensions(wine):
    X = load_breast_cancer().data
    X = StandardScaler().fit_transform(X)
    Xc = X - X.mean(axis=0)
    lam = np.sort(np.linalg.eigvalsh(Xc.T @ Xc / (X.shape[0] - 1)))[::-1]
    for beta, sigma2 in [(0.5, 1.0), (2.0, 0.5), (4.0, 0.5), (8.0, 0.3)]:
        vae = LinearVAE(n_components=6, objective="beta_elbo", beta=beta, sigma2=sigma2).fit(X)
        assert vae.n_active_ == np.sum(lam[:6] > beta * sigma2)


@pytest.mark.parametrize("objective, kw", [("beta_elbo", {"beta": 2.0, "sigma2": 0.5}),
                                           ("beta_elbo", {"beta": 0.5}),
                                           ("relbo", {"alpha": 0.5})])
def test_lbfgs_agrees_with_closed_form(wine, objective, kw):
    closed = LinearVAE(n_components=3, objective=objective, **kw).fit(wine)
    grad = LinearVAE(n_components=3, objective=objective, solver="lbfgs", random_state=0,
                     **kw).fit(wine)
    assert abs(grad.objective_value_ - closed.objective_value_) <= 1e-6 * abs(
        closed.objective_value_)
    assert np.isclose(grad.noise_variance_, closed.noise_variance_, rtol=1e-6)
    assert np.allclose(_projector(grad.components_), _projector(closed.components_), atol=1e-5)


def test_transform_inverse_sample(wine):
    vae = LinearVAE(n_components=3, objective="relbo", alpha=2.0).fit(wine)
    Z = vae.transform(wine)
    assert Z.shape == (wine.shape[0], 3)
    # The encoder mean is the posterior mean M^-1 W^T (x - b) (computed here with solve).
    W = vae.components_.T
    M = W.T @ W + vae.noise_variance_ * np.eye(3)
    assert np.allclose(Z, np.linalg.solve(M, W.T @ (wine - vae.mean_).T).T, atol=1e-10)
    assert vae.inverse_transform(Z).shape == wine.shape
    S = vae.sample(20000, random_state=0)
    assert S.shape == (20000, wine.shape[1])
    # The sample covariance of draws estimates get_covariance(); entries are O(1), s.e. ~0.01.
    assert np.max(np.abs(np.cov(S.T) - vae.get_covariance())) < 0.1


def test_pipeline_and_grid_search():
    X = load_wine().data
    pipe = make_pipeline(StandardScaler(), LinearVAE(n_components=2, objective="relbo"))
    pipe.fit(X)
    assert pipe.transform(X).shape == (X.shape[0], 2)
    grid = GridSearchCV(make_pipeline(StandardScaler(), LinearVAE(n_components=2,
                                                                  objective="beta_elbo",
                                                                  sigma2=0.5)),
                        {"linearvae__beta": [0.5, 1.0, 2.0]}, cv=3).fit(X)
    assert grid.best_params_["linearvae__beta"] in (0.5, 1.0, 2.0)


def test_bad_parameters(wine):
    with pytest.raises(ValueError, match="`objective` must be one of"):
        LinearVAE(objective="vae").fit(wine)
    with pytest.raises(ValueError, match="`alpha` must be positive"):
        LinearVAE(alpha=0.0).fit(wine)
    with pytest.raises(ValueError, match="`n_components`=13 must be at most 12"):
        LinearVAE(n_components=13).fit(wine)
    with pytest.raises(ValueError, match="Input X contains NaN"):
        LinearVAE().fit(np.full((5, 3), np.nan))


def test_import_without_sklearn_and_message():
    code = ("import sys; sys.modules['sklearn'] = None; import gaussrelbo as gr; "
            "print(gr.relbo.__name__)\n"
            "try:\n    gr.LinearVAE\nexcept ImportError as e:\n    print(e)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    lines = out.stdout.splitlines()
    assert lines[0] == "relbo"
    assert "pip install 'gaussrelbo[sklearn]'" in lines[1]


def test_robust_inputs(wine):
    # A string order is not a number: a ValueError naming the argument, not a TypeError.
    with pytest.raises(ValueError, match=r"`alpha` must be positive and finite, got '1'"):
        LinearVAE(alpha="1").fit(wine)
    # Finite data whose covariance overflows float64: a ValueError, not numpy's LinAlgError.
    with pytest.raises(ValueError, match="`X` is too large"):
        LinearVAE(n_components=2).fit(wine * 1e200)
    vae = LinearVAE(n_components=2).fit(wine)
    with pytest.raises(ValueError, match="NaN"):
        vae.inverse_transform([[np.nan, 0.0]])
    with pytest.raises(ValueError, match=r"`Z` must have shape \(N, n_components\)"):
        vae.inverse_transform(np.zeros((3, 5)))


def test_sklearn_conventions(wine):
    with pytest.raises(TypeError):
        LinearVAE(2)                                   # keyword-only parameters
    assert set(LinearVAE._parameter_constraints) == set(LinearVAE().get_params())
    vae = LinearVAE(n_components=3).fit(wine)
    assert list(vae.get_feature_names_out()) == ["linearvae0", "linearvae1", "linearvae2"]
    pd = pytest.importorskip("pandas")
    out = LinearVAE(n_components=2).set_output(transform="pandas").fit(wine).transform(wine)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == ["linearvae0", "linearvae1"]
    # the fitted model is a LinearGaussianVAE whose log-evidence is log_likelihood
    import gaussrelbo as gr
    assert np.allclose(gr.log_evidence(vae.model_, wine[:5]), vae.log_likelihood(wine[:5]),
                       rtol=0, atol=0)
