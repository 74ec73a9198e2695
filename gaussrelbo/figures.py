"""Figures.  Each function returns a matplotlib ``Figure`` carrying two extra attributes:
``caption`` (a sentence saying what the figure shows) and ``numbers`` (a JSON-ready dict of the
values plotted), so a report can write both and a test can check the plotted data."""

import numpy as np
from matplotlib.figure import Figure

from .objectives import elbo, log_evidence, relbo, relbo_expansion, vr_bound

__all__ = ["fig_alpha_limit", "fig_basins", "fig_bounds_vs_alpha", "fig_collapse", "fig_landscape",
           "fig_rate_distortion", "fig_rotation"]


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


# ---- landscapes, phase diagrams and basins (F3-F7) -----------------------------------------------

def _lam(lam):
    from .datasets import load_spectrum
    return load_spectrum("synthetic") if lam is None else np.asarray(lam, dtype=float)


def _rotate(W, i, j, theta):
    c, s = np.cos(theta), np.sin(theta)
    R = np.eye(W.shape[1])
    R[[i, i, j, j], [i, j, i, j]] = [c, -s, s, c]
    return W @ R


def fig_rotation(lam=None, k=3, sigma2=0.8, alphas=(0.25, 1.0, 4.0), betas=(0.5, 1.0, 2.0),
                 thetas=None):
    r"""F3: the objective against the rotation angle of latent columns 1 and 2 at the optimum.

    The decoder sits at each objective's optimum on the top-k eigen-directions (column norms
    :math:`\lambda_j - \gamma\sigma^2`); columns 1 and 2 are rotated by :math:`\theta` and the
    objective re-evaluated with the optimal *diagonal* encoder.  DESIGN §8c: the RELBO's
    curvature at 0 is :math:`-(m_1 - m_2)^2/(\alpha m_1 m_2)` (stiffness ∝ 1/α); the pPCA
    log-likelihood is flat.
    """
    from .optima import profiled_value_grad

    lam = _lam(lam)
    thetas = np.linspace(-np.pi / 2, np.pi / 2, 181) if thetas is None else np.asarray(thetas)
    n = lam.size
    fig = Figure(figsize=(10.0, 4.4), layout="constrained")
    axr, axb = fig.subplots(1, 2, sharey=False)
    numbers = {"theta": thetas.tolist(), "relbo": {}, "beta_elbo": {}, "sigma2": sigma2}

    def curve(objective, gamma, **kw):
        W = np.zeros((n, k))
        W[np.arange(k), np.arange(k)] = np.sqrt(np.maximum(lam[:k] - gamma * sigma2, 0.0))
        vals = np.array([profiled_value_grad(_rotate(W, 0, 1, t), sigma2, lam, objective, **kw)[0]
                         for t in thetas])
        return vals - profiled_value_grad(W, sigma2, lam, objective, **kw)[0]

    for a in alphas:
        y = curve("relbo", 1.0, alpha=a)
        axr.plot(thetas, y, lw=1.5, label=rf"RELBO, $\alpha$={a:g}")
        numbers["relbo"][f"{a:g}"] = y.tolist()
    ll = curve("loglik", 1.0)
    axr.plot(thetas, ll, "k--", lw=1.2, label="pPCA log-likelihood")
    numbers["loglik"] = ll.tolist()
    for b in betas:
        y = curve("beta_elbo", b, beta=b)
        axb.plot(thetas, y, lw=1.5, label=rf"$\beta$-ELBO, $\beta$={b:g}")
        numbers["beta_elbo"][f"{b:g}"] = y.tolist()
    m = lam[:2]
    numbers["predicted_relbo_curvature"] = {f"{a:g}": float(-(m[0] - m[1]) ** 2 /
                                                           (a * m[0] * m[1])) for a in alphas}
    for ax, title in ((axr, "RELBO (diagonal encoder)"), (axb, r"$\beta$-ELBO (diagonal encoder)")):
        ax.set_xlabel(r"rotation angle $\theta$ of columns 1, 2 (rad)")
        ax.set_ylabel(r"objective $-$ value at $\theta=0$ (nats)")
        ax.set_title(title)
        ax.axvline(0.0, color="0.6", lw=0.8, ls=":")
        ax.legend(fontsize=8)
    caption = ("F3. Rotating two latent columns away from the optimum costs the RELBO "
               "(m1 - m2)^2/(alpha m1 m2) theta^2/2 nats to second order: stiffness falls as 1/alpha, "
               "while the pPCA log-likelihood is exactly flat; the beta-ELBO with a diagonal "
               "encoder is curved likewise.")
    return _finish(fig, caption, numbers)


