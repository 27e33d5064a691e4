"""``/openapi.json`` describes the whole contract: every answer's schema and every error status answered."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.conftest import Installation

ERROR_SCHEMA = {"$ref": "#/components/schemas/ErrorPublic"}

# Every operation and the statuses it documents; a new route must be added here (and documented).
OPERATIONS: dict[tuple[str, str], set[str]] = {
    ("get", "/healthz"): {"200", "503"},
    ("get", "/api/search"): {"200", "400", "401"},
    ("post", "/api/documents"): {"200", "201", "400", "401", "403", "413", "415", "422"},
    ("get", "/api/documents/{doc_id}"): {"200", "400", "401", "404"},
    ("patch", "/api/documents/{doc_id}"): {"200", "400", "401", "403", "404", "409"},
    ("delete", "/api/documents/{doc_id}"): {"200", "400", "401", "403", "404"},
    ("post", "/api/documents/{doc_id}/transitions"): {"200", "400", "401", "403", "404", "409"},
    ("get", "/api/documents/{doc_id}/transitions"): {"200", "400", "401", "404"},
    ("post", "/api/documents/{doc_id}/restore"): {"200", "400", "401", "404"},
    ("post", "/api/documents/{doc_id}/review"): {"200", "400", "401", "403", "404"},
    ("get", "/api/documents/trash"): {"200", "401"},
    ("get", "/api/documents/review"): {"200", "401"},
    ("get", "/api/documents/{doc_id}/content"): {"200", "400", "401", "404"},
    ("get", "/api/documents/{doc_id}/versions"): {"200", "400", "401", "404"},
    ("post", "/api/documents/{doc_id}/versions"): {
        "201",
        "400",
        "401",
        "403",
        "404",
        "409",
        "413",
        "415",
        "422",
    },
    ("post", "/api/documents/{doc_id}/versions/{number}/restore"): {
        "201",
        "400",
        "401",
        "403",
        "404",
        "409",
        "422",
    },
    ("get", "/api/documents/{doc_id}/versions/diff"): {"200", "400", "401", "404"},
    ("post", "/api/documents/{doc_id}/lock"): {"200", "400", "401", "403", "404", "409"},
    ("delete", "/api/documents/{doc_id}/lock"): {"200", "400", "401", "403", "404"},
    ("get", "/api/documents/{doc_id}/preview"): {"200", "400", "401", "404"},
    ("get", "/api/documents/similar"): {"200", "400", "401", "403"},
    ("get", "/api/doctypes"): {"200", "401"},
    ("get", "/api/doctypes/{notation}"): {"200", "400", "401", "404"},
    ("get", "/api/documents/{doc_id}/fields"): {"200", "400", "401", "404"},
    ("put", "/api/documents/{doc_id}/fields"): {"200", "400", "401", "403", "404"},
    ("post", "/api/documents/{doc_id}/fields/accept"): {"200", "400", "401", "403", "404"},
    ("get", "/api/items/{item_id}"): {"200", "400", "401", "404"},
    ("get", "/api/items/{item_id}/similar"): {"200", "400", "401", "404"},
    ("get", "/api/documents/{doc_id}/similar"): {"200", "400", "401", "404"},
    ("post", "/api/items/{item_id}/decision"): {"200", "400", "401", "403", "404"},
    ("get", "/api/curation/queue"): {"200", "400", "401", "403"},
    ("post", "/api/curation/decisions"): {"200", "400", "401", "403"},
    ("get", "/api/sources"): {"200", "400", "401"},
    ("post", "/api/sources"): {"201", "400", "401", "403"},
    ("post", "/api/sources/preview"): {"200", "400", "401", "403"},
    ("get", "/api/sources/export"): {"200", "401"},
    ("post", "/api/sources/import"): {"200", "400", "401", "403", "413"},
    ("get", "/api/sources/{source_id}"): {"200", "400", "401", "404"},
    ("patch", "/api/sources/{source_id}"): {"200", "400", "401", "403", "404"},
    ("delete", "/api/sources/{source_id}"): {"200", "400", "401", "403", "404"},
    ("post", "/api/sources/{source_id}/poll"): {"200", "400", "401", "403", "404"},
    ("get", "/api/stories"): {"200", "400", "401", "403"},
    ("get", "/api/stories/{story_id}"): {"200", "400", "401", "403", "404"},
    ("get", "/api/subscriptions"): {"200", "401"},
    ("post", "/api/subscriptions"): {"201", "400", "401", "409"},
    ("delete", "/api/subscriptions"): {"200", "401", "403"},
    ("get", "/api/subscriptions/export"): {"200", "401"},
    ("get", "/api/subscriptions/{subscription_id}"): {"200", "400", "401", "404"},
    ("patch", "/api/subscriptions/{subscription_id}"): {"200", "400", "401", "403", "404"},
    ("delete", "/api/subscriptions/{subscription_id}"): {"204", "400", "401", "403", "404"},
    ("get", "/api/subscriptions/{subscription_id}/preview"): {"200", "400", "401", "404"},
    ("get", "/api/subscriptions/{subscription_id}/history"): {"200", "400", "401", "404"},
    ("post", "/api/subscriptions/{subscription_id}/atom-token"): {"200", "400", "401", "403", "404"},
    ("get", "/api/taxonomy/schemes"): {"200", "401"},
    ("get", "/api/taxonomy/concepts"): {"200", "400", "401", "404"},
    ("get", "/api/taxonomy/concepts/{concept_id}"): {"200", "400", "401", "404"},
    ("post", "/api/taxonomy/concepts"): {"201", "400", "401", "403", "404", "409"},
    ("patch", "/api/taxonomy/concepts/{concept_id}"): {"200", "400", "401", "403", "404"},
    ("post", "/api/taxonomy/concepts/{concept_id}/move"): {"200", "400", "401", "403", "404", "409"},
    ("post", "/api/taxonomy/concepts/{concept_id}/merge"): {"200", "400", "401", "403", "404", "409"},
    ("post", "/api/taxonomy/concepts/{concept_id}/split"): {"200", "400", "401", "403", "404", "409"},
    ("post", "/api/taxonomy/concepts/{concept_id}/deprecate"): {"200", "400", "401", "403", "404", "409"},
    ("get", "/api/taxonomy/changes"): {"200", "400", "401"},
    ("get", "/api/taxonomy/changes/{change_id}"): {"200", "400", "401", "404"},
    ("post", "/api/taxonomy/changes/{change_id}/revert"): {"200", "400", "401", "403", "404", "409"},
    ("get", "/api/taxonomy/changes/{change_id}/reclassify"): {"200", "400", "401", "403", "404"},
    ("post", "/api/taxonomy/changes/{change_id}/reclassify"): {"200", "400", "401", "403", "404"},
    ("get", "/api/taxonomy/reclassify/{run_id}"): {"200", "400", "401", "403", "404"},
    ("get", "/api/taxonomy/releases"): {"200", "401"},
    ("post", "/api/taxonomy/releases"): {"201", "400", "401", "403", "409"},
    ("get", "/api/taxonomy/releases/{name}/skos"): {"200", "400", "401", "404"},
    ("post", "/api/taxonomy/import"): {"200", "400", "401", "403", "413", "415"},
    ("post", "/api/taxonomy/rules/try"): {"200", "400", "401", "403"},
    ("post", "/api/taxonomy/concepts/{concept_id}/try"): {"200", "400", "401", "403", "404"},
    ("post", "/api/admin/erasures"): {"201", "400", "401", "403", "404"},
    ("get", "/api/admin/erasures"): {"200", "400", "401", "403"},
    ("get", "/api/admin/erasures/{receipt_id}"): {"200", "400", "401", "403", "404"},
    ("post", "/api/admin/erasures/verify"): {"200", "400", "401", "403"},
    ("get", "/api/admin/audit"): {"200", "400", "401", "403"},
    ("get", "/api/indicators"): {"200", "400", "401", "403", "404"},
    ("get", "/api/survey"): {"200", "401"},
    ("post", "/api/survey"): {"201", "400", "401", "409"},
    ("get", "/api/admin/security-alerts"): {"200", "400", "401", "403"},
    ("post", "/api/admin/security-alerts/{alert_id}/review"): {"200", "400", "401", "403", "404", "409"},
    ("get", "/api/admin/guard-budgets"): {"200", "401", "403"},
    ("put", "/api/admin/guard-budgets"): {"200", "400", "401", "403"},
    ("get", "/api/me"): {"200", "401", "403"},
    ("get", "/api/me/tokens"): {"200", "401", "403"},
    ("post", "/api/me/tokens"): {"201", "400", "401", "403"},
    ("delete", "/api/me/tokens/{token_id}"): {"200", "400", "401", "403", "404"},
    ("get", "/api/me/sessions"): {"200", "401", "403"},
    ("delete", "/api/me/sessions/{session_id}"): {"200", "400", "401", "403", "404"},
}
# The JSON answers and the model that documents each.
# The routes that run a file through extraction, so may answer 422 ``extraction_failed``.
READS_A_FILE = {
    ("post", "/api/documents"),
    ("post", "/api/documents/{doc_id}/versions"),
    ("post", "/api/documents/{doc_id}/versions/{number}/restore"),
}
RESPONSE_MODELS = {
    ("get", "/healthz", "200"): "HealthPublic",
    ("get", "/healthz", "503"): "HealthPublic",
    ("get", "/api/search", "200"): "SearchResultsPublic",
    ("post", "/api/documents", "201"): "DocumentUploadPublic",
    ("post", "/api/documents", "200"): "DocumentUploadPublic",
    ("get", "/api/documents/{doc_id}", "200"): "DocumentPublic",
    ("get", "/api/documents/{doc_id}/versions", "200"): "VersionHistoryPublic",
    ("post", "/api/documents/{doc_id}/versions", "201"): "VersionAddedPublic",
    ("post", "/api/documents/{doc_id}/versions/{number}/restore", "201"): "VersionAddedPublic",
    ("get", "/api/documents/{doc_id}/versions/diff", "200"): "DiffPublic",
    ("post", "/api/documents/{doc_id}/lock", "200"): "LockStatePublic",
    ("delete", "/api/documents/{doc_id}/lock", "200"): "LockStatePublic",
    ("get", "/api/documents/similar", "200"): "SimilarityListPublic",
    ("patch", "/api/documents/{doc_id}", "200"): "DocumentUpdatePublic",
    ("delete", "/api/documents/{doc_id}", "200"): "TrashEntryPublic",
    ("post", "/api/documents/{doc_id}/transitions", "200"): "DocumentPublic",
    ("get", "/api/documents/{doc_id}/transitions", "200"): "TransitionHistoryPublic",
    ("post", "/api/documents/{doc_id}/restore", "200"): "DocumentPublic",
    ("post", "/api/documents/{doc_id}/review", "200"): "ReviewConfirmedPublic",
    ("get", "/api/documents/trash", "200"): "TrashListPublic",
    ("get", "/api/documents/review", "200"): "ReviewListPublic",
    ("get", "/api/doctypes", "200"): "DocTypesPublic",
    ("get", "/api/doctypes/{notation}", "200"): "DocTypePublic",
    ("get", "/api/documents/{doc_id}/fields", "200"): "DocumentFieldsPublic",
    ("put", "/api/documents/{doc_id}/fields", "200"): "DocumentFieldsPublic",
    ("post", "/api/documents/{doc_id}/fields/accept", "200"): "DocumentFieldsPublic",
    ("get", "/api/items/{item_id}", "200"): "ItemPublic",
    ("get", "/api/items/{item_id}/similar", "200"): "SimilarResultsPublic",
    ("get", "/api/documents/{doc_id}/similar", "200"): "SimilarResultsPublic",
    ("post", "/api/items/{item_id}/decision", "200"): "DecisionPublic",
    ("get", "/api/curation/queue", "200"): "QueuePublic",
    ("post", "/api/curation/decisions", "200"): "BulkResultPublic",
    ("get", "/api/sources", "200"): "SourceListPublic",
    ("post", "/api/sources", "201"): "SourcePublic",
    ("post", "/api/sources/preview", "200"): "SourcePreviewPublic",
    ("post", "/api/sources/import", "200"): "ImportReportPublic",
    ("get", "/api/sources/{source_id}", "200"): "SourcePublic",
    ("patch", "/api/sources/{source_id}", "200"): "SourcePublic",
    ("delete", "/api/sources/{source_id}", "200"): "SourceRemovedPublic",
    ("post", "/api/sources/{source_id}/poll", "200"): "PollOutcomePublic",
    ("get", "/api/stories", "200"): "StoriesPublic",
    ("get", "/api/stories/{story_id}", "200"): "StoryPublic",
    ("get", "/api/subscriptions", "200"): "SubscriptionListPublic",
    ("post", "/api/subscriptions", "201"): "SubscriptionCreatedPublic",
    ("delete", "/api/subscriptions", "200"): "SubscriptionsDeletedPublic",
    ("get", "/api/subscriptions/export", "200"): "SubscriptionExportPublic",
    ("get", "/api/subscriptions/{subscription_id}", "200"): "SubscriptionPublic",
    ("patch", "/api/subscriptions/{subscription_id}", "200"): "SubscriptionCreatedPublic",
    ("get", "/api/subscriptions/{subscription_id}/preview", "200"): "SubscriptionPreviewPublic",
    ("get", "/api/subscriptions/{subscription_id}/history", "200"): "HistoryPublic",
    ("post", "/api/subscriptions/{subscription_id}/atom-token", "200"): "AtomTokenPublic",
    ("get", "/api/taxonomy/schemes", "200"): "SchemesPublic",
    ("get", "/api/taxonomy/concepts", "200"): "ConceptsPublic",
    ("get", "/api/taxonomy/concepts/{concept_id}", "200"): "ConceptDetailPublic",
    ("post", "/api/taxonomy/concepts", "201"): "ChangeResultPublic",
    ("patch", "/api/taxonomy/concepts/{concept_id}", "200"): "ChangeResultPublic",
    ("post", "/api/taxonomy/concepts/{concept_id}/move", "200"): "ChangeResultPublic",
    ("post", "/api/taxonomy/concepts/{concept_id}/merge", "200"): "ChangeResultPublic",
    ("post", "/api/taxonomy/concepts/{concept_id}/split", "200"): "ChangeResultPublic",
    ("post", "/api/taxonomy/concepts/{concept_id}/deprecate", "200"): "ChangeResultPublic",
    ("get", "/api/taxonomy/changes", "200"): "ChangesPublic",
    ("get", "/api/taxonomy/changes/{change_id}", "200"): "ChangeDetailPublic",
    ("post", "/api/taxonomy/rules/try", "200"): "RulesTryPublic",
    ("post", "/api/taxonomy/concepts/{concept_id}/try", "200"): "ConceptTryPublic",
    ("post", "/api/taxonomy/changes/{change_id}/revert", "200"): "ChangeResultPublic",
    ("get", "/api/taxonomy/changes/{change_id}/reclassify", "200"): "ReclassifyRunPublic",
    ("post", "/api/taxonomy/changes/{change_id}/reclassify", "200"): "ReclassifyRunPublic",
    ("get", "/api/taxonomy/reclassify/{run_id}", "200"): "ReclassifyRunPublic",
    ("post", "/api/admin/erasures", "201"): "ReceiptPublic",
    ("get", "/api/admin/erasures", "200"): "ReceiptListPublic",
    ("get", "/api/admin/erasures/{receipt_id}", "200"): "ReceiptPublic",
    ("post", "/api/admin/erasures/verify", "200"): "VerificationPublic",
    ("get", "/api/admin/audit", "200"): "AuditSearchPublic",
    ("get", "/api/indicators", "200"): "IndicatorsPublic",
    ("get", "/api/survey", "200"): "SurveyPublic",
    ("post", "/api/survey", "201"): "SurveyPublic",
    ("get", "/api/admin/security-alerts", "200"): "AlertListPublic",
    ("post", "/api/admin/security-alerts/{alert_id}/review", "200"): "AlertPublic",
    ("get", "/api/admin/guard-budgets", "200"): "BudgetListPublic",
    ("put", "/api/admin/guard-budgets", "200"): "BudgetListPublic",
    ("get", "/api/me", "200"): "MePublic",
    ("get", "/api/me/tokens", "200"): "TokenListPublic",
    ("post", "/api/me/tokens", "201"): "TokenCreatedPublic",
    ("delete", "/api/me/tokens/{token_id}", "200"): "TokenPublic",
    ("get", "/api/me/sessions", "200"): "SessionListPublic",
    ("delete", "/api/me/sessions/{session_id}", "200"): "SessionPublic",
}


@pytest.fixture(scope="module")
def spec(installation: Installation) -> dict[str, Any]:
    response = installation.client.get("/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def _schema(spec: dict[str, Any], name: str) -> dict[str, Any]:
    schema: dict[str, Any] = spec["components"]["schemas"][name]
    return schema


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Follow ``$ref`` and unwrap ``X | None`` (``anyOf`` with null) down to the object schema."""
    if "$ref" in schema:
        return _resolve(spec, _schema(spec, schema["$ref"].rsplit("/", 1)[1]))
    if "anyOf" in schema:
        (inner,) = [s for s in schema["anyOf"] if s.get("type") != "null"]
        return _resolve(spec, inner)
    if schema.get("type") == "array":
        return _resolve(spec, schema["items"])
    return schema


