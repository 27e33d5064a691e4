"""Installation and administration commands: init, organisations, users, tokens (the taxonomy commands:
``tfe.app.cli.taxonomy``, whose ``taxonomy_app`` is re-exported here)."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from sqlalchemy import select

from tfe.app.cli.common import JsonOpt, echo, emit_json, fail, runtime
from tfe.app.cli.taxonomy import taxonomy_app as taxonomy_app  # re-exported (commands live there)
from tfe.app.install import init_installation
from tfe.core.models import ApiToken, User
from tfe.core.security import audit, identity
from tfe.core.security.audit import Actor

CLI = Actor.system("cli")

user_app = typer.Typer(help="Comptes utilisateurs.", no_args_is_help=True)
org_app = typer.Typer(help="Organisations du réseau.", no_args_is_help=True)
token_app = typer.Typer(help="Jetons d'API.", no_args_is_help=True)


def init(as_json: JsonOpt = False) -> None:
    """Crée le dossier de données, migre la base, charge la taxonomie, crée le compte administrateur."""
    rt = runtime(require_init=False)
    report = init_installation(rt)
    if as_json:
        emit_json(report.__dict__)
        return
    echo(f"Données : {report.data_dir}")
    echo(f"Base : {report.database}")
    echo("Référentiel : " + ", ".join(f"{k} {v}" for k, v in report.taxonomy.items()))
    if report.admin_password:
        echo(f"Compte administrateur : {report.admin_email} / mot de passe : {report.admin_password}")
    elif report.admin_created:
        echo(f"Compte administrateur : {report.admin_email} (mot de passe de TFE_ADMIN_PASSWORD)")
    else:
        echo(f"Compte administrateur : {report.admin_email} (déjà créé)")


@org_app.command("add")
def org_add(
    slug: Annotated[str, typer.Argument(help="Identifiant court, par ex. cci-bretagne")],
    name: Annotated[str, typer.Option(help="Nom affiché")] = "",
    kind: Annotated[
        str, typer.Option(help="Type : national_agency, regional_chamber, bank, region, partner_abroad")
    ] = ("regional_chamber"),
    region: Annotated[
        str, typer.Option(help="Code INSEE de la région (75 : Nouvelle-Aquitaine…)")
    ] = "",
    country: Annotated[str, typer.Option(help="Pays (code ISO) d'un partenaire à l'étranger")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Crée une organisation (si elle existe déjà, seules sa région et son pays donnés changent)."""
    rt = runtime()
    with rt.session() as session:
        org = identity.get_or_create_org(
            session, slug, name or slug, kind, region=region or None, country=country or None
        )
        audit.record(
            session,
            "org.create",
            CLI,
            target_kind="org",
            target_id=str(org.id),
            detail={"slug": slug, "region": org.region, "country": org.country},
        )
        out = {
            "id": org.id,
            "slug": org.slug,
            "name": org.name,
            "kind": org.kind,
            "region": org.region,
            "country": org.country,
        }
    emit_json(out) if as_json else echo(f"Organisation {out['slug']} ({out['id']})")


