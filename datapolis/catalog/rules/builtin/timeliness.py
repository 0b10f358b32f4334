"""Rules on updates and publication: publish date, declared cycle against the highway's
landings, and the record count against the warehouse."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from datapolis.catalog.enums import EntryStatus, UpdateCycle
from datapolis.catalog.models import CatalogEntry
from datapolis.catalog.rules.context import RuleContext
from datapolis.catalog.rules.registry import Category, Finding, Severity, rule
from datapolis.web.i18n import N_

T, B, W = Category.TIMELINESS, Severity.BLOCKING, Severity.WARNING
ODS = "ods_"
# How old the newest landing may be before the declared cycle is not kept: one cycle and
# some slack for a late or retried run (a daily table not refreshed for more than two days).
ALLOWED_AGE: dict[UpdateCycle, timedelta] = {
    UpdateCycle.REALTIME: timedelta(hours=1),
    UpdateCycle.HOURLY: timedelta(hours=3),
    UpdateCycle.DAILY: timedelta(days=2),
    UpdateCycle.WEEKLY: timedelta(days=9),
    UpdateCycle.TEN_DAYS: timedelta(days=12),
    UpdateCycle.MONTHLY: timedelta(days=35),
    UpdateCycle.QUARTERLY: timedelta(days=100),
    UpdateCycle.HALF_YEARLY: timedelta(days=190),
    UpdateCycle.YEARLY: timedelta(days=380),
}
RECORD_TOLERANCE = 0.05  # the warehouse's count is an estimate; 5 % either way is "matching"


def _age_text(age: timedelta) -> str:
    if age >= timedelta(days=2):
        return f"{age.days} d"
    return f"{int(age.total_seconds() // 3600)} h"


@rule("R38", "A published entry has a publish date", "已上架资源须有发布日期",
      category=T, severity=B,
      applies=lambda e, c: e.status in (EntryStatus.PUBLISHED, EntryStatus.RETIRED))
def publish_date_set(entry: CatalogEntry, ctx: RuleContext) -> Iterator[Finding]:
    """A published (or once published, now retired) entry has its publish date."""
    if entry.publish_date is None:
        yield Finding(N_("published without a publish date"))


@rule("R39", "Publish date not in the future", "发布日期不得晚于当前日期",
      category=T, severity=B, applies=lambda e, c: e.publish_date is not None)
def publish_date_past(entry: CatalogEntry, ctx: RuleContext) -> Iterator[Finding]:
    """The publish date is today or earlier (in the city's time zone)."""
    if entry.publish_date is not None and entry.publish_date > ctx.today:
        yield Finding(N_("publish date %(date)s is in the future"),
                      {"date": entry.publish_date.isoformat()})


@rule("R40", "The table is refreshed as often as declared", "实际更新频率符合所声明的更新周期",
      category=T, severity=W,
      applies=lambda e, c: bool(e.warehouse_table) and e.warehouse_table in c.landed
      and e.update_cycle in ALLOWED_AGE)
def fresh_as_declared(entry: CatalogEntry, ctx: RuleContext) -> Iterator[Finding]:
    """The newest landing of the entry's warehouse table by the data highway (a succeeded run,
    or a minute in which a stream landed rows) is no older than the declared update cycle
    allows: realtime 1 h, hourly 3 h, daily 2 d, weekly 9 d, ten days 12 d, monthly 35 d,
    quarterly 100 d, half-yearly 190 d, yearly 380 d. Irregular entries are not checked."""
    assert entry.warehouse_table is not None
    landed = ctx.landed[entry.warehouse_table]
    if landed is None:
        yield Finding(N_("declared %(cycle)s, but %(table)s has never been landed"),
                      {"cycle": entry.update_cycle.value, "table": entry.warehouse_table})
        return
    age = ctx.now - landed
    if age > ALLOWED_AGE[entry.update_cycle]:
        yield Finding(N_("declared %(cycle)s, but %(table)s was last refreshed %(age)s ago"),
                      {"cycle": entry.update_cycle.value, "table": entry.warehouse_table,
                       "age": _age_text(age)})


@rule("R41", "A landing-layer table is fed by the highway", "贴源层库表须有汇聚任务",
      category=T, severity=W,
      applies=lambda e, c: (e.warehouse_table or "").startswith(ODS))
def ods_table_synced(entry: CatalogEntry, ctx: RuleContext) -> Iterator[Finding]:
    """An entry that points at an ods_ table names one that a sync job of the data highway
    lands in; otherwise nothing keeps it current."""
    if entry.warehouse_table not in ctx.landed:
        yield Finding(N_("no sync job lands in %(table)s"), {"table": entry.warehouse_table or ""})


@rule("R42", "A table entry gives its record count", "关联库表的资源须登记数据量",
      category=T, severity=W, applies=lambda e, c: bool(e.warehouse_table))
def record_count_given(entry: CatalogEntry, ctx: RuleContext) -> Iterator[Finding]:
    """An entry that points at a warehouse table states how many records it holds."""
    if entry.record_count is None:
        yield Finding(N_("no record count"))


def _in_warehouse(entry: CatalogEntry, ctx: RuleContext) -> bool:
    return ctx.warehouse_rows is not None and bool(entry.warehouse_table)


@rule("R43", "The warehouse table exists", "所关联的库表在数据仓库中存在",
      category=T, severity=W, applies=_in_warehouse)
def table_exists(entry: CatalogEntry, ctx: RuleContext) -> Iterator[Finding]:
    """The entry's warehouse table exists (checked only where the warehouse is at hand: the
    pages, the API and `--warehouse` on the CLI)."""
    assert ctx.warehouse_rows is not None
    if entry.warehouse_table not in ctx.warehouse_rows:
        yield Finding(N_("%(table)s is not in the warehouse"),
                      {"table": entry.warehouse_table or ""})


@rule("R44", "The record count matches the warehouse", "登记数据量与库表实际记录数相符",
      category=T, severity=W,
      applies=lambda e, c: _in_warehouse(e, c) and e.record_count is not None
      and c.warehouse_rows is not None and c.warehouse_rows.get(e.warehouse_table or "")
      is not None)
def record_count_matches(entry: CatalogEntry, ctx: RuleContext) -> Iterator[Finding]:
    """The declared record count is within 5 % of the rows the warehouse table holds."""
    assert ctx.warehouse_rows is not None and entry.record_count is not None
    actual = ctx.warehouse_rows[entry.warehouse_table or ""] or 0
    if abs(entry.record_count - actual) > RECORD_TOLERANCE * max(actual, 1):
        yield Finding(N_("declares %(declared)s records; the table holds %(actual)s"),
                      {"declared": entry.record_count, "actual": actual})


@rule("R45", "A landing-layer table is the provider's own", "贴源层库表属于资源提供方",
      category=T, severity=W,
      applies=lambda e, c: (e.warehouse_table or "").startswith(ODS))
def ods_table_of_provider(entry: CatalogEntry, ctx: RuleContext) -> Iterator[Finding]:
    """An ods_ table sits in the landing schema of the entry's provider (ods_<provider code>):
    a department catalogs what it supplies."""
    schema = (entry.warehouse_table or "").split(".", 1)[0]
    if schema != ODS + entry.provider.code:
        yield Finding(N_("%(table)s is not in the provider's landing schema %(schema)s"),
                      {"table": entry.warehouse_table or "", "schema": ODS + entry.provider.code})
