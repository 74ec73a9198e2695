r"""The optima atlas: stationary points of the profiled objectives, their classification,
collapse thresholds and global maxima (DESIGN §6–§10).

Everything is posed in the eigenbasis of the data covariance, :math:`S = \mathrm{diag}(\lambda)`
with :math:`\lambda_1 \ge \dots \ge \lambda_n`, the decoder bias at the data mean and the encoder
at its optimum for the decoder (DESIGN §6), so each objective becomes a function
:math:`F(W, \sigma^2)`; the rows of W index eigen-directions.

* ``"loglik"``: the pPCA log-likelihood :math:`\mathrm{LL}(W, \sigma^2)`;
* ``"relbo"`` (``"elbo"`` is alpha = 1): diagonal encoder
  :math:`F_\alpha = \mathrm{LL} - P/(2\alpha)`, :math:`P = \sum_i\log M_{ii} - \log\det M` (the
  Hadamard penalty); full encoder :math:`F_\alpha = \mathrm{LL}` exactly;
* ``"beta_elbo"``: :math:`-\tfrac n2\log(2\pi\sigma^2) + \tfrac{n\beta}2\log(2\pi\beta\sigma^2)
  + \beta\,\mathrm{LL}(W, \beta\sigma^2)`, minus :math:`\tfrac\beta2 P(W, \beta\sigma^2)` with a
  diagonal encoder.  So the diagonal beta-ELBO is :math:`\beta` times the profiled ELBO at noise
  :math:`\beta\sigma^2`, plus a function of :math:`\sigma^2` alone.

Below :math:`\gamma = \beta` for the beta-ELBO and 1 otherwise, :math:`t = \gamma\sigma^2`, and
:math:`\alpha_e = \alpha` for the RELBO, 1 for the ELBO and the beta-ELBO.

**Orthogonal stationary points** (DESIGN §8a, §9): a set J of eigen-directions with
:math:`\lambda_j > t`, one column :math:`\sqrt{\lambda_j - t}\,e_j` per direction, the other
columns zero.  With a learned :math:`\sigma^2` the noise must be self-consistent,
:math:`\sigma^2 = \sum_{j\notin J}\lambda_j/(n - \gamma|J|)`.  Their value is closed-form,

.. math::
    F = -\tfrac n2\log(2\pi\sigma^2) + \tfrac\gamma2\sum_{j\in J}\Big(\log\frac{t}{\lambda_j}
        - 1\Big) - \sum_{j\notin J}\frac{\lambda_j}{2\sigma^2},

so at fixed :math:`\sigma^2` using direction j adds the gain :math:`\tfrac\gamma2(x - 1 -
\log x) > 0`, :math:`x = \lambda_j/t`, increasing in :math:`\lambda_j`.  With a learned
:math:`\sigma^2` replacing a used direction by a larger unused one keeps J self-consistent and
raises F by at least :math:`\tfrac\delta2(1/\sigma^2 - \gamma/\lambda_j) > 0` (concavity of log),
so for each size r the top-r set is the best self-consistent one: the global maximum is the best
self-consistent top-r set (:func:`sigma2_fixed_points`), which settles the choice left open in
DESIGN §9.  Both facts make a best-first enumeration of the subsets in exact value order
possible (a heap over the tree "parent = the subset with its first displaced index moved one
place up"), which the atlas uses to cap large problems.

**Hessian signs of orthogonal points** in closed form (each direction of W is an eigenvector
of the Hessian or pairs with one other; checked against finite differences in the tests).  For
a column on used p, moving towards unused q: sign of :math:`\lambda_q - \lambda_p`.  A pair of
used columns: one negative and one flat (the rotation) for the log-likelihood, two negative
under the Hadamard penalty unless :math:`\lambda_p = \lambda_{p'}`.  A zero column moving towards
used p: flat, negative under the penalty.  A zero column moving towards unused q: sign of
:math:`\lambda_q - t`.  Column lengths (and :math:`\sigma^2` when learned) form one block:
:math:`\partial^2F/\partial w_p^2 = -2\gamma(\lambda_p - t)/\lambda_p^2`,
:math:`\partial^2F/\partial w_p\partial\sigma^2 = -\gamma^2 w_p/\lambda_p^2`,
:math:`\partial^2F/\partial(\sigma^2)^2 = -\frac{n(\gamma-1)}{2\sigma^4} - \frac{\gamma^3}2
\big[\sum_{j\in J}\lambda_j^{-2} + \sum_{j\notin J}(2\lambda_j/t^3 - 1/t^2)\big]`.
The code takes this block from the per-direction derivatives generated from
``derivations/stationary.py`` (``gaussrelbo._generated``), and the learned-noise fixed point
likewise; the formulas above are their closed form.  Counting over all subsets therefore needs no enumeration (:func:`index_counts`).

**Non-orthogonal stationary points** (DESIGN §8b; Hadamard penalty present, k >= 2): a pair of
columns of equal norm on directions p, q (:math:`\lambda_p > \lambda_q`) with u from
:math:`(1+u)(1+u/\alpha_e)/((1-u)(1-u/\alpha_e)) = \lambda_p/\lambda_q` (``brentq``), and the
remaining columns orthogonal on other directions or zero.  In the plane of p and q the model
variances are :math:`c_p = \lambda_p/(1+u/\alpha_e)` and :math:`c_q = \lambda_q/(1-u/\alpha_e)`
(the pair adds :math:`\mathrm{diag}(c_p - t, c_q - t)` to :math:`WW^T` there), so the value is
closed-form with the penalty :math:`-\log(1-u^2)`.  The point exists iff :math:`t < c_q`, which
is *weaker* than DESIGN's :math:`\lambda_q > \sigma^2` (:math:`c_q > \lambda_q`).  Found by
computation and checked by the gradient of every point: several disjoint pairs are stationary
as well (the blocks decouple), and with a learned :math:`\sigma^2` a configuration on the
direction set D is stationary at :math:`\sigma^2 = \sum_{j\notin D}\lambda_j/(n - \gamma|D|)`.
For the beta-ELBO the construction runs with :math:`\alpha_e = 1` at noise t.  Each constructed
point is verified stationary by the matrix gradient (relative norm below ``1e-8``, else dropped
and counted in :attr:`Atlas.n_rejected`) and classified by a finite-difference Hessian.

Classification uses central differences of the analytic gradient (step ``1e-5`` in units of
:math:`\sqrt{\lambda_1 + t}` for W and in :math:`\log\sigma^2`); an eigenvalue counts as zero when
its magnitude is at most ``1e-8`` times the largest one, with W measured in units of
:math:`\sqrt{\lambda_1 + t}` so the threshold is scale-free.  Measured on the test spectra: true
zeros come out below ``4e-10`` of the scale at the default step; the smallest genuine curvature
is ``7e-7`` of it (two pairs of nearly equal norm rotating into each other; unchanged at steps
``1e-4`` and ``1e-6``) and ``2e-3`` in the DESIGN §8 example.  Curvatures below ``1e-8`` of the largest (near-ties) are
reported as flat; the closed-form counts of orthogonal points resolve ties down to ``1e-9``
relative.  For more than ``200`` parameters a non-orthogonal point is classified from its first
pair's 4 x 4 block only: that block has both signs, so by eigenvalue interlacing the point is a
saddle, and its sign counts are reported as ``None``.  Orthogonal points always get exact
closed-form counts.

References: DESIGN §6–§10; M. E. Tipping and C. M. Bishop (1999), *Probabilistic principal
component analysis*, J. R. Stat. Soc. B 61(3) (pPCA stationary points); J. Lucas, G. Tucker,
R. Grosse and M. Norouzi (2019), *Don't blame the ELBO! A linear VAE perspective on posterior
collapse*, NeurIPS (beta-ELBO collapse).
"""

