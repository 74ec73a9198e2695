r"""Gradient ascent on the full population objectives, and basins of attraction (DESIGN §12).

The optimiser works on every parameter of the model, :math:`(W, b, \sigma^2, V, c, D)` (for the
log-likelihood only the decoder), with analytic gradients and scipy's L-BFGS-B.  The data enter
through a spectrum: in the eigenbasis of the data covariance :math:`S = \mathrm{diag}(\lambda)`,
with data mean 0 (b learns the mean; every objective depends on the data only through
:math:`\mu_D - b` and S).  Parametrisation: :math:`\sigma^2 = e^\rho`; a diagonal D as
:math:`e^{\delta}`; a full D as :math:`LL^T` with L lower triangular and :math:`L_{ii} =
e^{\ell_i}`.

Gradients (with :math:`y = Vx + c`, :math:`\bar y = V\mu + c`, :math:`\bar r = \mu - b -
W\bar y`, :math:`Q = E\lVert x-b-Wy\rVert^2 + \mathrm{tr}(WDW^T)`):

.. math::
    \partial_W Q = -2(SV^T + (\mu-b)\bar y^T) + 2W(VSV^T + \bar y\bar y^T + D),\quad
    \partial_b Q = -2\bar r,\quad
    \partial_V Q = -2(W^T - W^TWV)S - 2W^T\bar r\mu^T,\quad \partial_c Q = -2W^T\bar r,

:math:`\partial_V R = VS + \bar y\mu^T`, :math:`\partial_D R = \tfrac12(I - D^{-1})`, and for the
Renyi bracket :math:`B = \tfrac12[\log\det D + k - k\ell(\alpha) - k\log\sigma^2 + \log\det M]`:
:math:`\partial_W B = WM^{-1}`, :math:`\partial_{\sigma^2} B = -k/(2\sigma^2) +
\tfrac12\mathrm{tr}M^{-1}`, :math:`\partial_D B = \tfrac12 D^{-1}`.  They are checked against
finite differences in ``tests/test_basins.py``.
"""

import sys
from dataclasses import dataclass, field

import numpy as np
from scipy.linalg import cho_factor, cho_solve
from scipy.optimize import minimize

from ._numerics import ell, renyi_weight
from ._validation import as_float_array, check_alpha, check_beta, check_positive

__all__ = ["BasinMap", "FitResult", "basin_map", "fit_population"]

_LOG_2PI = np.log(2.0 * np.pi)
_OBJECTIVES = ("loglik", "elbo", "relbo", "beta_elbo")


def _check_spectrum(lam):
    lam = as_float_array(lam, "lam")
    if lam.ndim != 1 or lam.size == 0 or np.any(lam < 0):
        raise ValueError(f"`lam` must be a non-empty 1-D array of non-negative eigenvalues, got "
                         f"{lam!r}")
    return lam


def _check_objective(objective, alpha, beta):
    if objective not in _OBJECTIVES:
        raise ValueError(f"`objective` must be one of {_OBJECTIVES}, got {objective!r}")
    if objective == "relbo":
        return float(check_alpha(1.0 if alpha is None else alpha)), 1.0
    if objective == "beta_elbo":
        return 1.0, float(check_beta(1.0 if beta is None else beta))
    return 1.0, 1.0


