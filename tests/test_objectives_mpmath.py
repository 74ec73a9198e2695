"""Population closed forms against the 50-digit mpmath references of ``gaussrelbo.testing``.

The references evaluate Theory §5/§11 directly (explicit mpmath products, inverses and
determinants: the RELBO's log det(sigma^2 M^-1) comes from ``mpmath.det``, not from singular
values), so agreement checks both of the package's routes and their floating-point care: the
direct route (one model with ||W||_F^2 <= 2^16 sigma^2: residual in data space, a QR
factorisation for the log-determinant) and the SVD route (everything else, batches included).

Tolerance.  The inputs are doubles and the references are exact for them; what a careful
double-precision evaluation may still lose is set by the problem, not by the code:

* the rounding of the final sums, a few eps times T = sum of |additive terms|, and
* the normwise backward error of its factorisations (SVD of W, Cholesky of D, eigh of S),
  which moves the result by up to eps * K, K = sum_p ||p|| ||df/dp|| (first-order
  sensitivity to relative perturbations of every input).

``testing.error_scale`` returns T + K (gradients by differences at 60 digits), and every
comparison asserts |got - ref| <= C_TOL * eps * (T + K) with C_TOL = 16.  For well-conditioned
problems T + K is a few |f| and this is a relative tolerance of ~1e-14, tighter than 1e-12.
It grows only where the problem is ill-conditioned: with W's singular values 1e-8..1e8 the
normwise backward error eps*||W|| ~ 2e-8 of any SVD perturbs the small singular values and
their vectors by ~2e-8 (Weyl), so e.g. E log p(x) is determined only to ~1e-10 relative
(the measured errors match).  Measured worst ratios
|err| / (eps (T + K)) are printed after the module (run with -s).
"""

import functools

import mpmath
import numpy as np
import pytest
from scipy import integrate, stats

import gaussrelbo as gr
from gaussrelbo import testing

EPS = np.finfo(float).eps
C_TOL = 16
ALPHAS = [1e-6, 1e-3, 0.5, 1 - 1e-12, 1.0, 1 + 1e-12, 2.0, 1e3, 1e6]
BETAS = [1e-3, 0.5, 1.0, 2.5, 1e3]
VR_ALPHAS = [-0.5, 0.0, 1e-3, 0.3, 0.999, 1.0, 1.0 + 1e-9, 1.5, 3.0]
WORST = {}     # quantity -> (worst |err|/|ref|, worst |err|/(eps (T+K)))


def _orth(rng, n, k):
    Q, R = np.linalg.qr(rng.normal(size=(n, k)))
    return Q * np.sign(np.diag(R))


# name: (n, k, singular values of W, sigma2, encoder, full D, seed).  "random": V, c, D drawn
# independently of W; "near-optimal": the optimal RELBO_2 encoder with V, c perturbed by 0.1.
# A full *optimal* D with W's singular values 1e-8..1e8 has condition number ~1e16, so its
# log det is not determined by its rounded entries at all (K ~ 1e16 |log det D|): full D is
# tested with W that extreme only for random, well-conditioned D.
PROBLEMS = {
    "scalar": (1, 1, (1.3,), 0.4, "random", False, 0),
    "moderate/random/diag": (5, 3, (0.5, 1.0, 2.0), 0.7, "random", False, 1),
    "moderate/random/full": (5, 3, (0.5, 1.0, 2.0), 0.7, "random", True, 2),
    "moderate/near-optimal/full": (5, 3, (0.5, 1.0, 2.0), 0.7, "near-optimal", True, 3),
    "moderate/small-noise/near-optimal/diag": (5, 3, (0.5, 1.0, 2.0), 1e-6, "near-optimal",
                                               False, 4),
    "extreme/random/diag": (5, 3, (1e-8, 1.0, 1e8), 0.7, "random", False, 5),
    "extreme/random/full": (5, 3, (1e-8, 1.0, 1e8), 0.7, "random", True, 6),
    "extreme/near-optimal/diag": (5, 3, (1e-8, 1.0, 1e8), 0.7, "near-optimal", False, 7),
    "extreme/small-noise/random/full": (5, 3, (1e-8, 1.0, 1e8), 1e-6, "random", True, 8),
    "extreme4/random/diag": (6, 4, (1e-8, 1e-4, 1e4, 1e8), 0.3, "random", False, 9),
    "wide/random/diag": (3, 5, (0.5, 1.0, 2.0), 0.7, "random", False, 10),
    "wide/extreme/random/full": (3, 5, (1e-8, 1.0, 1e8), 0.7, "random", True, 11),
    # ||W||_F^2 / sigma^2 just below (direct route) and just above (SVD route) 2^16
    "threshold-below/near-optimal/diag": (3, 2, (10.0, 250.0), 1.0, "near-optimal", False, 12),
    "threshold-below/near-optimal/full": (3, 2, (10.0, 250.0), 1.0, "near-optimal", True, 13),
    "threshold-above/near-optimal/diag": (3, 2, (10.0, 260.0), 1.0, "near-optimal", False, 14),
}
# Each problem's error scale (60-digit differences, seconds) is computed once per process: its
# tests form one pytest-xdist group, so one worker computes it.
NAMES = [pytest.param(name, marks=pytest.mark.xdist_group(f"mpmath-{name}"), id=name)
         for name in PROBLEMS]
