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
