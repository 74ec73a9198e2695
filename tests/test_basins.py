"""Gradient ascent on the population objectives and basin maps (gaussrelbo.basins)."""

import numpy as np
import pytest

import gaussrelbo as gr
import gaussrelbo.objectives as objectives
import gaussrelbo.optima  # noqa: F401  (gr.optima below)
from gaussrelbo._gradients import FullProblem
from gaussrelbo.basins import _basin_runs, _Profiled, fit_population

LAM = np.array([5.0, 4.0, 3.0, 2.0, 1.2, 0.5])
CASES = [("loglik", None, None), ("elbo", None, None), ("relbo", 0.3, None), ("relbo", 3.0, None),
         ("beta_elbo", None, 0.5), ("beta_elbo", None, 2.5)]


def _model(problem, x):
    p = problem.unpack(x)
    B, k, n = x.shape[0], problem.k, problem.n
    if problem.decoder_only:
        V, c, D = np.zeros((B, k, n)), np.zeros((B, k)), np.ones((B, k))
    else:
        V, c, D = p["V"], p["c"], p["D"]
    return gr.LinearGaussianVAE(p["W"], p["b"], p["s2"], V=V, c=c, D=D,
                                encoder="full" if problem.full and "V" in p else "diagonal")


@pytest.mark.parametrize("objective, alpha, beta", CASES)
@pytest.mark.parametrize("sigma2", [None, 0.8])
@pytest.mark.parametrize("encoder", ["diagonal", "full"])
def test_full_value_and_gradient(objective, alpha, beta, sigma2, encoder):
    problem = FullProblem(LAM, 3, objective, alpha or 1.0, beta or 1.0, sigma2, encoder)
    x = np.random.default_rng(7).normal(size=(3, problem.size)) * 0.5
    f, g = problem.value_grad(x)
    assert f.shape == (3,)
    assert g.shape == (3, problem.size)
    # The values equal the closed forms of gaussrelbo.objectives on the same (batched) models.
    model = _model(problem, x)
    data = gr.DataMoments(np.zeros(LAM.size), np.diag(LAM))
    want = {"loglik": lambda: gr.log_evidence(model, data), "elbo": lambda: gr.elbo(model, data),
            "relbo": lambda: gr.relbo(model, data, alpha),
            "beta_elbo": lambda: gr.beta_elbo(model, data, beta)}[objective]()
    np.testing.assert_allclose(f, want, rtol=1e-12)
    # The analytic gradient equals central finite differences of the value (step 1e-6:
    # truncation ~1e-12, rounding ~1e-16/1e-6 relative to |f| ~ 20 => ~1e-9 absolute).
    h = 1e-6
    eye = np.eye(problem.size)
    fd = np.stack([(problem.value_grad(x + h * e)[0] - problem.value_grad(x - h * e)[0]) / (2 * h)
                   for e in eye], axis=1)
    assert np.max(np.abs(fd - g)) <= 1e-6 * np.max(np.abs(g))


# Planted errors in the objectives' own building blocks: the value of FullProblem and the
# reference of the value check change together (both come from gaussrelbo.objectives), so the
# value check still passes and only the finite-difference check of the closed-form gradient
# can see the error.  It must fail: the gradients are not derived from the values.
_PLANTS = {
    "renyi bracket, log-det coefficient": ("_renyi_bracket", lambda real: lambda m, a: (
        real(m, a) - 5e-4 * m.log_post_ratio)),
    "distortion, extra term in W": ("_distortion", lambda real: lambda m, p: (
        real(m, p) + 1e-3 * np.sum(m.W * m.W, axis=(-2, -1)))),
    "rate, log det D coefficient": ("_rate", lambda real: lambda m, p: (
        real(m, p) - 1e-3 * m.logdet_D)),
    "log-evidence, overall factor": ("_log_evidence", lambda real: lambda m, p: (
        real(m, p) * 1.001)),
}


