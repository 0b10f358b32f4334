"""The demo's applications and grants, run on the small world: real services, idempotent."""

from __future__ import annotations

from sqlalchemy import func, select

from datapolis.demo import sharing as demo_sharing
from datapolis.sharing.applications.models import Application, State
from datapolis.sharing.grants.models import Grant
from tests.sharing.core.world import World


def test_demo_applications_and_grants(world: World) -> None:
    done = demo_sharing.run(world.registry, bureau_user="platform_admin")
    assert len(done.applications) == 2  # the conditional and the unconditional resource
    assert len(done.granted) == 2 and len(done.revoked) == 1
    with world.registry.session() as session:
        states = dict(session.execute(select(Application.state, func.count())
                                      .group_by(Application.state)).all())
        assert states == {State.GRANTED: 2}
        grants = list(session.scalars(select(Grant)))
        assert {g.row_scope for g in grants} == {'xzqh_dm prefix "371302"'}
        assert sum(g.revoked_at is not None for g in grants) == 1
    again = demo_sharing.run(world.registry, bureau_user="platform_admin")
    assert again.applications == []
