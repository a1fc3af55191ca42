"""The contract every check implements, and the result every check returns.

A check is a small object with a ``type`` name, a pydantic ``Params`` model (validated when a
policy is loaded, so a bad threshold fails at load time with file and line) and a
``measure(ctx, params)`` method. It measures, compares the measurements with the thresholds in
its params and returns a :class:`Measurement`; :func:`execute` turns that into the persisted
:class:`CheckResult`, deriving the status in one place from the violations and the severity.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

log = logging.getLogger(__name__)


class Status(enum.StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    ERROR = "error"
    INSUFFICIENT_DATA = "insufficient_data"


class Severity(enum.StrEnum):
    BLOCK = "block"  # a violation fails the gate
    WARN = "warn"  # a violation is reported, the gate still passes
    INFO = "info"  # measured and shown, never judged


@dataclass(frozen=True)
class ColumnRoles:
    """Which column plays which part, taken from the model version's data schema."""

    features: tuple[str, ...] = ()
    target: str | None = None
    prediction: str | None = None
    score: str | None = None
    sensitive_features: tuple[str, ...] = ()
    timestamp: str | None = None
    categorical: tuple[str, ...] | None = None  # None: infer from dtype


@dataclass(frozen=True)
class Dataset:
    """A loaded table and where it came from."""

    frame: pd.DataFrame
    uri: str
    sha256: str

    @property
    def rows(self) -> int:
        return len(self.frame)


@dataclass
class CheckContext:
    """Everything a check may look at. Checks never read settings or the database."""

    roles: ColumnRoles
    reference: Dataset | None = None
    current: Dataset | None = None
    model: Any | None = None  # a loaded estimator, or None for predictions-only models
    champion_model: Any | None = None  # the estimator now in production, if any
    champion_values: Mapping[str, Any] | None = None  # champion's last measured values
    artifacts_dir: Path | None = None
    time_budget_s: float = 30.0
    source: str = ""  # where the check was declared, e.g. "policies/packs/baseline.yaml:14"


class Violation(BaseModel):
    """One threshold that a measured value broke."""

    model_config = ConfigDict(frozen=True)

    metric: str
    value: float | str | None
    threshold: float | str | None
    op: str  # "<=", ">=", "in", "not in", ...
    message: str  # one line a person understands


class Artifact(BaseModel):
    name: str
    path: str  # relative to the run's artifact directory
    media_type: str


class CheckResult(BaseModel):
    """The persisted outcome of one check."""

    check: str  # the name given in the policy (defaults to the type)
    type: str
    status: Status
    severity: Severity
    message: str
    values: dict[str, Any] = Field(default_factory=dict)
    thresholds: dict[str, Any] = Field(default_factory=dict)
    violations: list[Violation] = Field(default_factory=list)
    details: dict[str, Any] = Field(default_factory=dict)
    artifacts: list[Artifact] = Field(default_factory=list)
    library_versions: dict[str, str] = Field(default_factory=dict)
    fingerprints: dict[str, str] = Field(default_factory=dict)
    duration_s: float = 0.0


