"""The import plan of a SKOS file: what ``tfe taxonomy import FILE`` would change, then ``--apply``.

``preview_import(session, path)`` reads the file, checks it and compares it with the database without
writing anything: concepts added, relabelled (preferred or alternative labels), moved (broader),
deprecated, otherwise changed, the unchanged count and the new schemes (declared in the file, unknown to
the database). A file that is not Turtle, holds no ``skos:Concept``, puts a concept in a scheme neither
it nor the database declares, points at unknown concepts, makes a broader cycle or carries invalid
matching rules is refused (``ValidationError``) with one clear
French line. ``apply_import`` writes the plan in the caller's transaction and records ONE
``TaxonomyChange`` of action ``import`` with the before/after row snapshots of every concept it touched,
so an import is reviewed and reverted like any curator edit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from taxonomy.changes import record_change, snapshot
from taxonomy.models import Concept as ConceptRow
from taxonomy.models import ConceptScheme, TaxonomyChange, assign_changed
from taxonomy.rules_validate import validate_rules
from taxonomy.skos import by_depth, merged_fields, parse_graph, read_graph
from tfe.core.db import utcnow
from tfe.core.errors import ConflictError, ValidationError

__all__ = ["ImportPlan", "apply_import", "preview_import", "snapshot"]

_LABELS = ("pref_label_fr", "pref_label_en", "alt_labels")
MAX_PROBLEMS = 5


@dataclass
class ImportPlan:
    """What importing one file would do (``as_dict`` is the CLI's and the API's answer)."""

    file: str
    schemes: list[dict[str, Any]]
    new_schemes: list[str]
    concepts: list[dict[str, Any]]  # per changed concept: id, label, status, fields, before, after (columns)
    unchanged: int
    total: int
    base: dict[str, dict[str, Any] | None] = field(default_factory=dict)  # snapshots the plan was made on

    @property
    def empty(self) -> bool:
        return not self.concepts and not self.new_schemes and not self.changed_schemes

    @property
    def changed_schemes(self) -> list[str]:
        return [s["id"] for s in self.schemes if s.get("changed") and s["id"] not in self.new_schemes]

    def of(self, status: str) -> list[dict[str, Any]]:
        return [c for c in self.concepts if status in c["kinds"]]

    def as_dict(self) -> dict[str, Any]:
        def brief(c: dict[str, Any]) -> dict[str, Any]:
            return {"id": c["id"], "label": c["label"], "fields": c["fields"]}

        return {
            "file": self.file,
            "total": self.total,
            "schemes": {"total": len(self.schemes), "new": self.new_schemes, "changed": self.changed_schemes},
            "counts": {k: len(self.of(k)) for k in ("added", "relabelled", "moved", "deprecated", "changed")}
            | {"unchanged": self.unchanged},
            "added": [brief(c) for c in self.of("added")],
            "relabelled": [{**brief(c), "before": c["before"]["pref_label_fr"],
                            "after": c["after"]["pref_label_fr"]} for c in self.of("relabelled")],
            "moved": [{**brief(c), "from": c["before"]["broader_id"], "to": c["after"]["broader_id"]}
                      for c in self.of("moved")],
            "deprecated": [{**brief(c), "replaced_by": c["after"]["replaced_by_id"]}
                           for c in self.of("deprecated")],
            "changed": [brief(c) for c in self.of("changed")],
            "unchanged": self.unchanged,
            "new_schemes": list(self.new_schemes),
        }


def _refuse(problems: list[str]) -> None:
    more = f" (et {len(problems) - MAX_PROBLEMS} autres)" if len(problems) > MAX_PROBLEMS else ""
    raise ValidationError("fichier SKOS refusé : " + " ; ".join(problems[:MAX_PROBLEMS]) + more)


def _check_rules(cid: str, rules: list[Any], stored: list[Any] | None) -> list[Any]:
    """``rules`` validated (the stored list kept as is when the file repeats it, else normalised)."""
    try:
        normalised = list(validate_rules(rules))
    except ValidationError as exc:
        raise ValidationError(f"fichier SKOS refusé : {cid} : règle invalide : {exc.message}") from exc
    return list(stored) if stored is not None and list(stored) == list(rules) else normalised


def _cycle(parent: dict[str, str | None]) -> list[str] | None:
    """One broader cycle of the ``concept → broader`` map, or ``None``."""
    done: set[str] = set()
    for start in parent:
        path: list[str] = []
        current: str | None = start
        while current is not None and current not in done:
            if current in path:
                return [*path[path.index(current):], current]
            path.append(current)
            current = parent.get(current)
        done.update(path)
    return None


def _kinds(before: dict[str, Any] | None, after: dict[str, Any], fields: list[str]) -> list[str]:
    if before is None:
        return ["added"]
    kinds = []
    if any(f in fields for f in _LABELS):
        kinds.append("relabelled")
    if "broader_id" in fields:
        kinds.append("moved")
    if after.get("deprecated") and not before.get("deprecated"):
        kinds.append("deprecated")
    if set(fields) - {*_LABELS, "broader_id", "deprecated", "replaced_by_id"} or not kinds:
        kinds.append("changed")
    return kinds


def preview_import(session: Session, path: str | Path) -> ImportPlan:
    """The plan of importing ``path`` (nothing written); ``ValidationError`` for a file refused."""
    g = read_graph(path)
    known = {s.uri: s.id for s in session.scalars(select(ConceptScheme))}
    scheme_uri = {sid: uri for uri, sid in known.items()}
    rows = {r.id: r for r in session.scalars(select(ConceptRow))}
    uris = {f"{scheme_uri[r.scheme_id].rstrip('/')}/{r.notation}": r.id for r in rows.values()
            if r.scheme_id in scheme_uri}
    declared, parsed, problems = parse_graph(g, known, uris)
    schemes: list[dict[str, Any]] = [dict(s) for s in declared]
    if not parsed and not problems:
        raise ValidationError(f"{Path(path).name} : ce fichier ne contient aucun concept SKOS")
    if problems:
        _refuse(problems)
    stored = {s.id: s for s in session.scalars(select(ConceptScheme))}
    for s in schemes:
        srow = stored.get(s["id"])
        s["changed"] = srow is None or any(getattr(srow, k) != v for k, v in s.items() if k != "changed")
    new_schemes = [s["id"] for s in schemes if s["id"] not in stored]
    concepts: list[dict[str, Any]] = []
    parent = {cid: r.broader_id for cid, r in rows.items()}
    base: dict[str, dict[str, Any] | None] = {}
    for item in parsed:
        row = rows.get(item["id"])
        after = merged_fields(row, item)
        after["rules"] = _check_rules(item["id"], after["rules"], row.rules if row is not None else None)
        parent[item["id"]] = after["broader_id"]
        before = snapshot(row) if row is not None else None
        fields = sorted(k for k, v in after.items() if before is None or before.get(k) != v)
        if before is not None and not fields:
            continue
        base[item["id"]] = before
        concepts.append({"id": item["id"], "label": after["pref_label_fr"], "fields": fields,
                         "kinds": _kinds(before, after, fields), "before": before, "after": after,
                         "item": item})
    cycle = _cycle(parent)
    if cycle:
        raise ValidationError("fichier SKOS refusé : cycle de skos:broader " + " → ".join(cycle))
    return ImportPlan(file=Path(path).name, schemes=schemes, new_schemes=new_schemes, concepts=concepts,
                      unchanged=len(parsed) - len(concepts), total=len(parsed), base=base)


def _summary(plan: ImportPlan) -> str:
    counts = plan.as_dict()["counts"]
    parts = [f"{counts[k]} {fr}" for k, fr in (("added", "ajoutés"), ("relabelled", "renommés"),
             ("moved", "déplacés"), ("deprecated", "dépréciés"), ("changed", "modifiés")) if counts[k]]
    return f"Import de {plan.file} : " + (", ".join(parts) or "schémas seulement")


def apply_import(
    session: Session, plan_or_path: ImportPlan | str | Path, *, user_id: int | None, reason: str = ""
) -> TaxonomyChange | None:
    """Apply an import in the caller's transaction; the ONE ``TaxonomyChange`` it recorded (``None``:
    the file changes nothing). ``ConflictError`` when a concept changed since the plan was made."""
    plan = plan_or_path if isinstance(plan_or_path, ImportPlan) else preview_import(session, plan_or_path)
    if plan.empty:
        return None
    for s in plan.schemes:
        values = {k: v for k, v in s.items() if k != "changed"}
        scheme_row = session.get(ConceptScheme, s["id"])
        if scheme_row is None:
            session.add(ConceptScheme(**values))
        else:
            assign_changed(scheme_row, values)
    session.flush()
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    now = utcnow()
    for entry in by_depth([{**c, "broader_id": c["after"]["broader_id"]} for c in plan.concepts]):
        cid = entry["id"]
        row = session.get(ConceptRow, cid)
        current = snapshot(row) if row is not None else None
        if current != plan.base.get(cid):
            raise ConflictError(f"{cid} a changé depuis l'aperçu de l'import : relancez l'aperçu")
        if row is None:
            row = ConceptRow(id=cid, **entry["after"])
            session.add(row)
        else:
            assign_changed(row, entry["after"])
        row.updated_at = now
        session.flush()
        before[cid], after[cid] = current, snapshot(row)
    return record_change(session, action="import", concept_id=None, summary=_summary(plan), reason=reason,
                         user_id=user_id, before=before, after=after)
