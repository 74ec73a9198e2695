"""Index counts over all stationary points, without enumerating them: the orthogonal points by
a dynamic programme over the spectrum, the points of each family of multi-column clusters by a
dynamic programme over its orthogonal columns."""

from math import comb

import numpy as np

from . import _clusters as _cl
from ._enumerate import _families
from ._hessian import BlockClassifier
from ._problem import _check_int, _eligible, _Spec

_DEFAULT_MAX_STATES = 20_000_000     # counts held at once by the subset dynamic programme
_DEFAULT_MAX_FAMILIES = 200_000
_DEFAULT_MAX_CANDIDATES = 200_000

def index_counts(lam, k, objective="relbo", alpha=None, beta=None, sigma2=None,
                 encoder="diagonal", max_states=None, clusters=False, max_cluster=None,
                 max_families=None, max_candidates=None, reading="pointwise"):
    r"""Number of stationary points per Hessian sign pattern at fixed :math:`\sigma^2`,
    counted without enumerating the points: the orthogonal points (default) or, with
    ``clusters=True``, every stationary point (orthogonal columns, column clusters and zero
    columns, one per configuration as in :func:`stationary_points`).

    Parameters
    ----------
    lam : array_like, shape (n,), or DataMoments
    k : int
    objective : {"loglik", "elbo", "relbo", "beta_elbo"}
    alpha, beta : float, optional
    sigma2 : float
        Fixed decoder noise (required).
    encoder : {"diagonal", "full"}
    max_states : int or None
        Cap on the counts the dynamic programme holds at once, default 20 000 000 (about
        :math:`\sum_{s \le k} s(m - s)` for m eigenvalues above :math:`\gamma\sigma^2`; n = 2000,
        k = 1000 with m = 200 holds 1.3 million).  A larger problem fails fast with a
        ValueError naming the cap.
    clusters : bool, default False
        Count the points with multi-column clusters too.  Their families (sets of disjoint
        clusters, :func:`stationary_points`) are enumerated; the orthogonal columns added to
        each family are counted by a dynamic programme over the rows it leaves, never listed.
    max_cluster : int or None
        With ``clusters``: the largest cluster counted, default k (every point).  Below k the
        counts cover only points whose clusters have at most ``max_cluster`` columns.
    max_families, max_candidates : int or None
        With ``clusters``: caps on the families (default 200000) and on the (c, r, J) cluster
        candidates examined (default 200000); a count that would exceed one fails fast with a
        ValueError naming it, so the counts returned are always complete.
    reading : {'pointwise', 'escort', 'cross_entropy'}, default 'pointwise'
        Reading of the RELBO (objective 'relbo' only); 'escort' has the pointwise counts,
        'cross_entropy' counts its orthogonal points (``clusters=False``).

    Returns
    -------
    dict
        ``{(pos, zero, neg): count}`` over vec(W) (n k directions), sorted by key.

    Notes
    -----
    Orthogonal points.  With m eigenvalues above :math:`t = \gamma\sigma^2` and a used set J (|J| = r), the ascent
    directions number :math:`\mathrm{inv}(J) + (k-r)(m-r)`, with :math:`\mathrm{inv}(J)` the pairs
    (p in J, q not in J) with :math:`\lambda_q > \lambda_p`; flat directions are
    :math:`r(r-1)/2 + (k-r)r` without the Hadamard penalty and none with it, plus, with ties,
    one per tied (used, unused) pair, one per tied used pair under the penalty and k - r per
    eigenvalue equal to t.  A dynamic programme over the groups of equal eigenvalues (descending)
    tracks (r, tie-zeros) and, for each, the counts over the reachable range of inv only; Python
    integers, so counts never overflow.

    Cluster points (``clusters=True``).  At a family X of multi-column clusters (c_X columns)
    with orthogonal columns on a set S of the rows it leaves (s = |S|), the block structure of
    the Hessian gives :math:`c_X + \sum_{j\in S} w_{X,j} + \binom{s}{2}D + \tau(S)(T - D) +
    (k - c_X - s)(Z_X + s\,y)` (tau: tied pairs in S; D, T, y, w checked to have this form),
    so the counts over S follow from the same kind of dynamic programme.  The families are
    enumerated (their number grows with the cluster combinations, not with C(n, k)); see the
    findings page of the docs, "Index counts without listing the points".

    Examples
    --------
    >>> lam = [5.0, 4.0, 3.0, 2.0, 1.2, 0.5]
    >>> counts = index_counts(lam, 3, "relbo", alpha=1.0, sigma2=0.8)
    >>> counts[(0, 0, 18)], sum(counts.values())        # one maximum among 1+5+10+10 points
    (1, 26)
    >>> from gaussrelbo.optima import stationary_points
    >>> every = index_counts(lam, 3, "relbo", alpha=1.0, sigma2=0.8, clusters=True)
    >>> atlas = stationary_points(lam, 3, "relbo", alpha=1.0, sigma2=0.8)   # complete here
    >>> sum(every.values()) == len(atlas.points), atlas.complete
    (True, True)
    """
    if reading != "pointwise":       # escort: the pointwise counts (same profiled objective)
        from . import _readings
        _readings.check_reading(reading, objective, alpha)
        if reading == "cross_entropy":
            if clusters:
                raise ValueError("`clusters=True` is not available with "
                                 "reading='cross_entropy': only its orthogonal points are "
                                 "counted in closed form (use clusters=False, or list the "
                                 "points with stationary_points)")
            return _readings.index_counts(lam, k, objective, alpha, beta, sigma2, encoder,
                                          reading)
    if sigma2 is None:
        raise ValueError("`sigma2` must be fixed (a positive float) for the analytic index "
                         "counts")
    sp = _Spec(lam, k, objective, alpha, beta, sigma2, encoder)
    cap = _DEFAULT_MAX_STATES if max_states is None else _check_int(max_states, "max_states", 1)
    if not clusters:
        return _index_counts(sp, cap)
    return _all_counts(sp, cap, max_cluster,
                       _DEFAULT_MAX_FAMILIES if max_families is None
                       else _check_int(max_families, "max_families", 1),
                       _DEFAULT_MAX_CANDIDATES if max_candidates is None
                       else _check_int(max_candidates, "max_candidates", 1))

