"""Run report builders (bot/blocks/report.py): exact structure for a small run, limits for big."""

from __future__ import annotations

import json

from slack_sdk.models.blocks import SectionBlock

from bot.blocks import run_report
from checks.base import Status, Violation
from tests.bot.blocks_data import FPR_WHY, result, run_out, small_run, texts


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
