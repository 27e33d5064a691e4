"""Identity: organisations, users and API tokens (creation, lookup, authentication).

API tokens look like ``tfe_<prefix>_<secret>``; only their SHA-256 is stored, the clear value is shown once.
Each token has scopes (``read``, ``write``, ``admin``: see ``tfe.app.web.deps`` for what each lets through)
and an expiry (90 days unless asked otherwise, 1 to 3650 days).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from tfe.core.db import utcnow
from tfe.core.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    SuspendedError,
    ValidationError,
)
from tfe.core.models import ORG_KINDS, ROLES, TOKEN_SCOPES, ApiToken, Organisation, User
from tfe.core.regions import check_country, check_region
from tfe.core.security import sessions
from tfe.core.security.passwords import hash_password, verify_password
from tfe.core.security.scope import AccessScope

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_TOKEN_SHAPE = re.compile(r"^tfe_([0-9a-f]{8})_[A-Za-z0-9_-]{1,100}$")

DEFAULT_SCOPES = ("read", "write")
DEFAULT_TOKEN_DAYS = 90  # a token without an explicit expiry lasts this long
MAX_TOKEN_DAYS = 3650


NATIONAL_AGENCY_SLUG = "business-france"  # its administrators manage every organisation


def is_national_agency(org: Organisation | None) -> bool:
    """Whether ``org`` is the national agency (the one organisation whose administrators manage all)."""
    return org is not None and org.slug == NATIONAL_AGENCY_SLUG


def scope_for(user: User) -> AccessScope:
    """The user's access scope; ``national`` when their organisation is the national agency."""
    session = object_session(user)
    org = session.get(Organisation, user.org_id) if session is not None else None
    national = is_national_agency(org)
    return AccessScope(user_id=user.id, org_id=user.org_id, roles=frozenset({user.role}), national=national)


def get_or_create_org(
    session: Session,
    slug: str,
    name: str | None = None,
    kind: str = "national_agency",
    *,
    region: str | None = None,
    country: str | None = None,
) -> Organisation:
    """The organisation of this slug, created if absent; a ``region`` (INSEE code) or ``country`` (ISO
    code, partners abroad) given is set on it, created or not."""
    if not _SLUG.match(slug):
        raise ValidationError(f"invalid organisation slug {slug!r} (lowercase letters, digits, hyphens)")
    if kind not in ORG_KINDS:
        raise ValidationError(f"unknown organisation kind {kind!r}; expected one of {', '.join(ORG_KINDS)}")
    region = check_region(region) if region else None
    country = check_country(country) if country else None
    org = session.scalar(select(Organisation).where(Organisation.slug == slug))
    if org is None:
        org = Organisation(slug=slug, name=name or slug, kind=kind)
        session.add(org)
    if region:
        org.region = region
    if country:
        org.country = country
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
    """Set a new password hash (no session is touched: see ``change_password``)."""
    if len(password) < 10:
        raise ValidationError("password too short (10 characters at least)")
    if len(password) > 1024:
        raise ValidationError("password too long (1024 characters at most)")
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()


def change_password(session: Session, user: User, password: str, *, keep_session: str | None = None) -> int:
    """Set ``user``'s password and end their sessions (all but ``keep_session``, the row id of the
    browser that changed it); returns how many sessions ended. Tokens stay: they are revoked one by one."""
    set_password(user, password)
    session.flush()
    return sessions.revoke_all(session, user.id, "password changed", except_id=keep_session)


def authenticate_password(session: Session, email: str, password: str) -> User:
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or not user.active or not verify_password(password, user.password_hash):
        raise AuthenticationError("invalid email or password")
    return user


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def parse_scopes(value: str | Iterable[str]) -> tuple[str, ...]:
    """Scopes from ``"read,write"`` or an iterable, in ``TOKEN_SCOPES`` order; unknown or none is invalid."""
    items = value.split(",") if isinstance(value, str) else list(value)
    wanted = {item.strip().lower() for item in items if item.strip()}
    unknown = sorted(wanted - set(TOKEN_SCOPES))
    if unknown:
        raise ValidationError(
            f"unknown token scope {unknown[0]!r}; expected some of {', '.join(TOKEN_SCOPES)}"
        )
    if not wanted:
        raise ValidationError(f"a token needs at least one scope ({', '.join(TOKEN_SCOPES)})")
    return tuple(scope for scope in TOKEN_SCOPES if scope in wanted)


