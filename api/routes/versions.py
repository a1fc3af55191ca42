"""/api/v1/models/{name}/versions: register, list, get, update metadata, archive."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import EngineDep, Limit, ModelName, Offset, Reader, VersionPath, Writer
from modelgate.db import session_scope
from modelgate.errors import PermissionDenied
from modelgate.registry import service
from modelgate.registry.schemas import (
    ArchiveRequest,
    Page,
    VersionCreate,
    VersionOut,
    VersionUpdate,
)

router = APIRouter(prefix="/api/v1/models/{name}/versions", tags=["versions"])


@router.post("", status_code=201, response_model=VersionOut, summary="Register a version")
def register_version(
    name: ModelName, spec: VersionCreate, engine: EngineDep, who: Writer
) -> VersionOut:
    with session_scope(engine) as s:
        v = service.register_version(s, model_name=name, spec=spec, actor=who.actor)
        return service.version_out(service.get_model(s, name=name), v)


@router.get("", response_model=Page[VersionOut], summary="List versions, newest first")
def list_versions(
    name: ModelName,
    engine: EngineDep,
    _who: Reader,
    limit: Limit = 50,
    offset: Offset = 0,
    include_archived: bool = True,
) -> Page[VersionOut]:
    with session_scope(engine) as s:
        rows, total = service.list_versions(
            s, model_name=name, limit=limit, offset=offset, include_archived=include_archived
        )
        model = service.get_model(s, name=name)
        items = [service.version_out(model, v) for v in rows]
    return Page(items=items, total=total, limit=limit, offset=offset)


@router.get("/{version}", response_model=VersionOut, summary="Get a version with its lineage")
def get_version(
    name: ModelName, version: VersionPath, engine: EngineDep, _who: Reader
) -> VersionOut:
    with session_scope(engine) as s:
        v = service.get_version(s, model_name=name, version=version)
        return service.version_out(service.get_model(s, name=name), v)


@router.patch("/{version}", response_model=VersionOut, summary="Update a version's metadata")
def update_version(
    name: ModelName, version: VersionPath, patch: VersionUpdate, engine: EngineDep, who: Writer
) -> VersionOut:
    """Only description and tags change; lineage, schema and hashes are immutable."""
    with session_scope(engine) as s:
        v = service.update_version(
            s, model_name=name, version=version, patch=patch, actor=who.actor
        )
        return service.version_out(service.get_model(s, name=name), v)


@router.post("/{version}/archive", response_model=VersionOut, summary="Archive a version")
def archive_version(
    name: ModelName, version: VersionPath, body: ArchiveRequest, engine: EngineDep, who: Writer
) -> VersionOut:
    """Versions are never deleted. Archiving one that holds a stage empties that stage,
    which is a stage change and so needs the `admin` scope."""
    with session_scope(engine) as s:
        v = service.get_version(s, model_name=name, version=version)
        if v.stage is not None and not who.allows("admin"):
            raise PermissionDenied(
                f"version {version!r} holds stage {v.stage!r}; archiving it empties the stage, "
                "which needs the `admin` scope"
            )
        v = service.archive_version(
            s, model_name=name, version=version, actor=who.actor, reason=body.reason
        )
        return service.version_out(service.get_model(s, name=name), v)
