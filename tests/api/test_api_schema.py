"""The OpenAPI document at /api/v1/openapi.json: valid JSON, every endpoint in it, internally consistent."""

import json

import pytest

EXPECTED = {
    "/api/v1/me": {"get", "patch"},
    "/api/v1/me/identities": {"post"},
    "/api/v1/places": {"get"},
    "/api/v1/organisations": {"get"},
    "/api/v1/inbox": {"get"},
    "/api/v1/inbox/read": {"post"},
    "/api/v1/inbox/unread-count": {"get"},
    "/api/v1/me/notifications/preferences": {"get", "put"},
    "/api/v1/tasks": {"get"},
    "/api/v1/tasks/mine": {"get"},
    "/api/v1/tasks/{code}": {"get"},
    "/api/v1/tasks/{code}/signup": {"post"},
    "/api/v1/tasks/{code}/cancel": {"post"},
    "/api/v1/tasks/{code}/confirm": {"post"},
    "/api/v1/tasks/{code}/check": {"post"},
    "/api/v1/tasks/{code}/scan": {"post"},
    "/api/v1/tasks/{code}/offline-scans": {"post"},
    "/api/v1/cases": {"get", "post"},
    "/api/v1/cases/options": {"get"},
    "/api/v1/cases/{code}": {"get"},
    "/api/v1/cases/{code}/appeal": {"post"},
    "/api/v1/cases/{code}/photos/{number}": {"get"},
    "/api/v1/points/balance": {"get"},
    "/api/v1/points/history": {"get"},
    "/api/v1/points/leaderboards/{level}/{code}": {"get"},
    "/api/v1/points/leaderboard-visibility": {"get", "put"},
    "/api/v1/rewards/items": {"get"},
    "/api/v1/rewards/items/{code}/redeem": {"post"},
    "/api/v1/rewards/mine": {"get"},
    "/api/v1/rewards/mine/{code}/cancel": {"post"},
    "/api/v1/rewards/merchants/{code}/handover": {"post"},
    "/api/v1/rewards/merchants/{code}/statement": {"get"},
    "/api/v1/certificates/": {"get", "post"},
    "/api/v1/certificates/{number}/pdf": {"get"},
    "/api/v1/certificates/{number}/verify": {"get"},
    "/api/v1/services/categories": {"get"},
    "/api/v1/services": {"get"},
    "/api/v1/services/{code}": {"get"},
    "/api/v1/services/{code}/order": {"post"},
    "/api/v1/services/orders/mine": {"get"},
    "/api/v1/services/orders": {"get"},
    "/api/v1/services/orders/pool": {"get"},
    "/api/v1/services/orders/{code}": {"get"},
    "/api/v1/services/orders/{code}/cancel": {"post"},
    "/api/v1/services/orders/{code}/confirm": {"post"},
    "/api/v1/services/orders/{code}/dispatch": {"post"},
    "/api/v1/services/orders/{code}/claim": {"post"},
    "/api/v1/services/orders/{code}/accept": {"post"},
    "/api/v1/services/orders/{code}/decline": {"post"},
    "/api/v1/services/orders/{code}/assign": {"post"},
    "/api/v1/services/orders/{code}/check-in": {"post"},
    "/api/v1/services/orders/{code}/deliver": {"post"},
    "/api/v1/services/orders/{code}/award": {"post"},
}
PUBLIC = {
    ("/api/v1/places", "get"),
    ("/api/v1/organisations", "get"),
    ("/api/v1/tasks", "get"),
    ("/api/v1/tasks/{code}", "get"),
    ("/api/v1/points/leaderboards/{level}/{code}", "get"),
    ("/api/v1/rewards/items", "get"),
    ("/api/v1/certificates/{number}/verify", "get"),
    ("/api/v1/services/categories", "get"),
    ("/api/v1/services", "get"),
    ("/api/v1/services/{code}", "get"),
}
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


@pytest.fixture
def schema(client, db):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    return json.loads(response.content)


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_schema_lists_every_endpoint(schema):
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["version"] == "1"
    paths = {path: set(ops) & HTTP_METHODS for path, ops in schema["paths"].items()}
    assert paths == EXPECTED


def test_every_reference_resolves(schema):
    refs = set(_refs(schema))
    assert refs, "the document should use component schemas"
    for ref in refs:
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.rsplit("/", 1)[1] in schema["components"]["schemas"], ref


def test_operations_are_complete_and_uniquely_named(schema):
    operation_ids = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            operation_ids.append(operation["operationId"])
            assert operation["responses"], (path, method)
            assert "200" in operation["responses"] or "201" in operation["responses"], (path, method)
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    ref = response["content"]["application/json"]["schema"]["$ref"]
                    assert ref == "#/components/schemas/ErrorOut", (path, method, status)
    assert len(operation_ids) == len(set(operation_ids))


def test_security_is_declared_where_sign_in_is_needed(schema):
    schemes = schema["components"]["securitySchemes"]
    assert schemes["AppTokenAuth"] == {"type": "apiKey", "in": "header", "name": "X-Session-Token"}
    assert schemes["BrowserSessionAuth"] == {"type": "apiKey", "in": "cookie", "name": "sessionid"}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if (path, method) in PUBLIC:
                assert not operation.get("security"), (path, method)
            else:
                names = {name for requirement in operation["security"] for name in requirement}
                assert names == {"AppTokenAuth", "BrowserSessionAuth"}, (path, method)
                assert "401" in operation["responses"], (path, method)


def test_error_shape_is_documented(schema):
    components = schema["components"]["schemas"]
    assert components["ErrorOut"]["required"] == ["error"]
    assert set(components["ErrorDetail"]["required"]) == {"code", "message"}


def test_interactive_docs_use_local_assets(client, db):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
