"""``ged.field_schema``, ``ged.fields`` and ``ged.proposals``: typed document fields, as data, validated.

Schema loading (the shipped file and broken ones), each field type valid and invalid, concepts checked
against the referential, proposals from classifications and from the text, setting and accepting values
(rights, audit, index), and a type change that keeps same-name values.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from ged.editing import DocumentChanges, edit_document
from ged.field_schema import (
    DEFAULT_PATH,
    FieldsError,
    field_filters,
    load_schemas,
    schema_for,
    schemas,
)
from ged.fields import accept_proposals, read_fields, set_fields
from ged.models import Document, DocumentVersion
from ged.proposals import find_dates
from ingest.reindex import stored_passages
from search.types import SearchQuery
from taxonomy.referential import Referential
from tests.web.conftest import Seed, make_installation
from tfe.app.runtime import Runtime
from tfe.core.errors import ConfigurationError, NotFoundError, PermissionDeniedError, ValidationError
from tfe.core.models import AuditEvent, User
from tfe.core.security import audit, identity

REF = Referential.load()


def errors_of(notation: str, values: dict[str, Any], *, partial: bool = False) -> dict[str, str]:
    with pytest.raises(FieldsError) as caught:
        schema_for(notation).validate(values, REF, partial=partial)
    return {e["field"]: e["message"] for e in caught.value.errors}


# ------------------------------------------------------------------ schema loading
def test_shipped_schemas_cover_the_document_types_of_the_referential() -> None:
    notations = {s.notation for s in schemas()}
    assert {
        "quote_template",
        "client_reference",
        "sector_analysis",
        "country_note",
        "process_description",
    } <= (notations)
    doctypes = {c.notation for c in REF.concepts("doctype")}
    assert notations <= doctypes  # every schema names a type of the referential
    consent = schema_for("doctype:client_reference").field("consent")
    assert consent is not None and consent.required and consent.type == "boolean"
    assert schema_for("news").fields == ()  # a type without fields


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda d: d.update(format=2), "format"),
        (lambda d: d["types"]["quote_template"]["fields"][0].update(type="colour"), "type"),
        (lambda d: d["types"]["quote_template"]["fields"][3].update(choices=[]), "choices"),
        (lambda d: d["types"]["client_reference"]["fields"][0].pop("scheme"), "scheme"),
        (
            lambda d: d["types"]["country_note"]["fields"].append(
                {"name": "country", "label": "X", "type": "text"}
            ),
            "duplicate",
        ),
        (lambda d: d["types"]["quote_template"]["fields"][0].update(name="Service!"), "name"),
        (lambda d: d["types"]["quote_template"]["fields"][2].update(not_below="service"), "not_below"),
    ],
)
def test_a_broken_schema_file_fails_loudly(tmp_path: Path, mutate: Any, needle: str) -> None:
    data = json.loads(DEFAULT_PATH.read_text(encoding="utf-8"))
    mutate(data)
    path = tmp_path / "fields.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ConfigurationError) as caught:
        load_schemas(path)
    assert needle in caught.value.message and str(path) in caught.value.message
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigurationError):
        load_schemas(path)


# ------------------------------------------------------------------ each field type
def test_valid_values_are_normalised() -> None:
    quote = schema_for("quote_template").validate(
        {
            "service": "  Prospection  ",
            "price_min": "1 500,50",
            "price_max": 2000,
            "currency": "EUR",
            "valid_until": "31/12/2026",
        },
        REF,
    )
    assert quote == {
        "service": "Prospection",
        "price_min": "1500.50",
        "price_max": "2000",
        "currency": "EUR",
        "valid_until": "2026-12-31",
    }
    ref = schema_for("client_reference").validate(
        {"client_sector": "11", "country": "Allemagne", "year": "2024", "consent": "oui", "amount_band": ""},
        REF,
    )
    assert ref == {"client_sector": "naf:11", "country": "country:DE", "year": 2024, "consent": True}
    analysis = schema_for("sector_analysis").validate({"countries": ["DE", "Italie", "country:DE"]}, REF)
    assert analysis == {"countries": ["country:DE", "country:IT"]}
    assert schema_for("process_description").validate({"last_review": "2026-01-05"}, REF) == {
        "last_review": "2026-01-05"
    }


def test_invalid_values_get_french_messages_per_field() -> None:
    errors = errors_of(
        "quote_template",
        {"currency": "XYZ", "price_min": "abc", "valid_until": "31/02/2026", "colour": "rouge"},
    )
    assert errors["service"] == "ce champ est obligatoire"
    assert errors["currency"].startswith("valeur non autorisée : XYZ (autorisées : EUR, USD")
    assert errors["price_min"] == "un nombre est attendu"
    assert errors["valid_until"] == "date impossible : 31/02/2026"
    assert errors["colour"] == "champ inconnu pour ce type de document"
    errors = errors_of("quote_template", {"service": "x", "price_min": 10, "price_max": 5})
    assert errors == {"price_max": "doit être au moins égal à « Prix minimum (HT) »"}
    errors = errors_of("quote_template", {"service": "x" * 201, "price_min": -1})
    assert errors == {"service": "200 caractères au plus", "price_min": "au moins 0"}
    errors = errors_of("client_reference", {"year": 1800, "consent": "peut-être", "country": "Atlantide"})
    assert errors["year"] == "au moins 1950"
    assert errors["consent"] == "oui ou non est attendu"
    assert errors["country"] == "inconnu parmi les pays : Atlantide"
    errors = errors_of(
        "client_reference", {"year": "deux mille", "client_sector": "Allemagne", "consent": True}
    )
    assert errors == {
        "year": "un nombre entier est attendu",
        "client_sector": "inconnu parmi les secteurs (NAF) : Allemagne",
    }
    assert errors_of("sector_analysis", {"countries": "DE"}) == {
        "countries": "une liste de valeurs est attendue"
    }
    assert errors_of("country_note", {"country": "FR", "note_date": "hier"}) == {
        "note_date": "une date est attendue (AAAA-MM-JJ ou JJ/MM/AAAA)"
    }


def test_required_fields_are_checked_only_in_full() -> None:
    assert schema_for("client_reference").validate({"year": 2020}, REF, partial=True) == {"year": 2020}
    assert errors_of("client_reference", {"year": 2020}) == {"consent": "ce champ est obligatoire"}
    assert schema_for("client_reference").missing({"year": 2020}) == ["consent"]


def test_index_values_and_search_filters_speak_the_same_keywords() -> None:
    schema = schema_for("client_reference")
    stored = schema.validate({"country": "DE", "year": 2024, "consent": True, "amount_band": "gt_1m"}, REF)
    indexed = schema.index_values(stored)
    assert indexed == {"country": "country:DE", "year": "2024", "amount_band": "gt_1m", "consent": "true"}
    pairs = [("field.country", "Allemagne"), ("field.consent", "oui"), ("field.year", "2024")]
    filters = dict(field_filters(pairs, REF, ("client_reference",)))
    assert filters == {"country": ("country:DE",), "consent": ("true",), "year": ("2024",)}
    assert all(indexed[name] in words for name, words in filters.items())
    with pytest.raises(ValidationError):
        field_filters([("field.service", "x")], REF, ("quote_template",))  # text: not filterable
    with pytest.raises(ValidationError):
        field_filters([("field.currency", "XYZ")], REF)
    with pytest.raises(ValidationError):
        field_filters([("field.nope", "1")], REF)


def test_french_dates_in_text() -> None:
    found = [
        d
        for _pos, d, _w in find_dates(
            "Édition du 1er mars 2026, revue le 05/01/2025 ; 2024-12-31, juin 2023."
        )
    ]
    assert found == [dt.date(2026, 3, 1), dt.date(2025, 1, 5), dt.date(2024, 12, 31), dt.date(2023, 6, 1)]
    assert find_dates("le 31/02/2026 ou le 45 mars 2026") == []


# ------------------------------------------------------------------ use cases on a real installation
@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Runtime, Seed]]:
    rt, seed = make_installation(Path(tmp_path_factory.mktemp("fields")))
    yield rt, seed
    rt.close()


def _field_change(session: Any, doc_id: str, name: str) -> dict[str, Any]:
    """The detail of the last ``document.field_change`` event of field ``name`` of ``doc_id``."""
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "document.field_change", AuditEvent.target_id == doc_id)
        .order_by(AuditEvent.id.desc())
    )
    return dict(next(e.detail for e in events if e.detail["field"] == name))


def _user(session: Any, seed: Seed, who: str) -> User:
    user = session.get(User, seed.users[who])
    assert user is not None
    return user


def _set_text(rt: Runtime, doc_id: str, text: str) -> None:
    with rt.session() as session:
        version = session.scalars(select(DocumentVersion).where(DocumentVersion.document_id == doc_id)).one()
        version.text = text


def test_proposals_come_from_classifications_and_text_and_wait_for_a_person(
    seeded: tuple[Runtime, Seed],
) -> None:
    rt, seed = seeded
    doc_id = seed.ids["doc-vins-de"]  # sector analysis, naf:11, country:DE, alice's organisation
    _set_text(rt, doc_id, "Panorama des vins en Allemagne. Édition du 12 mars 2026. Données 2024.")
    with rt.session() as session:
        alice = _user(session, seed, "alice")
        view = read_fields(
            session, doc_id, identity.scope_for(alice), rt.referential, user=alice, channel="cli"
        )
        assert view.values == {}  # never applied by themselves
        proposals = {name: (p["value"], p["origin"]) for name, p in view.proposals.items()}
        assert proposals == {
            "sector": ("naf:11", "classification"),
            "countries": (["country:DE"], "classification"),
            "edition_date": ("2026-03-12", "text"),
        }
        assert "12 mars 2026" in view.proposals["edition_date"]["evidence"]
        stored = session.get(Document, doc_id)
        assert stored is not None and stored.proposed_fields["version"] == 1
    with rt.session() as session:
        alice = _user(session, seed, "alice")
        view = accept_proposals(
            session,
            alice,
            doc_id,
            ["edition_date"],
            backend=rt.backend,
            referential=rt.referential,
            channel="cli",
        )
        assert view.values == {"edition_date": "2026-03-12"}
        assert set(view.proposals) == {"sector", "countries"}  # the others still wait
        with pytest.raises(ValidationError):
            accept_proposals(
                session,
                alice,
                doc_id,
                ["edition_date"],
                backend=rt.backend,
                referential=rt.referential,
                channel="cli",
            )
        view = accept_proposals(
            session, alice, doc_id, None, backend=rt.backend, referential=rt.referential, channel="cli"
        )
        assert view.values == {"edition_date": "2026-03-12", "sector": "naf:11", "countries": ["country:DE"]}
        assert view.proposals == {}
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "document.fields").order_by(AuditEvent.id.desc())
        ).first()
        assert event is not None and event.detail["accepted"] == ["sector", "countries"]
        assert _field_change(session, doc_id, "sector") == {
            "field": "sector",
            "old": None,
            "new": audit.fingerprint(session, "naf:11"),
            "channel": "cli",
        }


def test_set_fields_rights_validation_audit_and_index(seeded: tuple[Runtime, Seed]) -> None:
    rt, seed = seeded
    doc_id = seed.ids["doc-beta-secret"]  # country note of beta, private to bob
    values = {"country": "Japon", "note_date": "15/01/2025"}
    with rt.session() as session:
        with pytest.raises(NotFoundError):  # not visible to alice: not disclosed
            set_fields(
                session,
                _user(session, seed, "alice"),
                doc_id,
                values,
                backend=rt.backend,
                referential=rt.referential,
                channel="cli",
            )
        with pytest.raises(NotFoundError):
            read_fields(
                session,
                doc_id,
                identity.scope_for(_user(session, seed, "alice")),
                rt.referential,
                channel="cli",
            )
    with rt.session() as session:
        bob = _user(session, seed, "bob")
        with pytest.raises(FieldsError) as caught:
            set_fields(
                session,
                bob,
                doc_id,
                {"note_date": "2025-01-15"},
                backend=rt.backend,
                referential=rt.referential,
                channel="cli",
            )
        assert caught.value.errors == [{"field": "country", "message": "ce champ est obligatoire"}]
        view = set_fields(
            session, bob, doc_id, values, backend=rt.backend, referential=rt.referential, channel="api"
        )
        assert view.values == {"country": "country:JP", "note_date": "2025-01-15"}
        rows = {r["name"]: r["display"] for r in view.rows()}
        assert rows == {"country": "Japon", "note_date": "15/01/2025"}
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "document.fields", AuditEvent.target_id == doc_id)
        ).one()
        assert event.detail["fields"] == ["country", "note_date"]
        assert _field_change(session, doc_id, "country")["new"] == audit.fingerprint(session, "country:JP")
        assert "country:JP" not in str(_field_change(session, doc_id, "country"))
    metas = [p.meta for p in stored_passages(rt.backend, doc_id)]
    assert metas and all(m["fields"] == {"country": "country:JP"} for m in metas)  # the date: not a filter
    with rt.session() as session:
        bob_scope = identity.scope_for(_user(session, seed, "bob"))
    query = SearchQuery(
        text="", scope=bob_scope, filters={"field.country": ["country:JP"]}, limit=20, mode="bm25"
    )
    assert {h.parent_id for h in rt.backend.search(query).hits} == {doc_id}
    with rt.session() as session:
        reader = _user(session, seed, "reader")
        with pytest.raises(PermissionDeniedError):  # a reader of alpha sees alpha's docs, edits none
            set_fields(
                session,
                reader,
                seed.ids["doc-vins-it"],
                {},
                backend=rt.backend,
                referential=rt.referential,
                channel="cli",
            )


def test_a_type_change_keeps_same_name_fields_and_drops_the_others(seeded: tuple[Runtime, Seed]) -> None:
    rt, seed = seeded
    doc_id = seed.ids["doc-machines-de"]  # market study of alpha
    with rt.session() as session:
        alice = _user(session, seed, "alice")
        edit_document(
            session,
            rt.backend,
            rt.referential,
            alice,
            doc_id,
            DocumentChanges(doc_type="country_note"),
            channel="cli",
        )
        set_fields(
            session,
            alice,
            doc_id,
            {"country": "DE", "note_date": "2025-02-01"},
            backend=rt.backend,
            referential=rt.referential,
            channel="cli",
        )
    with rt.session() as session:
        alice = _user(session, seed, "alice")
        result = edit_document(
            session,
            rt.backend,
            rt.referential,
            alice,
            doc_id,
            DocumentChanges(doc_type="client_reference"),
            channel="cli",
        )
        assert result.changed["fields_dropped"] == ["note_date"]
        document = session.get(Document, doc_id)
        assert document is not None and document.fields == {"country": "country:DE"}
        view = read_fields(
            session, doc_id, identity.scope_for(alice), rt.referential, user=alice, channel="cli"
        )
        assert view.dropped_rows() == [
            {"name": "note_date", "label": "Date de la note", "value": "2025-02-01", "display": "01/02/2025"}
        ]
        set_fields(
            session,
            alice,
            doc_id,
            {"country": "DE", "consent": False},
            backend=rt.backend,
            referential=rt.referential,
            channel="cli",
        )
        assert "dropped" not in (document.proposed_fields or {})
    metas = [p.meta for p in stored_passages(rt.backend, doc_id)]
    assert metas and all(m["fields"] == {"country": "country:DE", "consent": "false"} for m in metas)
