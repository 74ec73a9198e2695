"""The cluster atlas against independent routes: a root search of grad F = 0 from random starts,
finite-difference Hessians, brute-force counts and exhaustive enumeration of the learned-noise
fixed points (the r* theorem)."""

from itertools import combinations

import numpy as np
import pytest

from gaussrelbo import optima

LAM4 = np.array([5.0, 3.0, 1.6, 0.9])
LAM5 = np.array([6.0, 3.5, 2.0, 1.1, 0.4])
S2 = 0.8
CASES = [("relbo", {"alpha": 0.5}), ("relbo", {"alpha": 1.0}), ("relbo", {"alpha": 2.0}),
         ("beta_elbo", {"beta": 0.6})]


def _grad_and_jac(W, s2, lam, objective, kw, h):
    """Gradients at W (S, n, k) and their Jacobians by central differences of the analytic
    gradient, all in one batched call of profiled_value_grad."""
    S, n, k = W.shape
    p = n * k
    E = np.eye(p).reshape(p, n, k) * h
    batch = np.concatenate([W[:, None], W[:, None] + E, W[:, None] - E], axis=1)
    f, g, _ = optima.profiled_value_grad(batch, s2, lam, objective, **kw)
    g = g.reshape(S, 2 * p + 1, p)
    J = (g[:, 1:p + 1] - g[:, p + 1:]) / (2 * h)
    return f[:, 0], g[:, 0], 0.5 * (J + np.swapaxes(J, 1, 2))


def _root_search(lam, k, objective, kw, starts, seed):
    """Newton on grad F(W) = 0 from random starts (vectorised over the starts; FD Jacobian of
    the analytic gradient, flat directions left out, steps capped); returns the values of the
    converged points, deduplicated, and how many starts converged."""
    rng = np.random.default_rng(seed)
    n = lam.size
    scale = np.sqrt(lam[0]) * rng.uniform(0.05, 1.0, size=(starts, 1, 1))
    W = rng.normal(size=(starts, n, k)) * scale
    h = 1e-6 * np.sqrt(lam[0])
    cap = 0.3 * np.sqrt(lam[0])
    for _ in range(80):
        _, g, J = _grad_and_jac(W, S2, lam, objective, kw, h)
        e, V = np.linalg.eigh(J)
        flat = np.abs(e) < 1e-8 * np.abs(e).max(axis=1, keepdims=True)
        inv = np.where(flat, 0.0, 1.0 / np.where(flat, 1.0, e))
        step = (V @ ((np.swapaxes(V, 1, 2) @ g[:, :, None])[:, :, 0] * inv)[:, :, None])[:, :, 0]
        norm = np.sqrt(np.sum(step**2, axis=1, keepdims=True))
        step *= np.minimum(1.0, cap / np.maximum(norm, 1e-300))
        W = W - step.reshape(W.shape)
    f, g, _ = optima.profiled_value_grad(W, S2, lam, objective, **kw)
    # converged, and bounded: far out (|W| -> inf) the gradient decays without a root
    wn = np.sqrt(np.sum(W * W, axis=(1, 2)))
    conv = (np.max(np.abs(g), axis=(1, 2)) * np.maximum(wn, np.sqrt(lam[0])) <= 1e-10) & (
        wn**2 <= 10 * k * lam[0])
    vals = np.sort(f[conv])
    uniq = [v for i, v in enumerate(vals) if i == 0 or v - vals[i - 1] > 1e-9 * abs(v)]
    return np.array(uniq), int(conv.sum())


