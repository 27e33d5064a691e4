"""The French pages of the source catalogue (``/veille/sources``) through the test client.

One installation with two organisations (alpha, beta), their curators, a reader of alpha and the
administrator, and a local feed server: add a feed with preview, edit, pause, poll, delete with
confirmation, OPML import and export, the health badge and the failing banner, refusals and CSRF.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from tests.conftest import make_settings
from tests.veille.feedserver import FeedServer, Route, feed_server, rss
from tests.veille.test_catalogue import _catalogue
from tests.veille.test_opml import OPML
from tfe.app.install import init_installation
from tfe.app.runtime import Runtime
from tfe.app.web.app import create_app
from tfe.app.web.pages.source_form import SourceForm
from tfe.app.web.pages.sources import ago, every, paris
from tfe.core.errors import NotFoundError
from tfe.core.models import Organisation
from tfe.core.security import identity
from tfe.core.security.scope import AccessScope
from tfe.core.settings import Settings
from veille.models import Item, Source, SourcePoll
from veille.opml import parse_opml
from veille.source_rules import SourceSpec

PASSWORD = "motdepasse-solide-42"
USERS = (("cur-a", "alpha", "curator"), ("cur-b", "beta", "curator"), ("read-a", "alpha", "reader"))
HTML = {"accept": "text/html"}


@dataclass
class Site:
    rt: Runtime
    client: TestClient
    server: FeedServer

    def login(self, who: str) -> str:
        """Sign in as ``who`` (``admin`` or a key of ``USERS``); returns the session's CSRF token."""
        client = self.client
        client.cookies.clear()
        csrf = _csrf(client.get("/login").text)
        email = self.rt.settings.admin_email if who == "admin" else _email(who)
        password = "admin-password-123" if who == "admin" else PASSWORD
        done = client.post("/login", data={"email": email, "password": password, "csrf": csrf, "next": "/"})
        assert done.status_code == 200, done.text
        return _csrf(client.get("/veille/sources").text)


def _email(who: str) -> str:
    return f"{who}@{dict((k, o) for k, o, _ in USERS)[who]}.fr"


def _csrf(html: str) -> str:
    return html.split('name="csrf" value="')[1].split('"')[0]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    rt = Runtime(make_settings(tmp_path_factory.mktemp("sources-pages"), secret_key="test-secret-key"))
    init_installation(rt)
    with rt.session() as session:
        for key, slug, role in USERS:
            org = identity.get_or_create_org(session, slug, f"CCI {slug.capitalize()}", "regional_chamber")
            identity.create_user(
                session, email=f"{key}@{slug}.fr", org=org, role=role, name=key, password=PASSWORD
            )
    with feed_server() as server, TestClient(create_app(rt), headers=HTML) as client:
        server.routes["/vins.xml"] = Route(
            body=rss("Vins du monde", [("v1", "Les vins en Allemagne", "Texte"), ("v2", "ProWein", "Salon")])
        )
        server.routes["/"] = Route(
            body=b'<html><link rel="alternate" type="application/rss+xml" href="/vins.xml"></html>',
            content_type="text/html",
        )
        server.routes["/casse.xml"] = Route(status=500)
        yield Site(rt=rt, client=client, server=server)
    rt.close()


def _form(**fields: str) -> dict[str, str]:
    base = {"url": "", "kind": "feed", "title": "", "visibility": "network", "action": "save"}
    return {**base, **fields}


def _source(site: Site, source_id: int) -> Source | None:
    with site.rt.session() as session:
        found = session.get(Source, source_id)
        if found is not None:
            session.expunge(found)
        return found


def _remove_all(site: Site) -> None:
    with site.rt.session() as session:
        session.query(SourcePoll).delete()
        session.query(Item).update({Item.source_id: None})
        session.query(Source).delete()


@pytest.fixture(autouse=True)
def empty_catalogue(site: Site) -> Iterator[None]:
    _remove_all(site)
    yield
    _remove_all(site)


