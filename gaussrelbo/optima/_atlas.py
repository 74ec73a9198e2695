"""The public atlas functions."""

from math import comb

import numpy as np

from .._validation import check_alpha, check_beta
from ._enumerate import _best_first
from ._counts import _index_counts
from ._orthogonal import _orth_rate_distortion, _orth_signs
from ._pairs import _Pairs, _config_eval, _config_W, _make_nonorthogonal, _multi_pair_configs
from ._problem import _Spec, _bias, _check_bounded, _eligible, _max_points
from ._profile import _evaluate
from ._records import Atlas, StationaryPoint, _kind

def _make_orthogonal(sp, configs, b):
    """StationaryPoints for a list of (s2, J)."""
    if not configs:
        return []
    learn = sp.sigma2 is None
    Ws = np.stack([_config_W(sp, None, (), J, s2) for s2, J in configs])
    s2s = np.array([s2 for s2, _ in configs])
    vals, gns = _evaluate(sp, Ws, s2s, learn)
    out = []
    for (s2, J), W, v, gn in zip(configs, Ws, vals, gns):
        signs = _orth_signs(sp, J, s2, learn)
        R, D = _orth_rate_distortion(sp, J, s2)
        out.append(StationaryPoint(tuple(int(j) for j in J), W, b, float(s2), float(v), R, D,
                                   len(J), True, signs, _kind(signs), float(gn)))
    return out

def sigma2_fixed_points(lam, k, beta=1.0):
    r"""The self-consistent learned-:math:`\sigma^2` stationary points of the beta-ELBO (beta = 1:
    pPCA, RELBO, ELBO) on top-r sets: :math:`\sigma^2 = \sum_{j>r}\lambda_j/(n-\beta r)` with
    :math:`\lambda_r > \beta\sigma^2` (DESIGN §9), r = 0..k.

    The top-r set is the best self-consistent set of its size (module notes), so the global
    maximum with a learned :math:`\sigma^2` is the best entry of this list.

    Returns
    -------
    list of (r, sigma2)

    Examples
    --------
    >>> [(r, round(s2, 12)) for r, s2 in sigma2_fixed_points([5.0, 3.0, 1.6, 0.9, 0.5, 0.3], 3,
    ...                                                      beta=2.0)]      # DESIGN §9
    [(0, 1.883333333333), (1, 1.575)]
    """
    sp = _Spec(lam, k, "beta_elbo", None, beta, None, "diagonal")
    return [(r, s2) for r, s2, _ in _top_fixed_points(sp)]

def _top_fixed_points(sp):
    out = []
    for r in range(sp.k + 1):
        ev = _config_eval(sp, None, (), tuple(range(r)))
        if ev is not None:
            out.append((r, ev[1], ev[0]))
    return out

def _global_config(sp):
    if sp.sigma2 is not None:
        return sp.sigma2, tuple(range(min(sp.k, _eligible(sp, sp.gamma * sp.sigma2))))
    best = max(_top_fixed_points(sp), key=lambda x: x[2])
    return best[1], tuple(range(best[0]))

def global_maximum(lam, k, objective="relbo", alpha=None, beta=None, sigma2=None,
                   encoder="diagonal"):
    r"""The global maximum of the profiled objective (DESIGN §7, §9).

    Top-k directions with :math:`\|w_j\|^2 = \max(\lambda_j - \gamma\sigma^2, 0)`; a learned
    :math:`\sigma^2` is the best self-consistent fixed point (:func:`sigma2_fixed_points`).  For
    the RELBO (any alpha, either encoder), the ELBO and the log-likelihood this is pPCA maximum
    likelihood, :math:`\sigma^2_{ML} = \sum_{j>k}\lambda_j/(n-k)`.

    Parameters
    ----------
    lam : array_like, shape (n,), or DataMoments
    k : int
    objective : {"loglik", "elbo", "relbo", "beta_elbo"}
    alpha, beta : float, optional
    sigma2 : float or None
        Fixed noise, or None to learn it.
    encoder : {"diagonal", "full"}

    Returns
    -------
    StationaryPoint

    Examples
    --------
    >>> import numpy as np
    >>> lam = np.array([5.0, 3.0, 1.6, 0.9, 0.5, 0.3])
    >>> p = global_maximum(lam, 3, "beta_elbo", beta=2.0)      # DESIGN §9 example
    >>> p.active, round(p.sigma2, 5), p.kind
    (1, 1.575, 'maximum')
    >>> q = global_maximum(lam, 3, "relbo", alpha=0.3)          # pPCA ML
    >>> bool(np.isclose(q.sigma2, lam[3:].sum() / 3))
    True
    """
    sp = _Spec(lam, k, objective, alpha, beta, sigma2, encoder)
    _check_bounded(sp)
    s2, J = _global_config(sp)
    return _make_orthogonal(sp, [(s2, J)], _bias(sp))[0]

