r"""Three readings of "a Renyi-entropy VAE": pointwise, escort and data-level cross-entropy.

The seed paper (Cukier, arXiv:2312.06828) is known to us only by its abstract, so the toolkit
carries three plausible constructions side by side; each returns to the ELBO as
:math:`\alpha \to 1`.  See the docs page "Readings of the Renyi VAE" (``docs/readings.md``) for
the theorems and proofs, and ``gaussrelbo/derivations/readings.py`` for the sympy checks.

* ``"pointwise"`` -- today's RELBO, :math:`\log p(x) - \mathrm{KL}(q\|\pi_\alpha)/\alpha`,
  :math:`\pi_\alpha \propto p(z|x)^\alpha`.
* ``"escort"`` -- Jensen with the escort :math:`q_\alpha \propto q^\alpha` of the encoder:
  :math:`\mathrm{RELBO}^E(V, c, D) = \mathrm{RELBO}(V, c, D/\alpha)
  = \log p(x) - \mathrm{KL}(q_\alpha\|\pi_\alpha)/\alpha`.
* ``"cross_entropy"`` -- the data-level log-mean-exp
  :math:`L^{CE}_\alpha = -\frac1{1-\alpha}\log E_{p_D} e^{-(1-\alpha)\mathrm{RELBO}_\alpha(x)}`,
  a lower bound on :math:`-\frac1{1-\alpha}\log E_{p_D}\,p(x)^{\alpha-1}`.  It is a property of
  the data distribution, not of one datapoint; :class:`~gaussrelbo.DataMoments` are read as the
  Gaussian :math:`N(\mu_D, S)`.
"""

from dataclasses import dataclass

import numpy as np

from ._numerics import log1p_ratio
from ._validation import as_float_array, check_alpha, check_positive
from .encoders import optimal_encoder
from .model import DataMoments, LinearGaussianVAE
from .objectives import distortion, rate, relbo, renyi_term
from . import optima

__all__ = [
    "READINGS",
    "InfeasibleReading",
    "ReadingOptimum",
    "MatchedBeta",
    "active_counts",
    "critical_alpha",
    "log_mean_exp_reading",
    "matched_beta",
    "reading_collapse_thresholds",
    "reading_global_maximum",
    "reading_objective",
    "reading_optimal_encoder",
    "reading_profiled_value_grad",
    "reading_renyi_term",
]

#: The readings, in the order the docs present them.
READINGS = ("pointwise", "escort", "cross_entropy")


def _check_reading(reading, objective="relbo"):
    """The one check of a ``reading`` argument (every entry point calls it): one of
    :data:`READINGS`, and ``"pointwise"`` unless the objective is the RELBO."""
    if not isinstance(reading, str) or reading not in READINGS:
        raise ValueError(f"`reading` must be one of {', '.join(repr(r) for r in READINGS)}, "
                         f"got {reading!r}")
    if reading != "pointwise" and objective != "relbo":
        raise ValueError(f"`reading`={reading!r} applies to objective='relbo' only, got "
                         f"objective={objective!r}")
    return reading


def _scalar(x, name, check=check_positive):
    arr = check(x, name)
    if arr.ndim != 0:
        raise ValueError(f"`{name}` must be a scalar, got an array of shape {arr.shape}")
    return float(arr)


def _alpha_ce(alpha):
    """A scalar order inside the cross-entropy reading's domain 0 < alpha < 2 (for optima)."""
    a = _scalar(alpha, "alpha", check_alpha)
    if not a < 2.0:
        raise ValueError(f"`alpha` must satisfy 0 < alpha < 2 for reading='cross_entropy' (its "
                         f"optimum is unbounded above for alpha > 2), got {a!r}")
    return a


def _spectrum(lam):
    if isinstance(lam, DataMoments):
        if lam.batch_shape != ():
            raise ValueError(f"`lam` must be one spectrum, got DataMoments with batch shape "
                             f"{lam.batch_shape}")
        lam = lam.eigenvalues
    lam = as_float_array(lam, "lam")
    if lam.ndim != 1 or lam.size == 0:
        raise ValueError(f"`lam` must have shape (n,) with n >= 1, got {lam.shape}")
    if np.any(lam < 0):
        raise ValueError(f"`lam` must be non-negative, got {lam[lam < 0][0]!r}")
    return np.sort(lam)[::-1]


def _k(k, n):
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= n:
        raise ValueError(f"`k` must be an integer with 1 <= k <= n={n}, got {k!r}")
    return int(k)


# ---- objective ----------------------------------------------------------------------------------

