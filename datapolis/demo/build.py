"""Building the demo city: population, department systems, truth and manifest, atomically.

Everything is written into a scratch directory next to `out_dir` and renamed into place at
the end, so an error or Ctrl-C leaves no half-built demo; tables created in PostgreSQL or
MariaDB targets are dropped again on failure.
"""

from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing as mp
import os
import shutil
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from queue import Empty
from typing import Any

import pyarrow as pa

from datapolis.demo import enterprises, population, sinks, truth
from datapolis.demo.city import CITY
from datapolis.demo.dirt import DirtRates
from datapolis.demo.manifest import Manifest, SystemInfo
from datapolis.demo.schema import Table
from datapolis.demo.systems import Context, System, all_systems
from datapolis.demo.vec import AS_OF
from datapolis.errors import UserError

Progress = Callable[[str, int, int], None]
MIN_PEOPLE = 100
# Rows each system holds per person (measured); used for the progress total before it's known.
ROWS_PER_PERSON = {"gaj_hjxt": 2.75, "scjg_qydj": 0.13, "jy_xlxx": 0.17, "swjt_yxxt": 8.6,
                   "bdc_djxt": 0.65, "mzj_dibao": 0.03, "wgzx_sjxt": 0.25}


@dataclass
class _Job:
    ctx: Context
    scratch: Path
    targets: dict[str, sinks.Target]
    queue: Any = None  # multiprocessing queue in parallel builds


@dataclass
class _Result:
    system: str
    tables: dict[str, int]
    generate_seconds: float
    load_seconds: dict[str, float] = field(default_factory=dict)


_JOB: _Job | None = None  # inherited by forked workers


def build_demo(
    *,
    out_dir: Path,
    people: int,
    seed: int,
    rates: DirtRates = DirtRates(),  # noqa: B008 - frozen, so sharing the default is safe
    source_urls: dict[str, str] | None = None,
    progress: Progress | None = None,
    replace: bool = False,
    workers: int | None = None,
) -> Manifest:
    """Build the demo city into `out_dir`; `workers` defaults to one process per core (max 2)."""
    started = time.perf_counter()
    if people < MIN_PEOPLE:
        raise UserError(f"a demo needs at least {MIN_PEOPLE} people, got {people}")
    if seed < 0:
        raise UserError(f"the seed must be a non-negative integer, got {seed}")
    out_dir = Path(out_dir)
    if out_dir.exists() and not replace:
        raise UserError(f"a demo already exists at {out_dir}; pass --replace to rebuild it")
    systems = all_systems()
    targets = _targets(systems, source_urls or {})
    for name, target in targets.items():
        sinks.check(target, systems[name].tables, replace=replace)

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    _remove_abandoned(out_dir)
    scratch = out_dir.parent / f".{out_dir.name}.building-{os.getpid()}"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()
    try:
        pop = population.generate(CITY, people, seed)
        ents = enterprises.generate(CITY, pop, seed)
        ctx = Context(pop=pop, ents=ents, rates=rates, seed=seed)
        truth_rows = {
            "persons": truth.write(truth.persons(pop), scratch / "truth" / "persons.parquet"),
            "enterprises": truth.write(truth.enterprises(ents, pop),
                                       scratch / "truth" / "enterprises.parquet"),
        }
        job = _Job(ctx=ctx, scratch=scratch, targets=targets)
        results = _run(job, systems, people, progress, workers)
        tables = [t for r in results for t in _specs(systems[r.system], r)]
        truth_rows["columns"] = truth.write(
            _concat([truth.columns(s, ts) for s, ts in tables]),
            scratch / "truth" / "columns.parquet")
        manifest = Manifest(
            seed=seed, people=people, as_of=AS_OF.isoformat(), rates=rates.as_dict(),
            built_at=datetime.now(UTC).isoformat(timespec="seconds"),
            build_seconds=round(time.perf_counter() - started, 2),
            systems=tuple(_info(systems[r.system], targets.get(r.system), r) for r in results),
            truth=truth_rows,
        )
        manifest.save(scratch)
        _swap_into_place(scratch, out_dir)
        return manifest
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        for name, target in targets.items():
            with contextlib.suppress(Exception):  # the original error matters more
                sinks.drop(target, systems[name].tables)
        raise


def _targets(systems: dict[str, System], urls: dict[str, str]) -> dict[str, sinks.Target]:
    unknown = sorted(set(urls) - set(systems))
    if unknown:
        raise UserError(f"unknown system {', '.join(unknown)}; "
                        f"the systems are {', '.join(systems)}")
    files_only = [name for name in urls if systems[name].files_only]
    if files_only:
        raise UserError(f"{files_only[0]} only delivers files; it cannot go into a database")
    return {name: sinks.Target(name, urls.get(name)) for name in systems
            if not systems[name].files_only}


def _remove_abandoned(out_dir: Path) -> None:
    """Scratch directories of builds whose process is gone (killed, power loss)."""
    for stale in [*out_dir.parent.glob(f".{out_dir.name}.building-*"),
                  *out_dir.parent.glob(f".{out_dir.name}.old-*")]:
        pid = stale.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _swap_into_place(scratch: Path, out_dir: Path) -> None:
    old = out_dir.parent / f".{out_dir.name}.old-{os.getpid()}"
    if out_dir.exists():
        out_dir.rename(old)
    scratch.rename(out_dir)
    shutil.rmtree(old, ignore_errors=True)


