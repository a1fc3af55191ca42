"""Run tables: one row per run, one per check result."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from modelgate.types import UTCDateTime, utcnow


def _json(default: Any) -> Any:
    return Field(default_factory=default, sa_column=Column(JSON, nullable=False))


class CheckRun(SQLModel, table=True):
    __tablename__ = "check_run"
    __table_args__ = (
        Index("ix_check_run_model_created", "model_id", "created_at"),
        Index("ux_check_run_active_key", "active_key", unique=True),
    )

    id: str = Field(primary_key=True, max_length=32)
    model_id: int = Field(foreign_key="model.id")
    version_id: int = Field(foreign_key="model_version.id", index=True)
    status: str = Field(default="queued", max_length=16, index=True)
    trigger: str = Field(default="api", max_length=16)
    requested_by: str = Field(max_length=200)
    current_data_uri: str | None = Field(default=None, max_length=2000)
    current_data_sha256: str | None = Field(default=None, max_length=64)
    policy_sha256: str | None = Field(default=None, max_length=64)
    policy: dict[str, Any] = _json(dict)
    summary: dict[str, Any] = _json(dict)
    error: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Where the run reports back (Slack channel and root message ts), if somewhere.
    notify: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # Set while queued/running: one active run per (version, window, policy). Unique, so a
    # second request for the same work (a double click, a retried event) joins the first.
    active_key: str | None = Field(default=None, max_length=64)


class SlackEvent(SQLModel, table=True):
    """Slack events already handled: a retried delivery finds its id here and does nothing."""

    __tablename__ = "slack_event"

    event_id: str = Field(primary_key=True, max_length=128)
    kind: str = Field(max_length=64)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CheckResultRow(SQLModel, table=True):
    __tablename__ = "check_result"

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(foreign_key="check_run.id", index=True, max_length=32)
    position: int
    check: str = Field(max_length=64)
    type: str = Field(max_length=32)
    status: str = Field(max_length=24)
    severity: str = Field(max_length=8)
    message: str
    values: dict[str, Any] = _json(dict)
    thresholds: dict[str, Any] = _json(dict)
    violations: list[Any] = _json(list)
    details: dict[str, Any] = _json(dict)
    artifacts: list[Any] = _json(list)
    library_versions: dict[str, str] = _json(dict)
    fingerprints: dict[str, str] = _json(dict)
    duration_s: float = 0.0
