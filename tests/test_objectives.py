"""Properties of the objectives (Theory §3-§5, §11), each against a route written out here.

Reference routes (none calls the package's objectives):

* log p(x): ``scipy.stats.multivariate_normal.logpdf`` per point; Theory §5 with explicit solves
  for moments (and the two are tied together by the sample-average test);
* distortion, rate, ELBO: Theory §4/§5 written with numpy, plus ELBO = log p(x) - KL(q || p(z|x))
  with the Gaussian KL written out;
* RELBO: the escort form of Theory §5 (``np.linalg.solve``/``cholesky``), the definition of §3
  (ELBO + (1-alpha)/alpha [H(q) - H_alpha(p(z|x))], entropies from ``scipy.stats`` and
  ``mpmath``) and, for one latent dimension, numerical quadrature of the Jensen integrand;
* VR bound: the Gaussian Renyi divergence of Theory §11, and quadrature for one latent dimension.

Tolerances.  Two double-precision evaluations of the same closed form differ by rounding of the
order of eps times the magnitude of the largest term they add, times the conditioning of the
solves (bounded by ~1.5e3 by the strategies).  ``scale`` below is 1 + the sum of the magnitudes
of the terms (log p(x), distortion, rate and, for the RELBO, (1/alpha) times the entropy terms),
and closed forms must agree to ``RTOL * scale`` with RTOL = 1e-10 (~1e6 eps: room for the
conditioning, nothing more).  Quadrature references are accurate to ~1e-10 relative; they get
QTOL = 1e-8.
"""


import mpmath
import numpy as np
import pytest
from hypothesis import example, given, strategies as st
from scipy import integrate, stats

import gaussrelbo as gr


from gaussrelbo.testing import strategies as strat  # noqa: E402
EX = strat.EXAMPLE

RTOL = 1e-10
QTOL = 1e-8
LOG2PI = np.log(2.0 * np.pi)
FAMILIES = pytest.mark.parametrize("family", ["diag", "full"])
WHERE = pytest.mark.parametrize("where", ["point", "population"])


# ---- reference routes -------------------------------------------------------------------------

def chol_logdet(A):
    return 2.0 * np.sum(np.log(np.diag(np.linalg.cholesky(A))))


def cov_q(m):
    """The encoder covariance as a full matrix."""
    return np.diag(m.D) if m.diagonal else np.asarray(m.D)


def M_of(m, noise=None):
    noise = m.sigma2 if noise is None else noise
    return m.W.T @ m.W + noise * np.eye(m.k)


def gain(m):
    """M^-1 W^T by a solve."""
    return np.linalg.solve(M_of(m), m.W.T)


def post_cov(m):
    """sigma^2 M^-1 by a solve."""
    P = np.linalg.solve(M_of(m), m.sigma2 * np.eye(m.k))
    return 0.5 * (P + P.T)


def moments(m, d):
    """(mean, covariance) of the data: a DataMoments, or a point with zero covariance."""
    if isinstance(d, gr.DataMoments):
        return np.asarray(d.mean), np.asarray(d.cov)
    return np.asarray(d), np.zeros((m.n, m.n))


def pick(p, where):
    return p.x if where == "point" else p.data


def ref_log_evidence(m, d):
    C = m.W @ m.W.T + m.sigma2 * np.eye(m.n)
    if not isinstance(d, gr.DataMoments):
        return float(stats.multivariate_normal(m.b, C).logpdf(d))
    mu, S = moments(m, d)
    r = mu - m.b
    return -0.5 * (m.n * LOG2PI + chol_logdet(C) + np.trace(np.linalg.solve(C, S))
                   + r @ np.linalg.solve(C, r))


def ref_distortion(m, d):
    """Theory §5 (its S = 0 case is §4)."""
    mu, S = moments(m, d)
    A = np.eye(m.n) - m.W @ m.V
    r = A @ mu - m.W @ m.c - m.b
    return (0.5 * m.n * np.log(2 * np.pi * m.sigma2)
            + (np.trace(A @ S @ A.T) + r @ r + np.trace(m.W @ cov_q(m) @ m.W.T))
            / (2 * m.sigma2))


def ref_rate(m, d):
    mu, S = moments(m, d)
    e = m.V @ mu + m.c
    D = cov_q(m)
    return 0.5 * (np.trace(D) + np.trace(m.V @ S @ m.V.T) + e @ e - m.k - chol_logdet(D))


