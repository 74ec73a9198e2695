r"""The exact posterior, its escort and the encoder of a linear-Gaussian VAE as Gaussians.

For :math:`p(z) = \mathcal N(0, I)`, :math:`p(x|z) = \mathcal N(Wz+b, \sigma^2 I)` the posterior is
:math:`p(z|x) = \mathcal N(M^{-1}W^T(x-b), \sigma^2M^{-1})`, :math:`M = W^TW + \sigma^2 I`
(Tipping & Bishop 1999), and the escort :math:`\pi_\alpha \propto p(z|x)^\alpha` is the same
Gaussian with its covariance divided by :math:`\alpha` (the encoder at which the RELBO of order
:math:`\alpha` is tight).  Everything is computed from the SVD of W, never an inverse.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ._validation import as_float_array, check_alpha
from .divergences import Gaussian
from .model import LinearGaussianVAE

__all__ = ["encoder_distribution", "escort_posterior", "posterior"]


def _check(model, x):
    if not isinstance(model, LinearGaussianVAE):
        raise ValueError(f"`model` must be a gaussrelbo.LinearGaussianVAE, got "
                         f"{type(model).__name__}")
    x = as_float_array(x, "x")
    if x.ndim < 1 or x.shape[-1] != model.n:
        raise ValueError(f"`x` must have shape (..., n) with n={model.n}, got {x.shape}")
    return x


def _cov_and_chol(tau, R):
    """:math:`R\\,\\mathrm{diag}(\\tau)R^T` and its Cholesky factor from a QR of
    :math:`\\mathrm{diag}(\\sqrt\\tau)R^T` (rows sorted by decreasing :math:`\\tau`), accurate
    even when the variances span more than 1/eps."""
    scaled = R * np.sqrt(tau)[..., None, :]
    cov = scaled @ np.swapaxes(scaled, -1, -2)
    cov = 0.5 * (cov + np.swapaxes(cov, -1, -2))
    order = np.argsort(-tau, axis=-1, kind="stable")
    rows = np.take_along_axis(np.swapaxes(scaled, -1, -2), order[..., :, None], axis=-2)
    T = np.linalg.qr(rows, mode="r")
    L = np.swapaxes(T, -1, -2)
    L = L * np.where(np.diagonal(T, axis1=-2, axis2=-1) < 0, -1.0, 1.0)[..., None, :]
    return cov, L


def posterior(model: LinearGaussianVAE, x: ArrayLike) -> Gaussian:
    r"""The exact posterior :math:`p(z|x) = \mathcal N(M^{-1}W^T(x-b), \sigma^2M^{-1})`.

    Parameters
    ----------
    model : LinearGaussianVAE
        Only its decoder is used (a decoder-only model is enough).
    x : array_like, shape (..., n)

    Returns
    -------
    Gaussian
        Mean of shape ``broadcast(x.shape[:-1], model.batch_shape) + (k,)``, covariance of shape
        ``model.batch_shape + (k, k)``.

    Examples
    --------
    >>> import numpy as np, gaussrelbo as gr
    >>> m = gr.LinearGaussianVAE.from_decoder([[2.0]], [0.0], 1.0)
    >>> p = gr.posterior(m, [1.0])          # M = 5: mean 2/5, variance 1/5
    >>> round(float(p.mean[0]), 14), round(float(p.cov[0, 0]), 14)
    (0.4, 0.2)
    """
    x = _check(model, x)
    gain = model.posterior_gain()
    mean = (gain @ (x - model.b)[..., None])[..., 0]
    cov, L = _cov_and_chol(*model.posterior_cov_eigen())
    return Gaussian(mean, cov, _chol=L)


def escort_posterior(model: LinearGaussianVAE, x: ArrayLike,
                     alpha: ArrayLike) -> Gaussian:
    r"""The escort :math:`\pi_\alpha \propto p(z|x)^\alpha = \mathcal N(M^{-1}W^T(x-b),
    \sigma^2M^{-1}/\alpha)`.

    The RELBO of order :math:`\alpha` equals :math:`\log p(x) - \mathrm{KL}(q\,\|\,\pi_\alpha)/
    \alpha`, so it is tight exactly at this encoder.

    Parameters
    ----------
    model : LinearGaussianVAE
    x : array_like, shape (..., n)
    alpha : float or array_like
        Positive order; broadcasts against the model's batch shape.

    Returns
    -------
    Gaussian
    """
    x = _check(model, x)
    alpha = check_alpha(alpha)
    post = posterior(model, x)
    try:
        np.broadcast_shapes(model.batch_shape, alpha.shape)
    except ValueError:
        raise ValueError(f"`alpha` has shape {alpha.shape}, which does not broadcast against "
                         f"the model's batch shape {model.batch_shape}") from None
    a = alpha[..., None, None]
    return Gaussian(post.mean, post.cov / a, _chol=post.chol / np.sqrt(a))


def encoder_distribution(model: LinearGaussianVAE, x: ArrayLike) -> Gaussian:
    r"""The encoder :math:`q(z|x) = \mathcal N(Vx + c, D)` as a :class:`Gaussian` (``D`` as a
    full matrix also for a diagonal encoder).

    Parameters
    ----------
    model : LinearGaussianVAE
        Must carry an encoder.
    x : array_like, shape (..., n)

    Returns
    -------
    Gaussian
    """
    x = _check(model, x)
    if not model.has_encoder:
        raise ValueError("`model` has no encoder (a decoder-only model): add one with "
                         "model.with_encoder(V=..., c=..., D=...) or gaussrelbo.optimal_encoder")
    mean = (model.V @ x[..., None])[..., 0] + model.c
    if model.diagonal:
        D = model.D[..., :, None] * np.eye(model.k)
        return Gaussian(mean, D, _chol=np.sqrt(model.D)[..., :, None] * np.eye(model.k))
    return Gaussian(mean, model.D, _chol=model._chol_D)
