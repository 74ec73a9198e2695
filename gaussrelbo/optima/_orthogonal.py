"""Orthogonal stationary points: closed-form Hessian signs."""

from itertools import combinations

import numpy as np

from .. import _generated as _gen
from ._problem import _TIE_RTOL
from ._records import _signs

_BLOCK_TOL = 1e-10          # the same for the exact (closed-form) length block

def _length_block(sp, J, s2, learn):
    r"""Hessian of F over the column lengths :math:`w_p` (and :math:`\sigma^2` when learned) at
    point J, from the generated second derivatives in :math:`(q = w^2, \sigma^2)`
    (``derivations/stationary.py``): :math:`\partial^2F/\partial w^2 = 2F_q + 4qF_{qq}`,
    :math:`\partial^2F/\partial w\,\partial\sigma^2 = 2wF_{q\sigma^2}`.  Cross terms between
    lengths vanish: F is a sum over eigen-directions."""
    lam, n = sp.lam, sp.n
    J = list(J)
    r = len(J)
    lj = lam[J]
    q = lj - sp.gamma * s2
    if sp.objective == "beta_elbo":
        grad, hess = _gen.grad_beta(lj, q, s2, sp.beta), _gen.hess_beta(lj, q, s2, sp.beta)
    else:                                   # RELBO, ELBO and the log-likelihood share F here
        grad, hess = _gen.grad_loglik(lj, q, s2), _gen.hess_loglik(lj, q, s2)
    H = np.zeros((r + int(learn),) * 2)
    H[np.arange(r), np.arange(r)] = 2.0 * grad[..., 0] + 4.0 * q * hess[..., 0, 0]
    if learn:
        H[:r, r] = H[r, :r] = 2.0 * np.sqrt(q) * hess[..., 0, 1]
        unused = np.ones(n, bool)
        unused[J] = False
        H[r, r] = (np.sum(hess[..., 1, 1])
                   + np.sum(_gen.hess_unused(lam[unused], s2)[..., 0, 0]))
    return H

def _orth_signs(sp, J, s2, learn):
    """Closed-form Hessian sign counts over W (and log sigma2 if learned) at point J."""
    lam, n, k = sp.lam_list, sp.n, sp.k
    t = sp.gamma * s2
    tol = _TIE_RTOL * max(lam[0], t)
    r, nz = len(J), k - len(J)
    m = sum(1 for v in lam if v - t > tol)                  # eligible: a prefix
    at_t = sum(1 for v in lam if abs(v - t) <= tol)
    Js = set(J)
    pos = zero = 0
    # used column on p moving towards unused q: sign(lam_q - lam_p)
    if sp.min_gap <= tol:                                   # some eigenvalues are tied
        for p in J:
            for q in range(n):
                if q not in Js:
                    d = lam[q] - lam[p]
                    pos += d > tol
                    zero += abs(d) <= tol
        ties = sum(1 for a, b in combinations(J, 2) if abs(lam[a] - lam[b]) <= tol)
    else:                                                   # sorted, distinct: q < p
        pos = sum(p - i for i, p in enumerate(sorted(J)))
        ties = 0
    neg = r * (n - r) - pos - zero
    # pairs of used columns: rotation flat for LL; two curved under the penalty unless tied
    npairs = r * (r - 1) // 2
    if sp.penalised:
        zero += ties
        neg += 2 * npairs - ties
    else:
        zero += npairs
        neg += npairs
    # zero columns: towards used p (flat, or negative under the penalty), towards unused q
    if sp.penalised:
        neg += nz * r
    else:
        zero += nz * r
    pos += nz * (m - r)
    zero += nz * at_t
    neg += nz * (n - m - at_t)
    # lengths (and log sigma2)
    if learn:
        bs = _signs(np.linalg.eigvalsh(_length_block(sp, J, s2, True)), _BLOCK_TOL)
    else:
        bs = (0, 0, r)
    return (int(pos + bs[0]), int(zero + bs[1]), int(neg + bs[2]))
