"""SKOS Turtle export and import of the taxonomy tables (``tfe taxonomy export|import FILE``).

Each scheme is a ``skos:ConceptScheme``; each concept a ``skos:Concept`` with ``skos:notation``,
``skos:prefLabel``/``altLabel``/``hiddenLabel`` in ``@fr`` and ``@en``, ``skos:definition``,
``skos:scopeNote``, ``skos:broader``/``skos:narrower``, ``skos:inScheme`` and ``skos:topConceptOf``.
Concept URIs are ``<scheme uri>/<notation>``; the project's concept id and level travel in
``tfe:conceptId``, ``tfe:level`` and ``tfe:extra`` (JSON: ISO codes, M49 zones, demonyms) so that an
import restores exactly what was exported, even into an empty database. Labels are
sets in SKOS, so the import compares them as sets and keeps the stored order (``taxonomy.labels``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rdflib import RDF, SKOS, Graph, Literal, Namespace, URIRef
from sqlalchemy import select
from sqlalchemy.orm import Session

from taxonomy.labels import merge_labels
from taxonomy.models import Concept as ConceptRow
from taxonomy.models import ConceptScheme, assign_changed
from taxonomy.version import bump_version

__all__ = ["TFE", "export_turtle", "import_turtle"]

TFE = Namespace("https://tfe.example.org/ns#")


def _concept_uri(scheme_uri: str, notation: str) -> URIRef:
    return URIRef(f"{scheme_uri.rstrip('/')}/{notation}")


def export_turtle(session: Session, path: str | Path) -> int:
    """Write every scheme and concept of the database as SKOS Turtle; returns the number of concepts."""
    g = Graph()
    g.bind("skos", SKOS)
    g.bind("tfe", TFE)
    schemes = {s.id: s for s in session.scalars(select(ConceptScheme))}
    for s in schemes.values():
        node = URIRef(s.uri)
        g.add((node, RDF.type, SKOS.ConceptScheme))
        g.add((node, SKOS.prefLabel, Literal(s.label_fr, lang="fr")))
        g.add((node, SKOS.prefLabel, Literal(s.label_en, lang="en")))
        g.add((node, TFE.schemeId, Literal(s.id)))
        g.add((node, TFE.version, Literal(s.version)))
    rows = list(session.scalars(select(ConceptRow)))
    uris = {c.id: _concept_uri(schemes[c.scheme_id].uri, c.notation) for c in rows}
    for c in rows:
        node = uris[c.id]
        scheme = URIRef(schemes[c.scheme_id].uri)
        g.add((node, RDF.type, SKOS.Concept))
        g.add((node, SKOS.inScheme, scheme))
        g.add((node, SKOS.notation, Literal(c.notation)))
        g.add((node, TFE.conceptId, Literal(c.id)))
        if c.level:
            g.add((node, TFE.level, Literal(c.level)))
        g.add((node, SKOS.prefLabel, Literal(c.pref_label_fr, lang="fr")))
        if c.pref_label_en:
            g.add((node, SKOS.prefLabel, Literal(c.pref_label_en, lang="en")))
        for prop, labels in ((SKOS.altLabel, c.alt_labels or {}), (SKOS.hiddenLabel, c.hidden_labels or {})):
            for lang, values in labels.items():
                for v in values:
                    g.add((node, prop, Literal(v, lang=lang)))
        if c.definition_fr:
            g.add((node, SKOS.definition, Literal(c.definition_fr, lang="fr")))
        if c.definition_en:
            g.add((node, SKOS.definition, Literal(c.definition_en, lang="en")))
        note = (c.extra or {}).get("scope_note_en")
        if note:
            g.add((node, SKOS.scopeNote, Literal(str(note), lang="en")))
        extra = {k: v for k, v in (c.extra or {}).items() if k != "scope_note_en"}
        if extra:
            g.add((node, TFE.extra, Literal(json.dumps(extra, ensure_ascii=False, sort_keys=True))))
        if c.broader_id and c.broader_id in uris:
            g.add((node, SKOS.broader, uris[c.broader_id]))
            g.add((uris[c.broader_id], SKOS.narrower, node))
        else:
            g.add((node, SKOS.topConceptOf, scheme))
            g.add((scheme, SKOS.hasTopConcept, node))
        if c.deprecated:
            g.add((node, TFE.deprecated, Literal(True)))
    Path(path).write_text(g.serialize(format="turtle"), encoding="utf-8")
    return len(rows)


def _lang_values(g: Graph, node: URIRef, prop: URIRef) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for o in g.objects(node, prop):
        if isinstance(o, Literal):
            out.setdefault(o.language or "fr", []).append(str(o))
    return {k: sorted(v) for k, v in out.items()}


def _with_note(extra: dict[str, Any] | None, note: str) -> dict[str, Any]:
    """``extra`` with the scope note the file gives (none in the file: none kept)."""
    out = {k: v for k, v in (extra or {}).items() if k != "scope_note_en"}
    if note:
        out["scope_note_en"] = note
    return out


def _extra(g: Graph, node: URIRef) -> dict[str, Any] | None:
    """The ``tfe:extra`` JSON of a concept; ``None`` when the file has none (a foreign SKOS file)."""
    raw = g.value(node, TFE.extra)
    if raw is None:
        return None
    try:
        value = json.loads(str(raw))
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _parse_schemes(g: Graph) -> dict[URIRef, dict[str, str]]:
    out: dict[URIRef, dict[str, str]] = {}
    for node in g.subjects(RDF.type, SKOS.ConceptScheme):
        assert isinstance(node, URIRef)
        sid = str(g.value(node, TFE.schemeId) or str(node).rstrip("/").rsplit("/", 1)[-1])
        labels = _lang_values(g, node, SKOS.prefLabel)
        out[node] = {"id": sid, "uri": str(node), "label_fr": (labels.get("fr") or [sid])[0],
                     "label_en": (labels.get("en") or labels.get("fr") or [sid])[0],
                     "version": str(g.value(node, TFE.version) or "1")}
    return out


def _upsert_schemes(session: Session, schemes: dict[URIRef, dict[str, str]]) -> bool:
    """Create or update the scheme rows; whether anything changed."""
    changed = False
    for values in schemes.values():
        row = session.get(ConceptScheme, values["id"])
        if row is None:
            session.add(ConceptScheme(**values))
            changed = True
            continue
        changed |= assign_changed(row, values)
    session.flush()
    return changed


def _parse_concepts(g: Graph, scheme_ids: dict[URIRef, str]) -> list[dict[str, Any]]:
    parsed: list[dict[str, Any]] = []
    ids: dict[URIRef, str] = {}
    for node in g.subjects(RDF.type, SKOS.Concept):
        assert isinstance(node, URIRef)
        scheme = g.value(node, SKOS.inScheme)
        scheme_id = scheme_ids.get(scheme) if isinstance(scheme, URIRef) else None
        notation = str(g.value(node, SKOS.notation) or str(node).rsplit("/", 1)[-1])
        if scheme_id is None:
            continue
        ids[node] = str(g.value(node, TFE.conceptId) or f"{scheme_id}:{notation}")
        parsed.append({"node": node, "scheme_id": scheme_id, "notation": notation})
    for item in parsed:
        node = item["node"]
        pref = _lang_values(g, node, SKOS.prefLabel)
        definition = _lang_values(g, node, SKOS.definition)
        note = _lang_values(g, node, SKOS.scopeNote)
        broader = g.value(node, SKOS.broader)
        item.update(
            id=ids[node], level=str(g.value(node, TFE.level) or ""),
            pref_label_fr=(pref.get("fr") or pref.get("en") or [item["notation"]])[0],
            pref_label_en=(pref.get("en") or [""])[0],
            alt_labels=_lang_values(g, node, SKOS.altLabel),
            hidden_labels=_lang_values(g, node, SKOS.hiddenLabel),
            definition_fr=(definition.get("fr") or [""])[0], definition_en=(definition.get("en") or [""])[0],
            broader_id=ids.get(broader) if isinstance(broader, URIRef) else None,
            deprecated=bool(g.value(node, TFE.deprecated)), scope_note=(note.get("en") or [""])[0],
            extra=_extra(g, node))
    return parsed


def _by_depth(parsed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Broader concepts first, so foreign keys resolve whatever the flush order."""
    parent = {p["id"]: p["broader_id"] for p in parsed}

    def depth(cid: str) -> int:
        n, seen = 0, set()
        current: str | None = cid
        while current and parent.get(current) and current not in seen:
            seen.add(current)
            current = parent[current]
            n += 1
        return n

    return sorted(parsed, key=lambda p: depth(p["id"]))


