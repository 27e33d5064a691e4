"""Haystack components of the ingestion pipeline, one per module, each filling its part of ``Processed``."""
