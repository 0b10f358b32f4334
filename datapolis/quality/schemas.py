"""What the API and CLI accept and return for rules, runs and results."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from datapolis.quality.rules import Dimension, Severity


class RuleIn(BaseModel):
    kind: str = Field(max_length=32)
    columns: list[str] = Field(default_factory=list, max_length=16)
    params: dict[str, Any] = Field(default_factory=dict)
    dimension: Dimension | None = None
    severity: Severity = Severity.WARNING
    threshold: float = Field(default=1.0, ge=0.0, le=1.0)
    enabled: bool = True
    note: str | None = Field(default=None, max_length=2000)


class RulePublic(RuleIn):
    id: int
    warehouse_table: str
    dimension: Dimension | None
    created_by: str
    created_at: datetime


class ResultPublic(BaseModel):
    rule_id: int | None
    kind: str
    columns: list[str]
    dimension: str
    severity: str
    threshold: float
    checked: int
    failed: int
    pass_rate: float
    passed: bool
    sample: list[dict[str, Any]]
    masked: list[str] = Field(default_factory=list)  # sample fields shown masked or hidden
    detail: dict[str, Any]
    position: int | None = None  # a row rule's bit: its failing keys (…/results/N/keys)


class RunPublic(BaseModel):
    id: int
    warehouse_table: str
    trigger: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    seconds: float | None
    rows: int | None
    changed_only: bool
    passed: bool | None
    error: str | None


class RunWithResults(RunPublic):
    results: list[ResultPublic]


class Suggestion(BaseModel):
    kind: str
    columns: list[str]
    params: dict[str, Any]
    dimension: Dimension
    reason: str
