"""Property-based: no request the OpenAPI spec allows (or nearly allows) makes the API 500.

Runs against SQLite and PostgreSQL, with an admin token so every endpoint is reachable, on a
database that already holds a model with versions and stage history.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.main import create_app
from modelgate.db import session_scope
from modelgate.registry import service
from modelgate.tokens import create_token
from tests.factories import model_spec, version_spec

CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    content_type_conformance,
    status_code_conformance,
]


@pytest.fixture
def api_schema(settings, engine):  # type: ignore[no-untyped-def]
    with session_scope(engine) as s:
        token, _ = create_token(s, name="fuzz", scopes=["admin"], actor="test")
        service.create_model(s, spec=model_spec("credit-risk"), actor="test")
        for v in ("v1", "v2"):
            service.register_version(s, model_name="credit-risk", spec=version_spec(v), actor="t")
        service.set_stage(
            s,
            model_name="credit-risk",
            stage="production",
            version="v1",
            actor="t",
            reason="seed",
            stages=settings.stages,
        )
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(settings))
    schema.config.headers = {"Authorization": f"Bearer {token}"}
    return schema


def test_api_never_answers_500(api_schema) -> None:  # type: ignore[no-untyped-def]
    """Each operation gets its own hypothesis run; all failures are reported together.

    (schemathesis' pytest plugin does not support pytest 9, so its strategies are driven
    with hypothesis directly.)
    """
    failures: list[str] = []
    operations = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(checks=CHECKS)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # collect: one endpoint can't hide another
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert operations >= 15
    assert not failures, "\n\n".join(failures)
