"""Robustness at the edges: hostile magnitudes, dtypes and shapes, the invariants that must hold
on every accepted input, and a corpus of bad command lines.

Where a value is outside what float64 can represent the documented result is +-inf or a
ValueError, never NaN and never a FloatingPointError.  References: mpmath at 50 digits
(:mod:`gaussrelbo.testing`), closed forms evaluated by hand in the comments, scipy.
"""

import json
import os
import signal
import stat
import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import gaussrelbo as gr
from gaussrelbo import cli, testing
from gaussrelbo import montecarlo as mc
from gaussrelbo._reportdir import atomic_dir

EPS = np.finfo(float).eps


def _model(W, b=None, sigma2=1.0, V=None, c=None, D=None):
    W = np.asarray(W, float)
    n, k = W.shape
    return gr.LinearGaussianVAE(W, np.zeros(n) if b is None else b, sigma2,
                                V=np.zeros((k, n)) if V is None else V,
                                c=np.zeros(k) if c is None else c,
                                D=np.ones(k) if D is None else D)


def _rot(n, seed):
    return np.linalg.qr(np.random.default_rng(seed).normal(size=(n, n)))[0]


# ---- item 1: the bound with a full optimal encoder -------------------------------------------

@pytest.mark.parametrize("seed", range(4))
def test_relbo_below_evidence_full_encoder_spread_spectrum(seed):
    # n = k = 4, singular values 1e8 ... 1e-8 on rotated axes, sigma2 = 1e-8: before the fix
    # the stored D was indefinite and RELBO exceeded log p(x) by up to 1e7 nats.
    W = _rot(4, seed) @ np.diag([1e8, 1e3, 1e-3, 1e-8]) @ _rot(4, seed + 10).T
    m = gr.optimal_encoder(_model(W, sigma2=1e-8), "relbo", alpha=2.0, diagonal=False)
    x = np.random.default_rng(seed).normal(size=4)
    ll, r = gr.log_evidence(m, x), gr.relbo(m, x, 2.0)
    assert r <= ll


@pytest.mark.parametrize("seed", [1])
def test_relbo_below_evidence_wide_decoder(seed):
    # n = 3, k = 6, the three singular values 1e8, sigma2 = 1e-8, rotated latent axes: RELBO
    # exceeded log p(x) by 3 nats before
    rng = np.random.default_rng(seed)
    U, R = _rot(3, rng.integers(1000)), _rot(6, rng.integers(1000))
    W = U @ np.hstack([1e8 * np.eye(3), np.zeros((3, 3))]) @ R.T
    m = gr.optimal_encoder(_model(W, sigma2=1e-8), "relbo", alpha=0.5, diagonal=False)
    x = rng.normal(size=3)
    assert gr.relbo(m, x, 0.5) <= gr.log_evidence(m, x)


# ---- item 2: overflow of s^2 / sigma^2 ---------------------------------------------------------

def test_log_evidence_huge_ratio():
    # log N(0; 0, 1e16 + 1e-300) = -(log(2 pi) + log(1e16)) / 2 = -19.3396192771570...
    # (mpmath: -(log(2*pi) + log(mpf(1e16) + mpf(1e-300)))/2)
    got = gr.log_evidence(_model([[1e8]], sigma2=1e-300), [0.0])
    assert np.isclose(got, -19.339619277157039, rtol=1e-14)


def test_log_evidence_huge_weight():
    # W = 1e155, sigma2 = 1: -(log(2 pi) + log(1e310 + 1))/2 = -357.81962794728...
    m = _model([[1e155]])
    ref = float(testing.log_evidence([[1e155]], [0.0], 1.0, [[0.0]], [0.0], [1.0], [0.0],
                                     [[0.0]]))
    assert np.isclose(gr.log_evidence(m, [0.0]), ref, rtol=1e-14)
    assert np.isclose(ref, -357.8196279472817, rtol=1e-12)


def test_renyi_term_huge_weight_finite():
    m = _model([[1e155]])
    ref = float(testing.renyi_term([[1e155]], [0.0], 1.0, [[0.0]], [0.0], [1.0], [0.0],
                                   [[0.0]], 2.0))
    assert np.isfinite(ref)
    assert np.isclose(gr.renyi_term(m, [0.0], 2.0), ref, rtol=1e-14)