import heapq
from dataclasses import dataclass, field
from itertools import combinations
from math import comb, log

import numpy as np
from scipy.optimize import brentq

from . import _generated as _gen
from ._validation import as_float_array, check_alpha, check_beta, check_positive
from .encoders import optimal_encoder
from .model import DataMoments, LinearGaussianVAE
from .objectives import distortion, rate

__all__ = ["Atlas", "StationaryPoint", "collapse_thresholds", "global_maximum", "hessian_fd",
           "index_counts", "profiled_value_grad", "rotation_stiffness", "sigma2_fixed_points",
           "stationary_points"]

_LOG_2PI = np.log(2.0 * np.pi)
_OBJECTIVES = ("loglik", "elbo", "relbo", "beta_elbo")
_DEFAULT_MAX_POINTS = 10000
_FD_STEP = 1e-5             # central-difference step (units: sqrt(lam_1 + t) for W, log sigma2)
_FD_TOL = 1e-8              # |eig| <= _FD_TOL * max|eig| counts as zero (FD Hessians)
_BLOCK_TOL = 1e-10          # the same for the exact (closed-form) length block
_TIE_RTOL = 1e-9            # eigenvalues closer than this times the scale are tied
_STATIONARY_RTOL = 1e-8     # constructed points with a larger relative gradient are dropped
_FULL_FD_MAX = 200          # full FD Hessians for non-orthogonal points up to this many parameters
_CHUNK = 512                # batch size of the vectorised gradient evaluations


# ---- validation ---------------------------------------------------------------------------------