def pointwise_elbo(m, x):
    """Theory §4 written out for one point: E_q log p(x|z) - KL(q || p(z))."""
    D = cov_q(m)
    mq = m.V @ x + m.c
    resid = x - m.b - m.W @ mq
    exp_loglik = (-0.5 * m.n * np.log(2 * np.pi * m.sigma2)
                  - (resid @ resid + np.trace(m.W @ D @ m.W.T)) / (2 * m.sigma2))
    kl_prior = 0.5 * (np.trace(D) + mq @ mq - m.k - chol_logdet(D))
    return exp_loglik - kl_prior


def gauss_kl(m0, S0, m1, S1):
    """KL(N(m0, S0) || N(m1, S1))."""
    d = m1 - m0
    return 0.5 * (np.trace(np.linalg.solve(S1, S0)) + d @ np.linalg.solve(S1, d) - len(m0)
                  + chol_logdet(S1) - chol_logdet(S0))


def ell_mp(alpha):
    """log(alpha)/(alpha-1) in 30-digit mpmath (exact t = alpha - 1 from the double alpha)."""
    if alpha == 1.0:
        return 1.0
    with mpmath.workdps(30):
        a = mpmath.mpf(alpha)
        return float(mpmath.log(a) / (a - 1))


def deficit_mp(t):
    """(t - log1p t)/t^2 in 40-digit mpmath, 1/2 at t = 0."""
    if t == 0.0:
        return 0.5
    with mpmath.workdps(40):
        t = mpmath.mpf(t)
        return float((t - mpmath.log1p(t)) / t**2)


def shannon(S):
    return float(stats.multivariate_normal(cov=S).entropy())


def renyi_entropy_ref(S, alpha):
    """H_alpha(N(., S)) = H(N(., S)) + (k/2)(ell(alpha) - 1)  (from the integral of N^alpha)."""
    return shannon(S) + 0.5 * S.shape[0] * (ell_mp(alpha) - 1.0)


def ref_relbo_escort(m, d, alpha):
    """Theory §5 escort form: LL - (1/(2 alpha)) [tr(Pi D) - k - log det Pi - log det D
    + tr(Pi E S E^T) + g^T Pi g]."""
    mu, S = moments(m, d)
    G = gain(m)
    E = m.V - G
    g = E @ mu + m.c + G @ m.b
    Pi = alpha * M_of(m) / m.sigma2
    D = cov_q(m)
    bracket = (np.trace(Pi @ D) - m.k - chol_logdet(Pi) - chol_logdet(D)
               + np.trace(Pi @ E @ S @ E.T) + g @ Pi @ g)
    return ref_log_evidence(m, d) - bracket / (2 * alpha)


def ref_relbo_definition(m, d, alpha):
    """Theory §3 first line: ELBO + (1-alpha)/alpha [H(q) - H_alpha(p(z|x))]."""
    elbo = -ref_distortion(m, d) - ref_rate(m, d)
    return elbo + (1 - alpha) / alpha * (shannon(cov_q(m))
                                         - renyi_entropy_ref(post_cov(m), alpha))


def scale(m, d, alpha=1.0):
    """1 + sum of magnitudes of the terms an objective adds (see the module docstring)."""
    ent = abs(shannon(cov_q(m))) + abs(shannon(post_cov(m))) + m.k * (1 + abs(ell_mp(alpha)))
    return (1 + abs(ref_log_evidence(m, d)) + abs(ref_distortion(m, d)) + abs(ref_rate(m, d))
            + (1 + 1 / alpha) * ent)


def ref_vr(m, d, alpha):
    """Theory §11: log p(x) - D_alpha(q || p(z|x)); +-inf where Sigma_alpha is not PD."""
    S1, S2 = cov_q(m), post_cov(m)
    Sa = alpha * S2 + (1 - alpha) * S1
    if np.linalg.eigvalsh(Sa)[0] <= 0:
        return -np.inf if alpha > 1 else np.inf
    mu, S = moments(m, d)
    G = gain(m)
    E = m.V - G
    g = E @ mu + m.c + G @ m.b
    quad = np.trace(np.linalg.solve(Sa, E @ S @ E.T)) + g @ np.linalg.solve(Sa, g)
    Da = 0.5 * alpha * quad - (chol_logdet(Sa) - (1 - alpha) * chol_logdet(S1)
                               - alpha * chol_logdet(S2)) / (2 * (alpha - 1))
    return ref_log_evidence(m, d) - Da


def close(got, ref, tol):
    return abs(float(got) - float(ref)) <= tol


def scalar(v):
    """Objectives of an unbatched model at one point/moments are numpy scalars."""
    assert np.ndim(v) == 0 and isinstance(v, np.floating), (type(v), np.shape(v))
    return float(v)


# ---- RELBO: two closed forms and the definition ------------------------------------------------

