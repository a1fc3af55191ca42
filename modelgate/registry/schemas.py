"""What users send to the registry and what they get back (API, CLI --json)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from modelgate.validation import (
    ColumnName,
    CommitSha,
    FiniteFloat,
    SafeJson,
    Sha256,
    SlackChannel,
    Slug,
    Tag,
    Text,
    Uri,
    VersionLabel,
)

RiskTier = Literal["low", "medium", "high"]
Flavor = Literal["sklearn", "predictions-only", "http"]

T = TypeVar("T")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DataSchema(Strict):
    """Which columns of the model's data play which role."""

    features: list[ColumnName] = Field(default_factory=list, max_length=5000)
    target: ColumnName | None = None
    prediction: ColumnName | None = None
    score: ColumnName | None = Field(default=None, description="score or probability column")
    sensitive_features: list[ColumnName] = Field(default_factory=list, max_length=50)
    timestamp: ColumnName | None = None
    categorical_features: list[ColumnName] | None = Field(
        default=None, description="features to treat as categorical; default: inferred"
    )

    @model_validator(mode="after")
    def _consistent(self) -> DataSchema:
        for name, cols in (
            ("features", self.features),
            ("sensitive_features", self.sensitive_features),
        ):
            dupes = sorted({c for c in cols if cols.count(c) > 1})
            if dupes:
                raise ValueError(f"{name} lists {', '.join(dupes)} more than once")
        roles = {"target": self.target, "prediction": self.prediction, "score": self.score}
        for role, col in roles.items():
            if col is not None and col in self.features:
                raise ValueError(f"{role} column {col!r} must not also be a feature")
        if self.categorical_features is not None:
            unknown = sorted(set(self.categorical_features) - set(self.features))
            if unknown:
                raise ValueError(f"categorical_features {', '.join(unknown)} are not features")
        return self


class Lineage(Strict):
    """Where a version came from: data, code, configuration, randomness, run."""

    training_data_uri: Uri | None = None
    training_data_sha256: Sha256 | None = None
    data_version: Text(200, 1) | None = Field(default=None, description="e.g. a DVC revision")
    code_repository: Uri | None = None
    code_commit: CommitSha | None = None
    hyperparameters: dict[Text(200, 1), SafeJson] = Field(default_factory=dict)
    random_seed: int | None = Field(default=None, ge=0, le=2**63 - 1)
    training_run_id: Text(200, 1) | None = None
    training_run_url: Uri | None = None

    @model_validator(mode="after")
    def _data_identified(self) -> Lineage:
        if self.training_data_uri and not (self.training_data_sha256 or self.data_version):
            raise ValueError(
                "training_data_uri needs training_data_sha256 or data_version to identify the data"
            )
        return self


class ModelCreate(Strict):
    name: Slug = Field(description="unique slug: lowercase letters, digits, '.', '_', '-'")
    description: Text(5000) = ""
    owner: Text(200, 1)
    team: Text(200) = ""
    risk_tier: RiskTier = "medium"
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    slack_channel: SlackChannel | None = None
    flavor: Flavor = "sklearn"
    endpoint_url: Uri | None = Field(default=None, description="required for flavor 'http'")

    @model_validator(mode="after")
    def _endpoint(self) -> ModelCreate:
        if self.flavor == "http" and not self.endpoint_url:
            raise ValueError("flavor 'http' needs endpoint_url")
        return self


def _not_null(value: Any) -> Any:
    """A PATCH may omit these fields but not set them to null: they cannot be empty."""
    if value is None:
        raise ValueError("cannot be null; omit the field to keep its current value")
    return value


class ModelUpdate(Strict):
    """Fields to change; omitted fields keep their value (slack_channel and endpoint_url
    may be set to null to clear them)."""

    _required = field_validator("description", "owner", "team", "risk_tier", "tags", mode="before")(
        _not_null
    )

    description: Text(5000) | None = None
    owner: Text(200, 1) | None = None
    team: Text(200) | None = None
    risk_tier: RiskTier | None = None
    tags: list[Tag] | None = Field(default=None, max_length=50)
    slack_channel: SlackChannel | None = None
    endpoint_url: Uri | None = None


class VersionCreate(Strict):
    version: VersionLabel = Field(description="label unique within the model, e.g. v3 or 1.2.0")
    description: Text(5000) = ""
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    artifact_uri: Uri | None = None
    artifact_sha256: Sha256 | None = None
    data_schema: DataSchema = Field(default_factory=DataSchema)
    reference_data_uri: Uri | None = None
    reference_data_sha256: Sha256 | None = None
    lineage: Lineage = Field(default_factory=Lineage)
    metrics: dict[Text(200, 1), FiniteFloat] = Field(default_factory=dict, max_length=500)

    @model_validator(mode="after")
    def _hashes(self) -> VersionCreate:
        if self.artifact_uri and not self.artifact_sha256:
            raise ValueError("artifact_uri needs artifact_sha256")
        if self.reference_data_uri and not self.reference_data_sha256:
            raise ValueError("reference_data_uri needs reference_data_sha256")
        return self


class VersionUpdate(Strict):
    _required = field_validator("description", "tags", mode="before")(_not_null)

    description: Text(5000) | None = None
    tags: list[Tag] | None = Field(default=None, max_length=50)


class StageChange(Strict):
    version: VersionLabel | None = Field(
        description="the version to put in the stage; null empties it"
    )
    reason: Text(2000, 3) = Field(description="why: kept in the stage history and the audit log")


class ArchiveRequest(Strict):
    reason: Text(2000, 3) = Field(description="why: kept in the audit log")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class ModelOut(BaseModel):
    name: str
    description: str
    owner: str
    team: str
    risk_tier: str
    tags: list[str]
    slack_channel: str | None
    flavor: str
    endpoint_url: str | None
    stages: dict[str, str] = Field(description="stage → version label currently holding it")
    archived_at: datetime | None
    created_by: str
    created_at: datetime
    updated_at: datetime


class VersionOut(BaseModel):
    model: str
    version: str
    description: str
    tags: list[str]
    stage: str | None
    status: str
    artifact_uri: str | None
    artifact_sha256: str | None
    data_schema: dict[str, Any]
    reference_data_uri: str | None
    reference_data_sha256: str | None
    lineage: Lineage
    metrics: dict[str, float]
    archived_at: datetime | None
    created_by: str
    created_at: datetime
    updated_at: datetime


class StageHolder(BaseModel):
    stage: str
    version: str | None
    since: datetime | None
    by: str | None


class TransitionOut(BaseModel):
    stage: str
    from_version: str | None
    to_version: str | None
    actor: str
    reason: str
    via: str
    at: datetime


class StagesOut(BaseModel):
    model: str
    stages: list[StageHolder]
    last_known_good: str | None = Field(
        description="the version that held production before the current one (not archived)"
    )