def rotation_stiffness(point, alpha=1.0):
    r""":math:`d^2F_\alpha/d\theta^2` for rotating each pair of columns of an orthogonal point by
    an angle :math:`\theta` (DESIGN §8c).

    .. math:: \frac{d^2F_\alpha}{d\theta^2} = -\frac{(m_p - m_q)^2}{\alpha\,m_p m_q},
        \qquad m_i = \|w_i\|^2 + \sigma^2

    (diagonal encoder; the log-likelihood part is rotation invariant, the Hadamard penalty is
    not).

    Parameters
    ----------
    point : StationaryPoint
        An orthogonal point (RELBO/ELBO/log-likelihood atlas).
    alpha : float

    Returns
    -------
    ndarray, shape (k, k)
        Zero diagonal.

    Examples
    --------
    >>> p = global_maximum([5.0, 4.0, 3.0, 2.0, 1.2, 0.5], 3, "relbo", alpha=2.0, sigma2=0.8)
    >>> round(float(rotation_stiffness(p, 2.0)[0, 2]), 12)   # -(5 - 3)^2 / (2 * 5 * 3)
    -0.133333333333
    """
    if not isinstance(point, StationaryPoint):
        raise ValueError(f"`point` must be a StationaryPoint, got {type(point).__name__}")
    if not point.orthogonal:
        raise ValueError("`point` must be an orthogonal stationary point (DESIGN §8c)")
    alpha = float(check_alpha(alpha))
    m = np.sum(point.W**2, axis=0) + point.sigma2
    return -(m[:, None] - m[None, :]) ** 2 / (alpha * m[:, None] * m[None, :])

def collapse_thresholds(lam, sigma2, beta=None):
    r"""beta-ELBO collapse thresholds :math:`\beta_j = \lambda_j/\sigma^2`: dimension j collapses
    iff :math:`\lambda_j \le \beta\sigma^2` (DESIGN §9).

    Parameters
    ----------
    lam : array_like, shape (n,), or DataMoments
    sigma2 : float
    beta : float, optional
        When given, also return the mask of active (non-collapsed) dimensions.

    Returns
    -------
    thresholds : ndarray, shape (n,)
    active : ndarray of bool, shape (n,)
        Only when ``beta`` is given.

    Examples
    --------
    >>> thr, active = collapse_thresholds([5.0, 3.0, 1.6], 0.8, beta=2.0)
    >>> thr.tolist(), active.tolist()
    ([6.25, 3.75, 2.0], [True, True, False])
    """
    sp = _Spec(lam, 1, "loglik", None, None, sigma2, "diagonal")
    if sp.sigma2 is None:
        raise ValueError("`sigma2` must be positive and finite, got None")
    thr = sp.lam / sp.sigma2
    if beta is None:
        return thr
    return thr, sp.lam > float(check_beta(beta)) * sp.sigma2

