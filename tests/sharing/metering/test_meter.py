"""The Meter on real registries: every submitted record lands once, across threads, clean
shutdowns and a SIGKILL; quotas and rate limits refuse at their limits."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from datapolis.errors import ConfigError
from datapolis.registry.db import Registry
from datapolis.sharing.metering import Meter
from datapolis.sharing.metering.journal import SUFFIX
from datapolis.sharing.metering.models import ShareCall
from tests.sharing.metering.calls import Limits, make_call


def record_ids(registry: Registry) -> list[str]:
    with registry.session() as session:
        return list(session.scalars(select(ShareCall.record_id)))


def test_records_equal_submissions_under_concurrent_threads(
    registry: Registry, tmp_path: Path
) -> None:
    meter = Meter(registry, tmp_path / "meter", flush_every=0.02, batch_size=100)
    meter.start()

    def client(worker: int) -> None:
        for n in range(400):
            meter.submit(make_call(worker * 1000 + n))

    threads = [threading.Thread(target=client, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    meter.stop()

    ids = record_ids(registry)
    assert len(ids) == 8 * 400 == meter.submitted == meter.committed
    assert len(set(ids)) == len(ids)
    with registry.session() as session:
        assert set(session.scalars(select(ShareCall.request_id))) == {
            f"req-{w * 1000 + n}" for w in range(8) for n in range(400)}
    assert not list((tmp_path / "meter").glob(f"*{SUFFIX}"))  # all committed: journal empty


def test_a_record_keeps_every_field(registry: Registry, tmp_path: Path) -> None:
    meter = Meter(registry, tmp_path / "meter")
    meter.start(thread=False)
    call = make_call(3, status=403, error_code="no_grant", rows=0, grant_id=None)
    meter.submit(call)
    meter.flush()
    meter.stop()
    with registry.session() as session:
        row = session.scalars(select(ShareCall)).one()
    assert (row.request_at, row.response_at) == (call.request_at, call.response_at)
    assert (row.consumer_org_id, row.app_id, row.provider_org_id) == (2, 5, 4)
    assert (row.resource_code, row.grant_id, row.interface) == ("371300-GAJ-00001", None, "lookup")
    assert row.params_hash == call.params_hash and len(row.params_hash) == 64
    assert (row.rows_out, row.bytes_out, row.status, row.error_code) == (0, 0, 403, "no_grant")
    assert (row.latency_ms, row.client_ip, row.request_id) == (15.0, "10.0.0.8", "req-3")


def test_restart_replays_what_a_crashed_run_left_without_duplicates(
    registry: Registry, tmp_path: Path
) -> None:
    journal = tmp_path / "meter"
    crashed = Meter(registry, journal)
    crashed.start(thread=False)
    for n in range(50):
        crashed.submit(make_call(n))
    crashed.flush()  # 50 committed, still in the journal segment
    for n in range(50, 80):
        crashed.submit(make_call(n))  # 30 acknowledged, never flushed
    assert crashed.journal is not None
    crashed.journal.close(remove_current=False)  # the process dies: only the file remains
    segment = next(journal.glob(f"*{SUFFIX}"))
    with segment.open("ab") as handle:
        handle.write(b'{"record_id":"torn-by-a-power-cu')  # a write cut short

    restarted = Meter(registry, journal)
    restarted.start(thread=False)
    assert restarted.replayed == 30
    restarted.stop()
    ids = record_ids(registry)
    assert len(ids) == len(set(ids)) == 80
    assert not list(journal.glob(f"*{SUFFIX}"))


KILLED_WRITER = """
import sys
from datetime import UTC, datetime
from pathlib import Path
from datapolis.registry.db import open_registry
from datapolis.sharing.metering import Call, Meter
meter = Meter(open_registry(sys.argv[1]), Path(sys.argv[2]), flush_every=0.01, batch_size=50)
meter.start()
n = 0
while True:
    now = datetime.now(UTC)
    meter.submit(Call(now, now, 1, 2, 3, "R1", 4, "query", "0" * 64, 10, 100, 200, None, 1.5,
                      None, f"k{n}"))
    print(f"k{n}", flush=True)  # acknowledged
    n += 1
