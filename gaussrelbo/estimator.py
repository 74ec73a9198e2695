r"""A scikit-learn estimator: fit a linear VAE by the RELBO, the ELBO or the beta-ELBO.

Requires the optional extra ``pip install 'gaussrelbo[sklearn]'`` (scikit-learn >= 1.6).  Like
:class:`sklearn.decomposition.PCA`, the model is fitted to the sample covariance with ``ddof=1``
and scored by a plain per-sample average (Tipping & Bishop 1999), so with ``objective="elbo"`` (or
``"relbo"``, any alpha) the fitted decoder spans PCA's components, ``noise_variance_`` equals
PCA's and ``get_covariance()`` equals PCA's.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

try:
    from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
    from sklearn.utils import check_array, check_random_state
    from sklearn.utils._param_validation import Interval, StrOptions
    from sklearn.utils.validation import check_is_fitted, validate_data
except ImportError as exc:                                    # pragma: no cover
    raise ImportError("gaussrelbo.LinearVAE needs scikit-learn >= 1.6: install the extra with "
                      "`pip install 'gaussrelbo[sklearn]'`") from exc

from . import _generated as g
from .basins import fit_population
from .encoders import optimal_encoder
from .model import LinearGaussianVAE
from .objectives import beta_elbo, elbo, log_evidence, relbo
from .readings import _check_reading
from .readings import log_mean_exp_reading, reading_global_maximum, reading_objective
from .spectral import profiled_objective

__all__ = ["LinearVAE"]

_OBJECTIVES = ("relbo", "elbo", "beta_elbo")


def _beta_learned(lam, k, beta):
    """Global beta-ELBO optimum over r active dimensions with learned sigma2:
    every self-consistent fixed point sigma2 = sum_{j not in A} lam_j / (n - beta r) over the
    top-r sets A, the best by value.  Returns (w2, sigma2)."""
    n = lam.size
    best = None
    for r in range(k + 1):
        if n - beta * r <= 0:
            continue
        s2 = float(g.sigma2_fixed_point(lam[r:].sum(), n, r, beta))
        if s2 <= 0 or np.any(lam[:r] <= beta * s2):
            continue
        w2 = np.zeros(k)
        w2[:r] = lam[:r] - beta * s2
        value = profiled_objective(lam, w2, s2, "beta_elbo", beta=beta)
        if best is None or value > best[0]:
            best = (value, w2, s2)
    if best is None:
        raise ValueError("no self-consistent beta-ELBO stationary point: the discarded variance "
                         "is zero; set `sigma2` or lower `n_components`")
    return best[1], best[2]


def _is_real(val):
    return isinstance(val, (Real, np.floating, np.integer)) and not isinstance(val, (bool, np.bool_))


class LinearVAE(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    r"""Linear-Gaussian VAE fitted by the RELBO, the ELBO or the beta-ELBO.

    Model: :math:`z\sim N(0,I_k)`, :math:`x|z \sim N(Wz+b, \sigma^2 I)`, encoder
    :math:`q(z|x) = N(Vx+c, D)`.

    All parameters are keyword-only.  The output columns of :meth:`transform` are named
    ``linearvae0, linearvae1, ...`` (:meth:`get_feature_names_out`); ``set_output(transform=
    "pandas")`` returns DataFrames.

    Parameters
    ----------
    n_components : int
        Latent dimension k (``< n_features`` when ``sigma2`` is learned).
    objective : {'relbo', 'elbo', 'beta_elbo'}, default 'relbo'
    alpha : float
        Renyi order of the RELBO.
    beta : float
        Rate weight of the beta-ELBO.
    encoder : {'diagonal', 'full'}, default 'diagonal'
        Encoder covariance family.
    sigma2 : float or None
        Fixed decoder noise variance, or ``None`` to learn it.
    reading : {'pointwise', 'escort', 'cross_entropy'}, default 'pointwise'
        Reading of the Renyi VAE for ``objective="relbo"`` (docs page "Readings of the Renyi
        VAE"; other objectives take only ``"pointwise"``).  ``"pointwise"``: the RELBO; the fit
        is pPCA for every alpha and the encoder the escort :math:`\pi_\alpha` of the posterior.
        ``"escort"``: the same decoder, the exact posterior as encoder for every alpha.
        ``"cross_entropy"`` (0 < alpha < 2, ``solver`` ``"auto"`` or ``"closed_form"``): the
        data-level Renyi cross-entropy of the Gaussian with the sample mean and covariance;
        columns :math:`\|w_j\|^2 = \max((2-\alpha)\lambda_j - \sigma^2, 0)`, so direction j
        collapses iff :math:`\lambda_j \le \sigma^2/(2-\alpha)`, with the fixed
        :math:`\sigma^2` or the learned one of
        :func:`gaussrelbo.readings.reading_global_maximum`; encoder :math:`\pi_\alpha`.
    solver : {'auto', 'closed_form', 'lbfgs'}, default 'auto'
        ``"auto"`` is the closed form (Tipping & Bishop 1999 for the ELBO and the RELBO at any
        order; the beta-ELBO's shifted spectrum), which exists for every objective here;
        ``"lbfgs"`` runs gradient ascent on all parameters from a random start.
    random_state : int, Generator or None
        Seed of the L-BFGS start.
    max_iter, tol : int, float
        L-BFGS iteration cap and gradient tolerance.

    Attributes
    ----------
    components_ : ndarray (k, n_features)
        Decoder loadings :math:`W^T` (not orthonormal; their span is PCA's).
    mean_ : ndarray (n_features,)
    noise_variance_ : float
    decoder_bias_ : ndarray (n_features,)
        b (equals ``mean_`` at the optimum).
    encoder_mean_ : ndarray (k, n_features)
        V: the encoder mean is ``X @ encoder_mean_.T + encoder_bias_``.
    encoder_bias_ : ndarray (k,)
    encoder_cov_ : ndarray (k,) or (k, k)
        D, its diagonal for ``encoder="diagonal"``.
    n_active_ : int
        Latent dimensions that did not collapse (non-zero columns of W).
    objective_value_ : float
        :meth:`score` on the training samples.
    model_ : LinearGaussianVAE
        The fitted model (decoder and encoder), for every function of gaussrelbo.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Set when X has feature names (a DataFrame).
    n_iter_ : int
        L-BFGS iterations, or 1 for the closed form (one exact step).

    Examples
    --------
    >>> import numpy as np
    >>> from gaussrelbo import LinearVAE
    >>> X = np.random.default_rng(0).normal(size=(200, 5)) * [3, 2, 1, 0.5, 0.5]
    >>> vae = LinearVAE(n_components=3, objective="beta_elbo", beta=4.0, sigma2=0.5).fit(X)
    >>> lam = np.linalg.eigvalsh(np.cov(X.T))[::-1]          # ddof=1, as PCA
    >>> vae.transform(X).shape, vae.n_active_ == int(np.sum(lam[:3] > 4.0 * 0.5))
    ((200, 3), True)
    """

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "objective": [StrOptions({"relbo", "elbo", "beta_elbo"})],
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "beta": [Interval(Real, 0, None, closed="neither")],
        "encoder": [StrOptions({"diagonal", "full"})],
        "reading": [StrOptions({"pointwise", "escort", "cross_entropy"})],
        "sigma2": [None, Interval(Real, 0, None, closed="neither")],
        "solver": [StrOptions({"auto", "closed_form", "lbfgs"})],
        "random_state": ["random_state"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, *, n_components: int = 1, objective: str = "relbo", alpha: float = 1.0,
                 beta: float = 1.0, encoder: str = "diagonal", sigma2: float | None = None,
                 solver: str = "auto", random_state: Any = None, max_iter: int = 20000,
                 tol: float = 1e-10, reading: str = "pointwise") -> None:
        self.n_components = n_components
        self.objective = objective
        self.alpha = alpha
        self.beta = beta
        self.encoder = encoder
        self.reading = reading
        self.sigma2 = sigma2
        self.solver = solver
        self.random_state = random_state
        self.max_iter = max_iter
        self.tol = tol

    # ---- fitting --------------------------------------------------------------------------------
    def _check_params(self, n_features):
        if self.objective not in _OBJECTIVES:
            raise ValueError(f"`objective` must be one of {_OBJECTIVES}, got {self.objective!r}")
        if self.encoder not in ("diagonal", "full"):
            raise ValueError(f"`encoder` must be 'diagonal' or 'full', got {self.encoder!r}")
        if self.solver not in ("auto", "closed_form", "lbfgs"):
            raise ValueError(f"`solver` must be 'auto', 'closed_form' or 'lbfgs', got "
                             f"{self.solver!r}")
        k = self.n_components
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"`n_components` must be a positive integer, got {k!r}")
        limit = n_features if self.sigma2 is not None else n_features - 1
        if k > limit:
            raise ValueError(f"`n_components`={k} must be at most {limit} for n_features="
                             f"{n_features} (1 feature(s) leave no noise to learn)"
                             if n_features == 1 else
                             f"`n_components`={k} must be at most {limit} for n_features="
                             f"{n_features}" + (" when sigma2 is learned" if self.sigma2 is None
                                                else ""))
        for name in ("alpha", "beta"):
            val = getattr(self, name)
            if not (_is_real(val) and np.isfinite(val) and val > 0):
                raise ValueError(f"`{name}` must be positive and finite, got {val!r}")
        if self.sigma2 is not None and not (_is_real(self.sigma2) and np.isfinite(self.sigma2)
                                            and self.sigma2 > 0):
            raise ValueError(f"`sigma2` must be None or positive and finite, got "
                             f"{self.sigma2!r}")
        _check_reading(self.reading, self.objective)
        if self.reading == "cross_entropy":
            if not self.alpha < 2:
                raise ValueError(f"`alpha` must satisfy 0 < alpha < 2 for reading="
                                 f"'cross_entropy', got {self.alpha!r}")
            if self.solver == "lbfgs":
                raise ValueError("`solver`='lbfgs' is not available for reading='cross_entropy'"
                                 "; use solver='auto' (the closed form)")
        self._validate_params()         # the remaining constraints (max_iter, tol, random_state)
        return int(k)

    def fit(self, X: ArrayLike, y: Any = None) -> LinearVAE:
        """Fit to the rows of X (its mean and ``ddof=1`` covariance, as PCA). Returns self."""
        X = validate_data(self, X, dtype=[np.float64, np.float32], ensure_min_samples=2)
        X = np.asarray(X, dtype=np.float64)
        N, n = X.shape
        k = self._check_params(n)
        with np.errstate(over="ignore", invalid="ignore"):
            self.mean_ = X.mean(axis=0)
            Xc = X - self.mean_
            cov = Xc.T @ Xc / (N - 1)
        if not (np.all(np.isfinite(self.mean_)) and np.all(np.isfinite(cov))):
            raise ValueError("`X` is too large: its mean or covariance overflows float64 "
                             f"(largest |entry| {float(np.max(np.abs(X))):.3g}); rescale X")
        lam, U = np.linalg.eigh(cov)
        lam, U = np.maximum(lam[::-1], 0.0), U[:, ::-1]
        gamma = self.beta if self.objective == "beta_elbo" else 1.0
        V: Any = None
        c: Any = None
        D: Any = None
        if self.solver == "lbfgs":
            seed = check_random_state(self.random_state).randint(2**31)
            res = fit_population(lam, k, self.objective, alpha=self.alpha, beta=self.beta,
                                 sigma2=self.sigma2, encoder=self.encoder, random_state=seed,
                                 maxiter=self.max_iter, gtol=self.tol)
            self.n_iter_ = res.n_iter
            W, b, s2 = U @ res.W, self.mean_ + U @ res.b, res.sigma2
            V = res.V @ U.T
            c, D = res.c - V @ self.mean_, res.D
            if self.reading == "escort":
                # RELBO^E(V, c, D) = RELBO(V, c, D / alpha): the same ascent in D / alpha
                D = D * self.alpha
        else:
            if self.reading == "cross_entropy":
                opt = reading_global_maximum(lam, k, float(self.alpha), "cross_entropy",
                                             self.sigma2)
                w2, s2 = opt.w2, opt.sigma2
            elif self.sigma2 is not None:
                s2 = float(self.sigma2)
                w2 = np.maximum(lam[:k] - gamma * s2, 0.0)
            elif self.objective == "beta_elbo":
                w2, s2 = _beta_learned(lam, k, self.beta)
            else:
                s2 = float(lam[k:].sum() / (n - k))                  # Tipping & Bishop 1999
                if s2 <= 0:
                    raise ValueError("the discarded variance is zero, so sigma2 cannot be "
                                     "learned; set `sigma2` or lower `n_components`")
                w2 = np.maximum(lam[:k] - s2, 0.0)
            W, b = U[:, :k] * np.sqrt(w2), self.mean_.copy()
            self.n_iter_ = 1
        model = LinearGaussianVAE.from_decoder(W, b, s2)
        if V is None:
            obj = self.objective
            model = optimal_encoder(model, obj, alpha=self.alpha if obj == "relbo" else None,
                                    beta=self.beta if obj == "beta_elbo" else None,
                                    encoder=self.encoder, reading=self.reading)
        else:
            model = model.with_encoder(V=V, c=c, D=D, encoder=self.encoder)
        self.model_ = model
        self.components_ = model.W.T.copy()
        self.decoder_bias_ = model.b.copy()
        self.noise_variance_ = float(model.sigma2)
        self.encoder_mean_ = model.V.copy()
        self.encoder_bias_ = model.c.copy()
        self.encoder_cov_ = model.D.copy()
        norms = np.sum(model.W**2, axis=0)
        self.n_active_ = int(np.sum(norms > 1e-10 * max(lam[0], np.finfo(float).tiny)))
        self.objective_value_ = self._score(self._objective(X))
        return self

    # ---- using the fit ----------------------------------------------------------------------------
    def _objective(self, X):
        m = self.model_
        if self.objective == "relbo":
            if self.reading == "escort":
                return reading_objective(m, X, self.alpha, "escort")
            return relbo(m, X, self.alpha)
        if self.objective == "elbo":
            return elbo(m, X)
        return beta_elbo(m, X, self.beta)

    def _check(self, X):
        check_is_fitted(self)
        return np.asarray(validate_data(self, X, dtype=[np.float64, np.float32], reset=False),
                          dtype=np.float64)

    def transform(self, X: ArrayLike) -> np.ndarray:
        """Encoder mean ``V x + c`` of each row, shape (N, k)."""
        X = self._check(X)
        return X @ self.encoder_mean_.T + self.encoder_bias_

    def inverse_transform(self, Z: ArrayLike) -> np.ndarray:
        """Decoder mean ``W z + b`` of each row of Z (shape (N, n_components)), shape
        (N, n_features)."""
        check_is_fitted(self)
        Z = check_array(Z, dtype=[np.float64, np.float32], input_name="Z")
        k = self.components_.shape[0]
        if Z.shape[1] != k:
            raise ValueError(f"`Z` must have shape (N, n_components) with n_components={k}, got "
                             f"{Z.shape}")
        return np.asarray(Z, dtype=np.float64) @ self.components_ + self.decoder_bias_

    @property
    def _n_features_out(self):
        """Output width for ``get_feature_names_out`` (``linearvae0``, ``linearvae1``, ...)."""
        return self.components_.shape[0]

    def score_samples(self, X: ArrayLike) -> np.ndarray:
        """The chosen objective of each sample (nats).

        For ``reading="cross_entropy"``, the pointwise RELBO of each sample: the per-sample
        quantity whose log-mean-exp :meth:`score` returns."""
        return np.asarray(self._objective(self._check(X)), dtype=np.float64)

    def score(self, X: ArrayLike, y: Any = None) -> float:
        r"""The chosen objective over the samples (nats): the mean of :meth:`score_samples`.

        For ``reading="cross_entropy"`` the data-level value over the empirical distribution
        of the rows of X, :math:`-\frac{1}{1-\alpha}\log\frac1N\sum_i
        e^{-(1-\alpha)\mathrm{RELBO}_\alpha(x_i)}` (the mean at alpha = 1).  The fit uses
        the Gaussian with the sample moments instead; for Gaussian data the two agree as N
        grows."""
        return self._score(self.score_samples(X))

    def _score(self, values):
        if self.objective == "relbo" and self.reading == "cross_entropy":
            return float(log_mean_exp_reading(values, self.alpha))
        return float(np.mean(values))

    def log_likelihood(self, X: ArrayLike) -> np.ndarray:
        """log p(x) of each sample under the fitted generative model."""
        return np.asarray(log_evidence(self.model_, self._check(X)), dtype=np.float64)

    def get_covariance(self) -> np.ndarray:
        """Model covariance of the data, :math:`WW^T + \\sigma^2 I` (as PCA's)."""
        check_is_fitted(self)
        W = self.components_.T
        return W @ W.T + self.noise_variance_ * np.eye(W.shape[0])

    def sample(self, n_samples: int = 1, random_state: Any = None) -> np.ndarray:
        """Draw from the generative model: ``x = W z + b + sigma * eps``."""
        check_is_fitted(self)
        rng = check_random_state(random_state)
        k, n = self.components_.shape
        z = rng.standard_normal(size=(n_samples, k))
        eps = rng.standard_normal(size=(n_samples, n))
        return z @ self.components_ + self.decoder_bias_ + np.sqrt(self.noise_variance_) * eps

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags
