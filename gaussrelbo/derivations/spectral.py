r"""Spectral (per-dimension) reductions and optimal encoders (Theory §10).

For W with columns :math:`w_i u_{I(i)}` along eigenvectors of the data covariance, b = the data
mean, encoder mean :math:`v_i u_{I(i)}^T(x-\mu_D)` and :math:`D = \mathrm{diag}(d)`, every population
objective is a sum of one function per latent dimension (on its eigenvalue) plus one per unused
eigen-direction.  The per-dimension functions are derived here from the population closed forms of
:mod:`derivations.closed_forms` at n = k = 1, and the decomposition is checked at n = 3, k = 2.
The optimal encoder of each objective is solved for symbolically and substituted back.
"""

import sympy as sp

from ._common import ell, is_zero
from .closed_forms import Forms
from .renyi_entropy import alpha

__all__ = [
    "lam", "w", "v", "d", "s2", "beta", "w2",
    "neg_dist_i", "rate_i", "f_loglik", "f_unused", "f_elbo", "f_beta", "f_relbo",
    "v_opt", "d_opt_relbo", "v_opt_beta", "d_opt_beta", "f_relbo_opt", "f_beta_opt",
    "rate_ml", "dist_ml", "check",
]

lam, s2, beta = sp.symbols("lam sigma2 beta", positive=True)
w, v = sp.symbols("w v", real=True)
d = sp.Symbol("d", positive=True)
w2 = sp.Symbol("w2", nonnegative=True)          # w**2, the variable of the profiled functions
_LOG2PI = sp.log(2 * sp.pi)

# ---- per-dimension functions (Theory §10) ---------------------------------------------------------
#: minus the distortion of one latent dimension on eigenvalue lam
neg_dist_i = -(_LOG2PI + sp.log(s2)) / 2 - (lam * (1 - w * v) ** 2 + w**2 * d) / (2 * s2)
#: rate (KL to the prior) of one latent dimension
rate_i = (d + v**2 * lam - 1 - sp.log(d)) / 2
#: pPCA log-likelihood of one used eigen-direction
f_loglik = -(_LOG2PI + sp.log(w**2 + s2) + lam / (w**2 + s2)) / 2
#: log-likelihood (= every objective) of one unused eigen-direction
f_unused = -(_LOG2PI + sp.log(s2)) / 2 - lam / (2 * s2)
f_elbo = neg_dist_i - rate_i
f_beta = neg_dist_i - beta * rate_i
#: the Renyi term of one dimension; log((w^2 + s2)/s2) is written log(1 + w^2/s2) (-> log1p)
f_relbo = f_elbo + (1 - alpha) / (2 * alpha) * (sp.log(d) + 1 - ell(alpha)
                                                  + sp.log(1 + w**2 / s2))


def _argmax(f):
    sol = sp.solve([sp.diff(f, v), sp.diff(f, d)], [v, d], dict=True)
    assert len(sol) == 1, sol
    return sp.simplify(sol[0][v]), sp.simplify(sol[0][d])


v_opt, d_opt_relbo = _argmax(f_relbo)
v_opt_beta, d_opt_beta = _argmax(f_beta)
#: profiled RELBO (optimal encoder): equal to f_loglik for every alpha (checked)
f_relbo_opt = f_loglik
#: profiled beta-ELBO (optimal encoder), Theory §10
f_beta_opt = (-(_LOG2PI + sp.log(s2)) / 2 + beta / 2 * sp.log(beta * s2 / (w**2 + beta * s2))
              - beta * lam / (2 * (w**2 + beta * s2)))
#: RELBO rate and distortion of one dimension at the maximum-likelihood point w^2 = lam - s2
rate_ml = ((s2 / lam) * (1 / alpha - 1) + sp.log(alpha * lam / s2)) / 2
dist_ml = (_LOG2PI + sp.log(s2)) / 2 + s2 / (2 * lam) + (lam - s2) / (2 * alpha * lam)


def _zero(expr):
    return is_zero(sp.expand(sp.expand_log(sp.factor_terms(expr), force=True)))


def _block(lam_, w_, v_, d_, s2_):
    """The n = k = 1 population forms of an axis-aligned block (data mean 0, b = 0, c = 0)."""
    M = sp.Matrix
    return Forms(M([[w_]]), M([0]), s2_, M([[v_]]), M([0]), M([[d_]]), M([sp.Symbol("x0")]),
                 M([0]), M([[lam_]]))


