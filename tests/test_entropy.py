"""Gaussian Renyi and Shannon entropies against mpmath, quadrature, Monte Carlo and scipy.

References: ``gaussrelbo.testing.renyi_entropy`` (1/2 log det(2 pi cov) + k/2 ell(alpha) at 50
digits, det by mpmath's LU of the given matrix), the defining integral
H_alpha = log(int p^alpha) / (1 - alpha) by quadrature (1-D scipy.integrate.quad, 2-D a fine
trapezoid grid), a Monte Carlo estimate of log E_p[p^(alpha-1)] / (1 - alpha) at k = 3, and
scipy.stats.multivariate_normal(...).entropy() for alpha = 1.
"""

import mpmath
import numpy as np
import pytest
from scipy import integrate, stats

import gaussrelbo as gr
from gaussrelbo import testing

EPS = np.finfo(float).eps
ALPHAS = [1e-6, 1e-3, 0.5, 1 - 1e-12, 1.0, 1 + 1e-12, 2.0, 1e3, 1e6]
LOG_2PI = np.log(2 * np.pi)


def _rotation(k, seed):
    Q, R = np.linalg.qr(np.random.default_rng(seed).normal(size=(k, k)))
    return Q * np.sign(np.diag(R))


def _rotated(eigs, seed=0):
    Q = _rotation(len(eigs), seed)
    c = (Q * np.asarray(eigs, dtype=float)) @ Q.T
    return 0.5 * (c + c.T)


def _graded(scales, seed=0):
    # diag(s) C diag(s), C a well-conditioned correlation matrix: eigenvalues span s^2
    k = len(scales)
    C = _rotated(np.linspace(0.5, 1.5, k), seed)
    d = 1 / np.sqrt(np.diag(C))
    C = d[:, None] * C * d[None, :]
    s = np.asarray(scales, dtype=float)
    out = s[:, None] * C * s[None, :]
    return 0.5 * (out + out.T)


# name -> covariance.  Diagonal ones are factored exactly by Cholesky, so eigenvalues may span
# 1e-8..1e8 there; "graded" ones are dense with eigenvalues spanning ~1e-8..1e8 but a
# well-conditioned correlation matrix (Cholesky's accuracy is invariant under diagonal scaling).
COVS = {
    "1x1": np.array([[1.7]]),
    "1x1 tiny": np.array([[1e-8]]),
    "1x1 huge": np.array([[1e8]]),
    "diag 1e-8..1e8": np.diag([1e-8, 1.0, 1e8]),
    "diag 5 spread": np.diag([1e-8, 1e-4, 3.0, 1e4, 1e8]),
    "rotated 2": _rotated([0.5, 2.0], 1),
    "rotated 3": _rotated([2.0, 0.3, 1.1], 2),
    "rotated 4": _rotated([3.0, 1e-2, 7.0, 0.2], 3),
    "graded 3": _graded([1e-4, 1.0, 1e4], 4),
    "graded 5": _graded([1e-4, 1e-2, 1.0, 1e2, 1e4], 5),
}


def _tolerance(cov, alpha):
    """|err| allowed: 1e-14 of the sum of |terms| (k/2 log 2 pi, |log L_ii|, k/2 ell), plus the
    Cholesky backward error ~ k^2 eps kappa(C), C the diagonally scaled matrix (Demmel)."""
    k = cov.shape[0]
    L = np.linalg.cholesky(cov)
    terms = k / 2 * LOG_2PI + np.sum(np.abs(np.log(np.diag(L)))) + k / 2 * float(
        testing.ell(alpha))
    d = 1 / np.sqrt(np.diag(cov))
    kappa = np.linalg.cond(d[:, None] * cov * d[None, :])
    return 1e-14 * terms + 4 * k * k * EPS * kappa


@pytest.mark.parametrize("alpha", ALPHAS)
@pytest.mark.parametrize("name", COVS)
def test_against_mpmath(name, alpha):
    cov = COVS[name]
    want = testing.renyi_entropy(cov, alpha)   # 50 digits, of the matrix exactly as stored
    got = gr.renyi_entropy(cov, alpha)
    assert isinstance(got, np.float64)
    assert abs(mpmath.mpf(float(got)) - want) <= _tolerance(cov, alpha)


