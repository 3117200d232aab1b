"""The services endpoints in /api/v1/openapi.json: each with its response and error schemas."""

import json

import pytest

WRITE_ERRORS = {"400", "401", "403", "404", "409", "415", "422"}
SERVICE_ENDPOINTS = {
    ("/api/v1/services/categories", "get"): {"200"},
    ("/api/v1/services", "get"): {"200", "400", "401", "422"},
    ("/api/v1/services/{code}", "get"): {"200", "404"},
    ("/api/v1/services/{code}/order", "post"): {"201"} | WRITE_ERRORS,
    ("/api/v1/services/orders/mine", "get"): {"200", "401", "422"},
    ("/api/v1/services/orders", "get"): {"200", "401", "422"},
    ("/api/v1/services/orders/pool", "get"): {"200", "401", "422"},
    ("/api/v1/services/orders/{code}", "get"): {"200", "401", "404"},
    ("/api/v1/services/orders/{code}/cancel", "post"): {"200"} | WRITE_ERRORS,
    ("/api/v1/services/orders/{code}/confirm", "post"): {"200"} | WRITE_ERRORS,
    ("/api/v1/services/orders/{code}/dispatch", "post"): {"200"} | WRITE_ERRORS,
    ("/api/v1/services/orders/{code}/claim", "post"): {"200"} | WRITE_ERRORS,
    ("/api/v1/services/orders/{code}/accept", "post"): {"200", "401", "403", "404", "409"},
    ("/api/v1/services/orders/{code}/decline", "post"): {"200"} | WRITE_ERRORS,
    ("/api/v1/services/orders/{code}/assign", "post"): {"200"} | WRITE_ERRORS,
    ("/api/v1/services/orders/{code}/check-in", "post"): {"200"} | WRITE_ERRORS,
    ("/api/v1/services/orders/{code}/deliver", "post"): {"200"} | WRITE_ERRORS,
    ("/api/v1/services/orders/{code}/award", "post"): {"200"} | WRITE_ERRORS,
}
PUBLIC = {
    ("/api/v1/services/categories", "get"),
    ("/api/v1/services", "get"),
    ("/api/v1/services/{code}", "get"),
}


@pytest.fixture
def schema(client, db):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return json.loads(response.content)


def _resolve(schema, node):
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _body(schema, path, method="post"):
    operation = schema["paths"][path][method]
    node = operation["requestBody"]["content"]["application/json"]["schema"]
    # An optional body is documented as "that object or null".
    node = next((n for n in node.get("anyOf", []) if n.get("type") != "null"), node)
    return _resolve(schema, node)


def test_every_services_endpoint_is_documented_with_its_errors(schema):
    documented = {
        (path, method)
        for path, operations in schema["paths"].items()
        if path.startswith("/api/v1/services")
        for method in operations
    }
    assert documented == set(SERVICE_ENDPOINTS)
    for (path, method), statuses in SERVICE_ENDPOINTS.items():
        operation = schema["paths"][path][method]
        assert set(operation["responses"]) == statuses, (path, method)
        assert operation["tags"] == ["services"]
        assert operation.get("summary") and operation.get("description"), (path, method)
        for status, response in operation["responses"].items():
            ref = response["content"]["application/json"]["schema"]
            if int(status) >= 400:
                assert ref == {"$ref": "#/components/schemas/ErrorOut"}, (path, method, status)
            else:
                assert _resolve(schema, ref).get("properties") or ref.get("type") == "array", (path, method)
        secured = bool(operation.get("security"))
        assert secured == ((path, method) not in PUBLIC), (path, method)


def test_refusal_codes_are_listed_where_a_client_reads_them(schema):
    paths = schema["paths"]
    order = paths["/api/v1/services/{code}/order"]["post"]["description"]
    for code in ("session_full", "session_not_bookable", "outside_area", "not_eligible", "already_booked"):
        assert code in order
    confirm = paths["/api/v1/services/orders/{code}/confirm"]["post"]["description"]
    for code in ("not_delivered", "already_rated", "invalid_card", "wrong_code"):
        assert code in confirm
    assert "taken_by_another" in paths["/api/v1/services/orders/{code}/accept"]["post"]["description"]


def test_bodies_and_filters_are_described(schema):
    order = _body(schema, "/api/v1/services/{code}/order")
    assert set(order["properties"]) == {"session", "note", "resident"}
    assert not order.get("required")
    confirm = _body(schema, "/api/v1/services/orders/{code}/confirm")
    assert confirm["required"] == ["rating"]
    assert (confirm["properties"]["rating"]["minimum"], confirm["properties"]["rating"]["maximum"]) == (1, 5)
    assert {"comment", "card", "sms_code"} <= set(confirm["properties"])
    assert _body(schema, "/api/v1/services/orders/{code}/decline")["required"] == ["reason"]
    assert (
        _body(schema, "/api/v1/services/orders/{code}/assign")["properties"]["volunteers"]["maxItems"] == 20
    )

    names = {p["name"] for p in schema["paths"]["/api/v1/services"]["get"]["parameters"]}
    assert {"category", "community", "q", "for_me", "page", "page_size"} <= names
    status = next(
        p for p in schema["paths"]["/api/v1/services/orders"]["get"]["parameters"] if p["name"] == "status"
    )
    assert "cancelled" in json.dumps(status["schema"])
