"""The composition roots: ``runtime`` (wiring only), ``web`` (FastAPI), ``cli`` (Typer) and ``demo``.

Nothing below imports this package; it calls the use cases of ``ged``, ``veille``, ``search`` and
``taxonomy`` and holds the long-lived parts they share.
"""
