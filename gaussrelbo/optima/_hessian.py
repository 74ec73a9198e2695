r"""Closed-form Hessian signs at a cluster point, from the block structure of the Hessian.

At a stationary point built from clusters (:mod:`._clusters`), :math:`C = WW^T + tI` is diagonal
in the eigenbasis and M is block diagonal (one block per cluster).  Expanding
:math:`F_a(W + \epsilon X)` to second order with :math:`L = XW^T + WX^T`, :math:`L' = X^TW +
W^TX`, :math:`c_q = C_{qq}`, :math:`m_i = M_{ii}`:

.. math::
    d^2\mathrm{LL}[X] = -\sum_q \|X_{q\cdot}\|^2\frac{c_q - \lambda_q}{c_q^2}
        - \sum_{p,q} L_{pq}^2\,\frac{\lambda_p/c_p + \lambda_q/c_q - 1}{2c_pc_q},

.. math::
    d^2P[X] = 2\Big[\sum_i\frac{(X^TX)_{ii}}{m_i} - \mathrm{tr}(M^{-1}X^TX)
        - \sum_i\frac{L'^2_{ii}}{2m_i^2} + \tfrac12\mathrm{tr}(M^{-1}L'M^{-1}L')\Big],

:math:`d^2F_a = d^2\mathrm{LL} - d^2P/(2a)`.  Because C and S are diagonal and M is block
diagonal, the entries of X fall into independent blocks: the entries of a cluster on its own rows
(internal block, r c entries); for two clusters A, B the entries of A's columns on B's rows
together with B's columns on A's rows (cross block); a zero column on a cluster's rows (one block
per zero column and cluster); and an unused row q against a cluster's columns, whose c x c block
is diagonal in the eigenbasis G of the cluster's M-block (constant diagonal m):

.. math::
    \frac{\lambda_q - t}{t^2} - \frac{(\lambda_i/\mu_i + \lambda_q/t - 1)(\mu_i - t)}{\mu_i t}
    - \frac1a\Big(\frac1m - \frac1{\mu_i}\Big)\ (i \le r),\qquad
    \frac{\lambda_q - t}{t^2} - \frac1a\Big(\frac1m - \frac1t\Big)\ \text{(the other c - r)},

and :math:`(\lambda_q - t)/t^2` against a zero column.  Each block is assembled from the
formulas above (the blocks are at most :math:`(r_A + r_B)(c_A + c_B)` entries) and its
eigenvalues taken; a learned noise couples only to the internal blocks (one bordered matrix).
No finite differences are used; they are the test reference.
"""

import numpy as np

__all__ = ["point_signs"]

_ZERO_RTOL = 1e-9        # |eigenvalue| <= this times the point's largest counts as zero


def _minv(M):
    e, V = np.linalg.eigh(M)
    return (V / e) @ V.T, (V / e**2) @ V.T


def sub_hessian(W, lamrows, t, a, penalised):
    """Exact Hessian of F_a over vec(W) (row-major) on a sub-problem whose C is diagonal."""
    n, k = W.shape
    c = np.sum(W * W, axis=1) + t
    d = n * k
    E = np.eye(d).reshape(d, n, k)
    L = E @ W.T
    L = L + np.swapaxes(L, 1, 2)
    H = np.diag(np.repeat(-(c - lamrows) / c**2, k))
    rc = lamrows / c
    A = (rc[:, None] + rc[None, :] - 1.0) / (2.0 * np.outer(c, c))
    Lf = L.reshape(d, -1)
    H -= (Lf * A.ravel()) @ Lf.T
    if penalised:
        M = W.T @ W + t * np.eye(k)
        m = np.diag(M).copy()
        Minv, _ = _minv(M)
        HP = 2.0 * np.kron(np.eye(n), np.diag(1.0 / m) - Minv)
        Lp = np.swapaxes(E, 1, 2) @ W
        Lp = Lp + np.swapaxes(Lp, 1, 2)
        dg = np.diagonal(Lp, axis1=1, axis2=2)
        HP -= (dg / m**2) @ dg.T
        T = Minv @ Lp                                     # (d, k, k)
        HP += T.reshape(d, -1) @ np.swapaxes(T, 1, 2).reshape(d, -1).T
        H -= HP / (2.0 * a)
    return 0.5 * (H + H.T)


