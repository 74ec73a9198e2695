"""Atomic report directories: build in a temporary sibling, then swap into place.

A directory is ours if it holds the marker file written by :func:`atomic_dir`; a non-empty
directory without it is foreign and is replaced only with ``force=True``.  A crash while building
leaves the previous report (or nothing) in place, never a half-written one.
"""

import contextlib
import os
import shutil
import signal
import tempfile
import threading
from pathlib import Path

__all__ = ["MARKER", "atomic_dir"]

MARKER = ".gaussrelbo-report"


def _umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class _Terminated(SystemExit):
    """SIGTERM as an exception, so that the temporary directory is removed on the way out."""


@contextlib.contextmanager
def _cleanup_on_sigterm():
    """While building, SIGTERM (and SIGHUP) raise ``SystemExit(128 + signum)`` instead of
    killing the process, so the ``finally`` clauses run; SIGINT already raises
    KeyboardInterrupt.  Only the main thread can install handlers; elsewhere nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise _Terminated(128 + signum)

    sigs = [signal.SIGTERM] + ([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])
    old = {}
    for sig in sigs:
        try:
            old[sig] = signal.signal(sig, handler)
        except (ValueError, OSError):            # pragma: no cover - unusual embedding
            pass
    try:
        yield
    finally:
        for sig, h in old.items():
            signal.signal(sig, h)


@contextlib.contextmanager
def atomic_dir(out, force=False):
    """Yield a temporary directory; on success it replaces ``out`` atomically (per rename).

    The directory gets the mode of a plain ``mkdir`` (0777 less the umask), not the 0700 of a
    temporary directory.  On any exception, Ctrl-C or SIGTERM the temporary directory is
    removed and ``out`` is left as it was.
    """
    out = Path(out).resolve()
    if out.exists():
        if not out.is_dir():
            raise ValueError(f"`--out` {out} exists and is not a directory")
        if any(out.iterdir()) and not (out / MARKER).exists() and not force:
            raise ValueError(f"`--out` {out} is a non-empty directory not written by gaussrelbo "
                             "report; choose another directory or pass --force")
    out.parent.mkdir(parents=True, exist_ok=True)
    with _cleanup_on_sigterm():
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
        try:
            os.chmod(tmp, 0o777 & ~_umask())
            yield tmp
            (tmp / MARKER).write_text("written by gaussrelbo report\n")
            old = None
            if out.exists():
                old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old",
                                            dir=out.parent))
                os.rmdir(old)
                os.replace(out, old)
            os.replace(tmp, out)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
