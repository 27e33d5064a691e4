"""Search: the SearchBackend protocol, the embedded backend (Tantivy + vector matrix), hybrid ranking,
facets, evaluation, and the conformance mixins every backend passes (search/testing.py)."""
