"""`gaussrelbo report`: every figure, report.md and numbers.json, written atomically."""

import json
import sys

import numpy as np
import pytest

from gaussrelbo import cli, optima
from gaussrelbo.report import FIGURES, report_settings


# The tests that read one shared build run on one pytest-xdist worker, so no worker waits for it.
DEFAULT_REPORT = pytest.mark.xdist_group("report-default")
JOBS_RUNS = pytest.mark.xdist_group("report-jobs")


@pytest.fixture(scope="module")
def report_dir(default_report):
    """The default report (``gaussrelbo report --out DIR``, default --jobs), built once per test
    run in a fresh interpreter and shared by the pytest-xdist workers and the docs-site build
    (the ``default_report`` fixture of ``tests/conftest.py``)."""
    directory, proc = default_report
    assert proc.returncode == 0, proc.stderr
    return directory


@DEFAULT_REPORT
def test_every_file(report_dir):
    names = {p.name for p in (report_dir / "figures").iterdir()}
    for stem, _ in FIGURES:
        assert f"{stem}.png" in names
        assert f"{stem}.pdf" in names
        assert (report_dir / "figures" / f"{stem}.png").stat().st_size > 10_000
    md = (report_dir / "report.md").read_text()
    for stem, _ in FIGURES:
        assert f"figures/{stem}.png" in md
    assert "## Global optima per objective" in md


@DEFAULT_REPORT
def test_numbers_equal_the_library(report_dir):
    nums = json.loads((report_dir / "numbers.json").read_text())
    lam, k, s2 = report_settings("synthetic")
    assert nums["settings"]["k"] == k
    assert nums["settings"]["sigma2"] == s2
    assert np.allclose(nums["settings"]["eigenvalues"], lam)
    for row in nums["tables"]["global_optima"]:
        for name in row["objective"].split("; "):          # merged rows name every objective
            kw, objective = {}, "loglik"
            if name.startswith("RELBO"):
                objective, kw = "relbo", {"alpha": float(name.split("=")[1])}
            elif name.startswith("beta"):
                objective, kw = "beta_elbo", {"beta": float(name.split("=")[1])}
            modes = {"fixed": [s2], "learned": [None], "fixed = learned": [s2, None]}
            for mode in modes[row["sigma2_mode"]]:
                p = optima.global_maximum(lam, k, objective, sigma2=mode, **kw)
                assert row["value"] == pytest.approx(p.value, rel=1e-12)
                assert row["rate"] == pytest.approx(p.rate, rel=1e-12, abs=1e-14)
                assert row["active"] == p.active
    assert set(nums["figures"]) == {stem for stem, _ in FIGURES}
    thr = nums["tables"]["collapse_thresholds"]
    assert [t["threshold"] for t in thr] == pytest.approx(list(lam[:len(thr)] / s2))


def test_refuses_foreign_directory_and_replaces_its_own(tmp_path, capsys):
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("mine")
    rc = cli.main(["report", "--out", str(foreign), "--format", "png"])
    assert rc == 2
    assert "--force" in capsys.readouterr().err
    assert (foreign / "keep.txt").read_text() == "mine"
    from gaussrelbo.report import write_report
    own = tmp_path / "own"
    write_report(own, formats=("svg",), figures=["F1_alpha_limit"])
    assert [p.name for p in (own / "figures").iterdir()] == ["F1_alpha_limit.svg"]
    write_report(own, formats=("png",), figures=[])         # its own: replaced, no --force
    assert list((own / "figures").iterdir()) == []          # replaced as a whole
    assert "![F1_alpha_limit]" not in (own / "report.md").read_text()
    # no temporary directories are left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["foreign", "own"]


def test_crash_leaves_no_half_written_report(tmp_path, monkeypatch):
    from gaussrelbo import report as rep

    def boom(*a, **k):
        raise RuntimeError("simulated crash")

    monkeypatch.setattr(rep, "build_report", boom)
    with pytest.raises(RuntimeError):
        rep.write_report(tmp_path / "r")
    assert list(tmp_path.iterdir()) == []