# the problems a single model evaluates on the direct route (the others take the SVD route)
DIRECT = {"scalar", "moderate/random/diag", "moderate/random/full", "moderate/near-optimal/full",
          "wide/random/diag", "threshold-below/near-optimal/diag",
          "threshold-below/near-optimal/full"}


def _build(n, k, svals, sigma2, encoder, full, seed):
    rng = np.random.default_rng(seed)
    r = min(n, k)
    W = (_orth(rng, n, r) * np.asarray(svals[:r])) @ _orth(rng, k, r).T
    b = rng.normal(size=n)
    if encoder == "random":
        if full:
            A = rng.normal(size=(k, k))
            D = A @ A.T / k + 0.1 * np.eye(k)
            D = 0.5 * (D + D.T)
        else:
            D = rng.uniform(0.1, 2.0, size=k)
        model = gr.LinearGaussianVAE(W, b, sigma2, V=rng.normal(size=(k, n)),
                                     c=rng.normal(size=k), D=D)
    else:
        model = gr.optimal_encoder(gr.LinearGaussianVAE.from_decoder(W, b, sigma2),
                                   "relbo", alpha=2.0, diagonal=not full)
        model = model.replace(V=model.V + 0.1 * rng.normal(size=(k, n)),
                              c=model.c + 0.1 * rng.normal(size=k))
    Q = _orth(rng, n, n)
    cov = (Q * rng.uniform(0.2, 3.0, n)) @ Q.T
    data = gr.DataMoments(rng.normal(size=n), 0.5 * (cov + cov.T))
    return model, data


def _args(model, data):
    # the validated (symmetrised) arrays the package itself uses
    return (model.W, model.b, model.sigma2, model.V, model.c, model.D, data.mean, data.cov)


def _finite_vr_alphas(args):
    return [a for a in VR_ALPHAS if mpmath.isfinite(testing.vr_bound(*args, a))]


@functools.lru_cache(maxsize=None)
def _setup(name):
    model, data = _build(*PROBLEMS[name])
    args = _args(model, data)
    scale = testing.error_scale(*args, vr_alphas=_finite_vr_alphas(args))
    return model, data, args, scale


def _check(quantity, got, want, scale):
    got = float(got)
    err = abs(mpmath.mpf(got) - want)
    rel = float(err / abs(want)) if want != 0 else float(err)
    ratio = float(err / (EPS * scale))
    old = WORST.get(quantity, (0.0, 0.0))
    WORST[quantity] = (max(old[0], rel), max(old[1], ratio))
    assert ratio <= C_TOL, (f"{quantity}: got {got!r}, reference {mpmath.nstr(want, 20)}, "
                            f"|err| = {float(err):.3g} = {ratio:.3g} eps (T+K)")


def _renyi_scale(scale, k, alpha):
    # |1-a|/a * (T+K of the input-dependent bracket + the constant k/2 (1 - ell))
    return abs(1 - alpha) / alpha * (scale["renyi"] + k * (1 + testing.ell(alpha)) / 2)


@pytest.mark.parametrize("name", NAMES)
def test_log_evidence_distortion_rate_elbo(name):
    model, data, args, s = _setup(name)
    assert np.shape(gr.log_evidence(model, data)) == ()
    _check("log_evidence", gr.log_evidence(model, data), testing.log_evidence(*args),
           s["log_evidence"])
    _check("distortion", gr.distortion(model, data), testing.distortion(*args), s["distortion"])
    _check("rate", gr.rate(model, data), testing.rate(*args), s["rate"])
    _check("elbo", gr.elbo(model, data), testing.elbo(*args), s["distortion"] + s["rate"])


