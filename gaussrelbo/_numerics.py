"""Small, numerically stable primitives shared by the whole package.

Each function removes one cancellation or removable singularity and is tested against mpmath at
50 digits (``tests/test_numerics.py``).  Private: inputs are trusted (validated upstream).
"""

import math

import numpy as np

__all__ = ["col_norms", "ell", "ell_deficit", "ell_t", "log1p_ratio", "log1p_sq_ratio",
           "log_sq_sum", "logdet_chol", "renyi_weight", "scaled_ratios"]

# Below this |alpha - 1| the four-term series is used; its truncation error is < t**4 / 5 < 2e-25.
_SERIES_T = 1e-6


def ell(alpha):
    r"""Stable :math:`\ell(\alpha) = \log(\alpha)/(\alpha-1)`, with :math:`\ell(1) = 1`.

    For :math:`|t| \ge 10^{-6}`, :math:`t = \alpha - 1`, the direct quotient is used: :math:`t` is
    exact in floating point for :math:`1/2 \le \alpha \le 2` and ``log`` keeps full relative
    accuracy for every :math:`\alpha > 0`.  Closer to 1 the series
    :math:`1 - t/2 + t^2/3 - t^3/4` is used (Theory §2).  Do not use ``log1p(alpha - 1)``:
    it loses accuracy for :math:`\alpha \ll 1`.  A float in gives a numpy float out.
    """
    if isinstance(alpha, float) and 0.0 < alpha < math.inf:     # one order: no array work
        t = alpha - 1.0
        return np.float64(_ell_series(t) if abs(t) < _SERIES_T else np.log(alpha) / t)
    alpha = np.asarray(alpha, dtype=np.float64)
    t = alpha - 1.0
    small = np.abs(t) < _SERIES_T
    with np.errstate(divide="ignore", invalid="ignore"):
        direct = np.log(alpha) / np.where(small, 1.0, t)
    out = np.where(small, _ell_series(np.where(small, t, 0.0)), direct)
    return out[()] if out.ndim == 0 else out


def _ell_series(t):
    r""":math:`1 - t/2 + t^2/3 - t^3/4`, the series of :math:`\ell(1+t)` (error < t**4 / 5)."""
    return 1.0 - t * (0.5 - t * (1.0 / 3.0 - 0.25 * t))


def ell_t(t):
    r""":math:`\ell(1+t) = \operatorname{log1p}(t)/t` for a caller who holds :math:`t` itself."""
    t = np.asarray(t, dtype=np.float64)
    small = np.abs(t) < _SERIES_T
    with np.errstate(divide="ignore", invalid="ignore"):
        direct = np.log1p(t) / np.where(small, 1.0, t)
    out = np.where(small, _ell_series(np.where(small, t, 0.0)), direct)
    return out[()] if out.ndim == 0 else out


# (t - log1p(t)) / t**2 = sum_j (-t)**j / (j + 2); 26 terms make the tail < 1e-17 for |t| < 1/4.
_DEFICIT_T = 0.25
_DEFICIT_COEFS = tuple(1.0 / (j + 2) for j in range(26))


def ell_deficit(t):
    r""":math:`(1 - \ell(1+t))/t = (t - \operatorname{log1p} t)/t^2`, equal to 1/2 at t = 0.

    The slope of the Renyi-entropy excess near :math:`\alpha = 1`: it gives the second-order
    remainder of :math:`\mathrm{RELBO}_\alpha` about the ELBO without cancellation.  A power
    series (Horner) for :math:`|t| < 1/4`, the direct quotient (relative error
    :math:`\le 2\epsilon/|t|`) elsewhere; requires :math:`t > -1`.
    """
    t = np.asarray(t, dtype=np.float64)
    small = np.abs(t) < _DEFICIT_T
    ts = np.where(small, t, 0.0)
    series = np.zeros_like(t)
    for coef in reversed(_DEFICIT_COEFS):
        series = coef - ts * series
    with np.errstate(divide="ignore", invalid="ignore"):
        tt = np.where(small, 1.0, t)
        direct = (tt - np.log1p(tt)) / (tt * tt)
    out = np.where(small, series, direct)
    return out[()] if out.ndim == 0 else out


def renyi_weight(alpha):
    r"""The weight :math:`(1-\alpha)/\alpha` of the Renyi term, exactly 0 at :math:`\alpha=1`."""
    if isinstance(alpha, float) and 0.0 < alpha < math.inf:     # one order: no array work
        return np.float64((1.0 - alpha) / alpha)
    alpha = np.asarray(alpha, dtype=np.float64)
    out = (1.0 - alpha) / alpha
    return out[()] if out.ndim == 0 else out


