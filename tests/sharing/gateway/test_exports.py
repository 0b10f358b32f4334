"""Bulk delivery: an export job writes the granted rows to CSV or Parquet; the file is
downloaded only by its app while the grant is live; rows count against the quota."""

from __future__ import annotations

import csv
import io
import json
import time
from typing import Any

import pyarrow.parquet as pq

from datapolis.sharing.grants import service as grants
from tests.sharing.gateway.gateway_world import GRANTED, ROWS, Gateway, person


def exports_url(gw: Gateway) -> str:
    return f"/share/v1/{gw.resource}/exports"


def finished(gw: Gateway, status_url: str) -> dict[str, Any]:
    for _ in range(200):  # the writer thread needs a moment; no duration is asserted
        state: dict[str, Any] = gw.get(status_url).json()
        if state["state"] in {"done", "failed"}:
            return state
        time.sleep(0.05)
    raise AssertionError(f"export still {state['state']}")


def test_a_csv_export_holds_the_granted_rows_de_identified(gateway: Gateway) -> None:
    asked = gateway.post(exports_url(gateway), json.dumps({"format": "csv"}).encode())
    assert asked.status_code == 202, asked.text
    assert asked.json()["rows"] == ROWS // 2
    state = finished(gateway, asked.json()["status_url"])
    assert state["state"] == "done" and state["rows"] == ROWS // 2
    download = gateway.get(state["file_url"])
    assert download.status_code == 200
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert len(rows) == ROWS // 2 and sorted(rows[0]) == sorted(GRANTED)
    clear = {person(n)["gmsfhm"] for n in range(ROWS)}
    assert not clear & {r["gmsfhm"] for r in rows}  # pseudonyms only
    assert {r["xzqh_dm"] for r in rows} == {"371302"}  # the grant's county only


def test_an_export_joins_pseudonyms_from_the_pseudonym_table_and_agrees_with_lookups(
        gateway: Gateway) -> None:
    asked = gateway.post(exports_url(gateway), json.dumps({"format": "parquet"}).encode())
    state = finished(gateway, asked.json()["status_url"])
    table = pq.read_table(io.BytesIO(gateway.get(state["file_url"]).content))
    exported = {born: (pseudonym, name) for born, pseudonym, name in zip(
        *(table.column(c).to_pylist() for c in ("csrq", "gmsfhm", "xm")), strict=True)}
    engine = gateway.client.app.state.warehouse
    built = engine.query("SELECT table_name FROM duckdb_tables() "
                         "WHERE schema_name = '_deid' AND table_name LIKE 'p\\_%' ESCAPE '\\'")
    assert built.num_rows == 1  # the bulk read hashed the values once, not row by row
    # A lookup takes its pseudonyms from the key's function and masks the name after the
    # read (Method.on_text); both agree with the export's SQL.
    for n in (0, 2, 10):
        record = gateway.get(f"/share/v1/{gateway.resource}/records/"
                             f"{person(n)['gmsfhm']}").json()["record"]
        assert exported[person(n)["csrq"]] == (record["gmsfhm"], record["xm"])
        assert record["xm"] != person(n)["xm"]


def test_a_parquet_export_with_a_filter_and_a_selection(gateway: Gateway) -> None:
    body = {"format": "parquet", "where": {"xb": "2"}, "select": ["xb", "csrq"]}
    asked = gateway.post(exports_url(gateway), json.dumps(body).encode()).json()
    state = finished(gateway, asked["status_url"])
    table = pq.read_table(io.BytesIO(gateway.get(state["file_url"]).content))
    assert table.column_names == ["xb", "csrq"] and table.num_rows == state["rows"] > 0
    assert set(table.column("xb").to_pylist()) == {"2"}


def test_exports_refuse_ungranted_filters_other_apps_and_revoked_grants(
        gateway: Gateway) -> None:
    refused = gateway.post(exports_url(gateway), json.dumps({"where": {"zjxy": "无"}}).encode())
    assert refused.status_code == 403 and refused.json()["error"] == "item_not_granted"
    wrong = gateway.post(exports_url(gateway), json.dumps({"format": "xlsx"}).encode())
    assert wrong.status_code == 400
    asked = gateway.post(exports_url(gateway), b"{}").json()
    state = finished(gateway, asked["status_url"])
    theirs = gateway.get(state["file_url"], key=gateway.other_key, secret=gateway.other_secret)
    assert theirs.status_code == 403  # no grant on the resource at all
    with gateway.world.registry.session() as session:
        grants.revoke_grant(session, grants.get_grant(session, gateway.grant_code),
                            actor="org_admin")
    gone = gateway.get(state["file_url"])
    assert gone.status_code == 403 and gone.json()["error"] == "grant_revoked"


def test_an_export_counts_against_the_rows_quota(gateway: Gateway) -> None:
    with gateway.world.registry.session() as session:
        grants.change_grant(session, grants.get_grant(session, gateway.grant_code),
                            limits=grants.Limits(rows_per_day=ROWS // 2 + 5), actor="org_admin")
    first = gateway.post(exports_url(gateway), b"{}")
    assert first.status_code == 202
    assert finished(gateway, first.json()["status_url"])["state"] == "done"
    again = gateway.post(exports_url(gateway), b"{}")
    assert again.status_code == 429 and again.json()["error"] == "quota_rows"
