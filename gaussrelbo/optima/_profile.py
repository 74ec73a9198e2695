"""The profiled objective F(W, sigma2) and its matrix gradients (batched), and the
finite-difference Hessian used as a test reference."""

import numpy as np

from .._validation import as_float_array, check_positive
from ._problem import _LOG_2PI, _Spec, _decoder_problem

_FD_STEP = 1e-5             # central-difference step (units: sqrt(lam_1 + t) for W, log sigma2)

_CHUNK = 64                 # batch size of the vectorised gradient evaluations (small: reused memory)

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

def _batched_problem(W, sigma2, lam, objective, alpha, beta, encoder):
    """Validate a batch of decoders W (..., n, k) and noises sigma2 (...) against the spectrum."""
    W = as_float_array(W, "W")
    if W.ndim < 2:
        raise ValueError(f"`W` must have shape (..., n, k), got {W.shape}")
    if sigma2 is None:
        raise ValueError("`sigma2` must be positive and finite, got None")
    s2 = as_float_array(sigma2, "sigma2")
    if not np.all(np.isfinite(s2) & (s2 > 0)):
        bad = s2[~(np.isfinite(s2) & (s2 > 0))].ravel()[0]
        raise ValueError(f"`sigma2` must be positive and finite, got {float(bad)!r}")
    sp = _Spec(lam, W.shape[-1], objective, alpha, beta, None, encoder, k_name="W.shape[-1]")
    if W.shape[-2] != sp.n:
        raise ValueError(f"`W` must have shape (..., n, k) with n={sp.n}, got {W.shape}")
    if not np.all(np.isfinite(W)):
        raise ValueError("`W` must be finite, got a non-finite entry")
    try:
        batch = np.broadcast_shapes(W.shape[:-2], s2.shape)
    except ValueError:
        raise ValueError(f"`W` batch shape {W.shape[:-2]} and `sigma2` shape {s2.shape} do "
                         f"not broadcast") from None
    W = np.broadcast_to(W, batch + W.shape[-2:])
    s2 = np.broadcast_to(s2, batch)
    return W, s2, sp


def profiled_value_grad(W, sigma2, lam, objective="relbo", alpha=None, beta=None,
                        encoder="diagonal"):
    r"""Profiled objective :math:`F(W, \sigma^2)` (optimal encoder, b = data mean) in the
    eigenbasis of the data covariance, with its gradients in W and :math:`\sigma^2`.

    Parameters
    ----------
    W : array_like, shape (..., n, k)
        Decoder weights; row j is eigen-direction j.  Leading axes are a batch.
    sigma2 : float or array_like, shape (...)
        Decoder noise variance; broadcasts against the batch axes of ``W``.
    lam : array_like, shape (n,), or DataMoments
        Data covariance eigenvalues, descending.
    objective : {'loglik', 'elbo', 'relbo', 'beta_elbo'}, default 'relbo'
    alpha, beta : float, optional
        Renyi order (``'relbo'``) or rate weight (``'beta_elbo'``).
    encoder : {'diagonal', 'full'}, default 'diagonal'

    Returns
    -------
    value : float or ndarray, shape (...)
    grad_W : ndarray, shape (..., n, k)
    grad_sigma2 : float or ndarray, shape (...)
        Python floats for unbatched input.

    Notes
    -----
    .. math::
        \nabla_W\mathrm{LL} = C^{-1}SC^{-1}W - C^{-1}W,\quad
        \nabla_W P = 2W(\mathrm{Dg}^{-1} - M^{-1}),\quad
        \partial_{\sigma^2}\mathrm{LL} = \tfrac12[\mathrm{tr}(C^{-1}SC^{-1}) -
        \mathrm{tr}C^{-1}],\quad \partial_{\sigma^2}P = \textstyle\sum_i M_{ii}^{-1} -
        \mathrm{tr}M^{-1}

    with :math:`F_\alpha = \mathrm{LL} - P/(2\alpha)` (Tipping & Bishop 1999 for LL; P is the
    Hadamard penalty of the optimal diagonal encoder).  For the beta-ELBO, with
    :math:`t = \beta\sigma^2`,
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
    >>> fb, gWb, gsb = profiled_value_grad(np.stack([W, 2 * W]), [0.8, 0.8], lam, "relbo",
    ...                                    alpha=0.5)
    >>> fb.shape, gWb.shape, gsb.shape, bool(fb[0] == f)
    ((2,), (2, 6, 3), (2,), True)
    """
    W, s2, sp = _batched_problem(W, sigma2, lam, objective, alpha, beta, encoder)
    f, gW, gs = _value_grad(sp, W, s2)
    if W.ndim == 2:
        return float(f), gW, float(gs)
    return np.asarray(f, float), gW, np.asarray(gs, float)


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