def _check_int(x, name, lo, hi=None):
    if isinstance(x, bool) or not isinstance(x, (int, np.integer)) or x < lo or (
            hi is not None and x > hi):
        rng = f"[{lo}, {hi}]" if hi is not None else f">= {lo}"
        raise ValueError(f"`{name}` must be an integer {rng}, got {x!r}")
    return int(x)


class _Spec:
    """Validated problem: spectrum, k, objective, its parameters, sigma2 (None = learned)."""

    def __init__(self, lam, k, objective, alpha, beta, sigma2, encoder, k_name="k"):
        self.mean, self.basis = None, None
        if isinstance(lam, DataMoments):
            if lam.batch_shape != ():
                raise ValueError(f"`lam` must be unbatched DataMoments, got batch shape "
                                 f"{lam.batch_shape}")
            self.mean, self.basis = lam.mean, lam.eigenvectors[:, ::-1]
            lam = np.asarray(lam.eigenvalues, float)[::-1]
        else:
            lam = as_float_array(lam, "lam")
            if lam.ndim != 1 or lam.size == 0:
                raise ValueError(f"`lam` must be a non-empty 1-D array of eigenvalues, got "
                                 f"shape {lam.shape}")
        if np.any(lam < 0):
            raise ValueError(f"`lam` eigenvalues must be non-negative, got {lam[lam < 0][0]!r}")
        if np.any(np.diff(lam) > 0):
            raise ValueError("`lam` eigenvalues must be sorted in descending order")
        if lam[0] <= 0:
            raise ValueError("`lam` must have a positive eigenvalue (the data are constant)")
        self.lam, self.n = np.ascontiguousarray(lam), lam.size
        self.k = _check_int(k, k_name, 1, self.n)
        if objective not in _OBJECTIVES:
            raise ValueError(f"`objective` must be one of {_OBJECTIVES}, got {objective!r}")
        self.objective = objective
        self.alpha = 1.0
        if objective == "relbo":
            if alpha is None:
                raise ValueError("`alpha` is required for objective='relbo'")
            self.alpha = _scalar(check_alpha(alpha), "alpha")
        self.beta = 1.0
        if objective == "beta_elbo":
            if beta is None:
                raise ValueError("`beta` is required for objective='beta_elbo'")
            self.beta = _scalar(check_beta(beta), "beta")
        self.gamma = self.beta
        self.alpha_e = self.alpha if objective == "relbo" else 1.0
        self.sigma2 = (None if sigma2 is None
                       else _scalar(check_positive(sigma2, "sigma2"), "sigma2"))
        if encoder not in ("diagonal", "full"):
            raise ValueError(f"`encoder` must be 'diagonal' or 'full', got {encoder!r}")
        self.encoder = encoder
        # Is the Hadamard penalty present?  (Not for the log-likelihood or a full encoder.)
        self.penalised = objective != "loglik" and encoder == "diagonal"
        self.total = float(self.lam.sum())
        self.lam_list = [float(v) for v in self.lam]
        with np.errstate(divide="ignore"):
            self.loglam = [float(v) for v in np.log(self.lam)]
        self.min_gap = float(np.min(-np.diff(self.lam))) if self.n > 1 else np.inf

    def tie(self, t):
        """Absolute tolerance for ties among eigenvalues and with the threshold t."""
        return _TIE_RTOL * max(self.lam[0], t)

    def wscale(self, t):
        """Natural unit of W entries (used for FD steps and the sign threshold)."""
        return np.sqrt(self.lam[0] + t)


def _scalar(x, name):
    if np.ndim(x) != 0:
        raise ValueError(f"`{name}` must be a scalar, got an array of shape {np.shape(x)}")
    return float(x)


def _max_points(max_points):
    if max_points is None:
        return _DEFAULT_MAX_POINTS
    return _check_int(max_points, "max_points", 1)


# ---- the profiled objective and its matrix gradient (batched) -----------------------------------

def _swap(a):
    return np.swapaxes(a, -1, -2)


