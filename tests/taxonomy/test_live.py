"""The referential built from the database, the version stamp, and a live source that follows edits
made by another process (another engine on the same database), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import create_engine, select
from sqlalchemy.orm import sessionmaker

from taxonomy.classifier import Scored, TaxonomyClassifier
from taxonomy.lemmas import LabelLemmatiser, token_lemmas
from taxonomy.live import DatabaseReferential
from taxonomy.models import Concept as ConceptRow
from taxonomy.models import TaxonomyState
from taxonomy.nlp import analyse
from taxonomy.referential import SCHEMES, Referential
from taxonomy.version import bump_version, current_version
from tests.taxonomy.conftest import Opener
from tfe.core.db import session_scope

if TYPE_CHECKING:
    from spacy.language import Language

# NAF, countries, M49 zones and document types (2016) plus the curated filière and signal schemes
SHIPPED = 2016 + sum(len(Referential.load().concepts(s)) for s in ("filiere", "signal"))
TRUFFLE = "Culture de la truffe"
TRUFFLE_TEXT = "Notre coopérative exporte des truffes noires du Périgord vers le Japon."


def _words(texts: Sequence[str]) -> list[list[str]]:
    return [token_lemmas(t) for t in texts]


def _relabel(open_db: Opener, concept_id: str, label: str) -> int:
    """A curator's edit committed by another process: new label and a version bump, one transaction."""
    with session_scope(open_db()) as session:
        row = session.get(ConceptRow, concept_id)
        assert row is not None
        row.pref_label_fr = label
        return bump_version(session)


def test_from_database_matches_the_files(seeded: Opener) -> None:
    files = Referential.load()
    with seeded()() as session:
        db = Referential.from_database(session)
    assert len(db) == len(files) == SHIPPED
    for scheme in SCHEMES:
        assert [c.id for c in db.concepts(scheme)] == [c.id for c in files.concepts(scheme)]
        assert db.concepts(scheme) == files.concepts(scheme)
    de_db, de_files = db.concept("country:DE"), files.concept("country:DE")
    assert de_db.extra == de_files.extra and de_db.alt_labels_fr == de_files.alt_labels_fr
    assert db.ancestors("naf:11.02B") == files.ancestors("naf:11.02B") == [
        "naf:11.02", "naf:11.0", "naf:11", "naf:C"]
    assert db.narrower("naf:11.02") == files.narrower("naf:11.02")
    assert db.regions_of("country:DE") == files.regions_of("country:DE")
    for value, scheme in (("Allemagne", "country"), ("allemande", "country"), ("11.02b", "naf"),
                          ("Europe", "region"), ("Modèle de devis", "doctype")):
        assert db.resolve(value, scheme) == files.resolve(value, scheme) is not None
    assert db.lemmas == files.lemmas  # unchanged labels reuse the shipped lemmas (nothing recomputed)


def test_from_database_lemmatises_only_changed_labels(seeded: Opener) -> None:
    _relabel(seeded, "naf:01.15", TRUFFLE)
    asked: list[list[str]] = []

    def lemmatise(texts: Sequence[str]) -> list[list[str]]:
        asked.append(list(texts))
        return [token_lemmas(t) for t in texts]

    with seeded()() as session:
        ref = Referential.from_database(session, lemmatise=lemmatise)
    assert asked == [[TRUFFLE]]
    assert ref.lemmas["labels"]["naf:01.15"] == ["culture", "truffe"]
    assert ref.lemmas["labels"]["naf:01.15Z"] == Referential.load().lemmas["labels"]["naf:01.15Z"]


def test_token_lemmas_fallback() -> None:
    assert token_lemmas("Culture de truffes et de noix") == ["culture", "truffe", "noix"]
    assert LabelLemmatiser(use_spacy=False)(["Élevage d'autruches"]) == [["élevage", "autruche"]]


def test_bump_version(open_db: Opener) -> None:
    factory = open_db()
    with factory() as session:
        assert current_version(session) is None
    with session_scope(factory) as session:
        assert bump_version(session) == 1
    with session_scope(factory) as session:
        assert bump_version(session) == 2
    with session_scope(factory) as session:  # a rolled-back write leaves the stamp alone
        bump_version(session)
        session.rollback()
    with factory() as session:
        assert current_version(session) == 2
        assert session.scalar(select(TaxonomyState.updated_at)) is not None


