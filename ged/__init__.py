"""GED: reference documents, their versions and blobs."""
