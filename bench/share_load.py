"""Benchmark: the sharing gateway under load, and its call records through a SIGKILL.

A real `datapolis serve` process (subprocess) on a fresh home with a published resource, a
consumer app and its grant (tests/sharing/metering/world.py). Clients are asyncio tasks in this
process, each signing key lookups (HMAC-SM3) one after another, every call carrying its own
X-Request-Id so the client can match its log against `share_calls`.

1. load: `--clients` (200) for `--seconds` (60); then a clean stop (SIGTERM). Goals: zero 5xx,
   zero transport errors, and the call records equal the calls the clients made, id by id.
2. bare (when the server has `share_bench_bare`): the same load on `/share/bench/...`, the same
   lookup with no signature, grant, de-identification or metering: the peer, for a ratio.
3. kill: the same load again; after `--kill-after` seconds SIGKILL the server mid-load and read
   what `share_calls` holds (exactly what was committed before the kill). Restart it (the start
   replays the meter's journal), stop it cleanly, and check that every record committed before
   the kill is unchanged, every call a client got an answer for has its record, and no record
   is there twice.

    .venv/bin/python bench/share_load.py [--clients 200] [--seconds 60] [--kill-after 15]
                                         [--registry sqlite|postgresql] [--rows 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx2 as httpx
from sqlalchemy import text

from bench._common import Comparison, console, print_comparisons, print_rows, write_result
from datapolis.registry.db import open_registry
from datapolis.sharing.gateway.client import sign
from tests.databases import PG_ADMIN_URL, throwaway_database
from tests.sharing.metering import world as _share_world

DATAPOLIS = Path(sys.executable).parent / "datapolis"
SERVER_LOG = Path(__file__).resolve().parent.parent / "var" / "bench" / "share_load.serve.log"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    """`datapolis serve` on the world's home, as an operator would run it."""

    world: _share_world.World
    port: int
    bare: bool
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120.0) -> float:
        env = self.world.environment(self.port, DATAPOLIS_SHARE_BENCH_BARE=str(self.bare).lower())
        with self.log.open("ab") as out:
            self.process = subprocess.Popen([str(DATAPOLIS), "serve"], env=env, stdout=out,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        started = time.perf_counter()
        while time.perf_counter() - started < timeout:
            if self.process.poll() is not None:
                raise SystemExit(f"datapolis serve exited with {self.process.returncode}; "
                                 f"see {self.log}")
            try:
                if httpx.get(self.base + "/healthz", timeout=2).status_code == 200:
                    return time.perf_counter() - started
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"datapolis serve did not answer within {timeout:.0f} s; see {self.log}")

    def stop(self) -> None:
        """SIGTERM: uvicorn finishes, the lifespan flushes the meter."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=120)
        self.process = None

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self.process = None


@dataclass
class Load:
    """What the clients saw: every answered call by request id, and what failed on the way."""

    answered: dict[str, int] = field(default_factory=dict)  # request id -> status
    unanswered: list[str] = field(default_factory=list)  # sent, no answer (transport error)
    errors: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def calls(self) -> int:
        return len(self.answered) + len(self.unanswered)

    @property
    def statuses(self) -> Counter[int]:
        return Counter(self.answered.values())

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000


async def run_load(world: _share_world.World, base: str, *, clients: int, seconds: float,
                   prefix: str, bare: bool = False, stop_at: float | None = None) -> Load:
    """`clients` tasks calling back to back for `seconds` (or until the server goes away)."""
    load = Load()
    counter = itertools.count()
    code = quote(world.resource_code, safe="")
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    rng = random.Random(7)

    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        async def worker() -> None:
            while time.perf_counter() < deadline:
                request_id = f"{prefix}-{next(counter)}"
                key = world.key(rng.randrange(world.rows))
                if bare:
                    path, headers = f"/share/bench/{code}/records/{key}", {}
                else:
                    path = f"/share/v1/{code}/records/{key}"
                    headers = sign("GET", path, app_key=world.app_key, secret=world.secret)
                headers["X-Request-Id"] = request_id
                started = time.perf_counter()
                try:
                    response = await client.get(path, headers=headers)
                except httpx.HTTPError as exc:
                    load.unanswered.append(request_id)
                    load.errors[exc.__class__.__name__] += 1
                    if stop_at is not None:
                        return  # the server was killed: this client is done
                    continue
                load.latencies.append(time.perf_counter() - started)
                load.answered[request_id] = response.status_code

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        load.seconds = time.perf_counter() - started
    return load


def records(database_url: str, prefix: str) -> dict[str, tuple[Any, ...]]:
    """share_calls rows of this phase by request id: (record id, status, rows, bytes,
    latency); a request id seen twice maps to None-padded duplicates counted separately."""
    registry = open_registry(database_url)
    try:
        with registry.engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT request_id, record_id, status, rows_out, bytes_out, latency_ms "
                "FROM share_calls WHERE request_id LIKE :prefix"), {"prefix": f"{prefix}-%"})
            found: dict[str, tuple[Any, ...]] = {}
            for request_id, *rest in rows:
                if request_id in found:
                    found[f"{request_id}#dup{len(found)}"] = tuple(rest)
                else:
                    found[request_id] = tuple(rest)
            return found
    finally:
        registry.close()


def phase_load(world: _share_world.World, server: Server, args: argparse.Namespace
               ) -> dict[str, Any]:
    server.start()
    load = asyncio.run(run_load(world, server.base, clients=args.clients, seconds=args.seconds,
                                prefix="load"))
    server.stop()
    found = records(world.database_url, "load")
    answered = set(load.answered)
    return {
        "calls": load.calls, "answered": len(load.answered), "seconds": round(load.seconds, 2),
        "calls_per_second": round(load.calls / load.seconds, 1),
        "p50_ms": round(load.percentile(0.50), 1), "p99_ms": round(load.percentile(0.99), 1),
        "statuses": {str(k): v for k, v in sorted(load.statuses.items())},
        "status_5xx": sum(v for k, v in load.statuses.items() if k >= 500),
        "transport_errors": dict(load.errors),
        "records": len(found),
        "answered_without_record": len(answered - set(found)),
        "records_without_call": len(set(found) - answered - set(load.unanswered)),
        "duplicate_records": sum(1 for k in found if "#dup" in k),
    }


def phase_bare(world: _share_world.World, server: Server, args: argparse.Namespace
               ) -> dict[str, Any] | None:
    server.start()
    try:
        probe = httpx.get(f"{server.base}/share/bench/{quote(world.resource_code, safe='')}"
                          f"/records/{world.key(1)}", timeout=10)
        if probe.status_code != 200:
            console.print(f"[yellow]no bare endpoint (HTTP {probe.status_code}); "
                          "the peer row is left out[/]")
            return None
        load = asyncio.run(run_load(world, server.base, clients=args.clients,
                                    seconds=args.bare_seconds, prefix="bare", bare=True))
    finally:
        server.stop()
    return {"calls": load.calls, "seconds": round(load.seconds, 2),
            "calls_per_second": round(load.calls / load.seconds, 1),
            "p99_ms": round(load.percentile(0.99), 1),
            "status_5xx": sum(v for k, v in load.statuses.items() if k >= 500)}


def phase_kill(world: _share_world.World, server: Server, args: argparse.Namespace
               ) -> dict[str, Any]:
    server.start()
    snapshot: dict[str, tuple[Any, ...]] = {}

    async def load_then_kill() -> Load:
        task = asyncio.create_task(run_load(
            world, server.base, clients=args.clients, seconds=args.kill_after + 30,
            prefix="kill", stop_at=args.kill_after))
        await asyncio.sleep(args.kill_after)
        server.kill()
        return await task

    load = asyncio.run(load_then_kill())
    # The registry cannot change now: this is exactly what was committed before the kill.
    snapshot.update(records(world.database_url, "kill"))
    journal = sorted((world.home / "meter").glob("*.calls"))
    journal_bytes = sum(p.stat().st_size for p in journal)
    restart_seconds = server.start()
    server.stop()
    found = records(world.database_url, "kill")
    changed = [k for k, row in snapshot.items() if found.get(k) != row]
    answered = set(load.answered)
    unanswered_recorded = sum(1 for k in load.unanswered if k in found)
    return {
        "answered_before_kill": len(load.answered),
        "records_committed_before_kill": len(snapshot),
        "committed_records_changed_or_lost": len(changed),
        "answered_without_record": len(answered - set(found)),
        "in_flight_at_kill": len(load.unanswered),
        "in_flight_recorded": unanswered_recorded,
        "records_after_restart": len(found),
        "replayed_from_journal": len(found) - len(snapshot),
        "journal_segments_left": len(journal), "journal_bytes": journal_bytes,
        "duplicate_records": sum(1 for k in found if "#dup" in k),
        "restart_seconds": round(restart_seconds, 1),
        "status_5xx": sum(v for k, v in load.statuses.items() if k >= 500),
    }


@contextmanager
def registry_url(kind: str, home: Path) -> Iterator[str]:
    if kind == "postgresql":
        yield from throwaway_database(PG_ADMIN_URL, "datapolis_bench_share")
    else:
        yield f"sqlite:///{home / 'registry.sqlite'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--bare-seconds", type=float, default=20.0)
    parser.add_argument("--kill-after", type=float, default=15.0)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--registry", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="share_load_") as tmp:
        home = Path(tmp) / "var"
        with registry_url(args.registry, home) as url:
            console.print(f"building the world ({args.rows:,} rows, {args.registry} registry)")
            world = _share_world.build(home, url, rows=args.rows)
            SERVER_LOG.parent.mkdir(parents=True, exist_ok=True)
            SERVER_LOG.unlink(missing_ok=True)
            server = Server(world, free_port(), bare=True, log=SERVER_LOG)
            load = phase_load(world, server, args)
            bare = phase_bare(world, server, args)
            kill = phase_kill(world, server, args)
            load_avg = os.getloadavg()

    comparisons = [
        Comparison("call records / calls made", load["records"], load["calls"], "calls made",
                   note="goal 1.0, id by id"),
    ]
    if bare is not None:
        comparisons.append(Comparison(
            f"calls/s at {args.clients} clients", load["calls_per_second"],
            bare["calls_per_second"], "bare endpoint", "calls/s",
            note="full path vs no signature/grant/deid/metering"))
    print_comparisons(f"share_load: {args.clients} clients, {args.seconds:.0f} s, "
                      f"{args.registry} registry", comparisons)
    print_rows("checks", ["check", "value", "goal"], [
        ["5xx answers (load)", str(load["status_5xx"]), "0"],
        ["transport errors (load)", str(sum(load["transport_errors"].values())), "0"],
        ["records == calls (load)", f"{load['records']} == {load['calls']}", "equal"],
        ["duplicate records", str(load["duplicate_records"] + kill["duplicate_records"]), "0"],
        ["committed before the kill, changed or lost",
         str(kill["committed_records_changed_or_lost"]), "0"],
        ["answered before the kill, no record after restart",
         str(kill["answered_without_record"]), "0"],
        ["replayed from the journal at restart", str(kill["replayed_from_journal"]), "-"],
        ["in flight at the kill (recorded)",
         f"{kill['in_flight_at_kill']} ({kill['in_flight_recorded']})", "-"],
    ])
    met = (load["status_5xx"] == 0 and not load["transport_errors"]
           and load["records"] == load["calls"] and load["duplicate_records"] == 0
           and kill["committed_records_changed_or_lost"] == 0
           and kill["answered_without_record"] == 0 and kill["duplicate_records"] == 0)
    path = write_result("share_load", {
        "clients": args.clients, "seconds": args.seconds, "rows": args.rows,
        "registry": args.registry, "load": load, "bare": bare, "kill": kill,
        "goals_met": met, "load_average_after": [round(x, 2) for x in load_avg],
        "latency_note": "p50/p99 are seen by the clients, in the same 2 cores as the server",
    }, comparisons)
    console.print(f"{'[green]goals met' if met else '[red]goals NOT met'}[/]; wrote {path}")
    if not met:
        sys.exit(1)


if __name__ == "__main__":
    main()
