r"""Closed forms of the objectives of a linear-Gaussian VAE (Theory §3–§5, §11).

Every objective takes ``(model, data, ...)``.  ``data`` is either

* a :class:`~gaussrelbo.DataMoments`: the population (data-averaged) value, shape
  ``broadcast(model.batch_shape, data.batch_shape)``; or
* an array ``x`` of shape ``(..., n)``: the per-datapoint value, shape
  ``broadcast(x.shape[:-1], model.batch_shape)``.

All objectives are quadratic in x, so one code path serves both: a data average of
:math:`\|Ax + a\|^2` is :math:`\|A\mu_D + a\|^2 + \|AL\|_F^2` with :math:`LL^T = S`, and a single
point is the same with :math:`L = 0`.  The Renyi term lives in :func:`renyi_term` alone.

Range: every quotient by :math:`\sigma^2` or :math:`s_i^2 + \sigma^2` is formed before it is
squared and :math:`\log(1 + s_i^2/\sigma^2)` in log form, so a value inside the float64 range
stays finite for any finite input.  A value beyond it (or within a small factor of
1.8e308, where an intermediate sum overflows) is returned as ``+inf``/``-inf``; where two
overflowed terms would cancel the function raises ``ValueError``.  No result is ever NaN, and
floating-point warnings are not emitted.

Two routes, chosen per call from the model alone (so :func:`relbo` at ``alpha = 1`` and
:func:`elbo` always share one).  The *direct route* serves one model (no batch axes) with
:math:`\|W\|_F^2 \le 2^{16}\sigma^2`, one data set or point, and :math:`n \le 128\sqrt k` for a
data spread: the residual :math:`x - b - W(Vx+c)` is formed in data space (products
:math:`VL`, :math:`W(VL)`) and :math:`\log\det(\sigma^2M^{-1})` from the QR factorisation of
:math:`[W/\sigma;\,I]`, with no SVD.  Beyond :math:`2^{16}` the data-space residual can mix
the rounding of the directions of large :math:`s_i` into those of small ones and break
:math:`\mathrm{RELBO} \le \log p(x)` by more than rounding (seen at :math:`s = 10^{\pm 8}`,
:math:`\sigma^2 = 10^{-8}`), so everything else takes the *SVD route*.

SVD route cost: the SVD :math:`W = U\,\mathrm{diag}(s)R^T` and two products with the data
factor, :math:`VL` and :math:`U^TL` (all else is :math:`O(k^2 n)`).  The residual
:math:`x - b - W(Vx+c)` splits into its part outside the range of :math:`U`,
:math:`\|(I-UU^T)(x-b)\|^2`, and the :math:`r`-vector :math:`U^T(x-b) - \mathrm{diag}(s)R^T(Vx+c)`.
For the data spread the first is :math:`\sum_j (\lambda_j - \|U^TL_j\|^2)`, clipped at 0 per
column; its rounding error is at most a few :math:`\epsilon\,\mathrm{tr}S`.
"""

from __future__ import annotations

import functools
import math
from typing import Callable, TypeVar, Union

import numpy as np
from numpy.typing import ArrayLike

from ._numerics import col_norms, ell, ell_deficit, log1p_ratio, renyi_weight, scaled_ratios
from ._validation import as_float_array, check_alpha, check_beta
from .model import DataMoments, LinearGaussianVAE

__all__ = [
    "beta_elbo",
    "distortion",
    "elbo",
    "log_evidence",
    "rate",
    "relbo",
    "relbo_expansion",
    "renyi_term",
    "vr_bound",
]

_LOG_2PI = np.log(2.0 * np.pi)
# a value per model/data/order: a numpy scalar (a float) or an array
Result = Union[float, np.ndarray]
# Eigenvalues mu of L1^-1 Sigma2 L1^-T within this many ulps (per latent) of 1 count as 1.
_MU_TOL = 8.0 * np.finfo(float).eps


# ---- the data, as a centre vector plus an optional spread factor --------------------------------

class _Data:
    """``center`` (..., n), ``spread`` (..., n, n) or None, and ``lam`` (..., n), the squared
    column norms of ``spread`` (the data covariance eigenvalues); ``E f(x)`` for quadratic f."""

    __slots__ = ("center", "spread", "lam", "shape")

    def __init__(self, center, spread, shape, lam=None):
        self.center, self.spread, self.shape, self.lam = center, spread, shape, lam

    def apply(self, A, a=None, center=None):
        """The affine image ``A x + a``: returns (A center + a, A spread)."""
        c = self.center if center is None else center
        if A.ndim == 2:                 # one matrix (one model): plain products, any data batch
            mc = c @ A.T
            if a is not None:
                mc = mc + a
            return mc, None if self.spread is None else A @ self.spread
        mc = (A @ c[..., None])[..., 0]
        if a is not None:
            mc = mc + a
        if self.spread is None:
            return mc, None
        if self.spread.ndim == 2:       # one data set for a batch of models: a single GEMM
            n = self.spread.shape[0]
            return mc, (A.reshape(-1, n) @ self.spread).reshape(A.shape[:-1] + (n,))
        return mc, A @ self.spread

    @staticmethod
    def mean_sq(mc, ms):
        """Data average of the squared norm of an affine image (mc, ms)."""
        out = _sq(mc)
        if ms is not None:
            out = out + _sq2(ms)
        return out

    @staticmethod
    def mean_sq_each(mc, ms):
        """Per-coordinate data average of the square of an affine image, shape (..., m)."""
        out = mc * mc
        if ms is not None:
            out = out + np.einsum("...ij,...ij->...i", ms, ms)
        return out


# Sums of squares.  One vector or matrix (one model, one data set: the common case) takes a
# single BLAS dot; batches take einsum (no temporary the size of the batch).

