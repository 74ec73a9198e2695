"""Command-line interface: ``gaussrelbo <command>`` (also ``python -m gaussrelbo``).

Each sub-command lives in its own module exposing ``register(subparsers)`` (adds its parser and
sets ``func``) and is dispatched here.  Bad arguments give a one-line message and exit code 2.
"""

import argparse
import os
import sys

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error and exit code 2 (argparse's own convention)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser():
    from . import __version__
    from . import _cli_optima, _cli_report, _cli_sweep

    parser = _Parser(prog="gaussrelbo", description="Exact RELBO / ELBO / beta-ELBO analysis of "
                     "linear-Gaussian VAEs.")
    parser.add_argument("--version", action="version", version=f"gaussrelbo {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    _cli_report.register(sub)
    _cli_optima.register(sub)
    _cli_sweep.register(sub)
    return parser


def main(argv=None):
    """Entry point of the ``gaussrelbo`` console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:                      # output piped into e.g. `head`: not an error
        sys.stdout = open(os.devnull, "w")
        return 0
    except (ValueError, OSError, ImportError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"gaussrelbo {args.command}: error: {msg}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
