"""Tables for the report: objectives of a model and the alpha -> 1 limit of the RELBO."""

import contextlib

import numpy as np

from .encoders import optimal_encoder
from .model import DataMoments, LinearGaussianVAE
from .objectives import (beta_elbo, distortion, elbo, log_evidence, rate, relbo, relbo_expansion,
                         renyi_term, vr_bound)

__all__ = ["DEFAULT_SPECTRUM", "FIGURES", "TABLE_ALPHAS", "alpha_limit_table", "build_report",
           "default_problem", "merge_duplicate_rows", "objectives_table", "optima_table",
           "problem_for", "report_settings", "save_figure", "write_report"]

#: The synthetic spectrum of Theory §8 (n = 6), used with k = 3 and sigma2 = 0.8.
DEFAULT_SPECTRUM = (5.0, 4.0, 3.0, 2.0, 1.2, 0.5)


def default_problem(seed=0):
    """A fixed, deterministic problem: the synthetic spectrum, a seeded non-optimal decoder
    (k = 3, sigma2 = 0.8) and its optimal diagonal ELBO encoder.

    Parameters
    ----------
    seed : int, default 0
        Seed of the random decoder.

    Returns
    -------
    model : LinearGaussianVAE
        The decoder with its optimal diagonal ELBO encoder.
    data : DataMoments
        Zero mean, covariance diag(:data:`DEFAULT_SPECTRUM`).
    text : str
        One line describing the problem.
    """
    rng = np.random.default_rng(seed)
    lam = np.asarray(DEFAULT_SPECTRUM)
    n, k, sigma2 = lam.size, 3, 0.8
    data = DataMoments.from_spectrum(lam)
    W = rng.normal(size=(n, k))
    decoder = LinearGaussianVAE.from_decoder(W, np.zeros(n), sigma2)
    model = optimal_encoder(decoder, "elbo", diagonal=True)
    text = (f"synthetic spectrum {DEFAULT_SPECTRUM}, k={k}, sigma2={sigma2}, seeded random W "
            f"(seed {seed}), optimal diagonal ELBO encoder")
    return model, data, text


def objectives_table(model, data, alphas=(0.25, 0.5, 1.0, 2.0, 4.0), betas=(0.5, 2.0),
                     vr_alphas=(0.0, 0.5, 1.0), reading="pointwise"):
    """Population values of every objective.

    Parameters
    ----------
    model : LinearGaussianVAE
        Unbatched model.
    data : DataMoments or array_like, shape (n,)
        Population moments or one point.
    alphas : sequence of float
        RELBO orders (also used for the Renyi term).
    betas : sequence of float
        beta-ELBO rate weights.
    vr_alphas : sequence of float
        Orders of Li & Turner's bound (its own parameter, not the RELBO's).
    reading : {'pointwise', 'escort', 'cross_entropy'}, default 'pointwise'
        The reading of the Renyi VAE of the RELBO rows (see the docs page "Readings of the
        Renyi VAE"); with 'escort' or 'cross_entropy' the Renyi-term rows become
        ``RELBO[reading] - ELBO``.

    Returns
    -------
    list of dict
        Rows ``{"objective": name, "value": nats}``.
    """
    from .readings import reading_objective

    rows = [("log p(x)", log_evidence(model, data)), ("ELBO", elbo(model, data)),
            ("rate R", rate(model, data)), ("distortion D", distortion(model, data))]
    rows += [(f"beta-ELBO beta={b:g}", beta_elbo(model, data, b)) for b in betas]
    if reading == "pointwise":
        rows += [(_relbo_name(reading, a), relbo(model, data, a)) for a in alphas]
        rows += [(f"Renyi term alpha={a:g}", renyi_term(model, data, a)) for a in alphas]
    else:
        e = elbo(model, data)
        vals = [(a, reading_objective(model, data, a, reading)) for a in alphas]
        rows += [(_relbo_name(reading, a), v) for a, v in vals]
        rows += [(f"{_relbo_name(reading, a).split(' ')[0]} - ELBO alpha={a:g}", v - e)
                 for a, v in vals]
    rows += [(f"VR bound alpha={a:g}", vr_bound(model, data, a)) for a in vr_alphas]
    return [{"objective": name, "value": float(v)} for name, v in rows]


