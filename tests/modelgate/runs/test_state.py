"""The gate verdict, defined once: failed > errored > warned > passed."""

from __future__ import annotations

import pytest

from checks.base import CheckResult, Severity, Status
from modelgate.runs.state import EXIT_CODES, RunStatus, verdict


def r(status: str, severity: str = "block") -> CheckResult:
    return CheckResult(
        check=f"c-{status}-{severity}",
        type="kpi",
        status=Status(status),
        severity=Severity(severity),
        message="",
    )


@pytest.mark.parametrize(
    ("results", "expected"),
    [
        ([r("pass"), r("pass", "warn")], RunStatus.PASSED),
        ([r("pass"), r("warn", "warn")], RunStatus.WARNED),
        ([r("pass"), r("error", "warn")], RunStatus.WARNED),
        ([r("pass"), r("error")], RunStatus.ERRORED),
        ([r("fail"), r("error")], RunStatus.FAILED),
        ([r("insufficient_data")], RunStatus.WARNED),
        ([r("pass", "info")], RunStatus.PASSED),
    ],
)
def test_verdict(results: list[CheckResult], expected: RunStatus) -> None:
    assert verdict(results) is expected


def test_insufficient_data_counts_as_the_policy_says() -> None:
    results = [r("insufficient_data"), r("pass")]
    assert verdict(results, "pass") is RunStatus.PASSED
    assert verdict(results, "fail") is RunStatus.FAILED
    assert verdict([r("insufficient_data", "warn")], "fail") is RunStatus.WARNED


def test_exit_codes_for_ci() -> None:
    assert [
        EXIT_CODES[s]
        for s in (RunStatus.PASSED, RunStatus.WARNED, RunStatus.FAILED, RunStatus.ERRORED)
    ] == [0, 0, 1, 2]
