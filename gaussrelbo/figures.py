r"""Figures.  Each function takes its numbers from :mod:`gaussrelbo.landscapes` and only draws:
it returns a matplotlib ``Figure`` carrying two extra attributes, ``caption`` (sentences whose
every number is computed from the result drawn) and ``numbers`` (the JSON-ready values plotted),
so a report can write both and a test can check the plotted data.

Sizes are those of a two-column paper: :data:`ONE_COLUMN` (3.4 in) or :data:`TWO_COLUMN`
(7 in) wide; text is at least 8 pt, labels are mathtext, and colours follow the colour-blind-safe
Okabe–Ito palette (:data:`PALETTE`).  Save PNGs at 300 dpi and PDFs as vectors
(``gaussrelbo report`` does).
"""

import functools

import matplotlib
import numpy as np
from cycler import cycler
from matplotlib.figure import Figure

from . import landscapes as L

__all__ = ["ONE_COLUMN", "PALETTE", "TWO_COLUMN", "fig_alpha_limit", "fig_basins",
           "fig_bounds_vs_alpha", "fig_collapse", "fig_landscape", "fig_rate_distortion",
           "fig_reading_collapse", "fig_reading_rate_distortion", "fig_rotation"]

#: Figure widths in inches: one column and two columns of a two-column paper.
ONE_COLUMN, TWO_COLUMN = 3.4, 7.0
#: Okabe & Ito's colour-blind-safe palette (blue, vermillion, bluish green, reddish purple,
#: orange, sky blue, yellow, black); ``"C0"``, ``"C1"``, ... refer to it inside the figures.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442",
           "#000000")
_RC = {"font.size": 8, "axes.titlesize": 8.5, "axes.labelsize": 8, "xtick.labelsize": 8,
       "ytick.labelsize": 8, "legend.fontsize": 8, "figure.titlesize": 9,
       "axes.prop_cycle": cycler(color=PALETTE), "lines.linewidth": 1.2,
       "lines.markersize": 4, "legend.frameon": False, "savefig.dpi": 300, "pdf.fonttype": 42,
       "image.cmap": "viridis"}


