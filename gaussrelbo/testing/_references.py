r"""High-precision reference values (mpmath) for the tests and the benchmarks.

One source of truth for "the right answer": every function evaluates a closed form (Gaussian
Renyi entropies, the population objectives, Li & Turner's bound) at ``dps`` significant decimal
digits (default 50), written directly with mpmath matrices -- products, and determinants and
inverses of the covariance-like matrices from a diagonally scaled Cholesky factor at ``dps``
digits (scale-free: no absolute tolerance; a matrix that rounds to an indefinite one is formed
again at up to 16 times the digits) -- and **never** through the package's floating-point routes
(no SVD, no spectral reductions, no float64 factor).  So a match between :mod:`gaussrelbo` and
this module checks the package's algebra and its floating-point care at once.

Conventions
-----------
* Inputs are Python/numpy floats or arrays.  Every entry is a binary double and is converted to
  an mpmath number *exactly* (``dps`` must be at least 16 for this), so ``1 + 1e-12`` means the
  double nearest to it, exactly, and ``alpha - 1`` is then exact.
* Results are ``mpmath.mpf`` numbers carrying ``dps`` digits.  Use ``float(...)`` for a double.
  (There is no float flag on purpose: the reference keeps its digits until the comparison.)
* Population (data-averaged) values only, for one unbatched model: ``W`` (n, k), ``b`` (n,),
  ``sigma2`` > 0, ``V`` (k, n), ``c`` (k,), ``D`` (k,) diagonal or (k, k) full, data ``mean``
  (n,) and covariance ``cov`` (n, n).  Covariance-like matrices enter through their symmetric part.
* The objectives of the per-datapoint point ``x`` are the population values with
  ``mean = x`` and ``cov = 0``.

Examples
--------
>>> from gaussrelbo import testing
>>> float(testing.ell(1.0 + 1e-12))
0.9999999999995
>>> import numpy as np
>>> float(testing.renyi_entropy(np.eye(2), 2.0))        # log(2 pi) + log(2)
2.5310242469692907
"""

import mpmath
import numpy as np

from .._validation import fmt

__all__ = [
    "beta_elbo",
    "distortion",
    "elbo",
    "error_scale",
    "ell",
    "ell_deficit",
    "ell_t",
    "log1p_ratio",
    "log_evidence",
    "rate",
    "relbo",
    "relbo_escort",
    "renyi_entropy",
    "renyi_term",
    "renyi_weight",
    "shannon_entropy",
    "vr_bound",
]


# ---- exact conversion ---------------------------------------------------------------------------

def _check_dps(dps):
    # >= 16: doubles convert exactly; <= 10 000: beyond that one evaluation takes minutes
    if isinstance(dps, (bool, np.bool_)) or not (isinstance(dps, (int, np.integer))
                                                 and 16 <= dps <= 10_000):
        raise ValueError(f"`dps` must be an integer in [16, 10000] (doubles convert exactly), "
                         f"got {fmt(dps)}")
    return int(dps)


def _mpf(x, name="x"):
    """A real scalar as an exact mpf (a binary double is an exact rational)."""
    if isinstance(x, mpmath.mpf):
        return x
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 0:
        raise ValueError(f"`{name}` must be a scalar, got shape {arr.shape}")
    if not np.isfinite(arr):
        raise ValueError(f"`{name}` must be finite, got {arr.item()!r}")
    return mpmath.mpf(float(arr))


def _vec(x, name, size=None):
    if isinstance(x, mpmath.matrix):
        return x
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 1 or (size is not None and arr.shape[0] != size):
        raise ValueError(f"`{name}` must have shape ({size if size is not None else 'm'},), "
                         f"got {arr.shape}")
    return mpmath.matrix([mpmath.mpf(float(v)) for v in arr])


def _mat(x, name, shape):
    if isinstance(x, mpmath.matrix):
        return x
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 2 or any(s is not None and a != s for a, s in zip(arr.shape, shape)):
        raise ValueError(f"`{name}` must have shape {shape}, got {arr.shape}")
    return mpmath.matrix([[mpmath.mpf(float(v)) for v in row] for row in arr])


def _tr(A):
    return mpmath.fsum(A[i, i] for i in range(A.rows))


def _dot(a, b):
    return mpmath.fsum(a[i] * b[i] for i in range(a.rows))


def _chol_scaled(A):
    """``(d, L)`` with ``A = diag(d) L L^T diag(d)``, ``d_i = sqrt(A_ii)``, or None when ``A`` is
    not positive definite at the working precision.

    Scale-free: the symmetric diagonal scaling makes the test and every later solve independent
    of the units of ``A`` (mpmath's own ``cholesky`` uses an absolute tolerance, and its LU an
    absolute pivot threshold, which fail for small-scale or very ill-conditioned input).  The
    symmetric part of ``A`` is used.
    """
    k = A.rows
    d = []
    for i in range(k):
        if not A[i, i] > 0:
            return None
        d.append(mpmath.sqrt(A[i, i]))
    L = mpmath.zeros(k, k)
    for j in range(k):
        acc = 1 - mpmath.fsum(L[j, p] ** 2 for p in range(j))
        if not acc > 0:
            return None
        L[j, j] = mpmath.sqrt(acc)
        for i in range(j + 1, k):
            aij = (A[i, j] + A[j, i]) / (2 * d[i] * d[j])
            L[i, j] = (aij - mpmath.fsum(L[i, p] * L[j, p] for p in range(j))) / L[j, j]
    return d, L


