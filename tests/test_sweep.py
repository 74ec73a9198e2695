"""Parameter sweeps as labelled datasets on dask (gaussrelbo.sweep, `gaussrelbo sweep`)."""

import logging

import numpy as np
import pytest

xr = pytest.importorskip("xarray")
pytest.importorskip("dask")

import gaussrelbo as gr  # noqa: E402
from gaussrelbo import cli  # noqa: E402

SYN = np.array([5.0, 4.0, 3.0, 2.0, 1.2, 0.5])
D9 = np.array([5.0, 3.0, 1.6, 0.9, 0.5, 0.3])
DIMS = ("spectrum", "k", "objective", "alpha", "beta", "sigma2", "reading")


def _ml_learned(lam, k):
    """pPCA maximum likelihood (Tipping & Bishop 1999): sigma2 = mean discarded eigenvalue."""
    n = lam.size
    s2 = lam[k:].sum() / (n - k)
    return -0.5 * n * (1 + np.log(2 * np.pi)) - 0.5 * (np.log(lam[:k]).sum() + (n - k) * np.log(s2))


def _r_star(lam, k, beta):
    """Active count of the beta-ELBO with learned sigma2: the largest self-consistent r, i.e.
    n > beta r and lam_r (n - beta r) > beta sum_{j>r} lam_j (0 always allowed)."""
    n = lam.size
    ok = [r for r in range(1, k + 1)
          if n > beta * r and lam[r - 1] * (n - beta * r) > beta * lam[r:].sum()]
    return max(ok, default=0)


def test_sweep_values_dims_and_attrs():
    betas = [0.5, 1.0, 2.0, 4.0]
    ds = gr.sweep({"syn": SYN, "d9": D9}, k=[1, 3], objective=["relbo", "beta_elbo"],
                  alpha=[0.3, 3.0], beta=betas, sigma2=[None, 0.8], scheduler="synchronous")
    assert tuple(ds.max_value.dims) == DIMS
    assert ds.max_value.shape == (2, 2, 2, 2, 4, 2, 1)
    assert ds.spectrum.values.tolist() == ["syn", "d9"]
    assert np.isnan(ds.sigma2.values[0])
    assert ds.max_value.attrs["units"] == "nats"
    assert "long_name" in ds.n_active.attrs
    np.testing.assert_array_equal(ds.eigenvalues.sel(spectrum="d9").values, D9)
    # RELBO, learned sigma2: pPCA maximum likelihood for every alpha (closed form)
    for name, lam in (("syn", SYN), ("d9", D9)):
        for k in (1, 3):
            got = ds.max_value.sel(spectrum=name, k=k, objective="relbo").isel(sigma2=0, beta=0)
            np.testing.assert_allclose(got.squeeze().values, _ml_learned(lam, k), rtol=1e-12)
    # beta-ELBO, fixed sigma2: dimension j collapses iff lam_j <= beta sigma2 (Lucas et al.)
    fixed = ds.n_collapsed.sel(spectrum="d9", k=3, objective="beta_elbo", sigma2=0.8).isel(
        alpha=0).squeeze()
    want = [3 - np.sum(D9[:3] > b * 0.8) for b in betas]
    np.testing.assert_array_equal(fixed.values, want)
    # beta-ELBO, learned sigma2: the largest self-consistent active count
    learned = ds.n_active.sel(spectrum="d9", k=3, objective="beta_elbo").isel(
        alpha=0, sigma2=0).squeeze()
    np.testing.assert_array_equal(learned.values, [_r_star(D9, 3, b) for b in betas])
    # alpha does not act on the beta-ELBO: constant along that axis
    be = ds.max_value.sel(objective="beta_elbo")
    np.testing.assert_array_equal(be.isel(alpha=0).values, be.isel(alpha=1).values)


