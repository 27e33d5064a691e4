"""``/taxonomie``: the curators' pages over the taxonomy (« Référentiel »), read side.

``/taxonomie`` lists the schemes with their counts, ``/taxonomie/{scheme}`` shows a scheme as a tree of
``<details>`` (documents and items in the viewer's scope per concept, descendants included) with a label
search, ``/taxonomie/concepts/{id}`` a concept in full (labels, notes, links, mappings, keywords and rules,
example documents, its history) with the editing forms for curators and administrators and the « essayer
sur un texte » box. Everyone signed in may read; the forms (``pages.taxonomy_edit``) are for curators.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from taxonomy.concept_search import find_concepts
from taxonomy.models import Concept, ConceptScheme
from tfe.app.web.api.taxonomy_views import concept_detail
from tfe.app.web.deps import PageScopeDep, PageUser, RuntimeDep, SessionDep, csrf_token
from tfe.app.web.pages.forms import pop_flash, require_csrf
from tfe.app.web.pages.taxonomy_counts import Counts, examples, scheme_totals, tree_counts
from tfe.app.web.templating import templates
from tfe.core.errors import NotFoundError, PermissionDeniedError, TfeError
from tfe.core.models import User
from tfe.core.security import audit
from tfe.core.security.audit import Actor
from tfe.core.security.scope import AccessScope

router = APIRouter(tags=["pages"], include_in_schema=False)

CURATORS = frozenset({"curator", "admin"})
RULE_KINDS_FR = {
    "phrase": "expression exacte",
    "any": "l'un des mots",
    "all": "tous les mots",
    "regex": "expression régulière",
    "fuzzy": "approchant",
}
RELATIONS_FR = {
    "exactMatch": "équivalent exact",
    "closeMatch": "équivalent proche",
    "broadMatch": "plus large",
    "narrowMatch": "plus précis",
    "relatedMatch": "apparenté",
}


def may_edit(user: User) -> bool:
    return user.role in CURATORS


def require_curator(user: User) -> None:
    if not may_edit(user):
        raise PermissionDeniedError(
            "Modifier le référentiel est réservé aux curateurs et aux administrateurs."
        )


def read_audit(session: Session, user: User, kind: str, target: str | None, **detail: Any) -> None:
    audit.record(
        session,
        "taxonomy.read",
        Actor.of_user(user, "web"),
        target_kind=kind,
        target_id=target,
        detail=detail,
    )
    session.commit()


def _scheme(session: Session, scheme_id: str) -> ConceptScheme:
    row = session.get(ConceptScheme, scheme_id) if len(scheme_id) <= 32 else None
    if row is None:
        raise NotFoundError(f"Schéma inconnu : {scheme_id}.")
    return row


@router.get("/taxonomie")
def schemes_page(request: Request, session: SessionDep, user: PageUser, scope: PageScopeDep) -> Response:
    schemes = list(session.scalars(select(ConceptScheme).order_by(ConceptScheme.id)))
    sizes = dict(
        session.execute(
            select(Concept.scheme_id, func.count())
            .where(Concept.deprecated.is_(False))
            .group_by(Concept.scheme_id)
        ).all()
    )
    totals = scheme_totals(session, scope)
    read_audit(session, user, "concept_scheme", None)
    context = {
        "user": user,
        "csrf": csrf_token(request),
        "notice": pop_flash(request),
        "schemes": [(s, int(sizes.get(s.id, 0)), totals.get(s.id, Counts())) for s in schemes],
    }
    return templates.TemplateResponse(request, "taxonomy_index.html", context)


def _tree(rows: list[Concept]) -> tuple[list[Concept], dict[str, list[Concept]]]:
    children: dict[str, list[Concept]] = defaultdict(list)
    ids = {r.id for r in rows}
    roots = []
    for row in sorted(rows, key=lambda r: (r.notation, r.id)):
        if row.broader_id and row.broader_id in ids:
            children[row.broader_id].append(row)
        else:
            roots.append(row)
    return roots, children


@router.get("/taxonomie/{scheme_id}")
def scheme_page(
    request: Request,
    session: SessionDep,
    user: PageUser,
    scope: PageScopeDep,
    scheme_id: str,
    q: Annotated[str, Query(max_length=200)] = "",
    obsoletes: Annotated[bool, Query()] = False,
) -> Response:
    scheme = _scheme(session, scheme_id)
    counts = tree_counts(session, scope, scheme.id)
    query = select(Concept).where(Concept.scheme_id == scheme.id)
    if not obsoletes:
        query = query.where(Concept.deprecated.is_(False))
    rows = list(session.scalars(query))
    roots, children = _tree(rows)
    found = find_concepts(session, q.strip(), scheme.id, limit=50) if q.strip() else None
    read_audit(session, user, "concept_scheme", scheme.id, q=q.strip() or None)
    context = {
        "user": user,
        "csrf": csrf_token(request),
        "notice": pop_flash(request),
        "scheme": scheme,
        "roots": roots,
        "children": children,
        "counts": counts,
        "empty": Counts(),
        "q": q,
        "found": found,
        "obsoletes": obsoletes,
        "total": len(rows),
        "may_edit": may_edit(user),
    }
    return templates.TemplateResponse(request, "taxonomy_scheme.html", context)


def concept_context(
    request: Request, session: Session, user: User, scope: AccessScope, concept_id: str
) -> dict[str, Any]:
    """What ``taxonomy_concept.html`` shows (shared with the « essayer » answer)."""
    row = session.get(Concept, concept_id) if len(concept_id) <= 64 else None
    if row is None:
        raise NotFoundError(f"Concept inconnu : {concept_id}.")
    detail = concept_detail(session, scope, row)
    scheme = session.get(ConceptScheme, row.scheme_id)
    users = {h["user_id"] for h in detail["history"] if h["user_id"]}
    names = dict(session.execute(select(User.id, User.name).where(User.id.in_(users))).all()) if users else {}
    return {
        "user": user,
        "csrf": csrf_token(request),
        "notice": pop_flash(request),
        "c": detail,
        "scheme": scheme,
        "examples": examples(session, scope, row.id),
        "names": names,
        "may_edit": may_edit(user),
        "rule_kinds": RULE_KINDS_FR,
        "relations": RELATIONS_FR,
        "tried": None,
    }


@router.get("/taxonomie/concepts/{concept_id}")
def concept_page(
    request: Request, session: SessionDep, user: PageUser, scope: PageScopeDep, concept_id: str
) -> Response:
    context = concept_context(request, session, user, scope, concept_id)
    read_audit(session, user, "concept", concept_id)
    return templates.TemplateResponse(request, "taxonomy_concept.html", context)


def _lemmas(text: str) -> list[str]:
    from taxonomy.nlp import analyse, load_nlp

    return list(analyse(load_nlp(), text).lemmas) if text.strip() else []


@router.post("/taxonomie/concepts/{concept_id}/essayer")
def try_page(
    request: Request,
    session: SessionDep,
    user: PageUser,
    scope: PageScopeDep,
    runtime: RuntimeDep,
    concept_id: str,
    text: Annotated[str, Form(max_length=20_000)] = "",
    language: Annotated[str, Form(max_length=2)] = "",
    csrf: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """The concept's keywords and rules tried on a text: which match, and on what words."""
    require_csrf(request, csrf)
    require_curator(user)
    from taxonomy.rules import RuleSet

    context = concept_context(request, session, user, scope, concept_id)
    language = language if language in ("fr", "en") else ""
    tried: dict[str, Any] = {"text": text, "language": language, "hits": [], "error": ""}
    if text.strip():
        try:
            rules = RuleSet.from_rules(
                {concept_id: context["c"]["rules"]}, runtime.referential.lemmas.get("keywords")
            )
            tried["hits"] = rules.match(text, language, _lemmas(text))
        except TfeError as exc:
            tried["error"] = exc.message
    else:
        tried["error"] = "Collez un texte à essayer."
    context["tried"] = tried
    audit.record(
        session,
        "taxonomy.try",
        Actor.of_user(user, "web"),
        target_kind="concept",
        target_id=concept_id,
        detail={"chars": len(text), "hits": len(tried["hits"])},
    )
    session.commit()
    return templates.TemplateResponse(
        request, "taxonomy_concept.html", context, status_code=400 if tried["error"] else 200
    )
