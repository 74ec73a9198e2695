"""The documented recipe "test your VAE loss against the exact answer" runs against numpyro:
the correct code passes, the planted log(2 pi sigma) bug is caught, and the page shows that
output."""

import math
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


# with the numpyro bridge test (tests/test_bridges.py) on one pytest-xdist worker: jax loads once
@pytest.mark.xdist_group("jax")
def test_recipe_passes_correct_code_and_catches_the_planted_bug(capsys):
    pytest.importorskip("numpyro", reason="numpyro is in the test extra; CI installs it")
    text = (ROOT / "docs" / "recipe_oracle.md").read_text()
    namespace = {}
    for block in re.findall(r"```python\n(.*?)\n```", text, flags=re.S):
        exec(compile(block, "docs/recipe_oracle.md", "exec"), namespace)
    assert namespace["correct"].passed
    assert not namespace["buggy"].passed
    # same keys, same draws: the planted bug shifts every estimate by
    # -n/2 (log(2 pi sigma) - log(2 pi sigma^2)) = n/4 log(sigma2) (n = 4, sigma2 = 0.3)
    shift = namespace["buggy"].estimate - namespace["correct"].estimate
    assert abs(shift - 0.25 * 4 * math.log(0.3)) <= 1e-9
    printed = capsys.readouterr().out.strip().splitlines()
    shown = re.search(r"```text\n(.*?)\n```", text, flags=re.S).group(1).splitlines()
    assert [line.split(": estimate")[0] for line in printed] == \
        [line.split(": estimate")[0] for line in shown]
    # the exact value is deterministic: the page shows the one computed
    assert printed[0].split("exact ")[1].split(",")[0] == shown[0].split("exact ")[1].split(",")[0]
