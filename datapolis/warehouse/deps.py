"""FastAPI access to the warehouse the serving process owns."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from datapolis.warehouse.engine import Engine


def get_warehouse(request: Request) -> Engine:
    engine: Engine = request.app.state.warehouse
    return engine


WarehouseDep = Annotated[Engine, Depends(get_warehouse)]