def _sq(y):
    """Sum of squares over the last axis."""
    return np.vdot(y, y) if y.ndim == 1 else np.einsum("...i,...i->...", y, y)


def _sq2(y):
    """Sum of squares over the last two axes."""
    return np.vdot(y, y) if y.ndim == 2 else np.einsum("...ij,...ij->...", y, y)


def _sq_each_col(y):
    """Squared norm of each column, over the second-to-last axis: shape (..., n)."""
    return np.add.reduce(y * y, 0) if y.ndim == 2 else np.einsum("...ij,...ij->...j", y, y)


def _unsafe(v):
    """Whether a sum of squares ``v`` (>= 0) overflowed or may have lost digits to underflow
    somewhere (not finite, or below 1e-290): then it is formed again from scaled factors."""
    if isinstance(v, float):                 # one value (a Python or numpy float): no ufuncs
        return not 1e-290 <= v < math.inf
    return not np.all((v >= 1e-290) & (v < np.inf))


def _finite(v):
    """Whether every entry of ``v`` is finite."""
    return math.isfinite(v) if isinstance(v, float) else bool(np.isfinite(v).all())


def _check_model(model, need_encoder=True):
    if not isinstance(model, LinearGaussianVAE):
        raise ValueError(f"`model` must be a gaussrelbo.LinearGaussianVAE, got "
                         f"{type(model).__name__}")
    if need_encoder and not model.has_encoder:
        raise ValueError("`model` has no encoder (a decoder-only model): add one with "
                         "model.with_encoder(V=..., c=..., D=...) or gaussrelbo.optimal_encoder")
    return model


def _data(model, data, need_encoder=True):
    _check_model(model, need_encoder)
    if isinstance(data, DataMoments):
        if data.n != model.n:
            raise ValueError(f"`data` has dimension n={data.n} but the model has n={model.n}")
        shape = _batch_shape(model.batch_shape, data.batch_shape)
        return _Data(data.mean, data.factor, shape, data.eigenvalues)
    x = as_float_array(data, "data")
    if x.ndim < 1 or x.shape[-1] != model.n:
        raise ValueError(f"`data` must be a DataMoments or an array of shape (..., n) with "
                         f"n={model.n}, got {x.shape}")
    return _Data(x, None, _batch_shape(model.batch_shape, x.shape[:-1]))


def _batch_shape(model_shape, data_shape):
    if not data_shape or model_shape == data_shape:
        return model_shape
    if not model_shape:
        return data_shape
    try:
        return np.broadcast_shapes(model_shape, data_shape)
    except ValueError:
        raise ValueError(f"`data` has batch shape {data_shape}, which does not broadcast against "
                         f"the model's batch shape {model_shape}") from None


def _order_shape(shape, order_shape, name):
    """The result shape: the batch shape of model and data broadcast with that of the order."""
    if not order_shape or shape == order_shape:
        return shape
    if not shape:
        return order_shape
    try:
        return np.broadcast_shapes(shape, order_shape)
    except ValueError:
        raise ValueError(f"`{name}` has shape {order_shape}, which does not broadcast against "
                         f"the batch shape {shape} of the model and data") from None


#: The readings of the Renyi VAE (``reading=`` of :func:`relbo` and :func:`renyi_term`).
_READINGS = ("pointwise", "escort", "cross_entropy")


def _pointwise(reading):
    """Whether ``reading`` is the pointwise reading (this module's formulas); another known
    reading is False, anything else a ValueError."""
    if isinstance(reading, str):
        if reading == "pointwise":
            return True
        if reading in _READINGS:
            return False
    raise ValueError(f"`reading` must be one of {', '.join(repr(r) for r in _READINGS)}, "
                     f"got {reading!r}")


class _Proj:
    r"""The projections every objective shares, computed once per call.

    ``enc``: the encoder mean :math:`Vx + c`; ``a``: :math:`U^T(x-b)`; ``perp``: the data
    average of :math:`\|(I-UU^T)(x-b)\|^2/\sigma^2` (divided before squaring, so it does
    not overflow while the quotient is finite); ``sd``: :math:`\sigma`, shape (..., 1), or a
    float for a scalar :math:`\sigma^2`; ``s2``: :math:`\sigma^2`, likewise (a float or shape
    (...)).  Each of ``enc``/``a`` is a (centre, spread) pair.
    """

    __slots__ = ("enc", "a", "perp", "sd", "s2")

    def residual_sq(self, model):
        return _residual_sq(model, self)

    def __init__(self, model, d):
        U = model.svd[0]
        Ut = U.swapaxes(-1, -2)
        rc = d.center - model.b
        self.enc = None if model.V is None else d.apply(model.V, model.c)
        a_c, a_s = d.apply(Ut, center=rc)
        self.a = (a_c, a_s)
        if model.sigma2.ndim == 0:                    # one noise level: plain floats
            self.s2 = s2 = float(model.sigma2)
            self.sd = sd = math.sqrt(s2)
        else:
            self.s2 = s2 = model.sigma2
            self.sd = sd = np.sqrt(s2)[..., None]
        if U.shape[-1] == model.n:                   # U square: nothing lies outside its range
            self.perp = np.zeros(np.broadcast_shapes(np.shape(rc)[:-1], np.shape(sd)[:-1]))
            return
        perp_c = (rc - a_c @ Ut if U.ndim == 2 else rc - (U @ a_c[..., None])[..., 0]) / sd
        perp = _sq(perp_c)
        if a_s is not None:
            # lambda_j - ||U^T l_j||^2 cancels when l_j lies near range(U), but so does the
            # input: the off-range variance is itself only known to ~eps ||S||.
            off = np.add.reduce(np.maximum(d.lam - _sq_each_col(a_s), 0.0), -1) / s2
            if not _finite(off):                    # squares overflowed: divide first
                a_s = a_s / (sd if isinstance(sd, float) else sd[..., None])
                off = np.add.reduce(np.maximum(d.lam / (sd * sd) - _sq_each_col(a_s), 0.0), -1)
            perp = perp + off
        self.perp = perp


