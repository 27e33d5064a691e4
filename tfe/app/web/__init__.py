"""The web shell: FastAPI app (JSON API under ``/api``, French HTML pages, offline API docs).

``create_app(runtime)`` in :mod:`tfe.app.web.app` is the only entry point; nothing else imports this package.
"""
