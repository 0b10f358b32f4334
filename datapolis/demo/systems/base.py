"""Types shared by the system modules: what a builder gets and what it returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from datapolis.demo.dirt import DirtLog, DirtRates
from datapolis.demo.enterprises import Enterprises
from datapolis.demo.population import Population
from datapolis.demo.schema import Table
from datapolis.demo.vec import rng_for


@dataclass(frozen=True)
class Context:
    pop: Population
    ents: Enterprises
    rates: DirtRates
    seed: int

    def rng(self, system: str, part: str) -> np.random.Generator:
        return rng_for(self.seed, system, part)


@dataclass
class Output:
    system: str
    tables: list[tuple[Table, pa.Table]] = field(default_factory=list)  # loaded into a database
    files: list[tuple[str, Table, pa.Table, bytes]] = field(default_factory=list)  # path, ...
    log: DirtLog = field(init=False)

    def __post_init__(self) -> None:
        self.log = DirtLog(self.system)


@dataclass(frozen=True)
class System:
    name: str
    title: str
    department: str  # org code of the department that runs it
    tables: tuple[Table, ...]
    build: Callable[[Context], Output]
    files_only: bool = False
