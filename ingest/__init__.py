"""The one ingestion pipeline: Haystack components (one per module), the pipelines that chain them, and the
batch runner that records a state for every input."""