class _NotPositiveDefinite(ValueError):
    """A matrix that must be positive definite is not, at the working precision."""


def _require_pd(A):
    f = _chol_scaled(A)
    if f is None:
        raise _NotPositiveDefinite(f"matrix is not positive definite at {mpmath.mp.dps} digits")
    return f


# A matrix formed from doubles (W W^T + sigma^2 I, ...) may round to a singular one when its
# condition exceeds 10**dps; the evaluation is then repeated at 2, 4, 8, 16 times the digits.
_DPS_DOUBLINGS = 4


def _escalate(dps, thunk):
    """``thunk()`` at ``dps`` digits, repeated at more digits while a positive definite matrix
    rounds to an indefinite one; the result is rounded to ``dps`` digits."""
    for attempt in range(_DPS_DOUBLINGS + 1):
        with mpmath.workdps(dps * 2**attempt):
            try:
                out = thunk()
            except _NotPositiveDefinite:
                continue
        with mpmath.workdps(dps):
            return +out
    raise ValueError(f"a matrix is not positive definite even at {dps * 2**_DPS_DOUBLINGS} "
                     "digits: the input is not positive definite")


def _logdet(A):
    """log det of a symmetric positive definite matrix, from its scaled Cholesky factor."""
    d, L = _require_pd(A)
    return 2 * mpmath.fsum(mpmath.log(v) for v in d) + 2 * mpmath.fsum(
        mpmath.log(L[i, i]) for i in range(L.rows))


def _tri_inv(L):
    """Inverse of a lower triangular matrix by forward substitution."""
    k = L.rows
    X = mpmath.zeros(k, k)
    for j in range(k):
        X[j, j] = 1 / L[j, j]
        for i in range(j + 1, k):
            X[i, j] = -mpmath.fsum(L[i, p] * X[p, j] for p in range(j, i)) / L[i, i]
    return X


def _inv_spd(A):
    """Inverse of a symmetric positive definite matrix through its scaled Cholesky factor."""
    d, L = _require_pd(A)
    Li = _tri_inv(L)
    Ai = Li.T * Li
    k = A.rows
    return mpmath.matrix([[Ai[i, j] / (d[i] * d[j]) for j in range(k)] for i in range(k)])


def _chol_inv(A):
    """``L^{-1}`` for the Cholesky factor ``L`` of ``A`` (``A = L L^T``), scale-free."""
    d, L = _require_pd(A)
    Li = _tri_inv(L)
    k = A.rows
    return mpmath.matrix([[Li[i, j] / d[j] for j in range(k)] for i in range(k)])


# ---- scalar kernels (Theory §2) -----------------------------------------------------------------

def _extra_bits(t):
    """Guard bits for a quantity whose value is ~|t| (log1p and its deficit lose ~|log2 t| bits
    in mpmath for tiny t: ``log1p`` works at only 10 guard bits)."""
    return 0 if t == 0 else max(0, -int(mpmath.floor(mpmath.log(abs(t), 2)))) * 2 + 20


def ell(alpha, dps=50):
    r""":math:`\ell(\alpha) = \log(\alpha)/(\alpha-1)`, with :math:`\ell(1) = 1` (Theory §2).

    ``alpha`` is taken as the exact binary double, so ``ell(1 + 1e-12)`` is the value at that
    double (``alpha - 1`` exact).  Valid for every double :math:`\alpha > 0`, 5e-324 to 1.8e308.

    Parameters
    ----------
    alpha : float
        Renyi order, positive (converted exactly).
    dps : int, default 50
        Significant decimal digits of the computation, at least 16.

    Returns
    -------
    mpmath.mpf
        The value, carrying ``dps`` digits.
    """
    dps = _check_dps(dps)
    with mpmath.workdps(dps):
        a = _mpf(alpha, "alpha")
        if a <= 0:
            raise ValueError(f"`alpha` must be positive, got {float(a)!r}")
        if a == 1:
            return mpmath.mpf(1)
        with mpmath.workprec(mpmath.mp.prec + 20):
            out = mpmath.log(a) / (a - 1)
        return +out


def ell_t(t, dps=50):
    r""":math:`\ell(1+t) = \log(1+t)/t` (1 at t = 0) for the exact double ``t > -1``.

    Parameters
    ----------
    t : float
        The exact double t > -1.
    dps : int, default 50
        Significant decimal digits of the computation, at least 16.

    Returns
    -------
    mpmath.mpf
        The value, carrying ``dps`` digits (``float(...)`` for a double).
    """
    dps = _check_dps(dps)
    with mpmath.workdps(dps):
        tt = _mpf(t, "t")
        if tt <= -1:
            raise ValueError(f"`t` must be > -1, got {float(tt)!r}")
        if tt == 0:
            return mpmath.mpf(1)
        with mpmath.workprec(mpmath.mp.prec + _extra_bits(tt)):
            out = mpmath.log1p(tt) / tt
        return +out


def ell_deficit(t, dps=50):
    r""":math:`(1 - \ell(1+t))/t = (t - \log(1+t))/t^2` (1/2 at t = 0) for the double ``t > -1``.

    The difference is formed at :math:`\approx 2|\log_2 t|` extra bits, so it keeps ``dps``
    digits however small ``t`` is.

    Parameters
    ----------
    t : float
        The exact double t > -1.
    dps : int, default 50
        Significant decimal digits of the computation, at least 16.

    Returns
    -------
    mpmath.mpf
        The value, carrying ``dps`` digits (``float(...)`` for a double).
    """
    dps = _check_dps(dps)
    with mpmath.workdps(dps):
        tt = _mpf(t, "t")
        if tt <= -1:
            raise ValueError(f"`t` must be > -1, got {float(tt)!r}")
        if tt == 0:
            return mpmath.mpf(1) / 2
        with mpmath.workprec(mpmath.mp.prec + 2 * _extra_bits(tt)):
            out = (tt - mpmath.log1p(tt)) / (tt * tt)
        return +out


