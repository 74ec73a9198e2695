"""Write the generated kernel module and the LaTeX the docs include.

Usage::

    python -m gaussrelbo.derivations.generate [--root DIR] [--no-check]

runs every derivation's ``check()`` (unless ``--no-check``), then writes

* ``gaussrelbo/_generated.py``: numpy kernels of the spectral functions and their derivatives,
* ``docs/derivations/<topic>.md``: the derived equations as LaTeX display blocks,

under ``DIR`` (default: the source checkout this script lives in; an installed package needs
``--root``, so nothing is written into site-packages).  Output is deterministic text for a
given sympy version (pinned in the ``test`` extra); each file is written to a temporary file and
renamed into place.
"""

import argparse
import functools
import os
import sys
import tempfile
from pathlib import Path

import sympy as sp
from sympy.core.function import _coeff_isneg
from sympy.codegen.cfunctions import log1p
from sympy.printing.latex import LatexPrinter
from sympy.printing.numpy import NumPyPrinter

from . import closed_forms, relbo_identity, renyi_entropy, spectral, stationary
from .renyi_entropy import alpha
from .spectral import beta, d, lam, s2, v, w, w2

__all__ = ["Equation", "MatrixEquation", "READER_NAMES", "equations", "kernels", "latex_files", "main",
           "module_text", "reader_latex", "write"]

COMMAND = "python -m gaussrelbo.derivations.generate"
TOPICS = (renyi_entropy, relbo_identity, closed_forms, spectral, stationary)


def kernels():
    """``[(name, args, exprs, kind, doc)]``: kind "scalar" returns one array, "vector" stacks
    the expressions on a last axis, "matrix" stacks a square tuple of tuples on two last axes.

    The expressions are derived once per process; each call returns a new list of the same
    (immutable) entries."""
    return list(_kernels())


@functools.lru_cache(maxsize=None)
def _kernels():
    S, T = spectral, stationary
    lw = (lam, w, v, d, s2)
    prof = (lam, w2, s2)
    return (
        ("f_loglik", (lam, w, s2), S.f_loglik, "scalar",
         "pPCA log-likelihood of one used eigen-direction (column norm w)."),
        ("f_unused", (lam, s2), S.f_unused, "scalar",
         "Every objective's value on an unused eigen-direction."),
        ("neg_dist_i", lw, S.neg_dist_i, "scalar", "Minus the distortion of one latent dimension."),
        ("rate_i", (lam, v, d), S.rate_i, "scalar", "Rate (KL to the prior) of one latent dimension."),
        ("f_elbo", lw, S.f_elbo, "scalar", "ELBO of one latent dimension."),
        ("f_beta", lw + (beta,), S.f_beta, "scalar", "beta-ELBO of one latent dimension."),
        ("f_relbo", lw + (alpha,), S.f_relbo, "scalar", "RELBO of one latent dimension."),
        ("v_opt", (w, s2), S.v_opt, "scalar", "Optimal encoder gain of the RELBO and ELBO."),
        ("d_opt_relbo", (w, s2, alpha), S.d_opt_relbo, "scalar",
         "Optimal diagonal encoder variance of the RELBO."),
        ("v_opt_beta", (w, s2, beta), S.v_opt_beta, "scalar",
         "Optimal encoder gain of the beta-ELBO."),
        ("d_opt_beta", (w, s2, beta), S.d_opt_beta, "scalar",
         "Optimal encoder variance of the beta-ELBO."),
        ("f_beta_opt", (lam, w, s2, beta), S.f_beta_opt, "scalar",
         "beta-ELBO of one dimension at its optimal encoder."),
        ("rate_ml", (lam, s2, alpha), S.rate_ml, "scalar",
         "RELBO rate of one dimension at the maximum-likelihood point."),
        ("dist_ml", (lam, s2, alpha), S.dist_ml, "scalar",
         "RELBO distortion of one dimension at the maximum-likelihood point."),
        ("grad_loglik", prof, T.grad(T.F_loglik), "vector",
         "Gradient of the profiled log-likelihood (= RELBO, ELBO) in (w2, sigma2)."),
        ("hess_loglik", prof, T.hess(T.F_loglik), "matrix",
         "Hessian of the profiled log-likelihood (= RELBO, ELBO) in (w2, sigma2)."),
        ("grad_beta", prof + (beta,), T.grad(T.F_beta), "vector",
         "Gradient of the profiled beta-ELBO in (w2, sigma2)."),
        ("hess_beta", prof + (beta,), T.hess(T.F_beta), "matrix",
         "Hessian of the profiled beta-ELBO in (w2, sigma2)."),
        ("grad_unused", (lam, s2), (sp.diff(T.F_unused, s2),), "vector",
         "Gradient of an unused direction's value in (sigma2,)."),
        ("hess_unused", (lam, s2), ((sp.diff(T.F_unused, s2, 2),),), "matrix",
         "Hessian of an unused direction's value in (sigma2,)."),
        ("grad_relbo_full", lw + (alpha,), tuple(T.grad_full(S.f_relbo)), "vector",
         "Gradient of the unprofiled RELBO of one dimension in (w, v, d, sigma2)."),
        ("grad_beta_full", lw + (beta,), tuple(T.grad_full(S.f_beta)), "vector",
         "Gradient of the unprofiled beta-ELBO of one dimension in (w, v, d, sigma2)."),
        ("sigma2_fixed_point", (T.L, T.n, T.r, beta), T.sigma2_fixed_point, "scalar",
         "Learned sigma2 at a beta-ELBO stationary point: sum of unused eigenvalues L over n - beta r."),
    )