def test_loader_bumps_only_when_it_changes_something(open_db: Opener) -> None:
    from taxonomy.loader import load_taxonomy

    factory = open_db()
    with session_scope(factory) as session:
        load_taxonomy(session)
    with factory() as session:
        assert current_version(session) == 1
    with session_scope(factory) as session:
        assert load_taxonomy(session)["updated"] == 0
    with factory() as session:
        assert current_version(session) == 1
    _relabel(open_db, "naf:01.15", TRUFFLE)  # version 2: a curator's edit
    with session_scope(factory) as session:
        assert load_taxonomy(session)["updated"] == 0  # the next init keeps it
    with factory() as session:
        assert current_version(session) == 2
        assert session.get(ConceptRow, "naf:01.15").pref_label_fr == TRUFFLE
    with session_scope(factory) as session:
        assert load_taxonomy(session, overwrite=True)["updated"] == 1  # an explicit reset puts it back
    with factory() as session:
        assert current_version(session) == 3
        assert session.get(ConceptRow, "naf:01.15").pref_label_fr == "Culture du tabac"


def test_live_source_follows_another_process(seeded: Opener, nlp: Language) -> None:
    source = DatabaseReferential(seeded(), check_interval=0)
    before = source.current()
    assert source.version == 1 and before.label("naf:01.15") == "Culture du tabac"
    assert source.current() is before  # same version: same object, consumers keep their caches
    analysis = analyse(nlp, TRUFFLE_TEXT)
    assert "naf:01.15" not in {s.concept_id for s in _sectors(before, analysis.lemmas)}

    assert _relabel(seeded, "naf:01.15", TRUFFLE) == 2  # another engine: another process
    after = source.current()
    assert after is not before and source.version == 2
    assert after.label("naf:01.15") == TRUFFLE
    assert after.resolve(TRUFFLE, "naf") == "naf:01.15"
    assert after.resolve("culture de la TRUFFE") == "naf:01.15"
    truffle = next(s for s in _sectors(after, analysis.lemmas) if s.concept_id == "naf:01.15")
    assert "truffe" in truffle.evidence


def _sectors(ref: Referential, lemmas: list[str]) -> list[Scored]:
    return TaxonomyClassifier(ref).classify(TRUFFLE_TEXT, lemmas=lemmas).sectors


def test_live_source_checks_at_most_once_per_interval(seeded: Opener) -> None:
    now = [100.0]
    source = DatabaseReferential(seeded(), check_interval=5.0, lemmatise=_words, clock=lambda: now[0])
    first = source.current()
    _relabel(seeded, "naf:01.15", TRUFFLE)
    now[0] += 4.0
    assert source.current() is first  # within the interval: no query, the old referential
    now[0] += 1.0
    assert source.current().label("naf:01.15") == TRUFFLE
    assert source.refresh() is source.current()


def test_live_source_falls_back_to_files_before_seeding(open_db: Opener) -> None:
    factory = open_db()
    source = DatabaseReferential(factory, check_interval=0, lemmatise=_words)
    assert source.current() is Referential.load() and source.version is None  # no stamp yet
    with session_scope(factory) as session:
        bump_version(session)  # a stamp but no concepts: still the files
    assert source.current() is Referential.load() and source.version is None
    from taxonomy.loader import load_taxonomy

    with session_scope(factory) as session:
        load_taxonomy(session)
    ref = source.current()
    assert ref is not Referential.load() and source.version == 2 and len(ref) == SHIPPED


def test_live_source_survives_database_errors(seeded: Opener, tmp_path: Path) -> None:
    broken = create_engine(f"sqlite:///{tmp_path / 'missing-dir' / 'tfe.sqlite'}")
    assert DatabaseReferential(sessionmaker(bind=broken), check_interval=0).current() is Referential.load()
    factories = [seeded(), sessionmaker(bind=broken)]
    source = DatabaseReferential(lambda: factories[0](), check_interval=0)
    built = source.current()
    factories.pop(0)  # the database goes away after a good build: keep what we have
    assert source.current() is built and source.version == 1
    broken.dispose()
