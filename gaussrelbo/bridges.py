r"""Bridges to other libraries: scikit-learn's PCA/FactorAnalysis, fitted :class:`LinearVAE`
estimators, the optima atlas's eigenbasis, and probabilistic programs in numpyro or pyro.

None of the libraries is imported until a function here needs it.
"""

from __future__ import annotations

import contextlib
from typing import Any, Callable

import numpy as np
from numpy.typing import ArrayLike

from ._validation import as_float_array
from .model import DataMoments, LinearGaussianVAE
from .posterior import posterior

__all__ = ["from_pca", "to_data_coordinates", "to_numpyro", "to_pyro"]


def from_pca(estimator: Any) -> LinearGaussianVAE:
    r"""The probabilistic-PCA model of a fitted PCA-like estimator, as a decoder-only
    :class:`LinearGaussianVAE`.

    Parameters
    ----------
    estimator : fitted sklearn.decomposition.PCA, FactorAnalysis or gaussrelbo.LinearVAE
        * ``PCA``: the maximum-likelihood pPCA model of Tipping & Bishop (1999),
          :math:`W = U_k(\Lambda_k - \sigma^2 I)^{1/2}` with :math:`U_k` = ``components_.T``,
          :math:`\Lambda_k` = ``explained_variance_`` and :math:`\sigma^2` = ``noise_variance_``
          (needs ``n_components < n_features``, so that :math:`\sigma^2 > 0`);
        * ``FactorAnalysis``: :math:`W` = ``components_.T``; its per-feature noise must be
          isotropic (equal entries of ``noise_variance_``, to 1e-8 relative), as this model's;
        * ``LinearVAE``: its fitted model ``model_`` (decoder and encoder).

    Returns
    -------
    LinearGaussianVAE
        With ``b`` = ``mean_``.  Its :func:`~gaussrelbo.log_evidence` averaged over samples is
        the estimator's ``score``.

    Examples
    --------
    >>> import numpy as np, gaussrelbo as gr
    >>> from sklearn.decomposition import PCA
    >>> X = np.random.default_rng(0).normal(size=(100, 4)) * [3.0, 2.0, 1.0, 0.5]
    >>> pca = PCA(n_components=2).fit(X)
    >>> m = gr.from_pca(pca)
    >>> bool(np.isclose(np.mean(gr.log_evidence(m, X)), pca.score(X), rtol=1e-12))
    True
    """
    model = getattr(estimator, "model_", None)
    if isinstance(model, LinearGaussianVAE):
        return model
    missing = [a for a in ("components_", "mean_", "noise_variance_")
               if not hasattr(estimator, a)]
    if missing:
        raise ValueError(f"`estimator` must be a fitted PCA, FactorAnalysis or LinearVAE; "
                         f"{type(estimator).__name__} lacks {', '.join(missing)}")
    comps = as_float_array(estimator.components_, "estimator.components_")
    mean = as_float_array(estimator.mean_, "estimator.mean_")
    noise = as_float_array(estimator.noise_variance_, "estimator.noise_variance_")
    if hasattr(estimator, "explained_variance_"):                # PCA
        sigma2 = float(noise)
        if not sigma2 > 0:
            raise ValueError(f"`estimator.noise_variance_` must be positive, got {sigma2!r} "
                             "(fit PCA with n_components < n_features)")
        lam = as_float_array(estimator.explained_variance_, "estimator.explained_variance_")
        W = comps.T * np.sqrt(np.maximum(lam - sigma2, 0.0))
        return LinearGaussianVAE.from_decoder(W, mean, sigma2)
    noise = np.atleast_1d(noise)                                    # FactorAnalysis
    if np.any(noise <= 0) or np.ptp(noise) > 1e-8 * np.max(noise):
        raise ValueError("`estimator.noise_variance_` must be isotropic (all entries equal) and "
                         f"positive for a linear-Gaussian VAE, got entries from "
                         f"{float(noise.min()):.6g} to {float(noise.max()):.6g}")
    return LinearGaussianVAE.from_decoder(comps.T, mean, float(np.mean(noise)))


