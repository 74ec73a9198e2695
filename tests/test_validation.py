"""Bad input at every public entry point raises a ValueError naming the argument.

Messages are pinned with ``match=``.  A numpy scalar taken out of an array prints as
``np.float64(-0.5)`` under numpy >= 2 and as ``-0.5`` before, so such values are matched by
:func:`_num`.
"""

import re

import numpy as np
import pytest

import gaussrelbo as gr

n, k = 4, 2
GOOD = dict(W=np.ones((n, k)), b=np.zeros(n), sigma2=0.5, V=np.zeros((k, n)), c=np.zeros(k),
            D=np.ones(k))
NONSYM = np.array([[1.0, 0.5], [0.0, 1.0]])
INDEFINITE = np.array([[1.0, 2.0], [2.0, 1.0]])        # eigenvalues 3, -1
FINITE = r"must be finite \(no NaN or inf\)"


def _num(x):
    """Regex for a number as the messages print it (a Python float or a numpy scalar)."""
    return rf"(np\.float64\()?{re.escape(repr(float(x)))}\)?"


def _model(**kw):
    return gr.LinearGaussianVAE(**{**GOOD, **kw})


def _data():
    return gr.DataMoments(np.zeros(n), np.eye(n))


# ---- LinearGaussianVAE -------------------------------------------------------------------------