@pytest.mark.parametrize("name", NAMES)
def test_route(name):
    model, data, _, _ = _setup(name)
    assert model._direct == (name in DIRECT)


@pytest.mark.parametrize("name", NAMES)
def test_direct_and_svd_routes_agree(name):
    # the same model as a batch of one takes the SVD route; both are within the problem's
    # error scale of each other (and, by the tests here, of the 50-digit references)
    model, data, _, s = _setup(name)
    one = model.replace(W=model.W[None])
    assert not one._direct
    for alpha in (0.5, 2.0):
        scale = s["distortion"] + s["rate"] + _renyi_scale(s, model.k, alpha)
        a, b = float(gr.relbo(model, data, alpha)), float(gr.relbo(one, data, alpha)[0])
        assert abs(a - b) <= C_TOL * EPS * float(scale), (alpha, a, b)


@pytest.mark.parametrize("name", NAMES)
def test_beta_elbo(name):
    model, data, args, s = _setup(name)
    got = gr.beta_elbo(model, data, np.array(BETAS))
    assert got.shape == (len(BETAS),)
    for beta, g in zip(BETAS, got):
        _check("beta_elbo", g, testing.beta_elbo(*args, beta), s["distortion"] + beta * s["rate"])


@pytest.mark.parametrize("name", NAMES)
def test_relbo(name):
    model, data, args, s = _setup(name)
    got = gr.relbo(model, data, np.array(ALPHAS))
    assert got.shape == (len(ALPHAS),)
    for alpha, g in zip(ALPHAS, got):
        want = testing.relbo(*args, alpha)
        _check("relbo", g, want, s["distortion"] + s["rate"] + _renyi_scale(s, model.k, alpha))
    # alpha = 1 is the ELBO, bit for bit (the Renyi weight is exactly 0)
    assert float(gr.relbo(model, data, 1.0)) == float(gr.elbo(model, data))


@pytest.mark.parametrize("name", NAMES)
def test_renyi_term(name):
    model, data, args, s = _setup(name)
    for alpha in ALPHAS:
        want = testing.renyi_term(*args, alpha)
        _check("renyi_term", gr.renyi_term(model, data, alpha), want,
               s["renyi"] + model.k * (1 + testing.ell(alpha)) / 2)


def _check_vr(model, data, args, s, alpha):
    want = testing.vr_bound(*args, alpha)
    got = gr.vr_bound(model, data, alpha)
    if not mpmath.isfinite(want):
        assert got == float(want), (alpha, got)
        return
    scale = s["log_evidence"] + s[("divergence", alpha)]
    if alpha > 1 and C_TOL * EPS * scale >= abs(want):
        # Sigma_alpha is positive definite only by a relative margin of order eps: the rounded
        # inputs do not determine the value, nor whether it is finite (an eps-perturbation of
        # D reaches the boundary, where the divergence is +inf).
        assert got == -np.inf or abs(got - want) <= C_TOL * EPS * scale, (alpha, got)
        return
    _check("vr_bound", got, want, scale)


@pytest.mark.parametrize("name", NAMES)
def test_vr_bound(name):
    model, data, args, s = _setup(name)
    got = gr.vr_bound(model, data, np.array(VR_ALPHAS))
    assert got.shape == (len(VR_ALPHAS),)
    for alpha in VR_ALPHAS:
        if alpha not in (0.0, 1.0):         # the two exact limits are tested below
            _check_vr(model, data, args, s, alpha)


# ---- the exact limits alpha = 0 (log p(x)) and alpha = 1 (ELBO) of the VR bound ------------------

@pytest.mark.parametrize("name", NAMES)
def test_vr_bound_alpha_zero(name):
    # Theory §11: alpha = 0 gives log p(x) whatever the encoder.  With W's singular values
    # up to 1e8 and a near-optimal diagonal encoder, D ~ 1e-16 and mu = eig(D^-1 Sigma_2) runs
    # up to ~4e15, yet the value is as well conditioned as log p(x) itself.
    model, data, args, s = _setup(name)
    _check_vr(model, data, args, s, 0.0)


@pytest.mark.parametrize("name", NAMES)
def test_vr_bound_alpha_one(name):
    # Theory §11: alpha = 1 gives the ELBO.  Its error scale here is that of LL - KL with the
    # KL = LL - ELBO bounded by the triangle inequality, so the ELBO's own accuracy is allowed.
    model, data, args, s = _setup(name)
    _check_vr(model, data, args, s, 1.0)