def alpha_limit_table(model, data, deltas=tuple(10.0 ** -np.arange(1, 13))):
    r"""RELBO_{1+-delta} - ELBO and its remainder after the first-order term (Theory §3).

    ``RELBO_alpha = ELBO + (alpha - 1)(H(p(z|x)) - H(q)) + O((alpha - 1)^2)``: the first column
    divided by delta tends to the coefficient, the remainder divided by delta^2 stays bounded.

    Parameters
    ----------
    model : LinearGaussianVAE
        Unbatched model.
    data : DataMoments or array_like, shape (n,)
        Population moments or one point.
    deltas : sequence of float
        Distances from 1; both ``1 + delta`` and ``1 - delta`` are evaluated.

    Returns
    -------
    list of dict
        Rows with ``delta`` (the signed alpha - 1 evaluated), ``abs_diff``,
        ``diff_over_delta``, ``abs_remainder``, ``remainder_over_delta2`` and
        ``first_order_coefficient``.
    """
    rows = []
    for delta in deltas:
        for sign in (1.0, -1.0):
            alpha = 1.0 + sign * delta
            t = alpha - 1.0                  # exact: the alpha actually evaluated
            diff, coef, rem = (float(v) for v in relbo_expansion(model, data, alpha))
            rows.append({"delta": t, "abs_diff": abs(diff), "diff_over_delta": diff / t,
                         "abs_remainder": abs(rem), "remainder_over_delta2": rem / t**2,
                         "first_order_coefficient": coef})
    return rows


# ---- the full report: figures, tables, numbers -----------------------------------------------------

#: figure stem -> figure function name in :mod:`gaussrelbo.figures`
FIGURES = (("F1_alpha_limit", "fig_alpha_limit"), ("F2_bounds_vs_alpha", "fig_bounds_vs_alpha"),
           ("F3_rotation", "fig_rotation"), ("F4_landscape", "fig_landscape"),
           ("F5_collapse", "fig_collapse"), ("F6_rate_distortion", "fig_rate_distortion"),
           ("F7_basins", "fig_basins"),
           ("F8_readings_rate_distortion", "fig_reading_rate_distortion"),
           ("F9_readings_collapse", "fig_reading_collapse"))

#: Orders of the RELBO rows of the tables, per reading (the cross-entropy reading has an optimum
#: only for 0 < alpha < 2).
TABLE_ALPHAS = {"pointwise": (0.25, 1.0, 4.0), "escort": (0.25, 1.0, 4.0),
                "cross_entropy": (0.5, 1.0, 1.5)}


def _relbo_name(reading, alpha):
    """Row name of a RELBO of ``reading`` in the tables: 'RELBO alpha=0.5' for the pointwise
    reading (the package's RELBO), 'RELBO[escort] alpha=0.5' for the others."""
    tag = "" if reading == "pointwise" else f"[{reading}]"
    return f"RELBO{tag} alpha={alpha:g}"


