"""Fixtures for the web tests: one real installation (SQLite + embedded index) shared by the module tests.

Two organisations (``alpha``, ``beta``) with users and API tokens, five documents written straight into
the search backend (real embeddings) plus their ``Document`` rows, versions and blobs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ged.blobs import BlobStore
from ged.models import Document, DocumentVersion
from search.types import Passage
from taxonomy.models import Classification
from tfe.app.install import init_installation
from tfe.app.runtime import Runtime
from tfe.app.web.app import create_app
from tfe.core.security import identity
from tfe.core.settings import Settings

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


@dataclass
class Installation:
    rt: Runtime
    client: TestClient
    tokens: dict[str, str]  # user key -> bearer token
    users: dict[str, int]
    orgs: dict[str, int]

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


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
    init_installation(rt)
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
