r"""Per-datapoint and population closed forms of the linear-Gaussian VAE (Theory §4, §5, §11).

Each closed form is checked against its definition by exact Gaussian expectation rules
(:func:`derivations._common.gauss_expect_vec`: :math:`E z_i = m_i`,
:math:`E z_iz_j = m_im_j + \Sigma_{ij}`), first over :math:`z\sim q(z|x)`, then over the data
:math:`x\sim(\mu_D, S)` (only the first two moments enter: every objective is quadratic in x).
Sizes: fully symbolic at n = 2, k = 1; exact rationals at n = 3, k = 2 with a full encoder
covariance.  The RELBO's direct and escort forms are checked to agree, and the Gaussian Renyi
divergence behind the VR bound is derived from its defining integral at k = 1.
"""

import functools

import sympy as sp
from sympy import Identity, MatrixSymbol, Trace, Transpose

from ._common import (check_gaussian_integral, ell, gauss_expect_vec, is_zero,
                      log_gaussian_integral)
from .renyi_entropy import alpha

__all__ = ["Forms", "MatrixForm", "symbolic_forms", "rational_forms", "matrix_forms", "instances",
           "check"]

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


@functools.lru_cache(maxsize=None)
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


@functools.lru_cache(maxsize=None)
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
    e = sp.expand_log(expr, force=True)
    # cheap exact route first (a rational function of the symbols and logs), then expanded
    return sp.cancel(sp.together(e)) == 0 or is_zero(sp.expand(e))


def _logdet_factored(expr):
    """``log`` of every argument factored (so log det splits into logs of its factors)."""
    return expr.replace(lambda e: isinstance(e, sp.log), lambda e: sp.log(sp.factor(e.args[0])))


def normalize(expr):
    """``expr`` with logs of factored arguments expanded and rational parts cancelled: a form in
    which an identity of this module reads ``normalize(lhs - rhs) == 0`` after simplification."""
    e = _logdet_factored(sp.sympify(expr).rewrite(sp.log))
    e = sp.expand(sp.expand_log(e, force=True))
    return sp.cancel(sp.together(e))


@functools.lru_cache(maxsize=None)
def elementwise(f):
    """The script's element-wise derivation for the model ``f``: each quantity by definition
    (exact Gaussian expectations) where one exists, the RELBO in both its forms."""
    by_def = f.pointwise_by_definition()
    dx = f.x - f.b
    logpx = -(f.n * _LOG2PI + _logdet(f.C) + (dx.T * f.C.inv() * dx)[0]) / 2
    pop = f.population_closed()
    return {"expected_loglik": by_def["expected_loglik"], "kl": by_def["kl"],
            "distortion": f.expect_x(-by_def["expected_loglik"]),
            "rate": f.expect_x(by_def["kl"]), "loglik": f.expect_x(logpx),
            "relbo": pop["relbo"], "escort": f.relbo_escort()}


def _check_forms(f):
    derived, closed = elementwise(f), f.pointwise_closed()
    for key in closed:
        assert _zero(derived[key] - closed[key]), key
    pop = f.population_closed()
    for key in ("distortion", "rate", "loglik"):
        assert _zero(derived[key] - pop[key]), key
    # Direct and escort forms of the population RELBO.
    assert _zero((pop["relbo"] - f.relbo_escort()).rewrite(sp.log))


# ---- the same closed forms for general n, k, as matrix expressions ---------------------------------

n_, k_ = sp.symbols("n k", integer=True, positive=True)
_s2 = sp.Symbol("sigma2", positive=True)
W_ = MatrixSymbol("W", n_, k_)
b_ = MatrixSymbol("b", n_, 1)
V_ = MatrixSymbol("V", k_, n_)
c_ = MatrixSymbol("c", k_, 1)
D_ = MatrixSymbol("D", k_, k_)
x_ = MatrixSymbol("x", n_, 1)
mu_ = MatrixSymbol("mu", n_, 1)
S_ = MatrixSymbol("S", n_, n_)


