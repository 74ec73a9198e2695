"""The documentation: the tutorial runs as a doctest, and the site builds offline with
``mkdocs build --strict``, failing on a broken include or a missing figure.

The build runs on a copy of ``docs/``, ``mkdocs.yml`` and ``benchmarks/`` in a temporary
directory (the gallery it renders never touches the checkout), against the installed package.
"""

import doctest
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
IGNORE = shutil.ignore_patterns("gallery", "__pycache__")


def test_tutorial_runs_as_a_doctest():
    result = doctest.testfile(str(ROOT / "docs" / "tutorial.md"), module_relative=False,
                              optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 10 and result.failed == 0


def _mkdocs(root, site):
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f",
                           str(root / "mkdocs.yml"), "--site-dir", str(site)], cwd=root,
                          capture_output=True, text=True,
                          env=dict(os.environ, NO_MKDOCS_2_WARNING="1"))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("docs")
    shutil.copytree(ROOT / "docs", root / "docs", ignore=IGNORE)
    shutil.copytree(ROOT / "benchmarks", root / "benchmarks", ignore=IGNORE)
    shutil.copy(ROOT / "mkdocs.yml", root)
    proc = subprocess.run([sys.executable, str(root / "docs" / "build.py"), "--site-dir",
                           str(root / "site")], cwd=root, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return root


def test_site_builds_with_every_page(built):
    site = built / "site"
    for page in ("index.html", "relbo/index.html", "derivations/index.html",
                 "findings/index.html", "gallery/index.html", "tutorial/index.html",
                 "api/index.html", "performance/index.html"):
        assert (site / page).is_file(), page
    # the derivations page carries the generated LaTeX, included, not retyped
    generated = (ROOT / "docs" / "derivations" / "renyi_entropy.md").read_text()
    first_equation = next(line for line in generated.splitlines() if "\\" in line)
    html = (site / "derivations" / "index.html").read_text()
    assert first_equation.strip()[:40].replace("&", "&amp;") in html
    # the API page documents the estimator and the objectives from their docstrings
    api = (site / "api" / "index.html").read_text()
    assert "LinearVAE" in api and "relbo_expansion" in api
    # every figure of the gallery, and the throughput plot, are in the site
    for stem in ("F1_alpha_limit", "F2_bounds_vs_alpha", "F3_rotation", "F4_landscape",
                 "F5_collapse", "F6_rate_distortion", "F7_basins"):
        assert (site / "gallery" / "figures" / f"{stem}.png").is_file(), stem
    assert (site / "gallery" / "throughput.png").is_file()


def _copy(built, tmp_path):
    root = tmp_path / "copy"
    shutil.copytree(built / "docs", root / "docs")
    shutil.copy(built / "mkdocs.yml", root)
    return root


def test_broken_include_fails_the_build(built, tmp_path):
    root = _copy(built, tmp_path)
    assert _mkdocs(root, tmp_path / "site").returncode == 0          # the copy is sound
    page = root / "docs" / "derivations.md"
    page.write_text(page.read_text() + '\n--8<-- "derivations/no_such_file.md"\n')
    proc = _mkdocs(root, tmp_path / "site2")
    assert proc.returncode != 0
    assert "no_such_file.md" in proc.stdout + proc.stderr


def test_missing_figure_fails_the_build(built, tmp_path):
    root = _copy(built, tmp_path)
    (root / "docs" / "gallery" / "figures" / "F3_rotation.png").unlink()
    proc = _mkdocs(root, tmp_path / "site")
    assert proc.returncode != 0
    assert "F3_rotation.png" in proc.stdout + proc.stderr
