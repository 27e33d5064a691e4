"""``/taxonomie/historique``: every change of the taxonomy (who, when, why), one change as a before/after
table, and its revert (curators and administrators, with a reason; refused in French when a later change
of the same concepts stands or when it was already reverted)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from taxonomy.models import TaxonomyChange
from tfe.app.web.api.taxonomy_views import change_detail, change_view
from tfe.app.web.deps import PageUser, SessionDep, csrf_token
from tfe.app.web.pages.forms import pop_flash
from tfe.app.web.pages.taxonomy import may_edit, read_audit
from tfe.app.web.pages.taxonomy_edit import Csrf, Text, apply_change, start_form
from tfe.app.web.templating import templates
from tfe.core.models import User

router = APIRouter(tags=["pages"], include_in_schema=False)

ACTIONS_FR = {
    "add": "Ajout",
    "edit": "Modification",
    "rename": "Renommage",
    "labels": "Libellés",
    "rules": "Mots-clés et règles",
    "move": "Déplacement",
    "merge": "Fusion",
    "split": "Scission",
    "deprecate": "Dépréciation",
    "import": "Import SKOS",
    "revert": "Annulation",
}
FIELDS_FR = {
    "pref_label_fr": "Libellé (fr)",
    "pref_label_en": "Libellé (en)",
    "alt_labels": "Libellés alternatifs",
    "hidden_labels": "Libellés cachés",
    "definition_fr": "Définition (fr)",
    "definition_en": "Définition (en)",
    "scope_note_fr": "Note d'application",
    "broader_id": "Concept parent",
    "related": "Concepts associés",
    "mappings": "Correspondances",
    "rules": "Mots-clés et règles",
    "deprecated": "Obsolète",
    "replaced_by_id": "Remplacé par",
    "level": "Niveau",
    "updated_at": "Mis à jour le",
}


def _names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(select(User.id, User.name, User.email).where(User.id.in_(ids))).all()
    return {i: name or email for i, name, email in rows}


def shown(value: Any) -> str:
    """A diff cell: text as is, anything else as compact JSON (accents kept)."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "oui" if value else "non"
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


@router.get("/taxonomie/historique")
def history_page(
    request: Request,
    session: SessionDep,
    user: PageUser,
    concept: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    from taxonomy.editing import history

    changes = [change_view(c) for c in history(session, concept.strip() or None, limit=200)]
    read_audit(session, user, "taxonomy_change", None, concept=concept.strip() or None)
    context = {
        "user": user,
        "csrf": csrf_token(request),
        "notice": pop_flash(request),
        "changes": changes,
        "concept": concept.strip(),
        "names": _names(session, {c["user_id"] for c in changes if c["user_id"]}),
        "actions": ACTIONS_FR,
    }
    return templates.TemplateResponse(request, "taxonomy_history.html", context)


ChangeId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/taxonomie/historique/{change_id}")
def change_page(request: Request, session: SessionDep, user: PageUser, change_id: ChangeId) -> Response:
    from taxonomy.editing_revert import get_change

    detail = change_detail(get_change(session, change_id))
    read_audit(session, user, "taxonomy_change", str(change_id))
    context = {
        "user": user,
        "csrf": csrf_token(request),
        "notice": pop_flash(request),
        "change": detail,
        "rows": [{**d, "before": shown(d["before"]), "after": shown(d["after"])} for d in detail["diff"]],
        "names": _names(session, {detail["user_id"]} if detail["user_id"] else set()),
        "actions": ACTIONS_FR,
        "fields": FIELDS_FR,
        "may_edit": may_edit(user),
    }
    return templates.TemplateResponse(request, "taxonomy_change.html", context)


@router.post("/taxonomie/historique/{change_id}/annuler")
def revert_page(
    request: Request,
    session: SessionDep,
    user: PageUser,
    change_id: ChangeId,
    reason: Text = "",
    csrf: Csrf = "",
) -> Response:
    start_form(request, user, csrf)

    def act() -> TaxonomyChange:
        from taxonomy import editing

        return editing.revert_change(session, change_id, user_id=user.id, reason=reason.strip())

    change = apply_change(request, session, user, act)
    target = change.id if change is not None else change_id
    return RedirectResponse(f"/taxonomie/historique/{target}", status_code=303)
