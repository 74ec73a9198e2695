r"""Value and gradient of the full population objectives, batched over a leading axis.

Used by the full-parameter mode of :func:`gaussrelbo.basin_map` and by
:func:`gaussrelbo.fit_population`.  The optimiser works on every parameter of the model,
:math:`(W, b, \sigma^2, V, c, D)` (for the log-likelihood only the decoder).  The data enter
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
\tfrac12\mathrm{tr}M^{-1}`, :math:`\partial_D B = \tfrac12 D^{-1}`.  The log-likelihood:
:math:`\nabla_W\mathrm{LL} = C^{-1}\tilde SC^{-1}W - C^{-1}W` with :math:`\tilde S = S +
(\mu_D - b)(\mu_D - b)^T` (Tipping & Bishop 1999).  :math:`M = W^TW + \sigma^2 I` enters through
the eigen-decomposition of :math:`W^TW`; nothing is inverted explicitly.  Values are checked
against :mod:`gaussrelbo.objectives` and gradients against finite differences in
``tests/test_basins.py``.
"""

import numpy as np

from ._numerics import ell, renyi_weight

__all__ = ["FullProblem"]

_LOG_2PI = np.log(2.0 * np.pi)


def _t(a):
    return np.swapaxes(a, -1, -2)


def _m_eig(W, s2):
    """Eigen-decomposition of M = W^T W + s2 I: (mu (B, k), R (B, k, k))."""
    mu0, R = np.linalg.eigh(_t(W) @ W)
    return np.maximum(mu0, 0.0) + s2[:, None], R


