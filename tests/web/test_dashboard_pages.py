"""``/tableaux-de-bord``: the network, region and organisation dashboards (roles as ``indicators_for``),
the period selector, a bad period (400 page), suppressed cells, and per-table CSV exports equal to the
tables; in chromium, the plots are drawn by Chart.js with no CSP violation."""

from __future__ import annotations

import csv
import io
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.web.browser import BROWSER_MARKS, browser_page, live_server, sign_in_page, watch_console
from tests.web.conftest import PASSWORD, Installation
from tests.web.signin import sign_in
from tfe.app.indicators.privacy import Cell
from tfe.app.web.app import create_app
from tfe.app.web.pages.dashboard_tables import tables_of
from tfe.core.models import AuditEvent
from tfe.core.security import audit, identity

HTML = {"Accept": "text/html"}
NATIONAL = ("admin@tfe.local", "admin-password-123")


@pytest.fixture(scope="module")
def world(installation: Installation) -> None:
    """tdb-nord and tdb-est in Auvergne-Rhône-Alpes (84), tdb-sud in Nouvelle-Aquitaine (75); tdb-nord
    has three active people this quarter (suppressed: fewer than 5)."""
    with installation.rt.session() as s:
        for slug, region in (("tdb-nord", "84"), ("tdb-est", "84"), ("tdb-sud", "75")):
            org = identity.get_or_create_org(s, slug, f"CCI {slug.capitalize()}", "regional_chamber")
            org.region = region
            identity.create_user(s, email=f"admin@{slug}.fr", org=org, role="admin", password=PASSWORD)
        nord = identity.get_or_create_org(s, "tdb-nord")
        for i in range(2):
            member = identity.create_user(
                s, email=f"m{i}@tdb-nord.fr", org=nord, role="reader", password=PASSWORD
            )
            audit.record(s, "search", audit.Actor.of_user(member, "web"), detail={"q": "vins"})
        identity.create_user(s, email="lecteur@tdb-nord.fr", org=nord, role="reader", password=PASSWORD)


