"""Smoke test of the benchmark script: tiny sizes, every key present and numeric.  No timing is
asserted (targets are checked by running the script, see docs/performance.md)."""

import json
import math
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KEYS = ["relbo_vs_mc_speedup", "batched_throughput", "relbo_vs_floor_ratio",
        "generated_vs_runtime_lambdify", "atlas_seconds", "basins_seconds", "report_seconds",
        "derive_seconds", "accuracy", "peak_rss_mb", "basins_batched_vs_per_start",
        "basins_200_seconds", "single_call_vs_numpy_floor", "single_call_vs_naive",
        "threads_1_vs_2", "sweep_configs_per_second", "local_cluster_1_to_2_workers",
        "atlas_n64_k10_seconds", "atlas_n256_k32_seconds", "atlas_peak_rss_mb"]


def _leaves(obj):
    if isinstance(obj, dict):
        for v in obj.values():
            yield from _leaves(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _leaves(v)
    else:
        yield obj


def test_quick_run_writes_every_key(tmp_path):
    out = tmp_path / "tmp.json"
    proc = subprocess.run([sys.executable, "-m", "benchmarks.run", "--quick", "--json",
                           str(out)], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    res = json.loads(out.read_text())
    assert list(res) == KEYS
    assert all(isinstance(v, float) and math.isfinite(v) for v in res.values()), res
    details = json.loads((tmp_path / "tmp.details.json").read_text())
    assert list(details) == KEYS
    leaves = list(_leaves(details))
    assert leaves and all(isinstance(v, (int, float)) and math.isfinite(v) for v in leaves)
    # the accuracy figure is a relative error against the mpmath references of the test suite
    assert 0.0 <= res["accuracy"] < 1e-6
    for key in KEYS:
        assert key in proc.stdout
    # the basin benchmark compares destinations run by run: the methods agreed on every start
    basins = details["basins_batched_vs_per_start"]
    assert set(basins["disagreements"].values()) == {0}
