"""Speed and accuracy of gaussrelbo, measured side by side.

    python -m benchmarks.run [--quick] [--json PATH]

Each timing is repeated; the table reports min / median / max and the JSON keeps all three.
Targets: relbo_vs_mc_speedup >= 1000, relbo_vs_floor_ratio <= 3, atlas_seconds < 10,
basins_seconds < 60, report_seconds <= 5, derive_seconds < 60, accuracy <= 1e-12,
basins_batched_vs_per_start >= 100, single_call_vs_numpy_floor <= 2, single_call_vs_naive <= 1
(at every size).  ``--quick`` runs tiny sizes, fewer repeats and a report of two figures (a
smoke test of every step, not a measurement).
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

import gaussrelbo as gr

from . import perf

KEYS = ("relbo_vs_mc_speedup", "batched_throughput", "relbo_vs_floor_ratio",
        "generated_vs_runtime_lambdify", "atlas_seconds", "basins_seconds", "report_seconds",
        "derive_seconds", "accuracy", "peak_rss_mb", "basins_batched_vs_per_start",
        "basins_200_seconds", "single_call_vs_numpy_floor", "single_call_vs_naive",
        "threads_1_vs_2", "sweep_configs_per_second", "local_cluster_1_to_2_workers",
        "atlas_n64_k10_seconds", "atlas_n256_k32_seconds", "atlas_peak_rss_mb")
TARGETS = {"relbo_vs_mc_speedup": (">=", 1000.0), "relbo_vs_floor_ratio": ("<=", 3.0),
           "atlas_seconds": ("<", 10.0), "basins_seconds": ("<", 60.0),
           "report_seconds": ("<=", 5.0), "derive_seconds": ("<", 60.0),
           "accuracy": ("<=", 1e-12), "basins_batched_vs_per_start": (">=", 100.0),
           "single_call_vs_numpy_floor": ("<=", 2.0), "single_call_vs_naive": ("<=", 1.0),
           "atlas_n64_k10_seconds": ("<=", 2.0), "atlas_n256_k32_seconds": ("<=", 60.0),
           "atlas_peak_rss_mb": ("<=", 1536.0)}


def _stats(times):
    t = np.asarray(times, float)
    return {"min": float(t.min()), "median": float(np.median(t)), "max": float(t.max())}


def _time(fn, repeat, number=1):
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        out.append((time.perf_counter() - t0) / number)
    return out


def _batch(rng, B, n, k):
    W = rng.normal(size=(B, n, k))
    V = rng.normal(size=(B, k, n)) / n
    D = rng.uniform(0.2, 1.0, size=(B, k))
    return W, rng.normal(size=(B, n)), rng.uniform(0.3, 2.0, size=B), V, rng.normal(size=(B, k)), D


def _data(rng, n):
    lam = np.sort(rng.uniform(0.1, 5.0, n))[::-1]
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    return gr.DataMoments(rng.normal(size=n), (Q * lam) @ Q.T)


# ---- measurements -------------------------------------------------------------------------------

def relbo_vs_mc(quick, repeat):
    from gaussrelbo.montecarlo import mc_relbo

    rng = np.random.default_rng(0)
    n, k = (8, 3) if quick else (64, 10)
    data = _data(rng, n)
    W, b, s2, V, c, D = (a[0] for a in _batch(rng, 1, n, k))
    model = gr.optimal_encoder(gr.LinearGaussianVAE.from_decoder(W, b, s2), "elbo")
    value = float(gr.relbo(model, data, 0.5))
    closed = _time(lambda: gr.relbo(gr.LinearGaussianVAE(W, b, s2, V=model.V, c=model.c, D=model.D),
                                    data, 0.5), repeat, number=20)
    # Pilot run for the per-sample spread, then the sample size that reaches rel. s.e. 1e-3.
    pilot = mc_relbo(model, data, 0.5, n_samples=2000, random_state=1)
    target = 1e-2 if quick else 1e-3
    n_needed = int(np.ceil(2000 * (float(pilot.stderr) / (target * abs(value))) ** 2))
    n_needed = max(n_needed, 2000)
    mc_times = []
    for r in range(max(1, repeat // 2)):
        t0 = time.perf_counter()
        est = mc_relbo(model, data, 0.5, n_samples=n_needed, random_state=10 + r)
        mc_times.append(time.perf_counter() - t0)
    speed = np.median(mc_times) / np.asarray(closed)
    return {"speedup": _stats(speed), "closed_form_seconds": _stats(closed),
            "mc_seconds": _stats(mc_times), "mc_samples": n_needed,
            "mc_relative_stderr": float(est.stderr) / abs(value)}


def batched(quick, repeat):
    rng = np.random.default_rng(1)
    cases = [(100, 8, 3), (10, 16, 4)] if quick else [(10000, 64, 10), (100, 784, 32)]
    out, ratios = {}, {}
    for B, n, k in cases:
        data = _data(rng, n)
        args = _batch(rng, B, n, k)
        models = [gr.LinearGaussianVAE(*args[:3], V=args[3], c=args[4], D=args[5],
                                       encoder="diagonal") for _ in range(repeat)]
        it = iter(models)
        t = _time(lambda: gr.relbo(next(it), data, 0.5), repeat)       # SVD included
        L = data.factor
        # the floor: singular values of every W and one product W^T L (as a single GEMM)
        floor = _time(lambda: (np.linalg.svd(args[0], compute_uv=False),
                               np.swapaxes(args[0], -1, -2).reshape(-1, n) @ L), repeat)
        name = f"B{B}_n{n}_k{k}"
        out[name] = {"sets_per_second": _stats(B / np.asarray(t)), "seconds": _stats(t)}
        ratios[name] = _stats(np.median(t) / np.asarray(floor))
        ratios[name]["floor_seconds_median"] = float(np.median(floor))
    return out, ratios


def generated_vs_lambdify(quick, repeat):
    import sympy as sp

    from gaussrelbo.derivations.spectral import d, f_relbo, lam, s2, v, w
    from gaussrelbo.derivations.renyi_entropy import alpha
    from gaussrelbo import _generated
    from gaussrelbo._numerics import ell

    rng = np.random.default_rng(2)
    N = 1000 if quick else 200000
    args = (rng.uniform(0.1, 5, N), rng.normal(size=N), rng.normal(size=N),
            rng.uniform(0.1, 2, N), rng.uniform(0.1, 2, N), 0.5)
    t_gen = _time(lambda: _generated.f_relbo(*args), repeat)

    def runtime():
        f = sp.lambdify((lam, w, v, d, s2, alpha), f_relbo, modules=[{"ell": ell}, "numpy"])
        return f(*args)

    t_build = _time(runtime, max(1, repeat // 2))
    f = sp.lambdify((lam, w, v, d, s2, alpha), f_relbo, modules=[{"ell": ell}, "numpy"])
    t_lamb = _time(lambda: f(*args), repeat)
    assert np.allclose(f(*args), _generated.f_relbo(*args), rtol=1e-12, atol=1e-12)
    # Naive route: the same N one-dimensional models through the matrix closed forms.
    M = min(N, 2000)
    Wm = args[1][:M, None, None]
    model = gr.LinearGaussianVAE(Wm, np.zeros((M, 1)), args[4][:M], V=args[2][:M, None, None],
                                 c=np.zeros((M, 1)), D=args[3][:M, None])
    data = gr.DataMoments(np.zeros((M, 1)), args[0][:M, None, None])
    t_naive = np.asarray(_time(lambda: gr.relbo(model.replace(), data, 0.5), repeat)) * (N / M)
    gen = np.median(t_gen)
    return {"generated_seconds": _stats(t_gen), "lambdify_call_seconds": _stats(t_lamb),
            "lambdify_build_and_call_seconds": _stats(t_build),
            "naive_matrix_seconds_scaled": _stats(t_naive),
            "lambdify_over_generated": float(np.median(t_lamb) / gen),
            "build_and_call_over_generated": float(np.median(t_build) / gen),
            "naive_over_generated": float(np.median(t_naive) / gen), "n_points": N}


def atlas(quick, repeat):
    from gaussrelbo.optima import stationary_points

    # The full atlas at the default cap (global maximum, index counts, the best points of each
    # family), for a fixed and for a learned sigma2; the slower of the two is reported.
    n, k = (12, 3) if quick else (64, 10)
    lam = np.sort(np.random.default_rng(3).uniform(0.1, 10, n))[::-1]
    out = {}
    for mode, s2 in (("fixed_sigma2", float(np.median(lam))), ("learned_sigma2", None)):
        t = _time(lambda: stationary_points(lam, k, "relbo", alpha=0.5, sigma2=s2),
                  max(1, repeat // 3))
        out[mode] = _stats(t)
    worst = max(out.values(), key=lambda v: v["median"])
    return {**worst, **out}


def _atlas_problem(n, k):
    """The cluster atlas budgets: the digits spectrum (n = 64, k = 10) and a uniform random
    spectrum (n = 256, k = 32); RELBO alpha = 0.5 at sigma2 = the median eigenvalue, default
    caps (complete-or-capped)."""
    if n == 64:
        lam = gr.datasets.load_spectrum("digits")
    else:
        lam = np.sort(np.random.default_rng(3).uniform(0.1, 10, n))[::-1]
    return lam, k, float(np.median(lam))


def atlas_sized(n, k, quick, repeat):
    from gaussrelbo.optima import stationary_points

    if quick:
        n, k = (12, 3) if n == 64 else (16, 4)
        lam = np.sort(np.random.default_rng(3).uniform(0.1, 10, n))[::-1]
        s2 = float(np.median(lam))
    else:
        lam, k, s2 = _atlas_problem(n, k)
    t = _time(lambda: stationary_points(lam, k, "relbo", alpha=0.5, sigma2=s2),
              max(1, repeat // 7))
    return _stats(t)


def _atlas_rss_probe():
    from gaussrelbo.optima import stationary_points

    lam, k, s2 = _atlas_problem(256, 32)
    stationary_points(lam, k, "relbo", alpha=0.5, sigma2=s2)
    print(_own_peak_rss_mb())


def atlas_peak_rss(quick):
    if quick:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    out = subprocess.run([sys.executable, "-m", "benchmarks.run", "--atlas-rss-probe"],
                         check=True, capture_output=True, text=True)
    return float(out.stdout.split()[-1])


#: what ``--quick`` draws: two figures (objectives of one model; the generated kernels' landscape)
QUICK_FIGURES = "F1_alpha_limit,F4_landscape"


def report(quick, repeat):
    """``gaussrelbo report`` on the default settings in a fresh process (wall clock), three runs
    (min / median / max; the first may meet cold file caches).  ``quick`` (a smoke test of the
    command, not a measurement) draws :data:`QUICK_FIGURES` as PNG in one process, once; the
    tables and numbers.json are written in full either way."""
    times = []
    for _ in range(1 if quick else 3):
        with tempfile.TemporaryDirectory() as tmp:
            cmd = [sys.executable, "-m", "gaussrelbo", "report", "--out", os.path.join(tmp, "r")]
            if quick:
                cmd += ["--format", "png", "--jobs", "1", "--figures", QUICK_FIGURES]
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            times.append(time.perf_counter() - t0)
    return _stats(times)


def derive(quick, repeat):
    """``python -m gaussrelbo.derivations.generate`` (every symbolic check, then the generated
    files) in a fresh process.  ``quick`` (a smoke test) runs the generator's ``main`` in this
    process, whose earlier steps have imported sympy and the derivations, without the checks
    (the test suite runs them)."""
    with tempfile.TemporaryDirectory() as tmp:
        if quick:
            import contextlib
            import io

            from gaussrelbo.derivations import generate

            t0 = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):
                generate.main(["--root", tmp, "--no-check"])
            return _stats([time.perf_counter() - t0])
        cmd = [sys.executable, "-m", "gaussrelbo.derivations.generate", "--root", tmp]
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        return _stats([time.perf_counter() - t0])


def accuracy(quick):
    """Worst relative error against the mpmath references of the test suite
    (``gaussrelbo.testing``, 50 digits).

    ``relbo`` uses W with singular values 1e-8, 1, 1e8 on coordinate axes (W[i, i] = s_i) and
    diagonal data moments: inputs whose exact values are what the floating-point arguments
    say.  ``relbo_rotated`` rotates the same singular values by random orthogonal U, R: the
    rounded W then fixes its middle singular value only to ~eps * 1e8 (any backward-stable SVD,
    and the problem itself, has that condition), so it is reported with its error in units of
    eps * (T + K), the condition-number bound of the test suite, and left out of ``worst``.
    """
    from gaussrelbo import testing as ref
    from gaussrelbo._numerics import ell

    alphas = [1e-6, 1e-3, 0.5, 1 - 1e-12, 1.0, 1 + 1e-12, 2.0, 1e3, 1e6]
    worst = {"ell": 0.0, "renyi_entropy": 0.0, "relbo": 0.0, "relbo_rotated": 0.0,
             "relbo_rotated_over_condition_bound": 0.0}
    rng = np.random.default_rng(5)
    for a in alphas:
        want = float(ref.ell(a))
        worst["ell"] = max(worst["ell"], abs(float(ell(a)) - want) / abs(want))
    k, n = 3, 5
    # Eigenvalues 1e-8 .. 1e8 on a diagonal covariance, and a rotated, moderately conditioned one.
    Q, _ = np.linalg.qr(rng.normal(size=(k, k)))
    rotated = (Q * np.array([0.5, 1.0, 4.0])) @ Q.T
    for cov in (np.diag([1e-8, 1.0, 1e8]), 0.5 * (rotated + rotated.T)):
        for a in alphas:
            want = float(ref.renyi_entropy(cov, a))
            got = float(gr.renyi_entropy(cov, a))
            worst["renyi_entropy"] = max(worst["renyi_entropy"], abs(got - want) / abs(want))
    svals = np.array([1e-4, 1.0, 1e4] if quick else [1e-8, 1.0, 1e8])
    U, _ = np.linalg.qr(rng.normal(size=(n, k)))
    R, _ = np.linalg.qr(rng.normal(size=(k, k)))
    aligned = np.zeros((n, k))
    aligned[np.arange(k), np.arange(k)] = svals
    for key, W, data in (
            ("relbo", aligned,
             gr.DataMoments.from_spectrum(rng.uniform(0.1, 5.0, n), mean=rng.normal(size=n))),
            ("relbo_rotated", (U * svals) @ R.T, _data(rng, n))):
        model = gr.optimal_encoder(gr.LinearGaussianVAE.from_decoder(W, rng.normal(size=n), 0.7),
                                   "elbo")
        args = (model.W, model.b, model.sigma2, model.V, model.c, model.D, data.mean, data.cov)
        scale = ref.error_scale(*args) if key == "relbo_rotated" else None
        for a in alphas[:: 4 if quick else 1]:
            want = ref.relbo(*args, a)
            got = float(gr.relbo(model, data, a))
            err = abs(got - float(want))
            worst[key] = max(worst[key], err / abs(float(want)))
            if scale is not None:       # T + K of the RELBO (gaussrelbo.testing.error_scale)
                bound = float(scale["distortion"] + scale["rate"] + abs(1.0 - a) / a
                              * (scale["renyi"] + k / 2 * (1.0 + float(ell(a)))))
                worst["relbo_rotated_over_condition_bound"] = max(
                    worst["relbo_rotated_over_condition_bound"],
                    err / (np.finfo(float).eps * bound))
    worst["worst"] = max(worst["ell"], worst["renyi_entropy"], worst["relbo"])
    return worst


def _own_peak_rss_mb():
    """Peak resident memory of this process image, in MB.  ``ru_maxrss`` keeps the maximum
    across ``exec`` (a probe started from a large benchmark process would report the parent's
    size), so read the high-water mark of this image's own address space where Linux has it."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return float(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _peak_rss_probe():
    rng = np.random.default_rng(1)
    data = _data(rng, 64)
    W, b, s2, V, c, D = _batch(rng, 10000, 64, 10)
    model = gr.LinearGaussianVAE(W, b, s2, V=V, c=c, D=D, encoder="diagonal")
    gr.relbo(model, data, 0.5)
    print(_own_peak_rss_mb())