def _core(W, t, lam, penalised):
    r"""pPCA log-likelihood at noise t (S = diag(lam), b = mean) and the Hadamard penalty, with
    their W- and t-gradients.  W (..., n, k), t (...).

    M = W^T W + t I enters through the eigen-decomposition of W^T W (the SVD of W):
    M^{-1}X = R diag(1/mu) R^T X; C^{-1} y = (y - W M^{-1} W^T y)/t (push-through), so nothing
    larger than k x k is factorised and nothing is inverted.
    """
    n, k = W.shape[-2:]
    Wt = _swap(W)
    mu0, R = np.linalg.eigh(Wt @ W)
    mu = np.maximum(mu0, 0.0) + t[..., None]                  # eigenvalues of M
    Rt = _swap(R)

    def minv(X):
        return R @ ((Rt @ X) / mu[..., :, None])

    A = _swap(minv(Wt))                                       # W M^-1 = C^-1 W
    tt = t[..., None, None]
    SW = lam[:, None] * W
    X = minv(Wt @ SW)                                         # M^-1 W^T S W
    trX = np.trace(X, axis1=-2, axis2=-1)
    logdet_M = np.sum(np.log(mu), axis=-1)
    tr_minv = np.sum(1.0 / mu, axis=-1)
    total = lam.sum()
    f = -0.5 * (n * _LOG_2PI + logdet_M + (n - k) * np.log(t) + (total - trX) / t)
    SA = lam[:, None] * A
    gW = (SA - A @ (Wt @ SA)) / tt - A                        # C^-1 S C^-1 W - C^-1 W
    tr_SC2 = (total - trX - t * np.trace(minv(X), axis1=-2, axis2=-1)) / t**2
    gt = 0.5 * (tr_SC2 - ((n - k) / t + tr_minv))             # (tr C^-1 S C^-1 - tr C^-1)/2
    if not penalised:
        return f, gW, gt, 0.0, 0.0, 0.0
    dg = np.sum(W * W, axis=-2) + t[..., None]                # diag M
    P = np.sum(np.log(dg), axis=-1) - logdet_M
    pW = 2.0 * (W / dg[..., None, :] - A)                     # 2 W (Dg^-1 - M^-1)
    pt = np.sum(1.0 / dg, axis=-1) - tr_minv
    return f, gW, gt, P, pW, pt


def _value_grad(sp, W, s2):
    """F, dF/dW, dF/dsigma2 for the spec's objective; batched over leading dims of W, s2."""
    s2 = np.asarray(s2, float)
    n = sp.n
    if sp.objective == "beta_elbo":
        b = sp.beta
        f, gW, gt, P, pW, pt = _core(W, b * s2, sp.lam, sp.penalised)
        val = (-0.5 * n * (_LOG_2PI + np.log(s2)) + 0.5 * n * b * (_LOG_2PI + np.log(b * s2))
               + b * (f - 0.5 * P))
        gs = 0.5 * n * (b - 1.0) / s2 + b * b * (gt - 0.5 * pt)
        return val, b * (gW - 0.5 * pW), gs
    f, gW, gt, P, pW, pt = _core(W, s2, sp.lam, sp.penalised)
    c = 0.5 / sp.alpha
    return f - c * P, gW - c * pW, gt - c * pt


def _decoder_problem(W, sigma2, lam, objective, alpha, beta, encoder):
    """Validate a decoder W (n, k) at a fixed sigma2 against the spectrum: (W, _Spec)."""
    W = as_float_array(W, "W")
    if W.ndim != 2:
        raise ValueError(f"`W` must have shape (n, k), got {W.shape}")
    if sigma2 is None:
        raise ValueError("`sigma2` must be positive and finite, got None")
    sp = _Spec(lam, W.shape[1], objective, alpha, beta, sigma2, encoder, k_name="W.shape[1]")
    if W.shape[0] != sp.n:
        raise ValueError(f"`W` must have shape (n, k) with n={sp.n}, got {W.shape}")
    return W, sp


