r"""Per-datapoint and population closed forms of the linear-Gaussian VAE (Theory §4, §5, §11).

Each closed form is checked against its definition by exact Gaussian expectation rules
(:func:`derivations._common.gauss_expect_vec`: :math:`E z_i = m_i`,
:math:`E z_iz_j = m_im_j + \Sigma_{ij}`), first over :math:`z\sim q(z|x)`, then over the data
:math:`x\sim(\mu_D, S)` (only the first two moments enter: every objective is quadratic in x).
Sizes: fully symbolic at n = 2, k = 1; exact rationals at n = 3, k = 2 with a full encoder
covariance.  The RELBO's direct and escort forms are checked to agree, and the Gaussian Renyi
divergence behind the VR bound is checked by integration at k = 1.
"""

import sympy as sp

from ._common import ell, gauss_expect_vec
from .renyi_entropy import alpha

__all__ = ["Forms", "symbolic_forms", "rational_forms", "check"]

_LOG2PI = sp.log(2 * sp.pi)


def _logdet(A):
    return sp.log(sp.factor(A.det()))


class Forms:
    """All closed forms for one (possibly symbolic) model, data point x and data moments."""

    def __init__(self, W, b, s2, V, c, D, x, mu, S):
        n, k = W.shape
        self.n, self.k = n, k
        self.W, self.b, self.s2, self.V, self.c, self.D = W, b, s2, V, c, D
        self.x, self.mu, self.S = x, mu, S
        self.M = W.T * W + s2 * sp.eye(k)
        self.C = W * W.T + s2 * sp.eye(n)
        self.zs = sp.symbols(f"z0:{k}", real=True)
        self.z = sp.Matrix(self.zs)

    # ---- definitions (log densities, expectations taken by moment rules) ------------------------
    def log_lik(self, z, x):
        r = x - self.b - self.W * z
        return -self.n * _LOG2PI / 2 - self.n * sp.log(self.s2) / 2 - (r.T * r)[0] / (2 * self.s2)

    def log_prior(self, z):
        return -self.k * _LOG2PI / 2 - (z.T * z)[0] / 2

    def log_q(self, z, x):
        e = z - self.V * x - self.c
        return (-self.k * _LOG2PI / 2 - _logdet(self.D) / 2
                - (e.T * self.D.LUsolve(e))[0] / 2)

    def expect_q(self, f, x):
        return gauss_expect_vec(f, self.zs, self.V * x + self.c, self.D)

    def expect_x(self, f):
        return gauss_expect_vec(f, list(self.x), self.mu, self.S)

    def pointwise_by_definition(self):
        x = self.x
        ell_ = self.expect_q(self.log_lik(self.z, x), x)
        kl = self.expect_q(self.log_q(self.z, x) - self.log_prior(self.z), x)
        return {"expected_loglik": ell_, "kl": kl}

    # ---- closed forms (Theory §4, §5) ------------------------------------------------------------
    def pointwise_closed(self):
        n, k, W, s2, D, x = self.n, self.k, self.W, self.s2, self.D, self.x
        mq = self.V * x + self.c
        r = x - self.b - W * mq
        ell_ = (-n * _LOG2PI / 2 - n * sp.log(s2) / 2
                - ((r.T * r)[0] + (W * D * W.T).trace()) / (2 * s2))
        kl = (D.trace() + (mq.T * mq)[0] - k - _logdet(D)) / 2
        return {"expected_loglik": ell_, "kl": kl}

    def log_post_ratio(self):
        """log det(sigma2 M^-1) = sum_i log(sigma2 / (s_i^2 + sigma2))."""
        return self.k * sp.log(self.s2) - _logdet(self.M)

    def population_closed(self):
        n, k, W, s2, V, D, mu, S = self.n, self.k, self.W, self.s2, self.V, self.D, self.mu, self.S
        A = sp.eye(n) - W * V
        rbar = A * mu - W * self.c - self.b
        dist = (n * _LOG2PI / 2 + n * sp.log(s2) / 2
                + ((A * S * A.T).trace() + (rbar.T * rbar)[0] + (W * D * W.T).trace()) / (2 * s2))
        mq = V * mu + self.c
        rate = (D.trace() + (V * S * V.T).trace() + (mq.T * mq)[0] - k - _logdet(D)) / 2
        dm = mu - self.b
        Cinv = self.C.inv()
        ll = -(n * _LOG2PI + _logdet(self.C) + (Cinv * S).trace() + (dm.T * Cinv * dm)[0]) / 2
        relbo = (-dist - rate + (1 - alpha) / (2 * alpha)
                 * (_logdet(D) + k - k * ell(alpha) - self.log_post_ratio()))
        return {"distortion": dist, "rate": rate, "loglik": ll, "relbo": relbo}

    def relbo_escort(self):
        """Theory §5 escort form: LL - (1/(2 alpha)) [tr(Pi D) - k - logdet Pi - logdet D
        + tr(Pi E S E^T) + g^T Pi g]."""
        k, W, s2, D, S = self.k, self.W, self.s2, self.D, self.S
        Minv = self.M.inv()
        E = self.V - Minv * W.T
        g = E * self.mu + self.c + Minv * W.T * self.b
        Pi = alpha * self.M / s2
        logdet_pi = k * sp.log(alpha) - self.log_post_ratio()
        ll = self.population_closed()["loglik"]
        return ll - ((Pi * D).trace() - k - logdet_pi - _logdet(D) + (Pi * E * S * E.T).trace()
                     + (g.T * Pi * g)[0]) / (2 * alpha)


