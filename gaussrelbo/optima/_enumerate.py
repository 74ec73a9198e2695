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
    stopped = False
    for fi, (fixed, L, R) in enumerate(families):
        if examined >= budget:
            stopped = True
            break
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
    return out, not heap and not stopped


def _best_first_lazy(families, evaluate, cap, budget):
    """As :func:`_best_first`, for families whose single gains are all positive: only the
    largest root of each family is pushed at first, and the root of size r - 1 when the root
    of size r is popped (it is worse, so the order stays exact).  Returns (results, exhausted,
    examined)."""
    heap, seq, examined = [], 0, 0

    def push(fi, S):
        nonlocal seq, examined
        fixed, L, _ = families[fi]
        ev = evaluate(fixed, [L[i] for i in S])
        examined += 1
        if ev is not None:
            heapq.heappush(heap, (-ev[0], seq, fi, S, ev[1]))
            seq += 1
        elif len(S) and S == tuple(range(len(S))):      # an infeasible root: try a smaller one
            push(fi, S[:-1])

    for fi, (fixed, L, R) in enumerate(families):
        push(fi, tuple(range(min(R, len(L)))))
    budget += examined                      # the budget limits the expansion, not the roots
    out = []
    while heap and len(out) < cap and examined < budget:
        negv, _, fi, S, s2 = heapq.heappop(heap)
        fixed, L, R = families[fi]
        out.append((-negv, s2, fixed, tuple(L[i] for i in S)))
        if len(S) and S == tuple(range(len(S))):
            push(fi, S[:-1])
        for C in _tree_children(S, len(L)):
            push(fi, C)
    return out, not heap, examined


def _families(multi, k, cap):
    """Sets of disjoint multi-column clusters with at most k columns in all, the empty set
    first, then by number of clusters (each level in candidate order); returns (families,
    exhausted)."""
    out = [()]
    level = [((), frozenset(), 0, -1)]
    while level:
        nxt = []
        for chosen, used, cols, last in level:
            for i in range(last + 1, len(multi)):
                cl = multi[i]
                if cols + cl.c > k or used.intersection(cl.J):
                    continue
                if len(out) >= cap:
                    return out, False
                fam = chosen + (cl,)
                out.append(fam)
                if cols + cl.c + 2 <= k:
                    nxt.append((fam, used.union(cl.J), cols + cl.c, i))
        level = nxt
    return out, True
