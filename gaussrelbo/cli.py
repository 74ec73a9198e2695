"""Command-line interface: ``gaussrelbo <command>`` (also ``python -m gaussrelbo``).

Each sub-command lives in its own module exposing ``register(subparsers)`` (adds its parser and
sets ``func``) and is dispatched here.  Bad arguments give a one-line message and exit code 2.
"""

import argparse
import os
import sys
import warnings

import numpy as np

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


def _one_line_warnings(command):
    """Show warnings as one stderr line each (no source line under them)."""
    def show(message, category, filename, lineno, file=None, line=None):
        text = str(message).splitlines()[0] if str(message) else category.__name__
        print(f"gaussrelbo {command}: warning: {text}", file=sys.stderr)
    return show


def main(argv=None):
    """Entry point of the ``gaussrelbo`` console script; returns the exit code.

    Every failure is one line on stderr and exit code 2 (argparse's convention); Ctrl-C gives
    exit code 130, without a traceback; a closed or broken stdout is not an error.
    """
    if sys.stdout is None:                       # started with stdout closed
        sys.stdout = open(os.devnull, "w")
    command = "?"
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        command = args.command
        if not getattr(args, "func", None):
            print(f"{parser.prog}: error: a command is required (report, optima; see "
                  f"{parser.prog} --help)", file=sys.stderr)
            return 2
        with warnings.catch_warnings(), np.errstate(over="ignore", under="ignore"):
            warnings.showwarning = _one_line_warnings(command)
            code = int(args.func(args) or 0)
        sys.stdout.flush()
        return code
    except BrokenPipeError:                      # output piped into e.g. `head`: not an error
        _silence_stdout()
        return 0
    except KeyboardInterrupt:
        _silence_stdout()
        print(f"gaussrelbo {command}: interrupted", file=sys.stderr)
        return 130
    except (ValueError, OSError, ImportError) as exc:
        _error(command, str(exc) or type(exc).__name__)
        return 2
    except Exception as exc:                     # noqa: BLE001 - one line, never a traceback
        text = str(exc).splitlines()[0] if str(exc) else ""
        _error(command, f"{type(exc).__name__}{': ' + text if text else ''} (an internal "
               "error: please report it with the command line)")
        return 2


def _silence_stdout():
    try:
        sys.stdout = open(os.devnull, "w")
    except OSError:                              # pragma: no cover
        pass


def _error(command, msg):
    msg = msg.splitlines()[0] if msg else msg
    try:
        print(f"gaussrelbo {command}: error: {msg}", file=sys.stderr)
    except (OSError, ValueError):                # stderr closed: nothing left to tell
        pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
