"""/api/v1/audit: list and filter, verify the chain, export as JSON Lines."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from api.deps import EngineDep, Limit, Offset, Reader
from modelgate.audit.service import (
    AuditFilter,
    VerifyResult,
    event_dict,
    export_lines,
    list_events,
    verify,
)
from modelgate.db import session_scope
from modelgate.validation import Text, UTCDatetime

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


class AuditEntry(BaseModel):
    seq: int
    created_at: str
    actor: str
    action: str
    subject: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str


class AuditPage(BaseModel):
    items: list[AuditEntry]
    total: int
    limit: int
    offset: int


@router.get("", response_model=AuditPage, summary="List audit entries, newest first")
def list_audit(
    engine: EngineDep,
    _who: Reader,
    limit: Limit = 100,
    offset: Offset = 0,
    actor: Annotated[Text(200) | None, Query()] = None,
    action: Annotated[Text(100) | None, Query()] = None,
    subject: Annotated[
        Text(500) | None, Query(description="exact, or a prefix ending in *")
    ] = None,
    since: Annotated[UTCDatetime | None, Query()] = None,
    until: Annotated[UTCDatetime | None, Query()] = None,
) -> AuditPage:
    f = AuditFilter(actor=actor, action=action, subject=subject, since=since, until=until)
    with session_scope(engine) as s:
        rows, total = list_events(s, f, limit=limit, offset=offset)
        items = [AuditEntry(**event_dict(e)) for e in rows]
    return AuditPage(items=items, total=total, limit=limit, offset=offset)


@router.get("/verify", response_model=VerifyResult, summary="Verify the hash chain")
def verify_audit(engine: EngineDep, _who: Reader) -> VerifyResult:
    """`ok: false` names the first broken entry (edited, removed or inserted)."""
    with session_scope(engine) as s:
        return verify(s)


@router.get(
    "/export",
    summary="Export entries as JSON Lines, oldest first",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-ndjson": {}}}},
)
def export_audit(
    engine: EngineDep,
    _who: Reader,
    actor: Annotated[Text(200) | None, Query()] = None,
    action: Annotated[Text(100) | None, Query()] = None,
    subject: Annotated[
        Text(500) | None, Query(description="exact, or a prefix ending in *")
    ] = None,
    since: Annotated[UTCDatetime | None, Query()] = None,
    until: Annotated[UTCDatetime | None, Query()] = None,
) -> StreamingResponse:
    f = AuditFilter(actor=actor, action=action, subject=subject, since=since, until=until)

    def lines() -> Iterator[str]:
        with session_scope(engine) as s:
            yield from export_lines(s, f)

    return StreamingResponse(
        lines(),
        media_type="application/x-ndjson",
        headers={"Content-Disposition": 'attachment; filename="modelgate-audit.jsonl"'},
    )