@pytest.mark.parametrize("lam", [LAM4, LAM5], ids=["n4", "n5"])
@pytest.mark.parametrize("objective, kw", CASES)
def test_root_search_finds_only_atlas_values(lam, objective, kw):
    atlas = optima.stationary_points(lam, 3, objective, sigma2=S2, **kw)
    assert atlas.complete
    assert atlas.truncated_by == ()
    vals = np.array([p.value for p in atlas.points])
    for p in atlas.points:
        _, gW, _ = optima.profiled_value_grad(p.W, S2, lam, objective, **kw)
        assert np.max(np.abs(gW)) <= 1e-9 * max(1.0, abs(p.value))
    found, n_conv = _root_search(lam, 3, objective, kw, starts=60, seed=7)
    assert n_conv >= 10                              # the search itself worked
    for v in found:
        assert np.min(np.abs(vals - v)) <= 1e-8 * abs(v), (v, objective, kw)
    # it found points beyond the orthogonal and equal-norm-pair families
    nonpair = {p.value for p in atlas.points if any(
        (len(cols), r) not in ((1, 1), (2, 2)) for cols, r, _ in p.clusters)}
    assert any(np.min(np.abs(np.array(list(nonpair)) - v)) <= 1e-8 * abs(v) for v in found)


def _fd_signs(lam, p, objective, kw, learn):
    """Signs of the finite-difference Hessian, W in units of sqrt(lam_1 + t); a clear gap
    separates true zeros (< 1e-9 of the scale) from genuine curvature (> 1e-6 here)."""
    H = optima.hessian_fd(p.W, p.sigma2, lam, objective, learn_sigma2=learn, **kw)
    g = kw.get("beta", 1.0) if objective == "beta_elbo" else 1.0
    c = np.sqrt(lam[0] + g * p.sigma2)
    d = np.ones(H.shape[0])
    d[:p.W.size] = c
    e = np.linalg.eigvalsh(H * d[:, None] * d[None, :])
    scale = np.max(np.abs(e))
    small = np.abs(e) <= 1e-7 * scale
    assert not np.any((np.abs(e) > 3e-9 * scale) & small), np.sort(np.abs(e) / scale)[:6]
    return (int(np.sum((e > 0) & ~small)), int(np.sum(small)), int(np.sum((e < 0) & ~small)))


@pytest.mark.parametrize("lam, k", [(np.array([5.0, 3.0, 3.0, 0.9, 0.5]), 3),
                                    (np.array([4.0, 4.0, 2.0, 1.0]), 3),
                                    (np.array([6.0, 4.0, 3.0, 2.5, 0.8, 0.5]), 4)],
                         ids=["tie-inside", "tie-top", "n6-k4"])
@pytest.mark.parametrize("objective, kw", [("relbo", {"alpha": 0.5}), ("elbo", {}),
                                           ("beta_elbo", {"beta": 1.5})])
def test_closed_form_signs_equal_fd_signs_on_every_point(lam, k, objective, kw):
    """Every point of small atlases, tie spectra (0.8 = sigma2 also equals lam_5 / beta... no:
    ties among eigenvalues) and a learned noise."""
    for s2 in (0.8, None):
        if s2 is None and (k == 4 or objective != "relbo"):
            continue                                     # keep the suite fast
        atlas = optima.stationary_points(lam, k, objective, sigma2=s2, **kw)
        assert atlas.complete
        for p in atlas.points:
            assert p.hessian_signs == _fd_signs(lam, p, objective, kw, s2 is None), (
                p.clusters, p.sigma2)


def test_three_column_cluster_is_a_one_dimensional_manifold():
    """A (3, 3) cluster: one zero Hessian eigenvalue beyond the symmetries, manifold_dim 1, and
    moving along the zero direction keeps the point stationary to second order."""
    lam = np.array([5.0, 3.0, 1.6, 0.9])
    atlas = optima.stationary_points(lam, 3, "relbo", alpha=0.5, sigma2=S2)
    triples = [p for p in atlas.points if [(len(c), r) for c, r, _ in p.clusters] == [(3, 3)]]
    assert len(triples) == 4                             # one per 3-subset of 4 directions
    for p in triples:
        assert p.manifold_dim == 1
        assert p.kind == "saddle"
        assert p.hessian_signs[1] == 1
        assert _fd_signs(lam, p, "relbo", {"alpha": 0.5}, False) == p.hessian_signs
        M = p.W.T @ p.W
        assert np.ptp(np.diag(M)) <= 1e-12 * M[0, 0]     # constant diagonal
        assert np.all(np.abs(M[np.triu_indices(3, 1)]) > 1e-6)   # connected


