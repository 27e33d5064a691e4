"""``tfe oidc ...``: OIDC sign-in providers, organisation mappings and sign-up requests, for the operator.

``providers`` lists the providers of ``TFE_OIDC_PROVIDERS_FILE`` and checks each one's discovery document
(exit 1 when one fails); ``map``/``unmap``/``mappings`` keep the SIRET and e-mail domain → organisation
mappings; ``requests``/``approve``/``reject`` decide the sign-ups no mapping placed. The operator acts
with every right (``admin=None`` in ``tfe.core.security.provisioning``); each change is audited (channel
``cli``). Never prints a client secret.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer

from tfe.app.cli.common import JsonOpt, echo, emit_json, fail, runtime
from tfe.core.errors import TfeError
from tfe.core.security import identity, provisioning
from tfe.core.security.oidc import OidcClient, OidcError
from tfe.core.security.oidc_config import load_providers
from tfe.core.settings import load_settings

oidc_app = typer.Typer(
    help="Connexion par fournisseur d'identité (OIDC) : fournisseurs, correspondances, demandes.",
    no_args_is_help=True,
)

T = TypeVar("T")
OrgOpt = Annotated[str, typer.Option("--org", help="Identifiant de l'organisation, par ex. cci-bretagne")]


def _one_line(call: Callable[[], T]) -> T:
    """Run ``call``; an error the user can fix ends as one line and exit code 2."""
    try:
        return call()
    except TfeError as exc:
        fail(exc.message)


@oidc_app.command("providers")
def providers(as_json: JsonOpt = False) -> None:
    """Liste les fournisseurs configurés et vérifie leur document de découverte."""
    try:
        settings = load_settings()
    except Exception as exc:  # pydantic ValidationError: bad TFE_* value
        fail(f"invalid settings: {str(exc).splitlines()[0]}")
    configs = _one_line(lambda: load_providers(settings.oidc_providers_file))
    rows: list[dict[str, Any]] = []
    for config in configs.values():
        row: dict[str, Any] = {
            "name": config.name,
            "label": config.label,
            "issuer": config.issuer,
            "client_id": config.client_id,
            "scopes": config.scopes,
        }
        try:
            metadata = OidcClient(config).metadata()
            row.update(discovery="ok", end_session=bool(metadata.get("end_session_endpoint")))
        except OidcError as exc:
            row.update(discovery="failed", reason=exc.reason)
        rows.append(row)
    if as_json:
        emit_json({"file": str(settings.oidc_providers_file or ""), "providers": rows})
    elif not rows:
        echo("aucun fournisseur configuré (TFE_OIDC_PROVIDERS_FILE)")
    for row in [] if as_json else rows:
        state = "découverte OK" if row["discovery"] == "ok" else f"découverte en échec ({row['reason']})"
        echo(f"{row['name']}\t{row['label']}\t{row['issuer']}\t{state}")
    if any(row["discovery"] != "ok" for row in rows):
        raise typer.Exit(1)


def _list(as_json: bool, key: str, docs: list[dict[str, Any]], columns: tuple[str, ...], empty: str) -> None:
    """Print ``docs`` as ``{key: docs}`` JSON, else a tab-separated line each (``-`` for an empty column)
    or ``empty`` when there is none."""
    if as_json:
        emit_json({key: docs})
        return
    for doc in docs:
        echo("\t".join("-" if doc[c] in (None, "") else str(doc[c]) for c in columns))
    if not docs:
        echo(empty)


def _mapping_doc(mapping: Any, org_slug: str) -> dict[str, Any]:
    return {"id": mapping.id, "kind": mapping.kind, "value": mapping.value, "org": org_slug}


@oidc_app.command("map")
def map_org(
    org: OrgOpt,
    siret: Annotated[str | None, typer.Option("--siret", help="SIRET (14 chiffres)")] = None,
    domain: Annotated[str | None, typer.Option("--domain", help="Domaine des adresses e-mail")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Associe un SIRET ou un domaine d'adresse e-mail à une organisation."""
    if (siret is None) == (domain is None):
        fail("give exactly one of --siret and --domain")
    kind, value = ("siret", siret) if siret is not None else ("domain", domain or "")
    rt = runtime()

    def add() -> dict[str, Any]:
        with rt.session() as session:
            organisation = identity.find_org(session, org)
            mapping = provisioning.add_mapping(
                session, None, kind=kind, value=value, org_id=organisation.id, channel="cli"
            )
            return _mapping_doc(mapping, organisation.slug)

    doc = _one_line(add)
    emit_json(doc) if as_json else echo(
        f"correspondance {doc['id']} : {doc['kind']} {doc['value']} → {doc['org']}"
    )


