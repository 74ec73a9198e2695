"""``gaussrelbo sweep``: global optima, collapse counts and basin maps over a parameter grid."""

import sys

__all__ = ["register"]

_OBJECTIVES = {"loglik": "loglik", "elbo": "elbo", "relbo": "relbo", "beta-elbo": "beta_elbo"}


def _float_list(text, allow_learned=False):
    out = []
    for item in text.split(","):
        item = item.strip()
        if allow_learned and item == "learned":
            out.append(None)
            continue
        try:
            out.append(float(item))
        except ValueError:
            what = "positive numbers or 'learned'" if allow_learned else "positive numbers"
            raise ValueError(f"expected comma-separated {what}, got {text!r}") from None
    return out


def register(subparsers):
    import argparse

    def floats(text):
        try:
            return _float_list(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    def noises(text):
        try:
            return _float_list(text, allow_learned=True)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    def ints(text):
        try:
            return [int(v) for v in text.split(",")]
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected comma-separated positive integers, got "
                                             f"{text!r}") from None

    def threads(text):
        if text == "all":
            return text
        try:
            return int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a positive integer or 'all', got "
                                             f"{text!r}") from None

    p = subparsers.add_parser(
        "sweep", help="global optima, collapse counts and basin maps over a parameter grid",
        description="Evaluate every combination of the given spectra, k, objectives, alpha, "
        "beta and sigma2 (comma-separated lists) on dask and write a labelled dataset "
        "(netCDF).  Needs the 'sweep' extra: pip install 'gaussrelbo[sweep]'.")
    p.add_argument("--spectrum", action="append",
                   help="built-in name (synthetic, design9, digits), scikit-learn data set or "
                        "file, as in 'gaussrelbo optima'; repeat for several (default synthetic)")
    p.add_argument("--k", type=ints, default=[1], help="latent dimensions, e.g. 1,2,3")
    p.add_argument("--objective", default="relbo",
                   help="comma-separated objectives among " + ", ".join(_OBJECTIVES))
    p.add_argument("--alpha", type=floats, default=[1.0], help="Renyi orders (relbo)")
    p.add_argument("--beta", type=floats, default=[1.0], help="rate weights (beta-elbo)")
    p.add_argument("--sigma2", type=noises, default=[None],
                   help="fixed decoder noise variances, or 'learned' (the default)")
    p.add_argument("--reading", default="pointwise",
                   help="comma-separated readings of the Renyi VAE (relbo only) among "
                        "pointwise, escort, cross_entropy (default pointwise)")
    p.add_argument("--encoder", choices=("diagonal", "full"), default="diagonal")
    p.add_argument("--basin-runs", type=int, default=0,
                   help="random starts per configuration for a basin map (default 0: none)")
    p.add_argument("--scheduler", choices=("threads", "processes", "synchronous"),
                   default="threads", help="dask's local scheduler (default threads)")
    p.add_argument("--address", help="address of a running dask.distributed scheduler; the "
                                     "chunks run there instead of locally")
    p.add_argument("--chunk-size", type=int, help="configurations per dask task")
    p.add_argument("--blas-threads", type=threads,
                   help="BLAS thread limit (default: $GAUSSRELBO_BLAS_THREADS or 1)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar on stderr (default: on for long runs on a terminal)")
    p.add_argument("--out", help="write the dataset to this netCDF file")
    p.set_defaults(func=run)
    return p


def run(args):
    from ._sweep import sweep

    objectives = []
    for name in args.objective.split(","):
        name = name.strip()
        if name not in _OBJECTIVES:
            raise ValueError(f"--objective must be among {', '.join(_OBJECTIVES)}, got "
                             f"{name!r}")
        objectives.append(_OBJECTIVES[name])
    client = None
    if args.address:
        from distributed import Client

        client = Client(args.address)
    try:
        ds = sweep(args.spectrum or ["synthetic"], k=args.k, objective=objectives,
                   alpha=args.alpha, beta=args.beta, sigma2=args.sigma2,
                   reading=[r.strip() for r in args.reading.split(",")], encoder=args.encoder,
                   basin_runs=args.basin_runs, client=client, scheduler=args.scheduler,
                   chunk_size=args.chunk_size, progress=args.progress,
                   blas_threads=args.blas_threads)
    finally:
        if client is not None:
            client.close()
    if args.out:
        ds.to_netcdf(args.out)
    out = sys.stdout
    table = ds[["max_value", "sigma2_at_max", "n_active"]].to_dataframe().dropna(how="all")
    table = table.reset_index()
    # one row per distinct configuration: alpha only for relbo, beta only for beta_elbo
    a0, b0, r0 = ds.alpha.values[0], ds.beta.values[0], ds.reading.values[0]
    keep = (((table.objective == "relbo") | (table.alpha == a0))
            & ((table.objective == "beta_elbo") | (table.beta == b0))
            & ((table.objective == "relbo") | (table.reading == r0)))
    table = table[keep]
    table = table.drop(columns=[c for c in ("reading",) if ds.reading.size == 1])
    out.write(f"gaussrelbo sweep: {ds.attrs['n_configurations']} configurations in "
              f"{ds.attrs['n_chunks']} chunks\n")
    out.write(table.to_string(index=False, float_format=lambda v: f"{v:.8g}"))
    out.write("\n")
    if args.out:
        out.write(f"dataset written to {args.out}\n")
    return 0
