"""Best-first enumeration of subsets in value order."""

import heapq

def _tree_children(S, m):
    """Children of the sorted position tuple S (subsets of range(m)) in the tree whose parent
    of S moves the first displaced entry one place up; each subset of a size is reached once
    from (0, ..., r-1), and a child never beats its parent when values decrease with position."""
    r = len(S)
    f = next((i for i in range(r) if S[i] > i), r)
    out = []
    if f >= 1:
        nxt = S[f] if f < r else m
        if f < nxt:
            out.append(S[:f - 1] + (f,) + S[f:])
    if f < r:
        nxt = S[f + 1] if f + 1 < r else m
        if S[f] + 1 < nxt:
            out.append(S[:f] + (S[f] + 1,) + S[f + 1:])
    return out

def _best_first(families, evaluate, cap, budget):
    """Merge the subset trees of several families in a heap, best value first.

    ``families``: list of (fixed part, candidate list L, max singles R).  ``evaluate(fixed,
    singles)`` returns (value, s2) or None (then the node and its subtree are pruned: valid
    because a child only swaps a single for a smaller eigenvalue).  Returns (results,
    exhausted) with results a list of (value, s2, fixed, singles)."""
    heap, seq, examined = [], 0, 0
    for fi, (fixed, L, R) in enumerate(families):
        for r in range(min(R, len(L)) + 1):
            S = tuple(range(r))
            ev = evaluate(fixed, [L[i] for i in S])
            examined += 1
            if ev is not None:
                heapq.heappush(heap, (-ev[0], seq, fi, S, ev[1]))
                seq += 1
    out = []
    while heap and len(out) < cap and examined < budget:
        negv, _, fi, S, s2 = heapq.heappop(heap)
        fixed, L, R = families[fi]
        out.append((-negv, s2, fixed, tuple(L[i] for i in S)))
        for C in _tree_children(S, len(L)):
            ev = evaluate(fixed, [L[i] for i in C])
            examined += 1
            if ev is not None:
                heapq.heappush(heap, (-ev[0], seq, fi, C, ev[1]))
                seq += 1
    return out, not heap