def _log1p(expr):
    """Rewrite log(1 + x) as log1p(x): exact for small x (no 1 + x rounding)."""
    return expr.replace(lambda e: isinstance(e, sp.log) and e.args[0].is_Add
                        and sp.S.One in e.args[0].args,
                        lambda e: log1p(e.args[0] - 1))


class _Printer(NumPyPrinter):
    def __init__(self):
        super().__init__({"fully_qualified_modules": True, "allow_unknown_functions": False})

    def _print_Symbol(self, expr):
        return {"sigma2": "sigma2"}.get(expr.name, expr.name)


def _function(name, args, exprs, kind, doc):
    flat = [exprs] if kind == "scalar" else (
        list(exprs) if kind == "vector" else [e for row in exprs for e in row])
    flat = [_log1p(sp.sympify(e)) for e in flat]
    temps, reduced = sp.cse(flat, symbols=sp.numbered_symbols("t"), optimizations="basic")
    p = _Printer()
    argnames = ", ".join(p.doprint(a) for a in args)
    lines = [f"def {name}({argnames}):", f'    """{doc}"""']
    for sym, e in temps:
        lines.append(f"    {sym} = {p.doprint(e)}")
    outs = [p.doprint(e) for e in reduced]
    if kind == "scalar":
        lines.append(f"    return {outs[0]}")
    elif kind == "vector":
        lines.append(f"    return _stack({', '.join(outs)})")
    else:
        m = len(exprs)
        rows = ", ".join("(" + ", ".join(outs[i * m:(i + 1) * m]) + ",)" for i in range(m))
        lines.append(f"    return _stack2({rows})")
    return "\n".join(lines)


