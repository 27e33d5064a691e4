"""Meta columns of the vector table, and a Haystack filter evaluated on them as a boolean row mask.

Each meta path (see ``search.filters.filter_values``) is one column in CSR form: the values of row ``r``
are ``codes[ptr[r]:ptr[r+1]]``, codes into the column's distinct values. Per distinct value the column
also knows its number (NaN unless a number) and its instant (NaN unless an ISO date), so equality,
``in``, order comparisons and missing-field tests are a few numpy operations. The semantics are those
documented in ``search.filters``; ``search.tantivy_filters`` implements the same ones as a Tantivy query
and the parity tests (``search.testing.FilterParityTests``) hold the two to it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from search.filters import Scalar, as_scalar, field_path, instant, keyword, order_operand, term_key

_ORDER: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
    ">": np.greater,
    ">=": np.greater_equal,
    "<": np.less,
    "<=": np.less_equal,
}


@dataclass
class Column:
    """One meta path in CSR form (see the module docstring)."""

    values: list[Scalar] = field(default_factory=list)
    vocab: dict[tuple[int, Any], int] = field(default_factory=dict)
    ptr: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))
    codes: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    entry_row: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    number: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float64))
    when: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float64))
    single: bool = False  # every row has exactly one value

    @classmethod
    def build(cls, per_row: list[list[Scalar]], n_rows: int) -> Column:
        col = cls()
        lengths = np.zeros(n_rows, dtype=np.int64)
        if per_row:
            lengths[: len(per_row)] = np.fromiter(
                (len(v) for v in per_row), dtype=np.int64, count=len(per_row)
            )
        col.ptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        flat: list[int] = []
        for vals in per_row:
            for v in vals:
                key = term_key(v)
                code = col.vocab.get(key)
                if code is None:
                    code = col.vocab[key] = len(col.values)
                    col.values.append(v)
                flat.append(code)
        col.codes = np.asarray(flat, dtype=np.int32)
        col.single = bool(n_rows) and bool((lengths == 1).all())
        col.entry_row = np.repeat(np.arange(n_rows, dtype=np.int64), lengths)
        col.number = np.asarray(
            [
                float(v) if isinstance(v, int | float) and not isinstance(v, bool) else np.nan
                for v in col.values
            ],
            dtype=np.float64,
        )
        instants = [instant(v) if isinstance(v, str) else None for v in col.values]
        col.when = np.asarray([np.nan if t is None else float(t) for t in instants], dtype=np.float64)
        return col

    @property
    def labels(self) -> list[str]:
        """The distinct values as strings (facet values)."""
        return [keyword(v) for v in self.values]

    def present(self) -> np.ndarray:
        """Rows that have at least one value."""
        return np.diff(self.ptr) > 0

    def rows_with(self, codes: np.ndarray, n_rows: int) -> np.ndarray:
        """Rows holding any of the given value codes."""
        out = np.zeros(n_rows, dtype=bool)
        if len(codes):
            wanted = np.zeros(len(self.values), dtype=bool)
            wanted[codes] = True
            if self.single and len(self.codes) == n_rows:  # one value per row: entry i is row i
                return wanted[self.codes]  # type: ignore[no-any-return]
            out[self.entry_row[wanted[self.codes]]] = True
        return out

    def equal_codes(self, value: Any) -> np.ndarray:
        """Codes of the values equal to ``value`` (the same scalar, or the same instant for dates)."""
        wanted = np.zeros(len(self.values), dtype=bool)
        scalar = as_scalar(value)
        code = None if scalar is None else self.vocab.get(term_key(scalar))
        if code is not None:
            wanted[code] = True
        when = instant(value)
        if when is not None:
            wanted |= self.when == float(when)
        return np.nonzero(wanted)[0]


class Columns:
    """The columns of a table's rows, built per path on first use (the table rebuilds them after changes)."""

    def __init__(self, fields: dict[str, list[list[Scalar]]], n_rows: int) -> None:
        self._fields = fields
        self._n = n_rows
        self._built: dict[str, Column] = {}

    def column(self, path: str) -> Column:
        col = self._built.get(path)
        if col is None:
            col = self._built[path] = Column.build(self._fields.get(path, []), self._n)
        return col

    def mask(self, node: dict[str, Any] | None) -> np.ndarray:
        """Boolean row mask for a Haystack filter already validated by ``search.filters.check``."""
        n = self._n
        if node is None:
            return np.ones(n, dtype=bool)
        op = node["operator"]
        if "conditions" in node:
            parts = [self.mask(c) for c in node["conditions"]]
            if op == "OR":
                out = np.zeros(n, dtype=bool)
                for p in parts:
                    out |= p
                return out
            out = np.ones(n, dtype=bool)
            for p in parts:
                out &= p
            return out if op == "AND" else ~out
        col = self.column(field_path(node["field"]))
        value = node["value"]
        if op in ("==", "!="):
            rows = self._equal(col, value)
            return rows if op == "==" else ~rows
        if op in ("in", "not in"):
            rows = np.zeros(n, dtype=bool)
            for v in value:
                rows |= self._equal(col, v)
            return rows if op == "in" else ~rows
        operand = order_operand(value)
        if operand is None:
            return np.zeros(n, dtype=bool)
        kind, bound = operand
        per_value = col.number if kind == "number" else col.when
        with np.errstate(invalid="ignore"):
            hits = _ORDER[op](per_value, bound)
        return col.rows_with(np.nonzero(hits)[0], n)

    def _equal(self, col: Column, value: Any) -> np.ndarray:
        if value is None:
            return ~col.present()
        return col.rows_with(col.equal_codes(value), self._n)
