r"""Gradient ascent on the population objectives, and basins of attraction.

Two ways to pose the ascent, both in the eigenbasis of the data covariance (data mean 0):

* **profiled** (the default): the encoder sits at its closed-form optimum for the decoder and the
  decoder bias at the data mean, so the objective is a function :math:`F(W, \sigma^2)` (Lucas et
  al. 2019; the profile of ``docs/derivations.md``).  Value and gradient come from
  :func:`gaussrelbo.optima.profiled_value_grad`, batched over the starts;
* **full**: every parameter :math:`(W, b, \sigma^2, V, c, D)` moves (for the log-likelihood only
  the decoder); the value from :mod:`gaussrelbo.objectives` on one batched model of all starts
  per evaluation, the gradient in closed form beside it (:mod:`gaussrelbo._gradients`).

Both objectives have the same stationary points in W and :math:`\sigma^2` with the same values
(the encoder's optimum is unique), so a run is labelled by the stationary point of
:func:`gaussrelbo.optima.stationary_points` whose value it reached.

The **batched** method advances all starts of one parameter value together: one vectorised
value-and-gradient evaluation per iteration for every start still running, a limited-memory BFGS
direction per start (two-loop recursion over a ring of the last ``m`` steps, vectorised) and a
backtracking Armijo line search with quadratic interpolation, again vectorised over the starts.
The **per-start** method runs scipy's L-BFGS-B on each start in turn; it is the reference the
batched method is tested against.
"""

import sys
from dataclasses import dataclass, field

import numpy as np

from ._gradients import FullProblem
from ._threads import blas_limit, check_blas_threads
from ._validation import as_float_array, check_alpha, check_beta, check_positive

__all__ = ["BasinMap", "FitResult", "basin_map", "fit_population"]

_OBJECTIVES = ("loglik", "elbo", "relbo", "beta_elbo")
_MODES = ("profiled", "full")
_METHODS = ("batched", "per_start")
_MEMORY = 30                        # L-BFGS memory (scipy's maxcor in the per-start runs too)
_FTOL = 1e-15                       # relative decrease below which a run has stalled
_ARMIJO = 1e-4
_MAX_BACKTRACK = 60
_STATUS = {1: "gtol", 2: "ftol", 3: "line_search", 4: "maxiter"}


# ---- validation ---------------------------------------------------------------------------------

def _check_spectrum(lam):
    lam = as_float_array(lam, "lam")
    if lam.ndim != 1 or lam.size == 0 or np.any(lam < 0):
        raise ValueError(f"`lam` must be a non-empty 1-D array of non-negative eigenvalues, got "
                         f"{lam!r}")
    return lam


def _check_objective(objective, alpha, beta):
    if not isinstance(objective, str) or objective not in _OBJECTIVES:
        raise ValueError(f"`objective` must be one of {_OBJECTIVES}, got {objective!r}")
    if objective == "relbo":
        return _float(check_alpha(1.0 if alpha is None else alpha), "alpha"), 1.0
    if objective == "beta_elbo":
        return 1.0, _float(check_beta(1.0 if beta is None else beta), "beta")
    return 1.0, 1.0


def _float(x, name):
    if np.ndim(x) != 0:
        raise ValueError(f"`{name}` must be a scalar, got an array of shape {np.shape(x)}")
    return float(x)


def _check_k(k, n):
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= n:
        raise ValueError(f"`k` must be an integer in [1, n={n}], got {k!r}")
    return int(k)


def _check_count(x, name):
    if isinstance(x, bool) or not isinstance(x, (int, np.integer)) or x < 1:
        raise ValueError(f"`{name}` must be a positive integer, got {x!r}")
    return int(x)


def _check_tol(x, name):
    ok = not isinstance(x, bool) and isinstance(x, (int, float, np.integer, np.floating))
    if not ok or not np.isfinite(x) or x <= 0:
        raise ValueError(f"`{name}` must be a positive finite number, got {x!r}")
    return float(x)


def _check_choice(x, name, choices):
    if not isinstance(x, str) or x not in choices:
        raise ValueError(f"`{name}` must be one of {choices}, got {x!r}")
    return x


def _check_reading(reading, objective, mode):
    from .readings import _check_reading as check

    check(reading, objective)
    if reading == "cross_entropy" and mode != "profiled":
        raise ValueError("`mode` must be 'profiled' for reading='cross_entropy' (the full "
                         f"parameter ascent is not implemented for it), got {mode!r}")
    return reading


