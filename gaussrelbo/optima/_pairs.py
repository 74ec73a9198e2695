"""Non-orthogonal equal-norm pairs."""

from itertools import combinations
from math import log

import numpy as np
from scipy.optimize import brentq

from .. import _generated as _gen
from ..encoders import optimal_encoder
from ..model import DataMoments, LinearGaussianVAE
from ..objectives import distortion, rate
from ._problem import _LOG_2PI, _TIE_RTOL, _eligible
from ._profile import _CHUNK, _FD_STEP, _evaluate, _hessian_fd, _value_grad
from ._records import StationaryPoint, _kind, _signs

_FD_TOL = 1e-8              # |eig| <= _FD_TOL * max|eig| counts as zero (FD Hessians)

_STATIONARY_RTOL = 1e-8     # constructed points with a larger relative gradient are dropped

_FULL_FD_MAX = 200          # full FD Hessians for non-orthogonal points up to this many parameters

def _pair_u(lp, lq, a):
    r"""The root u in (0, min(1, a)) of (1+u)(1+u/a) / ((1-u)(1-u/a)) = lp/lq (DESIGN §8b),
    solved in log form (monotone increasing) with brentq."""
    target = np.log(lp) - np.log(lq)
    hi = min(1.0, a)

    def g(u):
        return np.log1p(u) + np.log1p(u / a) - np.log1p(-u) - np.log1p(-u / a) - target

    top = hi * (1.0 - 1e-15)
    if g(top) <= 0:                                    # ratio beyond double precision
        return top
    return brentq(g, 0.0, top, xtol=1e-300, rtol=4 * np.finfo(float).eps, maxiter=500)

class _Pairs:
    """Cache of the per-pair quantities u, c_p, c_q and the penalty -log(1 - u^2)."""

    def __init__(self, sp):
        self.sp, self.cache = sp, {}

    def __call__(self, p, q):
        key = (p, q)
        if key not in self.cache:
            lam, a = self.sp.lam, self.sp.alpha_e
            u = _pair_u(lam[p], lam[q], a)
            self.cache[key] = (u, lam[p] / (1.0 + u / a), lam[q] / (1.0 - u / a),
                               -np.log1p(-u * u))
        return self.cache[key]

    def candidates(self, t=None):
        """Pairs p < q with lam_p > lam_q > 0 (strictly, beyond ties); with t also c_q > t."""
        sp = self.sp
        lam = sp.lam
        out = []
        tol = sp.tie(0.0 if t is None else t)
        for q in range(1, sp.n):
            if lam[q] <= 0:
                break
            for p in range(q):
                if lam[p] - lam[q] <= tol:
                    continue
                if t is not None and self(p, q)[2] - t <= sp.tie(t):
                    continue
                out.append((p, q))
        return sorted(out)

def _config_eval(sp, pairs_info, pairs, singles):
    """Closed-form value and noise of a configuration (disjoint pairs + orthogonal singles);
    ``None`` if it is not a stationary point (threshold or self-consistency violated).

    Plain Python floats: this runs once per node of the enumeration heaps."""
    lam, loglam, n, g = sp.lam_list, sp.loglam, sp.n, sp.gamma
    nd = 2 * len(pairs) + len(singles)
    lsum = sum(lam[j] for j in singles) + sum(lam[p] + lam[q] for p, q in pairs)
    rest = sp.total - lsum
    if sp.sigma2 is None:
        denom = n - g * nd
        if denom <= 0 or rest <= _TIE_RTOL * sp.total:
            return None
        s2 = _gen.sigma2_fixed_point(rest, n, nd, g)      # rest / (n - gamma |A|), DESIGN §9
    else:
        s2 = sp.sigma2
    t = g * s2
    tol = _TIE_RTOL * max(lam[0], t)
    acc = 0.0
    for j in singles:
        if lam[j] - t <= tol:
            return None
        acc += loglam[j] + 1.0
    pen = 0.0
    for p, q in pairs:
        u, cp, cq, pq_pen = pairs_info(p, q)
        if cq - t <= tol:
            return None
        acc += log(cp) + lam[p] / cp + log(cq) + lam[q] / cq
        pen += pq_pen
    acc += (n - nd) * log(t) + rest / t
    val = -0.5 * n * (_LOG_2PI + log(s2)) + 0.5 * n * g * log(t) - 0.5 * g * acc
    if sp.penalised:
        val -= 0.5 * g / sp.alpha_e * pen
    return val, s2

def _config_W(sp, pairs_info, pairs, singles, s2):
    """Decoder of a configuration: pair columns first, then singles, then zero columns."""
    lam = sp.lam
    t = sp.gamma * s2
    W = np.zeros((sp.n, sp.k))
    c = 0
    for p, q in pairs:
        u, cp, cq, _ = pairs_info(p, q)
        a, b = np.sqrt((cp - t) / 2.0), np.sqrt((cq - t) / 2.0)
        W[p, c], W[q, c], W[p, c + 1], W[q, c + 1] = a, b, a, -b
        c += 2
    for j in singles:
        W[j, c] = np.sqrt(lam[j] - t)
        c += 1
    return W

def _optimal_models(sp, W, s2):
    """Batched models with the optimal encoder of the objective (alpha = 1 for loglik)."""
    N, n, k = W.shape
    m = LinearGaussianVAE(W, np.zeros(n), s2, np.zeros((k, n)), np.zeros(k), np.ones(k))
    diag = sp.encoder == "diagonal"
    if sp.objective == "beta_elbo":
        return optimal_encoder(m, "beta_elbo", beta=sp.beta, diagonal=diag)
    return optimal_encoder(m, "relbo", alpha=sp.alpha, diagonal=diag)

