r"""Rate and distortion at a stationary point with the optimal encoder, in closed form.

At a point made of clusters (:mod:`._clusters`; an orthogonal column is a cluster with
:math:`c = r = 1`, :math:`\mu = m = \lambda_j`) and zero columns, in the eigenbasis
:math:`S = \mathrm{diag}(\lambda)`, with :math:`t = \gamma\sigma^2` and the optimal encoder
:math:`V = M^{-1}W^T`, :math:`D_{ii} = d_0/M_{ii}` (:math:`d_0 = \sigma^2/\alpha` for the RELBO,
the ELBO and the log-likelihood with :math:`\alpha = 1`; :math:`d_0 = \beta\sigma^2` for the
beta-ELBO; Lucas et al. 2019 for the ELBO case):

* a cluster block of W is :math:`\mathrm{diag}(s)G_r^T` with :math:`M = G\,\mathrm{diag}(\mu, t,
  \dots)G^T`, so :math:`VSV^T` has trace :math:`\sum_i(\mu_i - t)\lambda_i/\mu_i^2`, and
  :math:`WV = WM^{-1}W^T` is diagonal with entries :math:`(\mu_i - t)/\mu_i` on the cluster's
  rows;
* every column of a cluster has :math:`M_{ii} = m`; a zero column has :math:`M_{ii} = t`.

Hence

.. math::
    \mathrm{Rate} = \tfrac12\Big[\sum_{\text{columns}}\Big(\frac{d_0}{M_{ii}}
        - \log\frac{d_0}{M_{ii}}\Big) + \sum_{\text{used }i}\frac{(\mu_i - t)\lambda_i}{\mu_i^2}
        - k\Big],

.. math::
    \mathrm{Dist} = \tfrac n2\log(2\pi\sigma^2) + \frac{1}{2\sigma^2}\Big[
        \sum_{\text{used }i}\frac{\lambda_i t^2}{\mu_i^2} + \sum_{\text{unused }q}\lambda_q
        + \sum_{\text{clusters}}\frac{d_0}{m}\sum_i(\mu_i - t)\Big]

(:math:`\mathrm{Rate} = E\,\mathrm{KL}(q(z|x)\|p(z))`, :math:`\mathrm{Dist} = -E_q\log p(x|z)`
as in :func:`gaussrelbo.rate` and :func:`gaussrelbo.distortion`, which are the test reference).
"""

import numpy as np

from ._problem import _LOG_2PI


def _d0(sp, s2):
    """Numerator of the optimal diagonal encoder variances, D_ii = d0 / M_ii."""
    return sp.gamma * s2 if sp.objective == "beta_elbo" else s2 / sp.alpha


def cluster_terms(sp, clusters, s2):
    """(rate part, distortion part, eigenvalue sum, columns) of multi-column clusters at s2."""
    t, d0 = sp.gamma * s2, _d0(sp, s2)
    A = B = lam_used = 0.0
    cols = 0
    for cl in clusters:
        mu = np.asarray(cl.mu)
        lamJ = sp.lam[list(cl.J)]
        A += cl.c * (d0 / cl.m - np.log(d0 / cl.m)) + np.sum((mu - t) * lamJ / mu**2)
        B += np.sum(lamJ * t * t / mu**2) + (d0 / cl.m) * np.sum(mu - t)
        lam_used += float(np.sum(lamJ))
        cols += cl.c
    return float(A), float(B), lam_used, cols


def rate_distortion(sp, s2, terms, sizes, pidx, rows):
    """Rate and distortion (N,) of N points: noise ``s2`` (N,), the family terms of
    :func:`cluster_terms` per point (``terms``, 4 arrays (N,)), and orthogonal columns on
    ``rows`` belonging to points ``pidx`` (``sizes`` (N,) of them per point)."""
    A, B, lam_used, cols = terms
    N = s2.size
    t, d0 = sp.gamma * s2, _d0(sp, s2)
    lr, tt, dd = sp.lam[rows], t[pidx], d0[pidx]
    a = dd / lr - np.log(dd / lr) + (lr - tt) / lr
    b = tt * tt / lr + (dd / lr) * (lr - tt)
    A = A + np.bincount(pidx, a, N)
    B = B + np.bincount(pidx, b, N)
    lam_used = lam_used + np.bincount(pidx, lr, N)
    nz = sp.k - cols - sizes
    R = 0.5 * (A + nz * (d0 / t - np.log(d0 / t)) - sp.k)
    D = 0.5 * sp.n * (_LOG_2PI + np.log(s2)) + (sp.total - lam_used + B) / (2.0 * s2)
    return R, D
