"""Sign-in through an OpenID provider: ``GET /login/oidc/{provider}`` sends the browser to the provider,
``GET /auth/oidc/{provider}/callback`` brings it back (code flow with PKCE, ``state`` and ``nonce``).

The flow's state, nonce and PKCE verifier wait in the signed session cookie between the two (``SameSite=Lax``
lets the provider's top-level redirect carry it back), for ten minutes at most and for one callback only.
The protocol is ``tfe.core.security.oidc``; who the user is, ``tfe.core.security.provisioning``. Every
failure answers a French page with a 4xx or 502/503 status (never a 500) and records ``auth.oidc_failed``
with a short reason (never a token).
"""

from __future__ import annotations

import secrets
import time
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from tfe.app.web.deps import SessionDep, sign_in
from tfe.app.web.pages.auth import safe_next
from tfe.app.web.templating import templates
from tfe.core.errors import ValidationError
from tfe.core.security import audit
from tfe.core.security.audit import Actor
from tfe.core.security.oidc import (
    OidcError,
    OidcFlowError,
    OidcProviderError,
    OidcRegistry,
    OidcTokenError,
    OidcUnavailableError,
    UnknownProviderError,
)
from tfe.core.security.provisioning import identity_from_claims, resolve

router = APIRouter(tags=["pages"], include_in_schema=False)

FLOW_KEY = "oidc_flow"
FLOW_MAX_AGE_S = 600
WEB = Actor.system("web")
ProviderPath = Annotated[str, Path(min_length=1, max_length=64)]
Param = Annotated[str | None, Query(max_length=4096)]

_FAILURE_FR: list[tuple[type[OidcError], str, str]] = [
    (
        UnknownProviderError,
        "Fournisseur inconnu",
        "Ce fournisseur d'identité n'est pas configuré sur la plateforme.",
    ),
    (
        OidcFlowError,
        "Connexion interrompue",
        "La demande de connexion a expiré ou n'est pas valide : veuillez recommencer depuis la page de "
        "connexion.",
    ),
    (
        OidcTokenError,
        "Connexion refusée",
        "Le fournisseur d'identité n'a pas pu confirmer votre identité : la connexion est refusée.",
    ),
    (
        OidcProviderError,
        "Fournisseur d'identité en erreur",
        "Le fournisseur d'identité a répondu de façon inattendue. Réessayez plus tard ou connectez-vous "
        "avec votre mot de passe.",
    ),
    (
        OidcUnavailableError,
        "Fournisseur d'identité injoignable",
        "Le fournisseur d'identité ne répond pas. Réessayez dans quelques minutes ou connectez-vous avec "
        "votre mot de passe.",
    ),
]
_REFUSED_FR = {
    "deactivated": "Votre compte est désactivé : contactez l'administrateur de votre organisation.",
    "signup_rejected": "Votre demande d'accès a été refusée par un administrateur.",
    "email_unverified": "Un compte existe déjà avec cette adresse e-mail, mais le fournisseur d'identité ne "
    "la déclare pas vérifiée : connectez-vous avec votre mot de passe.",
    "domain_not_allowed": "Votre adresse e-mail n'est pas acceptée pour ce fournisseur d'identité.",
}


def registry(request: Request) -> OidcRegistry:
    """The app's providers (``app.state.oidc``, built at start from ``settings.oidc_providers_file``)."""
    value: OidcRegistry = request.app.state.oidc
    return value


def callback_uri(request: Request, provider: str) -> str:
    """The redirect URI registered at the provider: under ``settings.public_url``."""
    public_url: str = request.app.state.runtime.settings.public_url
    return f"{public_url.rstrip('/')}/auth/oidc/{provider}/callback"


