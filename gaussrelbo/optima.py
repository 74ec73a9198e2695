r"""The optima atlas: stationary points of the profiled objectives, their classification,
collapse thresholds and global maxima (DESIGN §6–§10).

Everything is posed in the eigenbasis of the data covariance, :math:`S = \mathrm{diag}(\lambda)`,
with the decoder bias at the data mean and the encoder at its optimum for the decoder (DESIGN §6),
so each objective becomes a function of :math:`(W, \sigma^2)`:

* ``"loglik"`` -- the pPCA log-likelihood :math:`\mathrm{LL}(W, \sigma^2)`;
* ``"relbo"`` (``"elbo"`` is alpha = 1) -- with a diagonal encoder
  :math:`F_\alpha = \mathrm{LL} - P/(2\alpha)`, :math:`P = \sum\log M_{ii} - \log\det M`
  (the Hadamard penalty); with a full encoder :math:`F_\alpha = \mathrm{LL}`;
* ``"beta_elbo"`` -- :math:`-\tfrac n2\log(2\pi\sigma^2) + \tfrac{n\beta}2\log(2\pi\beta\sigma^2)
  + \beta\,\mathrm{LL}(W, \beta\sigma^2)`, minus :math:`\tfrac\beta2 P(W, \beta\sigma^2)` with a
  diagonal encoder.

**Orthogonal stationary points** are subsets J of eigen-directions (:math:`\lambda_j >
\gamma\sigma^2`, :math:`\gamma = \beta` for the beta-ELBO, 1 otherwise), one column per
direction with :math:`\|w_j\|^2 = \lambda_j - \gamma\sigma^2`, the other columns zero.  Their
Hessian over W is known in closed form (derived in the module notes below and checked against
finite differences in the tests): for a used direction p and an unused one q the
rotation of p's column towards q has curvature of the sign of :math:`\lambda_q - \lambda_p`; a
zero column grows along an unused q iff :math:`\lambda_q > \gamma\sigma^2`; each column's
length is a maximum; a pair of used columns has one curved and one flat direction for the
log-likelihood (the rotation), and two curved ones under the Hadamard penalty when
:math:`\lambda_p \ne \lambda_q`; a zero column rotating into a used one is flat for the
log-likelihood and curved (negative) under the penalty.  With a learned :math:`\sigma^2` the
column lengths and :math:`\sigma^2` form one block, whose Hessian comes from the generated
second derivatives (``hess_loglik``, ``hess_beta``, ``hess_unused``).  Hence index counts for
fixed :math:`\sigma^2` are counted over all subsets by dynamic programming, without enumerating.

**Non-orthogonal stationary points** (DESIGN §8b) are constructed, checked stationary by the
matrix gradient and classified by a finite-difference Hessian.
"""

from dataclasses import dataclass, field
from itertools import combinations
from math import comb

import numpy as np
from scipy.linalg import cho_factor, cho_solve
from scipy.optimize import brentq

from . import _generated as g
from ._validation import as_float_array, check_alpha, check_beta, check_positive
from .encoders import optimal_encoder
from .model import DataMoments, LinearGaussianVAE
from .objectives import distortion, rate

__all__ = ["Atlas", "StationaryPoint", "collapse_thresholds", "global_maximum",
           "hessian_fd", "index_counts", "profiled_value_grad", "rotation_stiffness",
           "sigma2_fixed_points", "stationary_points"]

_LOG_2PI = np.log(2.0 * np.pi)
_OBJECTIVES = ("loglik", "elbo", "relbo", "beta_elbo")


# ---- validation ---------------------------------------------------------------------------------

