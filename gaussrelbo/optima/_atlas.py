"""The public atlas functions: enumeration of every stationary point by clusters, their
construction, classification and the global maximum."""

from itertools import combinations, repeat
from math import comb, log

import numpy as np

from .._validation import check_alpha, check_beta
from . import _clusters as _cl
from ._counts import _DEFAULT_MAX_STATES, _index_counts
from ._enumerate import _best_first, _best_first_lazy, _families
from ._hessian import BlockClassifier
from ._orthogonal import _orth_signs
from ._problem import _LOG_2PI, _TIE_RTOL, _Spec, _bias, _check_bounded, _check_int, _eligible
from ._profile import _evaluate
from ._ratedist import cluster_terms, rate_distortion
from ._records import Atlas, StationaryPoint, _kind

_DEFAULT_MAX_POINTS = 10000
_DEFAULT_MAX_POINTS_LEARNED = 1000    # each learned-noise point is classified on its own
_DEFAULT_MAX_FAMILIES = 20000
_DEFAULT_MAX_CANDIDATES = 200000
_LEARNED_MAX_FAMILIES = 2000  # learned sigma2: each configuration needs a root search
_STATIONARY_RTOL = 1e-8        # constructed points with a larger relative gradient are dropped


def _cap(x, name, default):
    return default if x is None else _check_int(x, name, 1)


# ---- values -------------------------------------------------------------------------------------

def _base(sp, s2):
    """Profiled value with every column zero (the all-unused baseline)."""
    n, g = sp.n, sp.gamma
    t = g * s2
    return (-0.5 * n * (_LOG_2PI + log(s2)) + 0.5 * n * g * log(t)
            - 0.5 * g * (n * log(t) + sp.total / t))


def _single_gain(lam_j, t):
    x = lam_j / t
    return 0.5 * (x - 1.0 - log(x))


class _Problem:
    """Enumeration state of one atlas: the cluster equation, gains and caches."""

    def __init__(self, sp):
        self.sp = sp
        self.eq = _cl.ClusterEquation(sp.alpha_e)
        self.tol = lambda t: _TIE_RTOL * max(sp.lam[0], t)
        self.learned_clusters = {}

    # fixed sigma2 -------------------------------------------------------------------------
    def fixed_value(self, s2, X, S):
        sp = self.sp
        t = sp.gamma * s2
        gsum = sum(cl.gain for cl in X) + sum(_single_gain(sp.lam_list[j], t) for j in S)
        return _base(sp, s2) + sp.gamma * gsum

    # learned sigma2 -----------------------------------------------------------------------
    def _cluster_at(self, shape, t):
        c, r, J = shape
        m, mu = _cl.solve_cluster_scalar(self.eq, c, r, [self.sp.lam_list[j] for j in J], t)
        return m, np.array(mu)

    def learned_eval(self, X, S):
        """(value, s2) of shapes X (tuples (c, r, J)) plus singles S with a learned sigma2, or
        None when no self-consistent noise exists or a cluster does not exist there."""
        sp = self.sp
        n, g, a = sp.n, sp.gamma, sp.alpha_e
        D = [j for c, r, J in X for j in J] + list(S)
        rest = sp.total - float(np.sum(sp.lam[D])) if D else sp.total
        n_u = n - len(D)
        if rest <= _TIE_RTOL * sp.total:
            return None
        deficient = [(c, r, J) for c, r, J in X if r < c]
        if not deficient:
            denom = n - g * len(D)
            if denom <= 0:
                return None
            s2 = rest / denom
        else:
            def h(ls2):
                s2 = np.exp(ls2)
                t = g * s2
                acc = n * (g - 1.0) + rest / s2 - g * n_u
                for c, r, J in deficient:
                    m, _ = self._cluster_at((c, r, J), t)
                    acc += (g / a) * (c - r) * (1.0 - t / m)
                return acc
            from scipy.optimize import brentq           # scipy loads on first use only

            lo, hi = log(rest / n) - 40.0, log(sp.total) + 40.0
            try:
                if not (h(lo) > 0 > h(hi)):
                    return None
                s2 = float(np.exp(brentq(h, lo, hi, xtol=1e-15, rtol=1e-15, maxiter=300)))
            except (ValueError, FloatingPointError):
                return None
        t = g * s2
        tol = self.tol(t)
        if any(sp.lam_list[j] - t <= tol for j in S):
            return None
        clusters = []
        for c, r, J in X:
            m, mu = self._cluster_at((c, r, J), t)
            if np.any(mu - t <= tol) or (r == c and mu.max() - mu.min() <= tol):
                return None
            if c >= 3 and _cl._reducible(mu[None], np.array([m]), c, r, t, tol)[0]:
                return None
            gain = float(self.eq.gain(c, r, self.sp.lam[list(J)], mu, m, t))
            clusters.append(_cl.Cluster(c, r, tuple(J), float(m), tuple(float(x) for x in mu),
                                        gain))
        val = _base(sp, s2) + g * (sum(cl.gain for cl in clusters)
                                   + sum(_single_gain(sp.lam_list[j], t) for j in S))
        self.learned_clusters[(tuple(X), tuple(S), s2)] = clusters
        return val, s2


