"""Shared by tests/test_docs.py and tests/test_browser.py: one build of the documentation site
per test run (shared by the pytest-xdist workers), and a headless Chromium with networking
disabled to read the rendered pages (:class:`Browser`: one browser process for many pages).

Loaded under the private name ``gaussrelbo_test_docsite`` (see ``load()`` in the test modules) so
that both modules share the one build with ``--import-mode=importlib``.
"""

import base64
import contextlib
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IGNORE = shutil.ignore_patterns("gallery", "__pycache__", "_build")
PAGES = ("index", "relbo", "theory", "readings", "derivations", "findings", "gallery", "tutorial",
         "recipe_oracle", "api", "performance")

def _copy_sources(root):
    shutil.copytree(ROOT / "docs", root / "docs", ignore=IGNORE)
    shutil.copytree(ROOT / "benchmarks", root / "benchmarks", ignore=IGNORE)


def build_site(run_once, default_report):
    """Copy ``docs/`` and ``benchmarks/`` to a temporary directory and run ``docs/build.py`` there
    (gallery, then ``sphinx-build -W``) against the installed package; once per test run
    (``run_once``, the fixture of ``tests/conftest.py``: the pytest-xdist workers share it).
    The gallery copies the figures of ``default_report`` (the fixture of ``tests/conftest.py``:
    the default report, built once per run) instead of drawing them again.
    Returns ``(root, proc)``: ``root / "site"`` holds the HTML."""
    report, proc = default_report
    if proc.returncode != 0:
        raise RuntimeError(f"the default report failed, so the site cannot be built:\n"
                           f"{proc.stderr[-3000:]}")
    return run_once("docsite", [sys.executable, "{root}/docs/build.py", "--site-dir",
                                "{root}/site", "--gallery-from", str(report)],
                    prepare=_copy_sources)


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
            "--allow-file-access-from-files", "--run-all-compositor-stages-before-draw"]


# Run in the page after its load event: wait for MathJax's first typesetting where MathJax
# runs (``MathJax.startup.promise``; a page whose MathJax never loaded has at most its
# configuration object, so it is not waited for), then for the web fonts, at most ``ms`` ms.
_SETTLE = """(async (ms) => {
  const late = new Promise((done) => setTimeout(() => done("timeout"), ms));
  const mj = window.MathJax;
  let state = "no MathJax";
  if (mj && mj.startup && mj.startup.promise) {
    state = await Promise.race([mj.startup.promise.then(() => "typeset"), late]);
  }
  if (state !== "timeout" && document.fonts) {
    await Promise.race([document.fonts.ready, late]);
  }
  return state;
})(%d)"""


def _running_in_group(group):
    """Process ids of group ``group`` that still run (exited ones waiting to be reaped by the
    init process do not count).  Reads ``/proc``; elsewhere, whether the group has a member."""
    if not os.path.isdir("/proc/self"):
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return []
        return [group]
    running = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:                         # gone meanwhile
            continue
        if int(fields[2]) == group and fields[0] not in "ZX":    # state, ppid, pgrp
            running.append(int(entry.name))
    return running


