r"""The optima atlas for the readings of the Renyi VAE other than the pointwise one.

``reading="escort"`` -- Jensen with the escort of the encoder: :math:`\mathrm{RELBO}^E(V, c, D)
= \mathrm{RELBO}(V, c, D/\alpha)`.  Maximising over D first gives the same profiled decoder
objective :math:`F_\alpha = \mathrm{LL} - P/(2\alpha)` as the pointwise reading, so every
stationary point, value and Hessian classification is the pointwise atlas's; only the optimal
encoder differs (the exact posterior variances :math:`\sigma^2/M_{ii}`), and with it the rate
and the distortion of each point.

``reading="cross_entropy"`` -- the data-level log-mean-exp of the pointwise RELBO, profiled over
the optimal diagonal encoder (b = data mean, :math:`t = 1 - \alpha`, :math:`0 < \alpha < 2`):

.. math::
    F^{CE}(W) = -\tfrac n2\log 2\pi - \tfrac12\log\det C
        + \frac{\log\det(I - tSC^{-1})}{2t} - \frac{P}{2\alpha}.

Its W-dependence through C is rotation invariant, so the cluster characterisation of the
pointwise atlas carries over (derived and checked with sympy in
``gaussrelbo/derivations/readings.py``; docs: "Readings of the Renyi VAE"):

* at a stationary point :math:`M_{pq}(M_{pp} - M_{qq}) = 0`, and C is diagonal in an eigenbasis
  of S, so the columns fall into clusters of constant diagonal m;
* on an eigen-direction of a cluster with model variance :math:`\mu` (an eigenvalue of its
  M-block), :math:`\frac{(2-\alpha)\lambda - \mu}{\mu(\mu - t\lambda)} =
  \frac{\mu - m}{\alpha m\mu}`, i.e. :math:`\mu` is the root above
  :math:`\max(0, t\lambda)` of

  .. math:: \mu^2 + (\alpha - 1)(m + \lambda)\mu + (\alpha^2 - 3\alpha + 1)\,m\lambda = 0,

  unique for :math:`0 < \alpha < 2`; :math:`\mu/m` decreases strictly in m, so each cluster
  (c columns, rank r) has one m with :math:`c\,m = \sum_i\mu_i + (c - r)\sigma^2`, and it
  exists iff every :math:`\mu_i > \sigma^2`.  A single column has :math:`\mu = (2-\alpha)\lambda`;
* a direction left unused keeps model variance :math:`\sigma^2`, which must exceed
  :math:`t\lambda_q` (else :math:`F^{CE} = -\infty`): for :math:`\alpha < 1` the directions with
  :math:`(1-\alpha)\lambda_q \ge \sigma^2` are *forced*, every stationary point uses them;
* the Hessian falls into the same independent blocks as the pointwise one, with the
  log-likelihood coefficients replaced by (:math:`b_q = c_q - t\lambda_q`)

  .. math:: \frac{(2-\alpha)\lambda_q - c_q}{c_q b_q}\ \text{per row},\qquad
      \frac{\lambda_p c_q + \lambda_q c_p - t\lambda_p\lambda_q - b_p b_q}
           {b_p b_q c_p c_q}\ \text{per pair of rows};

  the Hadamard penalty's part is unchanged.  At orthogonal points the signs are those of the
  beta-ELBO with :math:`\beta_{\rm eff} = 1/(2-\alpha)` (same threshold
  :math:`\lambda_j > \sigma^2/(2-\alpha)`), restricted to the subsets that use every forced
  direction.

The cross-entropy atlas is built for the diagonal encoder, with a fixed or a learned
:math:`\sigma^2`; a learned noise solves, per configuration,
:math:`\sum_{q\ \rm unused} 2\sigma^2\partial_{\sigma^2} f^{CE}(\lambda_q, \sigma^2)
+ \sum_{\rm clusters}\frac{c-r}{\alpha}(1 - \sigma^2/m) = 0`.
"""

from dataclasses import dataclass
from itertools import combinations
from math import comb

import numpy as np

from ..encoders import optimal_encoder
from ..model import DataMoments, LinearGaussianVAE
from ..objectives import distortion, rate
from . import _clusters as _cl
from . import _hessian as _hx
from ._atlas import _assemble, _cmax, _normalised, _unscale
from ._enumerate import _best_first, _families
from ._problem import _TIE_RTOL, _Spec, _check_int
from ._profile import _core
from ._records import Atlas, StationaryPoint, _kind

__all__ = ["READINGS", "ReadingAtlas", "CrossEntropyClusterEquation", "check_reading",
           "collapse_thresholds", "global_maximum", "index_counts", "stationary_points"]

#: The readings, in the order the docs present them (``gaussrelbo.readings.READINGS``).
READINGS = ("pointwise", "escort", "cross_entropy")

_DEFAULT_MAX_POINTS = 10000
_DEFAULT_MAX_POINTS_LEARNED = 1000
_DEFAULT_MAX_FAMILIES = 20000
_DEFAULT_MAX_CANDIDATES = 200000
_LEARNED_MAX_FAMILIES = 2000  # learned sigma2: each configuration needs a root search
_STATIONARY_RTOL = 1e-8
_ZERO_RTOL = 1e-9
_CHUNK = 256

_ESCORT_NOTE = ("escort reading: RELBO^E(V, c, D) = RELBO(V, c, D/alpha), so the profiled "
                "decoder objective, every stationary point, value and Hessian classification "
                "are the pointwise atlas's; only the optimal encoder differs (exact posterior "
                "variances sigma2/M_ii), and rate and distortion are that encoder's")
_CE_NOTE = ("cross-entropy reading: profiled objective -n/2 log 2pi - 1/2 log det C + "
            "log det(I - (1-alpha) S C^-1)/(2(1-alpha)) - P/(2 alpha) (optimal diagonal "
            "encoder, b = data mean); stationary points by column clusters with the "
            "cross-entropy cluster equation, values in closed form, Hessian signs in closed "
            "form from its block structure; rate and distortion of the optimal encoder pi_alpha")