def _check_random_state(x):
    ok = x is None or isinstance(x, (np.random.Generator, np.random.SeedSequence)) or (
        isinstance(x, (int, np.integer)) and not isinstance(x, bool) and x >= 0)
    if not ok:
        raise ValueError(f"`random_state` must be None, a non-negative integer, a numpy "
                         f"Generator or SeedSequence, got {x!r}")
    return x


def _seed_sequence(random_state):
    if isinstance(random_state, np.random.SeedSequence):
        return random_state
    if isinstance(random_state, np.random.Generator):
        return np.random.SeedSequence(int(random_state.integers(2**63)))
    return np.random.SeedSequence(random_state)


def _check_params(params, name):
    try:
        values = [p for p in params] if not isinstance(params, (str, bytes)) else None
    except TypeError:
        values = None
    if not values:
        raise ValueError(f"`params` must be a non-empty sequence of {name} values, got "
                         f"{params!r}")
    check = check_alpha if name == "alpha" else check_beta
    return [_float(check(p, name), name) for p in values]


# ---- starts --------------------------------------------------------------------------------------

def _draw(lam, k, sigma2, full, rng):
    """One random start: W, b, sigma2, V, c, D (D a matrix for a full encoder)."""
    n = lam.size
    scale = np.sqrt(max(lam.mean(), 1e-12))
    W = rng.normal(size=(n, k)) * scale / np.sqrt(k)
    b = rng.normal(size=n) * 0.1 * scale
    s2 = sigma2 if sigma2 is not None else lam.mean() * rng.uniform(0.5, 1.5)
    V = rng.normal(size=(k, n)) * 0.1 / scale
    c = np.zeros(k)
    D = rng.uniform(0.3, 1.0, size=k)
    return W, b, s2, V, c, (np.diag(D) if full else D)


class _Profiled:
    """The profiled objective F(W, sigma2) over packed vectors [vec W, log sigma2 (learned)]."""

    def __init__(self, lam, k, objective, alpha, beta, sigma2, encoder):
        self.lam, self.n, self.k = lam, lam.size, k
        self.kw = {"objective": objective, "encoder": encoder,
                   "alpha": alpha if objective == "relbo" else None,
                   "beta": beta if objective == "beta_elbo" else None}
        self.fixed_s2 = sigma2
        self.size = lam.size * k + (sigma2 is None)

    def pack(self, W, s2):
        B = W.shape[0]
        x = np.empty((B, self.size))
        x[:, : self.n * self.k] = W.reshape(B, -1)
        if self.fixed_s2 is None:
            x[:, -1] = np.log(s2)
        return x

    def unpack(self, x):
        B = x.shape[0]
        W = x[:, : self.n * self.k].reshape(B, self.n, self.k)
        s2 = np.exp(x[:, -1]) if self.fixed_s2 is None else np.full(B, float(self.fixed_s2))
        return W, s2

    def value_grad(self, x):
        from .optima import profiled_value_grad

        W, s2 = self.unpack(x)
        ok = (s2 > 0) & np.isfinite(s2) & np.all(np.isfinite(x), axis=1)
        if not np.all(ok):            # a trial step left the domain (sigma2 under/overflow)
            f = np.full(x.shape[0], -np.inf)
            g = np.full_like(x, np.nan)
            if np.any(ok):
                f[ok], g[ok] = self.value_grad(x[ok])
            return f, g
        f, gW, gs = profiled_value_grad(W, s2, self.lam, **self.kw)
        g = np.empty_like(x)
        g[:, : self.n * self.k] = gW.reshape(x.shape[0], -1)
        if self.fixed_s2 is None:
            g[:, -1] = gs * s2
        return f, g


class _ProfiledCrossEntropy(_Profiled):
    """The profiled data-level cross-entropy reading, F(W, sigma2) over the same packing."""

    def __init__(self, lam, k, alpha, sigma2):
        super().__init__(lam, k, "relbo", alpha, 1.0, sigma2, "diagonal")
        self.alpha = alpha

    def value_grad(self, x):
        from .readings import _ce_value_grad

        W, s2 = self.unpack(x)
        ok = (s2 > 0) & np.isfinite(s2) & np.all(np.isfinite(x), axis=1)
        f = np.full(x.shape[0], -np.inf)
        g = np.full_like(x, np.nan)
        if np.any(ok):
            fo, gW, gs = _ce_value_grad(W[ok], s2[ok], self.lam, self.alpha)
            f[ok] = fo
            g[ok, : self.n * self.k] = gW.reshape(fo.shape[0], -1)
            if self.fixed_s2 is None:
                g[ok, -1] = gs * s2[ok]
        return f, g