def module_text():
    """The text of ``gaussrelbo/_generated.py``."""
    ks = kernels()
    names = sorted(k[0] for k in ks)
    head = f'''# Generated by `{COMMAND}` from derivations/spectral.py and
# derivations/stationary.py with sympy {sp.__version__}.  DO NOT EDIT: change the derivation and
# run `{COMMAND}` again (tests/test_generated.py checks this file is fresh).
"""Spectral kernels of gaussrelbo, generated from the sympy derivations (do not edit).

Per-dimension functions of Theory §10 and their derivatives; arguments broadcast (numpy arrays or
scalars).  ``lam``: eigenvalue, ``w``: column norm, ``w2``: its square, ``v``: encoder gain,
``d``: encoder variance, ``sigma2``: decoder noise.  ``ell`` is the stable
``gaussrelbo._numerics.ell``.
"""

import numpy

from ._numerics import ell

__all__ = [
{"".join(f'    "{n}",' + chr(10) for n in names)}]


def _stack(*xs):
    return numpy.stack(numpy.broadcast_arrays(*xs), axis=-1)


def _stack2(*rows):
    return numpy.stack([_stack(*row) for row in rows], axis=-2)
'''
    body = "\n\n\n".join(_function(*k) for k in ks)
    return head + "\n\n" + body + "\n"


# ---- the LaTeX of the Derivations docs page --------------------------------------------------------

#: How the scripts' symbol names read on the page.
READER_NAMES = {"sigma2": r"\sigma^{2}", "alpha": r"\alpha", "beta": r"\beta", "lam": r"\lambda",
                "w2": "q", "mu": r"\mu", "L": r"L_{\bar A}"}


class _ReaderPrinter(LatexPrinter):
    r"""sympy's LaTeX with the scripts' symbol names mapped (``sigma2`` -> sigma^2, not
    sigma_2) and ``log`` kept as log.  Matrix expressions read as on paper: ``I`` for the
    identity, ``\det``, and a 1 x 1 trace (the scripts' scalar ``v^T P v``) printed as the
    scalar it is, ``\lVert v\rVert^2`` when it is a squared norm."""

    def _print_Symbol(self, expr, style="plain"):
        if expr.name in READER_NAMES:
            return READER_NAMES[expr.name]
        return super()._print_Symbol(expr)

    def _print_MatrixSymbol(self, expr):
        return self._print_Symbol(expr)

    def _print_Identity(self, expr):
        return "I"

    def _print_Determinant(self, expr):
        arg = expr.arg
        inner = self._print(arg)
        if not isinstance(arg, sp.MatrixSymbol):
            inner = r"\left(%s\right)" % inner
        return r"\det %s" % inner

    def _print_log(self, expr, exp=None):
        if isinstance(expr.args[0], sp.Determinant):
            tex = r"\log %s" % self._print(expr.args[0])
            return tex if exp is None else r"\left(%s\right)^{%s}" % (tex, exp)
        return super()._print_log(expr, exp)

    def _print_Transpose(self, expr):
        arg = expr.arg
        inner = self._print(arg)
        if not isinstance(arg, sp.MatrixSymbol):
            inner = r"\left(%s\right)" % inner
        return "%s^{\\top}" % inner

    def _print_MatAdd(self, expr):
        # positive terms first: "I - W V", not "- W V + I"
        terms = sorted(expr.args, key=lambda t: bool(_coeff_isneg(t)))
        tex = self._print(terms[0])
        for t in terms[1:]:
            tex += (" - " + self._print(-t)) if _coeff_isneg(t) else (" + " + self._print(t))
        return tex

    def _print_Trace(self, expr):
        arg = expr.arg
        if arg.shape == (1, 1):
            # v^T P v is a scalar; the trace only made it one for sympy
            if (isinstance(arg, sp.MatMul) and len(arg.args) == 2
                    and arg.args[0] == sp.Transpose(arg.args[1])):
                return r"\left\lVert %s\right\rVert^{2}" % self._print(arg.args[1])
            return self._print(arg)
        return r"\operatorname{tr}\left(%s\right)" % self._print(arg)


def reader_latex(expr, order="none"):
    """``sp.latex`` of ``expr`` with :data:`READER_NAMES` (terms in ``order``; "none" keeps
    the order sympy stores them in)."""
    return _ReaderPrinter({"ln_notation": False, "order": order}).doprint(expr)