def reading_objective(model, data, alpha, reading="pointwise"):
    r"""The objective of a reading of the Renyi VAE (nats).

    Parameters
    ----------
    model : LinearGaussianVAE
        Batch dimensions lead and broadcast against the data and ``alpha``.
    data : DataMoments or array_like, shape (..., n)
        Population moments, or datapoints (``"pointwise"`` and ``"escort"`` only).
    alpha : float or array_like
        Renyi order, positive; broadcasts against the batch shape.
    reading : {'pointwise', 'escort', 'cross_entropy'}, default 'pointwise'

    Returns
    -------
    ndarray or numpy scalar
        ``"pointwise"``: :func:`gaussrelbo.relbo`.  ``"escort"``: ``relbo`` of the model whose
        encoder covariance is ``D / alpha``.  ``"cross_entropy"``: the log-mean-exp of the
        pointwise RELBO over :math:`x \sim N(\mu_D, S)`, one value per broadcast batch entry;
        ``-inf`` where that average diverges, i.e. outside :math:`I - (1-\alpha)L^TQL \succ 0`
        (only possible for :math:`\alpha < 1`; for the optimal encoder this is
        :math:`I - (1-\alpha)SC^{-1} \succ 0`).  Never NaN.

    Raises
    ------
    ValueError
        For an unknown ``reading``, and for ``"cross_entropy"`` with per-datapoint ``data`` (it
        is a data-level quantity).

    Notes
    -----
    Write the pointwise RELBO as a quadratic in :math:`y = x - \mu_D`,
    :math:`\mathrm{RELBO}(x) = a_0 + g^Ty - \tfrac12 y^TQy` with
    :math:`Q = C^{-1} + E^TME/\sigma^2`, :math:`E = V - M^{-1}W^T` (Lucas et al. 2019 notation
    for the linear VAE).  With :math:`t = 1-\alpha`, :math:`LL^T = S`, :math:`G = L^TQL`,
    :math:`h = L^Tg`:

    .. math:: L^{CE}_\alpha = a_0 + \sum_i \frac{\log(1 - t\,q_i)}{2t}
              - \frac t2\, h^T(I - tG)^{-1}h,

    :math:`q_i` the eigenvalues of G; the first sum uses ``log1p`` with a series at
    :math:`t = 0`, where the value is the population RELBO (= the ELBO at
    :math:`\alpha = 1` exactly).  Derived in ``gaussrelbo/derivations/readings.py``.

    Examples
    --------
    >>> import numpy as np, gaussrelbo as gr
    >>> from gaussrelbo.readings import reading_objective
    >>> rng = np.random.default_rng(0)
    >>> m = gr.LinearGaussianVAE(rng.normal(size=(4, 2)), np.zeros(4), 0.5,
    ...                          V=rng.normal(size=(2, 4)), c=np.zeros(2), D=np.ones(2))
    >>> data = gr.DataMoments(np.zeros(4), np.eye(4))
    >>> bool(np.isclose(reading_objective(m, data, 1.0, "cross_entropy"), gr.elbo(m, data),
    ...                 rtol=1e-12))
    True
    >>> reading_objective(m, data, [0.9, 1.0, 1.5], "cross_entropy").shape    # batched
    (3,)
    """
    _check_reading(reading)
    _check_model(model)
    if reading == "pointwise":
        return relbo(model, data, alpha)
    if reading == "escort":
        return relbo(_escort_model(model, alpha), data, alpha)
    data, a = _check_ce_input(model, data, alpha)
    return _cross_entropy(model, data, a)


def _check_model(model):
    if not isinstance(model, LinearGaussianVAE):
        raise ValueError(f"`model` must be a gaussrelbo.LinearGaussianVAE, got "
                         f"{type(model).__name__}")


def _escort_model(model, alpha):
    """The model whose encoder covariance is D / alpha (the escort q_alpha of q)."""
    a = check_alpha(alpha, "alpha")
    scale = a[..., None] if model.diagonal else a[..., None, None]
    return model.replace(D=model.D / scale)


def _check_ce_input(model, data, alpha):
    if not isinstance(data, DataMoments):
        raise ValueError("`data` must be a gaussrelbo.DataMoments for reading='cross_entropy': it "
                         "is a data-level quantity (a log-mean-exp over the data distribution), "
                         f"got {type(data).__name__} (per-datapoint input)")
    if data.n != model.n:
        raise ValueError(f"`data` must have n={model.n} features, got {data.n}")
    a = check_alpha(alpha, "alpha")
    try:
        np.broadcast_shapes(model.batch_shape, data.batch_shape, a.shape)
    except ValueError:
        raise ValueError(f"the batch shapes of `model` {model.batch_shape}, `data` "
                         f"{data.batch_shape} and `alpha` {a.shape} do not broadcast") from None
    return data, a


def _mv(A, x):
    return (A @ x[..., None])[..., 0]


