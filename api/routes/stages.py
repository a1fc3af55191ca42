"""/api/v1/models/{name}/stages: who holds each stage, the history, and the admin escape hatch."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from api.deps import Admin, EngineDep, Limit, ModelName, Offset, Reader, SettingsDep
from modelgate.db import session_scope
from modelgate.registry import service
from modelgate.registry.schemas import Page, StageChange, StagesOut, TransitionOut
from modelgate.types import utcnow
from modelgate.validation import UTCDatetime

router = APIRouter(prefix="/api/v1/models/{name}/stages", tags=["stages"])

StageName = Annotated[str, Path(pattern=r"^[a-z0-9_-]{1,32}$", description="stage name")]


class StageAt(BaseModel):
    stage: str
    version: str | None
    at: UTCDatetime


@router.get("", response_model=StagesOut, summary="Which version holds each stage")
def view_stages(
    name: ModelName, engine: EngineDep, settings: SettingsDep, _who: Reader
) -> StagesOut:
    with session_scope(engine) as s:
        return service.stages_view(s, model_name=name, stages=settings.stages)


@router.get("/history", response_model=Page[TransitionOut], summary="Stage history, newest first")
def history(
    name: ModelName,
    engine: EngineDep,
    _who: Reader,
    stage: Annotated[str | None, Query(pattern=r"^[a-z0-9_-]{1,32}$")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[TransitionOut]:
    with session_scope(engine) as s:
        items, total = service.stage_history(
            s, model_name=name, stage=stage, limit=limit, offset=offset
        )
    return Page(items=items, total=total, limit=limit, offset=offset)


@router.get("/{stage}", response_model=StageAt, summary="Which version held a stage at a time")
def stage_at(
    name: ModelName,
    stage: StageName,
    engine: EngineDep,
    settings: SettingsDep,
    _who: Reader,
    at: Annotated[UTCDatetime | None, Query(description="ISO 8601; default now")] = None,
) -> StageAt:
    when = at or utcnow()
    with session_scope(engine) as s:
        service.check_stage(stage, settings.stages)
        version = service.version_in_stage_at(s, model_name=name, stage=stage, at=when)
    return StageAt(stage=stage, version=version, at=when)


@router.put("/{stage}", response_model=StagesOut, summary="Set a stage directly (admin, audited)")
def set_stage(
    name: ModelName,
    stage: StageName,
    body: StageChange,
    engine: EngineDep,
    settings: SettingsDep,
    who: Admin,
) -> StagesOut:
    """The escape hatch: moves a version into a stage without approvals. Needs `admin`; the
    change is recorded in the stage history and the audit log with the reason given."""
    with session_scope(engine) as s:
        service.set_stage(
            s,
            model_name=name,
            stage=stage,
            version=body.version,
            actor=who.actor,
            reason=body.reason,
            stages=settings.stages,
            via="api-admin",
        )
        return service.stages_view(s, model_name=name, stages=settings.stages)