class _Spec:
    """Validated problem: spectrum, k, objective and its parameters."""

    def __init__(self, spectrum, k, objective, alpha, beta, sigma2, encoder):
        if isinstance(spectrum, DataMoments):
            if spectrum.batch_shape != ():
                raise ValueError("`spectrum` must be unbatched DataMoments")
            lam = np.asarray(spectrum.eigenvalues, float)[::-1]
        else:
            lam = as_float_array(spectrum, "spectrum")
            if lam.ndim != 1 or lam.size == 0:
                raise ValueError(f"`spectrum` must be a non-empty 1-D array of eigenvalues, got "
                                 f"shape {lam.shape}")
        if np.any(lam < 0):
            raise ValueError(f"`spectrum` eigenvalues must be non-negative, got "
                             f"{lam[lam < 0][0]!r}")
        order = np.argsort(-lam, kind="stable")
        if not np.array_equal(order, np.arange(lam.size)):
            raise ValueError("`spectrum` eigenvalues must be sorted in descending order")
        self.lam, self.n = np.maximum(lam, 0.0), lam.size
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= self.n:
            raise ValueError(f"`k` must be an integer in [1, n={self.n}], got {k!r}")
        self.k = int(k)
        if objective not in _OBJECTIVES:
            raise ValueError(f"`objective` must be one of {_OBJECTIVES}, got {objective!r}")
        self.objective = objective
        self.alpha = 1.0
        if objective == "relbo":
            if alpha is None:
                raise ValueError("`alpha` is required for objective='relbo'")
            self.alpha = float(check_alpha(alpha))
        self.beta = 1.0
        if objective == "beta_elbo":
            if beta is None:
                raise ValueError("`beta` is required for objective='beta_elbo'")
            self.beta = float(check_beta(beta))
        self.gamma = self.beta
        self.sigma2 = None if sigma2 is None else float(check_positive(sigma2, "sigma2"))
        if encoder not in ("diagonal", "full"):
            raise ValueError(f"`encoder` must be 'diagonal' or 'full', got {encoder!r}")
        self.encoder = encoder
        # Is the Hadamard penalty present?  (Not for the log-likelihood or a full encoder.)
        self.penalised = objective != "loglik" and encoder == "diagonal"


# ---- the profiled objective and its matrix gradient ---------------------------------------------

def _ll_grad(W, s, lam):
    """pPCA log-likelihood at noise s (S = diag(lam), b = mean), its W- and s-gradients."""
    n, k = W.shape
    M = W.T @ W + s * np.eye(k)
    cf = cho_factor(M, lower=True)
    logdet_M = 2.0 * np.sum(np.log(np.diag(cf[0])))
    WMi = cho_solve(cf, W.T).T                                 # W M^-1 = C^-1 W
    Cinv = (np.eye(n) - WMi @ W.T) / s                          # Woodbury, no n x n inverse
    CS = Cinv * lam                                             # C^-1 S
    f = -0.5 * (n * _LOG_2PI + logdet_M + (n - k) * np.log(s) + np.trace(CS))
    gW = CS @ WMi - WMi                                         # C^-1 S C^-1 W - C^-1 W
    gs = 0.5 * (np.sum(CS * Cinv.T) - np.trace(Cinv))
    return f, gW, gs


def _pen_grad(W, s):
    """Hadamard penalty P = sum log M_ii - log det M, its W- and s-gradients."""
    k = W.shape[1]
    M = W.T @ W + s * np.eye(k)
    cf = cho_factor(M, lower=True)
    Mi = cho_solve(cf, np.eye(k))
    dg = np.diag(M)
    P = np.sum(np.log(dg)) - 2.0 * np.sum(np.log(np.diag(cf[0])))
    return P, 2.0 * W * (1.0 / dg) - 2.0 * W @ Mi, np.sum(1.0 / dg) - np.trace(Mi)