def _cross_entropy(model, data, alpha):
    """Batched Gaussian average of exp(-(1-alpha) RELBO(x)); see reading_objective Notes."""
    n, k = model.n, model.k
    shape = np.broadcast_shapes(model.batch_shape, data.batch_shape, alpha.shape)
    bc = lambda a, core: np.broadcast_to(a, shape + a.shape[a.ndim - core:])  # noqa: E731
    W, b, V, c = bc(model.W, 2), bc(model.b, 1), bc(model.V, 2), bc(model.c, 1)
    s2 = bc(np.asarray(model.sigma2, float), 0)
    a = bc(alpha, 0)
    mu, L = bc(data.mean, 1), bc(data.factor, 2)
    gain = bc(model.posterior_gain(), 2)                   # M^{-1} W^T
    E = V - gain
    delta0 = _mv(E, mu) + c + _mv(gain, b)
    Wd = _mv(W, delta0)
    dMd = np.sum(Wd**2, axis=-1) + s2 * np.sum(delta0**2, axis=-1)       # delta0^T M delta0
    if model.diagonal:
        trWDW = np.sum(np.sum(model.W**2, axis=-2) * model.D, axis=-1)
    else:
        trWDW = np.sum((model.W @ model._chol_D) ** 2, axis=(-2, -1))
    tr_MD = bc(trWDW, 0) + s2 * bc(model.trace_D, 0)
    logdet_D = bc(model.logdet_D, 0)
    lpr = bc(model.log_post_ratio, 0)                     # log det(sigma2 M^{-1})
    r_ = min(n, k)
    logdet_C = bc(np.sum(model.log_marginal_var, axis=-1), 0) + (n - r_) * np.log(s2)
    # 2 alpha KL(q || pi_alpha), the x-independent part (Pi = alpha M / sigma^2)
    K0 = a * tr_MD / s2 - k - (k * np.log(a) - lpr) - logdet_D + a * dMd / s2
    Cc = np.linalg.cholesky(W @ np.swapaxes(W, -1, -2) + s2[..., None, None] * np.eye(n))
    r = mu - b
    Cr = np.linalg.solve(Cc, r[..., None])[..., 0]
    a0 = -0.5 * (n * np.log(2 * np.pi) + logdet_C + np.sum(Cr**2, axis=-1)) - K0 / (2 * a)
    # quadratic part in y = x - mu_D over y = L u, u ~ N(0, I)
    X = np.linalg.solve(Cc, L)                            # C^{-1/2} L
    EL = E @ L
    WEL = W @ EL
    G = (np.swapaxes(X, -1, -2) @ X
         + (np.swapaxes(WEL, -1, -2) @ WEL) / s2[..., None, None]
         + np.swapaxes(EL, -1, -2) @ EL)
    G = 0.5 * (G + np.swapaxes(G, -1, -2))
    Md = _mv(np.swapaxes(W, -1, -2), Wd) + s2[..., None] * delta0            # M delta0
    h = -_mv(np.swapaxes(X, -1, -2), Cr) - _mv(np.swapaxes(EL, -1, -2), Md) / s2[..., None]
    q, U = np.linalg.eigh(G)
    q = np.clip(q, 0.0, None)
    t = 1.0 - a
    out_dom = (t > 0) & (t * q[..., -1] >= 1.0)           # E exp(-(1-alpha) RELBO) diverges
    ts = np.where(out_dom, 0.0, t)
    logdet_part = -0.5 * np.sum(log1p_ratio(-ts[..., None], q), axis=-1)
    hp = _mv(np.swapaxes(U, -1, -2), h)
    quad = -0.5 * ts * np.sum(hp**2 / (1.0 - ts[..., None] * q), axis=-1)
    val = np.where(out_dom, -np.inf, a0 + logdet_part + quad)
    return val[()] if val.ndim == 0 else val


def log_mean_exp_reading(values, alpha):
    r"""The cross-entropy aggregate of per-sample values over their empirical distribution.

    Parameters
    ----------
    values : array_like, shape (N,)
        Per-sample pointwise values, e.g. :math:`\mathrm{RELBO}_\alpha(x_i)` (nats).
    alpha : float
        Renyi order, positive.

    Returns
    -------
    float
        :math:`-\frac{1}{1-\alpha}\log\frac1N\sum_i e^{-(1-\alpha)f_i}`, computed with the
        largest exponent factored out; the mean of the values at alpha = 1.  It lies between
        the mean and the minimum of the values for alpha < 1, and between the mean and the
        maximum for alpha > 1.

    Examples
    --------
    >>> from gaussrelbo.readings import log_mean_exp_reading
    >>> log_mean_exp_reading([-1.0, -3.0], 1.0), round(log_mean_exp_reading([-1.0, -3.0], 0.5), 6)
    (-2.0, -2.240229)
    """
    f = as_float_array(values, "values")
    if f.ndim != 1 or f.size == 0 or not np.all(np.isfinite(f)):
        raise ValueError(f"`values` must be a non-empty 1-D array of finite numbers, got shape "
                         f"{f.shape}")
    a = _scalar(alpha, "alpha", check_alpha)
    t = 1.0 - a
    if t == 0.0:
        return float(np.mean(f))
    e = -t * f
    top = float(np.max(e))
    return float(-(np.log(np.mean(np.exp(e - top))) + top) / t)


def reading_renyi_term(model, data, alpha, reading="pointwise"):
    r"""The Renyi term of a reading (nats): what the reading adds to an ELBO.

    Parameters
    ----------
    model : LinearGaussianVAE
    data : DataMoments or array_like, shape (..., n)
        Population moments, or datapoints (not for ``"cross_entropy"``).
    alpha : float or array_like
        Renyi order, positive.
    reading : {'pointwise', 'escort', 'cross_entropy'}, default 'pointwise'

    Returns
    -------
    ndarray or numpy scalar
        ``"pointwise"``: :func:`gaussrelbo.renyi_term`, :math:`R_\alpha(q) = H(q) -
        H_\alpha(p(z|x))`, with :math:`\mathrm{RELBO}_\alpha = \mathrm{ELBO}(q) +
        \frac{1-\alpha}{\alpha}R_\alpha(q)`.

        ``"escort"``: the pointwise term of the escort :math:`q_\alpha = N(Vx+c, D/\alpha)`,
        :math:`R_\alpha(q_\alpha)`, so that :math:`\mathrm{RELBO}^E_\alpha(q) =
        \mathrm{ELBO}(q_\alpha) + \frac{1-\alpha}{\alpha}R_\alpha(q_\alpha)` (the identity
        :math:`\mathrm{RELBO}^E(V, c, D) = \mathrm{RELBO}(V, c, D/\alpha)`).  It equals
        :math:`R_\alpha(q) - \tfrac k2\log\alpha`.

        ``"cross_entropy"``: the pointwise term again.  It does not depend on x, and a
        constant passes through the log-mean-exp, so :math:`L^{CE}_\alpha =
        L^{CE}_\alpha[\mathrm{ELBO}] + \frac{1-\alpha}{\alpha}R_\alpha(q)` with
        :math:`L^{CE}_\alpha[\mathrm{ELBO}] = -\frac1{1-\alpha}\log E_{p_D}
        e^{-(1-\alpha)\mathrm{ELBO}(x)}`.  A data-level quantity: ``data`` must be
        :class:`~gaussrelbo.DataMoments`.

    Raises
    ------
    ValueError
        An unknown ``reading``; per-datapoint ``data`` with ``"cross_entropy"``.

    Examples
    --------
    >>> import numpy as np, gaussrelbo as gr
    >>> from gaussrelbo.readings import reading_renyi_term
    >>> m = gr.LinearGaussianVAE([[1.0], [0.5]], [0.0, 0.0], 0.3, V=[[0.4, 0.2]], c=[0.0],
    ...                          D=[0.5])
    >>> x = np.array([0.2, -0.1])
    >>> d = reading_renyi_term(m, x, 2.0, "escort") - reading_renyi_term(m, x, 2.0)
    >>> bool(np.isclose(d, -0.5 * np.log(2.0)))                      # k = 1
    True
    """
    _check_reading(reading)
    _check_model(model)
    if reading == "pointwise":
        return renyi_term(model, data, alpha)
    if reading == "escort":
        return renyi_term(_escort_model(model, alpha), data, alpha)
    _check_ce_input(model, data, alpha)
    return renyi_term(model, data, alpha)


