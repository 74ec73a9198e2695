r"""Parameter sweeps: global optima, collapse counts and basin maps over grids, as labelled data.

:func:`sweep` evaluates every combination of spectrum, latent dimension k, objective, alpha,
beta, decoder noise and reading, and returns an :class:`xarray.Dataset` with one named dimension
per grid axis.  The work is split into chunks of configurations that run on dask: its local
scheduler by default, or a ``dask.distributed`` cluster when a ``Client`` is passed.  Needs the
``sweep`` extra (``pip install "gaussrelbo[sweep]"``: xarray, dask, distributed, threadpoolctl).

Parameters that do not apply to an objective (alpha outside the RELBO, beta outside the
beta-ELBO, the reading outside the RELBO) are not recomputed: the value is the same along that
axis, computed once.
"""

import sys

import numpy as np

from ._threads import blas_limit, check_blas_threads
from ._validation import as_float_array, check_alpha, check_beta, check_positive

__all__ = ["READINGS", "sweep"]

_OBJECTIVES = ("loglik", "elbo", "relbo", "beta_elbo")
#: Readings of "a Renyi-entropy VAE" a sweep can evaluate (docs page "Readings of the Renyi
#: VAE").  ``"pointwise"`` is the RELBO of Cukier (arXiv:2312.06828) as derived in the docs
#: (Jensen per data point), ``"escort"`` Jensen with the escort of the encoder,
#: ``"cross_entropy"`` the data-level log-mean-exp (0 < alpha < 2).  An evaluator is
#: ``READINGS[name] = fn(lam, k, objective, alpha, beta, sigma2, encoder)`` returning an object
#: with ``value, sigma2, active, rate, distortion, subset``; the readings other than
#: ``"pointwise"`` apply to ``objective="relbo"`` only (the sweep evaluates the other
#: objectives once, under ``"pointwise"``).
READINGS = {}

_VARIABLES = {
    "max_value": ("nats", "global maximum of the objective (profiled: optimal encoder, b = data "
                          "mean)"),
    "sigma2_at_max": ("data variance units", "decoder noise variance at the global maximum"),
    "n_active": ("1", "latent dimensions in use at the global maximum"),
    "n_collapsed": ("1", "latent dimensions collapsed (zero decoder column) at the maximum"),
    "rate": ("nats", "rate E KL(q||p(z)) at the global maximum (Alemi et al. 2018)"),
    "distortion": ("nats", "distortion -E log p(x|z) at the global maximum"),
    "basin_fraction_max": ("1", "fraction of random starts whose gradient ascent reached the "
                                "global maximum"),
    "basin_near_saddle": ("1", "random starts that ended at or stalled next to a saddle"),
    "basin_median_iter": ("1", "median L-BFGS iterations per start"),
}


def _pointwise(lam, k, objective, alpha, beta, sigma2, encoder):
    from .optima import global_maximum

    return global_maximum(lam, k, objective, alpha=alpha, beta=beta, sigma2=sigma2,
                          encoder=encoder)


def _reading(name):
    def evaluate(lam, k, objective, alpha, beta, sigma2, encoder):
        from .readings import reading_global_maximum

        if objective != "relbo":
            return _pointwise(lam, k, objective, alpha, beta, sigma2, encoder)
        # at the global maximum the decoder columns are orthogonal, where the diagonal and
        # the full encoder coincide: the encoder family does not change the values
        return reading_global_maximum(lam, k, alpha, name, sigma2)

    evaluate.__name__ = f"_{name}"
    return evaluate


READINGS["pointwise"] = _pointwise
READINGS["escort"] = _reading("escort")
READINGS["cross_entropy"] = _reading("cross_entropy")


# ---- validation ---------------------------------------------------------------------------------

def _seq(x, name):
    if isinstance(x, (str, bytes)) or np.ndim(x) == 0:
        x = [x]
    try:
        out = list(x)
    except TypeError:
        raise ValueError(f"`{name}` must be a value or a non-empty sequence, got {x!r}") from None
    if not out:
        raise ValueError(f"`{name}` must be a value or a non-empty sequence, got {x!r}")
    return out


