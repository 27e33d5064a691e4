"""Schemathesis against the app's own ``/openapi.json``: no 5xx, every answer documented and matching its
schema, on an installation of its own, signed in with the national admin's bearer token (scopes read,
write and admin, so nearly every route is reached).

Bounded for CI by examples, not by time: a few examples per operation (positive and negative data, the
schema's own examples first), derandomised, no shrinking, no example database, so every operation is
fuzzed on every run whatever the machine's load (a time budget skipped a third of the routes on a busy
CI machine); each route of a document,
a subscription or a source runs once more on a real one. The ``default`` response is removed from the
schema before the run, so an undocumented status fails ``status_code_conformance`` instead of passing as
"unexpected error".

Only schema-invalid data for the three operations that fetch the URL they are given (a fuzzer must not
reach outside hosts; ``TFE_FETCH_ALLOW_PRIVATE`` is on so that validating a generated URL resolves no
name either). Run last, because they end what the others use: revoking tokens and sessions (the
fuzzer's own token may be the one revoked), trashing documents, erasure, deleting every subscription.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

from tests.web.conftest import MAX_UPLOAD, _seed_accounts, _seed_documents
from tfe.app.install import init_installation
from tfe.app.runtime import Runtime
from tfe.app.web.app import create_app
from tfe.core.models import User
from tfe.core.security import identity
from tfe.core.settings import Settings

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
EXAMPLES = {GenerationMode.POSITIVE: 5, GenerationMode.NEGATIVE: 3}
REAL_EXAMPLES = 3
# Valid data makes these fetch a URL (a fuzzer must not reach outside hosts): schema-invalid data only,
# refused before any fetch.
NEGATIVE_ONLY = {
    ("POST", "/api/sources"): "discovers the feed behind the URL it is given",
    ("POST", "/api/sources/preview"): "fetches the URL it is given",
    ("POST", "/api/sources/{source_id}/poll"): "fetches the source's URL",
}
LAST = {
    ("DELETE", "/api/me/tokens/{token_id}"),
    ("DELETE", "/api/me/sessions/{session_id}"),
    ("DELETE", "/api/documents/{doc_id}"),
    ("POST", "/api/admin/erasures"),
    ("DELETE", "/api/subscriptions"),
}


@dataclass
class Run:
    """What the fuzzer did: requests sent, statuses seen, distinct failures (operation, mode, message)."""

    sent: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    by_pass: dict[str, dict[int, int]] = field(default_factory=dict)
    failures: dict[tuple[str, str], str] = field(default_factory=dict)


@dataclass
class Target:
    app: Any
    token: str
    real: dict[str, Any]  # path parameter -> the id of a real object (document, subscription, source)
    owner_token: str  # alice's: the seeded document's owner, so its write routes go past the 403


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    data_dir: Path = tmp_path_factory.mktemp("fuzz")
    rt = Runtime(
        Settings(
            data_dir=data_dir,
            environment="test",
            max_upload_bytes=MAX_UPLOAD,
            admin_password="admin-password-123",
            secret_key="fuzz-secret-key",
            guard_enabled=False,  # the guard would (rightly) slow a client this busy down
            fetch_allow_private=True,  # URL checks resolve no name (nothing is fetched: see NEGATIVE_ONLY)
        )
    )
    init_installation(rt)
    tokens, users, orgs = _seed_accounts(rt)
    ids = _seed_documents(rt, users, orgs)
    with rt.session() as session:
        admin = session.scalars(select(User).where(User.role == "admin")).first()
        assert admin is not None
        token = identity.create_token(session, admin, name="fuzz", scopes="read,write,admin")[1]
    app = create_app(rt)
    auth = {"Authorization": f"Bearer {token}"}
    with TestClient(app) as client:
        alert = client.post("/api/subscriptions", json={"query": "vins", "name": "Vins"}, headers=auth)
        feed = {"url": "http://127.0.0.1:9/flux.xml", "kind": "feed", "discover": False}
        source = client.post("/api/sources", json=feed, headers=auth)
    assert alert.status_code == 201 and source.status_code == 201, (alert.text, source.text)
    real = {
        "doc_id": ids["doc-vins-de"],
        "subscription_id": alert.json()["id"],
        "source_id": source.json()["id"],
    }
    yield Target(app=app, token=token, real=real, owner_token=tokens["alice"])
    rt.close()


def _strict_schema(app: Any) -> Any:
    """The app's schema without the catch-all ``default`` responses, bound to the app (in-process)."""
    spec = copy.deepcopy(app.openapi())
    for operations in spec["paths"].values():
        for operation in operations.values():
            if isinstance(operation, dict):
                operation.get("responses", {}).pop("default", None)
    schema = schemathesis.openapi.from_dict(spec)
    schema.app = app
    schema.location = "/openapi.json"
    return schema


def _fuzz(run: Run, operation: Any, strategy: Any, examples: int, label: str, auth: dict[str, str]) -> None:
    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: the first failure is reported as is
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def one(case: Any) -> None:
        run.sent += 1
        response = case.call(headers=auth)
        status = response.status_code
        run.statuses[status] = run.statuses.get(status, 0) + 1
        seen = run.by_pass.setdefault(label, {})
        seen[status] = seen.get(status, 0) + 1
        case.validate_response(response, checks=CHECKS, headers=auth)

    try:
        one()
    except Unsatisfiable:  # negative data for an operation without parameters: there is none
        return
    except (Exception, FailureGroup) as exc:  # keep the first lines: the check, the status, the curl
        message = "\n".join(str(exc).splitlines()[:14])
        run.failures[(f"{operation.method.upper()} {operation.path}", label)] = message


def test_fuzz_the_api_against_its_schema(target: Target) -> None:
    schema = _strict_schema(target.app)
    auth = {"Authorization": f"Bearer {target.token}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 60
    key = lambda op: (op.method.upper(), op.path)  # noqa: E731
    ordered = sorted(operations, key=lambda op: key(op) in LAST)  # stable: the destructive ones last
    run = Run()
    started = time.monotonic()
    fuzzed: set[tuple[str, str]] = set()
    unauthorised_before_last = 0
    for operation in ordered:
        if key(operation) in LAST and not unauthorised_before_last:
            unauthorised_before_last = run.statuses.get(401, 0) or -1
        for mode, examples in EXAMPLES.items():
            if key(operation) in NEGATIVE_ONLY and mode is GenerationMode.POSITIVE:
                continue
            _fuzz(run, operation, operation.as_strategy(generation_mode=mode), examples, mode.value, auth)
        real = {name: v for name, v in target.real.items() if f"{{{name}}}" in operation.path}
        if real and key(operation) not in LAST and key(operation) not in NEGATIVE_ONLY:
            strategy = operation.as_strategy(path_parameters=real)
            owner = {"Authorization": f"Bearer {target.owner_token}"} if "doc_id" in real else auth
            _fuzz(run, operation, strategy, REAL_EXAMPLES, "real object", owner)
        fuzzed.add(key(operation))
    elapsed = time.monotonic() - started
    print(
        f"\nschemathesis: {len(fuzzed)} operations, {run.sent} requests in {elapsed:.1f} s, "
        f"{len(run.failures)} failures; statuses by pass: "
        + "; ".join(f"{label} {dict(sorted(seen.items()))}" for label, seen in run.by_pass.items())
    )
    report = "\n\n".join(f"{op} [{label}]\n{message}" for (op, label), message in run.failures.items())
    assert not run.failures, report
    assert unauthorised_before_last == -1, "the fuzzer's token stopped working before the last operations"
    assert len(fuzzed) == len(operations)
    assert run.sent >= 3 * len(fuzzed)