@pytest.mark.parametrize("lam", [np.array([5.0, 4.0, 3.0, 2.0, 1.2, 0.5]),
                                 np.array([5.0, 3.0, 3.0, 3.0, 0.5]),
                                 np.array([2.0, 2.0, 1.0, 0.8, 0.8, 0.3]),
                                 np.geomspace(9.0, 0.2, 7),
                                 np.array([3.0, 1.0, 0.8, 0.2])])
@pytest.mark.parametrize("objective, kw", [("relbo", {"alpha": 0.5}), ("loglik", {}),
                                           ("beta_elbo", {"beta": 2.0})])
def test_index_counts_equal_enumerated_counts(lam, objective, kw):
    """index_counts (no enumeration of points) = the sign counts of the enumerated points:
    the orthogonal ones, and with clusters=True every point (eigenvalue ties and
    lam_j = gamma sigma2 included: 0.8; k = 3 and 4, so families with orthogonal columns)."""
    for k in (3, 4):
        if k == 4 and lam.size < 6:
            continue
        atlas = optima.stationary_points(lam, k, objective, sigma2=S2, **kw)
        assert atlas.complete
        orth, every = {}, {}
        for p in atlas.points:
            every[p.hessian_signs] = every.get(p.hessian_signs, 0) + 1
            if p.orthogonal:
                orth[p.hessian_signs] = orth.get(p.hessian_signs, 0) + 1
        assert optima.index_counts(lam, k, objective, sigma2=S2, **kw) == orth
        assert optima.index_counts(lam, k, objective, sigma2=S2, clusters=True, **kw) == every
        if objective != "loglik":
            assert sum(every.values()) > sum(orth.values())      # clusters were counted


def test_r_star_theorem_against_exhaustive_enumeration():
    """beta-ELBO with learned sigma2: over every subset J (|J| <= k) whose noise
    sigma2 = sum_{j not in J} lam_j / (n - beta |J|) is self-consistent, the best value is the
    top-r* set, r* = max{r : n > beta r, lam_r (n - beta r) > beta sum_{j>r} lam_j}.  Values
    by the matrix route (batched profiled_value_grad), not the closed form."""
    rng = np.random.default_rng(11)
    mismatches = 0
    for trial in range(40):
        n = int(rng.integers(3, 13))
        k = int(rng.integers(1, min(n, 4) + 1))
        lam = np.sort(rng.gamma(0.7, 2.0, n))[::-1]
        beta = float(np.exp(rng.uniform(np.log(0.2), np.log(5.0))))
        Ws, s2s, sets = [], [], []
        for r in range(k + 1):
            for J in combinations(range(n), r):
                rest = np.delete(lam, J).sum()
                if n - beta * r <= 0 or rest <= 0:
                    continue
                s2 = rest / (n - beta * r)
                if np.any(lam[list(J)] <= beta * s2):
                    continue
                W = np.zeros((n, k))
                W[list(J), range(r)] = np.sqrt(lam[list(J)] - beta * s2)
                Ws.append(W)
                s2s.append(s2)
                sets.append(J)
        f, _, _ = optima.profiled_value_grad(np.array(Ws), np.array(s2s), lam, "beta_elbo",
                                             beta=beta)
        best = sets[int(np.argmax(f))]
        tail = [lam[r:].sum() for r in range(k + 1)]
        r_star = max(r for r in range(k + 1) if r == 0 or (
            n > beta * r and lam[r - 1] * (n - beta * r) > beta * tail[r]))
        gm = optima.global_maximum(lam, k, "beta_elbo", beta=beta)
        mismatches += best != tuple(range(r_star))
        assert gm.subset == tuple(range(r_star))
        assert gm.value == pytest.approx(float(np.max(f)), rel=1e-12, abs=1e-12)
    assert mismatches == 0


def test_listed_point_never_beats_the_global_maximum():
    for lam in (np.array([5.0, 3.0, 1.6, 0.9]), np.array([1e-300, 5e-301, 2e-301]),
                np.array([3e300, 1e300, 2e299])):
        for s2 in (None, float(lam[1])):
            atlas = optima.stationary_points(lam, 2, "relbo", alpha=0.5, sigma2=s2)
            assert all(np.isfinite(p.value) for p in atlas.points)
            assert max(p.value for p in atlas.points) <= atlas.global_max.value


