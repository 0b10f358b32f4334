"""The call log page, /sharing/calls (调用记录): every call to the sharing interfaces, newest
first, filtered by period, outcome, interface, resource, app and error code."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from datapolis.errors import UserError
from datapolis.orgs.deps import SessionDep
from datapolis.orgs.permissions import Permission
from datapolis.sharing.metering.api import Names, UsageReader, call_filter
from datapolis.sharing.metering.limits import day_bounds
from datapolis.sharing.metering.queries import OUTCOMES, list_calls
from datapolis.sharing.metering.records import INTERFACES
from datapolis.web.i18n import N_
from datapolis.web.nav import NavItem
from datapolis.web.render import render

router = APIRouter(include_in_schema=False)
NAV = [NavItem(N_("Call records"), "/sharing/calls", Permission.READ_SHARING_USAGE, icon="calls")]
OUTCOME_LABELS = {"ok": N_("Answered"), "refused": N_("Refused (4xx)"),
                  "failed": N_("Failed (5xx)")}
PAGE = 100


def _day(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserError(f"{text!r} is not a date (YYYY-MM-DD)") from None


@router.get("/sharing/calls", response_class=HTMLResponse)
def call_log(request: Request, session: SessionDep, principal: UsageReader,
             since: str | None = None, until: str | None = None, outcome: str = "",
             interface: str = "", resource_code: str = "", app_key: str = "",
             error_code: str = "", before: int | None = None) -> HTMLResponse:
    form = {"since": since or "", "until": until or "", "outcome": outcome,
            "interface": interface, "resource_code": resource_code.strip(),
            "app_key": app_key.strip(), "error_code": error_code.strip()}
    error, rows, status = None, [], 200
    try:
        first, last = _day(since), _day(until)
        flt = call_filter(
            session, principal, start=day_bounds(first)[0] if first else None,
            end=day_bounds(last)[1] if last else None, app_key=form["app_key"] or None,
            resource_code=form["resource_code"] or None, interface=interface or None,
            outcome=outcome if outcome in OUTCOMES else None,
            error_code=form["error_code"] or None)
        rows = list_calls(session, flt, before_id=before, limit=PAGE)
    except UserError as exc:
        error, status = str(exc), exc.status_code
    names = Names(session)
    calls = [names.public(row) for row in rows]
    older = None
    if len(rows) == PAGE:
        older = "/sharing/calls?" + urlencode(
            {**{k: v for k, v in form.items() if v}, "before": rows[-1].id})
    return render(request, "sharing_metering/calls.html", {
        "calls": calls, "form": form, "error": error, "older": older,
        "outcome_labels": OUTCOME_LABELS, "interfaces": INTERFACES,
        "everyone": principal.can(Permission.MONITOR_SHARING),
    }, status_code=status)
