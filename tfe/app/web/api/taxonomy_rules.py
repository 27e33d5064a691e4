"""``/api/taxonomy`` "try it" (contract C1): ``POST /rules/try`` runs unsaved rules on a text;
``POST /concepts/{id}/try`` runs a concept's own rules and the full classifier (lexical part) on it.

For curators and administrators (403 otherwise). Reads: nothing is written but the audit event. A bad
rule (invalid regex, unknown kind...) is a 400 with the French message of ``taxonomy.rules``.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

from fastapi import APIRouter

from taxonomy.classifier import ClassificationResult, Scored, TaxonomyClassifier
from taxonomy.editing_checks import get_concept
from taxonomy.referential import Referential
from taxonomy.rules import RuleSet, try_rules
from taxonomy.rules_validate import LANGUAGES
from tfe.app.web.api.taxonomy_edit import CURATORS, ConceptId
from tfe.app.web.deps import CurrentUser, RuntimeDep, SessionDep
from tfe.app.web.errors import error_responses
from tfe.app.web.schemas.taxonomy_rules import ConceptTryBody, ConceptTryPublic, RulesTryBody, RulesTryPublic
from tfe.core.errors import PermissionDeniedError, ValidationError
from tfe.core.models import User
from tfe.core.security import audit
from tfe.core.security.audit import Actor

router = APIRouter(prefix="/api/taxonomy", tags=["taxonomy"])

# result lists of the classifier per scheme (a class also assigns its ancestors)
_RESULT_LISTS = {"naf": ("sectors", "divisions"), "country": ("countries",), "region": ("zones",),
                 "doctype": ("doc_type",), "filiere": ("filieres",), "signal": ("signals",)}
_CLASSIFIERS: weakref.WeakKeyDictionary[Referential, TaxonomyClassifier] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def _curator(user: User) -> None:
    if user.role not in CURATORS:
        raise PermissionDeniedError("essayer des règles est réservé aux curateurs et aux administrateurs")


def _language(value: str) -> str:
    lang = value.strip().lower()[:2]
    if lang not in LANGUAGES:
        raise ValidationError(f"langue inconnue {value!r} (attendu : fr, en ou vide)")
    return lang


def _lemmas(text: str) -> list[str]:
    from taxonomy.nlp import analyse, load_nlp

    return analyse(load_nlp(), text).lemmas if text.strip() else []


def _classifier(ref: Referential) -> TaxonomyClassifier:
    with _LOCK:
        found = _CLASSIFIERS.get(ref)
        if found is None:
            found = _CLASSIFIERS[ref] = TaxonomyClassifier(ref)
        return found


def _assigned(ref: Referential, scheme: str, concept_id: str, result: ClassificationResult) -> Scored | None:
    best: Scored | None = None
    for name in _RESULT_LISTS.get(scheme, ()):
        value = getattr(result, name, None)
        for s in value if isinstance(value, list) else [value] if value is not None else []:
            holds = concept_id == s.concept_id or concept_id in ref.ancestors(s.concept_id)
            if holds and (best is None or s.score > best.score):
                best = s
    return best


def _audit(session: Any, user: User, target_kind: str, target_id: str | None, detail: dict[str, Any]) -> None:
    audit.record(session, "taxonomy.try", Actor.of_user(user, "api"), target_kind=target_kind,
                 target_id=target_id, detail=detail)
    session.commit()


@router.post(
    "/rules/try",
    summary="Try unsaved matching rules on a text (curators and admins); a bad rule is a 400",
    responses=error_responses(400, 401, 403),
)
def post_rules_try(body: RulesTryBody, session: SessionDep, user: CurrentUser) -> RulesTryPublic:
    _curator(user)
    language = _language(body.language)
    hits = try_rules(body.rules, body.text, language, _lemmas(body.text))
    detail = {"rules": len(body.rules), "chars": len(body.text), "hits": len(hits)}
    _audit(session, user, "rules", None, detail)
    return RulesTryPublic.model_validate({"hits": [h.to_dict() for h in hits]})


@router.post(
    "/concepts/{concept_id}/try",
    summary="Try a concept's rules and the classifier on a text (curators and admins)",
    responses=error_responses(400, 401, 403, 404),
)
def post_concept_try(
    concept_id: ConceptId, body: ConceptTryBody, session: SessionDep, user: CurrentUser, runtime: RuntimeDep
) -> ConceptTryPublic:
    _curator(user)
    language = _language(body.language)
    row = get_concept(session, concept_id)  # 404 in French when unknown
    lemmas = _lemmas(body.text)
    rules = RuleSet.from_rules({row.id: list(row.rules or [])}, runtime.referential.lemmas.get("keywords"))
    hits = rules.match(body.text, language, lemmas)
    ref = runtime.referential
    assigned: Scored | None = None
    if body.text.strip():
        result = _classifier(ref).classify(body.text, lemmas=lemmas, title="", language=language)
        assigned = _assigned(ref, row.scheme_id, row.id, result)
    _audit(session, user, "concept", row.id, {"chars": len(body.text), "hits": len(hits),
                                              "assigned": assigned is not None})
    return ConceptTryPublic.model_validate({
        "hits": [h.to_dict() for h in hits],
        "assigned": assigned is not None,
        "score": assigned.score if assigned else None,
        "evidence": list(assigned.evidence) if assigned else [],
    })