def log1p_ratio(t, y, dps=50):
    r""":math:`\log(1 + t y)/t` (``y`` at t = 0), with the product :math:`ty` of the two doubles
    formed exactly.  Requires :math:`1 + ty > 0`.

    Parameters
    ----------
    t : float
        The exact double t.
    y : float
        The exact double y, with 1 + t y > 0.
    dps : int, default 50
        Significant decimal digits of the computation, at least 16.

    Returns
    -------
    mpmath.mpf
        The value, carrying ``dps`` digits (``float(...)`` for a double).
    """
    dps = _check_dps(dps)
    with mpmath.workdps(dps):
        tt, yy = _mpf(t, "t"), _mpf(y, "y")
        if tt == 0:
            return +yy
        with mpmath.workprec(2 * mpmath.mp.prec + 4 * _extra_bits(tt) + 4 * _extra_bits(yy)):
            u = tt * yy                                  # exact: 106 bits suffice
            if 1 + u <= 0:
                raise ValueError(f"`1 + t*y` must be positive, got t={float(tt)!r}, "
                                 f"y={float(yy)!r}")
            with mpmath.workprec(mpmath.mp.prec + _extra_bits(u)):
                out = mpmath.log1p(u) / tt
        return +out


def renyi_weight(alpha, dps=50):
    r"""The Renyi-term weight :math:`(1-\alpha)/\alpha` for the exact double ``alpha > 0``.

    Parameters
    ----------
    alpha : float
        Renyi order, positive (converted exactly).
    dps : int, default 50
        Significant decimal digits of the computation, at least 16.

    Returns
    -------
    mpmath.mpf
        The value, carrying ``dps`` digits (``float(...)`` for a double).
    """
    dps = _check_dps(dps)
    with mpmath.workdps(dps):
        a = _mpf(alpha, "alpha")
        if a <= 0:
            raise ValueError(f"`alpha` must be positive, got {float(a)!r}")
        return (1 - a) / a


# ---- Gaussian entropies (Theory §2) -------------------------------------------------------------

def renyi_entropy(cov, alpha, dps=50):
    r"""Renyi entropy of order :math:`\alpha` of :math:`\mathcal N(m, \Sigma)`, nats.

    .. math:: H_\alpha = \tfrac12\log\det(2\pi\Sigma) + \tfrac k2\,\ell(\alpha),

    the result of the defining integral :math:`\frac{1}{1-\alpha}\log\int\mathcal N^\alpha`,
    with :math:`\det\Sigma` from mpmath's LU determinant of the (unsymmetrised) matrix ``cov``
    (k, k).  ``alpha = 1`` gives the Shannon entropy.

    Parameters
    ----------
    cov : array_like, shape (k, k)
        Covariance.
    alpha : float
        Renyi order, positive (converted exactly).
    dps : int, default 50
        Significant decimal digits of the computation, at least 16.

    Returns
    -------
    mpmath.mpf
        The value, carrying ``dps`` digits (``float(...)`` for a double).
    """
    dps = _check_dps(dps)

    def value():
        S = _mat(np.atleast_2d(cov), "cov", (None, None))
        if S.rows != S.cols:
            raise ValueError(f"`cov` must be square, got {S.rows}x{S.cols}")
        k = S.rows
        return (k * mpmath.log(2 * mpmath.pi) + _logdet(S)) / 2 + k * ell(alpha, dps) / 2
    return _escalate(dps, value)


def shannon_entropy(cov, dps=50):
    r""":math:`\tfrac12\log\det(2\pi e\Sigma)`, nats (``cov`` (k, k)).

    Parameters
    ----------
    cov : array_like, shape (k, k)
        Covariance.
    dps : int, default 50
        Significant decimal digits of the computation, at least 16.

    Returns
    -------
    mpmath.mpf
        The value, carrying ``dps`` digits (``float(...)`` for a double).
    """
    dps = _check_dps(dps)

    def value():
        S = _mat(np.atleast_2d(cov), "cov", (None, None))
        k = S.rows
        return (k * (mpmath.log(2 * mpmath.pi) + 1) + _logdet(S)) / 2
    return _escalate(dps, value)


# ---- the linear-Gaussian VAE at high precision --------------------------------------------------

