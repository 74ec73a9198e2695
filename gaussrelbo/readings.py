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
from scipy.linalg import cho_solve, cholesky, solve_triangular
from scipy.optimize import brentq

from ._numerics import log1p_ratio
from ._validation import as_float_array, check_alpha, check_positive
from .encoders import optimal_encoder
from .model import DataMoments, LinearGaussianVAE
from .objectives import distortion, rate, relbo
from . import optima

__all__ = [
    "READINGS",
    "InfeasibleReading",
    "ReadingOptimum",
    "MatchedBeta",
    "active_counts",
    "critical_alpha",
    "matched_beta",
    "reading_collapse_thresholds",
    "reading_global_maximum",
    "reading_objective",
    "reading_optimal_encoder",
]

#: The readings, in the order the docs present them.
READINGS = ("pointwise", "escort", "cross_entropy")


def _check_reading(reading):
    if reading not in READINGS:
        raise ValueError(f"`reading` must be one of {', '.join(repr(r) for r in READINGS)}, "
                         f"got {reading!r}")
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
    data : DataMoments or array_like, shape (..., n)
        Population moments, or datapoints (``"pointwise"`` and ``"escort"`` only).
    alpha : float or array_like
        Renyi order, positive.  ``"cross_entropy"`` takes a scalar.
    reading : {'pointwise', 'escort', 'cross_entropy'}, default 'pointwise'

    Returns
    -------
    ndarray or float
        ``"pointwise"``: :func:`gaussrelbo.relbo`.  ``"escort"``: ``relbo`` of the model whose
        encoder covariance is ``D / alpha``.  ``"cross_entropy"``: the log-mean-exp of the
        pointwise RELBO over :math:`x \sim N(\mu_D, S)`; ``-inf`` where that average diverges,
        i.e. outside :math:`I - (1-\alpha)L^TQL \succ 0` (only possible for
        :math:`\alpha < 1`; for the optimal encoder this is :math:`I - (1-\alpha)SC^{-1}
        \succ 0`).  Never NaN.

    Raises
    ------
    ValueError
        For ``"cross_entropy"`` with per-datapoint ``data`` (it is a data-level quantity) or a
        batched model/moments.

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
    """
    _check_reading(reading)
    if not isinstance(model, LinearGaussianVAE):
        raise ValueError(f"`model` must be a gaussrelbo.LinearGaussianVAE, got "
                         f"{type(model).__name__}")
    if reading == "pointwise":
        return relbo(model, data, alpha)
    if reading == "escort":
        a = check_alpha(alpha, "alpha")
        scale = a[..., None] if model.diagonal else a[..., None, None]
        return relbo(model.replace(D=model.D / scale), data, alpha)
    if not isinstance(data, DataMoments):
        raise ValueError("`data` must be a gaussrelbo.DataMoments for reading='cross_entropy': it "
                         "is a data-level quantity (a log-mean-exp over the data distribution), "
                         f"got {type(data).__name__} (per-datapoint input)")
    a = _scalar(alpha, "alpha", check_alpha)
    if model.batch_shape != () or data.batch_shape != ():
        raise ValueError(f"reading='cross_entropy' takes one model and one DataMoments, got "
                         f"batch shapes {model.batch_shape} and {data.batch_shape}")
    if data.n != model.n:
        raise ValueError(f"`data` must have n={model.n} features, got {data.n}")
    return _cross_entropy(model, data, a)


def _cross_entropy(model, data, alpha):
    n, k = model.n, model.k
    W, b, s2 = model.W, model.b, float(model.sigma2)
    V, c = model.V, model.c
    Cc = cholesky(W @ W.T + s2 * np.eye(n), lower=True)
    Mc = cholesky(W.T @ W + s2 * np.eye(k), lower=True)
    gain = cho_solve((Mc, True), W.T)                      # M^{-1} W^T
    E = V - gain
    delta0 = E @ data.mean + c + gain @ b
    Rt_delta = Mc.T @ delta0                               # ||.||^2 = delta0^T M delta0
    if model.diagonal:
        tr_MD = float(np.sum(np.diag(W.T @ W + s2 * np.eye(k)) * model.D))
        logdet_D = float(np.sum(np.log(model.D)))
    else:
        LD = cholesky(model.D, lower=True)
        tr_MD = float(np.sum((Mc.T @ LD) ** 2))
        logdet_D = 2.0 * float(np.sum(np.log(np.diag(LD))))
    logdet_M = 2.0 * float(np.sum(np.log(np.diag(Mc))))
    logdet_C = 2.0 * float(np.sum(np.log(np.diag(Cc))))
    # alpha * KL(q || pi_alpha) * 2 (Pi = alpha M / sigma^2), the x-independent part
    K0 = (alpha * tr_MD / s2 - k - (k * np.log(alpha) + logdet_M - k * np.log(s2)) - logdet_D
          + alpha * float(Rt_delta @ Rt_delta) / s2)
    r = data.mean - b
    Cr = solve_triangular(Cc, r, lower=True)
    a0 = -0.5 * (n * np.log(2 * np.pi) + logdet_C + float(Cr @ Cr)) - K0 / (2 * alpha)
    # quadratic part in y = x - mu_D over y = L u, u ~ N(0, I)
    L = data.factor
    X = solve_triangular(Cc, L, lower=True)                 # C^{-1/2} L
    Y = Mc.T @ E @ L                                        # M^{1/2} E L
    G = X.T @ X + Y.T @ Y / s2
    G = 0.5 * (G + G.T)
    # g = -C^{-1} r - E^T M delta0 / sigma^2  ->  h = L^T g
    h = -(X.T @ Cr) - (Y.T @ Rt_delta) / s2
    q, U = np.linalg.eigh(G)
    q = np.clip(q, 0.0, None)
    t = 1.0 - alpha
    if t > 0 and t * q[-1] >= 1.0:
        return -np.inf                  # E exp(-(1-alpha) RELBO) diverges
    logdet_part = -0.5 * float(np.sum(log1p_ratio(-t, q)))   # sum log(1 - t q)/(2t)
    hp = U.T @ h
    quad = -0.5 * t * float(np.sum(hp**2 / (1.0 - t * q)))
    return a0 + logdet_part + quad


# ---- optimal encoders ---------------------------------------------------------------------------

def reading_optimal_encoder(model, alpha, reading="pointwise", encoder="diagonal"):
    r"""The encoder that maximises a reading's objective for the model's decoder.

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
    a = check_alpha(alpha, "alpha")
    diagonal = encoder == "diagonal"
    if reading == "escort":
        return optimal_encoder(model, "elbo", diagonal=diagonal)
    return optimal_encoder(model, "relbo", alpha=a, diagonal=diagonal)


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
    best self-consistent active count is chosen by enumeration.

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
    """The beta-ELBO optimum with the same rate as a reading's optimum (fixed sigma2).

    Attributes
    ----------
    beta : float
    rate : float
        The common rate.
    distortion : float
        The reading's distortion.
    beta_distortion : float
        The beta-ELBO optimum's distortion at the same rate.
    excess : float
        ``distortion - beta_distortion`` (>= 0: the beta-ELBO frontier).
    """

    beta: float
    rate: float
    distortion: float
    beta_distortion: float
    excess: float