def fig_landscape(lam=None, sigma2=0.8, alpha=0.5, beta=2.0, n_grid=121):
    r"""F4: two-parameter landscapes :math:`(\|w_1\|^2, \|w_2\|^2)` (k = 2, columns on the top two
    eigen-directions, optimal diagonal encoder) for the RELBO and the beta-ELBO side by side,
    with the stationary points of that plane marked by kind (from the optima atlas)."""
    from .optima import stationary_points
    from .spectral import profiled_objective

    lam = _lam(lam)
    fig = Figure(figsize=(10.5, 4.6), layout="constrained")
    axes = fig.subplots(1, 2)
    numbers = {"sigma2": sigma2}
    markers = {"maximum": ("*", "gold", 14), "saddle": ("X", "white", 9),
               "minimum": ("o", "cyan", 8), "degenerate": ("D", "magenta", 7)}
    for ax, (objective, kw, gamma, name) in zip(axes, (
            ("relbo", {"alpha": alpha}, 1.0, rf"RELBO, $\alpha$={alpha:g}"),
            ("beta_elbo", {"beta": beta}, beta, rf"$\beta$-ELBO, $\beta$={beta:g}"))):
        top = max(lam[0] - gamma * sigma2, lam[0] / 4) * 1.4
        q1 = np.linspace(0.0, top, n_grid)
        q2 = np.linspace(0.0, top, n_grid)
        Z = np.array([[profiled_objective(lam, [a, b], sigma2, objective, **kw) for a in q1]
                      for b in q2])
        cs = ax.contourf(q1, q2, Z, levels=30, cmap="viridis")
        fig.colorbar(cs, ax=ax, label="objective (nats)")
        atlas = stationary_points(lam, 2, objective, sigma2=sigma2, nonorthogonal=False, **kw)
        pts = []
        for p in atlas.points:
            if set(p.subset) <= {0, 1}:
                norms = np.sum(p.W**2, axis=0)
                x = norms[0] if 0 in p.subset else 0.0
                y = norms[list(p.subset).index(1)] if 1 in p.subset else 0.0
                mk, col, size = markers[p.kind]
                ax.plot(x, y, mk, color=col, ms=size, mec="k", ls="none", clip_on=False,
                        zorder=5)
                pts.append({"subset": list(p.subset), "kind": p.kind, "w1_sq": float(x),
                            "w2_sq": float(y), "value": p.value})
        for kind, (mk, col, size) in markers.items():
            if any(p["kind"] == kind for p in pts):
                ax.plot([], [], mk, color=col, ms=size, mec="k", ls="none", label=kind)
        ax.legend(fontsize=8, loc="lower right")
        ax.set_xlabel(r"$\|w_1\|^2$ (column on $\lambda_1$)")
        ax.set_ylabel(r"$\|w_2\|^2$ (column on $\lambda_2$)")
        ax.set_title(name)
        numbers[objective] = {"w1_sq": q1.tolist(), "w2_sq": q2.tolist(), "points": pts,
                              "max_on_grid": float(Z.max())}
    caption = ("F4. Landscapes over the squared norms of two latent columns (optimal diagonal "
               "encoder): the maximum sits at w_j^2 = lambda_j - gamma sigma^2 (gamma = 1 for the "
               "RELBO, beta for the beta-ELBO); the other stationary points of the plane are "
               "saddles of the full objective.")
    return _finish(fig, caption, numbers)


