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


def _rotate(W, theta):
    """``W R(theta)`` for each angle: columns 1 and 2 rotated, shape (len(theta), n, k)."""
    theta = np.asarray(theta, dtype=float)
    c, s = np.cos(theta), np.sin(theta)
    R = np.broadcast_to(np.eye(W.shape[1]), theta.shape + (W.shape[1],) * 2).copy()
    R[..., 0, 0], R[..., 0, 1], R[..., 1, 0], R[..., 1, 1] = c, -s, s, c
    return W @ R


def _axis_decoder(lam, k, sigma2, gamma):
    """The axis-aligned optimum: column j on eigen-direction j with squared norm
    ``max(lam_j - gamma sigma2, 0)`` (Theory §7, §9), taken from the optima atlas."""
    from .optima import global_maximum

    if gamma == 1.0:
        return global_maximum(lam, k, "loglik", sigma2=sigma2).W
    return global_maximum(lam, k, "beta_elbo", beta=gamma, sigma2=sigma2).W


def fig_rotation(lam=None, k=3, sigma2=0.8, alphas=(0.25, 1.0, 4.0), betas=(0.5, 1.0, 2.0),
                 thetas=None):
    r"""F3: the objective against the rotation angle of latent columns 1 and 2 at the optimum.

    The decoder sits at each objective's optimum on the top-k eigen-directions (squared column
    norms :math:`\max(\lambda_j - \gamma\sigma^2, 0)`, :math:`\gamma = 1` for the RELBO and the
    log-likelihood, :math:`\beta` for the beta-ELBO); columns 1 and 2 are rotated,
    :math:`W R(\theta)`, and the objective is re-evaluated (matrix closed forms of
    :mod:`gaussrelbo.objectives`) with the optimal *diagonal* encoder of the rotated decoder
    (:func:`~gaussrelbo.optimal_encoder`).  Plotted: objective minus its value at
    :math:`\theta = 0`.  Theory §8(c): the RELBO's curvature at 0 is
    :math:`-(m_1 - m_2)^2/(\alpha m_1 m_2)`, :math:`m_j = \|w_j\|^2 + \sigma^2` (stiffness
    :math:`\propto 1/\alpha`), drawn dotted; the pPCA log-likelihood is flat.  A third panel
    shows that stiffness, measured by a five-point finite difference of the objective, against
    :math:`\alpha` (RELBO) and :math:`1/\beta` (beta-ELBO, while columns 1 and 2 are active).

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
    """
    from .encoders import optimal_encoder
    from .model import DataMoments, LinearGaussianVAE
    from .objectives import beta_elbo
    from .optima import global_maximum, rotation_stiffness

    lam = _lam(lam)
    n = lam.size
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 2 <= k <= n:
        raise ValueError(f"`k` must be an integer in [2, n={n}] (two columns are rotated), "
                         f"got {k!r}")
    thetas = np.linspace(-np.pi / 2, np.pi / 2, 181) if thetas is None else np.asarray(thetas)
    data = DataMoments.from_spectrum(lam)
    zeros = (np.zeros(n), sigma2, np.zeros((k, n)), np.zeros(k), np.ones(k))

    def curve(th, gamma, objective, param):
        """Objective of the rotated, optimally encoded models minus its value at theta = 0."""
        W0 = _axis_decoder(lam, k, sigma2, gamma)
        kw = {"beta": param} if objective == "beta_elbo" else {"alpha": param}
        value = {"relbo": lambda m: relbo(m, data, param),
                 "loglik": lambda m: log_evidence(m, data),
                 "beta_elbo": lambda m: beta_elbo(m, data, param)}[objective]
        enc = "beta_elbo" if objective == "beta_elbo" else "relbo"
        y, y0 = (np.asarray(value(optimal_encoder(LinearGaussianVAE(W, *zeros), enc,
                                                  diagonal=True, **kw)), dtype=float)
                 for W in (_rotate(W0, th), W0))
        return y - y0

    h = 1e-2                                   # five-point stencil for d2/dtheta2 at 0

    def curvature(gamma, objective, param):
        f = curve(h * np.array([-2.0, -1.0, 1.0, 2.0]), gamma, objective, param)
        return float((-f[0] + 16 * f[1] + 16 * f[2] - f[3]) / (12 * h * h))

    fig = Figure(figsize=(14.0, 5.0), layout="constrained")
    axr, axb, axs = fig.subplots(1, 3)
    numbers = {"theta": thetas.tolist(), "k": int(k), "sigma2": float(sigma2),
               "lam": lam.tolist(), "relbo": {}, "beta_elbo": {},
               "predicted_relbo_curvature": {}}
    for a in alphas:
        y = curve(thetas, 1.0, "relbo", a)
        axr.plot(thetas, y, lw=1.5, label=rf"RELBO, $\alpha$={a:g}")
        numbers["relbo"][f"{a:g}"] = y.tolist()
    ll = curve(thetas, 1.0, "loglik", 1.0)
    axr.plot(thetas, ll, "k--", lw=1.2, label=r"pPCA log-likelihood $\log p(x)$")
    numbers["loglik"] = ll.tolist()
    # Theory §8(c) second-order prediction, dotted, near theta = 0
    axr.set_ylim(*axr.get_ylim())
    near = thetas[np.abs(thetas) <= 0.3]
    for i, a in enumerate(alphas):
        point = global_maximum(lam, k, "relbo", alpha=a, sigma2=sigma2)
        c2 = float(rotation_stiffness(point, a)[0, 1])
        numbers["predicted_relbo_curvature"][f"{a:g}"] = c2
        axr.plot(near, 0.5 * c2 * near**2, ":", color=f"C{i}", lw=2.0,
                 label=r"$\frac{1}{2}\,\theta^2\,d^2F/d\theta^2$ (Theory §8(c))" if i == 0
                 else None)
    for b in betas:
        y = curve(thetas, b, "beta_elbo", b)
        axb.plot(thetas, y, lw=1.5, label=rf"$\beta$-ELBO, $\beta$={b:g}")
        numbers["beta_elbo"][f"{b:g}"] = y.tolist()
    for ax, title in ((axr, "RELBO at its optimum (diagonal encoder)"),
                      (axb, r"$\beta$-ELBO at its optimum (diagonal encoder)")):
        ax.set_xlabel(r"rotation angle $\theta$ of latent columns 1, 2 (rad)")
        ax.set_ylabel(r"objective $-$ its value at $\theta=0$ (nats)")
        ax.set_title(title)
        ax.axvline(0.0, color="0.6", lw=0.8, ls=":")
    # stiffness at theta = 0 against alpha and 1/beta
    grid = np.geomspace(0.1, 10.0, 13)
    pred = [float(rotation_stiffness(global_maximum(lam, k, "relbo", alpha=a, sigma2=sigma2),
                                     a)[0, 1]) for a in grid]
    fd_a = [curvature(1.0, "relbo", a) for a in grid]
    live = [float(b) for b in 1.0 / grid if lam[1] > b * sigma2]   # columns 1, 2 active
    fd_b = [curvature(b, "beta_elbo", b) for b in live]
    axs.loglog(grid, -np.array(pred), "k-", lw=1.2,
               label=r"RELBO, Theory §8(c): $(m_1-m_2)^2/(\alpha m_1 m_2)$")
    axs.loglog(grid, -np.array(fd_a), "o", color="C0", mfc="none", ms=7,
               label="RELBO, finite difference of the objective")
    axs.loglog(1.0 / np.array(live), -np.array(fd_b), "x", color="C3", ms=6,
               label=r"$\beta$-ELBO at $\beta = 1/x$, finite difference")
    axs.set_xlabel(r"$x = \alpha$ (RELBO) or $1/\beta$ ($\beta$-ELBO)")
    axs.set_ylabel(r"stiffness $-d^2F/d\theta^2$ at $\theta=0$ (nats/rad$^2$)")
    axs.set_title(r"Rotational stiffness $\propto 1/\alpha$")
    numbers["stiffness"] = {"alpha": grid.tolist(), "relbo_predicted": pred,
                            "relbo_finite_difference": fd_a, "beta": live,
                            "beta_elbo_finite_difference": fd_b, "step": h}
    for ax in (axr, axb, axs):
        ax.legend(fontsize=7.5, loc="upper center", bbox_to_anchor=(0.5, -0.16),
                  ncol=2 if ax is not axs else 1)
    caption = ("F3. Rotating two latent columns away from the optimum (optimal diagonal encoder "
               "re-fitted at every angle) costs the RELBO (m1 - m2)^2/(alpha m1 m2) theta^2/2 nats "
               "to second order (dotted, |theta| <= 0.3; m_j = lambda_j at the optimum): the "
               "stiffness falls as 1/alpha (right: finite differences on the Theory §8(c) line), "
               "while the pPCA log-likelihood is exactly flat. The beta-ELBO is curved the same "
               "way with beta in place of 1/alpha, so its stiffness grows with beta. At "
               "theta = +-pi/2 the columns are swapped and every value returns.")
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


