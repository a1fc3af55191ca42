"""Settings: the one place environment variables are read."""

from __future__ import annotations

import getpass
from functools import cached_property
from pathlib import Path

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_STAGES = ("dev", "staging", "canary", "production")
ARCHIVED = "archived"


class Settings(BaseSettings):
    """modelgate's configuration, from `MODELGATE_*` environment variables (or a `.env` file)."""

    model_config = SettingsConfigDict(
        env_prefix="MODELGATE_", env_file=".env", extra="ignore", populate_by_name=True
    )

    home: Path = Field(default=Path(".modelgate"), description="Local state: database, artifacts")
    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("MODELGATE_DATABASE_URL", "DATABASE_URL", "database_url"),
        description="SQLAlchemy URL; default SQLite in MODELGATE_HOME; postgresql:// = psycopg 3",
    )
    stages: list[str] = Field(default=list(DEFAULT_STAGES), description="Ordered stage names")
    allow_anonymous_read: bool = Field(
        default=False, description="Let requests without a token use read-only endpoints"
    )
    allow_pickle: bool = Field(
        default=False, description="Allow loading pickle/joblib artifacts (arbitrary code!)"
    )
    actor: str | None = Field(
        default=None, description="Name recorded as the actor of CLI changes; default: OS user"
    )
    host: str = "127.0.0.1"
    port: int = 8080
    log_level: str = "info"

    @field_validator("stages", mode="before")
    @classmethod
    def _split_stages(cls, v: object) -> object:
        if isinstance(v, str):
            return [s.strip() for s in v.split(",") if s.strip()]
        return v

    @field_validator("stages")
    @classmethod
    def _check_stages(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("at least one stage is required")
        if len(set(v)) != len(v):
            raise ValueError("stage names must be unique")
        if ARCHIVED in v:
            raise ValueError(f"'{ARCHIVED}' is implicit and cannot be listed as a stage")
        for s in v:
            if not s.replace("-", "").replace("_", "").isalnum() or not s.islower():
                raise ValueError(f"stage {s!r} must be lowercase letters, digits, - or _")
        return v

    @cached_property
    def sqlalchemy_url(self) -> str:
        """The database URL with the driver made explicit (psycopg 3 for PostgreSQL)."""
        url = self.database_url or f"sqlite:///{(self.home / 'modelgate.db').resolve()}"
        for prefix in ("postgres://", "postgresql://", "postgresql+psycopg2://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url

    def cli_actor(self) -> str:
        return self.actor or f"cli:{getpass.getuser()}"

    @property
    def artifacts_dir(self) -> Path:
        return self.home / "artifacts"
