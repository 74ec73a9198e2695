"""Wall time of ``import gaussrelbo`` in fresh interpreters (target <= 0.5 s).

    python -m benchmarks.import_time [--repeat N]

Each run starts a new Python process and times the import alone (``time.perf_counter`` around
it), so the interpreter's own start-up is not counted.  Reports min / median / max, and which
heavy modules the import loaded (none of scipy.stats, scipy.optimize, matplotlib, sklearn,
sympy, jax should be).
"""

import argparse
import json
import statistics
import subprocess
import sys

HEAVY = ("scipy", "scipy.stats", "scipy.optimize", "matplotlib", "sklearn", "sympy", "jax",
         "mpmath")
_PROBE = ("import sys, time; t = time.perf_counter(); import gaussrelbo; "
          "dt = time.perf_counter() - t; import json; "
          f"print(json.dumps([dt, [m for m in {HEAVY!r} if m in sys.modules]]))")


def measure(repeat=7):
    times, loaded = [], set()
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True,
                             check=True).stdout
        dt, mods = json.loads(out)
        times.append(dt)
        loaded.update(mods)
    return {"min": min(times), "median": statistics.median(times), "max": max(times),
            "heavy_modules_loaded": sorted(loaded)}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=7)
    args = p.parse_args(argv)
    res = measure(args.repeat)
    print(f"import gaussrelbo: min {res['min']:.3f} s, median {res['median']:.3f} s, "
          f"max {res['max']:.3f} s (target <= 0.5 s); heavy modules loaded: "
          f"{', '.join(res['heavy_modules_loaded']) or 'none'}")
    return 0 if res["median"] <= 0.5 else 1


if __name__ == "__main__":
    sys.exit(main())
