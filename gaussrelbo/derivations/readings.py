"""Three readings of "a Renyi-entropy VAE", derived and checked with sympy.

Usage::

    python -m gaussrelbo.derivations.readings [--root DIR] [--no-check]

runs :func:`check` (every statement below is simplified to 0, expanded in a series, or solved by
sympy) and writes the LaTeX to ``docs/derivations/readings.md`` (temporary file, then rename).

The three readings, each returning to the ELBO as alpha -> 1:

* ``pointwise``: the chain rule alpha log p(x) = log int p(x,z)^alpha - log int p(z|x)^alpha plus
  Jensen with q; RELBO = log p(x) - KL(q || pi_alpha)/alpha, pi_alpha ~ p(z|x)^alpha.
* ``escort``: Jensen with the escort q_alpha ~ q^alpha of the encoder;
  RELBO^E(V, c, D) = RELBO(V, c, D/alpha) = log p(x) - KL(q_alpha || pi_alpha)/alpha.
* ``cross_entropy``: the data-level log-mean-exp aggregation
  L^CE = -(1/(1-alpha)) log E_{p_D} exp(-(1-alpha) RELBO(x)), a lower bound on the Renyi
  cross-entropy term -(1/(1-alpha)) log E_{p_D} p(x)^(alpha-1).

Everything is reduced to one eigen-direction (the per-direction spectral functions): a data
direction of variance lam, decoder column norm w (m = w^2 + sigma^2 the model variance of that
direction), encoder gain v and variance d.  The script is self-contained (its own symbols), so it
does not depend on the layout of the other derivation scripts.
"""

import argparse
import os
import sys
import tempfile
from pathlib import Path

import sympy as sp

__all__ = ["alpha", "lam", "s2", "w", "v", "d", "x", "t", "c", "statements", "check", "latex",
           "main"]

alpha = sp.Symbol("alpha", positive=True)
lam = sp.Symbol("lambda", positive=True)
s2 = sp.Symbol("sigma^2", positive=True)
w = sp.Symbol("w", real=True)
v = sp.Symbol("v", real=True)
d = sp.Symbol("d", positive=True)
x = sp.Symbol("x", real=True)
t = sp.Symbol("t", real=True)          # t = 1 - alpha in the cross-entropy reading
c = sp.Symbol("c", positive=True)      # model variance of one direction, c = w^2 + sigma^2
beta = sp.Symbol("beta", positive=True)

m = w**2 + s2
ell = sp.log(alpha) / (alpha - 1)     # l(alpha); l(1) = 1 by continuity


def _zero(expr):
    e = sp.expand_log(sp.expand(expr), force=True)
    return sp.simplify(e) == 0


def _gauss_kl(m1, v1, m2, v2):
    """KL(N(m1, v1) || N(m2, v2)) in one dimension."""
    return (v1 / v2 + (m1 - m2) ** 2 / v2 - 1 + sp.log(v2 / v1)) / 2


def _mean_over_x(expr):
    """E over x ~ N(0, lam) of a polynomial of degree <= 2 in x (exact)."""
    poly = sp.Poly(sp.expand(expr), x)
    if poly.degree() > 2:
        raise ValueError("expected a quadratic in x")
    mom = {0: 1, 1: 0, 2: lam}
    return sp.expand(sum(cf * mom[mo[0]] for mo, cf in zip(poly.monoms(), poly.coeffs())))


# ---- one direction, per datapoint (b = mu_D = 0, x the coordinate along the eigenvector) --------

log_px = -sp.log(2 * sp.pi * m) / 2 - x**2 / (2 * m)           # marginal N(0, m)
post_mean, post_var = w * x / m, s2 / m                          # p(z|x)
exp_loglik = (-sp.log(2 * sp.pi * s2) / 2
              - ((x - w * v * x) ** 2 + w**2 * d) / (2 * s2))   # E_q log p(x|z)
kl_prior = _gauss_kl(v * x, d, 0, 1)
H_q = sp.log(2 * sp.pi * sp.E * d) / 2
H_post = sp.log(2 * sp.pi * sp.E * post_var) / 2
H_post_alpha = sp.log(2 * sp.pi * post_var) / 2 + ell / 2        # Renyi entropy of order alpha