def test_bad_arguments(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:          # argparse refuses the format
        cli.main(["report", "--format", "gif", "--out", str(tmp_path / "x")])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "--format" in err
    assert "'gif'" in err
    assert not (tmp_path / "x").exists()


@DEFAULT_REPORT
def test_header_records_version_command_and_settings(report_dir):
    import gaussrelbo

    md = (report_dir / "report.md").read_text()
    head = md.split("## Global optima", 1)[0]
    assert f"gaussrelbo {gaussrelbo.__version__}" in head
    assert f"gaussrelbo report --out {report_dir}" in head
    assert "spectrum **synthetic** (n = 6), k = 3" in head
    # the collapse figure is drawn on another spectrum, and the header says which
    assert ("F5 (collapse) and F9 (collapse cascades of the readings) are drawn on the embedded "
            "digits spectrum (n = 64, k = 10)") in head
    assert "reading **pointwise**" in head
    nums = json.loads((report_dir / "numbers.json").read_text())
    assert nums["version"] == gaussrelbo.__version__
    assert nums["command"].startswith("gaussrelbo report --out")
    assert "embedded digits spectrum, n = 64, k = 10" in md
    assert nums["settings"]["reading"] == "pointwise"
    assert "--reading pointwise" in nums["command"]


@DEFAULT_REPORT
def test_optima_table_has_no_repeated_rows(report_dir):
    nums = json.loads((report_dir / "numbers.json").read_text())
    rows = nums["tables"]["global_optima"]
    keys = [(r["sigma2_mode"], r["value"], r["rate"], r["distortion"], r["sigma2"], r["active"])
            for r in rows]
    assert len(set(keys)) == len(keys)
    # every objective of the unmerged table is still named once
    from gaussrelbo.report import optima_table
    lam, k, s2 = report_settings("synthetic")
    names = {r["objective"] for r in optima_table(lam, k, s2)}
    merged = [n for r in rows for n in r["objective"].split("; ")]
    assert set(merged) == names


def test_merge_duplicate_rows_keeps_distinct_numbers():
    from gaussrelbo.report import merge_duplicate_rows

    base = {"value": -1.0, "rate": 0.5, "distortion": 1.5, "sigma2": 0.8, "active": 2}
    rows = [dict(base, objective="a", sigma2_mode="fixed"),
            dict(base, objective="a", sigma2_mode="learned"),
            dict(base, objective="b", sigma2_mode="fixed"),
            dict(base, objective="b", sigma2_mode="learned", rate=0.6),
            dict(base, objective="c", sigma2_mode="fixed", value=-1.0 + 1e-9)]
    out = merge_duplicate_rows(rows)
    assert [(r["objective"], r["sigma2_mode"]) for r in out] == [
        ("a", "fixed = learned"), ("b", "fixed"), ("b", "learned"), ("c", "fixed")]


@DEFAULT_REPORT
def test_png_is_300_dpi(report_dir):
    from PIL import Image

    with Image.open(report_dir / "figures" / "F4_landscape.png") as im:
        dpi = im.info["dpi"]
        width_in = im.size[0] / dpi[0]
    assert round(dpi[0]) == 300
    assert width_in == pytest.approx(7.0, abs=0.02)


def test_k_below_two_is_refused_before_any_figure(tmp_path, capsys):
    # The rotation figure turns two latent columns into each other: k = 1 used to draw three
    # figures and then fail; it must fail at once, with one line, and write nothing.
    with pytest.raises(ValueError, match=r"`k` must be an integer in \[2, n-1=5\]"):
        report_settings("synthetic", k=1)
    out = tmp_path / "r"
    assert cli.main(["report", "--k", "1", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "`k` must be an integer in [2" in err
    assert not out.exists()


@DEFAULT_REPORT
def test_f8_f9_in_the_report(report_dir):
    md = (report_dir / "report.md").read_text()
    nums = json.loads((report_dir / "numbers.json").read_text())
    for stem in ("F8_readings_rate_distortion", "F9_readings_collapse"):
        for fmt in ("png", "pdf"):
            assert (report_dir / "figures" / f"{stem}.{fmt}").stat().st_size > 10_000
        assert f"![{stem}](figures/{stem}.png)" in md
    assert "\nF8. Global optima of the three readings" in md
    assert "\nF9 (embedded digits spectrum, n = 64, k = 10" in md
    f8 = nums["figures"]["F8_readings_rate_distortion"]
    assert set(f8["readings"]) == {"pointwise", "escort", "cross_entropy"}
    assert f8["sigma2"] == nums["settings"]["sigma2"]
    assert f8["k"] == nums["settings"]["k"]
    f9 = nums["figures"]["F9_readings_collapse"]
    assert f9["k"] == 10
    assert len(f9["lam"]) == 64


def _ce_value(lam, k, s2, a):
    """The cross-entropy reading's maximum at fixed s2, per direction (model variance c = (2 - a)
    lambda_j where that exceeds s2, else s2): -1/2 log(2 pi c) + log(1 - (1 - a) lambda/c) /
    (2 (1 - a))."""
    c = np.full(lam.size, s2)
    c[:k] = np.maximum((2 - a) * lam[:k], s2)
    return float(np.sum(-0.5 * np.log(2 * np.pi * c)
                        + np.log1p(-(1 - a) * lam / c) / (2 * (1 - a))))


def test_reading_selects_the_tables():
    from gaussrelbo.report import build_report

    lam, k, s2 = report_settings("synthetic")
    _, md, nums = build_report(figures=[], reading="cross_entropy")
    assert nums["settings"]["reading"] == "cross_entropy"
    assert "reading **cross_entropy**" in md
    rows = {(n, r["sigma2_mode"]): r for r in nums["tables"]["global_optima"]
            for n in r["objective"].split("; ")}
    for a in (0.5, 1.5):
        row = rows[(f"RELBO[cross_entropy] alpha={a:g}", "fixed")]
        assert row["value"] == pytest.approx(_ce_value(lam, k, s2, a), rel=1e-12)
        assert row["active"] == int(np.sum((2 - a) * lam[:k] > s2))
    # at alpha = 1 the reading is the ELBO: its maximum is the log-likelihood's row
    assert ("RELBO[cross_entropy] alpha=1", "fixed = learned") in rows
    assert rows[("RELBO[cross_entropy] alpha=1", "fixed = learned")]["objective"].startswith(
        "log-likelihood")
    thr = nums["tables"]["collapse_thresholds"]
    assert [t["critical_alpha"] for t in thr] == pytest.approx(list(2 - s2 / lam[:len(thr)]))
    names = [r["objective"] for r in nums["tables"]["objectives"]]
    assert "RELBO[cross_entropy] alpha=0.5" in names
    assert "RELBO alpha=0.5" not in names
    # escort: the pPCA maximum likelihood with the ELBO's split, for every alpha
    _, md, nums = build_report(figures=[], reading="escort")
    rows = nums["tables"]["global_optima"]
    first = rows[0]["objective"].split("; ")
    assert {"log-likelihood", "RELBO[escort] alpha=0.25", "RELBO[escort] alpha=4"} <= set(first)
    with pytest.raises(ValueError, match="`reading` must be one of pointwise, escort, "
                                         "cross_entropy, got 'bogus'"):
        build_report(figures=[], reading="bogus")


def test_reading_without_a_maximum_is_said_in_the_table():
    from gaussrelbo.report import optima_table

    lam, k, s2 = report_settings("synthetic")
    # alpha = 0.25: s2 = 1.23 <= (1 - alpha) lambda_4 = 1.5, -inf for every decoder
    rows = optima_table(lam, k, s2, alphas=(0.25,), betas=(), reading="cross_entropy")
    (fixed,) = [r for r in rows if r["objective"].startswith("RELBO") and
                r["sigma2_mode"] == "fixed"]
    assert fixed["value"] is None
    assert fixed["active"] is None
    assert "-inf for every decoder" in fixed["note"]


def test_cli_reading_option(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:          # argparse refuses the choice
        cli.main(["report", "--reading", "bogus", "--out", str(tmp_path / "x")])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "--reading" in err


_JOBS_SCRIPT = """
import json, os, sys
from pathlib import Path
from gaussrelbo import figures
from gaussrelbo.report import write_report
root, stems, out = Path(sys.argv[1]), ["F1_alpha_limit", "F6_rate_distortion"], {}
draw_f1 = figures.fig_alpha_limit
for jobs in (1, 2):                     # F1 is drawn by the forked process when jobs = 2
    def traced(*args, **kwargs):
        with open(root / "f1-pids", "a") as fh:
            fh.write(f"{jobs} {os.getpid()}\\n")
        return draw_f1(*args, **kwargs)
    figures.fig_alpha_limit = traced
    d = root / f"jobs{jobs}"
    write_report(d, figures=stems, jobs=jobs, formats=("png",))
    out[f"jobs{jobs}"] = {"md": (d / "report.md").read_text(),
                          "numbers": json.loads((d / "numbers.json").read_text()),
                          "files": sorted(p.name for p in (d / "figures").iterdir())}
def boom(*args, **kwargs):
    raise ValueError("planted failure in F1")
figures.fig_alpha_limit = boom
for jobs in (2, 1):
    parent = root / f"fail{jobs}"
    parent.mkdir()
    try:
        write_report(parent / "r", figures=stems, jobs=jobs, formats=("png",))
        error = None
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
    out[f"fail{jobs}"] = {"error": error, "left": sorted(p.name for p in parent.iterdir())}
out["pid"] = os.getpid()
out["f1_pids"] = (root / "f1-pids").read_text().split()
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def jobs_runs(run_once):
    """Two-figure reports (F1, F6) with one and two processes, then with F1 made to fail, all
    in one fresh interpreter (this test process may hold threads, from JAX in other tests, that
    a fork must not copy), once per test run."""
    def write_script(root):
        (root / "jobs.py").write_text(_JOBS_SCRIPT)

    _, proc = run_once("report-jobs", [sys.executable, "{root}/jobs.py", "{root}"],
                       prepare=write_script)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@JOBS_RUNS
def test_jobs_give_the_same_report(jobs_runs, tmp_path):
    from gaussrelbo.report import write_report

    one, two = jobs_runs["jobs1"], jobs_runs["jobs2"]
    for run in (one, two):
        assert run["files"] == ["F1_alpha_limit.png", "F6_rate_distortion.png"]
    assert one["md"] == two["md"]
    assert one["numbers"] == two["numbers"]
    # F1 was drawn by the script's own process with one job, by another (forked) one with two
    pids = dict(zip(jobs_runs["f1_pids"][::2], jobs_runs["f1_pids"][1::2]))
    assert int(pids["1"]) == jobs_runs["pid"]
    assert int(pids["2"]) != jobs_runs["pid"]
    with pytest.raises(ValueError, match="`jobs` must be a positive integer, got 0"):
        write_report(tmp_path / "j0", jobs=0)


@JOBS_RUNS
def test_a_failing_process_fails_the_report(jobs_runs):
    for jobs in (2, 1):                      # in the forked process, then in the caller's
        run = jobs_runs[f"fail{jobs}"]
        assert run["error"] == "ValueError: planted failure in F1"
        assert run["left"] == []             # nothing half-written is left


def test_default_jobs_do_not_fork_a_multithreaded_process(monkeypatch):
    import sys
    import types

    from gaussrelbo.report import _check_jobs

    monkeypatch.setitem(sys.modules, "jax", types.ModuleType("jax"))
    assert _check_jobs(None) == 1
    assert _check_jobs(2) == 2                            # asked for: done
