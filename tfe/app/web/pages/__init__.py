"""HTML pages in French, one module per use case (sign-in, search, document)."""