class _EscortFull(FullProblem):
    """Every parameter of the escort reading: RELBO^E(V, c, D) = RELBO(V, c, D / alpha), so the
    pointwise value and gradient at the escort's covariance, chained through D -> D / alpha."""

    def _shift(self, x):
        x = np.array(x, float)
        s = self.slices["D"]
        if self.full:        # packed Cholesky factor: log-diagonal, off-diagonal entries
            t = x[:, s]
            off = np.ones(t.shape[1], bool)
            off[self.diag_in_tril] = False
            t[:, self.diag_in_tril] -= 0.5 * np.log(self.alpha)
            t[:, off] /= np.sqrt(self.alpha)
            x[:, s] = t
        else:                # log D
            x[:, s] -= np.log(self.alpha)
        return x

    def value_grad(self, x):
        f, g = super().value_grad(self._shift(x))
        if self.full:
            s = self.slices["D"]
            off = np.ones(s.stop - s.start, bool)
            off[self.diag_in_tril] = False
            g[:, np.arange(s.start, s.stop)[off]] /= np.sqrt(self.alpha)
        return f, g


def _problem(mode, lam, k, objective, alpha, beta, sigma2, encoder, reading="pointwise"):
    if reading == "cross_entropy":
        return _ProfiledCrossEntropy(lam, k, alpha, sigma2)
    if reading == "escort" and mode == "full":
        return _EscortFull(lam, k, objective, alpha, beta, sigma2, encoder)
    cls = _Profiled if mode == "profiled" else FullProblem
    return cls(lam, k, objective, alpha, beta, sigma2, encoder)


def _starts(problem, mode, seeds):
    """Packed starting points (B, size), one per seed: the same draws in both modes."""
    full = getattr(problem, "full", False)
    draws = []
    for s in seeds:
        rng = np.random.default_rng(s)
        d = _draw(problem.lam, problem.k, problem.fixed_s2, full, rng)
        if isinstance(problem, _ProfiledCrossEntropy):
            # a start outside the domain C > (1 - alpha) S (alpha < 1) is drawn again from the
            # same stream, up to 100 times
            for _ in range(100):
                f0 = problem.value_grad(problem.pack(d[0][None], np.array([d[2]])))[0]
                if np.isfinite(f0[0]):
                    break
                d = _draw(problem.lam, problem.k, problem.fixed_s2, full, rng)
        draws.append(d)
    W = np.stack([d[0] for d in draws])
    s2 = np.array([d[2] for d in draws], float)
    if mode == "profiled":
        return problem.pack(W, s2)
    return problem.pack(W, np.stack([d[1] for d in draws]), s2, np.stack([d[3] for d in draws]),
                        np.stack([d[4] for d in draws]), np.stack([d[5] for d in draws]))


# ---- optimisers ----------------------------------------------------------------------------------

def _dot(a, b):
    return np.einsum("bd,bd->b", a, b)


