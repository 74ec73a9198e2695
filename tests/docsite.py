"""Shared by tests/test_docs.py and tests/test_browser.py: one build of the documentation site
per test run (shared by the pytest-xdist workers), and a headless Chromium with networking
disabled to read the rendered pages.

Loaded under the private name ``gaussrelbo_test_docsite`` (see ``load()`` in the test modules) so
that both modules share the one build with ``--import-mode=importlib``.
"""

import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IGNORE = shutil.ignore_patterns("gallery", "__pycache__", "_build")
PAGES = ("index", "relbo", "theory", "readings", "derivations", "findings", "gallery", "tutorial",
         "recipe_oracle", "api", "performance")

def _copy_sources(root):
    shutil.copytree(ROOT / "docs", root / "docs", ignore=IGNORE)
    shutil.copytree(ROOT / "benchmarks", root / "benchmarks", ignore=IGNORE)


def build_site(run_once):
    """Copy ``docs/`` and ``benchmarks/`` to a temporary directory and run ``docs/build.py`` there
    (gallery, then ``sphinx-build -W``) against the installed package; once per test run
    (``run_once``, the fixture of ``tests/conftest.py``: the pytest-xdist workers share it).
    Returns ``(root, proc)``: ``root / "site"`` holds the HTML."""
    return run_once("docsite", [sys.executable, "{root}/docs/build.py", "--site-dir",
                                "{root}/site"], prepare=_copy_sources)


# ---- the browser ------------------------------------------------------------------------------

def chromium():
    """Path of a Chromium binary, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _flags(profile):
    # Headless, no first-run or background traffic, and no network at all: every host name
    # resolves to nothing and every proxied request goes to a closed local port.
    return ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-extensions", "--disable-default-apps", "--mute-audio",
            f"--user-data-dir={profile}", "--proxy-server=http://127.0.0.1:9",
            "--proxy-bypass-list=<-loopback>", "--host-resolver-rules=MAP * ~NOTFOUND",
            "--allow-file-access-from-files", "--virtual-time-budget=20000",
            "--run-all-compositor-stages-before-draw"]


def dump_dom(binary, page, profile, timeout=120):
    """The DOM of ``page`` (a file path) after its scripts ran (MathJax typesets first)."""
    proc = subprocess.run([binary, *_flags(profile), "--dump-dom", Path(page).as_uri()],
                          capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0 or "<html" not in proc.stdout:
        raise RuntimeError(f"chromium failed on {page}: {proc.stderr[-2000:]}")
    return proc.stdout


def visit(binary, page, out, profile, size=(1280, 1800), timeout=120):
    """One visit of ``page``: write its PNG screenshot (``size``, no scrollbars) to ``out`` and
    return its DOM after the scripts ran, as :func:`dump_dom` does.  Chromium renders the page
    once and does both, so a page costs one browser start, not two."""
    proc = subprocess.run([binary, *_flags(profile), f"--window-size={size[0]},{size[1]}",
                           "--hide-scrollbars", f"--screenshot={out}", "--dump-dom",
                           Path(page).as_uri()], capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0 or "<html" not in proc.stdout:
        raise RuntimeError(f"chromium failed on {page}: {proc.stderr[-2000:]}")
    return proc.stdout


class _Text(HTMLParser):
    """Visible text (outside script, style, and MathJax's hidden copies), images, math nodes."""

    _HIDDEN = {"script", "style", "mjx-assistive-mml", "noscript", "title", "head"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.prose, self.code, self.images, self.typeset = [], [], [], [], 0

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs).get("src", ""))
        if tag == "mjx-container":
            self.typeset += 1
        if tag not in ("img", "br", "meta", "link", "input", "hr", "source", "wbr"):
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in self.stack:
            while self.stack and self.stack.pop() != tag:
                pass

    def handle_data(self, data):
        if any(t in self._HIDDEN for t in self.stack):
            return
        (self.code if "pre" in self.stack else self.prose).append(data)


_ROLE = re.compile(r":(math|func|class|meth|mod|attr|obj|data|ref|doc|eq|term):`")
_TEMPLATE = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")
_RAW_TEX = ("\\(", "\\)", "\\[", "\\]", "$$", "\\frac", "\\mathrm", "\\alpha", "\\sigma")


def read_dom(dom):
    parser = _Text()
    parser.feed(dom)
    return parser


def problems(dom, page):
    """What a reader should not see on the rendered page: raw TeX, reST roles or directives,
    unfilled ``{name}`` templates (prose only: code blocks may hold dicts), broken images."""
    parsed = read_dom(dom)
    prose = "".join(parsed.prose)
    found = []
    for tex in _RAW_TEX:
        if tex in prose:
            i = prose.index(tex)
            found.append(f"raw TeX {tex!r}: ...{prose[max(0, i - 60):i + 60]!r}...")
    for m in list(_ROLE.finditer(prose))[:3]:
        found.append(f"reST role: ...{prose[max(0, m.start() - 40):m.end() + 40]!r}...")
    if ".. math::" in prose:
        found.append("literal '.. math::' directive")
    for m in list(_TEMPLATE.finditer(prose))[:3]:
        found.append(f"unfilled template {m.group()!r}: "
                     f"...{prose[max(0, m.start() - 40):m.end() + 40]!r}...")
    base = Path(page).parent
    for src in parsed.images:
        if src.startswith(("http:", "https:", "//")):
            found.append(f"image from the network: {src}")
            continue
        target = Path(src[len("file://"):]) if src.startswith("file://") else base / src
        if not target.is_file() or target.stat().st_size == 0:
            found.append(f"broken image: {src}")
    return found, parsed
