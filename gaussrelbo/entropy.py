"""Shannon and Renyi entropies of multivariate Gaussians (Theory §2)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ._numerics import ell, logdet_chol
from ._validation import as_float_array, check_alpha, check_shape, check_spd

__all__ = ["renyi_entropy", "shannon_entropy"]

_LOG_2PI = np.log(2.0 * np.pi)


def _gaussian_cov(cov):
    cov = as_float_array(cov, "cov")
    check_shape(cov, "cov", (None, None), "(..., k, k) with k >= 1")
    if cov.shape[-1] != cov.shape[-2] or cov.shape[-1] == 0:
        raise ValueError(f"`cov` must have shape (..., k, k) with k >= 1, got {cov.shape}")
    _, chol = check_spd(cov, "cov")
    return cov.shape[-1], logdet_chol(chol)


def shannon_entropy(cov: ArrayLike) -> float | np.ndarray:
    r"""Differential (Shannon) entropy of :math:`\mathcal N(m, \Sigma)` in nats.

    Parameters
    ----------
    cov : array_like, shape (..., k, k)
        Symmetric positive definite covariance matrices.

    Returns
    -------
    h : ndarray, shape (...)
        :math:`\tfrac12 \log\det(2\pi e \Sigma)`.

    Notes
    -----
    Computed from the Cholesky factor, :math:`\log\det\Sigma = 2\sum_i \log L_{ii}`.
    Derived in ``derivations/renyi_entropy.py``.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.stats import multivariate_normal
    >>> cov = np.array([[2.0, 0.3], [0.3, 0.5]])
    >>> bool(np.isclose(shannon_entropy(cov), multivariate_normal(cov=cov).entropy(), rtol=1e-14))
    True
    """
    k, logdet = _gaussian_cov(cov)
    out = 0.5 * (k * (_LOG_2PI + 1.0) + logdet)
    return out[()] if np.ndim(out) == 0 else out


def renyi_entropy(cov: ArrayLike, alpha: ArrayLike) -> float | np.ndarray:
    r"""Renyi entropy of order :math:`\alpha` of :math:`\mathcal N(m, \Sigma)` in nats.

    Parameters
    ----------
    cov : array_like, shape (..., k, k)
        Symmetric positive definite covariance matrices.
    alpha : float or array_like
        Order, :math:`\alpha > 0` (the entropy diverges for :math:`\alpha \le 0`).  Broadcasts
        against the batch shape of ``cov``.  ``alpha = 1`` gives the Shannon entropy exactly.

    Returns
    -------
    h : ndarray, shape broadcast(..., alpha)
        :math:`\tfrac12\log\det(2\pi\Sigma) + \tfrac k2\,\ell(\alpha)` (nats).

    Notes
    -----
    .. math:: H_\alpha = \tfrac12\log\det(2\pi\Sigma) + \tfrac k2\,\ell(\alpha),
              \qquad \ell(\alpha) = \frac{\log\alpha}{\alpha-1},\ \ell(1)=1,

    from :math:`\int \mathcal N^\alpha = (2\pi)^{k(1-\alpha)/2}\det\Sigma^{(1-\alpha)/2}
    \alpha^{-k/2}`.  :math:`\ell` is evaluated without cancellation near :math:`\alpha=1`
    (Theory §2).  Derived in ``derivations/renyi_entropy.py``.

    Examples
    --------
    >>> import numpy as np
    >>> cov = np.diag([0.5, 2.0])
    >>> float(renyi_entropy(cov, 2.0))  # log(4 pi) + 0.5 log det = log(4 pi)
    2.5310242469692907
    >>> bool(np.isclose(renyi_entropy(cov, 1.0), shannon_entropy(cov), rtol=1e-15))
    True
    """
    alpha = check_alpha(alpha)
    k, logdet = _gaussian_cov(cov)
    try:
        np.broadcast_shapes(np.shape(logdet), alpha.shape)
    except ValueError:
        raise ValueError(f"`alpha` of shape {alpha.shape} does not broadcast against the batch "
                         f"shape {np.shape(logdet)} of `cov`") from None
    out = 0.5 * (k * _LOG_2PI + logdet) + 0.5 * k * ell(alpha)
    return out[()] if np.ndim(out) == 0 else out