def report_settings(spectrum="synthetic", k=None, sigma2=None):
    """Spectrum, k and a fixed sigma2 for the report.

    Parameters
    ----------
    spectrum : str or array_like, default 'synthetic'
        A name or file for :func:`gaussrelbo.datasets.load_spectrum`, or the eigenvalues.
    k : int, optional
        Latent dimensions, 2 <= k < n (default: 3 for n <= 12, else 10); the rotation figure
        turns two latent columns into each other, so the report needs two.
    sigma2 : float, optional
        Fixed decoder noise (default: the mean of the discarded eigenvalues, the pPCA
        maximum-likelihood value).

    Returns
    -------
    lam : ndarray, shape (n,)
        Eigenvalues.
    k : int
        Latent dimensions.
    sigma2 : float
        Decoder noise.
    """
    from .datasets import load_spectrum

    lam = load_spectrum(spectrum) if isinstance(spectrum, str) else np.asarray(spectrum, float)
    n = lam.size
    if n < 2:
        raise ValueError(f"`spectrum` needs at least 2 eigenvalues, got {n}")
    k = (3 if n <= 12 else 10) if k is None else k
    if n < 3:
        raise ValueError(f"`spectrum` needs at least 3 eigenvalues (two latent columns and a "
                         f"discarded direction), got {n}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 2 <= k < n:
        raise ValueError(f"`k` must be an integer in [2, n-1={n - 1}] (the rotation figure turns "
                         f"two latent columns), got {k!r}")
    if sigma2 is None:
        sigma2 = float(lam[k:].mean())
        if sigma2 <= 0:
            raise ValueError("the discarded eigenvalues are all zero; pass sigma2")
    return lam, int(k), float(sigma2)


def optima_table(lam, k, sigma2, alphas=None, betas=(0.5, 2.0, 4.0), reading="pointwise"):
    """Global optimum of every objective, fixed sigma2 and learned sigma2.

    Parameters
    ----------
    lam : array_like, shape (n,)
        Eigenvalues, descending.
    k : int
        Latent dimensions.
    sigma2 : float
        The fixed decoder noise of the "fixed" rows.
    alphas : sequence of float, optional
        RELBO orders (default: :data:`TABLE_ALPHAS` of the reading).
    betas : sequence of float
        beta-ELBO rate weights.
    reading : {'pointwise', 'escort', 'cross_entropy'}, default 'pointwise'
        The reading of the Renyi VAE of the RELBO rows
        (:func:`gaussrelbo.readings.reading_global_maximum`).

    Returns
    -------
    list of dict
        One row per objective and sigma2 mode: ``objective``, ``sigma2_mode``
        ('fixed' or 'learned'), ``value``, ``rate``, ``distortion``, ``sigma2``, ``active``.
        Where a reading has no maximum (the cross-entropy reading for alpha >= 2, or -inf for
        every decoder at the fixed sigma2, or unbounded with learned sigma2) the numbers are
        None and ``note`` says why.
    """
    from .optima import global_maximum
    from .readings import reading_global_maximum

    alphas = TABLE_ALPHAS[reading] if alphas is None else alphas

    def relbo_max(a):
        return lambda s2: reading_global_maximum(lam, k, a, reading, s2)

    def other(objective, **kw):
        return lambda s2: global_maximum(lam, k, objective, sigma2=s2, **kw)

    rows = []
    specs = [("log-likelihood", other("loglik"))] + [
        (_relbo_name(reading, a), relbo_max(a)) for a in alphas] + [
        (f"beta-ELBO beta={b:g}", other("beta_elbo", beta=b)) for b in betas]
    for name, optimum in specs:
        for s2 in (sigma2, None):
            row = {"objective": name, "sigma2_mode": "fixed" if s2 else "learned"}
            try:
                p = optimum(s2)
            except ValueError as exc:             # a reading without a maximum here
                if not name.startswith("RELBO[") or reading != "cross_entropy":
                    raise
                row.update(dict.fromkeys(_NUMERIC), note=str(exc).split(":")[0])
            else:
                row.update(value=float(p.value), rate=float(p.rate),
                           distortion=float(p.distortion), sigma2=float(p.sigma2),
                           active=int(p.active))
            rows.append(row)
    return rows


_NUMERIC = ("value", "rate", "distortion", "sigma2", "active")


def merge_duplicate_rows(rows, rtol=1e-12):
    """Merge rows of :func:`optima_table` whose numbers agree (to ``rtol``): a learned sigma2
    equal to the fixed one gives ``sigma2_mode`` 'fixed = learned', and objectives with the same
    optimum share a row, their names joined by '; '.

    Parameters
    ----------
    rows : list of dict
        Rows of :func:`optima_table`.
    rtol : float
        Relative tolerance under which two numbers are the same.

    Returns
    -------
    list of dict
        The merged rows, in first-appearance order.
    """
    def same(a, b):
        if any(a[c] is None or b[c] is None for c in _NUMERIC):     # no maximum: kept apart
            return False
        return all(abs(a[c] - b[c]) <= rtol * (1.0 + abs(a[c])) for c in _NUMERIC)

    by_objective = []
    for r in rows:
        prev = by_objective[-1] if by_objective else None
        if prev is not None and prev["objective"] == r["objective"] and same(prev, r):
            prev["sigma2_mode"] = "fixed = learned"
        else:
            by_objective.append(dict(r))
    merged = []
    for r in by_objective:
        twin = next((m for m in merged if m["sigma2_mode"] == r["sigma2_mode"] and same(m, r)),
                    None)
        if twin is None:
            merged.append(r)
        else:
            twin["objective"] += "; " + r["objective"]
    return merged


def _md_table(rows, cols, fmt):
    def cell(r, c):
        v = r.get(c)
        return "no maximum" if v is None else fmt.get(c, "{}").format(v)

    head = "| " + " | ".join(cols) + " |\n|" + "---|" * len(cols) + "\n"
    return head + "".join("| " + " | ".join(cell(r, c) for c in cols) + " |\n" for r in rows)


def _check_reading(reading):
    from .readings import READINGS

    if reading not in READINGS:
        raise ValueError(f"`reading` must be one of {', '.join(READINGS)}, got {reading!r}")
    return reading


def _tables(lam, k, sigma2, reading, model, data):
    return (optima_table(lam, k, sigma2, reading=reading),
            alpha_limit_table(model, data, deltas=(1e-2, 1e-4, 1e-6, 1e-8, 1e-10, 1e-12)),
            objectives_table(model, data, reading=reading))


#: Relative cost of each figure (computing, laying out, PNG and PDF), measured on the default
#: report; used to share the figures between processes.
_COST = {"F1_alpha_limit": 11, "F2_bounds_vs_alpha": 11, "F3_rotation": 12, "F4_landscape": 7,
         "F5_collapse": 16, "F6_rate_distortion": 5, "F7_basins": 10,
         "F8_readings_rate_distortion": 9, "F9_readings_collapse": 14}


def _check_jobs(jobs):
    """``jobs`` as a process count: None -> 2 on Linux with two CPUs or more, in a process
    without other Python threads and without a multithreaded framework loaded (JAX, PyTorch,
    TensorFlow: forking them can deadlock), else 1 (forking is not safe with every macOS
    framework, and Windows cannot fork)."""
    import multiprocessing
    import os
    import sys
    import threading

    if jobs is None:
        can_fork = (sys.platform.startswith("linux")
                    and "fork" in multiprocessing.get_all_start_methods()
                    and threading.active_count() == 1
                    and not any(m in sys.modules for m in ("jax", "torch", "tensorflow")))
        return 2 if can_fork and (os.cpu_count() or 1) >= 2 else 1
    if isinstance(jobs, bool) or not isinstance(jobs, (int, np.integer)) or jobs < 1:
        raise ValueError(f"`jobs` must be a positive integer, got {jobs!r}")
    if jobs > 1 and "fork" not in multiprocessing.get_all_start_methods():
        raise ValueError(f"`jobs` must be 1 on a platform that cannot fork, got {jobs!r}")
    return int(jobs)


def _partition(wanted, jobs):
    """``wanted`` (stem, function name) shared into ``jobs`` groups of about equal cost (the
    first group is the calling process's, which also computes the tables)."""
    groups, cost = [[] for _ in range(jobs)], [0.0] * jobs
    cost[0] = 2.0                                          # the tables
    for item in sorted(wanted, key=lambda sf: -_COST.get(sf[0], 10)):
        i = int(np.argmin(cost))
        groups[i].append(item)
        cost[i] += _COST.get(item[0], 10)
    return groups


class _Drawn:
    """A figure drawn (and saved) by another process: its caption and numbers."""

    def __init__(self, caption, numbers):
        self.caption, self.numbers = caption, numbers


def _child(conn, group, draw):
    """In a forked process: draw (and save) ``group``, send back captions and numbers."""
    try:
        out = [(stem, (fig.caption, fig.numbers)) for stem, fig in
               ((stem, draw(stem, fname)) for stem, fname in group)]
        conn.send(("ok", out))
    except BaseException as exc:                          # sent to the parent, raised there
        conn.send(("error", exc))
    finally:
        conn.close()


@contextlib.contextmanager
def _forked(groups, draw):
    """Draw each of ``groups`` in a forked process while the caller draws its own; yields a
    function that waits for them and returns their ``(stem, _Drawn)`` pairs.  A process that
    fails raises its exception in the caller; on any exception here the processes are
    stopped."""
    groups = [g for g in groups if g]
    if not groups:
        yield lambda: []
        return
    import importlib
    import multiprocessing

    # what every process needs, imported once before the fork (the PDF backend alone, through
    # fontTools, takes about 0.3 s)
    for name in ("matplotlib.backends.backend_agg", "matplotlib.backends.backend_pdf",
                 "PIL.PngImagePlugin", "gaussrelbo.basins", "gaussrelbo.readings",
                 "gaussrelbo.optima", "gaussrelbo.datasets"):
        importlib.import_module(name)
    ctx = multiprocessing.get_context("fork")
    procs = []
    try:
        for group in groups:
            recv, send = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_child, args=(send, group, draw), daemon=True)
            proc.start()
            send.close()
            procs.append((proc, recv, group))

        done = []

        def collect():
            out = []
            for proc, recv, group in procs:
                try:
                    status, payload = recv.recv()
                except EOFError:
                    proc.join()
                    raise RuntimeError(f"the process drawing {', '.join(s for s, _ in group)} "
                                       f"ended without a result (exit code {proc.exitcode})"
                                       ) from None
                if status == "error":
                    raise payload
                out += [(stem, _Drawn(*cn)) for stem, cn in payload]
            done.append(True)
            return out

        yield collect
    finally:
        for proc, recv, _ in procs:
            if not done and proc.is_alive():       # the caller failed: stop the others
                proc.terminate()
            proc.join()
            recv.close()


