"""Installation and administration commands: init, organisations, users, tokens, taxonomy files."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from tfe.app.cli.common import echo, emit_json, fail, runtime
from tfe.app.install import init_installation
from tfe.core.security import audit, identity
from tfe.core.security.audit import Actor

CLI = Actor.system("cli")

user_app = typer.Typer(help="Comptes utilisateurs.", no_args_is_help=True)
org_app = typer.Typer(help="Organisations du réseau.", no_args_is_help=True)
token_app = typer.Typer(help="Jetons d'API.", no_args_is_help=True)
taxonomy_app = typer.Typer(help="Référentiel (SKOS Turtle).", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


def init(as_json: JsonOpt = False) -> None:
    """Create the data dir, migrate the database, load the taxonomy, create the admin account."""
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
    slug: str,
    name: Annotated[str, typer.Option(help="Display name")] = "",
    kind: Annotated[
        str, typer.Option(help="national_agency, regional_chamber, bank, region, partner_abroad")
    ] = ("regional_chamber"),
    as_json: JsonOpt = False,
) -> None:
    """Create an organisation (idempotent)."""
    rt = runtime()
    with rt.session() as session:
        org = identity.get_or_create_org(session, slug, name or slug, kind)
        audit.record(
            session, "org.create", CLI, target_kind="org", target_id=str(org.id), detail={"slug": slug}
        )
        out = {"id": org.id, "slug": org.slug, "name": org.name, "kind": org.kind}
    emit_json(out) if as_json else echo(f"Organisation {out['slug']} ({out['id']})")


@user_app.command("add")
def user_add(
    email: str,
    org: Annotated[str, typer.Option(help="Organisation slug (created if missing)")],
    role: Annotated[str, typer.Option(help="reader, contributor, curator, admin")] = "reader",
    name: Annotated[str, typer.Option()] = "",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Create a user in an organisation."""
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


@token_app.command("create")
def token_create(
    email: str,
    name: Annotated[str, typer.Option(help="What the token is for")] = "",
    expires_days: Annotated[int | None, typer.Option(help="Expire after N days")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create an API token for a user; the token is printed once and never stored in clear."""
    rt = runtime()
    with rt.session() as session:
        user = identity.find_user(session, email)
        token, raw = identity.create_token(session, user, name=name, expires_in_days=expires_days)
        audit.record(
            session,
            "token.create",
            Actor.of_user(user, "cli"),
            target_kind="token",
            target_id=token.prefix,
        )
    emit_json({"token": raw, "prefix": token.prefix, "user": email}) if as_json else echo(raw)


@token_app.command("revoke")
def token_revoke(prefix: str) -> None:
    """Revoke a token by its prefix (the part after ``tfe_``)."""
    rt = runtime()
    with rt.session() as session:
        identity.revoke_token(session, prefix)
        audit.record(session, "token.revoke", CLI, target_kind="token", target_id=prefix)
    echo(f"Jeton {prefix} révoqué")


@taxonomy_app.command("export")
def taxonomy_export(file: Path) -> None:
    """Write the taxonomy as SKOS Turtle."""
    from taxonomy.skos import export_turtle

    rt = runtime()
    with rt.session() as session:
        count = export_turtle(session, file)
        audit.record(session, "taxonomy.export", CLI, target_kind="file", target_id=str(file)[:64])
    echo(f"{count} triplets écrits dans {file}")


@taxonomy_app.command("import")
def taxonomy_import(file: Path, as_json: JsonOpt = False) -> None:
    """Read SKOS Turtle into the taxonomy (upsert)."""
    from taxonomy.skos import import_turtle

    if not file.is_file():
        fail(f"no such file: {file}")
    rt = runtime()
    with rt.session() as session:
        counts = import_turtle(session, file)
        audit.record(
            session, "taxonomy.import", CLI, target_kind="file", target_id=str(file)[:64], detail=counts
        )
    emit_json(counts) if as_json else echo(", ".join(f"{k}: {v}" for k, v in counts.items()))