def check_reading(reading, objective="relbo", alpha=None):
    """Validate ``reading`` against the objective (:func:`gaussrelbo.readings._check_reading`)
    and, for the cross-entropy reading, the order; returns the reading."""
    from ..readings import _check_reading

    _check_reading(reading, objective)
    if reading == "cross_entropy" and alpha is not None:
        a = float(np.asarray(alpha)) if np.ndim(alpha) == 0 else None
        if a is not None and np.isfinite(a) and a >= 2.0:
            raise ValueError(f"`alpha` must satisfy 0 < alpha < 2 for reading='cross_entropy' "
                             f"(its objective is unbounded above for alpha > 2), got {a:g}")
    return reading


@dataclass
class ReadingAtlas(Atlas):
    """An :class:`~gaussrelbo.optima.Atlas` of a reading of the RELBO.

    Attributes
    ----------
    reading : {'escort', 'cross_entropy'}
    note : str
        How the atlas was obtained (for ``'escort'``: the pointwise atlas, re-scored).
    collapse_threshold : float or None
        Fixed sigma2: dimension j collapses at the global maximum iff
        :math:`\\lambda_j \\le` this value (:math:`\\sigma^2/(2-\\alpha)` for the cross-entropy
        reading, :math:`\\sigma^2` for the escort reading).
    """

    reading: str = "pointwise"
    note: str = ""
    collapse_threshold: object = None

    def to_dict(self):
        d = super().to_dict()
        d["reading"] = self.reading
        d["note"] = self.note
        d["collapse_threshold"] = (None if self.collapse_threshold is None
                                   else float(self.collapse_threshold))
        return d


# ---- escort -------------------------------------------------------------------------------------

def _rescore_escort(points, spectrum, encoder):
    """Rate and distortion of each point with the escort reading's optimal encoder."""
    data = DataMoments.from_spectrum(spectrum)
    n = spectrum.size
    for lo in range(0, len(points), _CHUNK):
        chunk = points[lo:lo + _CHUNK]
        W = np.stack([p.W for p in chunk])
        s2 = np.array([p.sigma2 for p in chunk])
        m = optimal_encoder(LinearGaussianVAE.from_decoder(W, np.zeros(n), s2), "elbo",
                            encoder=encoder)
        R, D = rate(m, data), distortion(m, data)
        for p, r_, d_ in zip(chunk, np.atleast_1d(R), np.atleast_1d(D)):
            p.rate, p.distortion = float(r_), float(d_)


def _wrap(atlas, reading, note, threshold):
    kw = {f: getattr(atlas, f) for f in Atlas.__dataclass_fields__}
    return ReadingAtlas(**kw, reading=reading, note=note, collapse_threshold=threshold)


# ---- cross-entropy: the cluster equation --------------------------------------------------------

def _f_ce(lam, cvar, alpha):
    from ..readings import _f_ce as f          # the per-direction value lives there
    return f(lam, cvar, alpha)


class CrossEntropyClusterEquation:
    r"""Stationarity of one cluster for the cross-entropy reading (the strategy of
    :mod:`._clusters`, order ``a`` = alpha, :math:`0 < \alpha < 2`).

    ``mu(m, lam)`` is the root above :math:`\max(0, (1-\alpha)\lambda)` of
    :math:`\mu^2 + (\alpha-1)(m+\lambda)\mu + (\alpha^2-3\alpha+1)m\lambda = 0`, written with
    the discriminant :math:`(1-\alpha)^2(\lambda - m)^2 + 4\alpha m\lambda > 0` and without
    cancellation on either side of alpha = 1; ``gain`` is the cluster's value on its own
    directions (not relative to zero columns: a forced direction has value :math:`-\infty` at
    :math:`\sigma^2`)."""

    def __init__(self, a):
        self.a = float(a)

    def mu(self, m, lam):
        a = self.a
        with np.errstate(over="ignore"):
            disc = np.hypot((1.0 - a) * (lam - m), 2.0 * np.sqrt(a * m * lam))
        if a <= 1.0:
            return 0.5 * ((1.0 - a) * (m + lam) + disc)
        negK = (3.0 * a - a * a - 1.0) * m * lam          # > 0 for 1 < a < 2.618
        return 2.0 * negK / ((a - 1.0) * (m + lam) + disc)

    def mu_float(self, m, lam):
        """``mu`` for Python floats (the same expressions, without numpy's overhead)."""
        from math import hypot, sqrt

        a = self.a
        disc = hypot((1.0 - a) * (lam - m), 2.0 * sqrt(a * m * lam))
        if a <= 1.0:
            return 0.5 * ((1.0 - a) * (m + lam) + disc)
        return 2.0 * (3.0 * a - a * a - 1.0) * m * lam / ((a - 1.0) * (m + lam) + disc)

    def f(self, m, mu):
        r""":math:`\lambda` with ``mu(m, lam) = mu`` (the cluster equation solved for lambda)."""
        a = self.a
        return mu * (mu - m + a * m) / ((3.0 * a - a * a - 1.0) * m + (1.0 - a) * mu)

    def gain(self, c, r, lamJ, mu, m, t, penalised=True):
        v = np.sum(_f_ce(lamJ, mu, self.a), axis=-1)
        if not penalised:
            return v
        pen = c * np.log(m / t) - np.sum(np.log(mu / t), axis=-1)
        return v - 0.5 * pen / self.a


# ---- cross-entropy: the problem -----------------------------------------------------------------

