"""Every page of the built site, opened in headless Chromium with networking disabled, reads as
a reader should see it: math typeset (by the MathJax the site ships), no raw TeX, no reST roles,
no unfilled ``{name}`` templates, no broken images.  Screenshots of every page are saved to
``tests/artifacts/screenshots/`` (ignored by git) for a person to look at.

Chromium comes from the Debian package (``.ci/run`` installs it).  Without it the test is
skipped, except in CI (``CI=true``), where it fails.
"""

import os
import shutil
from pathlib import Path

import gaussrelbo_test_docsite as docsite  # registered by conftest.py
import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts" / "screenshots"

BROWSER = docsite.chromium()

if BROWSER is None:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        raise RuntimeError("CI: chromium is required for tests/test_browser.py (.ci/run installs "
                           "the Debian package `chromium`)")
    pytestmark = pytest.mark.skip(reason="chromium is not installed (apt-get install chromium); "
                                         "CI runs this test")
else:
    # one pytest-xdist worker builds the site and reads every page; the other never waits for it
    pytestmark = pytest.mark.xdist_group("docsite")

# Pages with formulas, and the least number of typeset formulas each must show.
MATH_PAGES = {"relbo": 5, "theory": 10, "derivations": 10, "api": 100, "tutorial": 1}


@pytest.fixture(scope="module")
def site(run_once):
    root, proc = docsite.build_site(run_once)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return root / "site"


@pytest.fixture(scope="module")
def profile(tmp_path_factory):
    return tmp_path_factory.mktemp("chromium-profile")      # fresh user-data-dir


# One test per page (and one browser per test), so pytest-xdist can spread the pages over workers.
# One visit per page both reads the page and saves its screenshot.
@pytest.mark.parametrize("page", docsite.PAGES)
def test_page_reads_cleanly_offline(site, profile, page):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    out = ARTIFACTS / f"{page}.png"
    out.unlink(missing_ok=True)                 # a stale screenshot cannot pass for a new one
    dom = docsite.visit(BROWSER, site / f"{page}.html", out, profile)
    with open(out, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n", page
    assert out.stat().st_size > 10_000, page
    found, parsed = docsite.problems(dom, site / f"{page}.html")
    assert found == [], f"{page}.html:\n" + "\n".join(found)
    assert parsed.typeset >= MATH_PAGES.get(page, 0), (page, parsed.typeset)


def test_checker_sees_raw_tex_when_mathjax_cannot_load(site, tmp_path):
    # The same page with MathJax pointed at a CDN: offline, nothing is typeset and the checker
    # must report the raw TeX (so the test above could fail).
    page = tmp_path / "derivations.html"
    html = (site / "derivations.html").read_text()
    assert "_static/mathjax/tex-chtml.js" in html
    page.write_text(html.replace("_static/mathjax/tex-chtml.js",
                                 "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js"))
    shutil.copytree(site / "_static", tmp_path / "_static", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("mathjax"))
    dom = docsite.dump_dom(BROWSER, page, tmp_path / "profile")
    found, parsed = docsite.problems(dom, page)
    assert parsed.typeset == 0
    assert any(f.startswith("raw TeX") for f in found)


def test_every_page_of_the_site_is_checked():
    # the page list above is every top-level page of docs/, so a new page cannot go unchecked
    pages = {p.stem for p in (docsite.ROOT / "docs").glob("*.md")} | {"api"}
    assert set(docsite.PAGES) == pages