def build_report(spectrum="synthetic", k=None, sigma2=None, progress=None, figures=None,
                 command=None, reading="pointwise", save=None, jobs=1):
    """Compute every figure and table of the report.

    Parameters
    ----------
    spectrum : str or array_like, default 'synthetic'
        Built-in name, scikit-learn data set, file, or the eigenvalues themselves.
    k : int, optional
        Latent dimensions (default: 3 for n <= 12, else 10).
    sigma2 : float, optional
        Fixed decoder noise (default: the mean of the discarded eigenvalues).
    progress : callable, optional
        Called with a short message before each step.
    figures : sequence of str, optional
        Figure stems to draw (default: all of :data:`FIGURES`).
    command : str, optional
        The command line that asked for the report, recorded in its header.
    reading : {'pointwise', 'escort', 'cross_entropy'}, default 'pointwise'
        The reading of the Renyi VAE whose RELBO the optima and objectives tables use (see the
        docs page "Readings of the Renyi VAE"); F8 and F9 always show all three, and F1-F7 and
        the alpha -> 1 table are the pointwise RELBO.
    save : callable, optional
        Called as ``save(stem, figure)`` as soon as each figure is drawn.
    jobs : int or None, default 1
        Processes drawing the figures (None: 2 on Linux with two CPUs or more, unless other
        threads or JAX, PyTorch or TensorFlow are loaded; else 1).
        The others are forked; each calls ``save`` for its own figures and sends back only
        their captions and numbers.

    Returns
    -------
    figs : list of (str, matplotlib.figure.Figure)
        Stem and figure, in the order of :data:`FIGURES`.  A figure drawn by another process
        (``jobs > 1``) is represented by an object with its ``caption`` and ``numbers`` only.
    markdown : str
        The text of ``report.md``.
    numbers : dict
        JSON-ready settings, tables and the numbers behind each figure.
    """
    from . import __version__
    from . import figures as F
    from . import landscapes as L

    say = progress or (lambda msg: None)
    _check_reading(reading)
    lam, k, sigma2 = report_settings(spectrum, k, sigma2)
    name = spectrum if isinstance(spectrum, str) else "user spectrum"
    model, data, text = problem_for(lam, k, sigma2)
    # F5 is a real-data figure: on the synthetic default it shows the embedded digits spectrum
    collapse_on_digits = isinstance(spectrum, str) and spectrum == "synthetic"
    kwargs = {
        "fig_alpha_limit": lambda f: f(model, data),
        "fig_bounds_vs_alpha": lambda f: f(model, data),
        "fig_rotation": lambda f: f(lam, k=k, sigma2=sigma2),
        "fig_landscape": lambda f: f(lam, sigma2=sigma2),
        "fig_collapse": lambda f: (f(None, k=10, name="embedded digits") if collapse_on_digits
                                   else f(lam, k=k, name=name)),
        "fig_rate_distortion": lambda f: f(lam, k=k, sigma2=sigma2),
        "fig_basins": lambda f: f(lam, k=k, sigma2=sigma2),
        "fig_reading_rate_distortion": lambda f: f(lam, k=k, sigma2=sigma2),
        "fig_reading_collapse": lambda f: (f(None, k=10, name="embedded digits")
                                           if collapse_on_digits
                                           else f(lam, k=k, sigma2=sigma2, name=name)),
    }
    wanted = FIGURES if figures is None else [f for f in FIGURES if f[0] in figures]
    order = {stem: i for i, (stem, _) in enumerate(wanted, 1)}

    def draw(stem, fname):
        say(f"[{order[stem]}/{len(wanted)}] {stem}")
        fig = kwargs[fname](getattr(F, fname))
        if save is not None:
            save(stem, fig)
        return fig

    groups = _partition(wanted, _check_jobs(jobs))
    if len(groups) > 1:
        # every figure process evaluates single models, whose direct route uses scipy's LAPACK:
        # imported once here rather than once in each forked process
        import scipy.linalg  # noqa: F401
    with _forked(groups[1:], draw) as others:
        figs = [(stem, draw(stem, fname)) for stem, fname in groups[0]]
        say("tables")
        tables = _tables(lam, k, sigma2, reading, model, data)
        figs += others()                      # the figures drawn by the other processes
    figs.sort(key=lambda sf: order[sf[0]])
    opt, limit, objs = tables
    opt = merge_duplicate_rows(opt)
    thr = [{"j": j + 1, "lambda": float(lam[j]), "threshold": float(lam[j] / sigma2)}
           for j in range(min(lam.size, max(k, 10)))]
    thr_cols, thr_text = ["j", "lambda", "threshold"], ""
    if reading == "cross_entropy":
        for row in thr:                               # alpha_j = 2 - sigma2 / lambda_j
            row["critical_alpha"] = float(2.0 - sigma2 / row["lambda"])
        thr_cols.append("critical_alpha")
        thr_text = ("The cross-entropy reading switches dimension j off iff alpha >= "
                    "critical_alpha = 2 - sigma2 / lambda_j (a beta-ELBO threshold with "
                    "beta = 1/(2 - alpha)).\n")
    notes = [f"- {r['objective']} ({r['sigma2_mode']} sigma2): {r['note']}" for r in opt
             if r.get("note")]
    settings = {"spectrum": name, "n": int(lam.size), "k": k, "sigma2": sigma2,
                "reading": reading, "eigenvalues": lam.tolist()}
    shown_on_digits = "F5 (collapse) and F9 (collapse cascades of the readings) are"
    md = ["# gaussrelbo report\n",
          f"gaussrelbo {__version__}; command: `{command or 'gaussrelbo.report.build_report'}`.\n",
          f"Settings: spectrum **{name}** (n = {lam.size}), k = {k}, fixed sigma2 = "
          f"{sigma2:.6g} (the mean of the discarded eigenvalues unless given; 'learned' rows "
          f"optimise it), reading **{reading}** (the RELBO of the optima and objectives "
          "tables; `--reading`). All values in nats, population (data-averaged). "
          + (f"{shown_on_digits} drawn on the embedded digits spectrum (n = 64, k = 10), a real "
             "spectrum, not on this one.\n" if collapse_on_digits else "\n"),
          "## Global optima per objective\n",
          _md_table(opt, ["objective", "sigma2_mode", "value", "rate", "distortion", "sigma2",
                          "active"], {"value": "{:.10g}", "rate": "{:.6g}",
                                      "distortion": "{:.8g}", "sigma2": "{:.6g}"}),
          "\nRows with the same numbers are merged ('fixed = learned' when the learned sigma2 "
          "equals the fixed one). "
          + _READING_NOTE[reading] + ("\n\n" + "\n".join(notes) if notes else "") + "\n",
          "## beta-ELBO collapse thresholds\n",
          f"Dimension j is switched off by the beta-ELBO iff beta >= lambda_j / sigma2 "
          f"(sigma2 = {sigma2:.6g}). {thr_text}\n",
          _md_table(thr, thr_cols, {"lambda": "{:.6g}", "threshold": "{:.6g}",
                                    "critical_alpha": "{:.6g}"}),
          "\n## alpha -> 1: RELBO_alpha - ELBO (pointwise reading)\n\n"
          f"Model: {text}.\n",
          _md_table(limit, ["delta", "abs_diff", "diff_over_delta", "abs_remainder",
                            "remainder_over_delta2"],
                    {"delta": "{:.0e}", "abs_diff": "{:.6e}", "diff_over_delta": "{:.12f}",
                     "abs_remainder": "{:.3e}", "remainder_over_delta2": "{:.9f}"}),
          "\n## Objectives of the model\n",
          _md_table(objs, ["objective", "value"], {"value": "{:.12g}"}),
          "\n## Figures\n"]
    for stem, fig in figs:
        md.append(f"![{stem}](figures/{stem}.png)\n\n{fig.caption}\n")
    numbers = {"version": __version__, "command": command, "settings": settings,
               "tables": L.to_json({"global_optima": opt, "collapse_thresholds": thr,
                                    "alpha_limit": limit, "objectives": objs}),
               "figures": {stem: fig.numbers for stem, fig in figs}}
    return figs, "\n".join(md), numbers


