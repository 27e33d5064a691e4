"""Haystack components of the ingestion pipeline, one per module; each ``run()`` declares the typed values
it takes and gives, and ``ingest.pipeline.build_pipeline`` wires them socket by socket."""
