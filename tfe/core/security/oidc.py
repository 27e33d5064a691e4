"""OIDC sign-in protocol (relying party side) with Authlib: discovery, the authorization URL (code flow,
PKCE S256, ``state`` and ``nonce``), the code exchange, ID token validation and the logout URL.

The web layer keeps the flow's ``state``, ``nonce`` and PKCE verifier in the signed session between the
redirect and the callback; this module holds no per-user state. Discovery and the provider's JWKS are
fetched with httpx under the provider's short timeout and cached (the JWKS is fetched again once when a
token names an unknown key: key rotation).

ID tokens are verified with joserfc, the JOSE library Authlib itself uses (``authlib.jose`` is deprecated
in its favour), and checked with Authlib's ``authlib.oidc.core.CodeIDToken``: signature against the
provider's JWKS (asymmetric algorithms only), ``iss`` = the issuer, ``aud`` = our client id, ``exp``,
``iat`` (not in the future, not stale), ``nonce`` = the one sent, ``azp`` and ``at_hash`` when present.

Errors, each with a short ``reason`` for the audit trail (never a token)::

    OidcError                     base (TfeError)
    ├── UnknownProviderError      404  no provider of that name is configured
    ├── OidcFlowError             400  no pending sign-in, wrong state, no code
    ├── OidcTokenError            401  the provider refused, or the ID token (or userinfo) does not verify
    ├── OidcProviderError         502  the provider answered something unusable (bad discovery, 5xx)
    └── OidcUnavailableError      503  the provider is down or too slow (connection refused, timeout)
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client, OAuthError
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    ExpiredTokenError,
    InvalidKeyIdError,
    JoseError,
)
from joserfc.jwk import KeySet

from tfe.core.errors import TfeError
from tfe.core.security.oidc_config import ProviderConfig

__all__ = [
    "AuthorizationRequest",
    "OidcClient",
    "OidcError",
    "OidcFlowError",
    "OidcProviderError",
    "OidcRegistry",
    "OidcTokenError",
    "OidcUnavailableError",
    "SignInResult",
    "UnknownProviderError",
]

log = logging.getLogger(__name__)

LEEWAY_S = 60  # clock skew allowed on exp / iat
MAX_AGE_S = 600  # an ID token issued longer ago than this is stale (the exchange happens at once)
_ASYMMETRIC = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")


class OidcError(TfeError):
    """A sign-in through a provider failed; ``reason`` is a short English key for the audit trail."""

    def __init__(self, reason: str, message: str | None = None) -> None:
        super().__init__(message or reason)
        self.reason = reason


class UnknownProviderError(OidcError):
    code = "not_found"
    http_status = 404


class OidcFlowError(OidcError):
    code = "invalid"
    http_status = 400


class OidcTokenError(OidcError):
    code = "unauthenticated"
    http_status = 401


class OidcProviderError(OidcError):
    code = "bad_gateway"
    http_status = 502


class OidcUnavailableError(OidcError):
    code = "backend_unavailable"
    http_status = 503


@dataclass(frozen=True)
class AuthorizationRequest:
    """Where to send the browser, and what the callback must find again (kept in the signed session)."""

    url: str
    state: str
    nonce: str
    code_verifier: str


@dataclass(frozen=True)
class SignInResult:
    """A verified sign-in: the claims (ID token, then userinfo) and the raw ID token (for logout)."""

    claims: dict[str, Any]
    id_token: str


def _http_failure(what: str, exc: Exception) -> OidcError:
    if isinstance(exc, httpx.TimeoutException):
        return OidcUnavailableError(f"{what}_timeout")
    if isinstance(exc, httpx.TransportError):
        return OidcUnavailableError(f"{what}_unreachable")
    if isinstance(exc, httpx.HTTPStatusError):
        return OidcProviderError(f"{what}_http_{exc.response.status_code}")
    return OidcProviderError(f"{what}_invalid")


class OidcClient:
    """The relying party of one provider: cached discovery and keys, the flow's steps."""

    def __init__(self, config: ProviderConfig, *, metadata_ttl_s: float = 600.0) -> None:
        self.config = config
        self._ttl = metadata_ttl_s
        self._lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._fetched_at = 0.0
        self._jwks: KeySet | None = None

    @property
    def name(self) -> str:
        return self.config.name

    def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            response = httpx.get(url, timeout=self.config.timeout_s, headers={"Accept": "application/json"})
            response.raise_for_status()
            data = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise _http_failure(what, exc) from None
        if not isinstance(data, dict):
            raise OidcProviderError(f"{what}_invalid")
        return data

    def metadata(self) -> dict[str, Any]:
        """The provider's discovery document (cached ``metadata_ttl_s``; failures are not cached)."""
        with self._lock:
            if self._metadata is not None and time.monotonic() - self._fetched_at < self._ttl:
                return self._metadata
        data = self._get_json(self.config.discovery_url, "discovery")
        if str(data.get("issuer", "")).rstrip("/") != self.config.issuer:
            raise OidcProviderError("discovery_issuer_mismatch")
        for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(data.get(key), str):
                raise OidcProviderError(f"discovery_missing_{key}")
        with self._lock:
            self._metadata, self._fetched_at = data, time.monotonic()
        return data

    def _keys(self, *, refresh: bool = False) -> KeySet:
        with self._lock:
            if self._jwks is not None and not refresh:
                return self._jwks
        data = self._get_json(self.metadata()["jwks_uri"], "jwks")
        try:
            keys = KeySet.import_key_set(data)  # type: ignore[arg-type]
        except (JoseError, ValueError, TypeError, KeyError):
            raise OidcProviderError("jwks_invalid") from None
        with self._lock:
            self._jwks = keys
        return keys

    def _algorithms(self) -> list[str]:
        offered = self.metadata().get("id_token_signing_alg_values_supported") or ["RS256"]
        algorithms = [a for a in offered if a in _ASYMMETRIC]
        return algorithms or ["RS256"]

    def _auth_method(self) -> str:
        if self.config.token_endpoint_auth_method:
            return self.config.token_endpoint_auth_method
        offered = self.metadata().get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        for method in ("client_secret_basic", "client_secret_post"):
            if method in offered:
                return method
        raise OidcProviderError("no_supported_token_endpoint_auth_method")

    def _oauth(self, redirect_uri: str) -> OAuth2Client:
        return OAuth2Client(
            client_id=self.config.client_id,
            client_secret=self.config.secret(),
            token_endpoint_auth_method=self._auth_method(),
            scope=" ".join(self.config.scopes),
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            timeout=self.config.timeout_s,
        )

    def authorization_request(self, redirect_uri: str) -> AuthorizationRequest:
        """The provider's authorization URL for a new sign-in, with fresh state, nonce and PKCE verifier."""
        endpoint = self.metadata()["authorization_endpoint"]
        state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
        with self._oauth(redirect_uri) as client:
            url, _ = client.create_authorization_url(
                endpoint, state=state, nonce=nonce, code_verifier=verifier
            )
        return AuthorizationRequest(url=url, state=state, nonce=nonce, code_verifier=verifier)

    def exchange_code(self, code: str, *, redirect_uri: str, code_verifier: str) -> dict[str, Any]:
        """The token endpoint's answer for an authorization code (client authenticated, PKCE verifier)."""
        endpoint = self.metadata()["token_endpoint"]
        try:
            with self._oauth(redirect_uri) as client:
                token = client.fetch_token(
                    endpoint, grant_type="authorization_code", code=code, code_verifier=code_verifier
                )
        except OAuthError as exc:
            raise OidcTokenError(f"token_endpoint:{exc.error or 'error'}") from None
        except (httpx.HTTPError, ValueError) as exc:
            raise _http_failure("token_endpoint", exc) from None
        if not isinstance(token, dict) or not isinstance(token.get("id_token"), str):
            raise OidcTokenError("token_endpoint:no_id_token")
        return dict(token)

    def _decode(self, raw: str) -> jwt.Token:
        try:
            try:
                return jwt.decode(raw, self._keys(), algorithms=self._algorithms())
            except InvalidKeyIdError:
                return jwt.decode(raw, self._keys(refresh=True), algorithms=self._algorithms())
        except (BadSignatureError, InvalidKeyIdError):
            raise OidcTokenError("id_token_signature") from None
        except JoseError:
            raise OidcTokenError("id_token_malformed") from None
        except (ValueError, TypeError):
            raise OidcTokenError("id_token_malformed") from None

    def validate_id_token(
        self, raw: str, *, nonce: str, access_token: str | None = None, now: int | None = None
    ) -> dict[str, Any]:
        """The claims of a verified ID token, or ``OidcTokenError`` naming what failed."""
        if not nonce:
            raise OidcTokenError("nonce_missing")
        token = self._decode(raw)
        moment = int(time.time()) if now is None else now
        options: dict[str, Any] = {
            "iss": {"essential": True, "value": self.config.issuer},
            "aud": {"essential": True, "value": self.config.client_id},
            "sub": {"essential": True},
            "exp": {"essential": True},
            "iat": {"essential": True},
            "nonce": {"essential": True},
        }
        params = {"nonce": nonce, "client_id": self.config.client_id, "access_token": access_token}
        claims = CodeIDToken(token.claims, token.header, options, params)
        try:
            claims.validate(now=moment, leeway=LEEWAY_S)
        except ExpiredTokenError:
            raise OidcTokenError("id_token_expired") from None
        except ClaimError as exc:
            reason = "nonce_mismatch" if exc.claim == "nonce" else f"id_token_claim:{exc.claim}"
            raise OidcTokenError(reason) from None
        issued = claims.get("iat")
        if not isinstance(issued, int | float) or issued > moment + LEEWAY_S:
            raise OidcTokenError("id_token_claim:iat")
        if issued < moment - MAX_AGE_S - LEEWAY_S:
            raise OidcTokenError("id_token_stale")
        return dict(claims)

    def userinfo(self, access_token: str, subject: str) -> dict[str, Any]:
        """The userinfo endpoint's claims (JSON, or a JWT signed by the provider as ProConnect sends)."""
        endpoint = self.metadata().get("userinfo_endpoint")
        if not self.config.fetch_userinfo or not isinstance(endpoint, str):
            return {}
        try:
            response = httpx.get(
                endpoint, timeout=self.config.timeout_s, headers={"Authorization": f"Bearer {access_token}"}
            )
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise _http_failure("userinfo", exc) from None
        if response.headers.get("content-type", "").startswith("application/jwt"):
            token = self._decode(response.text.strip())
            data: Any = token.claims
            if data.get("iss") not in (None, self.config.issuer):
                raise OidcTokenError("userinfo_claim:iss")
        else:
            try:
                data = response.json()
            except ValueError:
                raise OidcProviderError("userinfo_invalid") from None
        if not isinstance(data, dict) or data.get("sub") != subject:
            raise OidcTokenError("userinfo_subject")
        return data

    def complete(self, code: str, *, redirect_uri: str, code_verifier: str, nonce: str) -> SignInResult:
        """Exchange the code, verify the ID token, add the userinfo claims: the verified sign-in."""
        token = self.exchange_code(code, redirect_uri=redirect_uri, code_verifier=code_verifier)
        access_token = token.get("access_token")
        access = access_token if isinstance(access_token, str) else None
        claims = self.validate_id_token(token["id_token"], nonce=nonce, access_token=access)
        if access:
            extra = self.userinfo(access, str(claims["sub"]))
            claims = {**claims, **{k: v for k, v in extra.items() if k not in _PROTOCOL}}
        return SignInResult(claims=claims, id_token=token["id_token"])

    def end_session_url(self, *, id_token_hint: str | None, post_logout_redirect_uri: str) -> str | None:
        """The provider's RP-initiated logout URL, or None when it has no ``end_session_endpoint``."""
        endpoint = self.metadata().get("end_session_endpoint")
        if not isinstance(endpoint, str) or not endpoint:
            return None
        params = {"post_logout_redirect_uri": post_logout_redirect_uri, "client_id": self.config.client_id}
        if id_token_hint:
            params = {"id_token_hint": id_token_hint, **params}
        separator = "&" if "?" in endpoint else "?"
        return f"{endpoint}{separator}{urlencode(params)}"


_PROTOCOL = frozenset(
    {"iss", "sub", "aud", "exp", "iat", "nonce", "azp", "at_hash", "auth_time", "acr", "amr"}
)


class OidcRegistry:
    """The configured providers by name, each with its client (one per process: caches are shared)."""

    def __init__(self, providers: dict[str, ProviderConfig]) -> None:
        self._clients = {name: OidcClient(config) for name, config in providers.items()}

    @property
    def providers(self) -> list[ProviderConfig]:
        return [client.config for client in self._clients.values()]

    def get(self, name: str) -> OidcClient:
        client = self._clients.get(name)
        if client is None:
            raise UnknownProviderError("unknown_provider", f"unknown sign-in provider {name[:64]!r}")
        return client
