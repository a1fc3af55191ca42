"""Reports for browsers: ``/reports/{run}?exp=…&sig=…`` opens a run's HTML report (and its
artifacts) without an API token, for links posted in Slack. The signature covers the run id
and the expiry; see `modelgate.links`."""

from __future__ import annotations

from pathlib import Path as FsPath
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import FileResponse, HTMLResponse

from api.deps import EngineDep, SettingsDep
from api.routes.runs import RunId, artifact_path
from modelgate import links
from modelgate.db import session_scope
from modelgate.errors import NotFound, Unauthenticated
from modelgate.runs import service
from modelgate.runs.report import render_report

router = APIRouter(tags=["reports"], include_in_schema=False)

Expiry = Annotated[int, Query(ge=0, le=2**40, description="unix time the link expires")]
Signature = Annotated[str, Query(pattern=r"^[0-9a-f]{64}$", description="HMAC-SHA256")]


def _check(settings: SettingsDep, run_id: str, exp: int, sig: str) -> None:
    if not links.verify(settings, run_id, exp, sig):
        raise Unauthenticated("this report link is invalid or has expired; ask for a new one")


@router.get("/reports/{run_id}", response_class=HTMLResponse)
def signed_report(
    run_id: RunId, exp: Expiry, sig: Signature, engine: EngineDep, settings: SettingsDep
) -> HTMLResponse:
    _check(settings, run_id, exp, sig)
    with session_scope(engine) as s:
        out = service.run_out(s, service.get_run(s, run_id))
    query = links.report_query_for(exp, sig)
    html = render_report(
        out, settings.artifacts_dir / run_id, link_prefix=f"{run_id}/artifacts/", link_suffix=query
    )
    return HTMLResponse(html)


@router.get("/reports/{run_id}/artifacts/{check}/{filename}")
def signed_artifact(
    run_id: RunId,
    check: Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_.-]{0,62}$")],
    filename: Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")],
    exp: Expiry,
    sig: Signature,
    settings: SettingsDep,
) -> FileResponse:
    _check(settings, run_id, exp, sig)
    path = artifact_path(settings, run_id, check, filename)
    if path is None:
        raise NotFound(f"run {run_id} has no artifact {check}/{filename}")
    return FileResponse(FsPath(path))