class _CEProblem:
    """A validated cross-entropy problem at one noise level."""

    def __init__(self, sp, s2):
        self.sp, self.lam, self.n, self.k = sp, sp.lam, sp.n, sp.k
        self.alpha = a = sp.alpha
        self.t = t = 1.0 - a
        self.s2 = s2
        self.pen = sp.penalised
        self.tol = _TIE_RTOL * max(float(self.lam[0]), s2)
        self.tau = s2 / (2.0 - a)
        self.m = int(np.sum(self.lam - self.tau > self.tol))            # eligible: a prefix
        self.n_forced = int(np.sum(s2 - t * self.lam <= self.tol)) if t > 0 else 0
        if self.n_forced > self.k:          # refused by _spec before scaling
            raise ValueError(f"reading='cross_entropy' is -inf for every decoder at "
                             f"alpha={a:g}")
        self.eq = CrossEntropyClusterEquation(a)
        self.mu1 = (2.0 - a) * self.lam                               # single columns
        forced = np.arange(self.n) < self.n_forced
        with np.errstate(divide="ignore", invalid="ignore"):
            f0 = np.where(forced, 0.0, _f_ce(self.lam, np.full(self.n, s2), a))
        self.f0 = f0                      # unused value, 0 on forced directions
        self.base = float(np.sum(f0))
        self.sg = _f_ce(self.lam[:self.m], self.mu1[:self.m], a) - f0[:self.m]

    def single(self, j):
        mu = float(self.mu1[j])
        return _cl.Cluster(1, 1, (int(j),), mu, (mu,), float(self.sg[j] + self.f0[j]))

    def value(self, X, S):
        v = self.base + sum(cl.gain - float(np.sum(self.f0[list(cl.J)])) for cl in X)
        return v + float(np.sum(self.sg[list(S)])) if len(S) else v

    def feasible(self, X, S):
        if not self.n_forced:
            return True
        used = set(S).union(*[cl.J for cl in X]) if X else set(S)
        return all(j in used for j in range(self.n_forced))


def _ce_grad(W, s2, lam, alpha, penalised):
    r"""Gradient of the profiled cross-entropy objective over W (batched):
    :math:`[B^{-1}SC^{-1} - C^{-1}]W - \nabla P/(2\alpha)` with B = C - tS (the difference
    quotient in t written without cancellation), :math:`C^{-1}W = WM^{-1}` (push-through)."""
    t = 1.0 - alpha
    s2 = np.asarray(s2, float)
    n, k = W.shape[-2:]
    Wt = np.swapaxes(W, -1, -2)
    Mm = Wt @ W + s2[..., None, None] * np.eye(k)
    CiW = np.swapaxes(np.linalg.solve(Mm, Wt), -1, -2)                  # W M^-1
    B = W @ Wt + (s2[..., None] - t * lam)[..., None] * np.eye(n)       # C - tS
    g = np.linalg.solve(B, lam[:, None] * CiW) - CiW
    if penalised:
        _, _, _, _, pW, _ = _core(W, s2, lam, True)
        g = g - pW / (2.0 * alpha)
    return g


def _ce_sub_hessian(W, lamrows, s2, alpha, penalised):
    """Exact Hessian over vec(W) (row-major) of the cross-entropy objective on a sub-problem
    whose C is diagonal (rows = eigen-directions): per-row and per-pair-of-rows coefficients of
    the log-determinant terms, plus the Hadamard penalty's part (the pointwise one)."""
    n, k = W.shape
    t = 1.0 - alpha
    c = np.sum(W * W, axis=1) + s2
    b = c - t * lamrows
    d = n * k
    E = np.eye(d).reshape(d, n, k)
    L = E @ W.T
    L = L + np.swapaxes(L, 1, 2)
    H = np.diag(np.repeat(((2.0 - alpha) * lamrows - c) / (c * b), k))
    g2 = ((lamrows[:, None] * c[None, :] + c[:, None] * lamrows[None, :]
           - t * np.outer(lamrows, lamrows) - np.outer(b, b)) / np.outer(b * c, b * c))
    Lf = L.reshape(d, -1)
    H -= (Lf * (0.5 * g2).ravel()) @ Lf.T
    if penalised:      # the penalty's Hessian: the pointwise one minus its log-likelihood part
        H += (_hx.sub_hessian(W, lamrows, s2, alpha, True)
              - _hx.sub_hessian(W, lamrows, s2, alpha, False))
    return 0.5 * (H + H.T)


def _triple(e, thr):
    e = np.ravel(e)
    return np.array([np.sum(e > thr), np.sum(np.abs(e) <= thr), np.sum(e < -thr)], np.int64)