_READING_NOTE = {
    "pointwise": "The RELBO's maximum is the pPCA maximum likelihood for every alpha (its value "
                 "is alpha-free); its rate/distortion split is not (F6).",
    "escort": "The escort reading's maximum is the pPCA maximum likelihood for every alpha, with "
              "the exact posterior as encoder: the ELBO's rate and distortion (F8).",
    "cross_entropy": "The cross-entropy reading's decoder has w_j^2 = max((2 - alpha) lambda_j "
                     "- sigma2, 0): alpha collapses dimensions like beta = 1/(2 - alpha) (F9); "
                     "it has a maximum only for 0 < alpha < 2.",
}


def problem_for(lam, k, sigma2, seed=0):
    """A deterministic model on a spectrum: seeded non-optimal decoder, optimal diagonal ELBO
    encoder (as :func:`default_problem`).

    Parameters
    ----------
    lam : array_like, shape (n,)
        Eigenvalues of the data covariance.
    k : int
        Latent dimensions.
    sigma2 : float
        Decoder noise.
    seed : int, default 0
        Seed of the random decoder.

    Returns
    -------
    model : LinearGaussianVAE
        The decoder with its optimal diagonal ELBO encoder.
    data : DataMoments
        Zero mean, covariance diag(lam).
    text : str
        One line describing the model.
    """
    rng = np.random.default_rng(seed)
    lam = np.asarray(lam, float)
    n = lam.size
    data = DataMoments.from_spectrum(lam)
    W = rng.normal(size=(n, k)) * np.sqrt(lam.mean())
    decoder = LinearGaussianVAE.from_decoder(W, np.zeros(n), sigma2)
    model = optimal_encoder(decoder, "elbo", diagonal=True)
    return model, data, (f"seeded random W (seed {seed}), sigma2={sigma2:.6g}, optimal diagonal "
                         "ELBO encoder")