class _Direct:
    r"""The shared terms on the direct route (:attr:`LinearGaussianVAE._direct`: one model with
    :math:`\|W\|_F^2 \le 2^{16}\sigma^2`, one data set or one point): the residual
    :math:`x - b - W(Vx+c)` is formed in data space, with no SVD.

    ``enc``: the encoder mean (centre, spread) as in :class:`_Proj`; ``sq``: the data average
    of :math:`\|x - b - W(Vx+c)\|^2/\sigma^2`; ``sd``, ``s2``: :math:`\sigma`,
    :math:`\sigma^2` as floats.  :func:`_shared` builds it, or falls back to :class:`_Proj`
    where a sum of squares overflows or nears underflow.
    """

    __slots__ = ("enc", "sq", "sd", "s2")

    def residual_sq(self, model):
        return self.sq


def _shared(model, d):
    """The projections every objective shares: the direct route where it applies, else the
    SVD route (:class:`_Proj`)."""
    # The direct route's one cost beyond the SVD route is the n x n residual of the data spread
    # (O(n^2) memory traffic against the SVD's O(nk^2)): data spreads take it up to n = 128 sqrt(k).
    if (model._direct and d.center.ndim == 1
            and (d.spread is None or (d.spread.ndim == 2 and model.n**2 <= 16384 * model.k))):
        W, V, mu, L = model.W, model.V, d.center, d.spread
        e_c = V @ mu + model.c
        r_c = (mu - model.b) - W @ e_c
        sq = float(np.vdot(r_c, r_c))
        if L is None:
            e_s = None
        else:
            e_s = V @ L
            r_s = W @ e_s
            np.subtract(L, r_s, out=r_s)
            sq += float(np.vdot(r_s, r_s))
        s2 = float(model.sigma2)
        sq /= s2
        if not _unsafe(sq):
            p = _Direct()
            p.enc, p.sq, p.s2, p.sd = (e_c, e_s), sq, s2, math.sqrt(s2)
            return p
    return _Proj(model, d)


def _sq_over(y, p):
    r"""Per-batch :math:`\|y\|_F^2/\sigma^2` over the last two axes (``p``: the shared
    projections, for :math:`\sigma`): squared first (fast), divided by :math:`\sigma` first
    where the squares overflow or underflow."""
    out = _sq2(y) / p.s2
    if _unsafe(out):
        ys = y / (p.sd if isinstance(p.sd, float) else p.sd[..., None])
        out = _sq2(ys)
    return out


_OUTSIDE = ("the value is outside the float64 range: two of its terms overflow to infinity and "
            "cancel (rescale the data or the model)")


def _out(value, shape):
    if not shape and isinstance(value, float):       # one value: no broadcasting to do
        if value != value:
            raise ValueError(_OUTSIDE)
        return np.float64(value)
    value = np.broadcast_to(value, np.broadcast_shapes(np.shape(value), shape))
    if np.any(np.isnan(value)):
        # Valid finite input reaches NaN only as inf - inf, after two terms overflowed.
        raise ValueError(_OUTSIDE)
    return value[()] if value.ndim == 0 else np.array(value)


# ---- building blocks ---------------------------------------------------------------------------

def _residual_sq(model, p):
    r"""The data average of :math:`\|x - b - W(Vx+c)\|^2/\sigma^2` on the SVD route."""
    m = model
    _, s, R = m.svd
    a_c, a_s = p.a
    enc_c, enc_s = p.enc
    r = a_c.shape[-1]
    # G = U^T W = diag(s) R^T, its first r = min(n, k) rows
    Rt = R.swapaxes(-1, -2)
    G = s[..., None] * Rt if r == m.k else s[..., :r, None] * Rt[..., :r, :]
    # U^T (residual) = U^T (x - b) - G (V x + c); the rest of the residual is perp.
    # Everything is divided by sigma before it is squared (no overflow of a finite quotient).
    y_c = (a_c - (enc_c @ G.T if G.ndim == 2 else (G @ enc_c[..., None])[..., 0])) / p.sd
    sq = p.perp + _sq(y_c)
    if a_s is not None:
        sq = sq + _sq_over(a_s - G @ enc_s, p)
    return sq


def _distortion(model, p):
    r"""-E log p(x|z) (Theory §4, §5), from the shared projections ``p``."""
    m, W = model, model.W
    sq = p.residual_sq(m)
    # tr(W D W^T) / sigma^2 = ||W L||_F^2 / sigma^2 with D = L L^T: the same factor as log det D
    # and tr D, so the three terms describe one positive definite matrix.
    if m.diagonal:             # sum_i ||w_i||^2 D_i / sigma^2 = ||W D^(1/2)||_F^2 / sigma^2
        trWDW = _sq2(W * np.sqrt(m.D)[..., None, :]) / p.s2
        if _unsafe(trWDW):
            # (||w_i|| sqrt(D_i) / sigma)^2: no factor overflows or underflows
            t = col_norms(W) * np.sqrt(m.D) / p.sd
            trWDW = _sq(t)
    else:
        trWDW = _sq_over(W @ m._chol_D, p)
    log_s2 = math.log(p.s2) if isinstance(p.s2, float) else np.log(p.s2)
    return 0.5 * m.n * (_LOG_2PI + log_s2) + 0.5 * (sq + trWDW)


def _rate(model, p):
    r"""E KL(q(z|x) || p(z)) (Theory §4, §5)."""
    m = model
    return 0.5 * (m.trace_D + _Data.mean_sq(*p.enc) - m.k - m.logdet_D)