def _sq(v):
    """The squared norm v^T v of a column, as the trace of a 1 x 1 matrix (a scalar)."""
    return Trace(sp.MatMul(Transpose(v), v))


def _quad(v, P):
    """The quadratic form v^T P v, as the trace of a 1 x 1 matrix (a scalar)."""
    return Trace(sp.MatMul(Transpose(v), P, v))


def _logdet_m(A):
    return sp.log(sp.Determinant(A))


class MatrixForm:
    """A closed form for general n, k: ``expr`` in matrix symbols, with stand-ins.

    ``where`` lists ``(symbol, definition)`` pairs printed after the formula (later definitions
    may use earlier ones); ``refs`` maps scalar stand-ins for earlier closed forms (not printed)
    to their expressions.  :meth:`explicit` substitutes everything, including the explicit
    matrices of a :class:`Forms`, and evaluates.
    """

    def __init__(self, key, expr, where=(), refs=None):
        self.key, self.expr, self.where, self.refs = key, expr, tuple(where), dict(refs or {})

    def expanded(self):
        """``expr`` with every stand-in replaced by its definition (still for general n, k)."""
        e = self.expr
        for sym, val in self.refs.items():
            e = e.xreplace({sym: val.expanded()})
        for sym, val in reversed(self.where):
            e = e.xreplace({sym: val})
        return e

    def explicit(self, f):
        """The expression at the explicit matrices of the model ``f`` (a scalar).

        A stand-in for an earlier closed form is replaced by that form's own explicit value
        (the same substitution as :meth:`expanded`, evaluated once per model)."""
        subs = {n_: f.n, k_: f.k, _s2: f.s2, W_: f.W, b_: f.b, V_: f.V, c_: f.c, D_: f.D,
                x_: f.x, mu_: f.mu, S_: f.S}
        subs = {key: (sp.ImmutableMatrix(val) if isinstance(val, sp.MatrixBase) else val)
                for key, val in subs.items()}
        e = self.expr
        for sym, val in reversed(self.where):
            e = e.xreplace({sym: val})
        e = e.xreplace({sym: _explicit_form(val, f) for sym, val in self.refs.items()})
        return _evaluate(e, subs)


@functools.lru_cache(maxsize=None)
def _explicit_form(form, f):
    return form.explicit(f)


def _dense(e):
    """The explicit matrix of the matrix expression ``e`` whose matrix symbols were all replaced
    by explicit matrices: products, sums, transposes and inverses are carried out directly on
    the explicit matrices (not entry by entry through symbolic index sums)."""
    if isinstance(e, sp.MatrixBase):
        return sp.Matrix(e)
    if isinstance(e, Identity):
        return sp.eye(int(e.rows))
    if isinstance(e, sp.MatMul):
        out = sp.Integer(1)
        for arg in e.args:
            out = out * (_dense(arg) if arg.is_Matrix else arg)
        return out
    if isinstance(e, sp.MatAdd):
        out = _dense(e.args[0])
        for arg in e.args[1:]:
            out = out + _dense(arg)
        return out
    if isinstance(e, Transpose):
        return _dense(e.arg).T
    if isinstance(e, sp.Inverse):
        return _dense(e.arg).inv()
    raise TypeError(f"cannot evaluate a {type(e).__name__} explicitly: {e}")


def _evaluate(expr, subs):
    """The scalar ``expr`` (traces, determinants and 1 x 1 products of matrix symbols) with the
    explicit values ``subs`` substituted and every matrix operation carried out."""
    e = expr.xreplace(subs)
    e = e.replace(lambda t: isinstance(t, Trace), lambda t: _dense(t.arg).trace())
    e = e.replace(lambda t: isinstance(t, sp.Determinant), lambda t: _dense(t.arg).det())
    if isinstance(e, (sp.MatrixBase, sp.MatrixExpr)):
        e = _dense(e)[0, 0]
    return e.doit()