def _styled(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with matplotlib.rc_context(_RC):
            return fn(*args, **kwargs)
    return wrapper


def _freeze_colors(fig):
    """Resolve "C0", "C1", ... to RGBA now, inside the style: matplotlib resolves them at draw
    time, with whatever palette is then in force."""
    from matplotlib.colors import to_rgba
    from matplotlib.lines import Line2D
    from matplotlib.text import Text

    def fixed(c):
        return to_rgba(c) if isinstance(c, str) and c[:1] == "C" and c[1:].isdigit() else c

    for artist in fig.findobj(lambda a: isinstance(a, (Line2D, Text))):
        artist.set_color(fixed(artist.get_color()))
        if isinstance(artist, Line2D):
            artist.set_markerfacecolor(fixed(artist.get_markerfacecolor()))
            artist.set_markeredgecolor(fixed(artist.get_markeredgecolor()))


_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def _log_tick_text(x):
    """A log-axis tick label as plain text: 0.01 to 1000 as numbers, else 10⁻¹², 2×10⁻⁵."""
    if x <= 0 or not np.isfinite(x):
        return ""
    if 1e-2 <= x < 1e4:
        return f"{x:g}"
    e = int(np.floor(np.log10(x) + 1e-9))
    m = round(x / 10.0**e, 6)
    power = "10" + str(e).translate(_SUPERSCRIPT)
    return power if m == 1 else f"{m:g}×{power}"


def _plain_log_ticks(fig):
    r"""Log-axis tick labels as plain Unicode text instead of matplotlib's default mathtext
    (``$\mathdefault{10^{-3}}$``): the same labels, without a mathtext parse for each (the
    larger part of the time spent writing the figures); which ticks carry a label is still
    decided by matplotlib's log formatter."""
    from matplotlib.ticker import LogFormatterSciNotation

    class Plain(LogFormatterSciNotation):
        def __call__(self, x, pos=None):
            return _log_tick_text(x) if super().__call__(x, pos) else ""

    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            for get, put in ((axis.get_major_formatter, axis.set_major_formatter),
                             (axis.get_minor_formatter, axis.set_minor_formatter)):
                old = get()
                if type(old) is LogFormatterSciNotation:   # matplotlib's default (base 10 here)
                    put(Plain(10.0, labelOnlyBase=old.labelOnlyBase,
                              minor_thresholds=old.minor_thresholds))


def _finish(fig, caption, numbers):
    _plain_log_ticks(fig)
    _freeze_colors(fig)
    fig.caption = caption
    fig.numbers = L.to_json(numbers)
    return fig


def _slope(x, y):
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


@_styled
def fig_alpha_limit(model, data, deltas=None):
    r"""F1: the :math:`\alpha \to 1` limit of the RELBO, both sides of 1, on log-log axes.

    Plots :math:`|\mathrm{RELBO}_\alpha - \mathrm{ELBO}|` (slope 1) and the remainder after the
    first-order term :math:`(\alpha-1)[H(p(z|x)) - H(q)]` (slope 2) against :math:`|\alpha-1|`
    down to :math:`10^{-12}`, computed without cancellation (:func:`~gaussrelbo.relbo_expansion`).
    The two sides of 1 nearly coincide: lines above 1, open markers below 1.

    Parameters
    ----------
    model : LinearGaussianVAE
        Unbatched model.
    data : DataMoments or array_like, shape (n,)
        Population moments or one point.
    deltas : array_like, optional
        Values of :math:`|\alpha - 1|` (default: 47 from 1e-12 to 10^-0.5).

    Returns
    -------
    matplotlib.figure.Figure
        With ``caption`` and ``numbers`` attributes.
    """
    res = L.alpha_limit(model, data, deltas)
    fig = Figure(figsize=(ONE_COLUMN, 3.9), layout="constrained")
    ax = fig.add_subplot()
    slopes = {}
    for side, word in (("above", r"$\alpha > 1$"), ("below", r"$\alpha < 1$")):
        s = res[side]
        t = s["abs_alpha_minus_1"]
        above = side == "above"
        style = dict(ls="-", marker="o", ms=2.5) if above else dict(ls="none", marker="s",
                                                                     ms=5, mfc="none")
        ax.loglog(t, s["abs_difference"], color="C0", **style,
                  label=rf"$|\mathrm{{RELBO}}_\alpha - \mathrm{{ELBO}}|$, {word}")
        ax.loglog(t, s["abs_remainder"], color="C1", **style,
                  label=rf"remainder after first order, {word}")
        small = t < 1e-3
        slopes[side] = (_slope(t[small], s["abs_difference"][small]),
                        _slope(t[small], s["abs_remainder"][small]))
    t0 = res["above"]["abs_alpha_minus_1"][[0, -1]]
    d0, r0 = res["above"]["abs_difference"][-1], res["above"]["abs_remainder"][-1]
    ax.loglog(t0, d0 * (t0 / t0[-1]), "k:", lw=1, label="slope 1 (reference)")
    ax.loglog(t0, r0 * (t0 / t0[-1]) ** 2, "k-.", lw=1, label="slope 2 (reference)")
    ax.set_xlabel(r"$|\alpha - 1|$")
    ax.set_ylabel("nats")
    ax.set_title(r"RELBO$_\alpha$ $\to$ ELBO as $\alpha \to 1$")
    fig.legend(loc="outside lower center", ncol=1)
    coef = res["first_order_coefficient"]
    tmin = float(min(res["above"]["abs_alpha_minus_1"].min(),
                     res["below"]["abs_alpha_minus_1"].min()))
    res["fitted_slopes"] = {k: list(v) for k, v in slopes.items()}
    caption = (f"F1. |RELBO_alpha - ELBO| falls with slope {slopes['above'][0]:.3f} (alpha > 1) "
               f"and {slopes['below'][0]:.3f} (alpha < 1) in |alpha - 1|, and the remainder "
               f"after the first-order term (alpha - 1)(H(p(z|x)) - H(q)) = (alpha - 1) x "
               f"{coef:.6g} with slope {slopes['above'][1]:.3f} and {slopes['below'][1]:.3f} "
               f"(least-squares fits below |alpha - 1| = 1e-3), down to |alpha - 1| = "
               f"{tmin:.0e}. The two sides of 1 nearly coincide: lines above 1, open markers "
               "below 1.")
    return _finish(fig, caption, res)


@_styled
def fig_bounds_vs_alpha(model, data, alphas=None, vr_alphas=None):
    r"""F2: :math:`\log p(x)`, the ELBO and :math:`\mathrm{RELBO}_\alpha` against the RELBO's
    :math:`\alpha`, the gaps, and Li & Turner's VR bound against *its own* order.

    The two α's are different parameters: the RELBO's is the order of a Rényi entropy of the
    model's posterior, Li & Turner's the order of a Rényi divergence between the encoder and the
    posterior; so the VR bound has a panel (and an axis) of its own.

    Parameters
    ----------
    model : LinearGaussianVAE
        Unbatched model.
    data : DataMoments or array_like, shape (n,)
        Population moments or one point.
    alphas, vr_alphas : array_like, optional
        RELBO orders and VR orders (default: 121 values on [0.1, 10], log-spaced).

    Returns
    -------
    matplotlib.figure.Figure
        With ``caption`` and ``numbers`` attributes.
    """
    res = L.bounds_vs_alpha(model, data, alphas, vr_alphas)
    alphas, rel, ll, e = res["alpha"], res["relbo"], res["log_evidence"], res["elbo"]
    va, vr = res["vr_alpha"], res["vr_bound"]
    fig = Figure(figsize=(ONE_COLUMN, 6.6), layout="constrained")
    ax, gx, vx = fig.subplots(3, 1)
    ax.fill_between(alphas, rel, ll, color="C0", alpha=0.15,
                    label=r"gap $\mathrm{KL}(q\|\pi_\alpha)/\alpha$")
    ax.plot(alphas, np.full_like(alphas, ll), "k-", lw=1.5, label=r"$\log p(x)$")
    ax.plot(alphas, rel, "C0-", lw=1.5, label=r"RELBO$_\alpha$")
    ax.plot(alphas, np.full_like(alphas, e), "C2--", label="ELBO")
    span = max(ll - min(e, rel.min()), 1e-3)
    ax.set_ylim(min(e, rel.min()) - 0.3 * span, ll + 0.2 * span)
    ax.set_ylabel("nats")
    ax.set_xlabel(r"RELBO order $\alpha$")
    ax.set_title(r"(a) RELBO against its order $\alpha$")
    ax.legend(loc="lower right")
    gx.loglog(alphas, ll - rel, "C0-", lw=1.5, label=r"$\log p(x) - $RELBO$_\alpha$")
    gx.loglog(alphas, np.full_like(alphas, ll - e), "C2--", label=r"$\log p(x) - $ELBO")
    gx.set_xlabel(r"RELBO order $\alpha$")
    gx.set_ylabel("gap (nats)")
    gx.set_title("(b) the gaps")
    gx.legend(loc="upper right")
    finite = np.isfinite(vr)
    vx.plot(va, np.full_like(va, ll), "k-", lw=1.5, label=r"$\log p(x)$")
    vx.plot(va, np.full_like(va, e), "C2--", label="ELBO")
    vx.plot(va[finite], vr[finite], "C3-.", lw=1.5,
            label=r"VR bound $\mathcal{L}_{\alpha_{VR}}$")
    lo = min(e, vr[finite].min()) if finite.any() else e
    vspan = max(ll - lo, 1e-3)
    vx.set_ylim(lo - 0.3 * vspan, ll + 0.2 * vspan)
    vx.set_xlabel(r"Li–Turner divergence order $\alpha_{VR}$ (not the RELBO's $\alpha$)")
    vx.set_ylabel("nats")
    vx.set_title(r"(c) Li & Turner's bound against its own order")
    vx.legend(loc="lower left")
    for a_ in (ax, gx, vx):
        a_.axvline(1.0, color="0.6", lw=0.8, ls=":")
        a_.set_xscale("log")
    i1 = int(np.argmin(np.abs(alphas - 1.0)))
    gaps = ll - rel
    caption = (f"F2. (a, b) Every RELBO_alpha lies below log p(x) = {ll:.6g} nats: the gap "
               f"KL(q || pi_alpha)/alpha (shaded) runs from {gaps.max():.4g} to "
               f"{gaps.min():.4g} nats over alpha in [{alphas.min():g}, {alphas.max():g}] and "
               f"equals the ELBO's gap, {ll - e:.4g} nats, at alpha = {alphas[i1]:g}. (c) Li & "
               "Turner's variational Renyi bound is drawn against its own order alpha_VR, a "
               "different parameter (the order of a divergence between q and p(z|x), not of an "
               "entropy of p(z|x)); it decreases from log p(x) at alpha_VR = 0 to the ELBO at "
               f"alpha_VR = 1, and is -inf (not drawn) at {int(np.sum(~finite))} of the "
               f"{va.size} orders shown.")
    return _finish(fig, caption, res)


@_styled
def fig_rotation(lam=None, k=3, sigma2=0.8, alphas=(0.25, 1.0, 4.0), betas=(0.5, 1.0, 2.0),
                 thetas=None):
    r"""F3: the objective against the rotation angle of latent columns 1 and 2 at the optimum.

    The decoder sits at each objective's optimum on the top-k eigen-directions (squared column
    norms :math:`\max(\lambda_j - \gamma\sigma^2, 0)`, :math:`\gamma = 1` for the RELBO and the
    log-likelihood, :math:`\beta` for the beta-ELBO); columns 1 and 2 are rotated,
    :math:`W R(\theta)`, and the objective is re-evaluated with the optimal *diagonal* encoder
    of the rotated decoder.  Plotted: objective minus its value at :math:`\theta = 0`.  The
    RELBO's curvature at 0 is :math:`-(m_1 - m_2)^2/(\alpha m_1 m_2)`,
    :math:`m_j = \|w_j\|^2 + \sigma^2` (Theory §8(c)), drawn dotted; the pPCA log-likelihood is
    flat.  A third panel shows that stiffness, measured by a five-point finite difference of
    the objective, against :math:`\alpha` (RELBO) and :math:`1/\beta` (beta-ELBO).

    Parameters
    ----------
    lam : array_like, shape (n,), optional
        Data covariance eigenvalues, descending (default: the synthetic spectrum).
    k : int
        Latent dimensions, 2 <= k <= n.
    sigma2 : float
        Decoder noise variance (fixed).
    alphas, betas : sequence of float
        Renyi orders (first panel) and beta-ELBO rate weights (second panel).
    thetas : array_like, optional
        Rotation angles in radians (default: 181 points on [-pi/2, pi/2]).

    Returns
    -------
    matplotlib.figure.Figure
        With ``caption`` and ``numbers`` attributes.
    """
    res = L.rotation(lam, k, sigma2, alphas, betas, thetas)
    th = res["theta"]
    fig = Figure(figsize=(TWO_COLUMN, 3.6), layout="constrained")
    axr, axb, axs = fig.subplots(1, 3)
    for a in alphas:
        axr.plot(th, res["relbo"][f"{a:g}"], lw=1.5, label=rf"RELBO, $\alpha$={a:g}")
    axr.plot(th, res["loglik"], "k--", label=r"pPCA log-likelihood")
    axr.set_ylim(*axr.get_ylim())
    near = th[np.abs(th) <= 0.3]
    for i, a in enumerate(alphas):
        c2 = res["predicted_relbo_curvature"][f"{a:g}"]
        axr.plot(near, 0.5 * c2 * near**2, ":", color=f"C{i}", lw=2.0,
                 label=r"second order, $-\frac{(m_1-m_2)^2}{2\alpha m_1m_2}\theta^2$" if i == 0
                 else None)
    for b in betas:
        axb.plot(th, res["beta_elbo"][f"{b:g}"], lw=1.5, label=rf"$\beta$-ELBO, $\beta$={b:g}")
    for ax, title in ((axr, "RELBO at its optimum"), (axb, r"$\beta$-ELBO at its optimum")):
        ax.set_xlabel(r"rotation angle $\theta$ (rad)")
        ax.set_ylabel(r"objective $-$ value at $\theta=0$ (nats)")
        ax.set_title(title)
        ax.axvline(0.0, color="0.6", lw=0.8, ls=":")
    st = res["stiffness"]
    axs.loglog(st["alpha"], -st["relbo_predicted"], "k-",
               label=r"RELBO, $(m_1-m_2)^2/(\alpha m_1 m_2)$")
    axs.loglog(st["alpha"], -st["relbo_finite_difference"], "o", color="C0", mfc="none", ms=6,
               label="RELBO, finite difference")
    axs.loglog(1.0 / st["beta"], -st["beta_elbo_finite_difference"], "x", color="C1", ms=6,
               label=r"$\beta$-ELBO at $\beta = 1/x$")
    axs.set_xlabel(r"$x = \alpha$ (RELBO) or $1/\beta$ ($\beta$-ELBO)")
    axs.set_ylabel(r"stiffness $-d^2F/d\theta^2$ (nats/rad$^2$)")
    axs.set_title(r"Rotational stiffness $\propto 1/\alpha$")
    for ax in (axr, axb, axs):
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=1)
    rel_err = float(np.max(np.abs(st["relbo_finite_difference"] / st["relbo_predicted"] - 1)))
    flat = float(np.max(np.abs(res["loglik"])))
    caption = ("F3. Rotating two latent columns away from the optimum (optimal diagonal encoder "
               "re-fitted at every angle) costs the RELBO (m1 - m2)^2/(alpha m1 m2) theta^2/2 "
               "nats to second order (dotted, |theta| <= 0.3; m_j = lambda_j at the optimum): "
               f"the finite-difference stiffness matches it within a relative {rel_err:.1e} for "
               f"alpha in [{st['alpha'].min():g}, {st['alpha'].max():g}] and falls as 1/alpha, "
               f"while the pPCA log-likelihood is flat (largest change {flat:.1e} nats). The "
               "beta-ELBO is curved the same way with beta in place of 1/alpha. At "
               "theta = +-pi/2 the columns are swapped and every value returns.")
    return _finish(fig, caption, res)


