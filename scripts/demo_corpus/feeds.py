"""The demo watch content: three feeds (``data/feeds.json``) and the demo web site (``data/site.json``).

Feeds: « Veille marchés » (RSS 2.0, French), « Veille secteurs » (Atom 1.0, French) and « Global Trade
Wire » (RSS 2.0, English, a "foreign" source). Several entries tell the same events differently (the
EU-Vietnam free trade agreement, the ProWein wine fair in Düsseldorf, a desalination tender in Morocco)
so that the watch groups them into stories across sources and languages; the others are distinct.

Site (served locally by ``tfe demo``, see ``tfe/app/demo/site.py``): a home page, the listing
« Actualités de l'export » (``actualites/index.html``) linking to its article pages, whose fields the
demo's page source reads with CSS selectors, and the watched page « Appels d'offres internationaux » in
successive versions (``appels-d-offres/etape-N.html``: each one adds a tender on top of the previous).
Everything is written from the data files only, so a re-run produces byte-identical files.
"""

from __future__ import annotations

import datetime as dt
from email.utils import format_datetime
from html import escape as html_escape
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from .content import load

SITE_PREFIX = "/demo-site"  # where tfe demo serves the site (and the feeds, under /demo-site/flux/)
FEED_KINDS = ("rss", "atom", "en")


def _feed_dt(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=8, tzinfo=dt.timezone(dt.timedelta(hours=1)))


def rss(feed: dict[str, Any], base: str) -> str:
    items = []
    for item in feed["items"]:
        link = f"{base}/{feed['path']}/{item['slug']}"
        items.append(
            "    <item>\n"
            f"      <title>{escape(item['title'])}</title>\n"
            f"      <link>{link}</link>\n"
            f'      <guid isPermaLink="true">{link}</guid>\n'
            f"      <pubDate>{format_datetime(_feed_dt(item['date']))}</pubDate>\n"
            f"      <description>{escape(item['summary'])}</description>\n"
            "    </item>\n"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0">\n  <channel>\n'
        f"    <title>{escape(feed['title'])}</title>\n"
        f"    <link>{base}/{feed['path']}</link>\n"
        f"    <description>{escape(feed['description'])}</description>\n"
        f"    <language>{feed['language']}</language>\n"
        f"    <lastBuildDate>{format_datetime(_feed_dt(feed['items'][-1]['date']))}</lastBuildDate>\n"
        + "".join(items)
        + "  </channel>\n</rss>\n"
    )


def atom(feed: dict[str, Any], base: str) -> str:
    entries = []
    for item in feed["items"]:
        link = f"{base}/{feed['path']}/{item['slug']}"
        entries.append(
            "  <entry>\n"
            f"    <title>{escape(item['title'])}</title>\n"
            f'    <link rel="alternate" href="{link}"/>\n'
            f"    <id>{link}</id>\n"
            f"    <updated>{_feed_dt(item['date']).isoformat()}</updated>\n"
            f'    <summary type="text">{escape(item["summary"])}</summary>\n'
            "  </entry>\n"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{feed["language"]}">\n'
        f"  <title>{escape(feed['title'])}</title>\n"
        f"  <subtitle>{escape(feed['subtitle'])}</subtitle>\n"
        f'  <link rel="self" href="{base}/{feed["path"]}.atom"/>\n'
        f'  <link rel="alternate" href="{base}/{feed["path"]}"/>\n'
        f"  <id>{base}/{feed['path']}</id>\n"
        f"  <updated>{_feed_dt(feed['items'][-1]['date']).isoformat()}</updated>\n"
        f"  <author><name>{escape(feed['author'])}</name></author>\n" + "".join(entries) + "</feed>\n"
    )


# -- the demo web site -------------------------------------------------------------------------------


def _text(text: str) -> str:
    return html_escape(text, quote=False)


def _page(title: str, publisher: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="fr">\n<head>\n  <meta charset="utf-8">\n'
        f"  <title>{_text(title)} — {_text(publisher)}</title>\n</head>\n<body>\n"
        f'  <header><a href="{SITE_PREFIX}/">{_text(publisher)}</a></header>\n'
        f"  <main>\n{body}  </main>\n"
        "  <footer>Contenu de démonstration rédigé pour Team France Export.</footer>\n</body>\n</html>\n"
    )


def _article_url(article: dict[str, Any]) -> str:
    return f"{SITE_PREFIX}/actualites/{article['slug']}.html"


def _french_date(day: str, months: list[str]) -> str:
    date = dt.date.fromisoformat(day)
    return f"{date.day} {months[date.month - 1]} {date.year}"