@FAMILIES
@WHERE
@given(p=st.data(), alpha=strat.alphas)
@example(p=None, alpha=1.0)
@example(p=None, alpha=1.0 + 1e-12)
@example(p=None, alpha=1.0 - 1e-12)
def test_direct_equals_escort_and_definition(family, where, p, alpha):
    prob = EX[family] if p is None else p.draw(strat.problems(diagonal=family == "diag"))
    m, d = prob.model, pick(prob, where)
    tol = RTOL * scale(m, d, alpha)
    got = scalar(gr.relbo(m, d, alpha))
    assert close(got, ref_relbo_escort(m, d, alpha), tol)
    assert close(got, ref_relbo_definition(m, d, alpha), tol)
    # the Renyi term is H(q) - H_alpha(p(z|x)), whatever the data
    assert close(scalar(gr.renyi_term(m, d, alpha)),
                 shannon(cov_q(m)) - renyi_entropy_ref(post_cov(m), alpha), tol)


# ---- reading=: the pointwise reading is this module's RELBO (the other readings are tested in
# tests/test_readings.py) --------------------------------------------------------------------------

@FAMILIES
@WHERE
@pytest.mark.parametrize("alpha", [0.3, 1.0, 2.5])
def test_pointwise_reading_is_the_closed_form(family, where, alpha):
    m, d = EX[family].model, pick(EX[family], where)
    tol = RTOL * scale(m, d, alpha)
    got = scalar(gr.relbo(m, d, alpha, reading="pointwise"))
    assert close(got, ref_relbo_escort(m, d, alpha), tol)
    term = scalar(gr.renyi_term(m, d, alpha, reading="pointwise"))
    assert close(term, shannon(cov_q(m)) - renyi_entropy_ref(post_cov(m), alpha), tol)


@pytest.mark.parametrize("reading", ["Pointwise", "escort ", "", None, 1, ("pointwise",)])
@pytest.mark.parametrize("fn", [gr.relbo, gr.renyi_term], ids=["relbo", "renyi_term"])
def test_unknown_reading_is_refused(fn, reading):
    m, d = EX["diag"].model, EX["diag"].data
    with pytest.raises(ValueError, match=r"^`reading` must be one of 'pointwise', 'escort', "
                                         r"'cross_entropy', got "):
        fn(m, d, 0.5, reading=reading)


@FAMILIES
@WHERE
@given(p=st.data(), alpha=strat.alphas)
@example(p=None, alpha=1.0)
@example(p=None, alpha=1.0 + 1e-12)
def test_relbo_below_log_evidence(family, where, p, alpha):
    prob = EX[family] if p is None else p.draw(strat.problems(diagonal=family == "diag"))
    m, d = prob.model, pick(prob, where)
    tol = RTOL * scale(m, d, alpha)
    ll = scalar(gr.log_evidence(m, d))
    assert close(ll, ref_log_evidence(m, d), RTOL * (1 + abs(ref_log_evidence(m, d))))
    rel = scalar(gr.relbo(m, d, alpha))
    assert rel <= ll + 1e-12 * scale(m, d, alpha)
    if where == "point":
        # Theory §3 second line: log p(x) - RELBO = KL(q || pi_alpha) / alpha, pi_alpha the
        # escort N(m(x), sigma^2 M^-1 / alpha)
        x = prob.x
        kl = gauss_kl(m.V @ x + m.c, cov_q(m), gain(m) @ (x - m.b), post_cov(m) / alpha)
        assert close(ll - rel, kl / alpha, tol)


@FAMILIES
@WHERE
@given(p=st.data(), alpha=strat.alphas, other=strat.alphas)
@example(p=None, alpha=1.0, other=0.5)
@example(p=None, alpha=0.3, other=1.0 - 1e-12)
def test_tight_at_escort_encoder(family, where, p, alpha, other):
    prob = EX[family] if p is None else p.draw(strat.problems(diagonal=family == "diag"))
    m0 = prob.model
    M = M_of(m0)
    V = np.linalg.solve(M, m0.W.T)
    Dstar = np.linalg.solve(M, m0.sigma2 * np.eye(m0.k)) / alpha
    esc = m0.replace(V=V, c=-V @ m0.b, D=0.5 * (Dstar + Dstar.T), encoder_cov="full")
    d = pick(prob, where)
    ll = ref_log_evidence(esc, d)
    assert close(scalar(gr.relbo(esc, d, alpha)), ll, RTOL * scale(esc, d, alpha))
    # at another order the gap is KL(pi_alpha || pi_other) / other, r = other / alpha:
    # (k / (2 other)) (r - 1 - log r)
    r = other / alpha
    gap = 0.5 * m0.k / other * (r - 1 - np.log(r))
    assert close(scalar(gr.relbo(esc, d, other)), ll - gap, RTOL * scale(esc, d, other))


