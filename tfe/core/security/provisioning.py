"""Who a verified OIDC sign-in is: match an account, provision one just in time, or ask an admin.

In order (``resolve``):

1. the identity (provider, ``sub``) is known (``UserIdentity``): its user;
2. an account has the same e-mail address: linked to the identity when the provider says the address is
   verified (``email_verified`` true, or ``trust_email`` set for the provider), refused otherwise (a
   provider account must not take over a local account on an address nobody checked);
3. an organisation mapping knows the sign-in: SIRET first, then the e-mail's domain (``OrgMapping``): a
   user is created there with role reader and ``auth_source = "oidc:<provider>"``;
4. otherwise a pending ``SignupRequest``: no account exists until an administrator approves it (into the
   organisation and with the role they choose, reader by default) or rejects it.

A deactivated account or a rejected request is refused. Every step is audited: ``auth.oidc_linked``,
``auth.oidc_provisioned``, ``auth.signup_requested``, ``auth.signup_approved``, ``auth.signup_rejected``,
``org_mapping.add``, ``org_mapping.remove``. Mappings and requests are managed by administrators: an
organisation's admins see and edit their own organisation's mappings; sign-up requests (whose
organisation is by definition unknown) are decided by the national agency's administrators. ``admin=None``
is the operator at the command line, who may do everything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from tfe.core.db import utcnow
from tfe.core.errors import ConflictError, NotFoundError, ValidationError
from tfe.core.models import ROLES, Organisation, User
from tfe.core.security import administration as adm
from tfe.core.security import audit, identity
from tfe.core.security.audit import Actor
from tfe.core.security.models import OrgMapping, SignupRequest, UserIdentity
from tfe.core.security.oidc_config import ProviderConfig

__all__ = [
    "MAPPING_KINDS",
    "OidcIdentity",
    "Outcome",
    "add_mapping",
    "approve_request",
    "identity_from_claims",
    "list_mappings",
    "list_requests",
    "reject_request",
    "remove_mapping",
    "resolve",
]

MAPPING_KINDS = ("siret", "domain")
_SIRET = re.compile(r"^\d{14}$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class OidcIdentity:
    """What we take from a verified sign-in, through the provider's claim mapping."""

    provider: str
    subject: str
    email: str
    email_verified: bool
    given_name: str
    family_name: str
    siret: str | None
    organisation: str | None

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.given_name, self.family_name) if p) or self.email.split("@")[0]

    @property
    def domain(self) -> str:
        return self.email.rpartition("@")[2]


@dataclass(frozen=True)
class Outcome:
    """``signed_in`` (``user``), ``pending`` (``request``) or ``refused`` (``reason``)."""

    kind: Literal["signed_in", "pending", "refused"]
    user: User | None = None
    request: SignupRequest | None = None
    reason: str = ""
    provisioned: bool = False


def _text(claims: dict[str, Any], key: str | None, limit: int) -> str:
    value = claims.get(key) if key else None
    return str(value).strip()[:limit] if isinstance(value, str | int) and str(value).strip() else ""


def normalise_siret(value: str) -> str:
    """A SIRET without spaces; ``ValidationError`` unless 14 digits."""
    siret = re.sub(r"\s+", "", value)
    if not _SIRET.match(siret):
        raise ValidationError(f"invalid SIRET {value[:40]!r} (14 digits)")
    return siret


def identity_from_claims(config: ProviderConfig, claims: dict[str, Any]) -> OidcIdentity:
    """The sign-in's identity through the provider's claim mapping (``ValidationError`` without e-mail)."""
    email = _text(claims, config.claims.email, 254).lower()
    if not _EMAIL.match(email):
        raise ValidationError("the provider gave no usable e-mail address")
    verified = claims.get(config.claims.email_verified) if config.claims.email_verified else None
    siret = re.sub(r"\s+", "", _text(claims, config.claims.siret, 32)) or None
    return OidcIdentity(
        provider=config.name,
        subject=str(claims["sub"])[:255],
        email=email,
        email_verified=verified is True or config.trust_email,
        given_name=_text(claims, config.claims.given_name, 100),
        family_name=_text(claims, config.claims.family_name, 100),
        siret=siret if siret and _SIRET.match(siret) else None,
        organisation=_text(claims, config.claims.organisation, 255) or None,
    )


def _actor(admin: User | None, channel: str) -> Actor:
    return Actor.of_user(admin, channel) if admin is not None else Actor.system(channel)


