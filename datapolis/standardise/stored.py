"""Standardisation specs edited through the API or the CLI, kept in the registry.

The effective specs are, by target: the shipped files (`standardise/specs/*.json`, the
defaults), replaced by the operator's files (`<home>/standardise/*.json`), replaced by the
registry's (`std_specs`). A spec is validated whole before anything is written: its shape and
transforms, its code tables against the registry, and — when its sources have landed — its
columns against the warehouse (the same compilation a build does). A bad spec is a 422 that
says where it is wrong; nothing is stored.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from datapolis.errors import NotFound, UserError
from datapolis.standardise.compiler import compile_spec, resolve_sources
from datapolis.standardise.models import StoredSpec
from datapolis.standardise.spec import SHIPPED, Spec, load_specs, parse
from datapolis.standardise.transforms import Context, Params, get_transform
from datapolis.warehouse.engine import Engine

log = logging.getLogger(__name__)
Origin = Literal["shipped", "home", "registry"]


class SpecInvalid(UserError):
    """A spec cannot be stored as written; the message says where."""

    status_code = 422


def effective_specs(session: Session, home: Path | None = None) -> dict[str, Spec]:
    """Every spec by target: shipped, replaced by `<home>/standardise`, by the registry's."""
    specs = load_specs(home)
    for row in session.scalars(select(StoredSpec).order_by(StoredSpec.target)):
        try:
            specs[row.target] = parse(row.body)
        except UserError as exc:  # stored before a transform it uses was removed
            log.error("stored spec std.%s is no longer valid and is ignored: %s",
                      row.target, exc)
    return specs


@dataclass(frozen=True)
class SpecDocument:
    target: str
    body: dict[str, Any]  # the JSON document as written
    origin: Origin
    updated_by: str | None = None
    updated_at: datetime | None = None


def origin_of(spec: Spec) -> Origin:
    return "shipped" if spec.path is not None and spec.path.parent == SHIPPED else "home"


def document(session: Session, home: Path | None, target: str) -> SpecDocument:
    name = target.removeprefix("std.")
    row = session.scalar(select(StoredSpec).where(StoredSpec.target == name))
    if row is not None:
        return SpecDocument(name, row.body, "registry", row.updated_by, row.updated_at)
    spec = load_specs(home).get(name)
    if spec is None or spec.path is None:
        raise NotFound(f"no standardisation spec for std.{name}")
    body = json.loads(spec.path.read_text(encoding="utf-8"))
    return SpecDocument(name, body, origin_of(spec))


def origins(session: Session, home: Path | None) -> dict[str, Origin]:
    found: dict[str, Origin] = {t: origin_of(s) for t, s in load_specs(home).items()}
    for target in session.scalars(select(StoredSpec.target)):
        found[target] = "registry"
    return found


def validate(body: Any, target: str, *, code_tables: Mapping[str, Mapping[str, str]],
             warehouse: Engine | None) -> Spec:
    """The spec `body` for `target`, checked whole; SpecInvalid (422) says where it is wrong."""
    name = target.removeprefix("std.")
    try:
        spec = parse(body)
    except UserError as exc:
        raise SpecInvalid(f"std.{name}: {exc}") from None
    if spec.target != name:
        raise SpecInvalid(f"std.{name}: target is {spec.target!r}; a spec is stored under "
                          "its own target")
    for column, steps in spec.columns.items():  # each transform's argument, landed or not
        expr = "x"
        for step in steps:
            context = Context(column, "VARCHAR", Params(), code_tables)
            try:
                expr = get_transform(step.name).compile(expr, step.argument, context)
            except UserError as exc:
                raise SpecInvalid(f"std.{name}: {exc}") from None
    if warehouse is not None:
        try:
            resolve_sources(warehouse, spec)
        except UserError:
            return spec  # not landed yet: its columns are checked by its first build
        try:
            compile_spec(warehouse, spec, code_tables)
        except UserError as exc:
            raise SpecInvalid(f"std.{name}: {exc}") from None
    return spec


def save(session: Session, body: Any, target: str, *, actor: str,
         code_tables: Mapping[str, Mapping[str, str]], warehouse: Engine | None) -> Spec:
    """Validate `body` whole, then store it as the spec of `target` (replacing any)."""
    spec = validate(body, target, code_tables=code_tables, warehouse=warehouse)
    row = session.scalar(select(StoredSpec).where(StoredSpec.target == spec.target))
    if row is None:
        session.add(StoredSpec(target=spec.target, body=body, updated_by=actor))
    else:
        row.body, row.updated_by = body, actor
    session.flush()
    return spec


def reset(session: Session, target: str) -> None:
    """Drop the stored spec of `target`: the file (shipped or the operator's) applies again."""
    name = target.removeprefix("std.")
    row = session.scalar(select(StoredSpec).where(StoredSpec.target == name))
    if row is None:
        raise NotFound(f"std.{name} has no stored spec; it uses its file already")
    session.delete(row)
    session.flush()
