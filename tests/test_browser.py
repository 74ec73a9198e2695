"""Every page of the built site, opened in headless Chromium with networking disabled (one
browser for the module, one tab per page, driven over the DevTools pipe: ``tests/docsite.py``),
reads as a reader should see it: math typeset (by the MathJax the site ships), no raw TeX, no
reST roles, no unfilled ``{name}`` templates, no broken images.  Screenshots of every page are
saved to ``tests/artifacts/screenshots/`` (ignored by git) for a person to look at.

Chromium comes from the Debian package (``.ci/run`` installs it).  Without it the test is
skipped, except in CI (``CI=true``), where it fails.
"""

import os
import shutil
import struct
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
def site(run_once, default_report):
    root, proc = docsite.build_site(run_once, default_report)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return root / "site"


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """One Chromium (fresh user-data-dir) for every page of this module, driven over the
    DevTools pipe; closed at the module's end, with a check that none of its processes is left
    (``Browser.close``)."""
    with docsite.Browser(BROWSER, tmp_path_factory.mktemp("chromium-profile")) as b:
        yield b


# One test per page (each in a fresh tab of the one browser).  One visit per page both reads
# the page and saves its screenshot of the 1280 x 1800 window.
@pytest.mark.parametrize("page", docsite.PAGES)
def test_page_reads_cleanly_offline(site, browser, page):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    out = ARTIFACTS / f"{page}.png"
    out.unlink(missing_ok=True)                 # a stale screenshot cannot pass for a new one
    dom = browser.visit(site / f"{page}.html", screenshot=out)
    with open(out, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n", page
    assert struct.unpack(">II", head[16:24]) == (1280, 1800), page     # IHDR: width, height
    assert out.stat().st_size > 10_000, page
    found, parsed = docsite.problems(dom, site / f"{page}.html")
    assert found == [], f"{page}.html:\n" + "\n".join(found)
    assert parsed.typeset >= MATH_PAGES.get(page, 0), (page, parsed.typeset)


def test_checker_sees_raw_tex_when_mathjax_cannot_load(site, browser, tmp_path):
    # The same page with MathJax pointed at a CDN: offline, nothing is typeset and the checker
    # must report the raw TeX (so the test above could fail).  The visit does not wait for a
    # MathJax that never loads.
    page = tmp_path / "derivations.html"
    html = (site / "derivations.html").read_text()
    assert "_static/mathjax/tex-chtml.js" in html
    page.write_text(html.replace("_static/mathjax/tex-chtml.js",
                                 "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js"))
    shutil.copytree(site / "_static", tmp_path / "_static", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("mathjax"))
    dom = browser.visit(page)
    found, parsed = docsite.problems(dom, page)
    assert parsed.typeset == 0
    assert any(f.startswith("raw TeX") for f in found)


def test_a_page_whose_mathjax_never_finishes_is_an_error(browser, tmp_path):
    # MathJax loaded but its typesetting never ends: the visit stops at its timeout and says so
    # (instead of reading a half-typeset page).
    page = tmp_path / "stuck.html"
    page.write_text("<html><head><script>window.MathJax = {startup: {promise: new Promise("
                    "() => {})}};</script></head><body><p>\\(x\\)</p></body></html>")
    with pytest.raises(TimeoutError, match="MathJax did not finish typesetting .*stuck.html"):
        browser.visit(page, timeout=0.5)


def test_every_page_of_the_site_is_checked():
    # the page list above is every top-level page of docs/, so a new page cannot go unchecked
    pages = {p.stem for p in (docsite.ROOT / "docs").glob("*.md")} | {"api"}
    assert set(docsite.PAGES) == pages