class _SubsetDP:
    r"""Counts of subsets of groups of interchangeable rows by (size s, zero, pos).

    The state is a dict ``(s, zero) -> (lo, counts)``, ``counts[i]`` the number of subsets
    with ``pos = lo + i`` (an object array of Python integers, so counts never overflow);
    only reachable ranges are stored.  Memory is the number of counts held, checked against
    ``max_states`` (a ValueError names the cap when it would be exceeded)."""

    def __init__(self, smax, max_states):
        self.smax, self.max_states = smax, max_states
        one = np.empty(1, dtype=object)
        one[0] = 1
        self.dp = {(0, 0): (0, one)}
        self.peak = 1

    def add_group(self, g, shift):
        """Choose cg of g interchangeable rows (C(g, cg) ways); ``shift(cg, s)`` gives the
        (dpos, dzero) of choosing cg with s already chosen."""
        new = {}
        for (s, z), (lo, arr) in self.dp.items():
            for cg in range(0, min(g, self.smax - s) + 1):
                dpos, dz = shift(cg, s)
                ways = comb(g, cg)
                _merge(new, (s + cg, z + dz), lo + dpos, arr * ways if ways != 1 else arr)
        held = sum(arr.size for _, arr in new.values())
        if held > self.max_states:
            raise ValueError(f"the index counts need more than `max_states`={self.max_states} "
                             f"counts held at once ({held} after {g} more rows); raise "
                             f"`max_states` or count a smaller problem")
        self.peak = max(self.peak, held)
        self.dp = new

    def items(self):
        for (s, z), (lo, arr) in self.dp.items():
            for i in np.flatnonzero(arr != 0):
                yield s, z, lo + int(i), int(arr[i])


def _merge(d, key, lo, arr):
    old = d.get(key)
    if old is None:
        d[key] = (lo, arr.copy())
        return
    olo, oarr = old
    nlo, nhi = min(lo, olo), max(lo + arr.size, olo + oarr.size)
    if nlo == olo and nhi == olo + oarr.size:
        oarr[lo - olo:lo - olo + arr.size] += arr
        return
    out = np.zeros(nhi - nlo, dtype=object)
    out[olo - nlo:olo - nlo + oarr.size] = oarr
    out[lo - nlo:lo - nlo + arr.size] += arr
    d[key] = (nlo, out)


def _tie_groups(vals, tol):
    """Sizes of runs of tied values in a descending sequence."""
    groups, i, m = [], 0, len(vals)
    while i < m:
        j = i
        while j + 1 < m and vals[i] - vals[j + 1] <= tol:
            j += 1
        groups.append(j - i + 1)
        i = j + 1
    return groups