def _mixed(W, lamrows, t, a, penalised):
    """d/dt of grad_W F_a on a sub-problem (row-major vec)."""
    c = np.sum(W * W, axis=1) + t
    g = W * (-2.0 * lamrows / c**3 + 1.0 / c**2)[:, None]
    if penalised:
        M = W.T @ W + t * np.eye(W.shape[1])
        _, Minv2 = _minv(M)
        g -= (W @ (Minv2 - np.diag(1.0 / np.diag(M) ** 2))) / a
    return g.ravel()


def _triple(e, thr):
    e = np.ravel(e)
    return np.array([np.sum(e > thr), np.sum(np.abs(e) <= thr), np.sum(e < -thr)], np.int64)


_FLAT_NEG = np.array([0, 1, 1], np.int64)
_NEG_NEG = np.array([0, 0, 2], np.int64)


class BlockClassifier:
    r"""Hessian sign counts of cluster points for one problem, with per-cluster caches.

    An eigenvalue counts as zero when its magnitude is at most ``1e-10`` times the natural
    curvature scale :math:`\max(\lambda_1, t)\max(1, 1/a)/t^2` of the problem (the size of the
    terms the blocks are made of), so cached sign counts add up across points."""

    def __init__(self, sp):
        self.sp = sp
        self.a = sp.alpha_e
        self.pen = sp.penalised
        self._cache = {}

    def _setup(self, s2):
        self.s2 = s2
        self.t = t = self.sp.gamma * s2
        self.thr = _ZERO_RTOL * max(self.sp.lam[0], t) * max(1.0, 1.0 / self.a) / t**2

    def _key(self, *parts):
        return parts + (self.s2,)

    def _internal(self, cl, B):
        key = self._key("i", cl.c, cl.r, cl.J)
        if key not in self._cache:
            lamJ = self.sp.lam[list(cl.J)]
            e = np.linalg.eigvalsh(sub_hessian(B, lamJ, self.t, self.a, self.pen))
            self._cache[key] = _triple(e, self.thr)
        return self._cache[key]

    def _crossblock(self, A, BA, B, BB):
        if A.c == 1 and B.c == 1:
            # two orthogonal columns: the rotation (flat without the penalty) and the
            # counter-rotation (negative); under the penalty both negative unless tied
            tie = abs(A.mu[0] - B.mu[0]) <= 1e-9 * max(self.sp.lam[0], self.t)
            if not self.pen:
                return _FLAT_NEG
            return _FLAT_NEG if tie else _NEG_NEG
        key = self._key("x", A.c, A.r, A.J, B.c, B.r, B.J)
        if key not in self._cache:
            rA, cA, rB, cB = A.r, A.c, B.r, B.c
            W = np.zeros((rA + rB, cA + cB))
            W[:rA, :cA], W[rA:, cA:] = BA, BB
            lam = self.sp.lam[list(A.J) + list(B.J)]
            H = sub_hessian(W, lam, self.t, self.a, self.pen)
            idx = np.arange(W.size).reshape(W.shape)
            sel = np.concatenate([idx[:rA, cA:].ravel(), idx[rA:, :cA].ravel()])
            self._cache[key] = _triple(np.linalg.eigvalsh(H[np.ix_(sel, sel)]), self.thr)
        return self._cache[key]

    def _zeroblock(self, cl, B):
        key = self._key("z", cl.c, cl.r, cl.J)
        if key not in self._cache:
            W = np.zeros((cl.r, cl.c + 1))
            W[:, :cl.c] = B
            lam = self.sp.lam[list(cl.J)]
            H = sub_hessian(W, lam, self.t, self.a, self.pen)
            sel = np.arange(W.size).reshape(W.shape)[:, -1]
            self._cache[key] = _triple(np.linalg.eigvalsh(H[np.ix_(sel, sel)]), self.thr)
        return self._cache[key]

    def _rowcodes(self, e):
        """(3, n) per-row counts of positive, zero, negative eigenvalues; e is (c, n)."""
        return np.stack([np.sum(e > self.thr, axis=0), np.sum(np.abs(e) <= self.thr, axis=0),
                         np.sum(e < -self.thr, axis=0)]).astype(np.int64)

    def _unused(self, cl):
        """Per-row sign counts of the unused-row blocks against the cluster's columns (closed
        form), for every row q; (3, n) and their totals (3,)."""
        key = self._key("u", cl.c, cl.r, cl.J)
        if key not in self._cache:
            t, a = self.t, self.a
            lamq = self.sp.lam
            base = (lamq - t) / t**2
            mu = np.asarray(cl.mu)
            lamJ = self.sp.lam[list(cl.J)]
            coef = (lamJ[:, None] / mu[:, None] + lamq[None, :] / t - 1.0) * (
                mu[:, None] - t) / (mu[:, None] * t)
            rows = [base[None, :] - coef]
            if self.pen:
                rows[0] = rows[0] - ((1.0 / cl.m - 1.0 / mu) / a)[:, None]
                if cl.c > cl.r:
                    rows.append(np.repeat(base[None, :] - (1.0 / cl.m - 1.0 / t) / a,
                                          cl.c - cl.r, axis=0))
            elif cl.c > cl.r:
                rows.append(np.repeat(base[None, :], cl.c - cl.r, axis=0))
            codes = self._rowcodes(np.concatenate(rows, axis=0))
            self._cache[key] = (codes, codes.sum(axis=1))
        return self._cache[key]

    def _zero_unused(self):
        key = self._key("zu")
        if key not in self._cache:
            codes = self._rowcodes(((self.sp.lam - self.t) / self.t**2)[None, :])
            self._cache[key] = (codes, codes.sum(axis=1))
        return self._cache[key]

    def signs(self, clusters, blocks, s2, learn):
        """(pos, zero, neg) over vec(W), and sigma2 when learned, at the point made of
        ``clusters`` (their decoder blocks ``blocks``) and zero columns."""
        self._setup(s2)
        k = self.sp.k
        nz = k - sum(cl.c for cl in clusters)
        used = [j for cl in clusters for j in cl.J]
        tot = np.zeros(3, np.int64)
        if learn:
            tot += self._learned_block(clusters, blocks, s2)
        else:
            for cl, B in zip(clusters, blocks):
                tot += self._internal(cl, B)
        for i in range(len(clusters)):
            for j in range(i + 1, len(clusters)):
                tot += self._crossblock(clusters[i], blocks[i], clusters[j], blocks[j])
        for cl, B in zip(clusters, blocks):
            if nz:
                tot += nz * self._zeroblock(cl, B)
            codes, total = self._unused(cl)
            tot += total - codes[:, used].sum(axis=1)
        if nz:
            codes, total = self._zero_unused()
            tot += nz * (total - codes[:, used].sum(axis=1))
        return tuple(int(x) for x in tot)

    def _learned_block(self, clusters, blocks, s2):
        """Internal blocks bordered by sigma2 (beta-ELBO: beta F_1(W, beta sigma2) + A(sigma2));
        W-W entries are divided by gamma so that the zero threshold keeps its scale."""
        sp, t, a, g = self.sp, self.t, self.a, self.sp.gamma
        d = sum(B.size for B in blocks)
        H = np.zeros((d + 1, d + 1))
        o = 0
        Ftt = 0.0
        for cl, B in zip(clusters, blocks):
            lamJ = sp.lam[list(cl.J)]
            H[o:o + B.size, o:o + B.size] = sub_hessian(B, lamJ, t, a, self.pen)
            H[o:o + B.size, -1] = H[-1, o:o + B.size] = g * _mixed(B, lamJ, t, a, self.pen)
            o += B.size
            mu = np.asarray(cl.mu)
            Ftt += 0.5 * np.sum(-2.0 * lamJ / mu**3 + 1.0 / mu**2)
            if self.pen:
                Ftt -= (-cl.c / cl.m**2 + np.sum(1.0 / mu**2) + (cl.c - cl.r) / t**2) / (2 * a)
        used = np.zeros(sp.n, bool)
        for cl in clusters:
            used[list(cl.J)] = True
        lu = sp.lam[~used]
        Ftt += 0.5 * np.sum(-2.0 * lu / t**3 + 1.0 / t**2)
        # (W, sigma2) Hessian of A(sigma2) + g F_1(W, g sigma2), divided by g: W-W H_1,
        # W-sigma2 g dt grad F_1, sigma2-sigma2 A''/g + g^2 F_1tt.  sigma2 is rescaled by
        # sqrt(lam_1 + t)/s2-free units: the sign counts do not depend on it.
        H[-1, -1] = sp.n * (1.0 - g) / (2.0 * s2**2) / g + g * g * Ftt
        e = np.linalg.eigvalsh(H)
        return _triple(e, _ZERO_RTOL * np.max(np.abs(e)))
