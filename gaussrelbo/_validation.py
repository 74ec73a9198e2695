"""Input validation for the public entry points.

Every public function validates its arguments here, once, and raises a ``ValueError`` that names
the argument and says what was expected and what was received.  Private kernels trust their inputs.
Values in messages are printed as plain numbers (``-0.3``, ``1e+300``), never as numpy reprs such
as ``np.float64(-0.3)``.

Reusable checks: :func:`as_float_array` (real, finite, float64; Python integers beyond float64,
dates, strings, complex and ragged sequences are refused), :func:`check_positive`,
:func:`check_int`, :func:`check_bool`, :func:`check_tolerance`, :func:`check_random_state`,
:func:`check_shape`, :func:`check_symmetric`, :func:`check_spd`, :func:`check_psd` and the
formatter :func:`fmt`.
"""

import math
import numbers

import numpy as np

__all__ = [
    "as_float_array",
    "check_alpha",
    "check_beta",
    "check_bool",
    "check_int",
    "check_positive",
    "check_psd",
    "check_random_state",
    "check_shape",
    "check_spd",
    "check_symmetric",
    "check_tolerance",
    "fmt",
]

# Relative tolerance for symmetry checks (entries of a "symmetric" matrix may differ by rounding).
_SYM_RTOL = 1e-10


def fmt(x):
    """A value as a message prints it: plain numbers (``-0.3``, ``7``, ``1e+300``), short reprs
    for everything else (``'abc'``, ``None``, ``an array of shape (3,)``)."""
    if isinstance(x, (bool, np.bool_)):
        return repr(bool(x))
    if isinstance(x, numbers.Integral):
        text = str(int(x))
        return text if len(text) <= 24 else f"an integer with {len(text.lstrip('-'))} digits"
    if isinstance(x, (float, np.floating)):
        return repr(float(x))
    if isinstance(x, np.ndarray):
        if x.ndim == 0:
            return fmt(x[()])
        return f"an array of shape {x.shape} and dtype {x.dtype}"
    if isinstance(x, (list, tuple)):
        return f"a {type(x).__name__} of length {len(x)}"
    text = repr(x)
    return text if len(text) <= 60 else text[:57] + "..."


def _describe(x):
    x = np.asarray(x)
    if x.ndim == 0:
        return fmt(x[()])
    return f"an array of shape {x.shape}"


def _not_real(x, name, why=""):
    return ValueError(f"`{name}` must be a real number or array{why}, got {fmt(x)}")


def as_float_array(x, name):
    """Convert ``x`` to a float64 array; reject non-numeric, complex, date or ragged input, NaN
    and inf, and Python integers too large for float64."""
    if type(x) is np.ndarray and x.dtype == np.float64:     # already float64: only finiteness
        if not np.isfinite(x).all():
            raise _nonfinite(x, name)
        return x
    if x is None or isinstance(x, (str, bytes)):
        raise _not_real(x, name)
    try:
        raw = np.asarray(x)
    except (ValueError, TypeError):                    # a ragged nested sequence
        raise ValueError(f"`{name}` must be a real number or a rectangular array, got a "
                         f"ragged nested sequence") from None
    except OverflowError:
        raise ValueError(f"`{name}` must be within the float64 range, got an integer too large "
                         "for it") from None
    if raw.dtype.kind in "cSUVMmaa":                   # complex, strings, void, dates, durations
        raise _not_real(x, name)
    try:
        arr = np.asarray(raw, dtype=np.float64)
    except OverflowError:
        raise ValueError(f"`{name}` must be within the float64 range (|x| < 1.8e308), got an "
                         "integer too large for it") from None
    except (TypeError, ValueError):
        raise _not_real(x, name) from None
    if raw.dtype.kind == "O" and arr.size and not all(
            isinstance(v, (numbers.Real, np.bool_)) for v in raw.flat):
        raise _not_real(x, name, " (an object array holds non-numbers)")
    if not np.all(np.isfinite(arr)):
        raise _nonfinite(arr, name)
    return arr


def _nonfinite(arr, name):
    return ValueError(f"`{name}` must be finite (no NaN or inf), got {_describe(arr)} with "
                      f"{np.count_nonzero(~np.isfinite(arr))} non-finite entries"
                      if arr.ndim else
                      f"`{name}` must be finite (no NaN or inf), got {fmt(arr)}")


def check_positive(x, name):
    """A finite, strictly positive scalar or array."""
    if isinstance(x, float) and 0.0 < x < math.inf:     # one positive float: nothing to convert
        return np.asarray(x, dtype=np.float64)
    arr = as_float_array(x, name)
    if np.any(arr <= 0):
        bad = arr[arr <= 0].flat[0] if arr.ndim else arr.item()
        raise ValueError(f"`{name}` must be positive and finite, got {fmt(bad)}")
    return arr


