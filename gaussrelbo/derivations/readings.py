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

from ._common import check_gaussian_integral, is_zero, log_gaussian_integral

__all__ = ["alpha", "lam", "s2", "w", "v", "d", "x", "t", "c", "cluster_quadratic",
           "hessian_G", "statements", "check", "latex", "main"]

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
    return is_zero(sp.expand_log(sp.expand(expr), force=True))


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


# ---- cross-entropy atlas: stationarity, the cluster equation, existence, Hessian blocks ----------
# One eigen-direction of a cluster whose M-block has constant diagonal m carries an eigenvalue
# mu (model variance of that direction).  The W-gradient of the log-determinant part along it is
# A(mu) W with A = 2 df/dc; the Hadamard penalty's is 2 (1/m - 1/mu) W (unchanged from the
# pointwise reading), so stationarity is A(mu) = (1/alpha)(1/m - 1/mu).

mm = sp.Symbol("m", positive=True)           # constant diagonal of the cluster's M-block
mu = sp.Symbol("mu", positive=True)          # an eigenvalue of the M-block (model variance)
xr = sp.Symbol("x", positive=True)           # mu / m
rho = sp.Symbol("rho", positive=True)        # lam / m

A_ce = ((2 - alpha) * lam - mu) / (mu * (mu - (1 - alpha) * lam))
stationarity_ce = A_ce - (1 / mm - 1 / mu) / alpha
cluster_quadratic = mu**2 + (alpha - 1) * (mm + lam) * mu + (alpha**2 - 3 * alpha + 1) * mm * lam
cluster_disc = (1 - alpha) ** 2 * (lam - mm) ** 2 + 4 * alpha * mm * lam
lam_of_mu = mu * (mu - mm + alpha * mm) / ((3 * alpha - alpha**2 - 1) * mm + (1 - alpha) * mu)

# log-determinant part G(C) = -(1/2)(1 + 1/t) log det C + log det(C - tS)/(2t) on two
# eigen-directions (C, S diagonal there); its second derivative along C + eps L + eps^2 K
c1, c2, l1, l2 = sp.symbols("c_1 c_2 lambda_1 lambda_2", positive=True)
L11, L12, L22, K11, K22 = sp.symbols("L_11 L_12 L_22 K_11 K_22", real=True)
eps = sp.Symbol("epsilon", real=True)


def _row_coef(lq, cq, tt):
    """Coefficient of ||X_q||^2 (per row q) in the Hessian of the log-determinant part."""
    bq = cq - tt * lq
    return ((1 + tt) * lq - cq) / (cq * bq)


def _pair_coef(lp, cp, lq, cq, tt):
    """Coefficient of -L_pq^2 / 2 (per pair of rows) in the same Hessian."""
    bp, bq = cp - tt * lp, cq - tt * lq
    return (lp * cq + lq * cp - tt * lp * lq - bp * bq) / (bp * bq * cp * cq)


def _second_derivative_G():
    tt = t
    Ce = sp.Matrix([[c1 + eps * L11 + eps**2 * K11, eps * L12],
                    [eps * L12, c2 + eps * L22 + eps**2 * K22]])
    Be = Ce - tt * sp.diag(l1, l2)
    G = -(1 + 1 / tt) * sp.log(Ce.det()) / 2 + sp.log(Be.det()) / (2 * tt)
    return sp.diff(G, eps, 2).subs(eps, 0)


hessian_G = (K11 * _row_coef(l1, c1, t) + K22 * _row_coef(l2, c2, t)
             - sp.Rational(1, 2) * (L11**2 * _pair_coef(l1, c1, l1, c1, t)
                                    + 2 * L12**2 * _pair_coef(l1, c1, l2, c2, t)
                                    + L22**2 * _pair_coef(l2, c2, l2, c2, t)))
f_ce_cc = sp.Rational(1, 2) / c**2 - lam * (2 * c - t * lam) / (2 * c**2 * (c - t * lam) ** 2)