def _link(session: Session, user: User, ident: OidcIdentity, action: str, detail: dict[str, Any]) -> None:
    """Link the provider account to ``user`` (signed in now) and audit ``action`` on the user."""
    link = UserIdentity(
        user_id=user.id, provider=ident.provider, subject=ident.subject, last_login_at=utcnow()
    )
    session.add(link)
    session.flush()
    audit.record(
        session,
        action,
        Actor.of_user(user, "web"),
        target_kind="user",
        target_id=str(user.id),
        detail=detail,
    )


def _mapped_org(session: Session, ident: OidcIdentity) -> Organisation | None:
    # the domain only of an address the provider verified (anyone may type any address elsewhere)
    domain = ident.domain if ident.email_verified else None
    for kind, value in (("siret", ident.siret), ("domain", domain)):
        if value:
            mapping = session.scalar(
                select(OrgMapping).where(OrgMapping.kind == kind, OrgMapping.value == value)
            )
            if mapping is not None:
                return session.get(Organisation, mapping.org_id)
    return None


def resolve(session: Session, ident: OidcIdentity) -> Outcome:
    """Match, provision or queue the sign-in (see the module docstring); audited."""
    web = Actor.system("web")
    link = session.scalar(
        select(UserIdentity).where(
            UserIdentity.provider == ident.provider, UserIdentity.subject == ident.subject
        )
    )
    user = session.get(User, link.user_id) if link is not None else None
    if link is not None and user is not None:
        if not user.active:
            return Outcome("refused", user=user, reason="deactivated")
        link.last_login_at = utcnow()
        return Outcome("signed_in", user=user)
    user = session.scalar(select(User).where(User.email == ident.email))
    if user is not None:
        if not user.active:
            return Outcome("refused", user=user, reason="deactivated")
        if not ident.email_verified:
            return Outcome("refused", user=user, reason="email_unverified")
        _link(session, user, ident, "auth.oidc_linked", {"provider": ident.provider})
        return Outcome("signed_in", user=user)
    request = session.scalar(
        select(SignupRequest).where(
            SignupRequest.provider == ident.provider, SignupRequest.subject == ident.subject
        )
    )
    if request is not None and request.status == "rejected":
        return Outcome("refused", request=request, reason="signup_rejected")
    org = _mapped_org(session, ident)
    if org is not None:
        user = identity.create_user(session, email=ident.email, org=org, role="reader", name=ident.name[:200])
        user.auth_source = f"oidc:{ident.provider}"
        detail = {"provider": ident.provider, "org": org.slug, "role": user.role}
        _link(session, user, ident, "auth.oidc_provisioned", detail)
        return Outcome("signed_in", user=user, provisioned=True)
    if request is None:
        request = SignupRequest(
            provider=ident.provider,
            subject=ident.subject,
            email=ident.email,
            name=ident.name[:200],
            siret=ident.siret,
            organisation_hint=ident.organisation,
        )
        session.add(request)
        session.flush()
        audit.record(
            session,
            "auth.signup_requested",
            web,
            target_kind="signup_request",
            target_id=str(request.id),
            detail={"provider": ident.provider, "email": ident.email, "siret": ident.siret},
        )
    return Outcome("pending", request=request)


# --- administration: organisation mappings and sign-up requests ------------------------------------


def _org_in_scope(session: Session, admin: User | None, org_id: int) -> Organisation:
    if admin is None:
        org = session.get(Organisation, org_id)
        if org is None:
            raise NotFoundError(f"unknown organisation {org_id}")
        return org
    return adm.get_organisation(session, admin, org_id)


def _normalise(kind: str, value: str) -> str:
    if kind == "siret":
        return normalise_siret(value)
    if kind == "domain":
        domain = value.strip().lower().lstrip("@")
        if not _DOMAIN.match(domain):
            raise ValidationError(f"invalid e-mail domain {value[:80]!r}")
        return domain
    raise ValidationError(f"unknown mapping kind {kind!r}; expected one of {', '.join(MAPPING_KINDS)}")


def list_mappings(session: Session, admin: User | None) -> list[tuple[OrgMapping, Organisation]]:
    """The mappings ``admin`` manages (all for the national agency and the CLI), by kind and value."""
    query = (
        select(OrgMapping, Organisation)
        .join(Organisation, Organisation.id == OrgMapping.org_id)
        .order_by(OrgMapping.kind, OrgMapping.value)
    )
    if admin is not None and (managed := adm.managed_org_id(session, admin)) is not None:
        query = query.where(OrgMapping.org_id == managed)
    return [(m, o) for m, o in session.execute(query).tuples()]