class _Pop:
    """A model and data moments as mpmath matrices, with the Theory §5, §11 population forms.

    Constructed from mpmath objects (see :func:`_pop`); derived matrices are cached on demand.
    """

    # the inputs each cached quantity depends on (see ``perturbed``)
    _DEPENDS = {"M": {"W", "s2"}, "Minv": {"W", "s2"}, "C": {"W", "s2"}, "Ci": {"W", "s2"},
                "ldC": {"W", "s2"}, "S2": {"W", "s2"}, "lpr": {"W", "s2"}, "ldS2": {"W", "s2"},
                "ldD": {"D"}, "Eg": {"W", "s2", "V", "c", "b", "mu"}, "Sa": {"W", "s2", "D"}}

    def __init__(self, W, b, s2, V, c, D, mu, S):
        self.W, self.b, self.s2, self.V, self.c, self.D, self.mu, self.S = W, b, s2, V, c, D, mu, S
        self.n, self.k = W.rows, W.cols
        self._cache = {}

    def perturbed(self, name, value):
        """The same model with input ``name`` replaced by ``value``, sharing the cached
        quantities that do not depend on that input (the same numbers it would recompute)."""
        inputs = {nm: getattr(self, nm) for nm in ("W", "b", "s2", "V", "c", "D", "mu", "S")}
        inputs[name] = value
        out = _Pop(**inputs)
        out._cache = {key: v for key, v in self._cache.items()
                      if name not in self._DEPENDS[key[0] if isinstance(key, tuple) else key]}
        return out

    def _get(self, key, fn):
        if key not in self._cache:
            self._cache[key] = fn()
        return self._cache[key]

    @property
    def M(self):        # W^T W + sigma^2 I_k
        return self._get("M", lambda: self.W.T * self.W + self.s2 * mpmath.eye(self.k))

    @property
    def Minv(self):
        return self._get("Minv", lambda: _inv_spd(self.M))

    @property
    def C(self):        # W W^T + sigma^2 I_n
        return self._get("C", lambda: self.W * self.W.T + self.s2 * mpmath.eye(self.n))

    @property
    def S2(self):       # the posterior covariance sigma^2 M^-1
        return self._get("S2", lambda: self.s2 * self.Minv)

    @property
    def E_g(self):      # E = V - M^-1 W^T and g = E mu + c + M^-1 W^T b (Theory §5)
        def f():
            G = self.Minv * self.W.T
            E = self.V - G
            return E, E * self.mu + self.c + G * self.b
        return self._get("Eg", f)

    @property
    def logdet_D(self):
        return self._get("ldD", lambda: _logdet(self.D))

    @property
    def log_post_ratio(self):
        """log det(sigma^2 M^-1) from mpmath's determinant of the explicit inverse."""
        return self._get("lpr", lambda: _logdet(self.s2 * self.Minv))

    # Theory §5
    def dist(self):
        A = mpmath.eye(self.n) - self.W * self.V
        rbar = A * self.mu - self.W * self.c - self.b
        q = _tr(A * self.S * A.T) + _dot(rbar, rbar) + _tr(self.W * self.D * self.W.T)
        return self.n * mpmath.log(2 * mpmath.pi * self.s2) / 2 + q / (2 * self.s2)

    def rate(self):
        m = self.V * self.mu + self.c
        return (_tr(self.D) + _tr(self.V * self.S * self.V.T) + _dot(m, m) - self.k
                - self.logdet_D) / 2

    def loglik(self):
        d = self.mu - self.b
        Ci = self._get("Ci", lambda: _inv_spd(self.C))
        ldC = self._get("ldC", lambda: _logdet(self.C))
        return -(self.n * mpmath.log(2 * mpmath.pi) + ldC + _tr(Ci * self.S)
                 + _dot(d, Ci * d)) / 2

    def bracket(self, alpha):
        """H(q) - H_alpha(p(z|x)) (Theory §3)."""
        return (self.logdet_D + self.k - self.k * ell(alpha, mpmath.mp.dps)
                - self.log_post_ratio) / 2

    def relbo(self, alpha):
        """Theory §5 direct form."""
        a = _mpf(alpha)
        return -self.dist() - self.rate() + (1 - a) / a * self.bracket(alpha)

    def relbo_escort(self, alpha):
        """Theory §5 escort form: LL - KL(q || pi_alpha)/alpha averaged over the data."""
        a = _mpf(alpha)
        E, g = self.E_g
        Pi = a * self.M / self.s2
        kl2 = (_tr(Pi * self.D) - self.k - _logdet(Pi) - self.logdet_D
               + _tr(Pi * E * self.S * E.T) + _dot(g, Pi * g))
        return self.loglik() - kl2 / (2 * a)

    def _sigma_alpha(self, a):
        """(Sigma_alpha^-1, the log-determinant part of Theory §11), or None when Sigma_alpha is
        not positive definite."""
        Sa = a * self.S2 + (1 - a) * self.D
        Sa = (Sa + Sa.T) / 2       # exact symmetry (the explicit inverse rounds)
        if _chol_scaled(Sa) is None:     # positive definiteness test, scale-free
            return None
        logdets = _logdet(Sa) - (1 - a) * self.logdet_D - a * self._get(
            "ldS2", lambda: _logdet(self.S2))
        return _inv_spd(Sa), logdets

    def _divergence_parts(self, alpha):
        """(quad, logdets) of Theory §11, or None when Sigma_alpha is not positive definite."""
        a = _mpf(alpha)
        sa = self._get(("Sa", a), lambda: self._sigma_alpha(a))
        if sa is None:
            return None
        Sai, logdets = sa
        E, g = self.E_g
        quad = _tr(Sai * E * self.S * E.T) + _dot(g, Sai * g)
        return quad, logdets

    def renyi_div(self, alpha):
        """Population Renyi divergence D_alpha(q || p(z|x)) (Theory §11); +-inf outside."""
        a = _mpf(alpha)
        if a == 1:                 # KL(q || p(z|x)), the alpha -> 1 limit
            return self.loglik() + self.dist() + self.rate()
        parts = self._divergence_parts(a)
        if parts is None:
            return mpmath.inf if a > 1 else -mpmath.inf
        quad, logdets = parts
        return a / 2 * quad - logdets / (2 * (a - 1))

    def divergence_magnitude(self, alpha):
        """Sum of |terms| of the divergence in its cancellation-free form (see error_scale)."""
        a = _mpf(alpha)
        t = a - 1
        Li = _chol_inv(self.D)
        X = Li * self.S2 * Li.T
        mus = mpmath.eigsy((X + X.T) / 2, eigvals_only=True)
        quad = self._divergence_parts(a)[0]
        logs = mpmath.fsum(abs(mpmath.log1p(t * (1 - 1 / m)) / t if t != 0 else 1 - 1 / m)
                           + abs(mpmath.log(m)) for m in mus)
        return abs(a) / 2 * abs(quad) + logs / 2

    def vr(self, alpha):
        if _mpf(alpha) == 1:
            return -self.dist() - self.rate()
        return self.loglik() - self.renyi_div(alpha)


