"""Performance measurements of the basin maps, single calls, BLAS threads and sweeps.

Called by ``python -m benchmarks.run``; each function returns a dict of min / median / max
statistics.  ``python -m benchmarks.perf --threads-probe`` is the subprocess that compares BLAS
thread counts (it must start without a one-thread environment).
"""

import json
import logging
import os
import subprocess
import sys
import time

import numpy as np

import gaussrelbo as gr


def _stats(values):
    t = np.asarray(values, float)
    return {"min": float(t.min()), "median": float(np.median(t)), "max": float(t.max())}


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def _labels(bm):
    return [r["label"] for runs in bm.runs for r in runs]


# ---- basin maps ---------------------------------------------------------------------------------

def _basin_problem(quick):
    n, k, runs = (6, 2, 8) if quick else (20, 4, 200)
    lam = 10.0 * 0.8 ** np.arange(n)          # geometric, like most data (docs/findings.md §3)
    return lam, k, {"params": (0.5,), "n_runs": runs, "sigma2": float(np.median(lam)),
                    "random_state": 0}


def basins(quick, repeat):
    """The default basin map (batched, profiled) against the per-start reference paths, on the
    same starts; destinations compared run by run."""
    lam, k, kw = _basin_problem(quick)
    batched, bm = [], None
    for _ in range(1 if quick else max(3, repeat)):       # quick: a smoke test, one run
        t, bm = _timed(lambda: gr.basin_map(lam, k, "relbo", **kw))
        batched.append(t)
    t_full_ref, ref_full = _timed(lambda: gr.basin_map(lam, k, "relbo", method="per_start",
                                                       mode="full", **kw))
    t_prof_ref, ref_prof = _timed(lambda: gr.basin_map(lam, k, "relbo", method="per_start",
                                                       **kw))
    t_full_b, full_b = _timed(lambda: gr.basin_map(lam, k, "relbo", mode="full", **kw))
    got = _labels(bm)
    disagree = {
        "batched_profiled_vs_per_start_full": sum(a != b for a, b in zip(got, _labels(ref_full))),
        "batched_profiled_vs_per_start_profiled": sum(
            a != b for a, b in zip(got, _labels(ref_prof))),
        "batched_full_vs_per_start_full": sum(
            a != b for a, b in zip(_labels(full_b), _labels(ref_full))),
    }
    if any(disagree.values()):
        raise AssertionError(f"basin destinations differ between methods: {disagree}")
    b = np.asarray(batched)
    return {
        "ratio": _stats(t_full_ref / b),
        "batched_seconds": _stats(b),
        "per_start_full_seconds": _stats([t_full_ref]),
        "per_start_profiled_seconds": _stats([t_prof_ref]),
        "batched_full_seconds": _stats([t_full_b]),
        "profiled_ratio_same_mode": _stats(t_prof_ref / b),
        "full_ratio_same_mode": float(t_full_ref / t_full_b),
        "disagreements": disagree,
        "n_runs": int(kw["n_runs"]),
        "n_distinct_destinations": len(set(got)),
        "iterations_batched": list(bm.iterations[0]),
        "iterations_per_start_full": list(ref_full.iterations[0]),
    }


# ---- one population RELBO call ------------------------------------------------------------------

def _naive_relbo(W, b, s2, V, c, D, mu, S, alpha):
    """The population RELBO written the naive way: explicit inverse and determinants, n x n
    products (the formulas of the docs' closed-form page, term by term)."""
    n, k = W.shape
    A = np.eye(n) - W @ V
    r = A @ mu - W @ c - b
    Dm = np.diag(D)
    dist = 0.5 * n * np.log(2 * np.pi * s2) + (np.trace(A @ S @ A.T) + r @ r
                                               + np.trace(W @ Dm @ W.T)) / (2 * s2)
    m = V @ mu + c
    rate = 0.5 * (np.trace(Dm) + np.trace(V @ S @ V.T) + m @ m - k - np.log(np.linalg.det(Dm)))
    Minv = np.linalg.inv(W.T @ W + s2 * np.eye(k))
    post = np.log(np.linalg.det(s2 * Minv))
    ell = np.log(alpha) / (alpha - 1.0)
    return -dist - rate + (1 - alpha) / (2 * alpha) * (np.log(np.linalg.det(Dm)) + k - k * ell
                                                        - post)


def _median_time(fn, number, repeat):
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        out.append((time.perf_counter() - t0) / number)
    return out


