"""SKOS Turtle export and import of the taxonomy tables (``tfe taxonomy export|import FILE``).

Each scheme is a ``skos:ConceptScheme``; each concept a ``skos:Concept`` with ``skos:notation``,
``skos:prefLabel``/``altLabel``/``hiddenLabel`` in ``@fr`` and ``@en``, ``skos:definition``,
``skos:scopeNote`` (``@fr``: ``scope_note_fr``; ``@en``: the shipped NACE notes), ``skos:broader``/
``skos:narrower``, ``skos:related``, mappings as ``skos:exactMatch``/``closeMatch``/``broadMatch``/
``narrowMatch``/``relatedMatch``, ``skos:inScheme`` and ``skos:topConceptOf``; matching rules travel as
``tfe:rules`` (JSON), deprecation as ``tfe:deprecated`` and ``dct:isReplacedBy``. Concept URIs are
``<scheme uri>/<notation>``; the project's concept id and level travel in ``tfe:conceptId``,
``tfe:level`` and ``tfe:extra`` (JSON: ISO codes, M49 zones, demonyms) so that an import restores exactly
what was exported, even into an empty database. Labels, related concepts and mappings are sets in SKOS,
so the import compares them as sets and keeps the stored order (``taxonomy.labels``).

The exporter works from row snapshots (``rows_graph``), so a release's snapshot is written without
reading the live tables; the parser (``parse_graph``) is shared with the import preview
(``taxonomy.skos_diff``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from rdflib import DCTERMS, RDF, SKOS, Graph, Literal, Namespace, URIRef
from sqlalchemy import select
from sqlalchemy.orm import Session

from taxonomy.labels import merge_labels
from taxonomy.models import Concept as ConceptRow
from taxonomy.models import ConceptScheme, assign_changed
from taxonomy.version import bump_version
from tfe.core.errors import ValidationError

__all__ = ["MATCHES", "TFE", "export_turtle", "import_turtle", "merged_fields", "parse_graph", "read_graph",
           "rows_graph"]

TFE = Namespace("https://tfe.example.org/ns#")
MATCHES = ("exactMatch", "closeMatch", "broadMatch", "narrowMatch", "relatedMatch")
SCHEME_FIELDS = ("id", "uri", "label_fr", "label_en", "version")


def _concept_uri(scheme_uri: str, notation: str) -> URIRef:
    return URIRef(f"{scheme_uri.rstrip('/')}/{notation}")


def _json(value: object) -> Literal:
    return Literal(json.dumps(value, ensure_ascii=False, sort_keys=True))


def _add_concept(g: Graph, c: Mapping[str, Any], uris: dict[str, URIRef], scheme: URIRef) -> None:
    node = uris[c["id"]]
    g.add((node, RDF.type, SKOS.Concept))
    g.add((node, SKOS.inScheme, scheme))
    g.add((node, SKOS.notation, Literal(c["notation"])))
    g.add((node, TFE.conceptId, Literal(c["id"])))
    if c.get("level"):
        g.add((node, TFE.level, Literal(c["level"])))
    g.add((node, SKOS.prefLabel, Literal(c["pref_label_fr"], lang="fr")))
    if c.get("pref_label_en"):
        g.add((node, SKOS.prefLabel, Literal(c["pref_label_en"], lang="en")))
    for prop, labels in ((SKOS.altLabel, c.get("alt_labels")), (SKOS.hiddenLabel, c.get("hidden_labels"))):
        for lang, values in (labels or {}).items():
            for v in values:
                g.add((node, prop, Literal(v, lang=lang)))
    notes = ((SKOS.definition, "definition_fr", "fr"), (SKOS.definition, "definition_en", "en"),
             (SKOS.scopeNote, "scope_note_fr", "fr"))
    for prop, key, lang in notes:
        if c.get(key):
            g.add((node, prop, Literal(c[key], lang=lang)))
    extra = dict(c.get("extra") or {})
    note = extra.pop("scope_note_en", None)
    if note:
        g.add((node, SKOS.scopeNote, Literal(str(note), lang="en")))
    if extra:
        g.add((node, TFE.extra, _json(extra)))
    broader = c.get("broader_id")
    if broader and broader in uris:
        g.add((node, SKOS.broader, uris[broader]))
        g.add((uris[broader], SKOS.narrower, node))
    else:
        g.add((node, SKOS.topConceptOf, scheme))
        g.add((scheme, SKOS.hasTopConcept, node))
    for target in c.get("related") or []:
        if target in uris:
            g.add((node, SKOS.related, uris[target]))
    for m in c.get("mappings") or []:
        if isinstance(m, dict) and m.get("relation") in MATCHES and m.get("target") in uris:
            g.add((node, SKOS[m["relation"]], uris[m["target"]]))
    if c.get("rules"):
        g.add((node, TFE.rules, _json(c["rules"])))
    if c.get("deprecated"):
        g.add((node, TFE.deprecated, Literal(True)))
    if c.get("replaced_by_id") in uris:
        g.add((node, DCTERMS.isReplacedBy, uris[c["replaced_by_id"]]))


def rows_graph(schemes: Iterable[Mapping[str, Any]], concepts: Iterable[Mapping[str, Any]]) -> Graph:
    """The SKOS graph of scheme and concept row snapshots (column name → value)."""
    g = Graph()
    g.bind("skos", SKOS)
    g.bind("tfe", TFE)
    g.bind("dct", DCTERMS)
    by_id = {s["id"]: s for s in schemes}
    for s in by_id.values():
        node = URIRef(s["uri"])
        g.add((node, RDF.type, SKOS.ConceptScheme))
        g.add((node, SKOS.prefLabel, Literal(s["label_fr"], lang="fr")))
        g.add((node, SKOS.prefLabel, Literal(s["label_en"], lang="en")))
        g.add((node, TFE.schemeId, Literal(s["id"])))
        g.add((node, TFE.version, Literal(s["version"])))
    rows = [c for c in concepts if c["scheme_id"] in by_id]
    uris = {c["id"]: _concept_uri(by_id[c["scheme_id"]]["uri"], c["notation"]) for c in rows}
    for c in rows:
        _add_concept(g, c, uris, URIRef(by_id[c["scheme_id"]]["uri"]))
    return g


def live_rows(session: Session) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Scheme and concept rows of the database as plain dicts (the columns ``rows_graph`` reads)."""
    schemes = [{k: getattr(s, k) for k in SCHEME_FIELDS} for s in session.scalars(select(ConceptScheme))]
    cols = [c.key for c in ConceptRow.__table__.columns]
    concepts = [{k: getattr(r, k) for k in cols} for r in session.scalars(select(ConceptRow))]
    return schemes, concepts