class _CEClassifier:
    r"""Hessian sign counts of cross-entropy cluster points (fixed sigma2), block by block with
    per-block caches (the block structure of :mod:`._hessian`).

    An eigenvalue of a block counts as zero when its magnitude is at most ``1e-9`` times the
    size of the terms the block is made of (its largest entry; for the rows of unused
    directions, the sum of the magnitudes of their terms), so that curvatures of order
    :math:`1/\sigma^2` and of order :math:`1/\lambda` coexist when the noise is small."""

    def __init__(self, pr):
        self.pr = pr
        lam, s2, t = pr.lam, pr.s2, pr.t
        bq = s2 - t * lam
        with np.errstate(divide="ignore", invalid="ignore"):
            self.d1 = np.where(bq > 0, ((2.0 - pr.alpha) * lam - s2) / (s2 * bq), np.nan)
        # a zero column towards an unused direction: zero exactly at the collapse threshold
        self.d1_zero = np.abs(lam - pr.tau) <= pr.tol
        self._cache = {}

    @staticmethod
    def _block(H):
        return _triple(np.linalg.eigvalsh(H), _ZERO_RTOL * max(float(np.max(np.abs(H))),
                                                                1e-300))

    def _sub(self, W, rows):
        pr = self.pr
        return _ce_sub_hessian(W, pr.lam[list(rows)], pr.s2, pr.alpha, pr.pen)

    def _internal(self, cl, B):
        key = ("i", cl.c, cl.r, cl.J)
        if key not in self._cache:
            self._cache[key] = self._block(self._sub(B, cl.J))
        return self._cache[key]

    def _cross(self, A, BA, B, BB):
        key = ("x", A.c, A.r, A.J, B.c, B.r, B.J)
        if key not in self._cache:
            W = np.zeros((A.r + B.r, A.c + B.c))
            W[:A.r, :A.c], W[A.r:, A.c:] = BA, BB
            H = self._sub(W, A.J + B.J)
            idx = np.arange(W.size).reshape(W.shape)
            sel = np.concatenate([idx[:A.r, A.c:].ravel(), idx[A.r:, :A.c].ravel()])
            self._cache[key] = self._block(H[np.ix_(sel, sel)])
        return self._cache[key]

    def _zero(self, cl, B):
        key = ("z", cl.c, cl.r, cl.J)
        if key not in self._cache:
            W = np.zeros((cl.r, cl.c + 1))
            W[:, :cl.c] = B
            H = self._sub(W, cl.J)
            sel = np.arange(W.size).reshape(W.shape)[:, -1]
            self._cache[key] = self._block(H[np.ix_(sel, sel)])
        return self._cache[key]

    def _unused(self, cl, B):
        """(3, n) per-row sign counts of the block of an unused row q against the cluster's
        columns, every q at once: the row's log-determinant part in closed form plus the
        penalty's part, which does not depend on the row's eigenvalue (one small exact
        Hessian per cluster)."""
        key = ("u", cl.c, cl.r, cl.J)
        if key not in self._cache:
            pr = self.pr
            lam, s2, t, c, r = pr.lam, pr.s2, pr.t, cl.c, cl.r
            W = np.zeros((r + 1, c))
            W[:r] = B
            sel = np.arange(W.size).reshape(W.shape)[-1]
            lamrows = np.append(lam[list(cl.J)], lam[0])
            Hpen = np.zeros((c, c))
            if pr.pen:
                Hpen = (_hx.sub_hessian(W, lamrows, s2, pr.alpha, True)
                        - _hx.sub_hessian(W, lamrows, s2, pr.alpha, False))[np.ix_(sel, sel)]
            # log-determinant part: d1_q |x|^2 - sum_p (x . W_p)^2 g2(q, p)
            lp = lam[list(cl.J)]
            cp = np.sum(B * B, axis=1) + s2
            bp = cp - t * lp
            bq = s2 - t * lam
            ok = bq > 0
            bq_ = np.where(ok, bq, 1.0)
            g2 = ((lp[None, :] * s2 + cp[None, :] * lam[:, None] - t * np.outer(lam, lp)
                   - np.outer(bq_, bp)) / np.outer(bq_ * s2, bp * cp))            # (n, r)
            d1 = np.where(ok, self.d1, 0.0)
            LDq = np.einsum("qp,pi,pj->qij", g2, B, B)
            Hq = d1[:, None, None] * np.eye(c) - LDq + Hpen[None]
            e = np.linalg.eigvalsh(0.5 * (Hq + np.swapaxes(Hq, 1, 2)))           # (n, c)
            thr = _ZERO_RTOL * (np.abs(d1) + np.max(np.abs(LDq), axis=(1, 2))
                                + np.max(np.abs(Hpen)))[:, None]
            codes = np.stack([np.sum(e > thr, axis=1), np.sum(np.abs(e) <= thr, axis=1),
                              np.sum(e < -thr, axis=1)]).astype(np.int64)
            codes[:, ~ok] = 0          # forced rows are always used
            self._cache[key] = (codes, codes.sum(axis=1))
        return self._cache[key]

    def _zero_unused(self):
        key = ("zu",)
        if key not in self._cache:
            e = np.where(np.isnan(self.d1) | self.d1_zero, 0.0, self.d1)
            codes = np.stack([e > 0, e == 0, e < 0]).astype(np.int64)
            codes[:, np.isnan(self.d1)] = 0
            self._cache[key] = (codes, codes.sum(axis=1))
        return self._cache[key]

    def signs(self, clusters, blocks):
        k = self.pr.k
        nz = k - sum(cl.c for cl in clusters)
        used = [j for cl in clusters for j in cl.J]
        tot = np.zeros(3, np.int64)
        for cl, B in zip(clusters, blocks):
            tot += self._internal(cl, B)
        for i in range(len(clusters)):
            for j in range(i + 1, len(clusters)):
                tot += self._cross(clusters[i], blocks[i], clusters[j], blocks[j])
        for cl, B in zip(clusters, blocks):
            if nz:
                tot += nz * self._zero(cl, B)
            codes, total = self._unused(cl, B)
            tot += total - codes[:, used].sum(axis=1)
        if nz:
            codes, total = self._zero_unused()
            tot += nz * (total - codes[:, used].sum(axis=1))
        return tuple(int(x) for x in tot)


# ---- cross-entropy: enumeration and points ------------------------------------------------------

def _ce_enumerate(pr, cap, max_cluster, fam_cap, cand_cap, nonorthogonal):
    """[(value, clusters)] best first (exact order) and the caps that truncated it."""
    n, k = pr.n, pr.k
    truncated = []
    pool = [j for j in range(n) if pr.lam[j] > 0]
    multi = []
    if nonorthogonal and pr.pen and k >= 2:
        cmax = _cmax(len(pool), k, max_cluster, cand_cap, truncated)
        if cmax >= 2:
            multi, _ = _cl.candidates(pr.eq, pr.lam, pr.s2, k, pool, cmax, cand_cap)
    fams, done = _families(multi, k, fam_cap)
    if not done:
        truncated.append(f"max_families={fam_cap}")
    L = list(range(pr.m))
    families = []
    for X in fams:
        used = {j for cl in X for j in cl.J}
        families.append((X, [j for j in L if j not in used], k - sum(cl.c for cl in X)))

    def evaluate(X, S):
        if not pr.feasible(X, S):
            return None
        return pr.value(X, S), pr.s2

    res, exhausted = _best_first(families, evaluate, cap, 50 * cap + 10 * n * n)
    if not exhausted:
        truncated.append(f"max_points={cap}")
    return [(v, list(X) + [pr.single(j) for j in S]) for v, _, X, S in res], truncated