def check_alpha(alpha, name="alpha"):
    """Order of a Renyi entropy: positive and finite."""
    return check_positive(alpha, name)


def check_beta(beta, name="beta"):
    """Weight of the beta-ELBO rate: positive and finite."""
    return check_positive(beta, name)


def check_int(x, name, lo=None, hi=None):
    """A Python or numpy integer (not a bool, not a float such as 2.0) in ``[lo, hi]``; returns
    a Python int.  ``None`` bounds are open."""
    lo_s = "-inf" if lo is None else str(lo)
    hi_s = "inf" if hi is None else str(hi)
    what = f"an integer in [{lo_s}, {hi_s}]" if (lo is not None or hi is not None) \
        else "an integer"
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Integral):
        raise ValueError(f"`{name}` must be {what}, got {fmt(x)}")
    v = int(x)
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise ValueError(f"`{name}` must be {what}, got {fmt(v)}")
    return v


def check_bool(x, name):
    """``True`` or ``False`` (Python or numpy bool); ``None``, numbers and strings are refused."""
    if not isinstance(x, (bool, np.bool_)):
        raise ValueError(f"`{name}` must be True or False, got {fmt(x)}")
    return bool(x)


def check_tolerance(x, name):
    """A positive, finite scalar tolerance (``tol``, ``gtol``, ``vtol`` ...); returns a float."""
    if isinstance(x, (bool, np.bool_)):
        raise ValueError(f"`{name}` must be a positive finite number, got {fmt(x)}")
    arr = as_float_array(x, name)
    if arr.ndim != 0:
        raise ValueError(f"`{name}` must be a scalar, got an array of shape {arr.shape}")
    if not arr > 0:
        raise ValueError(f"`{name}` must be a positive finite number, got {fmt(arr)}")
    return float(arr)


def check_random_state(random_state, name="random_state"):
    """``None``, a non-negative integer or a :class:`numpy.random.Generator`; returns a
    Generator (a Generator passed in is used as is, not copied)."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, (bool, np.bool_)) or not isinstance(random_state,
                                                                    numbers.Integral) \
            or random_state < 0:
        raise ValueError(f"`{name}` must be None, a non-negative integer or a "
                         f"numpy.random.Generator, got {fmt(random_state)}")
    return np.random.default_rng(int(random_state))


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
    """Symmetric up to rounding; returns the symmetric part, formed without overflow (an exactly
    symmetric input is returned as is)."""
    at = np.swapaxes(a, -1, -2)
    if a.size == 0 or np.array_equal(a, at):
        return a
    # Halve first: 0.5 a - 0.5 a^T and 0.5 a + 0.5 a^T cannot overflow for finite a.
    ha, hat = 0.5 * a, 0.5 * at
    scale = np.max(np.abs(ha), axis=(-2, -1), keepdims=True)
    asym = np.abs(ha - hat)
    if np.any(asym > _SYM_RTOL * np.maximum(scale, np.finfo(float).tiny)):
        raise ValueError(f"`{name}` must be symmetric, got a matrix with max |A - A^T| = "
                         f"{2.0 * float(asym.max()):.3g}")
    return ha + hat


def check_spd(a, name):
    """Symmetric positive definite matrices of shape (..., k, k); returns the Cholesky factor."""
    a = check_symmetric(a, name)
    try:
        L = np.linalg.cholesky(a)
    except np.linalg.LinAlgError:
        L = None
    if L is None or not np.all(np.isfinite(L)):
        w = np.linalg.eigvalsh(a)
        raise ValueError(f"`{name}` must be positive definite, got smallest eigenvalue "
                         f"{float(w.min()):.6g}") from None
    return a, L


def check_psd(a, name, rtol=1e-10):
    """Symmetric positive semi-definite matrices; returns (a, eigenvalues, eigenvectors).

    Eigenvalues are in **descending** order (the order of every spectrum in the package).
    Eigenvalues that are negative only by rounding (above ``-rtol * largest``) are set to zero.
    """
    a = check_symmetric(a, name)
    lam, vec = np.linalg.eigh(a)
    lam, vec = lam[..., ::-1], vec[..., :, ::-1]
    top = np.maximum(np.max(np.abs(lam), axis=-1, keepdims=True), np.finfo(float).tiny)
    if np.any(lam < -rtol * top):
        raise ValueError(f"`{name}` must be positive semi-definite, got smallest eigenvalue "
                         f"{float(lam.min()):.6g}")
    return a, np.maximum(lam, 0.0), vec