def check():
    """Verify the reductions and optimal encoders; raises AssertionError otherwise."""
    pop = _block(lam, w, v, d, s2).population_closed()
    assert _zero(-pop["distortion"] - neg_dist_i)
    assert _zero(pop["rate"] - rate_i)
    assert _zero(pop["loglik"] - f_loglik)
    assert _zero((pop["relbo"] - f_relbo).rewrite(sp.log))
    unused = _block(lam, 0, 0, 1, s2).population_closed()
    assert _zero(-unused["distortion"] - unused["rate"] - f_unused)
    assert _zero(unused["loglik"] - f_unused)

    # Decomposition at n = 3, k = 2: columns on eigen-directions 0 and 2, direction 1 unused.
    lams = sp.symbols("l0:3", positive=True)
    ws, vs = sp.symbols("w0:2", real=True), sp.symbols("v0:2", real=True)
    ds = sp.symbols("d0:2", positive=True)
    Wm = sp.Matrix([[ws[0], 0], [0, 0], [0, ws[1]]])
    f = Forms(Wm, sp.zeros(3, 1), s2, Wm.T.applyfunc(lambda e: 0) + sp.Matrix(
        [[vs[0], 0, 0], [0, 0, vs[1]]]), sp.zeros(2, 1), sp.diag(*ds),
        sp.Matrix(sp.symbols("x0:3")), sp.zeros(3, 1), sp.diag(*lams))
    pop3 = f.population_closed()
    per = [{lam: lams[0], w: ws[0], v: vs[0], d: ds[0]}, {lam: lams[2], w: ws[1], v: vs[1],
                                                          d: ds[1]}]
    for key, fi in (("loglik", f_loglik), ("relbo", f_relbo)):
        total = sum(fi.subs(p) for p in per) + f_unused.subs(lam, lams[1])
        assert _zero((pop3[key] - total).rewrite(sp.log)), key

    # Optimal encoders (Theory §10): solved above, compared with the stated forms.
    m = w**2 + s2
    mb = w**2 + beta * s2
    assert sp.simplify(v_opt - w / m) == 0 and sp.simplify(d_opt_relbo - s2 / (alpha * m)) == 0
    assert sp.simplify(v_opt_beta - w / mb) == 0 and sp.simplify(d_opt_beta - beta * s2 / mb) == 0
    # ... they are maxima: f is concave in (v, d) (negative definite Hessian there).
    for fi, (vo, do) in ((f_relbo, (v_opt, d_opt_relbo)), (f_beta, (v_opt_beta, d_opt_beta))):
        H = sp.hessian(fi, (v, d)).subs({v: vo, d: do})
        assert sp.simplify(H[0, 0]).is_negative and sp.simplify(H.det()).is_positive
    # Profiled values: RELBO* = log-likelihood for every alpha; beta-ELBO* as stated.
    prof = f_relbo.subs({v: v_opt, d: d_opt_relbo})
    assert _zero((prof - f_loglik).rewrite(sp.log))
    assert _zero(f_beta.subs({v: v_opt_beta, d: d_opt_beta}) - f_beta_opt)
    # beta = 1 gives the ELBO, and the ELBO profile is the log-likelihood too.
    assert _zero(f_beta.subs(beta, 1) - f_elbo)
    assert _zero((f_relbo.subs(alpha, 1) - f_elbo).rewrite(sp.log))
    # Rate / distortion split of the RELBO optimum at the ML point w^2 = lam - s2.
    at_ml = {v: v_opt, d: d_opt_relbo}
    ml = {w: sp.sqrt(lam - s2)}
    assert _zero(rate_i.subs(at_ml).subs(ml) - rate_ml)
    assert _zero(-neg_dist_i.subs(at_ml).subs(ml) - dist_ml)


def latex():
    """Named LaTeX equations for the docs."""
    L = sp.latex
    names = {s2: r"\sigma^2", lam: r"\lambda"}
    return {
        "spectral-dist": r"-\mathrm{dist}_i = " + L(neg_dist_i, symbol_names=names),
        "spectral-rate": r"\mathrm{rate}_i = " + L(rate_i, symbol_names=names),
        "spectral-loglik": r"f_{\mathrm{LL}} = " + L(f_loglik, symbol_names=names),
        "spectral-relbo": (r"f_{\mathrm{RELBO}} = f_{\mathrm{ELBO}} + "
                           + L((1 - alpha) / (2 * alpha) * (sp.log(d) + 1 - ell(alpha)
                                                            + sp.log(1 + w**2 / s2)),
                               symbol_names=names)),
        "spectral-optimal": (r"v^* = " + L(v_opt, symbol_names=names) + r",\quad d^*_{\alpha} = "
                             + L(d_opt_relbo, symbol_names=names) + r",\quad v^*_\beta = "
                             + L(v_opt_beta, symbol_names=names) + r",\quad d^*_\beta = "
                             + L(d_opt_beta, symbol_names=names)),
        "spectral-beta-opt": r"f^*_\beta = " + L(f_beta_opt, symbol_names=names),
        "spectral-ml-split": (r"\mathrm{rate}_i = " + L(rate_ml, symbol_names=names)
                              + r",\quad \mathrm{dist}_i = " + L(dist_ml, symbol_names=names)),
    }


if __name__ == "__main__":
    check()
    print("spectral reductions verified")