class Equation:
    """One equation of the Derivations page.

    ``checked`` is the sympy expression the derivation script verified and ``shown`` the form
    printed (the same expression rearranged for a reader; a test proves ``shown - checked``
    simplifies to 0).  A *statement* (``checked is None``) is a matrix-level formula for general
    n, k that the script verifies at fixed sizes; its LaTeX is typed and says so on the page.
    """

    def __init__(self, name, lhs, checked=None, shown=None, statement=None, note="", subs=None,
                 order="none"):
        self.name, self.lhs, self.checked, self.note, self.order = name, lhs, checked, note, order
        self.shown = checked if shown is None else shown
        self.statement = statement
        #: symbols of ``shown`` that stand for sub-expressions (substitute before comparing)
        self.subs = subs or {}

    def difference(self):
        """``shown - checked`` with every stand-in substituted; simplifies to 0."""
        shown = self.shown.subs(self.subs).doit()
        return sp.expand_log((shown - self.checked).rewrite(sp.log), force=True)

    def differences(self):
        """``[shown - checked]`` (see :meth:`difference`); each simplifies to 0."""
        return [self.difference()]

    @property
    def tex(self):
        if self.checked is None:
            return self.lhs + " = " + self.statement
        return self.lhs + " = " + reader_latex(self.shown, self.order)


class MatrixEquation(Equation):
    """A closed form for general n, k printed from its matrix expression
    (:class:`closed_forms.MatrixForm`), checked by substituting the explicit matrices of
    every model in :func:`closed_forms.instances` and comparing with the script's element-wise
    derivation there (:func:`closed_forms.matrix_differences`)."""

    def __init__(self, name, lhs, key, note=""):
        self.name, self.lhs, self.key, self.note = name, lhs, key, note
        self.form = closed_forms.matrix_forms()[key]
        self.checked = self.shown = self.form.expr
        self.statement, self.subs, self.order = None, {}, "none"

    def difference(self):
        raise TypeError("a matrix equation is checked at several sizes: use differences()")

    def differences(self):
        return closed_forms.matrix_differences(self.key)

    @property
    def tex(self):
        tex = self.lhs + " = " + reader_latex(self.form.expr)
        where = [reader_latex(sym) + " = " + reader_latex(val) for sym, val in self.form.where]
        return r",\quad ".join([tex] + where)


class DivergenceEquation(MatrixEquation):
    """The Gaussian Renyi divergence for general k from its matrix expression
    (:func:`closed_forms.vr_divergence_form`), reduced at k = 1 to the one-dimensional closed
    form the script checks against the defining integral."""

    def __init__(self, name, lhs, note=""):
        self.name, self.lhs, self.note = name, lhs, note
        self.form = closed_forms.vr_divergence_form()[0]
        self.checked = self.shown = self.form.expr
        self.statement, self.subs, self.order = None, {}, "none"

    def differences(self):
        return closed_forms.vr_divergence_differences()


def equations():
    """``{topic: [Equation, ...]}``: every equation of the Derivations page, in order.

    The equations are built once per process (the page, its tests and the generator share
    them); each call returns a new dict of new lists of the same :class:`Equation` objects."""
    return {topic: list(eqs) for topic, eqs in _equations().items()}


