"""`datapolis audit …` as an operator and an outside witness run it, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from datapolis.config import get_settings
from datapolis.registry.db import Registry
from datapolis.security.audit import service
from datapolis.security.audit.cli import app
from datapolis.security.audit.signing import Signer, public_key_text
from tests.orgs.test_cli import assert_one_line_error, city_registry, cli_env  # noqa: F401


def test_verify_checkpoint_receipt_and_tamper(city_registry: Registry, tmp_path: Path) -> None:  # noqa: F811
    runner = CliRunner()
    with city_registry.session() as session:
        base = service.get_log(session).size  # the city's setup is recorded too
        for i in range(6):
            service.record(session, kind="download", actor="org_user", org="371300_gaj",
                           details={"file": f"人口-{i}.csv"})
    size = base + 6
    signed = runner.invoke(app, ["checkpoint"])
    assert signed.exit_code == 0, signed.output
    assert f"checkpoint of main: size {size}" in signed.stdout
    ok = runner.invoke(app, ["verify"])
    assert ok.exit_code == 0 and f"{size} events, 1 signed checkpoints — intact" in ok.stdout

    receipt = tmp_path / "receipt.json"
    made = runner.invoke(app, ["receipt", str(base + 2), "--output", str(receipt)])
    assert made.exit_code == 0, made.output
    key = public_key_text(Signer.from_secret(get_settings().secret_key).public_key)
    checked = runner.invoke(app, ["verify-receipt", str(receipt), "--public-key", key])
    assert checked.exit_code == 0
    assert f"event {base + 2} is in the signed tree of size {size}" in checked.stdout

    exported = runner.invoke(app, ["export-checkpoints"])
    witness = json.loads(exported.stdout)
    assert witness["public_key"] == key and witness["checkpoints"][0]["size"] == size

    receipt.write_text(receipt.read_text(encoding="utf-8")[:200], encoding="utf-8")
    assert_one_line_error(runner.invoke(app, ["verify-receipt", str(receipt)]),
                          "truncated or damaged")

    with city_registry.engine.begin() as connection:
        connection.exec_driver_sql(f"DELETE FROM audit_events WHERE seq = {base + 3}")
    broken = runner.invoke(app, ["verify"])
    assert broken.exit_code == 1
    assert f"error: deleted event {base + 3}" in broken.stderr
    assert "Traceback" not in broken.output
