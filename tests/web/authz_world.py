"""The world of the authorisation matrix test (``tests/web/test_authz_matrix.py``): users, columns, and
organisation alpha's objects, made through the product's own services.

Two organisations, alpha and beta, each with a reader, a contributor, a curator and an administrator
(bearer tokens; the administrators' carry the ``admin`` scope). Alpha's objects: an organisation-only
draft owned by its contributor, a document with two versions, an organisation-only watch source (served
by a local feed server), one of its items and its story, an erasure receipt; fresh ones on demand
(documents, trashed documents, sources, subscriptions, tokens, browser sessions, security alerts), so a
check that changes state never spoils the next. Documents are saved through the sink without embeddings.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select, update

from ged import trash
from ged.models import DocumentVersion
from ged.sink import DocumentSink
from ingest.components.splitter import split_passages
from ingest.components.writer import RecordWriter
from ingest.item import ExtractedMetadata, IngestItem
from taxonomy.classifier import Scored
from taxonomy.live import StaticReferential
from tests.veille.feedserver import FeedServer, Route, rss
from tfe.app import erasure
from tfe.app.runtime import Runtime
from tfe.app.web.authz_matrix import ORGS, ROLES
from tfe.core.models import User
from tfe.core.security import identity, security_alerts, sessions
from tfe.core.security.audit import Actor
from tfe.core.security.scope import AccessScope
from veille.alerts.subscriptions import SubscriptionSpec
from veille.models import Item, Story
from veille.sink import ItemSink
from veille.source_rules import SourceSpec

PASSWORD = "motdepasse-solide-42"
DOC_TYPE = "doctype:sector_analysis"  # a retention rule (review), typed fields, none required
ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class Who:
    """One column of the matrix: an actor of ``org`` (``own`` = alpha, ``other`` = beta)."""

    actor: str
    org: str

    @property
    def slug(self) -> str:
        return "alpha" if self.org == "own" else "beta"

    @property
    def key(self) -> str | None:
        """The user key (``alpha-reader``), none for anonymous."""
        return None if self.actor == ANONYMOUS else f"{self.slug}-{self.actor}"


COLUMNS = [Who(ANONYMOUS, "own")] + [Who(r, o) for r in ROLES for o in ORGS]


@dataclass
class Req:
    """What one check sends (the path parameters not given come from ``World.default``)."""

    params: dict[str, object] = field(default_factory=dict)
    query: dict[str, str | int | float | bool | None] | None = None
    json: object = None
    files: dict[str, tuple[str, bytes, str]] | None = None
    data: dict[str, str] | None = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


class World:
    """The installation, its users and alpha's objects; fresh objects on demand."""

    def __init__(self, rt: Runtime, feeds: FeedServer) -> None:
        self.rt = rt
        self.feeds = feeds
        self._n = itertools.count(1)
        self.users: dict[str, int] = {}
        self.tokens: dict[str, str] = {}
        self._seed_users()
        self.doc = self.fresh_doc()
        self.versioned = self.fresh_doc()
        self.rt.versions.add_version(
            self.user("alpha-contributor"), self.versioned, filename="etude.txt", data=b"Version 2 : vins.\n"
        )
        self.source = self.fresh_source()
        self.source_url = self.rt.sources.get(AccessScope.everything(), self.source, channel="cli").url
        self.item, self.story = self._seed_item()
        self.receipt = erasure.erase_document(
            rt, self.fresh_doc(), actor=Actor.of_user(self.user("alpha-admin"), "cli"), reason="matrix"
        )
        self.receipt_id = str(self.receipt["receipt"]["id"])

    def next(self) -> int:
        return next(self._n)

    def _seed_users(self) -> None:
        with self.rt.session() as session:
            for slug, kind in (("alpha", "regional_chamber"), ("beta", "bank")):
                org = identity.get_or_create_org(session, slug, slug.capitalize(), kind)
                for role in ROLES:
                    key = f"{slug}-{role}"
                    user = identity.create_user(
                        session, email=f"{role}@{slug}.fr", org=org, role=role, name=key, password=PASSWORD
                    )
                    scopes = "read,write,admin" if role == "admin" else "read,write"  # admin routes: admin
                    raw = identity.create_token(session, user, name="matrix", scopes=scopes)[1]
                    self.users[key], self.tokens[key] = user.id, raw

    def user(self, key: str) -> User:
        with self.rt.session() as session:
            user = session.get(User, self.users[key])
            assert user is not None
            session.expunge(user)
            return user

    def headers(self, who: Who) -> dict[str, str]:
        return {} if who.key is None else {"Authorization": f"Bearer {self.tokens[who.key]}"}

    # -- fresh objects ---------------------------------------------------------------------------------

    def fresh_doc(self) -> str:
        """An organisation-only draft of alpha owned by its contributor, saved as uploads are (no vectors)."""
        n = self.next()
        text = f"Étude de marché numéro {n} : les vins français en Allemagne."
        data = text.encode()
        owner, org = self.users["alpha-contributor"], self.user("alpha-contributor").org_id
        writer = RecordWriter(
            DocumentSink(self.rt.session_factory, self.rt.blob_store),
            self.rt.backend,
            StaticReferential(self.rt.referential),
        )
        item = IngestItem(
            key=f"upload:{owner}:etude-{n}.txt",
            kind="document",
            filename=f"etude-{n}.txt",
            data=data,
            org_id=org,
            owner_user_id=owner,
            visibility="organisation",
            meta={"uploaded_by": owner, "status": "draft"},
        )
        metadata = ExtractedMetadata(
            content_hash=hashlib.sha256(data).hexdigest(), mime="text/plain", size=len(data)
        )
        saved = writer.run(
            item=item,
            metadata=metadata,
            text=text,
            title=f"Étude {n}",
            language="fr",
            sectors=[Scored("naf:11", 0.9, ["vins"])],
            countries=[Scored("country:DE", 0.9, ["Allemagne"])],
            doc_type=Scored(DOC_TYPE, 0.9, ["étude"]),
            passages=split_passages(text),
            embeddings=None,
        )
        return str(saved["target_id"])

    def trashed_doc(self) -> str:
        doc_id = self.fresh_doc()
        with self.rt.session() as session:
            owner = session.get(User, self.users["alpha-contributor"])
            assert owner is not None
            trash.trash_document(session, self.rt.backend, owner, doc_id, retention_days=30, channel="cli")
        return doc_id

    def restorable_version(self, doc_id: str) -> int:
        """A version whose bytes differ from the current one (restoring it is not « identique »)."""
        with self.rt.session() as session:
            rows = session.scalars(
                select(DocumentVersion)
                .where(DocumentVersion.document_id == doc_id)
                .order_by(DocumentVersion.number.desc())
            ).all()
        return next(v.number for v in rows[1:] if v.content_hash != rows[0].content_hash)

    def feed_url(self) -> str:
        """A new, empty feed on the local server (a poll or preview fetches it; nothing to ingest)."""
        path = f"/feed-{self.next()}.xml"
        self.feeds.routes[path] = Route(body=rss("Veille alpha", []))
        return self.feeds.url + path

    def fresh_source(self) -> int:
        """An organisation-only source of alpha, catalogued by its curator."""
        scope = identity.scope_for(self.user("alpha-curator"))
        spec = SourceSpec(
            url=self.feed_url(), title="Veille alpha", visibility="organisation", discover=False
        )
        return self.rt.sources.add(scope, spec, "cli").id

    def _seed_item(self) -> tuple[str, str]:
        """An organisation-only item of alpha's source, in a story of its own."""
        text = "Note de veille alpha : salon des vins à Düsseldorf."
        org = self.user("alpha-curator").org_id
        writer = RecordWriter(
            ItemSink(self.rt.session_factory), self.rt.backend, StaticReferential(self.rt.referential)
        )
        item = IngestItem(
            key="feed#matrix",
            kind="item",
            text=text,
            title="Salon des vins",
            guid="matrix",
            url="https://alpha.example.org/matrix",
            org_id=org,
            visibility="organisation",
            source_id=self.source,
        )
        saved = writer.run(
            item=item,
            metadata=ExtractedMetadata(
                content_hash=hashlib.sha256(text.encode()).hexdigest(), mime="text/plain"
            ),
            text=text,
            title="Salon des vins",
            language="fr",
            sectors=[Scored("naf:11", 0.9, ["vins"])],
            countries=[Scored("country:DE", 0.9, ["Düsseldorf"])],
            doc_type=Scored("doctype:news", 0.9, ["veille"]),
            passages=split_passages(text),
            embeddings=None,
        )
        item_id = str(saved["target_id"])
        with self.rt.session() as session:
            session.add(Story(id="story-matrix", title="Salon des vins"))
            session.flush()
            session.execute(update(Item).where(Item.id == item_id).values(story_id="story-matrix"))
        return item_id, "story-matrix"

    @staticmethod
    def owner_of(who: Who) -> str:
        """Whose per-user object a check addresses: the actor's own in ``own``, else alpha's same role."""
        if who.actor == ANONYMOUS:
            return "alpha-reader"
        return who.key if who.org == "own" and who.key else f"alpha-{who.actor}"

    def subscription(self, who: Who, owner: str | None = None) -> int:
        """A new subscription of ``owner`` (default: ``owner_of(who)``)."""
        spec = SubscriptionSpec(query="vins", name=f"Alerte {self.next()}", channels=["email", "atom"])
        with self.rt.session() as session:
            owner_user = session.get(User, self.users[owner or self.owner_of(who)])
            assert owner_user is not None
            return self.rt.subscriptions.create(session, owner_user, spec, channel="cli").view.sub.id

    def token(self, who: Who, owner: str | None = None) -> int:
        """A new API token of ``owner`` (never the one the checks authenticate with)."""
        with self.rt.session() as session:
            owner_user = session.get(User, self.users[owner or self.owner_of(who)])
            assert owner_user is not None
            return identity.create_token(session, owner_user, name="to-revoke")[0].id

    def browser_session(self, who: Who, owner: str | None = None) -> str:
        """A new browser session of ``owner``, by its public id."""
        with self.rt.session() as session:
            owner_user = session.get(User, self.users[owner or self.owner_of(who)])
            assert owner_user is not None
            row, _secret = sessions.start(
                session, owner_user, address="127.0.0.1", user_agent="matrix", max_age_s=3600
            )
            return sessions.public_id(row)

    def markers(self, *, admin: bool = False) -> list[str]:
        """What of alpha's must never appear in another organisation's lists (ids, the item's title;
        the source's address except for administrators, who see every source)."""
        found = [self.doc, self.versioned, self.item, self.story, self.receipt_id, "Salon des vins"]
        return found if admin else [*found, self.source_url]

    def alert(self) -> int:
        """A new open security alert about alpha's reader (as the guard raises one)."""
        with self.rt.session() as session:
            user = session.get(User, self.users["alpha-reader"])
            assert user is not None
            detail = {"explanation": "matrice"}
            return security_alerts.raise_alert(
                session,
                user=user,
                token_id=None,
                session_id=None,
                rule="volume_hour",
                response="throttled",
                detail=detail,
                channel="cli",
            ).id

    def fresh_concept(self) -> str:
        """A new NAF concept under naf:11.0, added as a curator would (its own change in the history)."""
        return self.fresh_change()[1]

    def fresh_change(self) -> tuple[int, str]:
        """A new concept's ``add`` change (revertible: nothing has touched the concept since)."""
        from taxonomy.editing import add_concept

        with self.rt.session() as session:
            notation = f"11.9{self.next()}"
            change = add_concept(
                session,
                scheme_id="naf",
                notation=notation,
                pref_label_fr=f"Matrice {notation}",
                broader_id="naf:11.0",
                user_id=self.users["alpha-curator"],
                reason="matrice",
            )
            return change.id, f"naf:{notation}"

    def fresh_run(self) -> int:
        """A reclassification run (a preview) of a fresh change."""
        from taxonomy.models import ReclassifyRun

        change_id = self.fresh_change()[0]
        with self.rt.session() as session:
            run = ReclassifyRun(change_id=change_id, status="preview", created_by=self.users["alpha-curator"])
            session.add(run)
            session.flush()
            return run.id

    def default(self, name: str, who: Who) -> object:
        """Alpha's object for a path parameter."""
        values: dict[str, Callable[[], object]] = {
            "doc_id": lambda: self.doc,
            "item_id": lambda: self.item,
            "story_id": lambda: self.story,
            "source_id": lambda: self.source,
            "receipt_id": lambda: self.receipt_id,
            "subscription_id": lambda: self.subscription(who),
            "token_id": lambda: self.token(who),
            "session_id": lambda: self.browser_session(who),
            "alert_id": self.alert,
            "notation": lambda: "sector_analysis",
            "number": lambda: 1,
            "concept_id": lambda: "naf:11",
            "change_id": lambda: self.fresh_change()[0],
            "run_id": self.fresh_run,
            "name": lambda: "initial",  # the taxonomy release tfe init records
        }
        if name not in values:
            raise AssertionError(f"no object for path parameter {name!r}: add it to World.default")
        return values[name]()
