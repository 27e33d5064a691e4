"""OIDC sign-in providers as data: ``settings.oidc_providers_file`` is a JSON list of providers.

Each provider names its issuer (discovery at ``issuer + /.well-known/openid-configuration``), its client id
and secret (the secret itself, or better the name of an environment variable holding it), the scopes to
ask and how its claims map to ours (e-mail, given and family names, SIRET, organisation). A file that
cannot be used stops the start with one ``ConfigurationError`` line naming the file and the bad field;
secrets are never part of a message or a log line.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError

from tfe.core.errors import ConfigurationError

__all__ = ["ClaimMap", "ProviderConfig", "load_providers", "parse_providers"]

_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
ProviderName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")]


class ClaimMap(BaseModel):
    """Which of the provider's claims hold each of our fields (``None``: the provider has none)."""

    model_config = ConfigDict(extra="forbid")

    email: str = "email"
    email_verified: str | None = "email_verified"
    given_name: str | None = "given_name"
    family_name: str | None = "family_name"
    siret: str | None = None
    organisation: str | None = None


class ProviderConfig(BaseModel):
    """One OpenID provider users may sign in with."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: ProviderName
    label: str = Field(min_length=1, max_length=80)
    issuer: str = Field(min_length=8, max_length=500)
    client_id: str = Field(min_length=1, max_length=255)
    client_secret: SecretStr | None = None
    client_secret_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    scopes: list[str] = Field(default_factory=lambda: ["openid", "email", "profile"])
    claims: ClaimMap = Field(default_factory=ClaimMap)
    allowed_domains: list[str] = Field(default_factory=list)
    # link a first sign-in to an existing account of the same e-mail even without email_verified=true
    # (only for providers whose identity providers vouch for every address, e.g. ProConnect)
    trust_email: bool = False
    token_endpoint_auth_method: Literal["client_secret_basic", "client_secret_post"] | None = None
    fetch_userinfo: bool = True
    timeout_s: float = Field(default=5.0, gt=0, le=60)

    @field_validator("issuer")
    @classmethod
    def _issuer_url(cls, value: str) -> str:
        value = value.rstrip("/")
        if not value.startswith(("https://", "http://127.0.0.1", "http://localhost", "http://[::1]")):
            raise ValueError("must be an https:// URL (http only on loopback)")
        return value

    @field_validator("scopes")
    @classmethod
    def _openid_scope(cls, value: list[str]) -> list[str]:
        if "openid" not in value:
            raise ValueError("must include 'openid'")
        if any(not s or " " in s for s in value):
            raise ValueError("scopes are single words")
        return value

    @field_validator("allowed_domains")
    @classmethod
    def _domains(cls, value: list[str]) -> list[str]:
        domains = [d.strip().lower() for d in value]
        bad = [d for d in domains if not _DOMAIN.match(d)]
        if bad:
            raise ValueError(f"not a domain name: {bad[0]!r}")
        return domains

    @model_validator(mode="after")
    def _one_secret(self) -> ProviderConfig:
        if (self.client_secret is None) == (self.client_secret_env is None):
            raise ValueError("give exactly one of client_secret and client_secret_env")
        return self

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def secret(self) -> str:
        """The client secret (from the file or its environment variable); never log it."""
        if self.client_secret is not None:
            return self.client_secret.get_secret_value()
        value = os.environ.get(self.client_secret_env or "", "")
        if not value:
            raise ConfigurationError(
                f"OIDC provider {self.name!r}: environment variable {self.client_secret_env} is not set"
            )
        return value

    def domain_allowed(self, email: str) -> bool:
        """Whether an e-mail address may sign in here (every domain when ``allowed_domains`` is empty)."""
        domain = email.rpartition("@")[2].lower()
        return not self.allowed_domains or domain in self.allowed_domains


def _one_line(exc: PydanticValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err.get("loc", ())) or "providers"
    return f"{where}: {err.get('msg', 'invalid value')}"


def parse_providers(data: object, source: str = "OIDC providers") -> dict[str, ProviderConfig]:
    """Validate a decoded providers list; the providers by name, or one-line ``ConfigurationError``."""
    if not isinstance(data, list):
        raise ConfigurationError(f"{source}: expected a JSON list of providers")
    providers: dict[str, ProviderConfig] = {}
    for index, item in enumerate(data):
        try:
            provider = ProviderConfig.model_validate(item)
        except PydanticValidationError as exc:
            raise ConfigurationError(f"{source}: provider {index}: {_one_line(exc)}") from None
        if provider.name in providers:
            raise ConfigurationError(f"{source}: provider {index}: duplicate name {provider.name!r}")
        provider.secret()  # an unset secret variable stops the start too
        providers[provider.name] = provider
    return providers


def load_providers(path: Path | None) -> dict[str, ProviderConfig]:
    """The providers of ``settings.oidc_providers_file`` (none when unset)."""
    if path is None:
        return {}
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(
            f"cannot read TFE_OIDC_PROVIDERS_FILE {path}: {exc.strerror or exc}"
        ) from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ConfigurationError(f"{path} is not valid JSON: {exc}") from None
    return parse_providers(data, str(path))