@pytest.mark.parametrize("name", COVS)
def test_shannon_against_mpmath_and_scipy(name):
    cov = COVS[name]
    want = testing.shannon_entropy(cov)
    got = gr.shannon_entropy(cov)
    tol = _tolerance(cov, 1.0)
    assert abs(mpmath.mpf(float(got)) - want) <= tol
    # scipy (eigendecomposition) with a non-zero mean: the entropy does not depend on it.
    # scipy treats eigenvalues below ~1e6 eps of the largest as zero and then refuses the
    # matrix, so it is a reference only for moderately conditioned covariances.
    if np.linalg.cond(cov) < 1e6:
        mean = np.linspace(-1.0, 2.0, cov.shape[0])
        ref = stats.multivariate_normal(mean, cov).entropy()
        assert abs(got - ref) <= tol + 4 * EPS * abs(got)
    # alpha = 1 is the Shannon entropy: the two roundings of k/2 (log 2 pi + 1) differ by ulps
    assert abs(gr.renyi_entropy(cov, 1.0) - got) <= 4 * np.spacing(max(abs(got), 1.0))


# ---- the defining integral, by quadrature --------------------------------------------------

@pytest.mark.parametrize("alpha", [0.05, 0.3, 0.5, 0.75, 1.5, 2.0, 5.0, 20.0])
def test_quadrature_1d(alpha):
    mean, var = 0.4, 1.7
    sd = np.sqrt(var)
    p = stats.norm(mean, sd)
    val, abserr = integrate.quad(lambda z: p.pdf(z) ** alpha, mean - 60 * sd, mean + 60 * sd,
                                 points=[mean], epsabs=0, epsrel=1e-13, limit=200)
    want = np.log(val) / (1 - alpha)
    # d log(val) = d val / val; quad's error estimate, at least its requested 1e-13
    tol = 10 * max(abserr, 1e-13 * val) / val / abs(1 - alpha) + 4 * EPS * abs(want)
    got = gr.renyi_entropy(np.array([[var]]), alpha)
    assert abs(got - want) <= tol


def test_quadrature_1d_shannon():
    mean, var = -0.3, 0.6
    p = stats.norm(mean, np.sqrt(var))
    want, abserr = integrate.quad(lambda z: -p.pdf(z) * p.logpdf(z), -np.inf, np.inf,
                                  epsabs=0, epsrel=1e-13)
    assert abs(gr.shannon_entropy(np.array([[var]])) - want) <= 10 * max(abserr, 1e-13 * want)


@pytest.mark.parametrize("alpha", [0.5, 1.0, 3.0])
def test_fine_grid_2d(alpha):
    # The trapezoid rule is spectrally accurate for smooth integrands decaying like Gaussians:
    # with step h <= sd/6 and a box of +-14 sd (in the rotated frame of p^alpha) the error is
    # far below 1e-12.
    cov = np.array([[1.0, 0.4], [0.4, 0.8]])
    mean = np.array([0.3, -0.2])
    lam, Q = np.linalg.eigh(cov)
    sd = np.sqrt(lam / min(alpha, 1.0))          # p^alpha is wider than p only for alpha < 1
    u = [np.linspace(-14 * s, 14 * s, int(28 * 6) + 1) for s in sd]
    U1, U2 = np.meshgrid(*u, indexing="ij")
    Z = mean + np.stack([U1, U2], axis=-1) @ Q.T
    logp = stats.multivariate_normal(mean, cov).logpdf(Z)
    h = (u[0][1] - u[0][0]) * (u[1][1] - u[1][0])     # rotation has unit Jacobian
    if alpha == 1.0:
        want = -np.sum(np.exp(logp) * logp) * h
    else:
        want = np.log(np.sum(np.exp(alpha * logp)) * h) / (1 - alpha)
    assert abs(gr.renyi_entropy(cov, alpha) - want) <= 1e-12 * max(1.0, abs(want))


# ---- Monte Carlo -----------------------------------------------------------------------------

@pytest.mark.parametrize("alpha", [0.75, 1.0, 2.0, 3.0])
def test_monte_carlo_k3(alpha):
    # H_alpha = log E_p[p^(alpha-1)] / (1 - alpha).  The estimator's variance needs
    # E_p[p^(2(alpha-1))] finite, i.e. alpha > 1/2 (at alpha = 1/2 it is int 1 dz = inf).
    cov = _rotated([0.5, 1.0, 2.0], 4)
    mean = np.array([1.0, -2.0, 0.5])
    rng = np.random.default_rng(9)
    z = rng.multivariate_normal(mean, cov, size=400_000)
    logp = stats.multivariate_normal(mean, cov).logpdf(z)
    if alpha == 1.0:
        est, se = -logp.mean(), logp.std(ddof=1) / np.sqrt(logp.size)
    else:
        a = (alpha - 1) * logp
        w = np.exp(a - a.max())
        est = (a.max() + np.log(w.mean())) / (1 - alpha)
        # delta method: se(log mean w) = sd(w) / (mean(w) sqrt(N))
        se = w.std(ddof=1) / w.mean() / np.sqrt(w.size) / abs(1 - alpha)
    assert se < 0.01                       # the check has power: 5 se < 0.05 nats
    assert abs(gr.renyi_entropy(cov, alpha) - est) <= 5 * se