class _Problem:
    """Packing, value and gradient of one objective on a spectrum (eigenbasis, data mean 0)."""

    def __init__(self, lam, k, objective, alpha, beta, sigma2, encoder):
        self.lam, self.n, self.k = lam, lam.size, k
        self.objective, self.alpha, self.beta = objective, alpha, beta
        self.fixed_s2 = sigma2
        self.full = encoder == "full"
        self.decoder_only = objective == "loglik"
        n = self.n
        sizes = [("W", n * k), ("b", n)]
        if sigma2 is None:
            sizes.append(("rho", 1))
        if not self.decoder_only:
            sizes += [("V", k * n), ("c", k), ("D", k * (k + 1) // 2 if self.full else k)]
        self.slices, start = {}, 0
        for name, size in sizes:
            self.slices[name] = slice(start, start + size)
            start += size
        self.size = start
        self.tril = np.tril_indices(k)
        self.diag_in_tril = np.flatnonzero(self.tril[0] == self.tril[1])

    # ---- packing ------------------------------------------------------------------------------
    def unpack(self, x):
        n, k, s = self.n, self.k, self.slices
        p = {"W": x[s["W"]].reshape(n, k), "b": x[s["b"]],
             "s2": np.exp(x[s["rho"]][0]) if "rho" in s else self.fixed_s2}
        if not self.decoder_only:
            p["V"] = x[s["V"]].reshape(k, n)
            p["c"] = x[s["c"]]
            if self.full:
                t = x[s["D"]].copy()
                t[self.diag_in_tril] = np.exp(t[self.diag_in_tril])
                L = np.zeros((k, k))
                L[self.tril] = t
                p["L"] = L
                p["D"] = L @ L.T
            else:
                p["D"] = np.exp(x[s["D"]])
        return p

    def pack(self, W, b, s2, V=None, c=None, D=None):
        x = np.empty(self.size)
        s = self.slices
        x[s["W"]] = np.ravel(W)
        x[s["b"]] = b
        if "rho" in s:
            x[s["rho"]] = np.log(s2)
        if not self.decoder_only:
            x[s["V"]] = np.ravel(V)
            x[s["c"]] = c
            if self.full:
                t = np.linalg.cholesky(D)[self.tril]
                t[self.diag_in_tril] = np.log(t[self.diag_in_tril])
                x[s["D"]] = t
            else:
                x[s["D"]] = np.log(D)
        return x

    # ---- value and gradient ---------------------------------------------------------------------
    def value_grad(self, x):
        p = self.unpack(x)
        if self.decoder_only:
            f, g = self._loglik(p)
        else:
            f, g = self._encoder_objective(p)
        out = np.empty(self.size)
        s = self.slices
        out[s["W"]] = g["W"].ravel()
        out[s["b"]] = g["b"]
        if "rho" in s:
            out[s["rho"]] = g["s2"] * p["s2"]
        if not self.decoder_only:
            out[s["V"]] = g["V"].ravel()
            out[s["c"]] = g["c"]
            if self.full:
                GL = 2.0 * (0.5 * (g["D"] + g["D"].T)) @ p["L"]
                t = GL[self.tril]
                t[self.diag_in_tril] *= np.diag(p["L"])
                out[s["D"]] = t
            else:
                out[s["D"]] = g["D"] * p["D"]
        return f, out

    def _loglik(self, p):
        W, b, s2, lam, n, k = p["W"], p["b"], p["s2"], self.lam, self.n, self.k
        M = W.T @ W + s2 * np.eye(k)
        cf = cho_factor(M, lower=True)
        logdet_M = 2.0 * np.sum(np.log(np.diag(cf[0])))
        St = np.diag(lam) + np.outer(b, b)                    # S + (mu - b)(mu - b)^T, mu = 0
        WMi = cho_solve(cf, W.T).T                             # W M^-1 = C^-1 W
        Cinv = (np.eye(n) - WMi @ W.T) / s2
        CS = Cinv @ St
        f = -0.5 * (n * _LOG_2PI + logdet_M + (n - k) * np.log(s2) + np.trace(CS))
        gW = CS @ WMi - WMi                                    # C^-1 S~ C^-1 W - C^-1 W
        gb = -Cinv @ b
        gs2 = 0.5 * (np.sum(CS * Cinv.T) - np.trace(Cinv))
        return f, {"W": gW, "b": gb, "s2": gs2}

    def _encoder_objective(self, p):
        W, b, s2, V, c, D = p["W"], p["b"], p["s2"], p["V"], p["c"], p["D"]
        lam, n, k = self.lam, self.n, self.k
        ybar = c + 0.0                                         # V mu + c with mu = 0
        rbar = -b - W @ ybar
        VS = V * lam                                           # V S
        VSVt = VS @ V.T
        Eyy = VSVt + np.outer(ybar, ybar)
        Exy = VS.T - np.outer(b, ybar)                         # S V^T + (mu - b) ybar^T
        WtW = W.T @ W
        Dm = D if self.full else np.diag(D)
        Q = (lam.sum() + b @ b - 2.0 * np.sum(W * Exy) + np.sum(WtW * (Eyy + Dm)))
        dist = 0.5 * n * (_LOG_2PI + np.log(s2)) + Q / (2.0 * s2)
        if self.full:
            cD = cho_factor(D, lower=True)
            logdet_D = 2.0 * np.sum(np.log(np.diag(cD[0])))
            Dinv = cho_solve(cD, np.eye(k))
            trD = np.trace(D)
        else:
            logdet_D = np.sum(np.log(D))
            Dinv = 1.0 / D
            trD = D.sum()
        rate = 0.5 * (trD + np.trace(VSVt) + ybar @ ybar - k - logdet_D)
        gQ_W = -2.0 * Exy + 2.0 * W @ (Eyy + Dm)
        gQ_b = -2.0 * rbar
        WtR = W.T @ rbar
        gQ_V = -2.0 * (W.T - WtW @ V) * lam                    # ... S, mu = 0
        gQ_c = -2.0 * WtR
        gQ_D = WtW if self.full else np.diag(WtW)
        g_dist = {"W": gQ_W / (2 * s2), "b": gQ_b / (2 * s2), "V": gQ_V / (2 * s2),
                  "c": gQ_c / (2 * s2), "D": gQ_D / (2 * s2),
                  "s2": 0.5 * n / s2 - Q / (2.0 * s2 * s2)}
        g_rate = {"V": VS, "c": ybar,
                  "D": 0.5 * ((np.eye(k) if self.full else 1.0) - Dinv)}
        weight = self.beta if self.objective == "beta_elbo" else 1.0
        f = -dist - weight * rate
        g = {key: -g_dist[key] - weight * g_rate.get(key, 0.0) for key in g_dist}
        if self.objective == "relbo" and self.alpha != 1.0:
            a = self.alpha
            M = WtW + s2 * np.eye(k)
            cM = cho_factor(M, lower=True)
            logdet_M = 2.0 * np.sum(np.log(np.diag(cM[0])))
            Minv = cho_solve(cM, np.eye(k))
            B = 0.5 * (logdet_D + k - k * ell(a) - k * np.log(s2) + logdet_M)
            wgt = renyi_weight(a)
            f = f + wgt * B
            g["W"] = g["W"] + wgt * (W @ Minv)
            g["s2"] = g["s2"] + wgt * (-0.5 * k / s2 + 0.5 * np.trace(Minv))
            g["D"] = g["D"] + wgt * 0.5 * Dinv
        return f, g


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


def _init(problem, rng):
    n, k, lam = problem.n, problem.k, problem.lam
    scale = np.sqrt(max(lam.mean(), 1e-12))
    W = rng.normal(size=(n, k)) * scale / np.sqrt(k)
    b = rng.normal(size=n) * 0.1 * scale
    s2 = problem.fixed_s2 if problem.fixed_s2 is not None else lam.mean() * rng.uniform(0.5, 1.5)
    V = rng.normal(size=(k, n)) * 0.1 / scale
    c = np.zeros(k)
    D = rng.uniform(0.3, 1.0, size=k)
    return problem.pack(W, b, s2, V, c, np.diag(D) if problem.full else D)


def _run(problem, x0, maxiter, gtol):
    def neg(x):
        f, g = problem.value_grad(x)
        return -f, -g

    res = minimize(neg, x0, jac=True, method="L-BFGS-B",
                   options={"maxiter": maxiter, "maxfun": 4 * maxiter, "gtol": gtol,
                            "ftol": 1e-15, "maxcor": 30})
    p = problem.unpack(res.x)
    k = problem.k
    return FitResult(W=p["W"], b=p["b"], sigma2=float(p["s2"]),
                     V=p.get("V", np.zeros((k, problem.n))), c=p.get("c", np.zeros(k)),
                     D=p.get("D", np.ones(k)), value=float(-res.fun),
                     grad_norm=float(np.max(np.abs(res.jac))), n_iter=int(res.nit),
                     success=bool(res.success))


def fit_population(lam, k, objective="relbo", alpha=None, beta=None, sigma2=None,
                   encoder="diagonal", random_state=None, x0=None, maxiter=20000, gtol=1e-10):
    r"""Maximise a population objective over all parameters by L-BFGS from a random start.

    Parameters
    ----------
    lam : array_like, shape (n,)
        Data covariance eigenvalues (the problem is posed in their eigenbasis, data mean 0).
    k : int
        Latent dimension.
    objective : {"loglik", "elbo", "relbo", "beta_elbo"}
    alpha, beta : float, optional
    sigma2 : float or None
        Fixed decoder noise, or ``None`` to learn it.
    encoder : {"diagonal", "full"}
    random_state : None, int or numpy Generator
        Seed of the random initialisation.

    Returns
    -------
    FitResult

    Examples
    --------
    >>> import numpy as np, gaussrelbo as gr
    >>> lam = np.array([5.0, 4.0, 3.0, 2.0, 1.2, 0.5])
    >>> r = gr.fit_population(lam, 3, "relbo", alpha=0.5, sigma2=0.8, random_state=0)
    >>> ml = -0.5 * (6 * np.log(2 * np.pi) + np.log(lam[:3]).sum() + 3 + 3 * np.log(0.8)
    ...              + lam[3:].sum() / 0.8)                 # pPCA at fixed sigma2 (DESIGN §7)
    >>> bool(abs(r.value - ml) < 1e-8)
    True
    """
    lam = _check_spectrum(lam)
    k = _check_k(k, lam.size)
    alpha, beta = _check_objective(objective, alpha, beta)
    if sigma2 is not None:
        sigma2 = float(check_positive(sigma2, "sigma2"))
    if encoder not in ("diagonal", "full"):
        raise ValueError(f"`encoder` must be 'diagonal' or 'full', got {encoder!r}")
    problem = _Problem(lam, k, objective, alpha, beta, sigma2, encoder)
    rng = np.random.default_rng(random_state)
    x0 = _init(problem, rng) if x0 is None else x0
    return _run(problem, x0, maxiter, gtol)


def _check_k(k, n):
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= n:
        raise ValueError(f"`k` must be an integer in [1, n={n}], got {k!r}")
    return int(k)


def _support(W, tol=1e-5):
    """Eigen-directions carried by W: rows whose energy exceeds tol times the largest."""
    energy = np.sum(W * W, axis=1)
    if energy.max() <= 0:
        return ()
    return tuple(int(j) for j in np.flatnonzero(energy > tol * energy.max()))


@dataclass
class BasinMap:
    """Which stationary point each of ``n_runs`` random starts reached, for each parameter.

    ``counts[i]`` maps a label ``"subset=(0, 1, 2) maximum"`` (or ``"unmatched"``) to the
    number of runs at ``params[i]``; ``fractions`` the same divided by ``n_runs``.
    """

    objective: str
    parameter: str
    params: list
    n_runs: int
    counts: list = field(default_factory=list)
    runs: list = field(default_factory=list)

    @property
    def fractions(self):
        return [{key: v / self.n_runs for key, v in c.items()} for c in self.counts]


def _match(result, points, vtol):
    support = _support(result.W)
    best = None
    for pt in points:
        if abs(pt.value - result.value) <= vtol * (1.0 + abs(pt.value)):
            used = tuple(sorted(int(j) for j in pt.subset))
            if used == support or best is None:
                best = pt
                if used == support:
                    break
    if best is None:
        return "unmatched"
    kind = "" if best.orthogonal else " non-orthogonal"
    return f"subset={tuple(int(j) for j in best.subset)}{kind} {best.kind}"


def _pool(n_jobs):
    """Worker processes started fresh ("spawn") with single-threaded BLAS: the matrices are
    tiny, and threaded BLAS in several processes on few cores only fights for them."""
    import multiprocessing
    import os
    from concurrent.futures import ProcessPoolExecutor

    names = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    saved = {v: os.environ.get(v) for v in names}
    os.environ.update({v: "1" for v in names})
    try:
        pool = ProcessPoolExecutor(max_workers=n_jobs,
                                   mp_context=multiprocessing.get_context("spawn"))
        pool.submit(int, 0).result()                    # start the workers under this env
        for _ in range(n_jobs - 1):
            pool.submit(int, 0)
    finally:
        for v, old in saved.items():
            if old is None:
                os.environ.pop(v, None)
            else:
                os.environ[v] = old
    return pool


def _one_run(job):
    lam, k, objective, sigma2, encoder, kw, seed = job
    res = fit_population(lam, k, objective, sigma2=sigma2, encoder=encoder,
                         random_state=np.random.default_rng(seed), **kw)
    return res


def basin_map(lam, k, objective="relbo", params=(1.0,), n_runs=50, sigma2=None,
              encoder="diagonal", random_state=0, progress=False, vtol=1e-6, n_jobs=1):
    r"""Basins of attraction of L-BFGS on the full objective, as fractions per parameter value.

    Parameters
    ----------
    lam, k, objective, sigma2, encoder
        As in :func:`fit_population`.
    params : sequence of float
        Values of alpha (``"relbo"``) or beta (``"beta_elbo"``); ignored otherwise (one entry).
    n_runs : int
        Random starts per parameter value (seeded from ``random_state``: reproducible).
    progress : bool
        Print a progress line to stderr.
    n_jobs : int
        Worker processes (the result does not depend on it: each run has its own seed).
    vtol : float
        Relative value tolerance for matching a run to a stationary point; the run's support
        (eigen-directions its W uses) must equal the point's subset when several match.

    Returns
    -------
    BasinMap
    """
    from .optima import stationary_points

    lam = _check_spectrum(lam)
    k = _check_k(k, lam.size)
    if isinstance(n_runs, bool) or not isinstance(n_runs, (int, np.integer)) or n_runs < 1:
        raise ValueError(f"`n_runs` must be a positive integer, got {n_runs!r}")
    name = {"relbo": "alpha", "beta_elbo": "beta"}.get(objective, "none")
    params = list(params) if name != "none" else [None]
    out = BasinMap(objective, name, params, int(n_runs))
    seeds = np.random.SeedSequence(random_state).spawn(len(params))
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs < 1:
        raise ValueError(f"`n_jobs` must be a positive integer, got {n_jobs!r}")
    total, done = len(params) * n_runs, 0
    pool = None
    if n_jobs > 1:
        pool = _pool(int(n_jobs))
    try:
        for param, seed in zip(params, seeds):
            kw = {name: param} if name != "none" else {}
            pts = stationary_points(lam, k, objective, sigma2=sigma2, encoder=encoder,
                                    max_points=2000, **kw).points
            jobs = [(lam, k, objective, sigma2, encoder, kw, s) for s in seed.spawn(n_runs)]
            results = pool.map(_one_run, jobs) if pool else map(_one_run, jobs)
            counts, runs = {}, []
            for res in results:
                label = _match(res, pts, vtol)
                counts[label] = counts.get(label, 0) + 1
                runs.append({"value": res.value, "support": _support(res.W), "label": label,
                             "grad_norm": res.grad_norm, "sigma2": res.sigma2})
                done += 1
                if progress:
                    print(f"\rbasins: {done}/{total} runs", end="", file=sys.stderr,
                          flush=True)
            out.counts.append(dict(sorted(counts.items())))
            out.runs.append(runs)
    finally:
        if pool is not None:
            pool.shutdown()
    if progress:
        print(file=sys.stderr)
    return out
