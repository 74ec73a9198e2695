"""Figures render under Agg and plot what the closed forms say (not merely that they render)."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import gaussrelbo as gr  # noqa: E402
from gaussrelbo import figures  # noqa: E402


@pytest.fixture(scope="module")
def problem():
    model, data, _ = gr.report.default_problem()
    return model, data


def _slope(x, y):
    return np.polyfit(np.log(x), np.log(y), 1)[0]


def test_f1_slopes_and_range(problem):
    fig = figures.fig_alpha_limit(*problem)
    fig.canvas.draw()
    (ax,) = fig.axes
    assert ax.get_xscale() == "log"
    assert ax.get_yscale() == "log"
    assert ax.get_xlabel()
    assert ax.get_ylabel() == "nats"
    assert fig.caption.startswith("F1")
    for side in ("above", "below"):
        nums = fig.numbers[side]
        t = np.array(nums["abs_alpha_minus_1"])
        assert t.min() <= 1.0001e-12
        small = t < 1e-3                       # the asymptotic regime
        assert abs(_slope(t[small], np.array(nums["abs_difference"])[small]) - 1) < 0.05
        assert abs(_slope(t[small], np.array(nums["abs_remainder"])[small]) - 2) < 0.1
    # the plotted line data are the numbers (first line: |difference| above 1)
    line = ax.get_lines()[0]
    np.testing.assert_allclose(line.get_ydata(), fig.numbers["above"]["abs_difference"])
    # independent check at a moderate alpha, where subtraction is accurate
    i = np.argmin(np.abs(t - 0.1))
    alpha = 1.0 - t[i]
    ref = abs(gr.relbo(*problem, alpha) - gr.elbo(*problem))
    np.testing.assert_allclose(fig.numbers["below"]["abs_difference"][i], ref, rtol=1e-9)


def test_f2_curves(problem):
    model, data = problem
    fig = figures.fig_bounds_vs_alpha(model, data)
    fig.canvas.draw()
    nums = fig.numbers
    alpha = np.array(nums["alpha"])
    rel = np.array(nums["relbo"])
    assert np.all(rel <= nums["log_evidence"])
    j = np.argmin(np.abs(alpha - 1.0))
    assert alpha[j] == pytest.approx(1.0)
    assert rel[j] == pytest.approx(nums["elbo"], abs=1e-12)
    vr = np.array([np.nan if v is None else v for v in nums["vr_bound"]])
    ok = np.isfinite(vr)
    assert np.all(np.diff(vr[ok]) <= 1e-12)          # non-increasing in alpha
    ax, gx, vx = fig.axes
    assert ax.get_xscale() == "log"
    assert gx.get_yscale() == "log"
    gaps = gx.get_lines()[0].get_ydata()
    np.testing.assert_allclose(gaps, nums["log_evidence"] - rel)
    # Li & Turner's order is a different parameter: its own panel and axis, said in words
    assert "not the RELBO" in vx.get_xlabel()
    assert "RELBO" in ax.get_xlabel()
    (vr_line,) = [ln for ln in vx.get_lines() if "VR bound" in ln.get_label()]
    np.testing.assert_array_equal(vr_line.get_ydata(), vr[ok])
    assert "different parameter" in fig.caption
    # the caption's numbers are the plotted ones
    assert f"{nums['log_evidence']:.6g}" in fig.caption
    assert f"{np.max(nums['log_evidence'] - rel):.4g}" in fig.caption


LAM = np.array([5.0, 4.0, 3.0, 2.0, 1.2, 0.5])


def _plotted(ax, label):
    """(x, y) of the line carrying ``label`` (the data actually drawn)."""
    (line,) = [ln for ln in ax.get_lines() if ln.get_label() == label]
    return np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)


def test_f3_rotation_stiffness_scales_as_one_over_alpha():
    fig = figures.fig_rotation(LAM, k=3, sigma2=0.8, thetas=np.linspace(-0.02, 0.02, 41))
    fig.canvas.draw()
    th = np.array(fig.numbers["theta"])
    m1, m2 = LAM[0], LAM[1]                       # m = w^2 + sigma2 = lambda at the optimum
    for a in (0.25, 1.0, 4.0):
        y = np.array(fig.numbers["relbo"][f"{a:g}"])
        curv = 2 * np.polyfit(th, y, 4)[2]          # second derivative at 0 from the plotted data
        # Theory §8c written out: -(m1 - m2)^2 / (alpha m1 m2)
        assert curv == pytest.approx(-(m1 - m2) ** 2 / (a * m1 * m2), rel=1e-3)
        # the numbers are what is drawn
        _, drawn = _plotted(fig.axes[0], rf"RELBO, $\alpha$={a:g}")
        np.testing.assert_array_equal(drawn, y)
    assert np.max(np.abs(fig.numbers["loglik"])) < 1e-12        # pPCA: flat
    # stiffness panel: five-point differences of the objective against the same closed form,
    # and the beta-ELBO's: beta LL(W, beta s2) is rotation invariant, the Hadamard penalty
    # -(beta/2) P(W, beta s2) curves like the RELBO's -(1/(2 alpha)) P(W, s2) with 1/alpha -> beta
    # and m_j = w_j^2 + beta s2 = lambda_j (columns 1, 2 active): -beta (m1 - m2)^2 / (m1 m2).
    st = fig.numbers["stiffness"]
    alpha = np.array(st["alpha"])
    np.testing.assert_allclose(st["relbo_finite_difference"],
                               -(m1 - m2) ** 2 / (alpha * m1 * m2), rtol=1e-6)
    beta = np.array(st["beta"])
    assert beta.size >= 5
    assert np.all(LAM[1] > beta * 0.8)
    np.testing.assert_allclose(st["beta_elbo_finite_difference"],
                               -beta * (m1 - m2) ** 2 / (m1 * m2), rtol=1e-6)
    axr, axb, axs = fig.axes
    assert axs.get_xscale() == "log"
    assert axs.get_yscale() == "log"
    for ax in (axr, axb):
        assert "nats" in ax.get_ylabel()
        assert ax.get_xlabel()
        assert ax.get_legend() is not None
    assert fig.caption.startswith("F3")


def test_f3_zero_column_and_swap_symmetry():
    # lambda_2 = 0.6 < sigma2: column 2 is zero at the optimum, so m2 = sigma2 (Theory §8c)
    lam, s2, a = np.array([5.0, 0.6, 0.5, 0.3]), 0.8, 2.0
    fig = figures.fig_rotation(lam, k=2, sigma2=s2, alphas=(a,), betas=(1.0,))
    th = np.array(fig.numbers["theta"])
    assert th[0] == -np.pi / 2
    assert th[-1] == np.pi / 2
    assert th.size == 181
    y = np.array(fig.numbers["relbo"]["2"])
    small = np.abs(th) < 0.1
    curv = 2 * np.polyfit(th[small], y[small], 6)[4]
    m1, m2 = lam[0], s2
    assert curv == pytest.approx(-(m1 - m2) ** 2 / (a * m1 * m2), rel=1e-3)
    # theta = +-pi/2 swaps the columns (one sign flipped): every objective returns to 0
    for y in (y, np.array(fig.numbers["beta_elbo"]["1"]), np.array(fig.numbers["loglik"])):
        assert abs(y[0]) < 1e-12
        assert abs(y[-1]) < 1e-12
    assert np.all(np.array(fig.numbers["relbo"]["2"]) <= 1e-12)     # theta = 0 is the maximum
    with pytest.raises(ValueError, match="`k` must be an integer in \\[2, n=4\\]"):
        figures.fig_rotation(lam, k=1)


def test_f4_landscape_marks_the_maximum_where_the_theory_puts_it():
    fig = figures.fig_landscape(LAM, sigma2=0.8, alpha=0.5, beta=2.0, n_grid=41)
    fig.canvas.draw()
    for objective, gamma in (("relbo", 1.0), ("beta_elbo", 2.0)):
        pts = fig.numbers[objective]["points"]
        (mx,) = [p for p in pts if p["kind"] == "maximum"]
        assert mx["w1_sq"] == pytest.approx(LAM[0] - gamma * 0.8, rel=1e-12)
        assert mx["w2_sq"] == pytest.approx(LAM[1] - gamma * 0.8, rel=1e-12)
        assert mx["value"] >= fig.numbers[objective]["max_on_grid"] - 1e-12
        assert {p["kind"] for p in pts} >= {"maximum", "saddle"}
    assert fig.caption.startswith("F4")
    # the RELBO panel is the same for every alpha, and the figure says so
    assert "every" in fig.axes[0].get_title()
    assert "same for every alpha" in fig.caption
    mx = next(p for p in fig.numbers["relbo"]["points"] if p["kind"] == "maximum")
    assert f"{mx['value']:.6g}" in fig.caption


def _model(W, s2):
    n, k = W.shape
    return gr.LinearGaussianVAE(W, np.zeros(n), s2, V=np.zeros((k, n)), c=np.zeros(k),
                                D=np.ones(k))


@pytest.mark.parametrize("alpha", [0.3, 2.0])
def test_f4_grid_equals_the_matrix_closed_forms(alpha):
    # an independent route: build the decoder, fit the optimal diagonal encoder and evaluate the
    # matrix closed forms of gaussrelbo.objectives (no spectral kernel involved)
    from gaussrelbo import landscapes

    s2, beta = 0.8, 2.0
    data = gr.DataMoments.from_spectrum(LAM)
    for objective, kw in (("relbo", {"alpha": alpha}), ("beta_elbo", {"beta": beta})):
        res = landscapes.landscape(LAM, s2, objective, alpha, beta, n_grid=9)
        for i, j in ((0, 0), (3, 5), (8, 2), (6, 6)):
            W = np.zeros((LAM.size, 2))
            W[0, 0], W[1, 1] = np.sqrt(res["w1_sq"][j]), np.sqrt(res["w2_sq"][i])
            m = gr.optimal_encoder(_model(W, s2), objective, diagonal=True, **kw)
            ref = (gr.relbo(m, data, alpha) if objective == "relbo"
                   else gr.beta_elbo(m, data, beta))
            assert res["value"][i, j] == pytest.approx(float(ref), rel=1e-12, abs=1e-12)


def _steps(x, counts):
    """Positions where a where='post' step through (x, counts) changes, and the changes."""
    x, counts = np.asarray(x), np.asarray(counts)
    i = np.flatnonzero(np.diff(counts)) + 1
    return x[i], np.diff(counts)[i - 1]


def test_f5_steps_at_lambda_over_sigma2():
    lam, s2, k = np.array([9.0, 6.0, 4.0, 2.5, 1.0, 0.5, 0.3]), 0.5, 4
    fig = figures.fig_collapse(lam, sigma2=s2, k=k, betas=np.geomspace(0.1, 50.0, 200))
    fig.canvas.draw()
    nums = fig.numbers
    beta, act = np.array(nums["beta"]), np.array(nums["active_vs_beta"])
    # the steps of the plotted data sit at lambda_j / sigma2 (j <= k), each a drop by one
    where, by = _steps(beta, act)
    np.testing.assert_allclose(where, np.sort(lam[:k] / s2), rtol=1e-11)
    assert np.all(by == -1)
    assert act[0] == k
    assert act[-1] == 0
    # and everywhere the count is #{j <= k: lambda_j > beta sigma2} (Theory §9), away from the
    # thresholds themselves (where the comparison is decided by rounding)
    far = np.all(np.abs(beta[:, None] / (lam[:k] / s2) - 1) > 1e-9, axis=1)
    expect = np.sum(lam[:k] > beta[:, None] * s2, axis=1)
    np.testing.assert_array_equal(act[far], expect[far])
    # the drawn step line is the data
    x, y = _plotted(fig.axes[0], r"$\beta$-ELBO optimum")
    np.testing.assert_array_equal(x, beta)
    np.testing.assert_array_equal(y, act)
    # against the noise level (beta = 1): steps at sigma2 / lambda_1 = lambda_j / lambda_1
    r, act_s = np.array(nums["sigma2_over_lam1"]), np.array(nums["active_vs_sigma2"])
    where, by = _steps(r, act_s)
    np.testing.assert_allclose(where, np.sort(lam[:k] / lam[0]), rtol=1e-11)
    assert np.all(by == -1)
    # the RELBO collapses with the noise exactly as the ELBO ...
    sr = np.array(nums["relbo_sigma2_over_lam1"])
    np.testing.assert_array_equal(nums["relbo_active_vs_sigma2"],
                                  act_s[np.searchsorted(r, sr)])
    # ... but never with alpha
    assert set(nums["active_vs_alpha"]) == {k}
    assert nums["relbo_kept"] == k
    for ax in fig.axes:
        assert ax.get_ylabel() == "active latent dimensions"
        assert ax.get_legend() is not None
    assert fig.caption.startswith("F5")


def test_f5_relbo_keeps_exactly_the_dimensions_above_sigma2():
    # lambda_4 = 2.5 <= sigma2 = 3: the RELBO keeps 3 of k = 4 for every alpha
    lam, s2 = np.array([9.0, 6.0, 4.0, 2.5, 1.0, 0.5, 0.3]), 3.0
    fig = figures.fig_collapse(lam, sigma2=s2, k=4, alphas=np.geomspace(0.01, 100, 9))
    assert fig.numbers["active_vs_alpha"] == [3] * 9
    # a beta below lambda_4/sigma2 = 0.83 keeps the fourth dimension; beta >= 0.83 drops it
    beta, act = np.array(fig.numbers["beta"]), np.array(fig.numbers["active_vs_beta"])
    assert beta[0] <= 0.1
    assert act[0] == 4
    assert set(act[(beta >= 2.5 / 3.0 * (1 + 1e-9)) & (beta < 4.0 / 3.0)]) == {3}
    with pytest.raises(ValueError, match="`k` must be an integer in \\[1, n-1=6\\]"):
        figures.fig_collapse(lam, k=7)


def test_f5_default_is_the_digits_spectrum():
    fig = figures.fig_collapse()
    lam = gr.datasets.load_spectrum("digits")
    nums = fig.numbers
    # the header names the spectrum drawn
    assert "digits spectrum: n = 64, k = 10" in fig._suptitle.get_text()
    assert fig.caption.startswith("F5 (digits spectrum, n = 64, k = 10")
    assert nums["k"] == 10
    assert nums["lam"] == lam.tolist()
    s2 = lam[10:].mean()                  # pPCA maximum-likelihood sigma2 for k = 10
    assert nums["sigma2"] == pytest.approx(s2, rel=1e-12)
    where, _ = _steps(nums["beta"], nums["active_vs_beta"])
    np.testing.assert_allclose(where, np.sort(lam[:10] / s2), rtol=1e-11)
    assert set(nums["active_vs_alpha"]) == {int(np.sum(lam[:10] > s2))}


def _relbo_ml_split(lam, k, s2, a):
    """Theory §10 at the ML point, written out.  Used dimension (lambda > s2):
    rate = 1/2 [(s2/lam)(1/a - 1) + log(a lam/s2)], dist = 1/2 log(2 pi s2) + s2/(2 lam)
    + (lam - s2)/(2 a lam).  Zero column (lambda <= s2, j <= k): v = 0, d = s2/(a s2) = 1/a,
    rate = 1/2 (1/a - 1 + log a).  Every direction not used:
    dist = 1/2 log(2 pi s2) + lam/(2 s2)."""
    top, rest = lam[:k], lam[k:]
    used, zero = top[top > s2], top[top <= s2]
    rate = 0.5 * np.sum((s2 / used) * (1 / a - 1) + np.log(a * used / s2))
    rate += 0.5 * zero.size * (1 / a - 1 + np.log(a))
    dist = np.sum(0.5 * np.log(2 * np.pi * s2) + s2 / (2 * used) + (used - s2) / (2 * a * used))
    off = np.concatenate([zero, rest])
    dist += np.sum(0.5 * np.log(2 * np.pi * s2) + off / (2 * s2))
    return rate, dist


def _loglik_ml(lam, k, s2):
    """pPCA log-likelihood at fixed s2, columns at lambda - s2 where positive (Theory §7):
    -1/2 [log 2 pi + log lambda + 1] per used direction, -1/2 [log 2 pi s2 + lambda/s2] else."""
    used = lam[:k][lam[:k] > s2]
    off = np.concatenate([lam[:k][lam[:k] <= s2], lam[k:]])
    return (-0.5 * np.sum(np.log(2 * np.pi * used) + 1)
            - 0.5 * np.sum(np.log(2 * np.pi * s2) + off / s2))


@pytest.mark.parametrize("s2", [0.8, 3.5])            # 3.5: lambda_3 = 3 is a zero column
def test_f6_relbo_family_is_maximum_likelihood_with_moving_split(s2):
    alphas = np.array([0.25, 0.5, 1.0, 2.0, 4.0])
    betas = np.array([0.5, 1.0, 2.0, 8.0])
    k = 3
    fig = figures.fig_rate_distortion(LAM, k=k, sigma2=s2, alphas=alphas, betas=betas)
    fig.canvas.draw()
    nums = fig.numbers
    R, D = np.array(nums["relbo_rate"]), np.array(nums["relbo_distortion"])
    ll = _loglik_ml(LAM, k, s2)
    assert nums["loglik_ml"] == pytest.approx(ll, rel=1e-13)
    for a, r, d in zip(alphas, R, D):
        rate, dist = _relbo_ml_split(LAM, k, s2, a)
        assert r == pytest.approx(rate, rel=1e-10)
        assert d == pytest.approx(dist, rel=1e-10)
        # D + R = -ELBO of the alpha encoder: -LL + (k/2)(log a + 1/a - 1), every latent column
        assert r + d == pytest.approx(-ll + 0.5 * k * (np.log(a) + 1 / a - 1), abs=1e-10)
    np.testing.assert_allclose(nums["relbo_value"], ll, rtol=1e-13)       # alpha-free value
    assert np.argmin(R + D) == 2
    assert R[2] + D[2] == pytest.approx(-ll, abs=1e-10)
    assert (nums["elbo_rate"], nums["elbo_distortion"]) == pytest.approx((R[2], D[2]), abs=1e-12)
    # beta family against Theory §9: active set A = {j <= k: lambda_j > beta s2}, r = |A|,
    # R = 1/2 sum_A log(lambda_j/(beta s2)),
    # D = n/2 log(2 pi s2) + beta r/2 + sum_{not A} lambda_j/(2 s2)
    n = LAM.size
    for b, r, d in zip(betas, nums["beta_rate"], nums["beta_distortion"]):
        act = np.zeros(n, bool)
        act[:k] = LAM[:k] > b * s2
        assert r == pytest.approx(0.5 * np.sum(np.log(LAM[act] / (b * s2))), abs=1e-12)
        assert d == pytest.approx(n / 2 * np.log(2 * np.pi * s2) + b * act.sum() / 2
                                  + np.sum(LAM[~act]) / (2 * s2), rel=1e-12)
        assert r + d >= -ll - 1e-10                      # no optimum beats the ELBO bound
    # drawn data: the RELBO line is the numbers; the bound line is D + R = -LL
    (ax,) = fig.axes
    x, y = _plotted(ax, r"RELBO optima ($\alpha$ = 0.25 … 4)")
    np.testing.assert_array_equal(x, R)
    np.testing.assert_array_equal(y, D)
    x, y = _plotted(ax, r"$D + R = -\log p_{ML}$ (= $-$RELBO optimum, every $\alpha$)")
    np.testing.assert_allclose(x + y, -ll, rtol=1e-13)
    assert ax.get_xlabel() == "rate R (nats)"
    assert ax.get_ylabel() == "distortion D (nats)"
    assert fig.caption.startswith("F6")


def test_f7_basins_fractions():
    fig = figures.fig_basins(LAM, k=3, sigma2=0.8, alphas=(0.3, 3.0), betas=(0.5, 4.0),
                             n_runs=3)
    fig.canvas.draw()
    for objective in ("relbo", "beta_elbo"):
        for fr in fig.numbers[objective]["fractions"]:
            assert abs(sum(fr.values()) - 1) < 1e-12
    # beta = 4: lambda_3 = 3 <= beta sigma2 = 3.2 collapses, the maximum uses two directions
    assert fig.numbers["beta_elbo"]["fractions"][1] == {"subset=(0, 1) maximum": 1.0}
    assert fig.caption.startswith("F7")
    # legend labels are words and math, not the atlas's reprs
    labels = [t.get_text() for ax in fig.axes for t in ax.get_legend().get_texts()]
    assert r"maximum on $\lambda_{1}$, $\lambda_{2}$" in labels
    assert not any("subset=" in lab or "(0," in lab for lab in labels)
    # the caption is computed from the fractions
    glob = fig.numbers["relbo"]["global_fraction"] + fig.numbers["beta_elbo"]["global_fraction"]
    if all(g == 1.0 for g in glob):
        assert fig.caption.count("every run reaches the global maximum") == 2


def test_f7_caption_reports_runs_that_miss_the_maximum(monkeypatch):
    from gaussrelbo import landscapes

    def fake(*args, **kwargs):
        fr = [{"subset=(0, 1, 2) maximum": 0.5, "subset=(0, 1) saddle": 0.5},
              {"subset=(0, 1, 2) maximum": 1.0}]
        return {"n_runs": 2,
                "relbo": {"params": [0.3, 3.0], "fractions": fr,
                          "global_fraction": np.array([0.5, 1.0])},
                "beta_elbo": {"params": [0.5, 4.0], "fractions": fr[1:] * 2,
                              "global_fraction": np.array([1.0, 1.0])}}

    monkeypatch.setattr(landscapes, "basins", fake)
    fig = figures.fig_basins(alphas=(0.3, 3.0), betas=(0.5, 4.0), n_runs=2)
    assert "attracts 50% of the runs at alpha = 0.3" in fig.caption
    assert "beta-ELBO: every run reaches the global maximum" in fig.caption
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert r"saddle on $\lambda_{1}$, $\lambda_{2}$" in labels


def _all_figures():
    model, data, _ = gr.report.default_problem()
    yield figures.fig_alpha_limit(model, data, deltas=10.0 ** -np.arange(1, 8))
    yield figures.fig_bounds_vs_alpha(model, data, alphas=np.geomspace(0.2, 5, 9))
    yield figures.fig_rotation(LAM, thetas=np.linspace(-1, 1, 5))
    yield figures.fig_landscape(LAM, n_grid=11)
    yield figures.fig_collapse(LAM, k=3, betas=np.geomspace(0.1, 10, 9),
                               alphas=np.geomspace(0.1, 10, 3))
    yield figures.fig_rate_distortion(LAM, alphas=np.geomspace(0.2, 5, 5),
                                      betas=np.geomspace(0.2, 5, 5))
    yield figures.fig_basins(LAM, alphas=(1.0,), betas=(1.0,), n_runs=2)


def test_paper_sizes_fonts_and_palette():
    from matplotlib.colors import to_hex
    from matplotlib.text import Text

    allowed = {to_hex(c) for c in figures.PALETTE} | {"#000000", "#ffffff"}
    for fig in _all_figures():
        fig.canvas.draw()
        width = fig.get_size_inches()[0]
        assert width in (figures.ONE_COLUMN, figures.TWO_COLUMN), fig.caption[:3]
        sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_text().strip()]
        assert min(sizes) >= 8, (fig.caption[:3], min(sizes))
        for ln in fig.findobj(lambda a: hasattr(a, "get_xydata") and hasattr(a, "get_color")):
            c = to_hex(ln.get_color())
            grey = len({c[1:3], c[3:5], c[5:7]}) == 1
            assert c in allowed or grey, (fig.caption[:3], c)
        texts = " ".join(t.get_text() for t in fig.findobj(Text))
        assert "DESIGN" not in texts
        assert "DESIGN" not in fig.caption
