"""Administration use cases: organisations, their users and API tokens, managed by administrators.

Who may manage what is decided here, once, for the pages and any later API or CLI caller:

- only users with the ``admin`` role administer anything (``PermissionDeniedError`` otherwise);
- the administrators of the national agency (organisation ``business-france``) manage every organisation;
- any other administrator manages their own organisation only; another organisation, its users and its
  tokens answer ``NotFoundError`` (404), so their existence does not leak;
- an administrator cannot deactivate or demote themselves when that would leave their organisation with
  no active administrator (``LastAdminError``).

Every change is audited through ``audit.record`` with the administrator as actor: ``user.create``,
``user.role``, ``user.deactivate``, ``user.reactivate``, ``token.revoke``, ``session.revoke``.

A role change, a deactivation and an administrator's "close the sessions" end every browser session of the
user at its next request (``sessions.revoke_all``); a deactivated user's tokens stop too (their owner is
inactive), a revoked token for good.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tfe.core.db import utcnow
from tfe.core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from tfe.core.models import ROLES, ApiToken, Organisation, User
from tfe.core.security import audit, credentials, identity, sessions
from tfe.core.security.audit import Actor
from tfe.core.security.models import UserSession

NATIONAL_AGENCY_SLUG = identity.NATIONAL_AGENCY_SLUG  # its administrators manage every organisation
ADMIN_ROLE = "admin"

__all__ = [
    "ADMIN_ROLE",
    "NATIONAL_AGENCY_SLUG",
    "Invitation",
    "LastAdminError",
    "OrgSummary",
    "TokenView",
    "change_role",
    "end_sessions",
    "get_organisation",
    "invite_user",
    "list_organisations",
    "list_tokens",
    "list_users",
    "managed_org_id",
    "manages_every_organisation",
    "open_sessions",
    "require_admin",
    "require_national_admin",
    "revoke_token",
    "set_active",
]


class LastAdminError(ConflictError):
    """The change would leave the administrator's own organisation with no active administrator."""


@dataclass(frozen=True)
class OrgSummary:
    """An organisation as the organisations list shows it."""

    org: Organisation
    users: int
    active_users: int
    admins: int


@dataclass(frozen=True)
class Invitation:
    """A user just created and their one-time password (shown once, never stored in clear)."""

    user: User
    password: str


@dataclass(frozen=True)
class TokenView:
    """An API token with its owner, for the tokens list (never the secret: only its prefix)."""

    token: ApiToken
    owner: User

    @property
    def status(self) -> str:
        """``active``, ``revoked``, ``expired`` or ``suspended``."""
        return identity.token_state(self.token)


def require_admin(user: User) -> None:
    """Refuse (403) anyone who is not an active administrator."""
    if user.role != ADMIN_ROLE or not user.active:
        raise PermissionDeniedError("administrator role required")


def manages_every_organisation(session: Session, admin: User) -> bool:
    """Whether ``admin`` is an administrator of the national agency (who manage every organisation)."""
    return identity.is_national_agency(session.get(Organisation, admin.org_id))


def managed_org_id(session: Session, admin: User) -> int | None:
    """The one organisation ``admin`` manages, ``None`` for all (national agency); refuses non-admins."""
    require_admin(admin)
    return None if manages_every_organisation(session, admin) else admin.org_id


def require_national_admin(session: Session, admin: User, message: str) -> None:
    """Refuse (403, ``message``) anyone but an administrator of the national agency."""
    if managed_org_id(session, admin) is not None:
        raise PermissionDeniedError(message)


def _managed_org_ids(session: Session, admin: User) -> set[int] | None:
    """The organisations ``admin`` manages: ``None`` for all (national agency), else their own."""
    managed = managed_org_id(session, admin)
    return None if managed is None else {managed}


def _in_scope(session: Session, admin: User, org_id: int) -> bool:
    managed = _managed_org_ids(session, admin)
    return managed is None or org_id in managed


def list_organisations(session: Session, admin: User) -> list[OrgSummary]:
    """The organisations ``admin`` manages, by name, with their user counts."""
    managed = _managed_org_ids(session, admin)
    query = select(Organisation).order_by(Organisation.name, Organisation.id)
    if managed is not None:
        query = query.where(Organisation.id.in_(managed))
    orgs = list(session.scalars(query))
    counts: dict[int, tuple[int, int, int]] = {}
    rows = session.execute(
        select(User.org_id, User.role, User.active, func.count())
        .where(User.org_id.in_([o.id for o in orgs]))
        .group_by(User.org_id, User.role, User.active)
    )
    for org_id, role, active, n in rows:
        total, live, admins = counts.get(org_id, (0, 0, 0))
        counts[org_id] = (
            total + n,
            live + (n if active else 0),
            admins + (n if active and role == ADMIN_ROLE else 0),
        )
    return [OrgSummary(o, *counts.get(o.id, (0, 0, 0))) for o in orgs]


def get_organisation(session: Session, admin: User, org_id: int) -> Organisation:
    """An organisation ``admin`` manages, or ``NotFoundError``."""
    org = session.get(Organisation, org_id)
    if org is None or not _in_scope(session, admin, org.id):
        raise NotFoundError(f"unknown organisation {org_id}")
    return org


