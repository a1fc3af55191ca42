"""`/modelgate` end to end: signed requests to our app, Block Kit recorded by a fake Slack.

Runs on SQLite and PostgreSQL (the `engine` fixture), with the real worker pool."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from modelgate.db import session_scope
from modelgate.registry import service as registry
from modelgate.registry.schemas import ModelUpdate
from modelgate.runs.models import CheckRun
from tests.slack.conftest import SlackApp
from tests.slack.signing import block_actions_body, event_body, slash_command_body


def texts(message: dict[str, Any]) -> str:
    """Everything a person reads in a message: the text of its blocks, one per line."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(message.get("blocks", []))
    return "\n".join(found)


def set_stage(engine: Any, settings: Any, stage: str, *, actor: str, reason: str) -> None:
    """Put scorer v1 in `stage` (as a promotion would), via the registry service."""
    with session_scope(engine) as s:
        registry.set_stage(
            s, model_name="scorer", stage=stage, version="v1", actor=actor, reason=reason,
            stages=settings.stages, via="test",
        )  # fmt: skip


def runs_in_db(engine: Any) -> list[CheckRun]:
    from sqlmodel import select

    with session_scope(engine) as s:
        return list(s.exec(select(CheckRun)).all())


def test_help_lists_every_subcommand_with_an_example(slack_app: SlackApp, scorer: str) -> None:
    r = slack_app.command("help")
    assert r.status_code == 200 and r.content == b""  # the ack: empty, at once
    reply = slack_app.reply()
    assert reply["response_type"] == "ephemeral"
    for sub in ("models", "status", "check", "report", "history", "whoami"):
        assert f"`{sub}" in texts(reply)
    assert "/modelgate check credit-risk v2" in texts(reply)
    # no text at all is help too
    slack_app.command("", token="r2")
    assert slack_app.reply("r2")["text"] == reply["text"]


def test_unknown_subcommand_suggests_the_closest(slack_app: SlackApp, scorer: str) -> None:
    slack_app.command("stauts scorer")
    reply = slack_app.reply()
    assert reply["response_type"] == "ephemeral"
    assert "Unknown command 'stauts'" in reply["text"]
    assert "/modelgate status" in reply["text"]


def test_missing_argument_says_which_and_shows_usage(slack_app: SlackApp, scorer: str) -> None:
    slack_app.command("status")
    reply = slack_app.reply()
    assert "`status` needs <model>" in reply["text"]
    assert "/modelgate status credit-risk" in reply["text"]


def test_unknown_model_suggests_a_registered_one(slack_app: SlackApp, scorer: str) -> None:
    slack_app.command("status scorr")
    assert "There is no model called 'scorr'. Did you mean `scorer`?" in slack_app.reply()["text"]


def test_text_containing_payload_is_still_a_command(slack_app: SlackApp, scorer: str) -> None:
    """Bolt's parser would read this form body as an (empty) interactivity payload."""
    r = slack_app.command("status payload-scorer")
    assert r.status_code == 200
    reply = slack_app.reply()
    assert reply["response_type"] == "ephemeral"
    assert "There is no model called 'payload-scorer'. Did you mean `scorer`?" in reply["text"]


def test_models_lists_tier_production_and_last_run(
    slack_app: SlackApp, scorer: str, engine
) -> None:  # type: ignore[no-untyped-def]
    set_stage(engine, slack_app.settings, "production", actor="ana", reason="first release")
    slack_app.command("models")
    reply = slack_app.reply()
    assert reply["response_type"] == "ephemeral"
    blocks = reply["blocks"]
    assert blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Models (1)", "emoji": True},
    }
    line = blocks[1]["text"]["text"]
    assert "*scorer*" in line and "risk medium" in line and "production `v1`" in line
    assert "_never checked_" in line


def test_status_history_and_whoami(slack_app: SlackApp, scorer: str, engine) -> None:  # type: ignore[no-untyped-def]
    set_stage(engine, slack_app.settings, "staging", actor="slack:U_ALICE", reason="try it")
    slack_app.command("status scorer", token="status")
    status = slack_app.reply("status")
    assert status["blocks"][0]["text"]["text"] == "scorer"
    assert "*staging*\n`v1`" in texts(status) and "_no check runs yet_" in texts(status)

    slack_app.command("history scorer", token="history")
    history = texts(slack_app.reply("history"))
    assert "*staging* `∅` → `v1` by <@U_ALICE> via test" in history and "try it" in history

    slack_app.command("whoami", token="me", user_id="U_BOB")  # ml-lead through a user group
    assert "`ml-lead`" in texts(slack_app.reply("me"))
    slack_app.command("whoami", token="nobody", user_id="U_CAROL")
    assert "no modelgate roles" in slack_app.reply("nobody")["text"]