def peak_rss(quick):
    if quick:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    out = subprocess.run([sys.executable, "-m", "benchmarks.run", "--rss-probe"], check=True,
                         capture_output=True, text=True)
    return float(out.stdout.split()[-1])


# ---- driver -------------------------------------------------------------------------------------

def run(quick=False, repeat=None, log=print):
    repeat = repeat or (2 if quick else 7)
    res = {}
    steps = [("relbo_vs_mc_speedup", lambda: relbo_vs_mc(quick, repeat)),
             ("batched", lambda: batched(quick, repeat)),
             ("generated_vs_runtime_lambdify", lambda: generated_vs_lambdify(quick, repeat)),
             ("atlas_seconds", lambda: atlas(quick, repeat)),
             ("basins", lambda: perf.basins(quick, repeat)),
             ("report_seconds", lambda: report(quick, repeat)),
             ("derive_seconds", lambda: derive(quick, repeat)),
             ("accuracy", lambda: accuracy(quick)),
             ("peak_rss_mb", lambda: peak_rss(quick)),
             ("single_call", lambda: perf.single_call(quick, repeat)),
             ("threads_1_vs_2", lambda: perf.threads(quick, repeat)),
             ("sweep_configs_per_second", lambda: perf.sweep_throughput(quick, repeat)),
             ("local_cluster_1_to_2_workers", lambda: perf.cluster_scaling(quick, repeat)),
             ("atlas_n64_k10_seconds", lambda: atlas_sized(64, 10, quick, repeat)),
             ("atlas_n256_k32_seconds", lambda: atlas_sized(256, 32, quick, repeat)),
             ("atlas_peak_rss_mb", lambda: atlas_peak_rss(quick))]
    for name, fn in steps:
        log(f"... {name}")
        value = fn()
        if name == "batched":
            res["batched_throughput"], res["relbo_vs_floor_ratio"] = value
        elif name == "basins":
            # basins_seconds keeps its historical meaning: 200 per-start L-BFGS runs on the full
            # objective (the method every basin map used before the batched one)
            res["basins_seconds"] = value["per_start_full_seconds"]
            res["basins_batched_vs_per_start"] = value
            res["basins_200_seconds"] = value["batched_seconds"]
        elif name == "single_call":
            res["single_call_vs_numpy_floor"] = value
            res["single_call_vs_naive"] = value
        else:
            res[name] = value
    # The same Monte Carlo time against the closed form's cost per set in the large batch.
    mc = res["relbo_vs_mc_speedup"]
    per_set = 1.0 / _headline("batched_throughput", res["batched_throughput"])
    mc["speedup_vs_batched_per_set"] = float(mc["mc_seconds"]["median"] / per_set)
    return {key: res[key] for key in KEYS}