"""


def test_records_acknowledged_before_a_sigkill_survive_it(
    registry: Registry, tmp_path: Path
) -> None:
    journal = tmp_path / "meter"
    with subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, registry.engine.url.render_as_string(False),
         str(journal)],
        stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[3],
    ) as process:
        assert process.stdout is not None
        acknowledged = []
        for line in process.stdout:
            acknowledged.append(line.strip())
            if len(acknowledged) == 3000:
                break
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        acknowledged += [line.strip() for line in process.stdout]  # answered before the kill

    with registry.session() as session:
        before = session.scalar(select(func.count()).select_from(ShareCall))
    meter = Meter(registry, journal)
    meter.start(thread=False)
    meter.stop()
    with registry.session() as session:
        found = set(session.scalars(select(ShareCall.request_id)))
        total = session.scalar(select(func.count()).select_from(ShareCall))
    assert set(acknowledged) <= found
    assert total == len(found)  # no record twice
    assert before is not None and before < len(acknowledged) <= total


def test_a_second_meter_on_the_same_journal_is_refused(
    sqlite_registry: Registry, tmp_path: Path
) -> None:
    first = Meter(sqlite_registry, tmp_path / "meter")
    first.start(thread=False)
    with pytest.raises(ConfigError, match="in use by another server"):
        Meter(sqlite_registry, tmp_path / "meter").start(thread=False)
    first.stop()


def test_calls_quota_counts_successes_including_unflushed_ones(
    registry: Registry, tmp_path: Path
) -> None:
    grant = Limits(id=7, calls_per_day=3)
    meter = Meter(registry, tmp_path / "meter")
    meter.start(thread=False)
    for n in range(2):
        meter.submit(make_call(n))
    meter.submit(make_call(9, status=429, error_code="rate_limited"))  # refused: not counted
    assert meter.admit(grant) is None
    meter.submit(make_call(2))  # the third success, not flushed yet
    assert meter.admit(grant) == "quota_calls"
    assert meter.admit(Limits(id=8, calls_per_day=3)) is None  # another grant
    meter.stop()

    # A new run (a restarted server) counts the committed records of the earlier one.
    again = Meter(registry, tmp_path / "meter")
    again.start(thread=False)
    assert again.admit(grant) == "quota_calls"
    again.stop()


def test_rows_quota_refuses_a_call_that_would_pass_it(registry: Registry, tmp_path: Path) -> None:
    grant = Limits(id=7, rows_per_day=100)
    meter = Meter(registry, tmp_path / "meter")
    meter.start(thread=False)
    meter.submit(make_call(1, rows=60))
    meter.flush()
    assert meter.admit(grant, rows=40) is None
    assert meter.admit(grant, rows=41) == "quota_rows"
    meter.submit(make_call(2, rows=40))
    assert meter.admit(grant) == "quota_rows"  # nothing left, even for a call of unknown size
    meter.stop()


def test_quota_days_are_the_citys_days(registry: Registry, tmp_path: Path) -> None:
    meter = Meter(registry, tmp_path / "meter")
    meter.start(thread=False)
    meter.submit(make_call(1, at=datetime(2026, 11, 24, 15, 59, tzinfo=UTC)))  # 23:59 on the 24th
    meter.submit(make_call(2, at=datetime(2026, 11, 24, 16, 0, tzinfo=UTC)))  # 00:00 on the 25th
    meter.submit(make_call(3, rows=5, at=datetime(2026, 11, 24, 17, 0, tzinfo=UTC)))
    assert meter.usage(7, date(2026, 11, 24)) == (1, 1)
    assert meter.usage(7, date(2026, 11, 25)) == (2, 6)
    meter.flush()
    meter.stop()
    again = Meter(registry, tmp_path / "meter")
    again.start(thread=False)
    assert again.usage(7, date(2026, 11, 25)) == (2, 6)
    grant = Limits(id=7, calls_per_day=2)
    assert again.admit(grant, now=datetime(2026, 11, 24, 15, 0, tzinfo=UTC)) is None
    assert again.admit(grant, now=datetime(2026, 11, 24, 16, 30, tzinfo=UTC)) == "quota_calls"
    again.stop()


def test_rate_limit_is_a_token_bucket_per_grant(sqlite_registry: Registry, tmp_path: Path) -> None:
    clock = [100.0]
    meter = Meter(sqlite_registry, tmp_path / "meter", clock=lambda: clock[0])
    meter.start(thread=False)
    grant = Limits(id=7, rate_per_second=2.0)
    assert [meter.admit(grant) for _ in range(3)] == [None, None, "rate_limited"]
    assert meter.admit(Limits(id=8, rate_per_second=2.0)) is None  # buckets are per grant
    clock[0] += 0.5  # one token back
    assert [meter.admit(grant) for _ in range(2)] == [None, "rate_limited"]
    clock[0] += 60  # refills to the burst only
    assert [meter.admit(grant) for _ in range(3)] == [None, None, "rate_limited"]
    assert meter.admit(Limits(id=7)) is None  # grant changed to no rate limit
    meter.stop()


def test_the_app_starts_a_meter_and_flushes_it_at_shutdown(app: object) -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    assert isinstance(app, FastAPI)
    with TestClient(app, base_url="https://testserver"):
        meter: Meter = app.state.meter
        meter.submit(make_call(1))
        meter.submit(make_call(2))
    registry: Registry = app.state.registry
    assert len(record_ids(registry)) == 2


def test_records_wait_out_a_registry_outage_and_survive_a_stop_during_it(
    registry: Registry, tmp_path: Path
) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    def table(old: str, new: str) -> None:
        with registry.engine.begin() as connection:
            connection.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))

    journal = tmp_path / "meter"
    meter = Meter(registry, journal)
    meter.start(thread=False)
    for n in range(5):
        meter.submit(make_call(n))
    table("share_calls", "share_calls_away")  # the registry cannot take records now
    with pytest.raises(SQLAlchemyError):
        meter.flush()
    assert meter.pending == 5  # nothing dropped
    meter.submit(make_call(5))
    meter.stop()  # logs the failure, keeps the journal
    assert list(journal.glob(f"*{SUFFIX}"))
    table("share_calls_away", "share_calls")
    assert record_ids(registry) == []

    restarted = Meter(registry, journal)
    restarted.start(thread=False)
    assert restarted.replayed == 6
    restarted.stop()
    assert len(record_ids(registry)) == 6
    assert not list(journal.glob(f"*{SUFFIX}"))


def test_journal_segments_rotate_and_go_once_committed(sqlite_registry: Registry,
                                                       tmp_path: Path) -> None:
    journal = tmp_path / "meter"
    meter = Meter(sqlite_registry, journal, rotate_bytes=4_000)  # a segment per ~8 records
    meter.start(thread=False)
    for batch in range(5):
        for n in range(10):
            meter.submit(make_call(batch * 10 + n))
        meter.flush()
        assert len(list(journal.glob(f"*{SUFFIX}"))) == 1  # the sealed one went after commit
    for n in range(50, 60):
        meter.submit(make_call(n))
    meter.flush()  # rotates: the next records go to a fresh segment
    for n in range(60, 64):
        meter.submit(make_call(n))  # never flushed
    assert meter.journal is not None
    meter.journal.close(remove_current=False)
    restarted = Meter(sqlite_registry, journal)
    restarted.start(thread=False)
    assert restarted.replayed == 4
    restarted.stop()
    assert len(record_ids(sqlite_registry)) == 64
