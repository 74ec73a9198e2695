r"""Seeded Monte Carlo estimators of every objective: the independent route the closed forms are
tested against.

Each estimator returns an :class:`MCEstimate` (estimate, standard error, sample count).  No closed
form of an expectation is used: the estimators evaluate log-densities (prior, decoder, encoder,
posterior, and for the population log-evidence the Gaussian marginal) at sampled points and
average them.

Sampling
--------
Sampling is reparameterised, :math:`z = Vx + c + L_D\varepsilon` with :math:`L_DL_D^T = D` and
:math:`\varepsilon \sim \mathcal N(0, I_k)`, and seeded by ``random_state`` (``None``, an int or a
:class:`numpy.random.Generator`, passed to :func:`numpy.random.default_rng`).  The data follow the
conventions of :mod:`gaussrelbo.objectives`:

* a :class:`~gaussrelbo.DataMoments` gives the population value: the data are drawn as
  :math:`x = \mu_D + L_S\eta`, :math:`L_SL_S^T = S`, one z per x.  Gaussian data are legitimate:
  every objective is quadratic in x, so its data average depends on the data only through
  :math:`\mu_D` and S.
* an array ``x`` of shape ``(..., n)`` gives one estimate per point, shape ``x.shape[:-1]``
  (numpy scalars for a single point), each from ``n_samples`` draws of z; batch entries share the
  random stream but not the draws.

The model must be unbatched (``model.batch_shape == ()``), the data moments too; ``alpha`` and
``beta`` are scalars.  Work is vectorised in numpy and split into chunks of about :math:`2^{20}`
floats per intermediate array, so memory stays bounded for any ``n_samples``.  The same seed gives
the same estimate bit for bit (for data points, whatever the chunking).

The RELBO is estimated from its definition, with the Renyi entropy of the posterior sampled too
(:func:`mc_relbo`); Renyi entropies by importance sampling (:func:`mc_renyi_entropy`); the
population VR bound by a nested, jackknifed estimator (:func:`mc_vr_bound`).

Standard errors
---------------
Plain averages (distortion, rate, ELBO, beta-ELBO, the first part of the RELBO, the encoder
entropy of the Renyi term, the population log-evidence) have standard error
``std(ddof=1) / sqrt(N)``.  Log-mean-exp estimators -- :math:`\log p(x)` of a point by
importance sampling, the VR bound, the Renyi entropy -- use the delta method: with weights
:math:`w_i`, :math:`\operatorname{se}(\log\bar w) \approx \operatorname{std}(w)/(\sqrt N\,\bar w)`,
divided by :math:`|t|` for :math:`\tfrac1t\log\overline{e^{ta}}`.  They are biased by
:math:`O(1/N)` (by Jensen, :math:`E\log\bar w \le \log E w`, the gap being about
:math:`\operatorname{Var}(w)/(2N(Ew)^2)`), which is below the standard error
(:math:`O(1/\sqrt N)`) at the sample sizes used.  The delta method needs weights of finite
variance; the estimators check the condition exactly (for Gaussians it is a condition on
covariances) and raise ``ValueError`` when it fails, instead of returning a meaningless standard
error.  Independent parts (e.g. the two parts of the RELBO) add their standard errors in
quadrature.
"""

from dataclasses import dataclass

import numpy as np
from scipy.linalg import solve_triangular
from scipy.special import logsumexp

from ._numerics import log1p_ratio, logdet_chol
from ._validation import (as_float_array, check_alpha, check_beta, check_int, check_random_state,
                          check_shape, check_spd)
from .model import DataMoments, LinearGaussianVAE

__all__ = [
    "MCEstimate",
    "mc_beta_elbo",
    "mc_distortion",
    "mc_elbo",
    "mc_log_evidence",
    "mc_rate",
    "mc_relbo",
    "mc_renyi_entropy",
    "mc_renyi_term",
    "mc_vr_bound",
]

_LOG_2PI = np.log(2.0 * np.pi)

# Floats per intermediate array in one chunk of samples (8 MiB of float64).
_CHUNK_ELEMENTS = 1 << 20

# Log-mean-exp exponents (relative to the mean) up to this size use expm1; larger ones logsumexp.
_EXPM1_BELOW = 30.0


