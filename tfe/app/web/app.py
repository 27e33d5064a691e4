"""``create_app(runtime)``: the FastAPI application (JSON API, French pages, offline API docs)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline

from tfe.app.jobs.runtimes import register_runtime
from tfe.app.runtime import Runtime
from tfe.app.web.api import admin_audit as admin_audit_api
from tfe.app.web.api import admin_security as admin_security_api
from tfe.app.web.api import curation as curation_api
from tfe.app.web.api import doctype_fields as doctype_fields_api
from tfe.app.web.api import document_edit as document_edit_api
from tfe.app.web.api import documents as documents_api
from tfe.app.web.api import erasure as erasure_api
from tfe.app.web.api import health, items, search, taxonomy
from tfe.app.web.api import indicators as indicators_api
from tfe.app.web.api import lifecycle as lifecycle_api
from tfe.app.web.api import me as me_api
from tfe.app.web.api import more_like_this as more_like_this_api
from tfe.app.web.api import previews as previews_api
from tfe.app.web.api import similar as similar_api
from tfe.app.web.api import sources as sources_api
from tfe.app.web.api import stories as stories_api
from tfe.app.web.api import subscriptions as subscriptions_api
from tfe.app.web.api import survey as survey_api
from tfe.app.web.api import taxonomy_edit as taxonomy_edit_api
from tfe.app.web.api import taxonomy_reclassify as taxonomy_reclassify_api
from tfe.app.web.api import taxonomy_releases as taxonomy_releases_api
from tfe.app.web.api import taxonomy_rules as taxonomy_rules_api
from tfe.app.web.api import versions as versions_api
from tfe.app.web.errors import install_error_handlers
from tfe.app.web.headers import install_security_headers, secure_cookies
from tfe.app.web.keyguard import KeyRevokedMiddleware
from tfe.app.web.limits import BodySizeLimitMiddleware
from tfe.app.web.pages import account as account_pages
from tfe.app.web.pages import admin as admin_pages
from tfe.app.web.pages import admin_audit as admin_audit_pages
from tfe.app.web.pages import admin_security as admin_security_pages
from tfe.app.web.pages import admin_signin as admin_signin_pages
from tfe.app.web.pages import alerts as alert_pages
from tfe.app.web.pages import atom_feed as atom_feed_pages
from tfe.app.web.pages import auth as auth_pages
from tfe.app.web.pages import curation as curation_pages
from tfe.app.web.pages import dashboards as dashboard_pages
from tfe.app.web.pages import doc_fields as doc_fields_pages
from tfe.app.web.pages import document_edit as document_edit_pages
from tfe.app.web.pages import documents as document_pages
from tfe.app.web.pages import erasure as erasure_pages
from tfe.app.web.pages import items as item_pages
from tfe.app.web.pages import lifecycle as lifecycle_pages
from tfe.app.web.pages import oidc as oidc_pages
from tfe.app.web.pages import outbox as outbox_pages
from tfe.app.web.pages import saved_searches as saved_search_pages
from tfe.app.web.pages import search as search_pages
from tfe.app.web.pages import similar as similar_pages
from tfe.app.web.pages import sources as source_pages
from tfe.app.web.pages import stories as story_pages
from tfe.app.web.pages import survey as survey_pages
from tfe.app.web.pages import taxonomy as taxonomy_pages
from tfe.app.web.pages import taxonomy_edit as taxonomy_edit_pages
from tfe.app.web.pages import taxonomy_history as taxonomy_history_pages
from tfe.app.web.pages import unsubscribe as unsubscribe_pages
from tfe.app.web.pages import upload as upload_pages
from tfe.app.web.pages import versions as version_pages
from tfe.app.web.session import SignedSessionMiddleware
from tfe.app.web.templating import STATIC_DIR
from tfe.app.web.uploads import record_refusal
from tfe.core.security.oidc import OidcRegistry
from tfe.core.security.oidc_config import load_providers
from tfe.core.security.throttle import LoginThrottle, TokenThrottle

API_DESCRIPTION = """**Base documentaire et veille de la Team France Export** : recherche hybride dans les
documents (GED) et la veille économique, dans le périmètre de votre organisation. Authentifiez-vous avec
un jeton (`Authorization: Bearer <jeton>`, créé par `tfe token create`) ; chaque erreur a la forme
`{"error": {"code", "message"}}`. Le contrat ci-dessous est rédigé en anglais, comme le code.

