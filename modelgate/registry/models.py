"""Registry tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, Column, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from modelgate.types import UTCDateTime, utcnow

RISK_TIERS = ("low", "medium", "high")
FLAVORS = ("sklearn", "predictions-only", "http")
VERSION_STATUSES = ("active", "archived")


def _json(default: Any) -> Any:
    return Field(default_factory=default, sa_column=Column(JSON, nullable=False))


class Model(SQLModel, table=True):
    __tablename__ = "model"
    __table_args__ = (
        CheckConstraint("risk_tier IN ('low','medium','high')", name="ck_model_risk_tier"),
        CheckConstraint("flavor IN ('sklearn','predictions-only','http')", name="ck_model_flavor"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True, index=True)
    description: str = ""
    owner: str = Field(max_length=200)
    team: str = Field(default="", max_length=200)
    risk_tier: str = Field(max_length=16)
    tags: list[str] = _json(list)
    slack_channel: str | None = Field(default=None, max_length=100)
    flavor: str = Field(max_length=32)
    endpoint_url: str | None = Field(default=None, max_length=2000)
    archived_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ModelVersion(SQLModel, table=True):
    __tablename__ = "model_version"
    __table_args__ = (
        UniqueConstraint("model_id", "version", name="uq_model_version_label"),
        CheckConstraint("status IN ('active','archived')", name="ck_model_version_status"),
        # A stage holds at most one version per model.
        Index(
            "uq_model_version_stage",
            "model_id",
            "stage",
            unique=True,
            sqlite_where=text("stage IS NOT NULL"),
            postgresql_where=text("stage IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    model_id: int = Field(foreign_key="model.id", index=True)
    version: str = Field(max_length=64)
    description: str = ""
    tags: list[str] = _json(list)
    artifact_uri: str | None = Field(default=None, max_length=2000)
    artifact_sha256: str | None = Field(default=None, max_length=64)
    data_schema: dict[str, Any] = _json(dict)
    reference_data_uri: str | None = Field(default=None, max_length=2000)
    reference_data_sha256: str | None = Field(default=None, max_length=64)
    # lineage
    training_data_uri: str | None = Field(default=None, max_length=2000)
    training_data_sha256: str | None = Field(default=None, max_length=64, index=True)
    data_version: str | None = Field(default=None, max_length=200)
    code_repository: str | None = Field(default=None, max_length=2000)
    code_commit: str | None = Field(default=None, max_length=64)
    hyperparameters: dict[str, Any] = _json(dict)
    random_seed: int | None = Field(default=None, sa_type=BigInteger)
    training_run_id: str | None = Field(default=None, max_length=200)
    training_run_url: str | None = Field(default=None, max_length=2000)
    metrics: dict[str, float] = _json(dict)
    # lifecycle
    stage: str | None = Field(default=None, max_length=32)
    status: str = Field(default="active", max_length=16)
    archived_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class StageTransition(SQLModel, table=True):
    """One change of who holds a stage: from_version → to_version (either may be empty)."""

    __tablename__ = "stage_transition"
    __table_args__ = (Index("ix_stage_transition_lookup", "model_id", "stage", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    model_id: int = Field(foreign_key="model.id")
    stage: str = Field(max_length=32)
    from_version_id: int | None = Field(default=None, foreign_key="model_version.id")
    to_version_id: int | None = Field(default=None, foreign_key="model_version.id")
    actor: str = Field(max_length=200)
    reason: str = ""
    via: str = Field(default="api", max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