def _check_atlas():
    """The cross-entropy atlas: every statement used by ``gaussrelbo/optima/_readings.py``."""
    # gradient along a direction: A = 2 df/dc at c = mu
    assert _zero(sp.together(2 * sp.diff(f_ce_alpha, c).subs(c, mu) - A_ce)), "gradient A"
    # stationarity <=> the cluster quadratic (numerator, up to a positive factor)
    num, den = sp.fraction(sp.together(stationarity_ce))
    assert _zero(num + cluster_quadratic), "stationarity numerator"
    assert _zero(sp.expand(den - alpha * mm * mu * (mu - (1 - alpha) * lam))), \
        "stationarity denominator (positive on the domain mu > (1 - alpha) lam)"
    # the quadratic's value at mu = t lam is -alpha m lam < 0: one root above t lam (and 0)
    assert _zero(cluster_quadratic.subs(mu, (1 - alpha) * lam) + alpha * mm * lam), "h(t lam)"
    assert _zero(sp.expand(((alpha - 1) * (mm + lam)) ** 2
                           - 4 * (alpha**2 - 3 * alpha + 1) * mm * lam - cluster_disc)), "disc"
    # a single column (m = mu) sits at mu = (2 - alpha) lam; lambda(mu) inverts the equation
    assert _zero(cluster_quadratic.subs({mm: (2 - alpha) * lam, mu: (2 - alpha) * lam})), \
        "single column"
    assert _zero(sp.together(cluster_quadratic.subs(lam, lam_of_mu))), "lambda(mu)"
    # mu/m decreases strictly in m: x = mu/m solves x^2 + (a-1)(1+rho)x + (a^2-3a+1)rho = 0,
    # dx/drho = -N/(2x + (a-1)(1+rho)) with N = (a-1)x + a^2-3a+1; N = 0 on the root forces
    # x in {0, 1-a}, impossible on the branch above max(0, (1-a) rho) for 0 < a < 2, and
    # N -> -a < 0 as rho -> 0 (x -> max(0, 1-a); a >= 1: a^2-3a+1 < 0): so N < 0 throughout
    qx = xr**2 + (alpha - 1) * (1 + rho) * xr + (alpha**2 - 3 * alpha + 1) * rho
    assert _zero(sp.expand(cluster_quadratic.subs({mu: xr * mm, lam: rho * mm}) / mm**2 - qx))
    Nx = (alpha - 1) * xr + alpha**2 - 3 * alpha + 1
    x0 = sp.solve(Nx, xr)[0]
    # (a polynomial in alpha once the denominator (alpha - 1)^2 cancels; every root listed)
    q_at_x0 = sp.Poly(sp.cancel(qx.subs(xr, x0) * (alpha - 1) ** 2), alpha)
    roots_n = sp.roots(q_at_x0)
    assert sum(roots_n.values()) == q_at_x0.degree()
    assert set(roots_n) <= {0, (3 - sp.sqrt(5)) / 2, (3 + sp.sqrt(5)) / 2}, \
        "N vanishes only at exceptional alpha"
    assert _zero(Nx.subs(xr, 1 - alpha) + alpha), "N -> -alpha as rho -> 0 (alpha < 1)"
    # Hessian blocks of the log-determinant part (two directions, exact)
    # (rational functions: the logs are differentiated away)
    assert is_zero(_second_derivative_G() - hessian_G), "Hessian blocks"
    assert _zero(sp.together(sp.diff(f_ce_alpha, c, 2) - f_ce_cc.subs(t, 1 - alpha))), "f_cc"
    # orthogonal points: used direction p at c_p = (2-a) lam_p (b_p = lam_p), unused q at
    # c_q = sigma^2: the entry moving column p towards q has sign(lam_q - lam_p); two used
    # directions couple with 1/((2-a) lam_p lam_q) > 0; a zero column towards q has
    # sign((2-a) lam_q - sigma^2): the beta-ELBO's signs with beta = 1/(2 - alpha)
    tt = 1 - alpha
    cp = (2 - alpha) * l1
    w2 = cp - s2
    towards = _row_coef(l2, s2, tt) - w2 * _pair_coef(l2, s2, l1, cp, tt)
    assert _zero(sp.together(towards - (l2 - l1) / (l1 * (s2 - tt * l2)))), "towards unused"
    assert _zero(sp.together(_pair_coef(l1, cp, l2, (2 - alpha) * l2, tt)
                             - 1 / ((2 - alpha) * l1 * l2))), "used pair"
    assert _zero(sp.together(_row_coef(l1, cp, tt))), "zero column towards a used direction"
    # learned noise at a cluster point (c = 3 columns, rank r = 2, M-block eigenvalues
    # mu_1, mu_2, sigma^2, diagonal m): d/dsigma^2 of the cluster's directions' values plus
    # the penalty's -(1/(2 alpha)) dP/dsigma^2, dP/dsigma^2 = sum_i 1/M_ii - tr M^-1, with the
    # stationarity A(mu_i) = 2 f_c = (1/alpha)(1/m - 1/mu_i), is (c - r)(1/sigma^2 - 1/m)/(2 alpha)
    m1, m2 = sp.symbols("mu_1 mu_2", positive=True)
    dP = 3 / mm - (1 / m1 + 1 / m2 + 1 / s2)
    dF = sum((1 / mm - 1 / mi) / (2 * alpha) for mi in (m1, m2)) - dP / (2 * alpha)
    assert _zero(sp.together(dF - (3 - 2) * (1 / s2 - 1 / mm) / (2 * alpha))), "learned noise"
    return True


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
        ("Cross-entropy atlas: stationarity on a cluster direction (model variance mu, "
         "cluster diagonal m)",
         r"\frac{(2-\alpha)\lambda - \mu}{\mu\,(\mu - (1-\alpha)\lambda)} = "
         r"\frac1\alpha\Big(\frac1m - \frac1\mu\Big)\iff " + L(cluster_quadratic.subs(
             {alpha: al, mm: sp.Symbol("m"), mu: sp.Symbol(r"\mu")})) + " = 0"),
        ("Cross-entropy cluster equation: the root and its existence",
         r"\mu = \tfrac12\Big[(1-\alpha)(m+\lambda) + \sqrt{" + L(cluster_disc.subs(
             {alpha: al, mm: sp.Symbol("m")})) + r"}\Big],\quad c\,m = \sum_i\mu_i + "
         r"(c-r)\sigma^2,\quad \text{exists iff every } \mu_i > \sigma^2;\quad "
         r"\text{single column: } \mu = (2-\alpha)\lambda"),
        ("Cross-entropy atlas: Hessian of the log-determinant part (rows q, pairs p, q; "
         "b = c - (1-alpha) lambda)",
         r"d^2G = \sum_q \|X_q\|^2\,\frac{(2-\alpha)\lambda_q - c_q}{c_q b_q} - "
         r"\frac12\sum_{p,q} L_{pq}^2\,\frac{\lambda_p c_q + \lambda_q c_p - "
         r"(1-\alpha)\lambda_p\lambda_q - b_p b_q}{b_p b_q c_p c_q},\quad L = XW^T + WX^T"),
        ("Cross-entropy atlas: forced directions (alpha < 1)",
         r"(1-\alpha)\lambda_q \ge \sigma^2 \implies \text{direction } q "
         r"\text{ is used by every stationary point (else } F = -\infty)"),
        ("Cross-entropy atlas, learned sigma^2 at a configuration of clusters (c columns, "
         "rank r, diagonal m)",
         r"\sum_{q\ \mathrm{unused}}\frac{(2-\alpha)\lambda_q - \sigma^2}{\sigma^2 - "
         r"(1-\alpha)\lambda_q} + \sum_{\mathrm{clusters}}\frac{c-r}{\alpha}\Big(1 - "
         r"\frac{\sigma^2}{m}\Big) = 0"),
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
    log_dens = -x**2 / (2 * lam) - sp.log(2 * sp.pi * lam) / 2
    cc = sp.Symbol("cc", positive=True)      # cc = c - t lam > 0 (the domain)
    # a Gaussian integral in x: leading coefficient -a, a = cc/(2 lam c) > 0 on the domain
    check_gaussian_integral()
    log_integral, a = log_gaussian_integral(-ts * relbo_opt_x.subs(c, cc + ts * lam) + log_dens, x)
    assert sp.factor(a).is_positive
    ce_from_integral = -log_integral / ts
    ce_closed = f_ce.subs({t: ts, c: cc + ts * lam})
    assert _zero(ce_from_integral - ce_closed), "cross-entropy closed form"
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
    return _check_atlas()


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