@pytest.mark.parametrize("kw, match", [
    # W
    (dict(W=np.ones(3)), r"`W` must have shape \(\.\.\., n, k\), got \(3,\)"),
    (dict(W=1.0), r"`W` must have shape \(\.\.\., n, k\), got \(\)"),
    (dict(W=np.full((n, k), np.nan)), r"`W` " + FINITE + r", got an array of shape \(4, 2\) "
                                      r"with 8 non-finite entries"),
    (dict(W=np.array([[1.0, np.inf]] * n)), r"`W` " + FINITE),
    (dict(W=np.array([[1.0, -np.inf]] * n)), r"`W` " + FINITE),
    (dict(W="abc"), r"`W` must be a real number or array, got 'abc'"),
    # b
    (dict(b=np.zeros(3)), r"`b` must have shape \(\.\.\., n\) with n=4, got \(3,\)"),
    (dict(b=0.0), r"`b` must have shape \(\.\.\., n\) with n=4, got \(\)"),
    (dict(b=np.array([0.0, 0.0, np.inf, 0.0])), r"`b` " + FINITE),
    (dict(b=np.array([0.0, np.nan, 0.0, 0.0])), r"`b` " + FINITE),
    # sigma2
    (dict(sigma2=0.0), r"`sigma2` must be positive and finite, got 0\.0"),
    (dict(sigma2=-0.3), r"`sigma2` must be positive and finite, got -0\.3"),
    (dict(sigma2=np.array([0.5, -1.0])), r"`sigma2` must be positive and finite, got "
                                         + _num(-1.0)),
    (dict(sigma2=np.nan), r"`sigma2` " + FINITE + r", got nan"),
    (dict(sigma2=np.inf), r"`sigma2` " + FINITE + r", got inf"),
    (dict(sigma2=-np.inf), r"`sigma2` " + FINITE + r", got -inf"),
    (dict(sigma2="x"), r"`sigma2` must be a real number or array, got 'x'"),
    # V
    (dict(V=np.zeros((k, 3))), r"`V` must have shape \(\.\.\., k, n\) with k=2, n=4, "
                               r"got \(2, 3\)"),
    (dict(V=np.zeros((n, k))), r"`V` must have shape \(\.\.\., k, n\) with k=2, n=4, "
                               r"got \(4, 2\)"),
    (dict(V=np.zeros(n)), r"`V` must have shape \(\.\.\., k, n\)"),
    (dict(V=np.full((k, n), np.nan)), r"`V` " + FINITE),
    (dict(V=np.full((k, n), np.inf)), r"`V` " + FINITE),
    # c
    (dict(c=np.zeros(3)), r"`c` must have shape \(\.\.\., k\) with k=2, got \(3,\)"),
    (dict(c=np.array([np.nan, 0.0])), r"`c` " + FINITE),
    (dict(c=np.array([np.inf, 0.0])), r"`c` " + FINITE),
    # D, diagonal
    (dict(D=np.ones(3)), r"`D` must have shape \(\.\.\., k\) or \(\.\.\., k, k\) with k=2, "
                         r"got \(3,\)"),
    (dict(D=1.0), r"`D` must have shape \(\.\.\., k\) or \(\.\.\., k, k\) with k=2, got \(\)"),
    (dict(D=np.array([1.0, 0.0])), r"`D` \(diagonal encoder variances\) must be positive, "
                                   r"got " + _num(0.0)),
    (dict(D=np.array([1.0, -1.0])), r"`D` \(diagonal encoder variances\) must be positive, "
                                    r"got " + _num(-1.0)),
    (dict(D=np.array([1.0, np.nan])), r"`D` " + FINITE),
    (dict(D=np.array([np.inf, 1.0])), r"`D` " + FINITE),
    # D, full
    (dict(D=np.ones((3, 3))), r"`D` must have shape \(\.\.\., k\) or \(\.\.\., k, k\) with "
                              r"k=2, got \(3, 3\)"),
    (dict(D=NONSYM), r"`D` must be symmetric, got a matrix with max \|A - A\^T\| = 0\.5"),
    (dict(D=INDEFINITE), r"`D` must be positive definite, got smallest eigenvalue -1"),
    (dict(D=np.ones((k, k))), r"`D` must be positive definite, got smallest eigenvalue 0"),
    (dict(D=np.stack([np.eye(k), NONSYM])), r"`D` must be symmetric"),
    (dict(D=np.array([[1.0, np.nan], [np.nan, 1.0]])), r"`D` " + FINITE),
    (dict(D=np.array([[np.inf, 0.0], [0.0, 1.0]])), r"`D` " + FINITE),
    (dict(D=np.ones(k), encoder_cov="full"), r"`D` must have shape \(\.\.\., k\) or "
                                             r"\(\.\.\., k, k\) with k=2, got \(2,\)"),
    (dict(encoder_cov="dense"), r"`encoder_cov` must be None, 'diag' or 'full', got 'dense'"),
    # batch dimensions
    (dict(W=np.ones((2, n, k)), b=np.zeros((3, n))),
     r"the batch dimensions of W, b, sigma2, V, c, D do not broadcast: W \(2, 4, 2\), "
     r"b \(3, 4\)"),
    (dict(W=np.ones((2, n, k)), sigma2=np.ones(3)),
     r"the batch dimensions of W, b, sigma2, V, c, D do not broadcast: .* sigma2 \(3,\)"),
    (dict(W=np.ones((2, n, k)), D=np.stack([np.eye(k)] * 3)),
     r"the batch dimensions of W, b, sigma2, V, c, D do not broadcast: .* D \(3, 2, 2\)"),
])
def test_model_arguments(kw, match):
    with pytest.raises(ValueError, match=match):
        _model(**kw)


def test_model_replace():
    m = _model()
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['w'\]"):
        m.replace(w=np.ones((n, k)))
    with pytest.raises(ValueError, match=r"`sigma2` must be positive and finite, got -1\.0"):
        m.replace(sigma2=-1.0)
    with pytest.raises(ValueError, match=r"`D` must be positive definite"):
        m.replace(D=INDEFINITE)


# ---- DataMoments -------------------------------------------------------------------------------

