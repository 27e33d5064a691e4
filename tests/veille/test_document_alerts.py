"""Documents reach alerts once a curator validates them (``ged.editing`` status, then ``DigestService.run``).

Reuses the digest tests' installation (``world``: SQLite and PostgreSQL, recording channels). Uploads go
through the real ingest runner; the validation through the editing use case the API and the page call.
"""

from __future__ import annotations

import datetime as dt

from ged.editing import DocumentChanges, edit_document
from ingest.item import IngestItem
from tests.veille.test_digests import World, digests_for, run, subscribe
from tests.veille.test_digests import world as world  # the module-scoped installation fixture
from tfe.core.models import User
from veille.alerts.matching import read_passages
from veille.alerts.models import Subscription


def _upload(w: World, name: str) -> str:
    with w.rt.session() as session:
        curator = session.get(User, w.users["curator"])
        assert curator is not None
        org_id = curator.org_id
    text = f"Note pays : le rooibos en Afrique du Sud ({name}), filières et exportateurs français."
    item = IngestItem(
        key=f"upload:test:{name}",
        kind="document",
        filename=f"{name}.txt",
        data=text.encode(),
        title=name,
        org_id=org_id,
        visibility="network",
    )
    report = w.rt.runner("document", False).run_items([item], kind="upload", progress=False)
    assert report["ok"] == 1, report
    return str(report["items"][0]["id"])


def _edit(w: World, doc_id: str, changes: DocumentChanges) -> dict[str, object]:
    with w.rt.session() as session:
        curator = session.get(User, w.users["curator"])
        assert curator is not None
        backend, referential = w.rt.backend, w.rt.referential
        return edit_document(session, backend, referential, curator, doc_id, changes, channel="api").changed


def _sent(w: World, sub: int) -> list[tuple[str, str]]:
    return [(e.kind, e.id) for d in digests_for(w, "email", sub) for e in d.entries]


def test_a_draft_never_reaches_a_documents_subscription_and_once_validated_is_sent_once(
    world: World,
) -> None:
    w = world
    w.reset_channels()
    before = _upload(w, "Rooibos : note antérieure")  # uploaded before the subscription existed
    sub = subscribe(w, "reader", "Documents rooibos", q="rooibos")
    with w.rt.session() as session:
        row = session.get(Subscription, sub)
        assert row is not None
        row.scope = "documents"
    after = _upload(w, "Rooibos : note récente")  # uploaded within the subscription's window
    passages = read_passages(w.rt.backend, [before, after])
    assert {p.meta["status"] for ps in passages.values() for p in ps} == {"draft"}
    first_stamp = passages[before][0].meta["indexed_at"]

    run(w)
    assert _sent(w, sub) == []  # drafts are not news

    assert _edit(w, before, DocumentChanges(status="validated")) == {"status": ["draft", "validated"]}
    assert _edit(w, after, DocumentChanges(status="validated")) == {"status": ["draft", "validated"]}
    stamped = read_passages(w.rt.backend, [before])[before][0].meta
    assert stamped["status"] == "validated"
    assert dt.datetime.fromisoformat(stamped["indexed_at"]) > dt.datetime.fromisoformat(first_stamp)

    report = run(w)
    assert report["failed"] == 0 and report["sent"] >= 1
    assert sorted(_sent(w, sub)) == sorted([("document", before), ("document", after)])
    assert len(digests_for(w, "email", sub)) == 1

    run(w)  # the next run sends nothing more
    _edit(
        w, before, DocumentChanges(title="Rooibos : note antérieure, mise à jour")
    )  # an edit is not a new validation
    run(w)
    assert len(digests_for(w, "email", sub)) == 1
