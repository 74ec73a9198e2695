r"""Column clusters: the building blocks of every stationary point (fixed or learned noise,
optimal diagonal encoder).

At a stationary point of :math:`F_a(W) = \mathrm{LL}(W) - P(W)/(2a)` the off-diagonal entries of
:math:`M = W^TW + t I` satisfy :math:`M_{pq}(M_{pp} - M_{qq}) = 0`, so the columns fall into
clusters (connected components of the graph :math:`\{M_{pq} \ne 0\}`) that share one diagonal
value m.  A cluster of c columns and rank r lies on r eigen-directions J of the data covariance;
the non-trivial eigenvalues :math:`\mu_i = s_i^2 + t` of its M-block solve

.. math:: f_m(\mu_i) = \lambda_{J_i},\qquad f_m(\mu) = \mu + (\mu^2/m - \mu)/a,\qquad
    c\,m = \textstyle\sum_i\mu_i + (c - r)\,t,

and any orthogonal G with :math:`G\,\mathrm{diag}(\mu, t, \dots)G^T` of constant diagonal m
completes it (docs: findings, "Every stationary point").  Given m, :math:`\mu_i(m)` is the
positive root of :math:`\mu^2 + (a-1)m\mu - a\lambda m = 0`; :math:`\sum_i\mu_i(m)/m +
(c-r)t/m - c` is strictly decreasing in m, from :math:`+\infty` to :math:`r\max(0, 1-a) - c < 0`,
so m exists and is unique; the cluster exists iff every :math:`\mu_i > t`.

The equation is held by a small strategy object (:class:`ClusterEquation`) so that another
per-cluster equation can reuse the enumeration.
"""

from dataclasses import dataclass
from itertools import combinations
from math import comb

import numpy as np

__all__ = ["Cluster", "ClusterEquation", "cluster_blocks", "manifold_dim", "solve_clusters"]

_EXIST_RTOL = 1e-9       # mu_i - t must exceed this times max(lam_1, t)


class ClusterEquation:
    r"""Stationarity of one cluster for :math:`F_a = \mathrm{LL} - P/(2a)` at noise t.

    ``a`` is the Renyi order alpha (RELBO), 1 for the ELBO and the beta-ELBO (whose profile is
    beta times the ELBO's at noise :math:`\beta\sigma^2`, plus a function of :math:`\sigma^2`).
    """

    def __init__(self, a):
        self.a = float(a)

    def mu(self, m, lam):
        r"""Positive root :math:`\mu` of :math:`f_m(\mu) = \lambda` (broadcasting)."""
        a = self.a
        B = (a - 1.0) * m
        with np.errstate(over="ignore"):       # only at the far ends of the bracket search
            disc = np.hypot(B, 2.0 * np.sqrt(a * lam * m))
        # the cancellation-free form of (-B + disc)/2 on each side of a = 1
        pos = B >= 0
        den = np.where(pos, B + disc, 1.0)
        return np.where(pos, 2.0 * a * lam * m / den, 0.5 * (disc - B))

    def f(self, m, mu):
        return mu + (mu * mu / m - mu) / self.a

    def gain(self, c, r, lamJ, mu, m, t, penalised=True):
        r"""Value of the cluster relative to the same columns at zero, in units of the profile
        at noise t: :math:`-\tfrac12\sum_i[\log(\mu_i/t) + \lambda_i/\mu_i - \lambda_i/t] -
        \tfrac{1}{2a}[c\log m - \sum_i\log\mu_i - (c-r)\log t]`."""
        ll = -0.5 * np.sum(np.log(mu / t) + lamJ / mu - lamJ / t, axis=-1)
        if not penalised:
            return ll
        pen = c * np.log(m / t) - np.sum(np.log(mu / t), axis=-1)
        return ll - 0.5 * pen / self.a