@pytest.mark.parametrize("mean, cov, match", [
    (0.0, np.eye(1), r"`mean` must have shape \(\.\.\., n\), got \(\)"),
    (np.array([np.nan, 0.0]), np.eye(2), r"`mean` " + FINITE),
    (np.array([np.inf, 0.0]), np.eye(2), r"`mean` " + FINITE),
    (np.zeros(3), np.eye(4), r"`cov` must have shape \(\.\.\., n, n\) with n=3, got \(4, 4\)"),
    (np.zeros(2), np.ones(2), r"`cov` must have shape \(\.\.\., n, n\) with n=2, got \(2,\)"),
    (np.zeros(2), NONSYM, r"`cov` must be symmetric, got a matrix with max \|A - A\^T\| = 0\.5"),
    (np.zeros(2), INDEFINITE, r"`cov` must be positive semi-definite, got smallest "
                              r"eigenvalue -1"),
    (np.zeros(2), np.stack([np.eye(2), -np.eye(2)]), r"`cov` must be positive semi-definite"),
    (np.zeros(2), np.array([[np.nan, 0.0], [0.0, 1.0]]), r"`cov` " + FINITE),
    (np.zeros(2), np.array([[np.inf, 0.0], [0.0, 1.0]]), r"`cov` " + FINITE),
    (np.zeros((3, 2)), np.stack([np.eye(2)] * 2),
     r"the batch dimensions of mean \(3, 2\) and cov \(2, 2, 2\) do not broadcast"),
])
def test_data_moments(mean, cov, match):
    with pytest.raises(ValueError, match=match):
        gr.DataMoments(mean, cov)


def test_data_moments_constructors():
    with pytest.raises(ValueError, match=r"`X` must have shape \(N, n\) with N >= 1, got \(5,\)"):
        gr.DataMoments.from_samples(np.ones(5))
    with pytest.raises(ValueError, match=r"`X` must have shape \(N, n\) with N >= 1, "
                                         r"got \(0, 2\)"):
        gr.DataMoments.from_samples(np.ones((0, 2)))
    with pytest.raises(ValueError, match=r"`ddof` must be 0 or 1 and less than N=3, got 2"):
        gr.DataMoments.from_samples(np.ones((3, 2)), ddof=2)
    with pytest.raises(ValueError, match=r"`X` " + FINITE):
        gr.DataMoments.from_samples(np.array([[1.0, np.nan], [0.0, 1.0]]))
    with pytest.raises(ValueError, match=r"`eigenvalues` must be non-negative, got "
                                         + _num(-1.0)):
        gr.DataMoments.from_spectrum(np.array([1.0, -1.0]))
    with pytest.raises(ValueError, match=r"`eigenvalues` " + FINITE):
        gr.DataMoments.from_spectrum(np.array([1.0, np.inf]))


# ---- objectives --------------------------------------------------------------------------------

OBJECTIVES = {
    "log_evidence": lambda m, d: gr.log_evidence(m, d),
    "distortion": lambda m, d: gr.distortion(m, d),
    "rate": lambda m, d: gr.rate(m, d),
    "elbo": lambda m, d: gr.elbo(m, d),
    "beta_elbo": lambda m, d: gr.beta_elbo(m, d, 2.0),
    "relbo": lambda m, d: gr.relbo(m, d, 0.5),
    "renyi_term": lambda m, d: gr.renyi_term(m, d, 0.5),
    "relbo_expansion": lambda m, d: gr.relbo_expansion(m, d, 0.5),
    "vr_bound": lambda m, d: gr.vr_bound(m, d, 0.5),
}


@pytest.mark.parametrize("name", OBJECTIVES)
def test_objective_model_and_data(name):
    f = OBJECTIVES[name]
    m = _model()
    with pytest.raises(ValueError, match=r"`model` must be a gaussrelbo.LinearGaussianVAE, "
                                         r"got str"):
        f("model", _data())
    with pytest.raises(ValueError, match=r"`data` must be a DataMoments or an array of shape "
                                         r"\(\.\.\., n\) with n=4, got \(3,\)"):
        f(m, np.ones(3))
    with pytest.raises(ValueError, match=r"`data` must be a DataMoments or an array of shape "
                                         r"\(\.\.\., n\) with n=4, got \(\)"):
        f(m, 1.0)
    with pytest.raises(ValueError, match=r"`data` " + FINITE):
        f(m, np.array([0.0, np.nan, 0.0, 0.0]))
    with pytest.raises(ValueError, match=r"`data` " + FINITE):
        f(m, np.array([0.0, np.inf, 0.0, 0.0]))
    with pytest.raises(ValueError, match=r"`data` must be a real number or array, got 'abc'"):
        f(m, "abc")
    with pytest.raises(ValueError, match=r"`data` has dimension n=3 but the model has n=4"):
        f(m, gr.DataMoments(np.zeros(3), np.eye(3)))


