"""Public data requests (数据需求) and error reports on datasets (数据纠错).

Anyone files them, without signing in (the routes limit how many one address files per hour);
the bureau answers requests publicly, the provider or the bureau triages reports. Contact
details are kept for the answerer and never shown on public pages.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from datapolis.errors import Conflict, NotFound, UserError
from datapolis.portal.datasets import Dataset
from datapolis.portal.public_models import DataRequest, ErrorReport

REQUEST_STATES = ("open", "answered", "declined")
REPORT_STATES = ("open", "confirmed", "fixed", "rejected")


def _text(value: str, name: str, low: int, high: int) -> str:
    value = value.strip()
    if not low <= len(value) <= high:
        raise UserError(f"{name} needs {low} to {high} characters")
    return value


def _contact(value: str) -> str | None:
    value = value.strip()
    if len(value) > 254:
        raise UserError("contact needs at most 254 characters")
    return value or None


def file_request(session: Session, *, title: str, description: str, requester: str = "",
                 contact: str = "") -> DataRequest:
    request = DataRequest(title=_text(title, "title", 4, 200),
                          description=_text(description, "description", 10, 4000),
                          requester=requester.strip()[:100] or "匿名", contact=_contact(contact))
    session.add(request)
    session.flush()
    return request


def requests(session: Session, *, status: str | None = None, offset: int = 0, limit: int = 20
             ) -> tuple[int, list[DataRequest]]:
    query = select(DataRequest)
    if status:
        if status not in REQUEST_STATES:
            raise UserError(f"unknown status {status!r}")
        query = query.where(DataRequest.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = session.scalars(query.order_by(DataRequest.id.desc()).offset(offset).limit(limit))
    return total, list(page)


def get_request(session: Session, request_id: int) -> DataRequest:
    found = session.get(DataRequest, request_id)
    if found is None:
        raise NotFound(f"no data request {request_id}")
    return found


def answer_request(session: Session, *, request_id: int, answer: str, status: str,
                   actor: str) -> DataRequest:
    if status not in REQUEST_STATES[1:]:
        raise UserError(f"an answer marks a request {' or '.join(REQUEST_STATES[1:])}")
    found = get_request(session, request_id)
    found.answer = _text(answer, "answer", 2, 4000)
    found.status = status
    found.answered_by = actor
    found.answered_at = datetime.now(UTC)
    return found


def file_report(session: Session, *, dataset: Dataset, description: str, contact: str = ""
                ) -> ErrorReport:
    report = ErrorReport(dataset_code=dataset.code, org_code=dataset.provider.code,
                         description=_text(description, "description", 5, 4000),
                         contact=_contact(contact))
    session.add(report)
    session.flush()
    return report


def reports(session: Session, *, dataset_code: str | None = None, org_code: str | None = None,
            status: str | None = None, limit: int = 200) -> list[ErrorReport]:
    query = select(ErrorReport).order_by(ErrorReport.id.desc()).limit(limit)
    if dataset_code is not None:
        query = query.where(ErrorReport.dataset_code == dataset_code)
    if org_code is not None:
        query = query.where(ErrorReport.org_code == org_code)
    if status:
        query = query.where(ErrorReport.status == status)
    return list(session.scalars(query))


def triage_report(session: Session, *, report_id: int, status: str, response: str, actor: str,
                  org_code: str | None) -> ErrorReport:
    """Move a report on; `org_code` limits a department to its own datasets (None: bureau)."""
    if status not in REPORT_STATES[1:]:
        raise UserError(f"status is one of {', '.join(REPORT_STATES[1:])}")
    report = session.get(ErrorReport, report_id)
    if report is None or (org_code is not None and report.org_code != org_code):
        raise NotFound(f"no error report {report_id}")
    if report.status in ("fixed", "rejected"):
        raise Conflict(f"error report {report_id} is already {report.status}")
    report.status = status
    report.response = _text(response, "response", 2, 4000)
    report.handled_by = actor
    report.handled_at = datetime.now(UTC)
    return report