# ---- points -------------------------------------------------------------------------------------

def _assemble(n, k, clusters, t, cache=None):
    """Decoder of a configuration (clusters in order, then zero columns), the cluster blocks
    and the JSON cluster records; ``cache`` (a dict) keeps blocks shared between
    configurations."""
    cache = {} if cache is None else cache
    W = np.zeros((n, k))
    blocks, recs, col = [], [], 0
    for cl in clusters:
        key = (cl.c, cl.r, cl.J, t)
        B = cache.get(key)
        if B is None:
            B = cache[key] = _cl.cluster_block(cl, t)
        cols = list(range(col, col + cl.c))
        W[np.asarray(cl.J)[:, None], np.asarray(cols)[None, :]] = B
        blocks.append(B)
        recs.append((tuple(cols), cl.r, tuple(cl.J)))
        col += cl.c
    return W, blocks, tuple(recs)


def _orbit_dim(k, r):
    """Dimension of the rotation orbit W R of a rank-r decoder with k columns (pPCA)."""
    return k * (k - 1) // 2 - (k - r) * (k - r - 1) // 2


def _make_points(sp, configs, b, classifier):
    """StationaryPoints for a list of configurations (s2, X, S): multi-column clusters X (a
    tuple), orthogonal columns on the rows S (a tuple) after them, then zero columns.  All
    decoders are built into one array and evaluated in chunks; the points of one family X (at
    one sigma2) are classified together.  Returns (points in input order, n_rejected)."""
    if not configs:
        return [], 0
    learn = sp.sigma2 is None
    n, k, N = sp.n, sp.k, len(configs)
    s2s = np.array([cfg[0] for cfg in configs], float)
    groups = {}
    for i, (s2, X, S) in enumerate(configs):
        groups.setdefault((s2, X) if X else (None, ()), []).append(i)
    cache, fam = {}, {}
    W = np.zeros((N, n, k))
    terms = np.zeros((4, N))
    for (gs2, X), idx in groups.items():
        WX, blocks, recX = _assemble(sp.n, sp.k, X, sp.gamma * s2s[idx[0]], cache)
        fam[X] = (blocks, recX, sum(cl.c for cl in X))
        if X:
            W[idx] = WX
            terms[:, idx] = np.array(cluster_terms(sp, X, gs2))[:, None]
    sizes = np.fromiter((len(cfg[2]) for cfg in configs), int, N)
    rows = np.fromiter((j for cfg in configs for j in cfg[2]), int, int(sizes.sum()))
    pidx = np.repeat(np.arange(N), sizes)
    first = terms[3].astype(int)
    cols = first[pidx] + np.arange(rows.size) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    W[pidx, rows, cols] = np.sqrt(np.maximum(sp.lam[rows] - sp.gamma * s2s[pidx], 0.0))
    vals, gns = _evaluate(sp, W, s2s, learn)
    keep = gns <= _STATIONARY_RTOL
    orth = np.fromiter((not cfg[1] for cfg in configs), bool, N)
    rates, dists = rate_distortion(sp, s2s, terms, sizes, pidx, rows)
    signs, mdims = {}, {}
    families, fam_of, fam_singles, fam_pts = [], [], [], []
    for (gs2, X), members in groups.items():
        ok = [i for i in members if keep[i]]
        if not X or not ok:
            continue
        blocks = fam[X][0]
        t = sp.gamma * s2s[ok[0]]
        mdims[X] = sum(_cl.manifold_dim(cl, t, _TIE_RTOL * max(sp.lam[0], t)) for cl in X)
        if learn:
            for i in ok:
                cl1 = [_cl.make_single(j, sp.lam[j]) for j in configs[i][2]]
                signs[i] = classifier.signs(list(X) + cl1, blocks + _cl.cluster_blocks(cl1, t),
                                            s2s[i], True)
        else:
            fam_of += [len(families)] * len(ok)
            families.append((X, blocks))
            fam_singles += [configs[i][2] for i in ok]
            fam_pts += ok
    if families:
        rows_ok = classifier.batch_signs(families, fam_of, fam_singles, sp.sigma2)
        for i, row in zip(fam_pts, rows_ok.tolist()):
            signs[i] = tuple(row)
    out = []
    colt, rowt = [(c,) for c in range(k)], [(j,) for j in range(n)]   # shared record parts
    JXs = {X: [j for cl in X for j in cl.J] for X in fam}
    for i in np.flatnonzero(keep).tolist():
        s2, X, S = configs[i]
        s2 = float(s2)
        _, recX, cX = fam[X]
        J = tuple(sorted(JXs[X] + list(S)))
        if orth[i]:
            sg = _orth_signs(sp, J, s2, learn)
            md = 0 if sp.penalised else _orbit_dim(k, len(J))
        else:
            sg, md = signs[i], mdims[X]
        recs = recX + tuple(zip(colt[cX:cX + len(S)], repeat(1), map(rowt.__getitem__, S)))
        pairs = tuple(cl.J for cl in X if cl.c == 2 and cl.r == 2)
        out.append(StationaryPoint(J, W[i], b, s2, float(vals[i]), float(rates[i]),
                                   float(dists[i]),
                                   cX + len(S), bool(orth[i]), sg, _kind(sg), float(gns[i]),
                                   pairs, recs, md))
    return out, int(N - np.sum(keep))