def _lbfgs_batched(fun, x0, maxiter, gtol, memory=_MEMORY):
    """Minimise ``fun`` (rows of x -> (f (B,), g (B, d))) from every row of x0 at once.

    Returns x, f, g, n_iter (B,) and a status code (B,) from :data:`_STATUS`: the gradient
    criterion max|g| <= gtol; a relative decrease of f below 1e-15 (converged to working
    precision); no step satisfying the Armijo condition; the iteration cap.

    The state of the runs still going (points, gradients, the ring of the last ``memory``
    steps) is kept compact: finished runs are written out and dropped, so every operation is
    on contiguous arrays.
    """
    x_out = np.array(x0, float)
    B, d = x_out.shape
    f_out, g_out = fun(x_out)
    n_iter = np.zeros(B, int)
    status = np.where(np.max(np.abs(g_out), axis=1) <= gtol, 1, 4)
    live = np.flatnonzero(status == 4)                    # original indices of running starts
    x, f, g = x_out[live], f_out[live], g_out[live]
    S = np.zeros((memory, live.size, d))                  # ring of steps s and gradient changes y
    Y = np.zeros((memory, live.size, d))
    rho = np.zeros((memory, live.size))                   # 1/(s.y); 0 = empty or skipped slot
    gamma = np.ones(live.size)
    for it in range(maxiter):
        if live.size == 0:
            break
        # two-loop recursion, newest pair first
        order = [(it - 1 - j) % memory for j in range(min(it, memory))]
        q = g.copy()
        a = {}
        for j in order:
            a[j] = rho[j] * _dot(S[j], q)
            q -= a[j][:, None] * Y[j]
        r = gamma[:, None] * q
        for j in reversed(order):
            r += S[j] * (a[j] - rho[j] * _dot(Y[j], r))[:, None]
        p = -r
        gp = _dot(g, p)
        bad = ~(gp < 0) | ~np.all(np.isfinite(p), axis=1)
        if np.any(bad):                                   # not a descent direction: restart
            p[bad] = -g[bad]
            gp[bad] = -_dot(g[bad], g[bad])
            rho[:, bad] = 0.0
            gamma[bad] = 1.0
        step = np.ones(live.size)
        fresh = np.all(rho == 0.0, axis=0)                # no curvature pairs yet: scaled step
        step[fresh] = np.minimum(1.0, 1.0 / np.maximum(np.sqrt(-gp[fresh]), 1e-300))
        # backtracking Armijo line search, vectorised over the starts still searching
        xn, fn, gn = x.copy(), f.copy(), g.copy()
        pending = np.ones(live.size, bool)
        for _ in range(_MAX_BACKTRACK):
            pi = np.flatnonzero(pending)
            if pi.size == 0:
                break
            xt = x[pi] + step[pi, None] * p[pi]
            with np.errstate(all="ignore"):
                ft, gt = fun(xt)
            ok = np.isfinite(ft) & np.all(np.isfinite(gt), axis=1) & (
                ft <= f[pi] + _ARMIJO * step[pi] * gp[pi])
            acc = pi[ok]
            xn[acc], fn[acc], gn[acc] = xt[ok], ft[ok], gt[ok]
            pending[acc] = False
            rej = pi[~ok]
            if rej.size:
                # minimiser of the quadratic through f(0), f'(0), f(t); kept in [t/10, t/2]
                t, ftr = step[rej], ft[~ok]
                denom = 2.0 * (ftr - f[rej] - gp[rej] * t)
                with np.errstate(all="ignore"):
                    tq = -gp[rej] * t * t / denom
                tq = np.where(np.isfinite(tq) & (denom > 0), tq, 0.5 * t)
                step[rej] = np.clip(tq, 0.1 * t, 0.5 * t)
        moved = ~pending
        n_iter[live[moved]] += 1
        sv = xn - x
        yv = gn - g
        sy = _dot(sv, yv)
        yy = _dot(yv, yv)
        good = moved & (sy > 1e-12 * np.sqrt(yy * _dot(sv, sv)))
        slot = it % memory
        S[slot] = np.where(good[:, None], sv, 0.0)
        Y[slot] = np.where(good[:, None], yv, 0.0)
        rho[slot] = np.where(good, 1.0 / np.where(good, sy, 1.0), 0.0)
        gamma[good] = sy[good] / yy[good]
        decrease = f - fn
        x, f, g = xn, fn, gn
        code = np.zeros(live.size, int)
        code[decrease <= _FTOL * np.maximum(np.maximum(np.abs(f + decrease), np.abs(f)), 1.0)] = 2
        code[~moved] = 3
        code[np.max(np.abs(g), axis=1) <= gtol] = 1
        stop = code > 0
        if np.any(stop):                                  # write out and drop finished runs
            done = live[stop]
            x_out[done], f_out[done], g_out[done] = x[stop], f[stop], g[stop]
            status[done] = code[stop]
            keep = ~stop
            live, x, f, g = live[keep], x[keep], f[keep], g[keep]
            S, Y, rho, gamma = S[:, keep], Y[:, keep], rho[:, keep], gamma[keep]
    x_out[live], f_out[live], g_out[live] = x, f, g       # runs stopped by the iteration cap
    return x_out, f_out, g_out, n_iter, status


def _lbfgs_scipy(fun, x0, maxiter, gtol):
    """scipy's L-BFGS-B on one start (a row vector); the per-start reference."""
    from scipy.optimize import minimize

    def neg(v):
        f, g = fun(v[None, :])
        return f[0], g[0]

    res = minimize(neg, x0, jac=True, method="L-BFGS-B",
                   options={"maxiter": maxiter, "maxfun": 4 * maxiter, "gtol": gtol,
                            "ftol": _FTOL, "maxcor": _MEMORY})
    f, g = fun(res.x[None, :])
    code = {0: 2, 1: 4}.get(res.status, 3)
    if np.max(np.abs(g[0])) <= gtol:
        code = 1
    return res.x, f[0], g[0], int(res.nit), code


