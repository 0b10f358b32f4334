from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from datapolis.demo.cli import app

runner = CliRunner()


def test_build_then_info_then_refuse_then_if_absent(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = runner.invoke(app, ["build", "--people", "300", "--seed", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "300 persons" in result.output and (out / "manifest.json").is_file()

    result = runner.invoke(app, ["info", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "gaj_hjxt" in result.output and "czrk" in result.output and "seed 3" in result.output

    result = runner.invoke(app, ["build", "--people", "300", "--out", str(out)])
    assert result.exit_code == 1
    assert "already exists" in result.output and "Traceback" not in result.output

    result = runner.invoke(app, ["build", "--if-absent", "--out", str(out)])
    assert result.exit_code == 0 and "nothing to do" in result.output


def test_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    result = runner.invoke(app, ["info", "--out", str(tmp_path / "missing")])
    assert result.exit_code == 1
    assert result.output.strip().startswith("error: no demo at")
    assert "Traceback" not in result.output

    result = runner.invoke(app, ["build", "--out", str(tmp_path / "x"), "--people", "300",
                                 "--source-url", "gaj_hjxt"])
    assert result.exit_code == 1 and "SYSTEM=URL" in result.output
    result = runner.invoke(app, ["build", "--out", str(tmp_path / "x"), "--people", "300",
                                 "--source-url", "gaj_hjxt=postgresql://nobody@127.0.0.1:1/x"])
    assert result.exit_code == 1 and "cannot connect" in result.output
    assert not (tmp_path / "x").exists()