# ---- the ELBO and its relatives ---------------------------------------------------------------

@FAMILIES
@WHERE
@given(p=st.data(), beta=st.one_of(st.just(1.0), st.floats(0.05, 20.0)))
def test_elbo_identities(family, where, p, beta):
    prob = p.draw(strat.problems(diagonal=family == "diag"))
    m, d = prob.model, pick(prob, where)
    tol = RTOL * scale(m, d)
    e = scalar(gr.elbo(m, d))
    assert scalar(gr.relbo(m, d, 1.0)) == e                   # exactly
    assert scalar(gr.beta_elbo(m, d, 1.0)) == e               # exactly
    dist, rate = scalar(gr.distortion(m, d)), scalar(gr.rate(m, d))
    assert close(e, -dist - rate, 4 * np.finfo(float).eps * (abs(dist) + abs(rate)))
    assert close(dist, ref_distortion(m, d), tol)
    assert close(rate, ref_rate(m, d), tol)
    assert rate >= -tol                                       # a KL divergence
    assert close(scalar(gr.beta_elbo(m, d, beta)),
                 -ref_distortion(m, d) - beta * ref_rate(m, d), tol * (1 + beta))
    if where == "point":
        x = prob.x
        assert close(e, pointwise_elbo(m, x), tol)
        # ELBO = log p(x) - KL(q || p(z|x))
        kl = gauss_kl(m.V @ x + m.c, cov_q(m), gain(m) @ (x - m.b), post_cov(m))
        assert close(e, ref_log_evidence(m, x) - kl, tol)


# ---- alpha -> 1 --------------------------------------------------------------------------------

@FAMILIES
@WHERE
@given(p=st.data())
def test_first_order_in_alpha(family, where, p):
    """(RELBO_a - ELBO)/(a-1) -> H(p(z|x)) - H(q), with an error linear in t = a - 1.

    Exactly, err(t) = (RELBO_a - ELBO)/t - coef = t (B1 - (k/2) g(t)) / a with
    B1 = H(q) - H(p(z|x)), coef = -B1 and g(t) = (t - log1p t)/t^2 -> 1/2, so
    err(t)/t -> c1 = B1 - k/4, and |err(t)/t - c1| <= 2 |t| (|B1| + k) for |t| <= 0.1.
    Checked by subtracting the two bounds (t = 1e-1 .. 1e-3, where the subtraction keeps
    enough digits) and with ``relbo_expansion``'s cancellation-free difference (t down to 1e-8).
    """
    prob = p.draw(strat.problems(diagonal=family == "diag"))
    m, d = prob.model, pick(prob, where)
    eps = np.finfo(float).eps
    e = scalar(gr.elbo(m, d))
    b1 = shannon(cov_q(m)) - shannon(post_cov(m))
    coef, c1 = -b1, b1 - m.k / 4
    sc = scale(m, d)
    errs = {}
    for t in (1e-1, 1e-2, 1e-3):
        for sign in (1.0, -1.0):
            a = 1.0 + sign * t
            ta = a - 1.0                                      # exact
            err = (scalar(gr.relbo(m, d, a)) - e) / ta - coef
            # rounding: of the subtraction (64 eps sc, divided by t twice) and of coef
            rounding = 64 * eps * sc / t**2 + RTOL * sc / t
            assert abs(err / ta - c1) <= 2 * t * (abs(b1) + m.k) + rounding
            errs[sign * t] = err
    pkg_coef = None
    for t in (1e-4, 1e-6, 1e-8):
        for sign in (1.0, -1.0):
            a = 1.0 + sign * t
            ta = a - 1.0
            diff, pkg_coef, _ = gr.relbo_expansion(m, d, a)
            err = float(diff) / ta - float(pkg_coef)
            rounding = 8 * eps * (abs(b1) + m.k) / t + RTOL * sc
            assert abs(err / ta - c1) <= 2 * t * (abs(b1) + m.k) + rounding
            errs[sign * t] = err
    assert close(pkg_coef, coef, RTOL * sc)
    # the error shrinks linearly: a decade in t is a decade in the error when the linear term
    # dominates the quadratic one (|c1| >= 0.2 (|B1| + k), so within 10% at t = 1e-2)
    if abs(c1) >= 0.2 * (abs(b1) + m.k):
        for sign in (1.0, -1.0):
            assert 8 < errs[sign * 1e-2] / errs[sign * 1e-3] < 12.5
            assert 80 < errs[sign * 1e-4] / errs[sign * 1e-6] < 125


