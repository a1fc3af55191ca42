"""Writing, reading and verifying the audit log.

Each entry's hash is sha256(previous hash + canonical JSON of the entry), where the entry is
its sequence number, UTC timestamp, actor, action, subject and payload. Appends lock the
single `audit_head` row (SELECT ... FOR UPDATE on PostgreSQL; SQLite transactions already
begin IMMEDIATE), so concurrent writers queue instead of forking the chain, and every entry
is written in the same transaction as the change it records.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func
from sqlmodel import Session, col, select

from modelgate.audit.models import GENESIS_HASH, AuditEvent, AuditHead
from modelgate.types import utcnow


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def entry_hash(
    prev_hash: str,
    *,
    seq: int,
    created_at: datetime,
    actor: str,
    action: str,
    subject: str,
    payload: dict[str, Any],
) -> str:
    body = canonical_json(
        {
            "seq": seq,
            "created_at": created_at.isoformat(timespec="microseconds"),
            "actor": actor,
            "action": action,
            "subject": subject,
            "payload": payload,
        }
    )
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def _jsonable(payload: dict[str, Any]) -> dict[str, Any]:
    """Round-trip through JSON so the hash covers exactly what the database stores."""
    return json.loads(canonical_json(payload))


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    subject: str,
    payload: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one entry in the caller's transaction."""
    head = session.exec(select(AuditHead).where(AuditHead.id == 1).with_for_update()).one()
    seq = head.seq + 1
    created_at = utcnow()
    data = _jsonable(payload or {})
    digest = entry_hash(
        head.hash,
        seq=seq,
        created_at=created_at,
        actor=actor,
        action=action,
        subject=subject,
        payload=data,
    )
    event = AuditEvent(
        seq=seq,
        created_at=created_at,
        actor=actor,
        action=action,
        subject=subject,
        payload=data,
        prev_hash=head.hash,
        hash=digest,
    )
    session.add(event)
    head.seq, head.hash = seq, digest
    session.add(head)
    session.flush()
    return event


class VerifyResult(BaseModel):
    ok: bool
    entries: int
    head_seq: int
    broken_at: int | None = None
    reason: str | None = None


def verify(session: Session, *, batch: int = 1000) -> VerifyResult:
    """Walk the chain; report the first entry that was edited, removed or inserted."""
    head = session.get(AuditHead, 1)
    prev_hash, expected_seq, count = GENESIS_HASH, 1, 0
    last_seq = 0
    while True:
        rows = session.exec(
            select(AuditEvent)
            .where(AuditEvent.seq > last_seq)
            .order_by(col(AuditEvent.seq))
            .limit(batch)
        ).all()
        if not rows:
            break
        for ev in rows:
            if ev.seq != expected_seq:
                return VerifyResult(
                    ok=False,
                    entries=count,
                    head_seq=head.seq if head else 0,
                    broken_at=expected_seq,
                    reason=f"entry {expected_seq} is missing (next present is {ev.seq})",
                )
            if ev.prev_hash != prev_hash:
                return VerifyResult(
                    ok=False,
                    entries=count,
                    head_seq=head.seq if head else 0,
                    broken_at=ev.seq,
                    reason=f"entry {ev.seq} does not link to entry {ev.seq - 1}",
                )
            digest = entry_hash(
                prev_hash,
                seq=ev.seq,
                created_at=ev.created_at,
                actor=ev.actor,
                action=ev.action,
                subject=ev.subject,
                payload=ev.payload,
            )
            if digest != ev.hash:
                return VerifyResult(
                    ok=False,
                    entries=count,
                    head_seq=head.seq if head else 0,
                    broken_at=ev.seq,
                    reason=f"entry {ev.seq} was modified (its hash does not match)",
                )
            prev_hash, expected_seq, count, last_seq = ev.hash, ev.seq + 1, count + 1, ev.seq
        session.expunge_all()
    head_seq = head.seq if head else 0
    if head is not None and (head.seq != count or head.hash != prev_hash):
        return VerifyResult(
            ok=False,
            entries=count,
            head_seq=head_seq,
            broken_at=count + 1,
            reason=f"the log ends at entry {count} but {head.seq} were written",
        )
    return VerifyResult(ok=True, entries=count, head_seq=head_seq)


class AuditFilter(BaseModel):
    actor: str | None = None
    action: str | None = None
    subject: str | None = None  # exact, or a prefix ending in '*'
    since: datetime | None = None
    until: datetime | None = None


def _filtered(query: Any, f: AuditFilter) -> Any:
    if f.actor:
        query = query.where(AuditEvent.actor == f.actor)
    if f.action:
        query = query.where(AuditEvent.action == f.action)
    if f.subject:
        if f.subject.endswith("*"):
            query = query.where(col(AuditEvent.subject).startswith(f.subject[:-1], autoescape=True))
        else:
            query = query.where(AuditEvent.subject == f.subject)
    if f.since:
        query = query.where(AuditEvent.created_at >= f.since)
    if f.until:
        query = query.where(AuditEvent.created_at < f.until)
    return query


def list_events(
    session: Session, f: AuditFilter, *, limit: int, offset: int, newest_first: bool = True
) -> tuple[list[AuditEvent], int]:
    total = session.exec(_filtered(select(func.count()).select_from(AuditEvent), f)).one()
    order = col(AuditEvent.seq).desc() if newest_first else col(AuditEvent.seq)
    rows = session.exec(
        _filtered(select(AuditEvent), f).order_by(order).offset(offset).limit(limit)
    ).all()
    return list(rows), int(total)


def export_lines(session: Session, f: AuditFilter, *, batch: int = 1000) -> Iterator[str]:
    """The matching entries, oldest first, one JSON object per line (hashes included)."""
    last = 0
    while True:
        rows = session.exec(
            _filtered(select(AuditEvent), f)
            .where(AuditEvent.seq > last)
            .order_by(col(AuditEvent.seq))
            .limit(batch)
        ).all()
        if not rows:
            return
        for ev in rows:
            yield canonical_json(event_dict(ev)) + "\n"
            last = ev.seq


def event_dict(ev: AuditEvent) -> dict[str, Any]:
    return {
        "seq": ev.seq,
        "created_at": ev.created_at.isoformat(timespec="microseconds"),
        "actor": ev.actor,
        "action": ev.action,
        "subject": ev.subject,
        "payload": ev.payload,
        "prev_hash": ev.prev_hash,
        "hash": ev.hash,
    }