def test_elbo_diagonal_encoder_huge_ratio_finite():
    # ||w||/sigma = 1e158 while ||w||^2 D / sigma^2 ~ 1: a guard for the overflow-free
    # tr(W D W^T) / sigma^2 (dividing W by sigma before squaring overflows here); mpmath
    # reference at 30 digits
    W = 1e8 * np.random.default_rng(0).normal(size=(1, 2))
    m = gr.optimal_encoder(_model(W, sigma2=1e-300), "elbo", diagonal=True)
    x = np.array([5e-324])
    ref = testing.elbo(m.W, m.b, 1e-300, m.V, m.c, m.D, x, np.zeros((1, 1)), dps=30)
    assert np.isclose(gr.elbo(m, x), float(ref), rtol=1e-13)


# ---- item 3: no 0 * inf from valid input -------------------------------------------------------

def test_relbo_alpha_one_equals_infinite_elbo():
    # D = 1e300 and W = 1e200 make tr(W D W^T) / sigma2 overflow: the ELBO is -inf
    m = _model([[1e200]], sigma2=1e-200, D=[1e300])
    e = gr.elbo(m, [1e100])
    assert e == -np.inf
    assert gr.relbo(m, [1e100], 1.0) == e


def test_vr_bound_alpha_zero_with_huge_encoder_mean():
    # alpha = 0 is log p(x) = -(log(2 pi) + log 2)/2 = -1.2655121234846454 whatever q is
    m = _model([[1.0]], c=[1e160])
    assert gr.vr_bound(m, [0.0], 0.0) == pytest.approx(-1.2655121234846454, rel=1e-15)


# ---- item 4: non-finite input stored -----------------------------------------------------------

def test_huge_symmetric_matrices_stay_finite():
    big = np.array([[1e308, 1e307], [1e307, 1e308]])
    d = gr.DataMoments(np.zeros(2), big)
    assert np.all(np.isfinite(d.cov))
    assert np.array_equal(d.cov, big)
    m = _model(np.ones((2, 2)), D=1e308 * np.eye(2))
    assert np.all(np.isfinite(m.D))
    # nearly symmetric: the symmetric part, formed without overflow
    nearly = big.copy()
    nearly[0, 1] = np.nextafter(1e307, 2e307)
    assert np.all(np.isfinite(gr.DataMoments(np.zeros(2), nearly).cov))


# ---- item 5: exception types and messages ------------------------------------------------------

@pytest.mark.parametrize("value, match", [
    (10**400, r"`sigma2` must be within the float64 range"),
    (np.datetime64("2020-01-01"), r"`sigma2` must be a real number or array, got "),
    ([1, [2, 3]], r"`sigma2` must be a real number or a rectangular array, got a ragged"),
    (np.array([1.0, "a"], dtype=object), r"`sigma2` must be a real number or array"),
    (np.float64(-0.5), r"`sigma2` must be positive and finite, got -0\.5$"),
    (np.array([0.5, -2.0]), r"`sigma2` must be positive and finite, got -2\.0$"),
])
def test_bad_scalar_value_errors(value, match):
    with pytest.raises(ValueError, match=match):
        _model(np.ones((2, 1)), sigma2=value)


@pytest.mark.parametrize("call, match", [
    (lambda m: gr.relbo(m, [0.0, 0.0], 10**400), r"`alpha` must be within the float64 range"),
    (lambda m: gr.optimal_encoder(m, "elbo", diagonal="yes"), r"`diagonal` must be True or"),
    (lambda m: gr.optimal_encoder(m, "elbo", diagonal=1.5), r"`diagonal` must be True or"),
    (lambda m: m.posterior_gain(noise=-1), r"`noise` must be positive and finite, got -1\.0"),
    (lambda m: gr.shannon_entropy(np.zeros((0, 0))), r"`cov` must have shape .* k >= 1"),
    (lambda m: gr.DataMoments.from_samples(np.array([[1e200, 0.0], [-1e200, 1e200]])),
     r"`X` has a covariance beyond the float64 range"),
    (lambda m: gr.optimal_encoder(_model([[1.0]], sigma2=1e10), "beta_elbo", beta=1e300),
     r"`beta` times `sigma2` must be below"),
    (lambda m: gr.optimal_encoder(_model([[1.0]], sigma2=5e-324), "beta_elbo", beta=1e-16),
     r"`beta` times `sigma2` must be above"),
    (lambda m: mc.mc_elbo(m, [0.0, 0.0], 1.5), r"`n_samples` must be an integer"),
    (lambda m: mc.mc_elbo(m, [0.0, 0.0], 10, random_state="x"), r"`random_state` must be"),
])
def test_bad_arguments_value_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call(_model(np.ones((2, 1))))