# ---- scale --------------------------------------------------------------------------------------

def _normalised(sp):
    """The same problem with lam and sigma2 divided by lam_1, and lam_1.

    Scaling lam and sigma2 by s maps W to W sqrt(s) and shifts every value by -(n/2) log s
    (the Hadamard penalty and the rate are scale free), so the atlas is computed at lam_1 = 1:
    spectra near 1e300 or among subnormals then neither overflow nor underflow."""
    scale = float(sp.lam[0])
    if scale == 1.0:
        return sp, 1.0
    with np.errstate(over="ignore", under="ignore"):
        s2 = None if sp.sigma2 is None else sp.sigma2 / scale
    if s2 is not None and not (0 < s2 < np.inf):
        raise ValueError(f"`sigma2` must be within float range of the spectrum's scale, got "
                         f"sigma2 = {sp.sigma2!r} with lam_1 = {scale!r} (their ratio is "
                         f"{'0' if s2 == 0 else 'inf'} in double precision)")
    out = _Spec(sp.lam / scale, sp.k, sp.objective, sp.alpha if sp.objective == "relbo" else
                None, sp.beta if sp.objective == "beta_elbo" else None, s2, sp.encoder)
    out.mean, out.basis = sp.mean, sp.basis
    return out, scale


def _unscale(points, scale, n):
    if scale == 1.0:
        return points
    shift = 0.5 * n * log(scale)
    for p in points:
        p.W *= np.sqrt(scale)            # in place: the decoders are views of one array
        p.sigma2 = p.sigma2 * scale
        p.value = p.value - shift
        p.distortion = p.distortion + shift
    return points


# ---- enumeration --------------------------------------------------------------------------------

def _auto_cmax(n_pool, k, limit):
    cmax = 1
    for c in range(2, k + 1):
        if _cl.count_candidates(n_pool, k, c) > limit:
            break
        cmax = c
    return cmax


def _cmax(n_pool, k, max_cluster, cand_cap, truncated):
    """The largest cluster enumerated: ``max_cluster``, or the largest whose candidates fit
    ``cand_cap``; a cap that cut the enumeration is appended to ``truncated``."""
    if max_cluster is None:
        cmax = _auto_cmax(n_pool, k, cand_cap)
        if cmax < k:
            truncated.append(f"max_cluster={cmax} (clusters of more columns were not "
                             f"enumerated: {_cl.count_candidates(n_pool, k, cmax + 1)} "
                             f"candidates exceed max_candidates={cand_cap})")
        return cmax
    cmax = min(_check_int(max_cluster, "max_cluster", 1), k)
    need = _cl.count_candidates(n_pool, k, cmax)
    if need > cand_cap:
        raise ValueError(f"`max_cluster`={cmax} needs {need} cluster candidates, more than "
                         f"`max_candidates`={cand_cap}; lower `max_cluster` or raise "
                         f"`max_candidates`")
    if cmax < k:
        truncated.append(f"max_cluster={cmax}")
    return cmax


