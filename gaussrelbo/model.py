"""The linear-Gaussian VAE and the data moments it is scored on (Theory §1).

Prior :math:`p(z)=\\mathcal N(0, I_k)`, decoder :math:`p(x|z)=\\mathcal N(Wz+b, \\sigma^2 I_n)`,
encoder :math:`q(z|x)=\\mathcal N(Vx+c, D)` with ``D`` diagonal (stored as its diagonal) or full SPD.
Batch dimensions lead, core dimensions trail; all parameters broadcast against each other.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._numerics import log1p_sq_ratio, log_sq_sum, logdet_chol, scaled_ratios
from ._validation import (as_float_array, check_positive, check_psd, check_shape, check_spd,
                          check_symmetric, fmt)

__all__ = ["DataMoments", "LinearGaussianVAE"]


_ENCODER_FAMILIES = ("diagonal", "full")

#: A single model with :math:`\|W\|_F^2 \le` this times :math:`\sigma^2` takes the direct route
#: of the objectives (no SVD; see :attr:`LinearGaussianVAE._direct`).
_DIRECT_MAX = 2.0**16
# old spellings of the encoder family, accepted silently (deprecated, see the CHANGELOG)
_ENCODER_ALIASES = {"diag": "diagonal", "diagonal": "diagonal", "full": "full"}


def _encoder_family(encoder: str | None, encoder_cov: str | None = None) -> str | None:
    """The one public spelling ``encoder={'diagonal', 'full'}`` (or None: infer), accepting the
    deprecated ``encoder_cov={'diag', 'full'}``."""
    if encoder is not None and encoder_cov is not None:
        raise ValueError("pass only one of `encoder` and its deprecated alias `encoder_cov`, got "
                         f"encoder={encoder!r} and encoder_cov={encoder_cov!r}")
    if encoder_cov is not None:
        if encoder_cov not in ("diag", "full"):
            raise ValueError(f"`encoder_cov` must be None, 'diag' or 'full', got "
                             f"{encoder_cov!r}")
        return _ENCODER_ALIASES[encoder_cov]
    if encoder is None:
        return None
    if not isinstance(encoder, str) or encoder not in _ENCODER_ALIASES:
        raise ValueError(f"`encoder` must be None, 'diagonal' or 'full', got {encoder!r}")
    return _ENCODER_ALIASES[encoder]
class cached_property:
    """A read-only attribute computed on first access and stored in the instance's ``__dict__``
    (:class:`functools.cached_property` without its per-access lock, which costs more than
    the small decompositions it guards; models are immutable, so a race only computes the same
    value twice)."""

    def __init__(self, fn):
        self.fn, self.name, self.__doc__ = fn, fn.__name__, fn.__doc__

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, obj, cls=None):
        if obj is None:
            return self
        value = obj.__dict__[self.name] = self.fn(obj)
        return value


def _owned(a):
    """A read-only copy: a model owns its arrays, so later changes to the caller's arrays cannot
    make cached decompositions stale (scikit-learn's ``copy`` habit)."""
    a = np.array(a, dtype=np.float64, copy=True)
    a.flags.writeable = False
    return a


class LinearGaussianVAE:
    r"""A linear-Gaussian generative model, optionally with a linear Gaussian encoder.

    Parameters
    ----------
    W : array_like, shape (..., n, k)
        Decoder weights.
    b : array_like, shape (..., n)
        Decoder bias.
    sigma2 : float or array_like, shape (...)
        Decoder noise variance, positive.
    V : array_like, shape (..., k, n), keyword-only
        Encoder weights.  Leave ``V``, ``c`` and ``D`` all out for a decoder-only model
        (see :meth:`from_decoder`).
    c : array_like, shape (..., k), keyword-only
        Encoder bias.
    D : array_like, shape (..., k) or (..., k, k), keyword-only
        Encoder covariance: its diagonal, or a full symmetric positive definite matrix.
    encoder : {None, 'diagonal', 'full'}, default None (keyword-only)
        How to read ``D``.  ``None`` infers it: a 1-D ``D`` is diagonal, a ``D`` whose last two
        dimensions are ``(k, k)`` is full, anything else of last dimension ``k`` is a batch of
        diagonals.  ``encoder_cov={"diag", "full"}`` is a deprecated alias.

    Notes
    -----
    The exact posterior is :math:`p(z|x)=\mathcal N(M^{-1}W^T(x-b), \sigma^2 M^{-1})` with
    :math:`M = W^TW + \sigma^2 I_k`; the marginal is :math:`p(x)=\mathcal N(b, WW^T+\sigma^2 I_n)`
    (Tipping & Bishop 1999).  Everything that depends on the posterior uses the singular value
    decomposition of ``W`` (``svd``), computed once per model.

    A decoder-only model (``has_encoder`` false) supports :func:`~gaussrelbo.log_evidence`,
    :func:`~gaussrelbo.optimal_encoder` and the posterior functions; the objectives that score an
    encoder (ELBO, RELBO, ...) raise a ``ValueError`` for it.  :meth:`with_encoder` adds one.
    The model keeps read-only copies of its arrays, so changing the caller's arrays afterwards
    does not change the model.

    A full ``D`` enters every objective through its Cholesky factor :math:`L`
    (:math:`\mathrm{tr}\,D = \|L\|_F^2`, :math:`\mathrm{tr}(WDW^T) = \|WL\|_F^2`,
    :math:`\log\det D = 2\sum_i\log L_{ii}`), so all terms describe one positive definite
    matrix and the RELBO stays below :math:`\log p(x)` up to rounding.

    Limitation: singular values of ``W`` are resolved only down to about
    :math:`\epsilon\|W\|_2` (:math:`\epsilon = 2.2\times10^{-16}`); smaller ones are rounding
    noise of the decomposition (and of ``W``'s own entries).  When ``W`` is rank-deficient or
    has singular values that small and :math:`\sigma^2 \lesssim (\epsilon\|W\|_2)^2`, the
    terms :math:`\log(1 + s_i^2/\sigma^2)` of those directions, and so :math:`\log p(x)` and the
    Renyi term, lose their digits: the problem itself is that ill-conditioned in ``W``.

    Examples
    --------
    >>> import numpy as np
    >>> m = LinearGaussianVAE.from_decoder(np.ones((3, 2)), np.zeros(3), 0.5)
    >>> m.n, m.k, m.has_encoder, m.batch_shape
    (3, 2, False, ())
    >>> q = m.with_encoder(V=np.zeros((2, 3)), c=np.zeros(2), D=np.ones(2))
    >>> q.encoder, q.diagonal
    ('diagonal', True)
    """

    # the encoder's arrays are None for a decoder-only model
    V: Any
    c: Any
    D: Any
    _chol_D: Any

    def __init__(self, W: ArrayLike, b: ArrayLike, sigma2: ArrayLike, *,
                 V: ArrayLike | None = None, c: ArrayLike | None = None,
                 D: ArrayLike | None = None, encoder: str | None = None,
                 encoder_cov: str | None = None, _chol_D: np.ndarray | None = None) -> None:
        W = check_shape(as_float_array(W, "W"), "W", (None, None), "(..., n, k)")
        n, k = W.shape[-2:]
        if n == 0 or k == 0:
            raise ValueError(f"`W` must have n >= 1 rows and k >= 1 columns, got {W.shape}")
        b = check_shape(as_float_array(b, "b"), "b", (n,), f"(..., n) with n={n}")
        sigma2 = check_positive(sigma2, "sigma2")
        family = _encoder_family(encoder, encoder_cov)
        W, b, sigma2 = (_owned(a) for a in (W, b, sigma2))
        self.W, self.b, self.sigma2 = W, b, sigma2
        self.n, self.k = n, k
        given = [name for name, a in (("V", V), ("c", c), ("D", D)) if a is not None]
        if not given:
            if family is not None:
                raise ValueError(f"`encoder`={family!r} was given without an encoder: pass V, c "
                                 "and D too, or leave `encoder` out for a decoder-only model")
            self.V = self.c = self.D = None
            self._chol_D = None
            self.diagonal = None
            self.encoder = None
            try:
                self.batch_shape = np.broadcast_shapes(W.shape[:-2], b.shape[:-1], sigma2.shape)
            except ValueError:
                raise ValueError("the batch dimensions of W, b, sigma2 do not broadcast: "
                                 f"W {W.shape}, b {b.shape}, sigma2 {sigma2.shape}") from None
            return
        if len(given) < 3:
            missing = [name for name in ("V", "c", "D") if name not in given]
            raise ValueError(f"an encoder needs all of V, c and D; got {', '.join(given)} but "
                             f"not {', '.join(missing)} (leave all three out for a decoder-only "
                             "model)")
        V = check_shape(as_float_array(V, "V"), "V", (k, n), f"(..., k, n) with k={k}, n={n}")
        c = check_shape(as_float_array(c, "c"), "c", (k,), f"(..., k) with k={k}")
        D = as_float_array(D, "D")
        if family is None:
            family = "full" if D.ndim >= 2 and D.shape[-2:] == (k, k) else "diagonal"
        if family == "diagonal":
            check_shape(D, "D", (k,), f"(..., k) or (..., k, k) with k={k}")
            if np.any(D <= 0):
                raise ValueError(f"`D` (diagonal encoder variances) must be positive, got "
                                 f"{D[D <= 0].flat[0]!r}")
            self._chol_D = None
        else:
            check_shape(D, "D", (k, k), f"(..., k) or (..., k, k) with k={k}")
            if _chol_D is None:
                D, L = check_spd(D, "D")
            else:       # private: a Cholesky factor computed accurately by the caller
                L = np.asarray(_chol_D, dtype=np.float64)
                diag = np.diagonal(L, axis1=-2, axis2=-1)
                if not (np.all(np.isfinite(L)) and np.all(diag > 0)):
                    raise ValueError("`D` must be positive definite, got a Cholesky factor "
                                     "with a non-positive or non-finite diagonal")
                D = check_symmetric(D, "D")
            self._chol_D = _owned(L)
        V, c, D = (_owned(a) for a in (V, c, D))
        self.V, self.c, self.D = V, c, D
        self.diagonal = family == "diagonal"
        self.encoder = family
        try:
            self.batch_shape = np.broadcast_shapes(
                W.shape[:-2], b.shape[:-1], sigma2.shape, V.shape[:-2], c.shape[:-1],
                D.shape[:-1] if self.diagonal else D.shape[:-2])
        except ValueError:
            raise ValueError("the batch dimensions of W, b, sigma2, V, c, D do not broadcast: "
                             f"W {W.shape}, b {b.shape}, sigma2 {sigma2.shape}, V {V.shape}, "
                             f"c {c.shape}, D {D.shape}") from None

    @classmethod
    def _trusted(cls, W, b, sigma2, V=None, c=None, D=None, chol_D=None):
        """A model from arrays the caller vouches for: no validation, no copies (private).

        For optimisers that build one batched model per evaluation from their own parameters
        (:mod:`gaussrelbo._gradients`): float64 arrays, finite, all with the same batch shape
        ``W.shape[:-2]``; ``sigma2 > 0``; no encoder (``V``, ``c``, ``D`` all None), a
        diagonal ``D > 0`` of shape (..., k), or a full ``D`` with ``chol_D`` its Cholesky
        factor (positive diagonal).  The caller must not change the arrays while the model is
        in use (its decompositions are cached).
        """
        self = object.__new__(cls)
        self.W, self.b, self.sigma2 = W, b, sigma2
        self.n, self.k = W.shape[-2:]
        self.V, self.c, self.D, self._chol_D = V, c, D, chol_D
        if V is None:
            self.diagonal = self.encoder = None
        else:
            self.diagonal = chol_D is None
            self.encoder = "diagonal" if self.diagonal else "full"
        self.batch_shape = W.shape[:-2]
        return self

    @classmethod
    def from_decoder(cls, W: ArrayLike, b: ArrayLike, sigma2: ArrayLike) -> LinearGaussianVAE:
        """A decoder-only model :math:`z\\sim N(0, I)`, :math:`x|z\\sim N(Wz+b, \\sigma^2 I)`.

        Enough for :func:`~gaussrelbo.log_evidence`, :func:`~gaussrelbo.posterior` and
        :func:`~gaussrelbo.optimal_encoder`; add an encoder with :meth:`with_encoder`.
        """
        return cls(W, b, sigma2)

    @property
    def has_encoder(self) -> bool:
        """Whether the model carries an encoder ``(V, c, D)``."""
        return self.V is not None

    def __repr__(self):
        kind = f"{self.encoder} encoder" if self.has_encoder else "no encoder"
        return (f"LinearGaussianVAE(n={self.n}, k={self.k}, {kind}, "
                f"batch_shape={self.batch_shape})")

    def _share_decoder(self, out):
        """Carry the decoder's cached decompositions over to ``out`` (same W, sigma2)."""
        for name in ("svd", "log_post_ratio"):
            if name in self.__dict__:
                out.__dict__[name] = self.__dict__[name]
        return out

    def with_encoder(self, *, V: ArrayLike, c: ArrayLike, D: ArrayLike,
                     encoder: str | None = None) -> LinearGaussianVAE:
        """The same decoder with the encoder ``q(z|x) = N(Vx + c, D)`` (validated).

        ``encoder`` is ``"diagonal"``, ``"full"`` or ``None`` (inferred from the shape of ``D``).
        """
        return self._share_decoder(LinearGaussianVAE(self.W, self.b, self.sigma2, V=V, c=c, D=D,
                                                     encoder=encoder))

    def decoder_only(self) -> LinearGaussianVAE:
        """The same decoder without its encoder."""
        return self._share_decoder(LinearGaussianVAE(self.W, self.b, self.sigma2))

    def replace(self, **params: Any) -> LinearGaussianVAE:
        """A copy with some of ``W, b, sigma2, V, c, D`` (and ``encoder``) replaced, validated
        again.  Replacing ``D`` re-infers the encoder family unless ``encoder`` is given."""
        names = ("W", "b", "sigma2", "V", "c", "D")
        family = _encoder_family(params.pop("encoder", None), params.pop("encoder_cov", None))
        unknown = set(params) - set(names)
        if unknown:
            raise ValueError(f"unknown parameter(s) {sorted(unknown)}; expected some of "
                             f"{names + ('encoder',)}")
        args = {name: params.get(name, getattr(self, name)) for name in names}
        if "D" not in params and family is None and self.has_encoder:
            family = self.encoder
        out = LinearGaussianVAE(args.pop("W"), args.pop("b"), args.pop("sigma2"), **args,
                                encoder=family)
        if not {"W", "sigma2"} & set(params):
            self._share_decoder(out)
        return out

    def _chunk(self, start, stop):
        """Models ``start:stop`` along the leading batch axis, sharing the validated arrays and
        any cached decomposition (no validation again)."""
        B, nb = self.batch_shape[0], len(self.batch_shape)

        def cut(a, core):
            if a is None:                   # a decoder-only model
                return None
            a = np.asarray(a)
            batch = a.shape[:a.ndim - core]
            return a[start:stop] if len(batch) == nb and batch[0] == B else a

        out = object.__new__(LinearGaussianVAE)
        out.__dict__.update(self.__dict__)
        dcore = 1 if self.diagonal else 2
        for name, core in (("W", 2), ("b", 1), ("sigma2", 0), ("V", 2), ("c", 1), ("D", dcore)):
            setattr(out, name, cut(getattr(self, name), core))
        if self._chol_D is not None:
            out._chol_D = cut(self._chol_D, 2)
        if "svd" in self.__dict__:
            U, s, R = self.svd
            out.svd = (cut(U, 2), cut(s, 1), cut(R, 2))
        for name in ("log_post_ratio", "logdet_D", "trace_D"):
            if name in self.__dict__:
                out.__dict__[name] = cut(self.__dict__[name], 0)
        if "log_marginal_var" in self.__dict__:
            out.__dict__["log_marginal_var"] = cut(self.__dict__["log_marginal_var"], 1)
        out.batch_shape = (len(range(B)[start:stop]),) + self.batch_shape[1:]
        return out

    def posterior_gain(self, noise=None):
        r""":math:`M^{-1}W^T` of shape (..., k, n) with :math:`M = W^TW + \text{noise}\,I`
        (``noise`` defaults to ``sigma2``), from the SVD of W: :math:`R\,\mathrm{diag}(s/(s^2+
        \text{noise}))\,U^T`."""
        U, s, R = self.svd
        r = U.shape[-1]
        noise = self._noise(noise)[..., None]
        g, _ = scaled_ratios(s[..., :r], noise)
        return (R[..., :, :r] * g[..., None, :]) @ np.swapaxes(U, -1, -2)

    def _noise(self, noise):
        if noise is None:
            return np.asarray(self.sigma2)
        noise = check_positive(noise, "noise")
        try:
            np.broadcast_shapes(noise.shape, self.batch_shape)
        except ValueError:
            raise ValueError(f"`noise` has shape {noise.shape}, which does not broadcast against "
                             f"the model's batch shape {self.batch_shape}") from None
        return noise

    def posterior_cov_eigen(self, noise=None):
        r"""Eigen-decomposition ``(tau, R)`` of :math:`\text{noise}\,M^{-1} = R\,\mathrm{diag}
        (\tau)R^T`, :math:`\tau_i = \text{noise}/(s_i^2+\text{noise})`, shapes (..., k) and
        (..., k, k)."""
        _, s, R = self.svd
        noise = self._noise(noise)[..., None]
        return scaled_ratios(s, noise)[1], R

    # ---- cached decompositions (private) -------------------------------------------------------

    @cached_property
    def svd(self):
        r"""``(U, s, R)``: :math:`W = U\,\mathrm{diag}(s)\,R^T` restricted as follows.

        ``s`` has shape (..., k): the singular values zero-padded to k when n < k.  ``R`` has
        shape (..., k, k) (orthogonal).  ``U`` has shape (..., n, min(n, k)) and pairs with the
        first min(n, k) entries of ``s``.
        """
        n, k = self.n, self.k
        if n >= k:
            U, s, Rt = np.linalg.svd(self.W, full_matrices=False)
        else:
            U, s_, Rt = np.linalg.svd(self.W, full_matrices=True)
            s = np.concatenate([s_, np.zeros(s_.shape[:-1] + (k - n,))], axis=-1)
        return U, s, Rt.swapaxes(-1, -2)

    @cached_property
    def _direct(self):
        r"""Whether the objectives take the direct route for this model: one model (no batch
        axes) with :math:`t = \|W\|_F^2/\sigma^2 \le 2^{16}`.

        The direct route forms the residual :math:`x - b - W(Vx+c)` in data space and
        :math:`\log\det(I + W^TW/\sigma^2)` from a QR factorisation of the stacked matrix
        :math:`[W/\sigma;\, I]`, with no SVD.  Both are normwise backward stable; against the
        SVD route the rounding of the residual may be amplified by up to :math:`\sqrt t \le
        256` (rounding in the directions of large :math:`s_i` no longer stays in their own
        coordinates), which is why larger :math:`t` takes the SVD route (Theory §5).  ``t`` is
        formed from :math:`W/\sigma`, so it neither overflows nor underflows for a model that
        qualifies.
        """
        if self.batch_shape or self.W.ndim != 2 or self.sigma2.ndim != 0:
            return False
        Ws = self.W / math.sqrt(float(self.sigma2))
        t = float(np.vdot(Ws, Ws))
        if not t <= _DIRECT_MAX:                      # also False for inf
            return False
        self.__dict__["_W_over_sigma"] = Ws
        return True

    @cached_property
    def log_post_ratio(self):
        r""":math:`\sum_i \log(\sigma^2/(s_i^2+\sigma^2)) = -\sum_i \operatorname{log1p}(s_i^2/\sigma^2)`,
        the log-determinant of :math:`\sigma^2 M^{-1}`, shape (...).  On the direct route
        (:attr:`_direct`) it is :math:`-2\sum_i\log|R_{ii}|` from the QR factorisation of
        :math:`[W/\sigma;\, I]` (whose :math:`R^TR = I + W^TW/\sigma^2`; every
        :math:`|R_{ii}| \ge 1` up to rounding)."""
        if self._direct:
            n, k = self.n, self.k
            A = np.zeros((n + k, k), order="F")
            A[:n] = self.__dict__["_W_over_sigma"]
            A[n:].flat[::k + 1] = 1.0
            from scipy.linalg.lapack import dgeqrf      # scipy loads on first use only

            qr, _, _, info = dgeqrf(A, overwrite_a=1)
            if info == 0:
                return -2.0 * np.add.reduce(np.log(np.abs(np.diagonal(qr))))
        s = self.svd[1]
        s2 = float(self.sigma2) if self.sigma2.ndim == 0 else self.sigma2[..., None]
        return -np.add.reduce(log1p_sq_ratio(s, s2), -1)

    @cached_property
    def log_marginal_var(self):
        r""":math:`\log(s_i^2+\sigma^2)` for the first min(n, k) singular values, shape
        (..., min(n, k)), without forming :math:`s_i^2` (no overflow)."""
        r = min(self.n, self.k)
        return log_sq_sum(self.svd[1][..., :r], np.asarray(self.sigma2)[..., None])

    @cached_property
    def logdet_D(self):
        if self.diagonal:
            return np.add.reduce(np.log(self.D), -1)
        return logdet_chol(self._chol_D)

    @cached_property
    def trace_D(self):
        """tr D; for a full D the squared norm of its Cholesky factor (the same matrix that
        gives log det D)."""
        if self.diagonal:
            return np.add.reduce(self.D, -1)
        return np.sum(self._chol_D * self._chol_D, axis=(-2, -1))


class DataMoments:
    r"""First and second moments of a data distribution: mean :math:`\mu_D` and covariance S.

    Every objective of the linear-Gaussian VAE is quadratic in x, so its data average depends on
    the data only through these moments.  With ``S`` the ``ddof=0`` sample covariance the
    population objectives equal the sample averages exactly.

    Parameters
    ----------
    mean : array_like, shape (..., n)
        Data mean.
    cov : array_like, shape (..., n, n)
        Symmetric positive semi-definite.

    Attributes
    ----------
    eigenvalues : ndarray, shape (..., n)
        Eigenvalues of ``cov`` in **descending** order (the order of every spectrum in the
        package: :func:`~gaussrelbo.load_spectrum`, :func:`~gaussrelbo.spectral_objective`,
        the optima atlas), rounding negatives clipped to 0.
    eigenvectors : ndarray, shape (..., n, n)
        The matching eigenvectors, as columns.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 1.0], [2.0, 1.0], [1.0, 4.0]])
    >>> d = DataMoments.from_samples(X)
    >>> d.mean, float(d.cov[1, 1])
    (array([1., 2.]), 2.0)
    """

    def __init__(self, mean: ArrayLike, cov: ArrayLike) -> None:
        mean = check_shape(as_float_array(mean, "mean"), "mean", (None,), "(..., n)")
        n = mean.shape[-1]
        if n == 0:
            raise ValueError(f"`mean` must have n >= 1 entries, got shape {mean.shape}")
        cov = check_shape(as_float_array(cov, "cov"), "cov", (n, n), f"(..., n, n) with n={n}")
        cov, lam, vec = check_psd(cov, "cov")
        mean, cov, lam, vec = (_owned(a) for a in (mean, cov, lam, vec))
        self.mean, self.cov, self.n = mean, cov, n
        self.eigenvalues, self.eigenvectors = lam, vec
        try:
            self.batch_shape = np.broadcast_shapes(mean.shape[:-1], cov.shape[:-2])
        except ValueError:
            raise ValueError(f"the batch dimensions of mean {mean.shape} and cov {cov.shape} "
                             "do not broadcast") from None

    @classmethod
    def from_samples(cls, X: ArrayLike, ddof: int = 0) -> DataMoments:
        """Moments of the rows of ``X`` (shape (N, n)); ``ddof=0`` makes population objectives
        equal sample averages exactly."""
        X = as_float_array(X, "X")
        if X.ndim != 2 or X.shape[0] < 1:
            raise ValueError(f"`X` must have shape (N, n) with N >= 1, got {X.shape}")
        if isinstance(ddof, (bool, np.bool_)) or ddof not in (0, 1) or X.shape[0] <= ddof:
            raise ValueError(f"`ddof` must be 0 or 1 and less than N={X.shape[0]}, got "
                             f"{fmt(ddof)}")
        # Scaled by the largest entry so that neither the mean nor the products overflow
        # while the covariance itself is representable.
        top = float(np.max(np.abs(X)))
        scale = 2.0 ** int(np.frexp(top)[1]) if top > 0 else 1.0     # a power of 2: exact
        Xs = X / scale
        mean_s = Xs.mean(axis=0)
        Xc = Xs - mean_s
        cov_s = Xc.T @ Xc / (X.shape[0] - ddof)
        with np.errstate(over="ignore"):
            mean, cov = mean_s * scale, cov_s * scale * scale
        if not np.all(np.isfinite(cov)):
            raise ValueError(f"`X` has a covariance beyond the float64 range (largest entry "
                             f"{fmt(top)}); rescale the data")
        return cls(mean, cov)

    @classmethod
    def from_spectrum(cls, eigenvalues: ArrayLike, mean: ArrayLike | None = None) -> DataMoments:
        """Diagonal moments with the given covariance eigenvalues (the axis-aligned case)."""
        lam = as_float_array(eigenvalues, "eigenvalues")
        check_shape(lam, "eigenvalues", (None,), "(..., n)")
        if np.any(lam < 0):
            raise ValueError(f"`eigenvalues` must be non-negative, got {lam[lam < 0].flat[0]!r}")
        cov = lam[..., :, None] * np.eye(lam.shape[-1])
        return cls(np.zeros(lam.shape) if mean is None else mean, cov)

    @cached_property
    def factor(self):
        r"""``L`` of shape (..., n, n) with :math:`LL^T = S`: eigenvectors scaled by
        :math:`\sqrt{\lambda}`.  Population averages of quadratic forms are
        :math:`E\|Ax+a\|^2 = \|A\mu_D + a\|^2 + \|AL\|_F^2`."""
        return self.eigenvectors * np.sqrt(self.eigenvalues)[..., None, :]

    def __repr__(self):
        return f"DataMoments(n={self.n}, batch_shape={self.batch_shape})"