def profiled_value_grad(W, sigma2, lam, objective="relbo", alpha=None, beta=None,
                        encoder="diagonal"):
    r"""Profiled objective :math:`F(W, \sigma^2)` (optimal encoder, b = data mean) in the
    eigenbasis of the data covariance, with its gradients in W and :math:`\sigma^2`.

    Parameters
    ----------
    W : array_like, shape (n, k)
        Decoder weights; row j is eigen-direction j.
    sigma2 : float
        Decoder noise variance.
    lam : array_like, shape (n,), or DataMoments
        Data covariance eigenvalues, descending.
    objective : {"loglik", "elbo", "relbo", "beta_elbo"}
    alpha, beta : float, optional
        Renyi order (``"relbo"``) or rate weight (``"beta_elbo"``).
    encoder : {"diagonal", "full"}

    Returns
    -------
    value : float
    grad_W : ndarray, shape (n, k)
    grad_sigma2 : float

    Notes
    -----
    .. math::
        \nabla_W\mathrm{LL} = C^{-1}SC^{-1}W - C^{-1}W,\quad
        \nabla_W P = 2W(\mathrm{Dg}^{-1} - M^{-1}),\quad
        \partial_{\sigma^2}\mathrm{LL} = \tfrac12[\mathrm{tr}(C^{-1}SC^{-1}) -
        \mathrm{tr}C^{-1}],\quad \partial_{\sigma^2}P = \textstyle\sum_i M_{ii}^{-1} -
        \mathrm{tr}M^{-1}

    (DESIGN §8).  For the beta-ELBO, with :math:`t = \beta\sigma^2`,
    :math:`\nabla_W F_\beta = \beta[\nabla_W\mathrm{LL} - \tfrac12\nabla_W P]_{t}` and
    :math:`\partial_{\sigma^2}F_\beta = \tfrac{n(\beta-1)}{2\sigma^2} + \beta^2[\partial_t
    \mathrm{LL} - \tfrac12\partial_t P]` (the penalty term only with a diagonal encoder).

    Examples
    --------
    >>> import numpy as np
    >>> lam = np.array([5.0, 4.0, 3.0, 2.0, 1.2, 0.5])
    >>> W = np.zeros((6, 3)); W[[0, 1, 2], [0, 1, 2]] = np.sqrt(lam[:3] - 0.8)
    >>> f, gW, gs = profiled_value_grad(W, 0.8, lam, "relbo", alpha=0.5)
    >>> bool(np.max(np.abs(gW)) < 1e-14), bool(abs(gs) > 0.1)    # sigma2 = 0.8 is not optimal
    (True, True)
    """
    W = as_float_array(W, "W")
    if W.ndim > 2:                 # batched: W (..., n, k), sigma2 scalar or (...); arrays out
        s2 = np.broadcast_to(check_positive(sigma2 if sigma2 is not None else np.nan, "sigma2"),
                             W.shape[:-2])
        sp = _decoder_problem(W.reshape(-1, *W.shape[-2:])[0], 1.0, lam, objective, alpha,
                              beta, encoder)[1]
        return _value_grad(sp, W, s2)
    W, sp = _decoder_problem(W, sigma2, lam, objective, alpha, beta, encoder)
    f, gW, gs = _value_grad(sp, W, sp.sigma2)
    return float(f), gW, float(gs)


# ---- finite-difference Hessian and sign counting ------------------------------------------------

def _hessian_fd(sp, W, s2, learn, step=_FD_STEP, scaled=True):
    """Hessian over (vec W, log sigma2 if learn) by central differences of the analytic gradient.

    With ``scaled`` the W coordinates are in units of sqrt(lam_1 + t) (sign counts unchanged)."""
    n, k = W.shape
    p = n * k + int(learn)
    c = sp.wscale(sp.gamma * s2)
    h = np.full(p, step * c)
    if learn:
        h[-1] = step
    E = np.zeros((2 * p, p))
    E[np.arange(p), np.arange(p)] = h
    E[p + np.arange(p), np.arange(p)] = -h
    Ws = W[None] + E[:, :n * k].reshape(2 * p, n, k)
    ls = np.log(s2) + (E[:, -1] if learn else 0.0)
    G = np.empty((2 * p, p))
    for lo in range(0, 2 * p, _CHUNK):
        sl = slice(lo, lo + _CHUNK)
        s = np.exp(ls[sl]) if learn else np.full(Ws[sl].shape[0], s2)
        _, gW, gs = _value_grad(sp, Ws[sl], s)
        G[sl, :n * k] = gW.reshape(-1, n * k)
        if learn:
            G[sl, -1] = s * gs                                # d/dlog sigma2
    H = (G[:p] - G[p:]) / (2.0 * h[:, None])                  # row i: d grad / dx_i
    H = 0.5 * (H + H.T)
    if scaled:
        d = np.ones(p)
        d[:n * k] = c
        H = H * d[:, None] * d[None, :]
    return H


def hessian_fd(W, sigma2, lam, objective="relbo", alpha=None, beta=None, encoder="diagonal",
               learn_sigma2=False, step=_FD_STEP):
    r"""Hessian of the profiled objective over vec(W) (row-major) and, when ``learn_sigma2``,
    :math:`\log\sigma^2` (last), by central differences of the analytic gradient, symmetrised.

    The step is ``step`` times :math:`\sqrt{\lambda_1 + \gamma\sigma^2}` for W entries and
    ``step`` for :math:`\log\sigma^2`; truncation error is :math:`O(\text{step}^2)` relative.
    At a stationary point the signs of the eigenvalues do not depend on the parametrisation.

    Returns
    -------
    ndarray, shape (n k, n k) or (n k + 1, n k + 1)
    """
    W, sp = _decoder_problem(W, sigma2, lam, objective, alpha, beta, encoder)
    step = float(check_positive(step, "step"))
    return _hessian_fd(sp, W, sp.sigma2, bool(learn_sigma2), step, scaled=False)


def _signs(eigs, tol):
    """(#positive, #zero, #negative) with |eig| <= tol * max|eig| counted as zero."""
    eigs = np.asarray(eigs)
    if eigs.size == 0:
        return (0, 0, 0)
    thr = tol * np.max(np.abs(eigs))
    return (int(np.sum(eigs > thr)), int(np.sum(np.abs(eigs) <= thr)), int(np.sum(eigs < -thr)))


