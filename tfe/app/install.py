"""The install use case (``tfe init``, ``tfe demo``): data dir, migrations, taxonomy, administrator.

It spans the kernel (database, identity, audit) and the taxonomy (seeding the referential's tables from
the shipped files), so it sits with the composition roots; running it again changes nothing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import make_url

from taxonomy.loader import load_taxonomy
from taxonomy.releases import ensure_initial_release
from tfe.app.runtime import ADMIN_ORG_SLUG, Runtime
from tfe.core.db import migrate
from tfe.core.models import Organisation, User
from tfe.core.security import audit, identity

__all__ = ["InitReport", "init_installation"]


@dataclass
class InitReport:
    data_dir: Path
    database: str
    taxonomy: dict[str, int]
    admin_email: str
    admin_password: str | None  # only when it was generated now
    admin_created: bool = False


def init_installation(rt: Runtime, *, channel: str = "cli") -> InitReport:
    """Create the data dir, migrate, load the taxonomy, ensure the admin organisation and account."""
    settings = rt.settings
    for folder in (settings.resolved_data_dir, settings.index_dir, settings.blob_dir):
        folder.mkdir(parents=True, exist_ok=True)
    migrate(rt.engine)
    generated: str | None = None
    created = False
    with rt.session() as session:
        counts = load_taxonomy(session)
        ensure_initial_release(session)  # release « initial », once, right after the first load
        org = session.scalar(select(Organisation).where(Organisation.slug == ADMIN_ORG_SLUG))
        if org is None:
            org = identity.get_or_create_org(session, ADMIN_ORG_SLUG, "Business France", "national_agency")
        admin = session.scalar(select(User).where(User.email == settings.admin_email.lower()))
        if admin is None:
            password = settings.admin_password or secrets.token_urlsafe(12)
            generated = None if settings.admin_password else password
            created = True
            admin = identity.create_user(
                session,
                email=settings.admin_email,
                org=org,
                role="admin",
                name="Administrateur",
                password=password,
            )
            audit.record(
                session,
                "user.create",
                audit.Actor.system(channel),
                target_kind="user",
                target_id=str(admin.id),
                detail={"email": admin.email, "role": "admin"},
            )
    return InitReport(
        data_dir=settings.resolved_data_dir,
        database=make_url(settings.sqlalchemy_url).render_as_string(hide_password=True),
        taxonomy=counts,
        admin_email=settings.admin_email,
        admin_password=generated,
        admin_created=created,
    )
