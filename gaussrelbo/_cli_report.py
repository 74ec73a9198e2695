"""``gaussrelbo report``: the main job, on the embedded default model and data."""

import json
import sys

import numpy as np

from .report import alpha_limit_table, default_problem, objectives_table

__all__ = ["register"]


def register(subparsers):
    p = subparsers.add_parser("report", help="objectives and the alpha -> 1 limit on the default "
                              "model", description="Print the objectives table of the default "
                              "model and the alpha -> 1 convergence table.")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(func=run)
    return p


def _fmt(x):
    return f"{x: .12g}" if np.isfinite(x) else f"{x}"


def run(args):
    model, data, description = default_problem()
    objectives = objectives_table(model, data)
    limit = alpha_limit_table(model, data)
    if args.format == "json":
        json.dump({"problem": description, "objectives": objectives, "alpha_limit": limit},
                  sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    out = sys.stdout
    out.write(f"gaussrelbo report: {description}\n\n")
    out.write("Objectives (population values, nats)\n")
    width = max(len(r["objective"]) for r in objectives)
    for r in objectives:
        out.write(f"  {r['objective']:<{width}}  {_fmt(r['value'])}\n")
    out.write("\nalpha -> 1: RELBO_alpha - ELBO and the remainder after the first-order term\n")
    out.write(f"  {'alpha - 1':>10}  {'|RELBO - ELBO|':>14}  {'ratio / |a-1|':>14}  "
              f"{'|remainder|':>12}  {'ratio / (a-1)^2':>15}\n")
    for r in limit:
        out.write(f"  {r['delta']:>10.0e}  {r['abs_diff']:>14.6e}  {r['diff_over_delta']:>14.9f}  "
                  f"{r['abs_remainder']:>12.3e}  {r['remainder_over_delta2']:>15.9f}\n")
    slope = limit[0]["first_order_coefficient"]
    out.write(f"\n  first-order coefficient H(p(z|x)) - H(q) = {slope:.12g}\n")
    return 0
