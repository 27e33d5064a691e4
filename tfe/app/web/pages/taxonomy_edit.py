"""The curators' editing forms of ``/taxonomie`` over ``taxonomy.editing`` (contract C2).

Each form checks the CSRF token and the role (French 403 page otherwise), makes ONE recorded change in one
transaction (a refused change writes nothing and comes back as a French error notice), audits it, commits,
starts the reclassification of what it can affect (``tfe.app.jobs.reclassify.after_change``) and redirects
(303) to the concept, whose notice tells the change and the reclassification's summary.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from taxonomy import editing
from taxonomy.models import Concept, TaxonomyChange
from tfe.app.web.deps import PageUser, SessionDep
from tfe.app.web.pages.forms import flash, require_csrf
from tfe.app.web.pages.taxonomy import require_curator
from tfe.core.errors import TfeError, ValidationError
from tfe.core.models import User
from tfe.core.security import audit
from tfe.core.security.audit import Actor
from veille.alerts.concept_usage import subscriptions_using

router = APIRouter(tags=["pages"], include_in_schema=False)
log = logging.getLogger(__name__)

Text = Annotated[str, Form(max_length=4000)]
Short = Annotated[str, Form(max_length=400)]
Csrf = Annotated[str, Form(max_length=200)]
_RULE_KINDS = ("phrase", "any", "all", "regex", "fuzzy")


def concept_url(concept_id: str) -> str:
    return "/taxonomie/concepts/" + quote(concept_id, safe=":.-_")


def _reclassify(session: Session, change: TaxonomyChange) -> str:
    """Start the reclassification; its French summary (empty when none is installed)."""
    from tfe.app.jobs.reclassify import after_change  # the job module loads spaCy helpers: on first use
    try:
        result = after_change(session, change)
        session.commit()
    except Exception:  # the change is committed: say the job failed rather than answer 500
        session.rollback()
        log.exception("reclassification after change %s failed", change.id)
        return "La reclassification n'a pas pu démarrer ; relancez-la."
    if not isinstance(result, dict):
        return ""
    summary = str(result.get("summary") or "")
    if result.get("status") in ("queued", "preview", "running") and not summary:
        return "Reclassification lancée en arrière-plan."
    return summary


def apply_change(
    request: Request, session: Session, user: User, act: Callable[[], TaxonomyChange]
) -> TaxonomyChange | None:
    """Run one editing function; notice of the outcome; the committed change or ``None`` when refused."""
    try:
        change = act()
    except TfeError as exc:
        session.rollback()
        flash(request, f"Modification refusée : {exc.message}", "error")
        return None
    audit.record(
        session,
        "taxonomy.change",
        Actor.of_user(user, "web"),
        target_kind="concept",
        target_id=change.concept_id,
        detail={"change": change.id, "action": change.action},
    )
    session.commit()
    summary = _reclassify(session, change)
    text = f"Modification n° {change.id} enregistrée : {change.summary}"
    flash(request, text + (f" — {summary}" if summary else ""))
    return change


def resolve(session: Session, value: str, scheme_id: str) -> str:
    """A concept typed as its id (``naf:11.02``) or its notation in the same scheme (``11.02``)."""
    value = value.strip()
    if not value:
        raise ValidationError("Indiquez un concept (identifiant ou code).")
    if session.get(Concept, value) is None and session.get(Concept, f"{scheme_id}:{value}") is not None:
        return f"{scheme_id}:{value}"
    return value


def _scheme_of(session: Session, concept_id: str) -> str:
    row = session.get(Concept, concept_id) if len(concept_id) <= 64 else None
    return row.scheme_id if row is not None else concept_id.partition(":")[0]


def _lines(text: str) -> list[str]:
    return list(dict.fromkeys(s.strip() for s in text.replace(";", "\n").splitlines() if s.strip()))


def start_form(request: Request, user: User, csrf: str) -> None:
    require_csrf(request, csrf)
    require_curator(user)


def _back(concept_id: str, change: TaxonomyChange | None, to: str | None = None) -> Response:
    return RedirectResponse(concept_url(to if change is not None and to else concept_id), status_code=303)


@router.post("/taxonomie/concepts/{concept_id}/modifier")
def edit_page(
    request: Request,
    session: SessionDep,
    user: PageUser,
    concept_id: str,
    pref_label_fr: Short = "",
    pref_label_en: Short = "",
    definition_fr: Text = "",
    definition_en: Text = "",
    scope_note_fr: Text = "",
    reason: Text = "",
    csrf: Csrf = "",
) -> Response:
    """Rename, or change the definitions and note (only the fields that differ are changed)."""
    start_form(request, user, csrf)
    row = session.get(Concept, concept_id) if len(concept_id) <= 64 else None
    typed = {
        "pref_label_fr": pref_label_fr.strip(),
        "pref_label_en": pref_label_en.strip(),
        "definition_fr": definition_fr.strip(),
        "definition_en": definition_en.strip(),
        "scope_note_fr": scope_note_fr.strip(),
    }
    changes = {k: v for k, v in typed.items() if row is None or (getattr(row, k) or "") != v}

    def act() -> TaxonomyChange:
        if not changes:
            raise ValidationError("Rien n'a changé.")
        return editing.edit_concept(session, concept_id, changes, user_id=user.id, reason=reason.strip())

    return _back(concept_id, apply_change(request, session, user, act))


@router.post("/taxonomie/concepts/{concept_id}/libelles")
def labels_page(
    request: Request,
    session: SessionDep,
    user: PageUser,
    concept_id: str,
    alt_fr: Text = "",
    alt_en: Text = "",
    hidden_fr: Text = "",
    hidden_en: Text = "",
    reason: Text = "",
    csrf: Csrf = "",
) -> Response:
    """The alternative and hidden labels, one per line, in French and English."""
    start_form(request, user, csrf)
    changes = {
        "alt_labels": {k: v for k, v in {"fr": _lines(alt_fr), "en": _lines(alt_en)}.items() if v},
        "hidden_labels": {k: v for k, v in {"fr": _lines(hidden_fr), "en": _lines(hidden_en)}.items() if v},
    }

    def act() -> TaxonomyChange:
        return editing.edit_concept(session, concept_id, changes, user_id=user.id, reason=reason.strip())

    return _back(concept_id, apply_change(request, session, user, act))


def _rules_of(session: Session, concept_id: str) -> list[dict[str, Any]]:
    row = session.get(Concept, concept_id) if len(concept_id) <= 64 else None
    return [dict(r) for r in (row.rules or []) if isinstance(r, dict)] if row is not None else []


@router.post("/taxonomie/concepts/{concept_id}/mots-cles")
def add_rule_page(
    request: Request,
    session: SessionDep,
    user: PageUser,
    concept_id: str,
    pattern: Short = "",
    kind: Annotated[str, Form(max_length=16)] = "phrase",
    language: Annotated[str, Form(max_length=2)] = "",
    negative: Short = "",
    weight: Annotated[str, Form(max_length=12)] = "1",
    reason: Text = "",
    csrf: Csrf = "",
) -> Response:
    """Add a keyword or matching rule (validated by ``taxonomy.rules``: a bad regex is refused)."""
    start_form(request, user, csrf)

    def act() -> TaxonomyChange:
        if not pattern.strip():
            raise ValidationError("Indiquez le mot-clé ou le motif de la règle.")
        if kind not in _RULE_KINDS:
            raise ValidationError(f"Type de règle inconnu : {kind}.")
        try:
            value = float(weight.replace(",", ".") or "1")
        except ValueError:
            raise ValidationError("Le poids doit être un nombre (ex. 1 ou 0,5).") from None
        rule = {
            "kind": kind,
            "pattern": pattern.strip(),
            "language": language if language in ("fr", "en") else "",
            "negative": [w.strip() for w in negative.split(",") if w.strip()],
            "weight": value,
        }
        rules = [*_rules_of(session, concept_id), rule]
        return editing.edit_concept(
            session, concept_id, {"rules": rules}, user_id=user.id, reason=reason.strip()
        )

    return _back(concept_id, apply_change(request, session, user, act))


@router.post("/taxonomie/concepts/{concept_id}/mots-cles/supprimer")
def remove_rule_page(
    request: Request,
    session: SessionDep,
    user: PageUser,
    concept_id: str,
    index: Annotated[int, Form(ge=0, le=10_000)],
    reason: Text = "",
    csrf: Csrf = "",
) -> Response:
    start_form(request, user, csrf)

    def act() -> TaxonomyChange:
        rules = _rules_of(session, concept_id)
        if index >= len(rules):
            raise ValidationError("Cette règle n'existe plus : rechargez la page.")
        kept = rules[:index] + rules[index + 1 :]
        return editing.edit_concept(
            session, concept_id, {"rules": kept}, user_id=user.id, reason=reason.strip()
        )

    return _back(concept_id, apply_change(request, session, user, act))


@router.post("/taxonomie/concepts/{concept_id}/deplacer")
def move_page(
    request: Request,
    session: SessionDep,
    user: PageUser,
    concept_id: str,
    broader: Short = "",
    reason: Text = "",
    csrf: Csrf = "",
) -> Response:
    """Move under another parent of the scheme (empty: to the top of the scheme)."""
    start_form(request, user, csrf)

    def act() -> TaxonomyChange:
        parent = resolve(session, broader, _scheme_of(session, concept_id)) if broader.strip() else None
        return editing.move_concept(session, concept_id, parent, user_id=user.id, reason=reason.strip())

    return _back(concept_id, apply_change(request, session, user, act))


@router.post("/taxonomie/concepts/{concept_id}/fusionner")
def merge_page(
    request: Request,
    session: SessionDep,
    user: PageUser,
    concept_id: str,
    target: Short = "",
    reason: Text = "",
    csrf: Csrf = "",
) -> Response:
    """Merge into another concept: its labels, children and classifications go to the target."""
    start_form(request, user, csrf)
    target_id = ""

    def act() -> TaxonomyChange:
        nonlocal target_id
        target_id = resolve(session, target, _scheme_of(session, concept_id))
        return editing.merge_concepts(session, concept_id, target_id, user_id=user.id, reason=reason.strip())

    return _back(concept_id, apply_change(request, session, user, act), target_id)


@router.post("/taxonomie/concepts/{concept_id}/scinder")
def split_page(
    request: Request,
    session: SessionDep,
    user: PageUser,
    concept_id: str,
    parts: Text = "",
    keep_original: Annotated[bool, Form()] = False,
    reason: Text = "",
    csrf: Csrf = "",
) -> Response:
    """Split into new concepts, one per line « code ; libellé »."""
    start_form(request, user, csrf)
    first = ""

    def act() -> TaxonomyChange:
        nonlocal first
        wanted = []
        for line in (s.strip() for s in parts.splitlines()):
            if not line:
                continue
            notation, sep, label = line.partition(";")
            if not sep or not notation.strip() or not label.strip():
                raise ValidationError(f"Ligne non comprise : « {line} » (attendu : code ; libellé).")
            wanted.append({"notation": notation.strip(), "pref_label_fr": label.strip()})
        if len(wanted) < 2 and not keep_original:
            raise ValidationError("Indiquez au moins deux parties (une par ligne : code ; libellé).")
        if not wanted:
            raise ValidationError("Indiquez au moins une partie (code ; libellé).")
        change = editing.split_concept(
            session, concept_id, wanted, user_id=user.id, reason=reason.strip(), keep_original=keep_original
        )
        first = f"{_scheme_of(session, concept_id)}:{wanted[0]['notation']}"
        return change

    return _back(concept_id, apply_change(request, session, user, act), first)


@router.post("/taxonomie/concepts/{concept_id}/deprecier")
def deprecate_page(
    request: Request,
    session: SessionDep,
    user: PageUser,
    concept_id: str,
    replaced_by: Short = "",
    reason: Text = "",
    csrf: Csrf = "",
) -> Response:
    """Deprecate (without replacement: refused while alerts use the concept)."""
    start_form(request, user, csrf)

    def act() -> TaxonomyChange:
        replacement = (
            resolve(session, replaced_by, _scheme_of(session, concept_id)) if replaced_by.strip() else None
        )
        return editing.deprecate_concept(
            session,
            concept_id,
            replaced_by=replacement,
            user_id=user.id,
            reason=reason.strip(),
            subscriptions_using=subscriptions_using,
        )

    return _back(concept_id, apply_change(request, session, user, act))


@router.post("/taxonomie/{scheme_id}/ajouter")
def add_page(
    request: Request,
    session: SessionDep,
    user: PageUser,
    scheme_id: str,
    notation: Annotated[str, Form(max_length=64)] = "",
    pref_label_fr: Short = "",
    broader: Short = "",
    reason: Text = "",
    csrf: Csrf = "",
) -> Response:
    """Add a concept to the scheme (under ``broader`` when given)."""
    start_form(request, user, csrf)

    def act() -> TaxonomyChange:
        if not pref_label_fr.strip():
            raise ValidationError("Indiquez le libellé français du concept.")
        parent = resolve(session, broader, scheme_id) if broader.strip() else None
        return editing.add_concept(
            session,
            scheme_id=scheme_id,
            notation=notation,
            pref_label_fr=pref_label_fr.strip(),
            broader_id=parent,
            user_id=user.id,
            reason=reason.strip(),
        )

    change = apply_change(request, session, user, act)
    if change is None or not change.concept_id:
        return RedirectResponse("/taxonomie/" + quote(scheme_id, safe=""), status_code=303)
    return RedirectResponse(concept_url(change.concept_id), status_code=303)
