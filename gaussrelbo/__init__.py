"""gaussrelbo: the exact, analytic theory of Renyi-entropy VAE bounds on linear-Gaussian models.

The RELBO of order alpha replaces the Shannon entropy of the VAE derivation by a Renyi entropy.
It is an exact lower bound on log p(x) for every alpha > 0, carries a term built on the model's own
posterior p(z|x), and returns to the ELBO as alpha -> 1.  For the linear-Gaussian model every
quantity has a closed form; see the documentation and the derivations in
``gaussrelbo.derivations``.

The closed forms (objectives, encoders, entropies, posteriors, divergences) are imported with the
package; everything heavier (scipy, matplotlib, scikit-learn, the optima atlas, Monte Carlo, the
report) is imported on first use.
"""

import importlib

from .divergences import Gaussian, kl_divergence, renyi_divergence
from .encoders import optimal_encoder
from .entropy import renyi_entropy, shannon_entropy
from .model import DataMoments, LinearGaussianVAE
from .objectives import (beta_elbo, distortion, elbo, log_evidence, rate, relbo, relbo_expansion,
                         renyi_term, vr_bound)
from .posterior import encoder_distribution, escort_posterior, posterior

__version__ = "0.1.0"

# name -> submodule that defines it, imported on first access (PEP 562)
_LAZY = {
    "LinearVAE": "estimator",
    "basin_map": "basins",
    "fit_population": "basins",
    "profiled_objective": "spectral",
    "spectral_objective": "spectral",
    "sweep": "_sweep",
    "from_pca": "bridges",
    "to_data_coordinates": "bridges",
    "to_numpyro": "bridges",
    "to_pyro": "bridges",
}
_SUBMODULES = ("basins", "bridges", "datasets", "divergences", "encoders", "entropy",
               "estimator", "figures", "model", "montecarlo", "objectives", "optima",
               "posterior", "readings", "report", "spectral", "testing")

__all__ = [
    "DataMoments",
    "Gaussian",
    "LinearGaussianVAE",
    "LinearVAE",
    "basin_map",
    "beta_elbo",
    "distortion",
    "elbo",
    "encoder_distribution",
    "escort_posterior",
    "fit_population",
    "from_pca",
    "kl_divergence",
    "log_evidence",
    "optimal_encoder",
    "posterior",
    "profiled_objective",
    "rate",
    "relbo",
    "relbo_expansion",
    "renyi_divergence",
    "renyi_entropy",
    "renyi_term",
    "shannon_entropy",
    "spectral_objective",
    "sweep",
    "to_data_coordinates",
    "to_numpyro",
    "to_pyro",
    "vr_bound",
]


def __getattr__(name):
    if name in _LAZY:
        # LinearVAE needs scikit-learn, an optional extra: its ImportError says how to get it.
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module 'gaussrelbo' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__) | set(_SUBMODULES))
