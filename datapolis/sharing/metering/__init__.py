"""Call metering: a record of every interface call, durable off-path writes, quotas and rates.

The contract surface other slices use: `Call`, `Meter` (on `app.state.meter`), `meter_of`.
"""

from typing import Annotated

from fastapi import Depends, Request

from datapolis.sharing.metering.meter import GrantLimits, Meter
from datapolis.sharing.metering.records import INTERFACES, Call, params_hash


def meter_of(request: Request) -> Meter:
    """FastAPI dependency: the server's Meter."""
    meter: Meter = request.app.state.meter
    return meter


MeterDep = Annotated[Meter, Depends(meter_of)]

__all__ = ["INTERFACES", "Call", "GrantLimits", "Meter", "MeterDep", "meter_of", "params_hash"]