def export_turtle(session: Session, path: str | Path, release: Any = None) -> int:
    """Write the taxonomy as SKOS Turtle (the live tables, or ``release``'s snapshot, a
    ``TaxonomyRelease``, without touching the tables); returns the number of concepts written."""
    if release is not None:
        snap = release.snapshot or {}
        schemes, concepts = list(snap.get("schemes", [])), list(snap.get("concepts", []))
    else:
        schemes, concepts = live_rows(session)
    Path(path).write_text(rows_graph(schemes, concepts).serialize(format="turtle"), encoding="utf-8")
    return len(concepts)


# ------------------------------------------------------------------------------------------------ reading
def read_graph(path: str | Path) -> Graph:
    """Parse a Turtle file; ``ValidationError`` (one line, where) when it is not Turtle."""
    g = Graph()
    try:
        g.parse(str(path), format="turtle")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(f"fichier illisible : {exc}") from exc
    except Exception as exc:  # rdflib's BadSyntax and friends
        raise ValidationError(
            f"{Path(path).name} n'est pas un fichier Turtle valide (not valid Turtle) : "
            f"{' '.join(str(exc).split())[:300]}") from exc
    return g


def _lang_values(g: Graph, node: URIRef, prop: URIRef) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for o in g.objects(node, prop):
        if isinstance(o, Literal):
            out.setdefault(o.language or "fr", []).append(str(o))
    return {k: sorted(v) for k, v in out.items()}


