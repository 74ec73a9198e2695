r"""Spectral stationary conditions, first and second derivatives (Theory §8a, §9, §10).

With the optimal encoder substituted (:mod:`derivations.spectral`), each objective of an
axis-aligned decoder is a sum of profiled per-dimension functions of :math:`q = w^2` and
:math:`\sigma^2` (the RELBO's equals the log-likelihood's for every alpha).  Their gradients and
Hessians in :math:`(q, \sigma^2)` are derived here; in w itself, :math:`\partial_w F = 2w\,
\partial_q F` and :math:`\partial_w^2 F = 2\partial_q F + 4q\,\partial_q^2 F`, so at a collapsed
dimension (w = 0) the curvature is :math:`2\partial_q F`.

Stationary conditions solved here: :math:`q = \lambda - \sigma^2` (log-likelihood, RELBO, ELBO),
:math:`q = \lambda - \beta\sigma^2` (beta-ELBO), collapse iff :math:`\lambda \le \beta\sigma^2`,
and with learned :math:`\sigma^2` the fixed point :math:`\sigma^2 = \sum_{j\notin A}\lambda_j /
(n - \beta r)` by the envelope theorem.
"""

import functools

import sympy as sp

from .spectral import beta, f_beta_opt, f_loglik, f_relbo, f_unused, lam, s2, w, w2, v, d

__all__ = ["F_loglik", "F_beta", "F_unused", "grad", "hess", "grad_full", "stationary_w2",
           "sigma2_fixed_point", "cluster_f", "cluster_mu", "check", "check_clusters",
           "check_r_star"]

#: profiled per-dimension functions of (w2, sigma2)
F_loglik = f_loglik.subs(w**2, w2)
F_beta = f_beta_opt.subs(w**2, w2)
F_unused = f_unused


@functools.lru_cache(maxsize=None)
def grad(F, wrt=(w2, s2)):
    """Gradient of F with respect to the tuple ``wrt`` (a tuple of expressions; computed once
    per process)."""
    return tuple(sp.simplify(sp.diff(F, x)) for x in wrt)


@functools.lru_cache(maxsize=None)
def hess(F, wrt=(w2, s2)):
    """Hessian of F with respect to the tuple ``wrt`` (a tuple of tuples, symmetric; computed
    once per process)."""
    return tuple(tuple(sp.simplify(sp.diff(F, x, y)) for y in wrt) for x in wrt)


def grad_full(f):
    """Gradient of an unprofiled per-dimension function in (w, v, d, sigma2)."""
    return [sp.diff(f, x) for x in (w, v, d, s2)]


#: stationary w2 of each profiled function (the non-trivial root)
stationary_w2 = {
    "loglik": sp.solve(sp.diff(F_loglik, w2), w2),
    "beta": sp.solve(sp.diff(F_beta, w2), w2),
}

n, r = sp.symbols("n r", positive=True)
L = sp.Symbol("L", positive=True)        # sum of the eigenvalues of the unused directions
#: learned sigma2 at a beta-ELBO stationary point with r active dimensions (beta = 1: pPCA)
sigma2_fixed_point = L / (n - beta * r)


# ---- column clusters (every stationary point with the Hadamard penalty) ----------------------
#
# A cluster's M-block has constant diagonal m and eigenvalues mu_i (used) and t (c - r times).
# Per used direction the stationarity of F_a = LL - P/(2a) reads
#     lam/mu^2 - 1/mu = (1/m - 1/mu)/a         <=>   f_m(mu) = lam,
# f_m(mu) = mu + (mu^2/m - mu)/a, and m = (sum mu_i + (c - r) t)/c.
mu_, m_, a_, t_, lam_ = sp.symbols("mu m a t lambda", positive=True)
#: the cluster map f_m(mu)
cluster_f = mu_ + (mu_**2 / m_ - mu_) / a_
#: its positive root in mu (the other root is negative: their product is -a lam m)
cluster_mu = (-(a_ - 1) * m_ + sp.sqrt((a_ - 1) ** 2 * m_**2 + 4 * a_ * lam_ * m_)) / 2


def check_clusters():
    """The cluster equation, its root and the learned-noise derivative of a cluster."""
    # per-direction stationarity <=> f_m(mu) = lam
    per_dir = lam_ / mu_**2 - 1 / mu_ - (1 / m_ - 1 / mu_) / a_
    assert sp.simplify(per_dir * a_ * mu_**2 * m_ - (lam_ - cluster_f) * a_ * m_) == 0
    # the root solves f_m(mu) = lam; the product of the two roots is -a lam m < 0
    assert sp.simplify(cluster_f.subs(mu_, cluster_mu) - lam_) == 0
    roots = sp.solve(sp.Eq(cluster_f, lam_), mu_)
    assert len(roots) == 2
    assert sp.simplify(roots[0] * roots[1] + a_ * lam_ * m_) == 0
    # cancellation-free form used when a >= 1: 2 a lam m / ((a - 1) m + sqrt(...))
    stable = 2 * a_ * lam_ * m_ / ((a_ - 1) * m_ + sp.sqrt((a_ - 1) ** 2 * m_**2
                                                           + 4 * a_ * lam_ * m_))
    assert sp.simplify(sp.radsimp(stable - cluster_mu)) == 0
    # mu(m)/m is decreasing in m, so c m = sum mu_i(m) + (c - r) t has one root
    ratio = (cluster_mu / m_).subs(m_, 1 / sp.Symbol("x", positive=True))
    x = sp.Symbol("x", positive=True)
    dr = sp.simplify(sp.diff(ratio, x))
    assert dr.subs({a_: sp.Rational(1, 3), lam_: 2, x: 5}) > 0
    assert dr.subs({a_: 3, lam_: 2, x: sp.Rational(1, 7)}) > 0
    # learned noise: at a stationary W the used directions and the penalty of one cluster
    # contribute (c - r)(1/t - 1/m)/(2a) to dF/dt, here for a cluster of c = 3, r = 2
    mu1, mu2 = sp.symbols("mu1 mu2", positive=True)
    l1, l2 = (cluster_f.subs(mu_, u) for u in (mu1, mu2))
    c, r = 3, 2
    dLL = sum(sp.Rational(1, 2) * (lj / u**2 - 1 / u) for lj, u in ((l1, mu1), (l2, mu2)))
    dP = c / m_ - 1 / mu1 - 1 / mu2 - (c - r) / t_
    assert sp.simplify(dLL - dP / (2 * a_) - (c - r) * (1 / t_ - 1 / m_) / (2 * a_)) == 0