def _enumerate(sp, cap, max_cluster, max_families, max_candidates, nonorthogonal):
    """(configs [(s2, X, S)], truncated caps [str]) in value order (exact at fixed sigma2): X
    the multi-column clusters (tuple), S the rows of the orthogonal columns (tuple)."""
    n, k = sp.n, sp.k
    prob = _Problem(sp)
    truncated = []
    use_clusters = nonorthogonal and sp.penalised and k >= 2
    n_pool = int(np.sum(sp.lam > 0))
    cmax = 1
    if use_clusters:
        cmax = _cmax(n_pool, k, max_cluster, max_candidates, truncated)
    budget = 50 * cap + 10 * n * n
    pool = [j for j in range(n) if sp.lam[j] > 0]
    if sp.sigma2 is not None:
        s2 = sp.sigma2
        t = sp.gamma * s2
        L = list(range(_eligible(sp, t)))
        multi = []
        if cmax >= 2:
            multi, _ = _cl.candidates(prob.eq, sp.lam, t, k, pool, cmax, max_candidates)
        fams, done = _families(multi, k, max_families)
        if not done:
            truncated.append(f"max_families={max_families}")
        families = []
        for X in fams:
            used = {j for cl in X for j in cl.J}
            families.append((X, [j for j in L if j not in used] if used else L,
                             k - sum(cl.c for cl in X)))
        base = _base(sp, s2)
        sg = [sp.gamma * _single_gain(sp.lam_list[j], t) for j in L]
        xg = {}

        def evaluate(X, S):
            gx = xg.get(X)
            if gx is None:
                gx = xg[X] = sp.gamma * sum(cl.gain for cl in X)
            return base + gx + sum([sg[j] for j in S]), s2

        res, exhausted, _ = _best_first_lazy(families, evaluate, cap, budget)
        configs = [(s2, tuple(X), tuple(S)) for _, _, X, S in res]
    else:
        shapes = [_cl.Cluster(c, r, J, 0.0, (), 0.0)
                  for c in range(2, cmax + 1) for r in range(1, c + 1)
                  for J in combinations(pool, r)]
        fams, done = _families(shapes, k, min(max_families, _LEARNED_MAX_FAMILIES))
        if not done:
            truncated.append(f"max_families={min(max_families, _LEARNED_MAX_FAMILIES)}")
        families = [(X, [j for j in range(n) if not any(j in cl.J for cl in X)],
                     k - sum(cl.c for cl in X)) for X in fams]

        def evaluate(X, S):
            return prob.learned_eval([(cl.c, cl.r, cl.J) for cl in X], S)

        res, exhausted = _best_first(families, evaluate, cap, 5 * cap + 10 * n * n)
        configs = []
        for _, s2, X, S in res:
            cls = prob.learned_clusters[(tuple((cl.c, cl.r, cl.J) for cl in X), tuple(S), s2)]
            configs.append((s2, tuple(cls), tuple(S)))
    if not exhausted:
        truncated.append(f"max_points={cap}")
    return configs, truncated


# ---- fixed points, global maximum ---------------------------------------------------------------

def sigma2_fixed_points(lam, k, beta=1.0):
    r"""The self-consistent learned-:math:`\sigma^2` stationary points of the beta-ELBO (beta = 1:
    pPCA, RELBO, ELBO) on top-r sets: :math:`\sigma^2 = \sum_{j>r}\lambda_j/(n-\beta r)` with
    :math:`\lambda_r > \beta\sigma^2`, r = 0..k (Lucas et al. 2019 for the collapse condition).

    The top-r set is the best self-consistent set of its size, and the global maximum with a
    learned :math:`\sigma^2` is the entry with the largest r (the :math:`r^*` theorem of the
    findings page).

    Returns
    -------
    list of (r, sigma2)

    Examples
    --------
    >>> [(r, round(s2, 12)) for r, s2 in sigma2_fixed_points([5.0, 3.0, 1.6, 0.9, 0.5, 0.3], 3,
    ...                                                      beta=2.0)]
    [(0, 1.883333333333), (1, 1.575)]
    """
    sp = _Spec(lam, k, "beta_elbo", None, beta, None, "diagonal")
    return [(r, s2) for r, s2, _ in _top_fixed_points(sp)]