@user_app.command("add")
def user_add(
    email: Annotated[str, typer.Argument(help="Adresse e-mail du compte")],
    org: Annotated[str, typer.Option(help="Identifiant de l'organisation (créée si absente)")],
    role: Annotated[str, typer.Option(help="Rôle : reader, contributor, curator, admin")] = "reader",
    name: Annotated[str, typer.Option(help="Nom affiché")] = "",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Lit le mot de passe sur l'entrée standard")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Crée un compte utilisateur dans une organisation."""
    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    rt = runtime()
    with rt.session() as session:
        organisation = identity.get_or_create_org(session, org)
        user = identity.create_user(
            session, email=email, org=organisation, role=role, name=name, password=password
        )
        audit.record(
            session,
            "user.create",
            CLI,
            target_kind="user",
            target_id=str(user.id),
            detail={"email": user.email, "role": role, "org": org},
        )
        out = {"id": user.id, "email": user.email, "org": org, "role": user.role}
    emit_json(out) if as_json else echo(f"Utilisateur {out['email']} ({out['role']}, {org})")


@user_app.command("set-password")
def user_set_password(
    email: Annotated[str, typer.Argument(help="Adresse e-mail du compte")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Lit le mot de passe sur l'entrée standard")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Change le mot de passe d'un compte ; toutes ses sessions ouvertes sont fermées."""
    if not password_stdin:
        fail("give the new password on standard input with --password-stdin (never on the command line)")
    password = sys.stdin.readline().rstrip("\n")
    rt = runtime()
    with rt.session() as session:
        user = identity.find_user(session, email)
        ended = identity.change_password(session, user, password)
        audit.record(
            session,
            "user.password",
            CLI,
            target_kind="user",
            target_id=str(user.id),
            detail={"email": user.email, "sessions_ended": ended},
        )
        out = {"email": user.email, "sessions_ended": ended}
    if as_json:
        emit_json(out)
    else:
        echo(f"Mot de passe de {out['email']} modifié ; {ended} session(s) fermée(s)")


def _token_row(token: ApiToken, owner: str) -> dict[str, Any]:
    return {
        "id": token.id,
        "prefix": token.prefix,
        "user": owner,
        "name": token.name,
        "scopes": list(identity.token_scopes(token)),
        "created_at": token.created_at.isoformat(),
        "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
        "expires_at": token.expires_at.isoformat() if token.expires_at else None,
        "state": identity.token_state(token),
    }


@token_app.command("create")
def token_create(
    email: Annotated[str, typer.Argument(help="Adresse e-mail du titulaire")],
    name: Annotated[str, typer.Option(help="Usage du jeton")] = "",
    scopes: Annotated[
        str, typer.Option(help="Portées séparées par des virgules : read, write, admin")
    ] = "read,write",
    expires_days: Annotated[
        int | None, typer.Option(help="Expire après N jours (1 à 3650 ; 90 par défaut)")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Crée un jeton d'API pour un utilisateur ; il est affiché une seule fois et jamais stocké en clair."""
    rt = runtime()
    with rt.session() as session:
        user = identity.find_user(session, email)
        token, raw = identity.create_token(
            session, user, name=name, expires_in_days=expires_days, scopes=scopes
        )
        audit.record(
            session,
            "token.create",
            Actor.of_user(user, "cli"),
            target_kind="token",
            target_id=token.prefix,
            detail={"scopes": token.scopes, "expires_at": str(token.expires_at), "name": token.name},
        )
        out = {**_token_row(token, user.email), "token": raw}
    emit_json(out) if as_json else echo(raw)


@token_app.command("list")
def token_list(
    email: Annotated[str | None, typer.Argument(help="Adresse e-mail du titulaire (tous sinon)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Liste les jetons d'API (préfixe, titulaire, portées, dates, état) ; jamais leur secret."""
    rt = runtime()
    with rt.session() as session:
        query = select(ApiToken, User).join(User, User.id == ApiToken.user_id)
        if email is not None:
            query = query.where(User.id == identity.find_user(session, email).id)
        rows = session.execute(query.order_by(ApiToken.created_at.desc(), ApiToken.id.desc()))
        tokens = [_token_row(token, owner.email) for token, owner in rows.tuples()]
        audit.record(
            session, "token.list", CLI, target_kind="token", detail={"user": email, "count": len(tokens)}
        )
    if as_json:
        emit_json({"total": len(tokens), "tokens": tokens})
        return
    for t in tokens:
        expires = str(t["expires_at"] or "sans expiration")[:10]
        scopes = ",".join(t["scopes"])
        echo(f"tfe_{t['prefix']}…  {t['user']}  {scopes}  {t['state']}  expire {expires}  {t['name']}")
    if not tokens:
        echo("Aucun jeton")


@token_app.command("revoke")
def token_revoke(prefix: Annotated[str, typer.Argument(help="Préfixe du jeton")]) -> None:
    """Révoque un jeton par son préfixe (la partie qui suit « tfe_ »)."""
    rt = runtime()
    prefix = prefix.removeprefix("tfe_").split("_")[0].rstrip("…")
    with rt.session() as session:
        token = identity.revoke_token(session, prefix, reason="cli")
        audit.record(
            session, "token.revoke", CLI, target_kind="token", target_id=prefix, detail={"name": token.name}
        )
    echo(f"Jeton {prefix} révoqué")