def _index_counts(sp, max_states=_DEFAULT_MAX_STATES):
    lam, n, k = sp.lam, sp.n, sp.k
    t = sp.gamma * sp.sigma2
    tol = sp.tie(t)
    m = _eligible(sp, t)
    at_t = int(np.sum(np.abs(lam - t) <= tol))
    pen = sp.penalised
    # fail fast: without ties the programme ends holding sum_s (s (m - s) + 1) counts
    need = sum(s * (m - s) + 1 for s in range(min(k, m) + 1))
    if need > max_states:
        raise ValueError(f"the index counts need about {need} counts held at once, more than "
                         f"`max_states`={max_states} ({m} eigenvalues above gamma sigma2, "
                         f"k={k}); raise `max_states` or count a smaller problem")
    dp = _SubsetDP(min(k, m), max_states)
    before = 0                                      # eligible eigenvalues in earlier groups
    for g in _tie_groups(lam[:m], tol):
        b = before
        # chosen here x unchosen strictly larger; a tie within the group is flat for each
        # (used, unused) pair and, under the penalty, for each used pair
        dp.add_group(g, lambda cg, c: (cg * (b - c),
                                       cg * (g - cg) + (cg * (cg - 1) // 2 if pen else 0)))
        before += g
    out = {}
    total = n * k
    for r, zt, inv, cnt in dp.items():
        pos = inv + (k - r) * (m - r)
        zero = zt + (k - r) * at_t + (0 if pen else r * (r - 1) // 2 + (k - r) * r)
        key = (pos, zero, total - pos - zero)
        out[key] = out.get(key, 0) + cnt
    return dict(sorted(out.items()))


def _all_counts(sp, max_states, max_cluster, max_families, max_candidates):
    """Counts over every stationary point at fixed sigma2 (complete, or a ValueError)."""
    counts = dict(_index_counts(sp, max_states))
    n, k = sp.n, sp.k
    if not (sp.penalised and k >= 2):
        return counts                       # without the penalty every point is orthogonal
    cmax = k if max_cluster is None else _check_int(max_cluster, "max_cluster", 1, k)
    t = sp.gamma * sp.sigma2
    pool = [j for j in range(n) if sp.lam[j] > 0]
    need = _cl.count_candidates(len(pool), k, cmax)
    if need > max_candidates:
        raise ValueError(f"counting clusters of up to {cmax} columns examines {need} cluster "
                         f"candidates, more than `max_candidates`={max_candidates}; raise "
                         f"`max_candidates` or lower `max_cluster`")
    multi, _ = _cl.candidates(_cl.ClusterEquation(sp.alpha_e), sp.lam, t, k, pool, cmax,
                              max_candidates)
    fams, done = _families(multi, k, max_families + 1)
    if not done:
        raise ValueError(f"the clusters form more than `max_families`={max_families} families "
                         f"(sets of disjoint clusters); raise `max_families` or lower "
                         f"`max_cluster`")
    fams = fams[1:]                         # the empty family: the orthogonal points above
    if not fams:
        return counts
    m = _eligible(sp, t)
    families = [(X, _cl.cluster_blocks(X, t)) for X in fams]
    pools = []
    for X in fams:
        used = {j for cl in X for j in cl.J}
        free = k - sum(cl.c for cl in X)    # no orthogonal column fits: no per-row blocks
        pools.append(np.array([j for j in range(m) if j not in used] if free else [], int))
    clf = BlockClassifier(sp)
    res = clf.family_terms(families, pools, sp.sigma2)
    if res is None:
        raise ValueError("the single-by-single Hessian blocks are not of the closed form the "
                         "counts assume (report this spectrum)")
    terms, (D, T, y) = res
    D, T, y = (np.rint(v).astype(int) for v in (D, T, y))
    tol = sp.tie(t)
    total = n * k
    for (c0, w, Z, cX), rows in zip(terms, pools):
        c0, Z = np.rint(c0).astype(int), np.rint(Z).astype(int)
        w = np.rint(w).astype(int)
        R = k - cX
        dp = _SubsetDP(min(R, rows.size), max_states)
        groups = _tie_groups(sp.lam[rows], tol)
        lead = np.repeat(np.cumsum([0] + groups[:-1]), groups).astype(int) if groups else []
        if rows.size and np.any(w[rows] != w[rows[lead]]):
            raise ValueError("tied eigenvalues with different Hessian blocks (report this "
                             "spectrum)")
        dz = (T - D).tolist()
        i = 0
        for g in groups:
            wp, wz = int(w[rows[i], 0]), int(w[rows[i], 1])
            dp.add_group(g, lambda cg, s, wp=wp, wz=wz: (
                cg * wp + cg * (cg - 1) // 2 * dz[0], cg * wz + cg * (cg - 1) // 2 * dz[1]))
            i += g
        for s, z, p, cnt in dp.items():
            nz = R - s
            pair = s * (s - 1) // 2
            pos = int(c0[0] + p + pair * D[0] + nz * (Z[0] + s * y[0]))
            zero = int(c0[1] + z + pair * D[1] + nz * (Z[1] + s * y[1]))
            key = (pos, zero, total - pos - zero)
            counts[key] = counts.get(key, 0) + cnt
    return dict(sorted(counts.items()))
