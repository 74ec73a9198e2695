r"""The numbers behind every figure: each function returns the arrays a figure of
:mod:`gaussrelbo.figures` draws (plain dicts of numpy arrays and floats), so that the figures only
draw and a user can take the numbers instead.  :func:`to_json` turns a result into JSON-ready
lists (``numbers.json`` of ``gaussrelbo report``).

The closed forms are those of the Theory docs page; the two-column landscape evaluates the
generated spectral kernels of ``gaussrelbo._generated`` on the whole grid at once.
"""

import re

import numpy as np

from . import _generated as g
from .objectives import elbo, log_evidence, relbo, relbo_expansion, vr_bound

__all__ = ["alpha_limit", "basins", "bounds_vs_alpha", "collapse", "landscape", "point_label",
           "rate_distortion", "reading_collapse", "reading_rate_distortion", "rotation",
           "to_json"]


def to_json(obj):
    """``obj`` with numpy arrays and scalars turned into lists and floats (NaN and inf -> None).

    Parameters
    ----------
    obj : dict, list, tuple, ndarray or scalar
        A result of this module (nested containers allowed).

    Returns
    -------
    dict, list, float, int, bool, str or None
        The same structure, JSON-ready.
    """
    if isinstance(obj, dict):
        return {str(k): to_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_json(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_json(obj.tolist())
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if np.isfinite(obj) else None
    return obj


def _lam(lam):
    from .datasets import load_spectrum
    return load_spectrum("synthetic") if lam is None else np.asarray(lam, dtype=float)


# ---- F1, F2: one model --------------------------------------------------------------------------

def alpha_limit(model, data, deltas=None):
    r"""RELBO minus ELBO on both sides of :math:`\alpha = 1`, free of cancellation.

    Parameters
    ----------
    model : LinearGaussianVAE
        Unbatched model.
    data : DataMoments or array_like, shape (n,)
        Population moments or one point.
    deltas : array_like, optional
        Distances :math:`|\alpha - 1|` (default: 47 values from 1e-12 to 10^-0.5).

    Returns
    -------
    dict
        ``above`` and ``below`` (``abs_alpha_minus_1``, ``abs_difference``, ``abs_remainder``:
        arrays) and ``first_order_coefficient`` :math:`H(p(z|x)) - H(q)`.
    """
    deltas = 10.0 ** np.linspace(-12, -0.5, 47) if deltas is None else np.asarray(deltas)
    out = {}
    for sign, side in ((1.0, "above"), (-1.0, "below")):
        alpha = 1.0 + sign * deltas
        diff, coef, rem = relbo_expansion(model, data, alpha)
        out[side] = {"abs_alpha_minus_1": np.abs(alpha - 1.0), "abs_difference": np.abs(diff),
                     "abs_remainder": np.abs(rem)}
    out["first_order_coefficient"] = float(np.ravel(coef)[0])
    return out


def bounds_vs_alpha(model, data, alphas=None, vr_alphas=None):
    r""":math:`\log p(x)`, the ELBO, :math:`\mathrm{RELBO}_\alpha` and Li & Turner's bound.

    Parameters
    ----------
    model : LinearGaussianVAE
        Unbatched model.
    data : DataMoments or array_like, shape (n,)
        Population moments or one point (the curves are scalars in alpha).
    alphas : array_like, optional
        RELBO orders (default: 121 values on [0.1, 10], log-spaced).
    vr_alphas : array_like, optional
        Orders of Li & Turner's Renyi divergence, a different parameter (default: ``alphas``).

    Returns
    -------
    dict
        ``alpha``, ``relbo``, ``vr_alpha``, ``vr_bound`` (arrays; the VR bound is ``-inf`` where
        it diverges), ``log_evidence`` and ``elbo`` (floats).
    """
    alphas = np.geomspace(0.1, 10.0, 121) if alphas is None else np.asarray(alphas, float)
    vr_alphas = alphas if vr_alphas is None else np.asarray(vr_alphas, float)
    rel = np.asarray(relbo(model, data, alphas), dtype=float)
    if rel.shape != alphas.shape:
        raise ValueError("`data` must be a DataMoments or a single point for this figure")
    return {"alpha": alphas, "relbo": rel, "vr_alpha": vr_alphas,
            "vr_bound": np.asarray(vr_bound(model, data, vr_alphas), dtype=float),
            "log_evidence": float(log_evidence(model, data)), "elbo": float(elbo(model, data))}


# ---- F4: two-column landscape -------------------------------------------------------------------

def landscape(lam=None, sigma2=0.8, objective="relbo", alpha=0.5, beta=2.0, n_grid=121):
    r"""Profiled objective over the squared norms :math:`(\|w_1\|^2, \|w_2\|^2)` of two columns
    on the top two eigen-directions (k = 2, optimal diagonal encoder), and its stationary points
    in that plane.

    Parameters
    ----------
    lam : array_like, shape (n,), optional
        Eigenvalues of the data covariance, descending (default: the synthetic spectrum).
    sigma2 : float
        Fixed decoder noise.
    objective : {'relbo', 'loglik', 'elbo', 'beta_elbo'}, default 'relbo'
        Profiled objective.  The RELBO (every alpha), the ELBO and the log-likelihood have the
        same profile here (Theory §10): the grid is the same for each.
    alpha, beta : float
        Renyi order (``'relbo'``) and rate weight (``'beta_elbo'``).
    n_grid : int
        Grid points per axis.

    Returns
    -------
    dict
        ``w1_sq``, ``w2_sq`` (shape ``(n_grid,)``), ``value`` (shape ``(n_grid, n_grid)``,
        rows along ``w2_sq``), ``gamma`` (1, or beta), ``points`` (list of dicts: ``subset``,
        ``kind``, ``w1_sq``, ``w2_sq``, ``value``) and ``max_on_grid``.
    """
    from .optima import stationary_points

    lam = _lam(lam)
    gamma = beta if objective == "beta_elbo" else 1.0
    top = max(lam[0] - gamma * sigma2, lam[0] / 4) * 1.4
    q = np.linspace(0.0, top, n_grid)
    w = np.sqrt(q)
    if objective == "beta_elbo":
        f1, f2 = g.f_beta_opt(lam[0], w, sigma2, beta), g.f_beta_opt(lam[1], w, sigma2, beta)
    else:
        f1, f2 = g.f_loglik(lam[0], w, sigma2), g.f_loglik(lam[1], w, sigma2)
    rest = float(np.sum(g.f_unused(lam[2:], sigma2)))
    value = f2[:, None] + f1[None, :] + rest
    kw = {"beta": beta} if objective == "beta_elbo" else (
        {"alpha": alpha} if objective == "relbo" else {})
    atlas = stationary_points(lam, 2, objective, sigma2=sigma2, nonorthogonal=False, **kw)
    points = []
    for p in atlas.points:
        if set(p.subset) <= {0, 1}:
            norms = np.sum(p.W**2, axis=0)
            x = norms[0] if 0 in p.subset else 0.0
            y = norms[list(p.subset).index(1)] if 1 in p.subset else 0.0
            points.append({"subset": [int(j) for j in p.subset], "kind": p.kind,
                           "w1_sq": float(x), "w2_sq": float(y), "value": float(p.value)})
    return {"w1_sq": q, "w2_sq": q.copy(), "value": value, "gamma": float(gamma),
            "points": points, "max_on_grid": float(value.max())}


# ---- F3: rotation -------------------------------------------------------------------------------

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


def rotation(lam=None, k=3, sigma2=0.8, alphas=(0.25, 1.0, 4.0), betas=(0.5, 1.0, 2.0),
             thetas=None, stiffness_grid=None):
    r"""Objective against the rotation angle of latent columns 1 and 2 at the optimum, and the
    rotational stiffness at :math:`\theta = 0`.

    Parameters
    ----------
    lam : array_like, shape (n,), optional
        Eigenvalues of the data covariance, descending (default: the synthetic spectrum).
    k : int
        Latent dimensions, 2 <= k <= n.
    sigma2 : float
        Fixed decoder noise.
    alphas, betas : sequence of float
        RELBO orders and beta-ELBO rate weights.
    thetas : array_like, optional
        Angles in radians (default: 181 points on [-pi/2, pi/2]).
    stiffness_grid : array_like, optional
        Values of alpha (and 1/beta) for the stiffness (default: 13 on [0.1, 10]).

    Returns
    -------
    dict
        ``theta``; ``relbo`` and ``beta_elbo`` (parameter label -> objective minus its value at
        0); ``loglik``; ``predicted_relbo_curvature`` (label -> Theory §8(c)); ``stiffness``
        (``alpha``, ``relbo_predicted``, ``relbo_finite_difference``, ``beta``,
        ``beta_elbo_finite_difference``, ``step``); ``k``, ``sigma2``, ``lam``.
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

    def curve(th, gamma, objective, param):
        W0 = _axis_decoder(lam, k, sigma2, gamma)
        kw = {"beta": param} if objective == "beta_elbo" else {"alpha": param}
        value = {"relbo": lambda m: relbo(m, data, param),
                 "loglik": lambda m: log_evidence(m, data),
                 "beta_elbo": lambda m: beta_elbo(m, data, param)}[objective]
        enc = "beta_elbo" if objective == "beta_elbo" else "relbo"

        def model(W):
            dec = LinearGaussianVAE(W, np.zeros(n), sigma2, V=np.zeros((k, n)), c=np.zeros(k),
                                    D=np.ones(k))
            return optimal_encoder(dec, enc, diagonal=True, **kw)

        y, y0 = (np.asarray(value(model(W)), dtype=float) for W in (_rotate(W0, th), W0))
        return y - y0

    h = 1e-2                                   # five-point stencil for d2/dtheta2 at 0

    def curvature(gamma, objective, param):
        f = curve(h * np.array([-2.0, -1.0, 1.0, 2.0]), gamma, objective, param)
        return float((-f[0] + 16 * f[1] + 16 * f[2] - f[3]) / (12 * h * h))

    out = {"theta": thetas, "k": int(k), "sigma2": float(sigma2), "lam": lam,
           "relbo": {f"{a:g}": curve(thetas, 1.0, "relbo", a) for a in alphas},
           "loglik": curve(thetas, 1.0, "loglik", 1.0),
           "beta_elbo": {f"{b:g}": curve(thetas, b, "beta_elbo", b) for b in betas},
           "predicted_relbo_curvature": {
               f"{a:g}": float(rotation_stiffness(
                   global_maximum(lam, k, "relbo", alpha=a, sigma2=sigma2), a)[0, 1])
               for a in alphas}}
    grid = np.geomspace(0.1, 10.0, 13) if stiffness_grid is None else np.asarray(stiffness_grid)
    pred = [float(rotation_stiffness(global_maximum(lam, k, "relbo", alpha=a, sigma2=sigma2),
                                     a)[0, 1]) for a in grid]
    live = [float(b) for b in 1.0 / grid if lam[1] > b * sigma2]   # columns 1, 2 active
    out["stiffness"] = {"alpha": grid, "relbo_predicted": np.array(pred),
                        "relbo_finite_difference": np.array([curvature(1.0, "relbo", a)
                                                             for a in grid]),
                        "beta": np.array(live),
                        "beta_elbo_finite_difference": np.array(
                            [curvature(b, "beta_elbo", b) for b in live]),
                        "step": h}
    return out


# ---- F5: collapse --------------------------------------------------------------------------------

def _with_steps(grid, thresholds):
    """``grid`` with each threshold (inside its range) and a point 1e-12 above it added, so a
    ``where="post"`` step drawn through the counts changes exactly at the threshold."""
    thr = np.asarray(thresholds, dtype=float)
    thr = thr[(thr >= grid.min()) & (thr <= grid.max())]
    return np.unique(np.concatenate([grid, thr, thr * (1.0 + 1e-12)]))


def _collapse_problem(lam, k):
    """Spectrum and k of a collapse figure: the embedded digits spectrum by default, and
    1 <= k < n (default min(10, n - 1))."""
    from .datasets import load_spectrum

    lam = load_spectrum("digits") if lam is None else np.asarray(lam, dtype=float)
    n = lam.size
    k = min(10, n - 1) if k is None else k
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k < n:
        raise ValueError(f"`k` must be an integer in [1, n-1={n - 1}], got {k!r}")
    return lam, int(k)


def _fixed_sigma2(lam, k, sigma2):
    """The fixed noise of a collapse or readings figure: ``sigma2``, or the pPCA
    maximum-likelihood value (the mean of the discarded eigenvalues)."""
    return float(lam[k:].mean()) if sigma2 is None else float(sigma2)


def collapse(lam=None, sigma2=None, k=None, betas=None, alphas=None):
    r"""Active latent dimensions of the global optimum against beta, the noise level and alpha.

    Parameters
    ----------
    lam : array_like, shape (n,), optional
        Eigenvalues, descending (default: the embedded digits spectrum).
    sigma2 : float, optional
        Fixed decoder noise (default: the mean of :math:`\lambda_{k+1..n}`).
    k : int, optional
        Latent dimensions, 1 <= k < n (default: min(10, n - 1)).
    betas, alphas : array_like, optional
        Grids; the thresholds inside a grid are added to it.

    Returns
    -------
    dict
        ``lam``, ``k``, ``sigma2``, ``beta``/``active_vs_beta``, ``thresholds``,
        ``sigma2_over_lam1``/``active_vs_sigma2`` (ELBO), ``relbo_sigma2_over_lam1``/
        ``relbo_active_vs_sigma2`` (RELBO at ``relbo_alpha_vs_sigma2``), ``alpha``/
        ``active_vs_alpha`` and ``relbo_kept`` = #{j <= k: lambda_j > sigma2}.
    """
    from .optima import collapse_thresholds, global_maximum

    lam, k = _collapse_problem(lam, k)
    sigma2 = _fixed_sigma2(lam, k, sigma2)
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

    a_show = float(np.min(alphas))
    sparse = ratios[:: max(1, ratios.size // 40)]
    return {"lam": lam, "k": int(k), "sigma2": sigma2, "beta": betas,
            "active_vs_beta": np.array([active("beta_elbo", sigma2, beta=b) for b in betas]),
            "thresholds": np.asarray(thr), "ratio_thresholds": np.asarray(ratio_thr),
            "sigma2_over_lam1": ratios,
            "active_vs_sigma2": np.array([active("beta_elbo", r * lam[0], beta=1.0)
                                          for r in ratios]),
            "relbo_alpha_vs_sigma2": a_show, "relbo_sigma2_over_lam1": sparse,
            "relbo_active_vs_sigma2": np.array([active("relbo", r * lam[0], alpha=a_show)
                                                for r in sparse]),
            "alpha": alphas,
            "active_vs_alpha": np.array([active("relbo", sigma2, alpha=a) for a in alphas]),
            "relbo_kept": int(np.sum(lam[:k] > sigma2))}


# ---- F6: rate and distortion at the optima ------------------------------------------------------

def rate_distortion(lam=None, k=3, sigma2=0.8, betas=None, alphas=None):
    r"""Rate and distortion of the global optima of the beta-ELBO (against beta) and of the
    RELBO (against alpha).

    Parameters
    ----------
    lam : array_like, shape (n,), optional
        Eigenvalues, descending (default: the synthetic spectrum).
    k : int
        Latent dimensions.
    sigma2 : float
        Fixed decoder noise.
    betas, alphas : array_like, optional
        The two families (default: 41 values each on [0.1, 10], log-spaced).

    Returns
    -------
    dict
        ``beta``, ``beta_rate``, ``beta_distortion``, ``beta_value``, ``alpha``, ``relbo_rate``,
        ``relbo_distortion``, ``relbo_value``, ``relbo_active`` (arrays), ``elbo_rate``,
        ``elbo_distortion``, ``loglik_ml`` (floats), ``lam``, ``k``, ``sigma2``.
    """
    from .optima import global_maximum

    lam = _lam(lam)
    betas = np.geomspace(0.1, 10.0, 41) if betas is None else np.asarray(betas, dtype=float)
    alphas = np.geomspace(0.1, 10.0, 41) if alphas is None else np.asarray(alphas, dtype=float)
    rb = [global_maximum(lam, k, "beta_elbo", beta=b, sigma2=sigma2) for b in betas]
    ra = [global_maximum(lam, k, "relbo", alpha=a, sigma2=sigma2) for a in alphas]
    e1 = global_maximum(lam, k, "elbo", sigma2=sigma2)              # alpha = beta = 1
    return {"lam": lam, "k": int(k), "sigma2": float(sigma2), "beta": betas,
            "beta_rate": np.array([p.rate for p in rb]),
            "beta_distortion": np.array([p.distortion for p in rb]),
            "beta_value": np.array([p.value for p in rb]), "alpha": alphas,
            "relbo_rate": np.array([p.rate for p in ra]),
            "relbo_distortion": np.array([p.distortion for p in ra]),
            "relbo_value": np.array([p.value for p in ra]),
            "relbo_active": np.array([p.active for p in ra]),
            "elbo_rate": float(e1.rate), "elbo_distortion": float(e1.distortion),
            "loglik_ml": float(global_maximum(lam, k, "loglik", sigma2=sigma2).value)}


# ---- F7: basins ----------------------------------------------------------------------------------

_LABEL = re.compile(r"subset=\(([0-9, ]*)\)\s*([A-Za-z_-]+)")


def _kind(key):
    m = _LABEL.fullmatch(key.strip())
    return m.group(2) if m else key.strip().rsplit(" ", 1)[-1]


def point_label(key):
    """A basin label such as ``"subset=(0, 1, 2) maximum"`` in words and mathtext:
    ``"maximum on $\\lambda_{1}, \\lambda_{2}, \\lambda_{3}$"``.  Other labels are returned as
    they are, with underscores as spaces.

    Parameters
    ----------
    key : str
        A label of :attr:`gaussrelbo.basins.BasinMap.counts`.

    Returns
    -------
    str
        The label for a legend.
    """
    m = _LABEL.fullmatch(key.strip())
    if not m:
        return key.replace("_", " ")
    idx = [int(j) + 1 for j in m.group(1).replace(" ", "").split(",") if j]
    where = (", ".join(rf"$\lambda_{{{j}}}$" for j in idx) if idx else "no direction ($W = 0$)")
    return f"{m.group(2)} on {where}"


def basins(lam=None, k=3, sigma2=0.8, alphas=(0.1, 0.3, 1.0, 3.0, 10.0),
           betas=(0.5, 1.0, 2.0, 4.0), n_runs=10, random_state=0):
    r"""Where L-BFGS from random starts ends, for each alpha (RELBO) and beta (beta-ELBO), through
    :func:`gaussrelbo.basin_map`.

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
    dict
        ``n_runs`` and, for ``relbo`` and ``beta_elbo``: ``params``, ``fractions`` (one dict
        label -> fraction per parameter) and ``global_fraction``: per parameter, the fraction
        of runs that reached the maximum (at fixed sigma2 the only local maximum is the global
        one).
    """
    from .basins import basin_map

    lam = _lam(lam)
    out = {"n_runs": int(n_runs)}
    for objective, params in (("relbo", alphas), ("beta_elbo", betas)):
        bm = basin_map(lam, k, objective, params=params, n_runs=n_runs, sigma2=sigma2,
                       random_state=random_state)
        # at fixed sigma2 the only local maximum is the global one (Theory §8(a), §9)
        glob = [sum(v for key, v in fr.items() if _kind(key) == "maximum")
                for fr in bm.fractions]
        out[objective] = {"params": [float(p) for p in params], "fractions": bm.fractions,
                          "global_fraction": np.array(glob)}
    return out


# ---- F8, F9: the three readings of the Renyi VAE -------------------------------------------------

def _optimum_or_none(lam, k, alpha, reading, sigma2):
    """A reading's global maximum, or None where it has none (``"cross_entropy"`` for
    alpha >= 2, or -inf for every decoder at this fixed sigma2)."""
    from .readings import reading_global_maximum

    if reading == "cross_entropy" and not alpha < 2.0:
        return None
    try:
        return reading_global_maximum(lam, k, float(alpha), reading, sigma2)
    except ValueError:
        if reading == "cross_entropy":
            return None
        raise


def reading_rate_distortion(lam=None, k=3, sigma2=None, alphas=None, betas=None,
                            matched=(("pointwise", (0.1, 0.25, 0.5, 2.0, 10.0)),
                                     ("escort", (0.5, 2.0)),
                                     ("cross_entropy", (0.5, 1.5, 1.9)))):
    r"""Rate and distortion (Alemi et al. 2018) of the global optimum of each reading of the
    Renyi VAE against alpha, beside the beta-ELBO frontier, and the matched beta.

    All at one fixed :math:`\sigma^2`, top-k decoders, optimal diagonal encoders.  The
    ``"cross_entropy"`` reading enters only where it has an optimum: :math:`0 < \alpha < 2`
    and :math:`\sigma^2 > (1-\alpha)\lambda_{k+1}`.

    Parameters
    ----------
    lam : array_like, shape (n,), optional
        Eigenvalues, descending (default: the synthetic spectrum).
    k : int
        Latent dimensions.
    sigma2 : float, optional
        Fixed decoder noise (default: the mean of :math:`\lambda_{k+1..n}`, the pPCA
        maximum-likelihood value).
    alphas : array_like, optional
        Orders (default: 61 values on [0.1, 10], log-spaced; for ``"cross_entropy"`` the
        critical orders :math:`2 - \sigma^2/\lambda_j` inside (0, 2) are added).
    betas : array_like, optional
        The beta-ELBO frontier (default: 81 values from 0.05 to :math:`\lambda_1/\sigma^2`).
    matched : sequence of (str, sequence of float)
        Reading and orders at which :func:`gaussrelbo.readings.matched_beta` is reported
        (orders where the reading has no optimum are skipped).

    Returns
    -------
    dict
        ``lam``, ``k``, ``sigma2``; ``beta``, ``beta_rate``, ``beta_distortion`` (the
        frontier); ``readings``: reading -> ``alpha``, ``rate``, ``distortion``, ``value``,
        ``active`` (arrays over the orders with an optimum); ``no_optimum``: reading -> orders
        without one; ``elbo_rate``, ``elbo_distortion`` (alpha = beta = 1); ``matched``: rows
        ``reading``, ``alpha``, ``beta``, ``beta_eff`` (:math:`1/(2-\alpha)`, cross_entropy
        only), ``rate``, ``distortion``, ``beta_distortion``, ``excess``.
    """
    from .optima import global_maximum
    from .readings import READINGS, critical_alpha, matched_beta

    lam = _lam(lam)
    s2 = _fixed_sigma2(lam, k, sigma2)
    alphas = (np.geomspace(0.1, 10.0, 61) if alphas is None
              else np.asarray(alphas, dtype=float))
    crit = critical_alpha(lam[:k], s2)
    betas = (np.geomspace(0.05, lam[0] / s2, 81) if betas is None
             else np.asarray(betas, dtype=float))
    out = {"lam": lam, "k": int(k), "sigma2": s2, "beta": betas, "readings": {},
           "no_optimum": {}}
    fb = [global_maximum(lam, k, "beta_elbo", beta=float(b), sigma2=s2) for b in betas]
    out["beta_rate"] = np.array([p.rate for p in fb])
    out["beta_distortion"] = np.array([p.distortion for p in fb])
    for reading in READINGS:
        grid = alphas
        if reading == "cross_entropy":
            grid = np.unique(np.concatenate([alphas, crit[(crit > 0) & (crit < 2)]]))
        pts = [(a, _optimum_or_none(lam, k, a, reading, s2)) for a in grid]
        ok = [(a, p) for a, p in pts if p is not None]
        out["readings"][reading] = {
            "alpha": np.array([a for a, _ in ok]),
            "rate": np.array([p.rate for _, p in ok]),
            "distortion": np.array([p.distortion for _, p in ok]),
            "value": np.array([p.value for _, p in ok]),
            "active": np.array([p.active for _, p in ok], dtype=int)}
        out["no_optimum"][reading] = np.array([a for a, p in pts if p is None])
    e1 = global_maximum(lam, k, "elbo", sigma2=s2)
    out["elbo_rate"], out["elbo_distortion"] = float(e1.rate), float(e1.distortion)
    rows = []
    for reading, orders in matched:
        for a in orders:
            if _optimum_or_none(lam, k, a, reading, s2) is None:
                continue
            m = matched_beta(float(a), lam, k, s2, reading=reading)
            rows.append({"reading": reading, "alpha": float(a), "beta": m.beta,
                         "beta_eff": (1.0 / (2.0 - a) if reading == "cross_entropy"
                                      else None),
                         "rate": m.rate, "distortion": m.distortion,
                         "beta_distortion": m.beta_distortion, "excess": m.excess})
    out["matched"] = rows
    return out


def reading_collapse(lam=None, k=None, sigma2=None, alphas=None, betas=None,
                     examples=(1.5, 1.9)):
    r"""Active latent dimensions of the global optimum of each reading against alpha, and of
    the beta-ELBO against beta, at one fixed :math:`\sigma^2`.

    Dimension j collapses iff :math:`\lambda_j \le \sigma^2` for the pointwise and escort
    readings (every alpha), iff :math:`\lambda_j \le \sigma^2/(2-\alpha)` for the
    cross-entropy reading, and iff :math:`\lambda_j \le \beta\sigma^2` for the beta-ELBO
    (Lucas et al. 2019): the cross-entropy reading's count at alpha is the beta-ELBO's at
    :math:`\beta_{\rm eff} = 1/(2-\alpha)`.  The counts here come from the global maxima
    (:func:`gaussrelbo.readings.active_counts`, :func:`gaussrelbo.optima.global_maximum`).

    Parameters
    ----------
    lam : array_like, shape (n,), optional
        Eigenvalues, descending (default: the embedded digits spectrum).
    k : int, optional
        Latent dimensions, 1 <= k < n (default: min(10, n - 1)).
    sigma2 : float, optional
        Fixed decoder noise (default: the mean of :math:`\lambda_{k+1..n}`).
    alphas, betas : array_like, optional
        Grids (default: 41 orders on [0.1, 10] and 100 values of beta around the
        thresholds); the critical values inside a grid, and a point just above each, are added
        so that steps drawn through the counts change exactly at them.
    examples : sequence of float
        Orders in (0, 2) at which the cross-entropy count and the beta-ELBO count at
        :math:`1/(2-\alpha)` are reported side by side.

    Returns
    -------
    dict
        ``lam``, ``k``, ``sigma2``; ``alpha`` and ``active`` (reading -> counts over
        ``alpha``; -1 where the reading has no optimum); ``critical_alpha`` (cross-entropy,
        :math:`2 - \sigma^2/\lambda_j`, j <= k), ``ce_no_optimum_below`` (:math:`1 -
        \sigma^2/\lambda_{k+1}`: below it the cross-entropy reading is :math:`-\infty` for
        every decoder; 0 if none); ``beta``, ``active_vs_beta``, ``beta_thresholds``
        (:math:`\lambda_j/\sigma^2`); ``beta_eff`` (:math:`1/(2-\alpha)` at the orders where
        the cross-entropy reading has an optimum), ``ce_active_at_beta_eff``,
        ``beta_elbo_active_at_beta_eff``; ``examples`` (rows ``alpha``, ``beta_eff``,
        ``ce_active``, ``beta_elbo_active``).
    """
    from .optima import collapse_thresholds, global_maximum
    from .readings import READINGS, active_counts, critical_alpha

    lam, k = _collapse_problem(lam, k)
    s2 = _fixed_sigma2(lam, k, sigma2)
    crit = critical_alpha(lam[:k], s2)
    floor = max(1.0 - s2 / lam[k], 0.0) if lam[k] > 0 else 0.0
    alphas = np.geomspace(0.1, 10.0, 41) if alphas is None else np.asarray(alphas, dtype=float)
    alphas = _with_steps(alphas, np.concatenate([crit[(crit > 0) & (crit < 2)],
                                                 [floor] if floor > 0 else []]))
    if alphas.min() < 2.0 < alphas.max():        # where the cross-entropy reading ends
        alphas = np.union1d(alphas, [2.0])
    active = {}
    for reading in READINGS:
        counts = np.full(alphas.size, -1)
        defined = alphas < 2.0 if reading == "cross_entropy" else np.ones(alphas.size, bool)
        counts[defined] = active_counts(lam, k, alphas[defined], reading, s2)
        active[reading] = counts
    thr = collapse_thresholds(lam[:k], s2)                       # lambda_j / sigma2
    betas = (np.geomspace(min(0.1, 0.5 * thr.min()), 2.0 * thr.max(), 100) if betas is None
             else np.asarray(betas, dtype=float))
    betas = _with_steps(betas, thr)

    def beta_active(b):
        return int(global_maximum(lam, k, "beta_elbo", beta=float(b), sigma2=s2).active)

    # where the cross-entropy reading has an optimum, off the critical orders themselves (at
    # alpha_j both counts are decided by rounding: lambda_j = sigma2/(2 - alpha_j) exactly)
    has = (active["cross_entropy"] >= 0) & ~np.isin(alphas, crit)
    beta_eff = 1.0 / (2.0 - alphas[has])
    rows = []
    for a in examples:
        (c,) = active_counts(lam, k, [a], "cross_entropy", s2)
        rows.append({"alpha": float(a), "beta_eff": 1.0 / (2.0 - a), "ce_active": int(c),
                     "beta_elbo_active": beta_active(1.0 / (2.0 - a))})
    return {"lam": lam, "k": int(k), "sigma2": s2, "alpha": alphas, "active": active,
            "critical_alpha": crit, "ce_no_optimum_below": float(floor),
            "beta": betas, "active_vs_beta": np.array([beta_active(b) for b in betas]),
            "beta_thresholds": np.asarray(thr), "beta_eff": beta_eff,
            "ce_active_at_beta_eff": active["cross_entropy"][has],
            "beta_elbo_active_at_beta_eff": np.array([beta_active(b) for b in beta_eff]),
            "examples": rows}