@pytest.mark.parametrize("name", OBJECTIVES)
def test_objective_batches_do_not_broadcast(name):
    # a model batch of 3 against a data batch of 2: the error must name the data
    m = _model(W=np.ones((3, n, k)))
    with pytest.raises(ValueError, match=r"`data`"):
        OBJECTIVES[name](m, gr.DataMoments(np.zeros((2, n)), np.eye(n)))
    with pytest.raises(ValueError, match=r"`data`"):
        OBJECTIVES[name](m, np.zeros((2, n)))


ORDER_FNS = {
    "relbo": (gr.relbo, "alpha"),
    "renyi_term": (gr.renyi_term, "alpha"),
    "relbo_expansion": (gr.relbo_expansion, "alpha"),
    "beta_elbo": (gr.beta_elbo, "beta"),
}


@pytest.mark.parametrize("name", ORDER_FNS)
@pytest.mark.parametrize("bad, match", [
    (0.0, r"must be positive and finite, got 0\.0"),
    (-1.0, r"must be positive and finite, got -1\.0"),
    (np.array([0.5, -2.0]), r"must be positive and finite, got " + _num(-2.0)),
    (np.nan, FINITE + r", got nan"),
    (np.inf, FINITE + r", got inf"),
    (np.array([1.0, np.nan]), FINITE + r", got an array of shape \(2,\) with 1 non-finite"),
    ("abc", r"must be a real number or array, got 'abc'"),
])
def test_order_arguments(name, bad, match):
    fn, arg = ORDER_FNS[name]
    with pytest.raises(ValueError, match=rf"`{arg}` " + match):
        fn(_model(), _data(), bad)


@pytest.mark.parametrize("name", ORDER_FNS)
def test_order_does_not_broadcast(name):
    # alpha (or beta) of shape (2,) against a model batch of 3: the error must name it
    fn, arg = ORDER_FNS[name]
    with pytest.raises(ValueError, match=rf"`{arg}`"):
        fn(_model(W=np.ones((3, n, k))), _data(), np.array([0.5, 2.0]))


@pytest.mark.parametrize("bad, match", [
    (np.nan, FINITE + r", got nan"),
    (np.inf, FINITE + r", got inf"),
    (-np.inf, FINITE + r", got -inf"),
    ("abc", r"must be a real number or array, got 'abc'"),
])
def test_vr_bound_alpha(bad, match):
    with pytest.raises(ValueError, match=r"`alpha` " + match):
        gr.vr_bound(_model(), _data(), bad)


def test_vr_bound_alpha_does_not_broadcast():
    with pytest.raises(ValueError, match=r"`alpha`"):
        gr.vr_bound(_model(W=np.ones((3, n, k))), _data(), np.array([0.5, 2.0]))


def test_vr_bound_accepts_any_finite_order():
    # Li & Turner's alpha is any real (documented): alpha <= 0 is not an error.
    m, d = _model(), _data()
    assert np.isclose(gr.vr_bound(m, d, 0.0), gr.log_evidence(m, d), rtol=1e-14)
    assert not np.isnan(gr.vr_bound(m, d, -2.0))


# ---- optimal_encoder ---------------------------------------------------------------------------

