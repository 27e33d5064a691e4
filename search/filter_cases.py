"""The filters and documents the filter-parity tests (``search.testing.FilterParityTests``) run.

- ``haystack_filter_cases``: every filter Haystack's own ``FilterDocumentsTest`` passes to
  ``filter_documents``, recorded by running that suite against a store that only records (so a new
  Haystack case joins the parity tests by itself);
- ``OWN_FILTER_CASES``: types and operators Haystack's suite does not reach (booleans against numbers,
  floats, multi-valued fields, nested paths, dates in other spellings and time zones, ``None`` inside
  ``in``, empty and deep logical nesting, paths the query parser must escape) and filters every engine
  must refuse;
- ``product_filter_cases``: the access scope of each test user and the API facets, alone and combined,
  as searches build them.

``filterable_passages`` holds Haystack's filterable documents, ``EXTRA_META`` and ``CORPUS`` together.
"""

from __future__ import annotations

import inspect
from datetime import UTC, datetime
from typing import Any

import pytest
from haystack.testing.document_store import FilterDocumentsTest, create_filterable_docs

from search.filters import combine, facet_filter, visible_filter
from search.testdata import SCOPES, plain_passages
from search.types import Passage

Filter = dict[str, Any] | None
Case = tuple[str, Filter, bool]  # (name, filter, whether every engine must refuse it)


class _RecordingStore:
    """Just enough of a document store to run Haystack's filter tests and keep the filters they pass."""

    def __init__(self) -> None:
        self.filters: list[Filter] = []

    def write_documents(self, documents: list[Any], policy: Any = None) -> int:
        return len(documents)

    def filter_documents(self, filters: Filter = None) -> list[Any]:
        self.filters.append(filters)
        return []

    def count_documents(self) -> int:
        return 0

    def delete_documents(self, document_ids: list[str]) -> None:
        return None


def haystack_filter_cases() -> list[Case]:
    """(``test name[i]``, filter, refused) for every filter of ``FilterDocumentsTest`` (first occurrence).

    A case is one to refuse when its test fails with pytest's "DID NOT RAISE": it expected ``FilterError``
    from the last filter it passed.
    """
    suite = FilterDocumentsTest()
    cases: list[Case] = []
    seen: set[str] = set()
    for name in sorted(n for n in dir(suite) if n.startswith("test_")):
        method = getattr(suite, name)
        store = _RecordingStore()
        kwargs: dict[str, Any] = {"document_store": store}
        if "filterable_docs" in inspect.signature(method).parameters:
            kwargs["filterable_docs"] = create_filterable_docs()
        expects_error = False
        try:
            method(**kwargs)
        except AssertionError:
            pass  # the recorder returns nothing: only the filters matter here
        except pytest.fail.Exception:
            expects_error = True
        for i, flt in enumerate(store.filters):
            if repr(flt) not in seen:
                seen.add(repr(flt))
                cases.append((f"{name}[{i}]", flt, expects_error and i == len(store.filters) - 1))
    return cases


def _c(field: str, op: str, value: Any) -> dict[str, Any]:
    return {"field": f"meta.{field}", "operator": op, "value": value}


def _and(*conditions: Any) -> dict[str, Any]:
    return {"operator": "AND", "conditions": list(conditions)}


def _or(*conditions: Any) -> dict[str, Any]:
    return {"operator": "OR", "conditions": list(conditions)}


def _not(*conditions: Any) -> dict[str, Any]:
    return {"operator": "NOT", "conditions": list(conditions)}


EXTRA_META: list[dict[str, Any]] = [
    {"number": 2.0, "flag": True, "tags": ["a", "b"], "when": "2024-03-01", "nested": {"level": 3}},
    {"number": 2.5, "flag": False, "tags": ["b"], "when": "2024-03-01T00:00:00+00:00", "page": 100},
    {"number": "2", "flag": 1, "tags": [], "when": "2024-03-01t12:00:00z", "nested": {"level": -1}},
    {"when": "2024-02-29T23:00:00-02:00", "tags": ["c", None], "page": "100", "name": "name_0"},
    {"number": None, "big": 1e300, "tiny": 1e-7, "date": "not a date"},
    {"number": 10, "name": "name_0", "weird key": 5, "a(b)": 1, "when": datetime(2024, 3, 1, 12)},
]

