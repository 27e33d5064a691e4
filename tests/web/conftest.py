"""Fixtures for the web tests: one real installation (SQLite + embedded index) shared by the module tests.

Two organisations (``alpha``, ``beta``) with users and API tokens, five documents written straight into
the search backend (real embeddings) plus their ``Document`` rows, versions and blobs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ged.blobs import BlobStore
from ged.models import Document, DocumentVersion
from search.types import Passage
from taxonomy.models import Classification, Concept, ConceptScheme
from tfe.runtime import Runtime, init_installation
from tfe.security import identity
from tfe.settings import Settings
from tfe.web.app import create_app

PASSWORD = "motdepasse-solide-42"
MAX_UPLOAD = 64 * 1024


@dataclass
class DemoDoc:
    id: str
    title: str
    text: str
    org: str  # "alpha" | "beta"
    owner: str  # user key
    visibility: str
    sectors: list[str]  # NAF ids with ancestors first: ["naf:C", "naf:11"]
    countries: list[str]
    doc_type: str


DOCS = [
    DemoDoc(
        "doc-vins-de",
        "Le marché des vins français en Allemagne",
        "Les vins français en Allemagne : premier marché export en volume, distribution par les "
        "cavistes et la grande distribution, salon ProWein à Düsseldorf.",
        "alpha",
        "alice",
        "network",
        ["naf:C", "naf:11"],
        ["country:DE"],
        "doctype:sector_analysis",
    ),
    DemoDoc(
        "doc-vins-it",
        "Vins et spiritueux : concurrence italienne",
        "Les vins italiens concurrencent les vins français sur le marché allemand et européen.",
        "alpha",
        "alice",
        "organisation",
        ["naf:C", "naf:11"],
        ["country:IT"],
        "doctype:market_study",
    ),
    DemoDoc(
        "doc-machines-de",
        "Machines agricoles en Allemagne",
        "Le marché allemand des machines agricoles et du machinisme viticole pour les vins.",
        "alpha",
        "alice",
        "public",
        ["naf:C", "naf:28"],
        ["country:DE"],
        "doctype:market_study",
    ),
    DemoDoc(
        "doc-beta-secret",
        "Note confidentielle : vins en Allemagne et au Japon",
        "Note confidentielle beta sur les vins français en Allemagne et au Japon, prix et marges.",
        "beta",
        "bob",
        "private",
        ["naf:C", "naf:11"],
        ["country:JP"],
        "doctype:country_note",
    ),
    DemoDoc(
        "doc-beta-org",
        "Cosmétiques au Japon (organisation beta)",
        "Cosmétiques au Japon : distribution, réglementation, vins et spiritueux en duty free.",
        "beta",
        "bob",
        "organisation",
        ["naf:C", "naf:20"],
        ["country:JP"],
        "doctype:regulation",
    ),
]

_LABELS = {
    "naf:C": ("naf", "Industrie manufacturière"),
    "naf:11": ("naf", "Fabrication de boissons"),
    "naf:20": ("naf", "Industrie chimique"),
    "naf:28": ("naf", "Fabrication de machines et équipements n.c.a."),
    "country:DE": ("country", "Allemagne"),
    "country:IT": ("country", "Italie"),
    "country:JP": ("country", "Japon"),
    "doctype:sector_analysis": ("doctype", "Analyse sectorielle"),
    "doctype:market_study": ("doctype", "Étude de marché"),
    "doctype:country_note": ("doctype", "Fiche pays"),
    "doctype:regulation": ("doctype", "Réglementation"),
}


@dataclass
class Installation:
    rt: Runtime
    client: TestClient
    tokens: dict[str, str]  # user key -> bearer token
    users: dict[str, int]
    orgs: dict[str, int]

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


def _ensure_taxonomy(rt: Runtime) -> None:
    """The default taxonomy when ``init_installation`` loaded it; otherwise the few concepts tests use."""
    with rt.session() as session:
        for scheme in ("naf", "country", "doctype"):
            if session.get(ConceptScheme, scheme) is None:
                session.add(
                    ConceptScheme(id=scheme, uri=f"urn:tfe:{scheme}", label_fr=scheme, label_en=scheme)
                )
        session.flush()
        for concept_id, (scheme, label) in _LABELS.items():
            if session.get(Concept, concept_id) is None:
                notation = concept_id.split(":", 1)[1]
                session.add(Concept(id=concept_id, scheme_id=scheme, notation=notation, pref_label_fr=label))


def _install(rt: Runtime) -> None:
    try:
        init_installation(rt)
    except ModuleNotFoundError as exc:  # taxonomy loader not landed yet: bare schema
        if "taxonomy" not in str(exc):
            raise
        from tfe.db import Base

        for path in (rt.settings.index_dir, rt.settings.blob_dir):
            path.mkdir(parents=True, exist_ok=True)
        Base.metadata.create_all(rt.engine)
    _ensure_taxonomy(rt)


def _label(concept_id: str) -> str:
    return _LABELS.get(concept_id, ("", concept_id))[1]


class _ShimSearchService:
    """Stand-in for ``search.service.SearchService`` until it lands (same call, same API shape)."""

    def __init__(self, backend: Any, embedder: Any) -> None:
        self.backend, self.embedder = backend, embedder

    def search(
        self,
        text: str,
        scope: Any,
        *,
        sector: Any = (),
        country: Any = (),
        type: Any = (),
        limit: int = 10,
        offset: int = 0,
        mode: str = "hybrid",
    ) -> dict[str, Any]:
        from search.types import SearchQuery

        vec = self.embedder.query(text) if text.strip() and mode != "bm25" else None
        filters = {"sector": list(sector), "country": list(country), "type": list(type)}
        result = self.backend.search(
            SearchQuery(
                text=text,
                scope=scope,
                filters=filters,
                limit=limit,
                offset=offset,
                mode=mode,  # type: ignore[arg-type]
                query_embedding=vec,
            )
        )
        ref = lambda cid: {"id": cid, "label": _label(cid)}  # noqa: E731
        return {
            "total": result.total,
            "hits": [
                {
                    "id": h.parent_id,
                    "title": h.title,
                    "snippet": h.snippet,
                    "score": h.score,
                    "type": ref(h.meta.get("doc_type")) if h.meta.get("doc_type") else None,
                    "sectors": [ref(s) for s in h.meta.get("sector_facet", [])],
                    "countries": [ref(c) for c in h.meta.get("countries", [])],
                    "url": f"/documents/{h.parent_id}",
                }
                for h in result.hits
            ],
            "facets": {
                name: [{"id": v, "label": _label(v), "count": n} for v, n in values]
                for name, values in result.facets.items()
            },
        }


def _ensure_search(rt: Runtime) -> None:
    try:
        import search.factory
        import search.service  # noqa: F401
    except ModuleNotFoundError:
        from search.embedded import EmbeddedBackend

        rt.__dict__["backend"] = EmbeddedBackend(rt.settings.index_dir)
        rt.__dict__["search_service"] = _ShimSearchService(rt.backend, rt.embedder)


def _seed(rt: Runtime) -> tuple[dict[str, str], dict[str, int], dict[str, int]]:
    tokens: dict[str, str] = {}
    users: dict[str, int] = {}
    orgs: dict[str, int] = {}
    blobs = BlobStore(rt.settings.blob_dir)
    with rt.session() as session:
        alpha = identity.get_or_create_org(session, "alpha", "CCI Alpha", "regional_chamber")
        beta = identity.get_or_create_org(session, "beta", "Banque Beta", "bank")
        orgs.update(alpha=alpha.id, beta=beta.id)
        for key, org, role in (
            ("alice", alpha, "contributor"),
            ("reader", alpha, "reader"),
            ("bob", beta, "contributor"),
        ):
            user = identity.create_user(
                session,
                email=f"{key}@{org.slug}.fr",
                org=org,
                role=role,
                name=key.capitalize(),
                password=PASSWORD,
            )
            users[key] = user.id
            tokens[key] = identity.create_token(session, user, name="tests")[1]
        for doc in DOCS:
            data = f"{doc.title}\n\n{doc.text}\n".encode()
            key = blobs.put(data)
            session.add(
                Document(
                    id=doc.id,
                    title=doc.title,
                    doc_type=doc.doc_type,
                    org_id=orgs[doc.org],
                    owner_user_id=users[doc.owner],
                    visibility=doc.visibility,
                    language="fr",
                )
            )
            session.flush()
            session.add(
                DocumentVersion(
                    document_id=doc.id,
                    number=1,
                    content_hash=hashlib.sha256(data).hexdigest(),
                    filename=f"{doc.id}-é.txt",
                    mime="text/plain",
                    size=len(data),
                    blob_key=key,
                    text=doc.text,
                )
            )
            for concept_id in [*doc.sectors[1:], *doc.countries, doc.doc_type]:
                session.add(
                    Classification(
                        target_kind="document",
                        target_id=doc.id,
                        concept_id=concept_id,
                        score=0.9,
                        method="rule",
                        explanation={"evidence": ["vins"]},
                    )
                )
    vectors = rt.embedder.passages([f"{d.title}. {d.text}" for d in DOCS])
    passages = [
        Passage(
            id=f"{d.id}:0",
            parent_id=d.id,
            title=d.title,
            text=d.text,
            position=0,
            embedding=vectors[i],
            meta={
                "kind": "document",
                "doc_type": d.doc_type,
                "sectors": d.sectors,
                "sector_facet": d.sectors[1:],
                "countries": d.countries,
                "regions": [],
                "org_id": orgs[d.org],
                "owner_user_id": users[d.owner],
                "visibility": d.visibility,
                "language": "fr",
                "date": "2025-01-15T00:00:00",
                "url": f"/documents/{d.id}",
            },
        )
        for i, d in enumerate(DOCS)
    ]
    rt.backend.write(passages)
    rt.backend.commit()
    return tokens, users, orgs


def make_installation(data_dir: Path) -> tuple[Runtime, dict[str, str], dict[str, int], dict[str, int]]:
    settings = Settings(
        data_dir=data_dir,
        environment="test",
        max_upload_bytes=MAX_UPLOAD,
        admin_password="admin-password-123",
        secret_key="test-secret-key",
    )
    rt = Runtime(settings)
    _install(rt)
    _ensure_search(rt)
    tokens, users, orgs = _seed(rt)
    return rt, tokens, users, orgs


@pytest.fixture(scope="package")
def installation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installation]:
    rt, tokens, users, orgs = make_installation(tmp_path_factory.mktemp("tfe-web"))
    with TestClient(create_app(rt)) as client:
        yield Installation(rt=rt, client=client, tokens=tokens, users=users, orgs=orgs)
    rt.close()


@pytest.fixture
def client(installation: Installation) -> TestClient:
    installation.client.cookies.clear()
    return installation.client