# ---- optimal encoders ---------------------------------------------------------------------------

def reading_optimal_encoder(model, alpha, reading="pointwise", encoder="diagonal"):
    r"""The encoder that maximises a reading's objective for the model's decoder.

    The same as ``gaussrelbo.optimal_encoder(model, "relbo", alpha=alpha, reading=reading,
    encoder=encoder)``.

    Parameters
    ----------
    model : LinearGaussianVAE
    alpha : float
    reading : {'pointwise', 'escort', 'cross_entropy'}, default 'pointwise'
    encoder : {'diagonal', 'full'}, default 'diagonal'

    Returns
    -------
    LinearGaussianVAE
        Mean map :math:`V = M^{-1}W^T`, :math:`c = -Vb` in every reading.  Covariance:
        ``"pointwise"`` and ``"cross_entropy"``: the escort of the posterior,
        :math:`\sigma^2M^{-1}/\alpha` (diagonal: :math:`\sigma^2/(\alpha M_{ii})`);
        ``"escort"``: the exact posterior :math:`\sigma^2M^{-1}` for every alpha (diagonal:
        :math:`\sigma^2/M_{ii}`).

    Notes
    -----
    The pointwise optimum maximises :math:`\mathrm{RELBO}(x)` at every x at once and the
    log-mean-exp is increasing in each :math:`\mathrm{RELBO}(x)`, so it is also the
    cross-entropy optimum.  The escort objective is the pointwise one at :math:`D/\alpha`.
    """
    _check_reading(reading)
    if encoder not in ("diagonal", "full"):
        raise ValueError(f"`encoder` must be 'diagonal' or 'full', got {encoder!r}")
    return optimal_encoder(model, "relbo", alpha=alpha, reading=reading, encoder=encoder)


# ---- the profiled cross-entropy objective (basin maps) -----------------------------------------

def reading_profiled_value_grad(W, sigma2, lam, alpha, reading="cross_entropy"):
    r"""A reading's profiled objective :math:`F(W, \sigma^2)` (optimal diagonal encoder,
    b = data mean) in the eigenbasis of the data covariance, with its gradients.

    Parameters
    ----------
    W : array_like, shape (..., n, k)
        Decoder weights; row j is eigen-direction j.  Leading axes are a batch.
    sigma2 : float or array_like, shape (...)
        Decoder noise variance; broadcasts against the batch axes of ``W``.
    lam : array_like, shape (n,), or DataMoments
        Data covariance eigenvalues, descending.
    alpha : float
        Renyi order; ``"cross_entropy"``: 0 < alpha < 2.
    reading : {'pointwise', 'escort', 'cross_entropy'}, default 'cross_entropy'
        ``"pointwise"`` and ``"escort"`` have the same profile,
        :func:`gaussrelbo.optima.profiled_value_grad` with ``objective="relbo"``.

    Returns
    -------
    value : ndarray, shape (...)
        ``-inf`` outside the domain :math:`C \succ (1-\alpha)S`.
    grad_W : ndarray, shape (..., n, k)
    grad_sigma2 : ndarray, shape (...)
        NaN where the value is ``-inf`` (no gradient there).

    Notes
    -----
    With :math:`t = 1-\alpha`, :math:`S = \Lambda`, :math:`G = \Lambda^{1/2}C^{-1}\Lambda^{1/2}`
    and :math:`P = \sum_i\log M_{ii} - \log\det M`:

    .. math::
        F = -\tfrac n2\log 2\pi - \tfrac12\log\det C + \sum_i\frac{\log(1-tq_i)}{2t}
            - \frac{P}{2\alpha},\qquad
        \Gamma = \partial F/\partial C\big|_P = -\tfrac12C^{-1}
            + \tfrac12C^{-1}\Lambda^{1/2}(I - tG)^{-1}\Lambda^{1/2}C^{-1},

    :math:`\nabla_WF = 2\Gamma W - W(\mathrm{Dg}^{-1} - M^{-1})/\alpha`,
    :math:`\partial_{\sigma^2}F = \mathrm{tr}\,\Gamma - (\sum_iM_{ii}^{-1} -
    \mathrm{tr}M^{-1})/(2\alpha)` (:math:`q_i` the eigenvalues of G; smooth through
    :math:`t = 0`, where F is the pPCA log-likelihood minus the Hadamard penalty).

    Examples
    --------
    >>> import numpy as np
    >>> from gaussrelbo.readings import reading_profiled_value_grad
    >>> lam = np.array([4.0, 2.0, 1.2, 0.3])
    >>> W = np.zeros((4, 2)); W[[0, 1], [0, 1]] = np.sqrt(1.5 * lam[:2] - 1.0)  # c = (2-a) lam
    >>> f, gW, gs = reading_profiled_value_grad(W, 1.0, lam, 0.5)
    >>> bool(np.max(np.abs(gW)) < 1e-13)
    True
    """
    _check_reading(reading)
    lam = _spectrum(lam)
    n = lam.size
    W = as_float_array(W, "W")
    if W.ndim < 2 or W.shape[-2] != n:
        raise ValueError(f"`W` must have shape (..., n, k) with n={n}, got {W.shape}")
    s2 = check_positive(sigma2, "sigma2")
    try:
        shape = np.broadcast_shapes(W.shape[:-2], s2.shape)
    except ValueError:
        raise ValueError(f"`sigma2` has shape {s2.shape}, which does not broadcast against "
                         f"the batch shape {W.shape[:-2]} of `W`") from None
    if reading != "cross_entropy":
        a = _scalar(alpha, "alpha", check_alpha)
        f, gW, gs = optima.profiled_value_grad(np.broadcast_to(W, shape + W.shape[-2:]),
                                               np.broadcast_to(s2, shape), lam, "relbo",
                                               alpha=a)
        return np.asarray(f, float), gW, np.asarray(gs, float)
    a = _alpha_ce(alpha)
    W = np.broadcast_to(W, shape + W.shape[-2:])
    s2 = np.broadcast_to(s2, shape).astype(float)
    return _ce_value_grad(W, s2, lam, a)