_OWN: list[tuple[str, Filter]] = [
    ("bool equals bool", _c("flag", "==", True)),
    ("bool never equals number", _c("flag", "==", 1)),
    ("int equals float", _c("number", "==", 2)),
    ("float equals int", _c("number", "==", 2.0)),
    ("string is not a number", _c("number", "==", "2")),
    ("page number vs page string", _or(_c("page", "==", 100), _c("page", "==", "123"))),
    ("any element of a list", _c("tags", "==", "b")),
    ("not equal on a list", _c("tags", "!=", "b")),
    ("empty list is missing", _c("tags", "==", None)),
    ("nested path", _c("nested.level", "==", 3)),
    ("nested path ordered", _c("nested.level", ">=", 0)),
    ("missing name", _c("name", "==", None)),
    ("present name", _c("name", "!=", None)),
    ("same instant, other spellings", _c("when", "==", "2024-03-01")),
    ("instant as datetime", _c("when", "==", datetime(2024, 3, 1, tzinfo=UTC))),
    ("not that instant", _c("when", "!=", "2024-03-01T00:00:00Z")),
    ("date on or after", _c("when", ">=", "2024-03-01")),
    ("date before, aware datetime", _c("when", "<", datetime(2024, 3, 1, 12, tzinfo=UTC))),
    ("date after, other zone", _c("when", ">", "2024-03-01T01:00:00+01:00")),
    ("dates skip non-dates", _c("date", ">", "1970-01-01")),
    ("number greater", _c("number", ">", 2)),
    ("number at least", _c("number", ">=", 2)),
    ("number below a float", _c("number", "<", 2.25)),
    ("tiny float", _c("tiny", ">", 0)),
    ("huge float", _c("big", ">", 1e299)),
    ("escaped path", _c("weird key", ">", 4)),
    ("escaped path, parentheses", _c("a(b)", "<=", 1)),
    ("in, mixed types", _c("number", "in", [2, "2"])),
    ("in with None", _c("number", "in", [None, 10])),
    ("in on a list", _c("tags", "in", ["a", "c"])),
    ("in, date spelling", _c("when", "in", ["2024-03-01T00:00:00Z"])),
    ("not in, list field", _c("tags", "not in", ["b"])),
    ("not in None", _c("number", "not in", [None])),
    ("empty in", _c("name", "in", [])),
    ("empty AND", _and()),
    ("empty OR", _or()),
    ("empty NOT", _not()),
    ("NOT of OR", _not(_or(_c("number", ">", 0), _c("name", "==", "name_1")))),
    (
        "deep nesting",
        _and(
            _or(_c("chapter", "in", ["intro", "abstract"]), _not(_c("number", "<", 0))),
            _not(_and(_c("name", "==", "name_0"), _c("page", "!=", "100"))),
            _or(_c("date", ">=", "1970-01-01"), _c("tags", "==", "b"), _c("flag", "==", False)),
        ),
    ),
    ("unknown field", _c("nowhere", "==", "x")),
    ("unknown field ordered", _c("nowhere", "<", 3)),
    ("refused: ordering a plain string", _c("name", ">", "name_0")),
    ("refused: ordering a boolean", _c("number", ">", True)),
    ("refused: list equality", _c("tags", "==", ["a"])),
    ("refused: tuple for in", _c("tags", "in", ("a",))),
    ("refused: private field", _c("_haystack", "==", None)),
    ("refused: unknown operator", _c("number", "~", 1)),
    ("refused: unknown logic", {"operator": "XOR", "conditions": []}),
]


OWN_FILTER_CASES: list[Case] = [(name, flt, name.startswith("refused:")) for name, flt in _OWN]


def product_filter_cases() -> list[Case]:
    """The scope of every test user, the API facets, and both combined (as ``search`` combines them)."""
    facets: list[tuple[str, dict[str, list[str]]]] = [
        ("sector naf:11", {"sector": ["naf:11"]}),
        ("sector naf:C", {"sector": ["naf:C"]}),
        ("zone Europe", {"country": ["region:150"]}),
        ("types", {"type": ["doctype:country_note", "doctype:news"]}),
        ("sector and country", {"sector": ["naf:35", "naf:29"], "country": ["country:NO", "country:DE"]}),
    ]
    cases: list[tuple[str, Filter]] = [("no restriction", None)]
    for scope in SCOPES:
        cases.append((f"scope {scope}", scope.haystack_filter()))
    for label, selection in facets:
        cases.append((f"facets {label}", facet_filter(selection)))
        for scope in SCOPES:
            cases.append((f"{scope} + {label}", combine(visible_filter(scope), facet_filter(selection))))
    cases.append(("recent", _c("date", ">=", "2024-02-01")))
    cases.append(("org documents of 2024", _and(_c("org_id", "==", 1), _c("date", ">=", "2024-01-01"))))
    return [(name, flt, False) for name, flt in cases]


def filterable_passages() -> list[Passage]:
    """Haystack's filterable documents, ``EXTRA_META`` and ``CORPUS`` as passages (no vectors)."""
    out = [
        Passage(id=doc.id, parent_id=doc.id, title="", text=doc.content or "", meta=dict(doc.meta))
        for doc in create_filterable_docs()
    ]
    out += [
        Passage(id=f"extra-{i}", parent_id=f"extra-{i}", title="", text="extra", meta=dict(meta))
        for i, meta in enumerate(EXTRA_META)
    ]
    return out + plain_passages()