@dataclass(frozen=True)
class MCEstimate:
    """A Monte Carlo estimate with its standard error.

    Attributes
    ----------
    estimate : numpy.float64 or ndarray
        The estimate; an array of shape ``x.shape[:-1]`` for a batch of data points.
    stderr : numpy.float64 or ndarray
        Its standard error, same shape.
    n_samples : int
        The number of Monte Carlo draws behind each estimate.
    """

    estimate: np.ndarray
    stderr: np.ndarray
    n_samples: int

    def z_score(self, value):
        """``(estimate - value) / stderr``: how many standard errors ``value`` is away."""
        return (self.estimate - value) / self.stderr


# ---- validation -----------------------------------------------------------------------------

def _check_n(n_samples, name="n_samples"):
    # The standard error needs a sample variance, so at least two draws; draws are made in
    # chunks, so the bound is one of time, not memory.
    return check_int(n_samples, name, 2, 10**12)


def _rng(random_state):
    return np.random.default_rng(check_random_state(random_state))


def _scalar(arr, name):
    if arr.ndim != 0:
        raise ValueError(f"`{name}` must be a scalar for Monte Carlo, got shape {arr.shape}")
    return float(arr)


def _out(estimate, stderr, n):
    est, se = np.asarray(estimate, np.float64), np.asarray(stderr, np.float64)
    return MCEstimate(est[()] if est.ndim == 0 else est, se[()] if se.ndim == 0 else se, int(n))


# ---- estimators of means --------------------------------------------------------------------

def _mean(values):
    """Mean over axis 0 and its standard error ``std(ddof=1) / sqrt(N)``."""
    return values.mean(axis=0), values.std(axis=0, ddof=1) / np.sqrt(values.shape[0])


def _log_mean_exp(a, t, log_w=None):
    r"""``(1/t) log mean(exp(t a))`` over axis 0 (``mean(a)`` at t = 0) and its delta-method s.e.

    With ``log_w`` the means are self-normalised importance-sampling means,
    :math:`\sum_i w_i f_i / \sum_i w_i`.  With c the weighted mean of a and
    :math:`u_i = t(a_i - c)`, the value is :math:`c + \log(\overline{we^u}/\bar w)/t`, whose
    influence function is :math:`\psi_i = (w_ie^{u_i}/\overline{we^u} - w_i/\bar w)/t`; the
    standard error is ``std(psi, ddof=1) / sqrt(N)``.  When all :math:`|u_i| \le 30` this is
    evaluated through :math:`d_i = \operatorname{expm1}(u_i)/t` (``d_i = a_i - c`` at t = 0):
    value :math:`c + \operatorname{log1p}(t\bar d/\bar w)/t`,
    :math:`\psi_i = w_i(\bar w d_i - \bar d)/(\bar w(\bar w + t\bar d))`, accurate as
    :math:`t \to 0`; otherwise in the log domain (no overflow or underflow).
    """
    N = a.shape[0]
    lw = np.zeros_like(a) if log_w is None else log_w - log_w.max(axis=0)
    w = np.exp(lw)
    wbar = w.mean(axis=0)
    c = (w * a).mean(axis=0) / wbar
    u = t * (a - c)
    if np.all(np.abs(u) <= _EXPM1_BELOW):
        d = a - c if t == 0.0 else np.expm1(u) / t
        dbar = (w * d).mean(axis=0)
        value = c + log1p_ratio(t, dbar / wbar)
        psi = w * (wbar * d - dbar) / (wbar * (wbar + t * dbar))
    else:                                       # |t| is not small here: no cancellation to fear
        log_num = logsumexp(lw + u, axis=0) - np.log(N)
        log_den = logsumexp(lw, axis=0) - np.log(N)
        value = c + (log_num - log_den) / t
        psi = (np.exp(lw + u - log_num) - np.exp(lw - log_den)) / t
    return value, psi.std(axis=0, ddof=1) / np.sqrt(N)


def _log_mean_exp_jackknife(a, t):
    r"""Jackknife of ``(1/t) log mean(exp(t a))`` over axis 0.

    :math:`nL - (n-1)\,\overline{L_{-i}}` with :math:`L_{-i}` the value without draw i removes
    the :math:`O(1/n)` bias (Nowozin 2018); it is ``mean(a)`` exactly at t = 0.  The leave-one-out
    means of :math:`e^{u}`, :math:`u = t(a - c)`, come from differences of sums when all
    :math:`|u| \le 1` (no cancellation, and accurate as t -> 0), else from prefix and suffix sums
    of positive terms.
    """
    n = a.shape[0]
    c = a.mean(axis=0)
    if t == 0.0:
        return c
    u = t * (a - c)
    if np.all(np.abs(u) <= 1.0):
        d = np.expm1(u) / t
        total = d.sum(axis=0)
        full = c + log1p_ratio(t, total / n)
        loo = c + log1p_ratio(t, (total - d) / (n - 1))
    else:
        top = u.max(axis=0)
        e = np.exp(u - top)
        zero = np.zeros((1,) + e.shape[1:])
        before = np.concatenate([zero, np.cumsum(e, axis=0)[:-1]])
        after = np.concatenate([np.cumsum(e[::-1], axis=0)[::-1][1:], zero])
        full = c + (top + np.log(e.sum(axis=0) / n)) / t
        loo = c + (top + np.log((before + after) / (n - 1))) / t
    return n * full - (n - 1) * loo.mean(axis=0)