@pytest.mark.parametrize("kw, match", [
    (dict(objective="vae"), r"`objective` must be one of \('relbo', 'elbo', 'beta_elbo'\), "
                            r"got 'vae'"),
    (dict(objective=None), r"`objective` must be one of .*, got None"),
    (dict(objective="relbo"), r"`alpha` is required for objective='relbo'"),
    (dict(objective="beta_elbo"), r"`beta` is required for objective='beta_elbo'"),
    (dict(objective="relbo", alpha=0.0), r"`alpha` must be positive and finite, got 0\.0"),
    (dict(objective="relbo", alpha=-2.0), r"`alpha` must be positive and finite, got -2\.0"),
    (dict(objective="relbo", alpha=np.nan), r"`alpha` " + FINITE),
    (dict(objective="relbo", alpha=np.inf), r"`alpha` " + FINITE),
    (dict(objective="beta_elbo", beta=0.0), r"`beta` must be positive and finite, got 0\.0"),
    (dict(objective="beta_elbo", beta=-1.0), r"`beta` must be positive and finite, got -1\.0"),
    (dict(objective="beta_elbo", beta=np.nan), r"`beta` " + FINITE),
    (dict(objective="beta_elbo", beta=np.inf), r"`beta` " + FINITE),
])
def test_optimal_encoder_arguments(kw, match):
    with pytest.raises(ValueError, match=match):
        gr.optimal_encoder(_model(), **kw)


def test_optimal_encoder_model():
    with pytest.raises(ValueError, match=r"`model` must be a gaussrelbo.LinearGaussianVAE, "
                                         r"got NoneType"):
        gr.optimal_encoder(None, "elbo")


@pytest.mark.parametrize("objective, arg", [("relbo", "alpha"), ("beta_elbo", "beta")])
def test_optimal_encoder_order_does_not_broadcast(objective, arg):
    with pytest.raises(ValueError, match=rf"`{arg}`"):
        gr.optimal_encoder(_model(W=np.ones((3, n, k))), objective,
                           **{arg: np.array([0.5, 2.0])})


# ---- valid extremes stay finite ----------------------------------------------------------------

def test_no_nan_escapes_for_valid_input():
    # Extreme but valid inputs give finite numbers (or the documented +-inf of the VR bound).
    W = np.array([[1e8, 0.0], [0.0, 1e-8], [0.0, 0.0], [0.0, 0.0]])
    m = gr.optimal_encoder(_model(W=W, sigma2=1e-6), "elbo")
    data = gr.DataMoments(np.zeros(n), np.diag([1e6, 1.0, 1e-6, 0.0]))
    for a in (1e-300, 1e-6, 1.0, 1e6, 1e300):
        assert np.isfinite(gr.relbo(m, data, a))
    for a in (-3.0, 0.0, 0.5, 5.0, 1e6):
        assert not np.isnan(gr.vr_bound(m, data, a))


# ---- empty dimensions, complex and None --------------------------------------------------------

def test_empty_dimensions():
    with pytest.raises(ValueError, match=r"`W` must have n >= 1 rows and k >= 1 columns, "
                                         r"got \(2, 0\)"):
        gr.LinearGaussianVAE(np.zeros((2, 0)), np.zeros(2), 1.0, V=np.zeros((0, 2)),
                             c=np.zeros(0), D=np.zeros(0))
    with pytest.raises(ValueError, match=r"`W` must have n >= 1 rows and k >= 1 columns, "
                                         r"got \(0, 2\)"):
        gr.LinearGaussianVAE(np.zeros((0, 2)), np.zeros(0), 1.0, V=np.zeros((2, 0)),
                             c=np.zeros(2), D=np.ones(2))
    with pytest.raises(ValueError, match=r"`mean` must have n >= 1 entries, got shape \(0,\)"):
        gr.DataMoments(np.zeros(0), np.zeros((0, 0)))


@pytest.mark.parametrize("bad", [1.0 + 2.0j, np.array([0.5, 1j]), None, "2.0"])
def test_complex_none_and_strings_are_not_orders(bad):
    with pytest.raises(ValueError, match=r"`alpha` must be a real number or array, got "):
        gr.relbo(_model(), _data(), bad)
    if bad is not None:
        with pytest.raises(ValueError, match=r"`W` must be a real number or array, got "):
            gr.LinearGaussianVAE(np.full((n, k), bad), np.zeros(n), 1.0, V=np.zeros((k, n)),
                                 c=np.zeros(k), D=np.ones(k))