def profiled_value_grad(W, sigma2, spectrum, objective="relbo", alpha=None, beta=None,
                        encoder="diagonal"):
    r"""Profiled objective :math:`F(W, \sigma^2)` (optimal encoder, b = data mean) in the
    eigenbasis of the data covariance, with its gradients in W and :math:`\sigma^2`.

    Returns
    -------
    value : float
    grad_W : ndarray (n, k)
    grad_sigma2 : float

    Notes
    -----
    :math:`\nabla_W\mathrm{LL} = C^{-1}SC^{-1}W - C^{-1}W`, :math:`\nabla_W P = 2W(\mathrm{Dg}^{-1}
    - M^{-1})`, :math:`\partial_{\sigma^2}\mathrm{LL} = \tfrac12[\mathrm{tr}(C^{-1}SC^{-1}) -
    \mathrm{tr}C^{-1}]`, :math:`\partial_{\sigma^2}P = \sum_i 1/M_{ii} - \mathrm{tr}M^{-1}`
    (DESIGN §8), through a Cholesky factor of M and Woodbury's identity.

    Examples
    --------
    >>> import numpy as np
    >>> lam = np.array([5.0, 4.0, 3.0, 2.0, 1.2, 0.5])
    >>> W = np.zeros((6, 3)); W[[0, 1, 2], [0, 1, 2]] = np.sqrt(lam[:3] - 0.8)
    >>> f, gW, gs = profiled_value_grad(W, 0.8, lam, "relbo", alpha=0.5)
    >>> bool(np.max(np.abs(gW)) < 1e-14)
    True
    """
    sp = _Spec(spectrum, np.shape(W)[1], objective, alpha, beta, sigma2, encoder)
    W = np.asarray(W, float)
    return _value_grad(sp, W, float(sigma2))


def _value_grad(sp, W, s2):
    n, lam = sp.n, sp.lam
    if sp.objective == "beta_elbo":
        b = sp.beta
        f, gW, gs = _ll_grad(W, b * s2, lam)
        val = -0.5 * n * (_LOG_2PI + np.log(s2)) + 0.5 * n * b * (_LOG_2PI + np.log(b * s2)) \
            + b * f
        gW, gs2 = b * gW, -0.5 * n / s2 + 0.5 * n * b / s2 + b * b * gs
        if sp.penalised:
            P, pW, ps = _pen_grad(W, b * s2)
            val, gW, gs2 = val - 0.5 * b * P, gW - 0.5 * b * pW, gs2 - 0.5 * b * b * ps
        return val, gW, gs2
    f, gW, gs = _ll_grad(W, s2, lam)
    if sp.penalised:
        P, pW, ps = _pen_grad(W, s2)
        a = sp.alpha
        f, gW, gs = f - P / (2 * a), gW - pW / (2 * a), gs - ps / (2 * a)
    return f, gW, gs


def hessian_fd(W, sigma2, spectrum, objective="relbo", alpha=None, beta=None,
               encoder="diagonal", learn_sigma2=False, step=1e-5):
    r"""Hessian of the profiled objective over vec(W) (and :math:`\sigma^2` last, when
    ``learn_sigma2``) by central differences of the analytic gradient, symmetrised."""
    sp = _Spec(spectrum, np.shape(W)[1], objective, alpha, beta, sigma2, encoder)
    return _hessian_fd(sp, np.asarray(W, float), float(sigma2), learn_sigma2, step)


def _hessian_fd(sp, W, s2, learn, step):
    n, k = W.shape
    p = n * k + int(learn)
    x0 = np.concatenate([W.ravel(), [s2]])

    def grad(x):
        _, gW, gs = _value_grad(sp, x[:n * k].reshape(n, k), x[-1])
        return np.concatenate([gW.ravel(), [gs]])[:p]

    scale = np.maximum(1.0, np.abs(x0))
    H = np.empty((p, p))
    for i in range(p):
        h = step * scale[i]
        e = np.zeros(n * k + 1)
        e[i] = h
        H[:, i] = (grad(x0 + e) - grad(x0 - e)) / (2 * h)
    return 0.5 * (H + H.T)


def _signs(eigs, tol):
    """(#positive, #zero, #negative) with |eig| <= tol counted as zero."""
    return (int(np.sum(eigs > tol)), int(np.sum(np.abs(eigs) <= tol)), int(np.sum(eigs < -tol)))


def _kind(signs):
    pos, zero, neg = signs
    if pos == 0 and neg == 0:
        return "degenerate"
    if pos == 0:
        return "maximum"
    if neg == 0:
        return "minimum"
    return "saddle"


# ---- orthogonal stationary points: closed-form Hessian signs ------------------------------------