@FAMILIES
@WHERE
@given(p=st.data(), alpha=st.one_of(strat.alphas, strat.orders_near_one))
@example(p=None, alpha=1.0)
@example(p=None, alpha=1.0 - 1e-12)
def test_relbo_expansion(family, where, p, alpha):
    prob = EX[family] if p is None else p.draw(strat.problems(diagonal=family == "diag"))
    m, d = prob.model, pick(prob, where)
    sc = scale(m, d, alpha)
    diff, coef, rem = gr.relbo_expansion(m, d, alpha)
    diff, coef, rem = scalar(diff), scalar(coef), scalar(rem)
    b1 = shannon(cov_q(m)) - shannon(post_cov(m))
    t = alpha - 1.0
    assert close(coef, -b1, RTOL * sc)
    # difference = relbo - elbo, up to the rounding of that subtraction
    assert close(diff, scalar(gr.relbo(m, d, alpha)) - scalar(gr.elbo(m, d)),
                 8 * np.finfo(float).eps * sc)
    # difference = (1 - a)/a [B1 - (k/2)(ell(a) - 1)] and remainder = (t^2/a)(B1 - (k/2) g(t)),
    # both free of cancellation in this form; errors relative to their own scales
    assert close(diff, -t / alpha * (b1 - 0.5 * m.k * (ell_mp(alpha) - 1.0)),
                 RTOL * abs(t) / alpha * (abs(b1) + m.k * (1 + abs(ell_mp(alpha)))))
    assert close(rem, t * t / alpha * (b1 - 0.5 * m.k * deficit_mp(t)),
                 RTOL * t * t / alpha * (abs(b1) + m.k))
    if alpha == 1.0:
        assert diff == 0.0 and rem == 0.0


@FAMILIES
@WHERE
@given(p=st.data())
def test_no_jump_across_one(family, where, p):
    prob = p.draw(strat.problems(diagonal=family == "diag"))
    m, d = prob.model, pick(prob, where)
    e = scalar(gr.elbo(m, d))
    for a in (1.0 + 1e-12, 1.0 - 1e-12, 1.0 + 2**-52, 1.0 - 2**-53):
        assert abs(scalar(gr.relbo(m, d, a)) - e) <= 1e-10 * (1 + abs(e))


# ---- one latent dimension: quadrature -----------------------------------------------------------

def _quad(f, centre, sd):
    lo, hi = centre - 40 * sd, centre + 40 * sd
    val, _ = integrate.quad(f, lo, hi, points=[centre], epsabs=0.0, epsrel=1e-12, limit=400)
    return val


@FAMILIES
@given(p=st.data(), alpha=strat.alphas, vr_alpha=st.floats(0.02, 0.98))
def test_one_latent_by_quadrature(family, p, alpha, vr_alpha):
    """k = 1: RELBO = E_q log p(x,z) + H(q)/alpha - (1/alpha) log int p(z|x)^alpha dz (Theory §3)
    and the VR bound (1/(1-a)) log int q^a p(x,z)^(1-a) dz, every integral by quadrature of
    densities written with scipy.stats."""
    prob = p.draw(strat.problems(k=1, diagonal=family == "diag"))
    m, x = prob.model, prob.x
    w, sd_q = m.W[:, 0], float(np.sqrt(cov_q(m)[0, 0]))
    mq = float(m.V[0] @ x + m.c[0])
    logpx = ref_log_evidence(m, x)
    r0 = x - m.b
    # log N(x; w z + b, sigma2 I) + log N(z; 0, 1) and log N(z; mq, sd_q^2), written out (scalar
    # z: scipy's frozen densities cost ~50 us a call and quad makes thousands)
    c_joint = -0.5 * m.n * np.log(2 * np.pi * m.sigma2) - 0.5 * LOG2PI
    c_q = -0.5 * LOG2PI - np.log(sd_q)
    ww, wr, rr = float(w @ w), float(w @ r0), float(r0 @ r0)

    def log_joint(z):
        return c_joint - (rr - 2 * z * wr + z * z * ww) / (2 * m.sigma2) - 0.5 * z * z

    def log_q(z):
        return c_q - 0.5 * ((z - mq) / sd_q) ** 2

    e_joint = _quad(lambda z: np.exp(log_q(z)) * log_joint(z), mq, sd_q)
    h_q = _quad(lambda z: -np.exp(log_q(z)) * log_q(z), mq, sd_q)
    # the posterior is located from the joint itself: mode and curvature of log p(x, z)
    prec = (w @ w) / m.sigma2 + 1.0
    mp = float(w @ (x - m.b)) / m.sigma2 / prec
    sd_p = 1.0 / np.sqrt(prec)
    z_alpha = _quad(lambda z: np.exp(alpha * (log_joint(z) - logpx)), mp, sd_p / np.sqrt(alpha))
    ref = e_joint + h_q / alpha - np.log(z_alpha) / alpha
    assert close(gr.relbo(m, x, alpha), ref, QTOL * scale(m, x, alpha))
    # Li & Turner, a in (0, 1): the integrand q^a p^(1-a) lies between the two Gaussians
    a = vr_alpha
    centre, sd = 0.5 * (mq + mp), 0.5 * abs(mq - mp) + max(sd_q, sd_p)
    integral = _quad(lambda z: np.exp(a * log_q(z) + (1 - a) * (log_joint(z) - logpx)),
                     centre, sd)
    ref_vr_q = logpx + np.log(integral) / (1 - a)
    assert close(gr.vr_bound(m, x, a), ref_vr_q, QTOL * scale(m, x))


