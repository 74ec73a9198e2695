r"""Seeded Monte Carlo estimators of every objective: the independent route the closed forms are
tested against.

Each estimator returns an :class:`MCEstimate` (estimate, standard error, sample count).  Sampling
is reparameterised: :math:`z = Vx + c + L_D\varepsilon` with :math:`L_DL_D^T = D`; with a
:class:`~gaussrelbo.DataMoments` the data are drawn as :math:`x = \mu_D + L_S\eta` (Gaussian data
with the given moments -- every objective depends on the data only through its first two
moments), one z per x.  Plain averages have standard error ``std / sqrt(N)``; log-mean-exp
estimators (:func:`mc_log_evidence` of a single point, :func:`mc_vr_bound`,
:func:`mc_renyi_entropy`) use the delta method, and their O(1/N) bias is far below the standard
error at the sample sizes used.

The RELBO is estimated from its definition, :math:`E_q[\log p(x,z) - \log q(z|x)/\alpha] -
\tfrac{1-\alpha}{\alpha}H_\alpha(p(z|x))`, with the Renyi entropy of the posterior itself
estimated by sampling the posterior (:func:`mc_renyi_entropy`), so no closed form enters.

Models must be unbatched; a data point ``x`` has shape (n,).
"""

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from ._validation import as_float_array, check_alpha, check_beta
from .model import DataMoments, LinearGaussianVAE

__all__ = ["MCEstimate", "mc_beta_elbo", "mc_distortion", "mc_elbo", "mc_log_evidence",
           "mc_rate", "mc_relbo", "mc_renyi_entropy", "mc_renyi_term", "mc_vr_bound"]

_LOG_2PI = np.log(2.0 * np.pi)


@dataclass(frozen=True)
class MCEstimate:
    """A Monte Carlo estimate with its standard error."""

    estimate: float
    stderr: float
    n_samples: int


def _n(n_samples):
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) \
            or n_samples < 2:
        raise ValueError(f"`n_samples` must be an integer >= 2, got {n_samples!r}")
    return int(n_samples)


def _mean(values):
    v = np.asarray(values, float)
    return MCEstimate(float(v.mean()), float(v.std(ddof=1) / np.sqrt(v.size)), v.size)


def _logmeanexp(a):
    """log mean exp(a) and its delta-method standard error."""
    a = np.asarray(a, float)
    m = logsumexp(a) - np.log(a.size)
    w = np.exp(a - m)                      # ratios to the mean; their mean is 1
    return float(m), float(w.std(ddof=1) / np.sqrt(a.size))


def _gauss_logpdf(z, mean, chol):
    """log N(z; mean, L L^T) for rows of z."""
    k = z.shape[-1]
    e = np.linalg.solve(chol, (z - mean).T).T if chol.ndim == 2 else (z - mean) / chol
    return -0.5 * (k * _LOG_2PI + np.sum(e * e, axis=-1)) - np.sum(np.log(
        np.diag(chol) if chol.ndim == 2 else chol))


class _Setup:
    def __init__(self, model, data, random_state):
        if not isinstance(model, LinearGaussianVAE) or model.batch_shape != ():
            raise ValueError("`model` must be an unbatched gaussrelbo.LinearGaussianVAE")
        self.m = model
        self.rng = np.random.default_rng(random_state)
        n, k = model.n, model.k
        self.chol_D = (np.sqrt(model.D) if model.diagonal else np.linalg.cholesky(model.D))
        if isinstance(data, DataMoments):
            if data.batch_shape != () or data.n != n:
                raise ValueError(f"`data` must be unbatched moments of dimension n={n}")
            self.point = None
            self.data = data
        else:
            x = as_float_array(data, "x")
            if x.shape != (n,):
                raise ValueError(f"`x` must have shape ({n},), got {x.shape}")
            self.point = x
        M = model.W.T @ model.W + model.sigma2 * np.eye(k)
        self.chol_post = np.linalg.cholesky(model.sigma2 * np.linalg.inv(M))   # test route

    def xs(self, N):
        if self.point is not None:
            return np.broadcast_to(self.point, (N, self.m.n))
        eta = self.rng.standard_normal((N, self.m.n))
        return self.data.mean + eta @ self.data.factor.T

    def zs(self, x):
        m = self.m
        mean = x @ m.V.T + m.c
        eps = self.rng.standard_normal(mean.shape)
        z = mean + (eps * self.chol_D if m.diagonal else eps @ self.chol_D.T)
        return z, mean

    def log_lik(self, x, z):
        m = self.m
        r = x - m.b - z @ m.W.T
        return -0.5 * (m.n * (_LOG_2PI + np.log(m.sigma2)) + np.sum(r * r, axis=-1) / m.sigma2)

    def log_prior(self, z):
        return -0.5 * (z.shape[-1] * _LOG_2PI + np.sum(z * z, axis=-1))

    def log_q(self, z, mean):
        return _gauss_logpdf(z, mean, self.chol_D)

    def post_mean(self, x):
        m = self.m
        M = m.W.T @ m.W + m.sigma2 * np.eye(m.k)
        return np.linalg.solve(M, m.W.T @ (x - m.b).T).T


