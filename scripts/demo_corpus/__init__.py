"""Builder of the bundled demo corpus (run by ``scripts/make_demo_corpus.py``; not shipped with ``tfe``).

The content is data under ``data/`` (see :mod:`demo_corpus.content` for the file formats); the code
assembles the documents (``content``), writes each format (``writers``, needing the ``demo-build``
extra: fpdf2, odfpy, openpyxl, python-docx, python-pptx) and the watch feeds (``feeds``).
"""