def _ascend(problem, x0, method, maxiter, gtol):
    """Maximise the problem's objective from every row of x0: (x, value, grad, n_iter, status)."""

    def neg(x):
        f, g = problem.value_grad(x)
        return -f, -g

    if method == "batched":
        x, f, g, n_iter, status = _lbfgs_batched(neg, x0, maxiter, gtol)
        return x, -f, g, n_iter, status
    out = [_lbfgs_scipy(neg, row, maxiter, gtol) for row in x0]
    x = np.stack([o[0] for o in out])
    g = np.stack([o[2] for o in out])
    return (x, -np.array([o[1] for o in out]), g, np.array([o[3] for o in out]),
            np.array([o[4] for o in out]))


# ---- one run ------------------------------------------------------------------------------------

@dataclass
class FitResult:
    """One gradient-ascent run: final parameters (eigenbasis), value, convergence."""

    W: np.ndarray
    b: np.ndarray
    sigma2: float
    V: np.ndarray
    c: np.ndarray
    D: np.ndarray
    value: float
    grad_norm: float
    n_iter: int
    success: bool


def fit_population(lam, k, objective="relbo", alpha=None, beta=None, sigma2=None,
                   encoder="diagonal", random_state=None, x0=None, maxiter=20000, gtol=1e-10):
    r"""Maximise a population objective over all parameters by L-BFGS from a random start.

    Parameters
    ----------
    lam : array_like, shape (n,)
        Data covariance eigenvalues (the problem is posed in their eigenbasis, data mean 0).
    k : int
        Latent dimension.
    objective : {'relbo', 'elbo', 'loglik', 'beta_elbo'}, default 'relbo'
    alpha, beta : float, optional
        Renyi order (``'relbo'``) or rate weight (``'beta_elbo'``), default 1.
    sigma2 : float or None
        Fixed decoder noise, or ``None`` to learn it.
    encoder : {'diagonal', 'full'}, default 'diagonal'
    random_state : None, int, numpy Generator or SeedSequence
        Seed of the random initialisation.
    x0 : ndarray, optional
        Packed starting point (advanced use).
    maxiter : int, default 20000
        Iteration cap of L-BFGS-B.
    gtol : float, default 1e-10
        Convergence when the largest gradient entry (packed parameters) is at most this.

    Returns
    -------
    FitResult
        ``success`` is True when the gradient criterion was met or the objective stopped
        decreasing at working precision (relative change below 1e-15).

    Examples
    --------
    >>> import numpy as np, gaussrelbo as gr
    >>> lam = np.array([5.0, 4.0, 3.0, 2.0, 1.2, 0.5])
    >>> r = gr.fit_population(lam, 3, "relbo", alpha=0.5, sigma2=0.8, random_state=0)
    >>> ml = -0.5 * (6 * np.log(2 * np.pi) + np.log(lam[:3]).sum() + 3 + 3 * np.log(0.8)
    ...              + lam[3:].sum() / 0.8)        # pPCA at fixed sigma2 (Tipping & Bishop 1999)
    >>> bool(abs(r.value - ml) < 1e-8)
    True
    """
    lam = _check_spectrum(lam)
    k = _check_k(k, lam.size)
    alpha, beta = _check_objective(objective, alpha, beta)
    if sigma2 is not None:
        sigma2 = _float(check_positive(sigma2, "sigma2"), "sigma2")
    _check_choice(encoder, "encoder", ("diagonal", "full"))
    _check_random_state(random_state)
    maxiter = _check_count(maxiter, "maxiter")
    gtol = _check_tol(gtol, "gtol")
    problem = FullProblem(lam, k, objective, alpha, beta, sigma2, encoder)
    if x0 is None:
        x0 = _starts(problem, "full", [_seed_sequence(random_state)])[0]
    x, f, g, nit, code = _lbfgs_scipy(lambda v: tuple(-a for a in problem.value_grad(v)),
                                np.asarray(x0, float), maxiter, gtol)
    p = problem.unpack(x[None, :])
    grad_norm = float(np.max(np.abs(g)))
    return FitResult(W=p["W"][0], b=p["b"][0], sigma2=float(p["s2"][0]),
                     V=p["V"][0] if "V" in p else np.zeros((k, lam.size)),
                     c=p["c"][0] if "c" in p else np.zeros(k),
                     D=p["D"][0] if "D" in p else np.ones(k), value=float(-f),
                     grad_norm=grad_norm, n_iter=nit, success=code in (1, 2))


# ---- basin maps ---------------------------------------------------------------------------------

def _support(W, tol=1e-5):
    """Eigen-directions carried by W: rows whose energy exceeds tol times the largest."""
    energy = np.sum(W * W, axis=1)
    if energy.max() <= 0:
        return ()
    return tuple(int(j) for j in np.flatnonzero(energy > tol * energy.max()))