def mc_distortion(model, data, n_samples=100_000, random_state=None):
    r"""Monte Carlo :math:`-E\log p(x|z)` (nats).

    Examples
    --------
    >>> import gaussrelbo as gr
    >>> m, data, _ = gr.report.default_problem()
    >>> e = gr.montecarlo.mc_distortion(m, data, 200_000, random_state=0)
    >>> bool(abs(e.estimate - gr.distortion(m, data)) < 5 * e.stderr)
    True
    """
    s = _Setup(model, data, random_state)
    x = s.xs(_n(n_samples))
    z, _ = s.zs(x)
    return _mean(-s.log_lik(x, z))


def mc_rate(model, data, n_samples=100_000, random_state=None):
    r"""Monte Carlo :math:`E[\log q(z|x) - \log p(z)]`, the rate (nats)."""
    s = _Setup(model, data, random_state)
    x = s.xs(_n(n_samples))
    z, mean = s.zs(x)
    return _mean(s.log_q(z, mean) - s.log_prior(z))


def mc_elbo(model, data, n_samples=100_000, random_state=None):
    r"""Monte Carlo ELBO :math:`E_q[\log p(x,z) - \log q(z|x)]`."""
    return mc_beta_elbo(model, data, 1.0, n_samples, random_state)


def mc_beta_elbo(model, data, beta, n_samples=100_000, random_state=None):
    r"""Monte Carlo beta-ELBO :math:`E_q[\log p(x|z) - \beta(\log q(z|x) - \log p(z))]`."""
    beta = float(check_beta(beta))
    s = _Setup(model, data, random_state)
    x = s.xs(_n(n_samples))
    z, mean = s.zs(x)
    return _mean(s.log_lik(x, z) - beta * (s.log_q(z, mean) - s.log_prior(z)))


def mc_renyi_entropy(mean, cov, alpha, n_samples=100_000, random_state=None):
    r"""Monte Carlo Renyi entropy :math:`\frac{1}{1-\alpha}\log E_p[p(z)^{\alpha-1}]` of
    :math:`N(\text{mean}, \text{cov})`; ``alpha = 1`` gives :math:`-E_p\log p`."""
    alpha = float(check_alpha(alpha))
    mean = as_float_array(mean, "mean")
    cov = as_float_array(cov, "cov")
    if mean.ndim != 1 or cov.shape != (mean.size, mean.size):
        raise ValueError(f"`mean` (k,) and `cov` (k, k) expected, got {mean.shape}, {cov.shape}")
    try:
        chol = np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        raise ValueError("`cov` must be symmetric positive definite") from None
    rng = np.random.default_rng(random_state)
    N = _n(n_samples)
    z = mean + rng.standard_normal((N, mean.size)) @ chol.T
    logp = _gauss_logpdf(z, mean, chol)
    if alpha == 1.0:
        return _mean(-logp)
    lme, se = _logmeanexp((alpha - 1.0) * logp)
    return MCEstimate(lme / (1.0 - alpha), se / abs(1.0 - alpha), N)


def _posterior_renyi(s, alpha, n_samples):
    k = s.m.k
    return mc_renyi_entropy(np.zeros(k), s.chol_post @ s.chol_post.T, alpha, n_samples, s.rng)


