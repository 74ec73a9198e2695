"""F8 and F9, the three readings of the Renyi VAE: the plotted data against closed forms written
out here from the model (not taken from gaussrelbo.readings), and captions computed from data."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from scipy.optimize import brentq  # noqa: E402

from gaussrelbo import figures, landscapes  # noqa: E402

LAM = np.array([5.0, 4.0, 3.0, 2.0, 1.2, 0.5])          # the report's default spectrum
K = 3
S2 = float(LAM[K:].mean())                              # pPCA ML sigma2 = 1.2333


def _split(lam, k, s2, w2, a):
    """Rate and distortion (Alemi et al. 2018) of an axis-aligned decoder with squared column
    norms ``w2`` (top-k directions) and the escort encoder of order ``a`` (variance
    s2/(a m_j), m_j = w_j^2 + s2, mean (w_j/m_j) x_j), data N(0, diag(lam)), written out:
    per used direction  rate = 1/2 [w^2 lam/m^2 + s2/(a m) - 1 - log(s2/(a m))],
    E(x - w z)^2 = lam - 2 w^2 lam/m + w^2 (w^2 lam/m^2 + s2/(a m)); unused: E x^2 = lam."""
    w2 = np.concatenate([w2, np.zeros(lam.size - k)])
    m = w2 + s2
    mean2 = w2 * lam / m**2
    var = s2 / (a * m)
    rate = 0.5 * np.sum((mean2 + var - 1 - np.log(var))[:k])
    sq = lam - 2 * w2 * lam / m + w2 * (mean2 + var)
    sq[k:] = lam[k:]
    dist = 0.5 * lam.size * np.log(2 * np.pi * s2) + np.sum(sq) / (2 * s2)
    return rate, dist


def _beta_split(lam, k, s2, b):
    """The beta-ELBO optimum (Lucas et al. 2019): A = {j <= k: lam_j > b s2},
    R = 1/2 sum_A log(lam/(b s2)), D = n/2 log(2 pi s2) + b|A|/2 + sum_{not A} lam/(2 s2)."""
    act = np.zeros(lam.size, bool)
    act[:k] = lam[:k] > b * s2
    rate = 0.5 * np.sum(np.log(lam[act] / (b * s2)))
    dist = 0.5 * lam.size * np.log(2 * np.pi * s2) + b * act.sum() / 2 + np.sum(
        lam[~act]) / (2 * s2)
    return rate, dist


@pytest.fixture(scope="module")
def f8():
    fig = figures.fig_reading_rate_distortion(LAM, k=K, sigma2=S2,
                                              alphas=np.geomspace(0.1, 10.0, 13),
                                              betas=np.geomspace(0.05, 4.0, 15))
    fig.canvas.draw()
    return fig


def test_f8_alpha_one_is_the_ppca_elbo_point(f8):
    nums = f8.numbers
    ml = np.maximum(LAM[:K] - S2, 0.0)                   # Tipping & Bishop 1999
    rate, dist = _split(LAM, K, S2, ml, 1.0)
    assert nums["elbo_rate"] == pytest.approx(rate, rel=1e-12)
    assert nums["elbo_distortion"] == pytest.approx(dist, rel=1e-12)
    assert (rate, dist) == pytest.approx(_beta_split(LAM, K, S2, 1.0), rel=1e-12)
    for reading in ("pointwise", "escort", "cross_entropy"):
        r = nums["readings"][reading]
        i = int(np.argmin(np.abs(np.array(r["alpha"]) - 1.0)))
        assert r["alpha"][i] == pytest.approx(1.0, abs=1e-12)
        assert r["rate"][i] == pytest.approx(rate, rel=1e-10)
        assert r["distortion"][i] == pytest.approx(dist, rel=1e-10)


def test_f8_points_against_closed_forms(f8):
    nums = f8.numbers
    ml = np.maximum(LAM[:K] - S2, 0.0)
    pw, es, ce = (nums["readings"][r] for r in ("pointwise", "escort", "cross_entropy"))
    for a, r, d in zip(pw["alpha"], pw["rate"], pw["distortion"]):
        assert (r, d) == pytest.approx(_split(LAM, K, S2, ml, a), rel=1e-10)
    elbo_point = _split(LAM, K, S2, ml, 1.0)             # escort encoder = exact posterior
    for r, d in zip(es["rate"], es["distortion"]):
        assert (r, d) == pytest.approx(elbo_point, rel=1e-10)
    # cross-entropy: w_j^2 = max((2 - a) lam_j - s2, 0), escort encoder of order a; only where
    # it has an optimum: 0 < a < 2 and s2 > (1 - a) lam_(k+1)
    a_ce = np.array(ce["alpha"])
    assert np.all(a_ce < 2)
    assert np.all(S2 > (1 - a_ce) * LAM[K])
    for a, r, d in zip(a_ce, ce["rate"], ce["distortion"]):
        w2 = np.maximum((2 - a) * LAM[:K] - S2, 0.0)
        assert (r, d) == pytest.approx(_split(LAM, K, S2, w2, a), rel=1e-10)
    grid = np.geomspace(0.1, 10.0, 13)
    missing = grid[(grid >= 2) | (S2 <= (1 - grid) * LAM[K])]
    np.testing.assert_allclose(nums["no_optimum"]["cross_entropy"], missing)
    for b, r, d in zip(nums["beta"], nums["beta_rate"], nums["beta_distortion"]):
        assert (r, d) == pytest.approx(_beta_split(LAM, K, S2, b), rel=1e-12, abs=1e-14)
    # the plotted lines are the numbers
    (ax,) = f8.axes
    (line,) = [ln for ln in ax.get_lines() if ln.get_label().startswith("pointwise")]
    np.testing.assert_array_equal(line.get_xdata(), pw["rate"])
    np.testing.assert_array_equal(line.get_ydata(), pw["distortion"])


def test_f8_matched_beta_and_excess_against_closed_forms(f8):
    ml = np.maximum(LAM[:K] - S2, 0.0)
    rows = f8.numbers["matched"]
    assert {r["reading"] for r in rows} == {"pointwise", "escort", "cross_entropy"}
    for row in rows:
        a = row["alpha"]
        w2 = ml if row["reading"] != "cross_entropy" else np.maximum((2 - a) * LAM[:K] - S2, 0)
        rate, dist = (_split(LAM, K, S2, w2, a) if row["reading"] != "escort"
                      else _split(LAM, K, S2, ml, 1.0))
        # the beta whose optimum has this rate, by bisection on the closed-form frontier
        beta = brentq(lambda lb: _beta_split(LAM, K, S2, np.exp(lb))[0] - rate,
                      np.log(1e-3), np.log(LAM[0] / S2), xtol=1e-14)
        beta = np.exp(beta)
        assert row["beta"] == pytest.approx(beta, rel=1e-8)
        assert row["excess"] == pytest.approx(dist - _beta_split(LAM, K, S2, beta)[1],
                                              abs=1e-8)
        assert row["excess"] >= -1e-9                     # the beta frontier dominates
    # the pointwise excess at equal rate grows away from alpha = 1 on both sides
    pw = {r["alpha"]: r["excess"] for r in rows if r["reading"] == "pointwise"}
    assert pw[0.1] > pw[0.25] > pw[0.5] > 0
    assert pw[10.0] > pw[2.0] > 0


def test_f8_caption_is_computed_from_the_data(monkeypatch):
    fake = {"lam": LAM, "k": 3, "sigma2": 1.5, "beta": np.array([0.2, 1.0, 3.0]),
            "beta_rate": np.array([3.0, 1.0, 0.1]), "beta_distortion": np.array([8.0, 9.0, 12.]),
            "readings": {
                "pointwise": {"alpha": np.array([0.3, 1.0, 7.0]), "rate": np.array([1., 1., 2.]),
                              "distortion": np.array([14.0, 9.0, 8.5]),
                              "value": np.zeros(3), "active": np.array([3, 3, 3])},
                "escort": {"alpha": np.array([0.3, 7.0]), "rate": np.array([1.0, 1.0]),
                           "distortion": np.array([9.0, 9.0]), "value": np.zeros(2),
                           "active": np.array([3, 3])},
                "cross_entropy": {"alpha": np.array([0.7, 1.8]), "rate": np.array([1.2, 0.3]),
                                  "distortion": np.array([9.5, 11.0]), "value": np.zeros(2),
                                  "active": np.array([3, 1])}},
            "no_optimum": {"pointwise": np.array([]), "escort": np.array([]),
                           "cross_entropy": np.array([0.3, 7.0])},
            "elbo_rate": 1.25, "elbo_distortion": 9.0,
            "matched": [
                {"reading": "pointwise", "alpha": 0.3, "beta": 1.234, "beta_eff": None,
                 "rate": 1.0, "distortion": 14.0, "beta_distortion": 9.1, "excess": 4.9},
                {"reading": "escort", "alpha": 0.3, "beta": 1.0, "beta_eff": None, "rate": 1.0,
                 "distortion": 9.0, "beta_distortion": 9.0, "excess": 0.0},
                {"reading": "cross_entropy", "alpha": 1.8, "beta": 2.5, "beta_eff": 5.0,
                 "rate": 0.3, "distortion": 11.0, "beta_distortion": 10.75, "excess": 0.25}]}
    monkeypatch.setattr(landscapes, "reading_rate_distortion", lambda *a, **k: fake)
    cap = figures.fig_reading_rate_distortion().caption
    assert cap.startswith("F8.")
    assert "fixed sigma^2 = 1.5" in cap
    assert "beta in [0.2, 3]" in cap
    assert "R = 1.25, D = 9 nats" in cap
    assert "alpha = 0.3: beta = 1.23, excess 4.9" in cap
    assert "matched beta = 1, excess 0 nats" in cap
    assert "optimum for alpha in [0.7, 1.8]" in cap
    assert "alpha = 1.8: beta = 2.5, beta_eff = 1/(2 - alpha) = 5, excess 0.25" in cap


def _count(lam, k, tau):
    """#{j <= k: lambda_j > tau}."""
    return int(np.sum(lam[:k] > tau))


