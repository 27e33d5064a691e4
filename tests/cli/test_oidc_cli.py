"""``tfe oidc providers|map|unmap|mappings|requests|approve|reject`` as an operator runs them; ``providers``
checks discovery against the real test provider (oidc-provider on loopback) and a closed port."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from tests.web.oidc_fixture import CLIENT_SECRET, LocalProvider, free_port, start_provider
from tfe.app.cli import app
from tfe.core.db import make_engine, make_session_factory, session_scope
from tfe.core.models import AuditEvent, Organisation, User
from tfe.core.security import provisioning
from tfe.core.security.models import UserIdentity
from tfe.core.settings import Settings


@pytest.fixture(scope="module")
def provider() -> Iterator[LocalProvider]:
    with start_provider("http://127.0.0.1:8000") as running:
        yield running


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("cli-oidc") / "data"
    assert tfe(data, "init", "--json").exit_code == 0
    assert tfe(data, "org", "add", "cci-test", "--kind", "regional_chamber").exit_code == 0
    return data


def tfe(data: Path, *args: str, providers_file: Path | None = None) -> Result:
    env = {
        "TFE_DATA_DIR": str(data),
        "TFE_ADMIN_PASSWORD": "admin-password-123",
        "TFE_DATABASE_URL": "",
        "TFE_OIDC_PROVIDERS_FILE": str(providers_file or ""),
        "TFE_TEST_OIDC_SECRET": CLIENT_SECRET,
    }
    if providers_file is None:
        env.pop("TFE_OIDC_PROVIDERS_FILE")
    return CliRunner().invoke(app, list(args), env=env)


def _session(data: Path):  # type: ignore[no-untyped-def]
    return session_scope(make_session_factory(make_engine(Settings(data_dir=data, environment="test"))))


def test_providers_lists_and_checks_discovery(provider: LocalProvider, data: Path, tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps([provider.provider_entry("test")]), encoding="utf-8")
    listed = tfe(data, "oidc", "providers", "--json", providers_file=good)
    assert listed.exit_code == 0, listed.output
    doc = json.loads(listed.stdout)
    assert [(p["name"], p["discovery"], p["end_session"]) for p in doc["providers"]] == [("test", "ok", True)]
    assert CLIENT_SECRET not in listed.output
    both = tmp_path / "both.json"
    down = provider.provider_entry("down", issuer=f"http://127.0.0.1:{free_port()}", timeout_s=1)
    both.write_text(json.dumps([provider.provider_entry("test"), down]), encoding="utf-8")
    checked = tfe(data, "oidc", "providers", providers_file=both)
    assert checked.exit_code == 1
    assert "test\tFournisseur de test" in checked.stdout and "découverte OK" in checked.stdout
    assert "découverte en échec (discovery_unreachable)" in checked.stdout


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("{not json", "is not valid JSON"),
        (json.dumps({"name": "x"}), "expected a JSON list"),
        (
            json.dumps(
                [
                    {
                        "name": "Bad Name",
                        "label": "x",
                        "issuer": "https://x.fr",
                        "client_id": "c",
                        "client_secret": "s",
                    }
                ]
            ),
            "provider 0: name",
        ),
        (
            json.dumps([{"name": "x", "label": "x", "issuer": "https://x.fr", "client_id": "c"}]),
            "exactly one of",
        ),
        (
            json.dumps(
                [
                    {
                        "name": "x",
                        "label": "x",
                        "issuer": "https://x.fr",
                        "client_id": "c",
                        "client_secret_env": "TFE_UNSET_SECRET_VAR",
                    }
                ]
            ),
            "TFE_UNSET_SECRET_VAR is not set",
        ),
    ],
)
def test_a_bad_providers_file_is_one_line(data: Path, tmp_path: Path, content: str, words: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content, encoding="utf-8")
    out = tfe(data, "oidc", "providers", providers_file=bad)
    assert out.exit_code == 2
    assert words in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert "Traceback" not in out.output


def test_mappings_add_list_remove(data: Path) -> None:
    added = tfe(data, "oidc", "map", "--siret", "130 025 265 00013", "--org", "cci-test", "--json")
    assert added.exit_code == 0, added.output
    mapping = json.loads(added.stdout)
    assert (mapping["kind"], mapping["value"], mapping["org"]) == ("siret", "13002526500013", "cci-test")
    assert tfe(data, "oidc", "map", "--domain", "CCI-Test.fr", "--org", "cci-test").exit_code == 0
    again = tfe(data, "oidc", "map", "--domain", "cci-test.fr", "--org", "cci-test")
    assert again.exit_code == 2 and "already mapped" in again.stderr
    assert tfe(data, "oidc", "map", "--siret", "12", "--org", "cci-test").exit_code == 2
    nowhere = tfe(data, "oidc", "map", "--domain", "x.fr", "--org", "nowhere")
    assert nowhere.exit_code == 2 and "unknown organisation 'nowhere'" in nowhere.stderr
    assert tfe(data, "oidc", "map", "--org", "cci-test").exit_code == 2  # neither --siret nor --domain
    listed = json.loads(tfe(data, "oidc", "mappings", "--json").stdout)["mappings"]
    assert {(m["kind"], m["value"]) for m in listed} >= {
        ("siret", "13002526500013"),
        ("domain", "cci-test.fr"),
    }
    removed = tfe(data, "oidc", "unmap", str(mapping["id"]))
    assert removed.exit_code == 0 and "13002526500013" in removed.stdout
    assert tfe(data, "oidc", "unmap", str(mapping["id"])).exit_code == 2
    with _session(data) as session:
        actions = [
            e.action
            for e in session.scalars(select(AuditEvent).where(AuditEvent.action.like("org_mapping.%")))
        ]
    assert actions.count("org_mapping.add") >= 2 and actions.count("org_mapping.remove") == 1


def _request(data: Path, subject: str) -> int:
    ident = provisioning.OidcIdentity(
        provider="test",
        subject=subject,
        email=f"{subject}@inconnue.example",
        email_verified=True,
        given_name=subject.capitalize(),
        family_name="Test",
        siret=None,
        organisation="Cabinet",
    )
    with _session(data) as session:
        outcome = provisioning.resolve(session, ident)
        assert outcome.kind == "pending" and outcome.request is not None
        return outcome.request.id


def test_requests_approve_and_reject(data: Path) -> None:
    first, second = _request(data, "zoe"), _request(data, "yann")
    pending = json.loads(tfe(data, "oidc", "requests", "--json").stdout)["requests"]
    assert {r["email"] for r in pending} >= {"zoe@inconnue.example", "yann@inconnue.example"}
    approved = tfe(
        data, "oidc", "approve", str(first), "--org", "cci-test", "--role", "contributor", "--json"
    )
    assert approved.exit_code == 0, approved.output
    assert json.loads(approved.stdout)["role"] == "contributor"
    twice = tfe(data, "oidc", "approve", str(first), "--org", "cci-test")
    assert twice.exit_code == 2 and "already approved" in twice.stderr
    assert tfe(data, "oidc", "approve", str(second), "--org", "cci-test", "--role", "boss").exit_code == 2
    rejected = tfe(data, "oidc", "reject", str(second))
    assert rejected.exit_code == 0 and "refusée" in rejected.stdout
    assert tfe(data, "oidc", "requests", "--status", "nope").exit_code == 2
    everything = json.loads(tfe(data, "oidc", "requests", "--status", "all", "--json").stdout)["requests"]
    assert {(r["email"], r["status"]) for r in everything} >= {
        ("zoe@inconnue.example", "approved"),
        ("yann@inconnue.example", "rejected"),
    }
    with _session(data) as session:
        user = session.scalar(select(User).where(User.email == "zoe@inconnue.example"))
        assert user is not None and user.auth_source == "oidc:test" and user.role == "contributor"
        org = session.get(Organisation, user.org_id)
        assert org is not None and org.slug == "cci-test"
        assert session.scalar(select(UserIdentity.user_id).where(UserIdentity.subject == "zoe")) == user.id