def _log_evidence(model, p):
    r"""E log p(x), p(x) = N(b, WW^T + sigma^2 I) through the SVD of W (Theory §5)."""
    m = model
    s = m.svd[1]
    sigma2 = np.asarray(m.sigma2)
    a_c, a_s = p.a
    r = a_c.shape[-1]
    # sqrt(s_i^2 + sigma^2) as a hypot: neither s_i^2 nor the sum overflows
    root = np.hypot(s[..., :r], p.sd)
    quad = np.sum(_Data.mean_sq_each(a_c, a_s) / (root * root), axis=-1)
    if not np.all(np.isfinite(quad)) or np.any(quad < 1e-290):
        quad = np.sum(_Data.mean_sq_each(a_c / root,
                                         None if a_s is None else a_s / root[..., None]), axis=-1)
    quad = quad + p.perp
    # log det C = (n - r) log sigma^2 + sum_i log(s_i^2 + sigma^2)
    logdetC = (m.n - r) * np.log(sigma2) + np.sum(m.log_marginal_var, axis=-1)
    return -0.5 * (m.n * _LOG_2PI + logdetC + quad)


def _renyi_bracket(model, alpha):
    r"""H(q) - H_alpha(p(z|x)) = 1/2 log det D + k/2 (1 - ell(alpha)) - 1/2 sum log(s^2/(s^2+s2))."""
    m = model
    return 0.5 * (m.logdet_D + m.k * (1.0 - ell(alpha)) - m.log_post_ratio)


# ---- public objectives -------------------------------------------------------------------------

# Large batches of models against one data set are evaluated in chunks along the leading batch
# axis: the intermediates (a few (chunk, k, n) arrays) then stay in cache instead of being
# allocated afresh, which halves the time of a batch of 10 000 and bounds the memory.
_CHUNK_ENTRIES = 2**17          # entries of one (chunk, k, n) intermediate: 1 MiB


_F = TypeVar("_F", bound=Callable)


def _chunked(fn: _F) -> _F:
    """Evaluate in chunks along the batch axis (see above), with floating-point warnings
    silenced: a value beyond float64 is reported as +-inf, or as a ValueError from :func:`_out`
    where two overflowed terms meet (inf - inf, 0 * inf), never as a warning or a NaN."""
    @functools.wraps(fn)
    def wrapper(model, data, *order):
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            return _chunked_call(fn, model, data, *order)
    return wrapper  # type: ignore[return-value]


