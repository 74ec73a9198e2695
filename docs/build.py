"""Build the documentation site offline: ``python docs/build.py [--site-dir DIR]``.

Renders the report figures into ``docs/gallery/`` (ignored by git), writes the gallery page body
from their captions, draws the throughput plot of ``docs/performance.md``, then runs
``mkdocs build --strict`` (a broken include or a missing figure is an error).  Needs the ``docs``
extra: ``pip install '.[docs]'``.  Run from a checkout (it imports ``benchmarks``).
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def render_gallery(root=ROOT, log=print):
    """Write ``docs/gallery/``: the report (figures, report.md, numbers.json), ``captions.inc``
    (the figure captions with their images, included by ``docs/gallery.md``) and
    ``throughput.png``."""
    from gaussrelbo.report import write_report

    gallery = root / "docs" / "gallery"
    write_report(gallery, formats=("png",), force=False, progress=lambda m: log(f"docs: {m}"))
    numbers = json.loads((gallery / "numbers.json").read_text())
    md = (gallery / "report.md").read_text()
    captions = md.split("## Figures\n", 1)[1]
    body = captions.replace("](figures/", "](gallery/figures/")
    settings = numbers["settings"]
    (gallery / "captions.inc").write_text(
        f"Settings: spectrum {settings['spectrum']}, k = {settings['k']}, "
        f"sigma2 = {settings['sigma2']:.6g}.\n\n" + body)
    sys.path.insert(0, str(root))
    from benchmarks import throughput

    log("docs: throughput plot")
    throughput.plot(throughput.measure()).savefig(gallery / "throughput.png", dpi=110)
    return gallery


def mkdocs_build(root=ROOT, site_dir=None):
    """``mkdocs build --strict``; returns the exit code."""
    site_dir = site_dir or str(root / "site")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    return subprocess.call([sys.executable, "-m", "mkdocs", "build", "--strict", "-f",
                            str(root / "mkdocs.yml"), "--site-dir", str(site_dir)], env=env)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--site-dir", default=str(ROOT / "site"))
    args = ap.parse_args(argv)
    render_gallery(log=lambda m: print(m, file=sys.stderr))
    return mkdocs_build(site_dir=args.site_dir)


if __name__ == "__main__":
    sys.exit(main())