def single_call(quick, repeat):
    """One population RELBO call on a freshly built model (validated at construction, outside
    the timing, as in ``batched``; its SVD is not cached yet, so it is included), against the
    numpy floor (one thin SVD and the two products with the data factor) and the naive
    explicit-inverse formula on the same inputs."""
    rng = np.random.default_rng(11)
    sizes = ([(8, 1), (8, 4), (16, 4)] if quick else
             [(8, 1), (8, 4), (64, 1), (64, 10), (64, 64), (256, 10), (256, 64), (1024, 1),
              (1024, 10), (1024, 64)])
    out = {}
    for n, k in sizes:
        lam = np.sort(rng.uniform(0.1, 5.0, n))[::-1]
        Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
        S = (Q * lam) @ Q.T
        S = 0.5 * (S + S.T)
        mu = rng.normal(size=n)
        data = gr.DataMoments(mu, S)
        L = data.factor
        W, b, V = rng.normal(size=(n, k)), rng.normal(size=n), rng.normal(size=(k, n)) / n
        c, D = rng.normal(size=k), rng.uniform(0.2, 1.0, k)

        def fresh():
            return gr.LinearGaussianVAE(W, b, 0.7, V=V, c=c, D=D)

        def floor():                      # one thin SVD and the two products with the data
            U = np.linalg.svd(W, full_matrices=False)[0]
            return U.T @ L, V @ L

        want = _naive_relbo(W, b, 0.7, V, c, D, mu, S, 0.5)
        got = float(gr.relbo(fresh(), data, 0.5))
        if abs(got - want) > 1e-8 * (1 + abs(want)):
            raise AssertionError(f"naive and gaussrelbo RELBO differ at n={n}, k={k}: {got} "
                                 f"vs {want}")
        number = 1 if n >= 1024 else (20 if n >= 256 else 200)
        if quick:
            number = 10
        reps = max(3, repeat)
        t_call, t_floor, t_naive = [], [], []
        for _ in range(reps):                 # interleaved, so load affects all three alike
            models = iter([fresh() for _ in range(number)])
            t_call += _median_time(lambda: gr.relbo(next(models), data, 0.5), number, 1)
            t_floor += _median_time(floor, number, 1)
            t_naive += _median_time(lambda: _naive_relbo(W, b, 0.7, V, c, D, mu, S, 0.5),
                                    number, 1)
        t_call, t_floor, t_naive = map(np.asarray, (t_call, t_floor, t_naive))
        out[f"n{n}_k{k}"] = {"call_seconds": _stats(t_call), "floor_seconds": _stats(t_floor),
                             "naive_seconds": _stats(t_naive),
                             "vs_floor": _stats(t_call / t_floor),
                             "vs_naive": _stats(t_call / t_naive)}
    return out


# ---- BLAS threads -------------------------------------------------------------------------------

def _threads_probe(quick, repeat):
    from threadpoolctl import threadpool_info

    lam, k, kw = _basin_problem(quick)
    avail = max((p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"),
                default=1)
    t1, t2 = [], []
    for _ in range(max(3, repeat)):                 # interleaved
        t1.append(_timed(lambda: gr.basin_map(lam, k, "relbo", blas_threads=1, **kw))[0])
        t2.append(_timed(lambda: gr.basin_map(lam, k, "relbo", blas_threads=2, **kw))[0])
    t1, t2 = np.asarray(t1), np.asarray(t2)
    return {"ratio": _stats(t2 / t1), "one_thread_seconds": _stats(t1),
            "two_threads_seconds": _stats(t2), "blas_threads_available": int(avail)}


def threads(quick, repeat):
    """Basin map with BLAS limited to 1 thread against 2 threads (ratio = time(2) / time(1)),
    in a fresh process whose BLAS may start 2 threads."""
    env = dict(os.environ)
    for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[v] = "2"
    cmd = [sys.executable, "-m", "benchmarks.perf", "--threads-probe", "--repeat", str(repeat)]
    if quick:
        cmd.append("--quick")
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
    return json.loads(out.stdout.splitlines()[-1])


# ---- sweeps -------------------------------------------------------------------------------------

def sweep_throughput(quick, repeat):
    """Configurations per second of a sweep of global optima and collapse counts on dask's
    local (threaded) scheduler."""
    grid = ({"spectrum": ["synthetic"], "k": [1, 2], "objective": ["relbo", "beta_elbo"],
             "alpha": [0.5, 2.0], "beta": [0.5, 2.0], "sigma2": [None, 0.8]} if quick else
            {"spectrum": ["synthetic", "design9", "digits"], "k": [1, 2, 3, 4, 6],
             "objective": ["loglik", "elbo", "relbo", "beta_elbo"],
             "alpha": [0.1, 0.3, 1.0, 3.0, 10.0], "beta": [0.25, 0.5, 1.0, 2.0, 4.0],
             "sigma2": [None, 0.5, 1.0]})
    times, n = [], 0
    for _ in range(1 if quick else max(2, repeat // 2)):
        t, ds = _timed(lambda: gr.sweep(**grid))
        times.append(t)
        n = ds.attrs["n_configurations"]
    t = np.asarray(times)
    return {"configs_per_second": _stats(n / t), "seconds": _stats(t), "n_configurations": n}


def cluster_scaling(quick, repeat):
    """A sweep with basin maps on a dask.distributed LocalCluster of 1 and of 2 worker
    processes (one thread each); scaling = time(1 worker) / time(2 workers), start-up
    excluded, runs interleaved.  ``quick`` (a smoke test) uses in-process workers."""
    from distributed import Client, LocalCluster

    grid = {"spectrum": ["synthetic", "design9"], "k": [2, 3], "objective": "relbo",
            "alpha": [0.3, 1.0, 3.0] if not quick else [0.5], "sigma2": [0.8, None],
            "basin_runs": 20 if not quick else 2, "chunk_size": 1}
    clusters = [LocalCluster(n_workers=w, threads_per_worker=1, processes=not quick,
                             dashboard_address=":0", silence_logs=logging.ERROR)
                for w in (1, 2)]
    clients = [Client(c) for c in clusters]
    logging.getLogger("distributed").setLevel(logging.ERROR)     # no INFO lines at shutdown
    try:
        for cl in clients:                   # warm up: imports in the workers
            gr.sweep("synthetic", k=1, client=cl)
        t1, t2 = [], []
        for _ in range(1 if quick else max(2, repeat // 2)):
            t1.append(_timed(lambda: gr.sweep(client=clients[0], **grid))[0])
            t2.append(_timed(lambda: gr.sweep(client=clients[1], **grid))[0])
    finally:
        for cl in clients:
            cl.close()
        for c in clusters:
            c.close()
    t1, t2 = np.asarray(t1), np.asarray(t2)
    return {"scaling": _stats(t1 / t2), "one_worker_seconds": _stats(t1),
            "two_workers_seconds": _stats(t2)}


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(prog="python -m benchmarks.perf")
    parser.add_argument("--threads-probe", action="store_true")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.threads_probe:
        print(json.dumps(_threads_probe(args.quick, args.repeat)))