class _Tables(HTMLParser):
    """Every ``<table data-table>``'s body rows, as text."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.current: str | None = None
        self.in_body = False
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.current = dict(attrs).get("data-table")
            self.tables[self.current or ""] = []
        elif tag == "tbody":
            self.in_body = True
        elif tag == "tr" and self.in_body and self.current:
            self.tables[self.current].append([])
        elif tag == "td" and self.in_body:
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self.cell is not None and self.current:
            self.tables[self.current][-1].append("".join(self.cell).strip())
            self.cell = None
        elif tag == "tbody":
            self.in_body = False

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def _tables(html: str) -> dict[str, list[list[str]]]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def test_the_national_admin_sees_the_network_every_region_and_organisation(
    client: TestClient, installation: Installation, world: None
) -> None:
    sign_in(client, *NATIONAL)
    page = client.get("/tableaux-de-bord", headers=HTML)
    assert page.status_code == 200 and "Tableau de bord : Réseau" in page.text
    assert 'href="/tableaux-de-bord"' in page.text  # the nav link
    assert (
        "/tableaux-de-bord/region/84?" in page.text and "/tableaux-de-bord/organisation/tdb-sud?" in page.text
    )
    for kind in ("line", "bar"):
        assert f'"type": "{kind}"' in page.text
    assert (
        'data-table="adoption_week"' in page.text and '<canvas id="chart-use_week" data-chart=' in page.text
    )
    assert "<caption>" in page.text
    for path in ("/tableaux-de-bord/region/84", "/tableaux-de-bord/organisation/tdb-sud"):
        assert client.get(path, headers=HTML).status_code == 200
    assert client.get("/tableaux-de-bord/region/99", headers=HTML).status_code == 404
    assert client.get("/tableaux-de-bord/organisation/nulle-part", headers=HTML).status_code == 404
    with installation.rt.session() as s:
        reads = s.scalar(select(func.count()).where(AuditEvent.action == "indicators.read"))
        web = s.scalars(select(AuditEvent).where(AuditEvent.action == "indicators.read")).all()
    assert reads and all(e.detail.get("channel") == "web" for e in web[-3:])


def test_an_org_admin_sees_their_org_and_region_only(client: TestClient, world: None) -> None:
    sign_in(client, "admin@tdb-nord.fr")
    own = client.get("/tableaux-de-bord", headers=HTML)
    assert own.status_code == 200 and "Tableau de bord : CCI Tdb-nord" in own.text
    assert (
        "/tableaux-de-bord/region/84?" in own.text
        and "/tableaux-de-bord/organisation/tdb-sud" not in own.text
    )
    assert client.get("/tableaux-de-bord/region/84", headers=HTML).status_code == 200
    assert client.get("/tableaux-de-bord/organisation/tdb-nord", headers=HTML).status_code == 200
    for path in (
        "/tableaux-de-bord/region/75",
        "/tableaux-de-bord/organisation/tdb-est",
        "/tableaux-de-bord/region/75/export.csv",
    ):
        answer = client.get(path, headers=HTML)
        assert answer.status_code == 403 and "<html" in answer.text, path
    assert client.get("/tableaux-de-bord?period=2026-Q4", headers=HTML).status_code == 200
    assert client.get("/tableaux-de-bord/organisation/tdb-sud", headers=HTML).status_code == 403


def test_non_admins_get_403(client: TestClient, world: None) -> None:
    sign_in(client, "lecteur@tdb-nord.fr")
    assert "/tableaux-de-bord" not in client.get("/mes-alertes", headers=HTML).text
    for path in (
        "/tableaux-de-bord",
        "/tableaux-de-bord/organisation/tdb-nord",
        "/tableaux-de-bord/export.csv",
    ):
        assert client.get(path, headers=HTML).status_code == 403, path


def test_period_selector_and_bad_period(client: TestClient, world: None) -> None:
    sign_in(client, *NATIONAL)
    month = client.get("/tableaux-de-bord", params={"period": "2026-11"}, headers=HTML)
    assert month.status_code == 200 and '<option value="2026-11" selected>' in month.text
    weeks = [row[0] for row in _tables(month.text)["adoption_week"]]
    assert weeks[0] == "2026-W44" and weeks[-1] == "2026-W49"
    week = client.get("/tableaux-de-bord/region/84", params={"period": "2026-W48"}, headers=HTML)
    assert [r[0] for r in _tables(week.text)["adoption_month"]] == ["2026-11"]
    year = client.get("/tableaux-de-bord", params={"period": "2026"}, headers=HTML)
    assert len(_tables(year.text)["adoption_month"]) == 12
    for bad in ("2026-Q5", "demain", "2026-13"):
        answer = client.get("/tableaux-de-bord", params={"period": bad}, headers=HTML)
        assert answer.status_code == 400 and "période invalide" in answer.text, bad


def test_a_cell_under_five_people_is_suppressed(client: TestClient, world: None) -> None:
    sign_in(client, "admin@tdb-nord.fr")
    page = client.get("/tableaux-de-bord/organisation/tdb-nord", headers=HTML)
    period = _tables(page.text)["adoption_period"]
    assert period and period[0][-1] == "< 5", period  # 3 active people this quarter, not « 3 »
    accounts = _tables(page.text)["adoption_period"][0]
    assert "3" not in accounts and "moins de 5 personnes" in page.text


def test_each_csv_export_equals_its_table(client: TestClient, world: None) -> None:
    sign_in(client, *NATIONAL)
    page = client.get("/tableaux-de-bord/region/84", params={"period": "2026-Q4"}, headers=HTML)
    tables = _tables(page.text)
    assert len(tables) >= 10
    assert {"adoption_week", "use_month", "adoption_period"} <= set(tables)
    for table_id in tables:
        answer = client.get(
            "/tableaux-de-bord/region/84/export.csv", params={"period": "2026-Q4", "table": table_id}
        )
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(answer.text)))
        expected = tables[table_id] if tables[table_id][0][0] != "Aucune donnée sur la période." else []
        assert rows[1:] == expected, table_id
        assert f'table={table_id}"' in page.text or f"table={table_id}" in page.text
    whole = client.get("/tableaux-de-bord/region/84/export.csv", params={"period": "2026-Q4"})
    rows = list(csv.DictReader(io.StringIO(whole.text)))
    assert rows and {r["section"] for r in rows} >= {"adoption", "use", "content", "watch"}
    assert client.get("/tableaux-de-bord/export.csv", params={"table": "nulle"}).status_code == 404


def test_an_unknown_section_is_still_a_table() -> None:
    cells = [Cell("score_mean", 7.5), Cell("responses", 12), Cell("nps", 20, {"region": "84"})]
    [(code, title, tables)] = tables_of({"satisfaction": cells, **{}})
    assert code == "satisfaction" and title == "Satisfaction"
    assert [t.id for t in tables] == ["satisfaction_period", "satisfaction_period_region"]
    assert tables[0].rows == [["7.5", "12"]] and tables[1].rows == [["84", "20"]] and tables[0].chart is None
    heat = [
        Cell("items_by_sector_country", n, {"sector": s, "country": c})
        for s, c, n in (("11", "DE", 4), ("11", "US", 2), ("28", "DE", 1))
    ]
    [(_, _, [matrix])] = tables_of({"watch": heat})
    assert matrix.id == "watch_period_country_sector" and matrix.chart is not None
    assert matrix.chart["type"] == "matrix" and {"x": "11", "y": "US", "v": 2} in matrix.chart["points"]
    assert matrix.rows == [["DE", "11", "4"], ["US", "11", "2"], ["DE", "28", "1"]]
    [(_, _, other)] = tables_of({"inconnue": [Cell("m", 1, bucket="2026-W48", grain="week")]})
    assert other[0].headers == ["Période", "m"] and other[0].rows == [["2026-W48", "1"]]


def test_dimension_values_read_in_french() -> None:
    cells = [Cell("accounts", 7, {"kind": "regional_chamber"}), Cell("accounts", 6, {"role": "curator"})]
    cells += [Cell("documents", 3, {"type": "doctype:quote_template"})]
    cells += [Cell("documents", 1, {"type": "autre"})]
    [(_, _, tables)] = tables_of({"adoption": cells}, {"doctype:quote_template": "Modèle de devis"})
    rows = {t.id: t.rows for t in tables}
    assert rows["adoption_period_kind"] == [["Chambre régionale", "7"]]
    assert rows["adoption_period_role"] == [["Curateur", "6"]]
    assert rows["adoption_period_type"] == [["Modèle de devis", "3"], ["autre", "1"]]


@pytest.mark.parametrize("_", [0], ids=["chromium"])
@BROWSER_MARKS[0]
@BROWSER_MARKS[1]
def test_dashboards_draw_their_plots_in_chromium(installation: Installation, world: None, _: int) -> None:
    from playwright.sync_api import expect

    external: list[str] = []
    with (
        live_server(create_app(installation.rt)) as url,
        browser_page(url, external, timeout_ms=30_000) as page,
    ):
        console = watch_console(page)
        sign_in_page(page, url, NATIONAL[0], NATIONAL[1])
        expect(page.locator("body")).to_contain_text("Se déconnecter")
        for path in ("", "/region/84", "/organisation/tdb-nord"):
            path = f"/tableaux-de-bord{path}"
            page.goto(url + path)
            expect(page.locator("h1")).to_contain_text("Tableau de bord")
            page.wait_for_function("() => typeof Chart !== 'undefined'")
            drawn = page.evaluate(
                "() => Array.from(document.querySelectorAll('canvas[data-chart]'))"
                ".map(c => { const ch = Chart.getChart(c); return ch ? ch.config.type : null; })"
            )
            assert drawn and None not in drawn, (path, drawn)
            assert {"line", "bar"} <= set(drawn) if path == "/tableaux-de-bord" else "line" in drawn
            assert page.get_by_role("link", name="Exporter tout le tableau de bord (CSV)").count() == 1, path
            assert page.locator("table[data-table] caption").count() >= 10
    assert not [m for m in console if m.startswith("CSP ")], console
    assert external == []