def _rate_distortion(Ws, s2, lam, alpha):
    """Rate and distortion with the optimal (pointwise) encoder pi_alpha, batched."""
    data = DataMoments.from_spectrum(lam)
    R, D = np.empty(len(Ws)), np.empty(len(Ws))
    for lo in range(0, len(Ws), _CHUNK):
        W = np.stack(Ws[lo:lo + _CHUNK])
        m = optimal_encoder(LinearGaussianVAE.from_decoder(W, np.zeros(lam.size),
                                                           np.full(W.shape[0], s2)),
                            "relbo", alpha=alpha, encoder="diagonal")
        R[lo:lo + _CHUNK], D[lo:lo + _CHUNK] = rate(m, data), distortion(m, data)
    return R, D


def _ce_points(pr, configs, b):
    """StationaryPoints of (value, clusters) configurations; (points, n_rejected)."""
    n, k, lam, s2 = pr.n, pr.k, pr.lam, pr.s2
    built = [(v, cls) + _assemble(n, k, cls, s2) for v, cls in configs]
    if not built:
        return [], 0
    Ws = np.stack([x[2] for x in built])
    gn = np.empty(len(built))
    step = max(1, min(_CHUNK, 2**20 // n**2))
    for lo in range(0, len(built), step):
        g = _ce_grad(Ws[lo:lo + step], np.full(min(step, len(built) - lo), s2), lam,
                     pr.alpha, pr.pen)
        gn[lo:lo + step] = np.sqrt(lam[0]) * np.max(np.abs(g), axis=(-2, -1))
    keep = gn <= _STATIONARY_RTOL * np.maximum(1.0, np.abs([x[0] for x in built]))
    n_rej = int(np.sum(~keep))
    built = [x for x, ok in zip(built, keep) if ok]
    gn = gn[keep]
    R, D = _rate_distortion([x[2] for x in built], s2, lam, pr.alpha)
    clf = _CEClassifier(pr)
    out = []
    for i, (v, cls, W, blocks, recs) in enumerate(built):
        signs = clf.signs(cls, blocks)
        orth = all(cl.single for cl in cls)
        J = tuple(sorted(j for cl in cls for j in cl.J))
        mdim = sum(_cl.manifold_dim(cl, s2, pr.tol) for cl in cls)
        pairs = tuple(cl.J for cl in cls if cl.c == 2 and cl.r == 2)
        out.append(StationaryPoint(J, W, b, float(s2), float(v), float(R[i]), float(D[i]),
                                   int(sum(cl.c for cl in cls)), orth, signs, _kind(signs),
                                   float(gn[i]), pairs, recs, mdim))
    return out, n_rej


def _spec(lam, k, alpha, sigma2, encoder):
    sp = _Spec(lam, k, "relbo", alpha, None, sigma2, encoder)
    if not sp.alpha < 2.0:
        raise ValueError(f"`alpha` must satisfy 0 < alpha < 2 for reading='cross_entropy' (its "
                         f"objective is unbounded above for alpha > 2), got {sp.alpha:g}")
    if encoder != "diagonal":
        raise ValueError("reading='cross_entropy' is derived for encoder='diagonal' (the "
                         f"optimal diagonal encoder), got encoder={encoder!r}")
    t = 1.0 - sp.alpha
    if sp.sigma2 is not None and t > 0 and sp.k < sp.n and (
            sp.sigma2 - t * sp.lam[sp.k] <= _TIE_RTOL * max(float(sp.lam[0]), sp.sigma2)):
        raise ValueError(f"reading='cross_entropy' is -inf for every decoder at "
                         f"alpha={sp.alpha:g}, sigma2={sp.sigma2:g}: the directions with "
                         f"(1 - alpha) lam_j >= sigma2 must all be used, and there are more "
                         f"than k={sp.k}; it needs sigma2 > (1 - alpha) lam_(k+1) = "
                         f"{t * float(sp.lam[sp.k]):g} (learn sigma2, or raise alpha)")
    return sp


def _bias(sp):
    b = np.zeros(sp.n) if sp.mean is None else np.array(sp.mean, float)
    b.setflags(write=False)
    return b


def _ce_index_counts(pr):
    """Sign counts over every orthogonal point: the beta-ELBO's with beta = 1/(2 - alpha)
    (same threshold, same blocks), over the subsets that use every forced direction."""
    from ._counts import index_counts as counts

    n, k, f, lam = pr.n, pr.k, pr.n_forced, pr.lam
    beta = 1.0 / (2.0 - pr.alpha)
    if f == 0:
        return counts(lam, k, "beta_elbo", beta=beta, sigma2=pr.s2)
    zF, i = 0, 0                           # tied pairs inside the forced prefix (all used)
    while i < f:
        j = i
        while j + 1 < f and lam[i] - lam[j + 1] <= pr.tol:
            j += 1
        g = j - i + 1
        zF += g * (g - 1) // 2
        i = j + 1
    if k == f or f == n or not lam[f] > 0:
        at_t = int(np.sum(np.abs(lam - pr.tau) <= pr.tol))
        m = pr.m
        pos = (k - f) * (m - f)
        zero = zF + (k - f) * at_t
        return {(pos, zero, n * k - pos - zero): 1}
    red = counts(lam[f:], k - f, "beta_elbo", beta=beta, sigma2=pr.s2)
    out = {}
    for (pos, zero, _), cnt in red.items():
        key = (pos, zero + zF, n * k - pos - zero - zF)
        out[key] = out.get(key, 0) + cnt
    return dict(sorted(out.items()))


def _ce_global(pr, b):
    """The global maximum (top directions above sigma2/(2 - alpha)) as a StationaryPoint."""
    r = min(pr.k, pr.m)
    v = pr.value((), tuple(range(r)))
    pts, _ = _ce_points(pr, [(v, [pr.single(j) for j in range(r)])], b)
    return pts[0]


# ---- cross-entropy: learned sigma2 --------------------------------------------------------------

def _cluster_m(eq, c, r, lamJ, s2):
    """(m, mu) of one cluster at noise s2 in plain floats (brentq on log m; with a learned
    noise every configuration has its own, so nothing is batched)."""
    from math import exp, log

    from scipy.optimize import brentq

    lamJ = [float(x) for x in lamJ]

    def phi(lm):
        m = exp(lm)
        return sum(eq.mu_float(m, x) for x in lamJ) / m + (c - r) * s2 / m - c

    lo = log(min(min(lamJ), s2) * 1e-6 * min(1.0, eq.a))
    hi = log(max(max(lamJ), s2) * 10.0 * max(1.0, 1.0 / eq.a))
    while phi(lo) <= 0:
        lo -= 5.0
    while phi(hi) >= 0:
        hi += 5.0
    m = exp(brentq(phi, lo, hi, xtol=1e-15, rtol=1e-15, maxiter=300))
    mu = [eq.mu_float(m, x) for x in lamJ]
    return (sum(mu) + (c - r) * s2) / c, mu


def _learned_config(sp, eq, X, S):
    r"""(value, sigma2, clusters) of cluster shapes X ((c, r, J) tuples) plus single columns S
    with a learned noise, or None.  The noise solves

    .. math:: \sum_{q\ \rm unused}\frac{(2-\alpha)\lambda_q - \sigma^2}{\sigma^2 -
        (1-\alpha)\lambda_q} + \sum_{\rm clusters}\frac{c - r}{\alpha}\Big(1 -
        \frac{\sigma^2}{m}\Big) = 0

    (:math:`2\sigma^2\,\partial F/\partial\sigma^2`; sympy: ``derivations/readings.py``), m
    from the cluster equation at that noise; then every cluster, single column and unused
    direction must exist there."""
    from math import exp, log

    from scipy.optimize import brentq

    from ..readings import _sigma2_ce

    lam, a = sp.lam, sp.alpha
    t = 1.0 - a
    used = [j for _, _, J in X for j in J] + list(S)
    unused = np.delete(lam, used)
    if unused.size == 0:
        return None
    deficient = [(c, r, J) for c, r, J in X if r < c]
    if not deficient:
        s2 = _sigma2_ce(unused, a)
    else:
        def h(ls2):
            v = exp(ls2)
            acc = float(np.sum(((2.0 - a) * unused - v) / (v - t * unused)))
            for c, r, J in deficient:
                acc += (c - r) / a * (1.0 - v / _cluster_m(eq, c, r, lam[list(J)], v)[0])
            return acc

        floor = max(t * float(unused.max()), 0.0)
        lo = log(floor * (1.0 + 1e-12)) if floor > 0 else log(1e-12 * float(lam[0]))
        hi = log(10.0 * float(lam[0]))
        try:
            if not h(lo) > 0 > h(hi):
                return None
            s2 = exp(brentq(h, lo, hi, xtol=1e-15, rtol=1e-15, maxiter=300))
        except (FloatingPointError, ZeroDivisionError):
            return None
    if s2 is None:
        return None
    tol = _TIE_RTOL * max(float(lam[0]), s2)
    if np.any(s2 - t * unused <= tol) or any((2.0 - a) * lam[j] - s2 <= tol for j in S):
        return None
    clusters = []
    for c, r, J in X:
        m, mu = _cluster_m(eq, c, r, lam[list(J)], s2)
        mu = np.array(mu)
        if np.any(mu - s2 <= tol) or (r == c and mu.max() - mu.min() <= tol):
            return None
        if c >= 3 and _cl._reducible(mu[None], np.array([m]), c, r, s2, tol)[0]:
            return None
        clusters.append(_cl.Cluster(c, r, tuple(J), m, tuple(float(x) for x in mu),
                                    float(eq.gain(c, r, lam[list(J)], mu, m, s2))))
    for j in S:
        mu1 = (2.0 - a) * float(lam[j])
        clusters.append(_cl.Cluster(1, 1, (int(j),), mu1, (mu1,),
                                    float(_f_ce(lam[j], mu1, a))))
    value = float(np.sum(_f_ce(unused, np.full(unused.size, s2), a))) + sum(
        cl.gain for cl in clusters)
    return value, float(s2), clusters


def _learned_signs(sp, s2, cls, blocks):
    """Signs over (vec W, sigma2) with a learned noise: the fixed-noise blocks, with the
    clusters' own blocks bordered by sigma2 (only they couple to it)."""
    pr = _CEProblem(sp, s2)
    a, lam = pr.alpha, pr.lam
    clf = _CEClassifier(pr)
    tot = np.array(clf.signs(cls, blocks), np.int64)
    d = sum(B.size for B in blocks)
    H = np.zeros((d + 1, d + 1))
    o, Ftt = 0, 0.0
    used = np.zeros(pr.n, bool)
    for cl, B in zip(cls, blocks):
        tot -= clf._internal(cl, B)
        lamJ = lam[list(cl.J)]
        mu = np.asarray(cl.mu)
        used[list(cl.J)] = True
        H[o:o + B.size, o:o + B.size] = _ce_sub_hessian(B, lamJ, s2, a, pr.pen)
        mixed = (2.0 * _fpp(lamJ, mu, a))[:, None] * B
        if pr.pen:
            mixed = mixed.ravel() + (_hx._mixed(B, lamJ, s2, a, True)
                                     - _hx._mixed(B, lamJ, s2, a, False))
        H[o:o + B.size, -1] = H[-1, o:o + B.size] = np.ravel(mixed) * s2
        Ftt += float(np.sum(_fpp(lamJ, mu, a)))
        if pr.pen:
            Ftt -= (-cl.c / cl.m**2 + np.sum(1.0 / mu**2) + (cl.c - cl.r) / s2**2) / (2 * a)
        o += B.size
    Ftt += float(np.sum(_fpp(lam[~used], s2, a)))
    H[-1, -1] = Ftt * s2 * s2            # sigma2 in units of itself (same signs: congruence)
    e = np.linalg.eigvalsh(H)
    tot += _triple(e, _ZERO_RTOL * np.max(np.abs(e)))
    return tuple(int(x) for x in tot)


def _learned_points(sp, configs, b):
    """StationaryPoints of [(value, s2, clusters)] with a learned noise; (points, n_rejected)."""
    n, k, lam = sp.n, sp.k, sp.lam
    out, n_rej = [], 0
    for v, s2, cls in configs:
        W, blocks, recs = _assemble(n, k, cls, s2)
        g = _ce_grad(W[None], np.array([s2]), lam, sp.alpha, sp.penalised)[0]
        gn = float(np.sqrt(lam[0]) * np.max(np.abs(g)))
        if not gn <= _STATIONARY_RTOL * max(1.0, abs(v)):
            n_rej += 1
            continue
        signs = _learned_signs(sp, s2, cls, blocks)
        R, D = _rate_distortion([W], s2, lam, sp.alpha)
        tol = _TIE_RTOL * max(float(lam[0]), s2)
        out.append(StationaryPoint(
            tuple(sorted(j for cl in cls for j in cl.J)), W, b, float(s2), float(v),
            float(R[0]), float(D[0]), int(sum(cl.c for cl in cls)),
            all(cl.single for cl in cls), signs, _kind(signs), gn,
            tuple(cl.J for cl in cls if cl.c == 2 and cl.r == 2), recs,
            sum(_cl.manifold_dim(cl, s2, tol) for cl in cls)))
    return out, n_rej


def _fpp(lam, c, alpha):
    r""":math:`\partial^2 f^{CE}/\partial c^2 = \frac1{2c^2} - \frac{\lambda(2c - t\lambda)}
    {2c^2(c - t\lambda)^2}` (sympy: ``gaussrelbo/derivations/readings.py``)."""
    t = 1.0 - alpha
    return 0.5 / c**2 - lam * (2.0 * c - t * lam) / (2.0 * c**2 * (c - t * lam) ** 2)


# ---- public entry points (dispatched from the atlas functions) ----------------------------------

def stationary_points(lam, k, objective="relbo", alpha=None, beta=None, sigma2=None,
                      encoder="diagonal", max_points=None, nonorthogonal=True,
                      max_cluster=None, max_families=None, max_candidates=None,
                      reading="pointwise"):
    """The atlas of a reading (see :func:`gaussrelbo.optima.stationary_points`)."""
    check_reading(reading, objective, alpha)
    from ._atlas import stationary_points as pointwise

    if reading == "escort":
        atlas = pointwise(lam, k, objective, alpha=alpha, beta=beta, sigma2=sigma2,
                          encoder=encoder, max_points=max_points, nonorthogonal=nonorthogonal,
                          max_cluster=max_cluster, max_families=max_families,
                          max_candidates=max_candidates)
        _rescore_escort(atlas.points, atlas.spectrum, atlas.encoder)
        thr = None if sigma2 is None else float(atlas.sigma2)
        return _wrap(atlas, "escort", _ESCORT_NOTE, thr)
    sp = _spec(lam, k, alpha, sigma2, encoder)
    b = _bias(sp)
    spectrum = sp.lam
    sp, scale = _normalised(sp)          # computed at lam_1 = 1, values shifted back
    if sp.sigma2 is None:
        atlas = _ce_learned_atlas(sp, b, max_points, nonorthogonal, max_cluster, max_families,
                                  max_candidates)
        atlas.spectrum = spectrum
        _unscale(atlas.points, scale, sp.n)
        return atlas
    cap = _DEFAULT_MAX_POINTS if max_points is None else _check_int(max_points, "max_points", 1)
    fam_cap = (_DEFAULT_MAX_FAMILIES if max_families is None
               else _check_int(max_families, "max_families", 1))
    cand_cap = (_DEFAULT_MAX_CANDIDATES if max_candidates is None
                else _check_int(max_candidates, "max_candidates", 1))
    pr = _CEProblem(sp, sp.sigma2)
    configs, truncated = _ce_enumerate(pr, cap, max_cluster, fam_cap, cand_cap, nonorthogonal)
    gJ = tuple(range(min(pr.k, pr.m)))
    if not any(all(cl.single for cl in cls) and tuple(sorted(j for cl in cls for j in cl.J))
               == gJ for _, cls in configs):
        configs.append((pr.value((), gJ), [pr.single(j) for j in gJ]))
    points, n_rej = _ce_points(pr, configs, b)
    points.sort(key=lambda p: -p.value)
    gmax = next(p for p in points if p.orthogonal and p.subset == gJ)
    n_orth = sum(comb(pr.m - pr.n_forced, r - pr.n_forced)
                 for r in range(pr.n_forced, min(pr.k, pr.m) + 1))
    cluster_counts = {}
    for p in points:
        if not p.orthogonal:
            cluster_counts[p.hessian_signs] = cluster_counts.get(p.hessian_signs, 0) + 1
    _unscale(points, scale, sp.n)
    return ReadingAtlas("relbo", pr.k, sp.sigma2 * scale, pr.alpha, 1.0, "diagonal", spectrum,
                        points, gmax, not truncated, n_orth, _ce_index_counts(pr), [], n_rej,
                        sp.basis, tuple(truncated), dict(sorted(cluster_counts.items())),
                        reading="cross_entropy", note=_CE_NOTE,
                        collapse_threshold=pr.tau * scale)


def _ce_learned_atlas(sp, b, max_points, nonorthogonal, max_cluster, max_families,
                      max_candidates):
    """The cross-entropy atlas with a learned noise: configurations of clusters and single
    columns, each with its own noise root, best first by the subset tree (the order is not
    proved exact, as for the pointwise atlas with a learned noise)."""
    from ..readings import reading_global_maximum

    n, k, lam = sp.n, sp.k, sp.lam
    cap = (_DEFAULT_MAX_POINTS_LEARNED if max_points is None
           else _check_int(max_points, "max_points", 1))
    fam_cap = min(_DEFAULT_MAX_FAMILIES if max_families is None
                  else _check_int(max_families, "max_families", 1), _LEARNED_MAX_FAMILIES)
    cand_cap = (_DEFAULT_MAX_CANDIDATES if max_candidates is None
                else _check_int(max_candidates, "max_candidates", 1))
    eq = CrossEntropyClusterEquation(sp.alpha)
    truncated = []
    pool = [j for j in range(n) if lam[j] > 0]
    shapes = []
    if nonorthogonal and k >= 2:
        cmax = _cmax(len(pool), k, max_cluster, cand_cap, truncated)
        shapes = [_cl.Cluster(c, r, J, 0.0, (), 0.0) for c in range(2, cmax + 1)
                  for r in range(1, c + 1) for J in combinations(pool, r)]
    fams, done = _families(shapes, k, fam_cap)
    if not done:
        truncated.append(f"max_families={fam_cap}")
    families = [(X, [j for j in range(n) if not any(j in cl.J for cl in X)],
                 k - sum(cl.c for cl in X)) for X in fams]
    store = {}

    def evaluate(X, S):
        key = (tuple((cl.c, cl.r, cl.J) for cl in X), tuple(S))
        if key not in store:
            store[key] = _learned_config(sp, eq, key[0], key[1])
        out = store[key]
        return None if out is None else out[:2]

    res, exhausted = _best_first(families, evaluate, cap, 5 * cap + 10 * n * n)
    if not exhausted:
        truncated.append(f"max_points={cap}")
    configs = [store[(tuple((cl.c, cl.r, cl.J) for cl in X), tuple(S))] for _, _, X, S in res]
    g = reading_global_maximum(lam, k, sp.alpha, "cross_entropy", None)
    gJ = tuple(range(g.active))

    def is_global(s2, cls):
        return (all(cl.single for cl in cls) and abs(s2 - g.sigma2) <= 1e-10 * g.sigma2
                and tuple(sorted(j for cl in cls for j in cl.J)) == gJ)

    if not any(is_global(s2, cls) for _, s2, cls in configs):
        configs.append(_learned_config(sp, eq, (), gJ))
    points, n_rej = _learned_points(sp, configs, b)
    points.sort(key=lambda p: -p.value)
    gmax = next(p for p in points if p.orthogonal and p.subset == gJ
                and abs(p.sigma2 - g.sigma2) <= 1e-10 * g.sigma2)
    complete = not truncated
    counts, cluster_counts = {}, {}
    for p in points:
        d = counts if p.orthogonal else cluster_counts
        d[p.hessian_signs] = d.get(p.hessian_signs, 0) + 1
    n_orth = sum(p.orthogonal for p in points) if complete else None
    return ReadingAtlas("relbo", k, None, sp.alpha, 1.0, "diagonal", lam, points, gmax,
                        complete, n_orth, dict(sorted(counts.items())) if complete else {},
                        [], n_rej, sp.basis, tuple(truncated),
                        dict(sorted(cluster_counts.items())), reading="cross_entropy",
                        note=_CE_NOTE, collapse_threshold=None)


def global_maximum(lam, k, objective="relbo", alpha=None, beta=None, sigma2=None,
                   encoder="diagonal", reading="pointwise"):
    """The global maximum of a reading (see :func:`gaussrelbo.optima.global_maximum`)."""
    check_reading(reading, objective, alpha)
    if reading == "escort":
        from ._atlas import global_maximum as pointwise

        p = pointwise(lam, k, objective, alpha=alpha, beta=beta, sigma2=sigma2,
                      encoder=encoder)
        _rescore_escort([p], _Spec(lam, k, objective, alpha, beta, sigma2, encoder).lam,
                        encoder)
        return p
    from ..readings import reading_global_maximum

    sp = _spec(lam, k, alpha, sigma2, encoder)
    b = _bias(sp)
    sp, scale = _normalised(sp)
    if sp.sigma2 is not None:
        p = _ce_global(_CEProblem(sp, sp.sigma2), b)
    else:
        g = reading_global_maximum(sp.lam, sp.k, sp.alpha, "cross_entropy", None)
        eq = CrossEntropyClusterEquation(sp.alpha)
        p = _learned_points(sp, [_learned_config(sp, eq, (), tuple(range(g.active)))], b)[0][0]
    return _unscale([p], scale, sp.n)[0]


def index_counts(lam, k, objective="relbo", alpha=None, beta=None, sigma2=None,
                 encoder="diagonal", reading="pointwise"):
    """Orthogonal index counts of a reading (see :func:`gaussrelbo.optima.index_counts`)."""
    check_reading(reading, objective, alpha)
    if reading == "escort":
        from ._counts import index_counts as pointwise

        return pointwise(lam, k, objective, alpha=alpha, beta=beta, sigma2=sigma2,
                         encoder=encoder)
    if sigma2 is None:
        raise ValueError("`sigma2` must be fixed (a positive float) for the analytic index "
                         "counts")
    sp, _ = _normalised(_spec(lam, k, alpha, sigma2, encoder))
    return _ce_index_counts(_CEProblem(sp, sp.sigma2))


def collapse_thresholds(lam, sigma2, alpha, reading):
    r"""Per direction, the order :math:`\alpha_j` below which a reading keeps it active, and
    the active mask at ``alpha`` (fixed :math:`\sigma^2`).

    ``"cross_entropy"``: :math:`\alpha_j = 2 - \sigma^2/\lambda_j`, active iff
    :math:`\lambda_j > \sigma^2/(2-\alpha)` (:func:`gaussrelbo.readings.critical_alpha`,
    :func:`gaussrelbo.readings.reading_collapse_thresholds`); ``"escort"``: alpha-free, as the
    pointwise reading: :math:`+\infty` where :math:`\lambda_j > \sigma^2` (active for every
    alpha), :math:`-\infty` elsewhere."""
    check_reading(reading, "relbo", alpha)
    if alpha is None:
        raise ValueError(f"`alpha` is required with reading={reading!r}")
    from ..readings import critical_alpha, reading_collapse_thresholds

    _, active = reading_collapse_thresholds(lam, sigma2, alpha, reading)
    if reading == "cross_entropy":
        thr = critical_alpha(lam, sigma2)
    else:
        spectrum = lam.eigenvalues if isinstance(lam, DataMoments) else np.asarray(lam, float)
        thr = np.where(np.sort(spectrum)[::-1] > float(sigma2), np.inf, -np.inf)
    return thr, active