def _ce_value_grad(W, s2, lam, alpha):
    n, k = W.shape[-2:]
    t = 1.0 - alpha
    Wt = np.swapaxes(W, -1, -2)
    eye_n = np.eye(n)
    c, Q = np.linalg.eigh(W @ Wt + s2[..., None, None] * eye_n)        # C = Q diag(c) Q^T
    Cinv = (Q / c[..., None, :]) @ np.swapaxes(Q, -1, -2)
    r = np.sqrt(lam)
    G = r[:, None] * Cinv * r[None, :]
    G = 0.5 * (G + np.swapaxes(G, -1, -2))
    q, Z = np.linalg.eigh(G)
    q = np.clip(q, 0.0, None)
    out_dom = (t > 0) & (t * q[..., -1] >= 1.0)
    qs = np.where(out_dom[..., None], 0.0, q)
    value = (-0.5 * n * np.log(2 * np.pi) - 0.5 * np.sum(np.log(c), axis=-1)
             - 0.5 * np.sum(log1p_ratio(-t, qs), axis=-1))
    # Hadamard penalty through the eigen-decomposition of W^T W
    mu, R = np.linalg.eigh(Wt @ W)
    m = np.clip(mu, 0.0, None) + s2[..., None]
    Mdiag = np.sum(W * W, axis=-2) + s2[..., None]
    P = np.sum(np.log(Mdiag), axis=-1) - np.sum(np.log(m), axis=-1)
    value = value - P / (2.0 * alpha)
    inner = (Z / (1.0 - t * qs)[..., None, :]) @ np.swapaxes(Z, -1, -2)   # (I - tG)^{-1}
    B = Cinv * r[None, :]                                                  # C^{-1} Lambda^{1/2}
    Gamma = -0.5 * Cinv + 0.5 * B @ inner @ np.swapaxes(B, -1, -2)
    Gamma = 0.5 * (Gamma + np.swapaxes(Gamma, -1, -2))
    WMinv = (W @ R / m[..., None, :]) @ np.swapaxes(R, -1, -2)            # W M^{-1}
    gW = 2.0 * Gamma @ W - (W / Mdiag[..., None, :] - WMinv) / alpha
    gs = (np.trace(Gamma, axis1=-2, axis2=-1)
          - (np.sum(1.0 / Mdiag, axis=-1) - np.sum(1.0 / m, axis=-1)) / (2.0 * alpha))
    value = np.where(out_dom, -np.inf, value)
    gW = np.where(out_dom[..., None, None], np.nan, gW)
    gs = np.where(out_dom, np.nan, gs)
    return value, gW, gs


# ---- optima -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReadingOptimum:
    """Global maximum of a reading over (W, b[, sigma2]) with the optimal diagonal encoder.

    Attributes
    ----------
    reading : str
    alpha : float
    sigma2 : float
        The fixed noise, or the learned one.
    w2 : ndarray, shape (k,)
        Squared column norms along the top-k eigen-directions (decreasing).
    active : int
        Number of non-zero columns.
    value, rate, distortion : float
        The reading's value; rate and distortion of the optimal encoder (population, Alemi et
        al. 2018).
    """

    reading: str
    alpha: float
    sigma2: float
    w2: np.ndarray
    active: int
    value: float
    rate: float
    distortion: float

    @property
    def subset(self):
        """Eigen-directions the decoder uses (0-based, descending eigenvalue order): the top
        ``active`` ones."""
        return tuple(range(self.active))


def _f_ce(lam, cvar, alpha):
    """Per-direction cross-entropy value at model variance ``cvar`` (optimal encoder)."""
    t = 1.0 - alpha
    return -0.5 * np.log(2 * np.pi * cvar) - 0.5 * log1p_ratio(-t, lam / cvar)