def solve_clusters(eq, c, r, lamJ, t):
    """m (N,) and mu (N, r) for clusters (c, r) on eigenvalues lamJ (N, r) at noise t (vectorised
    bracketed root search on log m to the last bit, then one polish of mu)."""
    lamJ = np.asarray(lamJ, float).reshape(-1, r)
    N = lamJ.shape[0]

    def phi(m, sel=slice(None)):
        return np.sum(eq.mu(m[:, None], lamJ[sel]), axis=1) / m + (c - r) * t / m - c

    scale = np.maximum(lamJ.max(axis=1), t)
    lo = np.log(np.minimum(lamJ.min(axis=1), t) * 1e-6 * min(1.0, eq.a))
    hi = np.log(scale * 10.0 * max(1.0, 1.0 / eq.a))
    for _ in range(60):                      # widen until the root is bracketed
        bad_lo = phi(np.exp(lo)) <= 0
        bad_hi = phi(np.exp(hi)) >= 0
        if not (bad_lo.any() or bad_hi.any()):
            break
        lo = np.where(bad_lo, lo - 5.0, lo)
        hi = np.where(bad_hi, hi + 5.0, hi)
    for _ in range(200):                     # bisection to a bracket of width 1e-2 in log m
        mid = 0.5 * (lo + hi)
        pos = phi(np.exp(mid)) > 0
        lo, hi = np.where(pos, mid, lo), np.where(pos, hi, mid)
        if np.all(hi - lo <= 1e-2):
            break
    # then Illinois (regula falsi that halves the value kept twice) on the roots not yet
    # converged: superlinear and needs only phi, so any strategy's mu serves; a step outside
    # the bracket bisects
    flo, fhi = phi(np.exp(lo)), phi(np.exp(hi))
    x, side = 0.5 * (lo + hi), np.zeros(N, np.int8)
    act = np.arange(N)
    with np.errstate(divide="ignore", invalid="ignore"):
        for _ in range(200):
            if not act.size:
                break
            l, h, fl, fh = lo[act], hi[act], flo[act], fhi[act]
            xn = (l * fh - h * fl) / (fh - fl)
            xn = np.where(np.isfinite(xn) & (xn > l) & (xn < h), xn, 0.5 * (l + h))
            fx = phi(np.exp(xn), act)
            pos = fx > 0
            sd = side[act]
            fh = np.where(pos & (sd == 1), 0.5 * fh, fh)
            fl = np.where(~pos & (sd == -1), 0.5 * fl, fl)
            lo[act], flo[act] = np.where(pos, xn, l), np.where(pos, fx, fl)
            hi[act], fhi[act] = np.where(pos, h, xn), np.where(pos, fh, fx)
            side[act] = np.where(pos, 1, -1)
            tol = 4e-16 * np.maximum(1.0, np.abs(xn))
            done = (np.abs(xn - x[act]) <= tol) | (fx == 0) | (hi[act] - lo[act] <= tol)
            x[act] = xn
            act = act[~done]
    m = np.exp(x) if N else np.empty(0)
    mu = eq.mu(m[:, None], lamJ)
    # m from the M-block's trace, so that the diagonal of G diag(mu, t..) G^T is exactly m
    m = (np.sum(mu, axis=1) + (c - r) * t) / c
    return m, mu


def solve_cluster_scalar(eq, c, r, lamJ, t):
    """m and mu (tuple) of one cluster in plain floats (brentq on log m); as
    :func:`solve_clusters`, for the learned-noise search where it runs inside a root finder."""
    from math import exp, hypot, log, sqrt

    from scipy.optimize import brentq

    a = eq.a

    def mu1(m, lam):
        B = (a - 1.0) * m
        disc = hypot(B, 2.0 * sqrt(a * lam * m))
        return 2.0 * a * lam * m / (B + disc) if B >= 0 else 0.5 * (disc - B)

    def phi(lm):
        m = exp(lm)
        return sum(mu1(m, x) for x in lamJ) / m + (c - r) * t / m - c

    lo = log(min(min(lamJ), t) * 1e-6 * min(1.0, a))
    hi = log(max(max(lamJ), t) * 10.0 * max(1.0, 1.0 / a))
    while phi(lo) <= 0:
        lo -= 5.0
    while phi(hi) >= 0:
        hi += 5.0
    m = exp(brentq(phi, lo, hi, xtol=1e-15, rtol=1e-15, maxiter=300))
    mu = tuple(mu1(m, x) for x in lamJ)
    return (sum(mu) + (c - r) * t) / c, mu


@dataclass(frozen=True)
class Cluster:
    """One cluster: c columns of rank r on eigen-directions J, with its M-block spectrum."""

    c: int
    r: int
    J: tuple
    m: float
    mu: tuple
    gain: float

    @property
    def single(self):
        return self.c == 1


def make_single(j, lam_j):
    return Cluster(1, 1, (j,), float(lam_j), (float(lam_j),), 0.0)


