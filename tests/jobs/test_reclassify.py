"""Reclassification after a taxonomy change (issue 10 §4): preview numbers, the run and its facets, curator
rows kept, a run resumed after a crash, the API and the job queue.

One installation (``tests.web.conftest.make_installation``) with watch items saved through the writer;
the changes are written as the editing functions write them (``tests.jobs.reclassify_seed.edit``): an
alternative label "Zorglubie" for Viêt Nam makes the items naming it gain the country.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from taxonomy.classifications import record_curator_decision
from taxonomy.models import Classification, Concept, ReclassifyRun
from tests.jobs.reclassify_seed import add_items, edit
from tests.web.conftest import make_installation
from tfe.app.jobs import reclassify
from tfe.app.runtime import Runtime
from tfe.app.web.app import create_app

VN = "country:VN"
JP = "country:JP"


class World:
    def __init__(
        self, rt: Runtime, client: TestClient, tokens: dict[str, str], users: dict[str, int]
    ) -> None:
        self.rt, self.client, self.tokens, self.users = rt, client, tokens, users
        self.ids: dict[str, str] = {}

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def concepts_of(self, item_id: str) -> dict[str, str]:
        """concept id -> method of the item's rows."""
        with self.rt.session() as s:
            rows = s.scalars(select(Classification).where(Classification.target_id == item_id)).all()
            return {r.concept_id: r.method for r in rows}


def _alt(rt: Runtime, concept_id: str, label: str) -> dict[str, Any]:
    with rt.session() as s:
        row = s.get(Concept, concept_id)
        assert row is not None
        alt = {k: list(v) for k, v in (row.alt_labels or {}).items()}
    alt["fr"] = [*alt.get("fr", []), label]
    return {"alt_labels": alt}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    rt, seed = make_installation(tmp_path_factory.mktemp("reclassify") / "data")
    w = World(rt, TestClient(create_app(rt)), seed.tokens, seed.users)
    gain = add_items(
        rt,
        [
            ("Le fromage en Zorglubie", "Les fromagers exportent en Zorglubie depuis 2020."),
            ("Salon à Zorglubie", "Un salon de l'ameublement se tient en Zorglubie en mars."),
            ("Zorglubie : appel d'offres", "La Zorglubie lance un appel d'offres pour un hôpital."),
        ],
    )
    (w.ids["lose"],) = add_items(rt, [("Chaussures", "Des chaussures italiennes à Milan.")], countries=(VN,))
    (w.ids["kept"],) = add_items(rt, [("Meubles", "Des meubles en bois massif à Lyon.")], countries=(VN,))
    (w.ids["rejected"],) = add_items(rt, [("Zorglubie et vin", "Le vin français en Zorglubie.")])
    (w.ids["other"],) = add_items(rt, [("Textile", "Le textile technique en Allemagne.")])
    # held by the e5/learned model: the lexical re-run cannot judge it, so it is neither lost nor rewritten
    (w.ids["modelled"],) = add_items(rt, [("Bijoux", "Des bijoux en or à Lyon.")], countries=(VN,))
    w.ids.update({f"gain{n}": i for n, i in enumerate(gain)})
    with rt.session() as s:
        record_curator_decision(s, "item", w.ids["kept"], [VN], keep=True, user_id=seed.users["carol"])
        record_curator_decision(s, "item", w.ids["rejected"], [VN], keep=False, user_id=seed.users["carol"])
        for row in s.scalars(select(Classification).where(Classification.target_id == w.ids["modelled"])):
            row.method = "model"
        s.commit()
    with w.client:
        yield w
    rt.close()


def test_preview_counts_gains_and_losses_without_writing(world: World) -> None:
    change_id = edit(world.rt, VN, _alt(world.rt, VN, "Zorglubie"))
    world.ids["change"] = str(change_id)
    with world.rt.session() as s:
        run = reclassify.preview(s, change_id, world.users["carol"], rt=world.rt)
        body = reclassify.as_dict(run)
    counts = body["preview"]["concepts"][VN]
    # three items name Zorglubie; the one a curator rejected the country on is not counted
    assert (counts["gain"], counts["lose"]) == (3, 1)
    assert counts["item"] == {"gain": 3, "lose": 1}
    assert body["status"] == "preview" and body["total"] >= 6  # gains, holders (kept, lose), rejected
    assert body["summary"].startswith("3 éléments de veille gagneraient le concept « Viêt Nam »")
    assert "1 élément de veille le perdrait" in body["summary"]
    assert VN not in world.concepts_of(world.ids["gain0"])  # a preview writes nothing


def test_run_applies_keeps_curator_rows_and_facets_change_at_once(world: World) -> None:
    change_id = int(world.ids["change"])
    with world.rt.session() as s:
        run_id = reclassify.preview(s, change_id, None, rt=world.rt).id
    seen: list[tuple[int, int]] = []
    body = reclassify.run(world.rt.session_factory, run_id, lambda d, t: seen.append((d, t)), rt=world.rt)
    assert body["status"] == "done" and body["done"] == body["total"] and seen[-1] == (body["total"],) * 2
    assert body["result"]["concepts"][VN]["gain"] == 3 and body["result"]["concepts"][VN]["lose"] == 1
    for n in range(3):
        assert world.concepts_of(world.ids[f"gain{n}"])[VN] == "rule"
    assert VN not in world.concepts_of(world.ids["lose"])
    assert world.concepts_of(world.ids["kept"])[VN] == "curator"  # a person's decision survives
    assert world.concepts_of(world.ids["rejected"])[VN] == "curator"  # still rejected, not re-added
    assert world.concepts_of(world.ids["modelled"])[VN] == "model"  # the model's row is kept as it was
    assert world.concepts_of(world.ids["other"]).get("naf:46.90") == "rule"  # untouched concepts stay
    found = world.client.get(
        "/api/search", params={"q": "Zorglubie", "country": VN, "mode": "bm25"}, headers=world.auth("carol")
    ).json()
    assert {h["id"] for h in found["hits"]} == {world.ids[f"gain{n}"] for n in range(3)}
    facet = {f["id"]: f["count"] for f in found["facets"]["country"]}
    assert facet[VN] == 3
    again = reclassify.run(world.rt.session_factory, run_id, rt=world.rt)  # done: nothing more to do
    assert again["done"] == body["done"] and again["status"] == "done"


