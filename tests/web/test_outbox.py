"""The outbox page (/admin/boite-d-envoi): admins read the e-mails kept without a relay, in their scope."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from markupsafe import escape
from sqlalchemy import select

from tests.web.test_unsubscribe import HTML, AlertSite, make_alert_site
from veille.alerts.models import AlertMessage
from veille.channels import registry
from veille.channels.outbox import OUTBOX, OutboxChannel
from veille.channels.testing import sample_digest

NATIONAL = ("admin@tfe.local", "admin-password-123")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AlertSite]:
    yield from make_alert_site(tmp_path_factory.mktemp("outbox"))


@pytest.fixture(scope="module")
def kept(site: AlertSite) -> dict[str, int]:
    """One e-mail to alice (alpha) and one to carla (beta), through the channel the registry gives."""
    channel = registry.available(site.rt.settings, site.rt.session_factory)["email"]
    assert isinstance(channel, OutboxChannel)
    ids: dict[str, int] = {}
    for who, email in (("alice", "alice@alpha.fr"), ("carla", "carla@beta.fr")):
        sub_id = site.subscribe(who, f"Veille de {who}")
        assert (
            channel.send(sample_digest(sub_id, site.rt.settings.public_url), target=email).outcome == "sent"
        )
        with site.rt.session() as session:
            row = session.scalars(
                select(AlertMessage).where(
                    AlertMessage.subscription_id == sub_id, AlertMessage.channel == OUTBOX
                )
            ).one()
            ids[who] = row.id
    return ids


def test_national_admin_reads_every_message(site: AlertSite, kept: dict[str, int]) -> None:
    site.sign_in(*NATIONAL)
    listing = site.client.get("/admin/boite-d-envoi", headers=HTML)
    assert listing.status_code == 200 and "Boîte d'envoi" in listing.text
    assert "Aucun relais SMTP n'est configuré" in listing.text and "2 messages" in listing.text
    assert "alice@alpha.fr" in listing.text and "carla@beta.fr" in listing.text
    assert f'href="/admin/boite-d-envoi/{kept["alice"]}"' in listing.text
    assert 'href="/admin/boite-d-envoi">Boîte d\'envoi</a>' in listing.text  # the nav link
    page = site.client.get(f"/admin/boite-d-envoi/{kept['alice']}", headers=HTML)
    assert page.status_code == 200
    assert "List-Unsubscribe-Post" in page.text and "List-Unsubscribe=One-Click" in page.text
    assert "Auto-Submitted" in page.text and "Message-ID" in page.text
    assert "[Veille TFE] agroalimentaire × Vietnam : 2 actualités, 1 document" in page.text
    frame_url = f"/admin/boite-d-envoi/{kept['alice']}/html"
    assert 'sandbox=""' in page.text and f'src="{frame_url}"' in page.text
    frame = site.client.get(frame_url, headers=HTML)
    assert frame.status_code == 200 and frame.headers["content-type"].startswith("text/html")
    policy = frame.headers["content-security-policy"]
    assert "sandbox" in policy and "script-src" not in policy and "frame-ancestors 'self'" in policy
    with site.rt.session() as session:
        row = session.get(AlertMessage, kept["alice"])
        assert row is not None
        assert frame.text == row.body_html  # the HTML only inside the sandboxed frame
        assert row.body_html not in page.text and str(escape(row.body_text)) in page.text
    assert "<script" not in row.body_html and "&lt;2025&gt;" in row.body_html
    assert site.events("outbox.read", kept["alice"])


def test_organisation_admin_sees_only_their_users(site: AlertSite, kept: dict[str, int]) -> None:
    site.sign_in("admin_b@beta.fr")
    listing = site.client.get("/admin/boite-d-envoi", headers=HTML)
    assert listing.status_code == 200 and "1 message" in listing.text
    assert "carla@beta.fr" in listing.text and "alice@alpha.fr" not in listing.text
    assert site.client.get(f"/admin/boite-d-envoi/{kept['carla']}", headers=HTML).status_code == 200
    assert site.client.get(f"/admin/boite-d-envoi/{kept['alice']}", headers=HTML).status_code == 404
    assert site.client.get(f"/admin/boite-d-envoi/{kept['alice']}/html").status_code == 404


def test_others_are_refused(site: AlertSite, kept: dict[str, int]) -> None:
    site.sign_in("alice@alpha.fr")
    refused = site.client.get("/admin/boite-d-envoi", headers=HTML)
    assert refused.status_code == 403 and "Accès refusé" in refused.text
    assert "boite-d-envoi" not in site.client.get("/mes-recherches", headers=HTML).text
    site.client.cookies.clear()
    anonymous = site.client.get(f"/admin/boite-d-envoi/{kept['alice']}", follow_redirects=False)
    assert anonymous.status_code in (302, 303, 307) and "/login" in anonymous.headers["location"]
    site.sign_in(*NATIONAL)
    assert site.client.get("/admin/boite-d-envoi/999999", headers=HTML).status_code == 404
    assert site.client.get("/admin/boite-d-envoi/zéro", headers=HTML).status_code == 400
