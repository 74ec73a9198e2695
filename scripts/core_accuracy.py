"""Accuracy of the analytic core, measured: worst relative errors against mpmath and Monte Carlo
agreement in standard errors.

    python scripts/core_accuracy.py [--samples N]

1. ell(alpha) and H_alpha of Gaussians (k = 1..4, condition numbers up to 1e16) against
   ``gaussrelbo.testing`` (mpmath, 50 digits) on 400 orders log-spaced over [1e-6, 1e6] plus
   1, 1 +- 1e-12, 1 +- 1e-9;
2. every objective, per data point and population, diagonal and full encoders, against the
   seeded Monte Carlo estimators of ``gaussrelbo.montecarlo``: the worst |z| = |MC - closed
   form| / standard error over all of them (a correct closed form gives |z| of a few at most).
   Random encoders, except for the importance-sampled log p(x) of single points (below).
"""

import argparse

import numpy as np

import gaussrelbo as gr
from gaussrelbo import montecarlo as mc
from gaussrelbo import testing
from gaussrelbo._numerics import ell


def _orders():
    return np.concatenate([np.geomspace(1e-6, 1e6, 400),
                           [1.0, 1 - 1e-12, 1 + 1e-12, 1 - 1e-9, 1 + 1e-9]])


def mpmath_errors():
    worst = {}
    for a in _orders():
        want = float(testing.ell(a))
        worst["ell"] = max(worst.get("ell", 0.0), abs(float(ell(a)) - want) / abs(want))
    rng = np.random.default_rng(0)
    covs = [np.array([[2.0]]), np.diag([1e-8, 1e8]), np.diag([1e-8, 1.0, 1e8])]
    for k in (2, 3, 4):
        Q, _ = np.linalg.qr(rng.normal(size=(k, k)))
        C = (Q * rng.uniform(0.2, 5.0, k)) @ Q.T
        covs.append(0.5 * (C + C.T))
    for cov in covs:
        for a in _orders()[::8]:
            want = float(testing.renyi_entropy(cov, a))
            got = float(gr.renyi_entropy(cov, a))
            worst["renyi_entropy"] = max(worst.get("renyi_entropy", 0.0),
                                         abs(got - want) / max(abs(want), 1e-300))
    return worst


def _model(rng, n, k, full):
    W = rng.normal(size=(n, k))
    D = (lambda A: A @ A.T / k + 0.2 * np.eye(k))(rng.normal(size=(k, k))) if full \
        else rng.uniform(0.2, 1.5, k)
    return gr.LinearGaussianVAE(W, rng.normal(size=n), 0.6, V=0.3 * rng.normal(size=(k, n)),
                                c=rng.normal(size=k), D=D)


def mc_z_scores(N):
    rng = np.random.default_rng(1)
    zs = {}
    for full in (False, True):
        for n, k in ((3, 2), (5, 3)):
            m = _model(rng, n, k, full)
            Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
            data = gr.DataMoments(rng.normal(size=n), (Q * rng.uniform(0.3, 2.0, n)) @ Q.T)
            x = rng.normal(size=(4, n))
            # Importance sampling of log p(x) per point uses the encoder as proposal; a random
            # encoder can sit near the edge of finite weight variance, where the delta-method
            # standard error is itself unreliable, so the proposal is the escort of order 1/2
            # (twice the posterior covariance; log p(x) does not depend on the encoder).
            wide = gr.optimal_encoder(m, "relbo", alpha=0.5, diagonal=False)
            for where, d in (("population", data), ("point", x)):
                cases = [("distortion", mc.mc_distortion(m, d, N, 2), gr.distortion(m, d)),
                         ("rate", mc.mc_rate(m, d, N, 3), gr.rate(m, d)),
                         ("elbo", mc.mc_elbo(m, d, N, 4), gr.elbo(m, d)),
                         ("beta_elbo", mc.mc_beta_elbo(m, d, 2.5, N, 5),
                          gr.beta_elbo(m, d, 2.5)),
                         ("log_evidence", mc.mc_log_evidence(wide, d, N, 8),
                          gr.log_evidence(m, d))]
                for a in (0.5, 2.0):
                    cases += [("relbo", mc.mc_relbo(m, d, a, N, 6), gr.relbo(m, d, a)),
                              ("renyi_term", mc.mc_renyi_term(m, d, a, N, 7),
                               gr.renyi_term(m, d, a))]
                for name, est, closed in cases:
                    z = float(np.max(np.abs(est.z_score(closed))))
                    key = f"{name} ({where})"
                    zs[key] = max(zs.get(key, 0.0), z)
    return zs


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--samples", type=int, default=200_000)
    args = p.parse_args(argv)
    for name, err in mpmath_errors().items():
        print(f"{name:28s} worst relative error vs mpmath: {err:.3g}")
    zs = mc_z_scores(args.samples)
    for name, z in sorted(zs.items()):
        print(f"{name:28s} |MC - closed form| / s.e. = {z:.2f}")
    print(f"worst |z| over {len(zs)} quantities: {max(zs.values()):.2f}")


if __name__ == "__main__":
    main()
