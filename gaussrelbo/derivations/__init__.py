"""Symbolic derivations of gaussrelbo (sympy).

One script per topic, each exposing the expressions it derives and a ``check()`` that verifies them
symbolically:

* :mod:`gaussrelbo.derivations.renyi_entropy` -- the Renyi entropy of a Gaussian and its alpha -> 1 limit;
* :mod:`gaussrelbo.derivations.relbo_identity` -- log p(x) = RELBO_alpha + KL(q || pi_alpha)/alpha (n = k = 1);
* :mod:`gaussrelbo.derivations.closed_forms` -- per-datapoint and population closed forms (small sizes);
* :mod:`gaussrelbo.derivations.spectral` -- per-dimension functions and their optimal-encoder values;
* :mod:`gaussrelbo.derivations.stationary` -- spectral first and second derivatives, stationary conditions.

``python -m gaussrelbo.derivations`` (or ``.generate``) runs every check and writes ``gaussrelbo/_generated.py`` and the
LaTeX in ``docs/derivations/``.
"""