def test_check_posts_running_then_the_report_in_the_channel(
    slack_app: SlackApp, scorer: str, engine
) -> None:  # type: ignore[no-untyped-def]
    t0 = time.monotonic()
    r = slack_app.command("check scorer", channel_id="C_MODELS")
    assert r.status_code == 200 and time.monotonic() - t0 < 3
    ack = slack_app.reply()
    assert ack["response_type"] == "ephemeral" and "Queued run" in ack["text"]
    [root] = slack_app.fake.wait_for("chat.postMessage")
    assert root.params["channel"] == "C_MODELS"
    assert "Running checks on scorer v1 requested by <@U_ALICE>" in root.params["text"]

    [update] = slack_app.fake.wait_for("chat.update", timeout=90)
    root_ts = slack_app.fake.calls("chat.postMessage")[0]
    assert update.params["channel"] == "C_MODELS" and update.params["ts"]
    [run] = runs_in_db(engine)
    assert run.status == "passed" and run.requested_by == "slack:U_ALICE"
    assert run.notify and run.notify["ts"] == update.params["ts"]
    blocks = update.params["blocks"]
    assert blocks[0]["type"] == "header"
    assert blocks[0]["text"]["text"] == ":white_check_mark: scorer v1 · PASSED"
    body = texts(update.params)
    assert "kpi" in body and "fairness" in body and "quality" in body
    assert "Skipped (they need a current data window)" in body and "`drift`" in body
    buttons = blocks[-1]["elements"]
    assert buttons[0]["url"].startswith(f"http://modelgate.test/reports/{run.id}?exp=")
    assert json.loads(buttons[1]["value"]) == {"model": "scorer", "version": "v1", "current": None}
    assert update.params["text"].startswith("scorer v1: PASSED")
    assert root_ts.params["channel"] == "C_MODELS"

    # the link in the message opens the report without a token; a forged one does not
    link = buttons[0]["url"].removeprefix("http://modelgate.test")
    page = slack_app.http.get(link)
    assert page.status_code == 200 and "scorer" in page.text and "PASSED" in page.text.upper()
    assert slack_app.http.get(link[:-4] + "0000").status_code == 401


def test_check_needs_a_role_and_says_which(slack_app: SlackApp, scorer: str, engine) -> None:  # type: ignore[no-untyped-def]
    slack_app.command("check scorer", user_id="U_CAROL")
    reply = slack_app.reply()
    assert reply["response_type"] == "ephemeral"
    assert (
        "You need one of the roles `ml-engineer`, `ml-lead`, `admin` to run checks."
        in reply["text"]
    )
    assert runs_in_db(engine) == [] and slack_app.fake.calls("chat.postMessage") == []


def test_check_of_an_unknown_version_suggests_one(slack_app: SlackApp, scorer: str, engine) -> None:  # type: ignore[no-untyped-def]
    slack_app.command("check scorer v2")
    assert "scorer has no version 'v2'. Did you mean `v1`?" in slack_app.reply()["text"]
    assert runs_in_db(engine) == []


def test_repeated_rerun_clicks_start_one_run(slack_app: SlackApp, scorer: str, engine) -> None:  # type: ignore[no-untyped-def]
    value = json.dumps({"model": "scorer", "version": "v1", "current": None})
    for token in ("c1", "c2"):
        body = block_actions_body(
            "run.rerun", value, user_id="U_BOB", response_url=slack_app.fake.response_url(token)
        )
        assert slack_app.post(body).status_code == 200
    first, second = slack_app.reply("c1"), slack_app.reply("c2")
    answers = sorted([first["text"], second["text"]])
    assert answers[0].startswith("A check of scorer v1 on the same data is already running")
    assert answers[1].startswith("Queued run")
    slack_app.fake.wait_for("chat.update", timeout=90)
    assert len(runs_in_db(engine)) == 1