def candidates(eq, lam, t, k, pool, cmax, limit, penalised=True):
    """Multi-column clusters (2 <= c <= cmax, 1 <= r <= c) on directions from ``pool`` that
    exist at noise t, best gain first.  Returns (clusters, truncated): ``truncated`` when more
    than ``limit`` (c, r, J) had to be examined."""
    lam = np.asarray(lam, float)
    tol = _EXIST_RTOL * max(float(lam[0]), t)
    pool = np.asarray(pool, int)
    out, examined = [], 0
    for c in range(2, min(cmax, k) + 1):
        for r in range(1, c + 1):
            n_J = comb(len(pool), r)
            if examined + n_J > limit:
                return sorted(out, key=lambda cl: -cl.gain), True
            examined += n_J
            if n_J == 0:
                continue
            Js = np.array(list(combinations(pool.tolist(), r)), int).reshape(-1, r)
            lamJ = lam[Js]
            m, mu = solve_clusters(eq, c, r, lamJ, t)
            ok = np.all(mu - t > tol, axis=1)
            if r == c:          # all mu equal: the M-block is m I, i.e. singles on a tie
                ok &= (mu.max(axis=1) - mu.min(axis=1)) > tol
            if c >= 3:          # a sub-multiset of the spectrum with mean m: reducible
                ok &= ~_reducible(mu, m, c, r, t, tol)
            if not np.any(ok):
                continue
            g = eq.gain(c, r, lamJ[ok], mu[ok], m[ok], t)
            out += [Cluster(c, r, tuple(J), mm, tuple(uu), gg) for J, mm, uu, gg in
                    zip(Js[ok].tolist(), m[ok].tolist(), mu[ok].tolist(), g.tolist())]
    return sorted(out, key=lambda cl: -cl.gain), False


def _reducible(mu, m, c, r, t, tol):
    """Clusters whose M-block spectrum has a sub-multiset of size 1 or 2 with mean m: their
    constant-diagonal completion can be block-diagonal (then the point is a configuration of
    smaller clusters with equal m, listed as such).  Exact coincidences only."""
    vals = np.concatenate([mu, np.full((mu.shape[0], c - r), t)], axis=1)
    dev = vals - m[:, None]
    red = np.any(np.abs(dev) <= tol, axis=1)
    if c >= 4:
        i, j = np.triu_indices(c, 1)
        red |= np.any(np.abs(dev[:, i] + dev[:, j]) <= tol, axis=1)
    return red


def count_candidates(n_pool, k, cmax):
    """Number of (c, r, J) examined by :func:`candidates` for clusters up to size cmax."""
    return sum(comb(n_pool, r) for c in range(2, min(cmax, k) + 1) for r in range(1, c + 1))


def representative(c, r, mu, t):
    """Orthogonal G (c x c) with G diag(mu, t, ..., t) G^T of constant diagonal m.

    Schur--Horn by plane rotations: repeatedly rotate one diagonal entry above m with one below
    it (their mutual off-diagonal entry is zero) so that one becomes m exactly."""
    d = np.array(list(mu) + [t] * (c - r), float)
    m = d.sum() / c
    G = np.eye(c)
    free = list(range(c))
    for _ in range(c - 1):
        hi = max(free, key=lambda i: d[i])
        lo = min(free, key=lambda i: d[i])
        a, b = d[hi], d[lo]
        if a - b <= 0:
            break
        cs2 = min(max((m - b) / (a - b), 0.0), 1.0)       # new d[hi] = cs2 a + (1 - cs2) b = m
        cs, sn = np.sqrt(cs2), np.sqrt(1.0 - cs2)
        gi, gj = G[:, hi].copy(), G[:, lo].copy()
        G[:, hi], G[:, lo] = cs * gi + sn * gj, -sn * gi + cs * gj
        d[hi], d[lo] = m, a + b - m
        free.remove(hi)
    return G.T                   # M = G^T diag(d) G was tracked; return its eigenvectors


def cluster_block(cl, t):
    """The cluster's decoder block, rows J (r) x its c columns: row i = s_i G[:, i]^T."""
    if cl.single:
        return np.array([[np.sqrt(max(cl.mu[0] - t, 0.0))]])
    G = representative(cl.c, cl.r, cl.mu, t)
    s = np.sqrt(np.maximum(np.asarray(cl.mu) - t, 0.0))
    return s[:, None] * G[:, :cl.r].T


def cluster_blocks(clusters, t):
    return [cluster_block(cl, t) for cl in clusters]


def manifold_dim(cl, t, tol):
    r"""Dimension of the cluster's manifold of stationary points (modulo signed permutations):
    the O(c)-orbit of diag(mu, t, ...) has dimension :math:`c(c-1)/2 - \sum_g g(g-1)/2` over
    groups g of equal eigenvalues, and a constant diagonal imposes c - 1 conditions."""
    if cl.c == 1:
        return 0
    vals = sorted(list(cl.mu) + [t] * (cl.c - cl.r))
    groups, run = [], 1
    for x, y in zip(vals, vals[1:]):
        if y - x <= tol:
            run += 1
        else:
            groups.append(run)
            run = 1
    groups.append(run)
    orbit = cl.c * (cl.c - 1) // 2 - sum(g * (g - 1) // 2 for g in groups)
    return max(orbit - (cl.c - 1), 0)
