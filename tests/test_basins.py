"""Gradient ascent on the full population objectives (gaussrelbo.basins)."""

import numpy as np
import pytest

import gaussrelbo as gr
import gaussrelbo.optima  # noqa: F401  (gr.optima below)
from gaussrelbo.basins import _Problem, fit_population

LAM = np.array([5.0, 4.0, 3.0, 2.0, 1.2, 0.5])
CASES = [("loglik", None, None), ("elbo", None, None), ("relbo", 0.3, None), ("relbo", 3.0, None),
         ("beta_elbo", None, 0.5), ("beta_elbo", None, 2.5)]


def _model(problem, x):
    p = problem.unpack(x)
    k = problem.k
    if problem.decoder_only:
        V, c, D = np.zeros((k, problem.n)), np.zeros(k), np.ones(k)
    else:
        V, c, D = p["V"], p["c"], p["D"]
    return gr.LinearGaussianVAE(p["W"], p["b"], p["s2"], V=V, c=c, D=D)


@pytest.mark.parametrize("objective, alpha, beta", CASES)
@pytest.mark.parametrize("sigma2", [None, 0.8])
@pytest.mark.parametrize("encoder", ["diagonal", "full"])
def test_value_and_gradient(objective, alpha, beta, sigma2, encoder):
    problem = _Problem(LAM, 3, objective, alpha or 1.0, beta or 1.0, sigma2, encoder)
    x = np.random.default_rng(7).normal(size=problem.size) * 0.5
    f, g = problem.value_grad(x)
    # The value equals the closed form of gaussrelbo.objectives on the same model.
    model = _model(problem, x)
    data = gr.DataMoments(np.zeros(LAM.size), np.diag(LAM))
    want = {"loglik": lambda: gr.log_evidence(model, data), "elbo": lambda: gr.elbo(model, data),
            "relbo": lambda: gr.relbo(model, data, alpha),
            "beta_elbo": lambda: gr.beta_elbo(model, data, beta)}[objective]()
    assert np.isclose(f, want, rtol=1e-12)
    # The analytic gradient equals central finite differences (step 1e-6: truncation ~1e-12,
    # rounding ~1e-16/1e-6 relative to |f| ~ 20 => ~1e-9 absolute).
    h = 1e-6
    fd = np.array([(problem.value_grad(x + h * e)[0] - problem.value_grad(x - h * e)[0]) / (2 * h)
                   for e in np.eye(problem.size)])
    assert g.shape == (problem.size,)
    assert np.max(np.abs(fd - g)) <= 1e-6 * np.max(np.abs(g))


def _ml_fixed(lam, k, s2):
    """pPCA maximum of the log-likelihood at fixed sigma2: top-k columns, w^2 = lam - s2."""
    top, rest = lam[:k], lam[k:]
    return -0.5 * (lam.size * np.log(2 * np.pi) + np.sum(np.log(top)) + k
                   + rest.size * np.log(s2) + rest.sum() / s2)


def _ml_learned(lam, k):
    """DESIGN §7: sigma2_ML = mean of the discarded eigenvalues."""
    n = lam.size
    s2 = lam[k:].sum() / (n - k)
    return -0.5 * n * (1 + np.log(2 * np.pi)) - 0.5 * (np.log(lam[:k]).sum() + (n - k) * np.log(s2))


@pytest.mark.parametrize("alpha", [0.3, 1.0, 3.0])
@pytest.mark.parametrize("sigma2", [0.8, None])
def test_relbo_ascent_reaches_ppca_maximum(alpha, sigma2):
    want = _ml_fixed(LAM, 3, sigma2) if sigma2 else _ml_learned(LAM, 3)
    for seed in range(3):
        r = fit_population(LAM, 3, "relbo", alpha=alpha, sigma2=sigma2, random_state=seed)
        assert abs(r.value - want) <= 1e-8 * (1 + abs(want)), (seed, r.value, want)