def save_figure(fig, paths, dpi=300):
    """Save one figure to several files with a single layout pass.

    The constrained layout is computed once, on the Agg renderer at ``dpi`` that the PNG is then
    drawn with (so text measured for the layout is not measured again), and switched off before
    the files are written: each file costs one draw.  Matplotlib's ``savefig`` would otherwise
    lay the figure out for every file, with a throw-away draw each time.  The PNG pixels are the
    same as those of a plain ``fig.savefig(path, dpi=dpi)``.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        A figure of :mod:`gaussrelbo.figures`.
    paths : sequence of str or path
        Files to write; the format is taken from each suffix (png, pdf, svg).
    dpi : int, default 300
        Resolution of raster files.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)                 # one canvas, so one cached renderer for layout and PNG
    fig.set_dpi(dpi)
    engine = fig.get_layout_engine()
    if engine is not None:
        engine.execute(fig)
        fig.set_layout_engine(None)      # laid out: no further layout (or throw-away draws)
    for path in paths:                   # PNG: zlib level 3 (lossless; level 6 costs 1.7x)
        png = str(path).lower().endswith(".png")
        fig.savefig(path, dpi=dpi, **({"pil_kwargs": {"compress_level": 3}} if png else {}))


def write_report(out, spectrum="synthetic", k=None, sigma2=None, formats=("png", "pdf"),
                 force=False, progress=None, figures=None, command=None, reading="pointwise",
                 jobs=None):
    """Write the report into directory ``out`` atomically: ``figures/<stem>.<fmt>`` (PNG at
    300 dpi, PDF and SVG as vectors), ``report.md`` and ``numbers.json``.

    Parameters
    ----------
    out : str or path
        Output directory.  A non-empty directory not written by this function is replaced only
        with ``force=True``.
    spectrum : str or array_like, default 'synthetic'
        Built-in name, scikit-learn data set, file, or the eigenvalues themselves.
    k : int, optional
        Latent dimensions (default: 3 for n <= 12, else 10).
    sigma2 : float, optional
        Fixed decoder noise (default: the mean of the discarded eigenvalues).
    formats : sequence of {'png', 'pdf', 'svg'}, default ('png', 'pdf')
        Figure formats.
    force : bool, default False
        Replace a foreign non-empty directory.
    progress : callable, optional
        Called with a short message before each step.
    figures : sequence of str, optional
        Figure stems to draw (default: all of :data:`FIGURES`).
    command : str, optional
        The command line that asked for the report, recorded in its header.
    reading : {'pointwise', 'escort', 'cross_entropy'}, default 'pointwise'
        The reading of the Renyi VAE whose RELBO the optima and objectives tables use; F8 and
        F9 always show all three.
    jobs : int or None, default None
        Processes drawing the figures: None is 2 on Linux with two CPUs or more, unless other
        threads or JAX, PyTorch or TensorFlow are loaded (forking them can deadlock), else 1.

    Returns
    -------
    pathlib.Path
        The path of ``report.md``.
    """
    import json
    from pathlib import Path

    from ._reportdir import atomic_dir

    formats = tuple(formats)
    bad = [f for f in formats if f not in ("png", "pdf", "svg")]
    if bad or not formats:
        raise ValueError(f"`formats` must be among png, pdf, svg, got {formats!r}")
    _check_reading(reading)
    jobs = _check_jobs(jobs)
    # check the target before computing anything
    with atomic_dir(out, force=force) as tmp:
        (tmp / "figures").mkdir()

        def save(stem, fig):
            save_figure(fig, [tmp / "figures" / f"{stem}.{fmt}" for fmt in formats])

        _, md, numbers = build_report(spectrum, k, sigma2, progress, figures, command, reading,
                                      save=save, jobs=jobs)
        (tmp / "report.md").write_text(md)
        (tmp / "numbers.json").write_text(json.dumps(numbers, indent=1, allow_nan=False))
    return Path(out) / "report.md"