def test_vr_bound_alpha_zero_narrow_encoder():
    # The same limit in its simplest form: n = k = 1, W = 1, sigma2 = 1 (posterior variance
    # 1/2), encoder variance d -> 0, one data point.
    for d in (1e-2, 1e-8, 1e-12, 1e-20):
        model = gr.LinearGaussianVAE(np.ones((1, 1)), np.zeros(1), 1.0, V=np.full((1, 1), 0.5),
                                     c=np.zeros(1), D=np.array([d]))
        x = np.array([0.3])
        # mpmath: log N(0.3; 0, 2) = -(log(4 pi) + 0.09 / 2) / 2
        with mpmath.workdps(50):
            want = -(mpmath.log(4 * mpmath.pi) + mpmath.mpf(0.3) ** 2 / 2) / 2
        ref = testing.vr_bound(*_args(model, gr.DataMoments(x, np.zeros((1, 1)))), 0.0)
        assert abs(ref - want) <= mpmath.mpf(10) ** -45
        got = gr.vr_bound(model, x, 0.0)
        # scale: |log p(x)| + 2 |log mu| (the two log terms that cancel exactly at alpha = 0)
        tol = C_TOL * EPS * (abs(float(want)) + 2 * abs(np.log(0.5 / d)))
        assert abs(got - float(want)) <= tol, (d, got, float(want))


# ---- a wide decoder (n <= k) with small noise ---------------------------------------------------

@pytest.mark.parametrize("n, k", [(3, 5), (3, 3)])
@pytest.mark.parametrize("encoder", ["random", "near-optimal"])
def test_wide_decoder_small_noise(n, k, encoder):
    # n <= k: U (n x n) spans R^n, so the part of the data outside range(W) is exactly 0, and
    # with sigma2 = 1e-6 the problem is still well conditioned (T + K ~ a few |f|).  Any rounding
    # left in that "outside" part is divided by sigma2.
    for seed in (12, 13):
        model, data = _build(n, k, (0.5, 1.0, 2.0), 1e-6, encoder, False, seed)
        args = _args(model, data)
        s = testing.error_scale(*args)
        _check("log_evidence", gr.log_evidence(model, data), testing.log_evidence(*args),
               s["log_evidence"])
        _check("distortion", gr.distortion(model, data), testing.distortion(*args),
               s["distortion"])


def test_tall_decoder_data_near_range():
    # n > k with the data almost inside range(W) (off-range variance 1e-10 against in-range
    # variance ~1) and sigma2 = 1e-8: the off-range variance, a small difference of large
    # numbers, is divided by sigma2.  Unlike n <= k (above) it is not exactly zero, and the
    # input covariance itself fixes it only to ~eps ||S||, which the condition number in the
    # error scale counts; the package must stay within that bound.
    rng = np.random.default_rng(21)
    n, k = 7, 3
    for encoder in ("random", "near-optimal"):
        model, _ = _build(n, k, (0.5, 1.0, 2.0), 1e-8, encoder, False, 22)
        U = np.linalg.svd(model.W, full_matrices=False)[0]
        Q = np.linalg.qr(rng.normal(size=(n, n)))[0]
        lam = np.concatenate([rng.uniform(0.5, 2.0, k), np.full(n - k, 1e-10)])
        basis = np.linalg.qr(np.hstack([U, Q[:, : n - k]]))[0]       # range(W) first
        cov = (basis * lam) @ basis.T
        mean = model.b + U @ rng.normal(size=k)                      # in range(W) too
        data = gr.DataMoments(mean, 0.5 * (cov + cov.T))
        args = _args(model, data)
        s = testing.error_scale(*args)
        _check("log_evidence", gr.log_evidence(model, data), testing.log_evidence(*args),
               s["log_evidence"])
        _check("distortion", gr.distortion(model, data), testing.distortion(*args),
               s["distortion"])


# ---- the references themselves, against independent routes ------------------------------------

@pytest.mark.parametrize("name", ["moderate/random/full", "extreme/random/diag"])
def test_reference_relbo_direct_equals_escort(name):
    # Theory §5: two algebraically different forms of the population RELBO.
    _, _, args, _ = _setup(name)
    for alpha in ALPHAS:
        with mpmath.workdps(50):
            d, e = testing.relbo(*args, alpha), testing.relbo_escort(*args, alpha)
            assert abs(d - e) <= mpmath.mpf(10) ** -30 * (1 + abs(d) / alpha)


