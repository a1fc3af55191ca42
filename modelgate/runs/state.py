"""The run state machine and the gate verdict, each defined once."""

from __future__ import annotations

import enum
from collections.abc import Iterable

from checks.base import CheckResult, Severity, Status


class RunStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    PASSED = "passed"
    WARNED = "warned"
    FAILED = "failed"
    ERRORED = "errored"


FINISHED = frozenset({RunStatus.PASSED, RunStatus.WARNED, RunStatus.FAILED, RunStatus.ERRORED})

# status → the statuses it may move to. A transition is a conditional UPDATE on the current
# status, so a repeated claim or finish is a no-op rather than a second execution.
TRANSITIONS: dict[RunStatus, frozenset[RunStatus]] = {
    RunStatus.QUEUED: frozenset({RunStatus.RUNNING, RunStatus.ERRORED}),
    RunStatus.RUNNING: FINISHED,
}

# CLI exit codes: a CI pipeline gates on them.
EXIT_CODES: dict[RunStatus, int] = {
    RunStatus.PASSED: 0,
    RunStatus.WARNED: 0,
    RunStatus.FAILED: 1,
    RunStatus.ERRORED: 2,
}


def gate_status(result: CheckResult, on_insufficient_data: str) -> Status:
    """How one result counts at the gate (insufficient data counts as the policy says)."""
    if result.status is not Status.INSUFFICIENT_DATA:
        return result.status
    if on_insufficient_data == "fail" and result.severity is Severity.BLOCK:
        return Status.FAIL
    if on_insufficient_data == "pass":
        return Status.PASS
    return Status.WARN


def verdict(results: Iterable[CheckResult], on_insufficient_data: str = "warn") -> RunStatus:
    """failed > errored > warned > passed.

    A blocking failure is definitive even if another check errored; an error in a blocking
    check means the gate could not judge; errors in warn/info checks only warn.
    """
    statuses = [(gate_status(r, on_insufficient_data), r.severity) for r in results]
    if any(s is Status.FAIL for s, _ in statuses):
        return RunStatus.FAILED
    if any(s is Status.ERROR and sev is Severity.BLOCK for s, sev in statuses):
        return RunStatus.ERRORED
    if any(s in (Status.WARN, Status.ERROR) for s, _ in statuses):
        return RunStatus.WARNED
    return RunStatus.PASSED


def summary(results: Iterable[CheckResult]) -> dict[str, object]:
    counts: dict[str, int] = {}
    blocking: list[str] = []
    for r in results:
        counts[r.status.value] = counts.get(r.status.value, 0) + 1
        if r.status is Status.FAIL:
            blocking.append(r.check)
    return {"counts": counts, "blocking": blocking}