def _headline(key, value):
    """The one number reported for ``key`` (medians; the worst case where there are several)."""
    if key == "relbo_vs_mc_speedup":
        return value["speedup"]["median"]
    if key == "batched_throughput":               # the first (n = 64, k = 10) case
        return next(iter(value.values()))["sets_per_second"]["median"]
    if key == "relbo_vs_floor_ratio":
        return max(v["median"] for v in value.values())
    if key == "generated_vs_runtime_lambdify":
        return value["lambdify_over_generated"]
    if key == "accuracy":
        return value["worst"]
    if key in ("basins_batched_vs_per_start", "threads_1_vs_2"):
        return value["ratio"]["median"]
    if key == "single_call_vs_numpy_floor":    # the n = 64, k = 10 case (or the largest quick one)
        case = value.get("n64_k10", list(value.values())[-1])
        return case["vs_floor"]["median"]
    if key == "single_call_vs_naive":          # the worst size
        return max(v["vs_naive"]["median"] for v in value.values())
    if key == "sweep_configs_per_second":
        return value["configs_per_second"]["median"]
    if key == "local_cluster_1_to_2_workers":
        return value["scaling"]["median"]
    if key.endswith("_seconds"):
        return value["median"]
    return float(value)


def headlines(res):
    """``{key: number}`` for every key of :data:`KEYS`: what ``--json`` writes."""
    return {key: float(_headline(key, res[key])) for key in KEYS}