# ---- item 6: one eigenvalue order; models own read-only copies ---------------------------------

def test_eigenvalues_descending_everywhere():
    d = gr.DataMoments(np.zeros(3), np.diag([1.0, 5.0, 3.0]))
    assert np.array_equal(d.eigenvalues, [5.0, 3.0, 1.0])
    assert np.allclose(np.abs(d.eigenvectors[:, 0]), [0.0, 1.0, 0.0])
    with pytest.raises(ValueError, match=r"`lam` .* descending"):
        gr.spectral_objective([0.5, 2.0, 3.0], [1.0], [0.5], [0.5], 0.4, "elbo")


def test_model_arrays_are_owned_copies():
    W = np.array([[1.0], [2.0]])
    m = _model(W)
    before = gr.log_evidence(m, [1.0, 1.0])
    W[0, 0] = 100.0                       # the caller's array changes, the model does not
    assert gr.log_evidence(m, [1.0, 1.0]) == before
    with pytest.raises(ValueError):       # and the model's arrays are read-only
        m.W[0, 0] = 5.0


# ---- item 9: mpmath references are scale-free --------------------------------------------------

def test_testing_references_small_scale():
    # posterior and encoder variances ~1e-61: mpmath's cholesky (absolute tolerance 1e-50)
    # called Sigma_alpha indefinite and its LU called C = W W^T + 1e-60 I (condition 5e60)
    # singular: ZeroDivisionError before
    s2 = 1e-60
    W, b, V, c = np.array([[1.0], [2.0]]), np.zeros(2), np.array([[0.1, 0.2]]), np.zeros(1)
    D, mean, cov = np.array([[0.3e-60]]), np.array([1e-30, -1e-30]), 1e-60 * np.eye(2)
    m = gr.LinearGaussianVAE(W, b, s2, V=V, c=c, D=D)
    data = gr.DataMoments(mean, cov)
    for a in (0.5, 2.0):
        ref = testing.vr_bound(W, b, s2, V, c, D, mean, cov, a)
        assert mpmath_isfinite(ref)
        assert np.isclose(gr.vr_bound(m, data, a), float(ref), rtol=1e-12)
    ref = testing.relbo(W, b, s2, V, c, D, mean, cov, 2.0)
    assert np.isclose(gr.relbo(m, data, 2.0), float(ref), rtol=1e-12)
    ref = testing.log_evidence(W, b, s2, V, c, D, mean, cov)
    assert np.isclose(gr.log_evidence(m, data), float(ref), rtol=1e-12)


def mpmath_isfinite(v):
    import mpmath
    return mpmath.isfinite(v)


def test_testing_references_ill_conditioned():
    # condition ~1e60 > 10**dps: a ZeroDivisionError from mpmath's LU before
    D = np.diag([1.0, 1e-60])
    ref = testing.shannon_entropy(D)
    # 1/2 log det(2 pi e D) = log(2 pi e) + 1/2 log(1e-60)
    assert np.isclose(float(ref), np.log(2 * np.pi * np.e) + 0.5 * np.log(1e-60), rtol=1e-15)


# ---- item 10: the VR bound at huge |alpha| -----------------------------------------------------

@pytest.mark.parametrize("alpha", [1e16, -1e16, 4e17])
def test_vr_bound_posterior_encoder_huge_alpha(alpha):
    m = gr.optimal_encoder(_model(np.random.default_rng(0).normal(size=(3, 2))), "elbo",
                           diagonal=False)
    x = np.zeros(3)          # the posterior mean is exactly 0 there: D_alpha(q || p) = 0
    assert gr.vr_bound(m, x, alpha) == pytest.approx(gr.log_evidence(m, x), rel=1e-13)