def _concat(parts: list[pa.Table]) -> pa.Table:
    return pa.concat_tables(parts)


def _specs(system: System, result: _Result) -> list[tuple[str, list[Table]]]:
    if system.files_only:  # one table per delivered file, all shaped like the template
        return [(system.name, [dataclasses.replace(t, name=name)
                               for t in system.tables for name in result.tables])]
    return [(system.name, list(system.tables))]


def _info(system: System, target: sinks.Target | None, result: _Result) -> SystemInfo:
    if target is None:
        storage, url = "files", "files/mzj/"
    else:
        storage, url = target.dialect, target.public_url()
    return SystemInfo(name=system.name, title=system.title, department=system.department,
                      storage=storage, url=url, tables=result.tables,
                      generate_seconds=round(result.generate_seconds, 3),
                      load_seconds={k: round(v, 3) for k, v in result.load_seconds.items()})


# --- running the systems, in parallel where the machine allows -----------------------------

def _run(job: _Job, systems: dict[str, System], people: int, progress: Progress | None,
         workers: int | None) -> list[_Result]:
    names = list(systems)
    totals = {n: int(ROWS_PER_PERSON[n] * people) for n in names}
    done = 0

    def report(message: tuple[Any, ...]) -> None:
        nonlocal done
        if message[0] == "total":
            totals[message[1]] = message[2]
        elif message[0] == "rows":
            done += message[3]
            if progress is not None:
                progress(f"{message[1]}.{message[2]}", done, max(sum(totals.values()), done))

    count = workers if workers is not None else min(2, os.cpu_count() or 1)
    if count <= 1 or "fork" not in mp.get_all_start_methods():
        results = [_system(job, name, report) for name in names]
    else:
        results = _run_forked(job, names, count, report)
    order = {n: i for i, n in enumerate(names)}
    return sorted(results, key=lambda r: order[r.system])


def _run_forked(job: _Job, names: list[str], count: int,
                report: Callable[[tuple[Any, ...]], None]) -> list[_Result]:
    global _JOB
    context = mp.get_context("fork")
    job.queue = context.Queue()
    # Longest first onto the least loaded worker: the water system alone is half the rows.
    plan: list[list[str]] = [[] for _ in range(count)]
    loads = [0.0] * count
    for name in sorted(names, key=lambda n: -ROWS_PER_PERSON[n]):
        slot = loads.index(min(loads))
        plan[slot].append(name)
        loads[slot] += ROWS_PER_PERSON[name]
    _JOB = job
    processes = [context.Process(target=_worker, args=(batch,), daemon=True)
                 for batch in plan if batch]
    results: list[_Result] = []
    try:
        for process in processes:
            process.start()
        while len(results) < len(names):
            try:
                message = job.queue.get(timeout=0.5)
            except Empty:
                codes = [p.exitcode for p in processes]
                crashed = any(code not in (None, 0) for code in codes)
                if (crashed or None not in codes) and job.queue.empty():
                    raise RuntimeError(f"a demo worker ended early (exit codes {codes})") \
                        from None
                continue
            if message[0] == "done":
                results.append(message[1])
            elif message[0] == "error":
                _, system, user_error, text = message
                if user_error:
                    raise UserError(text)
                raise RuntimeError(f"building {system} failed:\n{text}")
            else:
                report(message)
        for process in processes:
            process.join()
        return results
    finally:
        _JOB = None
        for process in processes:
            if process.is_alive():
                process.terminate()
                process.join()


def _worker(names: list[str]) -> None:
    job = _JOB
    assert job is not None
    for name in names:
        try:
            job.queue.put(("done", _system(job, name, job.queue.put)))
        except BaseException as exc:
            user = isinstance(exc, UserError)
            job.queue.put(("error", name, user, str(exc) if user else traceback.format_exc()))
            return


def _system(job: _Job, name: str, report: Callable[[tuple[Any, ...]], None]) -> _Result:
    system = all_systems()[name]
    started = time.perf_counter()
    output = system.build(job.ctx)
    generated = time.perf_counter() - started
    counts = {spec.name: data.num_rows for spec, data in output.tables}
    counts |= {spec.name: data.num_rows for _, spec, data, _ in output.files}
    report(("total", name, sum(counts.values())))
    load_seconds: dict[str, float] = {}
    clock = [time.perf_counter()]

    def on_rows(table: str, rows: int) -> None:
        now = time.perf_counter()
        load_seconds[table] = load_seconds.get(table, 0.0) + now - clock[0]
        clock[0] = now
        report(("rows", name, table, rows))

    if output.tables:
        sinks.load(job.targets[name], job.scratch, output.tables, on_rows)
    for path, spec, data, content in output.files:
        target = job.scratch / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        on_rows(spec.name, data.num_rows)
    ctx = job.ctx
    truth.write(output.log.table(), job.scratch / "truth" / "dirt" / f"{name}.parquet")
    link_parts = [truth.links(name, spec, data, ctx.pop, ctx.ents)
                  for spec, data in output.tables]
    link_parts += [truth.links(name, spec, data, ctx.pop, ctx.ents)
                   for _, spec, data, _ in output.files]
    truth.write(_concat(link_parts), job.scratch / "truth" / "links" / f"{name}.parquet")
    return _Result(system=name, tables=counts, generate_seconds=generated,
                   load_seconds=load_seconds)
