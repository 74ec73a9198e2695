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
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax.get_xlabel() and ax.get_ylabel() == "nats" and fig.caption.startswith("F1")
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
    assert alpha[j] == pytest.approx(1.0) and rel[j] == pytest.approx(nums["elbo"], abs=1e-12)
    vr = np.array([np.nan if v is None else v for v in nums["vr_bound"]])
    ok = np.isfinite(vr)
    assert np.all(np.diff(vr[ok]) <= 1e-12)          # non-increasing in alpha
    ax, gx = fig.axes
    assert ax.get_xscale() == "log" and gx.get_yscale() == "log"
    gaps = gx.get_lines()[0].get_ydata()
    np.testing.assert_allclose(gaps, nums["log_evidence"] - rel)


LAM = np.array([5.0, 4.0, 3.0, 2.0, 1.2, 0.5])


def test_f3_rotation_stiffness_scales_as_one_over_alpha():
    fig = figures.fig_rotation(LAM, k=3, sigma2=0.8, thetas=np.linspace(-0.02, 0.02, 41))
    fig.canvas.draw()
    th = np.array(fig.numbers["theta"])
    m1, m2 = LAM[0], LAM[1]                       # m = w^2 + sigma2 = lambda at the optimum
    for a in (0.25, 1.0, 4.0):
        y = np.array(fig.numbers["relbo"][f"{a:g}"])
        curv = 2 * np.polyfit(th, y, 4)[2]          # second derivative at 0 from the plotted data
        # DESIGN §8c written out: -(m1 - m2)^2 / (alpha m1 m2)
        assert curv == pytest.approx(-(m1 - m2) ** 2 / (a * m1 * m2), rel=1e-3)
    assert np.max(np.abs(fig.numbers["loglik"])) < 1e-12        # pPCA: flat
    assert len(fig.axes) == 2 and "nats" in fig.axes[0].get_ylabel()
    assert fig.caption.startswith("F3")


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


def test_f5_steps_at_lambda_over_sigma2():
    lam = np.array([9.0, 6.0, 4.0, 2.5, 1.0, 0.5, 0.3])
    betas = np.geomspace(0.1, 50.0, 2000)
    fig = figures.fig_collapse(lam, sigma2=0.5, k=4, betas=betas)
    fig.canvas.draw()
    act = np.array(fig.numbers["active_vs_beta"])
    # the plotted count drops by one just after each threshold lambda_j / sigma2, j <= k
    drops = betas[1:][np.diff(act) < 0]
    thresholds = lam[:4] / 0.5
    assert len(drops) == 4
    for d, t in zip(sorted(drops), sorted(thresholds)):
        assert t <= d <= t * (betas[1] / betas[0]) ** 1.0001
    assert act[0] == 4 and act[-1] == 0
    assert set(fig.numbers["active_vs_alpha"]) == {4}             # RELBO never collapses
    assert fig.caption.startswith("F5")


def test_f6_relbo_family_is_maximum_likelihood_with_moving_split():
    alphas = np.array([0.25, 0.5, 1.0, 2.0, 4.0])
    fig = figures.fig_rate_distortion(LAM, k=3, sigma2=0.8, alphas=alphas)
    fig.canvas.draw()
    R, D = np.array(fig.numbers["relbo_rate"]), np.array(fig.numbers["relbo_distortion"])
    s2, lam_used, lam_unused = 0.8, LAM[:3], LAM[3:]
    for a, r, d in zip(alphas, R, D):
        # DESIGN §10 at the ML point, written out: rate_i = 1/2 [(s2/lam)(1/a - 1) + log(a lam/s2)]
        rate = 0.5 * np.sum((s2 / lam_used) * (1 / a - 1) + np.log(a * lam_used / s2))
        dist = (np.sum(0.5 * np.log(2 * np.pi * s2) + s2 / (2 * lam_used)
                       + (lam_used - s2) / (2 * a * lam_used))
                + np.sum(0.5 * np.log(2 * np.pi * s2) + lam_unused / (2 * s2)))
        assert r == pytest.approx(rate, rel=1e-10) and d == pytest.approx(dist, rel=1e-10)
    vals = np.array(fig.numbers["relbo_value"])
    assert np.ptp(vals) < 1e-10 * abs(vals[0])           # the value is alpha-free
    assert np.argmin(R + D) == 2                         # D + R = -ELBO, smallest at alpha = 1
    assert fig.axes[0].get_xlabel() == "rate R (nats)"


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