def _pop(W, b, sigma2, V, c, D, mean, cov):
    W = _mat(W, "W", (None, None))
    n, k = W.rows, W.cols
    s2 = _mpf(sigma2, "sigma2")
    if s2 <= 0:
        raise ValueError(f"`sigma2` must be positive, got {float(s2)!r}")
    b = _vec(b, "b", n)
    V = _mat(V, "V", (k, n))
    c = _vec(c, "c", k)
    if isinstance(D, mpmath.matrix):
        Dm = D
    else:
        D = np.asarray(D, dtype=np.float64)
        Dm = mpmath.diag(_vec(D, "D", k)) if D.ndim == 1 else _mat(D, "D", (k, k))
    mu = _vec(mean, "mean", n)
    S = _mat(cov, "cov", (n, n))
    return _Pop(W, b, s2, V, c, Dm, mu, S)


def _run(dps, fn, params):
    return _escalate(_check_dps(dps), lambda: fn(_pop(*params)))


def distortion(W, b, sigma2, V, c, D, mean, cov, dps=50):
    r"""Population distortion :math:`-E\log p(x|z)` (Theory §5), nats:
    :math:`\tfrac n2\log(2\pi\sigma^2) + \frac{1}{2\sigma^2}[\mathrm{tr}(ASA^T) + \|\bar r\|^2
    + \mathrm{tr}(WDW^T)]`, :math:`A = I - WV`, :math:`\bar r = A\mu_D - Wc - b`.

    Parameters
    ----------
    W : array_like, shape (n, k)
        Decoder weights.
    b : array_like, shape (n,)
        Decoder offset.
    sigma2 : float
        Decoder noise variance, positive.
    V : array_like, shape (k, n)
        Encoder gain.
    c : array_like, shape (k,)
        Encoder offset.
    D : array_like, shape (k,) or (k, k)
        Encoder covariance, diagonal (its diagonal) or full.
    mean : array_like, shape (n,)
        Data mean (a point x: the point itself).
    cov : array_like, shape (n, n)
        Data covariance (a point x: zeros).
    dps : int, default 50
        Significant decimal digits of the computation, at least 16.

    Returns
    -------
    mpmath.mpf
        The value, carrying ``dps`` digits (``float(...)`` for a double).
    """
    return _run(dps, _Pop.dist, (W, b, sigma2, V, c, D, mean, cov))


def rate(W, b, sigma2, V, c, D, mean, cov, dps=50):
    r"""Population rate :math:`E\,\mathrm{KL}(q\|p(z)) = \tfrac12[\mathrm{tr}D +
    \mathrm{tr}(VSV^T) + \|V\mu_D+c\|^2 - k - \log\det D]` (Theory §5).

    Parameters
    ----------
    W : array_like, shape (n, k)
        Decoder weights.
    b : array_like, shape (n,)
        Decoder offset.
    sigma2 : float
        Decoder noise variance, positive.
    V : array_like, shape (k, n)
        Encoder gain.
    c : array_like, shape (k,)
        Encoder offset.
    D : array_like, shape (k,) or (k, k)
        Encoder covariance, diagonal (its diagonal) or full.
    mean : array_like, shape (n,)
        Data mean (a point x: the point itself).
    cov : array_like, shape (n, n)
        Data covariance (a point x: zeros).
    dps : int, default 50
        Significant decimal digits of the computation, at least 16.

    Returns
    -------
    mpmath.mpf
        The value, carrying ``dps`` digits (``float(...)`` for a double).
    """
    return _run(dps, _Pop.rate, (W, b, sigma2, V, c, D, mean, cov))


def log_evidence(W, b, sigma2, V, c, D, mean, cov, dps=50):
    r"""Population :math:`E\log p(x)`, :math:`p(x) = \mathcal N(b, C)`, :math:`C = WW^T +
    \sigma^2I`: :math:`-\tfrac12[n\log2\pi + \log\det C + \mathrm{tr}(C^{-1}S) +
    (\mu_D-b)^TC^{-1}(\mu_D-b)]` with an explicit mpmath inverse and determinant.  (The encoder
    arguments are accepted for a uniform signature and ignored.)

    Parameters
    ----------
    W : array_like, shape (n, k)
        Decoder weights.
    b : array_like, shape (n,)
        Decoder offset.
    sigma2 : float
        Decoder noise variance, positive.
    V : array_like, shape (k, n)
        Encoder gain.
    c : array_like, shape (k,)
        Encoder offset.
    D : array_like, shape (k,) or (k, k)
        Encoder covariance, diagonal (its diagonal) or full.
    mean : array_like, shape (n,)
        Data mean (a point x: the point itself).
    cov : array_like, shape (n, n)
        Data covariance (a point x: zeros).
    dps : int, default 50
        Significant decimal digits of the computation, at least 16.

    Returns
    -------
    mpmath.mpf
        The value, carrying ``dps`` digits (``float(...)`` for a double).
    """
    return _run(dps, _Pop.loglik, (W, b, sigma2, V, c, D, mean, cov))