def _orthogonal_signs(sp, J, s2, rtol=1e-9):
    """Hessian sign counts over W (and sigma2 if learned) at the orthogonal point J.

    Directions, in the eigenbasis (c: column on p in J; zero columns z; q not in J):
    - column length w_p (r of them): curvature 4 q d2F/dq2 < 0 (fixed sigma2; with learned
      sigma2 they form a block with sigma2, see below);
    - column on p towards q not in J: sign(lam_q - lam_p);
    - used pair (p, p'): LL -> one negative, one zero (rotation); penalised -> two negative
      unless lam_p == lam_p' (then one zero);
    - zero column towards p in J: zero for LL, negative when penalised;
    - zero column towards q not in J: sign(lam_q - gamma sigma2).
    """
    lam, n, k, gam = sp.lam, sp.n, sp.k, sp.gamma
    J = list(J)
    r = len(J)
    used = np.zeros(n, bool)
    used[J] = True
    free = lam[~used]
    scale = max(lam.max(), gam * s2)
    eq = lambda a, b: abs(a - b) <= rtol * scale            # noqa: E731
    pos = zero = neg = 0
    for p in J:
        for q in free:
            if eq(q, lam[p]):
                zero += 1
            elif q > lam[p]:
                pos += 1
            else:
                neg += 1
    for a, b in combinations(J, 2):
        if sp.penalised and not eq(lam[a], lam[b]):
            neg += 2
        else:
            neg += 1
            zero += 1
    nz = k - r
    if sp.penalised:
        neg += nz * r
    else:
        zero += nz * r
    for q in free:
        if eq(q, gam * s2):
            zero += nz
        elif q > gam * s2:
            pos += nz
        else:
            neg += nz
    # column lengths (and sigma2): diagonal -2 w^2 gamma'... from the generated Hessians
    block = _length_block(sp, J, s2)
    bs = (_signs(np.linalg.eigvalsh(block), 1e-9 * max(1.0, np.max(np.abs(block))))
          if block.size else (0, 0, 0))
    return (pos + bs[0], zero + bs[1], neg + bs[2])


def _length_block(sp, J, s2):
    """Hessian of F in (w_p for p in J, and sigma2 if learned) at the point, from the generated
    second derivatives in (q = w^2, sigma2): d2F/dw2 = 2 dF/dq + 4 q d2F/dq2,
    d2F/dw ds = 2 w d2F/dq ds."""
    lam, gam = sp.lam, sp.gamma
    J = list(J)
    r = len(J)
    learn = sp.sigma2 is None
    size = r + int(learn)
    H = np.zeros((size, size))
    unused = np.ones(sp.n, bool)
    unused[J] = False
    ss = 0.0
    for i, p in enumerate(J):
        q = lam[p] - gam * s2
        w = np.sqrt(q)
        if sp.objective == "beta_elbo":
            gr_, hs = g.grad_beta(lam[p], q, s2, sp.beta), g.hess_beta(lam[p], q, s2, sp.beta)
        else:
            gr_, hs = g.grad_loglik(lam[p], q, s2), g.hess_loglik(lam[p], q, s2)
        H[i, i] = 2 * gr_[0] + 4 * q * hs[0, 0]
        if learn:
            H[i, r] = H[r, i] = 2 * w * hs[0, 1]
            ss += hs[1, 1]
    if learn:
        ss += np.sum(g.hess_unused(lam[unused], s2)[..., 0, 0])
        H[r, r] = ss
    return H


# ---- stationary points ----------------------------------------------------------------------------

@dataclass(eq=False)
class StationaryPoint:
    """One stationary point of a profiled objective (eigenbasis of the data covariance)."""

    subset: tuple
    W: np.ndarray
    b: np.ndarray
    sigma2: float
    value: float
    rate: float
    distortion: float
    active: int
    orthogonal: bool
    hessian_signs: tuple
    kind: str
    grad_norm: float = 0.0

    def to_dict(self):
        """JSON-ready record (W omitted)."""
        return {"subset": [int(j) for j in self.subset], "kind": self.kind,
                "hessian_signs": [int(v) for v in self.hessian_signs] if self.hessian_signs
                else None, "value": float(self.value), "rate": float(self.rate),
                "distortion": float(self.distortion), "sigma2": float(self.sigma2),
                "active": int(self.active), "orthogonal": bool(self.orthogonal)}