@_styled
def fig_landscape(lam=None, sigma2=0.8, alpha=0.5, beta=2.0, n_grid=121):
    r"""F4: two-parameter landscapes over :math:`(\|w_1\|^2, \|w_2\|^2)` (k = 2, columns on the
    top two eigen-directions, optimal diagonal encoder) of the RELBO and the beta-ELBO, with the
    stationary points of the plane marked by kind.

    With its optimal encoder the RELBO of an axis-aligned decoder *is* the pPCA log-likelihood,
    for every :math:`\alpha` (Theory §10), so the left panel is the same for every
    :math:`\alpha` and says so; :math:`\alpha` moves only the encoder's rate/distortion split
    (F6) and the stiffness against rotations (F3).

    Parameters
    ----------
    lam : array_like, shape (n,), optional
        Eigenvalues, descending (default: the synthetic spectrum).
    sigma2 : float
        Fixed decoder noise.
    alpha, beta : float
        RELBO order (used for the stationary points) and beta-ELBO rate weight.
    n_grid : int
        Grid points per axis.

    Returns
    -------
    matplotlib.figure.Figure
        With ``caption`` and ``numbers`` attributes.
    """
    fig = Figure(figsize=(TWO_COLUMN, 3.2), layout="constrained")
    axes = fig.subplots(1, 2)
    numbers = {"sigma2": sigma2, "alpha": alpha, "beta": beta}
    markers = {"maximum": ("*", "C4", 13), "saddle": ("X", "white", 8),
               "minimum": ("o", "C5", 7), "degenerate": ("D", "C3", 6)}
    maxima = {}
    for ax, (objective, name) in zip(axes, (
            ("relbo", r"RELBO, every $\alpha$ (= pPCA log-likelihood)"),
            ("beta_elbo", rf"$\beta$-ELBO, $\beta$ = {beta:g}"))):
        res = L.landscape(lam, sigma2, objective, alpha, beta, n_grid)
        cs = ax.contourf(res["w1_sq"], res["w2_sq"], res["value"], levels=24)
        fig.colorbar(cs, ax=ax, label="objective (nats)")
        for p in res["points"]:
            mk, col, size = markers[p["kind"]]
            ax.plot(p["w1_sq"], p["w2_sq"], mk, color=col, ms=size, mec="k", ls="none",
                    clip_on=False, zorder=5)
        for kind, (mk, col, size) in markers.items():
            if any(p["kind"] == kind for p in res["points"]):
                ax.plot([], [], mk, color=col, ms=size, mec="k", ls="none", label=kind)
        ax.legend(loc="upper right", frameon=True)
        ax.set_xlabel(r"$\|w_1\|^2$ (column on $\lambda_1$)")
        ax.set_ylabel(r"$\|w_2\|^2$ (column on $\lambda_2$)")
        ax.set_title(name)
        numbers[objective] = {k: res[k] for k in ("w1_sq", "w2_sq", "points", "max_on_grid",
                                                  "gamma")}
        maxima[objective] = next(p for p in res["points"] if p["kind"] == "maximum")
    mr, mb = maxima["relbo"], maxima["beta_elbo"]
    caption = ("F4. Landscapes over the squared norms of two latent columns (optimal diagonal "
               f"encoder, sigma^2 = {sigma2:g}). Left: the RELBO, which with its optimal encoder "
               "equals the pPCA log-likelihood for every alpha, so this panel is the same for "
               "every alpha (alpha only moves the encoder's rate/distortion split, F6, and the "
               f"stiffness against rotations, F3); its maximum, {mr['value']:.6g} nats, sits at "
               f"(w1^2, w2^2) = ({mr['w1_sq']:.4g}, {mr['w2_sq']:.4g}) = lambda_j - sigma^2. "
               f"Right: the beta-ELBO at beta = {beta:g}, maximum {mb['value']:.6g} nats at "
               f"({mb['w1_sq']:.4g}, {mb['w2_sq']:.4g}) = lambda_j - beta sigma^2. The other "
               "marked points are saddles of the full objective.")
    return _finish(fig, caption, numbers)


