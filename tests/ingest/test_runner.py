"""End to end: the real pipeline (Tika, spaCy, taxonomy, Tantivy) into a temporary SQLite database.

Every input ends with a recorded state; re-runs are idempotent; an interrupted run is resumed.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

import ged.models
import ingest.models
import taxonomy.models
import tfe.core.models
import veille.models
from ged.blobs import BlobStore
from ged.models import Document, DocumentVersion
from ged.sink import DocumentSink
from ingest.item import IngestItem, Processed
from ingest.models import IngestRecord, IngestRun
from ingest.pipeline import IngestPipeline
from ingest.runner import IngestRunner
from search.factory import make_backend
from search.types import SearchQuery
from taxonomy.loader import load_taxonomy
from tests.conftest import make_settings, pg_schema
from tests.ingest.doubles import NeverPipeline
from tests.paths import SHARED_DATA
from tfe.core.db import Base, make_engine, make_session_factory
from tfe.core.models import Organisation
from tfe.core.security.scope import AccessScope
from veille.feeds import read_feed
from veille.models import Item
from veille.sink import ItemSink

_TABLES = (tfe.core.models, taxonomy.models, ingest.models, ged.models, veille.models)  # registered on Base

DOCS = SHARED_DATA / "fixtures" / "documents"
FEED = SHARED_DATA / "fixtures" / "feeds" / "economic_news_en" / "ft-home.xml"
GOOD = ["docx/testWORD_text_box.docx", "pdf/testPDF.pdf", "txt/french.txt", "odt/testODT-TIKA-6000.odt"]
BAD = ["docx/testWORD_protected_passtika.docx", "docx/testWORD_truncated.docx"]


class Env:
    """One data dir: database, blobs, index, the two sinks and their pipelines (warmed once)."""

    def __init__(self, root: Path, **overrides: Any) -> None:
        self.settings = make_settings(root, **overrides)
        self.settings.resolved_data_dir.mkdir(parents=True)
        self.settings.index_dir.mkdir(parents=True)
        engine = make_engine(self.settings)
        Base.metadata.create_all(engine)
        self.factory: sessionmaker[Session] = make_session_factory(engine)
        self.org_id = self._seed()
        self.backend = make_backend(self.settings)
        self.doc_sink = DocumentSink(self.factory, BlobStore(self.settings.blob_dir))
        self.item_sink = ItemSink(self.factory)
        self.doc_pipeline = IngestPipeline(self.settings, self.doc_sink, self.backend)
        self.item_pipeline = IngestPipeline(self.settings, self.item_sink, self.backend)
        self.doc_pipeline.warm_up()
        self.item_pipeline.warm_up()

    def _seed(self) -> int:
        """Load the taxonomy and add the organisation every file run imports for (duplicates are looked
        up in what it may see, as ``ged.service`` does for the CLI's default organisation); its id."""
        with self.factory() as session:
            load_taxonomy(session)
            org = Organisation(slug="tfe", name="Team France Export")
            session.add(org)
            session.commit()
            return org.id

    def runner(self, pipeline: Any = None) -> IngestRunner:
        return IngestRunner(self.factory, pipeline or self.doc_pipeline, self.settings)

    def count(self, model: Any) -> int:
        with self.factory() as session:
            return int(session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    """The same runs on SQLite and on PostgreSQL (each in a fresh schema)."""
    root = tmp_path_factory.mktemp("ingest")
    with ExitStack() as stack:
        overrides = {"database_url": stack.enter_context(pg_schema())} if request.param == "postgres" else {}
        environment = Env(root, **overrides)
        yield environment
        environment.backend.close()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "in"
    (root / "sub").mkdir(parents=True)
    for i, rel in enumerate(GOOD):
        shutil.copy(DOCS / rel, (root if i % 2 else root / "sub") / Path(rel).name)
    for rel in BAD:
        shutil.copy(DOCS / rel, root / Path(rel).name)
    shutil.copy(DOCS / GOOD[0], root / "copy-of-first.docx")  # same bytes: a duplicate within the run
    (root / "empty.txt").write_bytes(b"")
    (root / ".hidden.txt").write_text("never ingested")
    (root / "dangling.pdf").symlink_to(root / "nowhere.pdf")
    return root


def _by_name(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {Path(i["input"]).name: i for i in report["items"]}


@pytest.mark.slow
def test_folder_run_rerun_and_resume(env: Env, folder: Path) -> None:
    missing = folder / "missing.docx"
    report = env.runner().run_paths([folder, missing], org_id=env.org_id, progress=False)
    items = _by_name(report)
    assert len(report["items"]) == 10 and ".hidden.txt" not in items
    assert (report["ok"], report["duplicate"], report["failed"]) == (4, 1, 5)
    # sorted walk: "copy-of-first.docx" comes before "sub/testWORD_text_box.docx", which is its duplicate
    assert items["testWORD_text_box.docx"]["status"] == "duplicate"
    assert items["copy-of-first.docx"]["id"] == items["testWORD_text_box.docx"]["id"]
    assert items["testWORD_protected_passtika.docx"]["reason"] == "encrypted document"
    assert items["testWORD_truncated.docx"]["reason"].startswith("corrupt file: ")
    assert items["empty.txt"]["reason"] == "empty file"
    assert items["dangling.pdf"]["reason"] == "broken link"
    assert items["missing.docx"]["reason"] == "not found"
    assert report["failures_by_reason"]["encrypted document"] == 1
    assert report["files_per_second"] > 0

    # the system of record and the index hold the good ones
    ok_ids = {i["id"] for i in report["items"] if i["status"] == "ok"}
    with env.factory() as session:
        stored = set(session.scalars(select(Document.id)))
        assert ok_ids <= stored
        french = session.get(Document, items["french.txt"]["id"])
        assert french is not None and french.language == "fr" and french.visibility == "organisation"
        version = session.scalar(select(DocumentVersion).where(DocumentVersion.document_id == french.id))
        assert (
            version is not None
            and env.doc_sink.blobs.get(version.blob_key) == (DOCS / "txt" / "french.txt").read_bytes()
        )
        states = dict(
            session.execute(
                select(IngestRecord.input_key, IngestRecord.status).where(
                    IngestRecord.run_id == report["run_id"]
                )
            )
            .tuples()
            .all()
        )
        assert len(states) == 10 and "pending" not in states.values()
        run = session.get(IngestRun, report["run_id"])
        assert run is not None and run.finished_at is not None and run.counts["ok"] == 4
    hits = env.backend.search(SearchQuery(text="Apache Tika", scope=AccessScope.everything(), mode="bm25"))
    assert items["testPDF.pdf"]["id"] in {h.parent_id for h in hits.hits}
    passage = hits.hits[0]
    assert {"kind", "doc_type", "sectors", "countries", "visibility", "language"} <= set(passage.meta)

    # re-running is idempotent: the good ones are duplicates, nothing new is stored
    documents = env.count(Document)
    again = env.runner().run_paths([folder], org_id=env.org_id, progress=False)
    assert (again["ok"], again["duplicate"], again["failed"]) == (0, 5, 4)
    assert env.count(Document) == documents

    # an interrupted run: the pipeline dies on the second new file, leaving pending records
    extra = folder / "extra"
    extra.mkdir()
    for rel in (
        "docx/testWORD_multi_authors.docx",
        "xlsx/testEXCEL.xlsx",
        "pptx/testPPT.pptx",
        "rtf/testRTF.rtf",
    ):
        shutil.copy(DOCS / rel, extra / Path(rel).name)

    class Crash:
        def __init__(self, inner: IngestPipeline) -> None:
            self.inner, self.sink, self.calls = inner, inner.sink, 0

        def warm_up(self) -> None:
            self.inner.warm_up()

        def process(self, item: IngestItem) -> Processed:
            self.calls += 1
            if self.calls == 2:
                raise KeyboardInterrupt  # the operator's Ctrl-C, or a killed process
            return self.inner.process(item)

    with pytest.raises(KeyboardInterrupt):
        env.runner(pipeline=Crash(env.doc_pipeline)).run_paths([extra], org_id=env.org_id, progress=False)
    with env.factory() as session:
        interrupted = session.scalar(select(IngestRun).where(IngestRun.finished_at.is_(None)))
        assert interrupted is not None
        pending = session.scalar(
            select(func.count()).where(
                IngestRecord.run_id == interrupted.id, IngestRecord.status == "pending"
            )
        )
        assert pending == 3
    resumed = env.runner().run_paths([extra], org_id=env.org_id, progress=False)
    statuses = {Path(i["input"]).name: i["status"] for i in resumed["items"]}
    # sorted: testEXCEL (done before the crash), testPPT (crashed), testRTF, testWORD (never reached)
    assert statuses["testEXCEL.xlsx"] == "duplicate"
    assert statuses["testPPT.pptx"] == "ok" and statuses["testRTF.rtf"] == "ok"
    assert statuses["testWORD_multi_authors.docx"] == "failed"  # no text: failed both times, with its reason
    with env.factory() as session:
        assert session.scalar(select(func.count()).where(IngestRecord.status == "pending")) == 0
        closed = session.get(IngestRun, interrupted.id)
        assert closed is not None and closed.finished_at is not None


@pytest.mark.slow
def test_feed_items_run(env: Env) -> None:
    feed = read_feed(str(FEED), env.settings)
    first = env.runner(env.item_pipeline).run_items(feed.entries, progress=False)
    assert first["ok"] + first["failed"] == len(feed.entries) and first["ok"] >= 15
    with env.factory() as session:
        rows = list(session.scalars(select(Item)))
        assert len(rows) == first["ok"]
        assert all(r.source_id is not None and r.guid and r.content_hash for r in rows)
    second = env.runner(env.item_pipeline).run_items(feed.entries, progress=False)
    assert second["ok"] == 0 and second["duplicate"] == first["ok"]
    hits = env.backend.search(SearchQuery(text="chart", scope=AccessScope.everything(), mode="bm25"))
    assert any(h.meta.get("kind") == "item" and h.meta.get("doc_type") == "doctype:news" for h in hits.hits)


def test_oversized_file_is_refused_before_reading(tmp_path: Path) -> None:
    """The one size check: the runner's, from the file's size on disk, with one reason format."""
    settings = make_settings(tmp_path, max_file_bytes=1000)
    settings.resolved_data_dir.mkdir(parents=True)
    engine = make_engine(settings)
    Base.metadata.create_all(engine)
    big = tmp_path / "big.pdf"
    shutil.copy(DOCS / "pdf" / "testPDF.pdf", big)
    runner = IngestRunner(make_session_factory(engine), NeverPipeline(), settings)  # type: ignore[arg-type]
    report = runner.run_paths([big], progress=False)
    assert report["failed"] == 1
    assert report["items"][0]["reason"] == f"file too large ({big.stat().st_size} bytes > 1000)"
    with runner.session_factory() as session:
        record = session.scalar(select(IngestRecord))
        assert record is not None and record.target_kind == "document" and record.status == "failed"
    engine.dispose()
