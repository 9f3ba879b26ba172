"""Schemathesis over our own OpenAPI schema, against the live server: no 500, and every response
(refusals included) has a documented status, content type and body shape."""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from codeeval_rl.service.app import ROUTE_SCOPES
from tests.conftest import FULL

pytestmark = pytest.mark.slow


@schemathesis.serializer("application/x-ndjson")
def _ndjson(ctx, value):
    return {"data": value if isinstance(value, bytes) else str(value).encode("utf-8")}


def test_the_schema_documents_every_route(live):
    paths = set(live.app.app.openapi()["paths"])
    assert paths | {"/openapi.json"} == set(ROUTE_SCOPES)


def test_no_server_error_and_no_response_outside_the_schema(live):
    """Every operation, with valid and invalid data drawn by schemathesis from its schema."""
    from hypothesis import given
    from schemathesis.checks import not_a_server_error

    schema = schemathesis.openapi.from_dict(live.app.app.openapi())
    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    failures: dict[str, str] = {}
    operations = 0
    for result in schema.get_all_operations():
        op = result.ok()
        operations += 1

        @given(case=op.as_strategy())
        @settings(max_examples=150 if FULL else 15, deadline=None, suppress_health_check=list(HealthCheck),
                  database=None)
        def exercise(case):
            case.call_and_validate(base_url=live.url, headers=live.headers(), checks=checks)

        try:
            exercise()
        except Exception as exc:  # noqa: BLE001 - collected, reported together below
            failures[op.label] = str(exc)[:3000]
    assert operations >= 13
    assert not failures, "\n\n".join(f"{k}:\n{v}" for k, v in failures.items())
