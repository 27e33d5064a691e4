"""Subscriptions' use cases: create, list, read, edit, pause/resume, delete, history, preview, GDPR export.

A subscription is the delivery half of a saved search (``search.models.SavedSearch`` keeps its name,
query and facet filters; a ``source`` filter, not a search facet, sits beside them as source ids). Only
its owner reads or changes it; anyone else's id is ``NotFoundError`` (404), so ids do not leak. The
installation (CLI) may list everyone's.

Creation sets ``watermark`` to now (only what arrives afterwards is sent) and ``next_run_at`` from
``veille.alerts.schedule.next_run``. Secrets are shown once: the private Atom feed's URL holds a random
token of which only the SHA-256 is stored (regenerating it revokes the old address), and a webhook gets
a random signing secret. Resuming a paused subscription moves its watermark to now: what arrived during
the pause is not sent. Every write, the export and every read of history or preview are audited
(``subscription.create``, ``.update``, ``.pause``, ``.resume``, ``.delete``, ``.delete_all``,
``.atom_token``, ``.export``, ``.history``, ``.preview``).
"""

from __future__ import annotations

import builtins
import datetime as dt
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from search import saved
from search.models import SavedSearch
from taxonomy.referential import Referential
from tfe.core.db import utcnow
from tfe.core.errors import ConflictError, NotFoundError, ValidationError
from tfe.core.models import User
from tfe.core.security import audit, identity
from tfe.core.security.scope import AccessScope
from tfe.core.settings import Settings
from veille.alerts import validation
from veille.alerts.digest import DigestEntry
from veille.alerts.models import FREQUENCIES, SCOPES, AlertMessage, Subscription
from veille.alerts.schedule import DEFAULT_TIMEZONE, next_run, parse_send_time, parse_timezone
from veille.channels.atom import feed_url, new_feed_token

__all__ = [
    "MAX_PER_USER",
    "PREVIEW_UNAVAILABLE",
    "Created",
    "DraftSubscription",
    "Previewer",
    "SubscriptionService",
    "SubscriptionSpec",
    "SubscriptionView",
]

MAX_PER_USER = 100
# spec field -> saved-search filter naming taxonomy concepts; FILTERS adds the watch sources
SPEC_FACETS = (
    ("sectors", "sector"),
    ("countries", "country"),
    ("types", "type"),
    ("filieres", "filiere"),
    ("signals", "signal"),
)
CONCEPT_FILTERS = tuple(facet for _key, facet in SPEC_FACETS)
FILTERS = (*CONCEPT_FILTERS, "source")
HISTORY_LIMIT = 200
PREVIEW_UNAVAILABLE = "aperçu indisponible"
SPEC_FIELDS = (
    "name",
    "query",
    "sectors",
    "countries",
    "types",
    "filieres",
    "signals",
    "sources",
    "scope",
    "frequency",
    "send_time",
    "weekday",
    "timezone",
    "channels",
    "webhook_url",
    "paused",
)


@dataclass
class SubscriptionSpec:
    """What a subscriber asks for; facet values are codes, names or concept ids (``11``, ``Allemagne``)."""

    query: str = ""
    name: str = ""
    sectors: list[str] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)  # countries and M49 zones
    types: list[str] = field(default_factory=list)  # document types
    filieres: list[str] = field(default_factory=list)  # the network's filières and sous-filières
    signals: list[str] = field(default_factory=list)  # watch signals (tenders, investments, ...)
    sources: list[int] = field(default_factory=list)
    scope: str = "items"
    frequency: str = "daily"
    send_time: str = "08:00"
    weekday: int | None = None
    timezone: str = DEFAULT_TIMEZONE
    channels: list[str] = field(default_factory=lambda: ["email"])
    webhook_url: str | None = None
    paused: bool = False


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(frozen=True)
class SubscriptionView:
    """A subscription as every channel shows it (no secret: those are in ``Created``)."""

    sub: Subscription
    search: SavedSearch
    owner_email: str
    labels: dict[str, str]

    def as_dict(self) -> dict[str, Any]:
        sub, filters = self.sub, self.search.filters or {}

        def concepts(name: str) -> list[dict[str, str]]:
            return [{"id": cid, "label": self.labels.get(cid, cid)} for cid in filters.get(name, [])]

        return {
            "id": sub.id,
            "name": self.search.name,
            "query": self.search.query,
            "sectors": concepts("sector"),
            "countries": concepts("country"),
            "types": concepts("type"),
            "filieres": concepts("filiere"),
            "signals": concepts("signal"),
            "sources": [int(s) for s in filters.get("source", [])],
            "scope": sub.scope,
            "frequency": sub.frequency,
            "send_time": sub.send_time,
            "weekday": sub.weekday,
            "timezone": sub.timezone,
            "channels": list(sub.channels or []),
            "webhook_url": sub.webhook_url,
            "atom_enabled": sub.atom_token_hash is not None,
            "channel_state": dict(sub.channel_state or {}),
            "paused": sub.paused,
            "user_id": sub.user_id,
            "user_email": self.owner_email,
            "saved_search_id": sub.saved_search_id,
            "watermark": _iso(sub.watermark),
            "next_run_at": _iso(sub.next_run_at),
            "last_sent_at": _iso(sub.last_sent_at),
            "created_at": _iso(sub.created_at),
            "updated_at": _iso(sub.updated_at),
        }