@oidc_app.command("unmap")
def unmap(mapping_id: Annotated[int, typer.Argument(help="Numéro de la correspondance")]) -> None:
    """Supprime une correspondance."""
    rt = runtime()

    def remove() -> str:
        with rt.session() as session:
            mapping = provisioning.remove_mapping(session, None, mapping_id, channel="cli")
            return f"{mapping.kind} {mapping.value}"

    echo(f"correspondance {mapping_id} supprimée ({_one_line(remove)})")


@oidc_app.command("mappings")
def mappings(as_json: JsonOpt = False) -> None:
    """Liste les correspondances SIRET et domaine → organisation."""
    rt = runtime()
    with rt.session() as session:
        docs = [_mapping_doc(m, o.slug) for m, o in provisioning.list_mappings(session, None)]
    _list(as_json, "mappings", docs, ("id", "kind", "value", "org"), "aucune correspondance")


@oidc_app.command("requests")
def requests(
    status: Annotated[str, typer.Option(help="pending, approved, rejected ou all")] = "pending",
    as_json: JsonOpt = False,
) -> None:
    """Liste les demandes d'accès (en attente par défaut)."""
    if status not in ("pending", "approved", "rejected", "all"):
        fail(f"unknown --status {status!r}: pending, approved, rejected or all")
    rt = runtime()
    with rt.session() as session:
        docs = [
            {
                "id": r.id,
                "provider": r.provider,
                "email": r.email,
                "name": r.name,
                "siret": r.siret,
                "organisation_hint": r.organisation_hint,
                "status": r.status,
                "created_at": r.created_at.isoformat(timespec="seconds"),
            }
            for r in provisioning.list_requests(session, None, status)
        ]
    _list(as_json, "requests", docs, ("id", "status", "email", "provider", "siret"), "aucune demande")


@oidc_app.command("approve")
def approve(
    request_id: Annotated[int, typer.Argument(help="Numéro de la demande")],
    org: OrgOpt,
    role: Annotated[str, typer.Option(help="Rôle : reader, contributor, curator, admin")] = "reader",
    as_json: JsonOpt = False,
) -> None:
    """Accepte une demande : crée le compte dans l'organisation, avec le rôle choisi (lecteur par défaut)."""
    rt = runtime()

    def decide() -> dict[str, Any]:
        with rt.session() as session:
            organisation = identity.find_org(session, org)
            user = provisioning.approve_request(
                session, None, request_id, org_id=organisation.id, role=role, channel="cli"
            )
            return {
                "request": request_id,
                "user_id": user.id,
                "email": user.email,
                "org": org,
                "role": user.role,
            }

    doc = _one_line(decide)
    emit_json(doc) if as_json else echo(
        f"demande {request_id} acceptée : {doc['email']} ({doc['role']}, {org})"
    )


@oidc_app.command("reject")
def reject(
    request_id: Annotated[int, typer.Argument(help="Numéro de la demande")], as_json: JsonOpt = False
) -> None:
    """Refuse une demande d'accès."""
    rt = runtime()

    def decide() -> str:
        with rt.session() as session:
            return provisioning.reject_request(session, None, request_id, channel="cli").email

    email = _one_line(decide)
    emit_json({"request": request_id, "status": "rejected", "email": email}) if as_json else echo(
        f"demande {request_id} refusée ({email})"
    )
