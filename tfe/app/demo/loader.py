"""Load the bundled demo: organisations, one adviser per organisation, the demo corpus and its watch.

The watch is real: the demo site (``tfe.app.demo.site``) serves the bundled feeds and pages on 127.0.0.1,
the demo sources are catalogued and polled over HTTP (``tfe.app.demo.watch``), so sources, health,
stories and the curators' queue fill up as in production; the embedded worker keeps polling them. The
advisers get a few alerts (``tfe.app.demo.alerts``) whose first digests land in the local outbox.

Generated demo passwords and a demo API token are kept in ``<data dir>/demo-credentials.json`` (mode 600)
so that re-running ``tfe demo`` can print them again; nothing else stores a clear secret.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from tqdm import tqdm

from ged.lifecycle import validate_imported
from tfe.app.background import backfill_batch
from tfe.app.demo import CORPUS_DIR, load_manifest, load_organisations
from tfe.app.demo.activity import already_simulated, simulate_activity
from tfe.app.demo.alerts import first_digests, place_subscriptions
from tfe.app.demo.site import DemoSite, ensure_site
from tfe.app.demo.vectors import use_demo_vectors
from tfe.app.demo.watch import load_watch, place_sources
from tfe.core.models import User
from tfe.core.security import audit, identity

if TYPE_CHECKING:
    from tfe.app.runtime import Runtime

log = logging.getLogger(__name__)


def _credentials_file(rt: Runtime) -> Path:
    return rt.settings.resolved_data_dir / "demo-credentials.json"


def _read_credentials(path: Path) -> dict[str, Any]:
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    return {"accounts": [], "token": None}


def _write_credentials(path: Path, creds: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(creds, fh, ensure_ascii=False, indent=2)
    os.replace(tmp, path)


def ensure_demo_accounts(rt: Runtime, admin_password: str | None = None) -> dict[str, Any]:
    """One adviser (contributor) per demo organisation, plus an API token for the first one."""
    path = _credentials_file(rt)
    creds = _read_credentials(path)
    if admin_password:
        creds["admin"] = {"email": rt.settings.admin_email, "password": admin_password}
    known = {a["email"] for a in creds["accounts"]}
    with rt.session() as session:
        for org_def in load_organisations():
            org = identity.get_or_create_org(
                session,
                org_def["slug"],
                org_def["name"],
                org_def["kind"],
                region=org_def.get("region"),
                country=org_def.get("country"),
            )
            email = f"conseiller@{org_def['slug']}.demo"
            if session.scalar(select(User).where(User.email == email)) is None:
                password = secrets.token_urlsafe(9)
                user = identity.create_user(
                    session,
                    email=email,
                    org=org,
                    role="contributor",
                    name=f"Conseiller {org_def['name']}",
                    password=password,
                )
                audit.record(
                    session,
                    "user.create",
                    audit.Actor.system("demo"),
                    target_kind="user",
                    target_id=str(user.id),
                    detail={"email": email, "demo": True},
                )
                creds["accounts"] = [a for a in creds["accounts"] if a["email"] != email]
                creds["accounts"].append({"org": org_def["slug"], "email": email, "password": password})
            elif email not in known:
                creds["accounts"].append({"org": org_def["slug"], "email": email, "password": "(inchangé)"})
        if not creds.get("token"):
            first = creds["accounts"][0]["email"]
            user = identity.find_user(session, first)
            _, raw = identity.create_token(session, user, name="demo")
            creds["token"] = raw
    _write_credentials(path, creds)
    return creds


@dataclass
class DemoProgress:
    """Where a background demo load stands, for the banner of the pages (French) and the CLI."""

    phase: str = "documents"  # documents → veille → historique → vecteurs → terminé | échec
    done: int = 0
    total: int = 0
    vectors: int = 0
    error: str | None = None
    result: dict[str, Any] | None = None

    @property
    def running(self) -> bool:
        return self.phase not in ("terminé", "échec")

    def notice(self) -> str | None:
        """One French sentence for the page banner while loading (``None`` once done)."""
        if self.phase == "documents":
            return (
                f"Chargement du corpus de démonstration : {self.done} / {self.total} documents. "
                "Les documents chargés sont déjà cherchables par mots-clés ; actualisez pour suivre."
            )
        if self.phase == "veille":
            return (
                "Veille de démonstration : inscription des sources et première relève (flux, page "
                "d'actualités, page surveillée)…"
            )
        if self.phase == "historique":
            return (
                "Démonstration : simulation de quelques semaines d'activité des collègues du réseau "
                "(recherches, lectures, alertes) pour les tableaux de bord…"
            )
        if self.phase == "vecteurs":
            return (
                f"Corpus chargé ; calcul des vecteurs pour la recherche sémantique : {self.vectors} passages "
                "traités. La recherche par mots-clés fonctionne déjà."
            )
        if self.phase == "échec":
            return f"Le chargement de la démonstration a échoué : {self.error}"
        return None


def load_demo(
    rt: Runtime,
    progress: bool = True,
    admin_password: str | None = None,
    *,
    embed: bool = True,
    status: DemoProgress | None = None,
    weeks: int = 0,
) -> dict[str, Any]:
    """Create the demo organisations and accounts, ingest the corpus (per its manifest), catalogue the
    demo sources and poll them once over HTTP (the demo site is started if it is not running), with the
    advisers' demo alerts created before that poll and their first instant digests sent after it.

    ``embed=False`` indexes the documents for BM25 only (vectors later, see ``backfill_demo``; watch items
    get theirs at once, as every poll's do); ``status`` is updated as the load goes (the background load
    of ``tfe demo`` shows it on the pages). The result's ``watch`` counts sources and polled items, its
    ``alerts`` the demo subscriptions and the digests sent (``tfe.app.demo.alerts.first_digests``).
    ``weeks`` (0: none) adds that many weeks of the colleagues' simulated activity
    (``tfe.app.demo.activity``) once per installation; the result's ``activity`` is its report, or
    ``None`` when none was played (not asked, or played before).
    """
    status = status or DemoProgress()
    use_demo_vectors(rt)
    site = demo_site(rt)
    creds = ensure_demo_accounts(rt, admin_password)
    groups: dict[tuple[str, str, str], list[Path]] = defaultdict(list)
    for entry in load_manifest():
        key = (entry["org"], entry["visibility"], entry["doc_type"])
        groups[key].append(CORPUS_DIR / entry["file"])
    totals = {"ok": 0, "duplicate": 0, "failed": 0}
    status.phase, status.total = "documents", sum(len(p) for p in groups.values())
    bar = tqdm(total=status.total, desc="corpus", unit="doc", disable=not progress)
    reviewed: list[str] = []
    for (org, visibility, doc_type), paths in sorted(groups.items()):
        owner = f"conseiller@{org}.demo" if visibility == "private" else None
        report = rt.documents.ingest_paths(
            paths,
            org_slug=org,
            visibility=visibility,
            doc_type=f"doctype:{doc_type}",
            owner_email=owner,
            embed=embed,
            progress=False,
            channel="demo",
        )
        bar.update(len(paths))
        status.done += len(paths)
        for state in totals:
            totals[state] += report[state]
        reviewed.extend(e["id"] for e in report["items"] if e["status"] == "ok" and e["id"])
    bar.close()
    with rt.session() as session:  # reviewed reference documents: validated, so the whole network sees them
        validate_imported(session, rt.backend, rt.referential, reviewed, channel="demo")
    status.phase = "veille"
    watch, alerts = load_watch_and_alerts(rt, site)
    activity = None
    if weeks and not already_simulated(rt):
        status.phase = "historique"
        activity = simulate_activity(rt, weeks=weeks, progress=progress).as_dict()
    return {
        "documents": totals,
        "watch": watch,
        "alerts": alerts,
        "activity": activity,
        "admin": creds.get("admin"),
        "accounts": creds["accounts"],
        "token": creds["token"],
    }


def load_watch_and_alerts(rt: Runtime, site: DemoSite) -> tuple[dict[str, Any], dict[str, Any]]:
    """The demo's alerts around the watch's first poll: subscriptions first (they receive what is accepted
    after their creation), then the poll, then the showcase stories accepted and the instant digests run."""
    placed = place_subscriptions(rt)
    watch = load_watch(rt, site)
    return watch, first_digests(rt, placed)


def backfill_demo(rt: Runtime, status: DemoProgress, batch: int = 16) -> int:
    """Vectors for the passages indexed without one, a batch at a time under the runtime's ingest lock
    (so uploads made meanwhile interleave with it instead of waiting for the whole back-fill)."""
    status.phase = "vecteurs"
    while done := backfill_batch(rt, batch):
        status.vectors += done
    return status.vectors


def demo_site(rt: Runtime) -> DemoSite:
    """The demo site of this installation, running (started on first use in the process)."""
    return ensure_site(rt.settings.resolved_data_dir)


def start_demo_load(rt: Runtime, weeks: int = 0) -> DemoProgress:
    """Load the demo in a background thread: BM25 first (each document searchable once ingested), then
    the watch, then the simulated activity (``weeks``, see ``load_demo``), then the vectors; the returned
    ``DemoProgress`` follows it. Re-running resumes what an interruption left. The demo site is started
    first, and sources left on another port moved to its address, so the worker's first polls already
    reach it."""
    place_sources(rt, demo_site(rt), add=False)
    status = DemoProgress()

    def work() -> None:
        try:
            status.result = load_demo(rt, progress=False, embed=False, status=status, weeks=weeks)
            backfill_demo(rt, status)
            status.phase = "terminé"
            log.info("demo loaded documents=%s vectors=%d", status.result["documents"], status.vectors)
        except Exception as exc:  # shown on the pages; the server keeps serving what is loaded
            log.exception("demo load failed")
            status.phase, status.error = "échec", f"{type(exc).__name__}: {exc}"[:300]

    threading.Thread(target=work, name="tfe-demo-load", daemon=True).start()
    return status