@dataclass
class Atlas:
    """The result of :func:`stationary_points`."""

    objective: str
    k: int
    sigma2: object
    alpha: float
    beta: float
    encoder: str
    spectrum: np.ndarray
    points: list
    global_max: StationaryPoint
    complete: bool
    n_orthogonal: object
    index_counts: dict = field(default_factory=dict)

    def to_dict(self):
        return {"objective": self.objective, "k": self.k, "sigma2": self.sigma2,
                "alpha": self.alpha if self.objective == "relbo" else None,
                "beta": self.beta if self.objective == "beta_elbo" else None,
                "encoder": self.encoder, "complete": self.complete,
                "n_orthogonal_stationary_points": self.n_orthogonal,
                "index_counts": {str(key): v for key, v in self.index_counts.items()},
                "global_maximum": self.global_max.to_dict(),
                "stationary_points": [p.to_dict() for p in self.points]}


def sigma2_fixed_points(spectrum, k, beta=1.0):
    r"""Every self-consistent learned-:math:`\sigma^2` stationary point of the beta-ELBO (beta = 1:
    pPCA) over top-r active sets: :math:`\sigma^2 = \sum_{j>r}\lambda_j/(n-\beta r)` with
    :math:`\lambda_r > \beta\sigma^2` (DESIGN §9), as ``[(r, sigma2), ...]``."""
    lam = _Spec(spectrum, k, "beta_elbo", None, beta, None, "diagonal").lam
    n = lam.size
    out = []
    for r in range(k + 1):
        if n - beta * r <= 0:
            continue
        s2 = float(g.sigma2_fixed_point(lam[r:].sum(), n, r, beta))
        if s2 > 0 and np.all(lam[:r] > beta * s2):
            out.append((r, s2))
    return out


def _point(sp, J, s2, data, classify=True):
    lam, n, k, gam = sp.lam, sp.n, sp.k, sp.gamma
    W = np.zeros((n, k))
    for c, p in enumerate(J):
        W[p, c] = np.sqrt(max(lam[p] - gam * s2, 0.0))
    value, gW, gs = _value_grad(sp, W, s2)
    gn = float(np.max(np.abs(gW)))
    if sp.sigma2 is None:
        gn = max(gn, abs(gs) * s2)
    model = _optimal_model(sp, W, s2)
    signs = _orthogonal_signs(sp, J, s2) if classify else None
    return StationaryPoint(tuple(int(j) for j in J), W, np.zeros(n), s2, float(value),
                           float(rate(model, data)), float(distortion(model, data)),
                           int(np.sum(np.sum(W * W, axis=0) > 0)), True, signs,
                           _kind(signs) if signs else "unclassified", gn)


def _optimal_model(sp, W, s2):
    n, k = W.shape
    m = LinearGaussianVAE(W, np.zeros(n), s2, np.zeros((k, n)), np.zeros(k), np.ones(k))
    if sp.objective == "beta_elbo":
        return optimal_encoder(m, "beta_elbo", beta=sp.beta, diagonal=sp.encoder == "diagonal")
    return optimal_encoder(m, "relbo", alpha=sp.alpha, diagonal=sp.encoder == "diagonal")


def _candidates(sp):
    """Orthogonal stationary subsets with their sigma2: fixed, or every self-consistent one."""
    lam, n, k, gam = sp.lam, sp.n, sp.k, sp.gamma
    if sp.sigma2 is not None:
        eligible = [j for j in range(n) if lam[j] > gam * sp.sigma2]
        for r in range(min(k, len(eligible)) + 1):
            for J in combinations(eligible, r):
                yield J, sp.sigma2
        return
    # learned sigma2: every subset is examined; (None, None) marks an inconsistent one
    total = lam.sum()
    for r in range(k + 1):
        denom = n - gam * r
        if denom <= 0:
            continue
        for J in combinations(range(n), r):
            s2 = (total - lam[list(J)].sum()) / denom
            ok = s2 > 0 and all(lam[j] > gam * s2 for j in J)
            yield (J, s2) if ok else (None, None)