_FIELDS = ("scheme_id", "notation", "level", "pref_label_fr", "pref_label_en", "alt_labels", "hidden_labels",
           "definition_fr", "definition_en", "broader_id", "deprecated")


def import_turtle(session: Session, path: str | Path) -> dict[str, int]:
    """Read a SKOS Turtle file and upsert its schemes and concepts; returns counts.

    ``created``, ``updated`` and ``unchanged`` count concepts by what the import really did to their
    rows: label sets equal to the stored ones (in any order) keep the stored order and count as
    unchanged, so ``export`` then ``import`` reports and does nothing. Any change bumps the taxonomy
    version in the caller's transaction.
    """
    g = Graph()
    g.parse(str(path), format="turtle")
    schemes = _parse_schemes(g)
    changed = _upsert_schemes(session, schemes)
    parsed = _parse_concepts(g, {node: v["id"] for node, v in schemes.items()})
    counts = {"schemes": len(schemes), "concepts": 0, "created": 0, "updated": 0, "unchanged": 0}
    existing = {r.id: r for r in session.scalars(select(ConceptRow))}
    for item in _by_depth(parsed):
        row = existing.get(item["id"])
        fields = {k: item[k] for k in _FIELDS}
        counts["concepts"] += 1
        if row is None:
            extra = _with_note(item["extra"], item["scope_note"])
            session.add(ConceptRow(id=item["id"], extra=extra, **fields))
            counts["created"] += 1
            continue
        fields["alt_labels"] = merge_labels(row.alt_labels, fields["alt_labels"])
        fields["hidden_labels"] = merge_labels(row.hidden_labels, fields["hidden_labels"])
        extra = row.extra if item["extra"] is None else item["extra"]
        fields["extra"] = _with_note(extra, item["scope_note"])
        row_changed = False
        for k, v in fields.items():
            if getattr(row, k) != v:
                setattr(row, k, v)
                row_changed = True
        counts["updated" if row_changed else "unchanged"] += 1
    session.flush()
    if changed or counts["created"] or counts["updated"]:
        bump_version(session)
    return counts
