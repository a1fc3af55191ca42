"""POST a run → 202 at once → a worker process executes it → results and report over HTTP."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from modelgate.db import session_scope
from modelgate.tokens import create_token


@pytest.fixture
def api(run_settings, engine, scorer):  # type: ignore[no-untyped-def]
    with session_scope(engine) as s:
        token, _ = create_token(s, name="ci", scopes=["write"], actor="test")
    with TestClient(create_app(run_settings.model_copy(update={"workers": 1}))) as client:
        client.headers["Authorization"] = f"Bearer {token}"
        yield client


def _wait(client: TestClient, run_id: str, timeout: float = 120) -> dict:  # type: ignore[type-arg]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/runs/{run_id}").json()
        if body["status"] not in ("queued", "running"):
            return body  # type: ignore[no-any-return]
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} did not finish in {timeout}s")


def test_run_over_http(api: TestClient, credit_files) -> None:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    r = api.post(
        "/api/v1/models/scorer/versions/v1/runs",
        json={"current_data_uri": credit_files["current"].as_uri()},
    )
    assert r.status_code == 202 and time.monotonic() - started < 2.0
    run = r.json()
    assert run["status"] == "queued" and r.headers["location"] == f"/api/v1/runs/{run['id']}"
    done = _wait(api, run["id"])
    assert done["status"] in ("passed", "warned")
    assert {c["check"] for c in done["results"]} == {"quality", "kpi", "fairness", "drift"}
    listed = api.get("/api/v1/models/scorer/runs").json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == run["id"]
    html = api.get(f"/api/v1/runs/{run['id']}/report")
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "scorer" in html.text and "<img" in html.text  # the drift chart, embedded


def test_run_errors(api: TestClient) -> None:
    assert api.post("/api/v1/models/ghost/versions/v1/runs", json={}).status_code == 404
    assert api.post("/api/v1/models/scorer/versions/v9/runs", json={}).status_code == 404
    r = api.post(
        "/api/v1/models/scorer/versions/v1/runs",
        json={"policy_yaml": "name: x\nchecks:\n  - type: nope\n"},
    )
    assert r.status_code == 422 and "<request>:3" in r.json()["detail"][0]["msg"]
    assert api.get("/api/v1/runs/" + "0" * 32).status_code == 404
    assert api.get("/api/v1/runs/not-a-run-id").status_code == 422
    r = api.get("/api/v1/runs/" + "0" * 32 + "/artifacts/drift/..%2F..%2Fsecret")
    assert r.status_code in (404, 422)
