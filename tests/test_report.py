"""`gaussrelbo report`: every figure, report.md and numbers.json, written atomically."""

import json

import numpy as np
import pytest

from gaussrelbo import cli, optima
from gaussrelbo.report import FIGURES, report_settings


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("r") / "report"
    assert cli.main(["report", "--out", str(out)]) == 0
    return out


def test_every_file(report_dir):
    names = {p.name for p in (report_dir / "figures").iterdir()}
    for stem, _ in FIGURES:
        assert f"{stem}.png" in names and f"{stem}.pdf" in names
        assert (report_dir / "figures" / f"{stem}.png").stat().st_size > 10_000
    md = (report_dir / "report.md").read_text()
    for stem, _ in FIGURES:
        assert f"figures/{stem}.png" in md
    assert "## Global optima per objective" in md


def test_numbers_equal_the_library(report_dir):
    nums = json.loads((report_dir / "numbers.json").read_text())
    lam, k, s2 = report_settings("synthetic")
    assert nums["settings"]["k"] == k and nums["settings"]["sigma2"] == s2
    assert np.allclose(nums["settings"]["eigenvalues"], lam)
    for row in nums["tables"]["global_optima"]:
        name = row["objective"]
        kw, objective = {}, "loglik"
        if name.startswith("RELBO"):
            objective, kw = "relbo", {"alpha": float(name.split("=")[1])}
        elif name.startswith("beta"):
            objective, kw = "beta_elbo", {"beta": float(name.split("=")[1])}
        p = optima.global_maximum(lam, k, objective,
                                  sigma2=s2 if row["sigma2_mode"] == "fixed" else None, **kw)
        assert row["value"] == p.value and row["rate"] == p.rate and row["active"] == p.active
    assert set(nums["figures"]) == {stem for stem, _ in FIGURES}
    thr = nums["tables"]["collapse_thresholds"]
    assert [t["threshold"] for t in thr] == pytest.approx(list(lam[:len(thr)] / s2))


def test_refuses_foreign_directory_and_replaces_its_own(tmp_path, capsys):
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("mine")
    rc = cli.main(["report", "--out", str(foreign), "--format", "png"])
    assert rc == 2 and "--force" in capsys.readouterr().err
    assert (foreign / "keep.txt").read_text() == "mine"
    from gaussrelbo.report import write_report
    own = tmp_path / "own"
    write_report(own, formats=("svg",), figures=["F1_alpha_limit"])
    write_report(own, formats=("png",), figures=["F1_alpha_limit"])
    assert not list((own / "figures").glob("*.svg"))        # replaced as a whole
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


def test_bad_arguments(tmp_path):
    import subprocess
    import sys
    proc = subprocess.run([sys.executable, "-m", "gaussrelbo", "report", "--format", "gif",
                           "--out", str(tmp_path / "x")], capture_output=True, text=True)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
