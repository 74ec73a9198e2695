r"""Value and gradient of the full population objectives, batched over a leading axis.

Used by the full-parameter mode of :func:`gaussrelbo.basin_map` and by
:func:`gaussrelbo.fit_population`.  The optimiser works on every parameter of the model,
:math:`(W, b, \sigma^2, V, c, D)` (for the log-likelihood only the decoder).  The data enter
through a spectrum: in the eigenbasis of the data covariance :math:`S = \mathrm{diag}(\lambda)`,
with data mean 0 (b learns the mean; every objective depends on the data only through
:math:`\mu_D - b` and S).  Parametrisation: :math:`\sigma^2 = e^\rho`; a diagonal D as
:math:`e^{\delta}`; a full D as :math:`LL^T` with L lower triangular and :math:`L_{ii} =
e^{\ell_i}`.

**Values** come from :mod:`gaussrelbo.objectives`, the one home of the formulas: each call
builds one batched :class:`~gaussrelbo.LinearGaussianVAE` of the unpacked parameters (a batch of
one as an unbatched model) and evaluates the objective on the spectrum as
:class:`~gaussrelbo.DataMoments` (mean 0, covariance diag(lambda)).  This module writes no
formula for any value.

**Gradients** are closed-form matrix calculus.  The sympy route of the generated kernels
(:mod:`gaussrelbo._generated`: scalar functions of one eigen-direction) does not fit here: the
parameters are matrices (W, V, the Cholesky factor of D) away from any stationary point, where
the objective does not split into directions.  The gradients read the model's cached singular
value decomposition and the values the objectives return; they are checked against finite
differences of the values in ``tests/test_basins.py`` (which also plants errors in the
objectives' building blocks to show that check fails).

With :math:`y = Vx + c`, :math:`\bar y = V\mu + c`, :math:`\bar r = \mu - b - W\bar y`, and
the distortion :math:`\mathrm{Dist} = \tfrac n2\log(2\pi\sigma^2) + Q/(2\sigma^2)`,
:math:`Q = E\lVert x-b-Wy\rVert^2 + \mathrm{tr}(WDW^T)`:

.. math::
    \partial_W Q = -2(SV^T + (\mu-b)\bar y^T) + 2W(VSV^T + \bar y\bar y^T + D),\quad
    \partial_b Q = -2\bar r,\quad
    \partial_V Q = -2(W^T - W^TWV)S - 2W^T\bar r\mu^T,\quad \partial_c Q = -2W^T\bar r,

:math:`\partial_D Q = W^TW`, :math:`\partial_{\sigma^2}\mathrm{Dist} = (\tfrac n2 -
Q/(2\sigma^2))/\sigma^2` with :math:`Q/(2\sigma^2)` read off the distortion;
:math:`\partial_V R = VS + \bar y\mu^T`, :math:`\partial_c R = \bar y`, :math:`\partial_D R =
\tfrac12(I - D^{-1})` for the rate R; and for the Renyi term
:math:`B = \tfrac12[\log\det D + k - k\ell(\alpha) - k\log\sigma^2 + \log\det M]`:
:math:`\partial_W B = WM^{-1}`, :math:`\partial_{\sigma^2} B = -k/(2\sigma^2) +
\tfrac12\mathrm{tr}M^{-1}`, :math:`\partial_D B = \tfrac12 D^{-1}`.  The log-likelihood:
:math:`\nabla_W\mathrm{LL} = C^{-1}\tilde SC^{-1}W - C^{-1}W`, :math:`\nabla_b\mathrm{LL} =
-C^{-1}b`, :math:`\partial_{\sigma^2}\mathrm{LL} = \tfrac12[\mathrm{tr}(C^{-1}\tilde SC^{-1})
- \mathrm{tr}\,C^{-1}]` with :math:`\tilde S = S + (\mu_D - b)(\mu_D - b)^T` and
:math:`C^{-1} = (I - WM^{-1}W^T)/\sigma^2` (Tipping & Bishop 1999).  :math:`M = W^TW +
\sigma^2 I` enters through the SVD of W (:math:`WM^{-1} = U\,\mathrm{diag}(s/(s^2+\sigma^2))
R^T`, :math:`\mathrm{tr}M^{-1} = \sum_i 1/(s_i^2+\sigma^2)`); a full :math:`D^{-1}` as
:math:`L^{-T}L^{-1}`, :math:`L^{-1}` from a linear solve with the Cholesky factor L.
"""

