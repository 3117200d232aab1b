"""The grid-task endpoints in /api/v1/openapi.json: each with its response and error schemas."""

import json

import pytest

TASK_ENDPOINTS = {
    ("/api/v1/tasks", "get"): {"200", "422"},
    ("/api/v1/tasks/mine", "get"): {"200", "401"},
    ("/api/v1/tasks/{code}", "get"): {"200", "404"},
    ("/api/v1/tasks/{code}/signup", "post"): {"200", "201", "400", "401", "403", "404", "409", "415", "422"},
    ("/api/v1/tasks/{code}/cancel", "post"): {"200", "400", "401", "403", "404", "409", "415", "422"},
    ("/api/v1/tasks/{code}/confirm", "post"): {"200", "401", "403", "404", "409"},
    ("/api/v1/tasks/{code}/check", "post"): {"200", "400", "401", "403", "404", "409", "415", "422"},
    ("/api/v1/tasks/{code}/scan", "post"): {"200", "400", "401", "403", "404", "409", "415", "422"},
    ("/api/v1/tasks/{code}/offline-scans", "post"): {"200", "400", "401", "403", "404", "413", "415", "422"},
}
PUBLIC = {("/api/v1/tasks", "get"), ("/api/v1/tasks/{code}", "get")}


@pytest.fixture
def schema(client, db):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return json.loads(response.content)


def _resolve(schema, node):
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def test_every_task_endpoint_is_documented_with_its_errors(schema):
    for (path, method), statuses in TASK_ENDPOINTS.items():
        operation = schema["paths"][path][method]
        assert set(operation["responses"]) == statuses, (path, method)
        assert operation["tags"] == ["grid tasks"]
        for status, response in operation["responses"].items():
            ref = response["content"]["application/json"]["schema"]
            if int(status) >= 400:
                assert ref == {"$ref": "#/components/schemas/ErrorOut"}, (path, method, status)
            else:
                assert _resolve(schema, ref).get("properties"), (path, method, status)
        secured = bool(operation.get("security"))
        assert secured == ((path, method) not in PUBLIC), (path, method)


def test_bodies_and_filters_are_described(schema):
    check = schema["paths"]["/api/v1/tasks/{code}/check"]["post"]
    body = _resolve(schema, check["requestBody"]["content"]["application/json"]["schema"])
    assert set(body["required"]) == {"payload", "kind", "nonce"}
    assert {"latitude", "longitude"} <= set(body["properties"])

    batch = schema["paths"]["/api/v1/tasks/{code}/offline-scans"]["post"]
    body = _resolve(schema, batch["requestBody"]["content"]["application/json"]["schema"])
    assert body["properties"]["scans"]["maxItems"] == 1000
    item = _resolve(schema, body["properties"]["scans"]["items"])
    assert set(item["required"]) == {"nonce", "token", "kind", "scanned_at"}

    names = {p["name"] for p in schema["paths"]["/api/v1/tasks"]["get"]["parameters"]}
    assert {"grid", "community", "category", "date", "open", "page", "page_size"} <= names
