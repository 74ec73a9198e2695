"""Build the documentation site offline: ``python docs/build.py [--site-dir DIR]``.

Renders the report figures into ``docs/gallery/`` (ignored by git; ``--gallery-from DIR`` copies
them from an existing default ``gaussrelbo report`` instead of drawing them again), writes the
gallery page body from their captions, draws the throughput plot of ``docs/performance.md``
(from the measurement stored in ``docs/throughput.json``; ``--measure`` times it afresh), then
runs ``sphinx-build -W`` (Sphinx + numpydoc + MyST; every warning, such as a broken include or a
missing figure, is an error).  Math is typeset by MathJax served from the site's own
``_static`` folder, so the pages need no network.  Needs the ``docs`` extra:
``pip install '.[docs]'``.  Run from a checkout (it imports ``benchmarks``).
"""

import argparse
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


class NotAReport(ValueError):
    """``--gallery-from`` names no default report (raised by :func:`copy_report`)."""


def _figure_stems(md):
    """The figures a report's ``report.md`` shows (its Figures section), in order."""
    return re.findall(r"\]\(figures/([^)/]+)\.png\)", md.split("\n## Figures\n", 1)[-1])


def copy_report(source, gallery):
    """Copy into ``gallery`` what the gallery page shows of ``source``, the directory of an
    existing default report (``gaussrelbo report`` with its default options and PNG figures,
    by this version of gaussrelbo): the PNG figures, ``report.md`` and ``numbers.json``.

    Written atomically, as ``gaussrelbo report`` writes (so a later build may replace it).
    Raises :class:`NotAReport` (a ``ValueError``) naming ``--gallery-from`` if ``source`` is not
    such a report: not written by ``gaussrelbo report``, other settings, another version of
    gaussrelbo, or a figure missing."""
    from gaussrelbo import __version__
    from gaussrelbo._reportdir import MARKER, atomic_dir
    from gaussrelbo.report import FIGURES, report_settings

    source = Path(source)
    what = f"`--gallery-from` must be a default `gaussrelbo report` directory, got {source}"
    if not source.is_dir():
        raise NotAReport(f"{what}: not a directory")
    missing = [n for n in (MARKER, "report.md", "numbers.json") if not (source / n).is_file()]
    if missing:
        raise NotAReport(f"{what}: it has no {', '.join(missing)}")
    try:
        numbers = json.loads((source / "numbers.json").read_text())
    except ValueError as exc:
        raise NotAReport(f"{what}: its numbers.json is not JSON ({exc})") from None
    lam, k, sigma2 = report_settings()
    default = {"spectrum": "synthetic", "n": int(lam.size), "k": k, "sigma2": sigma2,
               "reading": "pointwise", "eigenvalues": lam.tolist()}
    if not isinstance(numbers, dict) or numbers.get("settings") != default:
        got = numbers.get("settings") if isinstance(numbers, dict) else numbers
        raise NotAReport(f"{what}: its settings are {got}, the default's {default}")
    if numbers.get("version") != __version__:
        raise NotAReport(f"{what}: it was written by gaussrelbo {numbers.get('version')}, "
                         f"this is {__version__}")
    md = (source / "report.md").read_text()
    stems = _figure_stems(md)
    if sorted(stems) != sorted(stem for stem, _ in FIGURES):
        raise NotAReport(f"{what}: its report.md shows the figures {stems}, the default "
                         f"report's are {[stem for stem, _ in FIGURES]}")
    absent = [f"figures/{s}.png" for s in stems if not (source / "figures" / f"{s}.png").is_file()]
    if absent:
        raise NotAReport(f"{what}: it has no {', '.join(absent)} (PNG figures are needed)")
    with atomic_dir(gallery) as tmp:
        (tmp / "figures").mkdir()
        for stem in stems:
            shutil.copyfile(source / "figures" / f"{stem}.png", tmp / "figures" / f"{stem}.png")
        for name in ("report.md", "numbers.json"):
            shutil.copyfile(source / name, tmp / name)
    return Path(gallery)


def render_gallery(root=ROOT, log=print, measure=False, gallery_from=None):
    """Write ``docs/gallery/``: the report (figures, report.md, numbers.json; drawn afresh, or
    copied from ``gallery_from``, a default report's directory: :func:`copy_report`),
    ``captions.inc`` (the figure captions with their images, included by ``docs/gallery.md``)
    and ``throughput.png``, drawn from the measurement stored in ``docs/throughput.json``
    (``measure=True``, or a missing file, measures afresh and rewrites it)."""
    gallery = root / "docs" / "gallery"
    if gallery_from is None:
        from gaussrelbo.report import write_report

        write_report(gallery, formats=("png",), force=False,
                     progress=lambda m: log(f"docs: {m}"))
    else:
        log(f"docs: copying the report's figures from {gallery_from}")
        copy_report(gallery_from, gallery)
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
    ap.add_argument("--gallery-from", metavar="DIR",
                    help="copy the gallery's figures, report.md and numbers.json from DIR, the "
                         "output of `gaussrelbo report` with its default options (PNG "
                         "included), instead of drawing them again")
    args = ap.parse_args(argv)
    try:
        render_gallery(log=lambda m: print(m, file=sys.stderr), measure=args.measure,
                       gallery_from=args.gallery_from)
    except NotAReport as exc:
        ap.error(str(exc))
    return sphinx_build(site_dir=args.site_dir)


if __name__ == "__main__":
    sys.exit(main())
