"""``tfe subscription``: alert subscriptions from the command line (add for a user, list, remove).

The CLI is the installation's operator: it creates a subscription for any user (``--user EMAIL``), lists
everyone's (or one user's) and removes any. The rules and the audit (channel ``cli``) are
``veille.alerts.subscriptions``'s. Secrets of a new subscription (Atom feed address, webhook signing
secret) are printed once. ``--json`` prints exactly one JSON document.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tfe.app.cli.common import JsonOpt, echo, emit_json, fail, runtime
from tfe.app.runtime import Runtime
from tfe.core.errors import NotFoundError
from tfe.core.security import identity
from veille.alerts.subscriptions import SubscriptionService, SubscriptionSpec

subscription_app = typer.Typer(
    help="Alertes : abonnements aux nouveautés d'une recherche.", no_args_is_help=True
)


def _service(rt: Runtime) -> SubscriptionService:
    return rt.subscriptions


def _line(view: dict[str, Any]) -> str:
    paused = " (en pause)" if view["paused"] else ""
    last = (view["last_sent_at"] or "jamais")[:16].replace("T", " ")
    return (
        f"{view['id']:>5}  {view['user_email'][:28]:<28}  {view['frequency'] + paused:<18}  "
        f"{','.join(view['channels']):<18}  {last:<16}  {view['name'][:50]}"
    )


@subscription_app.command("add")
def add(
    user: Annotated[str, typer.Option("--user", help="Adresse e-mail de l'abonné")],
    query: Annotated[
        str, typer.Option("--query", help="Texte de recherche (même syntaxe que la recherche)")
    ] = "",
    name: Annotated[str, typer.Option(help="Nom de l'alerte (la requête par défaut)")] = "",
    sector: Annotated[list[str] | None, typer.Option(help="Secteur NAF, tout niveau (répétable)")] = None,
    country: Annotated[list[str] | None, typer.Option(help="Pays ou zone M49 (répétable)")] = None,
    type: Annotated[list[str] | None, typer.Option("--type", help="Type de document (répétable)")] = None,
    filiere: Annotated[list[str] | None, typer.Option(help="Filière ou sous-filière (répétable)")] = None,
    signal: Annotated[list[str] | None, typer.Option(help="Signal de veille (répétable)")] = None,
    source: Annotated[list[int] | None, typer.Option(help="Numéro de source de veille (répétable)")] = None,
    scope: Annotated[str, typer.Option(help="Périmètre : items, documents ou both")] = "items",
    frequency: Annotated[str, typer.Option(help="Fréquence : instant, daily ou weekly")] = "daily",
    time: Annotated[str, typer.Option("--time", help="Heure d'envoi HH:MM (daily, weekly)")] = "08:00",
    weekday: Annotated[
        int | None, typer.Option(help="Jour d'envoi hebdomadaire : 0 = lundi … 6 = dimanche")
    ] = None,
    timezone: Annotated[str, typer.Option(help="Fuseau horaire de l'heure d'envoi")] = "Europe/Paris",
    channel: Annotated[
        list[str] | None, typer.Option(help="Canal : email, atom, webhook (répétable)")
    ] = None,
    webhook_url: Annotated[str | None, typer.Option(help="Adresse du webhook (canal webhook)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Crée une alerte pour un utilisateur ; seules les nouveautés arrivées ensuite lui sont envoyées."""
    rt = runtime()
    spec = SubscriptionSpec(
        query=query,
        name=name,
        sectors=sector or [],
        countries=country or [],
        types=type or [],
        filieres=filiere or [],
        signals=signal or [],
        sources=source or [],
        scope=scope,
        frequency=frequency,
        send_time=time,
        weekday=weekday,
        timezone=timezone,
        channels=channel or ["email"],
        webhook_url=webhook_url,
    )
    with rt.session() as session:
        try:
            owner = identity.find_user(session, user)
        except NotFoundError:
            fail(f"utilisateur inconnu : {user}")
        created = _service(rt).create(session, owner, spec, channel="cli").as_dict()
    if as_json:
        emit_json(created)
        return
    echo(f"Alerte {created['id']} créée pour {created['user_email']} : {created['name']}")
    echo(f"Prochain envoi : {(created['next_run_at'] or '')[:16].replace('T', ' ')} (UTC)")
    if created["atom_url"]:
        echo(f"Flux Atom privé (affiché une seule fois) : {created['atom_url']}")
    if created["webhook_secret"]:
        echo(f"Secret de signature du webhook (affiché une seule fois) : {created['webhook_secret']}")


@subscription_app.command("list")
def list_subscriptions(
    user: Annotated[
        str | None, typer.Option("--user", help="Seulement les alertes de cet utilisateur")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Liste les alertes (toutes, ou celles d'un utilisateur)."""
    rt = runtime()
    service = _service(rt)
    with rt.session() as session:
        if user:
            try:
                owner = identity.find_user(session, user)
            except NotFoundError:
                fail(f"utilisateur inconnu : {user}")
            views = [v.as_dict() for v in service.list(session, owner)]
        else:
            views = [v.as_dict() for v in service.list_all(session)]
    if as_json:
        emit_json({"total": len(views), "subscriptions": views})
        return
    if not views:
        echo("Aucune alerte.")
        return
    echo(f"{'id':>5}  {'abonné':<28}  {'fréquence':<18}  {'canaux':<18}  {'dernier envoi':<16}  nom")
    for view in views:
        echo(_line(view))
    echo(f"{len(views)} alerte(s)")


@subscription_app.command("remove")
def remove(
    subscription_id: Annotated[int, typer.Argument(help="Numéro de l'alerte")], as_json: JsonOpt = False
) -> None:
    """Supprime une alerte (et l'historique de ses envois)."""
    rt = runtime()
    service = _service(rt)
    with rt.session() as session:
        view, owner = service.get_any(session, subscription_id)
        service.delete(session, owner, subscription_id, channel="cli")
    if as_json:
        emit_json({"deleted": subscription_id, "user_email": owner.email})
    else:
        echo(f"Alerte {subscription_id} supprimée ({view.search.name}, {owner.email})")
