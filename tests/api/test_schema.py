"""The OpenAPI document: valid OpenAPI 3.1, served at its stable URL, and equal to the copy in
docs/api/openapi.json, so an operation cannot change without the documented schema following
(`make api-schema` writes it again)."""

from __future__ import annotations

import json

from openapi_spec_validator import validate

from api.schema import SNAPSHOT, schema_text


def test_the_schema_is_valid_openapi_3_1(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_the_checked_in_schema_is_the_generated_one():
    assert SNAPSHOT.read_text(encoding="utf-8") == schema_text(), (
        "docs/api/openapi.json differs from what the code generates: run `make api-schema` "
        "and commit the file."
    )


def test_the_served_schema_is_the_snapshot(client):
    assert client.get("/api/v1/openapi.json").json() == json.loads(schema_text())


def test_every_operation_documents_its_errors_in_the_one_shape():
    document = json.loads(schema_text())
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status in ("401", "403", "404", "422", "429"):
                answer = operation["responses"][status]["content"]["application/json"]
                assert answer["schema"] == {"$ref": "#/components/schemas/Error"}, (
                    method,
                    path,
                    status,
                )


def test_the_reference_page_loads_nothing_from_elsewhere(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower() and "https://" not in html


def test_every_operation_shows_a_curl_example_of_itself(client):
    """On the reference page (the description) and as x-codeSamples; each one calls its own
    operation: its method, and a URL that resolves to its view."""
    from django.urls import resolve

    document = client.get("/api/v1/openapi.json").json()
    placeholders = {"$PROJECT": "0" * 32, "$GENERATION": "1" * 32, "$IMAGE": "2" * 32}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            (sample,) = operation["x-codeSamples"]
            assert f"```sh\n{sample['source']}\n```" in operation["description"]
            source = sample["source"]
            assert ("-X " not in source) if method == "get" else f"-X {method.upper()}" in source
            url = source.rsplit('"$DARKROOM_URL', 1)[1].split('"')[0].split("?")[0]
            for name, value in placeholders.items():
                url = url.replace(name, value)
            view = resolve(url).func
            expected = resolve(path.replace("{uuid}", "0" * 32).replace("{size}", "512")).func
            assert view == expected, (method, path, url)
