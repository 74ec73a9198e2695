"""The optima atlas: stationarity, classification, global maxima, DESIGN §7–§9 examples."""

import numpy as np
import pytest

import gaussrelbo as gr
from gaussrelbo import optima
from gaussrelbo.basins import fit_population

LAM8 = np.array([5.0, 4.0, 3.0, 2.0, 1.2, 0.5])          # DESIGN §8
LAM9 = np.array([5.0, 3.0, 1.6, 0.9, 0.5, 0.3])          # DESIGN §9

CASES = [("loglik", {}), ("elbo", {}), ("relbo", {"alpha": 0.3}), ("relbo", {"alpha": 3.0}),
         ("beta_elbo", {"beta": 0.5}), ("beta_elbo", {"beta": 2.0})]


def _fd_signs(objective, kw, sigma2, encoder, p, learn):
    sp = optima._Spec(LAM8, 3, objective, kw.get("alpha"), kw.get("beta"), sigma2, encoder)
    H = optima._hessian_fd(sp, p.W, p.sigma2, learn, 1e-5)
    eig = np.linalg.eigvalsh(H)
    # FD Hessian: true zeros come out ~1e-10, the smallest genuine curvature here ~1e-3.
    return optima._signs(eig, 1e-6 * max(1.0, np.max(np.abs(eig))))


@pytest.mark.parametrize("objective, kw", CASES)
@pytest.mark.parametrize("sigma2", [0.8, None])
@pytest.mark.parametrize("encoder", ["diagonal", "full"])
def test_points_are_stationary_and_classified(objective, kw, sigma2, encoder):
    atlas = optima.stationary_points(LAM8, 3, objective, sigma2=sigma2, encoder=encoder, **kw)
    assert atlas.complete and atlas.points
    scale = LAM8.max()
    for p in atlas.points:
        _, gW, gs = optima.profiled_value_grad(p.W, p.sigma2, LAM8, objective, encoder=encoder,
                                               **kw)
        assert np.max(np.abs(gW)) <= 1e-9 * scale, p.subset
        if sigma2 is None:
            assert abs(gs) * p.sigma2 <= 1e-9 * scale
        # closed-form sign counts equal those of a finite-difference Hessian
        assert p.hessian_signs == _fd_signs(objective, kw, sigma2, encoder, p, sigma2 is None)
    assert atlas.global_max.value == max(p.value for p in atlas.points)
    # DESIGN §8a/§9: the only local maximum is the global one
    maxima = [(p.subset, p.sigma2) for p in atlas.points if p.kind == "maximum"]
    assert maxima == [(atlas.global_max.subset, atlas.global_max.sigma2)]


def test_design_8_sign_counts():
    for alpha in (0.3, 1.0, 3.0):
        at = {p.subset: p for p in optima.stationary_points(LAM8, 3, "relbo", alpha=alpha,
                                                            sigma2=0.8).points if p.orthogonal}
        assert at[(0, 1, 2)].hessian_signs == (0, 0, 18)
        assert at[(0, 1, 3)].hessian_signs == (1, 0, 17)
    ll = {p.subset: p for p in optima.stationary_points(LAM8, 3, "loglik", sigma2=0.8).points}
    assert ll[(0, 1, 2)].hessian_signs == (0, 3, 15)
    assert ll[(0, 1, 3)].hessian_signs == (1, 3, 14)


def test_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    W = rng.normal(size=(6, 3))
    for objective, kw in CASES:
        for encoder in ("diagonal", "full"):
            f, gW, gs = optima.profiled_value_grad(W, 0.7, LAM8, objective, encoder=encoder, **kw)
            h = 1e-6
            fd = np.zeros_like(W)
            for i in range(6):
                for j in range(3):
                    E = np.zeros_like(W)
                    E[i, j] = h
                    fd[i, j] = (optima.profiled_value_grad(W + E, 0.7, LAM8, objective,
                                                           encoder=encoder, **kw)[0]
                                - optima.profiled_value_grad(W - E, 0.7, LAM8, objective,
                                                             encoder=encoder, **kw)[0]) / (2 * h)
            fs = (optima.profiled_value_grad(W, 0.7 + h, LAM8, objective, encoder=encoder, **kw)[0]
                  - optima.profiled_value_grad(W, 0.7 - h, LAM8, objective, encoder=encoder,
                                               **kw)[0]) / (2 * h)
            assert np.max(np.abs(fd - gW)) <= 1e-6 * np.max(np.abs(gW))
            assert abs(fs - gs) <= 1e-6 * max(1.0, abs(gs))
            # ... and the value is the closed form on the model with the optimal encoder
            sp = optima._Spec(LAM8, 3, objective, kw.get("alpha"), kw.get("beta"), 0.7, encoder)
            m = optima._optimal_model(sp, W, 0.7)
            data = gr.DataMoments.from_spectrum(LAM8)
            want = {"loglik": lambda: gr.log_evidence(m, data), "elbo": lambda: gr.elbo(m, data),
                    "relbo": lambda: gr.relbo(m, data, kw.get("alpha")),
                    "beta_elbo": lambda: gr.beta_elbo(m, data, kw.get("beta"))}[objective]()
            if objective == "loglik" or encoder == "full" and objective != "beta_elbo":
                want = gr.log_evidence(m, data)
            assert np.isclose(f, want, rtol=1e-12)


