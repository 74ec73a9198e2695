r"""The RELBO identity, derived and checked symbolically at n = k = 1 (Theory §3).

Bayes' rule gives :math:`\int p(z|x)^\alpha dz = p(x)^{-\alpha}\int p(x,z)^\alpha dz`, hence

.. math:: \log p(x) = \frac1\alpha\log\int p(x,z)^\alpha\,dz
          - \frac{1-\alpha}{\alpha}\,H_\alpha(p(z|x)).

Jensen's inequality with an encoder q, :math:`\log\int p^\alpha \ge E_q[\alpha\log p(x,z) -
\log q]`, has the gap :math:`\mathrm{KL}(q\,\|\,\pi_\alpha)` with :math:`\pi_\alpha\propto
p(z|x)^\alpha`; dividing by alpha,

.. math:: \mathrm{RELBO}_\alpha = E_q\log p(x|z) - \mathrm{KL}(q\|p(z))
          + \frac{1-\alpha}{\alpha}\big[H(q) - H_\alpha(p(z|x))\big]
          = \log p(x) - \frac1\alpha\mathrm{KL}(q\,\|\,\pi_\alpha).

Everything below is exact symbolic algebra for the scalar model
:math:`p(z) = N(0,1)`, :math:`p(x|z) = N(wz+b, \sigma^2)`, :math:`q = N(\mu, d)`.
"""

import sympy as sp

from ._common import (check_gaussian_integral, ell, gauss_expect, is_zero,
                      log_gaussian_integral)
from .renyi_entropy import alpha

__all__ = ["relbo", "elbo", "log_px", "kl_escort", "check"]

x, w, b, z, mu = sp.symbols("x w b z mu", real=True)
s2, d = sp.symbols("sigma2 d", positive=True)


def _logpdf(v, mean, var):
    return -sp.log(2 * sp.pi * var) / 2 - (v - mean) ** 2 / (2 * var)


m_post = w * (x - b) / (w**2 + s2)
v_post = s2 / (w**2 + s2)
log_joint = _logpdf(z, 0, 1) + _logpdf(x, w * z + b, s2)
log_px = _logpdf(x, b, w**2 + s2)

H_q = sp.log(2 * sp.pi * sp.E * d) / 2
H_alpha_post = sp.log(2 * sp.pi * v_post) / 2 + ell(alpha) / 2
expected_loglik = gauss_expect(_logpdf(x, w * z + b, s2), z, mu, d)
kl_prior = gauss_expect(_logpdf(z, mu, d) - _logpdf(z, 0, 1), z, mu, d)
kl_escort = gauss_expect(_logpdf(z, mu, d) - _logpdf(z, m_post, v_post / alpha), z, mu, d)

elbo = expected_loglik - kl_prior
relbo = elbo + (1 - alpha) / alpha * (H_q - H_alpha_post)


def _zero(expr):
    return is_zero(sp.expand_log(sp.expand(expr.rewrite(sp.log)), force=True))


def check():
    """Verify the identity and its consequences; raises AssertionError otherwise."""
    # Bayes: p(x, z) = p(x) p(z|x) with the stated posterior.
    assert _zero(log_joint - log_px - _logpdf(z, m_post, v_post))
    # log p(x) = (1/alpha) log int p(x,z)^alpha dz - ((1-alpha)/alpha) H_alpha(p(z|x)).
    # (a Gaussian integral in z: its quadratic coefficient is -alpha (1 + w^2/sigma2)/2 < 0)
    check_gaussian_integral()
    log_power, a = log_gaussian_integral(alpha * log_joint, z)
    assert a.is_positive
    assert _zero(log_power / alpha - (1 - alpha) / alpha * H_alpha_post - log_px)
    # Jensen's gap is KL(q || pi_alpha):  log int p^alpha - E_q[alpha log p(x,z) - log q].
    jensen = gauss_expect(alpha * log_joint - _logpdf(z, mu, d), z, mu, d)
    assert _zero(log_power - jensen - kl_escort)
    # RELBO = log p(x) - KL(q || pi_alpha) / alpha.
    assert _zero(relbo - (log_px - kl_escort / alpha))
    # alpha = 1 gives the ELBO; the derivative at alpha = 1 is H(p(z|x)) - H(q).
    assert _zero(relbo.subs(alpha, 1) - elbo)
    slope = sp.limit(sp.diff(relbo.rewrite(sp.log), alpha), alpha, 1)
    assert _zero(slope - (sp.log(2 * sp.pi * sp.E * v_post) / 2 - H_q))
    # Tight at the escort: q = pi_alpha.
    assert _zero(relbo.subs({mu: m_post, d: v_post / alpha}) - log_px)


def latex():
    """Named LaTeX equations for the docs."""
    lhs = sp.Symbol(r"\mathrm{RELBO}_\alpha")
    return {
        "relbo-identity": (r"\log p(x) = \frac1\alpha\log\int p(x,z)^\alpha\,dz"
                           r" - \frac{1-\alpha}{\alpha}H_\alpha\big(p(z\mid x)\big)"),
        "relbo-definition": (r"\mathrm{RELBO}_\alpha = E_q\log p(x\mid z) - \mathrm{KL}(q\,\|\,"
                             r"p(z)) + \frac{1-\alpha}{\alpha}\Big[H(q) - H_\alpha\big(p(z\mid x)"
                             r"\big)\Big] = \log p(x) - \frac1\alpha\,\mathrm{KL}(q\,\|\,"
                             r"\pi_\alpha)"),
        "relbo-scalar": sp.latex(lhs) + " = " + sp.latex(sp.collect(sp.expand(relbo), alpha)),
    }


if __name__ == "__main__":
    check()
    for name, tex in latex().items():
        print(f"{name}: {tex}")
