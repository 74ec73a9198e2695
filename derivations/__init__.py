"""Symbolic derivations of gaussrelbo (sympy).

One script per topic, each exposing the expressions it derives and a ``check()`` that verifies them
symbolically:

* :mod:`derivations.renyi_entropy` -- the Renyi entropy of a Gaussian and its alpha -> 1 limit;
* :mod:`derivations.relbo_identity` -- log p(x) = RELBO_alpha + KL(q || pi_alpha)/alpha (n = k = 1);
* :mod:`derivations.closed_forms` -- per-datapoint and population closed forms (small sizes);
* :mod:`derivations.spectral` -- per-dimension functions and their optimal-encoder values;
* :mod:`derivations.stationary` -- spectral first and second derivatives, stationary conditions.

``python -m derivations.generate`` runs every check and writes ``gaussrelbo/_generated.py`` and the
LaTeX in ``docs/derivations/``.
"""
