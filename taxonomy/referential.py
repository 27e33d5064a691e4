"""The shared referential: NAF/NACE sectors, countries, M49 zones and document types, in memory.

``Referential.load()`` reads the package data files under ``taxonomy/data`` (built by
``scripts/build_taxonomy.py``) once per process; ``Referential.from_database(session)`` builds the same
from the database tables, which the running product uses (``taxonomy.live``). Concept ids are
``naf:A`` (section), ``naf:01`` (division), ``naf:01.1`` (group), ``naf:01.11`` (class), ``naf:01.11Z``
(sous-classe), ``country:DE`` (ISO alpha-2), ``region:150`` (UN M49 code) and ``doctype:quote_template``.
The database copy of the taxonomy (``taxonomy.loader``) is seeded from this same data.
"""

from __future__ import annotations

import csv
import functools
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from taxonomy.text import norm_key

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from taxonomy.lemmas import Lemmatise

__all__ = ["DATA_DIR", "SCHEMES", "Concept", "Referential", "SchemeInfo"]

DATA_DIR = Path(__file__).parent / "data"
BASE_URI = "https://tfe.example.org/taxonomy/"


@dataclass(frozen=True)
class SchemeInfo:
    """One concept scheme: id, URI and labels."""

    id: str
    uri: str
    label_fr: str
    label_en: str
    version: str = "1"


SCHEMES: dict[str, SchemeInfo] = {
    "naf": SchemeInfo("naf", BASE_URI + "naf", "Nomenclature d'activités française (NAF rév. 2)",
                      "French classification of activities (NAF rev. 2, NACE rev. 2)", "2008"),
    "country": SchemeInfo("country", BASE_URI + "country", "Pays (ISO 3166-1)", "Countries (ISO 3166-1)"),
    "region": SchemeInfo("region", BASE_URI + "region", "Zones géographiques (ONU M49)",
                         "Geographic regions (UN M49)"),
    "doctype": SchemeInfo("doctype", BASE_URI + "doctype", "Types de document", "Document types"),
    "filiere": SchemeInfo("filiere", BASE_URI + "filiere", "Filières de l'export (Team France Export)",
                          "Export sectors of the network (filières)"),
    "signal": SchemeInfo("signal", BASE_URI + "signal", "Signaux de veille", "Market-watch signals"),
}


@dataclass(frozen=True)
class Concept:
    """One concept of a scheme, as the product sees it (immutable)."""

    id: str
    scheme: str
    notation: str
    level: str
    label_fr: str
    label_en: str
    broader: str | None = None
    definition_en: str = ""
    scope_note_en: str = ""
    alt_labels_fr: tuple[str, ...] = ()
    alt_labels_en: tuple[str, ...] = ()
    hidden_labels_fr: tuple[str, ...] = ()
    hidden_labels_en: tuple[str, ...] = ()
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    # Curated data (issue 10; the ``concepts`` columns of the same names):
    definition_fr: str = ""
    scope_note_fr: str = ""
    related: tuple[str, ...] = ()
    # ({"relation": "narrowMatch", "target": "naf:11.02"}, ...): a filière covers its narrowMatch NAF codes
    mappings: tuple[dict[str, str], ...] = field(default=(), compare=False, hash=False)
    # matching rules as data (``taxonomy.rules``): ({"kind": "any", "pattern": "vin", ...}, ...)
    rules: tuple[dict[str, Any], ...] = field(default=(), compare=False, hash=False)
    deprecated: bool = False
    replaced_by: str | None = None

    def label(self, lang: str = "fr") -> str:
        """The preferred label in ``lang`` (``fr`` or ``en``), falling back to the other language."""
        if lang == "en":
            return self.label_en or self.label_fr
        return self.label_fr or self.label_en


