"""What the issue API takes and returns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class TransitionIn(BaseModel):
    to: str = Field(description="acknowledged, rectifying or submitted")
    comment: str | None = Field(default=None, max_length=2000)


class EventPublic(BaseModel):
    from_state: str | None
    to_state: str
    actor: str
    at: datetime
    comment: str | None
    failed: int | None


class IssuePublic(BaseModel):
    id: int
    warehouse_table: str
    subject: str
    origin: str
    rule_id: int | None
    org: str | None
    org_name: str | None
    kind: str
    columns: list[str]
    dimension: str
    severity: str
    state: str
    checked: int
    failed: int
    opened_at: datetime
    due_at: datetime
    overdue: bool
    state_changed_at: datetime
    submitted_at: datetime | None
    verified_at: datetime | None


class IssueDetail(IssuePublic):
    sample: list[dict[str, Any]]
    masked_fields: list[str]
    events: list[EventPublic]
    may_act: bool
    next_states: list[str]


class RatePublic(BaseModel):
    org: str | None
    org_name: str
    opened: int
    verified: int
    pending: int
    overdue: int
    on_time: int
    rate: float | None
    on_time_share: float | None