# ---- Li & Turner's VR bound --------------------------------------------------------------------

@FAMILIES
@WHERE
@given(p=st.data(), alpha=strat.vr_orders)
def test_vr_bound_closed_form(family, where, p, alpha):
    prob = p.draw(strat.problems(diagonal=family == "diag"))
    m, d = prob.model, pick(prob, where)
    got = scalar(gr.vr_bound(m, d, alpha))
    assert not np.isnan(got)
    if alpha == 1.0:
        ref = -ref_distortion(m, d) - ref_rate(m, d)
    else:
        S1, S2 = cov_q(m), post_cov(m)
        lam = np.linalg.eigvalsh(alpha * S2 + (1 - alpha) * S1)[0]
        if abs(lam) <= 1e-9 * np.abs(np.linalg.eigvalsh(S1)).max():
            return                                            # on the boundary: either is right
        ref = ref_vr(m, d, alpha)
    if np.isinf(ref):
        assert got == ref
    else:
        # the closed form divides by alpha - 1: its own rounding grows like 1/|alpha - 1|
        amp = 1.0 if alpha == 1.0 else 1 + 1 / abs(alpha - 1)
        tol = RTOL * scale(m, d) * (1 + abs(alpha)) * amp
        assert close(got, ref, tol)


@FAMILIES
@WHERE
@given(p=st.data())
def test_vr_bound_limits_and_monotone(family, where, p):
    prob = p.draw(strat.problems(diagonal=family == "diag"))
    m, d = prob.model, pick(prob, where)
    sc = scale(m, d)
    assert close(gr.vr_bound(m, d, 0.0), ref_log_evidence(m, d), RTOL * sc)
    e = -ref_distortion(m, d) - ref_rate(m, d)
    assert close(gr.vr_bound(m, d, 1.0), e, RTOL * sc)
    # continuity at 1: within 1e-12 times (10 x) the secant slope over 1e-3 of the ELBO
    h = 1e-3
    slopes = [abs(float(gr.vr_bound(m, d, 1.0 + s * h)) - e) / h for s in (1.0, -1.0)]
    slope = max(v for v in slopes if np.isfinite(v))
    for a in (1.0 + 1e-12, 1.0 - 1e-12):
        assert close(gr.vr_bound(m, d, a), e, 10 * slope * 1e-12 + RTOL * sc)
    grid = np.concatenate([np.linspace(-2.0, 4.0, 61), [1 - 1e-9, 1 - 1e-12, 1 + 1e-12,
                                                        1 + 1e-9, 0.0, 1.0]])
    grid.sort()
    vals = gr.vr_bound(m, d, grid)
    assert vals.shape == grid.shape
    assert not np.any(np.isnan(vals))
    assert not np.any(vals[grid > 1] == np.inf) and not np.any(vals[grid < 0] == -np.inf)
    assert np.all(np.isfinite(vals[(grid >= 0) & (grid <= 1)]))
    for lo, hi in zip(vals[:-1], vals[1:]):          # non-increasing, infinities included
        if np.isfinite(lo) and np.isfinite(hi):
            assert hi <= lo + 1e-12 * sc
        else:
            assert lo == np.inf or hi == -np.inf
    # the VR bound at alpha in [0, 1] sits between the ELBO and log p(x)
    inner = vals[(grid >= 0) & (grid <= 1)]
    assert np.all(inner <= ref_log_evidence(m, d) + 1e-12 * sc)
    assert np.all(inner >= e - 1e-12 * sc)


