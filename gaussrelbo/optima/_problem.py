"""Validated atlas problems: the spectrum, k, the objective and its parameters, sigma2."""

import numpy as np

from .._validation import as_float_array, check_alpha, check_beta, check_positive
from ..model import DataMoments

_LOG_2PI = np.log(2.0 * np.pi)

_OBJECTIVES = ("loglik", "elbo", "relbo", "beta_elbo")

_DEFAULT_MAX_POINTS = 10000

_TIE_RTOL = 1e-9            # eigenvalues closer than this times the scale are tied

def _check_int(x, name, lo, hi=None):
    if isinstance(x, bool) or not isinstance(x, (int, np.integer)) or x < lo or (
            hi is not None and x > hi):
        rng = f"[{lo}, {hi}]" if hi is not None else f">= {lo}"
        raise ValueError(f"`{name}` must be an integer {rng}, got {x!r}")
    return int(x)

class _Spec:
    """Validated problem: spectrum, k, objective, its parameters, sigma2 (None = learned)."""

    def __init__(self, lam, k, objective, alpha, beta, sigma2, encoder, k_name="k"):
        self.mean, self.basis = None, None
        if isinstance(lam, DataMoments):
            if lam.batch_shape != ():
                raise ValueError(f"`lam` must be unbatched DataMoments, got batch shape "
                                 f"{lam.batch_shape}")
            self.mean, self.basis = lam.mean, lam.eigenvectors
            lam = np.asarray(lam.eigenvalues, float)
        else:
            lam = as_float_array(lam, "lam")
            if lam.ndim != 1 or lam.size == 0:
                raise ValueError(f"`lam` must be a non-empty 1-D array of eigenvalues, got "
                                 f"shape {lam.shape}")
        if np.any(lam < 0):
            raise ValueError(f"`lam` eigenvalues must be non-negative, got {lam[lam < 0][0]!r}")
        if np.any(np.diff(lam) > 0):
            raise ValueError("`lam` eigenvalues must be sorted in descending order")
        if lam[0] <= 0:
            raise ValueError("`lam` must have a positive eigenvalue (the data are constant)")
        self.lam, self.n = np.ascontiguousarray(lam), lam.size
        self.k = _check_int(k, k_name, 1, self.n)
        if objective not in _OBJECTIVES:
            raise ValueError(f"`objective` must be one of {_OBJECTIVES}, got {objective!r}")
        self.objective = objective
        self.alpha = 1.0
        if objective == "relbo":
            if alpha is None:
                raise ValueError("`alpha` is required for objective='relbo'")
            self.alpha = _scalar(check_alpha(alpha), "alpha")
        self.beta = 1.0
        if objective == "beta_elbo":
            if beta is None:
                raise ValueError("`beta` is required for objective='beta_elbo'")
            self.beta = _scalar(check_beta(beta), "beta")
        self.gamma = self.beta
        self.alpha_e = self.alpha if objective == "relbo" else 1.0
        self.sigma2 = (None if sigma2 is None
                       else _scalar(check_positive(sigma2, "sigma2"), "sigma2"))
        if encoder not in ("diagonal", "full"):
            raise ValueError(f"`encoder` must be 'diagonal' or 'full', got {encoder!r}")
        self.encoder = encoder
        # Is the Hadamard penalty present?  (Not for the log-likelihood or a full encoder.)
        self.penalised = objective != "loglik" and encoder == "diagonal"
        self.total = float(self.lam.sum())
        self.lam_list = [float(v) for v in self.lam]
        with np.errstate(divide="ignore"):
            self.loglam = [float(v) for v in np.log(self.lam)]
        self.min_gap = float(np.min(-np.diff(self.lam))) if self.n > 1 else np.inf

    def tie(self, t):
        """Absolute tolerance for ties among eigenvalues and with the threshold t."""
        return _TIE_RTOL * max(self.lam[0], t)

    def wscale(self, t):
        """Natural unit of W entries (used for FD steps and the sign threshold)."""
        return np.sqrt(self.lam[0] + t)

def _scalar(x, name):
    if np.ndim(x) != 0:
        raise ValueError(f"`{name}` must be a scalar, got an array of shape {np.shape(x)}")
    return float(x)

def _max_points(max_points):
    if max_points is None:
        return _DEFAULT_MAX_POINTS
    return _check_int(max_points, "max_points", 1)

def _decoder_problem(W, sigma2, lam, objective, alpha, beta, encoder):
    """Validate a decoder W (n, k) at a fixed sigma2 against the spectrum: (W, _Spec)."""
    W = as_float_array(W, "W")
    if W.ndim != 2:
        raise ValueError(f"`W` must have shape (n, k), got {W.shape}")
    if sigma2 is None:
        raise ValueError("`sigma2` must be positive and finite, got None")
    sp = _Spec(lam, W.shape[1], objective, alpha, beta, sigma2, encoder, k_name="W.shape[1]")
    if W.shape[0] != sp.n:
        raise ValueError(f"`W` must have shape (n, k) with n={sp.n}, got {W.shape}")
    return W, sp

def _bias(sp):
    """The decoder bias shared (read-only) by every point: the data mean."""
    b = np.zeros(sp.n) if sp.mean is None else np.array(sp.mean, float)
    b.setflags(write=False)
    return b

def _check_bounded(sp):
    """Learned sigma2: F is unbounded above (sigma2 -> 0) when the data have rank rho <= k and
    n > gamma rho."""
    rho = int(np.sum(sp.lam > 0))
    if sp.sigma2 is None and rho <= sp.k and sp.n > sp.gamma * rho:
        raise ValueError(f"with learned sigma2 the objective is unbounded above (sigma2 -> 0): "
                         f"the data covariance has rank {rho} <= k={sp.k}; fix `sigma2` or "
                         f"lower `k`")

def _eligible(sp, t):
    """Number m of eigenvalues above the threshold t (beyond ties): a prefix 0..m-1."""
    return int(np.sum(sp.lam - t > sp.tie(t)))
