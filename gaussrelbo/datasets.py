"""Data spectra: built-in, embedded, from scikit-learn's shipped data sets, or from a file.

Every population objective depends on the data only through its mean and covariance, and at the
spectral optima only through the covariance eigenvalues, so a spectrum is the unit of data here.
"""

import warnings
from importlib import resources
from pathlib import Path

import numpy as np

from ._validation import as_float_array

__all__ = ["BUILTIN_SPECTRA", "SKLEARN_DATASETS", "load_spectrum", "spectrum_from_samples"]

#: Spectra that need nothing but the package.  ``synthetic`` is the example of Theory §8,
#: ``design9`` that of Theory §9, ``digits`` the embedded digits spectrum (package data).
BUILTIN_SPECTRA = ("synthetic", "design9", "digits")
#: Data sets shipped inside scikit-learn (optional extra ``gaussrelbo[sklearn]``).
SKLEARN_DATASETS = ("sklearn-digits", "wine", "iris", "breast_cancer")

_INLINE = {
    "synthetic": (5.0, 4.0, 3.0, 2.0, 1.2, 0.5),
    "design9": (5.0, 3.0, 1.6, 0.9, 0.5, 0.3),
}


def spectrum_from_samples(X, standardize=False):
    """Eigenvalues (descending) of the ``ddof=0`` covariance of the rows of ``X``.

    Parameters
    ----------
    X : array_like, shape (N, n)
        Data matrix, rows = samples, N >= 2.
    standardize : bool, default False
        Scale every feature to unit variance first (constant features are left as they are).

    Returns
    -------
    ndarray, shape (n,)
        Eigenvalues, descending, clipped at 0.
    """
    X = as_float_array(X, "X")
    if X.ndim != 2 or X.shape[0] < 2:
        raise ValueError(f"`X` must have shape (N, n) with N >= 2, got {X.shape}")
    Xc = X - X.mean(axis=0)
    if standardize:
        sd = Xc.std(axis=0)
        Xc = Xc / np.where(sd > 0, sd, 1.0)
    lam = np.linalg.eigvalsh(Xc.T @ Xc / X.shape[0])[::-1]
    return np.maximum(lam, 0.0)


def _embedded(name):
    text = resources.files("gaussrelbo").joinpath("data", f"{name}_spectrum.txt").read_text()
    return np.array([float(line) for line in text.splitlines()
                     if line.strip() and not line.startswith("#")])


def _sklearn(name, standardize):
    try:
        from sklearn import datasets
    except ImportError:
        raise ImportError(f"the spectrum {name!r} needs scikit-learn: "
                          "pip install 'gaussrelbo[sklearn]'") from None
    loader = {"sklearn-digits": datasets.load_digits, "wine": datasets.load_wine,
              "iris": datasets.load_iris, "breast_cancer": datasets.load_breast_cancer}[name]
    return spectrum_from_samples(loader().data, standardize=standardize)


def _from_file(path, standardize):
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"`spectrum` {str(path)!r} is neither a built-in name "
                         f"({', '.join(BUILTIN_SPECTRA + SKLEARN_DATASETS)}) nor a file")
    try:
        text = path.read_text(encoding="utf-8-sig")            # a leading BOM is dropped
    except UnicodeDecodeError:
        raise ValueError(f"`spectrum` file {str(path)!r} is not UTF-8 text") from None
    rows = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    rows = [row for row in rows if row]
    if not rows:
        raise ValueError(f"`spectrum` file {str(path)!r} has no numbers (empty, or only "
                         "comments)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            data = np.loadtxt(rows, delimiter="," if path.suffix.lower() == ".csv" else None,
                              ndmin=2)
    except ValueError as exc:
        first = str(exc).splitlines()[0] if str(exc) else "not numeric"
        raise ValueError(f"`spectrum` file {str(path)!r} is not a table of numbers: "
                         f"{first}") from None
    if not np.all(np.isfinite(data)):
        raise ValueError(f"`spectrum` file {str(path)!r} holds NaN, inf or values beyond the "
                         "float64 range (|x| > 1.8e308)")
    if data.shape[0] == 0 or data.shape[1] == 0:
        raise ValueError(f"`spectrum` file {str(path)!r} has no numbers")
    if data.shape[1] == 1:
        lam = as_float_array(data[:, 0], "spectrum")
        if np.any(lam < 0):
            raise ValueError(f"`spectrum` file {str(path)!r} has a negative eigenvalue")
        return np.sort(lam)[::-1]
    return spectrum_from_samples(data, standardize=standardize)


def load_spectrum(spec, standardize=False):
    """Eigenvalues (descending, float64) of a data covariance.

    Parameters
    ----------
    spec : str or path
        A built-in name (:data:`BUILTIN_SPECTRA`), a scikit-learn data set
        (:data:`SKLEARN_DATASETS`), a text file of eigenvalues (one per line), or a CSV data
        matrix (rows = samples; a single column is read as eigenvalues).
    standardize : bool, default False
        For data matrices: scale every feature to unit variance first.

    Returns
    -------
    ndarray, shape (n,)
        Eigenvalues, descending, float64.

    Examples
    --------
    >>> lam = load_spectrum("digits")
    >>> lam.shape, bool(lam[0] > lam[-1] >= 0)
    ((64,), True)
    """
    name = str(spec)
    if name in _INLINE:
        return np.array(_INLINE[name])
    if name == "digits":
        return _embedded("digits")
    if name in SKLEARN_DATASETS:
        return _sklearn(name, standardize)
    return _from_file(spec, standardize)
