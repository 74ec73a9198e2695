"""Input validation for the public entry points.

Every public function validates its arguments here, once, and raises a ``ValueError`` that names
the argument and says what was expected and what was received.  Private kernels trust their inputs.
"""

import numpy as np

__all__ = [
    "as_float_array",
    "check_alpha",
    "check_beta",
    "check_positive",
    "check_psd",
    "check_spd",
    "check_shape",
    "check_symmetric",
]

# Relative tolerance for symmetry checks (entries of a "symmetric" matrix may differ by rounding).
_SYM_RTOL = 1e-10


def _describe(x):
    x = np.asarray(x)
    if x.ndim == 0:
        return repr(x.item()) if x.dtype.kind in "biufc" else repr(x)
    return f"an array of shape {x.shape}"


def as_float_array(x, name):
    """Convert ``x`` to a float64 array; reject non-numeric or complex input, NaN and inf."""
    if x is None or np.asarray(x).dtype.kind in "cSUV":        # None, complex, strings
        raise ValueError(f"`{name}` must be a real number or array, got {x!r}")
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"`{name}` must be a real number or array, got {x!r}") from None
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"`{name}` must be finite (no NaN or inf), got {_describe(arr)} with "
                         f"{np.count_nonzero(~np.isfinite(arr))} non-finite entries")
    return arr


def check_positive(x, name):
    """A finite, strictly positive scalar or array."""
    arr = as_float_array(x, name)
    if np.any(arr <= 0):
        bad = arr[arr <= 0].flat[0] if arr.ndim else arr.item()
        raise ValueError(f"`{name}` must be positive and finite, got {bad!r}")
    return arr


def check_alpha(alpha, name="alpha"):
    """Order of a Renyi entropy: positive and finite."""
    return check_positive(alpha, name)


def check_beta(beta, name="beta"):
    """Weight of the beta-ELBO rate: positive and finite."""
    return check_positive(beta, name)


def check_shape(arr, name, core, expected):
    """Check the trailing ``len(core)`` dimensions of ``arr`` equal ``core`` (None = any).

    ``expected`` is the human-readable shape, e.g. ``"(..., n, k)"``.
    """
    ok = arr.ndim >= len(core) and all(
        c is None or arr.shape[arr.ndim - len(core) + i] == c for i, c in enumerate(core))
    if not ok:
        raise ValueError(f"`{name}` must have shape {expected}, got {arr.shape}")
    return arr


def check_symmetric(a, name):
    scale = np.max(np.abs(a), axis=(-2, -1), keepdims=True) if a.size else 1.0
    asym = np.abs(a - np.swapaxes(a, -1, -2))
    if np.any(asym > _SYM_RTOL * np.maximum(scale, np.finfo(float).tiny)):
        raise ValueError(f"`{name}` must be symmetric, got a matrix with max |A - A^T| = "
                         f"{asym.max():.3g}")
    return 0.5 * (a + np.swapaxes(a, -1, -2))


def check_spd(a, name):
    """Symmetric positive definite matrices of shape (..., k, k); returns the Cholesky factor."""
    a = check_symmetric(a, name)
    try:
        return a, np.linalg.cholesky(a)
    except np.linalg.LinAlgError:
        w = np.linalg.eigvalsh(a)
        raise ValueError(f"`{name}` must be positive definite, got smallest eigenvalue "
                         f"{w.min():.6g}") from None


def check_psd(a, name, rtol=1e-10):
    """Symmetric positive semi-definite matrices; returns (a, eigenvalues, eigenvectors).

    Eigenvalues that are negative only by rounding (above ``-rtol * largest``) are set to zero.
    """
    a = check_symmetric(a, name)
    lam, vec = np.linalg.eigh(a)
    top = np.maximum(np.max(np.abs(lam), axis=-1, keepdims=True), np.finfo(float).tiny)
    if np.any(lam < -rtol * top):
        raise ValueError(f"`{name}` must be positive semi-definite, got smallest eigenvalue "
                         f"{lam.min():.6g}")
    return a, np.maximum(lam, 0.0), vec
