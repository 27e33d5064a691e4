"""Migrations, identity and audit on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, select, update

from tfe.core.db import make_engine, make_session_factory, migrate, schema_state, session_scope
from tfe.core.errors import AuthenticationError, ConflictError, ValidationError
from tfe.core.models import AuditEvent
from tfe.core.security import audit, identity
from tfe.core.settings import Settings


@pytest.fixture
def factory(db_settings: Settings):  # type: ignore[no-untyped-def]
    db_settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(db_settings)
    migrate(engine)
    yield make_session_factory(engine)
    engine.dispose()


def test_migrations_create_every_table_and_are_idempotent(db_settings: Settings) -> None:
    db_settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(db_settings)
    assert schema_state(engine) == "missing"
    migrate(engine)
    migrate(engine)  # second run is a no-op
    assert schema_state(engine) == "current"
    tables = set(inspect(engine).get_table_names())
    assert {
        "organisations",
        "users",
        "api_tokens",
        "audit_events",
        "concepts",
        "documents",
        "document_versions",
        "items",
        "sources",
        "ingest_records",
        "classifications",
    } <= tables
    engine.dispose()


def test_users_passwords_and_tokens(factory) -> None:  # type: ignore[no-untyped-def]
    with session_scope(factory) as s:
        org = identity.get_or_create_org(s, "cci-bretagne", "CCI Bretagne", "regional_chamber")
        user = identity.create_user(
            s, email="Ana@Example.org", org=org, role="contributor", password="correct horse battery"
        )
        _, raw = identity.create_token(s, user, name="cli")
    with session_scope(factory) as s:
        assert (
            identity.authenticate_password(s, "ana@example.org", "correct horse battery").email
            == "ana@example.org"
        )
        with pytest.raises(AuthenticationError):
            identity.authenticate_password(s, "ana@example.org", "wrong password!")
        found = identity.authenticate_token(s, raw)
        assert identity.scope_for(found).org_id == found.org_id
        with pytest.raises(AuthenticationError):
            identity.authenticate_token(s, raw + "x")
        with pytest.raises(ConflictError):
            identity.create_user(s, email="ana@example.org", org=org)
        with pytest.raises(ValidationError):
            identity.create_user(s, email="not-an-email", org=org)
        identity.revoke_token(s, raw.split("_")[1])
    with session_scope(factory) as s, pytest.raises(AuthenticationError):
        identity.authenticate_token(s, raw)


def test_audit_chain_detects_tampering(factory) -> None:  # type: ignore[no-untyped-def]
    with session_scope(factory) as s:
        for i in range(3):
            actor = audit.Actor(1, None, "api")
            audit.record(s, "search", actor, detail={"q": f"vins {i}", "token": "secret"})
    with session_scope(factory) as s:
        assert audit.verify_chain(s) is None
        events = s.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        assert events[0].detail["token"] == "***"
        second = events[1].id
        s.execute(update(AuditEvent).where(AuditEvent.id == second).values(detail={"q": "edited"}))
    with session_scope(factory) as s:
        assert audit.verify_chain(s) == second


def test_only_the_national_agency_gives_network_wide_scope(factory) -> None:  # type: ignore[no-untyped-def]
    with session_scope(factory) as s:
        # an organisation created without a kind gets the default kind, which must not make it national
        other = identity.get_or_create_org(s, "cci-sans-type", "CCI sans type")
        agency = identity.get_or_create_org(s, identity.NATIONAL_AGENCY_SLUG, "Business France")
        scopes = {
            org.slug: identity.scope_for(
                identity.create_user(s, email=f"admin@{org.slug}.fr", org=org, role="admin")
            )
            for org in (other, agency)
        }
    assert not scopes["cci-sans-type"].national and not scopes["cci-sans-type"].manages_network
    assert scopes[identity.NATIONAL_AGENCY_SLUG].national
    assert scopes[identity.NATIONAL_AGENCY_SLUG].manages_network
