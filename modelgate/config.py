"""Settings: the one place environment variables are read."""

from __future__ import annotations

import contextlib
import getpass
import os
from functools import cached_property
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator
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
    policy_paths: list[Path] = Field(
        default_factory=list,
        description="Policy files/dirs; default: the shipped packs plus MODELGATE_HOME/policies",
    )
    workers: int = Field(default=2, ge=1, le=64, description="Check-run worker processes")
    allow_http_data: bool = Field(default=True, description="Allow http(s):// data URIs")
    # Slack (the names Slack's own tools use, plus ours)
    slack_bot_token: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("SLACK_BOT_TOKEN", "slack_bot_token"),
        description="xoxb- token; without it messages go to the console outbox",
    )
    slack_signing_secret: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("SLACK_SIGNING_SECRET", "slack_signing_secret"),
    )
    slack_api_url: str = Field(
        default="https://slack.com/api/", description="Web API base URL (tests: a local fake)"
    )
    public_url: str | None = Field(
        default=None, description="How browsers reach this server, for links in Slack"
    )
    roles_file: Path | None = Field(default=None, description="YAML: roles → Slack users/groups")
    usergroup_cache_s: int = Field(default=300, ge=0, description="User-group membership cache")
    secret_key: SecretStr | None = Field(
        default=None, description="Signs report links; default: generated in MODELGATE_HOME"
    )
    actor: str | None = Field(
        default=None, description="Name recorded as the actor of CLI changes; default: OS user"
    )
    host: str = "127.0.0.1"
    port: int = 8080
    log_level: str = "info"

    @field_validator("stages", "policy_paths", mode="before")
    @classmethod
    def _split_list(cls, v: object) -> object:
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

    def link_secret(self) -> bytes:
        """The key that signs report links: configured, or generated once per home."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value().encode()
        path = self.home / "secret_key"
        if not path.exists():
            import secrets

            path.parent.mkdir(parents=True, exist_ok=True)
            # created owner-only from the start, never briefly world-readable
            with contextlib.suppress(FileExistsError):  # another process made it first
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as f:
                    f.write(secrets.token_hex(32))
        return path.read_text().strip().encode()

    def effective_policy_paths(self) -> list[Path]:
        if self.policy_paths:
            return list(self.policy_paths)
        from policies import PACKS_DIR

        return [PACKS_DIR, self.home / "policies"]