# ---- shapes ------------------------------------------------------------------------------------

def test_batch_shapes():
    covs = np.stack([_rotated([1.0 + s, 2.0], s) for s in range(6)]).reshape(2, 3, 2, 2)
    assert gr.renyi_entropy(covs, 0.5).shape == (2, 3)
    assert gr.shannon_entropy(covs).shape == (2, 3)
    alphas = np.array([0.5, 1.0, 2.0])
    out = gr.renyi_entropy(covs, alphas)                       # broadcasts over the last axis
    assert out.shape == (2, 3)
    out = gr.renyi_entropy(covs, alphas[:, None, None])        # (3, 1, 1) x (2, 3)
    assert out.shape == (3, 2, 3)
    for i, a in enumerate(alphas):
        for j in range(2):
            for m in range(3):
                want = testing.renyi_entropy(covs[j, m], a)
                assert abs(mpmath.mpf(float(out[i, j, m])) - want) <= _tolerance(covs[j, m], a)
    one = gr.renyi_entropy(np.eye(3), np.array([0.5, 2.0, 1e3, 1.0]))
    assert one.shape == (4,)
    assert isinstance(gr.renyi_entropy(np.eye(2), 2.0), np.float64)
    assert isinstance(gr.shannon_entropy(np.eye(2)), np.float64)
    assert gr.renyi_entropy(np.eye(2), np.array(2.0)).shape == ()
    assert gr.renyi_entropy(np.eye(2)[None], [2.0]).shape == (1,)


# ---- bad input ---------------------------------------------------------------------------------

@pytest.mark.parametrize("alpha, match", [
    (0.0, r"`alpha` must be positive and finite, got 0\.0"),
    (-1.0, r"`alpha` must be positive and finite, got -1\.0"),
    # the offending entry of an array, as numpy prints it (numpy >= 2 says np.float64(-0.5))
    (np.array([2.0, -0.5]), r"`alpha` must be positive and finite, got (np\.float64\()?-0\.5"),
    (np.nan, r"`alpha` must be finite \(no NaN or inf\), got nan"),
    (np.inf, r"`alpha` must be finite \(no NaN or inf\), got inf"),
    ("abc", r"`alpha` must be a real number or array, got 'abc'"),
])
def test_bad_alpha(alpha, match):
    with pytest.raises(ValueError, match=match):
        gr.renyi_entropy(np.eye(2), alpha)


@pytest.mark.parametrize("cov, match", [
    (np.array([[1.0, 0.5], [0.0, 1.0]]), r"`cov` must be symmetric, got a matrix with "
                                         r"max \|A - A\^T\| = 0\.5"),
    (np.array([[1.0, 2.0], [2.0, 1.0]]), r"`cov` must be positive definite, got smallest "
                                         r"eigenvalue -1"),
    (np.ones((2, 2)), r"`cov` must be positive definite, got smallest eigenvalue 0"),
    (-np.eye(3), r"`cov` must be positive definite, got smallest eigenvalue -1"),
    (np.stack([np.eye(2), -np.eye(2)]), r"`cov` must be positive definite"),
    (np.array([[np.nan, 0.0], [0.0, 1.0]]), r"`cov` must be finite \(no NaN or inf\), got an "
                                            r"array of shape \(2, 2\) with 1 non-finite"),
    (np.array([[np.inf, 0.0], [0.0, 1.0]]), r"`cov` must be finite \(no NaN or inf\)"),
    (np.ones(3), r"`cov` must have shape \(\.\.\., k, k\) with k >= 1, got \(3,\)"),
    (np.ones((2, 3)), r"`cov` must have shape \(\.\.\., k, k\) with k >= 1, got \(2, 3\)"),
    (2.0, r"`cov` must have shape \(\.\.\., k, k\) with k >= 1, got \(\)"),
    ("abc", r"`cov` must be a real number or array, got 'abc'"),
])
def test_bad_cov(cov, match):
    with pytest.raises(ValueError, match=match):
        gr.renyi_entropy(cov, 2.0)
    with pytest.raises(ValueError, match=match):
        gr.shannon_entropy(cov)


def test_alpha_does_not_broadcast():
    with pytest.raises(ValueError, match=r"`alpha` of shape \(2,\) does not broadcast against "
                                         r"the batch shape \(3,\) of `cov`"):
        gr.renyi_entropy(np.stack([np.eye(2)] * 3), np.array([0.5, 2.0]))
