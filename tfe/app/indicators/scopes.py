"""What the indicators cover (``network``, ``region:CODE``, ``org:SLUG``) and who may see it.

- the national agency's administrators see the network, every region and every organisation;
- an organisation's administrator sees their organisation and their region's totals;
- everyone else: 403. A scope that names no known region or organisation: 404; a malformed one: 400.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tfe.core.errors import NotFoundError, PermissionDeniedError, ValidationError
from tfe.core.models import Organisation, User
from tfe.core.regions import region_name, regions
from tfe.core.security import identity

__all__ = ["Scope", "authorise", "default_scope", "parse_scope", "require_admin_role", "resolve"]


@dataclass(frozen=True)
class Scope:
    """A resolved scope: its kind, code, French label and organisations (``None``: the whole network)."""

    kind: str  # "network" | "region" | "org"
    code: str
    label: str
    org_ids: frozenset[int] | None

    @property
    def text(self) -> str:
        return "network" if self.kind == "network" else f"{self.kind}:{self.code}"


def parse_scope(text: str) -> tuple[str, str]:
    """``(kind, code)`` of ``network``, ``region:CODE`` or ``org:SLUG``; ``ValidationError`` otherwise."""
    clean = (text or "").strip()
    if clean == "network":
        return "network", ""
    kind, _, code = clean.partition(":")
    if kind in ("region", "org") and code and len(code) <= 64:
        return kind, code
    raise ValidationError(f"périmètre invalide {text!r} : attendu network, region:CODE ou org:SLUG")


def resolve(session: Session, text: str) -> Scope:
    """The scope ``text`` names, with its organisations; ``NotFoundError`` for an unknown one."""
    kind, code = parse_scope(text)
    if kind == "network":
        return Scope("network", "", "Réseau", None)
    if kind == "region":
        if code not in regions():
            raise NotFoundError(f"région inconnue : {code}")
        ids = frozenset(session.scalars(select(Organisation.id).where(Organisation.region == code)))
        return Scope("region", code, region_name(code), ids)
    org = session.scalar(select(Organisation).where(Organisation.slug == code))
    if org is None:
        raise NotFoundError(f"organisation inconnue : {code}")
    return Scope("org", org.slug, org.name, frozenset({org.id}))


def default_scope(session: Session, user: User) -> str:
    """What a caller sees without naming a scope: the network for national administrators, else their
    organisation."""
    org = session.get(Organisation, user.org_id)
    if identity.is_national_agency(org):
        return "network"
    return f"org:{org.slug}" if org else "network"


def require_admin_role(user: User) -> None:
    """Refuse (403) anyone but an administrator (checked before a scope is looked up: no 404 for them)."""
    if user.role != "admin":
        raise PermissionDeniedError("les indicateurs sont réservés aux administrateurs")


def authorise(session: Session, user: User, scope: Scope) -> None:
    """Refuse (403) a caller who may not see ``scope``."""
    require_admin_role(user)
    org = session.get(Organisation, user.org_id)
    if identity.is_national_agency(org):
        return
    if org is not None and scope.kind == "org" and scope.code == org.slug:
        return
    if org is not None and scope.kind == "region" and org.region and scope.code == org.region:
        return
    raise PermissionDeniedError("vous ne voyez que les indicateurs de votre organisation et de votre région")