def _page(request: Request, status: int, title: str, message: str, **extra: Any) -> Response:
    context = {"user": None, "title": title, "message": message, "status": status, **extra}
    response = templates.TemplateResponse(request, "oidc_message.html", context, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _failed(session: Session, provider: str, reason: str) -> None:
    audit.record(
        session,
        "auth.oidc_failed",
        WEB,
        target_kind="oidc_provider",
        target_id=provider[:64],
        detail={"provider": provider[:64], "reason": reason[:200]},
    )


def _failure(request: Request, session: Session, provider: str, exc: OidcError) -> Response:
    _failed(session, provider, exc.reason)
    title, message = "Connexion impossible", "La connexion par ce fournisseur d'identité a échoué."
    for cls, fr_title, fr_message in _FAILURE_FR:
        if isinstance(exc, cls):
            title, message = fr_title, fr_message
            break
    if exc.reason == "provider_error:access_denied":
        message = "La connexion a été annulée auprès du fournisseur d'identité."
    return _page(request, exc.http_status, title, message)


@router.get("/login/oidc/{provider}")
def oidc_login(request: Request, session: SessionDep, provider: ProviderPath, next: Param = None) -> Response:
    """Start a sign-in: fresh state, nonce and PKCE verifier in the session, then the provider."""
    try:
        client = registry(request).get(provider)
        auth = client.authorization_request(callback_uri(request, provider))
    except OidcError as exc:
        return _failure(request, session, provider, exc)
    request.session[FLOW_KEY] = {
        "provider": provider,
        "state": auth.state,
        "nonce": auth.nonce,
        "verifier": auth.code_verifier,
        "next": safe_next(next),
        "at": int(time.time()),
    }
    return RedirectResponse(auth.url, status_code=303)


def _check_flow(flow: object, provider: str, state: str | None) -> dict[str, Any]:
    if not isinstance(flow, dict) or not all(
        isinstance(flow.get(k), str) for k in ("state", "nonce", "verifier")
    ):
        raise OidcFlowError("no_pending_sign_in")
    if flow.get("provider") != provider:
        raise OidcFlowError("provider_mismatch")
    if not state or not secrets.compare_digest(state.encode(), str(flow["state"]).encode()):
        raise OidcFlowError("state_mismatch")
    if time.time() - float(flow.get("at") or 0) > FLOW_MAX_AGE_S:
        raise OidcFlowError("flow_expired")
    return flow


@router.get("/auth/oidc/{provider}/callback")
def oidc_callback(
    request: Request,
    session: SessionDep,
    provider: ProviderPath,
    code: Param = None,
    state: Param = None,
    error: Param = None,
    iss: Param = None,
) -> Response:
    """Finish a sign-in: check state, exchange the code, verify the ID token, match or provision."""
    flow = request.session.pop(FLOW_KEY, None)  # one callback per flow: a replay finds nothing
    try:
        client = registry(request).get(provider)
        pending = _check_flow(flow, provider, state)
        if error:
            raise OidcTokenError(f"provider_error:{error[:64]}")
        if iss is not None and iss.rstrip("/") != client.config.issuer:
            raise OidcFlowError("iss_mismatch")
        if not code:
            raise OidcFlowError("code_missing")
        result = client.complete(
            code,
            redirect_uri=callback_uri(request, provider),
            code_verifier=pending["verifier"],
            nonce=pending["nonce"],
        )
        ident = identity_from_claims(client.config, result.claims)
    except OidcError as exc:
        return _failure(request, session, provider, exc)
    except ValidationError:
        return _failure(request, session, provider, OidcTokenError("claims_unusable"))
    label = client.config.label
    outcome = resolve(session, ident) if client.config.domain_allowed(ident.email) else None
    if outcome is None or outcome.kind == "refused":
        reason = outcome.reason if outcome is not None else "domain_not_allowed"
        _failed(session, provider, reason)
        return _page(request, 403, "Connexion refusée", _REFUSED_FR.get(reason, "La connexion est refusée."))
    if outcome.kind == "pending":
        message = (
            "Un administrateur du réseau doit rattacher votre compte à une organisation. Vous pourrez "
            f"ensuite vous connecter avec {label}."
        )
        return _page(
            request, 200, "Votre demande d'accès est en attente de validation", message, pending=True
        )
    user = outcome.user
    assert user is not None
    sign_in(request, session, user, auth_method=f"oidc:{provider}", id_token=result.id_token)
    audit.record(
        session,
        "auth.oidc_login",
        Actor.of_user(user, "web"),
        target_kind="user",
        target_id=str(user.id),
        detail={"provider": provider, "provisioned": outcome.provisioned},
    )
    return RedirectResponse(str(pending.get("next") or "/"), status_code=303)
