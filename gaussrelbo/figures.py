"""Figures.  Each function returns a matplotlib ``Figure`` carrying two extra attributes:
``caption`` (a sentence saying what the figure shows) and ``numbers`` (a JSON-ready dict of the
values plotted), so a report can write both and a test can check the plotted data."""

import numpy as np
from matplotlib.figure import Figure

from .objectives import elbo, log_evidence, relbo, relbo_expansion, vr_bound

__all__ = ["fig_alpha_limit", "fig_bounds_vs_alpha"]


def _finish(fig, caption, numbers):
    fig.caption = caption
    fig.numbers = numbers
    return fig


def fig_alpha_limit(model, data, deltas=None):
    r"""F1: the :math:`\alpha \to 1` limit of the RELBO, both sides of 1, on log-log axes.

    Plots :math:`|\mathrm{RELBO}_\alpha - \mathrm{ELBO}|` (slope 1) and the remainder after the
    first-order term :math:`(\alpha-1)[H(p(z|x)) - H(q)]` (slope 2) against :math:`|\alpha-1|`
    down to :math:`10^{-12}`, computed without cancellation (:func:`~gaussrelbo.relbo_expansion`).
    """
    deltas = 10.0 ** np.linspace(-12, -0.5, 47) if deltas is None else np.asarray(deltas)
    fig = Figure(figsize=(6.4, 4.6), layout="constrained")
    ax = fig.add_subplot()
    numbers = {}
    for sign, marker, side in ((1.0, "o", "above"), (-1.0, "s", "below")):
        alpha = 1.0 + sign * deltas
        t = np.abs(alpha - 1.0)                                  # the |alpha - 1| evaluated
        diff, coef, rem = relbo_expansion(model, data, alpha)
        ax.loglog(t, np.abs(diff), marker, ms=3.5, ls="-", lw=0.8,
                  label=rf"$|\mathrm{{RELBO}}_\alpha-\mathrm{{ELBO}}|$, $\alpha$ {side} 1")
        ax.loglog(t, np.abs(rem), marker, ms=3.5, ls="--", lw=0.8,
                  label=rf"remainder after first order, $\alpha$ {side} 1")
        numbers[side] = {"abs_alpha_minus_1": t.tolist(), "abs_difference": np.abs(diff).tolist(),
                         "abs_remainder": np.abs(rem).tolist()}
    coef = float(np.ravel(coef)[0])
    t0 = deltas[[0, -1]]
    d0, r0 = np.abs(numbers["above"]["abs_difference"][-1]), numbers["above"]["abs_remainder"][-1]
    ax.loglog(t0, d0 * (t0 / t0[-1]), "k:", lw=1, label="reference slope 1")
    ax.loglog(t0, r0 * (t0 / t0[-1]) ** 2, "k-.", lw=1, label="reference slope 2")
    ax.set_xlabel(r"$|\alpha - 1|$")
    ax.set_ylabel("nats")
    ax.set_title(r"RELBO$_\alpha$ $\to$ ELBO as $\alpha \to 1$")
    ax.legend(fontsize=7, loc="upper left")
    numbers["first_order_coefficient"] = coef
    caption = (r"F1. |RELBO_alpha - ELBO| falls with slope 1 in |alpha - 1| and the remainder after "
               f"the first-order term (alpha - 1)(H(p(z|x)) - H(q)) = (alpha - 1) x {coef:.6g} "
               "falls with slope 2, on both sides of alpha = 1, down to |alpha - 1| = 1e-12.")
    return _finish(fig, caption, numbers)


def fig_bounds_vs_alpha(model, data, alphas=None):
    r"""F2: :math:`\log p(x)`, :math:`\mathrm{RELBO}_\alpha`, the ELBO and the VR bound against
    :math:`\alpha` (log axis), with the RELBO gap :math:`\mathrm{KL}(q\|\pi_\alpha)/\alpha` shaded.

    ``data`` must be population moments or a single point (the curves are scalars in alpha).
    """
    alphas = np.geomspace(0.1, 10.0, 121) if alphas is None else np.asarray(alphas)
    ll = float(log_evidence(model, data))
    e = float(elbo(model, data))
    rel = np.asarray(relbo(model, data, alphas), dtype=float)
    vr = np.asarray(vr_bound(model, data, alphas), dtype=float)
    if rel.shape != alphas.shape:
        raise ValueError("`data` must be a DataMoments or a single point for this figure")
    fig = Figure(figsize=(6.4, 7.0), layout="constrained")
    ax, gx = fig.subplots(2, 1, sharex=True)
    finite = np.isfinite(vr)
    ax.fill_between(alphas, rel, ll, color="C0", alpha=0.15,
                    label=r"gap $\mathrm{KL}(q\|\pi_\alpha)/\alpha$")
    ax.plot(alphas, np.full_like(alphas, ll), "k-", lw=1.5, label=r"$\log p(x)$")
    ax.plot(alphas, rel, "C0-", lw=1.5, label=r"RELBO$_\alpha$")
    ax.plot(alphas, np.full_like(alphas, e), "C2--", lw=1.2, label="ELBO")
    ax.plot(alphas[finite], vr[finite], "C3-.", lw=1.2, label=r"VR bound $\mathcal{L}_\alpha$")
    lo = min(e, np.min(vr[finite]) if finite.any() else e)
    span = max(ll - lo, 1e-3)
    ax.set_ylim(lo - 1.5 * span, ll + 0.2 * span)
    ax.set_ylabel("nats")
    ax.set_title(r"Bounds on $\log p(x)$ against $\alpha$")
    ax.legend(fontsize=8, loc="lower right")
    gx.loglog(alphas, ll - rel, "C0-", lw=1.5, label=r"$\log p(x) - $RELBO$_\alpha$")
    gx.loglog(alphas, np.full_like(alphas, ll - e), "C2--", lw=1.2, label=r"$\log p(x) - $ELBO")
    gx.loglog(alphas[finite], ll - vr[finite], "C3-.", lw=1.2,
              label=r"$\log p(x) - \mathcal{L}_\alpha$")
    gx.set_xlabel(r"$\alpha$")
    gx.set_ylabel("gap (nats)")
    gx.legend(fontsize=8)
    for a_ in (ax, gx):
        a_.axvline(1.0, color="0.6", lw=0.8, ls=":")
        a_.set_xscale("log")
    numbers = {"alpha": alphas.tolist(), "log_evidence": ll, "elbo": e, "relbo": rel.tolist(),
               "vr_bound": [v if np.isfinite(v) else None for v in vr.tolist()]}
    caption = ("F2. Every RELBO_alpha lies below log p(x), meets the ELBO at alpha = 1, and the "
               "shaded gap is KL(q || pi_alpha)/alpha; the VR bound runs from log p(x) at alpha = 0 "
               "to the ELBO at alpha = 1 (and is -inf where it diverges).")
    return _finish(fig, caption, numbers)