import numpy as np

from . import objectives
from ._numerics import renyi_weight
from .model import DataMoments, LinearGaussianVAE

__all__ = ["FullProblem"]

def _t(a):
    return np.swapaxes(a, -1, -2)


class FullProblem:
    """Packing, value and gradient of one objective on a spectrum (eigenbasis, data mean 0).

    Parameter vectors are rows of an array ``x`` of shape (B, size).
    """

    def __init__(self, lam, k, objective, alpha, beta, sigma2, encoder):
        self.lam, self.n, self.k = lam, lam.size, k
        # the data as the objectives see them: mean 0, covariance diag(lam)
        self.data = DataMoments.from_spectrum(lam)
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
        """Objective values (B,) and gradients (B, size) with respect to the packed vector.

        A row outside the domain (a non-finite entry, or :math:`\\sigma^2` or D that under- or
        overflowed in the exponential) gets the value ``-inf`` and a NaN gradient, as does a row
        whose value the objectives refuse (two terms overflowing, outside float64).
        """
        with np.errstate(over="ignore", under="ignore"):      # exp(rho): inf or 0 is caught
            p = self.unpack(x)
        B = x.shape[0]
        ok = np.all(np.isfinite(x), axis=1) & _positive_finite(p["s2"])
        if not self.decoder_only:
            d = np.diagonal(p["L"], axis1=1, axis2=2) if self.full else p["D"]
            ok &= np.all(_positive_finite(d), axis=1)
        if not np.all(ok):
            return self._rows(x, ok)
        try:
            f, g = self._value_grad(p)
        except ValueError:          # the objectives refused a row: find it, row by row
            if B == 1:
                return np.full(1, -np.inf), np.full_like(x, np.nan)
            return self._rows(x, np.ones(B, bool), one_by_one=True)
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

    def _rows(self, x, ok, one_by_one=False):
        """Values and gradients of the rows ``ok`` (``-inf`` and NaN for the others)."""
        f = np.full(x.shape[0], -np.inf)
        g = np.full_like(x, np.nan)
        for rows in ([[i] for i in np.flatnonzero(ok)] if one_by_one else [np.flatnonzero(ok)]):
            if len(rows):
                f[rows], g[rows] = self.value_grad(x[rows])
        return f, g

    def _model(self, p):
        """The model of the unpacked parameters, built without validation (the optimiser's own
        parameters: finite, with sigma2 and D positive by construction).  One batched model;
        a batch of one is an unbatched model, which the objectives evaluate with plain 2-D
        products (the gradients broadcast it against the batch axis)."""
        names = ("W", "b", "s2") if self.decoder_only else ("W", "b", "s2", "V", "c", "D")
        a = [p[name] for name in names]
        L = p.get("L")
        if a[0].shape[0] == 1:
            a = [np.asarray(v[0]) for v in a]
            L = None if L is None else L[0]
        return LinearGaussianVAE._trusted(*a, chol_D=L)

    def _value(self, model):
        """The objective's value from :mod:`gaussrelbo.objectives`."""
        if self.objective == "loglik":
            return objectives.log_evidence(model, self.data)
        if self.objective == "elbo":
            return objectives.elbo(model, self.data)
        if self.objective == "relbo":
            return objectives.relbo(model, self.data, self.alpha)
        return objectives.beta_elbo(model, self.data, self.beta)

    def _value_grad(self, p):
        model = self._model(p)
        f = np.asarray(self._value(model), float).reshape(p["W"].shape[0])
        if self.decoder_only:
            return f, self._loglik_grad(model, p)
        return f, self._encoder_grad(model, p)

    def _loglik_grad(self, model, p):
        W, b, s2, lam, n = p["W"], p["b"], p["s2"], self.lam, self.n
        WMi = _t(model.posterior_gain())                       # W M^-1 = C^-1 W
        St = np.diag(lam) + b[:, :, None] * b[:, None, :]      # S + (mu - b)(mu - b)^T, mu = 0
        Cinv = (np.eye(n) - WMi @ _t(W)) / s2[:, None, None]
        CS = Cinv @ St
        gW = CS @ WMi - WMi                                    # C^-1 S~ C^-1 W - C^-1 W
        gb = -(Cinv @ b[:, :, None])[:, :, 0]
        gs2 = 0.5 * (np.sum(CS * _t(Cinv), axis=(1, 2)) - np.trace(Cinv, axis1=1, axis2=2))
        return {"W": gW, "b": gb, "s2": gs2}

    def _encoder_grad(self, model, p):
        """Gradient of -Dist - w R (+ (1-alpha)/alpha B for the RELBO), w the rate weight."""
        W, b, s2, V, c, D = p["W"], p["b"], p["s2"], p["V"], p["c"], p["D"]
        lam, n, k = self.lam, self.n, self.k
        w = self.beta if self.objective == "beta_elbo" else 1.0
        s2c, s2v = s2[:, None, None], s2[:, None]
        rbar = -b - (W @ c[:, :, None])[:, :, 0]                # mu - b - W ybar, mu = 0
        VS = V * lam                                           # V S
        Wt = _t(W)
        WtW = Wt @ W
        # -dDist/dW = (E x y^T - W (E y y^T + D)) / sigma2, E x y^T = S V^T + (mu - b) ybar^T
        WD = W @ D if self.full else W * D[:, None, :]
        gW = ((_t(VS) - b[:, :, None] * c[:, None, :]) - W @ (VS @ _t(V)) - (W @ c[:, :, None])
              * c[:, None, :] - WD) / s2c
        gb = rbar / s2v
        gV = (Wt - WtW @ V) * lam / s2c - w * VS
        gc = (Wt @ rbar[:, :, None])[:, :, 0] / s2v - w * c
        if self.full:
            Linv = np.linalg.solve(p["L"], np.broadcast_to(np.eye(k), p["L"].shape))
            Dinv = _t(Linv) @ Linv
            gD = -WtW / (2.0 * s2c) - 0.5 * w * (np.eye(k) - Dinv)
        else:
            Dinv = 1.0 / D
            gD = -np.diagonal(WtW, axis1=1, axis2=2) / (2.0 * s2v) - 0.5 * w * (1.0 - Dinv)
        g = {"W": gW, "b": gb, "V": gV, "c": gc, "D": gD}
        if self.fixed_s2 is None:
            # dDist/dsigma2 = n / (2 sigma2) - Q / (2 sigma2^2), Q / (2 sigma2) read off the
            # distortion the objectives return
            dist = objectives.distortion(model, self.data)
            q_half = dist - 0.5 * n * (objectives._LOG_2PI + np.log(s2))
            g["s2"] = (q_half - 0.5 * n) / s2
        if self.objective == "relbo" and self.alpha != 1.0:
            a = renyi_weight(self.alpha)
            g["W"] = gW + a * _t(model.posterior_gain())          # W M^-1
            g["D"] = gD + a * 0.5 * Dinv
            if self.fixed_s2 is None:                           # (tr(sigma2 M^-1) - k) / (2 sigma2)
                tau, _ = model.posterior_cov_eigen()           # sigma2 / (s_i^2 + sigma2)
                g["s2"] = g["s2"] + a * 0.5 * (np.sum(tau, axis=-1) - k) / s2
        return g


def _positive_finite(a):
    return (a > 0) & (a < np.inf)