def token_scopes(token: ApiToken) -> tuple[str, ...]:
    """The scopes a stored token grants (an unreadable value grants nothing)."""
    return tuple(s for s in TOKEN_SCOPES if s in {p.strip() for p in (token.scopes or "").split(",")})


def token_state(token: ApiToken, now: dt.datetime | None = None) -> str:
    """``active``, ``revoked``, ``expired`` or ``suspended``."""
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and _aware(token.expires_at) <= (now or utcnow()):
        return "expired"
    if token.suspended_at is not None:
        return "suspended"
    return "active"


def public_prefix(raw: str) -> str | None:
    """The public prefix of a presented token (``tfe_<prefix>_...``), never its secret; None if malformed."""
    match = _TOKEN_SHAPE.match(raw.strip())
    return match.group(1) if match else None


def create_token(
    session: Session,
    user: User,
    name: str = "",
    expires_in_days: int | None = None,
    *,
    scopes: str | Iterable[str] = DEFAULT_SCOPES,
) -> tuple[ApiToken, str]:
    """Create an API token; returns the row and the clear token (shown once, never stored).

    Every token expires: after ``expires_in_days`` (1..3650), ``DEFAULT_TOKEN_DAYS`` (90) when None.
    ``scopes`` is a subset of ``TOKEN_SCOPES`` (default read and write); ``admin`` needs the admin role.
    """
    granted = parse_scopes(scopes)
    days = DEFAULT_TOKEN_DAYS if expires_in_days is None else expires_in_days
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise ValidationError(f"token expiry must be 1 to {MAX_TOKEN_DAYS} days, not {days}")
    if "admin" in granted and user.role != "admin":
        raise ValidationError("the 'admin' scope is for administrators only")
    if len(name) > 100:
        raise ValidationError("token name too long (100 characters at most)")
    prefix = secrets.token_hex(4)
    raw = f"tfe_{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken(
        user_id=user.id,
        name=name.strip(),
        prefix=prefix,
        token_hash=_digest(raw),
        expires_at=utcnow() + dt.timedelta(days=days),
        scopes=",".join(granted),
    )
    session.add(token)
    session.flush()
    return token, raw


def verify_token(session: Session, raw: str) -> tuple[ApiToken, User]:
    """The token and its active user, or AuthenticationError (one message for every failure);
    ``SuspendedError`` when the exfiltration guard suspended it. Records the use at most once a minute."""
    failure = AuthenticationError("invalid or expired API token")
    raw = raw.strip()
    if not raw or len(raw) > 200:
        raise failure
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(raw)))
    if token is None:
        raise failure
    current = token_state(token)
    if current in ("revoked", "expired"):
        raise failure
    user = session.get(User, token.user_id)
    if user is None or not user.active:
        raise failure
    if current == "suspended":
        raise SuspendedError("this API token is suspended pending an administrator's review")
    now = utcnow()
    last = token.last_used_at
    if last is None or (now - _aware(last)).total_seconds() >= sessions.TOUCH_EVERY_S:
        token.last_used_at = now
    return token, user


def authenticate_token(session: Session, raw: str) -> User:
    """The active user a bearer token belongs to, or AuthenticationError (same message for every failure)."""
    return verify_token(session, raw)[1]


def revoke_token(session: Session, prefix: str, reason: str = "revoked") -> ApiToken:
    """Revoke a token by its prefix (revoking twice keeps the first date and reason)."""
    token = session.scalar(select(ApiToken).where(ApiToken.prefix == prefix))
    if token is None:
        raise NotFoundError(f"unknown token {prefix!r}")
    revoke_token_row(token, reason)
    return token


def revoke_token_row(token: ApiToken, reason: str) -> bool:
    """Revoke ``token`` now unless it already is; returns whether it changed."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    token.revoked_reason = reason[:200]
    return True


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
