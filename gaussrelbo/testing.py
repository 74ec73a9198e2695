r"""High-precision reference values (mpmath) for the tests and the benchmarks.

Every function here evaluates a closed form of DESIGN §2–§5 and §11 at ``dps`` decimal digits
(default 50) from the definitions written directly with mpmath matrices -- determinants,
inverses and all -- never through the package's SVD route, so it is an independent check of
:mod:`gaussrelbo.objectives`.  Inputs are numpy arrays or floats, converted exactly (a binary
float is an exact rational); results are ``mpmath.mpf``.  Population values only; models are
unbatched; ``D`` is a diagonal vector or a full matrix.

Examples
--------
>>> from gaussrelbo import testing
>>> float(testing.ell(1.0 + 1e-12))
0.9999999999995
"""

import mpmath
import numpy as np

__all__ = ["beta_elbo", "distortion", "ell", "elbo", "log_evidence", "rate", "relbo",
           "renyi_entropy", "vr_bound"]


def _mp(x):
    return mpmath.mpf(float(x))


def _mat(a):
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 1:
        return mpmath.matrix([_mp(v) for v in a])
    return mpmath.matrix([[_mp(v) for v in row] for row in a])


def _dmat(D, k):
    D = np.asarray(D, dtype=np.float64)
    return mpmath.diag([_mp(v) for v in D]) if D.ndim == 1 else _mat(D)


def _tr(A):
    return mpmath.fsum(A[i, i] for i in range(A.rows))


def _dot(a, b):
    return mpmath.fsum(a[i] * b[i] for i in range(a.rows))


def ell(alpha, dps=50):
    r""":math:`\log(\alpha)/(\alpha-1)`, 1 at :math:`\alpha = 1`."""
    with mpmath.workdps(dps):
        a = _mp(alpha)
        return mpmath.mpf(1) if a == 1 else mpmath.log(a) / (a - 1)


def renyi_entropy(cov, alpha, dps=50):
    r""":math:`\tfrac12\log\det(2\pi\Sigma) + \tfrac k2\ell(\alpha)` (Shannon at alpha = 1)."""
    with mpmath.workdps(dps):
        S = _mat(np.atleast_2d(cov))
        k = S.rows
        return (k * mpmath.log(2 * mpmath.pi) + mpmath.log(mpmath.det(S))) / 2 \
            + k * ell(alpha, dps) / 2


class _Pop:
    def __init__(self, W, b, sigma2, V, c, D, mean, cov):
        W = np.atleast_2d(np.asarray(W, float))
        self.n, self.k = W.shape
        self.W, self.b, self.s2 = _mat(W), _mat(b), _mp(sigma2)
        self.V, self.c = _mat(np.atleast_2d(V)), _mat(c)
        self.D = _dmat(D, self.k)
        self.mu, self.S = _mat(mean), _mat(np.atleast_2d(cov))
        n, k = self.n, self.k
        self.M = self.W.T * self.W + self.s2 * mpmath.eye(k)
        self.C = self.W * self.W.T + self.s2 * mpmath.eye(n)
        self.A = mpmath.eye(n) - self.W * self.V

    def dist(self):
        n = self.n
        rbar = self.A * self.mu - self.W * self.c - self.b
        q = _tr(self.A * self.S * self.A.T) + _dot(rbar, rbar) + _tr(self.W * self.D * self.W.T)
        return n * mpmath.log(2 * mpmath.pi * self.s2) / 2 + q / (2 * self.s2)

    def rate(self):
        m = self.V * self.mu + self.c
        return (_tr(self.D) + _tr(self.V * self.S * self.V.T) + _dot(m, m) - self.k
                - mpmath.log(mpmath.det(self.D))) / 2

    def loglik(self):
        d = self.mu - self.b
        Ci = mpmath.inverse(self.C)
        return -(self.n * mpmath.log(2 * mpmath.pi) + mpmath.log(mpmath.det(self.C))
                 + _tr(Ci * self.S) + _dot(d, Ci * d)) / 2

    def log_post_ratio(self):
        """log det(sigma2 M^-1)."""
        return mpmath.log(mpmath.det(self.s2 * mpmath.inverse(self.M)))


