"""Throughput of the batched population RELBO against the batch size and the data dimension.

    python -m benchmarks.throughput [--out throughput.png] [--quick]

Prints the table and draws the two-panel plot that ``docs/performance.md`` shows (``docs/build.py``
runs this).  Each point is the median of 3 timings of ``gr.relbo`` on freshly built models (so
the SVD of every W is included), as in ``benchmarks/run.py``.
"""

import argparse
import sys
import time

import numpy as np

import gaussrelbo as gr

from .run import _batch, _data

BATCHES = (1, 10, 100, 1000, 10000)
DIMS = (16, 32, 64, 128, 256, 512, 784)


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
    return {"batch": [(B, _sets_per_second(B, 64, 10)) for B in batches],
            "dim": [(n, _sets_per_second(100, n, 10)) for n in dims]}


def plot(res):
    """Two log-log panels: parameter sets per second against B and against n."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.6), layout="constrained")
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
    return fig


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.throughput", description=__doc__)
    p.add_argument("--out", default="throughput.png", help="plot file (PNG or PDF)")
    p.add_argument("--quick", action="store_true", help="three points per panel")
    args = p.parse_args(argv)
    res = measure(args.quick)
    for key, label in (("batch", "B"), ("dim", "n")):
        for x, y in res[key]:
            print(f"{label} = {x:<6d} {y:12.4g} sets/s")
    plot(res).savefig(args.out, dpi=110)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
