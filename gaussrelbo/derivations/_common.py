"""Shared symbols and helpers of the derivations."""

import sympy as sp

__all__ = ["ell", "gauss_expect", "gauss_expect_vec", "simplify_zero"]


class ell(sp.Function):
    r"""The function :math:`\ell(\alpha) = \log(\alpha)/(\alpha-1)`, :math:`\ell(1) = 1`.

    Kept as an opaque function so the generated code calls the stable numeric kernel
    ``gaussrelbo._numerics.ell`` (series about 1) instead of the 0/0 form.
    """

    nargs = 1

    @classmethod
    def eval(cls, a):
        if a == 1:
            return sp.Integer(1)
        return None

    def fdiff(self, argindex=1):
        a = self.args[0]
        return (1 / a - ell(a)) / (a - 1)

    def _eval_rewrite_as_log(self, a, **kwargs):
        return sp.log(a) / (a - 1)

    def _latex(self, printer):
        return r"\ell\left(%s\right)" % printer._print(self.args[0])

    def _numpycode(self, printer):
        return "ell(%s)" % printer._print(self.args[0])

    _pythoncode = _numpycode

    def _mpmathcode(self, printer):
        return "ell(%s)" % printer._print(self.args[0])


def gauss_expect(expr, z, mean, var):
    """E f(z) for z ~ N(mean, var) and f a polynomial of degree <= 2 in the symbol z (exact)."""
    poly = sp.Poly(sp.expand(expr), z)
    if poly.degree() > 2:
        raise ValueError(f"expected a quadratic in {z}, got degree {poly.degree()}")
    moments = {0: 1, 1: mean, 2: mean**2 + var}
    return sp.expand(sum(coef * moments[m[0]] for m, coef in zip(poly.monoms(), poly.coeffs())))


def simplify_zero(expr):
    """True if ``expr`` simplifies to 0 (expanding logs of positive symbols first)."""
    e = sp.expand_log(sp.expand(expr), force=True)
    return sp.simplify(e) == 0


def gauss_expect_vec(expr, zs, mean, cov):
    """E f(z) for z ~ N(mean, cov), f a polynomial of degree <= 2 in the symbols ``zs`` (exact).

    Monomials are replaced by moments: z_i -> m_i, z_i z_j -> m_i m_j + cov_ij.
    """
    poly = sp.Poly(sp.expand(expr), *zs)
    total = 0
    for monom, coef in zip(poly.monoms(), poly.coeffs()):
        idx = [i for i, p in enumerate(monom) for _ in range(p)]
        if len(idx) > 2:
            raise ValueError(f"expected a quadratic in {zs}, got degree {len(idx)}")
        if len(idx) == 0:
            moment = 1
        elif len(idx) == 1:
            moment = mean[idx[0]]
        else:
            i, j = idx
            moment = mean[i] * mean[j] + cov[i, j]
        total += coef * moment
    return sp.expand(total)