def fig_collapse(lam=None, sigma2=None, k=10, betas=None, alphas=None):
    r"""F5: collapse phase diagram on a real spectrum (default: the embedded digits spectrum):
    active latent dimensions of the beta-ELBO optimum against beta and against
    :math:`\sigma^2/\lambda_1`, and of the RELBO optimum against alpha (never collapses)."""
    from .datasets import load_spectrum
    from .optima import global_maximum

    lam = load_spectrum("digits") if lam is None else np.asarray(lam, dtype=float)
    k = min(k, lam.size - 1)
    sigma2 = float(lam[k:].mean()) if sigma2 is None else float(sigma2)
    betas = np.geomspace(0.05, 2.0 * lam[0] / sigma2, 300) if betas is None else np.asarray(betas)
    alphas = np.geomspace(0.01, 100.0, 60) if alphas is None else np.asarray(alphas)
    ratios = np.geomspace(lam[k - 1] / lam[0] / 20, 2.0, 300)
    act_b = [global_maximum(lam, k, "beta_elbo", beta=b, sigma2=sigma2).active for b in betas]
    act_s = [global_maximum(lam, k, "beta_elbo", beta=1.0, sigma2=r * lam[0]).active
             for r in ratios]
    act_a = [global_maximum(lam, k, "relbo", alpha=a, sigma2=sigma2).active for a in alphas]
    fig = Figure(figsize=(12.0, 4.0), layout="constrained")
    ax1, ax2, ax3 = fig.subplots(1, 3)
    ax1.step(betas, act_b, where="post", lw=1.6)
    for j in range(k):
        ax1.axvline(lam[j] / sigma2, color="0.8", lw=0.6, zorder=0)
    ax1.set_xscale("log")
    ax1.set_xlabel(r"$\beta$ (grey: thresholds $\lambda_j/\sigma^2$)")
    ax1.set_ylabel("active latent dimensions")
    ax1.set_title(rf"$\beta$-ELBO, $\sigma^2$={sigma2:.3g}, k={k}")
    ax2.step(ratios, act_s, where="post", lw=1.6, color="C1")
    ax2.set_xscale("log")
    ax2.set_xlabel(r"$\sigma^2/\lambda_1$")
    ax2.set_ylabel("active latent dimensions")
    ax2.set_title(r"$\beta$ = 1 (ELBO) against the noise level")
    ax3.plot(alphas, act_a, "C2-", lw=1.6)
    ax3.set_xscale("log")
    ax3.set_ylim(-0.5, k + 0.5)
    ax3.set_xlabel(r"$\alpha$")
    ax3.set_ylabel("active latent dimensions")
    ax3.set_title(rf"RELBO, $\sigma^2$={sigma2:.3g}")
    numbers = {"lam": lam.tolist(), "k": k, "sigma2": sigma2, "beta": betas.tolist(),
               "active_vs_beta": act_b, "sigma2_over_lam1": ratios.tolist(),
               "active_vs_sigma2": act_s, "alpha": alphas.tolist(), "active_vs_alpha": act_a,
               "thresholds": (lam[:k] / sigma2).tolist()}
    caption = ("F5. The beta-ELBO switches latent dimensions off one by one as beta crosses "
               "lambda_j/sigma^2 (and as sigma^2 grows); the RELBO keeps every dimension with "
               "lambda_j > sigma^2 for every alpha, because its optimum is the maximum-likelihood "
               "point.")
    return _finish(fig, caption, numbers)


