"""Administration use cases on SQLite and PostgreSQL: scope, last-admin rule, deactivation, audit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.core.accounts_world import ORGS, World, build_world
from tfe.core.db import session_scope
from tfe.core.errors import AuthenticationError, NotFoundError, PermissionDeniedError, ValidationError
from tfe.core.models import AuditEvent, Organisation, User
from tfe.core.security import administration as adm
from tfe.core.security import audit, identity
from tfe.core.settings import Settings

PASSWORD = "mot-de-passe-assez-long"


def _banker_token(s: Session, orgs: dict[str, Organisation], ids: dict[str, int]) -> None:
    banker = s.get(User, ids["banker"])
    assert banker is not None
    ids["banker_token"] = identity.create_token(s, banker, name="ci")[0].id


@pytest.fixture
def world(db_settings: Settings) -> Iterator[World]:
    """Business France (national admin), a chamber with its admin and a reader, a bank with a user."""
    yield from build_world(
        db_settings,
        ORGS,
        [
            ("national", "bf", "admin"),
            ("cci_admin", "cci", "admin"),
            ("cci_reader", "cci", "reader"),
            ("banker", "bank", "contributor"),
        ],
        password=PASSWORD,
        extra=_banker_token,
    )


def _actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_organisations_are_scoped(world: World) -> None:
    with session_scope(world.factory) as s:
        national = adm.list_organisations(s, world.user(s, "national"))
        assert {o.org.slug for o in national} == {"business-france", "cci-nord", "banque"}
        cci = next(o for o in national if o.org.slug == "cci-nord")
        assert (cci.users, cci.active_users, cci.admins) == (2, 2, 1)
        local = adm.list_organisations(s, world.user(s, "cci_admin"))
        assert [o.org.slug for o in local] == ["cci-nord"]
        with pytest.raises(NotFoundError):
            adm.list_users(s, world.user(s, "cci_admin"), world.ids["bank"])
        with pytest.raises(NotFoundError):
            adm.list_tokens(s, world.user(s, "cci_admin"), world.ids["bank"])
        assert [t.owner.email for t in adm.list_tokens(s, world.user(s, "national"), world.ids["bank"])] == [
            "banker@banque.fr"
        ]
        with pytest.raises(PermissionDeniedError):
            adm.list_organisations(s, world.user(s, "cci_reader"))


def test_local_admin_cannot_touch_another_organisation(world: World) -> None:
    with session_scope(world.factory) as s:
        admin = world.user(s, "cci_admin")
        with pytest.raises(NotFoundError):
            adm.change_role(s, admin, world.ids["banker"], "reader")
        with pytest.raises(NotFoundError):
            adm.set_active(s, admin, world.ids["banker"], False)
        with pytest.raises(NotFoundError):
            adm.revoke_token(s, admin, world.ids["banker_token"])
        with pytest.raises(NotFoundError):
            adm.invite_user(s, admin, org_id=world.ids["bank"], email="x@banque.fr", role="reader")
        assert _actions(s) == []


def test_invite_change_role_and_audit(world: World) -> None:
    with session_scope(world.factory) as s:
        admin = world.user(s, "cci_admin")
        invitation = adm.invite_user(
            s, admin, org_id=world.ids["cci"], email="Nouveau@CCI-Nord.fr", role="contributor", name="Nouveau"
        )
        new_id = invitation.user.id
        adm.change_role(s, admin, new_id, "curator")
        with pytest.raises(ValidationError):
            adm.change_role(s, admin, new_id, "superuser")
    with session_scope(world.factory) as s:
        user = identity.authenticate_password(s, "nouveau@cci-nord.fr", invitation.password)
        assert (user.role, user.org_id) == ("curator", world.ids["cci"])
        assert _actions(s) == ["user.create", "user.role"]
        event = s.scalars(select(AuditEvent).order_by(AuditEvent.id)).first()
        assert event is not None and event.actor_user_id == world.ids["cci_admin"]
        assert event.detail["email"] == "nouveau@cci-nord.fr" and event.detail["channel"] == "web"
        assert invitation.password not in str(event.detail)
        assert audit.verify_chain(s) is None


def test_deactivated_user_cannot_sign_in_or_use_tokens(world: World) -> None:
    with session_scope(world.factory) as s:
        _, raw = identity.create_token(s, world.user(s, "banker"), name="second")
        adm.set_active(s, world.user(s, "national"), world.ids["banker"], False)
    with session_scope(world.factory) as s:
        with pytest.raises(AuthenticationError):
            identity.authenticate_password(s, "banker@banque.fr", PASSWORD)
        with pytest.raises(AuthenticationError):
            identity.authenticate_token(s, raw)
        adm.set_active(s, world.user(s, "national"), world.ids["banker"], True)
    with session_scope(world.factory) as s:
        assert identity.authenticate_token(s, raw).id == world.ids["banker"]
        assert _actions(s) == ["user.deactivate", "user.reactivate"]


def test_revoked_token_stops_working(world: World) -> None:
    with session_scope(world.factory) as s:
        token, raw = identity.create_token(s, world.user(s, "cci_reader"), name="script")
        adm.revoke_token(s, world.user(s, "cci_admin"), token.id)
        adm.revoke_token(s, world.user(s, "cci_admin"), token.id)  # idempotent: one event
    with session_scope(world.factory) as s:
        with pytest.raises(AuthenticationError):
            identity.authenticate_token(s, raw)
        views = adm.list_tokens(s, world.user(s, "cci_admin"), world.ids["cci"])
        assert [(v.token.prefix, v.status) for v in views] == [(token.prefix, "revoked")]
        assert _actions(s) == ["token.revoke"]


def test_last_admin_cannot_demote_or_deactivate_themselves(world: World) -> None:
    with session_scope(world.factory) as s:
        admin = world.user(s, "cci_admin")
        with pytest.raises(adm.LastAdminError):
            adm.change_role(s, admin, admin.id, "reader")
        with pytest.raises(adm.LastAdminError):
            adm.set_active(s, admin, admin.id, False)
        adm.change_role(s, admin, world.ids["cci_reader"], "admin")  # a second admin...
        adm.change_role(s, admin, admin.id, "curator")  # ...lets the first step down
        assert admin.role == "curator"
        with pytest.raises(PermissionDeniedError):  # and they administer nothing any more
            adm.list_organisations(s, admin)