class Browser:
    """One headless Chromium (networking disabled, as :func:`_flags`) for many pages, driven
    over the DevTools protocol on a pipe: JSON messages ended by a NUL byte, written to the
    browser's file descriptor 3 and read from its descriptor 4 (``--remote-debugging-pipe``).

    Use as a context manager, or call :meth:`close`: the browser and every process it started
    (they share a new process group) are gone when it returns.
    """

    def __init__(self, binary, profile, size=(1280, 1800), timeout=60.0):
        self.size, self.timeout = tuple(size), float(timeout)
        self._next, self._events, self._buffer = 0, [], b""
        self._log = tempfile.TemporaryFile()
        to_browser, self._send_fd = os.pipe()
        self._recv_fd, from_browser = os.pipe()
        # The shell puts the pipe ends at the descriptors Chromium reads and writes, then
        # becomes Chromium (exec: same process id, in its own process group).
        script = 'exec "$@" 3<&0 4>&1 0</dev/null 1>/dev/null'
        try:
            self.proc = subprocess.Popen(
                ["/bin/sh", "-c", script, "sh", binary, *_flags(profile),
                 "--remote-debugging-pipe", f"--window-size={size[0]},{size[1]}",
                 "--hide-scrollbars", "about:blank"],
                stdin=to_browser, stdout=from_browser, stderr=self._log, start_new_session=True)
        except BaseException:
            for fd in (self._send_fd, self._recv_fd):
                os.close(fd)
            self._log.close()
            raise
        finally:
            os.close(to_browser)
            os.close(from_browser)
        self._closed = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- the protocol --------------------------------------------------------------------------

    def _stderr(self):
        self._log.seek(0)
        return self._log.read()[-2000:].decode(errors="replace")

    def _receive(self, seconds, deadline, waiting_for):
        """The next message from the browser (a dict); raises when the browser has exited or
        says nothing before ``deadline`` (``time.monotonic()``, ``seconds`` after the wait
        began)."""
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._recv_fd], [], [], left)[0]:
                raise TimeoutError(f"chromium did not answer {waiting_for} within "
                                   f"{seconds:g} s")
            chunk = os.read(self._recv_fd, 1 << 20)
            if not chunk:
                raise RuntimeError(f"chromium exited while waiting for {waiting_for}: "
                                   f"{self._stderr()}")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method, params=None, session=None, timeout=None):
        """Send one command (to the browser, or to the page of ``session``) and return its
        result; events received meanwhile are kept for :meth:`event`."""
        self._next += 1
        message = {"id": self._next, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        data = json.dumps(message).encode() + b"\0"
        while data:
            data = data[os.write(self._send_fd, data):]
        seconds = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + seconds
        while True:
            reply = self._receive(seconds, deadline, method)
            if reply.get("id") != self._next:
                self._events.append(reply)
                continue
            if "error" in reply:
                raise RuntimeError(f"chromium refused {method}: {reply['error']}")
            return reply["result"]

    def event(self, method, session, timeout=None):
        """Wait for the event ``method`` of the page of ``session``; returns its parameters."""
        seconds = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + seconds
        while True:
            for i, ev in enumerate(self._events):
                if ev.get("method") == method and ev.get("sessionId") == session:
                    return self._events.pop(i).get("params", {})
            self._events.clear()                 # nothing else is waited for
            self._events.append(self._receive(seconds, deadline, method))

    # -- pages ---------------------------------------------------------------------------------

    def visit(self, page, screenshot=None, timeout=None):
        """Open ``page`` (a file path) in a fresh tab of the window's size, wait for its load
        event (at most the browser's ``timeout``), then until MathJax has typeset it, where
        MathJax runs (at most ``timeout`` seconds, the browser's by default; else
        ``TimeoutError``), write a PNG screenshot of the window to ``screenshot`` (if given)
        and return the DOM (``document.documentElement.outerHTML``).  The tab is closed
        afterwards."""
        timeout = self.timeout if timeout is None else float(timeout)
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        try:
            session = self.call("Target.attachToTarget",
                                {"targetId": target, "flatten": True})["sessionId"]
            width, height = self.size
            self.call("Emulation.setDeviceMetricsOverride",
                      {"width": width, "height": height, "deviceScaleFactor": 1,
                       "mobile": False}, session)
            self.call("Page.enable", session=session)
            nav = self.call("Page.navigate", {"url": Path(page).resolve().as_uri()}, session)
            if nav.get("errorText"):
                raise RuntimeError(f"chromium could not open {page}: {nav['errorText']}")
            self.event("Page.loadEventFired", session)
            state = self._evaluate(_SETTLE % int(timeout * 1000), session, page,
                                   timeout=timeout + 5)
            if state == "timeout":
                raise TimeoutError(f"MathJax did not finish typesetting {page} within "
                                   f"{timeout:g} s")
            dom = self._evaluate("document.documentElement.outerHTML", session, page)
            if screenshot is not None:
                shot = self.call("Page.captureScreenshot", {"format": "png"}, session)
                Path(screenshot).write_bytes(base64.b64decode(shot["data"]))
        except BaseException:
            with contextlib.suppress(Exception):   # the first error is the one to report
                self.call("Target.closeTarget", {"targetId": target}, timeout=5)
            raise
        self.call("Target.closeTarget", {"targetId": target})
        return dom

    def _evaluate(self, expression, session, page, timeout=None):
        reply = self.call("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                               "returnByValue": True}, session, timeout)
        if "exceptionDetails" in reply:
            raise RuntimeError(f"a script failed on {page}: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def close(self):
        """Close the browser (``Browser.close``; killed if it does not exit within 10 s) and
        check that no process of its group is left."""
        if self._closed:
            return
        self._closed = True
        try:
            if self.proc.poll() is None:
                try:
                    self.call("Browser.close", timeout=10)
                except (RuntimeError, TimeoutError, OSError):
                    pass                          # exited before answering, or hung: see below
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                    self.proc.wait()
            for _ in range(100):                  # its helpers leave with it
                if not _running_in_group(self.proc.pid):
                    break
                time.sleep(0.05)
            else:
                left = _running_in_group(self.proc.pid)
                os.killpg(self.proc.pid, signal.SIGKILL)
                raise RuntimeError(f"chromium left processes {left} running 5 s after closing "
                                   "(now killed)")
        finally:
            for fd in (self._send_fd, self._recv_fd):
                os.close(fd)
            self._log.close()


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