@dataclass(frozen=True)
class Created:
    """A subscription with the secrets shown this once (Atom feed URL, webhook signing secret)."""

    view: SubscriptionView
    atom_url: str | None = None
    webhook_secret: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {**self.view.as_dict(), "atom_url": self.atom_url, "webhook_secret": self.webhook_secret}


def message_dict(row: AlertMessage) -> dict[str, Any]:
    """One history line: when, which channel, status, subject, error."""
    return {
        "id": row.id,
        "channel": row.channel,
        "status": row.status,
        "attempts": row.attempts,
        "recipient": row.recipient,
        "subject": row.subject,
        "error": row.error,
        "created_at": _iso(row.created_at),
        "sent_at": _iso(row.sent_at),
        "entries": len((row.payload or {}).get("entries", [])),
    }


@dataclass(frozen=True)
class DraftSubscription:
    """An alert being written (not saved): what a preview needs to match it like a saved one."""

    user_id: int
    query: str
    filters: dict[str, list[Any]]  # concept ids per facet; "source": source ids
    scope: str


# (session, saved subscription or draft, the owner's scope now, days) → the entries it would have sent;
# the runtime gives ``DigestService.preview`` (it needs the search backend).
Previewer = Callable[[Session, "Subscription | DraftSubscription", AccessScope, int], list[DigestEntry]]