def elbo(W, b, sigma2, V, c, D, mean, cov, dps=50):
    """Population ELBO = -distortion - rate (Theory §5).

    Parameters
    ----------
    W : array_like, shape (n, k)
        Decoder weights.
    b : array_like, shape (n,)
        Decoder offset.
    sigma2 : float
        Decoder noise variance, positive.
    V : array_like, shape (k, n)
        Encoder gain.
    c : array_like, shape (k,)
        Encoder offset.
    D : array_like, shape (k,) or (k, k)
        Encoder covariance, diagonal (its diagonal) or full.
    mean : array_like, shape (n,)
        Data mean (a point x: the point itself).
    cov : array_like, shape (n, n)
        Data covariance (a point x: zeros).
    dps : int, default 50
        Significant decimal digits of the computation, at least 16.

    Returns
    -------
    mpmath.mpf
        The value, carrying ``dps`` digits (``float(...)`` for a double).
    """
    return _run(dps, lambda p: -p.dist() - p.rate(), (W, b, sigma2, V, c, D, mean, cov))


def beta_elbo(W, b, sigma2, V, c, D, mean, cov, beta, dps=50):
    """Population beta-ELBO = -distortion - beta * rate (Theory §5).

    Parameters
    ----------
    W : array_like, shape (n, k)
        Decoder weights.
    b : array_like, shape (n,)
        Decoder offset.
    sigma2 : float
        Decoder noise variance, positive.
    V : array_like, shape (k, n)
        Encoder gain.
    c : array_like, shape (k,)
        Encoder offset.
    D : array_like, shape (k,) or (k, k)
        Encoder covariance, diagonal (its diagonal) or full.
    mean : array_like, shape (n,)
        Data mean (a point x: the point itself).
    cov : array_like, shape (n, n)
        Data covariance (a point x: zeros).
    beta : float
        Weight of the rate.
    dps : int, default 50
        Significant decimal digits of the computation, at least 16.

    Returns
    -------
    mpmath.mpf
        The value, carrying ``dps`` digits (``float(...)`` for a double).
    """
    return _run(dps, lambda p: -p.dist() - _mpf(beta, "beta") * p.rate(),
                (W, b, sigma2, V, c, D, mean, cov))


def renyi_term(W, b, sigma2, V, c, D, mean, cov, alpha, dps=50):
    r"""The Renyi term :math:`H(q) - H_\alpha(p(z|x)) = \tfrac12[\log\det D + k - k\ell(\alpha)
    - \log\det(\sigma^2M^{-1})]` (Theory §3), determinants by mpmath.  Data-independent.

    Parameters
    ----------
    W : array_like, shape (n, k)
        Decoder weights.
    b : array_like, shape (n,)
        Decoder offset.
    sigma2 : float
        Decoder noise variance, positive.
    V : array_like, shape (k, n)
        Encoder gain.
    c : array_like, shape (k,)
        Encoder offset.
    D : array_like, shape (k,) or (k, k)
        Encoder covariance, diagonal (its diagonal) or full.
    mean : array_like, shape (n,)
        Data mean (a point x: the point itself).
    cov : array_like, shape (n, n)
        Data covariance (a point x: zeros).
    alpha : float
        Renyi order, positive (converted exactly).
    dps : int, default 50
        Significant decimal digits of the computation, at least 16.

    Returns
    -------
    mpmath.mpf
        The value, carrying ``dps`` digits (``float(...)`` for a double).
    """
    return _run(dps, lambda p: p.bracket(alpha), (W, b, sigma2, V, c, D, mean, cov))


def relbo(W, b, sigma2, V, c, D, mean, cov, alpha, dps=50):
    r"""Population RELBO of order ``alpha``, Theory §5 **direct** form:

    .. math:: -\mathrm{Dist} - R + \frac{1-\alpha}{2\alpha}\big[\log\det D + k - k\ell(\alpha)
              - \log\det(\sigma^2M^{-1})\big],

    with :math:`\log\det(\sigma^2M^{-1})` from mpmath's determinant of the explicit inverse of
    :math:`M = W^TW + \sigma^2I` (not from singular values).

    Parameters
    ----------
    W : array_like, shape (n, k)
        Decoder weights.
    b : array_like, shape (n,)
        Decoder offset.
    sigma2 : float
        Decoder noise variance, positive.
    V : array_like, shape (k, n)
        Encoder gain.
    c : array_like, shape (k,)
        Encoder offset.
    D : array_like, shape (k,) or (k, k)
        Encoder covariance, diagonal (its diagonal) or full.
    mean : array_like, shape (n,)
        Data mean (a point x: the point itself).
    cov : array_like, shape (n, n)
        Data covariance (a point x: zeros).
    alpha : float
        Renyi order, positive (converted exactly).
    dps : int, default 50
        Significant decimal digits of the computation, at least 16.

    Returns
    -------
    mpmath.mpf
        The value, carrying ``dps`` digits (``float(...)`` for a double).
    """
    return _run(dps, lambda p: p.relbo(alpha), (W, b, sigma2, V, c, D, mean, cov))