def symbolic_forms():
    """Fully symbolic model at n = 2, k = 1."""
    w = sp.symbols("w0:2", real=True)
    bb = sp.symbols("b0:2", real=True)
    v = sp.symbols("v0:2", real=True)
    x = sp.symbols("x0:2", real=True)
    mu = sp.symbols("mu0:2", real=True)
    c0 = sp.Symbol("c0", real=True)
    d0, s2 = sp.symbols("d0 sigma2", positive=True)
    s00, s11 = sp.symbols("S00 S11", positive=True)
    s01 = sp.Symbol("S01", real=True)
    return Forms(sp.Matrix(2, 1, w), sp.Matrix(bb), s2, sp.Matrix(1, 2, v), sp.Matrix([c0]),
                 sp.Matrix([[d0]]), sp.Matrix(x), sp.Matrix(mu), sp.Matrix([[s00, s01],
                                                                           [s01, s11]]))


def rational_forms():
    """Exact rational model at n = 3, k = 2 with a full encoder covariance and symbolic x."""
    R = sp.Rational
    W = sp.Matrix([[R(3, 2), R(-1, 3)], [R(1, 4), 2], [R(-2, 5), R(1, 2)]])
    b = sp.Matrix([R(1, 3), R(-1, 2), R(1, 7)])
    V = sp.Matrix([[R(1, 2), R(-1, 5), R(1, 3)], [R(1, 6), R(2, 3), R(-1, 4)]])
    c = sp.Matrix([R(-1, 8), R(1, 9)])
    D = sp.Matrix([[R(1, 2), R(1, 10)], [R(1, 10), R(1, 3)]])
    mu = sp.Matrix([R(1, 2), R(-1, 3), R(2, 5)])
    Lf = sp.Matrix([[1, 0, 0], [R(1, 2), R(3, 2), 0], [R(-1, 3), R(1, 4), R(2, 3)]])
    x = sp.Matrix(sp.symbols("x0:3", real=True))
    return Forms(W, b, R(7, 10), V, c, D, x, mu, Lf * Lf.T)


def _zero(expr):
    e = sp.expand(sp.expand_log(expr, force=True))
    return sp.simplify(sp.cancel(sp.together(e))) == 0


def _check_forms(f):
    by_def, closed = f.pointwise_by_definition(), f.pointwise_closed()
    for key in by_def:
        assert _zero(by_def[key] - closed[key]), key
    pop = f.population_closed()
    assert _zero(f.expect_x(-closed["expected_loglik"]) - pop["distortion"])
    assert _zero(f.expect_x(closed["kl"]) - pop["rate"])
    # log p(x) = log N(x; b, C), averaged over the data.
    dx = f.x - f.b
    logpx = -(f.n * _LOG2PI + _logdet(f.C) + (dx.T * f.C.inv() * dx)[0]) / 2
    assert _zero(f.expect_x(logpx) - pop["loglik"])
    # Direct and escort forms of the population RELBO.
    assert _zero((pop["relbo"] - f.relbo_escort()).rewrite(sp.log))


