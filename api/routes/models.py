"""/api/v1/models: create, list, get, update metadata, archive."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import Admin, EngineDep, Limit, ModelName, Offset, Reader, Writer
from modelgate.db import session_scope
from modelgate.registry import service
from modelgate.registry.schemas import (
    ArchiveRequest,
    ModelCreate,
    ModelOut,
    ModelUpdate,
    Page,
    RiskTier,
)
from modelgate.validation import Text

router = APIRouter(prefix="/api/v1/models", tags=["models"])


@router.post("", status_code=201, response_model=ModelOut, summary="Register a model")
def create_model(spec: ModelCreate, engine: EngineDep, who: Writer) -> ModelOut:
    with session_scope(engine) as s:
        return service.model_out(s, service.create_model(s, spec=spec, actor=who.actor))


@router.get("", response_model=Page[ModelOut], summary="List models")
def list_models(
    engine: EngineDep,
    _who: Reader,
    limit: Limit = 50,
    offset: Offset = 0,
    risk_tier: RiskTier | None = None,
    team: Annotated[Text(200) | None, Query()] = None,
    include_archived: bool = False,
) -> Page[ModelOut]:
    with session_scope(engine) as s:
        rows, total = service.list_models(
            s,
            limit=limit,
            offset=offset,
            risk_tier=risk_tier,
            team=team,
            include_archived=include_archived,
        )
        items = [service.model_out(s, m) for m in rows]
    return Page(items=items, total=total, limit=limit, offset=offset)


@router.get("/{name}", response_model=ModelOut, summary="Get a model")
def get_model(name: ModelName, engine: EngineDep, _who: Reader) -> ModelOut:
    with session_scope(engine) as s:
        return service.model_out(s, service.get_model(s, name=name))


@router.patch("/{name}", response_model=ModelOut, summary="Update a model's metadata")
def update_model(name: ModelName, patch: ModelUpdate, engine: EngineDep, who: Writer) -> ModelOut:
    with session_scope(engine) as s:
        model = service.update_model(s, name=name, patch=patch, actor=who.actor)
        return service.model_out(s, model)


@router.post("/{name}/archive", response_model=ModelOut, summary="Archive a model (admin)")
def archive_model(name: ModelName, body: ArchiveRequest, engine: EngineDep, who: Admin) -> ModelOut:
    """Archives the model and every version; stages are emptied. Nothing is deleted."""
    with session_scope(engine) as s:
        model = service.archive_model(s, name=name, actor=who.actor, reason=body.reason)
        return service.model_out(s, model)
