"""Tables for the report: objectives of a model and the alpha -> 1 limit of the RELBO."""

import numpy as np

from .encoders import optimal_encoder
from .model import DataMoments, LinearGaussianVAE
from .objectives import (beta_elbo, distortion, elbo, log_evidence, rate, relbo, relbo_expansion,
                         renyi_term, vr_bound)

__all__ = ["DEFAULT_SPECTRUM", "FIGURES", "alpha_limit_table", "build_report", "default_problem",
           "merge_duplicate_rows", "objectives_table", "optima_table", "problem_for",
           "report_settings", "save_figure", "write_report"]

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
                     vr_alphas=(0.0, 0.5, 1.0)):
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

    Returns
    -------
    list of dict
        Rows ``{"objective": name, "value": nats}``.
    """
    rows = [("log p(x)", log_evidence(model, data)), ("ELBO", elbo(model, data)),
            ("rate R", rate(model, data)), ("distortion D", distortion(model, data))]
    rows += [(f"beta-ELBO beta={b:g}", beta_elbo(model, data, b)) for b in betas]
    rows += [(f"RELBO alpha={a:g}", relbo(model, data, a)) for a in alphas]
    rows += [(f"Renyi term alpha={a:g}", renyi_term(model, data, a)) for a in alphas]
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
           ("F7_basins", "fig_basins"))


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


def optima_table(lam, k, sigma2, alphas=(0.25, 1.0, 4.0), betas=(0.5, 2.0, 4.0)):
    """Global optimum of every objective, fixed sigma2 and learned sigma2.

    Parameters
    ----------
    lam : array_like, shape (n,)
        Eigenvalues, descending.
    k : int
        Latent dimensions.
    sigma2 : float
        The fixed decoder noise of the "fixed" rows.
    alphas, betas : sequence of float
        RELBO orders and beta-ELBO rate weights.

    Returns
    -------
    list of dict
        One row per objective and sigma2 mode: ``objective``, ``sigma2_mode``
        ('fixed' or 'learned'), ``value``, ``rate``, ``distortion``, ``sigma2``, ``active``.
    """
    from .optima import global_maximum

    rows = []
    specs = [("log-likelihood", "loglik", {})] + [
        (f"RELBO alpha={a:g}", "relbo", {"alpha": a}) for a in alphas] + [
        (f"beta-ELBO beta={b:g}", "beta_elbo", {"beta": b}) for b in betas]
    for name, objective, kw in specs:
        for s2 in (sigma2, None):
            p = global_maximum(lam, k, objective, sigma2=s2, **kw)
            rows.append({"objective": name, "sigma2_mode": "fixed" if s2 else "learned",
                         "value": p.value, "rate": p.rate, "distortion": p.distortion,
                         "sigma2": p.sigma2, "active": p.active})
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
    head = "| " + " | ".join(cols) + " |\n|" + "---|" * len(cols) + "\n"
    return head + "".join("| " + " | ".join(fmt.get(c, "{}").format(r[c]) for c in cols) + " |\n"
                          for r in rows)


def build_report(spectrum="synthetic", k=None, sigma2=None, progress=None, figures=None,
                 command=None):
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

    Returns
    -------
    figs : list of (str, matplotlib.figure.Figure)
        Stem and figure.
    markdown : str
        The text of ``report.md``.
    numbers : dict
        JSON-ready settings, tables and the numbers behind each figure.
    """
    from . import __version__
    from . import figures as F

    say = progress or (lambda msg: None)
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
    }
    wanted = FIGURES if figures is None else [f for f in FIGURES if f[0] in figures]
    figs = []
    for i, (stem, fname) in enumerate(wanted, 1):
        say(f"[{i}/{len(wanted)}] {stem}")
        figs.append((stem, kwargs[fname](getattr(F, fname))))
    say("tables")
    opt = merge_duplicate_rows(optima_table(lam, k, sigma2))
    limit = alpha_limit_table(model, data, deltas=(1e-2, 1e-4, 1e-6, 1e-8, 1e-10, 1e-12))
    objs = objectives_table(model, data)
    thr = [{"j": j + 1, "lambda": float(lam[j]), "threshold": float(lam[j] / sigma2)}
           for j in range(min(lam.size, max(k, 10)))]
    settings = {"spectrum": name, "n": int(lam.size), "k": k, "sigma2": sigma2,
                "eigenvalues": lam.tolist()}
    md = ["# gaussrelbo report\n",
          f"gaussrelbo {__version__}; command: `{command or 'gaussrelbo.report.build_report'}`.\n",
          f"Settings: spectrum **{name}** (n = {lam.size}), k = {k}, fixed sigma2 = "
          f"{sigma2:.6g} (the mean of the discarded eigenvalues unless given; 'learned' rows "
          "optimise it). All values in nats, population (data-averaged). "
          + ("F5 (collapse) is drawn on the embedded digits spectrum (n = 64, k = 10), a real "
             "spectrum, not on this one.\n" if collapse_on_digits else "\n"),
          "## Global optima per objective\n",
          _md_table(opt, ["objective", "sigma2_mode", "value", "rate", "distortion", "sigma2",
                          "active"], {"value": "{:.10g}", "rate": "{:.6g}",
                                      "distortion": "{:.8g}", "sigma2": "{:.6g}"}),
          "\nRows with the same numbers are merged ('fixed = learned' when the learned sigma2 "
          "equals the fixed one). The RELBO's maximum is the pPCA maximum likelihood for every "
          "alpha (its value is alpha-free); its rate/distortion split is not (F6).\n",
          "## beta-ELBO collapse thresholds\n",
          f"Dimension j is switched off by the beta-ELBO iff beta >= lambda_j / sigma2 "
          f"(sigma2 = {sigma2:.6g}).\n",
          _md_table(thr, ["j", "lambda", "threshold"], {"lambda": "{:.6g}",
                                                        "threshold": "{:.6g}"}),
          f"\n## alpha -> 1: RELBO_alpha - ELBO\n\nModel: {text}.\n",
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
               "tables": {"global_optima": opt, "collapse_thresholds": thr,
                          "alpha_limit": limit, "objectives": objs},
               "figures": {stem: fig.numbers for stem, fig in figs}}
    return figs, "\n".join(md), numbers


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
    for path in paths:
        fig.savefig(path, dpi=dpi)


def write_report(out, spectrum="synthetic", k=None, sigma2=None, formats=("png", "pdf"),
                 force=False, progress=None, figures=None, command=None):
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
    # check the target before computing anything
    with atomic_dir(out, force=force) as tmp:
        figs, md, numbers = build_report(spectrum, k, sigma2, progress, figures, command)
        (tmp / "figures").mkdir()
        for stem, fig in figs:
            save_figure(fig, [tmp / "figures" / f"{stem}.{fmt}" for fmt in formats])
        (tmp / "report.md").write_text(md)
        (tmp / "numbers.json").write_text(json.dumps(numbers, indent=1, allow_nan=False))
    return Path(out) / "report.md"