def to_data_coordinates(W: Any, data: DataMoments) -> np.ndarray | LinearGaussianVAE:
    r"""Rotate a decoder from the eigenbasis of the data covariance back to data coordinates.

    The optima atlas (:mod:`gaussrelbo.optima`) poses every problem in the eigenbasis of the data
    covariance, eigenvalues descending; this returns :math:`UW` with U the eigenvectors as
    columns in that order.

    Parameters
    ----------
    W : array_like, shape (n, k), or a stationary point with attributes ``W`` and ``sigma2``
        A point (e.g. ``atlas.global_max``) gives a decoder-only model in data coordinates,
        with ``b`` the data mean.
    data : DataMoments
        The (unbatched) data whose spectrum the atlas was computed from.

    Returns
    -------
    ndarray, shape (n, k), or LinearGaussianVAE

    Examples
    --------
    >>> import numpy as np, gaussrelbo as gr
    >>> data = gr.DataMoments(np.zeros(2), [[2.0, 1.0], [1.0, 2.0]])   # eigenvalues 3, 1
    >>> W = gr.to_data_coordinates([[1.0], [0.0]], data)               # the top direction
    >>> bool(np.allclose(np.abs(W[:, 0]), np.sqrt(0.5)))
    True
    """
    if not isinstance(data, DataMoments) or data.batch_shape != ():
        raise ValueError(f"`data` must be unbatched gaussrelbo.DataMoments, got "
                         f"{type(data).__name__}")
    point = None
    if hasattr(W, "W") and hasattr(W, "sigma2"):
        point, W = W, W.W
    W = as_float_array(W, "W")
    if W.ndim != 2 or W.shape[0] != data.n:
        raise ValueError(f"`W` must have shape (n, k) with n={data.n}, got {W.shape}")
    order = np.argsort(-np.asarray(data.eigenvalues), kind="stable")   # descending
    out = np.asarray(data.eigenvectors)[:, order] @ W
    if point is None:
        return out
    # the optimal decoder bias is the data mean (the atlas stores 0 when given a spectrum only)
    return LinearGaussianVAE.from_decoder(out, data.mean, float(point.sigma2))


def _export_arrays(model, xp):
    if not isinstance(model, LinearGaussianVAE):
        raise ValueError(f"`model` must be a gaussrelbo.LinearGaussianVAE, got "
                         f"{type(model).__name__}")
    if model.batch_shape != ():
        raise ValueError(f"`model` must be unbatched to export, got batch shape "
                         f"{model.batch_shape}")
    arr = {"W": model.W, "b": model.b, "scale": np.sqrt(model.sigma2)}
    if model.has_encoder:
        arr.update(V=model.V, c=model.c)
        if model.diagonal:
            arr["q_scale"] = np.sqrt(model.D)
        else:
            arr["q_tril"] = model._chol_D
    else:                           # the exact posterior as the guide
        arr.update(V=model.posterior_gain(), c=-model.posterior_gain() @ model.b,
                   q_tril=posterior(model, np.zeros(model.n)).chol)
    return {key: xp(np.asarray(v, dtype=np.float64)) for key, v in arr.items()}


def to_numpyro(model: LinearGaussianVAE) -> tuple[Callable[[ArrayLike], None],
                                                  Callable[[ArrayLike], None]]:
    r"""A numpyro ``(model, guide)`` pair for the linear-Gaussian VAE.

    ``model_fn(x)`` samples site ``"z"`` from :math:`\mathcal N(0, I_k)` and observes site
    ``"x"`` from :math:`\mathcal N(Wz+b, \sigma^2I)`; ``guide_fn(x)`` samples ``"z"`` from the
    encoder :math:`\mathcal N(Vx+c, D)` (the exact posterior for a decoder-only model).  ``x`` of
    shape ``(N, n)`` is wrapped in a data plate, so ``numpyro.infer.Trace_ELBO`` estimates the sum
    of :func:`~gaussrelbo.elbo` over rows and ``numpyro.infer.RenyiELBO(alpha)`` that of
    :func:`~gaussrelbo.vr_bound` (within Monte Carlo error and the O(1/K) bias of K particles).

    Needs ``numpyro`` (``pip install numpyro``); the arrays are passed through ``jnp.asarray``,
    so they are float32 unless ``jax.config.update("jax_enable_x64", True)`` was called first.

    Parameters
    ----------
    model : LinearGaussianVAE
        Unbatched.

    Returns
    -------
    (model_fn, guide_fn)
    """
    try:
        import jax.numpy as jnp
        import numpyro
        import numpyro.distributions as dist
    except ImportError as exc:                                     # pragma: no cover
        raise ImportError("gaussrelbo.to_numpyro needs numpyro: `pip install numpyro`") from exc
    p = _export_arrays(model, jnp.asarray)
    k = model.k

    def _plates(x):
        return numpyro.plate_stack("data", list(x.shape[:-1]))

    def model_fn(x):
        x = jnp.asarray(x)
        with _plates(x):
            z = numpyro.sample("z", dist.Normal(jnp.zeros(k), 1.0).to_event(1))
            numpyro.sample("x", dist.Normal(z @ p["W"].T + p["b"], p["scale"]).to_event(1),
                           obs=x)

    def guide_fn(x):
        x = jnp.asarray(x)
        loc = x @ p["V"].T + p["c"]
        with _plates(x):
            if "q_scale" in p:
                numpyro.sample("z", dist.Normal(loc, p["q_scale"]).to_event(1))
            else:
                numpyro.sample("z", dist.MultivariateNormal(loc, scale_tril=p["q_tril"]))

    return model_fn, guide_fn