def _json_of(g: Graph, node: URIRef, prop: URIRef, kind: type) -> Any:
    """The JSON value of ``prop``; ``None`` when absent; ``ValidationError`` when not JSON of ``kind``."""
    raw = g.value(node, prop)
    if raw is None:
        return None
    try:
        value = json.loads(str(raw))
    except ValueError:
        value = None
    if not isinstance(value, kind):
        raise ValidationError(f"{node} : {prop.n3(g.namespace_manager)} n'est pas du JSON valide")
    return value


def _parse_schemes(g: Graph) -> dict[URIRef, dict[str, str]]:
    out: dict[URIRef, dict[str, str]] = {}
    for node in g.subjects(RDF.type, SKOS.ConceptScheme):
        if not isinstance(node, URIRef):
            continue
        sid = str(g.value(node, TFE.schemeId) or str(node).rstrip("/").rsplit("/", 1)[-1])
        labels = _lang_values(g, node, SKOS.prefLabel)
        out[node] = {"id": sid, "uri": str(node), "label_fr": (labels.get("fr") or [sid])[0],
                     "label_en": (labels.get("en") or labels.get("fr") or [sid])[0],
                     "version": str(g.value(node, TFE.version) or "1")}
    return out


def parse_graph(
    g: Graph, known_schemes: Mapping[str, str] | None = None, known_uris: Mapping[str, str] | None = None
) -> tuple[list[dict[str, str]], list[dict[str, Any]], list[str]]:
    """The schemes, concepts and problems of a SKOS graph.

    ``known_schemes`` maps scheme URIs the database knows to their ids (a concept may name one the file
    does not declare); ``known_uris`` maps concept URIs to ids (targets of broader, related, mappings).
    A concept's dict has the ``concepts`` column values as the file gives them (``extra``/``rules``
    ``None``: the file has none) and ``scope_note`` (the English note); ``problems`` lists concepts in an
    unknown scheme and references to unknown concepts, in French.
    """
    schemes = _parse_schemes(g)
    scheme_ids = {**(known_schemes or {}), **{str(n): v["id"] for n, v in schemes.items()}}
    ids: dict[str, str] = dict(known_uris or {})
    problems: list[str] = []
    parsed: list[dict[str, Any]] = []
    for node in g.subjects(RDF.type, SKOS.Concept):
        if not isinstance(node, URIRef):
            continue
        scheme = g.value(node, SKOS.inScheme)
        scheme_id = scheme_ids.get(str(scheme)) if scheme is not None else None
        if scheme_id is None:
            problems.append(f"{node} : schéma inconnu {scheme or '(aucun skos:inScheme)'}")
            continue
        notation = str(g.value(node, SKOS.notation) or str(node).rsplit("/", 1)[-1])
        ids[str(node)] = str(g.value(node, TFE.conceptId) or f"{scheme_id}:{notation}")
        parsed.append({"node": node, "scheme_id": scheme_id, "notation": notation})

    def ref(node: URIRef, target: object, what: str) -> str | None:
        if target is None:
            return None
        found = ids.get(str(target))
        if found is None:
            problems.append(f"{node} : {what} inconnu {target}")
        return found

    for item in parsed:
        node = item.pop("node")
        pref = _lang_values(g, node, SKOS.prefLabel)
        definition = _lang_values(g, node, SKOS.definition)
        note = _lang_values(g, node, SKOS.scopeNote)
        related = [ref(node, o, "concept associé") for o in g.objects(node, SKOS.related)]
        mappings = [{"relation": rel, "target": ref(node, o, "concept aligné")}
                    for rel in MATCHES for o in g.objects(node, SKOS[rel])]
        item.update(
            id=ids[str(node)], level=str(g.value(node, TFE.level) or ""),
            pref_label_fr=(pref.get("fr") or pref.get("en") or [item["notation"]])[0],
            pref_label_en=(pref.get("en") or [""])[0],
            alt_labels=_lang_values(g, node, SKOS.altLabel),
            hidden_labels=_lang_values(g, node, SKOS.hiddenLabel),
            definition_fr=(definition.get("fr") or [""])[0], definition_en=(definition.get("en") or [""])[0],
            scope_note_fr=(note.get("fr") or [""])[0], scope_note=(note.get("en") or [""])[0],
            broader_id=ref(node, g.value(node, SKOS.broader), "concept générique"),
            related=sorted(r for r in related if r), mappings=[m for m in mappings if m["target"]],
            deprecated=bool(g.value(node, TFE.deprecated)),
            replaced_by_id=ref(node, g.value(node, DCTERMS.isReplacedBy), "remplaçant"),
            extra=_json_of(g, node, TFE.extra, dict), rules=_json_of(g, node, TFE.rules, list))
    return list(schemes.values()), parsed, problems


