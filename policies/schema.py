"""The schema of a policy file, validated with pydantic when it is loaded."""

from __future__ import annotations

import fnmatch
import re
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    TypeAdapter,
    ValidationError,
    field_validator,
)

from checks.base import Severity

RiskTier = Literal["low", "medium", "high"]
GateEffect = Literal["pass", "warn", "fail"]
_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(value: Any) -> timedelta:
    """`30m`, `24h`, `7d`, `2w`, seconds as a number, or ISO 8601 (`PT24H`)."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    match = _DURATION.match(str(value))
    if match:
        return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    try:
        return TypeAdapter(timedelta).validate_python(value)
    except ValidationError:
        raise ValueError("a duration like 30m, 24h or 7d") from None


def format_duration(value: timedelta) -> str:
    """The shortest exact form: 90m → `90m`, 24h → `24h`, 7d → `7d`."""
    seconds = int(value.total_seconds())
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str, when_used="json"),
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Selector(Strict):
    """Which models a policy applies to: all conditions given must hold."""

    models: list[str] = Field(default_factory=lambda: ["*"], description="name globs")
    risk_tiers: list[RiskTier] | None = None
    tags: list[str] | None = Field(default=None, description="the model has any of these")

    def matches(self, *, name: str, risk_tier: str, tags: list[str]) -> bool:
        if not any(fnmatch.fnmatchcase(name, pattern) for pattern in self.models):
            return False
        if self.risk_tiers is not None and risk_tier not in self.risk_tiers:
            return False
        return not (self.tags is not None and not set(self.tags) & set(tags))


class CheckSpec(Strict):
    """One check as a policy declares it; `params` are validated by the check's own schema."""

    type: str
    name: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9][a-z0-9_.-]{0,62}$",
        description="unique within the policy; default: the type",
    )
    severity: Severity = Severity.BLOCK
    enabled: bool = True
    timeout_s: float = Field(default=300, gt=0, le=3600)
    params: dict[str, Any] = Field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.name or self.type


class ApprovalRule(Strict):
    """Who must approve a move into one stage."""

    required: int = Field(default=1, ge=1, le=10, description="approvals needed in total")
    roles: list[str] = Field(min_length=1, description="an approver must hold one of these")
    quorum: dict[str, int] = Field(
        default_factory=dict, description="minimum approvals per role, e.g. {risk-officer: 1}"
    )
    allow_self_approval: bool = False
    expires_after: Duration = Field(default=timedelta(hours=24))
    require_passing_run: bool = Field(
        default=True, description="the evidence must be a run that passed or only warned"
    )

    @field_validator("quorum")
    @classmethod
    def _quorum(cls, v: dict[str, int]) -> dict[str, int]:
        for role, n in v.items():
            if n < 1:
                raise ValueError(f"quorum for {role!r} must be at least 1")
        return v

    def model_post_init(self, _context: Any) -> None:
        missing = sorted(set(self.quorum) - set(self.roles))
        if missing:
            raise ValueError(f"quorum names roles not in `roles`: {', '.join(missing)}")
        if sum(self.quorum.values()) > self.required:
            raise ValueError("the quorum asks for more approvals than `required`")


class Schedule(Strict):
    cron: str = Field(description="five-field crontab, e.g. '0 * * * *' (hourly)")
    timezone: str = "UTC"
    current_data: str | None = Field(
        default=None,
        description="URI of the current window; {date} and {datetime} are filled in at run time",
    )
    enabled: bool = True

    @field_validator("cron")
    @classmethod
    def _cron(cls, v: str) -> str:
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(v)
        except ValueError as exc:
            raise ValueError(f"not a valid crontab expression: {exc}") from None
        return v

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r}") from None
        return v


class PolicyFile(Strict):
    """A policy file. Several may apply to one model: they are merged by `priority`."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,62}$")
    description: str = ""
    priority: int = Field(default=0, description="higher applies later and overrides")
    applies_to: Selector = Field(default_factory=Selector)
    schedule: Schedule | None = None
    on_insufficient_data: GateEffect = Field(
        default="warn", description="how an insufficient-data result counts at the gate"
    )
    checks: list[CheckSpec] = Field(default_factory=list)
    approvals: dict[str, ApprovalRule] = Field(
        default_factory=dict, description="target stage → who must approve"
    )

    @field_validator("checks")
    @classmethod
    def _unique_names(cls, v: list[CheckSpec]) -> list[CheckSpec]:
        seen: set[str] = set()
        for spec in v:
            if spec.key in seen:
                raise ValueError(f"two checks are named {spec.key!r}; give one a `name:`")
            seen.add(spec.key)
        return v


class EffectivePolicy(BaseModel):
    """What applies to one model after merging every matching policy file."""

    model: str
    sources: list[str]
    sha256: str = Field(description="sha256 over the texts of the source files, in order")
    checks: list[CheckSpec]
    check_sources: dict[str, str] = Field(description="check name → file:line declaring it")
    approvals: dict[str, ApprovalRule]
    schedule: Schedule | None
    on_insufficient_data: GateEffect