def _read(name: str) -> list[dict[str, str]]:
    with (DATA_DIR / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _split(value: str) -> tuple[str, ...]:
    return tuple(v for v in value.split("|") if v)


def _read_concepts_json(name: str) -> list[Concept]:
    """Concepts of a curated scheme shipped as JSON (``filieres.json``, ``signals.json``): a list of
    objects with the ``Concept`` field names (lists for the label, related, mapping and rule fields)."""
    path = DATA_DIR / name
    if not path.is_file():
        return []
    out: list[Concept] = []
    for raw in json.loads(path.read_text(encoding="utf-8")):
        fields = dict(raw)
        for key in ("alt_labels_fr", "alt_labels_en", "hidden_labels_fr", "hidden_labels_en", "related"):
            fields[key] = tuple(fields.get(key, ()))
        fields["mappings"] = tuple(dict(m) for m in fields.get("mappings", ()))
        fields["rules"] = tuple(dict(r) for r in fields.get("rules", ()))
        out.append(Concept(**fields))
    return out


def _notes(row: dict[str, str]) -> str:
    return "\n".join(n for n in (row.get("also_includes_en", ""), row.get("excludes_en", "")) if n)


class Referential:
    """All concepts of all schemes, indexed for lookup, hierarchy and name resolution."""

    def __init__(self, concepts: Iterable[Concept], lemmas: dict[str, Any] | None = None) -> None:
        self._by_id: dict[str, Concept] = {}
        self._by_scheme: dict[str, list[Concept]] = {s: [] for s in SCHEMES}
        self._narrower: dict[str, list[str]] = {}
        self._names: dict[str, dict[str, str]] = {s: {} for s in SCHEMES}
        self.lemmas: dict[str, Any] = lemmas or {"labels": {}, "keywords": {}}
        for c in concepts:
            self._by_id[c.id] = c
            self._by_scheme.setdefault(c.scheme, []).append(c)
            if c.broader:
                self._narrower.setdefault(c.broader, []).append(c.id)
        for c in self._by_id.values():
            self._index_names(c)

    # ----------------------------------------------------------------- loading
    @classmethod
    def load(cls) -> Referential:
        """The process-wide referential built from the package data (cached)."""
        return _load_cached()

    @classmethod
    def from_files(cls) -> Referential:
        """A fresh referential read from ``taxonomy/data`` (uncached; tests and tools)."""
        from taxonomy.rules_seed import keyword_rules

        concepts: list[Concept] = []
        naf_rows = _read("naf.csv")
        by_id = {r["id"]: r for r in naf_rows}
        naf_rules = keyword_rules()  # curated sector keywords become the NAF concepts' rules
        for r in naf_rows:
            own = r
            if r["level"] == "subclass" and not r["includes_en"] and r["broader"] in by_id:
                own = by_id[r["broader"]]
            concepts.append(Concept(
                id=r["id"], scheme="naf", notation=r["notation"], level=r["level"], label_fr=r["label_fr"],
                label_en=r["label_en"], broader=r["broader"] or None, definition_en=own["includes_en"],
                scope_note_en=_notes(own), rules=tuple(naf_rules.get(r["id"], ()))))
        for r in _read("regions.csv"):
            concepts.append(Concept(
                id=r["id"], scheme="region", notation=r["notation"], level=r["level"], label_fr=r["label_fr"],
                label_en=r["label_en"], broader=r["broader"] or None))
        for r in _read("countries.csv"):
            alt_fr = tuple(dict.fromkeys(a for a in (r["official_fr"], *_split(r["alt_fr"])) if a))
            alt_en = tuple(dict.fromkeys(a for a in (r["official_en"], *_split(r["alt_en"])) if a))
            extra = {k: r[k] for k in ("alpha3", "numeric", "region", "subregion", "intermediate",
                                       "demonym_fr_m", "demonym_fr_f", "demonym_en", "independent",
                                       "un_member", "area")}
            concepts.append(Concept(
                id=r["id"], scheme="country", notation=r["alpha2"], level="country", label_fr=r["label_fr"],
                label_en=r["label_en"], broader=r["intermediate"] or r["subregion"] or r["region"] or None,
                alt_labels_fr=alt_fr, alt_labels_en=alt_en,
                hidden_labels_fr=_split(r["adjectives_fr"]), hidden_labels_en=_split(r["adjectives_en"]),
                extra=extra))
        for r in _read("doctypes.csv"):
            concepts.append(Concept(
                id=r["id"], scheme="doctype", notation=r["notation"], level="type", label_fr=r["label_fr"],
                label_en=r["label_en"], hidden_labels_fr=_split(r["cues_fr"])))
        for name in ("filieres.json", "signals.json"):
            concepts.extend(_read_concepts_json(name))
        lemmas = json.loads((DATA_DIR / "lemmas.json").read_text(encoding="utf-8"))
        return cls(concepts, lemmas)

    @classmethod
    def from_database(cls, session: Session, *, lemmatise: Lemmatise | None = None) -> Referential:
        """A fresh referential of the ``concepts`` table (see ``taxonomy.dbref``); empty if not seeded."""
        from taxonomy.dbref import referential_from_database

        return referential_from_database(session, lemmatise=lemmatise)

    def _index_names(self, c: Concept) -> None:
        names = self._names.setdefault(c.scheme, {})
        keys = [c.notation, c.label_fr, c.label_en, *c.alt_labels_fr, *c.alt_labels_en]
        if c.scheme == "country":
            keys += [c.extra.get("alpha3", ""), c.extra.get("numeric", ""), *c.hidden_labels_fr,
                     *c.hidden_labels_en]
        for key in keys:
            k = norm_key(key)
            if k and k not in names:
                names[k] = c.id

    # ----------------------------------------------------------------- lookup
    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, concept_id: object) -> bool:
        return concept_id in self._by_id

    def concept(self, concept_id: str) -> Concept:
        """The concept with this id; ``KeyError`` if unknown."""
        return self._by_id[concept_id]

    def get(self, concept_id: str) -> Concept | None:
        """The concept with this id, or ``None``."""
        return self._by_id.get(concept_id)

    def label(self, concept_id: str, lang: str = "fr") -> str:
        """Preferred label in ``lang``; the id itself when the concept is unknown (never raises)."""
        c = self._by_id.get(concept_id)
        return c.label(lang) if c else concept_id

    def concepts(self, scheme: str) -> list[Concept]:
        """All concepts of ``scheme`` in data order (NAF: section, then its divisions, ...)."""
        return list(self._by_scheme.get(scheme, []))

    def narrower(self, concept_id: str) -> list[str]:
        """Direct children of a concept."""
        return list(self._narrower.get(concept_id, []))

    def ancestors(self, concept_id: str) -> list[str]:
        """Broader concepts, nearest first (``naf:11.02Z`` → ``naf:11.02, naf:11.0, naf:11, naf:C``)."""
        out: list[str] = []
        c = self._by_id.get(concept_id)
        while c is not None and c.broader and c.broader not in out:
            out.append(c.broader)
            c = self._by_id.get(c.broader)
        return out

    def division_of(self, naf_id: str) -> str | None:
        """The NAF division containing ``naf_id`` (itself for a division); ``None`` for sections."""
        c = self._by_id.get(naf_id)
        if c is None or c.scheme != "naf" or c.level == "section":
            return None
        if c.level == "division":
            return c.id
        return next((a for a in self.ancestors(naf_id) if self._by_id[a].level == "division"), None)

    def section_of(self, naf_id: str) -> str | None:
        """The NAF section containing ``naf_id`` (itself for a section)."""
        c = self._by_id.get(naf_id)
        if c is None or c.scheme != "naf":
            return None
        if c.level == "section":
            return c.id
        return next((a for a in self.ancestors(naf_id) if self._by_id[a].level == "section"), None)

    def regions_of(self, country_id: str) -> list[str]:
        """M49 zones of a country, nearest first (intermediate, sub-region, region)."""
        c = self._by_id.get(country_id)
        if c is None or c.scheme != "country":
            return []
        return [c.extra[k] for k in ("intermediate", "subregion", "region") if c.extra.get(k)]

    def resolve(self, value: str, scheme: str | None = None) -> str | None:
        """A concept id from an id, code or name (``"11"``, ``"naf:11"``, ``"DE"``, ``"Allemagne"``)."""
        value = (value or "").strip()
        if not value:
            return None
        schemes = [scheme] if scheme else list(SCHEMES)
        for s in schemes:
            if s not in SCHEMES:
                continue
            found = self._resolve_in(value, s)
            if found:
                return found
        return None

    def _resolve_in(self, value: str, scheme: str) -> str | None:
        if value.startswith(scheme + ":"):
            value = value[len(scheme) + 1:]
        elif ":" in value and value.split(":", 1)[0] in SCHEMES:
            return None
        candidates = [value, value.upper()]
        if scheme == "naf":
            candidates.append(value.upper().replace(" ", ""))
        elif scheme == "region" and value.isdigit():
            candidates.append(value.zfill(3))
        for cand in candidates:
            cid = f"{scheme}:{cand}"
            if cid in self._by_id:
                return cid
        return self._names[scheme].get(norm_key(value))


@functools.lru_cache(maxsize=1)
def _load_cached() -> Referential:
    return Referential.from_files()
