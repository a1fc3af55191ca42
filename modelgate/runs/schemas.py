"""What the API and CLI say about runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from checks.base import CheckResult
from modelgate.validation import Text, Uri


class RunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_data_uri: Uri | None = Field(
        default=None,
        description="the current window (CSV/Parquet path or URI) for monitoring checks",
    )
    policy_yaml: Text(100_000, 1) | None = Field(
        default=None,
        description="an extra policy document applied on top of the effective policy "
        "(highest priority); validated like a policy file",
    )


class RunOut(BaseModel):
    id: str
    model: str
    version: str
    status: str
    trigger: str
    requested_by: str
    current_data_uri: str | None
    current_data_sha256: str | None
    policy_sha256: str | None
    policy_sources: list[str]
    summary: dict[str, Any]
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    results: list[CheckResult] = Field(default_factory=list)
    report_url: str | None = None