def _run(dps, fn, *args):
    with mpmath.workdps(dps):
        return fn(_Pop(*args[:8]), *args[8:])


def distortion(W, b, sigma2, V, c, D, mean, cov, dps=50):
    """Population distortion :math:`-E\\log p(x|z)` (DESIGN §5)."""
    return _run(dps, lambda p: p.dist(), W, b, sigma2, V, c, D, mean, cov)


def rate(W, b, sigma2, V, c, D, mean, cov, dps=50):
    """Population rate :math:`E\\,\\mathrm{KL}(q\\|p(z))` (DESIGN §5)."""
    return _run(dps, lambda p: p.rate(), W, b, sigma2, V, c, D, mean, cov)


def log_evidence(W, b, sigma2, V, c, D, mean, cov, dps=50):
    """Population :math:`E\\log p(x)` with :math:`p(x) = N(b, WW^T + \\sigma^2 I)`."""
    return _run(dps, lambda p: p.loglik(), W, b, sigma2, V, c, D, mean, cov)


def elbo(W, b, sigma2, V, c, D, mean, cov, dps=50):
    """Population ELBO = -distortion - rate."""
    return _run(dps, lambda p: -p.dist() - p.rate(), W, b, sigma2, V, c, D, mean, cov)


def beta_elbo(W, b, sigma2, V, c, D, mean, cov, beta, dps=50):
    """Population beta-ELBO = -distortion - beta rate."""
    return _run(dps, lambda p, bt: -p.dist() - _mp(bt) * p.rate(), W, b, sigma2, V, c, D, mean,
                cov, beta)


def relbo(W, b, sigma2, V, c, D, mean, cov, alpha, dps=50):
    r"""Population RELBO, DESIGN §5 direct form, with :math:`\log\det(\sigma^2M^{-1})` from
    mpmath's determinant and inverse."""
    def f(p, alpha):
        a = _mp(alpha)
        bracket = (mpmath.log(mpmath.det(p.D)) + p.k - p.k * ell(alpha, mpmath.mp.dps)
                   - p.log_post_ratio())
        return -p.dist() - p.rate() + (1 - a) / (2 * a) * bracket
    return _run(dps, f, W, b, sigma2, V, c, D, mean, cov, alpha)


def vr_bound(W, b, sigma2, V, c, D, mean, cov, alpha, dps=50):
    r"""Population VR bound (DESIGN §11): :math:`\mathrm{LL} - E_x D_\alpha(q\|p(z|x))`;
    ``-inf`` when :math:`\Sigma_\alpha` is not positive definite for alpha > 1."""
    def f(p, alpha):
        a = _mp(alpha)
        if a == 1:
            return -p.dist() - p.rate()
        Mi = mpmath.inverse(p.M)
        S2 = p.s2 * Mi
        Sa = a * S2 + (1 - a) * p.D
        ev = mpmath.eig(Sa, left=False, right=False)
        if min(mpmath.re(e) for e in ev) <= 0:
            return mpmath.mpf("-inf") if a > 1 else mpmath.mpf("inf")
        E = p.V - Mi * p.W.T
        g = E * p.mu + p.c + Mi * p.W.T * p.b
        Sai = mpmath.inverse(Sa)
        quad = _tr(Sai * E * p.S * E.T) + _dot(g, Sai * g)
        logdets = (mpmath.log(mpmath.det(Sa)) - (1 - a) * mpmath.log(mpmath.det(p.D))
                   - a * mpmath.log(mpmath.det(S2)))
        return p.loglik() - (a / 2 * quad - logdets / (2 * (a - 1)))
    return _run(dps, f, W, b, sigma2, V, c, D, mean, cov, alpha)
