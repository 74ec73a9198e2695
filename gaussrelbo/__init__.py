"""gaussrelbo: the exact, analytic theory of Renyi-entropy VAE bounds on linear-Gaussian models.

The RELBO of order alpha replaces the Shannon entropy of the VAE derivation by a Renyi entropy.
It is an exact lower bound on log p(x) for every alpha > 0, carries a term built on the model's own
posterior p(z|x), and returns to the ELBO as alpha -> 1.  For the linear-Gaussian model every
quantity has a closed form; see ``docs/`` and the derivations in ``derivations/``.
"""

from .basins import basin_map, fit_population
from .encoders import optimal_encoder
from .entropy import renyi_entropy, shannon_entropy
from .model import DataMoments, LinearGaussianVAE
from . import datasets, montecarlo, optima, report, spectral
from .spectral import profiled_objective, spectral_objective
from .sweep import sweep
from .objectives import (beta_elbo, distortion, elbo, log_evidence, rate, relbo, relbo_expansion,
                         renyi_term, vr_bound)

__version__ = "0.1.0"

__all__ = [
    "DataMoments",
    "LinearGaussianVAE",
    "LinearVAE",
    "basin_map",
    "beta_elbo",
    "distortion",
    "elbo",
    "fit_population",
    "log_evidence",
    "optimal_encoder",
    "profiled_objective",
    "rate",
    "relbo",
    "relbo_expansion",
    "renyi_entropy",
    "renyi_term",
    "shannon_entropy",
    "spectral_objective",
    "sweep",
    "vr_bound",
]


def __getattr__(name):
    # The scikit-learn estimator is imported on first use: scikit-learn is an optional extra.
    if name == "LinearVAE":
        from .estimator import LinearVAE
        return LinearVAE
    raise AttributeError(f"module 'gaussrelbo' has no attribute {name!r}")
