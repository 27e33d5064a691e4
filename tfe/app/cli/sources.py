"""``tfe source``: the watch's source catalogue (add, list, pause, resume, remove, import, export OPML).

The CLI acts as the installation's administrator (``settings.admin_email``): it manages every source, and
every change is audited with the ``cli`` channel. ``--json`` prints exactly one JSON document.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from tfe.app.cli.common import JsonOpt, echo, emit_json, fail, runtime
from tfe.app.runtime import Runtime
from tfe.core.security import identity
from tfe.core.security.scope import AccessScope
from veille.source_rules import SourceSpec
from veille.source_views import SourceView

source_app = typer.Typer(
    help="Catalogue des sources de veille (flux, pages, pages surveillées).", no_args_is_help=True
)

_PAGE_FIELDS = ("links", "title", "body", "date")


def _admin_scope(rt: Runtime) -> AccessScope:
    with rt.session() as session:
        return identity.scope_for(identity.find_user(session, rt.settings.admin_email))


def _config(
    kind: str,
    selectors: list[str],
    links: str | None,
    title_selector: str | None,
    body_selector: str | None,
    date_selector: str | None,
    xpath: bool,
    max_articles: int | None,
) -> dict[str, Any]:
    """Config from the options: ``--selector name=CSS`` for pages, ``--selector CSS`` for watches."""
    config: dict[str, Any] = {}
    if kind == "watch":
        if len(selectors) != 1:
            fail("une page surveillée (--kind watch) demande exactement un --selector CSS")
        config["selector"] = selectors[0]
    elif kind == "page":
        named = {"links": links, "title": title_selector, "body": body_selector, "date": date_selector}
        for item in selectors:
            name, sep, value = item.partition("=")
            if not sep or name.strip() not in _PAGE_FIELDS:
                fail(f"--selector {item!r} : attendu NOM=SÉLECTEUR avec NOM parmi {', '.join(_PAGE_FIELDS)}")
            named[name.strip()] = value
        config.update({k: v for k, v in named.items() if v})
        if max_articles is not None:
            config["max_articles"] = max_articles
    elif selectors or links or title_selector or body_selector or date_selector:
        fail("les sélecteurs ne servent qu'aux sources --kind page ou watch")
    if xpath and config:
        config["selector_type"] = "xpath"
    return config


def _when(value: str | None) -> str:
    return value[:16].replace("T", " ") if value else "jamais"


def _line(view: dict[str, Any]) -> str:
    paused = " (en pause)" if view["paused"] else ""
    title = view["title"] or view["url"]
    return (
        f"{view['id']:>5}  {view['kind']:<5}  {view['health'] + paused:<18}  "
        f"{_when(view['last_polled_at']):<16}  {view['items_per_day']:>7.2f}  {title[:60]}"
    )


def _describe(view: SourceView) -> None:
    org = f", {view.org_slug}" if view.org_slug else ""
    echo(f"Source {view.id} ({view.kind}, {view.visibility}{org}) : {view.title or view.url}")
    echo(f"  {view.url}")
    if view.discovery:
        echo(f"  flux trouvé sur la page {view.discovery['page_url']}")
        for other in view.discovery["alternatives"]:
            echo(f"  autre flux annoncé : {other['url']}")


@source_app.command("add")
def add(
    url: Annotated[str, typer.Argument(help="Adresse du flux ou de la page")],
    kind: Annotated[str, typer.Option(help="Type : feed, page ou watch")] = "feed",
    title: Annotated[str, typer.Option(help="Titre affiché (celui du flux par défaut)")] = "",
    org: Annotated[str | None, typer.Option(help="Organisation propriétaire (identifiant)")] = None,
    visibility: Annotated[str, typer.Option(help="Visibilité : network ou organisation")] = "network",
    selector: Annotated[
        list[str] | None,
        typer.Option(
            help="watch : sélecteur CSS de la zone ; page : NOM=SÉLECTEUR (links, title, body, date)"
        ),
    ] = None,
    links: Annotated[str | None, typer.Option(help="page : sélecteur des liens vers les articles")] = None,
    title_selector: Annotated[str | None, typer.Option(help="page : sélecteur du titre d'un article")] = None,
    body_selector: Annotated[str | None, typer.Option(help="page : sélecteur du texte d'un article")] = None,
    date_selector: Annotated[
        str | None, typer.Option(help="page : sélecteur de la date d'un article")
    ] = None,
    xpath: Annotated[
        bool, typer.Option("--xpath", help="Les sélecteurs sont en XPath (CSS par défaut)")
    ] = False,
    max_articles: Annotated[int | None, typer.Option(help="page : articles lus par passage")] = None,
    tag: Annotated[list[str] | None, typer.Option(help="Étiquette (répétable)")] = None,
    language: Annotated[str | None, typer.Option(help="Langue des contenus (fr, en...)")] = None,
    sector: Annotated[
        list[str] | None, typer.Option(help="Secteur indicatif : code NAF ou nom (répétable)")
    ] = None,
    country: Annotated[list[str] | None, typer.Option(help="Pays ou zone indicatif (répétable)")] = None,
    min_interval: Annotated[
        int | None, typer.Option(help="Intervalle minimal entre deux passages (s)")
    ] = None,
    max_interval: Annotated[
        int | None, typer.Option(help="Intervalle maximal entre deux passages (s)")
    ] = None,
    full_text: Annotated[
        bool, typer.Option("--full-text", help="Récupère le texte intégral des articles")
    ] = False,
    paused: Annotated[bool, typer.Option("--paused", help="Ajoute la source en pause")] = False,
    auto_accept: Annotated[
        float | None, typer.Option(help="Seuil d'acceptation automatique des articles (0 à 1)")
    ] = None,
    no_discover: Annotated[
        bool, typer.Option("--no-discover", help="N'interroge pas l'adresse (pas de découverte de flux)")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Ajoute une source au catalogue ; une page HTML donnée comme flux mène au flux qu'elle annonce."""
    config = _config(
        kind, selector or [], links, title_selector, body_selector, date_selector, xpath, max_articles
    )
    spec = SourceSpec(
        url=url,
        kind=kind,
        title=title,
        org=org,
        visibility=visibility,
        language=language,
        sector_hints=sector or [],
        country_hints=country or [],
        min_interval_s=min_interval,
        max_interval_s=max_interval,
        full_text=full_text,
        paused=paused,
        tags=tag or [],
        auto_accept_threshold=auto_accept,
        config=config,
        discover=not no_discover,
    )
    rt = runtime()
    view = rt.sources.add(_admin_scope(rt), spec, "cli")
    emit_json(view.as_dict()) if as_json else _describe(view)