def log1p_ratio(t, y):
    r""":math:`\operatorname{log1p}(t y)/t`, equal to :math:`y` at :math:`t = 0`.

    Used where a difference quotient in :math:`t=\alpha-1` has a removable singularity.
    Requires :math:`1 + t y > 0`.  For :math:`|ty| < 10^{-8}` the series
    :math:`y(1 - ty/2 + (ty)^2/3)` (error below :math:`(ty)^3/4`) avoids the underflow of
    :math:`ty` for tiny t.
    """
    t = np.asarray(t, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    u = t * y
    small = np.abs(u) < 1e-8
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.log1p(u) / np.where(small, 1.0, t)
    us = np.where(small, u, 0.0)
    out = np.where(small, y * (1.0 - us * (0.5 - us / 3.0)), q)
    return out[()] if out.ndim == 0 else out


def logdet_chol(L):
    r""":math:`\log\det(LL^T) = 2\sum_i \log L_{ii}` for a batch of Cholesky factors."""
    return 2.0 * np.sum(np.log(np.diagonal(L, axis1=-2, axis2=-1)), axis=-1)


# Above this ratio s / sigma, log1p((s/sigma)^2) = 2 log(s/sigma) to the last bit
# (the neglected log1p(sigma^2/s^2) < 1e-300), and (s/sigma)^2 would overflow.
_BIG_Q = 1e150


def log1p_sq_ratio(s, sigma2):
    r""":math:`\log(1 + s^2/\sigma^2)` for :math:`s \ge 0`, :math:`\sigma^2 > 0`, without
    overflow: with :math:`q = s/\sigma`, ``log1p(q*q)`` while :math:`q < 10^{150}`, else
    :math:`2\log s - \log\sigma^2` (the neglected term is below :math:`10^{-300}`)."""
    s = np.asarray(s, dtype=np.float64)
    if isinstance(sigma2, float):                # one noise level (the common case)
        sd = math.sqrt(sigma2)
        smallest_sd = sd
    else:
        sd = np.sqrt(np.asarray(sigma2, dtype=np.float64))
        smallest_sd = float(sd.min())
    if s.size and float(s.max()) < _BIG_Q * smallest_sd:      # (Python floats: no warning)
        q = s / sd                      # every quotient below 1e150: the plain form
        out = np.log1p(q * q)
        return out[()] if out.ndim == 0 else out
    sd = np.asarray(sd)
    with np.errstate(over="ignore"):
        q = s / sd
    big = q >= _BIG_Q
    with np.errstate(divide="ignore"):
        out = np.where(big, 2.0 * (np.log(np.where(big, s, 1.0)) - np.log(sd)),
                       np.log1p(np.where(big, 0.0, q) ** 2))
    return out[()] if out.ndim == 0 else out


def log_sq_sum(s, sigma2):
    r""":math:`\log(s^2 + \sigma^2)` without forming :math:`s^2` (no overflow or underflow):
    :math:`2\log\operatorname{hypot}(s, \sigma)`."""
    out = 2.0 * np.log(np.hypot(np.asarray(s, dtype=np.float64),
                                np.sqrt(np.asarray(sigma2, dtype=np.float64))))
    return out[()] if out.ndim == 0 else out


def col_norms(W):
    r"""Euclidean norms of the columns of ``W`` (..., n, k), shape (..., k), scaled by the
    largest entry first so that neither squares overflow nor tiny entries underflow."""
    W = np.asarray(W, dtype=np.float64)
    top = np.max(np.abs(W), axis=-2)
    top = np.where(top > 0, top, 1.0)
    return top * np.sqrt(np.sum((W / top[..., None, :]) ** 2, axis=-2))


def scaled_ratios(s, noise):
    r"""``(s/(s^2+noise), noise/(s^2+noise))`` for :math:`s \ge 0`, noise > 0, computed with
    both terms scaled by :math:`m = \max(s, \sqrt{\text{noise}})` so that nothing overflows
    (:math:`s = 10^{155}` gives :math:`10^{-155}`, not 0)."""
    s = np.asarray(s, dtype=np.float64)
    sd = np.sqrt(np.asarray(noise, dtype=np.float64))
    m = np.maximum(s, sd)
    a, b = s / m, sd / m
    den = a * a + b * b                        # in [1, 2]
    return a / den / m, (b * b) / den