def _top_fixed_points(sp):
    """(r, sigma2, value) of every self-consistent top-r point, r = 0..k."""
    out = []
    lam = sp.lam
    for r in range(sp.k + 1):
        denom = sp.n - sp.gamma * r
        rest = float(np.sum(lam[r:]))
        if denom <= 0 or rest <= _TIE_RTOL * sp.total:
            continue
        s2 = rest / denom
        t = sp.gamma * s2
        if r and lam[r - 1] - t <= _TIE_RTOL * max(lam[0], t):
            continue
        out.append((r, s2, _Problem(sp).fixed_value(s2, (), range(r))))
    return out


def _r_star(sp):
    r"""The global active count with a learned noise (closed form, findings page):
    :math:`r^* = \max\{r \le k: n > \gamma r,\ \lambda_r(n - \gamma r) > \gamma\sum_{j>r}
    \lambda_j\}`, r = 0 always allowed."""
    lam, n, g = sp.lam, sp.n, sp.gamma
    tail = np.concatenate([np.cumsum(lam[::-1])[::-1], [0.0]])     # tail[r] = sum_{j>=r} lam_j
    best = 0
    for r in range(1, sp.k + 1):
        if n - g * r <= 0 or tail[r] <= _TIE_RTOL * sp.total:
            continue
        s2 = tail[r] / (n - g * r)
        if lam[r - 1] - g * s2 > _TIE_RTOL * max(lam[0], g * s2):
            best = r
    return best


def _global_config(sp):
    if sp.sigma2 is not None:
        return sp.sigma2, tuple(range(min(sp.k, _eligible(sp, sp.gamma * sp.sigma2))))
    r = _r_star(sp)
    return float(np.sum(sp.lam[r:])) / (sp.n - sp.gamma * r), tuple(range(r))


def global_maximum(lam, k, objective="relbo", alpha=None, beta=None, sigma2=None,
                   encoder="diagonal", reading="pointwise"):
    r"""The global maximum of the profiled objective.

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
    reading : {'pointwise', 'escort', 'cross_entropy'}, default 'pointwise'
        Reading of the RELBO (docs: "Readings of the Renyi VAE"); not 'pointwise' needs
        objective 'relbo'.

    Returns
    -------
    StationaryPoint

    Examples
    --------
    >>> import numpy as np
    >>> lam = np.array([5.0, 3.0, 1.6, 0.9, 0.5, 0.3])
    >>> p = global_maximum(lam, 3, "beta_elbo", beta=2.0)
    >>> p.active, round(p.sigma2, 5), p.kind
    (1, 1.575, 'maximum')
    >>> q = global_maximum(lam, 3, "relbo", alpha=0.3)          # pPCA ML
    >>> bool(np.isclose(q.sigma2, lam[3:].sum() / 3))
    True
    """
    if reading != "pointwise":       # escort / cross-entropy readings of the RELBO
        from . import _readings
        return _readings.global_maximum(lam, k, objective, alpha, beta, sigma2, encoder, reading)
    sp = _Spec(lam, k, objective, alpha, beta, sigma2, encoder)
    sp = _Spec(lam, k, objective, alpha, beta, sigma2, encoder)
    _check_bounded(sp)
    sp, scale = _normalised(sp)
    s2, J = _global_config(sp)
    pts = _make_points(sp, [(s2, (), J)], _bias(sp), BlockClassifier(sp))[0]
    return _unscale(pts, scale, sp.n)[0]