@_styled
def fig_collapse(lam=None, sigma2=None, k=None, betas=None, alphas=None, name=None):
    r"""F5: collapse phase diagram on a real spectrum (default: the embedded digits spectrum).

    Active latent dimensions (non-zero columns) of the global optimum (optimal diagonal
    encoder) of the beta-ELBO against :math:`\beta` at fixed :math:`\sigma^2`; of the ELBO
    (beta = 1) and of the RELBO against the noise level :math:`\sigma^2/\lambda_1`; and of the
    RELBO against :math:`\alpha`.  Dimension j collapses iff :math:`\lambda_j \le \beta\sigma^2`
    (Lucas et al. 2019; Theory §9); the RELBO's optimum is the pPCA maximum-likelihood point for
    every alpha (Theory §7), so it keeps every dimension with :math:`\lambda_j > \sigma^2`.

    Parameters
    ----------
    lam : array_like, shape (n,), optional
        Data covariance eigenvalues, descending (default: ``load_spectrum("digits")``).
    sigma2 : float, optional
        Fixed decoder noise (default: the mean of the discarded eigenvalues
        :math:`\lambda_{k+1..n}`, the pPCA maximum-likelihood value).
    k : int, optional
        Latent dimensions, 1 <= k < n (default: min(10, n - 1)).
    betas, alphas : array_like, optional
        Grids for the first and third panels.  The thresholds :math:`\lambda_j/\sigma^2` (and
        :math:`\lambda_j/\lambda_1`) inside a grid are added to it, so the plotted steps sit
        exactly at them.
    name : str, optional
        Name of the spectrum for the title and caption (default: "digits" when ``lam`` is None,
        else "user").

    Returns
    -------
    matplotlib.figure.Figure
        With ``caption`` and ``numbers`` attributes.
    """
    name = name or ("digits" if lam is None else "user")
    res = L.collapse(lam, sigma2, k, betas, alphas)
    k, sigma2, lam_ = res["k"], res["sigma2"], res["lam"]
    fig, (ax1, ax2, ax3) = _spectrum_figure(name, res, 3.4)
    for j, t in enumerate(res["thresholds"]):
        ax1.axvline(t, color="0.8", lw=0.6, zorder=0,
                    label=r"thresholds $\lambda_j/\sigma^2$" if j == 0 else None)
    ax1.axvline(1.0, color="C1", lw=1.0, ls="--", label=r"$\beta$ = 1 (ELBO)")
    ax1.step(res["beta"], res["active_vs_beta"], where="post", lw=1.6, color="C0",
             label=r"$\beta$-ELBO optimum")
    ax1.set_xscale("log")
    ax1.set_xlabel(r"$\beta$")
    ax1.set_title(r"$\beta$-ELBO against $\beta$")
    for j, t in enumerate(res["ratio_thresholds"]):
        ax2.axvline(t, color="0.8", lw=0.6, zorder=0,
                    label=r"thresholds $\lambda_j/\lambda_1$" if j == 0 else None)
    ax2.step(res["sigma2_over_lam1"], res["active_vs_sigma2"], where="post", lw=1.6,
             color="C1", label=r"ELBO ($\beta$ = 1) optimum")
    a_show = res["relbo_alpha_vs_sigma2"]
    ax2.plot(res["relbo_sigma2_over_lam1"], res["relbo_active_vs_sigma2"], "o", color="C2",
             mfc="none", ms=4, label=rf"RELBO optimum, $\alpha$ = {a_show:g}")
    ax2.axvline(sigma2 / lam_[0], color="k", lw=0.8, ls=":",
                label=rf"$\sigma^2/\lambda_1$ = {sigma2 / lam_[0]:.3g}")
    ax2.set_xscale("log")
    ax2.set_xlabel(r"noise level $\sigma^2/\lambda_1$")
    ax2.set_title("ELBO and RELBO against the noise")
    kept = res["relbo_kept"]
    ax3.axhline(kept, color="0.5", lw=3.0, alpha=0.5,
                label=rf"dimensions with $\lambda_j > \sigma^2$: {kept}")
    ax3.plot(res["alpha"], res["active_vs_alpha"], "C2o-", ms=3)
    ax3.lines[-1].set_label("RELBO optimum")
    ax3.set_xscale("log")
    ax3.set_xlabel(r"$\alpha$")
    ax3.set_title(r"RELBO against $\alpha$")
    for ax in (ax1, ax2, ax3):
        ax.set_ylabel("active latent dimensions")
        ax.set_ylim(-0.5, k + 0.5)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=1)
    res["name"] = name
    act_a = np.unique(res["active_vs_alpha"])
    caption = (f"F5 ({name} spectrum, n = {lam_.size}, k = {k}, sigma^2 = {sigma2:.4g}). The "
               f"beta-ELBO switches its {k} latent dimensions off one at a time, each exactly "
               f"where beta reaches lambda_j/sigma^2 (grey; from {res['thresholds'].min():.3g} "
               f"to {res['thresholds'].max():.3g}), and likewise as the noise level grows; the "
               "RELBO collapses with the noise exactly as the ELBO but never with alpha: over "
               f"alpha in [{res['alpha'].min():g}, {res['alpha'].max():g}] its optimum keeps "
               f"{', '.join(str(int(a)) for a in act_a)} dimension(s), the {kept} with "
               "lambda_j > sigma^2.")
    return _finish(fig, caption, res)


