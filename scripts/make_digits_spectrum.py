"""Regenerate ``gaussrelbo/data/digits_spectrum.txt``: the covariance spectrum of the digits data.

The file is the embedded default data set of ``gaussrelbo report``; it needs scikit-learn only to
be regenerated.  Usage: ``python scripts/make_digits_spectrum.py`` (deterministic output).
"""

import os
import sys
import tempfile
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "gaussrelbo" / "data" / "digits_spectrum.txt"


def main():
    from sklearn.datasets import load_digits

    X = load_digits().data.astype(np.float64)
    N, n = X.shape
    Xc = X - X.mean(axis=0)
    lam = np.linalg.eigvalsh(Xc.T @ Xc / N)[::-1]          # ddof = 0, descending
    lam = np.where(lam < 1e-12 * lam[0], 0.0, lam)          # constant pixels: exact zeros
    header = (f"# Eigenvalues (descending) of the ddof=0 covariance of scikit-learn's digits data\n"
              f"# (N={N} images of n={n} pixels, values 0..16), from scripts/make_digits_spectrum.py.\n"
              "# Eigenvalues below 1e-12 of the largest (constant pixels) are stored as 0.\n")
    text = header + "".join(f"{v!r}\n" for v in lam.tolist())
    fd, tmp = tempfile.mkstemp(dir=OUT.parent, prefix=".digits", text=True)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, OUT)
    print(f"wrote {OUT} ({n} eigenvalues, {int(np.sum(lam == 0))} zero)")


if __name__ == "__main__":
    sys.exit(main())