def test_forged_stale_or_unsigned_requests_are_refused(
    slack_app: SlackApp, scorer: str, engine
) -> None:  # type: ignore[no-untyped-def]
    body = slash_command_body("check scorer", response_url=slack_app.fake.response_url())
    forged = {**slack_app.signer.headers(body), "X-Slack-Signature": "v0=" + "0" * 64}
    stale = slack_app.signer.headers(body, timestamp=int(time.time()) - 6 * 60)
    unsigned = {"Content-Type": "application/x-www-form-urlencoded"}
    tampered = slack_app.signer.headers(body)
    for headers, content in (
        (forged, body),
        (stale, body),
        (unsigned, body),
        (tampered, body + b"x"),
    ):
        r = slack_app.http.post("/slack/events", content=content, headers=headers)
        assert r.status_code == 401
    time.sleep(0.5)  # anything the app would have done after an ack has had time to happen
    assert slack_app.fake.calls() == [] and runs_in_db(engine) == []


def test_a_retried_event_is_handled_once(slack_app: SlackApp) -> None:
    event = {
        "type": "app_mention",
        "user": "U_ALICE",
        "text": "<@U_BOT> help",
        "channel": "C_MODELS",
        "ts": "1700000000.000200",
    }
    body = event_body(event, event_id="Ev0RETRY1")
    assert slack_app.post(body).status_code == 200
    retry = {
        **slack_app.signer.headers(body),
        "X-Slack-Retry-Num": "1",
        "X-Slack-Retry-Reason": "http_timeout",
    }
    assert slack_app.post(body, retry).status_code == 200
    [reply] = slack_app.fake.wait_for("chat.postMessage")
    assert reply.params["thread_ts"] == "1700000000.000200"
    assert "modelgate commands" in reply.params["text"]
    time.sleep(0.5)
    assert len(slack_app.fake.calls("chat.postMessage")) == 1


def test_a_429_from_slack_is_retried_after_retry_after(slack_app: SlackApp, scorer: str) -> None:
    slack_app.fake.fail_next("chat.postMessage", status=429, retry_after=1)
    slack_app.command("check scorer")
    assert "Queued run" in slack_app.reply(timeout=15)["text"]
    attempts = slack_app.fake.wait_for("chat.postMessage", count=2, timeout=15)
    assert [a.status for a in attempts] == [429, 200]
    assert attempts[1].at - attempts[0].at >= 0.9
    slack_app.fake.wait_for("chat.update", timeout=90)


def test_report_command_and_posting_to_the_models_channel(
    slack_app: SlackApp, scorer: str, engine
) -> None:  # type: ignore[no-untyped-def]
    with session_scope(engine) as s:
        registry.update_model(
            s, name=scorer, patch=ModelUpdate(slack_channel="#risk-models"), actor="ana"
        )
    slack_app.command("check scorer v1", channel_id="C_ELSEWHERE")
    [root] = slack_app.fake.wait_for("chat.postMessage")
    assert root.params["channel"] == "#risk-models"  # the model's channel, not the invoking one
    slack_app.fake.wait_for("chat.update", timeout=90)
    [run] = runs_in_db(engine)
    slack_app.command(f"report {run.id[:8]}", token="rep")
    report = slack_app.reply("rep")
    assert report["response_type"] == "ephemeral"
    assert report["blocks"][0]["text"]["text"] == ":white_check_mark: scorer v1 · PASSED"
    slack_app.command("report 12345", token="bad")
    assert "'12345' is not a run id" in slack_app.reply("bad")["text"]
    slack_app.command("report ffffffff", token="none")
    assert "There is no run 'ffffffff'" in slack_app.reply("none")["text"]


def test_an_unexpected_error_gives_an_error_id_and_logs_it(
    slack_app: SlackApp,
    scorer: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from bot import queries

    def broken(*args: object) -> None:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(queries, "models_message", broken)
    slack_app.command("models")
    reply = slack_app.reply()
    assert reply["response_type"] == "ephemeral"
    assert "Something went wrong on our side (error id " in reply["text"]
    error_id = reply["text"].split("error id ")[1].split(")")[0]
    assert "database on fire" not in reply["text"]
    assert any(error_id in r.getMessage() and r.exc_info for r in caplog.records)
