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

from . import _clusters as _cl

__all__ = ["BlockClassifier", "sub_hessian"]

_BATCH = 2**16          # d x d Hessians per batched call hold about 8 d^2 floats each: 4 MB
_ZERO_RTOL = 1e-9        # |eigenvalue| <= this times the point's largest counts as zero


def _minv(M):
    e, V = np.linalg.eigh(M)
    return (V / e[..., None, :]) @ _swap(V), (V / e[..., None, :] ** 2) @ _swap(V)


def _swap(x):
    return np.swapaxes(x, -1, -2)


def sub_hessian(W, lamrows, t, a, penalised, dirs=None):
    """Exact Hessian of F_a over vec(W) (row-major) on sub-problems whose C is diagonal;
    batched: W (..., n, k), lamrows (..., n) -> (..., d, d), restricted to the entries
    ``dirs`` of vec(W) (default all, d = n k)."""
    n, k = W.shape[-2:]
    batch = W.shape[:-2]
    c = np.sum(W * W, axis=-1) + t                                  # (..., n)
    dirs = np.arange(n * k) if dirs is None else np.asarray(dirs)
    d = dirs.size
    E = np.eye(n * k)[dirs].reshape(d, n, k)
    Wx = W[..., None, :, :]                                         # (..., 1, n, k)
    L = E @ _swap(Wx)                                               # (..., d, n, n)
    L = L + _swap(L)
    H = np.repeat(-(c - lamrows) / c**2, k, axis=-1)[..., dirs, None] * np.eye(d)
    rc = lamrows / c
    A = (rc[..., :, None] + rc[..., None, :] - 1.0) / (2.0 * c[..., :, None] * c[..., None, :])
    Lf = L.reshape(batch + (d, n * n))
    H = H - (Lf * A.reshape(batch + (1, n * n))) @ _swap(Lf)
    if penalised:
        M = _swap(W) @ W + t * np.eye(k)
        m = np.diagonal(M, axis1=-2, axis2=-1)                      # (..., k)
        Minv, _ = _minv(M)
        Dm = (1.0 / m)[..., :, None] * np.eye(k) - Minv
        row, col = np.divmod(dirs, k)                               # 2 kron(I_n, Dm), restricted
        HP = 2.0 * (row[:, None] == row[None, :]) * Dm[..., col[:, None], col[None, :]]
        Lp = np.swapaxes(E, 1, 2) @ Wx                              # (..., d, k, k)
        Lp = Lp + _swap(Lp)
        dg = np.diagonal(Lp, axis1=-2, axis2=-1)                    # (..., d, k)
        HP = HP - (dg / m[..., None, :] ** 2) @ _swap(dg)
        T = Minv[..., None, :, :] @ Lp                              # (..., d, k, k)
        HP = HP + T.reshape(batch + (d, k * k)) @ _swap(_swap(T).reshape(batch + (d, k * k)))
        H = H - HP / (2.0 * a)
    return 0.5 * (H + _swap(H))


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
    """(pos, zero, neg) counts of the eigenvalues e along the last axis (batched)."""
    return np.stack([np.sum(e > thr, axis=-1), np.sum(np.abs(e) <= thr, axis=-1),
                     np.sum(e < -thr, axis=-1)], axis=-1).astype(np.int64)


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
            idx = np.arange(W.size).reshape(W.shape)
            sel = np.concatenate([idx[:rA, cA:].ravel(), idx[rA:, :cA].ravel()])
            H = sub_hessian(W, lam, self.t, self.a, self.pen, sel)
            self._cache[key] = _triple(np.linalg.eigvalsh(H), self.thr)
        return self._cache[key]

    def _zeroblock(self, cl, B):
        key = self._key("z", cl.c, cl.r, cl.J)
        if key not in self._cache:
            W = np.zeros((cl.r, cl.c + 1))
            W[:, :cl.c] = B
            lam = self.sp.lam[list(cl.J)]
            sel = np.arange(W.size).reshape(W.shape)[:, -1]
            H = sub_hessian(W, lam, self.t, self.a, self.pen, sel)
            self._cache[key] = _triple(np.linalg.eigvalsh(H), self.thr)
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

    # ---- batched: one family of multi-column clusters with many sets of singles ---------

    def _eligible_rows(self):
        tol = 1e-9 * max(self.sp.lam[0], self.t)
        return np.flatnonzero(self.sp.lam - self.t > tol)

    def _single_tables(self):
        """Per-row tables for orthogonal columns (singles) on the eligible rows q: internal,
        zero-column and unused-row totals (n, 3), the unused-row codes U[j, q] (n, n, 3) and
        the tie matrix of the single-by-single cross blocks (n, n)."""
        key = self._key("s1")
        if key not in self._cache:
            n, lam = self.sp.n, self.sp.lam
            own = np.zeros((n, 3))
            zb = np.zeros((n, 3))
            U = np.zeros((n, n, 3))
            rows = self._eligible_rows()
            for j in rows:
                cl = _cl.make_single(int(j), lam[j])
                B = _cl.cluster_block(cl, self.t)
                codes, total = self._unused(cl)
                own[j] = self._internal(cl, B) + total
                zb[j] = self._zeroblock(cl, B)
                U[j] = codes.T
            tie = np.abs(lam[:, None] - lam[None, :]) <= 1e-9 * max(lam[0], self.t)
            np.fill_diagonal(tie, False)
            self._cache[key] = (own, zb, U, tie.astype(float))
        return self._cache[key]

    def _prepare(self, clusters, blocks, need):
        """Fill the caches of the internal and zero-column blocks of multi-column clusters and
        of their cross blocks against a single on the rows ``need[i]`` (an index array), all
        batched over the clusters of each shape (c, r) and over (cluster, row) pairs."""
        todo = {}
        for cl, B, q in zip(clusters, blocks, need):
            key = self._key("xs", cl.c, cl.r, cl.J)
            if key not in self._cache:
                self._cache[key] = (np.zeros((self.sp.n, 3)), np.zeros(self.sp.n, bool))
                todo.setdefault((cl.c, cl.r), {})[cl.J] = [B, None]
            out, have = self._cache[key]
            q = np.setdiff1d(q, np.flatnonzero(have))
            if q.size:
                entry = todo.setdefault((cl.c, cl.r), {}).setdefault(cl.J, [B, []])
                entry[1] = q if entry[1] is None or not len(entry[1]) else np.union1d(entry[1],
                                                                                      q)
        for (c, r), byJ in todo.items():
            Js = list(byJ)
            fresh = [J for J in Js if self._key("i", c, r, J) not in self._cache]
            if fresh:
                self._internal_zero(c, r, fresh, np.stack([byJ[J][0] for J in fresh]))
            rows = [np.asarray(byJ[J][1] if byJ[J][1] is not None else [], int) for J in Js]
            sizes = np.array([q.size for q in rows])
            if not sizes.sum():
                continue
            ii = np.repeat(np.arange(len(Js)), sizes)               # (cluster, row) pairs
            qq = np.concatenate(rows)
            Bs = np.stack([byJ[J][0] for J in Js])
            lamJ = self.sp.lam[np.array(Js)]
            cross = np.empty((ii.size, 3))
            d = (r + 1) * (c + 1)
            step = max(1, _BATCH // (d * d))
            for lo in range(0, ii.size, step):
                sl = slice(lo, lo + step)
                cross[sl] = self._cross_batch(c, r, Bs[ii[sl]], lamJ[ii[sl]], qq[sl])
            ends = np.cumsum(sizes)
            for J, q, hi, size in zip(Js, rows, ends.tolist(), sizes.tolist()):
                if size:
                    out, have = self._cache[self._key("xs", c, r, J)]
                    out[q], have[q] = cross[hi - size:hi], True

    def _prepare_pairs(self, pairs):
        """Fill the cache of the cross blocks of pairs of multi-column clusters (A, BA, B, BB),
        batched over the pairs of each shape."""
        todo = {}
        for A, BA, B, BB in pairs:
            key = self._key("x", A.c, A.r, A.J, B.c, B.r, B.J)
            if key not in self._cache:
                todo.setdefault((A.c, A.r, B.c, B.r), {})[key] = (A, BA, B, BB)
        for (cA, rA, cB, rB), items in todo.items():
            keys = list(items)
            W = np.zeros((len(keys), rA + rB, cA + cB))
            lam = np.empty((len(keys), rA + rB))
            for i, key in enumerate(keys):
                A, BA, B, BB = items[key]
                W[i, :rA, :cA], W[i, rA:, cA:] = BA, BB
                lam[i] = self.sp.lam[list(A.J) + list(B.J)]
            idx = np.arange((rA + rB) * (cA + cB)).reshape(rA + rB, cA + cB)
            sel = np.concatenate([idx[:rA, cA:].ravel(), idx[rA:, :cA].ravel()])
            step = max(1, _BATCH // (sel.size * sel.size))
            for lo in range(0, len(keys), step):
                H = sub_hessian(W[lo:lo + step], lam[lo:lo + step], self.t, self.a, self.pen,
                                sel)
                for key, tr in zip(keys[lo:lo + step], _triple(np.linalg.eigvalsh(H), self.thr)):
                    self._cache[key] = tr

    def _internal_zero(self, c, r, Js, Bs):
        lamJ = self.sp.lam[np.array(Js)]
        t, N = self.t, len(Js)
        internal = _triple(np.linalg.eigvalsh(sub_hessian(Bs, lamJ, t, self.a, self.pen)),
                           self.thr)
        W = np.zeros((N, r, c + 1))
        W[:, :, :c] = Bs
        sel = np.arange(r * (c + 1)).reshape(r, c + 1)[:, -1]
        zero = _triple(np.linalg.eigvalsh(sub_hessian(W, lamJ, t, self.a, self.pen, sel)),
                       self.thr)
        for i, J in enumerate(Js):
            self._cache[self._key("i", c, r, J)] = internal[i]
            self._cache[self._key("z", c, r, J)] = zero[i]

    def _cross_batch(self, c, r, Bs, lamJ, q):
        """Sign counts (N, 3) of the cross blocks of clusters (c, r) with decoder blocks Bs
        (N, r, c) against a single on row q (N,)."""
        N, lam = len(q), self.sp.lam
        W = np.zeros((N, r + 1, c + 1))
        W[:, :r, :c] = Bs
        W[:, r, c] = np.sqrt(np.maximum(lam[q] - self.t, 0.0))
        idx = np.arange((r + 1) * (c + 1)).reshape(r + 1, c + 1)
        sel = np.concatenate([idx[:r, c:].ravel(), idx[r:, :c].ravel()])
        H = sub_hessian(W, np.concatenate([lamJ, lam[q][:, None]], axis=1), self.t, self.a,
                        self.pen, sel)
        return _triple(np.linalg.eigvalsh(H), self.thr)

    def _family_tables(self, families, rows):
        """Per family (clusters, blocks): the blocks not involving singles (const, (F, 3)),
        the per-row tables of a single on each row in ``rows[f]`` (per_row, (F, n, 3)), the
        zero-column blocks (zb, (F, 3)), the indicator of the family's rows (IX, (F, n)) and
        its columns (cX, (F,))."""
        n = self.sp.n
        self._prepare([cl for X, _ in families for cl in X],
                      [B for _, Bs in families for B in Bs],
                      [rows[f] for f, (X, _) in enumerate(families) for _ in X])
        self._prepare_pairs([(X[i], Bs[i], X[j], Bs[j]) for X, Bs in families
                             for i in range(len(X)) for j in range(i + 1, len(X))])
        F = len(families)
        const = np.zeros((F, 3))
        per_row = np.zeros((F, n, 3))                  # added once per single on that row
        zb = np.zeros((F, 3))
        IX = np.zeros((F, n))
        cX = np.zeros(F)
        for f, (X, blocks) in enumerate(families):
            JX = [j for cl in X for j in cl.J]
            IX[f, JX] = 1.0
            cX[f] = sum(cl.c for cl in X)
            for i in range(len(X)):
                for j in range(i + 1, len(X)):
                    const[f] += self._crossblock(X[i], blocks[i], X[j], blocks[j])
            for cl, B in zip(X, blocks):
                codes, total = self._unused(cl)
                const[f] += self._internal(cl, B) + total - codes[:, JX].sum(axis=1)
                per_row[f] += self._cross_singles(cl) - codes.T
                zb[f] += self._zeroblock(cl, B)
        return const, per_row, zb, IX, cX

    def family_terms(self, families, pools, s2):
        r"""Terms of the sign counts of every point of each family as a function of its set S of
        orthogonal columns (any subset of ``pools[f]``, the eligible rows the family leaves):

        .. math:: \mathrm{signs} = c_f + \sum_{j\in S} w_{f,j} + \binom{s}{2}D
            + \tau(S)\,(T - D) + (k - c_X - s)(Z_f + s\,y),

        s = |S|, tau(S) the tied pairs in S.  Returns, per family, (c_f, w_f (rows, 3), Z_f,
        cX) and the shared (D, T, y); None when the single-by-single terms are not of this
        form (then the caller counts by enumeration)."""
        self._setup(s2)
        sp = self.sp
        const, per_row, zb, IX, cX = self._family_tables(families, pools)
        own, zb1, U, tie = self._single_tables()
        zcodes, ztotal = self._zero_unused()
        ZU = zcodes.T.astype(float)
        rows = self._eligible_rows()
        if self.pen:                     # the single-by-single cross blocks
            cross = _NEG_NEG + (_FLAT_NEG - _NEG_NEG) * tie[:, :, None]
        else:
            cross = np.broadcast_to(_FLAT_NEG.astype(float), U.shape)
        Ur = U[np.ix_(rows, rows)]
        P = -Ur - np.swapaxes(Ur, 0, 1) + cross[np.ix_(rows, rows)]
        tr = tie[np.ix_(rows, rows)].astype(bool)
        off = ~np.eye(rows.size, dtype=bool)
        D = P[off & ~tr]
        T = P[off & tr]
        y = (zb1 - ZU)[rows]
        if (D.size and np.ptp(D, axis=0).any()) or (T.size and np.ptp(T, axis=0).any()) or (
                y.size and np.ptp(y, axis=0).any()):
            return None
        D = D[0] if D.size else np.zeros(3)
        T = T[0] if T.size else np.zeros(3)
        y = y[0] if y.size else np.zeros(3)
        diagU = U[np.arange(sp.n), np.arange(sp.n)]
        out = []
        for f in range(len(families)):
            w = per_row[f] + own - diagU - np.einsum("jqc,q->jc", U, IX[f])
            Z = zb[f] + ztotal - IX[f] @ ZU
            out.append((const[f], w, Z, int(cX[f])))
        return out, (D, T, y)

    def batch_signs(self, families, fam_of, singles, s2):
        """Sign counts (P, 3) of the points made of the multi-column clusters of family
        ``families[fam_of[p]]`` (a pair (clusters, decoder blocks)), orthogonal columns on the
        rows ``singles[p]`` and zero columns, at one fixed sigma2: the same blocks as
        :meth:`signs`, summed over all points at once.

        Per family, the blocks that do not involve the singles are a constant; the
        cluster-by-single cross blocks and the clusters' unused-row blocks are per-row tables
        summed over the singles; the single-by-single blocks (a tie matrix) and the singles'
        unused-row blocks at used rows are quadratic forms in the singles' indicator.  Counts
        are small integers, exact in float64 matmuls."""
        self._setup(s2)
        sp = self.sp
        n, k = sp.n, sp.k
        fam_of = np.asarray(fam_of, int)
        rows_of = [set() for _ in families]             # rows of the singles, per family
        for f, S in zip(fam_of.tolist(), singles):
            rows_of[f].update(S)
        const, per_row, zb, IX, cX = self._family_tables(
            families, [np.array(sorted(r), int) for r in rows_of])
        own, zb1, U, tie = self._single_tables()
        zcodes, ztotal = self._zero_unused()
        ZU = zcodes.T.astype(float)
        P = fam_of.size
        out = np.empty((P, 3), np.int64)
        step = max(1, _BATCH // n)               # per-row tables gathered per point: 1.5 MB
        for lo in range(0, P, step):
            f = fam_of[lo:lo + step]
            S = singles[lo:lo + step]
            p = f.size
            sizes = np.fromiter((len(x) for x in S), int, p)
            ind = np.zeros((p, n))
            ind[np.repeat(np.arange(p), sizes),
                np.fromiter((j for x in S for j in x), int, int(sizes.sum()))] = 1.0
            used = ind + IX[f]
            tot = const[f] + np.einsum("pn,pnc->pc", ind, per_row[f]) + ind @ own
            for i in range(3):                # each single's unused-row codes at used rows
                tot[:, i] -= np.sum((ind @ U[:, :, i]) * used, axis=1)
            pairs = sizes * (sizes - 1) / 2.0
            if self.pen:
                ties = 0.5 * np.sum((ind @ tie) * ind, axis=1)
                tot += pairs[:, None] * _NEG_NEG + ties[:, None] * (_FLAT_NEG - _NEG_NEG)
            else:
                tot += pairs[:, None] * _FLAT_NEG
            nz = k - cX[f] - sizes
            tot += nz[:, None] * (zb[f] + ind @ zb1 + ztotal - used @ ZU)
            out[lo:lo + step] = np.rint(tot)
        return out

    def _cross_singles(self, A):
        return self._cache[self._key("xs", A.c, A.r, A.J)][0]

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