def test_caps_are_named_and_fail_fast():
    lam = np.geomspace(9.0, 0.2, 12)
    with pytest.raises(ValueError, match=r"`max_cluster`=4 needs \d+ cluster candidates, more "
                                         r"than `max_candidates`=100; lower `max_cluster` or "
                                         r"raise `max_candidates`"):
        optima.stationary_points(lam, 4, "relbo", alpha=0.5, sigma2=0.5, max_cluster=4,
                                 max_candidates=100)
    atlas = optima.stationary_points(lam, 4, "relbo", alpha=0.5, sigma2=0.5, max_cluster=2,
                                     max_families=50, max_points=30)
    assert not atlas.complete
    assert atlas.truncated_by == ("max_cluster=2", "max_families=50", "max_points=30")
    with pytest.raises(ValueError, match="`max_families` must be an integer >= 1, got 0"):
        optima.stationary_points(lam, 4, "relbo", alpha=0.5, sigma2=0.5, max_families=0)
    with pytest.raises(ValueError, match="`sigma2` must be within float range of the "
                                         "spectrum's scale, got sigma2 = 1e"):
        optima.stationary_points([1e-300, 5e-301], 1, "elbo", sigma2=1e299)


def _reject(constant):
    raise ValueError(f"not JSON: {constant}")