def _chunks(N, width):
    """Chunk sizes summing to N with about ``_CHUNK_ELEMENTS`` floats of ``width`` per sample."""
    size = max(1, _CHUNK_ELEMENTS // max(1, width))
    return [min(size, N - i) for i in range(0, N, size)]


# ---- Gaussians through a triangular factor ----------------------------------------------------

class _Gaussian:
    r"""A zero-mean Gaussian given by a lower-triangular factor L of its covariance
    (``kind="cov"``, :math:`\Sigma = LL^T`) or of its precision (``kind="prec"``,
    :math:`\Sigma^{-1} = LL^T`), or by the standard deviations of a diagonal covariance
    (``kind="diag"``).  ``scale`` multiplies the covariance."""

    def __init__(self, factor, kind):
        self.factor, self.kind = factor, kind
        self.k = factor.shape[-1]
        logdet = (2.0 * np.sum(np.log(factor)) if kind == "diag" else logdet_chol(factor))
        self.logdet = -logdet if kind == "prec" else logdet          # log det of the covariance

    def sample(self, eps, scale=1.0):
        """Map standard normal rows ``eps`` (..., k) to draws of N(0, scale * Sigma)."""
        L = self.factor
        if self.kind == "diag":
            z = eps * L
        elif self.kind == "cov":
            z = eps @ L.T
        else:                                     # z = L^{-T} eps
            flat = eps.reshape(-1, self.k).T
            z = solve_triangular(L, flat, lower=True, trans="T").T.reshape(eps.shape)
        return z if scale == 1.0 else np.sqrt(scale) * z

    def logpdf(self, y, scale=1.0):
        """log N(y; 0, scale * Sigma) for rows ``y`` (..., k)."""
        L = self.factor
        if self.kind == "diag":
            e = y / L
        elif self.kind == "cov":
            flat = y.reshape(-1, self.k).T
            e = solve_triangular(L, flat, lower=True).T.reshape(y.shape)
        else:                                     # L^T y, as rows
            e = y @ L
        quad = np.sum(e * e, axis=-1) / scale
        return -0.5 * (self.k * (_LOG_2PI + np.log(scale)) + self.logdet + quad)


def _renyi_entropy(gauss, alpha, N, rng, mean=0.0):
    r"""H_alpha of N(mean, Sigma) by importance sampling (scheme in :func:`mc_renyi_entropy`)."""
    t = alpha - 1.0
    near_one = abs(t) < 0.5
    scale = max(1.0, 0.75 / alpha) if near_one else 0.75 / alpha
    a_parts, w_parts = [], []
    for m in _chunks(N, gauss.k):
        z = mean + gauss.sample(rng.standard_normal((m, gauss.k)), scale)
        y = z - mean                          # densities of N(mean, .) evaluated at z
        log_p = gauss.logpdf(y)
        log_r = log_p if scale == 1.0 else gauss.logpdf(y, scale)
        a_parts.append(log_p if near_one else alpha * log_p - log_r)
        w_parts.append(log_p - log_r)
    a = np.concatenate(a_parts)
    if near_one:        # self-normalised E_p[p^(alpha-1)], weights p/r (all 1 when r = p)
        value, se = _log_mean_exp(a, t, None if scale == 1.0 else np.concatenate(w_parts))
        return -value, se
    value, se = _log_mean_exp(a, 1.0)      # log of the integral of p^alpha, weights p^alpha/r
    return value / (1.0 - alpha), se / abs(1.0 - alpha)


# ---- the model and its data -------------------------------------------------------------------

class _Problem:
    """Validated model and data, with samplers and log-densities of the linear-Gaussian VAE."""

    def __init__(self, model, data):
        if not isinstance(model, LinearGaussianVAE):
            raise ValueError(f"`model` must be a gaussrelbo.LinearGaussianVAE, got "
                             f"{type(model).__name__}")
        if model.batch_shape != ():
            raise ValueError(f"`model` must be unbatched for Monte Carlo, got batch_shape "
                             f"{model.batch_shape}")
        self.model = m = model
        self.n, self.k = m.n, m.k
        self.sigma2 = float(m.sigma2)
        if not m.has_encoder:
            raise ValueError("`model` has no encoder (a decoder-only model), and the Monte Carlo "
                             "estimators sample from it: add one with model.with_encoder(V=..., "
                             "c=..., D=...) or gaussrelbo.optimal_encoder")
        self.q = (_Gaussian(np.sqrt(m.D), "diag") if m.diagonal
                  else _Gaussian(m._chol_D, "cov"))
        if isinstance(data, DataMoments):
            if data.batch_shape != ():
                raise ValueError(f"`data` must be unbatched moments for Monte Carlo, got "
                                 f"batch_shape {data.batch_shape}")
            if data.n != m.n:
                raise ValueError(f"`data` has dimension n={data.n} but the model has n={m.n}")
            self.moments, self.x, self.batch = data, None, ()
        else:
            x = as_float_array(data, "data")
            if x.ndim < 1 or x.shape[-1] != m.n:
                raise ValueError(f"`data` must be a DataMoments or an array of shape (..., n) "
                                 f"with n={m.n}, got {x.shape}")
            self.moments, self.x, self.batch = None, x, x.shape[:-1]
        self.size = int(np.prod(self.batch))

    @property
    def population(self):
        return self.moments is not None

    def chunks(self, N, inner=1):
        return _chunks(N, inner * self.size * max(self.n, self.k))

    def draw_x(self, rng, m):
        """Data of shape (m, *batch, n): sampled moments, or the points broadcast."""
        if self.x is not None:
            return np.broadcast_to(self.x, (m,) + self.x.shape)
        d = self.moments
        return d.mean + rng.standard_normal((m, self.n)) @ d.factor.T

    def draw_z(self, rng, x):
        """Reparameterised z ~ q(z|x) for each row of x; returns (z, encoder mean)."""
        mean = x @ self.model.V.T + self.model.c
        return mean + self.q.sample(rng.standard_normal(mean.shape)), mean

    def log_lik(self, x, z):
        m = self.model
        r = x - m.b - z @ m.W.T
        return -0.5 * (self.n * (_LOG_2PI + np.log(self.sigma2))
                       + np.sum(r * r, axis=-1) / self.sigma2)

    @staticmethod
    def log_prior(z):
        return -0.5 * (z.shape[-1] * _LOG_2PI + np.sum(z * z, axis=-1))

    def log_q(self, z, mean):
        return self.q.logpdf(z - mean)

    def samples(self, rng, N, fn):
        """``fn(x, z, encoder_mean)`` evaluated at N draws, concatenated: shape (N, *batch)."""
        parts = []
        for m in self.chunks(N):
            x = self.draw_x(rng, m)
            z, mean = self.draw_z(rng, x)
            parts.append(fn(x, z, mean))
        return np.concatenate(parts)

    def log_weight(self, x, z, mean):
        """log p(x, z) - log q(z|x)."""
        return self.log_lik(x, z) + self.log_prior(z) - self.log_q(z, mean)

    @property
    def posterior_precision(self):
        W = self.model.W
        return (W.T @ W) / self.sigma2 + np.eye(self.k)

    @property
    def posterior(self):
        r"""p(z|x) - m(x) as a :class:`_Gaussian` given by its precision
        :math:`(W^TW+\sigma^2I)/\sigma^2` (the posterior covariance does not depend on x)."""
        return _Gaussian(np.linalg.cholesky(self.posterior_precision), "prec")

    def check_weights(self, t, what, name):
        r"""Raise unless the weights :math:`(p(x,z)/q(z|x))^t`, :math:`z \sim q`, have finite
        variance.

        Up to a constant they are :math:`(p(z|x)/q(z|x))^t`, and for Gaussians
        :math:`\int p^g q^{1-g} < \infty` iff :math:`1 + g(\nu_i - 1) > 0` for every eigenvalue
        :math:`\nu_i` of :math:`L_D^TPL_D` (P the posterior precision): the ratios of encoder to
        posterior variance along the generalised eigendirections.  The variance needs
        :math:`g = 2t`, which implies the condition for the mean (:math:`g = t`).
        """
        m = self.model
        L = np.diag(np.sqrt(m.D)) if m.diagonal else m._chol_D
        nu = np.linalg.eigvalsh(L.T @ self.posterior_precision @ L)[[0, -1]]
        g = 2.0 * t
        if np.any(1.0 + g * (nu - 1.0) <= 0):
            raise ValueError(
                f"`{name}`: the importance weights {what} have infinite variance for this "
                f"encoder, so the Monte Carlo standard error would be meaningless: the ratios "
                f"of encoder to posterior variance span [{nu[0]:.4g}, {nu[1]:.4g}] and must "
                f"satisfy 1 + {g:.4g} (ratio - 1) > 0")


# ---- public estimators ------------------------------------------------------------------------

_PARAMS = """
    Parameters
    ----------
    model : LinearGaussianVAE
        Unbatched.
    data : DataMoments or array_like, shape (..., n)
        Population moments (unbatched), or data points."""

_COMMON_PARAMS = """
    n_samples : int
        Number of Monte Carlo draws (>= 2); for data moments, one z per sampled x.
    random_state : None, int or numpy.random.Generator
        Seed or generator; the same seed gives the same estimate."""

_RETURNS = """

    Returns
    -------
    MCEstimate
        Estimate and standard error, numpy scalars for moments or a single point, arrays of shape
        ``x.shape[:-1]`` for a batch of points."""


def _doc(before="", after=""):
    """Fill ``{params}`` in a docstring: model, data, ``before``, n_samples, random_state,
    ``after``, and the Returns section."""
    def deco(fn):
        params = (_PARAMS + before + _COMMON_PARAMS + after + _RETURNS).lstrip("\n")
        fn.__doc__ = fn.__doc__.replace("    {params}", params)
        return fn
    return deco


@_doc()
def mc_distortion(model, data, n_samples=100_000, random_state=None):
    r"""Monte Carlo distortion :math:`-E\log p(x|z)`, :math:`z \sim q(z|x)` (nats).

    {params}

    Notes
    -----
    A plain average of :math:`-\log\mathcal N(x; Wz+b, \sigma^2I)`; s.e. ``std / sqrt(N)``.

    Examples
    --------
    >>> import gaussrelbo as gr
    >>> m, data, _ = gr.report.default_problem()
    >>> e = gr.montecarlo.mc_distortion(m, data, 200_000, random_state=0)
    >>> bool(abs(e.estimate - gr.distortion(m, data)) < 5 * e.stderr)
    True
    """
    p, rng, N = _Problem(model, data), _rng(random_state), _check_n(n_samples)
    return _out(*_mean(p.samples(rng, N, lambda x, z, mean: -p.log_lik(x, z))), N)


@_doc()
def mc_rate(model, data, n_samples=100_000, random_state=None):
    r"""Monte Carlo rate :math:`E[\log q(z|x) - \log p(z)]`, :math:`z \sim q(z|x)` (nats).

    {params}

    Notes
    -----
    A plain average (the KL divergence is not used in closed form); s.e. ``std / sqrt(N)``.

    Examples
    --------
    >>> import numpy as np, gaussrelbo as gr
    >>> m, _, _ = gr.report.default_problem()
    >>> x = np.zeros((3, m.n))                     # a batch of three points
    >>> e = gr.montecarlo.mc_rate(m, x, 50_000, random_state=1)
    >>> e.estimate.shape, e.n_samples
    ((3,), 50000)
    >>> bool(np.all(np.abs(e.z_score(gr.rate(m, x))) < 5))
    True
    """
    p, rng, N = _Problem(model, data), _rng(random_state), _check_n(n_samples)
    return _out(*_mean(p.samples(rng, N, lambda x, z, mean: p.log_q(z, mean) - p.log_prior(z))),
                N)


@_doc()
def mc_elbo(model, data, n_samples=100_000, random_state=None):
    r"""Monte Carlo ELBO :math:`E_q[\log p(x,z) - \log q(z|x)]` (nats).

    {params}

    Notes
    -----
    A plain average; s.e. ``std / sqrt(N)``.  Same draws as :func:`mc_beta_elbo` with
    ``beta=1``.
    """
    return mc_beta_elbo(model, data, 1.0, n_samples, random_state)


@_doc("""
    beta : float
        Weight of the rate, positive.""")
def mc_beta_elbo(model, data, beta, n_samples=100_000, random_state=None):
    r"""Monte Carlo beta-ELBO :math:`E_q[\log p(x|z) - \beta(\log q(z|x) - \log p(z))]` (nats).

    {params}

    Notes
    -----
    A plain average; s.e. ``std / sqrt(N)``.
    """
    beta = _scalar(check_beta(beta), "beta")
    p, rng, N = _Problem(model, data), _rng(random_state), _check_n(n_samples)
    return _out(*_mean(p.samples(rng, N, lambda x, z, mean: p.log_lik(x, z) - beta * (
        p.log_q(z, mean) - p.log_prior(z)))), N)


def mc_renyi_entropy(mean, cov, alpha, n_samples=100_000, random_state=None):
    r"""Monte Carlo Renyi entropy of order :math:`\alpha` of :math:`\mathcal N(\text{mean},
    \text{cov})` (nats).

    Parameters
    ----------
    mean : array_like, shape (k,)
        Mean of the Gaussian (unbatched).
    cov : array_like, shape (k, k)
        Symmetric positive definite.
    alpha : float
        Order, positive.  ``alpha = 1`` gives the Shannon entropy :math:`-E_p\log p`.
    n_samples : int
        Number of draws (>= 2).
    random_state : None, int or numpy.random.Generator
        Seed or generator; the same seed gives the same estimate.

    Returns
    -------
    MCEstimate
        Numpy scalars.

    Notes
    -----
    Draws :math:`z_i` come from a proposal :math:`r = \mathcal N(\text{mean}, \tau\,\text{cov})`
    and :math:`\log p` is evaluated at them (no closed form of the entropy enters):

    * :math:`|\alpha - 1| < 1/2`: :math:`H_\alpha = \frac{1}{1-\alpha}\log E_p[p^{\alpha-1}]`,
      the expectation by self-normalised importance sampling with weights :math:`w = p/r`,
      :math:`\tau = \max(1, 3/(4\alpha))`.  For :math:`\alpha \ge 3/4`, :math:`r = p` and this is
      the log-mean-exp of :math:`(\alpha-1)\log p(z_i)`; it tends continuously to the plain
      average of :math:`-\log p(z_i)` as :math:`\alpha \to 1` (exactly that at 1).
    * otherwise: :math:`H_\alpha = \frac{1}{1-\alpha}\log\int p^\alpha`, the integral by
      importance sampling, :math:`\overline{p^\alpha/r}`, with :math:`\tau = 3/(4\alpha)`
      (there :math:`|1-\alpha| \ge 1/2` keeps the division by :math:`1-\alpha` harmless).

    Sampling p itself would give weights :math:`p^{\alpha-1}` of infinite variance for
    :math:`\alpha \le 1/2` and of relative variance :math:`(\alpha/\sqrt{2\alpha-1})^k - 1`
    otherwise, huge for large :math:`\alpha` or k.  With these proposals the weights'
    relative variance stays moderate (:math:`1.06^k - 1` for the second branch, whatever
    :math:`\alpha`).  The standard error is the delta method's; the estimate is biased by
    :math:`O(1/N)`, below the standard error at the sample sizes used.

    Examples
    --------
    >>> import numpy as np, gaussrelbo as gr
    >>> cov = np.array([[2.0, 0.3], [0.3, 0.5]])
    >>> e = gr.montecarlo.mc_renyi_entropy(np.zeros(2), cov, 2.0, 100_000, random_state=0)
    >>> bool(abs(e.z_score(gr.renyi_entropy(cov, 2.0))) < 5), bool(e.stderr < 0.01)
    (True, True)
    """
    alpha = _scalar(check_alpha(alpha), "alpha")
    mean = check_shape(as_float_array(mean, "mean"), "mean", (None,), "(k,)")
    k = mean.shape[-1]
    cov = check_shape(as_float_array(cov, "cov"), "cov", (k, k), f"(k, k) with k={k}")
    if mean.ndim != 1 or cov.ndim != 2:
        raise ValueError(f"`mean` and `cov` must be unbatched for Monte Carlo, got shapes "
                         f"{mean.shape} and {cov.shape}")
    _, chol = check_spd(cov, "cov")
    N, rng = _check_n(n_samples), _rng(random_state)
    return _out(*_renyi_entropy(_Gaussian(chol, "cov"), alpha, N, rng, mean), N)


@_doc("""
    alpha : float
        Renyi order, positive.""")
def mc_renyi_term(model, data, alpha, n_samples=100_000, random_state=None):
    r"""Monte Carlo Renyi term :math:`H(q(z|x)) - H_\alpha(p(z|x))` (nats).

    {params}

    Notes
    -----
    :math:`H(q)` is the plain average of :math:`-\log q(z|x)` at draws :math:`z \sim q(z|x)`
    (per point, or over sampled x); :math:`H_\alpha(p(z|x))` is estimated from ``n_samples``
    draws as in :func:`mc_renyi_entropy`.  The posterior
    covariance :math:`\sigma^2(W^TW+\sigma^2I)^{-1}` does not depend on x, so one posterior
    estimate serves every point of a batch.  The two parts are independent; their standard
    errors add in quadrature.
    """
    alpha = _scalar(check_alpha(alpha), "alpha")
    p, rng, N = _Problem(model, data), _rng(random_state), _check_n(n_samples)
    hq, hq_se = _mean(p.samples(rng, N, lambda x, z, mean: -p.log_q(z, mean)))
    hp, hp_se = _renyi_entropy(p.posterior, alpha, N, rng)
    return _out(hq - hp, np.hypot(hq_se, hp_se), N)


@_doc("""
    alpha : float
        Renyi order, positive.""")
def mc_relbo(model, data, alpha, n_samples=100_000, random_state=None):
    r"""Monte Carlo RELBO of order :math:`\alpha` (nats).

    {params}

    Notes
    -----
    From the definition (Theory §3), rearranged so that the encoder's entropy is sampled with the
    joint:

    .. math:: \mathrm{RELBO}_\alpha = E_q\Big[\log p(x,z) - \tfrac1\alpha\log q(z|x)\Big]
              - \frac{1-\alpha}{\alpha}\,H_\alpha(p(z|x)).

    The first part is a plain average over :math:`z \sim q(z|x)`; the Renyi entropy of the
    posterior is estimated from ``n_samples`` further draws of the posterior (precision
    :math:`(W^TW+\sigma^2I)/\sigma^2`) as in :func:`mc_renyi_entropy` -- an independent route:
    no closed form of :math:`H_\alpha` enters.  Standard errors add in quadrature.  At
    ``alpha = 1`` the second part vanishes exactly and the draws are those of :func:`mc_elbo`.

    Examples
    --------
    >>> import gaussrelbo as gr
    >>> m, data, _ = gr.report.default_problem()
    >>> e = gr.montecarlo.mc_relbo(m, data, 0.5, 100_000, random_state=2)
    >>> bool(abs(e.z_score(gr.relbo(m, data, 0.5))) < 5)
    True
    """
    alpha = _scalar(check_alpha(alpha), "alpha")
    p, rng, N = _Problem(model, data), _rng(random_state), _check_n(n_samples)
    main, main_se = _mean(p.samples(rng, N, lambda x, z, mean: p.log_lik(x, z) + p.log_prior(z)
                                    - p.log_q(z, mean) / alpha))
    if alpha == 1.0:
        return _out(main, main_se, N)
    weight = (1.0 - alpha) / alpha
    hp, hp_se = _renyi_entropy(p.posterior, alpha, N, rng)
    return _out(main - weight * hp, np.hypot(main_se, abs(weight) * hp_se), N)


@_doc()
def mc_log_evidence(model, data, n_samples=100_000, random_state=None):
    r"""Monte Carlo log-evidence :math:`\log p(x)` (nats).

    {params}

    Notes
    -----
    * Data moments: the plain average of the exact log-density of the marginal
      :math:`\mathcal N(b, WW^T+\sigma^2I)` (``scipy.stats.multivariate_normal.logpdf``) at the
      sampled x; s.e. ``std / sqrt(N)``.
    * Data points: importance sampling with the encoder as proposal,
      :math:`\log\frac1N\sum_i p(x,z_i)/q(z_i|x)`, :math:`z_i \sim q(z|x)`, with the delta-method
      standard error; biased low by :math:`O(1/N)`, below the standard error for the sample sizes
      used.  Raises ``ValueError`` if the weights have infinite variance (an encoder narrower
      than half the posterior in some direction: :math:`2\Sigma_{post}^{-1} - D^{-1}` not
      positive definite), as happens to the ELBO-optimal diagonal encoder of a strongly
      correlated posterior.

    Examples
    --------
    >>> import numpy as np, gaussrelbo as gr
    >>> m, _, _ = gr.report.default_problem()
    >>> m = gr.optimal_encoder(m, "relbo", alpha=0.5, diagonal=False)  # twice the posterior
    >>> x = np.linspace(-1.0, 1.0, m.n)
    >>> e = gr.montecarlo.mc_log_evidence(m, x, 100_000, random_state=3)
    >>> bool(abs(e.z_score(gr.log_evidence(m, x))) < 5)
    True
    """
    p, rng, N = _Problem(model, data), _rng(random_state), _check_n(n_samples)
    if p.population:
        from scipy.stats import multivariate_normal     # scipy.stats takes ~0.5 s to import

        m = p.model
        marginal = multivariate_normal(m.b, m.W @ m.W.T + p.sigma2 * np.eye(p.n))
        values = np.concatenate([np.atleast_1d(marginal.logpdf(p.draw_x(rng, c)))
                                 for c in p.chunks(N)])
        return _out(*_mean(values), N)
    p.check_weights(1.0, "p(x,z)/q(z|x)", "model")
    return _out(*_log_mean_exp(p.samples(rng, N, p.log_weight), 1.0), N)


@_doc("""
    alpha : float
        Order of the Renyi divergence (Li & Turner's, not the RELBO's): any finite real.
        ``alpha = 0`` gives importance-sampled :math:`\\log p(x)`, ``alpha = 1`` the ELBO.""", """
    n_inner : int
        Data moments only: draws of z per sampled x (>= 2); ``n_samples // n_inner`` points x
        are drawn.""")
def mc_vr_bound(model, data, alpha, n_samples=100_000, random_state=None, n_inner=100):
    r"""Monte Carlo variational Renyi bound of Li & Turner (nats).

    {params}

    Notes
    -----
    .. math:: \mathcal L_{VR,\alpha}(x) = \frac{1}{1-\alpha}\log E_q\Big[\Big(\frac{p(x,z)}
              {q(z|x)}\Big)^{1-\alpha}\Big],

    estimated per point by the log-mean-exp of :math:`(1-\alpha)\log(p(x,z_i)/q(z_i|x))` divided
    by :math:`1-\alpha`, with the delta-method standard error (computed without cancellation as
    :math:`\alpha \to 1`, where it becomes the plain average of the ELBO terms).  Biased by
    :math:`O(1/N)`, below the standard error for the sample sizes used.

    Data moments (``alpha != 1``): the average over ``n_samples // n_inner`` sampled x of
    per-point estimates, each from ``n_inner`` draws of z and jackknifed (Nowozin 2018) to remove
    the :math:`O(1/n_{inner})` bias, which would not average out over x; s.e.
    ``std / sqrt(n_points)``.  The remaining bias is small when the weights' relative variance is
    moderate for typical x, i.e. when the encoder mean :math:`Vx + c` tracks the posterior mean
    :math:`m(x)` over the data.  With a poorly matched encoder mean the weights are heavy-tailed
    for atypical x and the nested estimate is biased (low for :math:`\alpha < 1`) by more than its
    standard error: increase ``n_inner`` until the estimate is stable.

    Raises ``ValueError`` where the weights have infinite variance (including where the bound
    itself is infinite: the closed form's :math:`\pm\infty`).

    References
    ----------
    Y. Li and R. E. Turner, "Renyi divergence variational inference", NeurIPS 2016, eq. (5).
    S. Nowozin, "Debiasing evidence approximations: on importance-weighted autoencoders and
    jackknife variational inference", ICLR 2018.
    """
    alpha = _scalar(as_float_array(alpha, "alpha"), "alpha")
    p, rng, N = _Problem(model, data), _rng(random_state), _check_n(n_samples)
    t = 1.0 - alpha
    p.check_weights(t, f"(p(x,z)/q(z|x))^(1 - alpha) at alpha={alpha:g}", "alpha")
    inner = _check_n(n_inner, "n_inner")
    if not p.population or t == 0.0:      # at alpha = 1 no log is taken: nothing to nest
        return _out(*_log_mean_exp(p.samples(rng, N, p.log_weight), t), N)
    outer = N // inner
    if outer < 2:
        raise ValueError(f"`n_samples` must be at least 2 * n_inner = {2 * inner} for data "
                         f"moments, got {N}")
    per_point = []
    for c in p.chunks(outer, inner):
        x = np.broadcast_to(p.draw_x(rng, c), (inner, c, p.n))
        z, mean = p.draw_z(rng, x)
        per_point.append(_log_mean_exp_jackknife(p.log_weight(x, z, mean), t))
    return _out(*_mean(np.concatenate(per_point)), outer * inner)