def test_vr_bound_wide_encoder_negative_alpha_no_overflow():
    # D = 1e300 against a posterior variance ~1: 1 + (alpha - 1)(1 - 1/mu) overflows for
    # alpha = -1e16, but D_alpha is finite; mpmath reference at 30 digits
    rng = np.random.default_rng(1)
    W, x = 2.2e-308 * rng.normal(size=(1, 2)), 1e20 * rng.normal(size=1)
    m = gr.optimal_encoder(_model(W, sigma2=1e-20), "relbo", alpha=1e-300, diagonal=True)
    for a in (-1e16, -1e300):
        ref = testing.vr_bound(m.W, m.b, 1e-20, m.V, m.c, m.D, x, np.zeros((1, 1)), a, dps=30)
        assert np.isclose(gr.vr_bound(m, x, a), float(ref), rtol=1e-13)


def test_vr_bound_overflowing_mu_inside_unit_interval():
    # a diagonal encoder variance of 1e-316 against posterior variances ~1e-16 makes mu overflow:
    # for 0 <= alpha <= 1 the bound was +-inf (alpha = 0 must give log p(x) exactly)
    W = 1e8 * np.random.default_rng(0).normal(size=(1, 2))
    m = gr.optimal_encoder(_model(W, sigma2=1e-300), "elbo", diagonal=True)
    x = np.array([5e-324])
    assert gr.vr_bound(m, x, 0.0) == gr.log_evidence(m, x)
    ref = testing.vr_bound(m.W, m.b, 1e-300, m.V, m.c, m.D, x, np.zeros((1, 1)), 0.5, dps=30)
    assert np.isclose(gr.vr_bound(m, x, 0.5), float(ref), rtol=1e-12)


# ---- invariants on hostile but valid input (hypothesis) ---------------------------------------

_MAGS = st.sampled_from([1e-300, 1e-150, 1e-20, 1e-8, 1.0, 1e8, 1e20, 1e150, 1e300])
_ORDERS = st.sampled_from([1e-300, 1e-16, 1.0 - EPS / 2, 1.0, 1.0 + EPS, 0.5, 2.0, 1e16, 1e300])