@FAMILIES
@WHERE
@given(p=st.data(), widen=st.floats(1.5, 100.0), alpha=st.floats(1.05, 6.0))
def test_vr_bound_minus_inf_for_wide_q(family, where, p, widen, alpha):
    """alpha > 1 with q wider than alpha/(alpha-1) times the posterior in some direction:
    the expectation diverges, -inf (never NaN, never finite)."""
    prob = p.draw(strat.problems(diagonal=family == "diag"))
    m0, d = prob.model, pick(prob, where)
    S2 = post_cov(m0)
    top = np.linalg.eigvalsh(S2)[-1]
    # a q at least `widen` * alpha/(alpha-1) times the largest posterior variance, everywhere
    f = widen * alpha / (alpha - 1) * top
    D = f * np.ones(m0.k) if m0.diagonal else f * (np.eye(m0.k) + cov_q(m0))
    m = m0.replace(D=D)
    assert np.linalg.eigvalsh(alpha * S2 + (1 - alpha) * cov_q(m))[-1] < 0
    assert gr.vr_bound(m, d, alpha) == -np.inf
    vals = gr.vr_bound(m, d, np.array([0.0, 0.5, 1.0, alpha]))
    assert np.all(np.isfinite(vals[:3])) and vals[3] == -np.inf


# ---- population = exact sample average --------------------------------------------------------

OBJECTIVES = {
    "relbo": lambda m, d, a: gr.relbo(m, d, a),
    "elbo": lambda m, d, a: gr.elbo(m, d),
    "beta_elbo": lambda m, d, a: gr.beta_elbo(m, d, 2.5),
    "beta_elbo_small": lambda m, d, a: gr.beta_elbo(m, d, 0.3),
    "log_evidence": lambda m, d, a: gr.log_evidence(m, d),
    "rate": lambda m, d, a: gr.rate(m, d),
    "distortion": lambda m, d, a: gr.distortion(m, d),
    "renyi_term": lambda m, d, a: gr.renyi_term(m, d, a),
    "vr_bound": lambda m, d, a: gr.vr_bound(m, d, 0.5),
    "vr_bound_neg": lambda m, d, a: gr.vr_bound(m, d, -0.5),
    "vr_bound_above": lambda m, d, a: gr.vr_bound(m, d, 1.5),
    "expansion_diff": lambda m, d, a: gr.relbo_expansion(m, d, a)[0],
    "expansion_coef": lambda m, d, a: gr.relbo_expansion(m, d, a)[1],
    "expansion_rem": lambda m, d, a: gr.relbo_expansion(m, d, a)[2],
}


@FAMILIES
@given(p=st.data(), alpha=strat.alphas)
def test_population_is_sample_average(family, p, alpha):
    m = p.draw(strat.models(diagonal=family == "diag"))
    X = p.draw(strat.samples(m.n))
    data = gr.DataMoments.from_samples(X, ddof=0)
    for name, f in OBJECTIVES.items():
        pop = scalar(f(m, data, alpha))
        pts = np.asarray(f(m, X, alpha))
        assert pts.shape == (X.shape[0],), name
        assert not np.any(np.isnan(pts)), name
        if np.all(np.isinf(pts)):
            assert pop == pts[0], name                     # the same infinity everywhere
            continue
        assert np.all(np.isfinite(pts)) and np.isfinite(pop), name
        ref = float(np.mean(pts))
        assert abs(pop - ref) <= 1e-10 * (1 + float(np.mean(np.abs(pts)))), (name, pop, ref)
    # and the per-point values are the per-point references
    for i in range(min(3, X.shape[0])):
        assert close(gr.log_evidence(m, X[i]), ref_log_evidence(m, X[i]),
                     RTOL * (1 + abs(ref_log_evidence(m, X[i]))))


# ---- batches -------------------------------------------------------------------------------

def _stack(probs):
    ms = [q.model for q in probs]
    return gr.LinearGaussianVAE(np.stack([q.W for q in ms]), np.stack([q.b for q in ms]),
                                np.array([q.sigma2 for q in ms]), V=np.stack([q.V for q in ms]),
                                c=np.stack([q.c for q in ms]), D=np.stack([q.D for q in ms]),
                                encoder=ms[0].encoder)


# name: (objective, whether it takes an order/weight that broadcasts)
BATCHED = {
    "relbo": (lambda m, d, a: gr.relbo(m, d, a), True),
    "elbo": (lambda m, d, a: gr.elbo(m, d), False),
    "beta_elbo": (lambda m, d, a: gr.beta_elbo(m, d, a), True),
    "log_evidence": (lambda m, d, a: gr.log_evidence(m, d), False),
    "rate": (lambda m, d, a: gr.rate(m, d), False),
    "distortion": (lambda m, d, a: gr.distortion(m, d), False),
    "renyi_term": (lambda m, d, a: gr.renyi_term(m, d, a), True),
    "vr_bound": (lambda m, d, a: gr.vr_bound(m, d, a), True),
    "expansion_diff": (lambda m, d, a: gr.relbo_expansion(m, d, a)[0], True),
    "expansion_coef": (lambda m, d, a: gr.relbo_expansion(m, d, a)[1], False),
    "expansion_rem": (lambda m, d, a: gr.relbo_expansion(m, d, a)[2], True),
}


