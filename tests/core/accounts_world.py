"""A migrated database with organisations and users, for the tests of the security use cases.

Shared by tests/core/test_administration.py, test_oidc_provisioning.py and test_sessions.py: each names
its organisations and users, and may add rows of its own (``extra``) in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from tfe.core.db import make_engine, make_session_factory, migrate, session_scope
from tfe.core.models import Organisation, User
from tfe.core.security import administration as adm
from tfe.core.security import identity
from tfe.core.settings import Settings

# key, slug, name, kind
OrgSpec = tuple[str, str, str, str]
NATIONAL: OrgSpec = ("bf", adm.NATIONAL_AGENCY_SLUG, "Business France", "national_agency")
# the national agency, a regional chamber and a bank
ORGS: tuple[OrgSpec, ...] = (
    NATIONAL,
    ("cci", "cci-nord", "CCI Nord", "regional_chamber"),
    ("bank", "banque", "Banque", "bank"),
)


@dataclass
class World:
    factory: sessionmaker[Session]
    ids: dict[str, int]

    def user(self, session: Session, key: str) -> User:
        user = session.get(User, self.ids[key])
        assert user is not None
        return user


def build_world(
    db_settings: Settings,
    orgs: Sequence[OrgSpec],
    users: Sequence[tuple[str, str, str]],
    *,
    password: str | None = None,
    extra: Callable[[Session, dict[str, Organisation], dict[str, int]], None] | None = None,
) -> Iterator[World]:
    """Yield the world (for a fixture to ``yield from``): ``users`` are (key, org key, role), each with
    the address ``key@org-slug.fr``; the engine is disposed afterwards."""
    db_settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(db_settings)
    migrate(engine)
    factory = make_session_factory(engine)
    ids: dict[str, int] = {}
    with session_scope(factory) as s:
        made = {key: identity.get_or_create_org(s, slug, name, kind) for key, slug, name, kind in orgs}
        ids.update({key: org.id for key, org in made.items()})
        for key, org_key, role in users:
            org = made[org_key]
            ids[key] = identity.create_user(
                s, email=f"{key}@{org.slug}.fr", org=org, role=role, password=password
            ).id
        if extra is not None:
            extra(s, made, ids)
    yield World(factory, ids)
    engine.dispose()
