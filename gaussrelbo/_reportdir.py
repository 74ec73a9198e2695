"""Atomic report directories: build in a temporary sibling, then swap into place.

A directory is ours if it holds the marker file written by :func:`atomic_dir`; a non-empty
directory without it is foreign and is replaced only with ``force=True``.  A crash while building
leaves the previous report (or nothing) in place, never a half-written one.
"""

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

__all__ = ["MARKER", "atomic_dir"]

MARKER = ".gaussrelbo-report"


@contextlib.contextmanager
def atomic_dir(out, force=False):
    """Yield a temporary directory; on success it replaces ``out`` atomically (per rename)."""
    out = Path(out).resolve()
    if out.exists():
        if not out.is_dir():
            raise ValueError(f"`--out` {out} exists and is not a directory")
        if any(out.iterdir()) and not (out / MARKER).exists() and not force:
            raise ValueError(f"`--out` {out} is a non-empty directory not written by gaussrelbo "
                             "report; choose another directory or pass --force")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        yield tmp
        (tmp / MARKER).write_text("written by gaussrelbo report\n")
        old = None
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
            os.rmdir(old)
            os.replace(out, old)
        os.replace(tmp, out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