def _n_subsets(sp):
    if sp.sigma2 is None:
        return sum(comb(sp.n, r) for r in range(sp.k + 1))
    m = int(np.sum(sp.lam > sp.gamma * sp.sigma2))
    return sum(comb(m, r) for r in range(min(sp.k, m) + 1))


def index_counts(spectrum, k, objective="relbo", alpha=None, beta=None, sigma2=1.0,
                 encoder="diagonal"):
    r"""Number of orthogonal stationary points per Hessian sign pattern, at fixed
    :math:`\sigma^2`, counted without enumerating the subsets (dynamic programming over the
    eigenvalues in descending order; distinct eigenvalues, none equal to
    :math:`\gamma\sigma^2`).

    The number of ascent directions of subset J (|J| = r) is
    :math:`\mathrm{inv}(J) + (k-r)(m-r)` with :math:`\mathrm{inv}(J)` the number of pairs
    (p in J, q not in J, :math:`\lambda_q > \lambda_p`) and m the number of eigenvalues above
    :math:`\gamma\sigma^2`; the flat directions are :math:`r(r-1)/2 + (k-r)r` without the
    Hadamard penalty and none with it.  Returns ``{(pos, zero, neg): count}``.

    Examples
    --------
    >>> lam = [5.0, 4.0, 3.0, 2.0, 1.2, 0.5]
    >>> counts = index_counts(lam, 3, "relbo", alpha=1.0, sigma2=0.8)
    >>> counts[(0, 0, 18)], sum(counts.values())        # one maximum among 1+5+10+10 points
    (1, 26)
    """
    if sigma2 is None:
        raise ValueError("`sigma2` must be fixed for the analytic index counts")
    sp = _Spec(spectrum, k, objective, alpha, beta, sigma2, encoder)
    lam, n, k, gam = sp.lam, sp.n, sp.k, sp.gamma
    m = int(np.sum(lam > gam * sp.sigma2))
    maxinv = k * n + 1
    # dp[c, inv]: subsets of the first i eligible eigenvalues with c chosen and inv inversions.
    dp = np.zeros((k + 1, maxinv), dtype=object)
    dp[0, 0] = 1
    for i in range(m):
        new = dp.copy()                              # not choosing i
        for c in range(min(i, k - 1), -1, -1):
            shift = i - c                            # unchosen larger eigenvalues before i
            if shift >= maxinv:
                continue
            new[c + 1, shift:] = new[c + 1, shift:] + dp[c, :maxinv - shift]
        dp = new
    out = {}
    total = n * k + (0 if sp.sigma2 is not None else 1)
    for r in range(k + 1):
        for inv in range(maxinv):
            cnt = dp[r, inv]
            if not cnt:
                continue
            # unused eigenvalues below gamma sigma2 and below the chosen ones add no ascent
            pos = inv + (k - r) * (m - r)
            zero = 0 if sp.penalised else r * (r - 1) // 2 + (k - r) * r
            key = (pos, zero, total - pos - zero)
            out[key] = out.get(key, 0) + int(cnt)
    return dict(sorted(out.items()))


def global_maximum(spectrum, k, objective="relbo", alpha=None, beta=None, sigma2=None,
                   encoder="diagonal"):
    r"""The global maximum (DESIGN §7, §9): top-k directions, :math:`\|w_j\|^2 =
    \max(\lambda_j - \gamma\sigma^2, 0)`; learned :math:`\sigma^2` = the best self-consistent
    fixed point (for RELBO / ELBO / log-likelihood the pPCA :math:`\sigma^2_{ML} =
    \sum_{j>k}\lambda_j/(n-k)`, for every alpha).

    Examples
    --------
    >>> import numpy as np
    >>> lam = np.array([5.0, 3.0, 1.6, 0.9, 0.5, 0.3])
    >>> p = global_maximum(lam, 3, "beta_elbo", beta=2.0)      # DESIGN §9 example
    >>> p.active, round(p.sigma2, 5)
    (1, 1.575)
    """
    sp = _Spec(spectrum, k, objective, alpha, beta, sigma2, encoder)
    return _global(sp, DataMoments.from_spectrum(sp.lam))