def test_add_a_feed_with_preview_then_edit_pause_and_delete(site: Site) -> None:
    client = site.client
    csrf = site.login("cur-a")
    page = client.get("/veille/sources/nouvelle")
    assert page.status_code == 200 and "Ajouter une source" in page.text and "Prévisualiser" in page.text

    # preview: the page advertises the feed; its entries are shown, nothing is saved
    fields = _form(url=site.server.url + "/", tags="vins, Allemagne", min_interval="30", csrf=csrf)
    preview = client.post("/veille/sources/nouvelle", data={**fields, "action": "preview"})
    assert preview.status_code == 200, preview.text
    assert "Aperçu : Vins du monde" in preview.text and "Les vins en Allemagne" in preview.text
    assert "2 éléments" in preview.text and "/vins.xml</code> sera catalogué" in preview.text
    assert 'value="vins, Allemagne"' in preview.text  # what was typed is kept
    with site.rt.session() as session:
        assert session.query(Source).count() == 0

    saved = client.post("/veille/sources/nouvelle", data=fields, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    source_id = int(saved.headers["location"].rsplit("/", 1)[1])
    detail = client.get(saved.headers["location"])
    assert (
        "« Vins du monde » ajoutée au catalogue" in detail.text and "Flux trouvé sur la page" in detail.text
    )
    assert "Jamais relevée" in detail.text and "Relever maintenant" in detail.text
    assert "Jamais relevée pour l'instant." in detail.text
    source = _source(site, source_id)
    assert source is not None and source.url == site.server.url + "/vins.xml"
    assert source.min_interval_s == 1800 and source.tags == ["vins", "Allemagne"]
    assert source.org_id is not None and source.visibility == "network"

    # the list shows it, with its kind, owner, visibility and badge; filters work
    listing = client.get("/veille/sources")
    assert f'href="/veille/sources/{source_id}"' in listing.text and "Vins du monde" in listing.text
    assert "CCI Alpha" in listing.text and "Réseau" in listing.text and ">Flux<" in listing.text
    assert 'class="health health-unknown"' in listing.text and "Ajouter une source" in listing.text
    assert "1 source" in client.get("/veille/sources?tag=vins").text
    assert "Aucune source ne correspond" in client.get("/veille/sources?kind=watch").text
    assert "Aucune source ne correspond" in client.get("/veille/sources?tag=bois").text

    # edit: the form comes prefilled; a change is saved, an invalid one shown in French
    edit = client.get(f"/veille/sources/{source_id}/modifier")
    assert edit.status_code == 200 and 'value="Vins du monde"' in edit.text and 'value="30"' in edit.text
    form = {**_form(url=source.url, title="Vins (édité)", tags="vins", min_interval="30"), "csrf": csrf}
    done = client.post(f"/veille/sources/{source_id}/modifier", data=form, follow_redirects=False)
    assert done.status_code == 303
    assert "Modifications enregistrées." in client.get(f"/veille/sources/{source_id}").text
    edited = _source(site, source_id)
    assert edited is not None and edited.title == "Vins (édité)" and edited.tags == ["vins"]
    assert edited.min_interval_s == 1800  # untouched
    bad = client.post(
        f"/veille/sources/{source_id}/modifier",
        data={**form, "auto_accept_threshold": "2", "max_interval": "abc"},
    )
    assert bad.status_code == 400 and "un nombre entre 0 et 1" in bad.text and "nombre entier" in bad.text
    wrong = client.post(f"/veille/sources/{source_id}/modifier", data={**form, "country_hints": "Atlantide"})
    assert wrong.status_code == 400 and "Modification impossible" in wrong.text and "Atlantide" in wrong.text
    unchanged = client.post(f"/veille/sources/{source_id}/modifier", data=form, follow_redirects=True)
    assert "Aucune modification." in unchanged.text

    # pause and resume
    page = client.post(f"/veille/sources/{source_id}/pause", data={"csrf": csrf})
    paused = _source(site, source_id)
    assert paused is not None and paused.paused
    assert "Source mise en pause" in page.text and "Reprendre" in page.text and "En pause" in page.text
    client.post(f"/veille/sources/{source_id}/reprendre", data={"csrf": csrf})
    resumed = _source(site, source_id)
    assert resumed is not None and not resumed.paused

    # delete: a confirmation step first; items are kept, detached
    confirm = client.get(f"/veille/sources/{source_id}/supprimer")
    assert confirm.status_code == 200 and "Confirmer la suppression" in confirm.text
    assert "Ses 0 élément déjà relevé" in confirm.text
    not_confirmed = client.post(
        f"/veille/sources/{source_id}/supprimer", data={"csrf": csrf}, follow_redirects=False
    )
    assert not_confirmed.status_code == 303 and _source(site, source_id) is not None
    removed = client.post(f"/veille/sources/{source_id}/supprimer", data={"csrf": csrf, "confirm": "oui"})
    assert removed.status_code == 200 and "« Vins (édité) » supprimée du catalogue." in removed.text
    assert _source(site, source_id) is None
    assert client.get(f"/veille/sources/{source_id}").status_code == 404


@pytest.mark.slow  # the first poll with new items warms the ingest pipeline up (models)
def test_poll_now_lists_the_items_and_delete_keeps_them(site: Site) -> None:
    client = site.client
    view = site.rt.sources.add(
        _scope(site, "cur-a"), SourceSpec(url=site.server.url + "/vins.xml", discover=False), "cli"
    )
    source_id = view.id
    csrf = site.login("cur-a")
    # poll now: health OK, the poll in the history, the items listed
    polled = client.post(f"/veille/sources/{source_id}/relever", data={"csrf": csrf})
    assert polled.status_code == 200
    assert "Relevé effectué : 2 nouveaux éléments." in polled.text
    assert 'id="source-health">OK<' in polled.text
    history = polled.text.split('id="polls"')[1].split("</table>")[0]
    assert "Réussi" in history and ">200<" in history and 'class="poll-new">2<' in history
    items = polled.text.split('id="source-items"')[1]
    assert "Les vins en Allemagne" in items and re.search(r'href="/items/[0-9a-f]+"', items)
    again = client.post(f"/veille/sources/{source_id}/relever", data={"csrf": csrf})
    assert "Relevé effectué : aucun nouvel élément" in again.text or "contenu inchangé" in again.text

    confirm = client.get(f"/veille/sources/{source_id}/supprimer")
    assert "Ses 2 éléments déjà relevés" in confirm.text
    removed = client.post(f"/veille/sources/{source_id}/supprimer", data={"csrf": csrf, "confirm": "oui"})
    assert "ses 2 élément(s) sont conservés" in removed.text
    with site.rt.session() as session:
        # titles are sealed at rest (random nonces): compared once read, not in SQL
        (kept,) = [item for item in session.query(Item) if item.title == "Les vins en Allemagne"]
        assert kept.source_id is None


def test_form_errors_are_shown_in_french(site: Site) -> None:
    client = site.client
    csrf = site.login("cur-a")
    for fields, expected in (
        (_form(url="ftp://example.org/x"), "seules les adresses http(s)"),
        (_form(url=site.server.url + "/vins.xml", min_interval="0"), "entre 1 minute et 7 jours"),
        (_form(url=site.server.url + "/vins.xml", kind="watch", region="a[["), "Enregistrement impossible"),
        (_form(url=site.server.url + "/absent.xml"), "HTTP 404"),
        (_form(url=site.server.url + "/vins.xml", sector_hints="zzz-inconnu"), "secteur inconnu"),
    ):
        page = client.post("/veille/sources/nouvelle", data={**fields, "csrf": csrf})
        assert page.status_code == 400, (fields, page.text[:300])
        assert expected in page.text, (fields, expected)
        assert 'id="source-errors"' in page.text and "<html" in page.text
    preview = client.post(
        "/veille/sources/nouvelle",
        data={**_form(url=site.server.url + "/absent.xml", action="preview"), "csrf": csrf},
    )
    assert preview.status_code == 400 and "Prévisualisation impossible" in preview.text
    with site.rt.session() as session:
        assert session.query(Source).count() == 0


def test_failed_poll_shows_the_badge_and_the_banner(site: Site) -> None:
    client = site.client
    scope = _scope(site, "cur-a")
    broken = site.rt.sources.add(
        scope, SourceSpec(url=site.server.url + "/casse.xml", title="Cassé", discover=False), "cli"
    )
    site.rt.sources.add(scope, SourceSpec(url=site.server.url + "/vins.xml", discover=False), "cli")
    csrf = site.login("cur-a")
    assert 'id="sources-failing"' not in client.get("/veille/sources").text
    failed = client.post(f"/veille/sources/{broken.id}/relever", data={"csrf": csrf})
    assert "Échec du relevé" in failed.text and "alert-error" in failed.text
    assert 'id="source-health">En échec<' in failed.text and 'id="source-error"' in failed.text
    assert ">500<" in failed.text.split('id="polls"')[1]
    listing = client.get("/veille/sources")
    assert "1 source en échec" in listing.text and 'class="health health-failing"' in listing.text
    row = listing.text.split(f'data-source="{broken.id}"')[1].split("</tr>")[0]
    assert re.search(r'<span title="[^"]*500[^"]*">', row)  # the full error in the title attribute
    only_failing = client.get("/veille/sources?health=failing")
    assert "Cassé" in only_failing.text and "1 source sur 2" in only_failing.text
    # readers see the badge but neither the banner nor the buttons
    site.login("read-a")
    reader = client.get("/veille/sources")
    assert 'class="health health-failing"' in reader.text and "en échec</strong>" not in reader.text
    assert "Ajouter une source" not in reader.text and "Importer OPML" not in reader.text
    detail = client.get(f"/veille/sources/{broken.id}")
    assert (
        detail.status_code == 200
        and "Relever maintenant" not in detail.text
        and "Supprimer" not in detail.text
    )
    assert "Historique des relevés" in detail.text


def _scope(site: Site, who: str) -> AccessScope:
    with site.rt.session() as session:
        user = identity.find_user(session, _email(who))
        assert user is not None
        return identity.scope_for(user)


def test_reader_and_other_curators_are_refused_in_french(site: Site) -> None:
    client = site.client
    mine = site.rt.sources.add(
        _scope(site, "cur-a"), SourceSpec(url=site.server.url + "/vins.xml", discover=False), "cli"
    )
    fetched = site.server.count("/vins.xml")
    csrf = site.login("read-a")
    assert 'href="/veille/sources">Sources</a>' in client.get("/veille/sources").text
    for path in (
        "/veille/sources/nouvelle",
        "/veille/sources/importer",
        f"/veille/sources/{mine.id}/modifier",
    ):
        page = client.get(path)
        assert (
            page.status_code == 403 and "Accès refusé" in page.text and "réservée aux curateurs" in page.text
        )
    for path in ("nouvelle", f"{mine.id}/relever", f"{mine.id}/pause", f"{mine.id}/supprimer"):
        refused = client.post(
            f"/veille/sources/{path}", data={**_form(url=site.server.url + "/"), "csrf": csrf}
        )
        assert refused.status_code == 403 and "Accès refusé" in refused.text, path
    assert _source(site, mine.id) is not None and site.server.count("/vins.xml") == fetched
    # beta's curator sees alpha's network source but may not manage it
    csrf = site.login("cur-b")
    detail = client.get(f"/veille/sources/{mine.id}")
    assert detail.status_code == 200 and "Relever maintenant" not in detail.text
    denied = client.post(f"/veille/sources/{mine.id}/pause", data={"csrf": csrf})
    assert denied.status_code == 403 and "autre organisation" in denied.text
    # the administrator manages every source
    csrf = site.login("admin")
    assert "Relever maintenant" in client.get(f"/veille/sources/{mine.id}").text
    client.cookies.clear()
    assert client.get("/veille/sources", follow_redirects=False).status_code == 303
    assert client.get("/veille/sources/999999", follow_redirects=False).status_code == 303  # login first
    site.login("read-a")
    missing = client.get("/veille/sources/999999")
    assert missing.status_code == 404 and "Page introuvable" in missing.text


def test_csrf_is_required_on_every_form(site: Site) -> None:
    client = site.client
    mine = site.rt.sources.add(
        _scope(site, "cur-a"), SourceSpec(url=site.server.url + "/vins.xml", discover=False), "cli"
    )
    site.login("cur-a")
    for path in ("nouvelle", f"{mine.id}/modifier", f"{mine.id}/pause", f"{mine.id}/supprimer", "importer"):
        forged = client.post(
            f"/veille/sources/{path}",
            data={**_form(url=site.server.url + "/"), "csrf": "x", "confirm": "oui"},
        )
        assert forged.status_code == 403 and "session a expiré" in forged.text, path
    kept = _source(site, mine.id)
    assert kept is not None and not kept.paused
    assert client.get("/veille/sources/abc").status_code == 400  # not a number: a French 400, no 500


def test_opml_import_and_export_round_trip(site: Site) -> None:
    client = site.client
    csrf = site.login("cur-a")
    form = client.get("/veille/sources/importer")
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.text
    empty = client.post(
        "/veille/sources/importer", data={"csrf": csrf}, files={"file": ("v.opml", b"", "text/x-opml")}
    )
    assert empty.status_code == 400 and "non vide" in empty.text
    hostile = client.post(
        "/veille/sources/importer",
        data={"csrf": csrf},
        files={"file": ("v.opml", b"<!DOCTYPE x [<!ENTITY a 'b'>]><opml/>", "text/x-opml")},
    )
    assert hostile.status_code == 400 and "Import impossible" in hostile.text
    report = client.post(
        "/veille/sources/importer",
        data={"csrf": csrf, "visibility": "organisation"},
        files={"file": ("veille.opml", OPML, "text/x-opml")},
    )
    assert report.status_code == 200, report.text
    assert "3 ajoutées, 1 déjà présente, 1 en échec." in report.text
    assert "Vitisphère" in report.text and "ftp://example.org/x" in report.text
    assert "seules les adresses http(s)" in report.text
    with site.rt.session() as session:
        visibilities = {s.visibility for s in session.query(Source)}
        assert session.query(Source).count() == 3 and visibilities == {"organisation"}
    exported = client.get("/veille/sources/export.opml")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/x-opml")
    assert "attachment" in exported.headers["content-disposition"]
    feeds = {f.url: f for f in parse_opml(exported.content)}
    assert set(feeds) == {
        "https://example.org/vins.xml",
        "https://example.org/aero.xml",
        "https://example.org/top.xml",
    }
    assert feeds["https://example.org/vins.xml"].title == "Vitisphère"
    # the exported file imported again: every feed already there
    again = client.post(
        "/veille/sources/importer",
        data={"csrf": csrf},
        files={"file": ("s.opml", exported.content, "text/x-opml")},
    )
    assert "0 ajoutée, 3 déjà présentes, 0 en échec." in again.text
    # beta does not get alpha's organisation sources in its export
    site.login("cur-b")
    assert parse_opml(client.get("/veille/sources/export.opml").content) == []


def test_activity_is_scoped_and_newest_first(site: Site) -> None:
    """``SourceService.activity``: polls newest first, items in the caller's scope, rejected for curators."""
    scope_a = _scope(site, "cur-a")
    view = site.rt.sources.add(scope_a, SourceSpec(url=site.server.url + "/vins.xml", discover=False), "cli")
    start = dt.datetime(2025, 3, 1, 8, 0, tzinfo=dt.UTC)
    with site.rt.session() as session:
        alpha = session.query(Organisation).filter_by(slug="alpha").one().id
        for minutes, status in ((0, "ok"), (30, "failed"), (60, "not_modified")):
            session.add(
                SourcePoll(source_id=view.id, started_at=start + dt.timedelta(minutes=minutes), status=status)
            )
        for key, status, visibility in (("rej", "rejected", "network"), ("org", "new", "organisation")):
            session.add(
                Item(
                    id=uuid.uuid4().hex,
                    source_id=view.id,
                    guid=key,
                    title=key,
                    content_hash=key,
                    curator_status=status,
                    visibility=visibility,
                    org_id=alpha,
                )
            )
    activity = site.rt.sources.activity(scope_a, view.id, channel="cli")
    assert [p["status"] for p in activity.polls] == ["not_modified", "failed", "ok"]
    assert {i["title"] for i in activity.items} == {"rej", "org"}
    reader = site.rt.sources.activity(_scope(site, "read-a"), view.id, channel="cli")
    assert [i["title"] for i in reader.items] == ["org"]  # rejected left out for readers
    other = site.rt.sources.activity(_scope(site, "cur-b"), view.id, channel="cli")
    assert [i["title"] for i in other.items] == ["rej"]  # alpha's organisation item hidden from beta
    short = site.rt.sources.activity(scope_a, view.id, polls=1, items=1, channel="cli")
    assert len(short.polls) == 1 and len(short.items) == 1
    with pytest.raises(NotFoundError):
        site.rt.sources.activity(scope_a, view.id + 1000, channel="cli")
    page = _page_as(site, "read-a", f"/veille/sources/{view.id}")
    assert "Inchangé" in page and "Reporté" not in page and "rej" not in page.split('id="source-items"')[1]


def _page_as(site: Site, who: str, path: str) -> str:
    site.login(who)
    answer = site.client.get(path)
    assert answer.status_code == 200
    return answer.text


def test_form_round_trip_and_formatting() -> None:
    """A source's values come back unchanged through the form, and dates read in Paris time."""
    errors: list[str] = []
    form = SourceForm(
        url="https://example.org/",
        kind="page",
        min_interval="15",
        auto_accept_threshold="0,85",
        links="a.article",
        max_articles="5",
        sector_hints="11.02, Allemagne",
    )
    spec = form.spec(errors)
    assert errors == [] and spec.min_interval_s == 900 and spec.auto_accept_threshold == 0.85
    assert spec.config == {"selector_type": "css", "links": "a.article", "max_articles": 5}
    assert spec.sector_hints == ["11.02", "Allemagne"] and spec.max_interval_s is None
    winter = dt.datetime(2025, 1, 15, 9, 30, tzinfo=dt.UTC)
    assert (
        paris(winter) == "15/01/2025 à 10:30" and paris(winter.replace(tzinfo=None)) == "15/01/2025 à 10:30"
    )
    assert paris(dt.datetime(2025, 7, 1, 9, 30)) == "01/07/2025 à 11:30"
    assert ago(winter, winter + dt.timedelta(minutes=5)) == "il y a 5 min"
    assert ago(winter, winter + dt.timedelta(days=2)) == "il y a 2 jours"
    assert ago(None) == "jamais"
    assert (every(900), every(9000), every(86400), every(90000)) == ("15 min", "2 h 30", "1 j", "1 j 1 h")


def test_activity_on_sqlite_and_postgresql(db_settings: Settings) -> None:
    """``SourceService.activity`` on both databases: newest polls first, items under the items' scope."""
    for cat in _catalogue(db_settings.model_copy(update={"fetch_allow_private": True})):
        view = cat.service.add(
            cat.curator("alpha"), SourceSpec(url="https://example.org/f.xml", discover=False), "cli"
        )
        start = dt.datetime(2025, 3, 1, 8, 0, tzinfo=dt.UTC)
        with cat.sessions.begin() as session:
            for minutes, status in ((0, "ok"), (60, "deferred")):
                session.add(
                    SourcePoll(
                        source_id=view.id, started_at=start + dt.timedelta(minutes=minutes), status=status
                    )
                )
            for key, visibility, org in (("net", "network", "beta"), ("own", "organisation", "beta")):
                session.add(
                    Item(
                        id=uuid.uuid4().hex,
                        source_id=view.id,
                        guid=key,
                        title=key,
                        content_hash=key,
                        visibility=visibility,
                        org_id=cat.orgs[org],
                    )
                )
        mine = cat.service.activity(cat.curator("alpha"), view.id, channel="cli")
        assert [p["status"] for p in mine.polls] == ["deferred", "ok"]
        assert [i["title"] for i in mine.items] == ["net"]
        beta = cat.service.activity(cat.reader("beta"), view.id, channel="cli")
        assert sorted(i["title"] for i in beta.items) == ["net", "own"]
