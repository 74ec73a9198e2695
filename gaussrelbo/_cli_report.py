"""``gaussrelbo report``: the main job -- every figure, the tables and their numbers."""

import sys
import time

__all__ = ["register"]


def register(subparsers):
    import argparse

    def formats(text):
        out = tuple(f.strip() for f in text.split(",") if f.strip())
        bad = [f for f in out if f not in ("png", "pdf", "svg")]
        if bad or not out:
            raise argparse.ArgumentTypeError(f"expected a comma list of png, pdf, svg, got "
                                             f"{text!r}")
        return out

    def positive_int(text):
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") \
                from None
        if v < 1:
            raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
        return v

    def positive(text):
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") \
                from None
        if not v > 0 or v == float("inf"):
            raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
        return v

    def figure_names(text):
        from .report import FIGURES

        names = [stem for stem, _ in FIGURES]
        out = tuple(f.strip() for f in text.split(",") if f.strip())
        bad = [f for f in out if f not in names]
        if bad or not out:
            what = f"unknown figure {', '.join(map(repr, bad))}" if bad else f"got {text!r}"
            raise argparse.ArgumentTypeError(
                f"{what}: expected a comma list of {', '.join(names)}")
        return out

    p = subparsers.add_parser(
        "report", help="write every figure, report.md and numbers.json",
        description="The main job: loss-landscape figures (PNG and PDF), a Markdown summary "
        "with the tables that matter and the numbers behind every figure as JSON.  Written "
        "atomically; a non-empty directory not written by gaussrelbo is kept unless --force.")
    p.add_argument("--out", default="gaussrelbo-report", help="output directory "
                   "(default: ./gaussrelbo-report)")
    p.add_argument("--spectrum", default="synthetic",
                   help="built-in name (synthetic, design9, digits), scikit-learn data set, "
                        "a file of eigenvalues or a CSV data matrix (default: synthetic; the "
                        "collapse figures F5 and F9 then use the embedded digits spectrum)")
    p.add_argument("--k", type=positive_int, help="latent dimension (default 3, or 10 for n > 12)")
    p.add_argument("--sigma2", type=positive, help="fixed decoder noise (default: the mean of "
                   "the discarded eigenvalues)")
    p.add_argument("--reading", choices=("pointwise", "escort", "cross_entropy"),
                   default="pointwise",
                   help="reading of the Renyi VAE whose RELBO the optima and objectives tables "
                        "use (default: pointwise, the package's RELBO); the figures F8 and F9 "
                        "always show all three (docs page 'Readings of the Renyi VAE')")
    p.add_argument("--jobs", type=positive_int,
                   help="processes drawing the figures (default: 2 on Linux with two CPUs or "
                        "more, else 1)")
    p.add_argument("--format", type=formats, default=("png", "pdf"),
                   help="figure formats, comma separated (default png,pdf)")
    p.add_argument("--figures", type=figure_names,
                   help="draw only these figures, comma separated names as in the report "
                        "(e.g. F1_alpha_limit,F4_landscape; default: all nine); the tables "
                        "and numbers.json are always written")
    p.add_argument("--force", action="store_true",
                   help="replace a non-empty directory not written by gaussrelbo report")
    p.set_defaults(func=run)
    return p


def _command(args):
    """The command line equivalent to ``args`` (every option spelled out), for the header."""
    import shlex

    parts = ["gaussrelbo", "report", "--out", str(args.out), "--spectrum", str(args.spectrum)]
    if args.k is not None:
        parts += ["--k", str(args.k)]
    if args.sigma2 is not None:
        parts += ["--sigma2", repr(args.sigma2)]
    parts += ["--reading", args.reading]
    if args.jobs is not None:
        parts += ["--jobs", str(args.jobs)]
    parts += ["--format", ",".join(args.format)]
    if args.figures is not None:
        parts += ["--figures", ",".join(args.figures)]
    parts += ["--force"] if args.force else []
    return " ".join(shlex.quote(p) for p in parts)


def run(args):
    import gc

    from .report import write_report

    # A one-shot command: the objects of the imports (matplotlib, scipy) live to the end, so
    # they are moved out of the collector's generations instead of being scanned again by
    # every full collection of the run (and, after a fork, never touched: no copy-on-write).
    gc.freeze()
    t0 = time.perf_counter()

    def progress(msg):
        print(f"gaussrelbo report: {msg} ({time.perf_counter() - t0:.1f} s)", file=sys.stderr,
              flush=True)

    path = write_report(args.out, spectrum=args.spectrum, k=args.k, sigma2=args.sigma2,
                        formats=args.format, force=args.force, progress=progress,
                        command=_command(args), reading=args.reading, jobs=args.jobs,
                        figures=args.figures)
    print(f"wrote {path} (figures in {path.parent / 'figures'}, numbers in "
          f"{path.parent / 'numbers.json'}) in {time.perf_counter() - t0:.1f} s")
    return 0
