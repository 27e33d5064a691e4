"""Read the demo content from ``data/`` and assemble the documents (no content lives in this code).

Data files:

- ``organisations.json``: slug, name, kind and the author signing that organisation's documents.
- ``countries.json`` / ``sectors.json``: reference texts by ISO code / sector key (``naf`` is the code
  written to the manifest).
- ``documents.json``: the documents in manifest order: slug, format, template, title, doc_type,
  visibility, org, sectors (sector keys), countries (ISO codes).
- ``documents/<slug>.md``: the document's own texts, one ``## field`` each: paragraphs separated by blank
  lines (wrapped lines are joined with a space), ``- item`` lists, a Markdown table (quote lines:
  service, detail, quantity, unit, unit price) or ``### title`` sub-parts (process steps).
- ``templates.json``: the sections of each template, in order. ``heading``, ``paragraphs`` and ``bullets``
  hold ``str.format`` strings over the document's context: its fields (paragraphs joined by a space),
  ``country`` and ``sector`` (its first country and sector; ``country[Office]`` is the office with a
  capital letter), ``n`` and ``title`` inside an ``each`` section, and for quotes ``total``, ``vat`` and
  ``ttc``. An item ``@name`` (or a dotted ``@country.facts``) inserts that field's paragraphs or list
  unchanged. ``if`` keeps a section only when the document has that field; ``each`` repeats it per item.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data"

Field = list[str] | list[list[str]] | list[dict[str, Any]]


@dataclass
class Section:
    heading: str
    paragraphs: list[str] = field(default_factory=list)
    bullets: list[str] = field(default_factory=list)


@dataclass
class QuoteLine:
    service: str
    detail: str
    quantity: int
    unit: str
    unit_price: float

    @property
    def total(self) -> float:
        return round(self.quantity * self.unit_price, 2)


@dataclass
class Doc:
    slug: str
    fmt: str
    title: str
    doc_type: str
    visibility: str
    org: str
    author: str
    sectors: list[str]
    countries: list[str]
    sections: list[Section]
    lines: list[QuoteLine] = field(default_factory=list)

    @property
    def file(self) -> str:
        return f"{self.slug}.{self.fmt}"

    def manifest_entry(self) -> dict[str, object]:
        return {
            "file": self.file, "title": self.title, "doc_type": self.doc_type, "visibility": self.visibility,
            "org": self.org, "sectors": self.sectors, "countries": self.countries, "author": self.author,
            "format": self.fmt, "language": "fr",
        }


@cache
def load(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def organisations() -> list[dict[str, str]]:
    """The organisations as written to organisations.json (without the author; with the INSEE region of
    a French organisation or the country of a partner abroad)."""
    keys = ("slug", "name", "kind", "region", "country")
    return [{k: org[k] for k in keys if k in org} for org in load("organisations.json")]


def eur(amount: float) -> str:
    whole = f"{amount:,.2f}".replace(",", " ").replace(".", ",")
    return f"{whole} €"


def _join(lines: list[str]) -> str:
    return " ".join(" ".join(lines).split())


def _blocks(lines: list[str]) -> list[list[str]]:
    blocks: list[list[str]] = [[]]
    for line in lines:
        if line.strip():
            blocks[-1].append(line.strip())
        elif blocks[-1]:
            blocks.append([])
    return [b for b in blocks if b]


def _parse_field(lines: list[str]) -> Field:
    if any(line.startswith("### ") for line in lines):
        parts: list[dict[str, Any]] = []
        for line in lines:
            if line.startswith("### "):
                parts.append({"title": line[4:].strip(), "lines": []})
            elif parts:
                parts[-1]["lines"].append(line)
        return [{"title": p["title"], "body": _parse_field(p["lines"])} for p in parts]
    out: list[Any] = []
    for block in _blocks(lines):
        if block[0].startswith("|"):
            out += [[cell.strip() for cell in row.strip("|").split("|")] for row in block[2:]]
        elif block[0].startswith("- "):
            out += [item[2:] for item in block]
        else:
            out.append(_join(block))
    return out


def parse_fields(text: str) -> dict[str, Field]:
    """The ``## field`` parts of a document file."""
    fields: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("## "):
            current = fields.setdefault(line[3:].strip(), [])
        elif current is not None:
            current.append(line)
        elif line.strip():
            raise ValueError(f"text before the first '## field': {line!r}")
    return {name: _parse_field(lines) for name, lines in fields.items()}


def _lookup(ctx: dict[str, Any], path: str) -> Any:
    value: Any = ctx
    for key in path.split("."):
        value = value[key]
    return value


def _expand(items: list[str], ctx: dict[str, Any]) -> list[str]:
    strings = {k: _join(v) if isinstance(v, list) and all(isinstance(x, str) for x in v) else v
               for k, v in ctx.items()}
    out: list[str] = []
    for item in items:
        if item.startswith("@"):
            value = _lookup(ctx, item[1:])
            out += value if isinstance(value, list) else [value]
        else:
            out.append(item.format(**strings))
    return out


def _sections(template: list[dict[str, Any]], ctx: dict[str, Any]) -> list[Section]:
    sections: list[Section] = []
    for spec in template:
        if "if" in spec and spec["if"] not in ctx:
            continue
        items = ctx[spec["each"]] if "each" in spec else [{}]
        for n, item in enumerate(items, start=1):
            local = {**ctx, **item, "n": n}
            sections.append(Section(_expand([spec["heading"]], local)[0],
                                    _expand(spec.get("paragraphs", []), local),
                                    _expand(spec.get("bullets", []), local)))
    return sections


def _quote_lines(rows: list[list[str]]) -> list[QuoteLine]:
    return [QuoteLine(service, detail, int(qty), unit, float(price))
            for service, detail, qty, unit, price in rows]


def build_docs() -> list[Doc]:
    """Every document, in manifest order."""
    countries, sectors, templates = load("countries.json"), load("sectors.json"), load("templates.json")
    authors = {org["slug"]: org["author"] for org in load("organisations.json")}
    docs: list[Doc] = []
    for meta in load("documents.json"):
        text = (DATA / "documents" / f"{meta['slug']}.md").read_text(encoding="utf-8")
        ctx: dict[str, Any] = parse_fields(text)
        lines = _quote_lines(ctx.pop("lines", []))
        if meta["countries"]:
            country = countries[meta["countries"][0]]
            ctx["country"] = {**country, "Office": country["office"][0].upper() + country["office"][1:]}
        if meta["sectors"]:
            ctx["sector"] = sectors[meta["sectors"][0]]
        if lines:
            total = sum(line.total for line in lines)
            ctx.update(total=eur(total), vat=eur(total * 0.2), ttc=eur(total * 1.2))
        docs.append(Doc(
            meta["slug"], meta["format"], meta["title"], meta["doc_type"], meta["visibility"], meta["org"],
            authors[meta["org"]], [sectors[k]["naf"] for k in meta["sectors"]], list(meta["countries"]),
            _sections(templates[meta["template"]], ctx), lines,
        ))
    return docs