@source_app.command("list")
def list_sources(
    kind: Annotated[str | None, typer.Option(help="Seulement ce type : feed, page, watch")] = None,
    health: Annotated[
        str | None, typer.Option(help="Seulement cet état : ok, slow, failing, dead...")
    ] = None,
    tag: Annotated[str | None, typer.Option(help="Seulement cette étiquette")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Liste le catalogue : état, dernier passage, articles par jour, dernière erreur."""
    rt = runtime()
    views = [
        v.as_dict()
        for v in rt.sources.list(_admin_scope(rt), kind=kind, health=health, tag=tag, channel="cli")
    ]
    if as_json:
        emit_json({"total": len(views), "sources": views})
        return
    if not views:
        echo("Aucune source au catalogue.")
        return
    echo(f"{'id':>5}  {'type':<5}  {'état':<18}  {'dernier passage':<16}  {'art./j':>7}  titre")
    for view in views:
        echo(_line(view))
        if view["last_error"]:
            echo(f"{'':>7}dernière erreur : {' '.join(view['last_error'].split())[:100]}")
    echo(f"{len(views)} source(s)")


def _set_paused(source_id: int, paused: bool, as_json: bool) -> None:
    rt = runtime()
    scope = _admin_scope(rt)
    view = rt.sources.pause(scope, source_id, "cli") if paused else rt.sources.resume(scope, source_id, "cli")
    emit_json(view.as_dict()) if as_json else echo(
        f"Source {source_id} {'en pause' if paused else 'reprise'}"
    )


@source_app.command("pause")
def pause(
    source_id: Annotated[int, typer.Argument(help="Identifiant de la source")], as_json: JsonOpt = False
) -> None:
    """Met une source en pause (plus de passage jusqu'à sa reprise)."""
    _set_paused(source_id, True, as_json)


@source_app.command("resume")
def resume(
    source_id: Annotated[int, typer.Argument(help="Identifiant de la source")], as_json: JsonOpt = False
) -> None:
    """Reprend une source en pause (passage aussitôt)."""
    _set_paused(source_id, False, as_json)


@source_app.command("remove")
def remove(
    source_id: Annotated[int, typer.Argument(help="Identifiant de la source")], as_json: JsonOpt = False
) -> None:
    """Retire une source du catalogue ; ses articles restent (sans source)."""
    rt = runtime()
    done = rt.sources.remove(_admin_scope(rt), source_id, "cli")
    if as_json:
        emit_json(done)
    else:
        echo(f"Source {source_id} retirée ({done['url']}) ; {done['items_detached']} article(s) conservé(s)")


@source_app.command("import")
def import_opml(
    file: Annotated[Path, typer.Argument(help="Fichier OPML à lire")],
    org: Annotated[str | None, typer.Option(help="Organisation propriétaire (identifiant)")] = None,
    visibility: Annotated[str, typer.Option(help="Visibilité : network ou organisation")] = "network",
    as_json: JsonOpt = False,
) -> None:
    """Importe les flux d'un fichier OPML (dossiers et catégories deviennent des étiquettes)."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        fail(f"lecture impossible de {file} : {exc.strerror or exc}")
    rt = runtime()
    report = rt.sources.import_opml(_admin_scope(rt), data, "cli", org=org, visibility=visibility)
    if as_json:
        emit_json(report.as_dict())
        return
    for failed in report.failed:
        echo(f"échec   {failed['url']} : {failed['reason']}")
    echo(
        f"{len(report.added)} ajoutée(s), {len(report.existing)} déjà au catalogue,"
        f" {len(report.failed)} échec(s)"
    )


@source_app.command("export")
def export_opml(file: Annotated[Path, typer.Argument(help="Fichier OPML à écrire")]) -> None:
    """Écrit les flux du catalogue en OPML 2.0 (un dossier par première étiquette)."""
    if file.is_dir():
        fail(f"{file} est un dossier : donnez un nom de fichier, par ex. {file / 'sources.opml'}")
    if not file.parent.is_dir():
        fail(f"dossier introuvable : {file.parent}")
    rt = runtime()
    data = rt.sources.export_opml(_admin_scope(rt), channel="cli")
    try:
        file.write_bytes(data)
    except OSError as exc:
        fail(f"écriture impossible de {file} : {exc.strerror or exc}")
    echo(f"{data.count(b'xmlUrl=')} flux écrits dans {file}")
