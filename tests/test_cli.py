"""The command line: `gaussrelbo optima` output formats, and one-line errors with exit code 2."""

import csv
import io
import json
import subprocess
import sys

import numpy as np
import pytest

from gaussrelbo import cli, optima


def _run(*args):
    return subprocess.run([sys.executable, "-m", "gaussrelbo", *args], capture_output=True,
                          text=True, timeout=120)


KINDS = {"maximum", "saddle", "minimum", "degenerate"}


def _check_schema(d, learned):
    assert set(d) >= {"objective", "k", "sigma2", "stationary_points"}
    assert (d["sigma2"] is None) == learned
    assert isinstance(d["k"], int)
    for entry in d["index_counts"]:
        assert set(entry) == {"pos", "zero", "neg", "count"}
    for p in d["stationary_points"]:
        assert set(p) == {"subset", "kind", "hessian_signs", "value", "rate", "distortion",
                          "sigma2", "active", "orthogonal", "clusters", "manifold_dim"}
        assert isinstance(p["manifold_dim"], int) and p["manifold_dim"] >= 0
        assert sorted(j for c in p["clusters"] for j in c["eigen_indices"]) == p["subset"]
        for c in p["clusters"]:
            assert set(c) == {"columns", "rank", "eigen_indices"}
            assert c["rank"] == len(c["eigen_indices"]) <= len(c["columns"])
        assert p["subset"] == sorted(p["subset"]) and all(isinstance(j, int) for j in p["subset"])
        assert p["kind"] in KINDS
        assert p["hessian_signs"] is None or (len(p["hessian_signs"]) == 3 and all(
            isinstance(v, int) and v >= 0 for v in p["hessian_signs"]))
        for key in ("value", "rate", "distortion", "sigma2"):
            assert isinstance(p[key], float) and np.isfinite(p[key])
        assert isinstance(p["active"], int) and isinstance(p["orthogonal"], bool)


@pytest.mark.parametrize("args, learned", [
    (["--objective", "relbo", "--alpha", "0.5", "--sigma2", "0.8"], False),
    (["--objective", "beta-elbo", "--beta", "2", "--learn-sigma2", "--spectrum", "design9"], True),
    (["--objective", "loglik", "--encoder", "full"], True),
])
def test_json_schema_and_values(args, learned, capsys):
    assert cli.main(["optima", "--k", "3", "--format", "json", *args]) == 0
    d = json.loads(capsys.readouterr().out)
    _check_schema(d, learned)
    # the values are the library's
    lam = np.array([5.0, 4.0, 3.0, 2.0, 1.2, 0.5]) if "design9" not in args else \
        np.array([5.0, 3.0, 1.6, 0.9, 0.5, 0.3])
    obj = {"relbo": "relbo", "beta_elbo": "beta_elbo", "loglik": "loglik"}[d["objective"]]
    kw = {"alpha": 0.5} if obj == "relbo" else ({"beta": 2.0} if obj == "beta_elbo" else {})
    gm = optima.global_maximum(lam, 3, obj, sigma2=d["sigma2"],
                               encoder="full" if "full" in args else "diagonal", **kw)
    assert max(p["value"] for p in d["stationary_points"]) == pytest.approx(gm.value, rel=1e-14)


def test_csv_and_table(capsys):
    assert cli.main(["optima", "--k", "2", "--objective", "elbo", "--sigma2", "0.8",
                     "--format", "csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0][:3] == ["subset", "kind", "hessian_signs"] and len(rows) > 2
    assert cli.main(["optima", "--k", "2", "--objective", "elbo", "--sigma2", "0.8"]) == 0
    out = capsys.readouterr().out
    assert "global maximum: subset [0, 1]" in out and "maximum" in out


@pytest.mark.parametrize("args, message", [
    (["optima", "--k", "3", "--objective", "relbo"], "--alpha is required"),
    (["optima", "--k", "3", "--objective", "relbo", "--alpha", "-1"], "expected a positive"),
    (["optima", "--k", "3", "--objective", "vae"], "invalid choice"),
    (["optima", "--k", "0", "--objective", "elbo"], "expected a positive integer"),
    (["optima", "--k", "9", "--objective", "elbo"], "exceeds the spectrum's dimension"),
    (["optima", "--k", "2", "--objective", "elbo", "--spectrum", "/no/such/file"],
     "neither a built-in name"),
    (["optima", "--k", "2", "--objective", "elbo", "--sigma2", "1", "--learn-sigma2"],
     "not allowed with"),
    (["nonsense"], "invalid choice"),
])
def test_bad_arguments_exit_2_with_one_line(args, message):
    proc = _run(*args)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_spectrum_file_and_csv_matrix(tmp_path, capsys):
    f = tmp_path / "eig.txt"
    f.write_text("4\n2\n1\n0.5\n")
    assert cli.main(["optima", "--k", "2", "--objective", "loglik", "--spectrum", str(f),
                     "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["stationary_points"][0]["sigma2"] == pytest.approx(0.75)
    X = np.random.default_rng(0).normal(size=(50, 4)) * [3, 2, 1, 0.5]
    c = tmp_path / "x.csv"
    np.savetxt(c, X, delimiter=",")
    assert cli.main(["optima", "--k", "1", "--objective", "elbo", "--spectrum", str(c),
                     "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["k"] == 1


# ---- gaussrelbo report --figures ----------------------------------------------------------------

def test_report_figures_option_reaches_write_report(tmp_path, monkeypatch, capsys):
    from gaussrelbo import report

    calls = []

    def fake_write_report(out, **kw):
        calls.append(kw)
        return tmp_path / "report.md"

    monkeypatch.setattr(report, "write_report", fake_write_report)
    assert cli.main(["report", "--out", str(tmp_path), "--figures",
                     "F4_landscape, F1_alpha_limit"]) == 0
    assert calls[0]["figures"] == ("F4_landscape", "F1_alpha_limit")
    assert "--figures F4_landscape,F1_alpha_limit" in calls[0]["command"]
    # without the option: every figure (write_report's default) and no --figures in the header
    assert cli.main(["report", "--out", str(tmp_path)]) == 0
    assert calls[1]["figures"] is None
    assert "--figures" not in calls[1]["command"]
    capsys.readouterr()


@pytest.mark.parametrize("value, message", [
    ("F1_alpha_limit,F10_nothing", "unknown figure 'F10_nothing': expected a comma list of "
                                   "F1_alpha_limit, F2_bounds_vs_alpha"),
    ("F1,F4", "unknown figure 'F1', 'F4'"),
    (",", "got ','"),
])
def test_report_unknown_figure_exits_2_with_one_line(value, message, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["report", "--figures", value])
    assert exc.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    assert "argument --figures: " + message in lines[0], lines
