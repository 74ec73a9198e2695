"""Optimal encoders for a fixed decoder (Theory §6)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ._numerics import col_norms, scaled_ratios
from ._validation import check_alpha, check_beta, check_bool, fmt
from .model import LinearGaussianVAE

__all__ = ["optimal_encoder"]

_OBJECTIVES = ("relbo", "elbo", "beta_elbo")


def optimal_encoder(model: LinearGaussianVAE, objective: str = "relbo",
                    alpha: ArrayLike | None = None, beta: ArrayLike | None = None,
                    diagonal: bool | None = None, *,
                    encoder: str | None = None,
                    reading: str = "pointwise") -> LinearGaussianVAE:
    r"""The encoder ``(V, c, D)`` that maximises an objective for the model's decoder.

    Parameters
    ----------
    model : LinearGaussianVAE
        Its decoder ``(W, b, sigma2)`` is kept; its encoder, if any, is replaced (a decoder-only
        model from :meth:`LinearGaussianVAE.from_decoder` is enough).
    objective : {'relbo', 'elbo', 'beta_elbo'}, default 'relbo'
    alpha : float, optional
        Renyi order for ``"relbo"`` (required there).
    beta : float, optional
        Rate weight for ``"beta_elbo"`` (required there).
    diagonal : bool, optional
        Deprecated alias of ``encoder``: ``True`` is ``"diagonal"``, ``False`` is ``"full"``.
    encoder : {"diagonal", "full"}, keyword-only
        Optimise over diagonal (the usual VAE; the default) or full covariances ``D``.
    reading : {'pointwise', 'escort', 'cross_entropy'}, default 'pointwise', keyword-only
        Which reading of the Renyi VAE ``"relbo"`` means (docs page "Readings of the Renyi
        VAE"; :mod:`gaussrelbo.readings`): ``"pointwise"`` and ``"cross_entropy"`` give the
        escort of the posterior :math:`\pi_\alpha`, ``"escort"`` the exact posterior for every
        alpha.  Other objectives take only ``"pointwise"``.

    Raises
    ------
    ValueError
        For bad arguments, and where the optimal encoder is not representable in float64:
        :math:`\beta\sigma^2` beyond 1.8e308, or encoder variances that underflow to 0
        (:math:`s_i^2/\sigma^2` or :math:`\alpha` so large that :math:`D_{ii} < 10^{-308}`).

    Returns
    -------
    LinearGaussianVAE
        A new model with the optimal encoder.

    Notes
    -----
    With :math:`M_\gamma = W^TW + \gamma\sigma^2 I` (:math:`\gamma = 1` for RELBO/ELBO, :math:`\beta`
    for the beta-ELBO), the optimal mean map is :math:`V = M_\gamma^{-1}W^T`, :math:`c = -Vb`,
    whatever the covariance family.  Covariances:

    * RELBO, full: :math:`D = \sigma^2M^{-1}/\alpha`, the escort :math:`\pi_\alpha`, where the
      bound is tight; diagonal: :math:`D_{ii} = \sigma^2/(\alpha M_{ii})`.  The same for the
      data-level cross-entropy reading (the log-mean-exp is increasing in each pointwise
      value).  The escort reading, :math:`\mathrm{RELBO}(V, c, D/\alpha)`, is maximised at
      :math:`D/\alpha = \sigma^2M^{-1}/\alpha`: the exact posterior :math:`\sigma^2M^{-1}`
      (diagonal: :math:`\sigma^2/M_{ii}`) for every alpha.
    * beta-ELBO, full: :math:`D = \beta\sigma^2M_\beta^{-1}`; diagonal:
      :math:`D_{ii} = \beta\sigma^2/(\|w_i\|^2 + \beta\sigma^2)`.

    :math:`M^{-1}` is applied through the SVD of W, never inverted.

    Examples
    --------
    >>> import numpy as np, gaussrelbo as gr
    >>> rng = np.random.default_rng(0)
    >>> m0 = gr.LinearGaussianVAE.from_decoder(rng.normal(size=(5, 2)), rng.normal(size=5), 0.4)
    >>> m = gr.optimal_encoder(m0, "relbo", alpha=2.0, encoder="full")
    >>> x = rng.normal(size=5)
    >>> bool(np.isclose(gr.relbo(m, x, 2.0), gr.log_evidence(m, x), rtol=1e-13))
    True
    """
    if not isinstance(model, LinearGaussianVAE):
        raise ValueError(f"`model` must be a gaussrelbo.LinearGaussianVAE, got "
                         f"{type(model).__name__}")
    if diagonal is not None and encoder is not None:
        raise ValueError("pass only one of `encoder` and its deprecated alias `diagonal`, got "
                         f"encoder={encoder!r} and diagonal={diagonal!r}")
    if diagonal is not None:
        encoder = "diagonal" if check_bool(diagonal, "diagonal") else "full"
    if encoder is None:
        encoder = "diagonal"
    if not isinstance(encoder, str) or encoder not in ("diagonal", "full"):
        raise ValueError(f"`encoder` must be 'diagonal' or 'full', got {encoder!r}")
    diagonal = encoder == "diagonal"
    if not isinstance(objective, str) or objective not in _OBJECTIVES:
        raise ValueError(f"`objective` must be one of {_OBJECTIVES}, got {objective!r}")
    from .readings import _check_reading       # readings imports this module

    _check_reading(reading, objective)
    if objective == "relbo":
        if alpha is None:
            raise ValueError("`alpha` is required for objective='relbo'")
        scale, temper = np.asarray(1.0), check_alpha(alpha)
        if reading == "escort":                 # the exact posterior, for every alpha
            temper = np.ones_like(temper)
    elif objective == "elbo":
        scale, temper = np.asarray(1.0), np.asarray(1.0)
    else:
        if beta is None:
            raise ValueError("`beta` is required for objective='beta_elbo'")
        scale = check_beta(beta)
        temper = np.asarray(1.0)
    for name, order in (("alpha", temper), ("beta", scale)):
        try:
            np.broadcast_shapes(model.batch_shape, order.shape)
        except ValueError:
            raise ValueError(f"`{name}` has shape {order.shape}, which does not broadcast against "
                             f"the model's batch shape {model.batch_shape}") from None
    with np.errstate(over="ignore"):
        noise = np.asarray(model.sigma2) * scale          # gamma sigma^2
    if not np.all(np.isfinite(noise)):
        raise ValueError(f"`beta` times `sigma2` must be below 1.8e308 (float64), got beta = "
                         f"{fmt(np.max(scale))} with sigma2 = {fmt(np.max(model.sigma2))}")
    if not np.all(noise > 0):
        raise ValueError(f"`beta` times `sigma2` must be above 5e-324 (float64), got beta = "
                         f"{fmt(np.min(scale))} with sigma2 = {fmt(np.min(model.sigma2))}")
    with np.errstate(over="ignore", invalid="ignore"):
        V = model.posterior_gain(noise)
        c = -(V @ model.b[..., None])[..., 0]
    if not (np.all(np.isfinite(V)) and np.all(np.isfinite(c))):
        raise ValueError("the optimal encoder is not representable in float64: its mean map "
                         "M^-1 W^T (entries up to 1 / (2 sigma)) or offset -M^-1 W^T b "
                         "overflows (sigma2 too small for this b)")
    if diagonal:
        # D_ii = noise / (temper (||w_i||^2 + noise)), with the column norm as a hypot-style
        # scaled ratio: ||w_i||^2 is never formed, so it cannot overflow.
        colnorm = col_norms(model.W)
        with np.errstate(over="ignore", under="ignore"):
            D = scaled_ratios(colnorm, noise[..., None])[1] / temper[..., None]
        _check_variances(D)
        return model.with_encoder(V=V, c=c, D=D, encoder="diagonal")
    tau, R = model.posterior_cov_eigen(noise)
    with np.errstate(over="ignore", under="ignore"):
        _check_variances(tau / temper[..., None])
    scaled = R * np.sqrt(tau / temper[..., None])[..., None, :]        # D = scaled scaled^T
    D = scaled @ np.swapaxes(scaled, -1, -2)
    D = 0.5 * (D + np.swapaxes(D, -1, -2))
    # Its Cholesky factor from a QR of scaled^T, not from D: accurate even when the posterior
    # variances span more than 1/eps (where D rounds to a numerically indefinite matrix).
    # Rows of scaled^T sorted by decreasing norm sqrt(tau_i) (tau is ascending: s descends):
    # Householder QR is then row-wise backward stable, so even the tiny variances keep their
    # relative accuracy.
    T = np.linalg.qr(np.swapaxes(scaled, -1, -2)[..., ::-1, :], mode="r")
    L = np.swapaxes(T, -1, -2)
    L = L * np.where(np.diagonal(T, axis1=-2, axis2=-1) < 0, -1.0, 1.0)[..., None, :]
    return model._share_decoder(LinearGaussianVAE(model.W, model.b, model.sigma2, V=V, c=c, D=D,
                                                  encoder="full", _chol_D=L))


def _check_variances(d):
    if not np.all((d > 0) & np.isfinite(d)):
        bad = d[~((d > 0) & np.isfinite(d))].flat[0]
        raise ValueError("the optimal encoder is not representable in float64: an encoder "
                         f"variance sigma2 / (alpha (s^2 + sigma2)) evaluates to {fmt(bad)} "
                         "(the decoder's s^2 / sigma2 or alpha is too large)")
