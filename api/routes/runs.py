"""Check runs: start one (202), read it, list a model's runs, read its HTML report."""

from __future__ import annotations

from pathlib import Path as FsPath
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse

from api.deps import EngineDep, Limit, ModelName, Offset, Reader, SettingsDep, VersionPath, Writer
from api.errors import HTML_ROUTE_ERRORS
from modelgate.config import Settings
from modelgate.db import session_scope
from modelgate.errors import NotFound
from modelgate.policy import effective_for
from modelgate.registry.schemas import Page
from modelgate.runs import service
from modelgate.runs.report import render_report
from modelgate.runs.schemas import RunOut, RunRequest

router = APIRouter(tags=["runs"])

RunId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="run id")]


@router.post(
    "/api/v1/models/{name}/versions/{version}/runs",
    status_code=202,
    response_model=RunOut,
    summary="Check a version against its effective policy",
)
def start_run(
    name: ModelName,
    version: VersionPath,
    body: RunRequest,
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    who: Writer,
) -> JSONResponse:
    """Queues the run and returns at once (202) with its id; checks run in worker processes.
    Poll `GET /api/v1/runs/{id}` or read the report when `status` is final."""
    with session_scope(engine) as s:
        policy = effective_for(s, settings, model_name=name, override_yaml=body.policy_yaml)
        run = service.create_run(
            s,
            model_name=name,
            version=version,
            policy=policy,
            requested_by=who.actor,
            trigger="api",
            current_data_uri=body.current_data_uri,
        )
        out = service.run_out(s, run, with_results=False)
    request.app.state.runs.submit(out.id)
    return JSONResponse(
        out.model_dump(mode="json"), status_code=202, headers={"Location": f"/api/v1/runs/{out.id}"}
    )


@router.get("/api/v1/runs/{run_id}", response_model=RunOut, summary="A run and its results")
def get_run(run_id: RunId, engine: EngineDep, _who: Reader) -> RunOut:
    with session_scope(engine) as s:
        return service.run_out(s, service.get_run(s, run_id))


@router.get(
    "/api/v1/models/{name}/runs",
    response_model=Page[RunOut],
    summary="A model's runs, newest first",
)
def list_runs(
    name: ModelName,
    engine: EngineDep,
    _who: Reader,
    version: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[RunOut]:
    with session_scope(engine) as s:
        rows, total = service.list_runs(
            s, model_name=name, version=version, limit=limit, offset=offset
        )
        items = [service.run_out(s, r, with_results=False) for r in rows]
    return Page(items=items, total=total, limit=limit, offset=offset)


@router.get(
    "/api/v1/runs/{run_id}/report",
    response_class=HTMLResponse,
    summary="The run's self-contained HTML report",
    responses=HTML_ROUTE_ERRORS,
)
def report(run_id: RunId, engine: EngineDep, settings: SettingsDep, _who: Reader) -> HTMLResponse:
    with session_scope(engine) as s:
        out = service.run_out(s, service.get_run(s, run_id))
    html = render_report(out, settings.artifacts_dir / run_id, link_prefix="artifacts/")
    return HTMLResponse(html)


@router.get(
    "/api/v1/runs/{run_id}/artifacts/{check}/{filename}",
    summary="A file a check produced (e.g. the Evidently drift report)",
)
def artifact(
    run_id: RunId,
    check: Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_.-]{0,62}$")],
    filename: Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")],
    settings: SettingsDep,
    _who: Reader,
) -> FileResponse:
    path = artifact_path(settings, run_id, check, filename)
    if path is None:
        raise NotFound(f"run {run_id} has no artifact {check}/{filename}")
    return FileResponse(path)


def artifact_path(settings: Settings, run_id: str, check: str, filename: str) -> FsPath | None:
    """The artifact file, if it exists inside the run's directory."""
    root = (settings.artifacts_dir / run_id).resolve()
    path = (root / check / filename).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path
