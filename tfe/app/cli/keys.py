"""``tfe keys status|rotate|revoke|new-file``: the operator's key-encryption key and the data keys it wraps.

``rotate`` makes a new key-encryption key and rewraps every data key while the service keeps serving;
``revoke`` destroys every key for good (stored content becomes unreadable, the search index is dropped,
the service answers 503): it asks for confirmation, ``--yes-destroy-all-content`` or the installation
name typed at the prompt.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import MetaData
from tqdm import tqdm

from tfe.app.cli.common import JsonOpt, echo, emit_json, fail, runtime
from tfe.app.runtime import Runtime
from tfe.core.security import audit
from tfe.core.security.audit import Actor

keys_app = typer.Typer(help="Clés de chiffrement : état, rotation, révocation.", no_args_is_help=True)


def _sealed_tables() -> MetaData:
    """The metadata of every table holding sealed columns (their modules imported, so registered)."""
    import ged.models  # noqa: F401
    import search.models  # noqa: F401
    import veille.alerts.models
    import veille.models  # noqa: F401
    from tfe.core.db import Base

    return Base.metadata


def _legacy_rows(rt: Runtime) -> dict[str, int]:
    """Rows of sealed columns still stored in clear (written before encryption at rest), per table."""
    from tfe.core.crypto.legacy import legacy_rows

    return legacy_rows(rt.engine, _sealed_tables())


@keys_app.command("status")
def status(as_json: JsonOpt = False) -> None:
    """État des clés : fournisseur, clé de chiffrement de clés courante, clés de données par clé."""
    rt = runtime(require_keys=False)
    doc = rt.vault.status()
    if doc["revoked_on"] is None:
        doc["legacy_plaintext_rows"] = _legacy_rows(rt)
    if as_json:
        emit_json(doc)
        return
    if doc["revoked_on"] is not None:
        echo(f"clés révoquées le {doc['revoked_on']} : les contenus ne peuvent plus être lus")
        return
    echo(f"fournisseur : {doc['provider']} ({doc['location']})")
    echo(f"clé courante : {doc['current_kek_id']}")
    if len(doc["kek_ids"]) > 1:
        echo(f"clés détenues : {', '.join(doc['kek_ids'])} (rotation inachevée : relancer tfe keys rotate)")
    echo(f"clé des colonnes : {doc['column_key']['id']} sous {doc['column_key']['kek_id']}")
    echo(f"clés de données : {doc['data_keys_total']}")
    for kek_id, count in sorted(doc["data_keys"].items()):
        echo(f"  {kek_id} : {count}")
    legacy = {t: n for t, n in doc["legacy_plaintext_rows"].items() if n}
    if legacy:
        echo(
            "lignes en clair (antérieures au chiffrement) : "
            + ", ".join(f"{t} {n}" for t, n in legacy.items())
        )


@keys_app.command("rotate")
def rotate(
    as_json: JsonOpt = False,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Barre de progression")] = True,
) -> None:
    """Nouvelle clé de chiffrement de clés ; les clés de données sont réemballées, le service continue."""
    rt = runtime(require_keys=False)
    with tqdm(desc="clés de données", unit="clé", disable=not progress or as_json, file=sys.stderr) as bar:

        def advance(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        report = rt.vault.rotate(progress=advance)
    with rt.session() as session:
        audit.record(session, "keys.rotate", Actor.system("cli"), detail=report.as_dict())
    if report.failed:
        fail(
            f"{report.failed} data key(s) could not be rewrapped (tampered?): the previous "
            "key-encryption key is kept; see tfe keys status",
            code=1,
        )
    if as_json:
        emit_json(report.as_dict())
        return
    echo(f"nouvelle clé : {report.new_kek_id} ; {report.rewrapped} clé(s) de données réemballée(s)")
    if report.retired:
        echo(f"clé(s) retirée(s) : {', '.join(report.retired)}")


@keys_app.command("seal")
def seal(as_json: JsonOpt = False) -> None:
    """Chiffre les valeurs et les fichiers encore en clair (écrits avant le chiffrement au repos)."""
    from ged.legacy_blobs import seal_legacy_blobs
    from tfe.core.crypto.legacy import seal_legacy_rows

    rt = runtime()
    changed = seal_legacy_rows(rt.engine, _sealed_tables())
    blobs = seal_legacy_blobs(rt.session_factory, rt.blob_store)
    with rt.session() as session:
        audit.record(session, "keys.seal", Actor.system("cli"), detail={"rows": changed, "blobs": blobs})
    if as_json:
        emit_json({"sealed_rows": changed, "total": sum(changed.values()), "blobs": blobs})
        return
    echo(
        f"{sum(changed.values())} ligne(s) chiffrée(s), {blobs['versions']} fichier(s) de version chiffré(s)"
    )
    for table, count in sorted(changed.items()):
        if count:
            echo(f"  {table} : {count}")


@keys_app.command("revoke")
def revoke(
    yes: Annotated[
        bool,
        typer.Option("--yes-destroy-all-content", help="Confirme sans question : IRRÉVERSIBLE."),
    ] = False,
) -> None:
    """Révoque la clé : tout contenu stocké devient illisible, définitivement, et l'index est supprimé."""
    rt = runtime(require_keys=False)
    name = rt.settings.resolved_data_dir.name
    if not yes:
        echo("La révocation détruit toutes les clés : aucun contenu ne pourra plus jamais être lu.")
        try:
            typed = typer.prompt(f"Tapez le nom de l'installation ({name}) pour confirmer", default="")
        except (typer.Abort, EOFError):
            typed = ""
        if typed.strip() != name:
            fail("revocation not confirmed: the installation name was not typed", code=1)
    with rt.session() as session:
        audit.record(session, "keys.revoke", Actor.system("cli"), detail={"keys_dir": str(rt.vault.keys_dir)})
    when = rt.vault.revoke()
    if "backend" in rt.__dict__:
        rt.backend.close()
    shutil.rmtree(rt.settings.index_dir, ignore_errors=True)
    echo(f"clés révoquées le {when} ; index de recherche supprimé ({rt.settings.index_dir})")


@keys_app.command("new-file")
def new_file(
    path: Annotated[
        Path, typer.Argument(help="Fichier de clés à créer (mode 0600), pour TFE_MASTER_KEY_FILE")
    ],
) -> None:
    """Crée un fichier de clés neuf (une clé de chiffrement de clés aléatoire), lisible par vous seul."""
    from tfe.core.crypto.files import create_private
    from tfe.core.crypto.providers import new_keyring

    if path.exists():
        fail(f"{path} already exists: it is never overwritten")
    if not create_private(path, new_keyring()):
        fail(f"{path} already exists: it is never overwritten")
    echo(f"fichier de clés créé : {path} (mode 0600) ; TFE_MASTER_KEY_FILE={path}")
