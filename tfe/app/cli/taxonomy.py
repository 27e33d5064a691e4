"""``tfe taxonomy …``: the taxonomy as SKOS Turtle files (export, import preview and apply), releases,
the history of curator changes and their revert. Each write is audited; errors are one line, exit 2."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from taxonomy.changes import change_view
from taxonomy.editing import history, revert_change
from tfe.app.cli.common import JsonOpt, echo, emit_json, fail, runtime
from tfe.core.errors import TfeError
from tfe.core.security import audit
from tfe.core.security.audit import Actor

__all__ = ["taxonomy_app"]

CLI = Actor.system("cli")
taxonomy_app = typer.Typer(help="Référentiel (SKOS Turtle, versions, historique).", no_args_is_help=True)

ReasonOpt = Annotated[str, typer.Option("--reason", help="Motif enregistré avec la modification.")]
_KINDS = (
    ("added", "ajoutés"),
    ("relabelled", "renommés"),
    ("moved", "déplacés"),
    ("deprecated", "dépréciés"),
    ("changed", "modifiés"),
)


@taxonomy_app.command("export")
def taxonomy_export(
    file: Annotated[Path, typer.Argument(help="Fichier Turtle à écrire")],
    release: Annotated[
        str | None, typer.Option("--release", help="Écrit cette version plutôt que l'actuelle.")
    ] = None,
) -> None:
    """Écrit la taxonomie (ou une version enregistrée) en SKOS Turtle."""
    from taxonomy.releases import get_release
    from taxonomy.skos import export_turtle

    if file.is_dir():
        fail(f"{file} is a directory: give a file name, e.g. {file / 'taxonomie.ttl'}")
    if not file.parent.is_dir():
        fail(f"no such directory: {file.parent}")
    rt = runtime()
    try:
        with rt.session() as session:
            found = get_release(session, release) if release else None
            count = export_turtle(session, file, release=found)
            audit.record(
                session,
                "taxonomy.export",
                CLI,
                target_kind="file",
                target_id=str(file)[:64],
                detail={"release": release} if release else None,
            )
    except OSError as exc:
        fail(f"cannot write {file}: {exc.strerror or exc}")
    except TfeError as exc:
        fail(exc.message)
    echo(f"{count} concepts écrits dans {file}")


def _plan_text(plan: dict[str, Any]) -> list[str]:
    counts = plan["counts"]
    lines = [", ".join(f"{counts[k]} {fr}" for k, fr in _KINDS) + f", {counts['unchanged']} inchangés"]
    if plan["new_schemes"]:
        lines.append("Nouveaux schémas : " + ", ".join(plan["new_schemes"]))
    for key, fr in _KINDS:
        for c in plan[key]:
            extra = ""
            if key == "relabelled":
                extra = f" : « {c['before']} » → « {c['after']} »"
            elif key == "moved":
                extra = f" : {c['from'] or '(racine)'} → {c['to'] or '(racine)'}"
            elif key == "deprecated" and c["replaced_by"]:
                extra = f" (remplacé par {c['replaced_by']})"
            elif key == "changed":
                extra = " (" + ", ".join(c["fields"]) + ")"
            lines.append(f"  {fr[:-1]} {c['id']} « {c['label']} »{extra}")
    return lines


@taxonomy_app.command("import")
def taxonomy_import(
    file: Annotated[Path, typer.Argument(help="Fichier SKOS Turtle à lire")],
    apply: Annotated[
        bool, typer.Option("--apply", help="Applique l'import (sans : aperçu seulement).")
    ] = False,
    reason: ReasonOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Montre ce qu'un fichier SKOS changerait ; avec --apply, l'applique en une modification annulable."""
    from taxonomy.skos_diff import apply_import, preview_import

    if not file.is_file():
        fail(f"no such file: {file}")
    rt = runtime()
    try:
        with rt.session() as session:
            plan = preview_import(session, file)
            body = plan.as_dict()
            change = apply_import(session, plan, user_id=None, reason=reason) if apply else None
            audit.record(
                session,
                "taxonomy.import" if apply else "taxonomy.import_preview",
                CLI,
                target_kind="file",
                target_id=str(file)[:64],
                detail={"counts": body["counts"], "change": change.id if change else None},
            )
    except TfeError as exc:
        fail(exc.message)
    if as_json:
        emit_json({**body, "applied": apply, "change": change_view(change) if change else None})
        return
    for line in _plan_text(body):
        echo(line)
    if apply:
        echo(
            f"Import appliqué : modification n° {change.id}"
            if change
            else "Rien à importer : aucun changement"
        )
    elif plan.concepts or plan.new_schemes:
        echo("Aperçu seulement : relancez avec --apply pour appliquer")


