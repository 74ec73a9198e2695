"""The model and data-moment containers: shapes, replace(), the cached SVD, the posterior gain
and covariance (against ``np.linalg.solve``), and DataMoments (against ``np.cov``)."""


import numpy as np
import pytest
from scipy import stats
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import gaussrelbo as gr


from gaussrelbo.testing import strategies as strat  # noqa: E402

batch_shapes = hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3)


def _model(rng, n, k, batch=(), diagonal=True, sigma2=0.3):
    D = rng.uniform(0.2, 1.0, batch + (k,))
    if not diagonal:
        D = D[..., :, None] * np.eye(k) + 0.1
    return gr.LinearGaussianVAE(rng.normal(size=batch + (n, k)), rng.normal(size=(n,)), sigma2,
                                V=rng.normal(size=(k, n)), c=rng.normal(size=(k,)), D=D,
                                encoder="diagonal" if diagonal else "full")


# ---- shapes ------------------------------------------------------------------------------------

@given(n=strat.dims, k=strat.dims, bW=batch_shapes, bs=batch_shapes, bD=batch_shapes,
       diagonal=st.booleans())
def test_shapes_and_batch_shape(n, k, bW, bs, bD, diagonal):
    try:
        expected = np.broadcast_shapes(bW, bs, bD)
    except ValueError:
        expected = None
    rng = np.random.default_rng(0)
    D = np.broadcast_to(np.eye(k), bD + (k, k)) if not diagonal else np.ones(bD + (k,))
    args = (rng.normal(size=bW + (n, k)), np.zeros(n), np.full(bs, 0.5), np.zeros((k, n)),
            np.zeros(k), D)
    if expected is None:
        with pytest.raises(ValueError, match="do not broadcast"):
            gr.LinearGaussianVAE(*args[:3], V=args[3], c=args[4], D=args[5],
                                 encoder="diagonal" if diagonal else "full")
        return
    m = gr.LinearGaussianVAE(*args[:3], V=args[3], c=args[4], D=args[5],
                             encoder="diagonal" if diagonal else "full")
    assert (m.n, m.k, m.diagonal, m.batch_shape) == (n, k, diagonal, expected)
    assert f"n={n}, k={k}" in repr(m) and ("diagonal" if diagonal else "full") in repr(m)
    # objectives follow the batch shape
    x = np.zeros(n)
    assert np.shape(gr.elbo(m, x)) == expected
    assert np.shape(gr.log_evidence(m, gr.DataMoments(x, np.eye(n)))) == expected


def test_encoder_cov_inference():
    rng = np.random.default_rng(3)
    W, b, V, c = rng.normal(size=(4, 2)), np.zeros(4), np.zeros((2, 4)), np.zeros(2)
    assert gr.LinearGaussianVAE(W, b, 1.0, V=V, c=c, D=np.ones(2)).diagonal
    assert not gr.LinearGaussianVAE(W, b, 1.0, V=V, c=c, D=np.eye(2)).diagonal
    # (k, k) read as a batch of k diagonals when asked
    m = gr.LinearGaussianVAE(W, b, 1.0, V=V, c=c, D=np.ones((2, 2)), encoder_cov="diag")
    assert m.diagonal and m.batch_shape == (2,)
    # (3, k): a batch of diagonals whatever encoder_cov=None infers
    m = gr.LinearGaussianVAE(W, b, 1.0, V=V, c=c, D=np.ones((3, 2)))
    assert m.diagonal and m.batch_shape == (3,)
    with pytest.raises(ValueError, match="encoder_cov"):
        gr.LinearGaussianVAE(W, b, 1.0, V=V, c=c, D=np.ones(2), encoder_cov="dense")


# ---- replace -----------------------------------------------------------------------------------

@given(p=strat.problems(), seed=st.integers(0, 2**16))
def test_replace(p, seed):
    m = p.model
    W0 = m.W.copy()
    rng = np.random.default_rng(seed)
    _ = m.svd                                              # fill the cache of the original
    W2 = rng.normal(size=m.W.shape)
    m2 = m.replace(W=W2, sigma2=0.7)
    assert m2 is not m and isinstance(m2, gr.LinearGaussianVAE)
    assert np.array_equal(m2.W, W2) and m2.sigma2 == 0.7
    for name in ("b", "V", "c", "D"):
        assert np.array_equal(getattr(m2, name), getattr(m, name))
    assert m2.diagonal == m.diagonal                       # the encoder family is kept
    # the original is untouched, and the copy's cached SVD is of the new W
    assert np.array_equal(m.W, W0)
    U, s, R = m2.svd
    r = U.shape[-1]
    assert np.allclose((U * s[:r]) @ R[:, :r].T, W2, atol=1e-12 * (1 + np.abs(W2).max()))
    U0, s0, R0 = m.svd
    assert np.allclose((U0 * s0[:r]) @ R0[:, :r].T, m.W, atol=1e-12 * (1 + np.abs(m.W).max()))
    # switching the encoder family through D (inferred, or explicit)
    full = m.replace(D=np.eye(m.k))
    assert not full.diagonal and full.D.shape == (m.k, m.k)
    diag = full.replace(D=np.ones(m.k))
    assert diag.diagonal and diag.D.shape == (m.k,)
    batch = full.replace(D=np.ones((m.k, m.k)), encoder_cov="diag")
    assert batch.diagonal and batch.batch_shape == (m.k,)
    # replace(V=...) keeps a full D full
    assert not full.replace(V=np.zeros((m.k, m.n))).diagonal


