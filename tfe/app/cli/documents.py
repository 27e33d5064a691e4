"""``tfe document``: a document's versions (``add-version``, ``versions``, ``restore``) and check-out lock.

The commands act as the installation's administrator (``settings.admin_email``) unless ``--as`` names
another account; the rules are the API's (``ged.versions``): only someone who may edit the document adds
or restores a version, a document out of their scope is "unknown". Errors end as one line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ged.versions import version_history
from tfe.app.cli.common import JsonOpt, echo, emit_json, fail, runtime
from tfe.app.runtime import Runtime
from tfe.core.models import User
from tfe.core.security import identity

document_app = typer.Typer(help="Documents de la GED : versions.", no_args_is_help=True)

AsOpt = Annotated[str | None, typer.Option("--as", help="Agit avec les droits de cet utilisateur (e-mail)")]
CommentOpt = Annotated[str | None, typer.Option("--comment", "-m", help="Commentaire de la version")]


def _user(rt: Runtime, email: str | None) -> User:
    with rt.session() as session:
        user = identity.find_user(session, email or rt.settings.admin_email)
        session.expunge(user)
        return user


def _print_version(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json(result)
        return
    version = result["version"]
    restored = f" (restauration de la version {result['restored_from']})" if result["restored_from"] else ""
    echo(
        f"version {result['number']} de {result['document_id']}{restored} : {version['filename']}, "
        f"{version['size']} octets, sha256 {version['sha256'][:12]}"
    )


@document_app.command("add-version")
def add_version(
    doc_id: Annotated[str, typer.Argument(help="Identifiant du document")],
    file: Annotated[Path, typer.Argument(help="Fichier de la nouvelle version")],
    comment: CommentOpt = None,
    as_user: AsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Ajoute une nouvelle version d'un document (indexée et classée à la place de la courante)."""
    if not file.is_file():
        fail(f"{file}: not a readable file")
    rt = runtime()
    size = file.stat().st_size
    if size > rt.settings.max_file_bytes:
        fail(f"{file.name}: file too large ({size} bytes > {rt.settings.max_file_bytes})")
    try:
        data = file.read_bytes()
    except OSError as exc:
        fail(f"{file}: unreadable ({exc.strerror or type(exc).__name__})")
    user = _user(rt, as_user)
    result = rt.versions.add_version(
        user, doc_id, filename=file.name, data=data, comment=comment, channel="cli"
    )
    _print_version(result.as_dict(), as_json)


@document_app.command("restore")
def restore(
    doc_id: Annotated[str, typer.Argument(help="Identifiant du document")],
    number: Annotated[int, typer.Argument(help="Numéro de la version à restaurer", min=1)],
    comment: CommentOpt = None,
    as_user: AsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Restaure une version antérieure (elle devient une nouvelle version)."""
    rt = runtime()
    result = rt.versions.restore(_user(rt, as_user), doc_id, number, comment=comment, channel="cli")
    _print_version(result.as_dict(), as_json)


@document_app.command("versions")
def versions(
    doc_id: Annotated[str, typer.Argument(help="Identifiant du document")],
    as_user: AsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Historique des versions : qui, quand, taille, empreinte, commentaire ; et le verrou."""
    rt = runtime()
    user = _user(rt, as_user)
    scope = identity.scope_for(user)
    with rt.session() as session:
        view, lock = version_history(session, doc_id, scope, channel="cli")
    rows = [v.as_dict() for v in reversed(view.versions)]
    if as_json:
        emit_json({"document_id": doc_id, "versions": rows, "lock": lock.as_dict() if lock else None})
        return
    for v in rows:
        echo(
            f"{v['number']:>3}  {v['created_at'] or '—'}  {v['author'] or '—'}  {v['size']} octets  "
            f"{v['sha256'][:12]}  {v['filename']}  {v['comment'] or ''}".rstrip()
        )
    if lock:
        echo(lock.describe_fr())


@document_app.command("lock")
def lock(
    doc_id: Annotated[str, typer.Argument(help="Identifiant du document")],
    minutes: Annotated[
        int | None, typer.Option("--minutes", help="Durée du verrou (par défaut TFE_VERSION_LOCK_MINUTES)")
    ] = None,
    as_user: AsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Verrouille un document pour modification (les autres ne peuvent plus déposer de version)."""
    rt = runtime()
    held = rt.versions.lock(_user(rt, as_user), doc_id, minutes=minutes, channel="cli")
    if as_json:
        emit_json({"document_id": doc_id, "lock": held.as_dict()})
    else:
        echo(f"{doc_id} {held.describe_fr()}")


@document_app.command("unlock")
def unlock(
    doc_id: Annotated[str, typer.Argument(help="Identifiant du document")],
    as_user: AsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Déverrouille un document (la personne qui l'a verrouillé, ou un administrateur)."""
    rt = runtime()
    released = rt.versions.unlock(_user(rt, as_user), doc_id, channel="cli")
    if as_json:
        emit_json({"document_id": doc_id, "released": released.as_dict() if released else None})
    else:
        echo(f"{doc_id} déverrouillé" if released else f"{doc_id} n'était pas verrouillé")
