"""Throughput of the batched population RELBO against the batch size and the data dimension,
and the cost of one call against the data dimension.

    python -m benchmarks.throughput [--out throughput.png] [--json PATH] [--quick]

Prints the table and draws the three-panel plot that ``docs/performance.md`` shows.  The docs
draw it from ``docs/throughput.json``, the measurement written by ``--json`` (with the date, the
machine and the library versions), so that building the docs does not spend a minute timing;
``python docs/build.py --measure`` measures afresh and rewrites that file.  Each point is the median of 3 timings of ``gr.relbo`` on freshly
built models (so the SVD of every W is included), as in ``benchmarks/run.py``; the third panel
puts one call (on a freshly built model: its SVD included, its validation done at construction)
beside the numpy floor (one thin SVD and the two products with the data) and the naive
explicit-inverse formula.
"""

import argparse
import datetime
import json
import os
import platform
import sys
import time

import numpy as np

import gaussrelbo as gr

from .run import _batch, _data

BATCHES = (1, 10, 100, 1000, 10000)
DIMS = (16, 32, 64, 128, 256, 512, 784)
COST_DIMS = (8, 32, 128, 512, 1024)


def _sets_per_second(B, n, k, repeat=3, seed=0):
    rng = np.random.default_rng(seed)
    data = _data(rng, n)
    args = _batch(rng, B, n, k)
    models = [gr.LinearGaussianVAE(*args[:3], V=args[3], c=args[4], D=args[5],
                                     encoder="diagonal") for _ in range(repeat)]
    times = []
    for m in models:
        t0 = time.perf_counter()
        gr.relbo(m, data, 0.5)
        times.append(time.perf_counter() - t0)
    return B / float(np.median(times))


def measure(quick=False):
    """``{"batch": [(B, sets/s)] at n=64, k=10; "dim": [(n, sets/s)] at B=100, k=10}``."""
    batches = BATCHES[:3] if quick else BATCHES
    dims = DIMS[:3] if quick else DIMS
    cost_dims = COST_DIMS[:2] if quick else COST_DIMS
    return {"batch": [(B, _sets_per_second(B, 64, 10)) for B in batches],
            "dim": [(n, _sets_per_second(100, n, 10)) for n in dims],
            "cost": [(n, *_single_call_costs(n, 10)) for n in cost_dims]}


def _single_call_costs(n, k, repeat=3, seed=0):
    """Median seconds of one call, of the numpy floor and of the naive formula."""
    from .perf import _naive_relbo

    rng = np.random.default_rng(seed)
    data = _data(rng, n)
    L, S, mu = data.factor, data.cov, data.mean
    W, b, s2, V, c, D = (a[0] for a in _batch(rng, 1, n, k))
    number = 1 if n >= 512 else 20
    models = iter([gr.LinearGaussianVAE(W, b, s2, V=V, c=c, D=D)       # validated here, once
                   for _ in range(number * repeat)])
    fns = (lambda: gr.relbo(next(models), data, 0.5),
           lambda: (np.linalg.svd(W, full_matrices=False)[0].T @ L, V @ L),
           lambda: _naive_relbo(W, b, s2, V, c, D, mu, S, 0.5))
    out = []
    for fn in fns:
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            for _ in range(number):
                fn()
            times.append((time.perf_counter() - t0) / number)
        out.append(float(np.median(times)))
    return out


def save(res, path):
    """Write a measurement of :func:`measure` as JSON, with when, where and with what."""
    import scipy

    meta = {"measured": datetime.date.today().isoformat(),
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}",
            "python": platform.python_version(), "numpy": np.__version__,
            "scipy": scipy.__version__, "gaussrelbo": gr.__version__,
            "command": "python -m benchmarks.throughput --json PATH",
            "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS", "default")}
    with open(path, "w") as fh:
        json.dump({"meta": meta, **res}, fh, indent=1)
        fh.write("\n")


def load(path):
    """A measurement written by :func:`save` (its ``meta`` entry included)."""
    with open(path) as fh:
        return json.load(fh)


def plot(res):
    """Log-log panels: parameter sets per second against B and against n; the cost of one call
    against n beside the numpy floor and the naive formula."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    fig, (a1, a2, a3) = plt.subplots(1, 3, figsize=(13.5, 3.6), layout="constrained")
    for ax, key, xlabel, title in ((a1, "batch", "batch size B", "n = 64, k = 10"),
                                   (a2, "dim", "data dimension n", "B = 100, k = 10")):
        x, y = np.array(res[key]).T
        ax.loglog(x, y, "o-")
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xticks(x, [f"{int(v)}" for v in x])
        ax.set_xlabel(xlabel)
        ax.set_ylabel("parameter sets per second")
        ax.set_title(f"population RELBO, {title}")
        ax.grid(True, which="both", alpha=0.3)
    x, call, floor, naive = np.array(res["cost"]).T
    for y, label, style in ((call, "gaussrelbo: one call", "o-"),
                            (floor, "numpy floor (thin SVD + 2 products)", "s--"),
                            (naive, "naive formula (inverse, n x n products)", "^:")):
        a3.loglog(x, y * 1e6, style, label=label)
    a3.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    a3.set_xticks(x, [f"{int(v)}" for v in x])
    a3.set_xlabel("data dimension n")
    a3.set_ylabel("microseconds per call")
    a3.set_title("one population RELBO call, k = 10")
    a3.grid(True, which="both", alpha=0.3)
    a3.legend(fontsize=7)
    meta = res.get("meta")
    if meta:
        fig.suptitle(f"measured {meta['measured']} ({meta['machine']}; gaussrelbo "
                     f"{meta['gaussrelbo']}, numpy {meta['numpy']}), OPENBLAS_NUM_THREADS="
                     f"{meta.get('blas_threads', '?')}", fontsize=8)
    return fig


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.throughput", description=__doc__)
    p.add_argument("--out", default="throughput.png", help="plot file (PNG or PDF)")
    p.add_argument("--json", help="also write the measurement to this file (as the docs use)")
    p.add_argument("--quick", action="store_true", help="three points per panel")
    args = p.parse_args(argv)
    res = measure(args.quick)
    if args.json:
        save(res, args.json)
        res = load(args.json)
    for key, label in (("batch", "B"), ("dim", "n")):
        for x, y in res[key]:
            print(f"{label} = {x:<6d} {y:12.4g} sets/s")
    for n, call, floor, naive in res["cost"]:
        print(f"n = {n:<6d} one call {call * 1e6:10.4g} us, floor {floor * 1e6:10.4g} us, "
              f"naive {naive * 1e6:10.4g} us")
    plot(res).savefig(args.out, dpi=110)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