@pytest.mark.parametrize("beta", [0.5, 2.0, 4.0])
def test_beta_elbo_ascent_reaches_collapse_optimum(beta):
    s2 = 0.8
    # DESIGN §9, written out: top-k columns with w^2 = max(lam - beta s2, 0), per-dimension value
    # f*_beta = -1/2 log(2 pi s2) + beta/2 log(beta s2/m) - beta lam/(2 m), m = w^2 + beta s2;
    # unused directions -1/2 log(2 pi s2) - lam/(2 s2).
    top = LAM[:3]
    m = np.maximum(top - beta * s2, 0) + beta * s2
    want = (np.sum(-0.5 * np.log(2 * np.pi * s2) + 0.5 * beta * np.log(beta * s2 / m)
                   - beta * top / (2 * m))
            + np.sum(-0.5 * np.log(2 * np.pi * s2) - LAM[3:] / (2 * s2)))
    for seed in range(3):
        r = fit_population(LAM, 3, "beta_elbo", beta=beta, sigma2=s2, random_state=seed)
        assert abs(r.value - want) <= 1e-8 * (1 + abs(want)), (seed, r.value, want)
        active = np.sum(np.sum(r.W**2, axis=0) > 1e-6)
        assert active == np.sum(top > beta * s2)


def test_reproducible():
    a = fit_population(LAM, 2, "relbo", alpha=2.0, random_state=3)
    b = fit_population(LAM, 2, "relbo", alpha=2.0, random_state=3)
    assert a.value == b.value and np.array_equal(a.W, b.W)


def test_bad_input():
    with pytest.raises(ValueError, match="`objective` must be one of"):
        fit_population(LAM, 2, "vae")
    with pytest.raises(ValueError, match=r"`k` must be an integer in \[1, n=6\]"):
        fit_population(LAM, 7, "elbo")
    with pytest.raises(ValueError, match="`alpha` must be positive"):
        fit_population(LAM, 2, "relbo", alpha=-1.0)
    with pytest.raises(ValueError, match="`sigma2` must be positive"):
        fit_population(LAM, 2, "elbo", sigma2=0.0)
    with pytest.raises(ValueError, match="`encoder` must be"):
        fit_population(LAM, 2, "elbo", encoder="dense")
    with pytest.raises(ValueError, match="`lam` must be"):
        fit_population([[1.0]], 1, "elbo")


def test_basin_map_matches_stationary_points_and_is_reproducible():
    bm = gr.basin_map(LAM, 3, "relbo", params=(0.3, 3.0), n_runs=4, sigma2=0.8, random_state=1)
    assert bm.parameter == "alpha" and bm.params == [0.3, 3.0]
    for counts, fr in zip(bm.counts, bm.fractions):
        assert sum(counts.values()) == 4 and abs(sum(fr.values()) - 1) < 1e-15
        assert "unmatched" not in counts
    # every run's value is that of the point it was matched to
    atlas = gr.optima.stationary_points(LAM, 3, "relbo", alpha=0.3, sigma2=0.8)
    values = {f"subset={p.subset}{'' if p.orthogonal else ' non-orthogonal'} {p.kind}": p.value
              for p in atlas.points}
    for run in bm.runs[0]:
        assert abs(run["value"] - values[run["label"]]) <= 1e-6 * (1 + abs(run["value"]))
    again = gr.basin_map(LAM, 3, "relbo", params=(0.3, 3.0), n_runs=4, sigma2=0.8,
                         random_state=1)
    assert again.counts == bm.counts
    assert [r["value"] for r in again.runs[1]] == [r["value"] for r in bm.runs[1]]


def test_basin_map_bad_input():
    with pytest.raises(ValueError, match="`n_runs` must be a positive integer"):
        gr.basin_map(LAM, 2, "elbo", n_runs=0)
    with pytest.raises(ValueError, match="`n_jobs` must be a positive integer"):
        gr.basin_map(LAM, 2, "elbo", n_runs=2, n_jobs=0)