def _with_steps(grid, thresholds):
    """``grid`` with each threshold (inside its range) and a point 1e-12 above it added, so a
    ``where="post"`` step drawn through the counts changes exactly at the threshold."""
    thr = np.asarray(thresholds, dtype=float)
    thr = thr[(thr >= grid.min()) & (thr <= grid.max())]
    return np.unique(np.concatenate([grid, thr, thr * (1.0 + 1e-12)]))


def fig_collapse(lam=None, sigma2=None, k=None, betas=None, alphas=None):
    r"""F5: collapse phase diagram on a real spectrum (default: the embedded digits spectrum).

    Active latent dimensions (non-zero columns) of the global optimum
    (:func:`~gaussrelbo.optima.global_maximum`, optimal diagonal encoder) of the beta-ELBO
    against :math:`\beta` at fixed :math:`\sigma^2`; of the ELBO (beta = 1) and of the RELBO
    against the noise level :math:`\sigma^2/\lambda_1`; and of the RELBO against
    :math:`\alpha`.  Theory §9: dimension j collapses iff :math:`\lambda_j \le \beta\sigma^2`;
    the RELBO's optimum is the pPCA maximum-likelihood point for every alpha (Theory §7), so it
    keeps every dimension with :math:`\lambda_j > \sigma^2` whatever alpha.

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
    """
    from .datasets import load_spectrum
    from .optima import collapse_thresholds, global_maximum

    lam = load_spectrum("digits") if lam is None else np.asarray(lam, dtype=float)
    n = lam.size
    k = min(10, n - 1) if k is None else k
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k < n:
        raise ValueError(f"`k` must be an integer in [1, n-1={n - 1}], got {k!r}")
    sigma2 = float(lam[k:].mean()) if sigma2 is None else float(sigma2)
    thr = collapse_thresholds(lam[:k], sigma2)                 # lambda_j / sigma2, j <= k
    betas = (np.geomspace(min(0.1, 0.5 * thr.min()), 2.0 * thr.max(), 120) if betas is None
             else np.asarray(betas, dtype=float))
    betas = _with_steps(betas, thr)
    alphas = np.geomspace(0.01, 100.0, 41) if alphas is None else np.asarray(alphas, dtype=float)
    ratio_thr = collapse_thresholds(lam[:k], lam[0])           # lambda_j / lambda_1
    ratios = _with_steps(np.geomspace(min(0.25 * ratio_thr.min(), 0.5 * sigma2 / lam[0]), 2.0,
                                      120), ratio_thr)

    def active(objective, s2, **kw):
        return int(global_maximum(lam, k, objective, sigma2=s2, **kw).active)

    act_b = [active("beta_elbo", sigma2, beta=b) for b in betas]
    act_s = [active("beta_elbo", r * lam[0], beta=1.0) for r in ratios]
    a_show = float(np.min(alphas))
    sparse = ratios[:: max(1, ratios.size // 40)]
    act_sr = [active("relbo", r * lam[0], alpha=a_show) for r in sparse]
    act_a = [active("relbo", sigma2, alpha=a) for a in alphas]
    kept = int(np.sum(lam[:k] > sigma2))

    fig = Figure(figsize=(14.0, 4.6), layout="constrained")
    ax1, ax2, ax3 = fig.subplots(1, 3)
    for j, t in enumerate(thr):
        ax1.axvline(t, color="0.8", lw=0.6, zorder=0,
                    label=r"thresholds $\lambda_j/\sigma^2$, $j \leq k$" if j == 0 else None)
    ax1.axvline(1.0, color="C1", lw=1.0, ls="--", label=r"$\beta$ = 1 (ELBO)")
    ax1.step(betas, act_b, where="post", lw=1.6, color="C0", label=r"$\beta$-ELBO optimum")
    ax1.set_xscale("log")
    ax1.set_xlabel(r"$\beta$")
    ax1.set_title(rf"$\beta$-ELBO against $\beta$ ($\sigma^2$ = {sigma2:.3g}, k = {k})")
    ax1.legend(fontsize=8, loc="lower left")
    for j, t in enumerate(ratio_thr):
        ax2.axvline(t, color="0.8", lw=0.6, zorder=0,
                    label=r"thresholds $\lambda_j/\lambda_1$" if j == 0 else None)
    ax2.step(ratios, act_s, where="post", lw=1.6, color="C1", label=r"ELBO ($\beta$ = 1) optimum")
    ax2.plot(sparse, act_sr, "o", color="C2", mfc="none", ms=5,
             label=rf"RELBO optimum, $\alpha$ = {a_show:g} (any $\alpha$)")
    ax2.axvline(sigma2 / lam[0], color="k", lw=0.8, ls=":",
                label=rf"$\sigma^2/\lambda_1$ of the other panels ({sigma2 / lam[0]:.3g})")
    ax2.set_xscale("log")
    ax2.set_xlabel(r"noise level $\sigma^2/\lambda_1$")
    ax2.set_title("ELBO and RELBO against the noise level")
    ax2.legend(fontsize=8, loc="lower left")
    ax3.axhline(kept, color="0.5", lw=3.0, alpha=0.5,
                label=rf"#{{$j \leq k$: $\lambda_j > \sigma^2$}} = {kept}")
    ax3.plot(alphas, act_a, "C2o-", ms=3.5, lw=1.2, label="RELBO optimum")
    ax3.set_xscale("log")
    ax3.set_xlabel(r"$\alpha$")
    ax3.set_title(rf"RELBO against $\alpha$ ($\sigma^2$ = {sigma2:.3g})")
    ax3.legend(fontsize=8, loc="lower left")
    for ax in (ax1, ax2, ax3):
        ax.set_ylabel("active latent dimensions")
        ax.set_ylim(-0.5, k + 0.5)
    numbers = {"lam": lam.tolist(), "k": int(k), "sigma2": sigma2, "beta": betas.tolist(),
               "active_vs_beta": act_b, "thresholds": thr.tolist(),
               "sigma2_over_lam1": ratios.tolist(), "active_vs_sigma2": act_s,
               "relbo_alpha_vs_sigma2": a_show, "relbo_sigma2_over_lam1": sparse.tolist(),
               "relbo_active_vs_sigma2": act_sr, "alpha": alphas.tolist(),
               "active_vs_alpha": act_a, "relbo_kept": kept}
    caption = ("F5. The beta-ELBO switches latent dimensions off one at a time, each exactly "
               "where beta reaches lambda_j/sigma^2 (grey), and likewise as the noise level "
               "sigma^2 grows; the RELBO does collapse with noise (dimension j goes once "
               "sigma^2 >= lambda_j, exactly as the ELBO) but never with alpha: its optimum is "
               f"the maximum-likelihood point, so it keeps all {kept} dimensions with "
               "lambda_j > sigma^2 for every alpha.")
    return _finish(fig, caption, numbers)


def _nice_step(x):
    """The smallest of 1, 2, 5 times a power of ten that is >= x (x > 0)."""
    p = 10.0 ** np.floor(np.log10(x))
    return float(next(m * p for m in (1, 2, 5, 10) if m * p >= x))


def fig_rate_distortion(lam=None, k=3, sigma2=0.8, betas=None, alphas=None):
    r"""F6: the rate-distortion plane at the optima: the beta-family of beta-ELBO optima against
    the alpha-family of RELBO optima, with lines of constant D + R.

    Each point is a global optimum (:func:`~gaussrelbo.optima.global_maximum`: decoder at the
    optimum, b at the data mean, optimal diagonal encoder), scored by :func:`~gaussrelbo.rate`
    and :func:`~gaussrelbo.distortion`.  The RELBO's decoder is the maximum-likelihood one for
    every alpha and its value is the maximum log-likelihood, but its encoder variance
    :math:`\sigma^2/(\alpha\lambda_j)` moves the rate/distortion split (Theory §10); the
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
    """
    from .optima import global_maximum

    lam = _lam(lam)
    betas = np.geomspace(0.1, 10.0, 41) if betas is None else np.asarray(betas, dtype=float)
    alphas = np.geomspace(0.1, 10.0, 41) if alphas is None else np.asarray(alphas, dtype=float)
    rb = [global_maximum(lam, k, "beta_elbo", beta=b, sigma2=sigma2) for b in betas]
    ra = [global_maximum(lam, k, "relbo", alpha=a, sigma2=sigma2) for a in alphas]
    e1 = global_maximum(lam, k, "elbo", sigma2=sigma2)              # alpha = beta = 1
    ll_ml = global_maximum(lam, k, "loglik", sigma2=sigma2).value
    Rb, Db = np.array([p.rate for p in rb]), np.array([p.distortion for p in rb])
    Ra, Da = np.array([p.rate for p in ra]), np.array([p.distortion for p in ra])
    fig = Figure(figsize=(7.2, 5.6), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(Rb, Db, "C3o-", ms=3, lw=1.2,
            label=rf"$\beta$-ELBO optima ($\beta$ = {betas.min():g} … {betas.max():g})")
    ax.plot(Ra, Da, "C0s-", ms=3, lw=1.2,
            label=rf"RELBO optima ($\alpha$ = {alphas.min():g} … {alphas.max():g})")
    ax.plot(e1.rate, e1.distortion, "k*", ms=12, label=r"ELBO optimum ($\alpha$ = $\beta$ = 1)")
    top = max(Rb.max(), Ra.max(), e1.rate) * 1.08
    R = np.linspace(0.0, top, 50)
    ax.plot(R, -ll_ml - R, color="k", ls="--", lw=1.0,
            label=r"$D + R = -\log p_{ML}$ (= $-$RELBO optimum, every $\alpha$)")
    excess = max(np.max(Rb + Db), np.max(Ra + Da)) + ll_ml      # largest D + R above the bound
    step = _nice_step(excess / 8.0)
    for c in -ll_ml + step * np.arange(1, int(excess / step) + 2):
        ax.plot(R, c - R, color="0.75", ls="--", lw=0.7)
    ax.plot([], [], color="0.75", ls="--", lw=0.7, label=f"constant D + R, {step:g}-nat steps")
    for name, x, y, par, col in (("alpha", Ra, Da, alphas, "C0"), ("beta", Rb, Db, betas, "C3")):
        for i in (int(np.argmin(par)), int(np.argmax(par))):
            sym = r"\alpha" if name == "alpha" else r"\beta"
            ax.annotate(rf"${sym}$={par[i]:g}", (x[i], y[i]), textcoords="offset points",
                        xytext=(6, 4), fontsize=8, color=col)
    ax.set_xlim(0.0, top)
    lo, hi = min(Db.min(), Da.min()), max(Db.max(), Da.max())
    ax.set_ylim(lo - 0.05 * (hi - lo) - 0.1, hi + 0.08 * (hi - lo) + 0.1)
    ax.set_xlabel("rate R (nats)")
    ax.set_ylabel("distortion D (nats)")
    ax.set_title(rf"Rate–distortion at the optima, k={k}, $\sigma^2$={sigma2:g}")
    ax.legend(fontsize=8, loc="upper right")
    numbers = {"lam": lam.tolist(), "k": int(k), "sigma2": float(sigma2),
               "beta": betas.tolist(), "beta_rate": Rb.tolist(), "beta_distortion": Db.tolist(),
               "beta_value": [p.value for p in rb], "alpha": alphas.tolist(),
               "relbo_rate": Ra.tolist(), "relbo_distortion": Da.tolist(),
               "relbo_value": [p.value for p in ra], "relbo_active": [p.active for p in ra],
               "elbo_rate": e1.rate, "elbo_distortion": e1.distortion, "loglik_ml": ll_ml}
    caption = ("F6. Every RELBO optimum has the same decoder and value (the maximum "
               "log-likelihood, alpha-free), yet alpha moves its encoder's split between rate and "
               "distortion: lowering alpha below 1 widens the encoder (variance "
               "sigma^2/(alpha lambda_j)), trading rate for distortion until the variance passes "
               "the prior's (alpha < sigma^2/lambda_j), after which the rate rises again; raising "
               "alpha narrows it, costing rate. D + R = -ELBO of that encoder exceeds "
               "-log p_ML by (k/2)(log alpha + 1/alpha - 1) (a zero column's encoder "
               "N(0, 1/alpha) pays rate too), so it touches the bound only at alpha = 1; the "
               "beta-ELBO's optima trade rate for distortion along their own curve and meet the "
               "RELBO family at the ELBO optimum.")
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
        ax.set_ylim(0, 1.3)            # room for the legend above the bars
        ax.set_yticks(np.linspace(0.0, 1.0, 6))
        ax.set_title("RELBO" if objective == "relbo" else r"$\beta$-ELBO")
        ax.legend(fontsize=7, loc="upper center", ncol=2)
        numbers[objective] = {"params": list(map(float, params)), "fractions": bm.fractions}
    caption = (f"F7. Where gradient ascent from {n_runs} random starts ends, for each alpha and "
               "beta: every run reaches the global maximum (labelled by the eigen-directions it "
               "uses); saddles attract no run.")
    return _finish(fig, caption, numbers)