def _sigma2_ce(disc, alpha):
    """Root of sum_j ((2-alpha) lam_j - s)/(s - (1-alpha) lam_j) over the discarded lam_j, or
    None when there is none (e.g. all discarded lam_j are 0)."""
    t = 1.0 - alpha
    if disc.size == 0 or not np.any(disc > 0):
        return None

    def g(s):
        return float(np.sum(((2.0 - alpha) * disc - s) / (s - t * disc)))

    lo = max(t * float(disc.max()), 0.0)
    hi = (2.0 - alpha) * float(disc.max())
    eps = 1e-13 * hi
    a, b_ = lo + eps, hi
    if g(a) <= 0 or g(b_) > 0:          # no sign change: no interior fixed point
        return None
    from scipy.optimize import brentq           # scipy loads on first use only

    return brentq(g, a, b_, xtol=1e-15 * hi, rtol=4 * np.finfo(float).eps)


class InfeasibleReading(ValueError):
    """The cross-entropy objective is -inf for every decoder (fixed sigma2, alpha < 1)."""


def _check_ce_feasible(lam, k, alpha, s2):
    """With fixed sigma2 the n - k directions a rank-k decoder cannot reach keep model variance
    sigma2; by Courant-Fischer C - (1-alpha)S is then indefinite for every W iff
    sigma2 <= (1-alpha) lam_{k+1}."""
    if k < lam.size and s2 <= (1.0 - alpha) * lam[k]:
        raise InfeasibleReading(
            f"reading='cross_entropy' is -inf for every decoder at alpha={alpha!r}, "
            f"sigma2={s2!r}: it needs sigma2 > (1 - alpha) * lam_(k+1) = "
            f"{(1.0 - alpha) * float(lam[k])!r}; learn sigma2 (sigma2=None) or raise alpha")


def _check_ce_bounded(lam, k, alpha):
    """Learned sigma2: as sigma2 -> 0 (top-k active) a discarded direction contributes
    (1/(2(alpha-1)) - 1/2) log sigma2 if lam_j > 0 and -log(sigma2)/2 if lam_j = 0, so the
    objective is unbounded above iff N_zero >= N_pos (2-alpha)/(alpha-1) (alpha > 1), or there is
    no positive discarded eigenvalue at all."""
    disc = lam[k:]
    n_pos, n_zero = int(np.count_nonzero(disc > 0)), int(np.count_nonzero(disc == 0))
    unbounded = n_zero > 0 and (n_pos == 0 or (
        alpha > 1 and n_zero >= n_pos * (2.0 - alpha) / (alpha - 1.0)))
    if unbounded:
        raise ValueError(
            f"reading='cross_entropy' with learned `sigma2` has no maximum at alpha={alpha!r} "
            f"(unbounded above, or a supremum only approached as sigma2 -> 0): {n_zero} "
            f"discarded eigenvalue(s) are zero against {n_pos} positive ones; pass a fixed "
            "`sigma2`")


def _ce_point(lam, k, alpha, sigma2, r):
    """Value of the cross-entropy optimum with the top-r directions active at noise sigma2."""
    cvar = np.full(lam.size, sigma2)
    cvar[:r] = (2.0 - alpha) * lam[:r]
    return float(np.sum(_f_ce(lam, cvar, alpha)))


def reading_global_maximum(lam, k, alpha, reading="pointwise", sigma2=None):
    r"""Global maximum of a reading (optimal diagonal encoder, b = data mean).

    Parameters
    ----------
    lam : array_like, shape (n,), or DataMoments
        Eigenvalues of the data covariance.
    k : int
        Latent dimension, 1 <= k <= n.
    alpha : float
        ``"cross_entropy"``: 0 < alpha < 2.
    reading : {'pointwise', 'escort', 'cross_entropy'}, default 'pointwise'
    sigma2 : float or None
        Fixed noise, or None to learn it.

    Returns
    -------
    ReadingOptimum

    Raises
    ------
    ValueError
        ``"cross_entropy"`` with a fixed :math:`\sigma^2 \le (1-\alpha)\lambda_{k+1}`
        (alpha < 1): the objective is :math:`-\infty` for every decoder, since the directions a
        rank-k decoder cannot reach keep model variance :math:`\sigma^2` (Courant-Fischer).

    Notes
    -----
    ``"pointwise"`` and ``"escort"``: pPCA maximum likelihood for every alpha (Tipping & Bishop
    1999), :math:`w_j^2 = \max(\lambda_j - \sigma^2, 0)`; the escort encoder is the exact
    posterior's, so its rate and distortion are the ELBO's.  ``"cross_entropy"``:
    :math:`w_j^2 = \max((2-\alpha)\lambda_j - \sigma^2, 0)` -- dimension j collapses iff
    :math:`\lambda_j \le \sigma^2/(2-\alpha)`.  A learned :math:`\sigma^2` solves

    .. math:: \sum_{j\notin A}\frac{(2-\alpha)\lambda_j - \sigma^2}
              {\sigma^2 - (1-\alpha)\lambda_j} = 0

    over the discarded directions (the mean of the discarded spectrum only at alpha = 1); the
    best self-consistent active count is chosen by enumeration.  That the aligned point is the
    global maximum over every W (fixed noise), and that the enumeration contains the global
    maximum over (W, sigma2) (learned noise), is proved on the docs page "Readings of the Renyi
    VAE" (Theorems 5 and 6).

    Examples
    --------
    >>> from gaussrelbo.readings import reading_global_maximum
    >>> p = reading_global_maximum([5.0, 3.0, 1.2, 0.5], 2, 1.5, "cross_entropy", sigma2=2.0)
    >>> p.active, [round(float(x), 12) for x in p.w2]     # (2 - 1.5) * 5 - 2 = 0.5
    (1, [0.5, 0.0])
    """
    _check_reading(reading)
    lam = _spectrum(lam)
    k = _k(k, lam.size)
    if sigma2 is not None:
        sigma2 = _scalar(sigma2, "sigma2")
    if reading != "cross_entropy":
        a = _scalar(alpha, "alpha", check_alpha)
        objective = "relbo" if reading == "pointwise" else "elbo"
        p = optima.global_maximum(lam, k, objective, alpha=a if objective == "relbo" else None,
                                  sigma2=sigma2)
        value = p.value
        if reading == "escort":       # same value as the pointwise reading (pPCA ML)
            value = optima.global_maximum(lam, k, "relbo", alpha=a, sigma2=sigma2).value
        w2 = np.sort(np.sum(p.W**2, axis=0))[::-1]
        return ReadingOptimum(reading, a, float(p.sigma2), w2, int(p.active), float(value),
                              float(p.rate), float(p.distortion))
    a = _alpha_ce(alpha)
    if sigma2 is not None:
        s2 = sigma2
        _check_ce_feasible(lam, k, a, s2)
        r = int(np.count_nonzero((2.0 - a) * lam[:k] > s2))
    else:
        _check_ce_bounded(lam, k, a)
        best = None
        for r_ in range(k + 1):
            s2_ = _sigma2_ce(lam[r_:], a)
            if s2_ is None or (r_ > 0 and not (2.0 - a) * lam[r_ - 1] > s2_):
                continue
            val = _ce_point(lam, k, a, s2_, r_)
            if best is None or val > best[0]:
                best = (val, r_, s2_)
        if best is None:
            raise ValueError("no self-consistent learned `sigma2` for this spectrum; pass a "
                             "fixed `sigma2`")
        _, r, s2 = best
    w2 = np.zeros(k)
    w2[:r] = (2.0 - a) * lam[:r] - s2
    model, data = _spectral_model(lam, k, w2, s2, a)
    return ReadingOptimum(reading, a, float(s2), w2, r, _ce_point(lam, k, a, s2, r),
                          float(rate(model, data)), float(distortion(model, data)))