elbo_x = exp_loglik - kl_prior
relbo_x = elbo_x + (1 - alpha) / alpha * (H_q - H_post_alpha)   # pointwise reading
relbo_kl_x = log_px - _gauss_kl(v * x, d, post_mean, post_var / alpha) / alpha
escort_x = relbo_x.subs(d, d / alpha)                             # escort reading
escort_kl_x = log_px - _gauss_kl(v * x, d / alpha, post_mean, post_var / alpha) / alpha

# ---- population forms over x ~ N(0, lam) -------------------------------------------------------

elbo_pop = _mean_over_x(elbo_x)
relbo_pop = _mean_over_x(relbo_x)
escort_pop = _mean_over_x(escort_x)
loglik_pop = -sp.log(2 * sp.pi * m) / 2 - lam / (2 * m)

# optimal encoders (stationary in v and d)
v_opt = w / m
d_opt_pointwise = s2 / (alpha * m)
d_opt_escort = s2 / m

# ---- cross-entropy reading, one direction, optimal encoder (c = model variance) ----------------
# With the optimal encoder RELBO(x) = log p(x) - P/(2 alpha) (P = 0 in one direction), so
# exp(-(1-alpha) RELBO(x)) is a Gaussian in x and its average over N(0, lam) is exact.

relbo_opt_x = -sp.log(2 * sp.pi * c) / 2 - x**2 / (2 * c)
f_ce = -sp.log(2 * sp.pi * c) / 2 + sp.log(1 - t * lam / c) / (2 * t)     # t = 1 - alpha
f_ce_alpha = f_ce.subs(t, 1 - alpha)
c_opt_ce = (2 - alpha) * lam
f_ce_opt = sp.simplify(f_ce_alpha.subs(c, c_opt_ce))

# learned sigma^2: every discarded direction has model variance sigma^2
lam1, lam2, lam3 = sp.symbols("lambda_1 lambda_2 lambda_3", positive=True)
discarded = (lam1, lam2, lam3)
f_discarded = sum(f_ce_alpha.subs({c: s2, lam: lj}) for lj in discarded)
sigma2_equation = sum(((2 - alpha) * lj - s2) / (s2 - (1 - alpha) * lj) for lj in discarded)


