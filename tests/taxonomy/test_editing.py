"""Curator edits of the taxonomy (``taxonomy.editing``) on SQLite and PostgreSQL: each operation, each
refusal (nothing written, even when the caller commits after the error), history, diff and revert."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

import search.models
import veille.alerts.models
from taxonomy import editing
from taxonomy.changes import VOLATILE, snapshot
from taxonomy.classifications import CURATOR, REJECTED
from taxonomy.models import Classification, Concept, ConceptScheme, TaxonomyChange
from taxonomy.version import current_version
from tests.taxonomy.conftest import Opener
from tfe.core.db import session_scope
from tfe.core.errors import ConflictError, NotFoundError, TfeError, ValidationError
from tfe.core.models import Organisation, User
from veille.alerts.concept_usage import subscriptions_using

assert search.models and veille.alerts.models  # tables registered before the fixtures create them

CONCEPTS = [  # id, broader, French label
    ("naf:A", None, "Agriculture"),
    ("naf:01", "naf:A", "Cultures"),
    ("naf:01.1", "naf:01", "Céréales"),
    ("naf:01.2", "naf:01", "Vignes"),
    ("naf:01.21", "naf:01.2", "Raisin de cuve"),
    ("naf:B", None, "Industries extractives"),
    ("naf:05", "naf:B", "Houille"),
]


@pytest.fixture
def db(open_db: Opener) -> Iterator[sessionmaker[Session]]:
    factory = open_db()
    with session_scope(factory) as session:
        for scheme in ("naf", "country"):
            session.add(ConceptScheme(id=scheme, uri=f"urn:{scheme}", label_fr=scheme, label_en=scheme))
        session.flush()
        for cid, broader, label in CONCEPTS:
            scheme, notation = cid.split(":")
            session.add(
                Concept(
                    id=cid,
                    scheme_id=scheme,
                    notation=notation,
                    pref_label_fr=label,
                    broader_id=broader,
                    alt_labels={"fr": [f"{label} (autre)"]},
                    hidden_labels={},
                    extra={},
                    related=[],
                    mappings=[],
                    rules=[],
                )
            )
            session.flush()
        session.add(
            Concept(id="country:DE", scheme_id="country", notation="DE", pref_label_fr="Allemagne", extra={})
        )
        rows = [  # target, concept, method, rejected
            ("d1", "naf:01.2", "rule", False),
            ("d2", "naf:01.2", CURATOR, False),  # d2 also holds the target naf:01.1 (rule): curator wins
            ("d2", "naf:01.1", "rule", False),
            ("d3", "naf:01.2", "rule", False),  # d3 holds naf:01.1 as a curator's row: d3's naf:01.2 drops
            ("d3", "naf:01.1", CURATOR, False),
            ("d4", "naf:01.2", CURATOR, True),  # a curator said "not naf:01.2": stays on the source
        ]
        for target, concept, method, rejected in rows:
            session.add(
                Classification(
                    target_kind="document",
                    target_id=target,
                    concept_id=concept,
                    score=0.8,
                    method=method,
                    explanation={REJECTED: True} if rejected else {"evidence": ["vigne"]},
                )
            )
    yield factory


def _state(session: Session) -> dict[str, Any]:
    """Everything an edit could write (``updated_at`` aside)."""
    concepts = {
        c.id: {k: v for k, v in snapshot(c).items() if k not in VOLATILE}
        for c in session.scalars(select(Concept))
    }
    rows = sorted(
        (r.id, r.target_id, r.concept_id, r.method) for r in session.scalars(select(Classification))
    )
    changes = session.scalar(select(func.count()).select_from(TaxonomyChange))
    return {"concepts": concepts, "rows": rows, "changes": changes, "version": current_version(session)}


def _refused(
    db: sessionmaker[Session], error: type[TfeError], words: str, edit: Callable[[Session], object]
) -> None:
    """``edit`` raises ``error`` (French message containing ``words``) and leaves the tables unchanged even
    though the caller commits afterwards."""
    with session_scope(db) as session:
        before = _state(session)
    with session_scope(db) as session:
        with pytest.raises(error) as raised:
            edit(session)
        assert words in raised.value.message, raised.value.message
    with session_scope(db) as session:
        assert _state(session) == before


def _concept(session: Session, concept_id: str) -> Concept:
    row = session.get(Concept, concept_id)
    assert row is not None, concept_id
    return row


def _rows(session: Session, target: str) -> list[tuple[str, str]]:
    return sorted(
        (r.concept_id, r.method)
        for r in session.scalars(select(Classification).where(Classification.target_id == target))
    )


def test_add_edit_and_move_record_one_change_each(db: sessionmaker[Session]) -> None:
    with session_scope(db) as session:
        added = editing.add_concept(
            session,
            scheme_id="naf",
            notation="01.3",
            pref_label_fr="Plantes à fibres",
            broader_id="naf:01",
            user_id=7,
            reason="nouvelle activité",
            alt_labels={"fr": ["Lin", "Lin", " "]},
        )
        assert (added.action, added.before, added.user_id) == ("add", {"naf:01.3": None}, 7)
        row = session.get(Concept, "naf:01.3")
        assert row is not None and row.alt_labels == {"fr": ["Lin"]} and row.updated_at is not None
        first = added.version
        renamed = editing.edit_concept(
            session, "naf:01.3", {"pref_label_fr": "Fibres textiles"}, user_id=7, reason="plus juste"
        )
        assert renamed.action == "rename" and renamed.version == first + 1
        assert renamed.summary == "« Plantes à fibres » renommé en « Fibres textiles »"
        rules = [{"kind": "regex", "pattern": r"\blin\b", "language": "fr"}]
        keyed = editing.edit_concept(session, "naf:01.3", {"rules": rules}, user_id=7)
        assert keyed.action == "rules" and _concept(session, "naf:01.3").rules[0]["pattern"] == r"\blin\b"
        moved = editing.move_concept(session, "naf:01.3", "naf:A", user_id=7, reason="")
        assert moved.action == "move" and _concept(session, "naf:01.3").broader_id == "naf:A"
        assert editing.diff(moved) == [
            {"concept_id": "naf:01.3", "field": "broader_id", "before": "naf:01", "after": "naf:A"}
        ]
        assert current_version(session) == first + 3
        assert [c.id for c in editing.history(session, "naf:01.3")] == [
            moved.id,
            keyed.id,
            renamed.id,
            added.id,
        ]


def test_refused_edits_write_nothing(db: sessionmaker[Session]) -> None:
    _refused(
        db, ValidationError, "boucle", lambda s: editing.move_concept(s, "naf:01", "naf:01.21", user_id=1)
    )
    _refused(db, ValidationError, "boucle", lambda s: editing.move_concept(s, "naf:01", "naf:01", user_id=1))
    _refused(
        db,
        ValidationError,
        "autre schéma",
        lambda s: editing.move_concept(s, "naf:01", "country:DE", user_id=1),
    )
    _refused(db, NotFoundError, "inconnu", lambda s: editing.move_concept(s, "naf:zz", "naf:A", user_id=1))
    bad_rule = {"rules": [{"kind": "phrase", "pattern": "vin"}, {"kind": "regex", "pattern": "vin(s"}]}
    _refused(db, ValidationError, "règle", lambda s: editing.edit_concept(s, "naf:01.2", bad_rule, user_id=1))
    _refused(
        db,
        ValidationError,
        "inconnu",
        lambda s: editing.edit_concept(s, "naf:01.2", {"related": ["naf:nope"]}, user_id=1),
    )
    _refused(
        db,
        ValidationError,
        "relation inconnue",
        lambda s: editing.edit_concept(
            s, "naf:01.2", {"mappings": [{"relation": "x", "target": "naf:B"}]}, user_id=1
        ),
    )
    _refused(
        db,
        ValidationError,
        "non modifiable",
        lambda s: editing.edit_concept(s, "naf:01.2", {"id": "x"}, user_id=1),
    )
    _refused(
        db,
        ValidationError,
        "aucune modification",
        lambda s: editing.edit_concept(s, "naf:01.2", {"pref_label_fr": "Vignes"}, user_id=1),
    )
    _refused(
        db,
        ConflictError,
        "existe déjà",
        lambda s: editing.add_concept(s, scheme_id="naf", notation="01", pref_label_fr="x", user_id=1),
    )
    _refused(
        db,
        ValidationError,
        "notation invalide",
        lambda s: editing.add_concept(s, scheme_id="naf", notation="a b", pref_label_fr="x", user_id=1),
    )


def test_merge_moves_labels_children_and_classifications_and_revert_puts_them_back(
    db: sessionmaker[Session],
) -> None:
    with session_scope(db) as session:
        before = _state(session)
        change = editing.merge_concepts(session, "naf:01.2", "naf:01.1", user_id=3, reason="doublon")
        source, target = session.get(Concept, "naf:01.2"), session.get(Concept, "naf:01.1")
        assert source is not None and target is not None
        assert (source.deprecated, source.replaced_by_id) == (True, "naf:01.1")
        assert target.hidden_labels == {"fr": ["Vignes", "Vignes (autre)"]}
        assert _concept(session, "naf:01.21").broader_id == "naf:01.1"  # the child followed
        assert _rows(session, "d1") == [("naf:01.1", "rule")]
        assert _rows(session, "d2") == [("naf:01.1", CURATOR)]  # the curator's row won, the rule row dropped
        assert _rows(session, "d3") == [("naf:01.1", CURATOR)]
        assert _rows(session, "d4") == [("naf:01.2", CURATOR)]  # the rejection stays on the source
        assert {m["to"] for m in change.moved} == {"naf:01.1", None}
        assert sum(1 for m in change.moved if m["to"] == "naf:01.1") == 2
        assert set(change.before) == {"naf:01.2", "naf:01.1", "naf:01.21"}
        fields = {(d["concept_id"], d["field"]) for d in editing.diff(change)}
        assert {
            ("naf:01.2", "deprecated"),
            ("naf:01.1", "hidden_labels"),
            ("naf:01.21", "broader_id"),
        } <= fields
    with session_scope(db) as session:
        revert = editing.revert_change(session, change.id, user_id=4, reason="erreur")
        assert (revert.action, revert.revert_of) == ("revert", change.id)
        original = session.get(TaxonomyChange, change.id)
        assert original is not None and original.reverted_by == revert.id
        after = _state(session)
        assert after["concepts"] == before["concepts"]  # every column as it was
        assert after["rows"] == before["rows"]  # same rows (same ids) on the same concepts
    _refused(db, ConflictError, "déjà été annulée", lambda s: editing.revert_change(s, change.id, user_id=4))


def test_merge_refusals(db: sessionmaker[Session]) -> None:
    merge = editing.merge_concepts
    _refused(db, ValidationError, "descendant", lambda s: merge(s, "naf:01", "naf:01.21", user_id=1))
    _refused(db, ValidationError, "lui-même", lambda s: merge(s, "naf:01", "naf:01", user_id=1))
    _refused(db, ValidationError, "autre schéma", lambda s: merge(s, "naf:05", "country:DE", user_id=1))
    with session_scope(db) as session:
        editing.deprecate_concept(session, "naf:05", user_id=1)
    _refused(db, ConflictError, "obsolète", lambda s: merge(s, "naf:B", "naf:05", user_id=1))
    _refused(db, ConflictError, "obsolète", lambda s: merge(s, "naf:05", "naf:B", user_id=1))


def _subscribe(session: Session, filters: dict[str, list[str]]) -> None:
    org = Organisation(slug="alpha", name="Alpha", kind="regional_chamber")
    session.add(org)
    session.flush()
    user = User(email="abonne@alpha.fr", org_id=org.id, role="reader", name="Abonné")
    session.add(user)
    session.flush()
    saved = search.models.SavedSearch(user_id=user.id, name="Vignes", query="", filters=filters)
    session.add(saved)
    session.flush()
    session.add(veille.alerts.models.Subscription(user_id=user.id, saved_search_id=saved.id))


def test_deprecate_refuses_a_concept_alerts_use_unless_replaced(db: sessionmaker[Session]) -> None:
    with session_scope(db) as session:
        _subscribe(session, {"sector": ["naf:01.21", "naf:05"], "country": ["country:DE"]})
    with session_scope(db) as session:
        assert len(subscriptions_using(session, "naf:01.21")) == 1
        assert subscriptions_using(session, "naf:01.2") == []  # exact ids only, not a prefix
    refuse = editing.deprecate_concept
    _refused(
        db,
        ConflictError,
        "abonnement",
        lambda s: refuse(s, "naf:01.21", user_id=1, subscriptions_using=subscriptions_using),
    )
    _refused(
        db,
        ValidationError,
        "autre schéma",
        lambda s: refuse(
            s, "naf:05", replaced_by="country:DE", user_id=1, subscriptions_using=subscriptions_using
        ),
    )
    with session_scope(db) as session:
        change = refuse(
            session, "naf:01.21", replaced_by="naf:01.2", user_id=1, subscriptions_using=subscriptions_using
        )
        assert change.action == "deprecate" and "remplacé par « Vignes »" in change.summary
        unused = refuse(session, "naf:01.1", user_id=1, subscriptions_using=subscriptions_using)
        row = session.get(Concept, "naf:01.1")
        assert row is not None and row.deprecated and row.replaced_by_id is None and unused.id > change.id
    _refused(db, ConflictError, "déjà obsolète", lambda s: refuse(s, "naf:01.1", user_id=1))


def test_split_creates_siblings_and_deprecates_the_original(db: sessionmaker[Session]) -> None:
    parts: list[dict[str, Any]] = [
        {"notation": "01.2a", "pref_label_fr": "Vignes de cuve", "alt_labels": {"fr": ["vin"]}},
        {"notation": "01.2b", "pref_label_fr": "Vignes de table"},
    ]
    with session_scope(db) as session:
        change = editing.split_concept(session, "naf:01.2", parts, user_id=2, reason="trop large")
        a, b = session.get(Concept, "naf:01.2a"), session.get(Concept, "naf:01.2b")
        assert a is not None and b is not None and (a.broader_id, b.broader_id) == ("naf:01", "naf:01")
        original = session.get(Concept, "naf:01.2")
        assert original is not None and (original.deprecated, original.replaced_by_id) == (True, "naf:01.2a")
        assert _concept(session, "naf:01.21").broader_id == "naf:01.2a"
        assert change.before["naf:01.2a"] is None and change.action == "split"
    duplicate = [{"notation": "x1", "pref_label_fr": "X"}, {"notation": "x1", "pref_label_fr": "Y"}]
    _refused(
        db, ValidationError, "deux fois", lambda s: editing.split_concept(s, "naf:05", duplicate, user_id=2)
    )
    existing = [{"notation": "x2", "pref_label_fr": "X"}, {"notation": "01", "pref_label_fr": "Y"}]
    _refused(
        db, ConflictError, "partie n° 2", lambda s: editing.split_concept(s, "naf:05", existing, user_id=2)
    )


def test_revert_is_refused_while_a_later_change_stands(db: sessionmaker[Session]) -> None:
    with session_scope(db) as session:
        first = editing.edit_concept(session, "naf:05", {"pref_label_fr": "Charbon"}, user_id=1)
        second = editing.edit_concept(
            session, "naf:05", {"definition_fr": "Extraction du charbon."}, user_id=1
        )
    _refused(db, ConflictError, f"n° {second.id}", lambda s: editing.revert_change(s, first.id, user_id=1))
    with session_scope(db) as session:
        editing.revert_change(session, second.id, user_id=1)  # undo the later one first...
        editing.revert_change(session, first.id, user_id=1)  # ...then the first one may go
        row = session.get(Concept, "naf:05")
        assert row is not None and (row.pref_label_fr, row.definition_fr) == ("Houille", "")
    _refused(db, NotFoundError, "inconnue", lambda s: editing.revert_change(s, 10_000, user_id=1))


def test_revert_of_an_add_removes_the_concept_unless_it_is_used(db: sessionmaker[Session]) -> None:
    with session_scope(db) as session:
        added = editing.add_concept(
            session, scheme_id="naf", notation="09", pref_label_fr="Soutien", user_id=1
        )
        used = editing.add_concept(
            session, scheme_id="naf", notation="08", pref_label_fr="Carrières", user_id=1
        )
        session.add(
            Classification(target_kind="item", target_id="i1", concept_id="naf:08", score=0.5, explanation={})
        )
    with session_scope(db) as session:
        editing.revert_change(session, added.id, user_id=1)
        assert session.get(Concept, "naf:09") is None
    _refused(db, ConflictError, "classés sous naf:08", lambda s: editing.revert_change(s, used.id, user_id=1))
