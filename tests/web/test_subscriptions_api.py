"""``/api/subscriptions``: CRUD, refusals (bad query, unknown sector, webhook guards), owner only, GDPR."""

from __future__ import annotations

from typing import Any

from tests.web.conftest import Installation


def _create(installation: Installation, who: str, **body: Any) -> Any:
    return installation.client.post("/api/subscriptions", json=body, headers=installation.auth(who))


def test_create_read_edit_delete(installation: Installation) -> None:
    r = _create(
        installation,
        "alice",
        query="vins",
        sectors=["11"],
        countries=["Allemagne"],
        channels=["email", "atom"],
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert [s["id"] for s in body["sectors"]] == ["naf:11"]
    assert body["countries"] == [{"id": "country:DE", "label": "Allemagne"}]
    assert body["atom_url"].startswith(installation.rt.settings.public_url.rstrip("/") + "/alertes/atom/")
    sub_id = body["id"]
    auth = installation.auth("alice")
    got = installation.client.get(f"/api/subscriptions/{sub_id}", headers=auth).json()
    assert got["atom_enabled"] is True and "atom_url" not in got  # the secret is shown once
    listed = installation.client.get("/api/subscriptions", headers=auth).json()
    assert sub_id in [s["id"] for s in listed["subscriptions"]]
    patched = installation.client.patch(
        f"/api/subscriptions/{sub_id}", json={"paused": True, "frequency": "instant"}, headers=auth
    )
    assert patched.status_code == 200 and patched.json()["paused"] is True
    regenerated = installation.client.post(f"/api/subscriptions/{sub_id}/atom-token", headers=auth)
    assert regenerated.status_code == 200 and regenerated.json()["atom_url"] != body["atom_url"]
    history = installation.client.get(f"/api/subscriptions/{sub_id}/history", headers=auth)
    assert history.status_code == 200 and history.json() == {"total": 0, "messages": []}
    preview = installation.client.get(f"/api/subscriptions/{sub_id}/preview", headers=auth)
    assert preview.status_code == 200 and preview.json()["days"] == 7
    assert installation.client.delete(f"/api/subscriptions/{sub_id}", headers=auth).status_code == 204
    assert installation.client.get(f"/api/subscriptions/{sub_id}", headers=auth).status_code == 404


def test_another_users_subscription_is_404(installation: Installation) -> None:
    sub_id = _create(installation, "alice", query="vins").json()["id"]
    bob = installation.auth("bob")
    assert installation.client.get(f"/api/subscriptions/{sub_id}", headers=bob).status_code == 404
    assert (
        installation.client.patch(
            f"/api/subscriptions/{sub_id}", json={"paused": True}, headers=bob
        ).status_code
        == 404
    )
    assert installation.client.delete(f"/api/subscriptions/{sub_id}", headers=bob).status_code == 404
    assert installation.client.get(f"/api/subscriptions/{sub_id}/history", headers=bob).status_code == 404
    installation.client.cookies.clear()  # a page test of the module may have signed the shared client in
    assert installation.client.get("/api/subscriptions").status_code == 401


def test_refusals_are_400_with_a_clear_message(installation: Installation) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"query": '"vins'}, "requête illisible"),
        ({"query": "vins", "sectors": ["99.99Z"]}, "99.99Z"),
        ({"query": "vins", "countries": ["Atlantide"]}, "Atlantide"),
        ({"query": "vins", "channels": ["webhook"], "webhook_url": "http://10.0.0.7/hook"}, ""),
        ({"query": "vins", "channels": ["webhook"], "webhook_url": "http://127.0.0.1:8000/x"}, "plateforme"),
        ({"query": "vins", "channels": ["webhook"], "webhook_url": "file:///etc/passwd"}, "http(s)"),
        ({"query": "vins", "frequency": "weekly"}, "hebdomadaire"),
        ({"query": "vins", "send_time": "25:00"}, ""),
        ({"query": "vins", "colour": "red"}, ""),
    ]
    for body, message in cases:
        r = _create(installation, "alice", **body)
        assert r.status_code == 400, (body, r.text)
        assert message in r.json()["error"]["message"], (body, r.json())


def test_public_webhook_gets_a_secret_once(installation: Installation) -> None:
    r = _create(
        installation, "alice", query="vins", channels=["webhook"], webhook_url="https://93.184.216.34/hook"
    )
    assert r.status_code == 201, r.text
    assert len(r.json()["webhook_secret"]) == 64
    sub_id = r.json()["id"]
    got = installation.client.get(f"/api/subscriptions/{sub_id}", headers=installation.auth("alice")).json()
    assert "webhook_secret" not in got and got["webhook_url"] == "https://93.184.216.34/hook"


def test_gdpr_export_and_delete_all(installation: Installation) -> None:
    _create(installation, "reader", query="cosmétiques")
    _create(installation, "reader", query="vins", countries=["JP"])
    bob_id = _create(installation, "bob", query="vins").json()["id"]
    auth = installation.auth("reader")
    exported = installation.client.get("/api/subscriptions/export", headers=auth)
    assert exported.status_code == 200
    assert [s["query"] for s in exported.json()["subscriptions"]] == ["cosmétiques", "vins"]
    assert exported.json()["user"]["email"] == "reader@alpha.fr"
    deleted = installation.client.delete("/api/subscriptions", headers=auth)
    assert deleted.status_code == 200 and deleted.json() == {"deleted": 2}
    assert installation.client.get("/api/subscriptions", headers=auth).json()["total"] == 0
    bob = installation.auth("bob")
    assert installation.client.get(f"/api/subscriptions/{bob_id}", headers=bob).status_code == 200