def _spectral_model(lam, k, w2, s2, alpha):
    """Axis-aligned decoder with column norms sqrt(w2) and the pointwise optimal encoder."""
    n = lam.size
    W = np.zeros((n, k))
    W[np.arange(k), np.arange(k)] = np.sqrt(w2)
    m0 = LinearGaussianVAE(W, np.zeros(n), s2, V=np.zeros((k, n)), c=np.zeros(k), D=np.ones(k))
    return (optimal_encoder(m0, "relbo", alpha=alpha, diagonal=True),
            DataMoments.from_spectrum(lam))


def reading_collapse_thresholds(lam, sigma2, alpha, reading="pointwise"):
    r"""Collapse threshold on the eigenvalues and the active mask at fixed :math:`\sigma^2`.

    Dimension j collapses iff :math:`\lambda_j \le \tau`: :math:`\tau = \sigma^2` for
    ``"pointwise"`` and ``"escort"`` (alpha-free), :math:`\tau = \sigma^2/(2-\alpha)` for
    ``"cross_entropy"`` (a beta-ELBO threshold with :math:`\beta_{\rm eff} = 1/(2-\alpha)`).

    Parameters
    ----------
    lam : array_like, shape (n,), or DataMoments
    sigma2 : float
    alpha : float
    reading : {'pointwise', 'escort', 'cross_entropy'}, default 'pointwise'

    Returns
    -------
    threshold : float
    active : ndarray of bool, shape (n,)
        Over the descending spectrum (before the cut at k).

    Examples
    --------
    >>> from gaussrelbo.readings import reading_collapse_thresholds
    >>> tau, active = reading_collapse_thresholds([5.0, 3.0, 1.6], 0.8, 1.5, "cross_entropy")
    >>> tau, active.tolist()
    (1.6, [True, True, False])
    """
    _check_reading(reading)
    lam = _spectrum(lam)
    s2 = _scalar(sigma2, "sigma2")
    if reading == "cross_entropy":
        tau = s2 / (2.0 - _alpha_ce(alpha))
    else:
        _scalar(alpha, "alpha", check_alpha)
        tau = s2
    return tau, lam > tau


def critical_alpha(lam, sigma2):
    r"""Per eigen-direction, the order above which the cross-entropy reading collapses it:
    :math:`\alpha_j = 2 - \sigma^2/\lambda_j` (active iff :math:`\alpha < \alpha_j`; a value
    :math:`\le 0` means collapsed for every alpha).

    Examples
    --------
    >>> from gaussrelbo.readings import critical_alpha
    >>> critical_alpha([4.0, 1.0, 0.5], 1.0).tolist()
    [1.75, 1.0, 0.0]
    """
    lam = _spectrum(lam)
    s2 = _scalar(sigma2, "sigma2")
    with np.errstate(divide="ignore"):
        return np.where(lam > 0, 2.0 - s2 / np.where(lam > 0, lam, 1.0), -np.inf)


def active_counts(lam, k, alphas, reading="pointwise", sigma2=None):
    r"""Active latent count at the global maximum for each alpha.

    Parameters
    ----------
    lam : array_like, shape (n,), or DataMoments
    k : int
    alphas : array_like, shape (m,)
    reading : {'pointwise', 'escort', 'cross_entropy'}, default 'pointwise'
    sigma2 : float or None
        Fixed or learned noise.

    Returns
    -------
    ndarray of int, shape (m,)
        -1 where the reading has no maximum: ``"cross_entropy"`` with a fixed
        :math:`\sigma^2 \le (1-\alpha)\lambda_{k+1}` is :math:`-\infty` for every decoder.
    """
    alphas = np.atleast_1d(check_alpha(alphas, "alphas"))
    out = []
    for a in alphas.ravel():
        try:
            out.append(reading_global_maximum(lam, k, float(a), reading, sigma2).active)
        except InfeasibleReading:
            out.append(-1)
    return np.array(out, dtype=int).reshape(alphas.shape)