@functools.lru_cache(maxsize=None)
def _equations():
    from ._common import ell
    E, R, C, S, T = renyi_entropy, relbo_identity, closed_forms, spectral, stationary
    t = E.t
    m, v = R.m_post, R.v_post
    ms, vs = sp.Symbol("m(x)"), sp.Symbol("v", positive=True)
    ell_shown = (-sp.log(2 * sp.pi * R.s2) / 2
                 - ((R.x - R.b - R.w * R.mu) ** 2 + R.w**2 * R.d) / (2 * R.s2))
    kl_shown = (R.d + R.mu**2 - 1 - sp.log(R.d)) / 2
    escort_shown = (alpha * (R.d + (R.mu - ms) ** 2) / vs - 1 - sp.log(alpha * R.d / vs)) / 2
    hq, ha = sp.Symbol(r"H(q)"), sp.Symbol(r"H_\alpha")
    series = sp.Add(*[c * t**j for j, c in enumerate(E.ell_series[:5])]) + sp.O(t**5)
    fixed = ("for general n, k; checked exactly by derivations/closed_forms.py at "
             "n = 2, k = 1 (symbolic) and n = 3, k = 2 (rational, full encoder covariance)")
    return {
        "renyi_entropy": [
            Equation("Rényi entropy, one dimension", r"H_\alpha\big(\mathcal N(m, s)\big)",
                     E.H_alpha_1d),
            Equation("Rényi entropy, k dimensions", r"H_\alpha\big(\mathcal N(m, \Sigma)\big)",
                     E.H_alpha),
            Equation("Shannon entropy (the limit α → 1)", r"H_1\big(\mathcal N(m, \Sigma)\big)",
                     E.H_shannon),
            Equation("ℓ", reader_latex(ell(alpha)), ell(alpha).rewrite(sp.log), order="lex"),
            Equation("ℓ about α = 1 (t = α − 1)", reader_latex(ell(1 + t)), series,
                     order="lex"),
        ],
        "relbo_identity": [
            Equation("log-evidence of the scalar model", r"\log p(x)", R.log_px),
            Equation("Rényi entropy of its posterior", r"H_\alpha = H_\alpha\big(p(z\mid x)\big)",
                     R.H_alpha_post),
            Equation("expected log-likelihood", r"E_q\log p(x\mid z)", R.expected_loglik,
                     shown=ell_shown),
            Equation("rate", r"\mathrm{KL}\big(q\,\|\,p(z)\big)", R.kl_prior, shown=kl_shown),
            Equation("gap to the escort, with the posterior mean m(x) and variance v below",
                     r"\mathrm{KL}(q\,\|\,\pi_\alpha)", R.kl_escort, shown=escort_shown,
                     subs={ms: m, vs: v}),
            Equation("posterior mean (Bayes, checked)", r"m(x)", m),
            Equation("posterior variance", r"v", v),
            Equation("the RELBO, checked equal to log p(x) − KL(q‖π_α)/α",
                     r"\mathrm{RELBO}_\alpha", R.relbo,
                     shown=sp.Add(ell_shown, -kl_shown, (1 - alpha) / alpha * (hq - ha),
                                  evaluate=False),
                     subs={hq: R.H_q, ha: R.H_alpha_post}),
            Equation("the encoder's Shannon entropy", r"H(q)", R.H_q),
        ],
        "closed_forms": [
            MatrixEquation("expected log-likelihood of one data point", r"E_q\log p(x\mid z)",
                           "expected_loglik", note=fixed),
            MatrixEquation("rate of one data point", r"\mathrm{KL}\big(q\,\|\,p(z)\big)", "kl",
                           note=fixed),
            MatrixEquation("distortion (population)", r"\mathrm{Dist}", "distortion", note=fixed),
            MatrixEquation("rate (population)", r"R", "rate", note=fixed),
            MatrixEquation("log-likelihood (population)", r"\mathrm{LL}", "loglik", note=fixed),
            MatrixEquation("population RELBO, direct form (Dist and R as above)",
                           r"\mathrm{RELBO}_\alpha", "relbo", note=fixed),
            MatrixEquation("population RELBO, escort form (LL as above)",
                           r"\mathrm{RELBO}_\alpha", "escort", note=fixed),
            DivergenceEquation("Rényi divergence of Gaussians (Li & Turner 2016)", r"D_\alpha",
                               note="for general k; checked at k = 1 against the closed form, "
                               "which is derived from the defining integral for every α, means "
                               "and variances where it converges"),
        ],
        "spectral": [
            Equation("distortion", r"-\mathrm{dist}_i", S.neg_dist_i),
            Equation("rate", r"\mathrm{rate}_i", S.rate_i),
            Equation("log-likelihood", r"f_{\mathrm{LL}}", S.f_loglik),
            Equation("unused direction", r"u", S.f_unused),
            Equation("RELBO", r"f_{\mathrm{RELBO}} - f_{\mathrm{ELBO}}", S.f_relbo - S.f_elbo,
                     shown=sp.factor_terms(S.f_relbo - S.f_elbo)),
            Equation("optimal encoder gain (RELBO, ELBO)", r"v^*", S.v_opt),
            Equation("optimal encoder variance (RELBO)", r"d^*_\alpha", S.d_opt_relbo),
            Equation("optimal encoder gain (β-ELBO)", r"v^*_\beta", S.v_opt_beta),
            Equation("optimal encoder variance (β-ELBO)", r"d^*_\beta", S.d_opt_beta),
            Equation("β-ELBO at its optimal encoder", r"f^*_\beta", S.f_beta_opt),
            Equation("RELBO rate at the maximum-likelihood point", r"\mathrm{rate}_i", S.rate_ml),
            Equation("RELBO distortion at the maximum-likelihood point", r"\mathrm{dist}_i",
                     S.dist_ml),
        ],
        "stationary": [
            Equation("profiled β-ELBO, gradient in q = w²", r"\partial_q f^*_\beta",
                     T.grad(T.F_beta)[0], shown=sp.factor(T.grad(T.F_beta)[0])),
            Equation("profiled β-ELBO, gradient in σ²", r"\partial_{\sigma^2} f^*_\beta",
                     T.grad(T.F_beta)[1], shown=sp.factor(T.grad(T.F_beta)[1])),
            Equation("stationary column norm (log-likelihood, RELBO, ELBO)",
                     r"q^*_{\mathrm{LL}}", T.stationary_w2["loglik"][0]),
            Equation("stationary column norm (β-ELBO); collapse iff it is ≤ 0", r"q^*_\beta",
                     T.stationary_w2["beta"][0]),
            Equation("learned σ² at a β-ELBO stationary point (L: sum of the unused λ_j)",
                     r"\sigma^2", T.sigma2_fixed_point),
            Equation("cluster equation: the M-block eigenvalues μ of a column cluster with "
                     "diagonal value m solve f_m(μ) = λ (a = α for the RELBO, 1 for the ELBO)",
                     r"f_m(\mu)", T.cluster_f),
            Equation("its unique positive root", r"\mu", T.cluster_mu),
        ],
    }