def relbo_escort(W, b, sigma2, V, c, D, mean, cov, alpha, dps=50):
    r"""Population RELBO by the Theory §5 **escort** form, an independent second route:

    .. math:: \mathrm{LL} - \frac1{2\alpha}\big[\mathrm{tr}(\Pi D) - k - \log\det\Pi
              - \log\det D + \mathrm{tr}(\Pi ESE^T) + g^T\Pi g\big],

    :math:`\Pi = \alpha M/\sigma^2`, :math:`E = V - M^{-1}W^T`, :math:`g = E\mu_D + c +
    M^{-1}W^Tb`.  Agrees with :func:`relbo` to the working precision.

    Parameters
    ----------
    W : array_like, shape (n, k)
        Decoder weights.
    b : array_like, shape (n,)
        Decoder offset.
    sigma2 : float
        Decoder noise variance, positive.
    V : array_like, shape (k, n)
        Encoder gain.
    c : array_like, shape (k,)
        Encoder offset.
    D : array_like, shape (k,) or (k, k)
        Encoder covariance, diagonal (its diagonal) or full.
    mean : array_like, shape (n,)
        Data mean (a point x: the point itself).
    cov : array_like, shape (n, n)
        Data covariance (a point x: zeros).
    alpha : float
        Renyi order, positive (converted exactly).
    dps : int, default 50
        Significant decimal digits of the computation, at least 16.

    Returns
    -------
    mpmath.mpf
        The value, carrying ``dps`` digits (``float(...)`` for a double).
    """
    return _run(dps, lambda p: p.relbo_escort(alpha), (W, b, sigma2, V, c, D, mean, cov))


def vr_bound(W, b, sigma2, V, c, D, mean, cov, alpha, dps=50):
    r"""Population variational Renyi bound of Li & Turner (Theory §11):
    :math:`\mathrm{LL} - E_x D_\alpha(q\,\|\,p(z|x))` with the Gaussian Renyi divergence

    .. math:: D_\alpha = \tfrac\alpha2\,E[\delta^T\Sigma_\alpha^{-1}\delta]
              - \frac{\log\det\Sigma_\alpha - (1-\alpha)\log\det D - \alpha\log\det\Sigma_2}
              {2(\alpha-1)},

    :math:`\Sigma_2 = \sigma^2M^{-1}`, :math:`\Sigma_\alpha = \alpha\Sigma_2 + (1-\alpha)D`.
    ``alpha`` is any finite real; ``alpha = 1`` returns the ELBO (the limit).  Returns ``-inf``
    (``alpha > 1``) or ``+inf`` (``alpha < 0``) when :math:`\Sigma_\alpha` is not positive
    definite.

    Parameters
    ----------
    W : array_like, shape (n, k)
        Decoder weights.
    b : array_like, shape (n,)
        Decoder offset.
    sigma2 : float
        Decoder noise variance, positive.
    V : array_like, shape (k, n)
        Encoder gain.
    c : array_like, shape (k,)
        Encoder offset.
    D : array_like, shape (k,) or (k, k)
        Encoder covariance, diagonal (its diagonal) or full.
    mean : array_like, shape (n,)
        Data mean (a point x: the point itself).
    cov : array_like, shape (n, n)
        Data covariance (a point x: zeros).
    alpha : float
        Order of Li & Turner's divergence, any finite real.
    dps : int, default 50
        Significant decimal digits of the computation, at least 16.

    Returns
    -------
    mpmath.mpf
        The value, carrying ``dps`` digits (``float(...)`` for a double).
    """
    return _run(dps, lambda p: p.vr(alpha), (W, b, sigma2, V, c, D, mean, cov))


# ---- conditioning -------------------------------------------------------------------------------

