"""Export of the audit trail for outsiders, and the offline check of such an export.

An export is a contiguous slice of the chain (by ``seq``; ``since``/``until`` pick the first event at or
after ``since`` and the last one before ``until``), streamed in batches, then the anchors within the
slice, with the public key of the anchors' signer. JSON Lines: a ``header`` record, one ``anchor`` record
per anchor, then one ``event`` record per event. CSV: one header row (``COLUMNS``), then rows whose ``record``
column says ``header``, ``event`` or ``anchor``; a null is written ``\\N``, ``detail`` as canonical JSON.

``verify_export`` uses only what ``docs/security.md`` describes (SHA-256, canonical JSON, Ed25519): no
database, no key but the public one, none of the code that wrote the chain. MACs cannot be checked
outside (they need the audit key): the public hash chain and the signed anchors can.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TextIO

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tfe.core.db import utcnow
from tfe.core.errors import ValidationError
from tfe.core.models import AuditEvent
from tfe.core.security import anchors, audit
from tfe.core.security.audit_key import vault_of
from tfe.core.security.models import AuditAnchor

__all__ = ["COLUMNS", "FORMAT", "ExportReport", "ExportSummary", "export", "verify_export"]

FORMAT = "tfe-audit-export/1"
FORMATS = ("jsonl", "csv")
NULL = "\\N"
EVENT_FIELDS = ("seq", "at", "actor_user_id", "actor_org_id", "action", "target_kind", "target_id", "detail")
COLUMNS = [
    "record",
    *EVENT_FIELDS,
    "prev_hash",
    "hash",
    "mac",
    "legacy",
    "day",
    "statement",
    "signature",
    "key_id",
    "public_key",
    "format",
    "exported_at",
]
_INTS = ("seq", "actor_user_id", "actor_org_id")


@dataclass
class ExportSummary:
    events: int = 0
    anchors: int = 0
    first_seq: int | None = None
    last_seq: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _seq_range(
    session: Session, since: dt.datetime | None, until: dt.datetime | None
) -> tuple[int, int] | None:
    first = select(func.min(AuditEvent.seq)).where(AuditEvent.seq.is_not(None))
    last = select(func.max(AuditEvent.seq)).where(AuditEvent.seq.is_not(None))
    if since is not None:
        first, last = first.where(AuditEvent.at >= since), last.where(AuditEvent.at >= since)
    if until is not None:
        first, last = first.where(AuditEvent.at < until), last.where(AuditEvent.at < until)
    low, high = session.scalar(first), session.scalar(last)
    return None if low is None or high is None else (int(low), int(high))


def count(session: Session, since: dt.datetime | None = None, until: dt.datetime | None = None) -> int:
    """How many events an export of this range holds (for a progress bar)."""
    bounds = _seq_range(session, since, until)
    return 0 if bounds is None else bounds[1] - bounds[0] + 1


class _Writer:
    def __init__(self, out: TextIO, fmt: str) -> None:
        if fmt not in FORMATS:
            raise ValidationError(f"unknown export format {fmt!r} (jsonl or csv)")
        self.out, self.fmt = out, fmt
        self.csv = csv.DictWriter(out, COLUMNS, lineterminator="\n") if fmt == "csv" else None
        if self.csv is not None:
            self.csv.writeheader()

    def write(self, doc: dict[str, Any]) -> None:
        if self.csv is None:
            self.out.write(json.dumps(doc, ensure_ascii=False, sort_keys=True) + "\n")
            return
        row = {}
        for name in COLUMNS:
            value = doc.get(name)
            if name == "detail" and name in doc:
                row[name] = audit.canonical(value)
            elif value is None:
                row[name] = NULL if name in doc else ""
            else:
                row[name] = str(value).lower() if isinstance(value, bool) else str(value)
        self.csv.writerow(row)


def export(
    session: Session,
    out: TextIO,
    *,
    fmt: str = "jsonl",
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> ExportSummary:
    """Write the slice of the chain between ``since`` and ``until`` to ``out`` (see the module docstring)."""
    writer = _Writer(out, fmt)
    public_key = anchors.public_key_hex(vault_of(session))
    summary = ExportSummary()
    bounds = _seq_range(session, since, until)
    writer.write(
        {
            "record": "header",
            "format": FORMAT,
            "public_key": public_key,
            "key_id": anchors.key_id_of(public_key) if public_key else None,
            "exported_at": utcnow().isoformat(timespec="seconds"),
        }
    )
    if bounds is None:
        return summary
    summary.first_seq, summary.last_seq = bounds
    signed = session.scalars(
        select(AuditAnchor).where(AuditAnchor.seq.between(*bounds)).order_by(AuditAnchor.seq, AuditAnchor.id)
    )
    for anchor in signed:
        writer.write(
            {
                "record": "anchor",
                "day": anchor.day,
                "seq": anchor.seq,
                "hash": anchor.head_hash,
                "statement": anchors.statement(anchor.day, anchor.seq, anchor.head_hash).decode("ascii"),
                "signature": anchor.signature,
                "key_id": anchor.key_id,
            }
        )
        summary.anchors += 1
    for event in audit.stream_events(session, first_seq=bounds[0], last_seq=bounds[1]):
        content = audit.content_of(event)
        legacy = event.hash != audit.chain_hash(event.prev_hash, content)
        writer.write(
            {
                "record": "event",
                **content,
                "prev_hash": event.prev_hash,
                "hash": event.hash,
                "mac": event.mac,
                "legacy": legacy,
            }
        )
        summary.events += 1
        if progress is not None:
            progress(1)
    return summary


# -- the outsider's check -------------------------------------------------------------------------------


@dataclass
class ExportReport:
    ok: bool = True
    events: int = 0
    anchors: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    first_broken_seq: int | None = None
    reason: str | None = None  # hash | link | gap | anchor | key | format
    message: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def broken(self, reason: str, seq: int | None, why: str) -> ExportReport:
        self.ok, self.reason, self.first_broken_seq = False, reason, seq
        self.message = f"export broken at seq {seq}: {why}" if seq is not None else f"export broken: {why}"
        return self


def _records(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8", newline="") as handle:
        first = handle.readline()
        handle.seek(0)
        if first.startswith("{"):
            for line in handle:
                if line.strip():
                    yield json.loads(line)
            return
        for row in csv.DictReader(handle):
            doc: dict[str, Any] = {}
            for name, value in row.items():
                if value == "" and name not in ("mac", "prev_hash"):
                    continue
                if value == NULL:
                    doc[name] = None
                elif name in _INTS:
                    doc[name] = int(value)
                elif name == "detail":
                    doc[name] = json.loads(value)
                elif name == "legacy":
                    doc[name] = value == "true"
                else:
                    doc[name] = value
            yield doc


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _event_hash(doc: dict[str, Any]) -> str:
    if doc.get("legacy"):  # written before the keyed chain: no seq, Python's default JSON separators
        fields = {k: doc.get(k, "") for k in EVENT_FIELDS if k != "seq"}
        body = json.dumps(fields, sort_keys=True, ensure_ascii=False)
    else:
        body = _canonical({k: doc.get(k, "") for k in EVENT_FIELDS})
    return hashlib.sha256((doc["prev_hash"] + body).encode("utf-8")).hexdigest()


def _signed(public_key: Ed25519PublicKey, doc: dict[str, Any]) -> bool:
    statement = _canonical(
        {"format": anchors.FORMAT, "day": doc["day"], "seq": doc["seq"], "head_hash": doc["hash"]}
    ).encode("ascii")
    try:
        public_key.verify(base64.b64decode(doc["signature"], validate=True), statement)
    except (InvalidSignature, ValueError):
        return False
    return statement.decode("ascii") == doc.get("statement", statement.decode("ascii"))


def verify_export(path: Path, public_key: str) -> ExportReport:
    """Check an export with the signer's public key (hex, obtained apart from it: ``keys/signing.pub``).

    The hash of every event, the links between them, the sequence, and each anchor's signature and hash."""
    report = ExportReport()
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key))
    except ValueError:
        return report.broken("key", None, "the public key is not a hex Ed25519 key")
    pending: dict[int, str] = {}  # anchors' seq -> the hash they signed, until that event is read
    prev: str | None = None
    try:
        for doc in _records(path):
            kind = doc.get("record")
            if kind == "header":
                if doc.get("format") != FORMAT:
                    return report.broken("format", None, f"not a {FORMAT} file")
                if doc.get("public_key") not in (None, public_key):
                    return report.broken("key", None, "the export names another public key")
            elif kind == "event":
                seq = int(doc["seq"])
                if report.last_seq is not None and seq != report.last_seq + 1:
                    return report.broken("gap", report.last_seq + 1, "an event is missing")
                if prev is not None and doc["prev_hash"] != prev:
                    return report.broken("link", seq, "it does not link to the previous event")
                if _event_hash(doc) != doc["hash"]:
                    return report.broken("hash", seq, "its hash does not match its content")
                report.first_seq = seq if report.first_seq is None else report.first_seq
                if pending.pop(seq, doc["hash"]) != doc["hash"]:
                    return report.broken("anchor", seq, "its hash differs from the one a signed anchor holds")
                report.last_seq, prev, report.events = seq, doc["hash"], report.events + 1
            elif kind == "anchor":
                seq = int(doc["seq"])
                report.anchors += 1
                if not _signed(key, doc):
                    return report.broken(
                        "anchor", seq, f"the anchor of {doc['day']} is not signed by this key"
                    )
                pending[seq] = doc["hash"]
    except (KeyError, ValueError, TypeError) as exc:
        return report.broken("format", report.last_seq, f"malformed record ({type(exc).__name__}: {exc})")
    if pending:
        return report.broken("anchor", min(pending), "the export ends before a signed anchor's event")
    report.message = f"export intact: {report.events} event(s), {report.anchors} signed anchor(s)"
    return report