def mc_renyi_term(model, data, alpha, n_samples=100_000, random_state=None):
    r"""Monte Carlo Renyi term :math:`H(q) - H_\alpha(p(z|x))` (both entropies sampled; they do
    not depend on x, so a single x is used)."""
    alpha = float(check_alpha(alpha))
    s = _Setup(model, data, random_state)
    N = _n(n_samples)
    x = s.xs(1)
    z, mean = s.zs(np.broadcast_to(x, (N, s.m.n)))
    hq = _mean(-s.log_q(z, mean))
    hp = _posterior_renyi(s, alpha, N)
    return MCEstimate(hq.estimate - hp.estimate, float(np.hypot(hq.stderr, hp.stderr)), N)


def mc_relbo(model, data, alpha, n_samples=100_000, random_state=None):
    r"""Monte Carlo RELBO :math:`E_q[\log p(x,z) - \log q(z|x)/\alpha] -
    \frac{1-\alpha}{\alpha}H_\alpha(p(z|x))` (posterior Renyi entropy sampled too)."""
    alpha = float(check_alpha(alpha))
    s = _Setup(model, data, random_state)
    N = _n(n_samples)
    x = s.xs(N)
    z, mean = s.zs(x)
    main = _mean(s.log_lik(x, z) + s.log_prior(z) - s.log_q(z, mean) / alpha)
    if alpha == 1.0:
        return main
    hp = _posterior_renyi(s, alpha, N)
    w = (1.0 - alpha) / alpha
    return MCEstimate(main.estimate - w * hp.estimate, float(np.hypot(main.stderr,
                                                                      w * hp.stderr)), N)


def mc_log_evidence(model, data, n_samples=100_000, random_state=None):
    r"""Monte Carlo :math:`\log p(x)`.

    For a point x: importance sampling with the encoder as proposal,
    :math:`\log \frac1N\sum p(x,z_i)/q(z_i|x)` (delta-method s.e.).  For data moments: the
    average over sampled x of :math:`\log p(x)` evaluated by importance sampling with the exact
    posterior as proposal (then every weight equals p(x): zero-variance in z), i.e. the data
    average of :math:`\log p(x,z) - \log p(z|x)` at one posterior draw z.
    """
    s = _Setup(model, data, random_state)
    N = _n(n_samples)
    if s.point is not None:
        x = s.xs(N)
        z, mean = s.zs(x)
        lme, se = _logmeanexp(s.log_lik(x, z) + s.log_prior(z) - s.log_q(z, mean))
        return MCEstimate(lme, se, N)
    x = s.xs(N)
    pm = s.post_mean(x)
    z = pm + s.rng.standard_normal(pm.shape) @ s.chol_post.T
    return _mean(s.log_lik(x, z) + s.log_prior(z) - _gauss_logpdf(z, pm, s.chol_post))


def mc_vr_bound(model, data, alpha, n_samples=100_000, random_state=None, n_inner=1000):
    r"""Monte Carlo VR bound :math:`\frac{1}{1-\alpha}\log E_q[(p(x,z)/q)^{1-\alpha}]` (Li &
    Turner); for a point x by log-mean-exp (delta-method s.e.), for data moments the data average
    of per-point log-mean-exp estimates with ``n_inner`` z per x (bias O(1/n_inner) per point:
    keep n_inner large).  ``alpha = 1`` is the ELBO."""
    alpha = float(np.asarray(as_float_array(alpha, "alpha")))
    if alpha == 1.0:
        return mc_elbo(model, data, n_samples, random_state)
    s = _Setup(model, data, random_state)
    N = _n(n_samples)
    if s.point is not None:
        x = s.xs(N)
        z, mean = s.zs(x)
        lme, se = _logmeanexp((1.0 - alpha) * (s.log_lik(x, z) + s.log_prior(z)
                                               - s.log_q(z, mean)))
        return MCEstimate(lme / (1.0 - alpha), se / abs(1.0 - alpha), N)
    inner = _n(n_inner)
    outer = max(2, N // inner)
    x = np.repeat(s.xs(outer), inner, axis=0)
    z, mean = s.zs(x)
    a = ((1.0 - alpha) * (s.log_lik(x, z) + s.log_prior(z) - s.log_q(z, mean))).reshape(
        outer, inner)
    per = (logsumexp(a, axis=1) - np.log(inner)) / (1.0 - alpha)
    est = _mean(per)
    return MCEstimate(est.estimate, est.stderr, outer * inner)