def test_replace_rejects_unknown_and_invalid():
    m = _model(np.random.default_rng(0), 3, 2)
    with pytest.raises(ValueError, match="unknown parameter"):
        m.replace(Z=1.0)
    with pytest.raises(ValueError, match="sigma2"):
        m.replace(sigma2=-1.0)
    with pytest.raises(ValueError, match="W"):
        m.replace(W=np.ones(3))


# ---- the SVD and the posterior ---------------------------------------------------------------

@given(p=strat.problems(), batch=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_svd_reconstructs_W(p, batch, seed):
    m = p.model
    n, k = m.n, m.k
    for model in (m, m.replace(W=np.random.default_rng(seed).normal(size=(batch, n, k)))):
        U, s, R = model.svd
        r = min(n, k)
        bs = model.batch_shape
        assert U.shape == bs + (n, r) and s.shape == bs + (k,) and R.shape == bs + (k, k)
        assert np.all(s[..., r:] == 0) and np.all(s >= 0)
        assert np.all(np.diff(s[..., :r], axis=-1) <= 0)            # descending
        Rr = np.swapaxes(R[..., :, :r], -1, -2)
        scale = 1 + np.abs(model.W).max()
        assert np.allclose((U * s[..., None, :r]) @ Rr, model.W, atol=1e-13 * scale * k)
        eye_k = np.eye(k)
        assert np.allclose(np.swapaxes(R, -1, -2) @ R, eye_k, atol=1e-13 * k)
        assert np.allclose(np.swapaxes(U, -1, -2) @ U, np.eye(r), atol=1e-13 * n)
        # s are the singular values (numpy's own, independently)
        sv = np.linalg.svd(model.W, compute_uv=False)
        assert np.allclose(s[..., :r], sv, rtol=1e-12, atol=1e-13 * scale)
    # cached: the same object on a second access
    assert m.svd is m.svd


@given(p=strat.problems(), noise=st.one_of(st.none(), st.floats(0.05, 10.0)))
def test_posterior_gain_and_covariance(p, noise):
    m = p.model
    g = m.sigma2 if noise is None else noise
    M = m.W.T @ m.W + g * np.eye(m.k)
    # cond(M) <= 1 + ||W||^2 / g <~ 3e3
    G = m.posterior_gain() if noise is None else m.posterior_gain(noise)
    assert G.shape == (m.k, m.n)
    ref = np.linalg.solve(M, m.W.T)
    assert np.allclose(G, ref, rtol=1e-11, atol=1e-12 * (1 + np.abs(ref).max()))
    tau, R = m.posterior_cov_eigen() if noise is None else m.posterior_cov_eigen(noise)
    assert tau.shape == (m.k,) and R.shape == (m.k, m.k)
    assert np.all((tau > 0) & (tau <= 1))
    ref_cov = g * np.linalg.solve(M, np.eye(m.k))
    assert np.allclose((R * tau) @ R.T, ref_cov, rtol=1e-11, atol=1e-13)
    if noise is None:
        ld = 2 * np.sum(np.log(np.diag(np.linalg.cholesky(0.5 * (ref_cov + ref_cov.T)))))
        assert np.isclose(m.log_post_ratio, ld, rtol=1e-12, atol=1e-12 * m.k)
        D = np.diag(m.D) if m.diagonal else m.D
        assert np.isclose(m.logdet_D, np.linalg.slogdet(D)[1], rtol=1e-12, atol=1e-12 * m.k)
        assert np.isclose(m.trace_D, np.trace(D), rtol=1e-14)


def test_posterior_gain_batched():
    rng = np.random.default_rng(5)
    m = _model(rng, 4, 3, batch=(2, 3), sigma2=np.array([0.2, 0.5, 1.0]))
    G = m.posterior_gain()
    assert G.shape == (2, 3, 3, 4)
    for i in range(2):
        for j in range(3):
            W = m.W[i, j]
            M = W.T @ W + m.sigma2[j] * np.eye(3)
            assert np.allclose(G[i, j], np.linalg.solve(M, W.T), atol=1e-13)
    assert m.log_post_ratio.shape == (2, 3)


# ---- DataMoments ------------------------------------------------------------------------------

@given(n=strat.dims, data=st.data())
def test_from_samples_matches_np_cov(n, data):
    X = data.draw(strat.samples(n, max_rows=15))
    N = X.shape[0]
    d0 = gr.DataMoments.from_samples(X, ddof=0)
    assert d0.mean.shape == (n,) and d0.cov.shape == (n, n) and d0.n == n
    assert d0.batch_shape == ()
    sc = 1 + np.abs(X).max() ** 2
    assert np.allclose(d0.mean, X.mean(axis=0), rtol=1e-14, atol=1e-14 * sc)
    assert np.allclose(d0.cov, np.atleast_2d(np.cov(X.T, ddof=0)), atol=1e-13 * sc)
    if N >= 2:
        d1 = gr.DataMoments.from_samples(X, ddof=1)
        assert np.allclose(d1.cov, np.atleast_2d(np.cov(X.T, ddof=1)), atol=1e-13 * sc)
        assert np.allclose(d1.cov * (N - 1), d0.cov * N, atol=1e-12 * sc * N)
    else:
        with pytest.raises(ValueError, match="ddof"):
            gr.DataMoments.from_samples(X, ddof=1)
    # the eigen-decomposition and factor reproduce S, eigenvalues >= 0
    assert np.all(d0.eigenvalues >= 0)
    L = d0.factor
    assert np.allclose(L @ L.T, d0.cov, atol=1e-12 * sc)
    assert np.allclose(np.sort(d0.eigenvalues), np.clip(np.linalg.eigvalsh(d0.cov), 0, None),
                       atol=1e-12 * sc)


@given(lam=hnp.arrays(np.float64, st.integers(1, 6), elements=st.floats(0.0, 10.0)),
       with_mean=st.booleans())
def test_from_spectrum(lam, with_mean):
    n = lam.shape[0]
    mean = np.arange(n, dtype=float) if with_mean else None
    d = gr.DataMoments.from_spectrum(lam, mean=mean)
    assert np.array_equal(d.cov, np.diag(lam))
    assert np.array_equal(d.mean, np.zeros(n) if mean is None else mean)
    assert np.allclose(np.sort(d.eigenvalues), np.sort(lam), rtol=1e-15, atol=0)
    assert d.n == n and d.batch_shape == ()


def test_from_spectrum_batched_and_invalid():
    lam = np.array([[3.0, 1.0, 0.0], [2.0, 2.0, 0.5]])
    d = gr.DataMoments.from_spectrum(lam)
    assert d.batch_shape == (2,) and d.cov.shape == (2, 3, 3)
    assert np.array_equal(d.cov[1], np.diag(lam[1]))
    with pytest.raises(ValueError, match="eigenvalues"):
        gr.DataMoments.from_spectrum([1.0, -0.5])


def test_data_moments_batch_and_errors():
    d = gr.DataMoments(np.zeros((4, 1, 3)), np.broadcast_to(np.eye(3), (2, 3, 3)))
    assert d.batch_shape == (4, 2) and d.n == 3 and "n=3" in repr(d)
    with pytest.raises(ValueError, match="do not broadcast"):
        gr.DataMoments(np.zeros((4, 3)), np.broadcast_to(np.eye(3), (2, 3, 3)))
    with pytest.raises(ValueError, match="positive semi-definite"):
        gr.DataMoments(np.zeros(2), np.diag([1.0, -1.0]))
    with pytest.raises(ValueError, match="ddof"):
        gr.DataMoments.from_samples(np.ones((3, 2)), ddof=2)
    with pytest.raises(ValueError, match="X"):
        gr.DataMoments.from_samples(np.ones(3))


# ---- decoder-only models, keyword-only encoders, one spelling of the encoder family -------------

def test_decoder_only_model():
    rng = np.random.default_rng(3)
    W, b, x = rng.normal(size=(4, 2)), rng.normal(size=4), rng.normal(size=4)
    dec = gr.LinearGaussianVAE.from_decoder(W, b, 0.6)
    assert not dec.has_encoder
    assert dec.encoder is None
    assert dec.V is None
    assert "no encoder" in repr(dec)
    # log p(x) needs only the decoder: N(b, W W^T + sigma2 I) by scipy
    ref = stats.multivariate_normal(b, W @ W.T + 0.6 * np.eye(4)).logpdf(x)
    assert abs(gr.log_evidence(dec, x) - ref) <= 1e-13 * abs(ref)
    for fn, args in ((gr.elbo, ()), (gr.relbo, (2.0,)), (gr.rate, ()), (gr.vr_bound, (0.5,))):
        with pytest.raises(ValueError, match="has no encoder"):
            fn(dec, x, *args)
    with pytest.raises(ValueError, match="has no encoder"):
        gr.montecarlo.mc_log_evidence(dec, x, n_samples=10)
    full = gr.optimal_encoder(dec, "elbo", encoder="full")
    assert full.encoder == "full"
    assert dec.with_encoder(V=full.V, c=full.c, D=full.D).encoder == "full"
    # the same decoder: the cached SVD is shared, not recomputed
    assert full.svd is dec.svd
    assert full.decoder_only().has_encoder is False
    # a batch of decoders: batch shape from W, b, sigma2 only; chunked evaluation keeps working
    batch = gr.LinearGaussianVAE.from_decoder(rng.normal(size=(3000, 4, 2)), b, 0.6)
    assert batch.batch_shape == (3000,)
    out = gr.log_evidence(batch, x)
    ref0 = stats.multivariate_normal(b, batch.W[0] @ batch.W[0].T + 0.6 * np.eye(4)).logpdf(x)
    assert out.shape == (3000,)
    assert abs(out[0] - ref0) <= 1e-13 * abs(ref0)


def test_encoder_arguments_are_keyword_only_and_complete():
    W, b, V, c = np.ones((3, 2)), np.zeros(3), np.zeros((2, 3)), np.zeros(2)
    with pytest.raises(TypeError):
        gr.LinearGaussianVAE(W, b, 0.5, V, c, np.ones(2))
    with pytest.raises(ValueError, match="needs all of V, c and D; got V, c but not D"):
        gr.LinearGaussianVAE(W, b, 0.5, V=V, c=c)
    with pytest.raises(ValueError, match="without an encoder"):
        gr.LinearGaussianVAE(W, b, 0.5, encoder="full")
    with pytest.raises(ValueError, match=r"`encoder` must be None, 'diagonal' or 'full', got 'diag2'"):
        gr.LinearGaussianVAE(W, b, 0.5, V=V, c=c, D=np.ones(2), encoder="diag2")
    with pytest.raises(ValueError, match="only one of `encoder` and its deprecated alias"):
        gr.LinearGaussianVAE(W, b, 0.5, V=V, c=c, D=np.ones(2), encoder="full", encoder_cov="diag")


def test_old_spellings_are_aliases():
    W, b, V, c = np.ones((3, 2)), np.zeros(3), np.zeros((2, 3)), np.zeros(2)
    m = gr.LinearGaussianVAE(W, b, 0.5, V=V, c=c, D=np.ones((2, 2)), encoder_cov="diag")
    assert m.encoder == "diagonal"
    assert m.batch_shape == (2,)
    dec = gr.LinearGaussianVAE.from_decoder(W, b, 0.5)
    a = gr.optimal_encoder(dec, "relbo", alpha=2.0, diagonal=False)
    e = gr.optimal_encoder(dec, "relbo", alpha=2.0, encoder="full")
    np.testing.assert_array_equal(a.D, e.D)
    assert gr.optimal_encoder(dec, "elbo").encoder == "diagonal"
    with pytest.raises(ValueError, match="only one of `encoder` and its deprecated alias"):
        gr.optimal_encoder(dec, "elbo", diagonal=True, encoder="full")
    with pytest.raises(ValueError, match=r"`encoder` must be 'diagonal' or 'full', got 'dense'"):
        gr.optimal_encoder(dec, "elbo", encoder="dense")
    r = m.replace(D=np.eye(2), encoder_cov="full")
    assert r.encoder == "full"


def test_replace_keeps_or_reinfers_the_family():
    rng = np.random.default_rng(4)
    m = gr.optimal_encoder(gr.LinearGaussianVAE.from_decoder(rng.normal(size=(4, 2)),
                                                             np.zeros(4), 0.5), "elbo")
    assert m.replace(c=np.ones(2)).encoder == "diagonal"
    assert m.replace(D=np.eye(2)).encoder == "full"            # re-inferred from D
    assert m.replace(b=np.ones(4)).svd is m.svd                # decoder W, sigma2 unchanged
    assert "svd" not in m.replace(sigma2=0.7).__dict__
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['Z'\]"):
        m.replace(Z=1)
    # a decoder-only model gains an encoder through replace as through with_encoder
    dec = m.decoder_only()
    assert dec.replace(V=m.V, c=m.c, D=m.D).encoder == "diagonal"