def _chunked_call(fn, model, data, *order):
    if (isinstance(model, LinearGaussianVAE) and model.batch_shape
            and all(np.ndim(o) == 0 for o in order)
            and (data.batch_shape == () if isinstance(data, DataMoments)
                 else np.ndim(data) == 1)):
        B = model.batch_shape[0]
        chunk = max(8, _CHUNK_ENTRIES // (model.k * model.n))
        if B > 2 * chunk:
            return np.concatenate([fn(model._chunk(i, i + chunk), data, *order)
                                   for i in range(0, B, chunk)], axis=0)
    return fn(model, data, *order)


@_chunked
def distortion(model: LinearGaussianVAE, data: DataMoments | ArrayLike) -> Result:
    r"""Expected negative reconstruction log-likelihood :math:`-E_q \log p(x|z)` (nats).

    Parameters
    ----------
    model : LinearGaussianVAE
        Decoder and encoder (batch dimensions lead and broadcast against the data).
    data : DataMoments or array_like, shape (..., n)
        Population moments (mean and covariance), or data points.

    Returns
    -------
    ndarray or float
        Population value (``DataMoments``) or one value per data point.

    Notes
    -----
    .. math:: \mathrm{Dist} = \tfrac n2\log(2\pi\sigma^2) + \frac{1}{2\sigma^2}\big[
              \|x - b - W(Vx+c)\|^2 + \mathrm{tr}(WDW^T)\big],

    averaged over the data (Theory §4, §5).  Derived in ``derivations/closed_forms.py``.

    Examples
    --------
    >>> import numpy as np, gaussrelbo as gr
    >>> m = gr.LinearGaussianVAE(np.zeros((2, 1)), np.zeros(2), 1.0, V=np.zeros((1, 2)),
    ...                          c=np.zeros(1), D=np.ones(1))
    >>> x = np.array([1.0, -1.0])
    >>> bool(np.isclose(gr.distortion(m, x), np.log(2 * np.pi) + 1.0))
    True
    """
    d = _data(model, data)
    return _out(_distortion(model, _shared(model, d)), d.shape)


@_chunked
def rate(model: LinearGaussianVAE, data: DataMoments | ArrayLike) -> Result:
    r"""Expected :math:`\mathrm{KL}(q(z|x)\,\|\,p(z))`, the rate of Alemi et al. (nats).

    Parameters
    ----------
    model : LinearGaussianVAE
        Decoder and encoder (batch dimensions lead and broadcast against the data).
    data : DataMoments or array_like, shape (..., n)
        Population moments (mean and covariance), or data points.

    Returns
    -------
    ndarray or numpy scalar
        The rate, in nats: the population value (``DataMoments``) or one value per data
        point, shaped like the broadcast batch.

    Notes
    -----
    .. math:: R = \tfrac12\big[\mathrm{tr}D + \|Vx+c\|^2 - k - \log\det D\big]

    averaged over the data (Theory §4, §5).

    Examples
    --------
    >>> import numpy as np, gaussrelbo as gr
    >>> from scipy.stats import multivariate_normal
    >>> m = gr.LinearGaussianVAE(np.ones((2, 1)), np.zeros(2), 1.0, V=np.full((1, 2), 0.5),
    ...                          c=np.zeros(1), D=np.array([0.25]))
    >>> x = np.array([1.0, 1.0])          # q(z|x) = N(1, 0.25)
    >>> kl = 0.5 * (0.25 + 1.0 - 1.0 - np.log(0.25))
    >>> bool(np.isclose(gr.rate(m, x), kl))
    True
    """
    d = _data(model, data)
    return _out(_rate(model, _Proj(model, d)), d.shape)


@_chunked
def log_evidence(model: LinearGaussianVAE, data: DataMoments | ArrayLike) -> Result:
    r"""Log marginal likelihood :math:`\log p(x)`, :math:`p(x) = \mathcal N(b, WW^T+\sigma^2 I)`.

    Parameters
    ----------
    model : LinearGaussianVAE
        The decoder (the encoder is not used) (batch dimensions lead and broadcast against the data).
    data : DataMoments or array_like, shape (..., n)
        Population moments (mean and covariance), or data points.

    Returns
    -------
    ndarray or numpy scalar
        The log-evidence (expected over the data for moments), in nats: the population value (``DataMoments``) or one value per data
        point, shaped like the broadcast batch.

    Notes
    -----
    Uses the SVD :math:`W = U\,\mathrm{diag}(s)R^T`: :math:`\log\det C = n\log\sigma^2 +
    \sum_i \operatorname{log1p}(s_i^2/\sigma^2)` and
    :math:`(x-b)^TC^{-1}(x-b) = \sum_i (u_i^T(x-b))^2/(s_i^2+\sigma^2) +
    \|(I-UU^T)(x-b)\|^2/\sigma^2`, with :math:`\log(s_i^2+\sigma^2)` and the quotients
    formed without overflow (a finite answer stays finite for :math:`s_i/\sigma` up to
    :math:`10^{308}`; a value beyond float64 is ``-inf``).  Singular values below about
    :math:`\epsilon\|W\|_2` are rounding noise of the SVD: for a rank-deficient ``W`` with
    :math:`\sigma^2 \lesssim (\epsilon\|W\|_2)^2` their terms, and so the result, lose their
    digits (see :class:`~gaussrelbo.LinearGaussianVAE`).  The population form (Theory §5) averages the quadratic over the data.

    Examples
    --------
    >>> import numpy as np, gaussrelbo as gr
    >>> from scipy.stats import multivariate_normal
    >>> W = np.array([[1.0], [2.0]]); b = np.array([0.5, -1.0])
    >>> m = gr.LinearGaussianVAE.from_decoder(W, b, 0.3)
    >>> x = np.array([0.2, 0.7])
    >>> ref = multivariate_normal(b, W @ W.T + 0.3 * np.eye(2)).logpdf(x)
    >>> bool(np.isclose(gr.log_evidence(m, x), ref, rtol=1e-14))
    True
    """
    d = _data(model, data, need_encoder=False)
    return _out(_log_evidence(model, _Proj(model, d)), d.shape)


@_chunked
def elbo(model: LinearGaussianVAE, data: DataMoments | ArrayLike) -> Result:
    r"""The evidence lower bound :math:`\mathrm{ELBO} = -\mathrm{Dist} - R` (nats).

    Parameters
    ----------
    model : LinearGaussianVAE
        Decoder and encoder (batch dimensions lead and broadcast against the data).
    data : DataMoments or array_like, shape (..., n)
        Population moments (mean and covariance), or data points.

    Returns
    -------
    ndarray or numpy scalar
        The ELBO, in nats: the population value (``DataMoments``) or one value per data
        point, shaped like the broadcast batch.

    Examples
    --------
    >>> import numpy as np, gaussrelbo as gr
    >>> rng = np.random.default_rng(0)
    >>> W = rng.normal(size=(3, 2)); b = rng.normal(size=3)
    >>> m = gr.optimal_encoder(gr.LinearGaussianVAE.from_decoder(W, b, 0.5), "elbo",
    ...                        encoder="full")
    >>> x = rng.normal(size=3)      # the exact posterior as encoder makes the ELBO tight
    >>> bool(np.isclose(gr.elbo(m, x), gr.log_evidence(m, x), rtol=1e-13))
    True
    """
    d = _data(model, data)
    p = _shared(model, d)
    return _out(-_distortion(model, p) - _rate(model, p), d.shape)


@_chunked
def beta_elbo(model: LinearGaussianVAE, data: DataMoments | ArrayLike, beta: ArrayLike) -> Result:
    r"""The beta-ELBO :math:`-\mathrm{Dist} - \beta R` (Higgins et al. 2017), nats.

    ``beta = 1`` gives the ELBO; for ``beta < 1`` it is not a lower bound on
    :math:`\log p(x)`.  ``beta`` broadcasts against the batch shape.

    Parameters
    ----------
    model : LinearGaussianVAE
        Decoder and encoder (batch dimensions lead and broadcast against the data).
    data : DataMoments or array_like, shape (..., n)
        Population moments (mean and covariance), or data points.
    beta : float or array_like
        Weight of the rate, positive; broadcasts against the batch shape.

    Returns
    -------
    ndarray or numpy scalar
        The beta-ELBO, in nats: the population value (``DataMoments``) or one value per data
        point, shaped like the broadcast batch.

    References
    ----------
    I. Higgins et al., "beta-VAE: learning basic visual concepts with a constrained variational
    framework", ICLR 2017.
    """
    beta = check_beta(beta)
    d = _data(model, data)
    shape = _order_shape(d.shape, beta.shape, "beta")
    p = _shared(model, d)
    return _out(-_distortion(model, p) - beta * _rate(model, p), shape)


def renyi_term(model: LinearGaussianVAE, data: DataMoments | ArrayLike, alpha: ArrayLike, *,
               reading: str = "pointwise") -> Result:
    r"""The Renyi term :math:`H(q) - H_\alpha(p(z|x))` of the RELBO (nats).

    Shannon entropy of the encoder against the Renyi entropy of order :math:`\alpha` of the
    model's own posterior (not learned: fixed by W and :math:`\sigma^2`).  It does not depend on
    x; the result is broadcast to the shape of the data.  The RELBO is
    ``elbo + (1 - alpha) / alpha * renyi_term``.

    Parameters
    ----------
    model : LinearGaussianVAE
        Decoder and encoder (batch dimensions lead and broadcast against the data).
    data : DataMoments or array_like, shape (..., n)
        Population moments (mean and covariance), or data points.
    alpha : float or array_like
        Renyi order, positive; broadcasts against the batch shape.
    reading : {'pointwise', 'escort', 'cross_entropy'}, default 'pointwise'
        Which reading of the Renyi VAE the term belongs to (see the Readings page of the
        documentation).  ``'pointwise'`` is the term below; the others are computed by
        :mod:`gaussrelbo.readings`.

    Returns
    -------
    ndarray or numpy scalar
        The Renyi term (the same for every x), in nats: the population value (``DataMoments``) or one value per data
        point, shaped like the broadcast batch.

    Raises
    ------
    ValueError
        For an unknown ``reading`` (and for invalid model, data or ``alpha``).

    Notes
    -----
    .. math:: H(q) - H_\alpha(p(z|x)) = \tfrac12\log\det D + \tfrac k2\,(1-\ell(\alpha))
              - \tfrac12\sum_i \log\frac{\sigma^2}{s_i^2+\sigma^2}

    with :math:`s_i` the singular values of W (Theory §3).  This function is the one place the
    Renyi term is defined; a variant can be added beside it.
    """
    if _pointwise(reading):
        return _renyi_term(model, data, alpha)
    from .readings import reading_renyi_term  # type: ignore[attr-defined]
    return reading_renyi_term(model, data, alpha, reading)


@_chunked
def _renyi_term(model, data, alpha):
    alpha = check_alpha(alpha)
    d = _data(model, data)
    shape = _order_shape(d.shape, alpha.shape, "alpha")
    return _out(_renyi_bracket(model, alpha), shape)


def relbo(model: LinearGaussianVAE, data: DataMoments | ArrayLike, alpha: ArrayLike, *,
          reading: str = "pointwise") -> Result:
    r"""The Renyi evidence lower bound of order :math:`\alpha` (nats).

    .. math:: \mathrm{RELBO}_\alpha = E_q\log p(x|z) - \mathrm{KL}(q\|p(z))
              + \frac{1-\alpha}{\alpha}\big[H(q) - H_\alpha(p(z|x))\big]
              = \log p(x) - \tfrac1\alpha\,\mathrm{KL}(q\,\|\,\pi_\alpha),

    with :math:`\pi_\alpha \propto p(z|x)^\alpha`.  A lower bound on :math:`\log p(x)` for every
    :math:`\alpha > 0`, tight at :math:`q = \pi_\alpha`; ``alpha = 1`` is the ELBO exactly, and
    :math:`\alpha` near 1 loses no precision (the weight :math:`(1-\alpha)/\alpha` is exact and
    :math:`\ell(\alpha)` is evaluated by series).

    Parameters
    ----------
    model : LinearGaussianVAE
        Decoder and encoder (batch dimensions lead and broadcast against the data).
    data : DataMoments or array_like, shape (..., n)
        Population moments (mean and covariance), or data points.
    alpha : float or array_like
        Renyi order, positive; broadcasts against the batch shape.
    reading : {'pointwise', 'escort', 'cross_entropy'}, default 'pointwise'
        Which reading of the Renyi VAE to evaluate (see the Readings page of the
        documentation).  ``'pointwise'`` is the bound above, per data point and averaged;
        ``'escort'`` and ``'cross_entropy'`` are computed by
        :func:`gaussrelbo.readings.reading_objective` (the cross-entropy reading needs
        ``DataMoments`` and a scalar ``alpha``).

    Returns
    -------
    ndarray or numpy scalar
        The RELBO, in nats: the population value (``DataMoments``) or one value per data
        point, shaped like the broadcast batch.

    Raises
    ------
    ValueError
        For an unknown ``reading`` (and for invalid model, data or ``alpha``).

    Notes
    -----
    Reconstructed from first principles (Theory §0, §3): the seed paper's full text was not
    available.  Derived in ``derivations/relbo_identity.py`` and ``derivations/closed_forms.py``.

    Examples
    --------
    >>> import numpy as np, gaussrelbo as gr
    >>> rng = np.random.default_rng(1)
    >>> W = rng.normal(size=(4, 2))
    >>> m = gr.LinearGaussianVAE(W, np.zeros(4), 0.7, V=rng.normal(size=(2, 4)), c=np.zeros(2),
    ...                          D=np.array([0.3, 0.6]))
    >>> data = gr.DataMoments(np.ones(4), np.eye(4))
    >>> float(gr.relbo(m, data, 1.0)) == float(gr.elbo(m, data))
    True
    >>> bool(gr.relbo(m, data, 0.5) <= gr.log_evidence(m, data))
    True
    """
    if _pointwise(reading):
        return _relbo(model, data, alpha)
    from .readings import reading_objective
    return reading_objective(model, data, alpha, reading=reading)


@_chunked
def _relbo(model, data, alpha):
    alpha = check_alpha(alpha)
    d = _data(model, data)
    shape = _order_shape(d.shape, alpha.shape, "alpha")
    p = _shared(model, d)
    # The Renyi term is skipped where its weight is exactly 0 (alpha = 1): RELBO_1 is the ELBO
    # exactly, also where the bracket is infinite (no 0 * inf).
    if alpha.ndim == 0:
        a = float(alpha)
        term = 0.0 if a == 1.0 else renyi_weight(a) * _renyi_bracket(model, a)
    else:
        term = np.where(alpha == 1.0, 0.0, renyi_weight(alpha) * _renyi_bracket(model, alpha))
    value = -_distortion(model, p) - _rate(model, p) + term
    return _out(value, shape)


def relbo_expansion(model: LinearGaussianVAE, data: DataMoments | ArrayLike,
                    alpha: ArrayLike) -> tuple[Result, Result, Result]:
    r"""RELBO about the ELBO: ``(difference, coefficient, remainder)``, free of cancellation.

    .. math:: \mathrm{RELBO}_\alpha - \mathrm{ELBO} = \frac{1-\alpha}{\alpha}\,B(\alpha)
              = (\alpha-1)\,[H(p(z|x)) - H(q)] + \text{remainder},

    with :math:`B(\alpha) = H(q) - H_\alpha(p(z|x))` (:func:`renyi_term`) and, for
    :math:`t = \alpha - 1`, :math:`\text{remainder} = \frac{t^2}{\alpha}\big[B(1) -
    \tfrac k2\,g(t)\big]`, :math:`g(t) = (t-\operatorname{log1p}t)/t^2`.  Subtracting two
    computed bounds loses all digits of the difference as :math:`\alpha \to 1`; this does not.

    Parameters
    ----------
    model : LinearGaussianVAE
        Decoder and encoder (batch dimensions lead and broadcast against the data).
    data : DataMoments or array_like, shape (..., n)
        Population moments (mean and covariance), or data points.
    alpha : float or array_like
        Renyi order, positive; broadcasts against the batch shape.

    Returns
    -------
    difference, coefficient, remainder : ndarray or float
        ``relbo - elbo``, the first-order coefficient :math:`H(p(z|x)) - H(q)`, and
        ``difference - (alpha - 1) * coefficient``.

    Examples
    --------
    >>> import numpy as np, gaussrelbo as gr
    >>> m, data, _ = gr.report.default_problem()
    >>> diff, coef, rem = gr.relbo_expansion(m, data, 1.0 + 1e-9)
    >>> bool(np.isclose(diff, 1e-9 * coef, rtol=1e-8)), bool(abs(rem) < 1e-17)
    (True, True)
    >>> diff, _, _ = gr.relbo_expansion(m, data, 0.3)
    >>> bool(np.isclose(diff, gr.relbo(m, data, 0.3) - gr.elbo(m, data), rtol=1e-12))
    True
    """
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        return _relbo_expansion(model, data, alpha)


def _relbo_expansion(model, data, alpha):
    alpha = check_alpha(alpha)
    d = _data(model, data)
    shape = _order_shape(d.shape, alpha.shape, "alpha")
    b1 = 0.5 * (model.logdet_D - model.log_post_ratio)              # B(1)
    t = alpha - 1.0
    with np.errstate(invalid="ignore"):          # alpha = 1: exactly 0, also for infinite B
        diff = np.where(alpha == 1.0, 0.0, renyi_weight(alpha) * _renyi_bracket(model, alpha))
        rem = np.where(alpha == 1.0, 0.0, t * t / alpha * (b1 - 0.5 * model.k * ell_deficit(t)))
    return _out(diff, shape), _out(-b1, np.broadcast_shapes(d.shape, np.shape(b1))), \
        _out(rem, shape)


@_chunked
def vr_bound(model: LinearGaussianVAE, data: DataMoments | ArrayLike, alpha: ArrayLike) -> Result:
    r"""Li & Turner's variational Renyi bound :math:`\log p(x) - D_\alpha(q\,\|\,p(z|x))`.

    Parameters
    ----------
    model : LinearGaussianVAE
        Decoder and encoder (batch dimensions lead and broadcast against the data).
    data : DataMoments or array_like, shape (..., n)
        Population moments (mean and covariance), or data points.
    alpha : float or array_like
        Order of the Renyi divergence (Li & Turner's :math:`\alpha`, not the RELBO's), any finite
        real.  ``alpha = 0`` gives :math:`\log p(x)`, ``alpha = 1`` the ELBO.

    Returns
    -------
    ndarray or float
        ``-inf`` where :math:`\alpha > 1` and :math:`\Sigma_\alpha = \alpha\Sigma_2 + (1-\alpha)
        \Sigma_1` is not positive definite (the expectation diverges), ``+inf`` for the same with
        :math:`\alpha < 0`; never NaN.

    Notes
    -----
    With :math:`\Sigma_1 = D = L_1L_1^T`, :math:`\Sigma_2 = \sigma^2M^{-1}` and :math:`\mu_i` the
    eigenvalues of :math:`L_1^{-1}\Sigma_2L_1^{-T}` (eigenvectors :math:`Q`), :math:`t=\alpha-1`,
    :math:`y_i = 1-1/\mu_i`:

    .. math:: D_\alpha = \frac\alpha2\sum_i\frac{E\,\tilde\delta_i^2}{\mu_i(1+ty_i)}
              - \frac12\sum_i\Big[\frac{\operatorname{log1p}(t y_i)}{t} - \log\mu_i\Big],

    :math:`\tilde\delta = Q^TL_1^{-1}\delta`, the closed form of the Renyi divergence between
    Gaussians (Theory §11) with its removable singularity at :math:`\alpha = 1` taken out.

    Limitation: the :math:`\mu_i` are computed to a few ulps, and for
    :math:`|\alpha| \gtrsim 1/\epsilon \approx 4.5\times10^{15}` those ulps alone decide
    the sign of :math:`1 + t y_i`.  An eigenvalue within :math:`8k\epsilon` of 1 is therefore
    taken as exactly 1 (``q`` equals the posterior along that axis, which contributes 0), so
    ``q = p(z|x)`` gives :math:`\log p(x)` for every :math:`\alpha`; otherwise, at such
    :math:`\alpha`, the result is as uncertain as :math:`\mu_i` is.  Likewise a full
    encoder covariance ``D`` whose condition number exceeds :math:`1/\epsilon` fixes its small
    eigenvalues, and so the :math:`\mu_i`, only to rounding: the bound is then only as accurate
    as ``D`` itself is determined (e.g. ``D`` with eigenvalues 1 and 5.6e-300 gives -1310.6
    against the exact -1519.4 of the rounded matrix).

    References
    ----------
    Y. Li and R. E. Turner, "Renyi divergence variational inference", NeurIPS 2016, eq. (5).
    """
    alpha = as_float_array(alpha, "alpha")
    d = _data(model, data)
    m = model
    # whitening by the encoder covariance
    tau, R = m.posterior_cov_eigen()
    if m.diagonal:
        inv_sqrt_d = 1.0 / np.sqrt(m.D)
        G = inv_sqrt_d[..., :, None] * R * np.sqrt(tau)[..., None, :]
    else:
        chol = m._chol_D
        G = np.linalg.solve(chol, R * np.sqrt(tau)[..., None, :])      # L1^-1 R diag(sqrt tau)
    Q, gamma, _ = np.linalg.svd(G)
    with np.errstate(over="ignore", divide="ignore"):
        mu = gamma**2                                   # eigenvalues of L1^-1 Sigma2 L1^-T
        log_mu = 2.0 * np.log(gamma)                    # finite where mu overflows
    # delta = (V - M^-1 W^T) x + c + M^-1 W^T b = (V x + c) - R diag(s/(s^2+sigma2)) U^T (x - b)
    p = _Proj(m, d)
    _, s, _ = m.svd
    (enc_c, enc_s), (a_c, a_s) = p.enc, p.a
    r = a_c.shape[-1]
    gain = scaled_ratios(s[..., :r], np.asarray(m.sigma2)[..., None])[0]
    Rr = R[..., :, :r]
    dc = enc_c - (Rr @ (gain * a_c)[..., None])[..., 0]
    ds = None if a_s is None else enc_s - Rr @ (gain[..., :, None] * a_s)
    if m.diagonal:
        Wt = np.swapaxes(inv_sqrt_d[..., :, None] * Q, -1, -2)       # Q^T L1^-1
    else:
        Wt = np.swapaxes(np.linalg.solve(np.swapaxes(chol, -1, -2), Q), -1, -2)
    wc = (Wt @ dc[..., None])[..., 0]
    ws = None if ds is None else Wt @ ds
    e_delta2 = _Data.mean_sq_each(wc, ws)               # E[delta~_i^2], shape (..., k)

    a = alpha[..., None]
    t = a - 1.0
    shape = _order_shape(d.shape, alpha.shape, "alpha")
    # mu = 1 (q's covariance equals the posterior's along that axis) is only known to a few
    # ulps; for |alpha| >= 1/eps those ulps alone would decide whether Sigma_alpha is positive
    # definite, so mu within _MU_TOL of 1 is taken as exactly 1 (y = 0: no contribution).
    mu = np.where(np.abs(mu - 1.0) <= _MU_TOL * m.k, 1.0, mu)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # 1 - 1/mu; mu - 1 is exact near 1; exactly 1 where mu overflows
        y = np.where(np.isinf(mu), 1.0, (mu - 1.0) / mu)
        z = np.where(y == 0.0, 1.0, a + (1.0 - a) / mu)  # 1 + t y, without rounding y
        # Sigma_alpha is a positive combination of two covariances for 0 <= alpha <= 1
        inside = np.all(z > 0, axis=-1) | ((alpha >= 0.0) & (alpha <= 1.0))
        zq = np.where(z > 0, z, 1.0)
        # mu z = alpha mu + 1 - alpha; where z overflows (mu tiny, |alpha| large) this product
        # is still finite, and log z = log(mu z) - log mu
        w = a * mu + (1.0 - a)
        big = np.isinf(zq)
        muz = np.where(big, w, mu * zq)
        logz = np.where(big, np.log(np.where(big & (w > 0), w, 1.0)) - log_mu, np.log(zq))
        # quadratic term: E delta~^2 / (mu z)
        quad = np.sum(np.where(e_delta2 == 0.0, 0.0, e_delta2 / muz), axis=-1)
        # log1p(t y)/t: the series near t = 0, log1p while 1 + t y >= 1/2, else log(z)/t
        ty = t * y
        near = np.abs(ty) < 0.5
        logratio = np.where(near, log1p_ratio(np.where(near, t, 0.0), y),
                            logz / np.where(near, 1.0, t))
        logterm = np.sum(logratio - log_mu, axis=-1)
        # alpha * quad is exactly 0 at alpha = 0 (no 0 * inf when the mean term overflows)
        D_alpha = np.where(alpha == 0.0, 0.0, 0.5 * alpha * quad) - 0.5 * logterm
        LL = _log_evidence(m, p)
        value = np.where(alpha == 0.0, LL, LL - D_alpha)       # alpha = 0 is log p(x) exactly
        # alpha = 1 is the ELBO exactly (the KL of q from the posterior)
        one = alpha == 1.0
        if np.any(one):
            value = np.where(one, -_distortion(m, p) - _rate(m, p), value)
    inside = np.broadcast_to(inside, np.broadcast_shapes(inside.shape, shape))
    value = np.broadcast_to(value, np.broadcast_shapes(np.shape(value), shape))
    outside = np.where(alpha > 1.0, -np.inf, np.inf)
    return _out(np.where(inside, value, np.broadcast_to(outside, value.shape)), shape)
