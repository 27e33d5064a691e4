"""OIDC providers as data, and who a verified sign-in is (match, link, provision, queue, refuse), with the
administrators' scope over mappings and sign-up requests, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.core.accounts_world import ORGS, World, build_world
from tfe.core.db import session_scope
from tfe.core.errors import (
    ConfigurationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from tfe.core.models import AuditEvent, Organisation
from tfe.core.security import provisioning
from tfe.core.security.models import SignupRequest, UserIdentity
from tfe.core.security.oidc_config import ProviderConfig, load_providers, parse_providers
from tfe.core.settings import Settings

PROCONNECT = {
    "name": "proconnect",
    "label": "ProConnect",
    "issuer": "https://auth.agentconnect.gouv.fr/api/v2/",
    "client_id": "tfe",
    "client_secret": "s3cret-value",
    "scopes": ["openid", "email", "given_name", "usual_name", "siret"],
    "claims": {"family_name": "usual_name", "siret": "siret", "organisation": "organizational_unit"},
}


def _config(**overrides: object) -> ProviderConfig:
    return ProviderConfig.model_validate({**PROCONNECT, **overrides})


def test_provider_file_is_validated_and_secrets_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TFE_PROCONNECT_SECRET", "from-env")
    entry = {**PROCONNECT, "client_secret": None, "client_secret_env": "TFE_PROCONNECT_SECRET"}
    del entry["client_secret"]
    path = tmp_path / "providers.json"
    path.write_text(json.dumps([entry]), encoding="utf-8")
    providers = load_providers(path)
    config = providers["proconnect"]
    assert config.issuer == "https://auth.agentconnect.gouv.fr/api/v2"  # trailing slash dropped
    assert config.discovery_url == "https://auth.agentconnect.gouv.fr/api/v2/.well-known/openid-configuration"
    assert config.secret() == "from-env" and "from-env" not in repr(config)
    assert "s3cret-value" not in repr(_config())
    assert load_providers(None) == {}


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ([{**PROCONNECT, "issuer": "http://idp.example.fr"}], "https:// URL"),
        ([{**PROCONNECT, "scopes": ["email"]}], "must include 'openid'"),
        ([{**PROCONNECT, "allowed_domains": ["not a domain"]}], "not a domain name"),
        ([{**PROCONNECT, "unknown": 1}], "unknown"),
        ([PROCONNECT, PROCONNECT], "duplicate name"),
        ([{**PROCONNECT, "client_secret_env": "X"}], "exactly one of"),
    ],
)
def test_bad_provider_entries_are_one_line_configuration_errors(data: object, words: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_providers(data, "providers.json")
    assert words in caught.value.message and "\n" not in caught.value.message
    assert "s3cret-value" not in caught.value.message


def test_claims_are_mapped_through_the_provider_configuration() -> None:
    claims = {
        "sub": "abc",
        "email": "Marie.Dupont@CCI-Alpha.fr",
        "given_name": "Marie",
        "usual_name": "Dupont",
        "siret": "130 025 265 00013",
        "organizational_unit": "Export",
    }
    ident = provisioning.identity_from_claims(_config(), claims)
    assert (ident.email, ident.name, ident.siret, ident.organisation) == (
        "marie.dupont@cci-alpha.fr",
        "Marie Dupont",
        "13002526500013",
        "Export",
    )
    assert ident.email_verified is False  # no email_verified claim, provider not trusted
    assert provisioning.identity_from_claims(_config(trust_email=True), claims).email_verified is True
    assert (
        provisioning.identity_from_claims(_config(), {**claims, "email_verified": True}).email_verified
        is True
    )
    assert provisioning.identity_from_claims(_config(), {**claims, "siret": "123"}).siret is None
    with pytest.raises(ValidationError):
        provisioning.identity_from_claims(_config(), {**claims, "email": "not-an-address"})
    assert _config(allowed_domains=["cci-alpha.fr"]).domain_allowed("x@CCI-alpha.fr")
    assert not _config(allowed_domains=["cci-alpha.fr"]).domain_allowed("x@evil.fr")


def _mappings(s: Session, orgs: dict[str, Organisation], ids: dict[str, int]) -> None:
    provisioning.add_mapping(
        s, None, kind="siret", value="13002526500013", org_id=orgs["cci"].id, channel="cli"
    )
    provisioning.add_mapping(s, None, kind="domain", value="banque.fr", org_id=orgs["bank"].id, channel="cli")


@pytest.fixture
def world(db_settings: Settings) -> Iterator[World]:
    yield from build_world(
        db_settings,
        ORGS,
        [("national", "bf", "admin"), ("cci_admin", "cci", "admin"), ("local", "cci", "curator")],
        extra=_mappings,
    )


IDENT = provisioning.OidcIdentity(
    provider="proconnect",
    subject="sub-1",
    email="jean@banque.fr",
    email_verified=True,
    given_name="Jean",
    family_name="Durand",
    siret="13002526500013",
    organisation=None,
)


def test_siret_wins_over_domain_and_the_identity_is_reused(world: World) -> None:
    with session_scope(world.factory) as s:
        outcome = provisioning.resolve(s, IDENT)
        assert outcome.kind == "signed_in" and outcome.provisioned and outcome.user is not None
        assert (outcome.user.org_id, outcome.user.role, outcome.user.auth_source) == (
            world.ids["cci"],
            "reader",
            "oidc:proconnect",
        )
        user_id = outcome.user.id
    with session_scope(world.factory) as s:
        again = provisioning.resolve(
            s, replace(IDENT, email="renamed@elsewhere.fr")
        )  # sub decides, not e-mail
        assert again.kind == "signed_in" and again.user is not None and again.user.id == user_id
        assert not again.provisioned
        assert s.scalar(select(UserIdentity.last_login_at).where(UserIdentity.subject == "sub-1")) is not None


def test_domain_mapping_needs_a_verified_address(world: World) -> None:
    unverified = replace(IDENT, subject="sub-2", siret=None, email="paul@banque.fr", email_verified=False)
    with session_scope(world.factory) as s:
        assert provisioning.resolve(s, unverified).kind == "pending"
    verified = replace(unverified, subject="sub-3", email="anne@banque.fr", email_verified=True)
    with session_scope(world.factory) as s:
        outcome = provisioning.resolve(s, verified)
        assert (
            outcome.kind == "signed_in"
            and outcome.user is not None
            and outcome.user.org_id == world.ids["bank"]
        )


def test_existing_accounts_are_linked_only_on_a_verified_address(world: World) -> None:
    takeover = replace(IDENT, subject="sub-4", email="local@cci-nord.fr", email_verified=False)
    with session_scope(world.factory) as s:
        refused = provisioning.resolve(s, takeover)
        assert (refused.kind, refused.reason) == ("refused", "email_unverified")
    with session_scope(world.factory) as s:
        linked = provisioning.resolve(s, replace(takeover, email_verified=True))
        assert linked.kind == "signed_in" and linked.user is not None and linked.user.id == world.ids["local"]
        assert linked.user.role == "curator"  # an existing account keeps its role
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == "auth.oidc_linked")) is not None
    with session_scope(world.factory) as s:
        world.user(s, "local").active = False
    with session_scope(world.factory) as s:
        assert provisioning.resolve(s, replace(takeover, email_verified=True)).reason == "deactivated"


def test_unknown_organisation_queues_then_the_decision_counts(world: World) -> None:
    stranger = replace(IDENT, subject="sub-5", email="lea@inconnue.fr", siret="99999999900019")
    with session_scope(world.factory) as s:
        first = provisioning.resolve(s, stranger)
        assert first.kind == "pending" and first.request is not None
        request_id = first.request.id
        assert provisioning.resolve(s, stranger).request.id == request_id  # type: ignore[union-attr]
    with session_scope(world.factory) as s:
        cci_admin, national = world.user(s, "cci_admin"), world.user(s, "national")
        assert provisioning.list_requests(s, cci_admin) == []  # decided by the national agency
        with pytest.raises(PermissionDeniedError):
            provisioning.approve_request(s, cci_admin, request_id, org_id=world.ids["cci"])
        assert [r.id for r in provisioning.list_requests(s, national)] == [request_id]
        with pytest.raises(ValidationError):
            provisioning.approve_request(s, national, request_id, org_id=world.ids["cci"], role="boss")
        user = provisioning.approve_request(s, national, request_id, org_id=world.ids["cci"])
        assert (user.role, user.org_id, user.name) == ("reader", world.ids["cci"], "Jean Durand")
        with pytest.raises(ConflictError):
            provisioning.reject_request(s, national, request_id)
    with session_scope(world.factory) as s:
        signed = provisioning.resolve(s, stranger)
        assert (
            signed.kind == "signed_in" and signed.user is not None and signed.user.email == "lea@inconnue.fr"
        )
        request = s.get(SignupRequest, request_id)
        assert request is not None and (request.status, request.decided_by) == (
            "approved",
            world.ids["national"],
        )
    other = replace(stranger, subject="sub-6", email="max@inconnue.fr")
    with session_scope(world.factory) as s:
        pending = provisioning.resolve(s, other).request
        assert pending is not None
        provisioning.reject_request(s, world.user(s, "national"), pending.id)
    with session_scope(world.factory) as s:
        assert provisioning.resolve(s, other).reason == "signup_rejected"
        actions = {e.action for e in s.scalars(select(AuditEvent))}
    assert {
        "auth.signup_requested",
        "auth.signup_approved",
        "auth.signup_rejected",
        "org_mapping.add",
    } <= actions


def test_mappings_follow_the_administrators_scope(world: World) -> None:
    with session_scope(world.factory) as s:
        cci_admin, national = world.user(s, "cci_admin"), world.user(s, "national")
        assert [m.value for m, _ in provisioning.list_mappings(s, cci_admin)] == ["13002526500013"]
        assert len(provisioning.list_mappings(s, national)) == 2
        with pytest.raises(NotFoundError):  # another organisation: its existence does not leak
            provisioning.add_mapping(s, cci_admin, kind="domain", value="x.fr", org_id=world.ids["bank"])
        bank_mapping = next(m for m, _ in provisioning.list_mappings(s, national) if m.kind == "domain")
        with pytest.raises(NotFoundError):
            provisioning.remove_mapping(s, cci_admin, bank_mapping.id)
        mapping = provisioning.add_mapping(
            s, cci_admin, kind="domain", value="@CCI-Nord.fr", org_id=world.ids["cci"]
        )
        assert (mapping.value, mapping.created_by) == ("cci-nord.fr", world.ids["cci_admin"])
        with pytest.raises(ConflictError):
            provisioning.add_mapping(
                s, national, kind="domain", value="cci-nord.fr", org_id=world.ids["bank"]
            )
        with pytest.raises(ValidationError):
            provisioning.add_mapping(s, national, kind="naf", value="11", org_id=world.ids["bank"])
        curator = world.user(s, "local")
        with pytest.raises(PermissionDeniedError):
            provisioning.list_mappings(s, curator)
        with pytest.raises(PermissionDeniedError):
            provisioning.add_mapping(s, curator, kind="domain", value="y.fr", org_id=world.ids["cci"])


def test_the_documented_example_file_is_valid() -> None:
    example = Path(__file__).resolve().parents[2] / "docs" / "oidc-providers.example.json"
    entries = json.loads(example.read_text(encoding="utf-8"))
    configs = [ProviderConfig.model_validate(entry) for entry in entries]
    assert [c.name for c in configs] == ["proconnect", "cci-connect"]
    assert configs[0].claims.family_name == "usual_name" and configs[0].claims.siret == "siret"