def _in_stored_order(stored: list[Any] | None, incoming: list[Any]) -> list[Any]:
    """``incoming``'s members (a set in SKOS) in ``stored``'s order, new ones after."""
    old = list(stored or [])
    keep = [v for v in old if v in incoming]
    return keep + [v for v in incoming if v not in keep]


_FIELDS = ("scheme_id", "notation", "level", "pref_label_fr", "pref_label_en", "alt_labels", "hidden_labels",
           "definition_fr", "definition_en", "broader_id", "deprecated", "scope_note_fr", "replaced_by_id")


def merged_fields(row: ConceptRow | None, item: Mapping[str, Any]) -> dict[str, Any]:
    """The column values an import gives a concept (``row``: as stored, ``None``: new): what the file
    says, sets kept in the stored order, ``extra`` and ``rules`` kept when the file has none."""
    fields = {k: item[k] for k in _FIELDS}
    stored_extra = (row.extra if row is not None else None) or {}
    extra = dict(stored_extra) if item["extra"] is None else dict(item["extra"])
    extra.pop("scope_note_en", None)
    if item["scope_note"]:
        extra["scope_note_en"] = item["scope_note"]
    fields["extra"] = extra
    if row is None:
        fields.update(related=list(item["related"]), mappings=list(item["mappings"]),
                      rules=list(item["rules"] or []))
        return fields
    fields["alt_labels"] = merge_labels(row.alt_labels, fields["alt_labels"])
    fields["hidden_labels"] = merge_labels(row.hidden_labels, fields["hidden_labels"])
    fields["related"] = _in_stored_order(row.related, item["related"])
    fields["mappings"] = _in_stored_order(row.mappings, item["mappings"])
    fields["rules"] = list(row.rules or []) if item["rules"] is None else list(item["rules"])
    return fields


def by_depth(parsed: list[dict[str, Any]]) -> list[dict[str, Any]]:
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


def import_turtle(session: Session, path: str | Path) -> dict[str, int]:
    """Read a SKOS Turtle file and upsert its schemes and concepts; returns counts (no change record:
    curators import through ``taxonomy.skos_diff.apply_import``, which previews, checks and records).

    ``created``, ``updated`` and ``unchanged`` count concepts by what the import really did to their
    rows, so ``export`` then ``import`` reports and does nothing. Any change bumps the taxonomy version
    in the caller's transaction.
    """
    g = read_graph(path)
    known = {s.uri: s.id for s in session.scalars(select(ConceptScheme))}
    schemes, parsed, _problems = parse_graph(g, known)
    changed = False
    for values in schemes:
        scheme_row = session.get(ConceptScheme, values["id"])
        if scheme_row is None:
            session.add(ConceptScheme(**values))
            changed = True
        else:
            changed |= assign_changed(scheme_row, values)
    session.flush()
    counts = {"schemes": len(schemes), "concepts": 0, "created": 0, "updated": 0, "unchanged": 0}
    existing = {r.id: r for r in session.scalars(select(ConceptRow))}
    for item in by_depth(parsed):
        row = existing.get(item["id"])
        fields = merged_fields(row, item)
        counts["concepts"] += 1
        if row is None:
            session.add(ConceptRow(id=item["id"], **fields))
            counts["created"] += 1
            continue
        counts["updated" if assign_changed(row, fields) else "unchanged"] += 1
    session.flush()
    if changed or counts["created"] or counts["updated"]:
        bump_version(session)
    return counts
