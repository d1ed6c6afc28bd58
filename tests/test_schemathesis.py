"""Property-based conformance: every operation in /openapi.json, driven by schemathesis.

Fails on any 5xx and on any response (status, content type, body) the
document does not describe.  Runs in-process over WSGI as an administrator, so
that requests get past authorization and reach the validation and the views.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)


@pytest.fixture
def api_schema(plinth_app: Any) -> Any:
    return schemathesis.openapi.from_wsgi("/openapi.json", plinth_app)


@pytest.fixture
def demo_data(plinth_registry: Any, testapp: Any) -> None:
    """The demo locations and items, so that examples (A-1 at WH1) exist."""
    from click.testing import CliRunner

    from plinth.cli import Environment
    from plinth_stock.cli import demo

    env = Environment(plinth_registry, "testing.ini")
    result = CliRunner().invoke(demo, obj=env)
    assert result.exit_code == 0, result.output


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_document(case: Any, admin: dict[str, str], demo_data: None) -> None:
    case.call_and_validate(
        headers=admin,
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )
