"""Registry service on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlmodel import select

from modelgate.audit.models import AuditEvent
from modelgate.db import session_scope
from modelgate.errors import Conflict, InvalidInput, NotFound
from modelgate.registry import service
from modelgate.registry.schemas import ModelUpdate, VersionUpdate
from modelgate.types import utcnow
from tests.factories import model_spec, version_spec

STAGES = ["dev", "staging", "canary", "production"]


@pytest.fixture
def credit(engine):  # type: ignore[no-untyped-def]
    with session_scope(engine) as s:
        service.create_model(s, spec=model_spec(), actor="ana")
        for v in ("v1", "v2", "v3"):
            service.register_version(s, model_name="credit-risk", spec=version_spec(v), actor="ana")
    return engine


def _set(engine, version: str | None, stage: str = "production", actor: str = "ana") -> None:  # type: ignore[no-untyped-def]
    with session_scope(engine) as s:
        service.set_stage(
            s,
            model_name="credit-risk",
            stage=stage,
            version=version,
            actor=actor,
            reason="test",
            stages=STAGES,
        )


def _actions(engine) -> list[str]:  # type: ignore[no-untyped-def]
    with session_scope(engine) as s:
        return [e.action for e in s.exec(select(AuditEvent).order_by(AuditEvent.seq)).all()]


def test_model_round_trip_and_duplicate(engine) -> None:  # type: ignore[no-untyped-def]
    with session_scope(engine) as s:
        m = service.create_model(s, spec=model_spec(), actor="ana")
        assert m.created_at.tzinfo is not None
    with session_scope(engine) as s:
        out = service.model_out(s, service.get_model(s, name="credit-risk"))
    assert (out.owner, out.risk_tier, out.tags, out.stages) == (
        "ana@example.com",
        "high",
        ["credit"],
        {},
    )
    assert out.created_at.utcoffset() == timedelta(0)
    with pytest.raises(Conflict, match="already exists"), session_scope(engine) as s:
        service.create_model(s, spec=model_spec(), actor="bob")
    assert _actions(engine) == ["model.create"]


def test_version_lineage_is_stored_whole(credit) -> None:  # type: ignore[no-untyped-def]
    with session_scope(credit) as s:
        v = service.get_version(s, model_name="credit-risk", version="v2")
        out = service.version_out(service.get_model(s, name="credit-risk"), v)
    assert out.lineage.code_commit == "0123456789abcdef0123456789abcdef01234567"
    assert out.lineage.hyperparameters == {"n_estimators": 200, "max_depth": 8, "criterion": "gini"}
    assert out.lineage.random_seed == 42
    assert out.lineage.training_data_sha256 == "b" * 64
    assert out.data_schema["sensitive_features"] == ["sex"]
    assert out.metrics == {"accuracy": 0.74, "roc_auc": 0.79}
    assert out.status == "active" and out.stage is None


def test_duplicate_version_conflicts_and_writes_nothing(credit) -> None:  # type: ignore[no-untyped-def]
    before = _actions(credit)
    with pytest.raises(Conflict, match="already has version 'v1'"), session_scope(credit) as s:
        service.register_version(s, model_name="credit-risk", spec=version_spec("v1"), actor="x")
    assert _actions(credit) == before


def test_unknown_model_and_version(engine) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotFound, match="no model named 'nope'"), session_scope(engine) as s:
        service.register_version(s, model_name="nope", spec=version_spec(), actor="x")
    with session_scope(engine) as s:
        service.create_model(s, spec=model_spec(), actor="ana")
    with pytest.raises(NotFound, match="no version 'v9'"), session_scope(engine) as s:
        service.get_version(s, model_name="credit-risk", version="v9")


def test_sklearn_flavor_requires_an_artifact(engine) -> None:  # type: ignore[no-untyped-def]
    with session_scope(engine) as s:
        service.create_model(s, spec=model_spec(flavor="sklearn"), actor="ana")
    with pytest.raises(InvalidInput, match="artifact_uri"), session_scope(engine) as s:
        service.register_version(s, model_name="credit-risk", spec=version_spec(), actor="x")


def test_update_metadata_is_audited_with_a_diff(credit) -> None:  # type: ignore[no-untyped-def]
    with session_scope(credit) as s:
        service.update_model(
            s,
            name="credit-risk",
            actor="lead",
            patch=ModelUpdate(risk_tier="medium", description="new"),
        )
        service.update_version(
            s,
            model_name="credit-risk",
            version="v1",
            actor="lead",
            patch=VersionUpdate(tags=["approved"]),
        )
        service.update_model(
            s, name="credit-risk", actor="lead", patch=ModelUpdate(risk_tier="medium")
        )
    with session_scope(credit) as s:
        events = s.exec(
            select(AuditEvent).where(AuditEvent.action.in_(["model.update", "version.update"]))
        ).all()  # type: ignore[attr-defined]
        assert [e.payload["changes"] for e in events] == [
            {
                "description": {"from": "", "to": "new"},
                "risk_tier": {"from": "high", "to": "medium"},
            },
            {"tags": {"from": [], "to": ["approved"]}},
        ]  # the no-op third update wrote nothing


def test_stages_hold_one_version_and_keep_history(credit) -> None:  # type: ignore[no-untyped-def]
    _set(credit, "v1")
    _set(credit, "v2", stage="staging")
    _set(credit, "v2")  # promote: leaves staging, displaces v1
    with session_scope(credit) as s:
        view = service.stages_view(s, model_name="credit-risk", stages=STAGES)
        holders = {h.stage: h.version for h in view.stages}
        assert holders == {"dev": None, "staging": None, "canary": None, "production": "v2"}
        assert view.last_known_good == "v1"
        history, total = service.stage_history(s, model_name="credit-risk")
    assert total == 4
    assert [(h.stage, h.from_version, h.to_version) for h in history] == [
        ("production", "v1", "v2"),
        ("staging", "v2", None),
        ("staging", None, "v2"),
        ("production", None, "v1"),
    ]
    assert _actions(credit).count("stage.set") == 3


def test_setting_the_same_holder_is_a_no_op(credit) -> None:  # type: ignore[no-untyped-def]
    _set(credit, "v1")
    before = _actions(credit)
    _set(credit, "v1")
    assert _actions(credit) == before


def test_version_in_production_at_a_time(credit) -> None:  # type: ignore[no-untyped-def]
    t0 = utcnow()
    _set(credit, "v1")
    time.sleep(0.01)
    t1 = utcnow()
    _set(credit, "v2")
    time.sleep(0.01)
    t2 = utcnow()
    _set(credit, None)
    with session_scope(credit) as s:

        def at(t):
            return service.version_in_stage_at(
                s, model_name="credit-risk", stage="production", at=t
            )

        assert (at(t0), at(t1), at(t2), at(utcnow())) == (None, "v1", "v2", None)


def test_last_known_good_skips_archived(credit) -> None:  # type: ignore[no-untyped-def]
    for v in ("v1", "v2", "v3"):
        _set(credit, v)
    with session_scope(credit) as s:
        assert service.last_known_good(s, model_name="credit-risk") == "v2"
        service.archive_version(
            s, model_name="credit-risk", version="v2", actor="ana", reason="bad"
        )
        assert service.last_known_good(s, model_name="credit-risk") == "v1"


def test_archiving_a_stage_holder_empties_the_stage(credit) -> None:  # type: ignore[no-untyped-def]
    _set(credit, "v1")
    with session_scope(credit) as s:
        v = service.archive_version(
            s, model_name="credit-risk", version="v1", actor="ana", reason="retired"
        )
        assert (v.status, v.stage) == ("archived", None)
        assert service.model_out(s, service.get_model(s, name="credit-risk")).stages == {}
    with pytest.raises(Conflict, match="archived"), session_scope(credit) as s:
        service.set_stage(
            s,
            model_name="credit-risk",
            stage="production",
            version="v1",
            actor="ana",
            reason="back",
            stages=STAGES,
        )
    with session_scope(credit) as s:
        rows, total = service.list_versions(s, model_name="credit-risk", include_archived=False)
        assert total == 2 and {r.version for r in rows} == {"v2", "v3"}


def test_archive_model_archives_everything(credit) -> None:  # type: ignore[no-untyped-def]
    _set(credit, "v1")
    with session_scope(credit) as s:
        service.archive_model(s, name="credit-risk", actor="ana", reason="sunset")
    with session_scope(credit) as s:
        _, total = service.list_models(s)
        assert total == 0
        _rows, total = service.list_models(s, include_archived=True)
        assert total == 1
        versions, _ = service.list_versions(s, model_name="credit-risk")
        assert {v.status for v in versions} == {"archived"}
    with pytest.raises(Conflict, match="archived"), session_scope(credit) as s:
        service.register_version(s, model_name="credit-risk", spec=version_spec("v4"), actor="x")


def test_unknown_stage_is_refused(credit) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput, match="stages are dev, staging"), session_scope(credit) as s:
        service.set_stage(
            s,
            model_name="credit-risk",
            stage="prod",
            version="v1",
            actor="a",
            reason="x",
            stages=STAGES,
        )


def test_list_models_paginates_and_filters(engine) -> None:  # type: ignore[no-untyped-def]
    with session_scope(engine) as s:
        for i in range(7):
            service.create_model(
                s, spec=model_spec(f"m{i}", risk_tier="low" if i % 2 else "high"), actor="a"
            )
    with session_scope(engine) as s:
        page, total = service.list_models(s, limit=3, offset=3)
        assert total == 7 and [m.name for m in page] == ["m3", "m4", "m5"]
        low, total = service.list_models(s, risk_tier="low")
        assert total == 3 and all(m.risk_tier == "low" for m in low)
