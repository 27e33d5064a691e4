"""SKOS Turtle export and import of the taxonomy tables (``tfe taxonomy export|import FILE``).

Each scheme is a ``skos:ConceptScheme``; each concept a ``skos:Concept`` with ``skos:notation``,
``skos:prefLabel``/``altLabel``/``hiddenLabel`` in ``@fr`` and ``@en``, ``skos:definition``,
``skos:scopeNote``, ``skos:broader``/``skos:narrower``, ``skos:inScheme`` and ``skos:topConceptOf``.
Concept URIs are ``<scheme uri>/<notation>``; the project's concept id and level travel in
``tfe:conceptId`` and ``tfe:level`` so that an import restores exactly what was exported.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rdflib import RDF, SKOS, Graph, Literal, Namespace, URIRef
from sqlalchemy import select
from sqlalchemy.orm import Session

from taxonomy.models import Concept as ConceptRow
from taxonomy.models import ConceptScheme

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


def import_turtle(session: Session, path: str | Path) -> dict[str, int]:
    """Read a SKOS Turtle file and upsert its schemes and concepts; returns counts."""
    g = Graph()
    g.parse(str(path), format="turtle")
    scheme_ids: dict[URIRef, str] = {}
    counts = {"schemes": 0, "concepts": 0, "created": 0, "updated": 0}
    for node in g.subjects(RDF.type, SKOS.ConceptScheme):
        assert isinstance(node, URIRef)
        sid = str(g.value(node, TFE.schemeId) or str(node).rstrip("/").rsplit("/", 1)[-1])
        labels = _lang_values(g, node, SKOS.prefLabel)
        scheme_row = session.get(ConceptScheme, sid) or ConceptScheme(id=sid)
        scheme_row.uri = str(node)
        scheme_row.label_fr = (labels.get("fr") or [sid])[0]
        scheme_row.label_en = (labels.get("en") or labels.get("fr") or [sid])[0]
        scheme_row.version = str(g.value(node, TFE.version) or "1")
        session.add(scheme_row)
        scheme_ids[node] = sid
        counts["schemes"] += 1
    session.flush()
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
            deprecated=bool(g.value(node, TFE.deprecated)), scope_note=(note.get("en") or [""])[0])
    depth = {p["id"]: p["broader_id"] for p in parsed}

    def _depth(cid: str) -> int:
        n, seen = 0, set()
        current: str | None = cid
        while current and depth.get(current) and current not in seen:
            seen.add(current)
            current = depth[current]
            n += 1
        return n

    for item in sorted(parsed, key=lambda p: _depth(p["id"])):
        row = session.get(ConceptRow, item["id"])
        fields = {k: item[k] for k in ("scheme_id", "notation", "level", "pref_label_fr", "pref_label_en",
                                       "alt_labels", "hidden_labels", "definition_fr", "definition_en",
                                       "broader_id", "deprecated")}
        if row is None:
            row = ConceptRow(id=item["id"], extra={}, **fields)
            session.add(row)
            counts["created"] += 1
        else:
            old_hidden = {k: sorted(v) for k, v in (row.hidden_labels or {}).items()}
            old_alt = {k: sorted(v) for k, v in (row.alt_labels or {}).items()}
            before = {k: getattr(row, k) for k in fields}
            before |= {"hidden_labels": old_hidden, "alt_labels": old_alt}
            for k, v in fields.items():
                setattr(row, k, v)
            counts["updated"] += before != fields
        if item["scope_note"]:
            row.extra = {**(row.extra or {}), "scope_note_en": item["scope_note"]}
        counts["concepts"] += 1
    session.flush()
    return counts
