"""``tfe audit verify|export|anchor|seal-legacy``: the audit trail that outsiders can check.

- ``verify`` checks the chain from the first event (hashes, links, sequence, MACs, signed anchors, head);
  exit 0 when intact, 1 with one line naming the first broken event;
- ``export`` writes a slice of the chain (JSON Lines or CSV) with the anchors and the public key, so that
  a third party can check it (``tfe.core.security.audit_export``); a progress bar on a terminal;
- ``anchor`` signs the chain's head now (the jobs sign one a day);
- ``seal-legacy`` gives the events written before the keyed chain their MAC, then signs an anchor.

Each command is itself audited (``audit.verify``, ``audit.export``, ``audit.anchor``, ``audit.seal_legacy``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, TextIO

import typer
from tqdm import tqdm

from tfe.app.cli.common import JsonOpt, echo, emit_json, fail, runtime
from tfe.core.errors import ConflictError
from tfe.core.security import anchors, audit, audit_export
from tfe.core.security.audit import Actor

audit_app = typer.Typer(help="Journal d'audit : vérification, export, ancrages signés.", no_args_is_help=True)

CLI = Actor.system("cli")


def _when(value: str | None, option: str) -> dt.datetime | None:
    if value is None:
        return None
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        fail(f"{option} {value!r} is not an ISO date or time (2026-12-01 or 2026-12-01T08:00)")
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


@audit_app.command("verify")
def verify(as_json: JsonOpt = False) -> None:
    """Vérifie la chaîne depuis le premier événement ; code 1 et le premier maillon rompu sinon."""
    rt = runtime()
    with rt.session() as session:
        report = audit.verify(session)
    with rt.session() as session:
        audit.record(session, "audit.verify", CLI, detail={"ok": report.ok, "reason": report.reason})
    if as_json:
        emit_json(report.as_dict())
    elif report.ok:
        keyed = "MAC vérifiés" if report.keyed else "sans clé : MAC non vérifiés"
        echo(
            f"journal intact : {report.events} événement(s), {report.anchors} ancrage(s) signé(s), {keyed}"
            + (f", {report.legacy} ancien(s)" if report.legacy else "")
        )
    if not report.ok:
        if as_json:
            raise SystemExit(1)
        fail(report.message, code=1)


@contextlib.contextmanager
def _output(path: Path | None) -> Iterator[TextIO]:
    if path is None:
        yield sys.stdout
        return
    try:
        handle = path.open("w", encoding="utf-8", newline="")
    except OSError as exc:
        fail(f"cannot write the export to {path}: {exc.strerror or exc}")
    with handle:
        yield handle


@audit_app.command("export")
def export(
    since: Annotated[str | None, typer.Option("--since", help="Depuis (date ou heure ISO, incluse)")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Jusqu'à (date ou heure ISO, exclue)")] = None,
    fmt: Annotated[str, typer.Option("--format", help="jsonl (défaut) ou csv")] = "jsonl",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Fichier à écrire (sortie standard sinon)")
    ] = None,
) -> None:
    """Exporte les événements, les ancrages signés et la clé publique, vérifiables par un tiers."""
    if fmt not in audit_export.FORMATS:
        fail(f"unknown --format {fmt!r}: jsonl or csv")
    start, end = _when(since, "--since"), _when(until, "--until")
    rt = runtime()
    with rt.session() as session:
        total = audit_export.count(session, start, end)
        shown = sys.stderr.isatty()
        with (
            tqdm(total=total, desc="événements", unit="év", disable=not shown, file=sys.stderr) as bar,
            _output(output) as out,
        ):
            summary = audit_export.export(session, out, fmt=fmt, since=start, until=end, progress=bar.update)
    detail = {"since": since, "until": until, "format": fmt, **summary.as_dict()}
    with rt.session() as session:
        audit.record(session, "audit.export", CLI, detail=detail)
    if output is not None:
        echo(f"{summary.events} événement(s) et {summary.anchors} ancrage(s) exportés dans {output}")


@audit_app.command("anchor")
def anchor(as_json: JsonOpt = False) -> None:
    """Signe maintenant la tête de la chaîne (un ancrage daté du jour)."""
    rt = runtime()
    with rt.session() as session:
        signed = anchors.sign_head(session, rt.vault, actor=CLI)
        doc = {"day": signed.day, "seq": signed.seq, "head_hash": signed.head_hash, "key_id": signed.key_id}
    if as_json:
        emit_json(doc)
        return
    echo(f"ancrage signé : {doc['day']}, seq {doc['seq']}, {doc['head_hash']} (clé {doc['key_id']})")


@audit_app.command("seal-legacy")
def seal_legacy(
    as_json: JsonOpt = False,
    accept_forks: Annotated[
        bool,
        typer.Option(
            "--accept-forks", help="Accepte les fourches de l'ancien défaut de concurrence (listées)"
        ),
    ] = False,
) -> None:
    """Scelle (MAC) les événements écrits avant la chaîne à clé, si toute la chaîne se vérifie."""
    rt = runtime()
    rt.vault.signer()  # made before this session writes (on SQLite its key waits for no lock of ours)
    with rt.session() as session:
        try:
            done = audit.seal_legacy(session, CLI, accept_forks=accept_forks)
        except ConflictError as exc:
            fail(exc.message, code=1)
    with rt.session() as session:
        seq = anchors.sign_head(session, rt.vault, actor=CLI).seq
    if as_json:
        emit_json({"sealed": done.sealed, "forks": done.forks, "anchor_seq": seq})
        return
    forks = f", {len(done.forks)} fourche(s) acceptée(s)" if done.forks else ""
    echo(f"{done.sealed} ancien(s) événement(s) scellé(s){forks} ; ancrage signé à la seq {seq}")