def add_mapping(
    session: Session, admin: User | None, *, kind: str, value: str, org_id: int, channel: str = "web"
) -> OrgMapping:
    """Map a SIRET or an e-mail domain to a managed organisation (``ConflictError`` if already mapped)."""
    normalised = _normalise(kind, value)
    org = _org_in_scope(session, admin, org_id)
    existing = session.scalar(
        select(OrgMapping).where(OrgMapping.kind == kind, OrgMapping.value == normalised)
    )
    if existing is not None:
        raise ConflictError(f"{kind} {normalised} is already mapped")
    mapping = OrgMapping(kind=kind, value=normalised, org_id=org.id, created_by=admin.id if admin else None)
    session.add(mapping)
    session.flush()
    audit.record(
        session,
        "org_mapping.add",
        _actor(admin, channel),
        target_kind="org_mapping",
        target_id=str(mapping.id),
        detail={"kind": kind, "value": normalised, "org": org.slug},
    )
    return mapping


def remove_mapping(
    session: Session, admin: User | None, mapping_id: int, *, channel: str = "web"
) -> OrgMapping:
    """Remove a mapping of a managed organisation (``NotFoundError`` otherwise)."""
    mapping = session.get(OrgMapping, mapping_id)
    if mapping is None:
        raise NotFoundError(f"unknown mapping {mapping_id}")
    org = _org_in_scope(session, admin, mapping.org_id)
    audit.record(
        session,
        "org_mapping.remove",
        _actor(admin, channel),
        target_kind="org_mapping",
        target_id=str(mapping.id),
        detail={"kind": mapping.kind, "value": mapping.value, "org": org.slug},
    )
    session.delete(mapping)
    session.flush()
    return mapping


def _require_decider(session: Session, admin: User | None) -> None:
    if admin is not None:
        adm.require_national_admin(
            session, admin, "sign-up requests are decided by the national agency's administrators"
        )


def list_requests(session: Session, admin: User | None, status: str = "pending") -> list[SignupRequest]:
    """Sign-up requests in ``status`` (oldest first); an empty list for admins who do not decide them."""
    if admin is not None and adm.managed_org_id(session, admin) is not None:
        return []
    query = select(SignupRequest).order_by(SignupRequest.created_at, SignupRequest.id)
    if status != "all":
        query = query.where(SignupRequest.status == status)
    return list(session.scalars(query))


def _pending(session: Session, admin: User | None, request_id: int) -> SignupRequest:
    """A pending request ``admin`` may decide (the national agency's administrators and the CLI)."""
    _require_decider(session, admin)
    request = session.get(SignupRequest, request_id)
    if request is None:
        raise NotFoundError(f"unknown sign-up request {request_id}")
    if request.status != "pending":
        raise ConflictError(f"sign-up request {request_id} is already {request.status}")
    return request


def _decide(
    session: Session,
    request: SignupRequest,
    admin: User | None,
    status: Literal["approved", "rejected"],
    channel: str,
    detail: dict[str, Any],
) -> None:
    """Record the decision on ``request`` and audit it (``auth.signup_approved`` / ``_rejected``)."""
    request.status = status
    request.decided_by, request.decided_at = (admin.id if admin else None), utcnow()
    session.flush()
    audit.record(
        session,
        f"auth.signup_{status}",
        _actor(admin, channel),
        target_kind="signup_request",
        target_id=str(request.id),
        detail=detail,
    )


def approve_request(
    session: Session,
    admin: User | None,
    request_id: int,
    *,
    org_id: int,
    role: str = "reader",
    channel: str = "web",
) -> User:
    """Create the requester's account in ``org_id`` with ``role`` and link their identity."""
    request = _pending(session, admin, request_id)
    if role not in ROLES:
        raise ValidationError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    org = _org_in_scope(session, admin, org_id)
    user = identity.create_user(session, email=request.email, org=org, role=role, name=request.name)
    user.auth_source = f"oidc:{request.provider}"
    session.add(UserIdentity(user_id=user.id, provider=request.provider, subject=request.subject))
    request.org_id, request.user_id = org.id, user.id
    detail = {"email": request.email, "org": org.slug, "role": role, "user_id": user.id}
    _decide(session, request, admin, "approved", channel, detail)
    return user


def reject_request(
    session: Session, admin: User | None, request_id: int, *, channel: str = "web"
) -> SignupRequest:
    """Refuse a pending request: the same provider account is refused at its next sign-in."""
    request = _pending(session, admin, request_id)
    _decide(session, request, admin, "rejected", channel, {"email": request.email})
    return request
