"""Models, versions and stages over HTTP, with the status codes a client relies on."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.factories import model_spec, version_payload

MODEL = model_spec().model_dump(mode="json")


@pytest.fixture
def w(tokens) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"Authorization": f"Bearer {tokens['writer']}"}


@pytest.fixture
def admin(tokens) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"Authorization": f"Bearer {tokens['admin']}"}


def test_model_lifecycle(client: TestClient, w) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/models", json=MODEL, headers=w)
    assert r.status_code == 201
    assert r.json()["name"] == "credit-risk" and r.json()["stages"] == {}
    assert client.post("/api/v1/models", json=MODEL, headers=w).status_code == 409
    r = client.patch("/api/v1/models/credit-risk", json={"team": "lending"}, headers=w)
    assert r.status_code == 200 and r.json()["team"] == "lending"
    assert client.get("/api/v1/models/credit-risk", headers=w).json()["team"] == "lending"
    assert client.get("/api/v1/models/unknown", headers=w).status_code == 404


def test_patch_may_clear_optional_fields_but_not_null_required_ones(client: TestClient, w) -> None:  # type: ignore[no-untyped-def]
    client.post("/api/v1/models", json={**MODEL, "slack_channel": "#risk"}, headers=w)
    for field in ("owner", "team", "description", "risk_tier", "tags"):
        r = client.patch("/api/v1/models/credit-risk", json={field: None}, headers=w)
        assert r.status_code == 422, field
        assert [d["field"] for d in r.json()["detail"]] == [field]
    r = client.patch("/api/v1/models/credit-risk", json={"slack_channel": None}, headers=w)
    assert r.status_code == 200 and r.json()["slack_channel"] is None
    assert client.get("/api/v1/models/credit-risk", headers=w).json()["owner"] == MODEL["owner"]


def test_pagination(client: TestClient, w) -> None:  # type: ignore[no-untyped-def]
    for i in range(5):
        client.post("/api/v1/models", json={**MODEL, "name": f"m{i}"}, headers=w)
    page = client.get("/api/v1/models", params={"limit": 2, "offset": 2}, headers=w).json()
    assert (page["total"], page["limit"], page["offset"]) == (5, 2, 2)
    assert [m["name"] for m in page["items"]] == ["m2", "m3"]
    assert client.get("/api/v1/models", params={"limit": 0}, headers=w).status_code == 422
    assert client.get("/api/v1/models", params={"limit": 501}, headers=w).status_code == 422


def test_versions(client: TestClient, w, admin) -> None:  # type: ignore[no-untyped-def]
    client.post("/api/v1/models", json=MODEL, headers=w)
    r = client.post("/api/v1/models/credit-risk/versions", json=version_payload("v1"), headers=w)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["lineage"]["random_seed"] == 42 and body["model"] == "credit-risk"
    assert (
        client.post(
            "/api/v1/models/credit-risk/versions", json=version_payload("v1"), headers=w
        ).status_code
        == 409
    )
    client.post("/api/v1/models/credit-risk/versions", json=version_payload("v2"), headers=w)
    listed = client.get("/api/v1/models/credit-risk/versions", headers=w).json()
    assert [v["version"] for v in listed["items"]] == ["v2", "v1"]
    r = client.patch(
        "/api/v1/models/credit-risk/versions/v1", json={"description": "first"}, headers=w
    )
    assert r.json()["description"] == "first"
    # lineage is immutable: not an updatable field
    r = client.patch("/api/v1/models/credit-risk/versions/v1", json={"lineage": {}}, headers=w)
    assert r.status_code == 422
    assert client.get("/api/v1/models/credit-risk/versions/v9", headers=w).status_code == 404
    r = client.post(
        "/api/v1/models/credit-risk/versions/v2/archive", json={"reason": "superseded"}, headers=w
    )
    assert r.status_code == 200 and r.json()["status"] == "archived"


def test_archiving_a_stage_holder_needs_admin(client: TestClient, w, admin) -> None:  # type: ignore[no-untyped-def]
    client.post("/api/v1/models", json=MODEL, headers=w)
    client.post("/api/v1/models/credit-risk/versions", json=version_payload("v1"), headers=w)
    client.put(
        "/api/v1/models/credit-risk/stages/production",
        json={"version": "v1", "reason": "go live"},
        headers=admin,
    )
    r = client.post(
        "/api/v1/models/credit-risk/versions/v1/archive", json={"reason": "retire"}, headers=w
    )
    assert r.status_code == 403 and "production" in r.json()["detail"]
    r = client.post(
        "/api/v1/models/credit-risk/versions/v1/archive", json={"reason": "retire"}, headers=admin
    )
    assert r.status_code == 200 and r.json()["stage"] is None


def test_stages_history_and_point_in_time(client: TestClient, w, admin) -> None:  # type: ignore[no-untyped-def]
    client.post("/api/v1/models", json=MODEL, headers=w)
    for v in ("v1", "v2"):
        client.post("/api/v1/models/credit-risk/versions", json=version_payload(v), headers=w)
        r = client.put(
            "/api/v1/models/credit-risk/stages/production",
            json={"version": v, "reason": f"ship {v}"},
            headers=admin,
        )
        assert r.status_code == 200
    stages = client.get("/api/v1/models/credit-risk/stages", headers=w).json()
    prod = next(s for s in stages["stages"] if s["stage"] == "production")
    assert (prod["version"], prod["by"], stages["last_known_good"]) == ("v2", "token:admin", "v1")
    history = client.get("/api/v1/models/credit-risk/stages/history", headers=w).json()
    assert [(h["from_version"], h["to_version"]) for h in history["items"]] == [
        ("v1", "v2"),
        (None, "v1"),
    ]
    first_at = history["items"][1]["at"]
    r = client.get(
        "/api/v1/models/credit-risk/stages/production", params={"at": first_at}, headers=w
    )
    assert r.json()["version"] == "v1"
    r = client.get(
        "/api/v1/models/credit-risk/stages/production",
        params={"at": "2000-01-01T00:00:00Z"},
        headers=w,
    )
    assert r.json()["version"] is None
    r = client.get("/api/v1/models/credit-risk/stages/prod", headers=w)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "stage"
    r = client.put(
        "/api/v1/models/credit-risk/stages/production", json={"version": "v1"}, headers=admin
    )
    assert r.status_code == 422 and "reason" in r.text
    audit = client.get("/api/v1/audit", params={"action": "stage.set"}, headers=w).json()
    assert audit["total"] == 2 and audit["items"][0]["payload"]["reason"] == "ship v2"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({**MODEL, "name": "Bad Name"}, "name"),
        ({**MODEL, "risk_tier": "extreme"}, "risk_tier"),
        ({**MODEL, "owner": "a\u0000b"}, "owner"),
        ({**MODEL, "unexpected": 1}, "unexpected"),
        ({k: v for k, v in MODEL.items() if k != "owner"}, "owner"),
    ],
)
def test_invalid_model_names_the_field(client: TestClient, w, payload, field) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/models", json=payload, headers=w)
    assert r.status_code == 422
    assert field in [str(p) for e in r.json()["detail"] for p in e["loc"]]


def test_malformed_json_and_bad_numbers(client: TestClient, w) -> None:  # type: ignore[no-untyped-def]
    client.post("/api/v1/models", json=MODEL, headers=w)
    r = client.post(
        "/api/v1/models", content=b'{"name": ', headers={**w, "Content-Type": "application/json"}
    )
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "json_invalid"
    raw = b'{"version": "v1", "metrics": {"auc": NaN}}'
    r = client.post(
        "/api/v1/models/credit-risk/versions",
        content=raw,
        headers={**w, "Content-Type": "application/json"},
    )
    assert r.status_code == 422 and "finite" in r.text
    bad_sha = version_payload("v1", artifact_uri="s3://x/model.skops", artifact_sha256="zz")
    r = client.post("/api/v1/models/credit-risk/versions", json=bad_sha, headers=w)
    assert r.status_code == 422 and "artifact_sha256" in r.text
    lineage = version_payload("v1")["lineage"] | {"random_seed": 2**64}
    r = client.post(
        "/api/v1/models/credit-risk/versions",
        json=version_payload("v1", lineage=lineage),
        headers=w,
    )
    assert r.status_code == 422 and "random_seed" in r.text
    listed = client.get("/api/v1/models/credit-risk/versions", headers=w).json()
    assert listed["total"] == 0  # nothing half-written


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200 and r.json()["migrations"]["up_to_date"] is True


def test_readiness_reports_pending_migrations(settings) -> None:  # type: ignore[no-untyped-def]
    from api.main import create_app

    with TestClient(create_app(settings)) as c:  # database never migrated
        r = c.get("/readyz")
    assert r.status_code == 503 and "modelgate db upgrade" in r.json()["hint"]
