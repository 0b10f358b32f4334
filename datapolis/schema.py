"""Every slice's registry models, imported in one place so the metadata is complete.

Alembic's env and the test fixtures import this; slices never do.
"""

from datapolis.orgs import models as orgs_models
from datapolis.registry.base import Base

metadata = Base.metadata

__all__ = ["metadata", "orgs_models"]