def test_sweep_k_beyond_dimension_is_nan_and_netcdf_round_trip(tmp_path):
    ds = gr.sweep(SYN[:3], k=[2, 4], objective="elbo", sigma2=0.8, scheduler="synchronous")
    assert np.all(np.isnan(ds.max_value.sel(k=4).values))
    assert np.all(np.isfinite(ds.max_value.sel(k=2).values))
    path = tmp_path / "sweep.nc"
    ds.to_netcdf(path, engine="scipy")
    back = xr.open_dataset(path, engine="scipy")
    xr.testing.assert_allclose(back.max_value, ds.max_value)
    assert back.max_value.attrs["units"] == "nats"


def test_sweep_basins_every_start_reaches_the_maximum():
    # On this spectrum every saddle has an ascent direction (the optima atlas): random starts
    # reach the global maximum, none stall.
    ds = gr.sweep(SYN, k=3, objective="relbo", alpha=[0.3, 3.0], sigma2=0.8, basin_runs=4,
                  scheduler="synchronous")
    np.testing.assert_array_equal(ds.basin_fraction_max.values.ravel(), [1.0, 1.0])
    np.testing.assert_array_equal(ds.basin_near_saddle.values.ravel(), [0.0, 0.0])
    assert np.all(ds.basin_median_iter.values > 0)


def test_sweep_on_a_local_cluster_matches_the_local_scheduler():
    distributed = pytest.importorskip("distributed")
    kw = dict(k=[1, 2], objective=["relbo", "beta_elbo"], alpha=[0.5, 2.0], beta=[0.5, 4.0],
              sigma2=[None, 0.8])
    local = gr.sweep(["synthetic", "design9"], scheduler="threads", **kw)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=":0", silence_logs=logging.ERROR) as cluster, \
            distributed.Client(cluster) as client:
        remote = gr.sweep(["synthetic", "design9"], client=client, chunk_size=3, **kw)
    xr.testing.assert_identical(remote.drop_attrs(), local.drop_attrs())
    assert remote.attrs["n_chunks"] > 1


@pytest.mark.parametrize("kwargs, match", [
    ({"k": 0}, "`k` must contain positive integers, got 0"),
    ({"objective": "vae"}, "`objective` must contain values of"),
    ({"alpha": [0.5, -1.0]}, "`alpha` must be positive"),
    ({"beta": float("nan")}, "`beta` must be finite"),
    ({"sigma2": [0.0]}, "`sigma2` must be positive"),
    ({"reading": "tempered"},
     "`reading` must contain values of 'pointwise', 'escort', 'cross_entropy', got 'tempered'"),
    ({"basin_runs": -1}, "`basin_runs` must be a non-negative integer, got -1"),
    ({"scheduler": "mpi"}, "`scheduler` must be"),
    ({"chunk_size": 0}, "`chunk_size` must be a positive integer, got 0"),
    ({"random_state": "x"}, "`random_state` must be None"),
    ({"spectrum": [3.0, 5.0]}, "must be a non-empty 1-D array of non-negative eigenvalues in "
                               "descending order"),
    ({"blas_threads": -2}, "`blas_threads` must be a positive integer or 'all', got -2"),
])
def test_sweep_bad_input(kwargs, match):
    kw = {"spectrum": "synthetic", **kwargs}
    with pytest.raises(ValueError, match=match):
        gr.sweep(**kw)


def test_cli_sweep_writes_netcdf(tmp_path, capsys):
    out = tmp_path / "s.nc"
    rc = cli.main(["sweep", "--spectrum", "design9", "--k", "3", "--objective", "beta-elbo",
                   "--beta", "0.5,4", "--sigma2", "learned,0.8", "--scheduler", "synchronous",
                   "--out", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "4 configurations" in text
    ds = xr.open_dataset(out)
    # learned sigma2 at beta = 4: everything collapses and sigma2 = sum(lam) / n
    got = ds.sigma2_at_max.sel(beta=4.0).isel(sigma2=0).squeeze()
    np.testing.assert_allclose(got.values, D9.sum() / D9.size, rtol=1e-12)
    assert int(ds.n_active.sel(beta=4.0).isel(sigma2=0).squeeze()) == 0
    ds.close()


def test_cli_sweep_bad_argument(capsys):
    assert cli.main(["sweep", "--objective", "vae"]) == 2
    assert "--objective must be among" in capsys.readouterr().err