def _steps(x, counts):
    x, counts = np.asarray(x, float), np.asarray(counts)
    i = np.flatnonzero(np.diff(counts)) + 1
    return x[i], np.diff(counts)[i - 1]


LAM9 = np.array([9.0, 6.0, 4.0, 2.5, 1.0, 0.5, 0.3])     # k = 4, sigma2 = 0.6
K9, S9 = 4, 0.6


@pytest.fixture(scope="module")
def f9():
    fig = figures.fig_reading_collapse(LAM9, k=K9, sigma2=S9, betas=np.geomspace(0.1, 40, 60))
    fig.canvas.draw()
    return fig


def test_f9_counts_against_the_collapse_rules(f9):
    nums = f9.numbers
    a = np.array(nums["alpha"])
    crit = 2 - S9 / LAM9[:K9]                     # cross-entropy: lambda_j <= s2/(2 - alpha)
    floor = 1 - S9 / LAM9[K9]                     # below: s2 <= (1 - alpha) lambda_(k+1)
    np.testing.assert_allclose(nums["critical_alpha"], crit, rtol=1e-14)
    assert nums["ce_no_optimum_below"] == pytest.approx(floor, rel=1e-14)
    for reading in ("pointwise", "escort"):       # every alpha: lambda_j > sigma2
        assert set(nums["active"][reading]) == {_count(LAM9, K9, S9)}
    ce = np.array(nums["active"]["cross_entropy"])
    assert np.all(ce[(a >= 2) | (a <= floor)] == -1)
    ok = (a < 2) & (a > floor) & np.all(np.abs(a[:, None] / crit - 1) > 1e-9, axis=1)
    expect = [_count(LAM9, K9, S9 / (2 - x)) for x in a[ok]]
    np.testing.assert_array_equal(ce[ok], expect)
    assert ok.sum() >= 10
    # the steps of the cross-entropy count sit at alpha_j = 2 - s2/lambda_j, each a drop by 1
    has = (ce >= 0) & (a > floor * (1 + 1e-9))
    where, by = _steps(a[has], ce[has])
    np.testing.assert_allclose(where, np.sort(crit), rtol=1e-11)
    assert np.all(by == -1)
    # beta-ELBO: steps at lambda_j / sigma2 (Lucas et al. 2019)
    where, by = _steps(nums["beta"], nums["active_vs_beta"])
    np.testing.assert_allclose(where, np.sort(LAM9[:K9] / S9), rtol=1e-11)
    assert np.all(by == -1)
    # cross-entropy at alpha == beta-ELBO at beta = 1/(2 - alpha), and both == the rule
    be = np.array(nums["beta_eff"])
    np.testing.assert_array_equal(nums["ce_active_at_beta_eff"],
                                  nums["beta_elbo_active_at_beta_eff"])
    np.testing.assert_array_equal(nums["beta_elbo_active_at_beta_eff"],
                                  [_count(LAM9, K9, b * S9) for b in be])
    ex = {e["alpha"]: e for e in nums["examples"]}
    assert ex[1.9]["ce_active"] == _count(LAM9, K9, S9 / 0.1)
    assert ex[1.9]["beta_elbo_active"] == _count(LAM9, K9, 10 * S9)