def _spectrum_figure(name, res, height):
    """A two-column figure of three panels titled with the spectrum drawn."""
    fig = Figure(figsize=(TWO_COLUMN, height), layout="constrained")
    fig.suptitle(rf"{name} spectrum: n = {len(res['lam'])}, k = {res['k']}, $\sigma^2$ = "
                 rf"{res['sigma2']:.3g}")
    return fig, fig.subplots(1, 3)


def _nice_step(x):
    """The smallest of 1, 2, 5 times a power of ten that is >= x (x > 0)."""
    p = 10.0 ** np.floor(np.log10(x))
    return float(next(m * p for m in (1, 2, 5, 10) if m * p >= x))


@_styled
def fig_rate_distortion(lam=None, k=3, sigma2=0.8, betas=None, alphas=None):
    r"""F6: the rate-distortion plane at the optima: the beta-family of beta-ELBO optima against
    the alpha-family of RELBO optima, with lines of constant D + R.

    Each point is a global optimum (decoder at the optimum, b at the data mean, optimal
    diagonal encoder), scored by :func:`~gaussrelbo.rate` and :func:`~gaussrelbo.distortion`
    (Alemi et al. 2018).  The RELBO's decoder is the maximum-likelihood one for every alpha and
    its value is the maximum log-likelihood, but its encoder variance
    :math:`\sigma^2/(\alpha\lambda_j)` moves the rate/distortion split (Theory §10, §16); the
    dashed line :math:`D + R = -\log p_{ML}` is the ELBO bound that no point crosses.

    Parameters
    ----------
    lam : array_like, shape (n,), optional
        Data covariance eigenvalues, descending (default: the synthetic spectrum).
    k : int
        Latent dimensions.
    sigma2 : float
        Fixed decoder noise.
    betas, alphas : array_like, optional
        The two families (default: 41 values each on [0.1, 10], log-spaced).

    Returns
    -------
    matplotlib.figure.Figure
        With ``caption`` and ``numbers`` attributes.
    """
    res = L.rate_distortion(lam, k, sigma2, betas, alphas)
    betas, alphas = res["beta"], res["alpha"]
    Rb, Db, Ra, Da = res["beta_rate"], res["beta_distortion"], res["relbo_rate"], \
        res["relbo_distortion"]
    ll_ml = res["loglik_ml"]
    fig = Figure(figsize=(ONE_COLUMN, 4.6), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(Rb, Db, "C1o-", ms=2.5,
            label=rf"$\beta$-ELBO optima ($\beta$ = {betas.min():g} … {betas.max():g})")
    ax.plot(Ra, Da, "C0s-", ms=2.5,
            label=rf"RELBO optima ($\alpha$ = {alphas.min():g} … {alphas.max():g})")
    ax.plot(res["elbo_rate"], res["elbo_distortion"], "k*", ms=10,
            label=r"ELBO optimum ($\alpha$ = $\beta$ = 1)")
    top = max(Rb.max(), Ra.max(), res["elbo_rate"]) * 1.08
    R = np.linspace(0.0, top, 50)
    ax.plot(R, -ll_ml - R, color="k", ls="--", lw=1.0,
            label=r"$D + R = -\log p_{ML}$ (= $-$RELBO optimum, every $\alpha$)")
    excess = max(np.max(Rb + Db), np.max(Ra + Da)) + ll_ml      # largest D + R above the bound
    step = _nice_step(excess / 8.0)
    for c in -ll_ml + step * np.arange(1, int(excess / step) + 2):
        ax.plot(R, c - R, color="0.75", ls="--", lw=0.7)
    ax.plot([], [], color="0.75", ls="--", lw=0.7, label=f"constant D + R, {step:g}-nat steps")
    for nm, x, y, par, col in (("alpha", Ra, Da, alphas, "C0"), ("beta", Rb, Db, betas, "C1")):
        for i in (int(np.argmin(par)), int(np.argmax(par))):
            sym = r"\alpha" if nm == "alpha" else r"\beta"
            ax.annotate(rf"${sym}$={par[i]:g}", (x[i], y[i]), textcoords="offset points",
                        xytext=(4, 3), fontsize=8, color=col)
    ax.set_xlim(0.0, top)
    lo, hi = min(Db.min(), Da.min()), max(Db.max(), Da.max())
    ax.set_ylim(lo - 0.05 * (hi - lo) - 0.1, hi + 0.08 * (hi - lo) + 0.1)
    ax.set_xlabel("rate R (nats)")
    ax.set_ylabel("distortion D (nats)")
    ax.set_title(rf"Rate and distortion at the optima, k = {res['k']}, $\sigma^2$ = "
                 rf"{res['sigma2']:g}")
    fig.legend(loc="outside lower center", ncol=1)
    gap = Ra + Da + ll_ml
    spread = float(np.max(np.abs(res["relbo_value"] - ll_ml)))
    caption = ("F6. Every RELBO optimum has the same decoder and value, the maximum "
               f"log-likelihood {ll_ml:.6g} nats (largest deviation over the {alphas.size} alphas "
               f"{spread:.1e}), yet alpha moves its encoder's split: the rate runs from "
               f"{Ra.min():.4g} to {Ra.max():.4g} nats and the distortion from {Da.min():.4g} to "
               f"{Da.max():.4g} over alpha in [{alphas.min():g}, {alphas.max():g}]. D + R (minus "
               "the ELBO of that encoder) exceeds -log p_ML by (k/2)(log alpha + 1/alpha - 1), "
               f"here up to {gap.max():.4g} nats, and touches the bound only at alpha = 1; the "
               "beta-ELBO's optima trade rate for distortion along their own curve and meet the "
               "RELBO family at the ELBO optimum.")
    return _finish(fig, caption, res)


@_styled
def fig_basins(lam=None, k=3, sigma2=0.8, alphas=(0.1, 0.3, 1.0, 3.0, 10.0),
               betas=(0.5, 1.0, 2.0, 4.0), n_runs=10, random_state=0):
    r"""F7: basins of attraction of batched L-BFGS from random starts (decoder ascent with the
    encoder at its optimum, the default of :func:`gaussrelbo.basin_map`): the fraction of runs
    reaching each stationary point, against alpha (RELBO) and beta (beta-ELBO).

    Parameters
    ----------
    lam : array_like, shape (n,), optional
        Eigenvalues, descending (default: the synthetic spectrum).
    k : int
        Latent dimensions.
    sigma2 : float
        Fixed decoder noise.
    alphas, betas : sequence of float
        Parameters of the two panels.
    n_runs : int
        Random starts per parameter value.
    random_state : int
        Seed.

    Returns
    -------
    matplotlib.figure.Figure
        With ``caption`` and ``numbers`` attributes.
    """
    res = L.basins(lam, k, sigma2, alphas, betas, n_runs, random_state)
    fig = Figure(figsize=(TWO_COLUMN, 3.3), layout="constrained")
    axes = fig.subplots(1, 2)
    panels = (("relbo", alphas, r"$\alpha$"), ("beta_elbo", betas, r"$\beta$"))
    every = sorted({key for obj, _, _ in panels for c in res[obj]["fractions"] for key in c})
    color = {lab: f"C{i % len(PALETTE)}" for i, lab in enumerate(every)}    # one per point
    for ax, (objective, params, sym) in zip(axes, panels):
        fractions = res[objective]["fractions"]
        x = np.arange(len(params))
        bottom = np.zeros(len(params))
        for lab in sorted({key for c in fractions for key in c}):
            h = np.array([fr.get(lab, 0.0) for fr in fractions])
            ax.bar(x, h, bottom=bottom, color=color[lab], label=L.point_label(lab))
            bottom += h
        ax.set_xticks(x, [f"{p:g}" for p in params])
        ax.set_xlabel(sym)
        ax.set_ylabel(f"fraction of {n_runs} random starts")
        ax.set_ylim(0, 1.0)
        ax.set_title("RELBO" if objective == "relbo" else r"$\beta$-ELBO")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=1)

    def summary(objective, params, word):
        glob = np.asarray(res[objective]["global_fraction"])
        if np.all(glob == 1.0):
            return f"every run reaches the global maximum for every {word} shown"
        worst = int(np.argmin(glob))
        return (f"the global maximum attracts {glob.min():.0%} of the runs at {word} = "
                f"{params[worst]:g} (the fewest) and {glob.mean():.0%} on average")

    caption = (f"F7. Where L-BFGS from {n_runs} random starts ends (bars labelled by the kind "
               "of stationary point and the eigen-directions it uses). RELBO: "
               f"{summary('relbo', alphas, 'alpha')}; beta-ELBO: "
               f"{summary('beta_elbo', betas, 'beta')}.")
    return _finish(fig, caption, res)


