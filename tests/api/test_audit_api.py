from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.factories import model_spec


def test_verify_export_and_tamper(client: TestClient, tokens, engine) -> None:  # type: ignore[no-untyped-def]
    h = {"Authorization": f"Bearer {tokens['writer']}"}
    for i in range(3):
        client.post("/api/v1/models", json=model_spec(f"m{i}").model_dump(mode="json"), headers=h)
    assert client.get("/api/v1/audit/verify", headers=h).json()["ok"] is True
    r = client.get("/api/v1/audit/export", params={"action": "model.create"}, headers=h)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in r.text.splitlines()]
    assert [e["subject"] for e in lines] == ["model/m0", "model/m1", "model/m2"]
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("DROP TRIGGER audit_event_no_update")
        else:
            conn.exec_driver_sql("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only")
        conn.execute(text("UPDATE audit_event SET actor = 'mallory' WHERE subject = 'model/m1'"))
    result = client.get("/api/v1/audit/verify", headers=h).json()
    assert result["ok"] is False and result["broken_at"] == lines[1]["seq"]


def test_bad_filters_are_422(client: TestClient, tokens) -> None:  # type: ignore[no-untyped-def]
    h = {"Authorization": f"Bearer {tokens['reader']}"}
    assert client.get("/api/v1/audit", params={"since": "yesterday"}, headers=h).status_code == 422
    r = client.get("/api/v1/audit", params={"since": "0001-01-01T00:00:00+01:00"}, headers=h)
    assert r.status_code == 422
    assert client.get("/api/v1/audit", params={"actor": "a\x00"}, headers=h).status_code == 422