def _label(pt):
    kind = "" if pt.orthogonal else " non-orthogonal"
    return f"subset={tuple(int(j) for j in pt.subset)}{kind} {pt.kind}"


def _match(value, W, points, vtol):
    """The stationary point a run reached: value within vtol (relative), support preferred."""
    support = _support(W)
    best = None
    for pt in points:
        if abs(pt.value - value) <= vtol * (1.0 + abs(pt.value)):
            used = tuple(sorted(int(j) for j in pt.subset))
            if used == support or best is None:
                best = pt
                if used == support:
                    break
    return best


def _ce_points(lam, k, alpha, sigma2):
    """Matcher for the cross-entropy reading: the orthogonal stationary point of a support J
    (columns on the eigen-directions J with model variance (2 - alpha) lam_j, sigma2 elsewhere;
    a learned sigma2 solves the discarded-direction equation), labelled 'maximum' when it is the
    reading's global maximum and 'saddle' otherwise."""
    from .readings import _f_ce, _sigma2_ce, reading_global_maximum

    best = reading_global_maximum(lam, k, alpha, "cross_entropy", sigma2)

    def point(J):
        if len(J) > k:
            return None
        rest = np.setdiff1d(np.arange(lam.size), J)
        s2 = sigma2 if sigma2 is not None else _sigma2_ce(lam[rest], alpha)
        if s2 is None or np.any((2.0 - alpha) * lam[list(J)] <= s2):
            return None
        cvar = np.full(lam.size, float(s2))
        cvar[list(J)] = (2.0 - alpha) * lam[list(J)]
        value = float(np.sum(_f_ce(lam, cvar, alpha)))
        top = tuple(J) == best.subset and abs(value - best.value) <= 1e-9 * (1 + abs(best.value))
        return value, "maximum" if top else "saddle"

    return point


def _match_ce(value, W, point, vtol):
    J = _support(W)
    found = point(J)
    if found is None or not abs(found[0] - value) <= vtol * (1.0 + abs(found[0])):
        return None
    return f"subset={J} {found[1]}", found[1]


@dataclass
class BasinMap:
    """Which stationary point each of ``n_runs`` random starts reached, for each parameter.

    ``counts[i]`` maps a label ``"subset=(0, 1, 2) maximum"`` (or ``"unmatched"``) to the
    number of runs at ``params[i]``; ``fractions`` the same divided by ``n_runs``.
    ``runs[i]`` lists one record per run: ``value``, ``support``, ``label``, ``grad_norm``,
    ``sigma2``, ``n_iter``, ``status`` (why it stopped: ``'gtol'`` gradient criterion,
    ``'ftol'`` no decrease left at working precision, ``'line_search'`` no acceptable step,
    ``'maxiter'``), ``converged`` (``'gtol'`` or ``'ftol'``) and ``near_saddle`` (the run ended
    at, or stalled next to, a saddle of the atlas: matched to a point of kind ``'saddle'``).
    """

    objective: str
    parameter: str
    params: list
    n_runs: int
    counts: list = field(default_factory=list)
    runs: list = field(default_factory=list)
    mode: str = "profiled"
    method: str = "batched"
    reading: str = "pointwise"

    @property
    def fractions(self):
        return [{key: v / self.n_runs for key, v in c.items()} for c in self.counts]

    @property
    def n_converged(self):
        """Runs that converged (status ``'gtol'`` or ``'ftol'``), per parameter value."""
        return [sum(r["converged"] for r in runs) for runs in self.runs]

    @property
    def n_near_saddle(self):
        """Runs that ended at or stalled next to a saddle, per parameter value."""
        return [sum(r["near_saddle"] for r in runs) for runs in self.runs]

    @property
    def iterations(self):
        """(min, median, max) of the iteration counts, per parameter value."""
        out = []
        for runs in self.runs:
            it = np.array([r["n_iter"] for r in runs])
            out.append((int(it.min()), float(np.median(it)), int(it.max())))
        return out