#: Colour and words of each reading of the Renyi VAE in F8 and F9.
_READING_STYLE = {"pointwise": ("C0", "pointwise (RELBO)"), "escort": ("C2", "escort"),
                  "cross_entropy": ("C1", "cross-entropy")}


@_styled
def fig_reading_rate_distortion(lam=None, k=3, sigma2=None, alphas=None, betas=None):
    r"""F8: the optima of the three readings of the Renyi VAE in the rate-distortion plane
    (Alemi et al. 2018), against the beta-ELBO frontier.

    Pointwise (the package's RELBO), escort-Jensen and data-level cross-entropy readings (see
    the docs page "Readings of the Renyi VAE"), each at its global optimum for alpha in
    [0.1, 10] (cross-entropy only where it has one: 0 < alpha < 2 and
    :math:`\sigma^2 > (1-\alpha)\lambda_{k+1}`), beside the beta-ELBO optima for a range of
    beta, all at one fixed :math:`\sigma^2` with optimal diagonal encoders.  At alpha = 1 every
    reading is the ELBO, whose optimum is the beta = 1 point of the frontier (marked).  The
    caption reports the matched beta (:func:`gaussrelbo.readings.matched_beta`, the beta-ELBO
    optimum with the same rate) and the excess distortion at equal rate.

    Parameters
    ----------
    lam : array_like, shape (n,), optional
        Eigenvalues, descending (default: the synthetic spectrum).
    k : int
        Latent dimensions.
    sigma2 : float, optional
        Fixed decoder noise (default: the mean of the discarded eigenvalues).
    alphas, betas : array_like, optional
        Orders of the readings (default: 61 values on [0.1, 10], log-spaced, and the
        cross-entropy reading's critical orders) and rate weights of the frontier (default: 81
        values from 0.05 to :math:`\lambda_1/\sigma^2`).

    Returns
    -------
    matplotlib.figure.Figure
        With ``caption`` and ``numbers`` attributes.
    """
    res = L.reading_rate_distortion(lam, k, sigma2, alphas, betas)
    fig = Figure(figsize=(ONE_COLUMN, 4.8), layout="constrained")
    ax = fig.add_subplot()
    b = res["beta"]
    ax.plot(res["beta_rate"], res["beta_distortion"], "-", color="C7", lw=1.4,
            label=rf"$\beta$-ELBO frontier ($\beta$ = {b.min():.3g} … {b.max():.3g})")
    for reading, (col, word) in _READING_STYLE.items():
        r = res["readings"][reading]
        if r["alpha"].size == 0:
            continue
        span = rf"$\alpha$ = {r['alpha'].min():.4g} … {r['alpha'].max():.4g}"
        if reading == "escort":              # one point for every alpha: a marker
            ax.plot(r["rate"], r["distortion"], "D", color=col, ms=10, mfc="none", mew=1.4,
                    label=f"{word} optima, {span}")
            continue
        ax.plot(r["rate"], r["distortion"], "o-", color=col, ms=2.5, lw=1.2,
                label=f"{word} optima, {span}")
        for i in (int(np.argmin(r["alpha"])), int(np.argmax(r["alpha"]))):
            ax.annotate(rf"$\alpha$={r['alpha'][i]:.4g}", (r["rate"][i], r["distortion"][i]),
                        textcoords="offset points", xytext=(4, 3), fontsize=8, color=col)
    ax.plot(res["elbo_rate"], res["elbo_distortion"], "*", color="C4", mec="k", ms=11,
            label=r"$\alpha$ = 1: ELBO optimum ($\beta$ = 1)", zorder=5)
    ax.set_xlabel("rate R (nats)")
    ax.set_ylabel("distortion D (nats)")
    ax.set_title(rf"Readings against the $\beta$-ELBO, k = {res['k']}, $\sigma^2$ = "
                 rf"{res['sigma2']:.3g}")
    fig.legend(loc="outside lower center", ncol=1)
    caption = _reading_rd_caption(res)
    return _finish(fig, caption, res)