def list_users(session: Session, admin: User, org_id: int) -> list[User]:
    """The users of a managed organisation, by e-mail address."""
    org = get_organisation(session, admin, org_id)
    return list(session.scalars(select(User).where(User.org_id == org.id).order_by(User.email)))


def _get_user(session: Session, admin: User, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or not _in_scope(session, admin, user.org_id):
        raise NotFoundError(f"unknown user {user_id}")
    return user


def invite_user(
    session: Session,
    admin: User,
    *,
    org_id: int,
    email: str,
    role: str,
    name: str = "",
    channel: str = "web",
) -> Invitation:
    """Create a user in a managed organisation with a generated one-time password (returned once)."""
    org = get_organisation(session, admin, org_id)
    password = secrets.token_urlsafe(12)
    user = identity.create_user(
        session, email=email, org=org, role=role, name=name.strip(), password=password
    )
    audit.record(
        session,
        "user.create",
        Actor.of_user(admin, channel),
        target_kind="user",
        target_id=str(user.id),
        detail={"email": user.email, "role": user.role, "org": org.slug},
    )
    return Invitation(user=user, password=password)


def _active_admins(session: Session, org_id: int) -> int:
    query = (
        select(func.count())
        .select_from(User)
        .where(User.org_id == org_id, User.role == ADMIN_ROLE, User.active.is_(True))
    )
    return int(session.scalar(query) or 0)


def _guard_last_admin(session: Session, admin: User, target: User) -> None:
    """Refuse an administrator removing their own rights when no other active admin would remain."""
    if target.id == admin.id and _active_admins(session, target.org_id) <= 1:
        raise LastAdminError("the organisation would have no active administrator left")


def change_role(session: Session, admin: User, user_id: int, role: str, *, channel: str = "web") -> User:
    """Give a managed user another role (reader, contributor, curator, admin)."""
    if role not in ROLES:
        raise ValidationError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    user = _get_user(session, admin, user_id)
    if user.role == role:
        return user
    if role != ADMIN_ROLE:
        _guard_last_admin(session, admin, user)
    previous, user.role = user.role, role
    session.flush()
    ended = sessions.revoke_all(session, user.id, "role changed")
    audit.record(
        session,
        "user.role",
        Actor.of_user(admin, channel),
        target_kind="user",
        target_id=str(user.id),
        detail={"email": user.email, "from": previous, "to": role, "sessions_ended": ended},
    )
    return user


def set_active(session: Session, admin: User, user_id: int, active: bool, *, channel: str = "web") -> User:
    """Deactivate (no more sign-in, sessions or tokens) or reactivate a managed user."""
    user = _get_user(session, admin, user_id)
    if user.active == active:
        return user
    if not active:
        _guard_last_admin(session, admin, user)
    user.active = active
    session.flush()
    detail: dict[str, object] = {"email": user.email}
    if not active:
        detail["sessions_ended"] = sessions.revoke_all(session, user.id, "deactivated")
    audit.record(
        session,
        "user.reactivate" if active else "user.deactivate",
        Actor.of_user(admin, channel),
        target_kind="user",
        target_id=str(user.id),
        detail=detail,
    )
    return user


def end_sessions(session: Session, admin: User, user_id: int, *, channel: str = "web") -> int:
    """End every open browser session of a managed user now (audited ``session.revoke``); how many."""
    user = _get_user(session, admin, user_id)
    detail = {"email": user.email, "all": True}
    return credentials.end_sessions_audited(
        session, user, "admin", Actor.of_user(admin, channel), except_id=None, detail=detail
    )


def open_sessions(session: Session, admin: User, org_id: int) -> dict[int, int]:
    """How many open (not revoked, not expired) browser sessions each user of a managed organisation has."""
    org = get_organisation(session, admin, org_id)
    rows = session.execute(
        select(UserSession.user_id, func.count())
        .join(User, User.id == UserSession.user_id)
        .where(User.org_id == org.id, UserSession.revoked_at.is_(None), UserSession.expires_at > utcnow())
        .group_by(UserSession.user_id)
    )
    return {int(uid): int(n) for uid, n in rows.tuples()}


def list_tokens(session: Session, admin: User, org_id: int) -> list[TokenView]:
    """The API tokens of a managed organisation's users, newest first."""
    org = get_organisation(session, admin, org_id)
    rows = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(User.org_id == org.id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    )
    return [TokenView(token, owner) for token, owner in rows.tuples()]


def revoke_token(session: Session, admin: User, token_id: int, *, channel: str = "web") -> ApiToken:
    """Revoke a token of a managed organisation's user (revoking twice keeps the first date)."""
    token = session.get(ApiToken, token_id)
    owner = session.get(User, token.user_id) if token is not None else None
    if token is None or owner is None or not _in_scope(session, admin, owner.org_id):
        raise NotFoundError(f"unknown token {token_id}")
    detail = {"owner": owner.email, "name": token.name}
    credentials.revoke_token_audited(session, token, "admin", Actor.of_user(admin, channel), detail)
    return token