def _basin_runs(lam, k, objective, param, name, sigma2, encoder, seeds, vtol, mode, method,
                maxiter, gtol, x0=None, reading="pointwise"):
    """Counts and run records for one parameter value (the unit of work of a basin map).

    ``x0`` (packed starts, B rows) replaces the seeded starts when given (tests)."""
    from .optima import stationary_points

    kw = {name: param} if name != "none" else {}
    alpha, beta = _check_objective(objective, kw.get("alpha"), kw.get("beta"))
    problem = _problem(mode, lam, k, objective, alpha, beta, sigma2, encoder, reading)
    x0 = _starts(problem, mode, seeds) if x0 is None else x0
    x, value, g, n_iter, status = _ascend(problem, x0, method, maxiter, gtol)
    if mode == "profiled":
        W, s2 = problem.unpack(x)
    else:
        p = problem.unpack(x)
        W, s2 = p["W"], p["s2"]
    if reading == "cross_entropy":
        point = _ce_points(lam, k, alpha, sigma2)
        counts, runs = {}, []
        for i in range(x.shape[0]):
            found = _match_ce(value[i], W[i], point, vtol)
            label = "unmatched" if found is None else found[0]
            if not np.isfinite(value[i]):
                label = "infeasible start"
            counts[label] = counts.get(label, 0) + 1
            runs.append(_record(value[i], W[i], label, g[i], s2[i], n_iter[i], status[i],
                                found is not None and found[1] == "saddle"))
        return dict(sorted(counts.items())), runs
    # The orthogonal points first (closed forms, cheap); the non-orthogonal family (built and
    # classified by finite differences, costly) only when a run is left without a point of its
    # own support among them.
    atlas = {"sigma2": sigma2, "encoder": encoder, "max_points": 2000, **kw}
    pts = stationary_points(lam, k, objective, nonorthogonal=False, **atlas).points
    found = [_match(value[i], W[i], pts, vtol) for i in range(x.shape[0])]
    if any(pt is None or tuple(sorted(pt.subset)) != _support(W[i])
           for i, pt in enumerate(found)):
        pts = stationary_points(lam, k, objective, **atlas).points
        found = [_match(value[i], W[i], pts, vtol) for i in range(x.shape[0])]
    counts, runs = {}, []
    for i, pt in enumerate(found):
        label = "unmatched" if pt is None else _label(pt)
        counts[label] = counts.get(label, 0) + 1
        runs.append(_record(value[i], W[i], label, g[i], s2[i], n_iter[i], status[i],
                            pt is not None and pt.kind == "saddle"))
    return dict(sorted(counts.items())), runs


def _record(value, W, label, g, s2, n_iter, status, near_saddle):
    return {"value": float(value), "support": _support(W), "label": label,
            "grad_norm": float(np.max(np.abs(g))), "sigma2": float(s2),
            "n_iter": int(n_iter), "status": _STATUS[int(status)],
            "converged": bool(status in (1, 2)), "near_saddle": bool(near_saddle)}