def _global(sp, data):
    lam, k, gam = sp.lam, sp.k, sp.gamma
    if sp.sigma2 is not None:
        J = [j for j in range(k) if lam[j] > gam * sp.sigma2]
        return _point(sp, J, sp.sigma2, data)
    best = None
    for r, s2 in sigma2_fixed_points(lam, k, gam):
        pt = _point(sp, list(range(r)), s2, data)
        if best is None or pt.value > best.value:
            best = pt
    if best is None:
        raise ValueError("no self-consistent stationary point with learned sigma2 (the "
                         "discarded variance is zero); fix `sigma2` or lower `k`")
    return best


def rotation_stiffness(point, alpha=1.0):
    r""":math:`d^2F/d\theta^2` for rotating each pair of columns of an orthogonal point by an angle
    :math:`\theta`: :math:`-(m_p - m_q)^2/(\alpha m_p m_q)` with :math:`m_i = \|w_i\|^2 +
    \sigma^2` (DESIGN §8c).  Returns a (k, k) array (zero diagonal)."""
    alpha = float(check_alpha(alpha))
    m = np.sum(point.W**2, axis=0) + point.sigma2
    return -(m[:, None] - m[None, :]) ** 2 / (alpha * m[:, None] * m[None, :])


def _nonorthogonal(sp, data, with_hessian):
    """DESIGN §8b points for the penalised RELBO/ELBO at fixed sigma2, k >= 2."""
    lam, n, k, a, s2 = sp.lam, sp.n, sp.k, sp.alpha, sp.sigma2
    out = []
    eligible = [j for j in range(n) if lam[j] > s2]
    for p, q in combinations(eligible, 2):
        ratio = lam[p] / lam[q]
        if ratio <= 1.0:
            continue
        hi = min(1.0, a)
        f = lambda u: (1 + u) * (1 + u / a) / ((1 - u) * (1 - u / a)) - ratio  # noqa: E731
        u = brentq(f, 0.0, hi * (1 - 1e-15), xtol=1e-300, rtol=4 * np.finfo(float).eps,
                   maxiter=500)
        mm = lam[p] / ((1 + u) * (1 + u / a))
        kap = u * mm
        hp, hm = mm + kap - s2, mm - kap - s2
        if hp <= 0 or hm <= 0:
            continue
        W = np.zeros((n, k))
        W[p, 0] = W[p, 1] = np.sqrt(hp / 2)
        W[q, 0], W[q, 1] = np.sqrt(hm / 2), -np.sqrt(hm / 2)
        others = [j for j in eligible if j not in (p, q)][:k - 2]
        for c, j in enumerate(others):
            W[j, 2 + c] = np.sqrt(lam[j] - s2)
        value, gW, _ = _value_grad(sp, W, s2)
        signs = None
        if with_hessian:
            H = _hessian_fd(sp, W, s2, False, 1e-5)
            eig = np.linalg.eigvalsh(H)
            signs = _signs(eig, 1e-6 * max(1.0, np.max(np.abs(eig))))
        model = _optimal_model(sp, W, s2)
        out.append(StationaryPoint(
            tuple(sorted([int(p), int(q)] + [int(j) for j in others])), W, np.zeros(n), s2,
            float(value), float(rate(model, data)), float(distortion(model, data)),
            int(np.sum(np.sum(W * W, axis=0) > 0)), False, signs,
            _kind(signs) if signs else "saddle", float(np.max(np.abs(gW)))))
    return out