def test_a_crashed_run_resumes_after_its_cursor(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = add_items(world.rt, [(f"Quuxland {n}", f"Le marché du Quuxland, épisode {n}.") for n in range(5)])
    change_id = edit(world.rt, JP, _alt(world.rt, JP, "Quuxland"))
    monkeypatch.setattr(reclassify, "BATCH", 2)
    with world.rt.session() as s:
        run_id = reclassify.preview(s, change_id, None, rt=world.rt).id

    def crash(done: int, total: int) -> None:
        if done == 2:
            raise RuntimeError("panne simulée")

    with pytest.raises(RuntimeError):
        reclassify.run(world.rt.session_factory, run_id, crash, rt=world.rt)
    with world.rt.session() as s:
        row = s.get(ReclassifyRun, run_id)
        assert row is not None
        assert (row.status, row.done) == ("failed", 2) and "panne simulée" in row.error
        cursor = row.cursor
    assert cursor is not None
    # targets in processing order (documents holding Japan come first): those up to the cursor are
    # done, the others wait
    assert all(JP in world.concepts_of(i) for i in ids if f"item:{i}" <= cursor)
    after = [i for i in ids if f"item:{i}" > cursor]
    assert after and all(JP not in world.concepts_of(i) for i in after)
    resumed: list[int] = []
    body = reclassify.run(world.rt.session_factory, run_id, lambda d, t: resumed.append(d), rt=world.rt)
    assert body["status"] == "done" and body["error"] == ""
    assert resumed[0] == 4  # started after the cursor, not from the beginning
    assert all(world.concepts_of(i).get(JP) == "rule" for i in ids)
    assert body["result"]["concepts"][JP]["gain"] == 5


def test_api_preview_start_progress_and_refusals(world: World) -> None:
    (item,) = add_items(world.rt, [("Blorpistan", "Les entreprises du Blorpistan investissent.")])
    change_id = edit(world.rt, "country:IS", _alt(world.rt, "country:IS", "Blorpistan"))
    url = f"/api/taxonomy/changes/{change_id}/reclassify"
    carol, alice = world.auth("carol"), world.auth("alice")
    assert world.client.get(url, headers=alice).status_code == 403
    assert world.client.post(url, headers=alice).status_code == 403
    assert world.client.get(url).status_code == 401
    assert world.client.get("/api/taxonomy/changes/999999/reclassify", headers=carol).status_code == 404
    preview = world.client.get(url, headers=carol)
    assert preview.status_code == 200, preview.text
    assert preview.json()["preview"]["concepts"]["country:IS"]["gain"] == 1
    started = world.client.post(url, headers=carol)
    assert started.status_code == 200 and started.json()["status"] == "done"
    assert world.concepts_of(item)["country:IS"] == "rule"
    run = world.client.get(f"/api/taxonomy/reclassify/{started.json()['id']}", headers=carol).json()
    assert run["status"] == "done" and run["progress"] == 1.0
    assert "a gagné le concept « Islande »" in run["summary"]
    missing = world.client.get("/api/taxonomy/reclassify/999999", headers=carol)
    assert missing.status_code == 404 and "introuvable" in missing.json()["error"]["message"]


def test_after_change_without_runtime_and_the_job_past_the_inline_limit(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = add_items(
        world.rt, [(f"Snarfland {n}", f"Les exportations vers le Snarfland, {n}.") for n in range(3)]
    )
    change_id = edit(world.rt, "country:ES", _alt(world.rt, "country:ES", "Snarfland"))
    monkeypatch.setattr(reclassify, "INLINE_LIMIT", 1)
    enqueued: list[int] = []
    monkeypatch.setattr(reclassify, "enqueue", lambda rt, run_id: enqueued.append(run_id))
    with world.rt.session() as s:  # the runtime is the one the web app registered for this engine
        body = reclassify.after_change(s, change_id)
    assert body["status"] == "preview" and body["total"] >= 3 and enqueued == [body["id"]]
    assert all("country:ES" not in world.concepts_of(i) for i in ids)  # queued, not run
    from tfe.app.jobs import Jobs

    jobs = Jobs(world.rt)
    jobs.reclassify.call_local(body["id"])  # what the worker runs
    assert all(world.concepts_of(i).get("country:ES") == "rule" for i in ids)


def test_reclassify_targets_skip_documents_in_the_trash(world: World, tmp_path: Path) -> None:
    from tfe.app.jobs.reclassify_targets import load

    with world.rt.session() as s:
        doc_id = s.scalars(
            select(Classification.target_id).where(Classification.target_kind == "document")
        ).first()
        assert doc_id is not None
        assert [t.id for t in load(s, [("document", doc_id)])] == [doc_id]
        from ged.models import Document
        from tfe.core.db import utcnow

        doc = s.get(Document, doc_id)
        assert doc is not None
        doc.deleted_at = utcnow()
        s.flush()
        assert load(s, [("document", doc_id)]) == []
        s.rollback()
