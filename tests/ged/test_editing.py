"""``ged.editing``: who may edit, curator corrections that reclassification keeps, the index that follows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ged.editing import DocumentChanges, edit_document
from ged.models import Document
from search.types import SearchQuery
from taxonomy.classifications import classifications_of, save_classifications
from taxonomy.classifier import Scored
from tests.web.conftest import Seed, make_installation
from tfe.app.runtime import Runtime
from tfe.core.errors import NotFoundError, PermissionDeniedError, ValidationError
from tfe.core.models import AuditEvent, User
from tfe.core.security import identity
from tfe.core.security.scope import AccessScope


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Runtime, Seed]]:
    rt, seed = make_installation(Path(tmp_path_factory.mktemp("editing")))
    with rt.session() as session:
        alpha = identity.find_org(session, "alpha")
        curator = identity.create_user(
            session, email="cora@alpha.fr", org=alpha, role="curator", name="Cora", password="x" * 16
        )
        seed.users["cora"] = curator.id
    yield rt, seed
    rt.close()


def _edit(rt: Runtime, who: int, doc_id: str, changes: DocumentChanges) -> dict[str, object]:
    with rt.session() as session:
        user = session.get(User, who)
        assert user is not None
        result = edit_document(session, rt.backend, rt.referential, user, doc_id, changes, channel="cli")
        return result.changed


def _concepts(rt: Runtime, doc_id: str) -> dict[str, str]:
    with rt.session() as session:
        return {c.concept_id: c.method for c in classifications_of(session, "document", doc_id)}


def _parents(rt: Runtime, scope: AccessScope, **filters: list[str]) -> set[str]:
    query = SearchQuery(text="", scope=scope, filters=dict(filters), limit=50, mode="bm25")
    return {h.parent_id for h in rt.backend.search(query).hits}


def test_who_may_edit(seeded: tuple[Runtime, Seed]) -> None:
    rt, seed = seeded
    network_doc, beta_private = seed.ids["doc-vins-de"], seed.ids["doc-beta-secret"]
    with pytest.raises(NotFoundError):  # not visible: reported like a missing document
        _edit(rt, seed.users["alice"], beta_private, DocumentChanges(title="x"))
    with pytest.raises(NotFoundError):
        _edit(rt, seed.users["alice"], "0" * 32, DocumentChanges(title="x"))
    with pytest.raises(PermissionDeniedError):  # visible (network) but another organisation's
        _edit(rt, seed.users["bob"], network_doc, DocumentChanges(title="x"))
    with pytest.raises(PermissionDeniedError):  # readers never
        _edit(rt, seed.users["reader"], network_doc, DocumentChanges(title="x"))
    with pytest.raises(PermissionDeniedError):  # classifications are the curators'
        _edit(rt, seed.users["alice"], network_doc, DocumentChanges(add_countries=("Italie",)))
    with pytest.raises(ValidationError):
        _edit(rt, seed.users["alice"], network_doc, DocumentChanges())


def test_curator_correction_survives_reclassification_and_reaches_the_index(
    seeded: tuple[Runtime, Seed],
) -> None:
    rt, seed = seeded
    doc_id = seed.ids["doc-machines-de"]  # public, naf:28, country:DE
    assert doc_id in _parents(rt, AccessScope.anonymous(), country=["country:DE"])
    changed = _edit(
        rt,
        seed.users["cora"],
        doc_id,
        DocumentChanges(add_sectors=("11.02",), add_countries=("Autriche",), remove_countries=("DE",)),
    )
    assert changed["sectors_added"] == ["naf:11.02"]
    assert changed["countries_added"] == ["country:AT"] and changed["countries_removed"] == ["country:DE"]
    concepts = _concepts(rt, doc_id)
    assert concepts["naf:11.02"] == "curator" and concepts["country:AT"] == "curator"
    assert "country:DE" not in concepts and concepts["naf:28"] == "rule"

    with rt.session() as session:  # a reclassification proposes Germany again: the curator's word stands
        save_classifications(
            session, "document", doc_id, [Scored("country:DE", 0.9), Scored("naf:28", 0.8)], replace=True
        )
    concepts = _concepts(rt, doc_id)
    assert "country:DE" not in concepts and concepts["naf:28"] == "rule"

    anonymous = AccessScope.anonymous()
    assert doc_id not in _parents(rt, anonymous, country=["country:DE"])
    assert doc_id in _parents(rt, anonymous, country=["country:AT"])
    assert doc_id in _parents(rt, anonymous, sector=["naf:11"])  # the division facet of 11.02


def test_title_type_visibility_are_saved_indexed_and_audited(seeded: tuple[Runtime, Seed]) -> None:
    rt, seed = seeded
    doc_id = seed.ids["doc-vins-it"]  # alpha, organisation
    beta = AccessScope.member(seed.orgs["beta"], seed.users["bob"])
    assert doc_id not in _parents(rt, beta)
    changed = _edit(
        rt,
        seed.users["alice"],
        doc_id,
        DocumentChanges(
            title="  Vins italiens :  la concurrence ", doc_type="quote_template", visibility="network"
        ),
    )
    assert changed == {
        "title": ["Vins et spiritueux : concurrence italienne", "Vins italiens : la concurrence"],
        "doc_type": ["doctype:market_study", "doctype:quote_template"],
        "visibility": ["organisation", "network"],
    }
    with rt.session() as session:
        document = session.get(Document, doc_id)
        assert document is not None and document.visibility == "network"
        event = session.query(AuditEvent).filter_by(action="document.update", target_id=doc_id).one()
        assert event.detail["visibility"] == ["organisation", "network"] and event.detail["channel"] == "cli"
    concepts = _concepts(rt, doc_id)
    assert concepts["doctype:quote_template"] == "curator" and "doctype:market_study" not in concepts
    assert doc_id not in _parents(rt, beta)  # a network draft stays within its organisation
    _edit(rt, seed.users["cora"], doc_id, DocumentChanges(status="validated"))
    assert doc_id in _parents(rt, beta, type=["doctype:quote_template"])
    hits = rt.backend.search(SearchQuery(text="italiens concurrence", scope=beta, mode="bm25")).hits
    assert [h.title for h in hits if h.parent_id == doc_id] == ["Vins italiens : la concurrence"]

    assert _edit(rt, seed.users["alice"], doc_id, DocumentChanges(visibility="network")) == {}
    _edit(rt, seed.users["alice"], doc_id, DocumentChanges(visibility="organisation"))
    assert doc_id not in _parents(rt, beta)
    with pytest.raises(ValidationError):
        _edit(rt, seed.users["alice"], doc_id, DocumentChanges(doc_type="naf:11"))
    with pytest.raises(ValidationError):
        _edit(rt, seed.users["alice"], doc_id, DocumentChanges(title="   "))