def test_reference_population_is_sample_average():
    # Theory §5: with S the ddof=0 covariance, population values are exact sample averages.
    # log_evidence is checked against scipy's logpdf; the others against the references at
    # single points (mean = x, cov = 0).
    rng = np.random.default_rng(20)
    n, k = 3, 2
    W, b, V, c = (rng.normal(size=(n, k)), rng.normal(size=n), rng.normal(size=(k, n)),
                  rng.normal(size=k))
    D = np.array([[0.5, 0.1], [0.1, 0.3]])
    X = rng.normal(size=(7, n))
    mean = X.mean(axis=0)
    cov = (X - mean).T @ (X - mean) / X.shape[0]
    pop = (W, b, 0.6, V, c, D, mean, cov)
    ll = stats.multivariate_normal(b, W @ W.T + 0.6 * np.eye(n)).logpdf(X).mean()
    assert abs(float(testing.log_evidence(*pop)) - ll) <= 1e-13 * abs(ll)
    with mpmath.workdps(50):
        zero = np.zeros((n, n))
        for f, extra in ((testing.distortion, ()), (testing.rate, ()), (testing.relbo, (0.3,)),
                         (testing.vr_bound, (0.4,)), (testing.log_evidence, ())):
            avg = mpmath.fsum(f(W, b, 0.6, V, c, D, x, zero, *extra) for x in X) / len(X)
            # mean/cov of X are rounded doubles: agreement to their rounding, not to 50 digits
            assert abs(avg - f(*pop, *extra)) <= 1e-12 * (1 + abs(avg)), f.__name__


@pytest.mark.parametrize("alpha", [0.3, 2.0])
def test_reference_pointwise_against_quadrature(alpha):
    # n = k = 1, one datapoint: each bound from its definition by 1-D quadrature over z.
    w, b, s2, v, c, d, x = 1.3, 0.2, 0.5, 0.4, -0.1, 0.3, 0.9
    q = stats.norm(v * x + c, np.sqrt(d))

    def log_joint(z):
        return stats.norm.logpdf(z) + stats.norm.logpdf(x, w * z + b, np.sqrt(s2))

    lo, hi = q.mean() - 14 * q.std(), q.mean() + 14 * q.std()
    args = (np.array([[w]]), np.array([b]), s2, np.array([[v]]), np.array([c]), np.array([d]),
            np.array([x]), np.zeros((1, 1)))
    opts = dict(epsabs=0, epsrel=1e-13, limit=200)
    elbo = integrate.quad(lambda z: q.pdf(z) * (log_joint(z) - q.logpdf(z)), lo, hi, **opts)[0]
    assert abs(float(testing.elbo(*args)) - elbo) <= 1e-11 * abs(elbo)
    # RELBO (Theory §3): ELBO + (1-a)/a [H(q) - H_a(p(z|x))], the posterior's Renyi entropy
    # from its definition, with p(z|x) = p(x, z) / p(x) and p(x) by quadrature.
    px = integrate.quad(lambda z: np.exp(log_joint(z)), -40, 40, **opts)[0]
    ia = integrate.quad(lambda z: (np.exp(log_joint(z)) / px) ** alpha, -40, 40, **opts)[0]
    relbo = elbo + (1 - alpha) / alpha * (q.entropy() - np.log(ia) / (1 - alpha))
    assert abs(float(testing.relbo(*args, alpha)) - relbo) <= 1e-10 * abs(relbo)
    # VR bound (Theory §11): log E_q[(p(x,z)/q)^(1-a)] / (1-a)
    vr = np.log(integrate.quad(lambda z: np.exp(alpha * q.logpdf(z) + (1 - alpha) * log_joint(z)),
                               -40, 40, **opts)[0]) / (1 - alpha)
    assert abs(float(testing.vr_bound(*args, alpha)) - vr) <= 1e-10 * abs(vr)
    assert abs(float(testing.log_evidence(*args)) - np.log(px)) <= 1e-12 * abs(np.log(px))


@pytest.fixture(autouse=True, scope="module")
def _report_worst_errors():
    """After the module, print the worst errors measured (shown with ``pytest -s``)."""
    yield
    for name, (rel, ratio) in sorted(WORST.items()):
        print(f"\n{name:14s} worst |err|/|ref| = {rel:.2e}   worst |err|/(eps (T+K)) = "
              f"{ratio:.2f}")