def _props(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    props: dict[str, Any] = _resolve(spec, schema)["properties"]
    return props


def test_every_operation_lists_its_statuses(spec: dict[str, Any]) -> None:
    found = {(m, p) for p, ops in spec["paths"].items() for m in ops}
    assert found == set(OPERATIONS)
    for (method, path), statuses in OPERATIONS.items():
        responses = spec["paths"][path][method]["responses"]
        default = set() if path == "/healthz" else {"default"}  # the probe catches everything
        assert set(responses) == statuses | default, (method, path)


def test_error_responses_have_the_error_body(spec: dict[str, Any]) -> None:
    for (method, path), statuses in OPERATIONS.items():
        responses = spec["paths"][path][method]["responses"]
        if path == "/healthz":
            continue  # the probe answers its own body, even when degraded
        for status in [s for s in statuses if s.startswith(("4", "5"))] + ["default"]:
            content = responses[status]["content"]["application/json"]
            assert content["schema"] == ERROR_SCHEMA, (method, path, status)
            assert "`" in responses[status]["description"]  # names the stable code(s)
            if status != "default":
                assert set(content["example"]) == {"error"}
    error = _schema(spec, "ErrorPublic")
    assert error["required"] == ["error"]
    detail = _resolve(spec, error["properties"]["error"])
    assert set(detail["required"]) == {"code", "message"}
    assert set(_props(spec, detail["properties"]["fields"])) == {"field", "message"}  # invalid field values


def test_fastapi_validation_body_is_not_documented(spec: dict[str, Any]) -> None:
    """FastAPI's own 422 is answered as 400 ``invalid``: its ``HTTPValidationError`` must not appear."""
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    assert "ValidationError" not in spec["components"]["schemas"]
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if "422" in op["responses"]:
                assert (method, path) in READS_A_FILE
                assert "extraction_failed" in op["responses"]["422"]["description"]
    invalid = spec["paths"]["/api/search"]["get"]["responses"]["400"]
    assert "`invalid`" in invalid["description"] and "422" in invalid["description"]


def test_json_answers_are_documented_by_their_models(spec: dict[str, Any]) -> None:
    for (method, path, status), model in RESPONSE_MODELS.items():
        content = spec["paths"][path][method]["responses"][status]["content"]["application/json"]
        assert content["schema"] == {"$ref": f"#/components/schemas/{model}"}, (method, path, status)


def test_answers_always_carry_every_documented_key(spec: dict[str, Any]) -> None:
    """No optional keys in answers: a missing value is ``null``, so every property is required."""
    seen: set[str] = set()

    def walk(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        schema = _schema(spec, name)
        # the one optional key: ``error.fields``, only on invalid typed field values (ged.fields)
        optional = {"fields"} if name == "ErrorDetail" else set()
        assert set(schema.get("required", [])) == set(schema["properties"]) - optional, name
        for prop in schema["properties"].values():
            text = repr(prop)
            for ref in text.split("#/components/schemas/")[1:]:
                walk(ref.split("'")[0])

    for model in set(RESPONSE_MODELS.values()) | {"ErrorPublic"}:
        walk(model)


def test_search_schema(spec: dict[str, Any]) -> None:
    body = _schema(spec, "SearchResultsPublic")["properties"]
    assert {"total", "hits", "facets", "suggestions", "understood"} == set(body)
    hit = _props(spec, body["hits"])
    assert {
        "id",
        "title",
        "snippet",
        "score",
        "type",
        "sectors",
        "countries",
        "url",
        "source_url",
        "kind",
        "story_id",
        "story_size",
        "expired",
        "date",
        "language",
        "explanation",
    } == set(hit)
    assert set(_props(spec, body["suggestions"])) == {"kind", "label", "q", "facet", "total", "url"}
    assert set(_props(spec, hit["sectors"])) == {"id", "label"}
    assert set(_props(spec, hit["type"])) == {"id", "label"}
    facets = _props(spec, body["facets"])
    assert set(facets) == {"sector", "country", "type", "org", "language", "filiere", "signal"}
    for entries in facets.values():
        assert set(_props(spec, entries)) == {"id", "label", "count"}
    params = {p["name"]: p for p in spec["paths"]["/api/search"]["get"]["parameters"]}
    assert set(params) == {
        "q",
        "sector",
        "country",
        "type",
        "filiere",
        "signal",
        "limit",
        "offset",
        "mode",
        "group",
        "include_archived",
        "sort",
        "date_from",
        "date_to",
        "org",
        "language",
        "status",
    }
    assert all(p["in"] == "query" for p in params.values())
    assert params["sort"]["schema"]["enum"] == ["relevance", "date", "date_asc"]
    assert params["date_from"]["schema"]["anyOf"][0]["format"] == "date"
    assert params["sector"]["schema"]["type"] == "array"
    assert params["mode"]["schema"]["enum"] == ["hybrid", "bm25", "vector"]
    assert params["group"]["schema"]["anyOf"][0]["const"] == "stories"


def test_story_schemas(spec: dict[str, Any]) -> None:
    page = _schema(spec, "StoriesPublic")["properties"]
    assert set(page) == {"total", "stories"}
    story = _props(spec, page["stories"])
    assert set(story) == {
        "id",
        "title",
        "first_seen",
        "last_seen",
        "item_count",
        "source_count",
        "sources",
        "items",
    }
    assert set(_props(spec, story["sources"])) == {"id", "title"}
    items = _props(spec, story["items"])
    assert set(items) == {"id", "title", "url", "source", "published_at", "curator_status"}
    params = {p["name"]: p for p in spec["paths"]["/api/stories"]["get"]["parameters"]}
    assert set(params) == {"limit", "offset", "since", "sector", "country", "include_rejected"}
    item = _schema(spec, "ItemPublic")["properties"]
    assert {"story_id", "curator_status", "content_origin"} <= set(item)


def test_document_item_and_taxonomy_schemas(spec: dict[str, Any]) -> None:
    document = _schema(spec, "DocumentPublic")["properties"]
    assert {"id", "title", "type", "visibility", "versions", "classifications", "content_url"} <= set(
        document
    )
    assert set(_props(spec, document["versions"])) == {
        "number",
        "filename",
        "mime",
        "size",
        "sha256",
        "created_at",
        "comment",
        "author_id",
        "author",
    }
    classification = {"id", "scheme", "label", "score", "method", "evidence"}
    assert set(_props(spec, document["classifications"])) == classification
    assert document["created_at"]["anyOf"][0]["type"] == "string"
    item = _schema(spec, "ItemPublic")["properties"]
    assert {"id", "title", "summary", "url", "source", "classifications"} <= set(item)
    assert set(_props(spec, item["source"])) == {"title", "url"}
    assert set(_props(spec, item["classifications"])) == classification
    schemes = _schema(spec, "SchemesPublic")["properties"]
    assert set(_props(spec, schemes["items"])) == {"id", "uri", "label", "label_en", "version", "concepts"}
    concepts = _schema(spec, "ConceptsPublic")["properties"]
    assert {"id", "scheme", "notation", "label", "broader", "deprecated"} <= set(
        _props(spec, concepts["items"])
    )
    upload = spec["paths"]["/api/documents"]["post"]["requestBody"]["content"]
    form = _resolve(spec, upload["multipart/form-data"]["schema"])
    assert form["title"] == "DocumentCreate" and form["required"] == ["file"]
    assert set(form["properties"]) == {"file", "visibility", "doc_type"}


def test_every_integer_parameter_is_bounded(spec: dict[str, Any]) -> None:
    """Issue 12 defect 18: an unbounded integer reached SQLite and overflowed (500)."""
    checked = 0
    for path, ops in spec["paths"].items():
        for op in ops.values():
            for param in op.get("parameters", []):
                schema = param["schema"]
                ints = [s for s in schema.get("anyOf", [schema]) if s.get("type") == "integer"]
                for s in ints:
                    assert "minimum" in s and "maximum" in s, (path, param["name"])
                    assert s["maximum"] < 2**63
                    checked += 1
    assert checked >= 5  # search limit/offset, concepts limit/offset, content version
