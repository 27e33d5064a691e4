"""Identity: organisations, users and API tokens (creation, lookup, authentication).

API tokens look like ``tfe_<prefix>_<secret>``; only their SHA-256 is stored, the clear value is shown once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from tfe.core.db import utcnow
from tfe.core.errors import AuthenticationError, ConflictError, NotFoundError, ValidationError
from tfe.core.models import ORG_KINDS, ROLES, ApiToken, Organisation, User
from tfe.core.security.passwords import hash_password, verify_password
from tfe.core.security.scope import AccessScope

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


def scope_for(user: User) -> AccessScope:
    return AccessScope(user_id=user.id, org_id=user.org_id, roles=frozenset({user.role}))


def get_or_create_org(
    session: Session, slug: str, name: str | None = None, kind: str = "national_agency"
) -> Organisation:
    if not _SLUG.match(slug):
        raise ValidationError(f"invalid organisation slug {slug!r} (lowercase letters, digits, hyphens)")
    if kind not in ORG_KINDS:
        raise ValidationError(f"unknown organisation kind {kind!r}; expected one of {', '.join(ORG_KINDS)}")
    org = session.scalar(select(Organisation).where(Organisation.slug == slug))
    if org is None:
        org = Organisation(slug=slug, name=name or slug, kind=kind)
        session.add(org)
        session.flush()
    return org


def find_org(session: Session, slug: str) -> Organisation:
    org = session.scalar(select(Organisation).where(Organisation.slug == slug))
    if org is None:
        raise NotFoundError(f"unknown organisation {slug!r}")
    return org


def create_user(
    session: Session,
    *,
    email: str,
    org: Organisation,
    role: str = "reader",
    name: str = "",
    password: str | None = None,
) -> User:
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise ValidationError(f"invalid email address {email!r}")
    if role not in ROLES:
        raise ValidationError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    if session.scalar(select(User).where(User.email == email)) is not None:
        raise ConflictError(f"a user with email {email} already exists")
    if password is not None and len(password) < 10:
        raise ValidationError("password too short (10 characters at least)")
    user = User(
        email=email,
        org_id=org.id,
        role=role,
        name=name or email.split("@")[0],
        password_hash=hash_password(password) if password else None,
    )
    session.add(user)
    session.flush()
    return user


def find_user(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise NotFoundError(f"unknown user {email!r}")
    return user


def set_password(user: User, password: str) -> None:
    if len(password) < 10:
        raise ValidationError("password too short (10 characters at least)")
    user.password_hash = hash_password(password)


def authenticate_password(session: Session, email: str, password: str) -> User:
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or not user.active or not verify_password(password, user.password_hash):
        raise AuthenticationError("invalid email or password")
    return user


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create_token(
    session: Session, user: User, name: str = "", expires_in_days: int | None = None
) -> tuple[ApiToken, str]:
    """Create an API token; returns the row and the clear token (shown once, never stored)."""
    prefix = secrets.token_hex(4)
    raw = f"tfe_{prefix}_{secrets.token_urlsafe(32)}"
    expires = utcnow() + dt.timedelta(days=expires_in_days) if expires_in_days else None
    token = ApiToken(user_id=user.id, name=name, prefix=prefix, token_hash=_digest(raw), expires_at=expires)
    session.add(token)
    session.flush()
    return token, raw


def authenticate_token(session: Session, raw: str) -> User:
    """The active user a bearer token belongs to, or AuthenticationError (same message for every failure)."""
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(raw.strip())))
    failure = AuthenticationError("invalid or expired API token")
    if token is None or token.revoked_at is not None:
        raise failure
    if token.expires_at is not None and _aware(token.expires_at) < utcnow():
        raise failure
    user = session.get(User, token.user_id)
    if user is None or not user.active:
        raise failure
    token.last_used_at = utcnow()
    return user


def revoke_token(session: Session, prefix: str) -> None:
    token = session.scalar(select(ApiToken).where(ApiToken.prefix == prefix))
    if token is None:
        raise NotFoundError(f"unknown token {prefix!r}")
    token.revoked_at = utcnow()


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
