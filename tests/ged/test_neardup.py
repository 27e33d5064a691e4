"""``ged.neardup``: an edited copy is reported with its score, an unrelated text is not, and the scan
never reaches a document the uploader may not see (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import ged.models
import ingest.models
import taxonomy.models
import tfe.core.models
from ged import neardup
from ged.models import Document, DocumentSimilarity, DocumentVersion
from tests.conftest import tables
from tfe.core.models import Organisation, User
from tfe.core.security.scope import AccessScope
from tfe.core.settings import Settings

_TABLES = (tfe.core.models, taxonomy.models, ingest.models, ged.models)

NOTE = (
    "Le marché allemand des vins français reste le premier débouché export en volume. Les importateurs "
    "de Hambourg et de Munich travaillent surtout avec les cavistes indépendants, tandis que la grande "
    "distribution impose des prix bas et des volumes réguliers. Le salon ProWein à Düsseldorf réunit "
    "chaque année en mars les acheteurs de toute l'Europe du Nord ; une présence sur le pavillon "
    "régional coûte environ quatre mille euros, transport des échantillons compris. Les vins bio "
    "progressent de huit pour cent par an et les consommateurs de moins de trente-cinq ans préfèrent "
    "les vins légers, peu boisés, vendus en ligne. La réglementation impose un étiquetage en allemand, "
    "la mention des allergènes et le respect du système de consigne pour certaines bouteilles. Nos "
    "conseillers accompagnent les domaines dans la sélection des importateurs, la préparation des "
    "rendez-vous d'affaires et le suivi des contacts après le salon, avec un point mensuel."
)
EDITED = (
    NOTE.replace("quatre mille euros", "quatre mille cinq cents euros")
    .replace("huit pour cent", "neuf pour cent")
    .replace("un point mensuel", "un point trimestriel")
)
UNRELATED = (
    "Les cosmétiques français au Japon profitent d'une image de qualité. La distribution passe par les "
    "grands magasins de Tokyo et d'Osaka, les pharmacies et le commerce en ligne, qui progresse vite. "
    "L'enregistrement des produits auprès du ministère de la santé japonais demande un dossier complet "
    "en japonais, la liste des ingrédients et des tests de stabilité ; comptez six mois. Les salons "
    "Cosme Tokyo et Beauty World Japan sont les rendez-vous de la profession chaque printemps."
)


@pytest.fixture
def factory(db_settings: Settings) -> Iterator[sessionmaker[Session]]:
    with tables(db_settings) as made:
        with made.begin() as session:
            session.add_all([Organisation(id=1, slug="a", name="A"), Organisation(id=2, slug="b", name="B")])
            session.flush()
            session.add_all(
                [
                    User(id=1, email="ada@a.fr", name="Ada", org_id=1, role="contributor"),
                    User(id=2, email="bea@b.fr", name="Bea", org_id=2, role="contributor"),
                ]
            )
        yield made


def _store(session: Session, text: str, *, org: int, owner: int, visibility: str, title: str) -> str:
    doc_id = uuid.uuid4().hex
    session.add(Document(id=doc_id, title=title, org_id=org, owner_user_id=owner, visibility=visibility))
    session.flush()
    session.add(
        DocumentVersion(
            document_id=doc_id,
            number=1,
            content_hash=uuid.uuid4().hex,
            filename=f"{title}.txt",
            mime="text/plain",
            size=len(text),
            blob_key="0" * 64,
            text=text,
        )
    )
    session.flush()
    return doc_id


def test_signature_is_stable_folded_and_estimates_jaccard() -> None:
    a, b = neardup.signature(NOTE), neardup.signature(NOTE.upper().replace("é", "e"))
    assert a is not None and a == b  # case and accents are folded before shingling
    edited, other = neardup.signature(EDITED), neardup.signature(UNRELATED)
    assert edited is not None and other is not None
    grams_a, grams_e = neardup.shingles(NOTE), neardup.shingles(EDITED)
    exact = len(grams_a & grams_e) / len(grams_a | grams_e)
    assert abs(neardup.estimate(a, edited) - exact) < 0.12  # 128 permutations: about 0.035 std error
    assert neardup.estimate(a, other) < 0.1
    assert neardup.signature("Trop court pour comparer.") is None


def test_edited_copy_is_reported_unrelated_is_not(factory: sessionmaker[Session]) -> None:
    with factory.begin() as session:
        original = _store(session, NOTE, org=1, owner=1, visibility="organisation", title="Vins Allemagne")
        _store(session, UNRELATED, org=1, owner=1, visibility="organisation", title="Cosmétiques Japon")
        copy = _store(session, EDITED, org=1, owner=1, visibility="organisation", title="Vins (v2)")
        found = neardup.record_similar(session, copy, 1, AccessScope.member(1, 1))
    assert [s.id for s in found] == [original]
    assert found[0].title == "Vins Allemagne"
    assert 0.8 <= found[0].score < 1.0
    with factory() as session:
        rows = session.scalars(select(DocumentSimilarity)).all()
        assert [(r.document_id, r.similar_id) for r in rows] == [(copy, original)]
        stored = session.scalar(select(DocumentVersion.minhash).where(DocumentVersion.document_id == copy))
        assert stored is not None and len(stored) == 1 + 4 * neardup.NUM_PERM
        resembles, resembled = neardup.similar_to(session, copy, AccessScope.member(1, 1))
        assert [s.id for s in resembles] == [original] and resembled == []
        resembles, resembled = neardup.similar_to(session, original, AccessScope.member(1, 1))
        assert resembles == [] and [s.id for s in resembled] == [copy]
        total, pairs = neardup.similar_list(session, AccessScope.member(1, 1))
        assert total == 1 and pairs[0].document.id == copy and pairs[0].similar.id == original
    # a stricter threshold reports nothing, and replaces the earlier finding
    with factory.begin() as session:
        assert neardup.record_similar(session, copy, 1, AccessScope.member(1, 1), threshold=0.999) == []
        assert session.scalars(select(DocumentSimilarity)).all() == []


def test_another_organisations_documents_are_never_reported(factory: sessionmaker[Session]) -> None:
    with factory.begin() as session:
        private_b = _store(session, NOTE, org=2, owner=2, visibility="private", title="Secret B")
        org_b = _store(session, NOTE + " Fin.", org=2, owner=2, visibility="organisation", title="Interne B")
        mine = _store(session, EDITED, org=1, owner=1, visibility="organisation", title="Note A")
        assert neardup.record_similar(session, mine, 1, AccessScope.member(1, 1)) == []
        # shared with the network but still a draft of B: not A's to see
        shared = session.get(Document, org_b)
        assert shared is not None
        shared.visibility = "network"
        session.flush()
        assert neardup.record_similar(session, mine, 1, AccessScope.member(1, 1)) == []
        # validated, A's next check sees it; once in B's trash, no longer
        shared.status = "validated"
        session.flush()
        found = neardup.record_similar(session, mine, 1, AccessScope.member(1, 1))
        assert [s.id for s in found] == [org_b]
        assert [s.id for s in neardup.similar_to(session, mine, AccessScope.member(1, 1))[0]] == [org_b]
        shared.deleted_at = dt.datetime(2026, 12, 1)
        session.flush()
        assert neardup.similar_to(session, mine, AccessScope.member(1, 1))[0] == []
        assert neardup.record_similar(session, mine, 1, AccessScope.member(1, 1)) == []
    with factory() as session:
        # B sees the pair only where it may see both documents; A's organisation-only note is hidden
        assert neardup.similar_list(session, AccessScope.member(2, 2)) == (0, [])
        assert neardup.similar_to(session, org_b, AccessScope.member(2, 2)) == ([], [])
        assert private_b not in {s.id for s in neardup.similar_to(session, mine, AccessScope.member(1, 1))[0]}