@dataclass(frozen=True)
class MatchedBeta:
    """The beta-ELBO optimum with the same rate as a reading's optimum.

    Attributes
    ----------
    beta : float
    rate : float
        The reading's rate (the target).
    distortion : float
        The reading's distortion.
    beta_distortion : float
        The beta-ELBO optimum's distortion at ``beta``.
    excess : float
        ``distortion - beta_distortion`` (>= 0: the beta-ELBO frontier).
    sigma2 : float or None
        The reading's noise variance (the fixed one, or the learned one).
    beta_sigma2 : float or None
        The beta-ELBO optimum's noise variance (equal to ``sigma2`` when it is fixed).
    beta_rate : float or None
        The beta-ELBO optimum's rate; equal to ``rate`` up to rounding.
    """

    beta: float
    rate: float
    distortion: float
    beta_distortion: float
    excess: float
    sigma2: float | None = None
    beta_sigma2: float | None = None
    beta_rate: float | None = None


def matched_beta(alpha, lam, k, sigma2, reading="pointwise"):
    r"""The :math:`\beta` whose beta-ELBO optimum has the rate of a reading's optimum.

    Top-k decoders, optimal diagonal encoders, both at the same fixed :math:`\sigma^2`, or both
    with a learned :math:`\sigma^2` (each at its own global maximum).  With a fixed
    :math:`\sigma^2` the beta-ELBO rate
    :math:`\tfrac12\sum_{\lambda_j>\beta\sigma^2}\log(\lambda_j/(\beta\sigma^2))` (Lucas et
    al. 2019) is continuous and strictly decreasing while positive, so the match is unique.
    With a learned :math:`\sigma^2` the rate at the beta-ELBO global maximum is strictly
    decreasing in :math:`\beta` between the jumps of its active count :math:`r^*` but can jump
    down where :math:`r^*` changes; a target inside such a gap has no exact match and raises.
    The match is found by bracketing in :math:`\log\beta`.

    Parameters
    ----------
    alpha : float
    lam : array_like, shape (n,), or DataMoments
    k : int
    sigma2 : float or None
        Fixed noise, or None to learn it (separately for the reading and the beta-ELBO).
    reading : {'pointwise', 'escort', 'cross_entropy'}, default 'pointwise'

    Returns
    -------
    MatchedBeta

    Raises
    ------
    ValueError
        With a learned :math:`\sigma^2`, when the reading's rate falls in a jump of the
        beta-ELBO rate (no beta has that rate).

    Examples
    --------
    >>> import numpy as np
    >>> from gaussrelbo.readings import matched_beta
    >>> lam = np.array([5.0, 4.0, 3.0, 2.0, 1.2, 0.5])
    >>> mb = matched_beta(1.0, lam, 3, None)            # alpha = 1 is the ELBO: beta = 1
    >>> round(mb.beta, 10), round(mb.excess, 10)
    (1.0, 0.0)
    """
    _check_reading(reading)
    lam = _spectrum(lam)
    k = _k(k, lam.size)
    s2 = None if sigma2 is None else _scalar(sigma2, "sigma2")
    opt = reading_global_maximum(lam, k, alpha, reading, s2)
    target = opt.rate
    if not lam[0] > 0:
        raise ValueError("`lam` must have a positive eigenvalue")

    def beta_point(beta):
        return optima.global_maximum(lam, k, "beta_elbo", beta=beta, sigma2=s2)

    def rate_at(u):
        return beta_point(float(np.exp(u))).rate - target

    tol = 1e-9 * max(1.0, abs(target))
    if s2 is not None and target <= 0:
        beta = float(lam[0]) / s2
    else:
        hi = float(lam[0]) / s2 if s2 is not None else 1.0
        while rate_at(np.log(hi)) > tol:
            hi *= 4.0
            if hi > 1e300:
                raise ValueError(f"no beta reaches rate {target!r}")
        lo = min(1.0, hi)
        while rate_at(np.log(lo)) <= 0:
            lo /= 4.0
            if lo < 1e-300:
                raise ValueError(f"no beta reaches rate {target!r}")
        if rate_at(np.log(hi)) > 0:
            beta = hi
        else:
            from scipy.optimize import brentq

            beta = float(np.exp(brentq(rate_at, np.log(lo), np.log(hi), xtol=1e-14,
                                       rtol=4 * np.finfo(float).eps)))
    bp = beta_point(beta)
    if s2 is None and not abs(bp.rate - target) <= tol:
        raise ValueError(
            f"no beta-ELBO optimum with learned sigma2 has the rate {target:.6g} of "
            f"reading={reading!r} at alpha={alpha!r}: the beta-ELBO rate jumps from "
            f"{beta_point(beta * (1 - 1e-9)).rate:.6g} to {beta_point(beta * (1 + 1e-9)).rate:.6g} "
            f"at beta = {beta:.6g}, where its active count changes")
    bd = float(bp.distortion)
    return MatchedBeta(beta, float(target), float(opt.distortion), bd,
                       float(opt.distortion) - bd, float(opt.sigma2), float(bp.sigma2),
                       float(bp.rate))