def _spectra(spectrum):
    from .datasets import load_spectrum

    if isinstance(spectrum, dict):
        items = list(spectrum.items())
    elif isinstance(spectrum, str):
        items = [(spectrum, spectrum)]
    else:
        arr = np.asarray(spectrum, dtype=object)
        if arr.ndim == 1 and all(isinstance(s, str) for s in arr):
            items = [(s, s) for s in arr]
        else:
            items = [("spectrum", spectrum)]
    if not items:
        raise ValueError("`spectrum` must name or give at least one spectrum, got an empty dict")
    out = {}
    for name, spec in items:
        lam = load_spectrum(spec) if isinstance(spec, str) else as_float_array(spec, "spectrum")
        if lam.ndim != 1 or lam.size == 0 or np.any(lam < 0) or np.any(np.diff(lam) > 0):
            raise ValueError(f"`spectrum` {name!r} must be a non-empty 1-D array of "
                             f"non-negative eigenvalues in descending order")
        out[str(name)] = lam
    return out


def _grid(values, name, check):
    vals = _seq(values, name)
    return [float(check(v, name)) if np.ndim(v) == 0 else _bad(name, v) for v in vals]


def _bad(name, v):
    raise ValueError(f"`{name}` must contain scalars, got {v!r}")


def _sigma2_grid(values):
    out = []
    for v in _seq(values, "sigma2"):
        if v is None or (isinstance(v, str) and v == "learned"):
            out.append(np.nan)
        else:
            if np.ndim(v) != 0:
                _bad("sigma2", v)
            out.append(float(check_positive(v, "sigma2")))
    return out


def _k_grid(values):
    out = []
    for v in _seq(values, "k"):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"`k` must contain positive integers, got {v!r}")
        out.append(int(v))
    return out


# ---- the unit of work ---------------------------------------------------------------------------

def _config_values(lam, k, objective, alpha, beta, s2, reading, encoder, basins):
    """One configuration: a dict of the output variables (NaN where undefined)."""
    out = {key: np.nan for key in _VARIABLES}
    if k > lam.size:
        return out
    sigma2 = None if np.isnan(s2) else s2
    try:
        pt = READINGS[reading](lam, k, objective, alpha, beta, sigma2, encoder)
    except ValueError:                      # e.g. unbounded with learned sigma2: left NaN
        return out
    out.update(max_value=pt.value, sigma2_at_max=pt.sigma2, n_active=pt.active,
               n_collapsed=k - pt.active, rate=pt.rate, distortion=pt.distortion)
    if basins and (reading != "cross_entropy" or basins["mode"] == "profiled"):
        from .basins import basin_map

        param = {"relbo": alpha, "beta_elbo": beta}.get(objective, 1.0)
        bm = basin_map(lam, k, objective, params=(param,), n_runs=basins["n_runs"],
                       sigma2=sigma2, encoder=encoder, random_state=basins["random_state"],
                       mode=basins["mode"], blas_threads="all",
                       reading=reading if objective == "relbo" else "pointwise")
        best = f"subset={tuple(int(j) for j in pt.subset)} maximum"
        out.update(basin_fraction_max=bm.fractions[0].get(best, 0.0),
                   basin_near_saddle=bm.n_near_saddle[0],
                   basin_median_iter=bm.iterations[0][1])
    return out


def _run_chunk(configs, spectra, encoder, basins, limit):
    """Evaluate a list of configurations; returns an array (len(configs), n_variables)."""
    keys = list(_VARIABLES)
    out = np.full((len(configs), len(keys)), np.nan)
    with blas_limit(limit):
        for i, (sname, k, objective, alpha, beta, s2, reading) in enumerate(configs):
            vals = _config_values(spectra[sname], k, objective, alpha, beta, s2, reading,
                                  encoder, basins)
            out[i] = [vals[key] for key in keys]
    return out


# ---- the public entry point ---------------------------------------------------------------------