def stationary_points(spectrum, k, objective="relbo", alpha=None, beta=None, sigma2=None,
                      encoder="diagonal", max_points=10000, nonorthogonal=True):
    r"""The atlas of stationary points of a profiled objective.

    Parameters
    ----------
    spectrum : array_like (n,) or DataMoments
        Data covariance eigenvalues, descending (or moments, whose eigenvalues are used).
    k : int
        Latent dimension.
    objective : {"loglik", "elbo", "relbo", "beta_elbo"}
    alpha, beta : float, optional
    sigma2 : float or None
        Fixed decoder noise, or ``None`` to learn it.
    encoder : {"diagonal", "full"}
    max_points : int
        Cap on the orthogonal points enumerated (by subset size, then lexicographically: the
        global maximum is always included); with learned sigma2 at most ``50 * max_points``
        subsets are examined for self-consistency.  When the number of subsets exceeds it the atlas
        is marked incomplete; for fixed sigma2 the index counts over all of them are still
        given by :func:`index_counts`.
    nonorthogonal : bool
        Add the DESIGN §8b points (penalised RELBO/ELBO, fixed sigma2, k >= 2).

    Returns
    -------
    Atlas

    Examples
    --------
    >>> lam = [5.0, 4.0, 3.0, 2.0, 1.2, 0.5]
    >>> atlas = stationary_points(lam, 3, "relbo", alpha=0.3, sigma2=0.8)
    >>> atlas.global_max.subset, atlas.global_max.hessian_signs
    ((0, 1, 2), (0, 0, 18))
    >>> sorted({p.kind for p in atlas.points})
    ['maximum', 'saddle']
    """
    sp = _Spec(spectrum, k, objective, alpha, beta, sigma2, encoder)
    if isinstance(max_points, bool) or not isinstance(max_points, (int, np.integer)) \
            or max_points < 1:
        raise ValueError(f"`max_points` must be a positive integer, got {max_points!r}")
    data = DataMoments.from_spectrum(sp.lam)
    gmax = _global(sp, data)
    n_subsets = _n_subsets(sp)
    points, complete = [], True
    budget = 50 * max_points                 # subsets examined (learned sigma2 rejects many)
    for examined, (J, s2) in enumerate(_candidates(sp)):
        if len(points) >= max_points or examined >= budget:
            complete = False
            break
        if J is not None:
            points.append(_point(sp, J, s2, data))
    same = [p for p in points if p.subset == gmax.subset
            and np.isclose(p.sigma2, gmax.sigma2, rtol=1e-12)]
    if same:
        gmax = same[0]
    else:
        points.append(gmax)
    n_orth = len(points) if complete else (n_subsets if sp.sigma2 is not None else None)
    counts = {}
    if sp.sigma2 is not None:
        counts = index_counts(sp.lam, sp.k, sp.objective, sp.alpha, sp.beta, sp.sigma2,
                              sp.encoder)
    if nonorthogonal and sp.penalised and sp.objective != "beta_elbo" and sp.sigma2 is not None \
            and sp.k >= 2:
        points += _nonorthogonal(sp, data, with_hessian=sp.n * sp.k <= 120)
    points.sort(key=lambda p: -p.value)
    return Atlas(objective, sp.k, sp.sigma2, sp.alpha, sp.beta, sp.encoder, sp.lam, points, gmax,
                 complete, n_orth, counts)


def collapse_thresholds(spectrum, sigma2, beta=None):
    r"""beta-ELBO collapse thresholds :math:`\beta_j = \lambda_j/\sigma^2` (dimension j collapses
    iff :math:`\lambda_j \le \beta\sigma^2`); with ``beta`` also the active mask.

    Examples
    --------
    >>> thr, active = collapse_thresholds([5.0, 3.0, 1.6], 0.8, beta=2.0)
    >>> thr.tolist(), active.tolist()
    ([6.25, 3.75, 2.0], [True, True, False])
    """
    lam = _Spec(spectrum, 1, "loglik", None, None, sigma2, "diagonal").lam
    s2 = float(check_positive(sigma2, "sigma2"))
    thr = lam / s2
    if beta is None:
        return thr
    return thr, lam > float(check_beta(beta)) * s2
