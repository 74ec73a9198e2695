"""Records of the atlas: StationaryPoint, Atlas, sign counting and kinds."""

from dataclasses import dataclass, field

import numpy as np

def _signs(eigs, tol):
    """(#positive, #zero, #negative) with |eig| <= tol * max|eig| counted as zero."""
    eigs = np.asarray(eigs)
    if eigs.size == 0:
        return (0, 0, 0)
    thr = tol * np.max(np.abs(eigs))
    return (int(np.sum(eigs > thr)), int(np.sum(np.abs(eigs) <= thr)), int(np.sum(eigs < -thr)))

def _kind(signs):
    """Second-order kind; flat directions do not change it (they are symmetry orbits or ties)."""
    if signs is None:
        return "saddle"
    pos, _, neg = signs
    if pos == 0 and neg == 0:
        return "degenerate"
    if pos == 0:
        return "maximum"
    if neg == 0:
        return "minimum"
    return "saddle"

@dataclass(eq=False)
class StationaryPoint:
    r"""One stationary point of a profiled objective (eigenbasis of the data covariance).

    Attributes
    ----------
    subset : tuple of int
        Sorted eigen-directions the decoder uses (0-based, descending eigenvalue order).
    W : ndarray, shape (n, k)
        Decoder in the eigenbasis: the columns of each cluster in ``clusters`` order
        (multi-column clusters first; an orthogonal column is
        :math:`\sqrt{\lambda_j - \gamma\sigma^2}\,e_j`), then zero columns.
    b : ndarray, shape (n,)
        Decoder bias: the data mean (zero when only a spectrum was given).
    sigma2 : float
    value : float
        The profiled objective, by the matrix route.
    rate, distortion : float
        At the optimal encoder (closed forms for orthogonal points, :func:`gaussrelbo.rate` and
        :func:`gaussrelbo.distortion` otherwise).  For ``"loglik"`` the encoder is the exact
        posterior's (alpha = 1).
    active : int
        Number of non-zero columns.
    orthogonal : bool
    hessian_signs : tuple (pos, zero, neg)
        Over vec(W), and :math:`\sigma^2` when learned; closed form from the block structure of
        the Hessian (zero eigenvalues include the manifold and symmetry directions).
    kind : {"maximum", "saddle", "minimum", "degenerate"}
    grad_norm : float
        Relative gradient norm :math:`\max(\sqrt{\lambda_1}\max|\nabla_W F|,\;
        \sigma^2|\partial_{\sigma^2}F|)` (the second term only when learned); scale-free.
    pairs : tuple of (p, q)
        The eigen-directions of each cluster of two columns and rank two (equal-norm pairs).
    clusters : tuple of (columns, rank, eigen_indices)
        Every cluster of non-zero columns (connected component of the graph
        :math:`M_{pq} \ne 0`): the columns of W it holds, its rank and the eigen-directions it
        lies on.  A single orthogonal column is a cluster of one column and rank one.
    manifold_dim : int
        Dimension of the manifold of stationary points through this one, modulo signed
        permutations and rotations inside tied eigenvalues (clusters of three or more columns;
        without the Hadamard penalty, the rotation orbit :math:`WR` of pPCA).
    """

    subset: tuple
    W: np.ndarray
    b: np.ndarray
    sigma2: float
    value: float
    rate: float
    distortion: float
    active: int
    orthogonal: bool
    hessian_signs: tuple
    kind: str
    grad_norm: float = 0.0
    pairs: tuple = ()
    clusters: tuple = ()
    manifold_dim: int = 0

    def to_dict(self):
        """JSON-ready record (W, b, grad_norm and pairs omitted)."""
        return {"subset": [int(j) for j in self.subset], "kind": self.kind,
                "hessian_signs": [int(v) for v in self.hessian_signs] if self.hessian_signs
                else None, "value": _num(self.value), "rate": _num(self.rate),
                "distortion": _num(self.distortion), "sigma2": _num(self.sigma2),
                "active": int(self.active), "orthogonal": bool(self.orthogonal),
                "clusters": [{"columns": [int(c) for c in cols], "rank": int(r),
                              "eigen_indices": [int(j) for j in J]}
                             for cols, r, J in self.clusters],
                "manifold_dim": int(self.manifold_dim)}


def _num(x):
    """A JSON number, or None for a value float64 cannot hold (never NaN in JSON)."""
    x = float(x)
    return x if np.isfinite(x) else None


def _counts_json(counts):
    return [{"pos": int(p), "zero": int(z), "neg": int(n), "count": int(c)}
            for (p, z, n), c in counts.items()]

@dataclass
class Atlas:
    """The result of :func:`stationary_points`.

    Attributes
    ----------
    points : list of StationaryPoint
        Sorted by value, best first.
    global_max : StationaryPoint
    complete : bool
        Whether every stationary point is listed (up to signed permutations, rotations inside
        tied eigenvalues and the manifold of a cluster of three or more columns); when False,
        ``truncated_by`` names the caps that cut the enumeration.
    n_orthogonal : int or None
        Number of orthogonal stationary points in all (None when unknown: learned sigma2 and
        a capped enumeration).
    index_counts : dict
        ``{(pos, zero, neg): count}`` over all orthogonal points (fixed sigma2: analytic,
        :func:`index_counts`; learned sigma2: from the enumeration when complete, else empty).
    fixed_points : list of (r, sigma2)
        Learned sigma2: the best self-consistent point of each size (:func:`sigma2_fixed_points`).
    n_rejected : int
        Constructed candidates dropped because their gradient was not small (expected 0).
    truncated_by : tuple of str
        The caps that truncated the enumeration (empty iff ``complete``).
    cluster_index_counts : dict
        ``{(pos, zero, neg): count}`` over the listed non-orthogonal points (counted from the
        listing, so complete only when the atlas is); ``index_counts(..., clusters=True)``
        counts every point, listed or not, without listing them.
    eigenvectors : ndarray (n, n) or None
        With DataMoments input, the eigenvectors (columns, descending eigenvalues): the decoder
        in data coordinates is ``eigenvectors @ W``.
    """

    objective: str
    k: int
    sigma2: object
    alpha: float
    beta: float
    encoder: str
    spectrum: np.ndarray
    points: list
    global_max: StationaryPoint
    complete: bool
    n_orthogonal: object
    index_counts: dict = field(default_factory=dict)
    fixed_points: list = field(default_factory=list)
    n_rejected: int = 0
    eigenvectors: object = None
    truncated_by: tuple = ()
    cluster_index_counts: dict = field(default_factory=dict)

    def to_dict(self):
        return {"objective": self.objective, "k": self.k, "sigma2": self.sigma2,
                "alpha": self.alpha if self.objective == "relbo" else None,
                "beta": self.beta if self.objective == "beta_elbo" else None,
                "encoder": self.encoder, "complete": self.complete,
                "n_orthogonal_stationary_points": self.n_orthogonal,
                "truncated_by": list(self.truncated_by),
                "index_counts": _counts_json(self.index_counts),
                "cluster_index_counts": _counts_json(self.cluster_index_counts),
                "self_consistent_sigma2": [[int(r), _num(s)] for r, s in self.fixed_points],
                "global_maximum": self.global_max.to_dict(),
                "stationary_points": [p.to_dict() for p in self.points]}
