r"""Spectral stationary conditions, first and second derivatives (DESIGN §8a, §9, §10).

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

import sympy as sp

from .spectral import beta, f_beta_opt, f_loglik, f_relbo, f_unused, lam, s2, w, w2, v, d

__all__ = ["F_loglik", "F_beta", "F_unused", "grad", "hess", "grad_full", "stationary_w2",
           "sigma2_fixed_point", "check"]

#: profiled per-dimension functions of (w2, sigma2)
F_loglik = f_loglik.subs(w**2, w2)
F_beta = f_beta_opt.subs(w**2, w2)
F_unused = f_unused


def grad(F, wrt=(w2, s2)):
    """Gradient of F with respect to ``wrt`` (a list of expressions)."""
    return [sp.simplify(sp.diff(F, x)) for x in wrt]


def hess(F, wrt=(w2, s2)):
    """Hessian of F with respect to ``wrt`` (a list of lists, symmetric)."""
    return [[sp.simplify(sp.diff(F, x, y)) for y in wrt] for x in wrt]


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
    }


if __name__ == "__main__":
    check()
    print("stationary conditions verified")
