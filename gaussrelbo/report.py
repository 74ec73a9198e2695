"""Tables for the report: objectives of a model and the alpha -> 1 limit of the RELBO."""

import numpy as np

from .encoders import optimal_encoder
from .model import DataMoments, LinearGaussianVAE
from .objectives import (beta_elbo, distortion, elbo, log_evidence, rate, relbo, relbo_expansion,
                         renyi_term, vr_bound)

__all__ = ["DEFAULT_SPECTRUM", "alpha_limit_table", "default_problem", "objectives_table"]

#: The synthetic spectrum of DESIGN §8 (n = 6), used with k = 3 and sigma2 = 0.8.
DEFAULT_SPECTRUM = (5.0, 4.0, 3.0, 2.0, 1.2, 0.5)


def default_problem(seed=0):
    """A fixed, deterministic problem: the synthetic spectrum, a seeded non-optimal decoder
    (k = 3, sigma2 = 0.8) and its optimal diagonal ELBO encoder.  Returns (model, data, text)."""
    rng = np.random.default_rng(seed)
    lam = np.asarray(DEFAULT_SPECTRUM)
    n, k, sigma2 = lam.size, 3, 0.8
    data = DataMoments.from_spectrum(lam)
    W = rng.normal(size=(n, k))
    decoder = LinearGaussianVAE(W, np.zeros(n), sigma2, np.zeros((k, n)), np.zeros(k),
                                np.ones(k))
    model = optimal_encoder(decoder, "elbo", diagonal=True)
    text = (f"synthetic spectrum {DEFAULT_SPECTRUM}, k={k}, sigma2={sigma2}, seeded random W "
            f"(seed {seed}), optimal diagonal ELBO encoder")
    return model, data, text


def objectives_table(model, data, alphas=(0.25, 0.5, 1.0, 2.0, 4.0), betas=(0.5, 2.0),
                     vr_alphas=(0.0, 0.5, 1.0)):
    """Population values of every objective, as a list of ``{"objective", "value"}``."""
    rows = [("log p(x)", log_evidence(model, data)), ("ELBO", elbo(model, data)),
            ("rate R", rate(model, data)), ("distortion D", distortion(model, data))]
    rows += [(f"beta-ELBO beta={b:g}", beta_elbo(model, data, b)) for b in betas]
    rows += [(f"RELBO alpha={a:g}", relbo(model, data, a)) for a in alphas]
    rows += [(f"Renyi term alpha={a:g}", renyi_term(model, data, a)) for a in alphas]
    rows += [(f"VR bound alpha={a:g}", vr_bound(model, data, a)) for a in vr_alphas]
    return [{"objective": name, "value": float(v)} for name, v in rows]


def alpha_limit_table(model, data, deltas=tuple(10.0 ** -np.arange(1, 13))):
    r"""RELBO_{1+-delta} - ELBO and its remainder after the first-order term (DESIGN §3).

    ``RELBO_alpha = ELBO + (alpha - 1)(H(p(z|x)) - H(q)) + O((alpha - 1)^2)``: the first column
    divided by delta tends to the coefficient, the remainder divided by delta^2 stays bounded.
    """
    rows = []
    for delta in deltas:
        for sign in (1.0, -1.0):
            alpha = 1.0 + sign * delta
            t = alpha - 1.0                  # exact: the alpha actually evaluated
            diff, coef, rem = (float(v) for v in relbo_expansion(model, data, alpha))
            rows.append({"delta": t, "abs_diff": abs(diff), "diff_over_delta": diff / t,
                         "abs_remainder": abs(rem), "remainder_over_delta2": rem / t**2,
                         "first_order_coefficient": coef})
    return rows