def sweep(spectrum="synthetic", k=(1,), objective=("relbo",), alpha=(1.0,), beta=(1.0,),
          sigma2=(None,), reading=("pointwise",), *, encoder="diagonal", basin_runs=0,
          basin_mode="profiled", random_state=0, client=None, scheduler="threads",
          chunk_size=None, progress=None, blas_threads=None):
    r"""Global optima, collapse counts and (optionally) basin maps over a parameter grid.

    Parameters
    ----------
    spectrum : str, array_like, sequence of str, or dict {name: str or array_like}
        Data covariance eigenvalues (descending), or names understood by
        :func:`gaussrelbo.datasets.load_spectrum`; default ``'synthetic'``.
    k : int or sequence of int, default (1,)
        Latent dimensions (cells with k larger than a spectrum's dimension are NaN).
    objective : str or sequence of {'relbo', 'elbo', 'loglik', 'beta_elbo'}, default ('relbo',)
    alpha : float or sequence of float, default (1.0,)
        Renyi orders (used by ``'relbo'`` only; constant along this axis for the others).
    beta : float or sequence of float, default (1.0,)
        Rate weights (used by ``'beta_elbo'`` only).
    sigma2 : float, None or sequence of them, default (None,)
        Fixed decoder noise; ``None`` (or ``'learned'``) learns it (coordinate NaN).
    reading : str or sequence of {'pointwise', 'escort', 'cross_entropy'}, default ('pointwise',)
        Readings of the Renyi-entropy VAE, keys of :data:`READINGS` (``objective='relbo'``
        only; constant along this axis for the other objectives).  ``"cross_entropy"`` cells
        are NaN where the reading has no maximum (alpha >= 2, or a fixed sigma2 at or below
        :math:`(1-\alpha)\lambda_{k+1}`); its basin variables need ``basin_mode='profiled'``.
    encoder : {'diagonal', 'full'}, default 'diagonal'
    basin_runs : int, default 0
        Random starts per configuration for a basin map (:func:`gaussrelbo.basin_map`); 0 skips
        the basin variables (NaN).
    basin_mode : {'profiled', 'full'}, default 'profiled'
    random_state : int, default 0
        Seed of the basin maps (every configuration uses the same seed).
    client : dask.distributed.Client, optional
        Run the chunks on this cluster; otherwise dask's local ``scheduler``.
    scheduler : {'threads', 'processes', 'synchronous'}, default 'threads'
        dask's local scheduler.  The work is small-matrix numpy, so ``'processes'`` is the one
        that uses several cores; it pays a process start-up of about a second.
    chunk_size : int, optional
        Configurations per dask task; default: about four tasks per worker.
    progress : bool or None
        Progress bar on stderr; ``None`` shows it for more than 200 configurations when stderr
        is a terminal.
    blas_threads : int, 'all' or None
        BLAS thread limit inside each task (``None``: environment variable
        ``GAUSSRELBO_BLAS_THREADS``, default 1).

    Returns
    -------
    xarray.Dataset
        Dimensions ``spectrum, k, objective, alpha, beta, sigma2, reading`` (in that order);
        variables ``max_value``, ``sigma2_at_max``, ``n_active``, ``n_collapsed``, ``rate``,
        ``distortion`` and the ``basin_*`` variables, each with ``units`` and
        ``long_name`` attributes; the spectra as ``eigenvalues(spectrum, eigen)`` (NaN padded).
        Writable with ``to_netcdf``.

    Examples
    --------
    >>> import gaussrelbo as gr
    >>> ds = gr.sweep("design9", k=3, objective="beta_elbo", beta=[0.5, 1.0, 2.0, 4.0])
    >>> ds.n_active.sel(spectrum="design9", k=3).squeeze().values.tolist()  # Lucas et al. 2019
    [3.0, 3.0, 1.0, 0.0]
    """
    try:
        import dask
        import xarray as xr
    except ImportError as exc:                     # pragma: no cover - the extra is missing
        raise ImportError("gaussrelbo.sweep needs the 'sweep' extra: pip install "
                          "'gaussrelbo[sweep]'") from exc
    from .basins import _check_count, _check_random_state

    spectra = _spectra(spectrum)
    ks = _k_grid(k)
    objectives = _seq(objective, "objective")
    for ob in objectives:
        if not isinstance(ob, str) or ob not in _OBJECTIVES:
            raise ValueError(f"`objective` must contain values of {_OBJECTIVES}, got {ob!r}")
    alphas = _grid(alpha, "alpha", check_alpha)
    betas = _grid(beta, "beta", check_beta)
    sigma2s = _sigma2_grid(sigma2)
    readings = _seq(reading, "reading")
    for r in readings:
        if not isinstance(r, str) or r not in READINGS:
            raise ValueError(f"`reading` must contain values of "
                             f"{', '.join(repr(x) for x in READINGS)}, got {r!r}")
    if not isinstance(encoder, str) or encoder not in ("diagonal", "full"):
        raise ValueError(f"`encoder` must be 'diagonal' or 'full', got {encoder!r}")
    if isinstance(basin_runs, bool) or not isinstance(basin_runs, (int, np.integer)) or (
            basin_runs < 0):
        raise ValueError(f"`basin_runs` must be a non-negative integer, got {basin_runs!r}")
    if basin_mode not in ("profiled", "full"):
        raise ValueError(f"`basin_mode` must be 'profiled' or 'full', got {basin_mode!r}")
    _check_random_state(random_state)
    if scheduler not in ("threads", "processes", "synchronous"):
        raise ValueError(f"`scheduler` must be 'threads', 'processes' or 'synchronous', got "
                         f"{scheduler!r}")
    if chunk_size is not None:
        chunk_size = _check_count(chunk_size, "chunk_size")
    if progress is not None and not isinstance(progress, bool):
        raise ValueError(f"`progress` must be True, False or None, got {progress!r}")
    limit = check_blas_threads(blas_threads)
    basins = ({"n_runs": int(basin_runs), "random_state": random_state, "mode": basin_mode}
              if basin_runs else None)

    # distinct configurations: an axis that does not apply to an objective collapses to index 0
    dims = ("spectrum", "k", "objective", "alpha", "beta", "sigma2", "reading")
    shape = (len(spectra), len(ks), len(objectives), len(alphas), len(betas), len(sigma2s),
             len(readings))
    names = list(spectra)
    unique, where = {}, np.empty(shape, int)
    for idx in np.ndindex(*shape):
        si, ki, oi, ai, bi, s2i, ri = idx
        ob = objectives[oi]
        ai = ai if ob == "relbo" else 0
        bi = bi if ob == "beta_elbo" else 0
        key = (names[si], ks[ki], ob, alphas[ai] if ob == "relbo" else 1.0,
               betas[bi] if ob == "beta_elbo" else 1.0, sigma2s[s2i],
               readings[ri] if ob == "relbo" else "pointwise")
        where[idx] = unique.setdefault(key, len(unique))
    configs = list(unique)

    workers = _n_workers(client, scheduler)
    size = chunk_size or max(1, -(-len(configs) // (4 * workers)))
    chunks = [configs[i:i + size] for i in range(0, len(configs), size)]
    tasks = [dask.delayed(_run_chunk, pure=True)(c, spectra, encoder, basins, limit)
             for c in chunks]
    show = progress if progress is not None else (len(configs) > 200 and sys.stderr.isatty())
    if client is not None:
        futures = client.compute(tasks)
        if show:
            from distributed import progress as dist_progress

            dist_progress(futures)
        parts = client.gather(futures)
    elif show:
        from dask.diagnostics import ProgressBar

        with ProgressBar(out=sys.stderr):
            parts = dask.compute(*tasks, scheduler=scheduler)
    else:
        parts = dask.compute(*tasks, scheduler=scheduler)
    flat = np.concatenate(parts, axis=0) if parts else np.empty((0, len(_VARIABLES)))

    n_eig = max(lam.size for lam in spectra.values())
    eig = np.full((len(names), n_eig), np.nan)
    for i, lam in enumerate(spectra.values()):
        eig[i, : lam.size] = lam
    data_vars = {}
    for j, (key, (units, long_name)) in enumerate(_VARIABLES.items()):
        data_vars[key] = xr.Variable(dims, flat[where, j],
                                     attrs={"units": units, "long_name": long_name})
    data_vars["eigenvalues"] = xr.Variable(
        ("spectrum", "eigen"), eig,
        attrs={"units": "data variance units",
               "long_name": "data covariance eigenvalues, descending (NaN padded)"})
    coords = {
        "spectrum": ("spectrum", names, {"long_name": "data spectrum"}),
        "k": ("k", np.array(ks), {"long_name": "latent dimension"}),
        "objective": ("objective", list(objectives), {"long_name": "objective"}),
        "alpha": ("alpha", np.array(alphas),
                  {"long_name": "Renyi order (RELBO only)", "units": "1"}),
        "beta": ("beta", np.array(betas),
                 {"long_name": "rate weight (beta-ELBO only)", "units": "1"}),
        "sigma2": ("sigma2", np.array(sigma2s),
                   {"long_name": "decoder noise variance (NaN: learned)",
                    "units": "data variance units"}),
        "reading": ("reading", list(readings), {"long_name": "reading of the Renyi VAE"}),
    }
    from . import __version__

    attrs = {"title": "gaussrelbo parameter sweep", "gaussrelbo_version": __version__,
             "encoder": encoder, "basin_runs": int(basin_runs), "basin_mode": basin_mode,
             "random_state": str(random_state), "n_configurations": len(configs),
             "n_chunks": len(chunks),
             "references": "Cukier arXiv:2312.06828; Tipping & Bishop 1999; Lucas et al. 2019"}
    return xr.Dataset(data_vars, coords=coords, attrs=attrs)


def _n_workers(client, scheduler):
    if client is not None:
        try:
            return max(1, sum(client.nthreads().values()))
        except Exception:                          # pragma: no cover - defensive
            return 1
    if scheduler == "synchronous":
        return 1
    import os

    return max(1, os.cpu_count() or 1)
