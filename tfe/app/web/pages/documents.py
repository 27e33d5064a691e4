"""``/documents/{id}``: metadata, classifications with scores and evidence, versions, download link."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ged.documents import read_document
from taxonomy.classifications import ClassificationView
from tfe.app.web.deps import PageScopeDep, PageUser, RuntimeDep, SessionDep, TargetId, csrf_token
from tfe.app.web.pages.doc_panels import PanelInput, panel_context
from tfe.app.web.templating import templates
from tfe.core.models import Organisation

router = APIRouter(tags=["pages"], include_in_schema=False)

SCHEMES = (
    ("naf", "Secteurs (NAF)"),
    ("country", "Pays"),
    ("region", "Zones"),
    ("doctype", "Type de document"),
)


def classification_groups(
    classifications: list[ClassificationView],
) -> list[tuple[str, list[ClassificationView]]]:
    """Classifications grouped under French scheme headings (unknown schemes last, under "Autres")."""
    known = {scheme for scheme, _ in SCHEMES}
    groups = [(label, [c for c in classifications if c.scheme == scheme]) for scheme, label in SCHEMES]
    groups.append(("Autres", [c for c in classifications if c.scheme not in known]))
    return [(label, items) for label, items in groups if items]


@router.get("/documents/{doc_id}")
def document_page(
    request: Request,
    session: SessionDep,
    user: PageUser,
    scope: PageScopeDep,
    runtime: RuntimeDep,
    doc_id: TargetId,
) -> Response:
    view = read_document(session, doc_id, scope, channel="web")
    org = session.get(Organisation, view.org_id) if view.org_id is not None else None
    context = {
        "user": user,
        "csrf": csrf_token(request),
        "doc": view,
        "org": org,
        "groups": classification_groups(view.classifications),
        **panel_context(PanelInput(request, session, runtime, user, scope, view)),
    }
    return templates.TemplateResponse(request, "document.html", context)
