"""Index counts over all orthogonal points, without enumerating them."""

from math import comb

import numpy as np

from ._problem import _Spec, _eligible

def index_counts(lam, k, objective="relbo", alpha=None, beta=None, sigma2=None,
                 encoder="diagonal", reading="pointwise"):
    r"""Number of orthogonal stationary points per Hessian sign pattern at fixed
    :math:`\sigma^2`, counted over all subsets without enumerating them.

    Parameters
    ----------
    lam : array_like, shape (n,), or DataMoments
    k : int
    objective : {"loglik", "elbo", "relbo", "beta_elbo"}
    alpha, beta : float, optional
    sigma2 : float
        Fixed decoder noise (required).
    encoder : {"diagonal", "full"}
    reading : {'pointwise', 'escort', 'cross_entropy'}, default 'pointwise'
        Reading of the RELBO (objective 'relbo' only).

    Returns
    -------
    dict
        ``{(pos, zero, neg): count}`` over vec(W) (n k directions), sorted by key.

    Notes
    -----
    With m eigenvalues above :math:`t = \gamma\sigma^2` and a used set J (|J| = r), the ascent
    directions number :math:`\mathrm{inv}(J) + (k-r)(m-r)`, with :math:`\mathrm{inv}(J)` the pairs
    (p in J, q not in J) with :math:`\lambda_q > \lambda_p`; flat directions are
    :math:`r(r-1)/2 + (k-r)r` without the Hadamard penalty and none with it, plus, with ties,
    one per tied (used, unused) pair, one per tied used pair under the penalty and k - r per
    eigenvalue equal to t.  A dynamic programme over the groups of equal eigenvalues (descending)
    tracks (r, inv, tie-zeros); Python integers, so counts never overflow.

    Examples
    --------
    >>> lam = [5.0, 4.0, 3.0, 2.0, 1.2, 0.5]
    >>> counts = index_counts(lam, 3, "relbo", alpha=1.0, sigma2=0.8)
    >>> counts[(0, 0, 18)], sum(counts.values())        # one maximum among 1+5+10+10 points
    (1, 26)
    """
    if reading != "pointwise":       # escort / cross-entropy readings of the RELBO
        from . import _readings
        return _readings.index_counts(lam, k, objective, alpha, beta, sigma2, encoder, reading)
    if sigma2 is None:
        raise ValueError("`sigma2` must be fixed (a positive float) for the analytic index "
                         "counts")
    sp = _Spec(lam, k, objective, alpha, beta, sigma2, encoder)
    return _index_counts(sp)

def _index_counts(sp):
    lam, n, k = sp.lam, sp.n, sp.k
    t = sp.gamma * sp.sigma2
    tol = sp.tie(t)
    m = _eligible(sp, t)
    at_t = int(np.sum(np.abs(lam - t) <= tol))
    groups = []                                     # sizes of groups of tied eligible values
    i = 0
    while i < m:
        j = i
        while j + 1 < m and lam[i] - lam[j + 1] <= tol:
            j += 1
        groups.append(j - i + 1)
        i = j + 1
    maxinv = k * m + 1
    zmax = sum(g * g for g in groups if g > 1) + 1
    dp = np.zeros((k + 1, maxinv, zmax), dtype=object)
    dp[0, 0, 0] = 1
    before = 0                                      # eligible eigenvalues in earlier groups
    for g in groups:
        new = np.zeros_like(dp)
        for c in range(k + 1):
            for cg in range(0, min(g, k - c) + 1):
                ways = comb(g, cg)
                shift = cg * (before - c)           # chosen here x unchosen strictly larger
                if shift < 0 or shift >= maxinv:
                    continue
                z = cg * (g - cg) + (cg * (cg - 1) // 2 if sp.penalised else 0)
                src = dp[c, :maxinv - shift, :zmax - z]
                if not np.any(src):
                    continue
                new[c + cg, shift:, z:] = new[c + cg, shift:, z:] + src * ways
        dp = new
        before += g
    out = {}
    total = n * k
    for r in range(k + 1):
        for inv, zt in zip(*np.nonzero(dp[r])):
            cnt = int(dp[r, inv, zt])
            pos = int(inv) + (k - r) * (m - r)
            zero = int(zt) + (k - r) * at_t + (0 if sp.penalised
                                               else r * (r - 1) // 2 + (k - r) * r)
            key = (pos, zero, total - pos - zero)
            out[key] = out.get(key, 0) + cnt
    return dict(sorted(out.items()))