def listing_page(site: dict[str, Any]) -> str:
    """« Actualités de l'export »: one card per article, newest first (selector ``ul.actualites h2 a``)."""
    cards, months = [], site["months"]
    for article in sorted(site["articles"], key=lambda a: a["date"], reverse=True):
        cards.append(
            '      <li class="carte">\n'
            f'        <h2><a href="{_article_url(article)}">{_text(article["title"])}</a></h2>\n'
            f'        <time datetime="{article["date"]}">{_french_date(article["date"], months)}</time>\n'
            f'        <p class="chapo">{_text(article["lead"])}</p>\n'
            "      </li>\n"
        )
    body = (
        f"    <h1>{_text(site['title'])}</h1>\n    <p>{_text(site['intro'])}</p>\n"
        '    <ul class="actualites">\n' + "".join(cards) + "    </ul>\n"
    )
    return _page(site["title"], site["publisher"], body)


def article_page(site: dict[str, Any], article: dict[str, Any]) -> str:
    """One article: ``h1.titre``, ``time.publication`` (its ``datetime``), ``div.texte``."""
    texts = [article["lead"], *article["paragraphs"]]
    paragraphs = "".join(f"        <p>{_text(p)}</p>\n" for p in texts)
    day = article["date"]
    body = (
        "    <article>\n"
        f'      <h1 class="titre">{_text(article["title"])}</h1>\n'
        f'      <time class="publication" datetime="{day}">{_french_date(day, site["months"])}</time>\n'
        '      <div class="texte">\n' + paragraphs + "      </div>\n"
        f'      <p class="retour"><a href="{SITE_PREFIX}/actualites/">Toutes les actualités</a></p>\n'
        "    </article>\n"
    )
    return _page(article["title"], site["publisher"], body)


def tender_pages(site: dict[str, Any]) -> list[str]:
    """The watched page's versions: the first lists ``initial`` tenders, each next one adds one on top
    (the region watched is ``#appels-en-cours``)."""
    tenders = site["tenders"]
    pages = []
    for shown in range(tenders["initial"], len(tenders["items"]) + 1):
        rows = "".join(
            "        <tr>"
            f"<td>{_text(t['country'])}</td><td>{_text(t['title'])}</td>"
            f"<td>{_text(t['buyer'])}</td><td>{_text(t['deadline'])}</td></tr>\n"
            for t in reversed(tenders["items"][:shown])
        )
        body = (
            f"    <h1>{_text(tenders['title'])}</h1>\n    <p>{_text(tenders['intro'])}</p>\n"
            '    <section id="appels-en-cours">\n      <h2>Appels d\'offres en cours</h2>\n'
            "      <table>\n        <tr><th>Pays</th><th>Objet</th><th>Acheteur</th>"
            "<th>Date limite</th></tr>\n" + rows + "      </table>\n    </section>\n"
            '    <aside class="publicite">'
            "<p>Inscrivez-vous à la lettre d'information du portail.</p></aside>\n"
        )
        pages.append(_page(tenders["title"], site["publisher"], body))
    return pages


def home_page(site: dict[str, Any], feeds: dict[str, Any]) -> str:
    targets = [
        ("actualites/", site["title"]),
        ("appels-d-offres", site["tenders"]["title"]),
        *((f"flux/{feeds[kind]['file']}", feeds[kind]["title"]) for kind in FEED_KINDS),
    ]
    links = [f'      <li><a href="{SITE_PREFIX}/{to}">{_text(text)}</a></li>\n' for to, text in targets]
    body = (
        f"    <h1>{_text(site['publisher'])}</h1>\n"
        "    <p>Le site de démonstration que la veille de tfe interroge : des flux, une page d'actualités "
        "sans flux et une page surveillée.</p>\n    <ul>\n" + "".join(links) + "    </ul>\n"
    )
    return _page(site["publisher"], site["publisher"], body)


def build_site(site_dir: Path) -> list[Path]:
    """Write the demo web site into site_dir; return the paths written."""
    site, feeds = load("site.json"), load("feeds.json")
    pages: dict[str, str] = {
        "index.html": home_page(site, feeds),
        "actualites/index.html": listing_page(site),
        **{f"actualites/{a['slug']}.html": article_page(site, a) for a in site["articles"]},
        **{f"appels-d-offres/etape-{n}.html": p for n, p in enumerate(tender_pages(site), start=1)},
    }
    paths = []
    for rel, text in pages.items():
        path = site_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def build_feeds(feeds_dir: Path, site_dir: Path | None = None) -> list[Path]:
    """Write the three feeds into feeds_dir and the demo site into site_dir (by default ``site`` beside
    feeds_dir); return the feeds' paths."""
    data = load("feeds.json")
    feeds_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for kind in FEED_KINDS:
        feed = data[kind]
        render = atom if kind == "atom" else rss
        path = feeds_dir / feed["file"]
        path.write_text(render(feed, feed.get("base", data["base"])), encoding="utf-8")
        paths.append(path)
    build_site(site_dir if site_dir is not None else feeds_dir.parent / "site")
    return paths
