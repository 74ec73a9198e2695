"""Build the documentation site offline: ``python docs/build.py [--site-dir DIR]``.

Renders the report figures into ``docs/gallery/`` (ignored by git), writes the gallery page body
from their captions, draws the throughput plot of ``docs/performance.md`` (from the measurement
stored in ``docs/throughput.json``; ``--measure`` times it afresh), then runs
``sphinx-build -W`` (Sphinx + numpydoc + MyST; every warning, such as a broken include or a missing
figure, is an error).  Math is typeset by MathJax served from the site's own ``_static`` folder, so
the pages need no network.  Needs the ``docs`` extra: ``pip install '.[docs]'``.  Run from a
checkout (it imports ``benchmarks``).
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def render_gallery(root=ROOT, log=print, measure=False):
    """Write ``docs/gallery/``: the report (figures, report.md, numbers.json), ``captions.inc``
    (the figure captions with their images, included by ``docs/gallery.md``) and
    ``throughput.png``, drawn from the measurement stored in ``docs/throughput.json``
    (``measure=True``, or a missing file, measures afresh and rewrites it)."""
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

    stored = root / "docs" / "throughput.json"
    if measure or not stored.is_file():
        log("docs: measuring throughput (about a minute)")
        throughput.save(throughput.measure(), stored)
    log("docs: throughput plot")
    throughput.plot(throughput.load(stored)).savefig(gallery / "throughput.png", dpi=150)
    return gallery


def sphinx_command(root=ROOT, site_dir=None):
    """The strict Sphinx command line: warnings are errors, every page is re-read."""
    site_dir = site_dir or str(root / "site")
    return [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-E", "-q", "-b", "html",
            "-d", str(Path(site_dir) / ".doctrees"), str(root / "docs"), str(site_dir)]


def sphinx_build(root=ROOT, site_dir=None):
    """``sphinx-build -W``; returns the exit code."""
    return subprocess.call(sphinx_command(root, site_dir))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--site-dir", default=str(ROOT / "site"))
    ap.add_argument("--measure", action="store_true",
                    help="time the throughput plot afresh and rewrite docs/throughput.json")
    args = ap.parse_args(argv)
    render_gallery(log=lambda m: print(m, file=sys.stderr), measure=args.measure)
    return sphinx_build(site_dir=args.site_dir)


if __name__ == "__main__":
    sys.exit(main())