class FullProblem:
    """Packing, value and gradient of one objective on a spectrum (eigenbasis, data mean 0).

    Parameter vectors are rows of an array ``x`` of shape (B, size).
    """

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
        B = x.shape[0]
        p = {"W": x[:, s["W"]].reshape(B, n, k), "b": x[:, s["b"]],
             "s2": (np.exp(x[:, s["rho"]][:, 0]) if "rho" in s
                    else np.full(B, float(self.fixed_s2)))}
        if not self.decoder_only:
            p["V"] = x[:, s["V"]].reshape(B, k, n)
            p["c"] = x[:, s["c"]]
            if self.full:
                t = x[:, s["D"]].copy()
                t[:, self.diag_in_tril] = np.exp(t[:, self.diag_in_tril])
                L = np.zeros((B, k, k))
                L[:, self.tril[0], self.tril[1]] = t
                p["L"] = L
                p["D"] = L @ _t(L)
            else:
                p["D"] = np.exp(x[:, s["D"]])
        return p

    def pack(self, W, b, s2, V=None, c=None, D=None):
        """Inverse of :meth:`unpack` for batched parameters (leading axis B)."""
        W = np.asarray(W, float)
        B = W.shape[0]
        x = np.empty((B, self.size))
        s = self.slices
        x[:, s["W"]] = W.reshape(B, -1)
        x[:, s["b"]] = b
        if "rho" in s:
            x[:, s["rho"]] = np.log(np.asarray(s2, float)).reshape(B, 1)
        if not self.decoder_only:
            x[:, s["V"]] = np.asarray(V, float).reshape(B, -1)
            x[:, s["c"]] = c
            if self.full:
                t = np.linalg.cholesky(D)[:, self.tril[0], self.tril[1]]
                t[:, self.diag_in_tril] = np.log(t[:, self.diag_in_tril])
                x[:, s["D"]] = t
            else:
                x[:, s["D"]] = np.log(D)
        return x

    # ---- value and gradient ---------------------------------------------------------------------
    def value_grad(self, x):
        """Objective values (B,) and gradients (B, size) with respect to the packed vector."""
        p = self.unpack(x)
        if self.decoder_only:
            f, g = self._loglik(p)
        else:
            f, g = self._encoder_objective(p)
        B = x.shape[0]
        out = np.empty((B, self.size))
        s = self.slices
        out[:, s["W"]] = g["W"].reshape(B, -1)
        out[:, s["b"]] = g["b"]
        if "rho" in s:
            out[:, s["rho"]] = (g["s2"] * p["s2"])[:, None]
        if not self.decoder_only:
            out[:, s["V"]] = g["V"].reshape(B, -1)
            out[:, s["c"]] = g["c"]
            if self.full:
                GL = (g["D"] + _t(g["D"])) @ p["L"]
                t = GL[:, self.tril[0], self.tril[1]]
                t[:, self.diag_in_tril] *= np.diagonal(p["L"], axis1=1, axis2=2)
                out[:, s["D"]] = t
            else:
                out[:, s["D"]] = g["D"] * p["D"]
        return f, out

    def _loglik(self, p):
        W, b, s2, lam, n, k = p["W"], p["b"], p["s2"], self.lam, self.n, self.k
        mu, R = _m_eig(W, s2)
        logdet_M = np.sum(np.log(mu), axis=-1)
        WMi = ((W @ R) / mu[:, None, :]) @ _t(R)                 # W M^-1 = C^-1 W
        St = np.diag(lam) + b[:, :, None] * b[:, None, :]      # S + (mu - b)(mu - b)^T, mu = 0
        Cinv = (np.eye(n) - WMi @ _t(W)) / s2[:, None, None]
        CS = Cinv @ St
        f = -0.5 * (n * _LOG_2PI + logdet_M + (n - k) * np.log(s2)
                    + np.trace(CS, axis1=1, axis2=2))
        gW = CS @ WMi - WMi                                    # C^-1 S~ C^-1 W - C^-1 W
        gb = -(Cinv @ b[:, :, None])[:, :, 0]
        gs2 = 0.5 * (np.sum(CS * _t(Cinv), axis=(1, 2)) - np.trace(Cinv, axis1=1, axis2=2))
        return f, {"W": gW, "b": gb, "s2": gs2}

    def _encoder_objective(self, p):
        W, b, s2, V, c, D = p["W"], p["b"], p["s2"], p["V"], p["c"], p["D"]
        lam, n, k = self.lam, self.n, self.k
        s2c = s2[:, None, None]
        Wc = (W @ c[:, :, None])[:, :, 0]
        rbar = -b - Wc                                         # mu - b - W ybar, mu = 0
        VS = V * lam                                           # V S
        VSVt = VS @ _t(V)
        Eyy = VSVt + c[:, :, None] * c[:, None, :]
        Exy = _t(VS) - b[:, :, None] * c[:, None, :]           # S V^T + (mu - b) ybar^T
        WtW = _t(W) @ W
        Dm = D if self.full else D[:, :, None] * np.eye(k)
        Q = (lam.sum() + np.sum(b * b, axis=1) - 2.0 * np.sum(W * Exy, axis=(1, 2))
             + np.sum(WtW * (Eyy + Dm), axis=(1, 2)))
        dist = 0.5 * n * (_LOG_2PI + np.log(s2)) + Q / (2.0 * s2)
        if self.full:
            L = p["L"]
            logdet_D = 2.0 * np.sum(np.log(np.diagonal(L, axis1=1, axis2=2)), axis=1)
            Linv = np.linalg.solve(L, np.broadcast_to(np.eye(k), L.shape))
            Dinv = _t(Linv) @ Linv
            trD = np.trace(D, axis1=1, axis2=2)
        else:
            logdet_D = np.sum(np.log(D), axis=1)
            Dinv = 1.0 / D
            trD = D.sum(axis=1)
        rate = 0.5 * (trD + np.trace(VSVt, axis1=1, axis2=2) + np.sum(c * c, axis=1) - k
                      - logdet_D)
        gQ_W = -2.0 * Exy + 2.0 * W @ (Eyy + Dm)
        gQ_b = -2.0 * rbar
        WtR = (_t(W) @ rbar[:, :, None])[:, :, 0]
        gQ_V = -2.0 * (_t(W) - WtW @ V) * lam                  # ... S, mu = 0
        gQ_c = -2.0 * WtR
        gQ_D = WtW if self.full else np.diagonal(WtW, axis1=1, axis2=2)
        s2v = s2[:, None]
        g_dist = {"W": gQ_W / (2 * s2c), "b": gQ_b / (2 * s2v), "V": gQ_V / (2 * s2c),
                  "c": gQ_c / (2 * s2v), "D": gQ_D / (2 * (s2c if self.full else s2v)),
                  "s2": 0.5 * n / s2 - Q / (2.0 * s2 * s2)}
        g_rate = {"V": VS, "c": c,
                  "D": 0.5 * ((np.eye(k) if self.full else 1.0) - Dinv)}
        weight = self.beta if self.objective == "beta_elbo" else 1.0
        f = -dist - weight * rate
        g = {key: -g_dist[key] - weight * g_rate.get(key, 0.0) for key in g_dist}
        if self.objective == "relbo" and self.alpha != 1.0:
            a = self.alpha
            mu, R = _m_eig(W, s2)
            logdet_M = np.sum(np.log(mu), axis=-1)
            Bk = 0.5 * (logdet_D + k - k * ell(a) - k * np.log(s2) + logdet_M)
            wgt = renyi_weight(a)
            f = f + wgt * Bk
            g["W"] = g["W"] + wgt * (((W @ R) / mu[:, None, :]) @ _t(R))
            g["s2"] = g["s2"] + wgt * (-0.5 * k / s2 + 0.5 * np.sum(1.0 / mu, axis=-1))
            g["D"] = g["D"] + wgt * 0.5 * Dinv
        return f, g