class SubscriptionService:
    """The subscriptions' use cases for the API, the pages and the CLI (``channel`` tells them apart).

    ``previewer`` computes previews; without one (no search backend wired) a preview answers
    « aperçu indisponible ».
    """

    def __init__(
        self,
        settings: Settings,
        referential: Callable[[], Referential],
        *,
        previewer: Previewer | None = None,
    ) -> None:
        self._settings = settings
        self._referential = referential
        self._previewer = previewer

    # ------------------------------------------------------------------ reading
    def _labels(self, rows: Iterable[SavedSearch]) -> dict[str, str]:
        referential = self._referential()
        out: dict[str, str] = {}
        for row in rows:
            for name in CONCEPT_FILTERS:
                for cid in (row.filters or {}).get(name, []):
                    if cid not in out:
                        try:
                            out[cid] = referential.label(cid) or cid
                        except Exception:  # a retired concept keeps its id as label
                            out[cid] = cid
        return out

    def _views(
        self, session: Session, rows: builtins.list[tuple[Subscription, SavedSearch, str]]
    ) -> builtins.list[SubscriptionView]:
        labels = self._labels(search for _sub, search, _email in rows)
        return [SubscriptionView(sub, search, email, labels) for sub, search, email in rows]

    def _select(self) -> Any:
        return (
            select(Subscription, SavedSearch, User.email)
            .join(SavedSearch, SavedSearch.id == Subscription.saved_search_id)
            .join(User, User.id == Subscription.user_id)
            .order_by(Subscription.id)
        )

    def list(self, session: Session, owner: User) -> builtins.list[SubscriptionView]:
        """The owner's subscriptions, oldest first."""
        rows = session.execute(self._select().where(Subscription.user_id == owner.id)).tuples().all()
        return self._views(session, builtins.list(rows))

    def list_all(self, session: Session) -> builtins.list[SubscriptionView]:
        """Every subscription of the installation (the operator's CLI only)."""
        return self._views(session, builtins.list(session.execute(self._select()).tuples().all()))

    def _load(self, session: Session, owner: User, subscription_id: int) -> tuple[Subscription, SavedSearch]:
        sub = session.get(Subscription, subscription_id)
        if sub is None or sub.user_id != owner.id:
            raise NotFoundError(f"alerte inconnue : {subscription_id}")
        search = session.get(SavedSearch, sub.saved_search_id)
        if search is None:  # pragma: no cover - the foreign key cascades
            raise NotFoundError(f"alerte inconnue : {subscription_id}")
        return sub, search

    def _view(
        self, session: Session, sub: Subscription, search: SavedSearch, owner: User
    ) -> SubscriptionView:
        return SubscriptionView(sub, search, owner.email, self._labels([search]))

    def get(self, session: Session, owner: User, subscription_id: int) -> SubscriptionView:
        sub, search = self._load(session, owner, subscription_id)
        return self._view(session, sub, search, owner)

    def get_any(self, session: Session, subscription_id: int) -> tuple[SubscriptionView, User]:
        """Any user's subscription and its owner (the operator's CLI)."""
        sub = session.get(Subscription, subscription_id)
        owner = session.get(User, sub.user_id) if sub is not None else None
        if sub is None or owner is None:
            raise NotFoundError(f"alerte inconnue : {subscription_id}")
        return self.get(session, owner, subscription_id), owner

    # ------------------------------------------------------------------ validation
    def _clean(self, session: Session, owner: User, values: dict[str, Any]) -> dict[str, Any]:
        """Validate the given fields of a spec (all of them on creation, the changed ones on edit)."""
        out: dict[str, Any] = {}
        if "query" in values:
            out["query"] = validation.check_query(str(values["query"] or ""))
        facets = {
            facet: list(values[key] or [])
            for key, facet in SPEC_FACETS
            if key in values
        }
        if facets:
            out.update(validation.resolve_facets(self._referential(), facets))
        if "sources" in values:
            try:
                ids = [int(s) for s in values["sources"] or []]
            except (TypeError, ValueError) as exc:
                raise ValidationError("les sources se désignent par leur numéro") from exc
            out["source"] = validation.check_sources(session, identity.scope_for(owner), ids)
        if "scope" in values:
            out["scope"] = validation.check_choice("périmètre", str(values["scope"]), SCOPES)
        if "frequency" in values:
            out["frequency"] = validation.check_choice("fréquence", str(values["frequency"]), FREQUENCIES)
        if "send_time" in values:
            at = parse_send_time(str(values["send_time"] or ""))
            out["send_time"] = at.strftime("%H:%M")
        if "weekday" in values:
            weekday = values["weekday"]
            if weekday is not None and (isinstance(weekday, bool) or not isinstance(weekday, int)):
                raise ValidationError("jour de la semaine : un entier de 0 (lundi) à 6 (dimanche)")
            if weekday is not None and not 0 <= weekday <= 6:
                raise ValidationError("jour de la semaine : un entier de 0 (lundi) à 6 (dimanche)")
            out["weekday"] = weekday
        if "timezone" in values:
            out["timezone"] = parse_timezone(str(values["timezone"] or DEFAULT_TIMEZONE)).key
        if "channels" in values:
            out["channels"] = validation.check_channels(values["channels"] or [], owner)
        if "webhook_url" in values:
            url = values["webhook_url"]
            out["webhook_url"] = validation.check_webhook_url(url, self._settings) if url else None
        if "paused" in values:
            out["paused"] = bool(values["paused"])
        if "name" in values:
            out["name"] = " ".join(str(values["name"] or "").split())[: saved.MAX_NAME]
        return out

    @staticmethod
    def _saved_query(query: str, filters: dict[str, builtins.list[str]]) -> saved.SavedQuery:
        try:
            return saved.SavedQuery.of(query, {k: filters.get(k, []) for k in saved.FACET_NAMES})
        except ValidationError as exc:
            if not query and not any(filters.get(k) for k in (*saved.FACET_NAMES, "source")):
                raise ValidationError(
                    "une alerte demande un texte de recherche ou au moins un filtre"
                ) from exc
            if "nothing to save" in exc.message:  # only sources chosen: a valid alert
                return saved.SavedQuery(query, {k: tuple(filters.get(k, [])) for k in saved.FACET_NAMES})
            raise

    def _schedule(self, sub: Subscription, now: dt.datetime) -> None:
        if sub.frequency == "weekly" and sub.weekday is None:
            raise ValidationError("un envoi hebdomadaire demande un jour (weekday 0 = lundi … 6 = dimanche)")
        if sub.frequency != "weekly":
            sub.weekday = None
        sub.next_run_at = next_run(sub.frequency, sub.send_time, sub.weekday, sub.timezone, now)

    def _check_channels(self, sub: Subscription) -> None:
        if "webhook" in (sub.channels or []) and not sub.webhook_url:
            raise ValidationError("le canal webhook demande une adresse (webhook_url)")

    def _secrets(
        self, sub: Subscription, *, had: Iterable[str], url_changed: bool
    ) -> tuple[str | None, str | None]:
        """New Atom token and webhook secret for channels just turned on; revoked for channels turned off."""
        before = set(had)
        channels = set(sub.channels or [])
        token = secret = None
        if "atom" in channels and ("atom" not in before or sub.atom_token_hash is None):
            token, sub.atom_token_hash = new_feed_token()
        if "atom" not in channels:
            sub.atom_token_hash = None
        if "webhook" in channels and ("webhook" not in before or not sub.webhook_secret):
            secret = secrets.token_hex(32)
            sub.webhook_secret = secret
        if "webhook" not in channels:
            sub.webhook_secret = None
            sub.webhook_url = None
        if url_changed or (secret is not None):
            state = dict(sub.channel_state or {})
            state.pop("webhook", None)  # a new address starts with a clean slate
            sub.channel_state = state
        return token, secret

    # ------------------------------------------------------------------ writing
    def create(
        self,
        session: Session,
        owner: User,
        spec: SubscriptionSpec,
        *,
        channel: str = "api",
        now: dt.datetime | None = None,
    ) -> Created:
        """A new subscription for ``owner``: only what arrives from now on is sent."""
        if not owner.active:
            raise ValidationError("compte désactivé : aucune alerte ne peut lui être créée")
        count = session.scalar(
            select(func.count()).select_from(Subscription).where(Subscription.user_id == owner.id)
        )
        if int(count or 0) >= MAX_PER_USER:
            raise ConflictError(f"au plus {MAX_PER_USER} alertes par utilisateur")
        clean = self._clean(session, owner, {name: getattr(spec, name) for name in SPEC_FIELDS})
        filters = {k: clean[k] for k in FILTERS}
        query = self._saved_query(clean["query"], filters)
        if "webhook" in clean["channels"] and not clean["webhook_url"]:
            raise ValidationError("le canal webhook demande une adresse (webhook_url)")
        now = now or utcnow()
        search = saved.create_saved_search(session, owner, clean["name"], query, channel=channel)
        if filters["source"]:
            search.filters = {**(search.filters or {}), "source": filters["source"]}
        sub = Subscription(
            user_id=owner.id,
            saved_search_id=search.id,
            scope=clean["scope"],
            frequency=clean["frequency"],
            send_time=clean["send_time"],
            weekday=clean["weekday"],
            timezone=clean["timezone"],
            channels=clean["channels"],
            webhook_url=clean["webhook_url"],
            channel_state={},
            paused=clean["paused"],
            watermark=now,
            created_at=now,
            updated_at=now,
        )
        self._check_channels(sub)
        self._schedule(sub, now)
        token, secret = self._secrets(sub, had=(), url_changed=False)
        session.add(sub)
        session.flush()
        audit.record(
            session,
            "subscription.create",
            audit.Actor.of_user(owner, channel),
            target_kind="subscription",
            target_id=str(sub.id),
            detail=self._audit_detail(sub, search),
        )
        view = self._view(session, sub, search, owner)
        return Created(view, feed_url(self._settings, token) if token else None, secret)

    @staticmethod
    def _audit_detail(sub: Subscription, search: SavedSearch) -> dict[str, Any]:
        return {
            "name": search.name,
            "q": search.query,
            "filters": search.filters,
            "scope": sub.scope,
            "frequency": sub.frequency,
            "channels": list(sub.channels or []),
            "paused": sub.paused,
        }

    def update(
        self,
        session: Session,
        owner: User,
        subscription_id: int,
        changes: dict[str, Any],
        *,
        channel: str = "api",
        now: dt.datetime | None = None,
    ) -> Created:
        """Change the given fields; a new channel's secret is returned once, as on creation."""
        unknown = set(changes) - set(SPEC_FIELDS)
        if unknown:
            raise ValidationError(f"champ inconnu : {sorted(unknown)[0]!r}")
        sub, search = self._load(session, owner, subscription_id)
        clean = self._clean(session, owner, changes)
        now = now or utcnow()
        filters = {
            k: list((search.filters or {}).get(k, [])) for k in FILTERS
        }
        filters.update({k: clean[k] for k in filters if k in clean})
        query_text = clean.get("query", search.query)
        if "query" in clean or any(k in clean for k in filters):
            query = self._saved_query(query_text, filters)
            search.query = query.q
            search.filters = {k: list(v) for k, v in query.filters.items() if v}
            if filters["source"]:
                search.filters["source"] = filters["source"]
        if "name" in clean:
            search.name = clean["name"] or search.query or search.name
        search.updated_at = now
        had = list(sub.channels or [])
        old_url = sub.webhook_url
        for key in ("scope", "frequency", "send_time", "weekday", "timezone", "channels"):
            if key in clean:
                setattr(sub, key, clean[key])
        if "webhook_url" in clean:
            sub.webhook_url = clean["webhook_url"]
        resumed = "paused" in clean and sub.paused and not clean["paused"]
        if "paused" in clean:
            sub.paused = clean["paused"]
        if resumed:
            sub.watermark = now  # what arrived while paused is not sent
        self._check_channels(sub)
        if any(k in clean for k in ("frequency", "send_time", "weekday", "timezone")) or resumed:
            self._schedule(sub, now)
        token, secret = self._secrets(sub, had=had, url_changed=sub.webhook_url != old_url)
        sub.updated_at = now
        session.flush()
        action = "subscription.update"
        if set(clean) == {"paused"}:
            action = "subscription.pause" if sub.paused else "subscription.resume"
        audit.record(
            session,
            action,
            audit.Actor.of_user(owner, channel),
            target_kind="subscription",
            target_id=str(sub.id),
            detail={"changed": sorted(clean), **self._audit_detail(sub, search)},
        )
        view = self._view(session, sub, search, owner)
        return Created(view, feed_url(self._settings, token) if token else None, secret)

    def set_paused(
        self, session: Session, owner: User, subscription_id: int, paused: bool, *, channel: str = "api"
    ) -> SubscriptionView:
        return self.update(session, owner, subscription_id, {"paused": paused}, channel=channel).view

    def regenerate_atom_token(
        self, session: Session, owner: User, subscription_id: int, *, channel: str = "api"
    ) -> str:
        """A new private feed address; the old one stops working at once. Returns the new URL."""
        sub, _search = self._load(session, owner, subscription_id)
        if "atom" not in (sub.channels or []):
            raise ValidationError("cette alerte n'a pas de flux Atom (ajoutez le canal atom)")
        token, sub.atom_token_hash = new_feed_token()
        sub.updated_at = utcnow()
        session.flush()
        audit.record(
            session,
            "subscription.atom_token",
            audit.Actor.of_user(owner, channel),
            target_kind="subscription",
            target_id=str(sub.id),
            detail={"regenerated": True},
        )
        return feed_url(self._settings, token)

    def delete(self, session: Session, owner: User, subscription_id: int, *, channel: str = "api") -> None:
        """Remove a subscription with its saved search, ledger and messages."""
        sub, search = self._load(session, owner, subscription_id)
        detail = self._audit_detail(sub, search)
        self._remove(session, sub, search)
        audit.record(
            session,
            "subscription.delete",
            audit.Actor.of_user(owner, channel),
            target_kind="subscription",
            target_id=str(subscription_id),
            detail=detail,
        )

    @staticmethod
    def _remove(session: Session, sub: Subscription, search: SavedSearch) -> None:
        from sqlalchemy import delete as sql_delete

        from veille.alerts.models import Delivery

        session.execute(sql_delete(AlertMessage).where(AlertMessage.subscription_id == sub.id))
        session.execute(sql_delete(Delivery).where(Delivery.subscription_id == sub.id))
        session.delete(sub)
        session.flush()
        session.delete(search)
        session.flush()

    def delete_all(self, session: Session, owner: User, *, channel: str = "api") -> int:
        """Remove every subscription of ``owner`` (GDPR erasure); returns how many."""
        rows = (
            session.execute(
                select(Subscription, SavedSearch)
                .join(SavedSearch, SavedSearch.id == Subscription.saved_search_id)
                .where(Subscription.user_id == owner.id)
            )
            .tuples()
            .all()
        )
        ids = [sub.id for sub, _ in rows]
        for sub, search in rows:
            self._remove(session, sub, search)
        audit.record(
            session,
            "subscription.delete_all",
            audit.Actor.of_user(owner, channel),
            target_kind="user",
            target_id=str(owner.id),
            detail={"subscriptions": ids},
        )
        return len(ids)

    # ------------------------------------------------------------------ history, export, preview
    def history(
        self,
        session: Session,
        owner: User,
        subscription_id: int,
        *,
        channel: str = "api",
        audited: bool = True,
    ) -> builtins.list[dict[str, Any]]:
        """What was prepared and sent for this subscription, newest first."""
        sub, _search = self._load(session, owner, subscription_id)
        rows = session.scalars(
            select(AlertMessage)
            .where(AlertMessage.subscription_id == sub.id)
            .order_by(AlertMessage.created_at.desc(), AlertMessage.id.desc())
            .limit(HISTORY_LIMIT)
        )
        out = [message_dict(r) for r in rows]
        if audited:
            audit.record(
                session,
                "subscription.history",
                audit.Actor.of_user(owner, channel),
                target_kind="subscription",
                target_id=str(sub.id),
                detail={"messages": len(out)},
            )
        return out

    def export(self, session: Session, owner: User, *, channel: str = "api") -> dict[str, Any]:
        """The owner's subscriptions and their history, as one JSON document (GDPR access)."""
        views = self.list(session, owner)
        subscriptions = []
        for view in views:
            entry = view.as_dict()
            entry["history"] = self.history(session, owner, view.sub.id, channel=channel, audited=False)
            subscriptions.append(entry)
        audit.record(
            session,
            "subscription.export",
            audit.Actor.of_user(owner, channel),
            target_kind="user",
            target_id=str(owner.id),
            detail={"subscriptions": len(subscriptions)},
        )
        return {
            "user": {"id": owner.id, "email": owner.email, "name": owner.name},
            "exported_at": utcnow().isoformat(),
            "subscriptions": subscriptions,
        }

    def preview_spec(
        self, session: Session, owner: User, spec: SubscriptionSpec, *, days: int = 7
    ) -> dict[str, Any]:
        """The preview of an alert not saved yet (the form), its values validated and resolved first."""
        clean = self._clean(
            session,
            owner,
            {k: getattr(spec, k) for k in ("query", *(key for key, _f in SPEC_FACETS), "sources", "scope")},
        )
        filters = {k: clean[k] for k in FILTERS if clean[k]}
        draft = DraftSubscription(owner.id, clean["query"], filters, clean["scope"])
        return run_preview(self._previewer, session, draft, identity.scope_for(owner), days)

    def preview(
        self, session: Session, owner: User, subscription_id: int, *, days: int = 7, channel: str = "api"
    ) -> dict[str, Any]:
        """What the subscription would have sent over the last ``days`` days, in the owner's current scope."""
        sub, _search = self._load(session, owner, subscription_id)
        result = run_preview(self._previewer, session, sub, identity.scope_for(owner), days)
        audit.record(
            session,
            "subscription.preview",
            audit.Actor.of_user(owner, channel),
            target_kind="subscription",
            target_id=str(sub.id),
            detail={"days": days, "entries": len(result["entries"])},
        )
        return result


def run_preview(
    previewer: Previewer | None,
    session: Session,
    subject: Subscription | DraftSubscription,
    scope: AccessScope,
    days: int,
) -> dict[str, Any]:
    """The preview as a JSON-ready answer; « aperçu indisponible » when no previewer is wired."""
    if not 1 <= days <= 31:
        raise ValidationError("aperçu : de 1 à 31 jours")
    if previewer is None:
        return {"available": False, "days": days, "message": PREVIEW_UNAVAILABLE, "total": 0, "entries": []}
    rows = [entry.as_dict() for entry in previewer(session, subject, scope, days)]
    return {"available": True, "days": days, "message": None, "total": len(rows), "entries": rows}
