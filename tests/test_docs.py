"""The documentation: the tutorial runs as a doctest, and the site builds offline with
``sphinx-build -W`` (warnings are errors), failing on a broken include or a missing figure.

The build runs on a copy of ``docs/`` and ``benchmarks/`` in a temporary directory (the gallery
it writes never touches the checkout), against the installed package, once per session
(``tests/docsite.py``, shared by the pytest-xdist workers; tests/test_browser.py opens the same
build in Chromium).  Its gallery copies the figures of the session's default report
(``docs/build.py --gallery-from``; tests/test_report.py checks that report) instead of drawing
them again.
"""

import doctest
import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import gaussrelbo_test_docsite as docsite  # registered by conftest.py
import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_tutorial_runs_as_a_doctest():
    result = doctest.testfile(str(ROOT / "docs" / "tutorial.md"), module_relative=False,
                              optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 10
    assert result.failed == 0


@pytest.fixture(scope="module")
def built(run_once, default_report):
    root, proc = docsite.build_site(run_once, default_report)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return root


def _build_module(root):
    """``docs/build.py`` of the tree ``root``, imported under a private name."""
    sys.path.insert(0, str(root / "docs"))
    try:
        spec = importlib.util.spec_from_file_location("_docs_build", root / "docs" / "build.py")
        build = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(build)
    finally:
        sys.path.remove(str(root / "docs"))
    return build


# Runs ``python -m sphinx ARGS`` (``sphinx.cmd.build.main``, as ``sphinx/__main__.py`` does) for
# each argument list of a JSON list, in one interpreter: the imports (Sphinx, its extensions, the
# package documented) are paid once.  Prints a JSON list of [exit status, output] per build.
_SPHINX_MANY = """
import contextlib, io, json, sys
from sphinx.cmd.build import main
results = []
for argv in json.loads(sys.argv[1]):
    log = io.StringIO()
    with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        status = main(argv)
    results.append([status, log.getvalue()])
print(json.dumps(results))
"""


def _sphinx_many(roots_and_sites):
    """The strict ``sphinx-build`` command of ``docs/build.py`` run on each ``(root, site)``, one
    after the other in one fresh interpreter; returns ``[(exit status, log), ...]``."""
    argvs = []
    for root, site in roots_and_sites:
        command = _build_module(root).sphinx_command(root, site)
        assert command[:3] == [sys.executable, "-m", "sphinx"], command
        argvs.append(command[3:])
    proc = subprocess.run([sys.executable, "-c", _SPHINX_MANY, json.dumps(argvs)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return [tuple(r) for r in json.loads(proc.stdout.splitlines()[-1])]


@pytest.mark.xdist_group("docsite")
def test_site_builds_with_every_page(built):
    site = built / "site"
    for page in docsite.PAGES:
        assert (site / f"{page}.html").is_file(), page
    # the API page documents the estimator and the objectives from their docstrings
    api = (site / "api.html").read_text()
    assert 'id="gaussrelbo.estimator.LinearVAE"' in api
    assert 'id="gaussrelbo.objectives.relbo_expansion"' in api
    # every figure of the gallery, and the throughput plot, are in the site
    for stem in ("F1_alpha_limit", "F2_bounds_vs_alpha", "F3_rotation", "F4_landscape",
                 "F5_collapse", "F6_rate_distortion", "F7_basins"):
        assert (site / "_images" / f"{stem}.png").is_file(), stem
    assert (site / "_images" / "throughput.png").is_file()


@pytest.mark.xdist_group("docsite")
def test_math_is_served_by_the_site_itself(built):
    site = built / "site"
    for page in docsite.PAGES:
        html = (site / f"{page}.html").read_text()
        scripts = re.findall(r'<script[^>]*src="([^"]+)"', html)
        remote = [s for s in scripts if s.startswith(("http:", "https:", "//"))]
        assert remote == [], (page, remote)
    derivations = (site / "derivations.html").read_text()
    assert '_static/mathjax/tex-chtml.js' in derivations
    assert (site / "_static" / "mathjax" / "tex-chtml.js").stat().st_size > 100_000
    fonts = list((site / "_static" / "mathjax" / "output" / "chtml" / "fonts").rglob("*.woff"))
    assert len(fonts) > 10


@pytest.mark.xdist_group("docsite")
def test_api_page_has_no_template_or_markup_in_its_source(built):
    api = (built / "site" / "api.html").read_text()
    text = re.sub(r"<[^>]+>", "", api)
    assert "{params}" not in text
    assert ":math:" not in text
    assert ":func:" not in text
    # the mc_* docstrings are filled at import, so autodoc shows their parameters
    block = api.split('id="gaussrelbo.montecarlo.mc_relbo"', 1)[1][:6000]
    assert "n_samples" in block
    assert "random_state" in block


def _minimal_site(built, tmp_path):
    """A one-page site with the project's ``conf.py``, ``_static`` and ``build.py`` (so the same
    strict ``sphinx-build`` command): the page includes a derivation, as the Derivations page
    does, and the gallery captions with their figures, as the Gallery page does."""
    root = tmp_path / "mini"
    docs = root / "docs"
    (docs / "derivations").mkdir(parents=True)
    for name in ("conf.py", "build.py"):
        shutil.copy(built / "docs" / name, docs / name)
    shutil.copytree(built / "docs" / "_static", docs / "_static")
    shutil.copy(built / "docs" / "derivations" / "renyi_entropy.md", docs / "derivations")
    shutil.copytree(built / "docs" / "gallery", docs / "gallery")
    (docs / "index.md").write_text("# Planted faults\n\n"
                                   "```{include} derivations/renyi_entropy.md\n```\n\n"
                                   "```{include} gallery/captions.inc\n```\n")
    return root


FAULTS = ("broken include", "missing figure", None)


@pytest.fixture(scope="module")
def planted(built, tmp_path_factory):
    """A strict build of a one-page site per planted fault, and one without a fault, in one
    interpreter (about 0.5 s each; the full site takes about 9 s).  The clean build runs last,
    so state that a failed build left in the interpreter would make it fail.  Returns
    ``{fault: (status, log, site)}``."""
    builds = {}
    for i, fault in enumerate(FAULTS):
        tmp = tmp_path_factory.mktemp(f"fault{i}")
        root = _minimal_site(built, tmp)
        page = root / "docs" / "index.md"
        if fault == "broken include":
            page.write_text(page.read_text() + "\n```{include} derivations/no_such_file.md\n```\n")
        if fault == "missing figure":
            (root / "docs" / "gallery" / "figures" / "F3_rotation.png").unlink()
        builds[fault] = (root, tmp / "site")
    results = _sphinx_many(list(builds.values()))
    return {fault: (status, log, site)
            for (fault, (_, site)), (status, log) in zip(builds.items(), results)}


@pytest.mark.xdist_group("docsite")
# The build fails because of the fault and passes without it.
@pytest.mark.parametrize("fault", FAULTS)
def test_broken_include_and_missing_figure_fail_the_build(planted, fault):
    status, log, site = planted[fault]
    if fault is None:
        assert status == 0, log
        assert (site / "_images" / "F3_rotation.png").is_file()
        # the included derivation is on the page
        assert "Rényi entropy, one dimension" in (site / "index.html").read_text()
        return
    assert status != 0, (fault, log)
    if fault == "broken include":
        assert "no_such_file.md" in log
    if fault == "missing figure":
        assert "F3_rotation.png" in log


# ---- docs/build.py --gallery-from: the gallery copied from the default report ------------------

@pytest.fixture(scope="module")
def report(default_report):
    directory, proc = default_report
    assert proc.returncode == 0, proc.stderr
    return directory


@pytest.mark.xdist_group("report-default")
def test_gallery_from_copies_the_default_report(report, tmp_path):
    build = _build_module(ROOT)
    gallery = build.copy_report(report, tmp_path / "gallery")
    pngs = sorted(p.name for p in (report / "figures").glob("*.png"))
    assert len(pngs) == 9
    assert sorted(p.name for p in (gallery / "figures").iterdir()) == pngs   # no PDF
    for name in pngs:
        assert (gallery / "figures" / name).read_bytes() == \
            (report / "figures" / name).read_bytes(), name
    for name in ("report.md", "numbers.json"):
        assert (gallery / name).read_text() == (report / name).read_text(), name
    # marked as a report directory, so a later build (drawing afresh) may replace it
    assert (gallery / ".gaussrelbo-report").is_file()


def _spoil(report, tmp_path, how):
    """A copy of the default report, spoiled as ``how`` says; returns its directory."""
    if how == "no directory":
        return tmp_path / "nothing-here"
    if how == "empty":
        (tmp_path / "empty").mkdir()
        return tmp_path / "empty"
    bad = tmp_path / "bad"
    shutil.copytree(report, bad)
    numbers = json.loads((bad / "numbers.json").read_text())
    if how == "other settings":                     # as `gaussrelbo report --k 2` would be
        numbers["settings"]["k"] = 2
    if how == "other version":
        numbers["version"] = "0.0.1"
    if how == "PDF only":                           # as `gaussrelbo report --format pdf`
        for png in (bad / "figures").glob("*.png"):
            png.unlink()
    if how == "not written by gaussrelbo report":
        (bad / ".gaussrelbo-report").unlink()
    (bad / "numbers.json").write_text(json.dumps(numbers))
    return bad


@pytest.mark.xdist_group("report-default")
@pytest.mark.parametrize("how, message", [
    ("no directory", "not a directory"),
    ("empty", "it has no .gaussrelbo-report, report.md, numbers.json"),
    ("not written by gaussrelbo report", "it has no .gaussrelbo-report$"),
    ("other settings", "its settings are .*'k': 2.*the default's .*'k': 3"),
    ("other version", "it was written by gaussrelbo 0.0.1, this is"),
    ("PDF only", r"it has no figures/F1_alpha_limit.png, .*\(PNG figures are needed\)"),
])
def test_gallery_from_refuses_what_is_not_the_default_report(report, tmp_path, capsys, how,
                                                             message):
    build = _build_module(ROOT)
    source = _spoil(report, tmp_path, how)
    expected = r"`--gallery-from` must be a default `gaussrelbo report` directory, got .*: "
    with pytest.raises(ValueError, match=expected + message):
        build.copy_report(source, tmp_path / "gallery")
    assert not (tmp_path / "gallery").exists()
    # the command line says the same, as a usage error (exit status 2), before drawing anything
    with pytest.raises(SystemExit) as exit_:
        build.main(["--gallery-from", str(source), "--site-dir", str(tmp_path / "site")])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert re.search("error: " + expected + message, err, flags=re.M), err
    assert not (tmp_path / "site").exists()


# ---- the Derivations page is printed from the scripts ------------------------------------------

def _display_blocks(text):
    return re.findall(r"^\$\$\n(.*?)\n\$\$$", text, flags=re.S | re.M)


@pytest.mark.xdist_group("derivations")  # shares the symbolic results (tests/test_generated.py)
def test_every_printed_equation_is_the_checked_expression():
    import sympy as sp
    from gaussrelbo.derivations.generate import equations

    derived = 0
    for topic, eqs in equations().items():
        for eq in eqs:
            if eq.checked is None:
                assert eq.note.startswith("stated"), (topic, eq.name)
                continue
            derived += 1
            for diff in eq.differences():
                if diff.has(sp.Order):
                    diff = diff.removeO()
                assert sp.simplify(diff) == 0, (topic, eq.name)
    assert derived >= 25


@pytest.mark.xdist_group("derivations")  # shares the symbolic results (tests/test_generated.py)
def test_derivations_page_equals_the_scripts_output():
    from gaussrelbo.derivations.generate import equations, latex_files

    files = latex_files()
    for topic, eqs in equations().items():
        text = (ROOT / "docs" / "derivations" / f"{topic}.md").read_text()
        assert text == files[f"docs/derivations/{topic}.md"], (
            f"docs/derivations/{topic}.md is stale: run python -m gaussrelbo.derivations.generate")
        assert _display_blocks(text) == [eq.tex for eq in eqs]
        # the scripts' symbol names (and Python syntax) never reach the equations
        for block in _display_blocks(text):
            for raw in (r"\bsigma2\b", r"\\sigma_\{2\}", r"\blam\b", r"\bw2\b", r"\*\*"):
                assert re.search(raw, block) is None, (topic, raw, block)
    page = (ROOT / "docs" / "derivations.md").read_text()
    for topic in equations():
        assert f"derivations/{topic}.md" in page


# ---- the API reference: every public function documents its parameters and returns -----------

API_MODULES = ("objectives", "entropy", "encoders", "spectral", "montecarlo", "datasets",
               "landscapes", "figures", "report", "testing")


@pytest.mark.parametrize("module", API_MODULES)
def test_public_functions_have_parameters_and_returns(module):
    import importlib
    import inspect

    from numpydoc.validate import validate

    mod = importlib.import_module(f"gaussrelbo.{module}")
    missing = []
    for name in mod.__all__:
        obj = getattr(mod, name)
        if not inspect.isfunction(obj):
            continue
        errors = {code for code, _ in validate(f"gaussrelbo.{module}.{name}")["errors"]}
        missing += [f"{name}: {code}" for code in ("PR01", "PR02", "RT01") if code in errors]
        # no template left unfilled, no "as `other`" instead of a description
        assert "{params}" not in (obj.__doc__ or ""), name
    assert missing == []


def test_choice_sets_state_their_default_first():
    import inspect

    import gaussrelbo as gr

    for fn in (gr.optimal_encoder, gr.spectral_objective, gr.profiled_objective):
        default = inspect.signature(fn).parameters["objective"].default
        line = next(ln for ln in fn.__doc__.splitlines() if ln.strip().startswith("objective :"))
        assert line.strip().startswith(f"objective : {{'{default}',"), line
        assert line.strip().endswith(f"default '{default}'"), line


@pytest.mark.parametrize("module", API_MODULES)
def test_no_parameter_is_described_by_reference_to_another_function(module):
    import importlib
    import inspect

    mod = importlib.import_module(f"gaussrelbo.{module}")
    for name in mod.__all__:
        doc = inspect.getdoc(getattr(mod, name)) or ""
        params = doc.split("Parameters\n----------", 1)[-1].split("\n\n", 1)[0] \
            if "Parameters\n----------" in doc else ""
        assert "As in :func:" not in params, name
        assert "as :func:" not in params, name
