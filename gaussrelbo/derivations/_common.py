"""Shared symbols and helpers of the derivations."""

import functools

import sympy as sp

__all__ = ["ell", "gauss_expect", "gauss_expect_vec", "is_zero", "log_gaussian_integral",
           "simplify_zero"]


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


def is_zero(expr):
    """True if ``expr`` is identically 0.

    First exactly and cheaply: ``cancel`` puts ``expr`` over one denominator as a rational
    function of its symbols and of the other atoms it contains (``log(...)``, ``sqrt(...)``,
    taken as independent indeterminates); if the numerator vanishes, ``expr`` is 0 for every value
    of them.  Otherwise (the atoms are related, e.g. ``log(a b)`` and ``log(a) + log(b)``) by
    sympy's ``simplify``, as before.  A ``True`` of either route is an exact identity.
    """
    e = sp.sympify(expr)
    if e == 0 or sp.cancel(sp.together(e)) == 0:
        return True
    return sp.simplify(e) == 0


def simplify_zero(expr):
    """True if ``expr`` is identically 0 (expanding logs of positive symbols first, then
    :func:`is_zero`)."""
    return is_zero(sp.expand_log(sp.expand(expr), force=True))


def log_gaussian_integral(exponent, z):
    r"""The log of the integral of ``exp(exponent)`` over the real line, for ``exponent`` a
    quadratic in the symbol ``z``: :math:`-a z^2 + b z + c`.

    Completing the square gives :math:`\log\int e^{-az^2+bz+c}\,dz = \tfrac12\log(\pi/a)
    + b^2/(4a) + c` where :math:`a > 0` (the integral diverges otherwise).  Returns
    ``(log of the integral, a)``: the caller states why ``a > 0`` on its domain.  The formula
    itself is checked against sympy's ``integrate`` for symbolic a > 0, b, c by
    :func:`check_gaussian_integral`.
    """
    poly = sp.Poly(sp.expand(exponent), z)
    if poly.degree() != 2:
        raise ValueError(f"expected a quadratic in {z}, got degree {poly.degree()}")
    a = -poly.coeff_monomial(z**2)
    b = poly.coeff_monomial(z)
    c = poly.coeff_monomial(1)
    return sp.log(sp.pi / a) / 2 + b**2 / (4 * a) + c, a


@functools.lru_cache(maxsize=None)
def check_gaussian_integral():
    """:func:`log_gaussian_integral` is the log of sympy's ``integrate`` for symbolic a > 0, b and c
    (once per process); returns True or raises AssertionError."""
    z = sp.Symbol("z", real=True)
    a = sp.Symbol("a", positive=True)
    b, c = sp.symbols("b c", real=True)
    exponent = -a * z**2 + b * z + c
    log_value, lead = log_gaussian_integral(exponent, z)
    assert lead == a
    integral = sp.integrate(sp.exp(exponent), (z, -sp.oo, sp.oo), conds="none")
    assert is_zero(sp.expand(integral - sp.exp(log_value))), integral
    return True


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