def check_r_star():
    """One step of the r* theorem: with g(R, N) = N log(R/N) (jointly concave) and
    sigma2 = R/N, the value gained by adding direction lambda to a top-r set is at least
    (beta/2) h(lambda/(beta sigma2)), h(x) = x - 1 - log x >= 0."""
    R, N, lamb, bet = sp.symbols("R N lambda beta", positive=True)
    g = N * sp.log(R / N)
    # the gradient bound g(x) - g(y) >= grad g(x).(x - y), x - y = (lambda, beta)
    bound = sp.diff(g, R) * lamb + sp.diff(g, N) * bet
    gain = bet / 2 * sp.log(bet / lamb) + bound / 2
    xx = lamb / (bet * R / N)
    assert sp.simplify(sp.expand_log(gain - bet / 2 * (xx - 1 - sp.log(xx)), force=True)) == 0
    # joint concavity: the Hessian of g is negative semi-definite (det 0, trace < 0)
    H = sp.hessian(g, (R, N))
    assert sp.simplify(H.det()) == 0
    assert sp.simplify(H.trace() + N / R**2 + 1 / N) == 0


def check():
    """Verify the stationary conditions; raises AssertionError otherwise."""
    assert stationary_w2["loglik"] == [lam - s2]
    assert stationary_w2["beta"] == [lam - beta * s2]
    # Each is a maximum along w2: second derivative -1/(2 lam^2) resp. -beta/(2 lam^2).
    for key, F, gamma in (("loglik", F_loglik, 1), ("beta", F_beta, beta)):
        q0 = stationary_w2[key][0]
        assert sp.simplify(sp.diff(F, w2, 2).subs(w2, q0) + gamma / (2 * lam**2)) == 0
    # Collapse: the slope at w2 = 0 has the sign of lam - beta s2, so a dimension grows from 0
    # iff lam > beta sigma2.
    slope0 = sp.simplify(sp.diff(F_beta, w2).subs(w2, 0))
    assert sp.simplify(slope0 - (lam - beta * s2) / (2 * beta * s2**2)) == 0
    # Learned sigma2 (envelope theorem: d/ds2 F(q*(s2), s2) = dF/ds2 at q*).
    active = sp.diff(F_beta, s2).subs(w2, lam - beta * s2)
    assert sp.simplify(active - (beta - 1) / (2 * s2)) == 0
    unused = sp.diff(F_unused, s2)
    # r active dims and n - r unused with total eigenvalue L: r (beta-1)/(2s2) + [-(n-r)/(2s2)
    # + L/(2 s2^2)] = 0.
    total = r * (beta - 1) / (2 * s2) - (n - r) / (2 * s2) + L / (2 * s2**2)
    assert sp.simplify(unused - (-1 / (2 * s2) + lam / (2 * s2**2))) == 0
    roots = sp.solve(total, s2)
    assert len(roots) == 1 and sp.simplify(roots[0] - sigma2_fixed_point) == 0
    # The unprofiled gradients vanish at the profiled optimum (v*, d*, w^2 = lam - s2).
    from .spectral import d_opt_relbo, v_opt
    at = {v: v_opt, d: d_opt_relbo}
    gr = [sp.simplify(g.subs(at).subs(w, sp.sqrt(lam - s2)).rewrite(sp.log))
          for g in grad_full(f_relbo)[:3]]
    assert gr == [0, 0, 0], gr
    check_clusters()
    check_r_star()


def latex():
    """Named LaTeX equations for the docs."""
    names = {s2: r"\sigma^2", lam: r"\lambda", w2: "q"}
    g = grad(F_beta)
    return {
        "stationary-beta-grad": (r"\partial_q f^*_\beta = " + sp.latex(g[0], symbol_names=names)
                                 + r",\quad \partial_{\sigma^2} f^*_\beta = "
                                 + sp.latex(g[1], symbol_names=names)),
        "stationary-points": (r"q^*_{\mathrm{LL}} = \lambda - \sigma^2,\quad q^*_\beta = \lambda -"
                              r" \beta\sigma^2,\quad \text{collapse} \iff \lambda \le \beta\sigma^2"),
        "sigma2-fixed-point": (r"\sigma^2 = " + sp.latex(sigma2_fixed_point, symbol_names={
            L: r"\sum_{j\notin A}\lambda_j"})),
        "cluster-equation": (r"f_m(\mu) = " + sp.latex(cluster_f, symbol_names={a_: "a"})
                             + r" = \lambda,\quad \mu = "
                             + sp.latex(cluster_mu, symbol_names={a_: "a"})),
    }


if __name__ == "__main__":
    check()
    print("stationary conditions verified")