@pytest.mark.parametrize("plant, objective, alpha, beta, encoder", [
    ("renyi bracket, log-det coefficient", "relbo", 0.3, None, "diagonal"),
    ("distortion, extra term in W", "elbo", None, None, "full"),
    ("rate, log det D coefficient", "beta_elbo", None, 2.5, "diagonal"),
    ("log-evidence, overall factor", "loglik", None, None, "diagonal"),
])
def test_planted_value_error_breaks_the_gradient_check(monkeypatch, plant, objective, alpha,
                                                       beta, encoder):
    name, make = _PLANTS[plant]
    problem = FullProblem(LAM, 3, objective, alpha or 1.0, beta or 1.0, None, encoder)
    x = np.random.default_rng(7).normal(size=(3, problem.size)) * 0.5
    before = problem.value_grad(x)[0]
    monkeypatch.setattr(objectives, name, make(getattr(objectives, name)))
    after = problem.value_grad(x)[0]
    assert np.min(np.abs(after - before)) > 1e-4          # the plant is live
    with pytest.raises(AssertionError) as info:
        test_full_value_and_gradient(objective, alpha, beta, None, encoder)
    assert "Not equal to tolerance" not in str(info.value)  # the value check still agreed


def test_full_rows_outside_the_domain():
    # A row whose sigma2 overflows in exp(rho), or with a non-finite entry, is -inf with a NaN
    # gradient; the other rows are what they are alone.
    problem = FullProblem(LAM, 3, "relbo", 0.5, 1.0, None, "diagonal")
    x = np.random.default_rng(2).normal(size=(4, problem.size)) * 0.5
    x[1, problem.slices["rho"]] = 800.0
    x[3, 0] = np.nan
    f, g = problem.value_grad(x)
    assert f[1] == -np.inf
    assert f[3] == -np.inf
    assert np.all(np.isnan(g[[1, 3]]))
    for i in (0, 2):
        fi, gi = problem.value_grad(x[i:i + 1])
        np.testing.assert_allclose(f[i], fi[0], rtol=1e-14)
        np.testing.assert_allclose(g[i], gi[0], rtol=1e-12, atol=1e-14)