def test_f9_draws_its_numbers(f9):
    axa, axz, axb = f9.axes
    (line,) = [ln for ln in axb.get_lines() if ln.get_label() == r"$\beta$-ELBO"]
    np.testing.assert_array_equal(line.get_xdata(), f9.numbers["beta"])
    np.testing.assert_array_equal(line.get_ydata(), f9.numbers["active_vs_beta"])
    (line,) = [ln for ln in axa.get_lines() if ln.get_label() == "cross-entropy"]
    y = np.array(line.get_ydata(), float)
    ce = np.array(f9.numbers["active"]["cross_entropy"], float)
    np.testing.assert_array_equal(np.isnan(y), ce < 0)         # no optimum: not drawn
    np.testing.assert_array_equal(y[ce >= 0], ce[ce >= 0])
    assert axa.get_xscale() == "log"
    assert axb.get_xscale() == "log"
    for ax in (axa, axz, axb):
        assert ax.get_ylabel() == "active latent dimensions"
        assert ax.get_legend() is not None
    assert f9.caption.startswith("F9 (user spectrum, n = 7, k = 4")


def test_f9_caption_is_computed_from_the_data(monkeypatch):
    fake = {"lam": LAM9, "k": 4, "sigma2": 0.5, "alpha": np.array([0.2, 0.5, 1.5, 1.8, 2., 5.]),
            "active": {"pointwise": np.array([4] * 6), "escort": np.array([4] * 6),
                       "cross_entropy": np.array([-1, 4, 3, 1, -1, -1])},
            "critical_alpha": np.array([1.95, 1.9, 1.7, 1.4]), "ce_no_optimum_below": 0.3,
            "beta": np.array([0.1, 1.0, 20.0]), "active_vs_beta": np.array([4, 4, 0]),
            "beta_thresholds": np.array([18.0, 12.0, 8.0, 5.0]),
            "beta_eff": np.array([0.667, 2.0, 5.0]),
            "ce_active_at_beta_eff": np.array([4, 3, 1]),
            "beta_elbo_active_at_beta_eff": np.array([4, 3, 2]),
            "examples": [{"alpha": 1.5, "beta_eff": 2.0, "ce_active": 3, "beta_elbo_active": 3},
                         {"alpha": 0.2, "beta_eff": 0.556, "ce_active": -1,
                          "beta_elbo_active": 4}]}
    monkeypatch.setattr(landscapes, "reading_collapse", lambda *a, **k: fake)
    cap = figures.fig_reading_collapse(name="fake").caption
    assert cap.startswith("F9 (fake spectrum, n = 7, k = 4, fixed sigma^2 = 0.5)")
    assert "keep 4 and 4 latent dimension(s) for every alpha in [0.2, 5]" in cap
    assert "optimum for alpha in [0.5, 1.8]" in cap
    assert "below alpha = 0.3" in cap
    assert "keeps 4 to 1 dimension(s)" in cap
    assert "from 1.4 to 1.95" in cap
    assert "from 5 to 18" in cap
    assert "at 2 of 3 orders" in cap
    assert "alpha = 1.5 (beta_eff = 2): cross-entropy 3, beta-ELBO 3" in cap
    assert "alpha = 0.2 (beta_eff = 0.556): cross-entropy no optimum, beta-ELBO 4" in cap