def latex_files():
    """``{relative path: text}`` of the LaTeX include files, one per derivation topic (the text
    is printed once per process; each call returns a new dict)."""
    return dict(_latex_files())


@functools.lru_cache(maxsize=None)
def _latex_files():
    out = {}
    for topic, eqs in equations().items():
        parts = [f"<!-- Generated by `{COMMAND}` from derivations/{topic}.py "
                 f"(sympy {sp.__version__}). Do not edit. -->", ""]
        for eq in eqs:
            head = f"**{eq.name}**" + (f" ({eq.note})" if eq.note else "")
            parts += [head, "", "$$", eq.tex, "$$", ""]
        out[f"docs/derivations/{topic}.md"] = "\n".join(parts)
    return out


def _write_atomic(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def write(root, check=True):
    """Run the checks (optional) and write every generated file under ``root``; returns paths."""
    if check:
        for mod in TOPICS:
            mod.check()
    root = Path(root)
    files = {"gaussrelbo/_generated.py": module_text(), **latex_files()}
    for rel, text in files.items():
        _write_atomic(root / rel, text)
    return [root / rel for rel in files]


def _source_checkout():
    """The repository root when running from a source checkout, else None."""
    root = Path(__file__).resolve().parents[2]
    return str(root) if (root / "pyproject.toml").is_file() else None


def main(argv=None):
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=_source_checkout(),
                        help="directory to write into (default: the source checkout)")
    parser.add_argument("--no-check", action="store_true",
                        help="skip the symbolic checks of the derivations")
    args = parser.parse_args(argv)
    if args.root is None:
        parser.error("gaussrelbo is installed, not a source checkout: pass --root DIR")
    for path in write(args.root, check=not args.no_check):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