def _kind(signs):
    """Second-order kind; flat directions do not change it (they are symmetry orbits or ties)."""
    if signs is None:
        return "saddle"
    pos, _, neg = signs
    if pos == 0 and neg == 0:
        return "degenerate"
    if pos == 0:
        return "maximum"
    if neg == 0:
        return "minimum"
    return "saddle"


# ---- orthogonal points: closed-form value, signs, rate and distortion ---------------------------

def _length_block(sp, J, s2, learn):
    r"""Hessian of F over the column lengths :math:`w_p` (and :math:`\sigma^2` when learned) at
    point J, from the generated second derivatives in :math:`(q = w^2, \sigma^2)`
    (``derivations/stationary.py``): :math:`\partial^2F/\partial w^2 = 2F_q + 4qF_{qq}`,
    :math:`\partial^2F/\partial w\,\partial\sigma^2 = 2wF_{q\sigma^2}`.  Cross terms between
    lengths vanish: F is a sum over eigen-directions."""
    lam, n = sp.lam, sp.n
    J = list(J)
    r = len(J)
    lj = lam[J]
    q = lj - sp.gamma * s2
    if sp.objective == "beta_elbo":
        grad, hess = _gen.grad_beta(lj, q, s2, sp.beta), _gen.hess_beta(lj, q, s2, sp.beta)
    else:                                   # RELBO, ELBO and the log-likelihood share F here
        grad, hess = _gen.grad_loglik(lj, q, s2), _gen.hess_loglik(lj, q, s2)
    H = np.zeros((r + int(learn),) * 2)
    H[np.arange(r), np.arange(r)] = 2.0 * grad[..., 0] + 4.0 * q * hess[..., 0, 0]
    if learn:
        H[:r, r] = H[r, :r] = 2.0 * np.sqrt(q) * hess[..., 0, 1]
        unused = np.ones(n, bool)
        unused[J] = False
        H[r, r] = (np.sum(hess[..., 1, 1])
                   + np.sum(_gen.hess_unused(lam[unused], s2)[..., 0, 0]))
    return H


def _orth_signs(sp, J, s2, learn):
    """Closed-form Hessian sign counts over W (and log sigma2 if learned) at point J."""
    lam, n, k = sp.lam_list, sp.n, sp.k
    t = sp.gamma * s2
    tol = _TIE_RTOL * max(lam[0], t)
    r, nz = len(J), k - len(J)
    m = sum(1 for v in lam if v - t > tol)                  # eligible: a prefix
    at_t = sum(1 for v in lam if abs(v - t) <= tol)
    Js = set(J)
    pos = zero = 0
    # used column on p moving towards unused q: sign(lam_q - lam_p)
    if sp.min_gap <= tol:                                   # some eigenvalues are tied
        for p in J:
            for q in range(n):
                if q not in Js:
                    d = lam[q] - lam[p]
                    pos += d > tol
                    zero += abs(d) <= tol
        ties = sum(1 for a, b in combinations(J, 2) if abs(lam[a] - lam[b]) <= tol)
    else:                                                   # sorted, distinct: q < p
        pos = sum(p - i for i, p in enumerate(sorted(J)))
        ties = 0
    neg = r * (n - r) - pos - zero
    # pairs of used columns: rotation flat for LL; two curved under the penalty unless tied
    npairs = r * (r - 1) // 2
    if sp.penalised:
        zero += ties
        neg += 2 * npairs - ties
    else:
        zero += npairs
        neg += npairs
    # zero columns: towards used p (flat, or negative under the penalty), towards unused q
    if sp.penalised:
        neg += nz * r
    else:
        zero += nz * r
    pos += nz * (m - r)
    zero += nz * at_t
    neg += nz * (n - m - at_t)
    # lengths (and log sigma2)
    if learn:
        bs = _signs(np.linalg.eigvalsh(_length_block(sp, J, s2, True)), _BLOCK_TOL)
    else:
        bs = (0, 0, r)
    return (int(pos + bs[0]), int(zero + bs[1]), int(neg + bs[2]))