def test_f8_f9_house_style(f8, f9):
    from matplotlib.colors import to_hex
    from matplotlib.text import Text

    allowed = {to_hex(c) for c in figures.PALETTE} | {"#000000", "#ffffff"}
    for fig in (f8, f9):
        assert fig.get_size_inches()[0] in (figures.ONE_COLUMN, figures.TWO_COLUMN)
        sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_text().strip()]
        assert min(sizes) >= 8
        for ln in fig.findobj(lambda a: hasattr(a, "get_xydata") and hasattr(a, "get_color")):
            c = to_hex(ln.get_color())
            assert c in allowed or len({c[1:3], c[3:5], c[5:7]}) == 1, c
        texts = " ".join(t.get_text() for t in fig.findobj(Text)) + fig.caption
        assert "DESIGN" not in texts


def test_log_tick_labels_are_plain_text():
    # the labels matplotlib's log formatter would write in mathtext, as Unicode text
    assert [figures._log_tick_text(x) for x in (1e-12, 2e-5, 0.01, 0.5, 1.0, 30.0, 1e4, 1e24)] \
        == ["10⁻¹²", "2×10⁻⁵", "0.01", "0.5", "1", "30", "10⁴", "10²⁴"]
    fig = figures.fig_reading_collapse(LAM9, k=K9, sigma2=S9, alphas=np.geomspace(0.1, 10, 5),
                                       betas=np.geomspace(0.1, 40, 9))
    fig.canvas.draw()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    FigureCanvasAgg(fig).draw()
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels() if t.get_text()]
    assert "1" in labels
    assert "0.1" in labels
    assert "10" in labels
    assert not any("$" in lab for ax in fig.axes for lab in
                   [t.get_text() for t in ax.get_xticklabels()])
