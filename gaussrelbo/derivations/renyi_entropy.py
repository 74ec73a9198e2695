r"""Renyi entropy of a Gaussian, its alpha -> 1 limit, and the series behind the stable ell.

Derivation (Theory §2).  For a one-dimensional N(m, s),

.. math:: \int N(z; m, s)^\alpha\,dz = (2\pi s)^{(1-\alpha)/2}\,\alpha^{-1/2},

so :math:`H_\alpha = \log(\int p^\alpha)/(1-\alpha) = \tfrac12\log(2\pi s) + \tfrac12\ell(\alpha)`.
A k-dimensional Gaussian factorises into k independent ones in the eigenbasis of its covariance
(the Jacobian of a rotation is 1), so the k-dimensional result is the sum over eigenvalues:
:math:`H_\alpha = \tfrac12\log\det(2\pi\Sigma) + \tfrac k2\ell(\alpha)`.  This is checked here
by integrating a diagonal two-dimensional density directly.
"""

import sympy as sp

from ._common import ell

__all__ = ["alpha", "t", "H_alpha_1d", "H_alpha", "H_shannon", "ell_series", "deficit_series",
           "check"]

alpha = sp.Symbol("alpha", positive=True)
t = sp.Symbol("t")                      # t = alpha - 1
z, z2, m, m2 = sp.symbols("z z2 m m2", real=True)
s, s2 = sp.symbols("s s2", positive=True)
k = sp.Symbol("k", positive=True, integer=True)
logdet = sp.Symbol(r"\log\det\Sigma", real=True)


def _density(x, mean, var):
    return sp.exp(-(x - mean) ** 2 / (2 * var)) / sp.sqrt(2 * sp.pi * var)


def _power_integral_1d():
    return sp.simplify(sp.integrate(_density(z, m, s) ** alpha, (z, -sp.oo, sp.oo), conds="none"))


#: H_alpha of N(m, s) in one dimension, in terms of ell.
H_alpha_1d = sp.log(2 * sp.pi * s) / 2 + ell(alpha) / 2
#: H_alpha of a k-dimensional Gaussian in terms of log det(Sigma).
H_alpha = k * sp.log(2 * sp.pi) / 2 + logdet / 2 + k * ell(alpha) / 2
#: Shannon entropy, the alpha -> 1 limit.
H_shannon = k * sp.log(2 * sp.pi * sp.E) / 2 + logdet / 2

#: Taylor coefficients of ell(1 + t) = log1p(t)/t = sum_j (-1)^j t^j / (j + 1).
ell_series = [sp.Rational((-1) ** j, j + 1) for j in range(8)]
#: Taylor coefficients of (t - log1p(t))/t^2 = sum_j (-1)^j t^j / (j + 2).
deficit_series = [sp.Rational((-1) ** j, j + 2) for j in range(8)]


def check():
    """Verify every statement of this module symbolically; raises AssertionError otherwise."""
    integral = _power_integral_1d()
    expected = (2 * sp.pi * s) ** ((1 - alpha) / 2) * alpha ** sp.Rational(-1, 2)
    assert sp.simplify(sp.expand_log(sp.log(integral) - sp.log(expected), force=True)) == 0
    h = sp.log(integral) / (1 - alpha)
    assert sp.simplify(sp.expand_log(h - H_alpha_1d.rewrite(sp.log), force=True)) == 0

    # Two dimensions, diagonal covariance diag(s, s2): the integral factorises.
    joint = (_density(z, m, s) * _density(z2, m2, s2)) ** alpha
    inner = sp.integrate(joint, (z, -sp.oo, sp.oo), conds="none")
    integral2 = sp.integrate(inner, (z2, -sp.oo, sp.oo), conds="none")
    h2 = sp.log(integral2) / (1 - alpha)
    h2_expected = H_alpha.subs({k: 2, logdet: sp.log(s * s2)}).rewrite(sp.log)
    assert sp.simplify(sp.expand_log(h2 - h2_expected, force=True)) == 0

    # The alpha -> 1 limit: ell -> 1 and H_alpha -> Shannon entropy.
    assert sp.limit(sp.log(alpha) / (alpha - 1), alpha, 1) == 1
    lim = sp.limit(H_alpha.rewrite(sp.log), alpha, 1)
    assert sp.simplify(sp.expand_log(lim - H_shannon, force=True)) == 0
    # ell decreases from +oo (alpha -> 0) to 0 (alpha -> oo).
    assert sp.limit(sp.log(alpha) / (alpha - 1), alpha, 0, "+") == sp.oo
    assert sp.limit(sp.log(alpha) / (alpha - 1), alpha, sp.oo) == 0

    # Series about alpha = 1 used by gaussrelbo._numerics.
    ser = sp.series(sp.log(1 + t) / t, t, 0, len(ell_series)).removeO()
    assert all(ser.coeff(t, j) == c for j, c in enumerate(ell_series))
    ser = sp.series((t - sp.log(1 + t)) / t**2, t, 0, len(deficit_series)).removeO()
    assert all(ser.coeff(t, j) == c for j, c in enumerate(deficit_series))
    # The escort of order alpha of N(m, s) is N(m, s/alpha): p^alpha is proportional to it.
    ratio = sp.simplify(_density(z, m, s) ** alpha / _density(z, m, s / alpha))
    assert sp.diff(ratio, z) == 0


def latex():
    """Named LaTeX equations for the docs."""
    return {
        "renyi-entropy-1d": (r"H_\alpha\big(\mathcal N(m, s)\big) = " + sp.latex(H_alpha_1d)),
        "renyi-entropy": (r"H_\alpha\big(\mathcal N(m, \Sigma)\big) = \frac{k}{2}\log 2\pi"
                          r" + \frac12\log\det\Sigma + \frac{k}{2}\," + sp.latex(ell(alpha))),
        "ell": (sp.latex(ell(alpha)) + " = " + sp.latex(sp.log(alpha) / (alpha - 1))
                + r",\quad \ell(1) = 1"),
        "ell-series": (sp.latex(ell(1 + t)) + " = "
                       + sp.latex(sp.series(sp.log(1 + t) / t, t, 0, 5))),
    }


if __name__ == "__main__":
    check()
    for name, tex in latex().items():
        print(f"{name}: {tex}")