def _orth_rate_distortion(sp, J, s2):
    """Rate and distortion at the orthogonal point J with the optimal encoder (DESIGN §9, §10).

    beta-ELBO: R = sum_J log(lam_j / t)/2, D = n/2 log(2 pi s2) + beta r/2 + sum_{not J}
    lam_j/(2 s2).  RELBO / ELBO / log-likelihood (alpha = 1 there): per used direction
    rate ½[(s2/lam)(1/alpha - 1) + log(alpha lam/s2)], distortion share s2/(2 lam) +
    (lam - s2)/(2 alpha lam); each zero column keeps encoder variance 1/alpha, rate
    ½[1/alpha - 1 + log alpha]."""
    lam, n, k = sp.lam, sp.n, sp.k
    lj = lam[list(J)]
    r = lj.size
    rest = sp.total - lj.sum()
    base = 0.5 * n * (_LOG_2PI + np.log(s2)) + rest / (2.0 * s2)
    if sp.objective == "beta_elbo":
        t = sp.beta * s2
        return float(0.5 * np.sum(np.log(lj / t))), float(base + 0.5 * sp.beta * r)
    a = sp.alpha
    R = (0.5 * np.sum((s2 / lj) * (1.0 / a - 1.0) + np.log(a * lj / s2))
         + 0.5 * (k - r) * (1.0 / a - 1.0 + np.log(a)))
    D = base + np.sum(s2 / (2.0 * lj) + (lj - s2) / (2.0 * a * lj))
    return float(R), float(D)


# ---- non-orthogonal pairs -----------------------------------------------------------------------

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


# ---- best-first enumeration in value order ------------------------------------------------------

def _tree_children(S, m):
    """Children of the sorted position tuple S (subsets of range(m)) in the tree whose parent
    of S moves the first displaced entry one place up; each subset of a size is reached once
    from (0, ..., r-1), and a child never beats its parent when values decrease with position."""
    r = len(S)
    f = next((i for i in range(r) if S[i] > i), r)
    out = []
    if f >= 1:
        nxt = S[f] if f < r else m
        if f < nxt:
            out.append(S[:f - 1] + (f,) + S[f:])
    if f < r:
        nxt = S[f + 1] if f + 1 < r else m
        if S[f] + 1 < nxt:
            out.append(S[:f] + (S[f] + 1,) + S[f + 1:])
    return out


def _best_first(families, evaluate, cap, budget):
    """Merge the subset trees of several families in a heap, best value first.

    ``families``: list of (fixed part, candidate list L, max singles R).  ``evaluate(fixed,
    singles)`` returns (value, s2) or None (then the node and its subtree are pruned: valid
    because a child only swaps a single for a smaller eigenvalue).  Returns (results,
    exhausted) with results a list of (value, s2, fixed, singles)."""
    heap, seq, examined = [], 0, 0
    for fi, (fixed, L, R) in enumerate(families):
        for r in range(min(R, len(L)) + 1):
            S = tuple(range(r))
            ev = evaluate(fixed, [L[i] for i in S])
            examined += 1
            if ev is not None:
                heapq.heappush(heap, (-ev[0], seq, fi, S, ev[1]))
                seq += 1
    out = []
    while heap and len(out) < cap and examined < budget:
        negv, _, fi, S, s2 = heapq.heappop(heap)
        fixed, L, R = families[fi]
        out.append((-negv, s2, fixed, tuple(L[i] for i in S)))
        for C in _tree_children(S, len(L)):
            ev = evaluate(fixed, [L[i] for i in C])
            examined += 1
            if ev is not None:
                heapq.heappush(heap, (-ev[0], seq, fi, C, ev[1]))
                seq += 1
    return out, not heap


# ---- records ------------------------------------------------------------------------------------

@dataclass(eq=False)
class StationaryPoint:
    r"""One stationary point of a profiled objective (eigenbasis of the data covariance).

    Attributes
    ----------
    subset : tuple of int
        Sorted eigen-directions the decoder uses (0-based, descending eigenvalue order).
    W : ndarray, shape (n, k)
        Decoder in the eigenbasis: pair columns first (non-orthogonal points), then one column
        :math:`\sqrt{\lambda_j - \gamma\sigma^2}\,e_j` per orthogonal direction in ``subset``
        order, then zero columns.
    b : ndarray, shape (n,)
        Decoder bias: the data mean (zero when only a spectrum was given).
    sigma2 : float
    value : float
        The profiled objective, by the matrix route.
    rate, distortion : float
        At the optimal encoder (closed forms for orthogonal points, :func:`gaussrelbo.rate` and
        :func:`gaussrelbo.distortion` otherwise).  For ``"loglik"`` the encoder is the exact
        posterior's (alpha = 1).
    active : int
        Number of non-zero columns.
    orthogonal : bool
    hessian_signs : tuple (pos, zero, neg) or None
        Over vec(W), and :math:`\log\sigma^2` when learned; ``None`` when only the kind is known.
    kind : {"maximum", "saddle", "minimum", "degenerate"}
    grad_norm : float
        Relative gradient norm :math:`\max(\sqrt{\lambda_1}\max|\nabla_W F|,\;
        \sigma^2|\partial_{\sigma^2}F|)` (the second term only when learned); scale-free.
    pairs : tuple of (p, q)
        The equal-norm column pairs of a non-orthogonal point.
    """

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
    pairs: tuple = ()

    def to_dict(self):
        """JSON-ready record (W, b, grad_norm and pairs omitted)."""
        return {"subset": [int(j) for j in self.subset], "kind": self.kind,
                "hessian_signs": [int(v) for v in self.hessian_signs] if self.hessian_signs
                else None, "value": float(self.value), "rate": float(self.rate),
                "distortion": float(self.distortion), "sigma2": float(self.sigma2),
                "active": int(self.active), "orthogonal": bool(self.orthogonal)}


