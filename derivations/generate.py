"""Write the generated kernel module and the LaTeX the docs include.

Usage::

    python -m derivations.generate [--root DIR] [--no-check]

runs every derivation's ``check()`` (unless ``--no-check``), then writes

* ``gaussrelbo/_generated.py``: numpy kernels of the spectral functions and their derivatives,
* ``docs/derivations/<topic>.md``: the derived equations as LaTeX display blocks,

under ``DIR`` (default: the source tree this script lives in).  Output is deterministic text for a
given sympy version (pinned in the ``test`` extra); each file is written to a temporary file and
renamed into place.
"""

import argparse
import os
import sys
import tempfile
from pathlib import Path

import sympy as sp
from sympy.codegen.cfunctions import log1p
from sympy.printing.numpy import NumPyPrinter

from . import closed_forms, relbo_identity, renyi_entropy, spectral, stationary
from .renyi_entropy import alpha
from .spectral import beta, d, lam, s2, v, w, w2

__all__ = ["kernels", "module_text", "latex_files", "write", "main"]

COMMAND = "python -m derivations.generate"
TOPICS = (renyi_entropy, relbo_identity, closed_forms, spectral, stationary)


def kernels():
    """``[(name, args, exprs, kind, doc)]``: kind "scalar" returns one array, "vector" stacks
    the expressions on a last axis, "matrix" stacks a square list of lists on two last axes."""
    S, T = spectral, stationary
    lw = (lam, w, v, d, s2)
    prof = (lam, w2, s2)
    return [
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
        ("grad_unused", (lam, s2), [sp.diff(T.F_unused, s2)], "vector",
         "Gradient of an unused direction's value in (sigma2,)."),
        ("hess_unused", (lam, s2), [[sp.diff(T.F_unused, s2, 2)]], "matrix",
         "Hessian of an unused direction's value in (sigma2,)."),
        ("grad_relbo_full", lw + (alpha,), T.grad_full(S.f_relbo), "vector",
         "Gradient of the unprofiled RELBO of one dimension in (w, v, d, sigma2)."),
        ("grad_beta_full", lw + (beta,), T.grad_full(S.f_beta), "vector",
         "Gradient of the unprofiled beta-ELBO of one dimension in (w, v, d, sigma2)."),
        ("sigma2_fixed_point", (T.L, T.n, T.r, beta), T.sigma2_fixed_point, "scalar",
         "Learned sigma2 at a beta-ELBO stationary point: sum of unused eigenvalues L over n - beta r."),
    ]


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


def latex_files():
    """``{relative path: text}`` of the LaTeX include files, one per derivation topic."""
    out = {}
    for mod in TOPICS:
        topic = mod.__name__.rsplit(".", 1)[1]
        parts = [f"<!-- Generated by `{COMMAND}` from derivations/{topic}.py "
                 f"(sympy {sp.__version__}). Do not edit. -->", ""]
        for name, tex in mod.latex().items():
            parts += [f"**{name}**", "", "$$", tex, "$$", ""]
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


def main(argv=None):
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=str(Path(__file__).resolve().parents[1]),
                        help="directory to write into (default: the source tree)")
    parser.add_argument("--no-check", action="store_true",
                        help="skip the symbolic checks of the derivations")
    args = parser.parse_args(argv)
    for path in write(args.root, check=not args.no_check):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
