"""Bearer tokens and scopes: 401 without a valid token, 403 without the scope."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from tests.factories import model_spec

MODEL = model_spec().model_dump(mode="json")


def _h(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer nope"},
        {"Authorization": "Bearer mg_" + "x" * 43},
        {"Authorization": "Basic dXNlcjpwYXNz"},
    ],
)
def test_missing_or_wrong_token_is_401(client: TestClient, tokens, headers) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/api/v1/models", headers=headers)
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"


def test_revoked_token_is_401(client: TestClient, tokens) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/api/v1/models", headers=_h(tokens["old"]))
    assert r.status_code == 401 and "revoked" in r.json()["detail"]


def test_scopes(client: TestClient, tokens) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/api/v1/models", headers=_h(tokens["reader"])).status_code == 200
    r = client.post("/api/v1/models", json=MODEL, headers=_h(tokens["reader"]))
    assert r.status_code == 403 and "`write` scope" in r.json()["detail"]
    assert (
        client.post("/api/v1/models", json=MODEL, headers=_h(tokens["writer"])).status_code == 201
    )
    client.post(
        "/api/v1/models/credit-risk/versions", json={"version": "v1"}, headers=_h(tokens["writer"])
    )
    body = {"version": "v1", "reason": "hotfix"}
    r = client.put(
        "/api/v1/models/credit-risk/stages/production", json=body, headers=_h(tokens["writer"])
    )
    assert r.status_code == 403 and "admin" in r.json()["detail"]
    r = client.put(
        "/api/v1/models/credit-risk/stages/production", json=body, headers=_h(tokens["admin"])
    )
    assert r.status_code == 200


def test_actor_is_the_token_name(client: TestClient, tokens) -> None:  # type: ignore[no-untyped-def]
    client.post("/api/v1/models", json=MODEL, headers=_h(tokens["writer"]))
    entry = client.get(
        "/api/v1/audit", params={"action": "model.create"}, headers=_h(tokens["reader"])
    ).json()["items"][0]
    assert entry["actor"] == "token:writer"


def test_anonymous_read_when_allowed(settings, engine) -> None:  # type: ignore[no-untyped-def]
    open_settings = settings.model_copy(update={"allow_anonymous_read": True})
    with TestClient(create_app(open_settings)) as c:
        assert c.get("/api/v1/models").status_code == 200
        assert c.get("/api/v1/audit/verify").status_code == 200
        assert c.post("/api/v1/models", json=MODEL).status_code == 401