def _check_vr_divergence():
    """Gaussian Renyi divergence D_a(N(m1,S1) || N(m2,S2)) at k = 1 by integration (Theory §11)."""
    a = sp.Symbol("a", positive=True)
    zz, m1, m2 = sp.symbols("z m1 m2", real=True)
    v1, v2 = sp.symbols("v1 v2", positive=True)

    def dens(mean, var):
        return sp.exp(-(zz - mean) ** 2 / (2 * var)) / sp.sqrt(2 * sp.pi * var)

    va = a * v2 + (1 - a) * v1                       # Sigma_alpha, positive when integrable
    closed = (a / 2 * (m1 - m2) ** 2 / va
              - (sp.log(va) - (1 - a) * sp.log(v1) - a * sp.log(v2)) / (2 * (a - 1)))
    # Exact rational points with Sigma_alpha > 0 (a > 1 needs v1 small enough).
    pts = [(sp.Rational(1, 3), 1, sp.Rational(1, 2), sp.Rational(3, 4), 2),
           (sp.Rational(3, 2), -1, 2, sp.Rational(1, 2), sp.Rational(2, 3)),
           (sp.Rational(7, 2), sp.Rational(1, 5), 0, sp.Rational(1, 3), 1)]
    for av, m1v, m2v, v1v, v2v in pts:
        sub = {a: av, m1: m1v, m2: m2v, v1: v1v, v2: v2v}
        integrand = sp.expand((dens(m1, v1) ** a * dens(m2, v2) ** (1 - a)).subs(sub))
        div = sp.log(sp.integrate(integrand, (zz, -sp.oo, sp.oo))) / (av - 1)
        assert abs(sp.N(div - closed.subs(sub), 40)) < sp.Float("1e-35")


def check():
    """Verify every closed form of this module; raises AssertionError otherwise."""
    _check_forms(symbolic_forms())
    f = rational_forms()
    _check_forms(f)
    # Singular values: log det(sigma2 M^-1) = sum_i log(sigma2 / (s_i^2 + sigma2)).
    eig = (f.W.T * f.W).eigenvals(multiple=True)
    assert sp.simplify(sp.prod([e + f.s2 for e in eig]) - f.M.det()) == 0
    _check_vr_divergence()


def latex():
    """Named LaTeX equations for the docs."""
    return {
        "pointwise": (r"E_q\log p(x\mid z) = -\frac n2\log(2\pi\sigma^2) - \frac{1}{2\sigma^2}"
                      r"\Big[\lVert x-b-W(Vx+c)\rVert^2 + \operatorname{tr}(WDW^\top)\Big],\quad"
                      r" \mathrm{KL}(q\,\|\,p(z)) = \frac12\Big[\operatorname{tr}D + \lVert Vx+c"
                      r"\rVert^2 - k - \log\det D\Big]"),
        "population": (r"\mathrm{RELBO}_\alpha = -\mathrm{Dist} - R + \frac{1-\alpha}{2\alpha}"
                       r"\Big[\log\det D + k - k\,\ell(\alpha) - \sum_i\log\frac{\sigma^2}"
                       r"{s_i^2+\sigma^2}\Big]"),
        "escort": (r"\mathrm{RELBO}_\alpha = \mathrm{LL} - \frac{1}{2\alpha}\Big[\operatorname{tr}"
                   r"(\Pi D) - k - \log\det\Pi - \log\det D + \operatorname{tr}(\Pi E S E^\top)"
                   r" + g^\top\Pi g\Big],\quad \Pi = \alpha M/\sigma^2"),
        "vr-divergence": (r"D_\alpha = \frac\alpha2\,\delta^\top\Sigma_\alpha^{-1}\delta - \frac{"
                          r"\log\det\Sigma_\alpha - (1-\alpha)\log\det\Sigma_1 - \alpha\log\det"
                          r"\Sigma_2}{2(\alpha-1)}"),
    }


if __name__ == "__main__":
    check()
    print("closed forms verified")