def error_scale(W, b, sigma2, V, c, D, mean, cov, vr_alphas=(), dps=60):
    r"""The scale of the floating-point error a careful double-precision evaluation may commit.

    For each term :math:`f` of the population objectives this returns :math:`T_f + K_f`:

    * :math:`T_f`, the sum of the absolute values of the additive terms of :math:`f` in its
      closed form (the rounding of the final sums is a few :math:`\epsilon T_f`);
    * :math:`K_f = \sum_p \|p\|_F\,\|\partial f/\partial p\|_F` over the inputs
      :math:`p \in \{W, b, \sigma^2, V, c, D, \mu_D, S\}` (symmetric perturbations of a full
      ``D`` and of ``S``): perturbing every input by a relative normwise amount :math:`\epsilon`
      moves :math:`f` by up to :math:`\approx\epsilon K_f`, which is what a normwise
      backward-stable factorisation (SVD, Cholesky, eigh) of the rounded inputs may cost.

    A test tolerance of a small multiple of :math:`\epsilon_{mach}(T_f + K_f)` is therefore set by
    the problem's conditioning, not by the code under test.  Gradients are forward differences
    at ``dps`` digits with steps :math:`10^{-dps/2}\|p\|_F` (1e-30 of the norm by default: deep
    in the linear regime even for W with singular values 16 orders apart).

    Parameters
    ----------
    W : array_like, shape (n, k)
        Decoder weights.
    b : array_like, shape (n,)
        Decoder offset.
    sigma2 : float
        Decoder noise variance, positive.
    V : array_like, shape (k, n)
        Encoder gain.
    c : array_like, shape (k,)
        Encoder offset.
    D : array_like, shape (k,) or (k, k)
        Encoder covariance, diagonal (its diagonal) or full.
    mean : array_like, shape (n,)
        Data mean (a point x: the point itself).
    cov : array_like, shape (n, n)
        Data covariance (a point x: zeros).
    vr_alphas : sequence of float
        Orders at which to return the scale of the population Renyi divergence
        :math:`E_xD_\alpha(q\|p(z|x))` of :func:`vr_bound` (``vr_bound = log_evidence -
        divergence``); each must give a finite divergence.  Its :math:`T` is taken from the
        cancellation-free form :math:`\tfrac\alpha2\sum_i E\tilde\delta_i^2/(\mu_i(1+ty_i))
        - \tfrac12\sum_i[\log(1+ty_i)/t - \log\mu_i]`, :math:`t = \alpha-1`,
        :math:`y_i = 1 - 1/\mu_i`, :math:`\mu_i` the eigenvalues of :math:`D^{-1}\Sigma_2`.
    dps : int, default 60
        Significant decimal digits of the computation, at least 16.

    Returns
    -------
    dict of mpf
        ``"distortion"``, ``"rate"``, ``"log_evidence"``, ``"renyi"`` (the input-dependent part
        :math:`\tfrac12\log\det D - \tfrac12\log\det(\sigma^2M^{-1})` of :func:`renyi_term`)
        and ``("divergence", alpha)`` for each ``alpha`` in ``vr_alphas``.  Scales of sums add
        (triangle inequality): the RELBO's is ``s["distortion"] + s["rate"] + |1-alpha|/alpha *
        (s["renyi"] + k/2 * (1 + ell(alpha)))``.
    """
    dps = _check_dps(dps)
    with mpmath.workdps(dps):
        base = _pop(W, b, sigma2, V, c, D, mean, cov)
        diag = not isinstance(D, mpmath.matrix) and np.ndim(D) == 1
        names = ["W", "b", "s2", "V", "c", "D", "mu", "S"]
        n, k = base.n, base.k

        # orders 0 and 1 need no differences: D_0 is identically 0, and D_1 (the KL) is
        # log_evidence - elbo, whose scale is at most the sum of the three scales
        fd_alphas = [a for a in vr_alphas if _mpf(a) not in (0, 1)]

        # the inputs each term depends on: a term a perturbation cannot move keeps its value
        # (its difference would be exactly zero)
        every = set(names)
        depends = {"distortion": every, "rate": {"V", "c", "D", "mu", "S"},
                   "log_evidence": {"W", "s2", "b", "mu", "S"}, "renyi": {"W", "s2", "D"}}

        def terms(p, moved=None):
            out = {}
            if moved is None or moved in depends["distortion"]:
                out["distortion"] = p.dist()
            if moved is None or moved in depends["rate"]:
                out["rate"] = p.rate()
            if moved is None or moved in depends["log_evidence"]:
                out["log_evidence"] = p.loglik()
            if moved is None or moved in depends["renyi"]:
                out["renyi"] = (p.logdet_D - p.log_post_ratio) / 2
            for a in fd_alphas:
                out[("divergence", a)] = p.renyi_div(a)
            return out

        f0 = terms(base)
        for a in vr_alphas:
            if not mpmath.isfinite(base.renyi_div(a)):
                raise ValueError(f"the Renyi divergence of order {a!r} is infinite here")

        # T: magnitudes of the additive terms of each closed form
        log2pi = mpmath.log(2 * mpmath.pi)
        half_n_log = n * abs(mpmath.log(2 * mpmath.pi * base.s2)) / 2
        trD = _tr(base.D)
        logdetC = _logdet(base.C)
        scale = {
            "distortion": half_n_log + abs(f0["distortion"] - n * mpmath.log(
                2 * mpmath.pi * base.s2) / 2),
            "rate": (abs(trD) + k + abs(base.logdet_D)
                     + abs(2 * f0["rate"] - trD + k + base.logdet_D)) / 2,
            "log_evidence": (n * log2pi + abs(logdetC)
                             + abs(-2 * f0["log_evidence"] - n * log2pi - logdetC)) / 2,
            "renyi": (abs(base.logdet_D) + abs(base.log_post_ratio)) / 2,
        }
        for a in vr_alphas:
            scale[("divergence", a)] = base.divergence_magnitude(a)

        # K: forward-difference gradients, one input entry at a time
        h_rel = mpmath.mpf(10) ** (-(dps // 2))
        for name in names:
            value = getattr(base, name)
            if isinstance(value, mpmath.matrix):
                sym = name == "S" or (name == "D" and not diag)
                entries = [(i, j) for i in range(value.rows) for j in range(value.cols)
                           if (i == j if (name == "D" and diag) else (not sym or j >= i))]
                norm = mpmath.sqrt(mpmath.fsum(value[i, j] ** 2 for i in range(value.rows)
                                               for j in range(value.cols)))
            else:
                sym, entries, norm = False, [None], abs(value)
            if norm == 0:
                continue
            h = h_rel * norm
            grad2 = {key: mpmath.mpf(0) for key in f0}
            for ij in entries:
                if ij is None:
                    new = value + h
                else:
                    new = value.copy()
                    i, j = ij
                    new[i, j] += h
                    if sym and i != j:
                        new[j, i] += h
                f1 = terms(base.perturbed(name, new), moved=name)
                # the symmetric direction E_ij + E_ji has norm sqrt(2)
                weight = 2 if (sym and ij[0] != ij[1]) else 1
                for key in f1:
                    g = (f1[key] - f0[key]) / h
                    grad2[key] += g * g / weight
            for key in f0:
                scale[key] += norm * mpmath.sqrt(grad2[key])
        for a in vr_alphas:
            if _mpf(a) == 1:
                scale[("divergence", a)] += (scale["log_evidence"] + scale["distortion"]
                                             + scale["rate"])
        return scale