def statements():
    """``[(title, latex)]``: the derived equations, in the order the docs present them."""
    L = sp.latex
    al = sp.Symbol(r"\alpha")
    return [
        ("Pointwise reading, one direction (population over the data)",
         r"\mathrm{RELBO}_\alpha = \mathrm{ELBO} + \frac{1-\alpha}{2\alpha}\Big[\log d + 1 "
         r"- \ell(\alpha) + \log\frac{w^2+\sigma^2}{\sigma^2}\Big]"
         r" = \mathbb E\log p(x) - \tfrac1\alpha\,\mathbb E\,\mathrm{KL}(q\,\|\,\pi_\alpha)"),
        ("Escort reading", r"\mathrm{RELBO}^E_\alpha(v, d) = \mathrm{RELBO}_\alpha(v, d/\alpha)"
         r" = \log p(x) - \tfrac1\alpha\,\mathrm{KL}(q_\alpha\,\|\,\pi_\alpha)"),
        ("Optimal encoders", r"v^* = \frac{w}{w^2+\sigma^2},\quad d^*_{\rm pointwise} = "
         r"\frac{\sigma^2}{\alpha(w^2+\sigma^2)},\quad d^*_{\rm escort} = "
         r"\frac{\sigma^2}{w^2+\sigma^2}\ \text{(the exact posterior, every }\alpha)"),
        ("alpha -> 1, pointwise",
         r"\mathrm{RELBO}_\alpha = \mathrm{ELBO} + (\alpha-1)\big[H(p(z|x)) - H(q)\big] "
         r"+ O((\alpha-1)^2)"),
        ("alpha -> 1, escort",
         r"\mathrm{RELBO}^E_\alpha = \mathrm{ELBO} + (\alpha-1)\Big[H(p(z|x)) - H(q) + "
         r"\tfrac12\big(\tfrac{\operatorname{tr}(MD)}{\sigma^2} - k\big)\Big] + O((\alpha-1)^2)"),
        ("Cross-entropy reading, definition",
         r"L^{CE}_\alpha = -\frac{1}{1-\alpha}\log \mathbb E_{p_D}\, e^{-(1-\alpha)\,"
         r"\mathrm{RELBO}_\alpha(x)} \;\le\; -\frac{1}{1-\alpha}\log\mathbb E_{p_D}\,"
         r"p(x)^{\alpha-1}"),
        ("alpha -> 1, cross-entropy",
         r"L^{CE}_\alpha = \mathbb E\,\mathrm{RELBO}_\alpha - \frac{1-\alpha}{2}"
         r"\operatorname{Var}_{p_D}\mathrm{RELBO}_\alpha(x) + O((\alpha-1)^2)"),
        ("Cross-entropy, one direction (optimal encoder, model variance c)",
         "f^{CE}_\\alpha(\\lambda, c) = " + L(f_ce_alpha.subs(alpha, al))),
        ("Cross-entropy, Gaussian data, optimal diagonal encoder",
         r"L^{CE}_\alpha = -\tfrac n2\log 2\pi - \tfrac12\log\det C + "
         r"\frac{\log\det(I - (1-\alpha)SC^{-1})}{2(1-\alpha)} - \frac{P}{2\alpha},\qquad "
         r"P = \sum_i\log M_{ii} - \log\det M"),
        ("Domain", r"I - (1-\alpha)SC^{-1} \succ 0\ \ (\text{automatic for } \alpha \ge 1),"
         r"\qquad 0 < \alpha < 2\ \text{(bounded above)};\quad \text{finite Monte Carlo "
         r"variance iff } C \succ 2(1-\alpha)S"),
        ("Cross-entropy stationary point and collapse",
         r"c^* = (2-\alpha)\lambda,\quad w^2 = \max\big((2-\alpha)\lambda - \sigma^2, 0\big),"
         r"\quad \text{collapse iff } \lambda \le \frac{\sigma^2}{2-\alpha}"),
        ("Cross-entropy value at the stationary point",
         "f^{CE}_\\alpha(\\lambda, c^*) = " + L(f_ce_opt.subs(alpha, al))),
        ("Cross-entropy, learned sigma^2 (discarded directions j, active set A)",
         r"\sum_{j\notin A}\frac{(2-\alpha)\lambda_j - \sigma^2}{\sigma^2 - (1-\alpha)\lambda_j}"
         r" = 0 \quad(\alpha = 1:\ \sigma^2 = \text{mean of the discarded }\lambda_j)"),
    ]


