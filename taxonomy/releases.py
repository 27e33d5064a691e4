"""Named releases of the taxonomy: a snapshot of every scheme and concept row, exported as SKOS later.

``create_release`` stores the rows as they are in the caller's transaction (``tfe init`` makes the first,
``initial``, once the shipped taxonomy is loaded); ``taxonomy.skos.export_turtle(session, path, release)``
writes a release's snapshot without reading the live tables.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from taxonomy.changes import snapshot
from taxonomy.models import Concept, ConceptScheme, TaxonomyRelease
from taxonomy.skos import SCHEME_FIELDS
from taxonomy.version import current_version
from tfe.core.errors import ConflictError, NotFoundError, ValidationError

__all__ = ["INITIAL", "create_release", "ensure_initial_release", "get_release", "list_releases",
           "release_dict"]

INITIAL = "initial"
MAX_NAME = 64


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError("le nom de la version est obligatoire")
    if len(name) > MAX_NAME or any(ch in name for ch in "/\\") or not name.isprintable():
        raise ValidationError(f"nom de version invalide : au plus {MAX_NAME} caractères, sans / ni \\")
    return name


def create_release(
    session: Session, name: str, *, note: str = "", user_id: int | None = None
) -> TaxonomyRelease:
    """Snapshot the taxonomy as release ``name``; ``ConflictError`` when the name is taken."""
    name = _check_name(name)
    if session.scalar(select(TaxonomyRelease.id).where(TaxonomyRelease.name == name)) is not None:
        raise ConflictError(f"la version « {name} » existe déjà")
    schemes = [{k: getattr(s, k) for k in SCHEME_FIELDS}
               for s in session.scalars(select(ConceptScheme).order_by(ConceptScheme.id))]
    concepts = [snapshot(c) for c in session.scalars(select(Concept).order_by(Concept.id))]
    release = TaxonomyRelease(name=name, note=note or "", created_by=user_id,
                              version=current_version(session) or 0,
                              snapshot={"schemes": schemes, "concepts": concepts})
    session.add(release)
    session.flush()
    return release


def list_releases(session: Session) -> list[TaxonomyRelease]:
    """Every release, newest first."""
    return list(session.scalars(select(TaxonomyRelease).order_by(TaxonomyRelease.id.desc())))


def get_release(session: Session, name: str) -> TaxonomyRelease:
    """The release named ``name``; ``NotFoundError`` (French) when there is none."""
    found = session.scalar(select(TaxonomyRelease).where(TaxonomyRelease.name == name))
    if found is None:
        raise NotFoundError(f"version de la taxonomie inconnue : « {name} »")
    return found


def ensure_initial_release(session: Session) -> bool:
    """Create release ``initial`` unless it exists (``tfe init``); ``True`` when created."""
    if session.scalar(select(TaxonomyRelease.id).where(TaxonomyRelease.name == INITIAL)) is not None:
        return False
    create_release(session, INITIAL, note="taxonomie livrée, chargée par tfe init")
    return True


def release_dict(release: TaxonomyRelease) -> dict[str, object]:
    """The JSON the CLI and the API print for a release (without its snapshot)."""
    snap = release.snapshot or {}
    return {"name": release.name, "version": release.version, "note": release.note,
            "created_by": release.created_by, "created_at": release.created_at.isoformat(),
            "schemes": len(snap.get("schemes", [])), "concepts": len(snap.get("concepts", []))}