def table(res):
    lines = [f"{'measurement':<32} {'value':>14}  {'target':>10}  status", "-" * 70]
    for key in KEYS:
        val = res[key]
        head = _headline(key, val)
        if key == "batched_throughput":
            for name, v in val.items():
                lines.append(f"{key + ' ' + name:<32} {v['sets_per_second']['median']:>14.4g}  "
                             f"{'sets/s':>10}")
            continue
        if key == "generated_vs_runtime_lambdify":
            lines.append(f"{key:<32} {head:>14.4g}  {'ratio':>10}  (lambdify call / generated)")
            for sub, what in (("build_and_call_over_generated", "lambdify build+call / gen."),
                              ("naive_over_generated", "naive matrix route / gen.")):
                lines.append(f"{'  ' + what:<32} {val[sub]:>14.4g}  {'ratio':>10}")
            continue
        if key == "peak_rss_mb":
            lines.append(f"{key:<32} {val:>14.4g}  {'MB':>10}")
            continue
        if key in ("threads_1_vs_2", "sweep_configs_per_second",
                   "local_cluster_1_to_2_workers"):
            unit = {"threads_1_vs_2": "t(2)/t(1)", "sweep_configs_per_second": "configs/s",
                    "local_cluster_1_to_2_workers": "t(1)/t(2)"}[key]
            lines.append(f"{key:<32} {head:>14.4g}  {unit:>10}")
            continue
        if key == "single_call_vs_naive":
            op, target = TARGETS[key]
            lines.append(f"{key:<32} {head:>14.4g}  {op + format(target, 'g'):>10}  "
                         f"{'ok' if head <= target else 'MISSED'}  (worst size)")
            for case, v in val.items():
                lines.append(f"{'  ' + case:<32} {v['vs_naive']['median']:>14.4g}  "
                             f"{'ratio':>10}  floor ratio {v['vs_floor']['median']:.3g}")
            continue
        if key not in TARGETS:
            lines.append(f"{key:<32} {head:>14.4g}  {'':>10}")
            continue
        op, target = TARGETS[key]
        ok = {">=": head >= target, "<=": head <= target, "<": head < target}[op]
        lines.append(f"{key:<32} {head:>14.4g}  {op + format(target, 'g'):>10}  "
                     f"{'ok' if ok else 'MISSED'}")
        if key == "relbo_vs_mc_speedup":
            lines.append(f"{'  per set in the large batch':<32} "
                         f"{val['speedup_vs_batched_per_set']:>14.4g}  {'ratio':>10}")
        if key == "accuracy":
            lines.append(f"{'  rotated W (ill-conditioned)':<32} {val['relbo_rotated']:>14.4g}  "
                         f"{'rel. err':>10}  "
                         f"{val['relbo_rotated_over_condition_bound']:.3g} x eps (T+K)")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    parser.add_argument("--json", metavar="PATH",
                        help="write one number per measurement as JSON to PATH, and every "
                             "timing (min/median/max, each case) to PATH with suffix "
                             ".details.json")
    parser.add_argument("--repeat", type=int, default=None, help="timing repeats")
    parser.add_argument("--rss-probe", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--atlas-rss-probe", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.atlas_rss_probe:
        _atlas_rss_probe()
        return 0
    if args.rss_probe:
        _peak_rss_probe()
        return 0
    res = run(args.quick, args.repeat, log=lambda m: print(m, file=sys.stderr, flush=True))
    print(f"gaussrelbo {gr.__version__}, numpy {np.__version__}, python "
          f"{platform.python_version()}, {platform.machine()}, {os.cpu_count()} cpus")
    print(table(res))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(headlines(res), f, indent=2)
        root, _ = os.path.splitext(args.json)
        with open(root + ".details.json", "w") as f:
            json.dump(res, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
