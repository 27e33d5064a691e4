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
        """The column of ``per_row`` (the values of each of the first rows), padded to ``n_rows``."""
        col = cls.empty(0).appended(per_row)
        return col.appended([[]] * (n_rows - len(per_row))) if n_rows > len(per_row) else col

    @classmethod
    def empty(cls, n_rows: int) -> Column:
        """A column of ``n_rows`` rows without any value."""
        col = cls(ptr=np.zeros(n_rows + 1, dtype=np.int64))
        col._derive(0)
        return col

    @classmethod
    def from_arrays(cls, values: list[Scalar], ptr: np.ndarray, codes: np.ndarray) -> Column:
        """A column from its parts as saved: the values in code order, the row pointers, the codes."""
        col = cls(
            values=list(values), ptr=np.asarray(ptr, dtype=np.int64), codes=np.asarray(codes, dtype=np.int32)
        )
        col.vocab = {term_key(v): i for i, v in enumerate(col.values)}
        col._derive(0)
        return col

    @property
    def rows(self) -> int:
        return len(self.ptr) - 1

    def appended(self, per_row: list[list[Scalar]]) -> Column:
        """This column with ``per_row``'s rows after its own. The distinct values only ever grow, so the
        new column shares them with this one (codes already handed out keep their meaning); the arrays
        are new, this column's are left as they are."""
        lengths = np.fromiter((len(v) for v in per_row), dtype=np.int64, count=len(per_row))
        flat: list[int] = []
        vocab, values = self.vocab, self.values
        n_values = len(values)
        for vals in per_row:
            for v in vals:
                key = term_key(v)
                code = vocab.get(key)
                if code is None:
                    code = vocab[key] = len(values)
                    values.append(v)
                flat.append(code)
        col = Column(
            values=values,
            vocab=vocab,
            ptr=np.concatenate([self.ptr, self.ptr[-1] + np.cumsum(lengths)]).astype(np.int64),
            codes=np.concatenate([self.codes, np.asarray(flat, dtype=np.int32)]),
            number=self.number,
            when=self.when,
        )
        col._derive(n_values)
        return col

    def taken(self, keep: np.ndarray) -> Column:
        """The rows where ``keep`` (a boolean row mask) is true, in order; the values are shared."""
        lengths = np.diff(self.ptr)[keep]
        col = Column(
            values=self.values,
            vocab=self.vocab,
            ptr=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
            codes=self.codes[keep[self.entry_row]],
            number=self.number,
            when=self.when,
        )
        col._derive(len(self.values))
        return col

    def row_values(self, row: int) -> list[Scalar]:
        """The values of one row, as they were given."""
        return [self.values[c] for c in self.codes[self.ptr[row] : self.ptr[row + 1]].tolist()]

    def _derive(self, known: int) -> None:
        """``entry_row`` and ``single`` from the arrays; ``number`` and ``when`` for the values from
        ``known`` on (those before it are this column's already)."""
        lengths = np.diff(self.ptr)
        n_rows = len(lengths)
        self.single = bool(n_rows) and bool((lengths == 1).all())
        self.entry_row = np.repeat(np.arange(n_rows, dtype=np.int32 if n_rows < 2**31 else np.int64), lengths)
        fresh = self.values[known:]
        number = [
            float(v) if isinstance(v, int | float) and not isinstance(v, bool) else np.nan for v in fresh
        ]
        instants = [instant(v) if isinstance(v, str) else None for v in fresh]
        when = [np.nan if t is None else float(t) for t in instants]
        self.number = np.concatenate([self.number[:known], np.asarray(number, dtype=np.float64)])
        self.when = np.concatenate([self.when[:known], np.asarray(when, dtype=np.float64)])

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
    """The columns of a table's rows: given (the vector table keeps its own), or built per path on first
    use from per-row values (``fields``)."""

    def __init__(
        self,
        fields: dict[str, list[list[Scalar]]] | None,
        n_rows: int,
        built: dict[str, Column] | None = None,
    ) -> None:
        self._fields = fields or {}
        self._n = n_rows
        self._built: dict[str, Column] = dict(built or {})

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