Team France Export knowledge platform: documents (GED) and economic watch (veille).

Authenticate with `Authorization: Bearer <token>` (tokens from `tfe token create`) or the session cookie
set by `/login` (with `X-CSRF-Token` on unsafe methods). Every error is `{"error": {"code": ..., "message":
...}}` (`ErrorPublic`) with the status each operation lists; a bad parameter or body is 400 `invalid`, never
FastAPI's 422 (422 is `extraction_failed` on upload only).
"""


def create_app(runtime: Runtime) -> FastAPI:
    """Build the app around one runtime (shared by every request)."""
    settings = runtime.settings
    app = FastAPIOffline(
        title="tfe: Team France Export",
        version="0.1.0",
        description=API_DESCRIPTION,
        openapi_url="/openapi.json",
    )
    app.state.runtime = runtime
    register_runtime(runtime)  # found from a session by the reclassification after a taxonomy change
    app.state.demo = None  # a tfe.app.demo.loader.DemoProgress while `tfe demo` loads in the background
    install_error_handlers(app)
    # Middleware runs outermost-last-added: sessions wrap everything, the body cap sits inside them.
    # The cap adds the multipart envelope to TFE_MAX_UPLOAD_BYTES itself; its 413s are recorded.
    app.add_middleware(
        BodySizeLimitMiddleware, max_bytes=settings.max_upload_bytes, on_refused=record_refusal
    )
    app.add_middleware(
        SignedSessionMiddleware,
        secret_key=settings.secret_key,
        max_age=settings.session_max_age_s,
        https_only=secure_cookies(settings),
        same_site="lax",
    )
    app.add_middleware(KeyRevokedMiddleware)  # outermost: once the keys are revoked, every answer is 503
    install_security_headers(app, settings)  # around the whole stack, 500s included
    app.state.login_throttle = LoginThrottle.from_settings(settings)  # in the shared limits store
    app.state.token_throttle = TokenThrottle.from_settings(settings)
    app.state.oidc = OidcRegistry(load_providers(settings.oidc_providers_file))  # a bad file stops here
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> FileResponse:
        return FileResponse(STATIC_DIR / "favicon.ico", media_type="image/x-icon")

    for router in (
        health.router,
        search.router,
        similar_api.router,  # /api/documents/similar before /api/documents/{id}
        more_like_this_api.router,  # /api/documents/{id}/similar, /api/items/{id}/similar
        lifecycle_api.router,  # /api/documents/trash and /review before /api/documents/{id}
        documents_api.router,
        document_edit_api.router,
        versions_api.router,
        doctype_fields_api.router,
        erasure_api.router,
        admin_audit_api.router,
        indicators_api.router,
        survey_api.router,
        admin_security_api.router,
        previews_api.router,
        taxonomy.router,
        taxonomy_edit_api.router,
        taxonomy_reclassify_api.router,
        taxonomy_releases_api.router,
        taxonomy_rules_api.router,
        items.router,
        sources_api.router,
        curation_api.router,
        stories_api.router,
        subscriptions_api.router,
        me_api.router,
        auth_pages.router,
        oidc_pages.router,
        search_pages.router,
        similar_pages.router,  # /documents/ressemblances before /documents/{id}
        lifecycle_pages.router,  # /documents/corbeille and /documents/a-revoir before /documents/{id}
        document_pages.router,
        document_edit_pages.router,
        doc_fields_pages.router,
        version_pages.router,
        erasure_pages.router,
        admin_audit_pages.router,
        dashboard_pages.router,
        upload_pages.router,
        item_pages.router,
        curation_pages.router,
        taxonomy_history_pages.router,  # /taxonomie/historique before /taxonomie/{scheme}
        taxonomy_edit_pages.router,
        taxonomy_pages.router,
        story_pages.router,
        source_pages.router,
        saved_search_pages.router,
        alert_pages.router,
        unsubscribe_pages.router,
        atom_feed_pages.router,
        outbox_pages.router,
        admin_pages.router,
        admin_security_pages.router,
        admin_signin_pages.router,
        account_pages.router,
        survey_pages.router,
    ):
        app.include_router(router)
    return app