@pytest.mark.parametrize("objective, kw", [("relbo", {"alpha": 0.3}), ("relbo", {"alpha": 1.0}),
                                           ("relbo", {"alpha": 3.0}), ("beta_elbo", {"beta": 0.5}),
                                           ("beta_elbo", {"beta": 2.0}),
                                           ("beta_elbo", {"beta": 4.0})])
@pytest.mark.parametrize("sigma2", [0.8, None])
def test_optimizer_reaches_predicted_global_maximum(objective, kw, sigma2):
    gmax = optima.global_maximum(LAM9, 3, objective, sigma2=sigma2, **kw)
    for seed in range(3):
        r = fit_population(LAM9, 3, objective, sigma2=sigma2, random_state=seed, **kw)
        assert abs(r.value - gmax.value) <= 1e-8 * (1 + abs(gmax.value)), (seed, r.value)
        if sigma2 is None:
            assert np.isclose(r.sigma2, gmax.sigma2, rtol=1e-6)


def _ml_value(lam, k):
    n = lam.size
    s2 = lam[k:].sum() / (n - k)
    return -0.5 * n * (1 + np.log(2 * np.pi)) - 0.5 * (np.log(lam[:k]).sum() + (n - k) * np.log(s2))


@pytest.mark.parametrize("alpha", [0.1, 0.3, 1.0, 3.0, 30.0])
def test_relbo_maximum_is_ppca_for_every_alpha(alpha):
    p = optima.global_maximum(LAM8, 3, "relbo", alpha=alpha)
    assert np.isclose(p.value, _ml_value(LAM8, 3), rtol=1e-13)
    assert np.isclose(p.sigma2, LAM8[3:].mean(), rtol=1e-14)


def test_relbo_maximum_reproduces_sklearn_pca_score():
    sklearn = pytest.importorskip("sklearn", reason="scikit-learn is the optional extra "
                                  "gaussrelbo[sklearn]; CI installs it")
    from sklearn.datasets import load_wine
    from sklearn.decomposition import PCA

    X = load_wine().data
    X = (X - X.mean(0)) / X.std(0)
    N, n = X.shape
    Xc = X - X.mean(0)
    lam = np.sort(np.linalg.eigvalsh(Xc.T @ Xc / (N - 1)))[::-1]          # PCA's ddof = 1
    for k in (2, 5):
        score = PCA(k).fit(X).score(X)
        for alpha in (0.5, 2.0):
            p = optima.global_maximum(lam, k, "relbo", alpha=alpha)
            # DESIGN §7: score = ML(S_ddof1) + n / (2N)
            assert np.isclose(p.value + n / (2 * N), score, rtol=1e-10), (k, alpha)
    assert sklearn.__version__


def _second_derivative(F, h=2e-3):
    """Central second difference with one Richardson step: truncation O(h^4) ~ 1e-11,
    rounding ~ eps |F| / h^2 ~ 1e-9 (|F| ~ 10)."""
    d = lambda h: (F(h) - 2 * F(0.0) + F(-h)) / h**2          # noqa: E731
    return (4 * d(h / 2) - d(h)) / 3


def test_nonorthogonal_saddles_rotation_curvature():
    for alpha in (0.3, 1.0, 3.0):
        at = optima.stationary_points(LAM8, 3, "relbo", alpha=alpha, sigma2=0.8)
        extra = [p for p in at.points if not p.orthogonal]
        assert len(extra) == 10                     # C(5, 2) pairs above sigma2
        for p in extra:
            assert p.kind == "saddle"
            W = p.W
            M = W.T @ W + 0.8 * np.eye(3)
            m, kap = M[0, 0], M[0, 1]
            assert np.isclose(M[1, 1], m, rtol=1e-12)

            def F(theta):
                c, s = np.cos(theta), np.sin(theta)
                R = np.eye(3)
                R[:2, :2] = [[c, -s], [s, c]]
                return optima.profiled_value_grad(W @ R, 0.8, LAM8, "relbo", alpha=alpha)[0]

            d2 = _second_derivative(F)
            assert np.isclose(d2, 4 * kap**2 / (alpha * m**2), rtol=1e-5)