def rotation_stiffness(point, alpha=1.0):
    r""":math:`d^2F_\alpha/d\theta^2` for rotating each pair of columns of an orthogonal point by
    an angle :math:`\theta` (findings page, "rotational stiffness").

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
        raise ValueError("`point` must be an orthogonal stationary point")
    alpha = float(check_alpha(alpha))
    m = np.sum(point.W**2, axis=0) + point.sigma2
    return -(m[:, None] - m[None, :]) ** 2 / (alpha * m[:, None] * m[None, :])

def collapse_thresholds(lam, sigma2, beta=None, *, reading="pointwise", alpha=None):
    r"""beta-ELBO collapse thresholds :math:`\beta_j = \lambda_j/\sigma^2`: dimension j collapses
    iff :math:`\lambda_j \le \beta\sigma^2` (Lucas et al. 2019).

    Parameters
    ----------
    lam : array_like, shape (n,), or DataMoments
    sigma2 : float
    beta : float, optional
        When given, also return the mask of active (non-collapsed) dimensions.
    reading : {'pointwise', 'escort', 'cross_entropy'}, default 'pointwise', keyword-only
        Not 'pointwise': returns the critical orders :math:`\alpha_j` (active iff
        :math:`\alpha < \alpha_j`) and the active mask at ``alpha`` instead.
    alpha : float, optional, keyword-only
        Renyi order, required when ``reading`` is not 'pointwise'.

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
    if reading != "pointwise":       # per-direction critical alpha_j and the active mask
        from . import _readings
        return _readings.collapse_thresholds(lam, sigma2, alpha, reading)
    sp = _Spec(lam, 1, "loglik", None, None, sigma2, "diagonal")
    if sp.sigma2 is None:
        raise ValueError("`sigma2` must be positive and finite, got None")
    thr = sp.lam / sp.sigma2
    if beta is None:
        return thr
    return thr, sp.lam > float(check_beta(beta)) * sp.sigma2



