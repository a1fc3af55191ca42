"""The audit log: chained, append-only, tamper-evident, exportable — on both databases."""

from __future__ import annotations

import itertools
import json

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from modelgate.audit.service import AuditFilter, export_lines, list_events, record, verify
from modelgate.db import session_scope


def _write(engine: Engine, n: int) -> None:
    with session_scope(engine) as s:
        for i in range(n):
            record(
                s,
                actor=f"user{i % 2}",
                action="model.create" if i % 3 else "token.create",
                subject=f"model/m{i}",
                payload={"i": i, "note": "héllo", "nested": {"b": [1, 2.5]}},
            )


def _tamper(engine: Engine, sql: str) -> None:
    """What an attacker with database access does: disable the guard, edit, re-enable."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("DROP TRIGGER audit_event_no_update")
            conn.exec_driver_sql("DROP TRIGGER audit_event_no_delete")
        else:
            conn.exec_driver_sql("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only")
        conn.execute(text(sql))


def test_chain_links_every_entry(engine: Engine) -> None:
    _write(engine, 5)
    with session_scope(engine) as s:
        result = verify(s)
        rows, total = list_events(s, AuditFilter(), limit=10, offset=0, newest_first=False)
    assert result.ok and result.entries == 5 and result.head_seq == 5
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5] and total == 5
    assert rows[0].prev_hash == "0" * 64
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(rows))
    assert rows[0].created_at.tzinfo is not None


def test_database_refuses_update_and_delete(engine: Engine) -> None:
    _write(engine, 2)
    for sql in (
        "UPDATE audit_event SET actor = 'mallory' WHERE seq = 1",
        "DELETE FROM audit_event WHERE seq = 2",
    ):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(sql))
    with session_scope(engine) as s:
        assert verify(s).ok


@pytest.mark.parametrize(
    ("sql", "broken_at", "reason"),
    [
        ("UPDATE audit_event SET actor = 'mallory' WHERE seq = 3", 3, "modified"),
        ("UPDATE audit_event SET payload = '{\"i\": 99}' WHERE seq = 2", 2, "modified"),
        ("DELETE FROM audit_event WHERE seq = 2", 2, "missing"),
        ("DELETE FROM audit_event WHERE seq = 5", 5, "ends at entry 4"),
    ],
)
def test_tampering_is_detected_at_the_first_broken_link(
    engine: Engine, sql: str, broken_at: int, reason: str
) -> None:
    _write(engine, 5)
    _tamper(engine, sql)
    with session_scope(engine) as s:
        result = verify(s)
    assert not result.ok
    assert result.broken_at == broken_at
    assert reason in (result.reason or "")


def test_rehashing_one_entry_breaks_the_next_link(engine: Engine) -> None:
    _write(engine, 4)
    _tamper(engine, "UPDATE audit_event SET hash = '" + "f" * 64 + "' WHERE seq = 2")
    with session_scope(engine) as s:
        result = verify(s)
    assert (result.ok, result.broken_at) == (False, 2)


def test_filters_and_jsonl_export(engine: Engine) -> None:
    _write(engine, 6)
    with session_scope(engine) as s:
        rows, total = list_events(s, AuditFilter(actor="user0"), limit=10, offset=0)
        assert total == 3 and {r.actor for r in rows} == {"user0"}
        rows, total = list_events(s, AuditFilter(subject="model/m*"), limit=2, offset=0)
        assert total == 6 and [r.seq for r in rows] == [6, 5]
        lines = list(export_lines(s, AuditFilter(action="token.create")))
    entries = [json.loads(line) for line in lines]
    assert [e["seq"] for e in entries] == [1, 4]
    assert entries[0]["payload"]["note"] == "héllo"
    assert set(entries[0]) == {
        "seq",
        "created_at",
        "actor",
        "action",
        "subject",
        "payload",
        "prev_hash",
        "hash",
    }


def test_rollback_leaves_no_entry_and_no_gap(engine: Engine) -> None:
    _write(engine, 1)
    with pytest.raises(RuntimeError), session_scope(engine) as s:
        record(s, actor="a", action="x", subject="y")
        raise RuntimeError("the change failed after auditing")
    _write(engine, 1)
    with session_scope(engine) as s:
        result = verify(s)
    assert result.ok and result.entries == 2