def basin_map(lam, k, objective="relbo", params=(1.0,), n_runs=50, sigma2=None,
              encoder="diagonal", random_state=0, progress=False, vtol=1e-6, n_jobs=1, *,
              mode="profiled", method="batched", maxiter=20000, gtol=1e-10, blas_threads=None,
              reading="pointwise"):
    r"""Basins of attraction of gradient ascent, as fractions of random starts per parameter.

    Each start is advanced to convergence and labelled by the stationary point
    (:func:`gaussrelbo.optima.stationary_points`) it reached.

    Parameters
    ----------
    lam : array_like, shape (n,)
        Data covariance eigenvalues, descending (the problem is posed in their eigenbasis).
    k : int
        Latent dimension.
    objective : {'relbo', 'elbo', 'loglik', 'beta_elbo'}, default 'relbo'
    params : sequence of float, default (1.0,)
        Values of alpha (``'relbo'``) or beta (``'beta_elbo'``); ignored otherwise (one entry).
    n_runs : int, default 50
        Random starts per parameter value (seeded from ``random_state``: reproducible, and the
        same starts for both methods).
    sigma2 : float or None
        Fixed decoder noise, or ``None`` to learn it.
    encoder : {'diagonal', 'full'}, default 'diagonal'
    random_state : None, int, numpy Generator or SeedSequence, default 0
    progress : bool, default False
        Print a progress line to stderr.
    vtol : float, default 1e-6
        Relative value tolerance for matching a run to a stationary point; the run's support
        (eigen-directions its W uses) must equal the point's subset when several match.
    n_jobs : int, default 1
        Parameter values computed in parallel worker processes (dask's process scheduler; needs
        the ``sweep`` extra).  The result does not depend on it.
    mode : {'profiled', 'full'}, default 'profiled'
        Ascent on :math:`(W, \sigma^2)` with the encoder at its closed-form optimum, or on every
        parameter of the model.
    method : {'batched', 'per_start'}, default 'batched'
        All starts advanced together (vectorised L-BFGS), or scipy's L-BFGS-B one start at a
        time (the reference).
    maxiter : int, default 20000
        Iteration cap per start.
    gtol : float, default 1e-10
        A run has converged when its largest gradient entry is at most ``gtol``, or when the
        objective stops decreasing at working precision (relative change below 1e-15).
    blas_threads : int, 'all' or None
        BLAS thread limit during the computation; ``None`` reads the environment variable
        ``GAUSSRELBO_BLAS_THREADS`` and defaults to 1 (see ``docs/performance.md``).
    reading : {'pointwise', 'escort', 'cross_entropy'}, default 'pointwise'
        Reading of the Renyi VAE (``objective='relbo'`` only; docs page "Readings of the Renyi
        VAE").  ``"escort"``: in profiled mode the same landscape as ``"pointwise"`` (the
        optimal encoders give the same value for every decoder), in full mode the escort
        objective :math:`\mathrm{RELBO}(V, c, D/\alpha)` over every parameter.
        ``"cross_entropy"`` (0 < alpha < 2; profiled mode only): the decoder landscape of the
        data-level cross-entropy, value and gradient from
        :func:`gaussrelbo.readings.reading_profiled_value_grad`; a start outside its domain
        :math:`C \succ (1-\alpha)S` is drawn again, up to 100 times, and is otherwise
        labelled ``"infeasible start"`` (with a fixed sigma2 and alpha < 1 the directions
        outside the range of W keep variance sigma2, so most isotropic starts can be outside
        the domain).  A run is labelled by the orthogonal
        stationary point of its support (model variance :math:`(2-\alpha)\lambda_j` on it):
        ``maximum`` for the reading's global maximum
        (:func:`gaussrelbo.readings.reading_global_maximum`), ``saddle`` for another support;
        the non-orthogonal (cluster) stationary points of this reading are not enumerated, so
        a run stopped at one is ``"unmatched"``.

    Returns
    -------
    BasinMap

    Examples
    --------
    >>> import gaussrelbo as gr
    >>> bm = gr.basin_map([5.0, 4.0, 3.0, 2.0, 1.2, 0.5], 3, "relbo", params=(0.3,), n_runs=8,
    ...                   sigma2=0.8)
    >>> bm.counts, bm.n_converged, bm.n_near_saddle
    ([{'subset=(0, 1, 2) maximum': 8}], [8], [0])
    """
    lam = _check_spectrum(lam)
    k = _check_k(k, lam.size)
    if not isinstance(objective, str) or objective not in _OBJECTIVES:
        raise ValueError(f"`objective` must be one of {_OBJECTIVES}, got {objective!r}")
    reading = _check_reading(reading, objective, mode)
    n_runs = _check_count(n_runs, "n_runs")
    n_jobs = _check_count(n_jobs, "n_jobs")
    maxiter = _check_count(maxiter, "maxiter")
    gtol = _check_tol(gtol, "gtol")
    vtol = _check_tol(vtol, "vtol")
    mode = _check_choice(mode, "mode", _MODES)
    method = _check_choice(method, "method", _METHODS)
    _check_choice(encoder, "encoder", ("diagonal", "full"))
    if sigma2 is not None:
        sigma2 = _float(check_positive(sigma2, "sigma2"), "sigma2")
    _check_random_state(random_state)
    limit = check_blas_threads(blas_threads)
    name = {"relbo": "alpha", "beta_elbo": "beta"}.get(objective, "none")
    params = _check_params(params, name) if name != "none" else [None]
    if reading == "cross_entropy":
        from .readings import _alpha_ce, _check_ce_feasible

        lam_desc = np.sort(lam)[::-1]
        for a in params:
            _alpha_ce(a)
            if sigma2 is not None:
                _check_ce_feasible(lam_desc, k, a, sigma2)
    out = BasinMap(objective, name, params, n_runs, mode=mode, method=method, reading=reading)
    seeds = _seed_sequence(random_state).spawn(len(params))
    jobs = [(lam, k, objective, param, name, sigma2, encoder, seed.spawn(n_runs), vtol, mode,
             method, maxiter, gtol, None, reading) for param, seed in zip(params, seeds)]
    with blas_limit(limit):
        if n_jobs > 1 and len(jobs) > 1:
            import dask

            tasks = [dask.delayed(_basin_runs)(*job) for job in jobs]
            results = dask.compute(*tasks, scheduler="processes", num_workers=n_jobs)
        else:
            results = []
            for i, job in enumerate(jobs):
                results.append(_basin_runs(*job))
                if progress:
                    print(f"\rbasins: {i + 1}/{len(jobs)} parameter values "
                          f"({(i + 1) * n_runs} runs)", end="", file=sys.stderr, flush=True)
            if progress:
                print(file=sys.stderr)
    for counts, runs in results:
        out.counts.append(counts)
        out.runs.append(runs)
    return out