class CheckParams(BaseModel):
    """Base for every check's parameters: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class Bound(BaseModel):
    """A threshold on one measured value: ``{min: 0.8}``, ``{max: 0.1}`` or both.

    Every check states its limits with this type, so policies read the same everywhere and
    the violation message is worded in one place.
    """

    model_config = ConfigDict(extra="forbid")

    min: float | None = None
    max: float | None = None

    def applied(self) -> dict[str, float]:
        return {k: v for k, v in (("min", self.min), ("max", self.max)) if v is not None}

    def violation(self, metric: str, value: float | None, label: str = "") -> Violation | None:
        """The violation if `value` is outside the bound, else None. NaN/None never pass."""
        what = f"{metric}{f' ({label})' if label else ''}"
        if value is None or value != value:  # NaN
            return Violation(
                metric=metric,
                value=None,
                threshold=str(self.applied()),
                op="defined",
                message=f"{what} could not be computed",
            )
        if self.max is not None and value > self.max:
            return Violation(
                metric=metric,
                value=value,
                threshold=self.max,
                op="<=",
                message=f"{what} {value:.4g} exceeds max {self.max:.4g}",
            )
        if self.min is not None and value < self.min:
            return Violation(
                metric=metric,
                value=value,
                threshold=self.min,
                op=">=",
                message=f"{what} {value:.4g} is below min {self.min:.4g}",
            )
        return None


class Measurement(BaseModel):
    """What a check measured and which thresholds the measurements broke.

    Checks never decide their own status: :func:`execute` derives it from the violations and
    the severity the policy assigned, so the rule lives in one place.
    """

    values: dict[str, Any] = Field(default_factory=dict)
    thresholds: dict[str, Any] = Field(default_factory=dict)
    violations: list[Violation] = Field(default_factory=list)
    details: dict[str, Any] = Field(default_factory=dict)
    artifacts: list[Artifact] = Field(default_factory=list)
    library_versions: dict[str, str] = Field(default_factory=dict)
    ok_message: str = "all thresholds met"


@runtime_checkable
class Check(Protocol):
    type: ClassVar[str]
    Params: ClassVar[type[CheckParams]]
    needs_current: ClassVar[bool]  # monitoring checks need a current window

    def measure(self, ctx: CheckContext, params: Any) -> Measurement: ...


class CheckInputError(Exception):
    """Input a person can fix (missing column, empty window, ...). Reported as `error`."""


class InsufficientData(Exception):
    """Too few rows to judge. Reported as `insufficient_data`, never as pass or fail."""


def status_for(violations: list[Violation], severity: Severity) -> Status:
    """The one rule that turns violations and severity into a status."""
    if not violations:
        return Status.PASS
    if severity is Severity.BLOCK:
        return Status.FAIL
    if severity is Severity.WARN:
        return Status.WARN
    return Status.PASS  # info: measured and reported, never judged


def summarize(violations: list[Violation], ok_message: str) -> str:
    """A one-line message: the first violation (and how many more), or the all-clear."""
    if not violations:
        return ok_message
    first = violations[0].message
    more = len(violations) - 1
    return first if more == 0 else f"{first} (and {more} more)"


def fingerprints_of(ctx: CheckContext) -> dict[str, str]:
    """sha256 of each input dataset the check saw."""
    out: dict[str, str] = {}
    if ctx.reference is not None:
        out["reference"] = ctx.reference.sha256
    if ctx.current is not None:
        out["current"] = ctx.current.sha256
    return out


def execute(
    check: Check, ctx: CheckContext, params: Any, *, name: str, severity: Severity
) -> CheckResult:
    """Run one check and turn whatever happens into a CheckResult; never raises.

    A crashing check reports ``error`` with the reason, so it cannot hide the others.
    """
    started = time.perf_counter()
    base = {
        "check": name,
        "type": check.type,
        "severity": severity,
        "fingerprints": fingerprints_of(ctx),
    }
    try:
        if check.needs_current and ctx.current is None:
            raise CheckInputError(f"check `{name}` needs a current data window; none was given")
        m = check.measure(ctx, params)
    except InsufficientData as exc:
        return CheckResult(
            **base,
            status=Status.INSUFFICIENT_DATA,
            message=str(exc),
            duration_s=time.perf_counter() - started,
        )
    except CheckInputError as exc:
        return CheckResult(
            **base, status=Status.ERROR, message=str(exc), duration_s=time.perf_counter() - started
        )
    except Exception as exc:  # a bug in one check must not hide the other results
        log.exception("check %s crashed", name)
        return CheckResult(
            **base,
            status=Status.ERROR,
            message=f"check crashed: {type(exc).__name__}: {exc}",
            duration_s=time.perf_counter() - started,
        )
    return CheckResult(
        **base,
        status=status_for(m.violations, severity),
        message=summarize(m.violations, m.ok_message),
        values=m.values,
        thresholds=m.thresholds,
        violations=m.violations,
        details=m.details,
        artifacts=m.artifacts,
        library_versions=m.library_versions,
        duration_s=time.perf_counter() - started,
    )


def library_versions(*packages: str) -> dict[str, str]:
    """Installed versions of `packages` (those not installed are left out), for results."""
    from importlib import metadata

    out = {}
    for pkg in packages:
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            continue
    return out