def fig_rate_distortion(lam=None, k=3, sigma2=0.8, betas=None, alphas=None):
    r"""F6: the rate-distortion plane: the beta-family of beta-ELBO optima against the
    alpha-family of RELBO optima (the decoder stays at maximum likelihood; the split between rate
    and distortion moves with alpha), with lines of constant D + R."""
    from .optima import global_maximum

    lam = _lam(lam)
    betas = np.geomspace(0.1, 10.0, 41) if betas is None else np.asarray(betas)
    alphas = np.geomspace(0.1, 10.0, 41) if alphas is None else np.asarray(alphas)
    rb = [global_maximum(lam, k, "beta_elbo", beta=b, sigma2=sigma2) for b in betas]
    ra = [global_maximum(lam, k, "relbo", alpha=a, sigma2=sigma2) for a in alphas]
    fig = Figure(figsize=(6.8, 5.2), layout="constrained")
    ax = fig.add_subplot()
    Rb, Db = np.array([p.rate for p in rb]), np.array([p.distortion for p in rb])
    Ra, Da = np.array([p.rate for p in ra]), np.array([p.distortion for p in ra])
    ax.plot(Rb, Db, "C3o-", ms=3, lw=1.2, label=r"$\beta$-ELBO optima ($\beta$ = 0.1 … 10)")
    ax.plot(Ra, Da, "C0s-", ms=3, lw=1.2, label=r"RELBO optima ($\alpha$ = 0.1 … 10)")
    i1 = int(np.argmin(np.abs(alphas - 1.0)))
    ax.plot(Ra[i1], Da[i1], "k*", ms=12, label=r"ELBO optimum ($\alpha$ = $\beta$ = 1)")
    R = np.linspace(0.0, max(Rb.max(), Ra.max()) * 1.05, 50)
    total = Ra[i1] + Da[i1]
    for c in total + np.array([-1.0, 0.0, 1.0, 2.0]):
        ax.plot(R, c - R, color="0.7", ls="--", lw=0.8)
    ax.plot([], [], color="0.7", ls="--", lw=0.8, label="constant D + R (1-nat steps)")
    ax.set_xlim(0.0, R[-1])
    ax.set_ylim(min(Db.min(), Da.min()) - 0.5, max(Db.max(), Da.max()) + 0.5)
    ax.set_xlabel("rate R (nats)")
    ax.set_ylabel("distortion D (nats)")
    ax.set_title(rf"Rate–distortion at the optima, k={k}, $\sigma^2$={sigma2:g}")
    ax.legend(fontsize=8)
    numbers = {"beta": betas.tolist(), "beta_rate": Rb.tolist(), "beta_distortion": Db.tolist(),
               "alpha": alphas.tolist(), "relbo_rate": Ra.tolist(),
               "relbo_distortion": Da.tolist(), "relbo_value": [p.value for p in ra]}
    caption = ("F6. Every RELBO optimum has the same decoder and value (maximum likelihood, "
               "alpha-free), yet alpha moves its encoder's split between rate and distortion: "
               "small alpha buys low rate with high distortion, and D + R = -ELBO is smallest at "
               "alpha = 1; the beta-ELBO's optima trade rate for distortion along their own curve "
               "and meet the RELBO family at the ELBO optimum.")
    return _finish(fig, caption, numbers)


def fig_basins(lam=None, k=3, sigma2=0.8, alphas=(0.1, 0.3, 1.0, 3.0, 10.0),
               betas=(0.5, 1.0, 2.0, 4.0), n_runs=10, random_state=0):
    r"""F7: basins of attraction of L-BFGS on the full objective from random starts: the fraction
    of runs reaching each stationary point, against alpha (RELBO) and beta (beta-ELBO)."""
    from .basins import basin_map

    lam = _lam(lam)
    fig = Figure(figsize=(10.5, 4.2), layout="constrained")
    axes = fig.subplots(1, 2)
    numbers = {"n_runs": n_runs}
    panels = (("relbo", alphas, r"$\alpha$"), ("beta_elbo", betas, r"$\beta$"))
    maps = [basin_map(lam, k, objective, params=params, n_runs=n_runs, sigma2=sigma2,
                      random_state=random_state) for objective, params, _ in panels]
    every = sorted({key for bm in maps for c in bm.fractions for key in c})
    color = {lab: f"C{i}" for i, lab in enumerate(every)}          # one colour per point
    for ax, (objective, params, sym), bm in zip(axes, panels, maps):
        labels = sorted({key for c in bm.fractions for key in c})
        x = np.arange(len(params))
        bottom = np.zeros(len(params))
        for lab in labels:
            h = np.array([fr.get(lab, 0.0) for fr in bm.fractions])
            ax.bar(x, h, bottom=bottom, color=color[lab], label=lab)
            bottom += h
        ax.set_xticks(x, [f"{p:g}" for p in params])
        ax.set_xlabel(sym)
        ax.set_ylabel(f"fraction of {n_runs} random starts")
        ax.set_ylim(0, 1.05)
        ax.set_title("RELBO" if objective == "relbo" else r"$\beta$-ELBO")
        ax.legend(fontsize=7, loc="lower right")
        numbers[objective] = {"params": list(map(float, params)), "fractions": bm.fractions}
    caption = (f"F7. Where gradient ascent from {n_runs} random starts ends, for each alpha and "
               "beta: every run reaches the global maximum (labelled by the eigen-directions it "
               "uses); saddles attract no run.")
    return _finish(fig, caption, numbers)
