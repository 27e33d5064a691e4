"""The one error mapping, on a tiny app built inline: every ``TfeError`` class answers its status and code.

The tree drawn in ``tfe.core.errors`` is checked against the classes, and the documented OpenAPI error
responses against what the handlers answer.
"""

from __future__ import annotations

import inspect
from typing import Annotated

import pytest
from fastapi import FastAPI, Query
from fastapi.testclient import TestClient

from tfe.app.web.errors import codes_for, error_responses, install_error_handlers
from tfe.core import errors as core_errors
from tfe.core.errors import TfeError

CLASSES = [getattr(core_errors, name) for name in core_errors.__all__]


def _app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/raise/{name}", responses=error_responses(400, 404))
    def raise_(name: str) -> None:
        raise getattr(core_errors, name)(f"{name} raised")

    @app.get("/bounded", responses=error_responses(400))
    def bounded(n: Annotated[int, Query(ge=0, le=10)] = 0) -> dict[str, int]:
        return {"n": n}

    @app.get("/crash")
    def crash() -> None:
        raise RuntimeError("secret detail")

    return app


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(_app(), raise_server_exceptions=False)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_each_error_class_maps_to_its_status_and_code(client: TestClient, cls: type[TfeError]) -> None:
    response = client.get(f"/raise/{cls.__name__}")
    assert response.status_code == cls.http_status
    assert response.json() == {"error": {"code": cls.code, "message": f"{cls.__name__} raised"}}
    if cls.http_status == 401:
        assert response.headers["www-authenticate"] == "Bearer"


def test_codes_are_stable_and_distinct() -> None:
    assert len({c.code for c in CLASSES}) == len(CLASSES)
    assert all(c.code.isidentifier() and 400 <= c.http_status < 600 for c in CLASSES)


def test_tree_in_the_docstring_is_true() -> None:
    """Each class is drawn once, with its code and status, indented under its parent class."""
    rows: dict[str, tuple[int, list[str]]] = {}
    for line in (inspect.getdoc(core_errors) or "").splitlines():
        words = line.replace("├──", " ").replace("└──", " ").replace("│", " ").split()
        if words and words[0] in core_errors.__all__:
            assert words[0] not in rows
            rows[words[0]] = (line.index(words[0]), words)
    assert set(rows) == set(core_errors.__all__)
    for cls in CLASSES:
        column, (name, code, status, *_what) = rows[cls.__name__]
        assert (code, int(status)) == (cls.code, cls.http_status), name
        if cls is not TfeError:
            assert rows[cls.__mro__[1].__name__][0] < column, name


def test_fastapi_validation_is_400_invalid(client: TestClient) -> None:
    for n in ("11", "-1", "ten", str(2**63)):
        response = client.get("/bounded", params={"n": n})
        assert response.status_code == 400
        body = response.json()
        assert body["error"]["code"] == "invalid" and body["error"]["message"].startswith("n:")


def test_unexpected_error_is_500_internal_without_details(client: TestClient) -> None:
    response = client.get("/crash")
    assert response.status_code == 500
    assert response.json() == {"error": {"code": "internal", "message": "internal error"}}


def test_documented_responses_name_the_codes() -> None:
    assert codes_for(400) == ["invalid"]
    assert codes_for(415) == ["unsupported"]
    assert codes_for(422) == ["extraction_failed"]
    assert codes_for(429) == ["rate_limited"]
    responses = error_responses(404)
    assert set(responses) == {404, "default"}
    assert "`not_found`" in responses[404]["description"]
    spec = _app().openapi()
    op = spec["paths"]["/raise/{name}"]["get"]
    assert set(op["responses"]) == {"200", "400", "404", "default"}
    assert "HTTPValidationError" not in spec["components"]["schemas"]