def test_rotation_stiffness_matches_finite_differences():
    for alpha in (0.25, 1.0, 4.0):
        p = optima.global_maximum(LAM8, 3, "relbo", alpha=alpha, sigma2=0.8)
        stiff = optima.rotation_stiffness(p, alpha)

        def F(theta):
            c, s = np.cos(theta), np.sin(theta)
            R = np.eye(3)
            R[[0, 0, 2, 2], [0, 2, 0, 2]] = [c, -s, s, c]
            return optima.profiled_value_grad(p.W @ R, 0.8, LAM8, "relbo", alpha=alpha)[0]

        d2 = _second_derivative(F)
        m = LAM8[[0, 2]]
        assert np.isclose(stiff[0, 2], -(m[0] - m[1]) ** 2 / (alpha * m[0] * m[1]), rtol=1e-14)
        assert np.isclose(d2, stiff[0, 2], rtol=1e-5)


def test_design_9_table():
    # lam=(5,3,1.6,0.9,0.5,0.3), k=3: beta -> (r, sigma2) as printed in DESIGN §9
    table = {0.5: (3, "0.37778"), 1.0: (3, "0.56667"), 2.0: (1, "1.575"), 4.0: (0, "1.8833")}
    for beta, (r, s2) in table.items():
        p = optima.global_maximum(LAM9, 3, "beta_elbo", beta=beta)
        digits = len(s2.split(".")[1])                   # as printed: half a unit of the last
        assert p.active == r and abs(p.sigma2 - float(s2)) <= 0.5 * 10.0**-digits
        # self-consistency written out: sigma2 = sum of discarded / (n - beta r)
        assert np.isclose(p.sigma2, LAM9[r:].sum() / (6 - beta * r), rtol=1e-14)
        assert np.all(LAM9[:r] > beta * p.sigma2)


def test_collapse_thresholds():
    thr, active = optima.collapse_thresholds(LAM9, 0.5, beta=4.0)
    assert np.allclose(thr, LAM9 / 0.5)
    assert active.tolist() == [True, True, False, False, False, False]
    p = optima.global_maximum(LAM9, 3, "beta_elbo", beta=4.0, sigma2=0.5)
    assert p.active == 2


def test_index_counts_match_enumeration():
    rng = np.random.default_rng(5)
    lam = np.sort(rng.uniform(0.1, 6, 9))[::-1]
    for objective, kw, enc in [("relbo", {"alpha": 0.5}, "diagonal"), ("loglik", {}, "diagonal"),
                               ("beta_elbo", {"beta": 1.5}, "full")]:
        at = optima.stationary_points(lam, 4, objective, sigma2=0.9, encoder=enc,
                                      nonorthogonal=False, **kw)
        enumerated = {}
        for p in at.points:
            enumerated[p.hessian_signs] = enumerated.get(p.hessian_signs, 0) + 1
        assert at.index_counts == dict(sorted(enumerated.items()))


def test_large_atlas_is_capped_and_counted():
    lam = np.sort(np.random.default_rng(3).uniform(0.1, 10, 64))[::-1]
    at = optima.stationary_points(lam, 10, "relbo", alpha=0.5, sigma2=5.0, max_points=50,
                                  nonorthogonal=False)
    assert not at.complete
    assert sum(at.index_counts.values()) == at.n_orthogonal
    assert at.index_counts[(0, 0, 640)] == 1              # a single maximum
    assert at.global_max.subset == tuple(range(10))
    assert len(at.points) <= 51


def test_bad_input():
    with pytest.raises(ValueError, match="`objective` must be one of"):
        optima.stationary_points(LAM8, 3, "vae")
    with pytest.raises(ValueError, match=r"`k` must be an integer in \[1, n=6\]"):
        optima.stationary_points(LAM8, 0, "elbo")
    with pytest.raises(ValueError, match="`alpha` is required"):
        optima.stationary_points(LAM8, 3, "relbo")
    with pytest.raises(ValueError, match="`beta` must be positive"):
        optima.stationary_points(LAM8, 3, "beta_elbo", beta=-1.0)
    with pytest.raises(ValueError, match="descending"):
        optima.stationary_points(LAM8[::-1], 3, "elbo")
    with pytest.raises(ValueError, match="`spectrum` eigenvalues must be non-negative"):
        optima.stationary_points([2.0, -1.0], 1, "elbo")
    with pytest.raises(ValueError, match="`max_points` must be a positive integer"):
        optima.stationary_points(LAM8, 3, "elbo", max_points=0)
    with pytest.raises(ValueError, match="`sigma2` must be positive"):
        optima.stationary_points(LAM8, 3, "elbo", sigma2=0.0)
    with pytest.raises(ValueError, match="`encoder` must be"):
        optima.stationary_points(LAM8, 3, "elbo", encoder="dense")
