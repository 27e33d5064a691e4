"""Load the bundled demo: organisations, one adviser per organisation, the demo corpus and feeds.

Generated demo passwords and a demo API token are kept in ``<data dir>/demo-credentials.json`` (mode 600)
so that re-running ``tfe demo`` can print them again; nothing else stores a clear secret.
"""

from __future__ import annotations

import json
import os
import secrets
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from tqdm import tqdm

from tfe.app.demo import CORPUS_DIR, FEEDS_DIR, load_manifest, load_organisations
from tfe.core.models import User
from tfe.core.security import audit, identity

if TYPE_CHECKING:
    from tfe.app.runtime import Runtime


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
            org = identity.get_or_create_org(session, org_def["slug"], org_def["name"], org_def["kind"])
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


def load_demo(rt: Runtime, progress: bool = True, admin_password: str | None = None) -> dict[str, Any]:
    """Create the demo organisations and accounts, ingest the corpus (per its manifest) and the feeds."""
    creds = ensure_demo_accounts(rt, admin_password)
    groups: dict[tuple[str, str, str], list[Path]] = defaultdict(list)
    for entry in load_manifest():
        key = (entry["org"], entry["visibility"], entry["doc_type"])
        groups[key].append(CORPUS_DIR / entry["file"])
    totals = {"ok": 0, "duplicate": 0, "failed": 0}
    bar = tqdm(total=sum(len(p) for p in groups.values()), desc="corpus", unit="doc", disable=not progress)
    for (org, visibility, doc_type), paths in sorted(groups.items()):
        owner = f"conseiller@{org}.demo" if visibility == "private" else None
        report = rt.documents.ingest_paths(
            paths,
            org_slug=org,
            visibility=visibility,
            doc_type=f"doctype:{doc_type}",
            owner_email=owner,
            progress=False,
            channel="demo",
        )
        bar.update(len(paths))
        for state in totals:
            totals[state] += report[state]
    bar.close()
    feeds = {"ok": 0, "duplicate": 0, "failed": 0}
    for feed in sorted(FEEDS_DIR.iterdir()):
        if feed.suffix in (".rss", ".atom", ".xml"):
            report = rt.watch.ingest_feed(
                str(feed), org_slug=None, visibility="network", progress=progress, channel="demo"
            )
            for state in feeds:
                feeds[state] += report[state]
    return {
        "documents": totals,
        "feeds": feeds,
        "admin": creds.get("admin"),
        "accounts": creds["accounts"],
        "token": creds["token"],
    }