def test_cli_json_is_valid_on_extreme_spectra(tmp_path):
    import json
    import subprocess
    import sys
    for vals in (["3e300", "1e300", "2e299"], ["1e-300", "5e-301", "2e-301"]):
        f = tmp_path / "eig.txt"
        f.write_text("\n".join(vals) + "\n")
        proc = subprocess.run([sys.executable, "-m", "gaussrelbo", "optima", "--spectrum",
                               str(f), "--k", "2", "--objective", "relbo", "--alpha", "0.5",
                               "--format", "json"], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        d = json.loads(proc.stdout, parse_constant=_reject)    # NaN / Infinity are not JSON
        values = [p["value"] for p in d["stationary_points"]]
        assert all(isinstance(v, float) and np.isfinite(v) for v in values)
        assert max(values) == d["global_maximum"]["value"]


@pytest.mark.parametrize("objective, kw", [("relbo", {"alpha": 0.5}), ("relbo", {"alpha": 2.0}),
                                           ("elbo", {}), ("beta_elbo", {"beta": 1.5}),
                                           ("loglik", {})])
@pytest.mark.parametrize("encoder", ["diagonal", "full"])
def test_closed_form_rate_distortion_equal_the_matrix_route(objective, kw, encoder):
    """Rate and distortion of every listed point (closed form per cluster) against
    gr.rate / gr.distortion of the decoder with gr.optimal_encoder (SVD route)."""
    import gaussrelbo as gr
    lam = np.array([6.0, 4.0, 3.0, 3.0, 0.8, 0.5])
    for s2 in (0.8, None):
        atlas = optima.stationary_points(lam, 4, objective, sigma2=s2, encoder=encoder, **kw)
        W = np.stack([p.W for p in atlas.points])
        S = np.array([p.sigma2 for p in atlas.points])
        m = gr.LinearGaussianVAE.from_decoder(W, np.zeros(lam.size), S)
        if objective == "beta_elbo":
            m = gr.optimal_encoder(m, "beta_elbo", beta=kw["beta"], encoder=encoder)
        else:
            m = gr.optimal_encoder(m, "relbo", alpha=kw.get("alpha", 1.0), encoder=encoder)
        data = gr.DataMoments.from_spectrum(lam)
        rates = np.array([p.rate for p in atlas.points])
        dists = np.array([p.distortion for p in atlas.points])
        np.testing.assert_allclose(rates, gr.rate(m, data), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(dists, gr.distortion(m, data), rtol=1e-12)
        if encoder == "diagonal" and objective != "loglik":
            assert not all(p.orthogonal for p in atlas.points)     # clusters were checked


@pytest.mark.parametrize("lam, k", [(np.array([5.0, 3.0, 3.0, 0.9, 0.5]), 3),
                                    (np.array([2.0, 2.0, 1.0, 0.8, 0.8, 0.3, 0.3, 0.2]), 4),
                                    (np.geomspace(9.0, 0.2, 7), 4)])
@pytest.mark.parametrize("objective, kw", [("relbo", {"alpha": 0.5}), ("elbo", {}),
                                           ("beta_elbo", {"beta": 1.5})])
def test_batched_classification_equals_the_per_point_sum(lam, k, objective, kw):
    """The signs of all cluster points of a family, summed at once (BlockClassifier.
    batch_signs), equal the per-point sum over the blocks (BlockClassifier.signs, the learned-
    noise path), point by point; ties among eigenvalues included."""
    from gaussrelbo.optima import _clusters as cl
    from gaussrelbo.optima._hessian import BlockClassifier
    from gaussrelbo.optima._problem import _Spec
    sp = _Spec(lam, k, objective, kw.get("alpha"), kw.get("beta"), 0.8, "diagonal")
    atlas = optima.stationary_points(lam, k, objective, sigma2=0.8, **kw)
    ref = BlockClassifier(sp)
    t = sp.gamma * 0.8
    checked = 0
    for p in atlas.points:
        if p.orthogonal:
            continue
        clusters = []
        for cols, r, J in p.clusters:
            if len(cols) == 1:
                clusters.append(cl.make_single(J[0], lam[J[0]]))
                continue
            m, mu = cl.solve_clusters(cl.ClusterEquation(sp.alpha_e), len(cols), r,
                                      lam[list(J)][None], t)
            clusters.append(cl.Cluster(len(cols), r, tuple(J), float(m[0]),
                                       tuple(float(x) for x in mu[0]), 0.0))
        blocks = [p.W[np.ix_(list(J), list(cols))] for cols, _, J in p.clusters]
        assert ref.signs(clusters, blocks, 0.8, False) == p.hessian_signs
        checked += 1
    assert checked >= 20


def test_index_counts_scale_without_enumeration():
    """n = 2000, k = 1000 (100 eigenvalues above sigma2): the orthogonal counts sum to
    sum_r C(100, r) with one maximum; with clusters (k = 4, clusters of up to two
    columns, n = 16) the counts sum to the number of configurations, sum over the families of the
    subsets of the rows each leaves; a count beyond the state cap fails fast naming it."""
    from math import comb

    from gaussrelbo.optima import _clusters as cl
    from gaussrelbo.optima._enumerate import _families
    lam = np.sort(np.random.default_rng(0).uniform(0.1, 10.0, 2000))[::-1]
    s2 = float(np.quantile(lam, 0.95))
    m = int(np.sum(lam > s2))
    counts = optima.index_counts(lam, 1000, "relbo", alpha=0.5, sigma2=s2)
    assert m == 100
    assert sum(counts.values()) == 2**m
    assert counts[(0, 0, 2000 * 1000)] == 1                       # one maximum
    lam = np.sort(np.random.default_rng(1).uniform(0.1, 10.0, 16))[::-1]
    s2 = float(np.median(lam))
    every = optima.index_counts(lam, 4, "relbo", alpha=0.5, sigma2=s2, clusters=True,
                                max_cluster=2)
    m = int(np.sum(lam > s2))
    multi, _ = cl.candidates(cl.ClusterEquation(0.5), lam, s2, 4, list(range(16)), 2, 10**6)
    fams, done = _families(multi, 4, 10**6)
    assert done
    expected = 0
    for X in fams:
        free = m - len({j for c in X for j in c.J} & set(range(m)))
        expected += sum(comb(free, r) for r in range(4 - sum(c.c for c in X) + 1))
    assert sum(every.values()) == expected
    assert expected > sum(optima.index_counts(lam, 4, "relbo", alpha=0.5, sigma2=s2).values())
    with pytest.raises(ValueError, match=r"more than `max_states`=50 \(8 eigenvalues"):
        optima.index_counts(lam, 12, "relbo", alpha=0.5, sigma2=s2, max_states=50)