def test_full_row_the_objectives_refuse(monkeypatch):
    # A ValueError from the objectives (a value outside float64) marks only the rows that
    # raise it: the batch is evaluated again row by row.
    real = objectives.relbo

    def refusing(model, data, alpha):
        if np.any(np.asarray(model.W)[..., 0, 0] > 0.3):
            raise ValueError("outside the float64 range")
        return real(model, data, alpha)

    problem = FullProblem(LAM, 3, "relbo", 0.5, 1.0, 0.8, "diagonal")
    x = np.random.default_rng(4).normal(size=(3, problem.size)) * 0.1
    x[:, 0] = [0.0, 1.0, 0.1]
    want = problem.value_grad(x)
    monkeypatch.setattr(objectives, "relbo", refusing)
    f, g = problem.value_grad(x)
    assert f[1] == -np.inf
    assert np.all(np.isnan(g[1]))
    # alone, a row is one unbatched model (same formulas, other rounding)
    np.testing.assert_allclose(f[[0, 2]], want[0][[0, 2]], rtol=1e-14)
    np.testing.assert_allclose(g[[0, 2]], want[1][[0, 2]], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("sigma2", [None, 0.8])
def test_profiled_packing_gradient(sigma2):
    # The profiled problem's log-sigma2 chain rule against finite differences of its own value.
    problem = _Profiled(LAM, 3, "relbo", 0.5, 1.0, sigma2, "diagonal")
    x = np.random.default_rng(3).normal(size=(2, problem.size)) * 0.7
    f, g = problem.value_grad(x)
    h = 1e-6
    fd = np.stack([(problem.value_grad(x + h * e)[0] - problem.value_grad(x - h * e)[0]) / (2 * h)
                   for e in np.eye(problem.size)], axis=1)
    assert f.shape == (2,)
    assert np.max(np.abs(fd - g)) <= 1e-6 * np.max(np.abs(g))


def _ml_fixed(lam, k, s2):
    """pPCA maximum of the log-likelihood at fixed sigma2: top-k columns, w^2 = lam - s2."""
    top, rest = lam[:k], lam[k:]
    return -0.5 * (lam.size * np.log(2 * np.pi) + np.sum(np.log(top)) + k
                   + rest.size * np.log(s2) + rest.sum() / s2)


def _ml_learned(lam, k):
    """Tipping & Bishop (1999): sigma2_ML = mean of the discarded eigenvalues."""
    n = lam.size
    s2 = lam[k:].sum() / (n - k)
    return -0.5 * n * (1 + np.log(2 * np.pi)) - 0.5 * (np.log(lam[:k]).sum() + (n - k) * np.log(s2))


@pytest.mark.parametrize("alpha", [0.3, 1.0, 3.0])
@pytest.mark.parametrize("sigma2", [0.8, None])
def test_relbo_ascent_reaches_ppca_maximum(alpha, sigma2):
    want = _ml_fixed(LAM, 3, sigma2) if sigma2 else _ml_learned(LAM, 3)
    for seed in range(2):
        r = fit_population(LAM, 3, "relbo", alpha=alpha, sigma2=sigma2, random_state=seed)
        assert abs(r.value - want) <= 1e-8 * (1 + abs(want)), (seed, r.value, want)
        assert r.success


@pytest.mark.parametrize("beta", [0.5, 2.0, 4.0])
def test_beta_elbo_ascent_reaches_collapse_optimum(beta):
    s2 = 0.8
    # Lucas et al. (2019), written out: top-k columns with w^2 = max(lam - beta s2, 0),
    # per-dimension value f*_beta = -1/2 log(2 pi s2) + beta/2 log(beta s2/m) - beta lam/(2 m),
    # m = w^2 + beta s2; unused directions -1/2 log(2 pi s2) - lam/(2 s2).
    top = LAM[:3]
    m = np.maximum(top - beta * s2, 0) + beta * s2
    want = (np.sum(-0.5 * np.log(2 * np.pi * s2) + 0.5 * beta * np.log(beta * s2 / m)
                   - beta * top / (2 * m))
            + np.sum(-0.5 * np.log(2 * np.pi * s2) - LAM[3:] / (2 * s2)))
    for seed in range(2):
        r = fit_population(LAM, 3, "beta_elbo", beta=beta, sigma2=s2, random_state=seed)
        assert abs(r.value - want) <= 1e-8 * (1 + abs(want)), (seed, r.value, want)
        active = np.sum(np.sum(r.W**2, axis=0) > 1e-6)
        assert active == np.sum(top > beta * s2)


def test_reproducible():
    a = fit_population(LAM, 2, "relbo", alpha=2.0, random_state=3)
    b = fit_population(LAM, 2, "relbo", alpha=2.0, random_state=3)
    assert a.value == b.value
    assert np.array_equal(a.W, b.W)


def test_fit_population_bad_input():
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
    with pytest.raises(ValueError, match="`random_state` must be"):
        fit_population(LAM, 2, "elbo", random_state="x")
    with pytest.raises(ValueError, match="`maxiter` must be a positive integer, got None"):
        fit_population(LAM, 2, "elbo", maxiter=None)
    with pytest.raises(ValueError, match="`maxiter` must be a positive integer, got -1"):
        fit_population(LAM, 2, "elbo", maxiter=-1)
    with pytest.raises(ValueError, match="`gtol` must be a positive finite number, got nan"):
        fit_population(LAM, 2, "elbo", gtol=float("nan"))


# ---- basin maps ---------------------------------------------------------------------------------

def _labels(bm):
    return [[r["label"] for r in runs] for runs in bm.runs]


@pytest.mark.parametrize("mode", ["profiled", "full"])
@pytest.mark.parametrize("objective, params, sigma2", [("relbo", (0.3, 3.0), 0.8),
                                                       ("beta_elbo", (4.0,), 0.8),
                                                       ("relbo", (0.5,), None)])
def test_batched_matches_per_start_on_random_starts(mode, objective, params, sigma2):
    kw = dict(params=params, n_runs=6, sigma2=sigma2, random_state=1, mode=mode)
    batched = gr.basin_map(LAM, 3, objective, method="batched", **kw)
    ref = gr.basin_map(LAM, 3, objective, method="per_start", **kw)
    assert _labels(batched) == _labels(ref)
    for runs, ref_runs in zip(batched.runs, ref.runs):
        got = np.array([r["value"] for r in runs])
        want = np.array([r["value"] for r in ref_runs])
        np.testing.assert_allclose(got, want, rtol=1e-10)
    assert all("unmatched" not in c for c in batched.counts)
    assert batched.n_converged == [6] * len(params)


def _near_saddle_starts(atlas, n_each, rng, eps=1e-3):
    """W at each saddle of the atlas, plus a small random perturbation."""
    saddles = [p for p in atlas.points if p.kind == "saddle"]
    W = np.stack([p.W + eps * rng.normal(size=p.W.shape) for p in saddles
                  for _ in range(n_each)])
    return W, saddles


def test_batched_matches_per_start_next_to_saddles():
    # Starts a small step away from every saddle of the atlas (orthogonal and non-orthogonal):
    # both methods must leave the saddle for the same destination.
    rng = np.random.default_rng(5)
    s2 = 0.8
    atlas = gr.optima.stationary_points(LAM, 3, "relbo", alpha=0.5, sigma2=s2)
    W, saddles = _near_saddle_starts(atlas, 1, rng)
    assert len(saddles) >= 20
    assert any(not p.orthogonal for p in saddles)
    problem = _Profiled(LAM, 3, "relbo", 0.5, 1.0, s2, "diagonal")
    x0 = problem.pack(W, np.full(len(W), s2))
    args = (LAM, 3, "relbo", 0.5, "alpha", s2, "diagonal", None, 1e-6, "profiled")
    _, batched = _basin_runs(*args, "batched", 20000, 1e-10, x0=x0)
    _, ref = _basin_runs(*args, "per_start", 20000, 1e-10, x0=x0)
    assert [r["label"] for r in batched] == [r["label"] for r in ref]
    np.testing.assert_allclose([r["value"] for r in batched], [r["value"] for r in ref],
                               rtol=1e-10)
    assert all(r["label"] == "subset=(0, 1, 2) maximum" for r in batched)


def test_start_at_a_saddle_is_flagged():
    # A start exactly at a saddle has a zero gradient (below gtol): it stops there at once and is
    # reported as converged, near a saddle, with zero iterations.
    s2 = 0.8
    atlas = gr.optima.stationary_points(LAM, 3, "relbo", alpha=0.5, sigma2=s2)
    saddle = next(p for p in atlas.points if p.kind == "saddle" and p.orthogonal)
    problem = _Profiled(LAM, 3, "relbo", 0.5, 1.0, s2, "diagonal")
    x0 = problem.pack(saddle.W[None], np.array([s2]))
    counts, runs = _basin_runs(LAM, 3, "relbo", 0.5, "alpha", s2, "diagonal", None, 1e-6,
                               "profiled", "batched", 100, 1e-10, x0=x0)
    assert runs[0]["near_saddle"]
    assert runs[0]["status"] == "gtol"
    assert runs[0]["n_iter"] == 0
    assert counts == {f"subset={saddle.subset} saddle": 1}


def test_basin_map_matches_stationary_points_and_is_reproducible():
    bm = gr.basin_map(LAM, 3, "relbo", params=(0.3, 3.0), n_runs=4, sigma2=0.8, random_state=1)
    assert bm.parameter == "alpha"
    assert bm.params == [0.3, 3.0]
    for counts, fr in zip(bm.counts, bm.fractions):
        assert sum(counts.values()) == 4
        assert abs(sum(fr.values()) - 1) < 1e-15
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
    assert bm.n_near_saddle == [0, 0]
    lo, med, hi = bm.iterations[0]
    assert 0 < lo <= med <= hi


def test_basin_map_blas_threads(monkeypatch):
    # The thread limit does not change the result; bad values are named.
    a = gr.basin_map(LAM, 2, "elbo", n_runs=2, blas_threads=1)
    b = gr.basin_map(LAM, 2, "elbo", n_runs=2, blas_threads="all")
    assert a.counts == b.counts
    monkeypatch.setenv("GAUSSRELBO_BLAS_THREADS", "many")
    with pytest.raises(ValueError, match="GAUSSRELBO_BLAS_THREADS must be a positive integer"):
        gr.basin_map(LAM, 2, "elbo", n_runs=2)


@pytest.mark.parametrize("kwargs, match", [
    ({"n_runs": 0}, "`n_runs` must be a positive integer, got 0"),
    ({"n_jobs": 0}, "`n_jobs` must be a positive integer, got 0"),
    ({"params": 5}, "`params` must be a non-empty sequence of alpha values, got 5"),
    ({"params": ()}, "`params` must be a non-empty sequence"),
    ({"params": (0.5, -1.0)}, "`alpha` must be positive"),
    ({"random_state": "x"}, "`random_state` must be None, a non-negative integer"),
    ({"maxiter": None}, "`maxiter` must be a positive integer, got None"),
    ({"maxiter": -1}, "`maxiter` must be a positive integer, got -1"),
    ({"gtol": float("nan")}, "`gtol` must be a positive finite number, got nan"),
    ({"vtol": float("nan")}, "`vtol` must be a positive finite number, got nan"),
    ({"mode": "joint"}, "`mode` must be one of"),
    ({"method": "fast"}, "`method` must be one of"),
    ({"blas_threads": 0}, "`blas_threads` must be a positive integer or 'all', got 0"),
    ({"objective": "vae"}, "`objective` must be one of"),
])
def test_basin_map_bad_input(kwargs, match):
    kw = {"objective": "relbo", "n_runs": 2, **kwargs}
    with pytest.raises(ValueError, match=match):
        gr.basin_map(LAM, 2, **kw)


def test_blas_limit_sets_one_thread(monkeypatch):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from gaussrelbo._threads import blas_limit, check_blas_threads

    monkeypatch.delenv("GAUSSRELBO_BLAS_THREADS", raising=False)
    assert check_blas_threads(None) == 1
    assert check_blas_threads("all") is None
    assert check_blas_threads(3) == 3
    monkeypatch.setenv("GAUSSRELBO_BLAS_THREADS", "2")
    assert check_blas_threads(None) == 2
    monkeypatch.setenv("GAUSSRELBO_BLAS_THREADS", "all")
    assert check_blas_threads(None) is None
    blas = [p for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]
    if not blas:
        pytest.skip("no BLAS library visible to threadpoolctl")
    with blas_limit(1):
        inside = [p["num_threads"] for p in threadpoolctl.threadpool_info()
                  if p["user_api"] == "blas"]
    assert inside == [1] * len(blas)


def test_basin_map_worker_processes_give_the_same_result():
    pytest.importorskip("dask")
    kw = dict(params=(0.3, 3.0), n_runs=3, sigma2=0.8, random_state=2)
    serial = gr.basin_map(LAM, 3, "relbo", **kw)
    parallel = gr.basin_map(LAM, 3, "relbo", n_jobs=2, **kw)
    assert parallel.counts == serial.counts
    assert [r["value"] for r in parallel.runs[1]] == [r["value"] for r in serial.runs[1]]


@pytest.mark.parametrize("method", ["batched", "per_start"])
def test_iteration_cap_is_reported(method):
    # Two iterations cannot reach a stationary point: every run stops at the cap, unconverged,
    # and is left unmatched rather than forced onto a point.
    bm = gr.basin_map(LAM, 3, "relbo", params=(0.5,), n_runs=3, sigma2=0.8, maxiter=2,
                      method=method)
    assert [r["status"] for r in bm.runs[0]] == ["maxiter"] * 3
    assert bm.n_converged == [0]
    assert bm.iterations[0][2] <= 2
    assert bm.counts == [{"unmatched": 3}]