@given(batch=strat.batches(), alphas=st.lists(strat.alphas, min_size=1, max_size=3))
def test_batches_broadcast_and_equal_the_loop(batch, alphas):
    B, A = len(batch), len(alphas)
    m = _stack(batch)
    assert m.batch_shape == (B,)
    a_col = np.array(alphas)[:, None]                         # (A, 1) against the model's (B,)
    X = np.stack([q.x for q in batch])                        # (B, n): point j for model j
    Xs = X[:, None, :]                                        # (B, 1, n): every point, every model
    data = gr.DataMoments(np.stack([q.data.mean for q in batch]),
                          np.stack([q.data.cov for q in batch]))
    # tolerances: RTOL * scale of each (model j, data, alpha_i), computed once
    tols = {}
    for i, a in enumerate(alphas):
        for j, q in enumerate(batch):
            tols[i, j, "pop"] = RTOL * scale(q.model, q.data, a)
            for jj, qq in enumerate(batch):
                tols[i, j, jj] = RTOL * scale(q.model, qq.x, a)

    def check(got, want, tol, name):
        if np.isinf(want):
            assert got == want, name
        else:
            assert abs(got - want) <= tol, (name, got, want)

    for name, (f, ordered) in BATCHED.items():
        pop = f(m, data, a_col)
        pts = f(m, X, a_col)
        cross = f(m, Xs, a_col[:, None])
        lead = (A,) if ordered else ()
        assert pop.shape == lead + (B,) and pts.shape == lead + (B,), name
        assert cross.shape == lead + (B, B), name
        if not ordered:
            pop, pts, cross = (np.broadcast_to(v, (A,) + v.shape) for v in (pop, pts, cross))
        for i, a in enumerate(alphas):
            for j, q in enumerate(batch):
                check(pop[i, j], float(f(q.model, q.data, a)), tols[i, j, "pop"], name)
                check(pts[i, j], float(f(q.model, q.x, a)), tols[i, j, j], name)
                for jj, qq in enumerate(batch):
                    check(cross[i, jj, j], float(f(q.model, qq.x, a)), tols[i, j, jj], name)
    # a batch of points against one model, one alpha against a batch of models, a batch of
    # alphas against one model
    q0 = batch[0]
    assert gr.elbo(q0.model, X).shape == (B,)
    assert gr.relbo(m, q0.data, alphas[0]).shape == (B,)
    assert gr.relbo(q0.model, q0.data, np.array(alphas)).shape == (A,)


# ---- large batches are evaluated in chunks --------------------------------------------------------

@pytest.mark.parametrize("full", [False, True], ids=["diag", "full"])
@pytest.mark.parametrize("cached_svd", [False, True])
def test_chunked_batches_equal_whole_batches(monkeypatch, full, cached_svd):
    # A batch of 37 models (batch shape (37, 2)) against one data set, in chunks of 8 or whole.
    from gaussrelbo import objectives as O

    rng = np.random.default_rng(7)
    B, n, k = 37, 5, 3
    W = rng.normal(size=(B, 2, n, k))
    if full:
        A = rng.normal(size=(B, 1, k, k))
        D = A @ np.swapaxes(A, -1, -2) + 0.5 * np.eye(k)
    else:
        D = rng.uniform(0.2, 1.0, size=(B, 2, k))
    model = gr.LinearGaussianVAE(W, rng.normal(size=n), rng.uniform(0.3, 2.0, size=(B, 1)),
                                 V=rng.normal(size=(B, 2, k, n)), c=rng.normal(size=k), D=D,
                                 encoder="full" if full else "diagonal")
    data = gr.DataMoments(rng.normal(size=n), np.diag(rng.uniform(0.5, 2.0, n)))
    x = rng.normal(size=n)
    calls = [(gr.relbo, (0.5,)), (gr.elbo, ()), (gr.beta_elbo, (2.0,)), (gr.distortion, ()),
             (gr.rate, ()), (gr.log_evidence, ()), (gr.renyi_term, (3.0,)),
             (gr.vr_bound, (0.5,))]
    whole = {f.__name__: [f(model, d, *o) for d in (data, x)] for f, o in calls}
    monkeypatch.setattr(O, "_CHUNK_ENTRIES", 1)                  # chunks of 8 models
    if cached_svd:
        model.svd
    for f, o in calls:
        for d, want in zip((data, x), whole[f.__name__]):
            got = f(model, d, *o)
            assert got.shape == (B, 2) == want.shape
            np.testing.assert_allclose(got, want, rtol=1e-13, atol=0, err_msg=f.__name__)