def stationary_points(lam, k, objective="relbo", alpha=None, beta=None, sigma2=None,
                      encoder="diagonal", max_points=None, nonorthogonal=True, max_cluster=None,
                      max_families=None, max_candidates=None, reading="pointwise"):
    r"""The atlas of every stationary point of a profiled objective.

    Every stationary point is a configuration of column clusters (c columns of rank r on r
    eigen-directions; c = r = 1 is an orthogonal column) plus zero columns; the atlas lists one
    representative per configuration, up to signed permutations of the columns, rotations
    inside tied eigenvalues and the continuum of a cluster of three or more columns (reported
    as ``manifold_dim``).  See the findings page of the docs, "Every stationary point".

    Parameters
    ----------
    lam : array_like, shape (n,), or DataMoments
        Data covariance eigenvalues, descending (or moments, whose eigenvalues are used).
    k : int
        Latent dimension, 1 <= k <= n.
    objective : {'loglik', 'elbo', 'relbo', 'beta_elbo'}, default 'relbo'
    alpha, beta : float, optional
        Renyi order (``'relbo'``) or rate weight (``'beta_elbo'``).
    sigma2 : float or None
        Fixed decoder noise, or ``None`` to learn it (self-consistent fixed points).
    encoder : {'diagonal', 'full'}, default 'diagonal'
    max_points : int or None
        Cap on the points listed, default 10000 at fixed sigma2 and 1000 with a learned sigma2
        (each learned-noise point has its own noise, so nothing is shared between their
        classifications), best value first (exact order at fixed sigma2).  The global maximum
        is always listed.
    nonorthogonal : bool, default True
        Enumerate multi-column clusters (only where the Hadamard penalty is present: diagonal
        encoder, objective not ``'loglik'``; k >= 2).  Without the penalty every stationary
        point is a rotation of an orthogonal one (the pPCA orbit).
    max_cluster : int or None
        Largest cluster (number of columns) enumerated.  Default: the largest size whose
        candidates fit ``max_candidates``.
    max_families : int or None
        Cap on the sets of multi-column clusters combined, default 20000.
    max_candidates : int or None
        Cap on the (c, r, J) cluster candidates examined, default 200000.
    reading : {'pointwise', 'escort', 'cross_entropy'}, default 'pointwise'
        Reading of the RELBO (objective 'relbo' only; docs: "Readings of the Renyi VAE"):
        'escort' re-scores the pointwise atlas, 'cross_entropy' enumerates its own clusters.

    Returns
    -------
    Atlas
        ``complete`` is True iff no cap truncated the enumeration; ``truncated_by`` names the
        caps that did.

    Notes
    -----
    Values are closed form per cluster (the cluster equation of :mod:`._clusters`); each point
    is then built, its gradient evaluated by the matrix route (points whose relative gradient
    exceeds 1e-8 are dropped and counted in ``n_rejected``; expected 0) and classified in closed
    form from the block structure of the Hessian (:mod:`._hessian`).  The index counts over all
    orthogonal points are analytic (:func:`index_counts`) at fixed sigma2, so a capped atlas
    still reports them; ``cluster_index_counts`` counts the listed cluster points, and
    ``index_counts(..., clusters=True)`` counts every point without listing it.

    Examples
    --------
    >>> lam = [5.0, 4.0, 3.0, 2.0, 1.2, 0.5]
    >>> atlas = stationary_points(lam, 3, "relbo", alpha=0.3, sigma2=0.8)
    >>> atlas.global_max.subset, atlas.global_max.hessian_signs
    ((0, 1, 2), (0, 0, 18))
    >>> sorted({p.kind for p in atlas.points}), atlas.n_orthogonal, atlas.complete
    (['maximum', 'saddle'], 26, True)
    >>> sorted({(c["rank"], len(c["columns"])) for p in atlas.points
    ...         for c in p.to_dict()["clusters"]})          # (rank, columns) of every cluster
    [(1, 1), (1, 2), (1, 3), (2, 2), (2, 3), (3, 3)]
    """
    if reading != "pointwise":       # escort / cross-entropy readings of the RELBO
        from . import _readings
        return _readings.stationary_points(lam, k, objective, alpha, beta, sigma2, encoder,
                                           max_points, nonorthogonal, max_cluster,
                                           max_families, max_candidates, reading)
    sp = _Spec(lam, k, objective, alpha, beta, sigma2, encoder)
    cap = _cap(max_points, "max_points",
               _DEFAULT_MAX_POINTS if sigma2 is not None else _DEFAULT_MAX_POINTS_LEARNED)
    fam_cap = _cap(max_families, "max_families", _DEFAULT_MAX_FAMILIES)
    cand_cap = _cap(max_candidates, "max_candidates", _DEFAULT_MAX_CANDIDATES)
    _check_bounded(sp)
    spectrum, sigma2_in = sp.lam, sp.sigma2
    sp, scale = _normalised(sp)
    learn = sp.sigma2 is None
    b = _bias(sp)
    configs, truncated = _enumerate(sp, cap, max_cluster, fam_cap, cand_cap, nonorthogonal)
    gs2, gJ = _global_config(sp)

    def is_global(s2, X, S):
        return not X and abs(s2 - gs2) <= 1e-12 * gs2 and tuple(sorted(S)) == gJ

    if not any(is_global(*cfg) for cfg in configs):
        configs.append((gs2, (), gJ))
    points, n_rej = _make_points(sp, configs, b, BlockClassifier(sp))
    gmax = next(p for p in points if p.orthogonal and p.subset == gJ
                and abs(p.sigma2 - gs2) <= 1e-12 * gs2)
    complete = not truncated
    if learn:
        n_orth = sum(p.orthogonal for p in points) if complete else None
    else:
        m = _eligible(sp, sp.gamma * sp.sigma2)
        n_orth = sum(comb(m, r) for r in range(min(sp.k, m) + 1))
    if learn:
        counts = {}
        if complete:
            for p in points:
                if p.orthogonal:
                    counts[p.hessian_signs] = counts.get(p.hessian_signs, 0) + 1
            counts = dict(sorted(counts.items()))
    else:
        try:
            counts = _index_counts(sp)
        except ValueError:              # the dynamic programme would exceed max_states
            counts = {}
            truncated.append(f"max_states={_DEFAULT_MAX_STATES} (index counts not computed; "
                             f"optima.index_counts takes a larger max_states)")
    complete = not truncated
    cluster_counts = {}
    for p in points:
        if not p.orthogonal:
            cluster_counts[p.hessian_signs] = cluster_counts.get(p.hessian_signs, 0) + 1
    points.sort(key=lambda p: -p.value)
    _unscale(points, scale, sp.n)
    fixed_points = [(r, s2 * scale) for r, s2, _ in _top_fixed_points(sp)] if learn else []
    return Atlas(objective, sp.k, sigma2_in, sp.alpha, sp.beta, sp.encoder, spectrum, points,
                 gmax, complete, n_orth, counts, fixed_points, n_rej, sp.basis,
                 tuple(truncated), dict(sorted(cluster_counts.items())))