def _nan_free(fn):
    """Call ``fn``; a ValueError is allowed (a value beyond float64), a NaN or any other
    exception is not.  Returns the value or None."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            v = fn()
        except ValueError:
            return None
    if not isinstance(v, gr.LinearGaussianVAE):
        assert not np.any(np.isnan(v))
    return v


@given(n=st.integers(1, 4), k=st.integers(1, 4), sw=_MAGS, s2=_MAGS, sx=_MAGS,
       alpha=_ORDERS, diagonal=st.booleans(), seed=st.integers(0, 2**16))
@example(n=4, k=4, sw=1e8, s2=1e-8, sx=1.0, alpha=2.0, diagonal=False, seed=0)
def test_fuzz_objectives_nan_free_and_bounded(n, k, sw, s2, sx, alpha, diagonal, seed):
    rng = np.random.default_rng(seed)
    W, x = sw * rng.normal(size=(n, k)), sx * rng.normal(size=n)
    base = _model(W, sigma2=s2)
    m = _nan_free(lambda: gr.optimal_encoder(base, "relbo", alpha=alpha, diagonal=diagonal))
    if m is None:
        return
    ll = _nan_free(lambda: gr.log_evidence(m, x))
    r = _nan_free(lambda: gr.relbo(m, x, alpha))
    e = _nan_free(lambda: gr.elbo(m, x))
    r1 = _nan_free(lambda: gr.relbo(m, x, 1.0))
    b1 = _nan_free(lambda: gr.beta_elbo(m, x, 1.0))
    assert r1 == e                                       # RELBO_1 = ELBO exactly
    assert b1 == e                                       # beta-ELBO_1 = ELBO exactly
    if ll is not None and r is not None and np.isfinite(ll) and np.isfinite(r):
        # the conditioning bound: rounding of terms of size |rate|, |distortion| and the
        # Renyi term (weight (1 - alpha)/alpha) each a few eps relative
        # (the Renyi term by its parts: 1/2 log det D, k/2 (1 - ell) and 1/2 log det of the
        # posterior covariance, each with its own rounding)
        ell = float(testing.ell(alpha))
        parts = abs(m.logdet_D) + m.k * abs(1 - ell) + abs(m.log_post_ratio)
        scale = (abs(float(gr.rate(m, x))) + abs(float(gr.distortion(m, x)))
                 + abs((1 - alpha) / alpha) * 0.5 * parts + abs(ll))
        assert r <= ll + 64 * EPS * scale


@given(seed=st.integers(0, 2**16), diagonal=st.booleans())
def test_vr_bound_nonincreasing_in_alpha(seed, diagonal):
    rng = np.random.default_rng(seed)
    n, k = 3, 2
    m = _model(rng.normal(size=(n, k)), sigma2=0.5, V=0.3 * rng.normal(size=(k, n)),
               c=0.1 * rng.normal(size=k),
               D=rng.uniform(0.2, 1.0, k) if diagonal else np.diag(rng.uniform(0.2, 1.0, k)))
    x = rng.normal(size=n)
    alphas = [-2.0, -0.5, 0.0, 0.3, 0.7, 1.0, 1.5, 3.0]
    v = [gr.vr_bound(m, x, a) for a in alphas]
    assert not np.any(np.isnan(v))
    for lo, hi in zip(v[1:], v[:-1]):
        if np.isfinite(hi):
            assert lo <= hi + 1e-12 * max(1.0, abs(hi))
        else:                  # +inf for alpha < 0 outside the domain, -inf for alpha > 1
            assert lo <= hi


@given(seed=st.integers(0, 2**16))
def test_dtypes_float32_lists_readonly_noncontiguous(seed):
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(6, 4))[::2, ::2]           # non-contiguous (3, 2)
    W.flags.writeable = False
    m64 = _model(np.ascontiguousarray(W), sigma2=0.7, D=[0.5, 0.25])
    x = rng.normal(size=3)
    ref = gr.relbo(m64, x, 2.0)
    m32 = _model(W.astype(np.float32), sigma2=np.float32(0.7), D=np.float32([0.5, 0.25]))
    mlist = _model(W.tolist(), sigma2=0.7, D=[0.5, 0.25])
    # float32 inputs are converted exactly: the same doubles only if they were float32 already
    assert np.isclose(gr.relbo(m32, x.astype(np.float32), 2.0), ref, rtol=1e-6)
    assert gr.relbo(mlist, x.tolist(), 2.0) == ref
    assert gr.relbo(m64, x, 2) == ref                       # a Python int order
    mint = _model(np.array([[1, 0], [0, 2], [1, 1]]), sigma2=1, D=np.array([1, 1]))
    mflt = _model(np.array([[1.0, 0], [0, 2], [1, 1]]), sigma2=1.0, D=[1.0, 1.0])
    assert gr.elbo(mint, x) == gr.elbo(mflt, x)


@given(seed=st.integers(0, 2**16))
def test_latent_permutation_and_data_rotation_invariance(seed):
    rng = np.random.default_rng(seed)
    n, k = 4, 3
    W, V = rng.normal(size=(n, k)), rng.normal(size=(k, n))
    c, D = rng.normal(size=k), rng.uniform(0.2, 1.0, k)
    b, x = rng.normal(size=n), rng.normal(size=n)
    m = gr.LinearGaussianVAE(W, b, 0.6, V=V, c=c, D=D)
    P = rng.permutation(k)
    mp_ = gr.LinearGaussianVAE(W[:, P], b, 0.6, V=V[P], c=c[P], D=D[P])
    Q = _rot(n, seed)
    mq = gr.LinearGaussianVAE(Q @ W, Q @ b, 0.6, V=V @ Q.T, c=c, D=D)
    for f in (gr.log_evidence, gr.elbo, lambda mm, xx: gr.relbo(mm, xx, 0.7),
              lambda mm, xx: gr.vr_bound(mm, xx, 0.5)):
        v = f(m, x)
        assert np.isclose(f(mp_, x), v, rtol=1e-12)
        assert np.isclose(f(mq, Q @ x), v, rtol=1e-11)


@pytest.mark.parametrize("shape_ok", [True, False])
def test_broadcasting_shapes(shape_ok):
    m = gr.LinearGaussianVAE(np.ones((2, 3, 1)), np.zeros(3), np.array([0.5, 1.0]),
                             V=np.zeros((1, 3)), c=np.zeros(1), D=np.ones(1))
    if shape_ok:
        v = gr.relbo(m, np.zeros((4, 1, 3)), np.array([1.0, 2.0]))
        assert v.shape == (4, 2)
    else:
        with pytest.raises(ValueError, match=r"`alpha` has shape \(3,\)"):
            gr.relbo(m, np.zeros(3), np.array([1.0, 2.0, 3.0]))


# ---- item 7: the command line ------------------------------------------------------------------

_FILES = {"empty.txt": "", "comment.txt": "# nothing\n# here\n", "words.txt": "three\ntwo\n",
          "overflow.txt": "1e400\n1\n", "nan.txt": "nan\n1\n2\n", "ragged.csv": "1,2\n3\n",
          "negative.txt": "3\n-1\n2\n"}


@pytest.mark.parametrize("name", sorted(_FILES))
def test_cli_bad_spectrum_files(name, tmp_path, capsys):
    path = tmp_path / name
    path.write_text(_FILES[name])
    code = cli.main(["report", "--spectrum", str(path), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1
    assert err[0].startswith("gaussrelbo report: error: ")
    if name in ("empty.txt", "comment.txt"):
        assert "has no numbers" in err[0]


def test_cli_bom_file_is_read(tmp_path):
    from gaussrelbo.datasets import load_spectrum
    path = tmp_path / "bom.txt"
    path.write_text("\ufeff3\n2\n1\n", encoding="utf-8")
    assert np.array_equal(load_spectrum(path), [3.0, 2.0, 1.0])


@pytest.mark.parametrize("argv", [[], ["nope"], ["report", "--k", "0"],
                                  ["report", "--k", str(10**400)], ["report", "--sigma2", "nan"],
                                  ["report", "--sigma2", "1e400"],
                                  ["report", "--spectrum", "nonexistent-file"]])
def test_cli_one_line_exit_2(argv, capsys, tmp_path):
    try:
        code = cli.main([*argv, *(["--out", str(tmp_path / "o")] if argv[:1] == ["report"]
                                  else [])])
    except SystemExit as exc:                     # argparse errors exit from parse_args
        code = exc.code
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1


def test_cli_internal_error_is_one_line(monkeypatch, capsys):
    from gaussrelbo import _cli_report

    def boom(args):
        raise StopIteration("deep inside")
    monkeypatch.setattr(_cli_report, "run", boom)
    code = cli.main(["report"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1
    assert "StopIteration: deep inside" in err[0]


def test_cli_keyboard_interrupt_130(monkeypatch, capsys):
    from gaussrelbo import _cli_report

    def interrupted(args):
        raise KeyboardInterrupt
    monkeypatch.setattr(_cli_report, "run", interrupted)
    assert cli.main(["report"]) == 130
    assert "Traceback" not in capsys.readouterr().err


def test_cli_stdout_closed_no_traceback():
    r = subprocess.run([sys.executable, "-c", "import os, sys; os.close(1); sys.stdout = None; "
                        "from gaussrelbo import cli; sys.exit(cli.main(['optima', '--k', '2', "
                        "'--objective', 'elbo', '--sigma2', '1']))"],
                       stderr=subprocess.PIPE, text=True, timeout=120)
    assert "Traceback" not in r.stderr
    assert r.returncode == 0


# ---- item 8: the report's atomic directory -----------------------------------------------------

def test_atomic_dir_honours_umask(tmp_path):
    old = os.umask(0o022)
    try:
        with atomic_dir(tmp_path / "rep") as tmp:
            (tmp / "a.txt").write_text("x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "rep").stat().st_mode) == 0o755


def test_atomic_dir_cleans_up_on_sigterm(tmp_path):
    code = ("import os, signal, sys, time\n"
            "from gaussrelbo._reportdir import atomic_dir\n"
            "with atomic_dir(sys.argv[1]) as tmp:\n"
            "    print(tmp, flush=True)\n"
            "    time.sleep(60)\n")
    p = subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "rep")],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    tmp = p.stdout.readline().strip()
    assert os.path.isdir(tmp)
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 128 + signal.SIGTERM
    assert "Traceback" not in err
    assert not os.path.exists(tmp)
    assert os.listdir(tmp_path) == []