def matched_beta(alpha, lam, k, sigma2, reading="pointwise"):
    r"""The :math:`\beta` whose beta-ELBO optimum has the rate of a reading's optimum.

    Both at the same fixed :math:`\sigma^2`, top-k decoders, optimal diagonal encoders.  The
    beta-ELBO rate :math:`\tfrac12\sum_{\lambda_j>\beta\sigma^2}\log(\lambda_j/(\beta\sigma^2))`
    (Lucas et al. 2019) is continuous and strictly decreasing while positive, so the match is
    unique; it is found by bracketing in :math:`\log\beta`.

    Parameters
    ----------
    alpha : float
    lam : array_like, shape (n,), or DataMoments
    k : int
    sigma2 : float
    reading : {'pointwise', 'escort', 'cross_entropy'}, default 'pointwise'

    Returns
    -------
    MatchedBeta
    """
    _check_reading(reading)
    lam = _spectrum(lam)
    k = _k(k, lam.size)
    s2 = _scalar(sigma2, "sigma2")
    opt = reading_global_maximum(lam, k, alpha, reading, s2)
    target = opt.rate

    def beta_point(beta):
        return optima.global_maximum(lam, k, "beta_elbo", beta=beta, sigma2=s2)

    hi = float(lam[0]) / s2
    if not hi > 0:
        raise ValueError("`lam` must have a positive eigenvalue")
    if target <= 0:
        beta = hi
    else:
        lo = min(1.0, hi)
        while beta_point(lo).rate <= target:
            lo /= 4.0
            if lo < 1e-300:
                raise ValueError(f"no beta reaches rate {target!r}")
        logb = brentq(lambda u: beta_point(np.exp(u)).rate - target, np.log(lo), np.log(hi),
                      xtol=1e-14, rtol=4 * np.finfo(float).eps)
        beta = float(np.exp(logb))
    bd = float(beta_point(beta).distortion)
    return MatchedBeta(beta, float(target), float(opt.distortion), bd,
                       float(opt.distortion) - bd)
