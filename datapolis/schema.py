"""Every slice's registry models, imported in one place so the metadata is complete.

Alembic's env and the test fixtures import this; slices never do.
"""

from datapolis.catalog import models as catalog_models
from datapolis.catalog import profiles as catalog_profiles
from datapolis.catalog.demands import models as catalog_demand_models
from datapolis.catalog.search import models as catalog_search_models
from datapolis.ingest import models as ingest_models
from datapolis.orgs import models as orgs_models
from datapolis.portal import models as portal_models
from datapolis.portal import public_models as portal_public_models
from datapolis.quality import models as quality_models
from datapolis.quality.issues import models as quality_issue_models
from datapolis.registry.base import Base
from datapolis.security.audit import models as audit_models
from datapolis.security.fields import models as field_models
from datapolis.security.grading import models as grading_models
from datapolis.sharing.applications import models as share_application_models
from datapolis.sharing.gateway import models as share_gateway_models
from datapolis.sharing.grants import models as share_grant_models
from datapolis.sharing.metering import models as share_call_models
from datapolis.sharing.monitoring import models as share_monitoring_models
from datapolis.standardise import models as governance_models

metadata = Base.metadata

__all__ = [
    "audit_models",
    "catalog_demand_models",
    "catalog_models",
    "catalog_profiles",
    "catalog_search_models",
    "field_models",
    "governance_models",
    "grading_models",
    "ingest_models",
    "metadata",
    "orgs_models",
    "portal_models",
    "portal_public_models",
    "quality_issue_models",
    "quality_models",
    "share_application_models",
    "share_call_models",
    "share_gateway_models",
    "share_grant_models",
    "share_monitoring_models",
]