@functools.lru_cache(maxsize=None)
def matrix_forms():
    """``{key: MatrixForm}``: the closed forms for general n, k (keys as :func:`elementwise`)."""
    n, k, s2, W, b, V, c, D, x, mu, S = n_, k_, _s2, W_, b_, V_, c_, D_, x_, mu_, S_
    I_n, I_k = Identity(n), Identity(k)
    r = MatrixSymbol("r", n, 1)
    m = MatrixSymbol("m", k, 1)
    A = MatrixSymbol("A", n, n)
    rbar = MatrixSymbol(r"\bar{r}", n, 1)
    C = MatrixSymbol("C", n, n)
    delta = MatrixSymbol("delta", n, 1)
    M = MatrixSymbol("M", k, k)
    E = MatrixSymbol("E", k, n)
    g = MatrixSymbol("g", k, 1)
    Pi = MatrixSymbol("Pi", k, k)
    ell_ = (-n * sp.log(2 * sp.pi * s2) / 2 - (_sq(r) + Trace(W * D * W.T)) / (2 * s2))
    kl = (Trace(D) + _sq(V * x + c) - k - _logdet_m(D)) / 2
    dist = (n * sp.log(2 * sp.pi * s2) / 2
            + (Trace(A * S * Transpose(A)) + _sq(rbar) + Trace(W * D * W.T)) / (2 * s2))
    rate = (Trace(D) + Trace(V * S * V.T) + _sq(m) - k - _logdet_m(D)) / 2
    ll = -(n * sp.log(2 * sp.pi) + _logdet_m(C) + Trace(C.I * S) + _quad(delta, C.I)) / 2
    forms = {
        "expected_loglik": MatrixForm("expected_loglik", ell_,
                                      [(r, x - b - sp.MatMul(W, V * x + c))]),
        "kl": MatrixForm("kl", kl),
        "distortion": MatrixForm("distortion", dist,
                                 [(A, I_n - W * V), (rbar, A * mu - W * c - b)]),
        "rate": MatrixForm("rate", rate, [(m, V * mu + c)]),
        "loglik": MatrixForm("loglik", ll, [(C, W * W.T + s2 * I_n), (delta, mu - b)]),
    }
    Dist, R, LL = sp.Symbol(r"\mathrm{Dist}"), sp.Symbol("R"), sp.Symbol(r"\mathrm{LL}")
    relbo = (-Dist - R + (1 - alpha) / (2 * alpha)
             * (_logdet_m(D) + k - k * ell(alpha) - k * sp.log(s2) + _logdet_m(M)))
    forms["relbo"] = MatrixForm("relbo", relbo, [(M, W.T * W + s2 * I_k)],
                                refs={Dist: forms["distortion"], R: forms["rate"]})
    escort = LL - (Trace(Pi * D) - k - _logdet_m(Pi) - _logdet_m(D) + Trace(Pi * E * S * E.T)
                   + _quad(g, Pi)) / (2 * alpha)
    forms["escort"] = MatrixForm("escort", escort, [
        (M, W.T * W + s2 * I_k), (Pi, alpha / s2 * M), (E, V - M.I * W.T),
        (g, E * mu + c + M.I * W.T * b)], refs={LL: forms["loglik"]})
    return forms


def instances():
    """The explicit models the matrix forms are checked at: n = 2, k = 1 (symbolic) and
    n = 3, k = 2 (rational, full encoder covariance)."""
    return (symbolic_forms(), rational_forms())


@functools.lru_cache(maxsize=None)
def matrix_differences(key):
    """``(normalize(matrix form at f - element-wise derivation at f) for f in instances())``;
    each simplifies to 0.  Computed once per process (the check and the docs test share it)."""
    form = matrix_forms()[key]
    return tuple(normalize(form.explicit(f) - elementwise(f)[key]) for f in instances())


def _check_matrix_forms():
    for key in matrix_forms():
        for diff in matrix_differences(key):
            assert sp.simplify(diff) == 0, key