def _reading_rd_caption(res):
    """F8's caption, every number from ``res`` (a result of
    :func:`gaussrelbo.landscapes.reading_rate_distortion`)."""
    rows = res["matched"]

    def listing(reading, with_eff=False):
        out = []
        for m in (r for r in rows if r["reading"] == reading):
            eff = (f", beta_eff = 1/(2 - alpha) = {m['beta_eff']:.3g}" if with_eff else "")
            out.append(f"alpha = {m['alpha']:g}: beta = {m['beta']:.3g}{eff}, excess "
                       f"{m['excess']:.3g}")
        return "; ".join(out)

    ce = res["readings"]["cross_entropy"]["alpha"]
    esc = [r for r in rows if r["reading"] == "escort"]
    parts = [f"F8. Global optima of the three readings of the Renyi VAE in the rate-distortion "
             f"plane (k = {res['k']}, fixed sigma^2 = {res['sigma2']:.4g}, optimal diagonal "
             f"encoders), against the beta-ELBO frontier for beta in [{res['beta'].min():.3g}, "
             f"{res['beta'].max():.3g}]. At alpha = 1 every reading is the ELBO: its optimum "
             f"is the frontier's beta = 1 point (R = {res['elbo_rate']:.4g}, "
             f"D = {res['elbo_distortion']:.4g} nats)."]
    if esc:
        parts.append("The escort reading's optimum is that point for every alpha (its encoder "
                     f"is the exact posterior): matched beta = {esc[0]['beta']:.3g}, excess "
                     f"{max(abs(r['excess']) for r in esc):.2g} nats.")
    parts.append("Matched beta (the beta-ELBO optimum with the same rate) and the excess "
                 "distortion at equal rate (nats) of the pointwise reading: "
                 f"{listing('pointwise')}.")
    if ce.size:
        parts.append(f"The cross-entropy reading has an optimum for alpha in "
                     f"[{ce.min():.3g}, {ce.max():.3g}] of the orders drawn; "
                     f"{listing('cross_entropy', True) or 'none of the listed orders'}.")
    else:
        parts.append("The cross-entropy reading has no optimum at the orders drawn.")
    return " ".join(parts)


