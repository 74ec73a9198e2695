r"""The optima atlas: stationary points of the profiled objectives, their classification,
collapse thresholds and global maxima.

Everything is posed in the eigenbasis of the data covariance, :math:`S = \mathrm{diag}(\lambda)`
with :math:`\lambda_1 \ge \dots \ge \lambda_n`, the decoder bias at the data mean and the encoder
at its optimum for the decoder, so each objective becomes a function :math:`F(W, \sigma^2)`
(the profile lemma, see the findings page of the docs); the rows of W index eigen-directions.
The theory behind the enumeration and the closed-form classification is written out in the
docs (``docs/findings.md``, "Every stationary point").

Modules: ``_problem`` (validation), ``_profile`` (the profiled objective and its gradients),
``_records`` (:class:`StationaryPoint`, :class:`Atlas`), ``_clusters`` (the cluster equation),
``_hessian`` (closed-form block signs), ``_ratedist`` (rate and distortion), ``_counts`` (index
counts), ``_atlas`` (the public atlas functions).

References: M. E. Tipping and C. M. Bishop (1999), *Probabilistic principal component analysis*,
J. R. Stat. Soc. B 61(3); J. Lucas, G. Tucker, R. Grosse and M. Norouzi (2019), *Don't blame the
ELBO! A linear VAE perspective on posterior collapse*, NeurIPS.
"""

from ._atlas import (collapse_thresholds, global_maximum, rotation_stiffness,
                     sigma2_fixed_points, stationary_points)
from ._counts import index_counts
from ._profile import hessian_fd, profiled_value_grad
from ._records import Atlas, StationaryPoint

__all__ = ["Atlas", "StationaryPoint", "collapse_thresholds", "global_maximum", "hessian_fd",
           "index_counts", "profiled_value_grad", "rotation_stiffness", "sigma2_fixed_points",
           "stationary_points"]

# Public objects report this package as their home (doctest discovery, API docs, reprs).
for _name in __all__:
    globals()[_name].__module__ = __name__
del _name