def stationary_points(lam, k, objective="relbo", alpha=None, beta=None, sigma2=None,
                      encoder="diagonal", max_points=None, nonorthogonal=True):
    r"""The atlas of stationary points of a profiled objective.

    Parameters
    ----------
    lam : array_like, shape (n,), or DataMoments
        Data covariance eigenvalues, descending (or moments, whose eigenvalues are used).
    k : int
        Latent dimension, 1 <= k <= n.
    objective : {"loglik", "elbo", "relbo", "beta_elbo"}
    alpha, beta : float, optional
        Renyi order (``"relbo"``) or rate weight (``"beta_elbo"``).
    sigma2 : float or None
        Fixed decoder noise, or ``None`` to learn it (self-consistent fixed points).
    encoder : {"diagonal", "full"}
    max_points : int or None
        Cap on the points listed per family (orthogonal; single-pair; multi-pair), default
        10000.  Orthogonal points and single-pair points are listed best value first (exactly,
        except single-pair points with learned sigma2, whose order is best-first by the same
        tree but not proven exact); multi-pair points in lexicographic order of their pairs.
        The global maximum is always listed.
    nonorthogonal : bool
        Add the non-orthogonal equal-norm points (only where the Hadamard penalty is present:
        diagonal encoder, objective not ``"loglik"``; k >= 2).

    Returns
    -------
    Atlas

    Notes
    -----
    Cost: the orthogonal and single-pair enumerations are heaps over closed-form values; every
    listed point is then built, its gradient evaluated (vectorised) and classified (closed form
    for orthogonal points; FD Hessian or interlacing for non-orthogonal ones, module notes).
    The index counts over all orthogonal points are analytic (:func:`index_counts`) at fixed
    sigma2, so a capped atlas still reports them.

    Examples
    --------
    >>> lam = [5.0, 4.0, 3.0, 2.0, 1.2, 0.5]
    >>> atlas = stationary_points(lam, 3, "relbo", alpha=0.3, sigma2=0.8)
    >>> atlas.global_max.subset, atlas.global_max.hessian_signs
    ((0, 1, 2), (0, 0, 18))
    >>> sorted({p.kind for p in atlas.points}), atlas.n_orthogonal
    (['maximum', 'saddle'], 26)
    """
    sp = _Spec(lam, k, objective, alpha, beta, sigma2, encoder)
    cap = _max_points(max_points)
    _check_bounded(sp)
    learn = sp.sigma2 is None
    b = _bias(sp)
    budget = 50 * cap + 10 * sp.n * sp.n

    # orthogonal points, best first
    if learn:
        fam = [((), list(range(sp.n)), sp.k)]
    else:
        fam = [((), list(range(_eligible(sp, sp.gamma * sp.sigma2))), sp.k)]
    res, done_orth = _best_first(fam, lambda fixed, S: _config_eval(sp, None, (), S), cap,
                                 budget)
    configs = [(s2, tuple(sorted(S))) for _, s2, _, S in res]
    gs2, gJ = _global_config(sp)
    if not any(J == gJ and s2 == gs2 for s2, J in configs):
        configs.append((gs2, gJ))
    points = _make_orthogonal(sp, configs, b)
    gmax = next(p for p in points if p.subset == gJ and p.sigma2 == gs2)

    if learn:
        n_orth = len(points) if done_orth else None
    else:
        m = _eligible(sp, sp.gamma * sp.sigma2)
        n_orth = sum(comb(m, r) for r in range(min(sp.k, m) + 1))
    if learn:
        counts = {}
        if done_orth:
            for p in points:
                counts[p.hessian_signs] = counts.get(p.hessian_signs, 0) + 1
            counts = dict(sorted(counts.items()))
    else:
        counts = _index_counts(sp)

    complete, n_rej = done_orth, 0
    if nonorthogonal and sp.penalised and sp.k >= 2:
        pairs_info = _Pairs(sp)
        t = None if learn else sp.gamma * sp.sigma2
        pool = list(range(sp.n)) if learn else list(range(_eligible(sp, t)))
        fams = [(((p, q),), [j for j in pool if j != p and j != q], sp.k - 2)
                for p, q in pairs_info.candidates(t)]
        res, done1 = _best_first(
            fams, lambda fixed, S: _config_eval(sp, pairs_info, fixed, S), cap, budget)
        cfg = [(s2, fixed, S) for _, s2, fixed, S in res]
        multi, done2 = _multi_pair_configs(sp, pairs_info, cap, budget)
        extra, n_rej = _make_nonorthogonal(sp, pairs_info, cfg + multi, b)
        points += extra
        complete = complete and done1 and done2
    points.sort(key=lambda p: -p.value)
    fixed_points = [(r, s2) for r, s2, _ in _top_fixed_points(sp)] if learn else []
    return Atlas(objective, sp.k, sp.sigma2, sp.alpha, sp.beta, sp.encoder, sp.lam, points,
                 gmax, complete, n_orth, counts, fixed_points, n_rej, sp.basis)