def _make_nonorthogonal(sp, pairs_info, configs, b):
    """StationaryPoints for a list of (s2, pairs, singles); returns (points, n_rejected)."""
    if not configs:
        return [], 0
    learn = sp.sigma2 is None
    Ws = np.stack([_config_W(sp, pairs_info, P, S, s2) for s2, P, S in configs])
    s2s = np.array([c[0] for c in configs])
    vals, gns = _evaluate(sp, Ws, s2s, learn)
    keep = gns <= _STATIONARY_RTOL
    n_rej = int(np.sum(~keep))
    configs = [c for c, ok in zip(configs, keep) if ok]
    Ws, s2s, gns, vals = Ws[keep], s2s[keep], gns[keep], vals[keep]
    if not configs:
        return [], n_rej
    data = DataMoments.from_spectrum(sp.lam)
    rates, dists = np.empty(len(configs)), np.empty(len(configs))
    for lo in range(0, len(configs), _CHUNK):
        sl = slice(lo, lo + _CHUNK)
        m = _optimal_models(sp, Ws[sl], s2s[sl])
        rates[sl], dists[sl] = rate(m, data), distortion(m, data)
    full = sp.n * sp.k + int(learn) <= _FULL_FD_MAX
    signs = _pair_block_kinds(sp, Ws, s2s) if not full else None
    out = []
    for i, ((s2, P, S), W, v, gn) in enumerate(zip(configs, Ws, vals, gns)):
        if full:
            sg = _signs(np.linalg.eigvalsh(_hessian_fd(sp, W, s2, learn)), _FD_TOL)
        else:
            sg = signs[i]
            if sg == "unknown":                       # interlacing inconclusive: full FD
                sg = _signs(np.linalg.eigvalsh(_hessian_fd(sp, W, s2, learn)), _FD_TOL)
        subset = tuple(sorted([d for pq in P for d in pq] + list(S)))
        active = int(np.sum(np.sum(W * W, axis=0) > 0))
        out.append(StationaryPoint(subset, W, b, float(s2), float(v), float(rates[i]),
                                   float(dists[i]), active, False,
                                   sg if isinstance(sg, tuple) else None,
                                   _kind(sg if isinstance(sg, tuple) else None), float(gn),
                                   tuple(P)))
    return out, n_rej

def _pair_block_kinds(sp, Ws, s2s):
    """Interlacing test on the 4 x 4 Hessian block of the first pair (columns 0, 1; rows p, q),
    by central differences of the gradient, vectorised over points: both signs present means a
    saddle ("saddle"), otherwise "unknown"."""
    N, n, k = Ws.shape
    out = []
    for lo in range(0, N, _CHUNK // 8):
        W, s2 = Ws[lo:lo + _CHUNK // 8], s2s[lo:lo + _CHUNK // 8]
        B = W.shape[0]
        rows = np.argsort(W[:, :, 0] == 0, axis=1, kind="stable")[:, :2]   # p < q per point
        ii = np.repeat(rows, 2, axis=1)                                    # p, p, q, q
        cc = np.tile([0, 1], (B, 2))                                       # 0, 1, 0, 1
        h = _FD_STEP * np.sqrt(sp.lam[0] + sp.gamma * s2)
        batch = np.repeat(W[:, None], 8, axis=1)                           # (B, 8, n, k)
        bi = np.arange(B)[:, None]
        for j in range(4):
            batch[bi[:, 0], j, ii[:, j], cc[:, j]] += h
            batch[bi[:, 0], 4 + j, ii[:, j], cc[:, j]] -= h
        _, gW, _ = _value_grad(sp, batch.reshape(B * 8, n, k), np.repeat(s2, 8))
        gW = gW.reshape(B, 8, n, k)
        G = gW[bi[:, :, None], np.arange(8)[None, :, None], ii[:, None, :], cc[:, None, :]]
        H = (G[:, :4] - G[:, 4:]) / (2 * h[:, None, None])
        e = np.linalg.eigvalsh(0.5 * (H + np.swapaxes(H, 1, 2)))
        thr = _FD_TOL * np.max(np.abs(e), axis=1)
        both = (e[:, -1] > thr) & (e[:, 0] < -thr)
        out += ["saddle" if x else "unknown" for x in both]
    return out

def _multi_pair_configs(sp, pairs_info, cap, budget):
    """Configurations with >= 2 disjoint pairs, lexicographic; returns (configs, exhausted)."""
    k = sp.k
    if k < 4:
        return [], True
    fixed = sp.sigma2 is not None
    t = sp.gamma * sp.sigma2 if fixed else None
    cands = pairs_info.candidates(t)
    singles_pool = list(range(_eligible(sp, t))) if fixed else list(range(sp.n))
    out, examined = [], [0]

    def rec(start, chosen, used):
        if len(chosen) >= 2:
            rest = [j for j in singles_pool if j not in used]
            for r in range(0, k - 2 * len(chosen) + 1):
                for S in combinations(rest, r):
                    examined[0] += 1
                    if len(out) >= cap or examined[0] >= budget:
                        return False
                    ev = _config_eval(sp, pairs_info, chosen, S)
                    if ev is not None:
                        out.append((ev[1], tuple(chosen), S))
        if 2 * (len(chosen) + 1) > k:
            return True
        for i in range(start, len(cands)):
            p, q = cands[i]
            if p in used or q in used:
                continue
            if not rec(i + 1, chosen + [(p, q)], used | {p, q}):
                return False
        return True

    return out, rec(0, [], frozenset())
