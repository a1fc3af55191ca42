"""Block Kit builders: exact structure for a small run, Slack's limits for big ones."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from slack_sdk.models.blocks import SectionBlock

from bot.blocks import (
    Message,
    ModelRow,
    clip,
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
from modelgate.registry.schemas import ModelOut, StageHolder, StagesOut, TransitionOut
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


def test_small_run_report_exact_structure() -> None:
    url = "https://modelgate.example/reports/run-7f3a?exp=1&sig=abc"
    blocks = run_report(small_run(), report_url=url).to_dict()["blocks"]

    assert [b["type"] for b in blocks] == [
        "header",
        "context",
        "section",
        "section",
        "section",
        "section",
        "context",
        "actions",
    ]
    assert blocks[0]["text"] == {
        "type": "plain_text",
        "text": ":x: scorer v1 · FAILED",
        "emoji": True,
    }
    facts = blocks[1]["elements"][0]["text"]
    assert facts.startswith(
        "Run `run-7f3a` · slack · requested by <@U_ALICE> · policy `ab12cd34ef56`"
    )
    assert "window `2024-05.parquet`" in facts
    assert blocks[1]["elements"][1]["text"] == "4 checks: 1 failed, 1 errored, 1 warning, 1 passed"
    lines = [b["text"]["text"] for b in blocks[2:6]]
    assert lines == [
        f":x: *fairness* · fpr_gap[sex] 0.2 (max 0.1) · _block_\n>{FPR_WHY}",
        ":boom: *quality* · _block_\n>column `age` is missing from current",
        ":warning: *drift* · share_drifted 0.6 (max 0.5) · _warn_\n"
        ">share_drifted 0.6 exceeds max 0.5",
        ":white_check_mark: *kpi* · roc_auc 0.8123 (min 0.6) · _block_",
    ]
    assert "`explainability`" in blocks[6]["elements"][0]["text"]
    report, rerun = blocks[7]["elements"]
    assert report["url"] == url and report["text"]["text"] == "Open full report"
    assert rerun["action_id"] == "run.rerun" and rerun["text"]["text"] == "Re-run check"
    assert json.loads(rerun["value"]) == {
        "model": "scorer",
        "version": "v1",
        "current": "s3://data/windows/2024-05.parquet",
    }


def test_report_fallback_text_and_buttons_without_url() -> None:
    message = run_report(small_run(), report_url=None)
    assert message.text == (
        "scorer v1: FAILED — 1 failed, 1 errored, 1 warning, 1 passed. Failed: fairness"
    )
    [rerun] = message.to_dict()["blocks"][-1]["elements"]
    assert rerun["action_id"] == "run.rerun"
    linked = run_report(
        small_run().model_copy(update={"report_url": "https://r/1"}), report_url=None
    )
    assert linked.to_dict()["blocks"][-1]["elements"][0]["url"] == "https://r/1"


def test_champion_line_compares_headline_metrics() -> None:
    champion = run_out(
        [result("kpi", Status.PASS, values={"roc_auc": 0.83})], status="passed", version="v0"
    )
    blocks = run_report(small_run(), report_url=None, champion=champion).to_dict()["blocks"]
    line = next(
        b["text"]["text"] for b in blocks if "Champion" in b.get("text", {}).get("text", "")
    )
    assert "`v0`" in line and ":white_check_mark: PASSED" in line
    assert "roc_auc 0.8123 vs 0.83 (champion)" in line


def test_sixty_check_run_fits_and_shows_every_failure() -> None:
    results = [result(f"pass-{i}", Status.PASS) for i in range(50)]
    failures = [
        result(
            f"fail-{i}",
            Status.FAIL,
            message=f"metric {i} broke",
            violations=[
                Violation(
                    metric=f"m{i}",
                    value=1.0,
                    threshold=0.5,
                    op="<=",
                    message=f"m{i} 1 exceeds max 0.5",
                )
            ],
        )
        for i in range(8)
    ]
    errors = [result(f"error-{i}", Status.ERROR, message="crashed") for i in range(2)]
    run = run_out([*results[:20], *failures, *results[20:], *errors])
    message = run_report(run, report_url="https://r/1")
    dumped = texts(message)
    assert len(message.blocks) <= 50
    for r in [*failures, *errors]:
        assert f"*{r.check}*" in dumped
    assert "50 more checks passed:" in dumped and "pass-0, pass-1" in dumped
    assert message.text.startswith("scorer v1: FAILED — 8 failed, 2 errored, 50 passed")


def test_sixty_failures_still_fit() -> None:
    run = run_out([result(f"fail-{i}", Status.FAIL, message="x " * 200) for i in range(60)])
    message = run_report(run, report_url=None)
    dumped = texts(message)
    assert len(message.blocks) <= 50
    assert all(f"fail-{i}" in dumped for i in range(60))
    for block in message.blocks:
        if isinstance(block, SectionBlock) and block.text is not None:
            assert len(block.text.text) <= 3000


def test_long_violation_message_is_clipped_at_a_word_boundary() -> None:
    long = " ".join(f"word{i}" for i in range(700))  # ~5500 characters
    assert len(long) > 3000
    bad = result(
        "fairness",
        Status.FAIL,
        message=long,
        violations=[Violation(metric="m", value=1, threshold=0, op="<=", message=long)],
    )
    message = run_report(run_out([bad]), report_url=None)
    section = message.to_dict()["blocks"][2]["text"]["text"]
    why = section.split("\n")[1].removeprefix(">")
    assert len(section) <= 3000 and why.endswith("…")
    kept = why.removesuffix("…")
    assert long.startswith(kept) and long[len(kept)] == " "


def test_clip() -> None:
    assert clip("short", 10) == "short"
    assert clip("hello world again", 14) == "hello world…"
    assert clip("hello world again", 12) == "hello world…"
    assert clip("x" * 20, 10) == "x" * 9 + "…"
    assert clip("a&amp;b&amp;c&amp;d", 10) == "a&amp;b…"


def test_header_is_clipped_and_mrkdwn_is_escaped() -> None:
    long_version = "v" + "-build" * 40
    evil = result(
        "quality",
        Status.FAIL,
        message="<!channel> & <https://x|y>",
        violations=[
            Violation(
                metric="m",
                value=None,
                threshold="present",
                op="present",
                message="<!channel> & <https://x|y>",
            )
        ],
    )
    message = run_report(run_out([evil], version=long_version), report_url=None)
    blocks = message.to_dict()["blocks"]
    assert len(blocks[0]["text"]["text"]) <= 150 and blocks[0]["text"]["text"].endswith("…")
    assert "&lt;!channel&gt; &amp; &lt;https://x|y&gt;" in blocks[2]["text"]["text"]
    assert "<!channel>" not in texts(message)


def test_rerun_value_falls_back_to_run_id_for_long_uris() -> None:
    run = small_run().model_copy(update={"current_data_uri": "s3://b/" + "x" * 1990})
    rerun = run_report(run, report_url=None).to_dict()["blocks"][-1]["elements"][-1]
    assert json.loads(rerun["value"]) == {"model": "scorer", "version": "v1", "run": "run-7f3a"}


def test_models_list_with_200_models_fits() -> None:
    rows = [
        ModelRow(
            f"model-{i:03d}",
            "high" if i % 3 else "low",
            f"v{i % 5}" if i % 2 else None,
            "failed" if i == 7 else "passed",
            NOW,
        )
        for i in range(200)
    ]
    message = models_list(rows)
    dumped = texts(message)
    assert len(message.blocks) <= 50
    assert all(f"model-{i:03d}" in dumped for i in range(200))
    assert "140 more models" in dumped
    assert message.text.startswith("200 models") and "model-007" in message.text


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


def test_model_status_shows_stages_runs_and_alerts() -> None:
    model, stages = model_fixture()
    latest = [("v2", run_out(small_run().results, version="v2")), ("v3", None)]
    message = model_status(model, stages, latest, open_alerts=2)
    blocks = message.to_dict()["blocks"]
    fields = [f["text"] for f in blocks[2]["fields"]]
    assert fields[1].startswith("*production*\n`v2`") and "<@U_ANA>" in fields[1]
    assert fields[2] == "*Last known good*\n`v1`" and ":rotating_light: 2" in fields[3]
    v2 = blocks[3]["text"]["text"]
    assert v2.startswith("*`v2`* (production) — :x: FAILED")
    assert ":x: *fairness* · fpr_gap[sex] 0.2 (max 0.1)" in v2
    assert blocks[4]["text"]["text"] == "*`v3`* (staging) — _no check runs yet_"
    assert "production v2" in message.text and "2 open alerts" in message.text


def test_stage_history_and_small_messages() -> None:
    items = [
        TransitionOut(
            stage="production",
            from_version="v1",
            to_version="v2",
            actor="U_ANA",
            reason="better auc",
            via="slack",
            at=NOW,
        )
    ]
    history = stage_history("scorer", items, total=12)
    assert "`v1` → `v2` by <@U_ANA> via slack" in texts(history)
    assert history.to_dict()["blocks"][-1]["elements"][0]["text"] == "Showing 1 of 12 changes."

    refusal = error_message("No model `scorr`.", "Did you mean `scorer`?")
    assert refusal.to_dict()["blocks"][1]["elements"][0]["text"] == ":bulb: Did you mean `scorer`?"
    assert "<@U_ALICE>" in texts(whoami("U_ALICE", ["ml-lead"]))
    assert "no modelgate roles" in whoami("U_ALICE", []).text
    assert "U_ALICE" in run_started("scorer", "v1", "U_ALICE").text


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


@pytest.mark.parametrize("index", range(len(all_builders())))
def test_every_builder_output_is_valid(index: int) -> None:
    message = all_builders()[index]
    assert message.text.strip()
    assert 0 < len(message.blocks) <= 50
    for block in message.blocks:
        block.validate_json()
    json.dumps(message.to_dict())


def test_message_enforces_the_block_limit() -> None:
    blocks = [SectionBlock(text="x") for _ in range(51)]
    with pytest.raises(ValueError, match="51 blocks"):
        Message(text="x", blocks=blocks)
    with pytest.raises(ValueError, match="fallback"):
        Message(text=" ", blocks=[])