_VR_SYMBOLS = (sp.Symbol("m_1", real=True), sp.Symbol("m_2", real=True),
               sp.Symbol("v_1", positive=True), sp.Symbol("v_2", positive=True))


def vr_divergence_1d():
    """Gaussian Renyi divergence D_alpha(N(m1, v1) || N(m2, v2)) in one dimension (k = 1), the
    closed form :func:`_check_vr_divergence` compares with the defining integral."""
    m1, m2, v1, v2 = _VR_SYMBOLS
    va = alpha * v2 + (1 - alpha) * v1               # Sigma_alpha, positive when integrable
    return (alpha / 2 * (m1 - m2) ** 2 / va
            - (sp.log(va) - (1 - alpha) * sp.log(v1) - alpha * sp.log(v2)) / (2 * (alpha - 1)))


@functools.lru_cache(maxsize=None)
def vr_divergence_form():
    """D_alpha(N(m1, Sigma_1) || N(m2, Sigma_2)) for general k, in matrix symbols (Li & Turner
    2016; Theory §11): delta = m1 - m2, Sigma_alpha = alpha Sigma_2 + (1 - alpha) Sigma_1."""
    delta = MatrixSymbol("delta", k_, 1)
    S1, S2 = MatrixSymbol("Sigma_1", k_, k_), MatrixSymbol("Sigma_2", k_, k_)
    Sa = MatrixSymbol("Sigma_alpha", k_, k_)
    expr = (alpha / 2 * _quad(delta, Sa.I)
            - (_logdet_m(Sa) - (1 - alpha) * _logdet_m(S1) - alpha * _logdet_m(S2))
            / (2 * (alpha - 1)))
    return MatrixForm("vr_divergence", expr, [(Sa, alpha * S2 + (1 - alpha) * S1)]), delta, S1, S2


@functools.lru_cache(maxsize=None)
def vr_divergence_differences():
    """``(normalize(matrix form at k = 1 - vr_divergence_1d()),)``; simplifies to 0.  Computed
    once per process."""
    form, delta, S1, S2 = vr_divergence_form()
    m1, m2, v1, v2 = _VR_SYMBOLS
    subs = {k_: 1, delta: sp.ImmutableMatrix([[m1 - m2]]), S1: sp.ImmutableMatrix([[v1]]),
            S2: sp.ImmutableMatrix([[v2]])}
    return (normalize(_evaluate(form.expanded(), subs) - vr_divergence_1d()),)


def _check_vr_divergence():
    """Gaussian Renyi divergence at k = 1 from its defining integral (Theory §11), for every
    alpha, means and variances where it converges, and the matrix form for general k reduced
    to it."""
    check_gaussian_integral()
    zz = sp.Symbol("z", real=True)
    m1, m2, v1, v2 = _VR_SYMBOLS

    def log_dens(mean, var):
        return -sp.log(2 * sp.pi * var) / 2 - (zz - mean) ** 2 / (2 * var)

    # D_alpha = log int N(z; m1, v1)^alpha N(z; m2, v2)^(1 - alpha) dz / (alpha - 1): the
    # integrand is exp of a quadratic in z with leading coefficient -a, a = Sigma_alpha/(2 v1 v2),
    # so it converges exactly where Sigma_alpha = alpha v2 + (1 - alpha) v1 > 0 (alpha > 1 needs
    # v1 small enough), the domain of the closed form.
    log_integral, a = log_gaussian_integral(alpha * log_dens(m1, v1)
                                            + (1 - alpha) * log_dens(m2, v2), zz)
    assert sp.cancel(a - (alpha * v2 + (1 - alpha) * v1) / (2 * v1 * v2)) == 0
    div = log_integral / (alpha - 1)
    assert _zero(div - vr_divergence_1d()), "Gaussian Renyi divergence"
    for diff in vr_divergence_differences():
        assert sp.simplify(diff) == 0


def check():
    """Verify every closed form of this module; raises AssertionError otherwise."""
    _check_forms(symbolic_forms())
    f = rational_forms()
    _check_forms(f)
    _check_matrix_forms()
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