@_styled
def fig_reading_collapse(lam=None, k=None, sigma2=None, alphas=None, betas=None, name=None):
    r"""F9: collapse cascades -- active latent dimensions of each reading's global optimum
    against alpha, beside the beta-ELBO's against beta.

    Pointwise and escort readings keep every dimension with :math:`\lambda_j > \sigma^2` for
    every alpha; the cross-entropy reading switches dimension j off at
    :math:`\alpha_j = 2 - \sigma^2/\lambda_j`, the beta-ELBO at :math:`\beta = \lambda_j/\sigma^2`
    (Lucas et al. 2019), so the cross-entropy count at alpha is the beta-ELBO's at
    :math:`\beta_{\rm eff} = 1/(2-\alpha)`, drawn as markers on the right.  The middle panel
    shows the cross-entropy cascade on a linear axis ending at alpha = 2 ("CE" in the legends).

    Parameters
    ----------
    lam : array_like, shape (n,), optional
        Eigenvalues, descending (default: the embedded digits spectrum).
    k : int, optional
        Latent dimensions, 1 <= k < n (default: min(10, n - 1)).
    sigma2 : float, optional
        Fixed decoder noise (default: the mean of the discarded eigenvalues).
    alphas, betas : array_like, optional
        Grids (default: 41 orders on [0.1, 10] and 100 values of beta around the thresholds);
        the critical values inside a grid, and a point just above each, are added.
    name : str, optional
        Name of the spectrum for the title and caption (default: "digits" when ``lam`` is None,
        else "user").

    Returns
    -------
    matplotlib.figure.Figure
        With ``caption`` and ``numbers`` attributes.
    """
    name = name or ("digits" if lam is None else "user")
    res = L.reading_collapse(lam, k, sigma2, alphas, betas)
    k = res["k"]
    fig, (axa, axz, axb) = _spectrum_figure(name, res, 4.2)
    a = res["alpha"]
    crit = res["critical_alpha"]
    floor = res["ce_no_optimum_below"]
    counts = {}
    for reading in _READING_STYLE:
        c = np.asarray(res["active"][reading], dtype=float)
        c[c < 0] = np.nan                        # no optimum: not drawn
        counts[reading] = c
    ce_col, ce_word = _READING_STYLE["cross_entropy"]
    # (a) every reading over the whole range of alpha
    if floor > a.min():
        axa.axvspan(a.min(), floor, color=ce_col, alpha=0.1, lw=0, label=r"CE: $-\infty$")
    axa.axvspan(2.0, a.max(), color="0.5", alpha=0.12, lw=0, label="CE: unbounded")
    axa.step(a, counts["pointwise"], where="post", color=_READING_STYLE["pointwise"][0],
             lw=3.0, alpha=0.6, label=_READING_STYLE["pointwise"][1])
    axa.plot(a, counts["escort"], "o", color=_READING_STYLE["escort"][0], mfc="none", ms=3.5,
             label=_READING_STYLE["escort"][1])
    axa.step(a, counts["cross_entropy"], where="post", color=ce_col, lw=1.4, label=ce_word)
    axa.axvline(1.0, color="k", lw=0.8, ls=":", label=r"$\alpha$ = 1")
    axa.set_xscale("log")
    axa.set_xlabel(r"$\alpha$")
    axa.set_title(r"(a) readings against $\alpha$")
    # (b) the cross-entropy cascade, on a linear axis ending at alpha = 2
    inside = crit[(crit > 0) & (crit < 2)]
    lo = max(float(inside.min()) if inside.size else 1.0, floor)
    lo = max(lo - 0.15 * (2.0 - lo), float(a.min()))
    zoom = (a >= lo) & (a < 2.0)
    for j, t in enumerate(inside[inside >= lo]):
        axz.axvline(t, color="0.8", lw=0.6, zorder=0,
                    label=r"$\alpha_j = 2 - \sigma^2/\lambda_j$" if j == 0 else None)
    axz.step(a[zoom], counts["cross_entropy"][zoom], where="post", color=ce_col, lw=1.6,
             label=ce_word)
    axz.set_xlim(lo, 2.0)
    axz.set_xlabel(r"$\alpha$")
    axz.set_title(r"(b) cross-entropy near $\alpha$ = 2")
    # (c) the beta-ELBO, and the cross-entropy counts at beta_eff = 1/(2 - alpha)
    for j, t in enumerate(res["beta_thresholds"]):
        axb.axvline(t, color="0.8", lw=0.6, zorder=0,
                    label=r"$\lambda_j/\sigma^2$" if j == 0 else None)
    b = res["beta"]
    axb.step(b, res["active_vs_beta"], where="post", color="C7", lw=1.6,
             label=r"$\beta$-ELBO")
    be = np.asarray(res["beta_eff"])
    on = be <= b.max()
    axb.plot(be[on], np.asarray(res["ce_active_at_beta_eff"])[on], "o", color=ce_col,
             mfc="none", ms=4, label=r"CE at $\beta = \frac{1}{2-\alpha}$")
    axb.axvline(1.0, color="k", lw=0.8, ls=":", label=r"$\beta$ = 1")
    axb.set_xscale("log")
    axb.set_xlabel(r"$\beta$")
    axb.set_title(r"(c) $\beta$-ELBO against $\beta$")
    for ax in (axa, axz, axb):
        ax.set_ylabel("active latent dimensions")
        ax.set_ylim(-0.5, k + 0.5)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=1)
    res["name"] = name
    return _finish(fig, _reading_collapse_caption(res), res)


def _reading_collapse_caption(res):
    """F9's caption, every number from ``res`` (a result of
    :func:`gaussrelbo.landscapes.reading_collapse`, with ``name``)."""
    act, a = res["active"], np.asarray(res["alpha"])
    k, s2 = res["k"], res["sigma2"]

    def kept(reading):
        c = np.unique(np.asarray(act[reading]))
        return ", ".join(str(int(x)) for x in c[c >= 0])

    ce = np.asarray(act["cross_entropy"])
    has = ce >= 0
    crit = np.asarray(res["critical_alpha"])
    crit = crit[(crit > 0) & (crit < 2)]
    same = np.asarray(res["ce_active_at_beta_eff"]) == np.asarray(
        res["beta_elbo_active_at_beta_eff"])
    parts = [f"F9 ({res['name']} spectrum, n = {len(res['lam'])}, k = {k}, fixed sigma^2 = "
             f"{s2:.4g}). (a) The pointwise and escort readings keep {kept('pointwise')} and "
             f"{kept('escort')} latent dimension(s) for every alpha in [{a.min():g}, "
             f"{a.max():g}] (those with lambda_j > sigma^2: alpha never collapses them)."]
    if has.any():
        lo, hi = a[has].min(), a[has].max()
        floor = res["ce_no_optimum_below"]
        why = (f" (below alpha = {floor:.4g}, sigma^2 <= (1 - alpha) lambda_(k+1): -inf for "
               "every decoder; from alpha = 2 on, unbounded)" if floor > 0
               else " (from alpha = 2 on it is unbounded)")
        parts.append(f"(a, b) The cross-entropy reading has an optimum for alpha in [{lo:.4g}, "
                     f"{hi:.4g}] of the orders drawn{why}; it keeps "
                     f"{int(ce[has].max())} to {int(ce[has].min())} dimension(s), switching "
                     f"them off one at a time at alpha_j = 2 - sigma^2/lambda_j"
                     + (f", from {crit.min():.4g} to {crit.max():.4g}." if crit.size else "."))
    parts.append(f"(c) The beta-ELBO switches them off at beta = lambda_j/sigma^2, from "
                 f"{np.min(res['beta_thresholds']):.4g} to {np.max(res['beta_thresholds']):.4g};"
                 f" the cross-entropy count at alpha equals the beta-ELBO count at "
                 f"beta_eff = 1/(2 - alpha) at {int(same.sum())} of {same.size} orders "
                 "(markers; the critical orders themselves left out).")
    ex = [f"alpha = {e['alpha']:g} (beta_eff = {e['beta_eff']:.3g}): cross-entropy "
          f"{e['ce_active'] if e['ce_active'] >= 0 else 'no optimum'}, beta-ELBO "
          f"{e['beta_elbo_active']}" for e in res["examples"]]
    if ex:
        parts.append("Active counts: " + "; ".join(ex) + ".")
    return " ".join(parts)