@taxonomy_app.command("release")
def taxonomy_release(
    name: Annotated[str, typer.Argument(help="Nom de la version (unique)")],
    note: Annotated[str, typer.Option("--note", help="Note jointe à la version.")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Enregistre l'état actuel de la taxonomie comme une version nommée."""
    from taxonomy.releases import create_release, release_dict

    rt = runtime()
    try:
        with rt.session() as session:
            release = create_release(session, name, note=note)
            body = release_dict(release)
            audit.record(
                session,
                "taxonomy.release",
                CLI,
                target_kind="release",
                target_id=release.name[:64],
                detail={"concepts": body["concepts"]},
            )
    except TfeError as exc:
        fail(exc.message)
    emit_json(body) if as_json else echo(
        f"Version « {body['name']} » enregistrée : {body['concepts']} concepts"
    )


@taxonomy_app.command("releases")
def taxonomy_releases(as_json: JsonOpt = False) -> None:
    """Liste les versions enregistrées de la taxonomie (la plus récente d'abord)."""
    from taxonomy.releases import list_releases, release_dict

    rt = runtime()
    with rt.session() as session:
        rows = [release_dict(r) for r in list_releases(session)]
        audit.record(session, "taxonomy.read", CLI, target_kind="release", detail={"releases": len(rows)})
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        echo(f"{r['name']}\t{str(r['created_at'])[:19]}\t{r['concepts']} concepts\t{r['note']}")
    if not rows:
        echo("Aucune version enregistrée")


@taxonomy_app.command("history")
def taxonomy_history(
    concept: Annotated[
        str | None, typer.Option("--concept", help="Seulement les modifications de ce concept.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="Nombre de modifications montrées.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Montre les dernières modifications du référentiel."""
    rt = runtime()
    try:
        with rt.session() as session:
            rows = [change_view(c) for c in history(session, concept_id=concept, limit=limit)]
            audit.record(
                session,
                "taxonomy.read",
                CLI,
                target_kind="concept",
                target_id=concept,
                detail={"changes": len(rows)},
            )
    except TfeError as exc:
        fail(exc.message)
    if as_json:
        emit_json(rows)
        return
    for c in rows:
        mark = f" (annulée par n° {c['reverted_by']})" if c["reverted_by"] else ""
        echo(f"n° {c['id']}\t{(c['created_at'] or '')[:19]}\t{c['action']}\t{c['summary']}{mark}")
    if not rows:
        echo("Aucune modification")


@taxonomy_app.command("revert")
def taxonomy_revert(
    change_id: Annotated[int, typer.Argument(help="Numéro de la modification à annuler", min=1)],
    reason: ReasonOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Annule une modification du référentiel (elle-même enregistrée comme une modification)."""
    rt = runtime()
    try:
        with rt.session() as session:
            revert = revert_change(session, change_id, user_id=None, reason=reason)
            body = change_view(revert)
            audit.record(
                session,
                "taxonomy.change",
                CLI,
                target_kind="concept",
                target_id=revert.concept_id,
                detail={"change": revert.id, "action": "revert", "revert_of": change_id},
            )
    except TfeError as exc:
        fail(exc.message)
    emit_json(body) if as_json else echo(f"Modification n° {change_id} annulée par la n° {body['id']}")
