"""``tfe erase --document ID | --organisation ID`` and ``tfe erase verify RECEIPT`` (GDPR erasure).

An erasure asks for confirmation (``--yes`` skips it; without a terminal it is required) and prints the
signed receipt (``--json``: the receipt document alone; ``--output FILE`` also writes it there).
``tfe erase verify`` checks a receipt's signature with this installation's key, then each store; it
exits 0 when every check passes, 1 naming the first failing check (``tfe.app.erasure.verify``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from tfe.app import erasure
from tfe.app.cli.common import JsonOpt, echo, emit_json, fail, runtime
from tfe.core.errors import TfeError
from tfe.core.security.audit import Actor

erase_app = typer.Typer(
    help="Effacement (RGPD) et vérification des reçus.",
    invoke_without_command=True,
)

CLI = Actor.system("cli")


def _confirm(what: str, yes: bool) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        fail("an erasure is irreversible: confirm it with --yes")
    typer.confirm(f"Effacer définitivement {what} ? Cette opération est irréversible.", abort=True)


def _write(document: dict[str, Any], output: Path | None) -> None:
    if output is None:
        return
    try:
        output.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write the receipt to {output}: {exc.strerror or exc}")


def _summary(document: dict[str, Any]) -> None:
    receipt = document["receipt"]
    target = receipt["target"]
    echo(f"Effacé : {target['kind']} {target['id']} — reçu {receipt['id']}")
    echo(
        f"Documents : {len(receipt['documents'])}, versions : "
        f"{sum(d['version_count'] for d in receipt['documents'])}"
    )
    echo("Compteurs : " + ", ".join(f"{k} {v}" for k, v in sorted(receipt["counts"].items())))
    echo("Reçu signé :")
    echo(json.dumps(document, ensure_ascii=False, indent=2))


@erase_app.callback()
def erase(
    ctx: typer.Context,
    document: Annotated[str | None, typer.Option("--document", help="Id du document à effacer")] = None,
    organisation: Annotated[
        str | None, typer.Option("--organisation", help="Identifiant court ou id de l'organisation")
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Ne demande pas de confirmation")] = False,
    reason: Annotated[str, typer.Option("--reason", help="Motif (demande RGPD, purge...)")] = "",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Écrit aussi le reçu ici")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Efface définitivement un document ou une organisation, et imprime le reçu signé."""
    if ctx.invoked_subcommand is not None:
        if document or organisation:
            fail("--document/--organisation do not combine with a subcommand")
        return
    if bool(document) == bool(organisation):
        fail("give exactly one of --document ID or --organisation ID")
    rt = runtime()
    try:
        with rt.session() as session:  # fail on an unknown target before asking
            if organisation:
                org = erasure.find_organisation(session, organisation)
                what = f"l'organisation {org.slug} ({org.id}), ses documents et ses comptes"
            else:
                from ged import erasure as ged_erasure

                ged_erasure.collect_facts(session, [str(document)])
                what = f"le document {document} et toutes ses versions"
        _confirm(what, yes)
        if organisation:
            result = erasure.erase_organisation(rt, organisation, actor=CLI, reason=reason or "cli")
        else:
            result = erasure.erase_document(rt, str(document), actor=CLI, reason=reason or "cli")
    except TfeError as exc:
        fail(exc.message)
    finally:
        rt.close()
    _write(result, output)
    emit_json(result) if as_json else _summary(result)


@erase_app.command("verify")
def verify(
    receipt: Annotated[Path, typer.Argument(help="Le reçu d'effacement (JSON)")],
    as_json: JsonOpt = False,
) -> None:
    """Vérifie la signature d'un reçu et qu'aucune donnée effacée ne subsiste dans les stockages."""
    try:
        raw = receipt.read_bytes()
    except OSError as exc:
        fail(f"cannot read {receipt}: {exc.strerror or exc}")
    rt = runtime()
    try:
        from ged.receipts import parse

        checks = erasure.verify(rt, parse(raw))
    except TfeError as exc:
        fail(exc.message)
    finally:
        rt.close()
    failed = [c for c in checks if not c["ok"]]
    if as_json:
        emit_json({"ok": not failed, "checks": checks})
    else:
        for c in checks:
            echo(f"{'ok  ' if c['ok'] else 'FAIL'} {c['check']:<16} {c['detail']}")
    if failed:
        fail(f"check failed: {failed[0]['check']}: {failed[0]['detail']}", code=1)
