"""Hypothesis strategies: random well-conditioned models and data (imported by path)."""

import numpy as np
from hypothesis import strategies as st

import gaussrelbo as gr


@st.composite
def problems(draw, full=None, n_max=6, k_max=4):
    """``(model, data, x)``: a random model (n, k drawn; diagonal or full D), population moments
    and a data point."""
    seed = draw(st.integers(0, 2**32 - 1))
    n = draw(st.integers(1, n_max))
    k = draw(st.integers(1, k_max))
    full = draw(st.booleans()) if full is None else full
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(n, k))
    sigma2 = float(rng.uniform(0.2, 2.0))
    V = 0.5 * rng.normal(size=(k, n))
    c = 0.3 * rng.normal(size=k)
    if full:
        A = rng.normal(size=(k, k))
        D = A @ A.T / k + 0.2 * np.eye(k)
    else:
        D = rng.uniform(0.1, 1.5, size=k)
    model = gr.LinearGaussianVAE(W, rng.normal(size=n), sigma2, V, c, D)
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    data = gr.DataMoments(rng.normal(size=n), (Q * rng.uniform(0.1, 3.0, n)) @ Q.T)
    return model, data, rng.normal(size=n)


alphas = st.one_of(st.floats(0.05, 20.0), st.sampled_from([1.0, 1 + 1e-12, 1 - 1e-12]))
