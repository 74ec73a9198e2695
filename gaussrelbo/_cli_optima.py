"""``gaussrelbo optima``: the atlas of stationary points of one objective on one spectrum."""

import csv
import json
import sys

import numpy as np

from .datasets import load_spectrum
from .optima import stationary_points

__all__ = ["register"]

# one spelling, the API's; "beta-elbo" is a deprecated alias of "beta_elbo"
_OBJECTIVES = {"loglik": "loglik", "elbo": "elbo", "relbo": "relbo", "beta_elbo": "beta_elbo"}
_READINGS = ("pointwise", "escort", "cross_entropy")
_FIELDS = ("subset", "kind", "hessian_signs", "value", "rate", "distortion", "sigma2", "active",
           "orthogonal", "clusters", "manifold_dim")


def _positive(text):
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"expected a positive number, got {text!r}") from None
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"expected a positive number, got {text!r}")
    return value


def register(subparsers):
    import argparse

    def positive(text):
        try:
            return _positive(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    def positive_int(text):
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") \
                from None
        if v < 1:
            raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
        return v

    p = subparsers.add_parser(
        "optima", help="stationary points, their kinds and the global maximum",
        description="Every stationary point of an objective on a data spectrum, classified by "
        "its Hessian over the decoder (W, and sigma2 when learned).")
    p.add_argument("--spectrum", default="synthetic",
                   help="built-in name (synthetic, design9, digits), scikit-learn data set "
                        "(wine, iris, breast_cancer, sklearn-digits), a file of eigenvalues "
                        "(one per line) or a CSV data matrix (rows = samples)")
    p.add_argument("--k", type=positive_int, required=True, help="latent dimension")
    p.add_argument("--objective", choices=tuple(_OBJECTIVES), required=True,
                   type=lambda text: text.replace("-", "_"))
    p.add_argument("--alpha", type=positive, help="Renyi order (relbo)")
    p.add_argument("--beta", type=positive, help="rate weight (beta_elbo)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--sigma2", type=positive, help="fixed decoder noise variance")
    g.add_argument("--learn-sigma2", action="store_true", help="learn sigma2 (the default)")
    p.add_argument("--encoder", choices=("diagonal", "full"), default="diagonal")
    p.add_argument("--reading", choices=_READINGS, default="pointwise",
                   help="reading of the RELBO (--objective relbo only): pointwise (default), "
                        "escort (the pointwise atlas with the escort encoder's rate and "
                        "distortion) or cross_entropy (data-level Renyi cross-entropy, "
                        "0 < alpha < 2; dimension j collapses iff lambda_j <= "
                        "sigma2/(2 - alpha))")
    p.add_argument("--format", choices=("table", "json", "csv"), default="table")
    p.add_argument("--max-points", type=positive_int, default=None,
                   help="cap on the points listed, best value first (default 10000 at fixed "
                        "sigma2, 1000 with a learned sigma2); the global maximum is always "
                        "listed")
    p.add_argument("--max-cluster", type=positive_int, default=None,
                   help="largest column cluster enumerated (default: the largest whose "
                        "candidates fit the candidate cap); a smaller value than k marks "
                        "the atlas incomplete")
    p.set_defaults(func=run)
    return p


def _clusters_text(clusters):
    """Clusters as 'columns/rank@directions' items, e.g. '3/3@0,1,2 1/1@4'."""
    return " ".join(f"{len(c['columns'])}/{c['rank']}@{','.join(map(str, c['eigen_indices']))}"
                    for c in clusters)


def _collapse(atlas, lam, k, objective, reading):
    """Which of the k latent dimensions collapse at the global maximum's noise: dimension j
    (0-based, descending spectrum) collapses iff lambda_j <= the reading's threshold."""
    s2 = atlas.global_max.sigma2
    if reading == "cross_entropy":
        rule, thr = "lambda_j <= sigma2/(2 - alpha)", s2 / (2.0 - atlas.alpha)
    elif objective == "beta_elbo":
        rule, thr = "lambda_j <= beta sigma2", atlas.beta * s2
    else:
        rule, thr = "lambda_j <= sigma2", s2
    top = np.asarray(lam[:k], float)
    return {"rule": rule, "threshold": float(thr), "sigma2": float(s2),
            "collapsed": [int(j) for j in np.flatnonzero(top <= thr)],
            "active": [int(j) for j in np.flatnonzero(top > thr)]}


def _records(atlas):
    return [p.to_dict() for p in atlas.points]


def run(args):
    objective = _OBJECTIVES[args.objective]
    if objective == "relbo" and args.alpha is None:
        raise ValueError("--alpha is required with --objective relbo")
    if objective == "beta_elbo" and args.beta is None:
        raise ValueError("--beta is required with --objective beta_elbo")
    reading = args.reading
    if reading != "pointwise" and objective != "relbo":
        raise ValueError(f"--reading {reading} applies to --objective relbo only, got "
                         f"--objective {args.objective}")
    if reading == "cross_entropy" and not args.alpha < 2:
        raise ValueError(f"--alpha must satisfy 0 < alpha < 2 with --reading cross_entropy, "
                         f"got {args.alpha:g}")
    lam = load_spectrum(args.spectrum)
    if args.k > lam.size:
        raise ValueError(f"--k {args.k} exceeds the spectrum's dimension n={lam.size}")
    atlas = stationary_points(lam, args.k, objective, alpha=args.alpha, beta=args.beta,
                              sigma2=args.sigma2, encoder=args.encoder,
                              max_points=args.max_points, max_cluster=args.max_cluster,
                              reading=reading)
    collapse = _collapse(atlas, lam, args.k, objective, reading)
    out = sys.stdout
    if args.format == "json":
        d = atlas.to_dict()
        d["objective"] = args.objective
        d["reading"] = reading
        d["collapse"] = collapse
        json.dump(d, out, indent=2, allow_nan=False)
        out.write("\n")
        return 0
    recs = _records(atlas)
    if args.format == "csv":
        w = csv.writer(out)
        w.writerow(_FIELDS)
        for r in recs:
            w.writerow([" ".join(map(str, r["subset"])), r["kind"],
                        " ".join(map(str, r["hessian_signs"] or [])), repr(r["value"]),
                        repr(r["rate"]), repr(r["distortion"]), repr(r["sigma2"]), r["active"],
                        r["orthogonal"]])
        return 0
    gm = atlas.global_max
    s2 = "learned" if atlas.sigma2 is None else f"{atlas.sigma2:g}"
    out.write(f"gaussrelbo optima: {args.objective} on {args.spectrum!s} (n={lam.size}), "
              f"k={args.k}, sigma2 {s2}, {args.encoder} encoder, reading {reading}\n")
    if reading != "pointwise":
        out.write(f"note: {atlas.note}\n")
    out.write(f"global maximum: subset {list(gm.subset)}, value {gm.value:.10g}, sigma2 "
              f"{gm.sigma2:.6g}, active {gm.active}\n")
    out.write(f"collapsed dimensions ({collapse['rule']} = {collapse['threshold']:.6g}): "
              f"{collapse['collapsed']}\n")
    if not atlas.complete:
        out.write(f"incomplete: truncated by {'; '.join(atlas.truncated_by)}; orthogonal "
                  f"stationary points in all: {atlas.n_orthogonal}\n")
    if atlas.index_counts:
        items = list(atlas.index_counts.items())
        shown = ", ".join(f"{k}: {v}" for k, v in items[:8])
        more = (f", ... ({len(items)} patterns in all; --format json lists them)"
                if len(items) > 8 else "")
        out.write("orthogonal points per Hessian sign pattern (pos, zero, neg): "
                  f"{shown}{more}\n")
    out.write(f"\n{'subset':<24} {'kind':<10} {'signs':<14} {'value':>14} {'rate':>10} "
              f"{'distortion':>12} {'sigma2':>9} {'act':>3} orth\n")
    for r in recs:
        sub = ",".join(map(str, r["subset"])) or "-"
        signs = ",".join(map(str, r["hessian_signs"])) if r["hessian_signs"] else "-"
        out.write(f"{sub[:24]:<24} {r['kind']:<10} {signs:<14} {r['value']:>14.8g} "
                  f"{r['rate']:>10.5g} {r['distortion']:>12.7g} {r['sigma2']:>9.5g} "
                  f"{r['active']:>3} {'y' if r['orthogonal'] else 'n'}\n")
    return 0