@dataclass
class Atlas:
    """The result of :func:`stationary_points`.

    Attributes
    ----------
    points : list of StationaryPoint
        Sorted by value, best first.
    global_max : StationaryPoint
    complete : bool
        Whether every stationary point of the families enumerated is listed.
    n_orthogonal : int or None
        Number of orthogonal stationary points in all (None when unknown: learned sigma2 and
        a capped enumeration).
    index_counts : dict
        ``{(pos, zero, neg): count}`` over all orthogonal points (fixed sigma2: analytic,
        :func:`index_counts`; learned sigma2: from the enumeration when complete, else empty).
    fixed_points : list of (r, sigma2)
        Learned sigma2: the best self-consistent point of each size (:func:`sigma2_fixed_points`).
    n_rejected : int
        Constructed candidates dropped because their gradient was not small (expected 0).
    eigenvectors : ndarray (n, n) or None
        With DataMoments input, the eigenvectors (columns, descending eigenvalues): the decoder
        in data coordinates is ``eigenvectors @ W``.
    """

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
    fixed_points: list = field(default_factory=list)
    n_rejected: int = 0
    eigenvectors: object = None

    def to_dict(self):
        return {"objective": self.objective, "k": self.k, "sigma2": self.sigma2,
                "alpha": self.alpha if self.objective == "relbo" else None,
                "beta": self.beta if self.objective == "beta_elbo" else None,
                "encoder": self.encoder, "complete": self.complete,
                "n_orthogonal_stationary_points": self.n_orthogonal,
                "index_counts": {str(key): v for key, v in self.index_counts.items()},
                "self_consistent_sigma2": [[int(r), float(s)] for r, s in self.fixed_points],
                "global_maximum": self.global_max.to_dict(),
                "stationary_points": [p.to_dict() for p in self.points]}


def _evaluate(sp, W, s2, learn):
    """Values and relative gradient norms (StationaryPoint.grad_norm) of a batch of points."""
    vals, gns = np.empty(W.shape[0]), np.empty(W.shape[0])
    for lo in range(0, W.shape[0], _CHUNK):
        sl = slice(lo, lo + _CHUNK)
        f, gW, gs = _value_grad(sp, W[sl], s2[sl])
        gn = np.sqrt(sp.lam[0]) * np.max(np.abs(gW), axis=(-2, -1))
        if learn:
            gn = np.maximum(gn, np.abs(gs) * s2[sl])
        vals[sl], gns[sl] = f, gn
    return vals, gns


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


def _optimal_models(sp, W, s2):
    """Batched models with the optimal encoder of the objective (alpha = 1 for loglik)."""
    N, n, k = W.shape
    m = LinearGaussianVAE.from_decoder(W, np.zeros(n), s2)
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


# ---- counting -----------------------------------------------------------------------------------

def _eligible(sp, t):
    """Number m of eigenvalues above the threshold t (beyond ties): a prefix 0..m-1."""
    return int(np.sum(sp.lam - t > sp.tie(t)))


def index_counts(lam, k, objective="relbo", alpha=None, beta=None, sigma2=None,
                 encoder="diagonal"):
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


# ---- fixed points, global maximum ---------------------------------------------------------------

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


def _check_bounded(sp):
    """Learned sigma2: F is unbounded above (sigma2 -> 0) when the data have rank rho <= k and
    n > gamma rho."""
    rho = int(np.sum(sp.lam > 0))
    if sp.sigma2 is None and rho <= sp.k and sp.n > sp.gamma * rho:
        raise ValueError(f"with learned sigma2 the objective is unbounded above (sigma2 -> 0): "
                         f"the data covariance has rank {rho} <= k={sp.k}; fix `sigma2` or "
                         f"lower `k`")


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


def _bias(sp):
    """The decoder bias shared (read-only) by every point: the data mean."""
    b = np.zeros(sp.n) if sp.mean is None else np.array(sp.mean, float)
    b.setflags(write=False)
    return b


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


# ---- the atlas ----------------------------------------------------------------------------------

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