def check():
    """Check every statement; raise AssertionError naming the first that fails."""
    # pointwise identity and escort identity (per datapoint, exact)
    assert _zero(relbo_x - relbo_kl_x), "pointwise identity"
    assert _zero(escort_x - escort_kl_x), "escort identity"
    # alpha = 1 gives the ELBO for both
    assert _zero(sp.limit(relbo_pop - elbo_pop, alpha, 1)), "pointwise -> ELBO"
    assert _zero(sp.limit(escort_pop - elbo_pop, alpha, 1)), "escort -> ELBO"
    # first-order terms
    a1 = sp.Symbol("a1")
    ser_p = sp.series(relbo_x.subs(alpha, 1 + a1), a1, 0, 2).removeO()
    assert _zero(ser_p.coeff(a1, 0) - elbo_x), "pointwise order 0"
    assert _zero(ser_p.coeff(a1, 1) - (H_post - H_q)), "pointwise first order"
    ser_e = sp.series(escort_x.subs(alpha, 1 + a1), a1, 0, 2).removeO()
    assert _zero(ser_e.coeff(a1, 0) - elbo_x), "escort order 0"
    assert _zero(ser_e.coeff(a1, 1) - (H_post - H_q + (m * d / s2 - 1) / 2)), \
        "escort first order"
    # optimal encoders
    for f, dopt, name in ((relbo_pop, d_opt_pointwise, "pointwise"),
                          (escort_pop, d_opt_escort, "escort")):
        assert _zero(sp.diff(f, v).subs(v, v_opt)), f"{name} optimal gain"
        assert _zero(sp.diff(f, d).subs({v: v_opt, d: dopt})), f"{name} optimal variance"
        # at the optimum every reading's value is the log-likelihood (alpha-free)
        assert _zero(f.subs({v: v_opt, d: dopt}) - loglik_pop), f"{name} optimum value"
    # cross-entropy: Gaussian average of exp(-t RELBO(x)) (exact integral, then compare)
    ts = sp.Symbol("tau", positive=True)     # t > 0 branch; t < 0 follows by continuation
    dens = sp.exp(-x**2 / (2 * lam)) / sp.sqrt(2 * sp.pi * lam)
    cc = sp.Symbol("cc", positive=True)      # cc = c - t lam > 0 (the domain)
    integrand = sp.exp(-ts * relbo_opt_x.subs(c, cc + ts * lam)) * dens
    integral = sp.integrate(sp.expand(integrand), (x, -sp.oo, sp.oo), conds="none")
    # sympy returns a Piecewise; on the domain cc > 0 the last (convergent) branch holds
    integral = integral.replace(lambda e: isinstance(e, sp.Piecewise), lambda e: e.args[-1][0])
    ce_from_integral = -sp.log(integral) / ts
    ce_closed = f_ce.subs({t: ts, c: cc + ts * lam})
    assert _zero(sp.simplify(sp.expand_log(ce_from_integral - ce_closed, force=True))), \
        "cross-entropy closed form"
    # alpha -> 1: E RELBO - (t/2) Var RELBO
    mean_r = _mean_over_x(relbo_opt_x)
    var_r = lam**2 / (2 * c**2)             # Var(x^2/(2c)) for x ~ N(0, lam)
    ser_ce = sp.series(f_ce, t, 0, 2).removeO()
    assert _zero(ser_ce.coeff(t, 0) - mean_r), "cross-entropy order 0"
    assert _zero(ser_ce.coeff(t, 1) + var_r / 2), "cross-entropy first order"
    # stationary point c = (2 - alpha) lam, a maximum for alpha < 2
    g = sp.diff(f_ce_alpha, c)
    assert _zero(sp.together(g.subs(c, c_opt_ce))), "cross-entropy stationary point"
    assert sp.solve(sp.numer(sp.together(g)), c) == [c_opt_ce] or \
        sp.simplify(sp.solve(sp.numer(sp.together(g)), c)[0] - c_opt_ce) == 0
    h = sp.simplify(sp.diff(f_ce_alpha, c, 2).subs(c, c_opt_ce))
    assert _zero(h + 1 / (2 * (2 - alpha) * lam**2)), f"curvature {h}"  # < 0 iff alpha < 2
    # unbounded above as c -> 0 for alpha > 2, -> -oo for 1 < alpha < 2
    assert sp.limit(f_ce_alpha.subs({alpha: 3, lam: 1}), c, 0, "+") == sp.oo
    assert sp.limit(f_ce_alpha.subs({alpha: sp.Rational(3, 2), lam: 1}), c, 0, "+") == -sp.oo
    # learned sigma^2 stationary equation
    dsig = sp.diff(f_discarded, s2)
    assert _zero(sp.together(2 * s2 * dsig - sigma2_equation)), "sigma^2 stationarity"
    mean_three = (lam1 + lam2 + lam3) / 3
    assert _zero(sigma2_equation.subs(alpha, 1).subs(s2, mean_three)), "alpha = 1: the mean"
    # shape dependence: same mean (2), different spread, alpha = 1/2 -> different sigma^2
    roots = []
    for spec in ((2, 2, 2), (1, 2, 3)):
        eq = sp.together(sigma2_equation.subs(alpha, sp.Rational(1, 2)).subs(
            dict(zip(discarded, spec))))
        sol = [r for r in sp.Poly(sp.numer(eq), s2).real_roots()
               if sp.N(r) > sp.Rational(1, 2) * max(spec)]
        assert len(sol) == 1, (spec, sol)
        roots.append(sol[0])
    assert roots[0] == 3, roots
    assert abs(sp.N(roots[1]) - 3) > sp.Rational(1, 100), roots
    return True


def latex():
    """The Markdown page with the derived equations."""
    lines = [f"<!-- Generated by `python -m gaussrelbo.derivations.readings` (sympy "
             f"{sp.__version__}). Do not edit. -->", "",
             "Every equation below is checked by sympy in `gaussrelbo/derivations/readings.py`.", ""]
    for title, tex in statements():
        lines += [f"**{title}**", "", "$$", tex, "$$", ""]
    return "\n".join(lines)


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--root", default=str(Path(__file__).resolve().parents[2]))
    p.add_argument("--no-check", action="store_true")
    args = p.parse_args(argv)
    if not args.no_check:
        check()
    out = Path(args.root) / "docs" / "derivations" / "readings.md"
    _write(out, latex())
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
