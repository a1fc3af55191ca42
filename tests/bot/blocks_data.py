"""Shared data for the Block Kit builder tests: a small run, a model, every builder's output."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from bot.blocks import (
    Message,
    ModelRow,
    error_message,
    help_message,
    model_status,
    models_list,
    run_queued_ack,
    run_report,
    run_started,
    stage_history,
    whoami,
)
from checks.base import CheckResult, Severity, Status, Violation
from modelgate.registry.schemas import ModelOut, StageHolder, StagesOut
from modelgate.runs.schemas import RunOut

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
SHA = "ab12cd34ef56" + "0" * 52
FPR_WHY = "FPR gap 0.20 between sex=female and sex=male exceeds max 0.10"


def result(
    check: str,
    status: Status,
    *,
    severity: Severity = Severity.BLOCK,
    message: str = "all thresholds met",
    values: dict[str, Any] | None = None,
    thresholds: dict[str, Any] | None = None,
    violations: list[Violation] | None = None,
) -> CheckResult:
    return CheckResult(
        check=check,
        type=check.split("-")[0],
        status=status,
        severity=severity,
        message=message,
        values=values or {},
        thresholds=thresholds or {},
        violations=violations or [],
    )


def run_out(results: list[CheckResult], status: str = "failed", **kw: Any) -> RunOut:
    fields: dict[str, Any] = {
        "id": "run-7f3a",
        "model": "scorer",
        "version": "v1",
        "status": status,
        "trigger": "slack",
        "requested_by": "U_ALICE",
        "current_data_uri": "s3://data/windows/2024-05.parquet",
        "current_data_sha256": None,
        "policy_sha256": SHA,
        "policy_sources": ["policies/packs/baseline.yaml"],
        "summary": {"counts": {}, "blocking": [], "skipped": ["explainability"]},
        "error": None,
        "created_at": NOW,
        "started_at": NOW,
        "finished_at": NOW,
        "results": results,
    }
    return RunOut(**{**fields, **kw})


def small_run() -> RunOut:
    return run_out(
        [
            result(
                "kpi",
                Status.PASS,
                values={"roc_auc": 0.8123, "labeled_rows": 500},
                thresholds={"roc_auc": {"min": 0.6}},
            ),
            result(
                "fairness",
                Status.FAIL,
                message=FPR_WHY,
                values={"fpr_gap[sex]": 0.2},
                thresholds={"fpr_gap": {"max": 0.1}},
                violations=[
                    Violation(
                        metric="fpr_gap[sex]", value=0.2, threshold=0.1, op="<=", message=FPR_WHY
                    )
                ],
            ),
            result(
                "drift",
                Status.WARN,
                severity=Severity.WARN,
                message="share_drifted 0.6 exceeds max 0.5",
                violations=[
                    Violation(
                        metric="share_drifted",
                        value=0.6,
                        threshold=0.5,
                        op="<=",
                        message="share_drifted 0.6 exceeds max 0.5",
                    )
                ],
            ),
            result("quality", Status.ERROR, message="column `age` is missing from current"),
        ]
    )


def texts(message: Message) -> str:
    return json.dumps(message.to_dict(), ensure_ascii=False)


def model_fixture() -> tuple[ModelOut, StagesOut]:
    model = ModelOut(
        name="scorer",
        description="",
        owner="U_ANA",
        team="risk",
        risk_tier="high",
        tags=[],
        slack_channel="C_MODELS",
        flavor="sklearn",
        endpoint_url=None,
        stages={"production": "v2", "staging": "v3"},
        archived_at=None,
        created_by="ana",
        created_at=NOW,
        updated_at=NOW,
    )
    stages = StagesOut(
        model="scorer",
        stages=[
            StageHolder(stage="staging", version="v3", since=NOW, by="U_BOB"),
            StageHolder(stage="production", version="v2", since=NOW, by="U_ANA"),
        ],
        last_known_good="v1",
    )
    return model, stages


def all_builders() -> list[Message]:
    model, stages = model_fixture()
    commands = [(f"cmd{i}", f"does thing {i}", f"/modelgate cmd{i} x") for i in range(80)]
    return [
        run_report(small_run(), report_url="https://r/1", champion=small_run()),
        run_report(run_out([], status="errored", error="policy failed to load"), report_url=None),
        run_started("scorer", "v1", "U_ALICE"),
        run_queued_ack("scorer", "v1", "run-1", current="file:///tmp/w.csv"),
        help_message(commands),
        models_list([]),
        models_list([ModelRow("scorer", "low")]),
        model_status(model, stages, [], 0),
        model_status(model, stages, [(f"v{i}", None) for i in range(30)], 0),
        stage_history("scorer", [], 0),
        whoami("U_X", []),
        error_message("nope"),
    ]