def to_pyro(model: LinearGaussianVAE) -> tuple[Callable[[ArrayLike], None],
                                               Callable[[ArrayLike], None]]:
    r"""A pyro ``(model, guide)`` pair for the linear-Gaussian VAE: as :func:`to_numpyro`, with
    torch float64 tensors.

    ``model_fn(x)`` samples site ``"z"`` from :math:`\mathcal N(0, I_k)` and observes site
    ``"x"`` from :math:`\mathcal N(Wz+b, \sigma^2I)`; ``guide_fn(x)`` samples ``"z"`` from the
    encoder :math:`\mathcal N(Vx+c, D)` (the exact posterior for a decoder-only model).  Each
    batch dimension of ``x`` is a data plate, so ``pyro.infer.Trace_ELBO`` estimates the sum of
    :func:`~gaussrelbo.elbo` over rows and ``pyro.infer.RenyiELBO(alpha, num_particles=K)`` that
    of :func:`~gaussrelbo.vr_bound` (within Monte Carlo error and the O(1/K) bias of K
    particles; ``vectorize_particles=True`` with ``max_plate_nesting`` = the number of batch
    dimensions is the fast way to draw them).  The parameters are copied into the tensors.

    Needs ``pyro-ppl`` (``pip install pyro-ppl``).  Verified with pyro-ppl 1.9.2 and torch
    2.13.0 (CPU): ``Trace_ELBO`` estimates reproduce :func:`~gaussrelbo.elbo` (one data point, a
    plate of rows, two nested plates) and ``RenyiELBO(alpha=0.5, num_particles=100)``
    reproduces :func:`~gaussrelbo.vr_bound`: the mean of independent estimates is within
    ``|z| <= 4`` standard errors of the exact value (measured: ``|z|`` from 0.65 to 3.01; the
    numbers are in the docs page "Test your VAE loss against the exact answer").  The check is
    ``tests/test_bridges.py``, which runs when pyro is installed (this project's CI installs
    numpyro only).

    Parameters
    ----------
    model : LinearGaussianVAE
        Unbatched; with an encoder, or decoder-only (then the guide is the exact posterior
        :math:`p(z\mid x)` and every ELBO estimate equals :func:`~gaussrelbo.log_evidence`).

    Returns
    -------
    model_fn, guide_fn : callable
        Functions of the data ``x`` (a tensor or array of shape (..., n)), one plate per batch
        dimension, with latent site ``"z"`` and observed site ``"x"``.

    Examples
    --------
    >>> import numpy as np, gaussrelbo as gr
    >>> import pyro                                                  # doctest: +SKIP
    >>> from pyro.infer import Trace_ELBO                            # doctest: +SKIP
    >>> m = gr.LinearGaussianVAE.from_decoder(np.ones((3, 1)), np.zeros(3), 0.5)
    >>> model_fn, guide_fn = gr.to_pyro(m)                           # doctest: +SKIP
    >>> -Trace_ELBO().loss(model_fn, guide_fn, np.ones(3))           # doctest: +SKIP
    -3.11862133187...
    >>> float(gr.log_evidence(m, np.ones(3)))      # the guide is the exact posterior: equal
    -3.11862133187...
    """
    try:
        import pyro
        import pyro.distributions as dist
        import torch
    except ImportError as exc:                                     # pragma: no cover
        raise ImportError("gaussrelbo.to_pyro needs pyro: `pip install pyro-ppl`") from exc

    def _tensor(a):
        # a copy (torch.tensor), not a view: the model's arrays are read-only
        if isinstance(a, torch.Tensor):
            return a.to(torch.float64)
        return torch.tensor(np.asarray(a, dtype=np.float64), dtype=torch.float64)

    p = _export_arrays(model, _tensor)
    k = model.k

    def _plates(x):
        stack = contextlib.ExitStack()
        for i, size in enumerate(x.shape[:-1]):
            stack.enter_context(pyro.plate(f"data_{i}", size, dim=i - len(x.shape) + 1))
        return stack

    def model_fn(x):
        x = _tensor(x)
        with _plates(x):
            z = pyro.sample("z", dist.Normal(torch.zeros(k, dtype=torch.float64), 1.0)
                            .to_event(1))
            pyro.sample("x", dist.Normal(z @ p["W"].T + p["b"], p["scale"]).to_event(1), obs=x)

    def guide_fn(x):
        x = _tensor(x)
        loc = x @ p["V"].T + p["c"]
        with _plates(x):
            if "q_scale" in p:
                pyro.sample("z", dist.Normal(loc, p["q_scale"]).to_event(1))
            else:
                pyro.sample("z", dist.MultivariateNormal(loc, scale_tril=p["q_tril"]))

    return model_fn, guide_fn
