from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from modelgate.db import session_scope
from modelgate.tokens import create_token


@pytest.fixture
def tokens(engine) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """One token per scope (plus a revoked one), by name."""
    out: dict[str, str] = {}
    with session_scope(engine) as s:
        for name, scopes in (
            ("reader", ["read"]),
            ("writer", ["write"]),
            ("admin", ["admin"]),
            ("old", ["admin"]),
        ):
            out[name], _ = create_token(s, name=name, scopes=scopes, actor="test")
    from modelgate.tokens import revoke_token

    with session_scope(engine) as s:
        revoke_token(s, name="old", actor="test")
    return out


@pytest.fixture
def client(settings, engine) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        yield c


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
