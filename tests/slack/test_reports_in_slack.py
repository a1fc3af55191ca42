"""Reports reaching Slack through the Notifier: charts in the thread, API-started runs in the
model's channel; the roles file; the app manifest; joining an identical active run."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest
import yaml

from bot.app import COMMAND
from bot.commands import COMMANDS
from bot.roles import RoleResolver, RolesFileError, load_roles
from modelgate.db import session_scope
from modelgate.policy import effective_for
from modelgate.registry import service as registry
from modelgate.registry.schemas import ModelUpdate
from modelgate.runs import service as runs
from modelgate.tokens import create_token
from tests.slack.conftest import SlackApp
from tests.slack.fake_slack import FakeSlack

ROOT = Path(__file__).resolve().parents[2]


def test_drift_chart_is_uploaded_into_the_report_thread(
    slack_app: SlackApp, scorer: str, credit_files: dict[str, Path]
) -> None:
    window = credit_files["shifted"].as_uri()
    slack_app.command(f"check scorer v1 {window}", channel_id="C_MODELS")
    [root] = slack_app.fake.wait_for("chat.postMessage")
    [update] = slack_app.fake.wait_for("chat.update", timeout=90)
    assert update.params["blocks"][0]["text"]["text"] == ":warning: scorer v1 · WARNED"
    slack_app.fake.wait_for("files.completeUploadExternal", timeout=30)
    [chart] = slack_app.fake.uploaded_files
    assert chart.completed and chart.channel == "C_MODELS"
    assert chart.thread_ts == update.params["ts"]  # in the report's thread
    assert chart.data[:8] == b"\x89PNG\r\n\x1a\n" and chart.title == "drift: drift scores"
    del root


def test_a_run_started_through_the_api_is_reported_in_the_models_channel(
    slack_app: SlackApp,
    scorer: str,
    engine,  # type: ignore[no-untyped-def]
) -> None:
    with session_scope(engine) as s:
        registry.update_model(s, name=scorer, patch=ModelUpdate(slack_channel="C0RISK1"), actor="a")
        token, _ = create_token(s, name="ci", scopes=["write"], actor="test")
    r = slack_app.http.post(
        "/api/v1/models/scorer/versions/v1/runs",
        json={},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 202
    [post] = slack_app.fake.wait_for("chat.postMessage", timeout=90)
    assert post.params["channel"] == "C0RISK1"
    assert post.params["blocks"][0]["text"]["text"] == ":white_check_mark: scorer v1 · PASSED"
    assert f"Run `{r.json()['id']}` · api · requested by token:ci" in str(post.params["blocks"])


def test_roles_file_errors_name_the_file_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "roles.yaml"
    bad.write_text("roles:\n  ml-lead: {user: [U1]}\n")
    with pytest.raises(RolesFileError, match=r"roles.yaml: roles\.ml-lead\.user: Extra inputs"):
        load_roles(bad)
    bad.write_text("roles: [\n")
    with pytest.raises(RolesFileError, match="is not valid YAML"):
        load_roles(bad)
    with pytest.raises(RolesFileError, match="cannot read roles file"):
        load_roles(tmp_path / "missing.yaml")
    assert load_roles(None).roles == {}


def test_user_groups_are_resolved_through_the_web_api_and_cached(tmp_path: Path) -> None:
    from slack_sdk.web.async_client import AsyncWebClient

    path = tmp_path / "roles.yaml"
    path.write_text(
        "roles:\n  ml-lead: {groups: [S_LEADS]}\n  admin: {users: [U_OPS], groups: [S_NONE]}\n"
    )
    with FakeSlack(usergroups={"S_LEADS": ["U_BOB"]}) as fake:
        client = AsyncWebClient(token="xoxb-t", base_url=fake.base_url)
        resolver = RoleResolver(load_roles(path), client, cache_s=300)

        async def ask() -> list[list[str]]:
            return [await resolver.roles_of(u) for u in ("U_BOB", "U_BOB", "U_OPS", "U_X")]

        assert asyncio.run(ask()) == [["ml-lead"], ["ml-lead"], ["admin"], []]
        groups = [c.params["usergroup"] for c in fake.calls("usergroups.users.list")]
        assert sorted(groups) == ["S_LEADS", "S_NONE"]  # once each; S_NONE is unknown: no one
        assert asyncio.run(resolver.allowed("U_BOB", "check")) == (
            True,
            ["ml-engineer", "ml-lead", "admin"],
        )


def test_the_manifest_matches_the_app() -> None:
    manifest = yaml.safe_load((ROOT / "deploy" / "slack-manifest.yaml").read_text())
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == COMMAND
    for sub in COMMANDS:
        assert sub.name in command["usage_hint"]
    settings = manifest["settings"]
    urls = {command["url"], settings["interactivity"]["request_url"]}
    urls.add(settings["event_subscriptions"]["request_url"])
    assert len(urls) == 1 and urls.pop().endswith("/slack/events")
    assert settings["event_subscriptions"]["bot_events"] == ["app_mention"]
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "usergroups:read", "files:write"} <= scopes


def test_concurrent_identical_requests_join_one_run(run_settings, engine, scorer: str) -> None:  # type: ignore[no-untyped-def]
    """Two threads ask for the same check at once (both databases): one run is created."""
    barrier = threading.Barrier(2)
    outcomes: list[tuple[str, bool]] = []
    errors: list[BaseException] = []

    def ask() -> None:
        try:
            with session_scope(engine) as s:
                policy = effective_for(s, run_settings, model_name=scorer)
            barrier.wait()
            with session_scope(engine) as s:
                run, created = runs.start_or_join_run(
                    s, model_name=scorer, version="v1", policy=policy,
                    requested_by="slack:U1", trigger="slack",
                )  # fmt: skip
                outcomes.append((run.id, created))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    assert sorted(created for _, created in outcomes) == [False, True]
    assert len({run_id for run_id, _ in outcomes}) == 1
    # once it finishes, the same request starts a new run
    with session_scope(engine) as s:
        runs.finish_run(s, outcomes[0][0], status=runs.RunStatus.ERRORED, results=[])
    with session_scope(engine) as s:
        policy = effective_for(s, run_settings, model_name=scorer)
        _, created = runs.start_or_join_run(
            s, model_name=scorer, version="v1", policy=policy, requested_by="x", trigger="slack"
        )
    assert created


def test_a_run_abandoned_by_a_dead_worker_does_not_block_new_requests(
    run_settings, engine, scorer: str
) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from sqlalchemy import update

    from modelgate.runs.models import CheckRun

    with session_scope(engine) as s:
        policy = effective_for(s, run_settings, model_name=scorer)
        first, _ = runs.start_or_join_run(
            s, model_name=scorer, version="v1", policy=policy, requested_by="x", trigger="slack"
        )
        long_ago = first.created_at - runs.stale_after(first) - timedelta(seconds=1)
        s.execute(update(CheckRun).where(CheckRun.id == first.id).values(created_at=long_ago))
    with session_scope(engine) as s:
        second, created = runs.start_or_join_run(
            s, model_name=scorer, version="v1", policy=policy, requested_by="y", trigger="slack"
        )
    assert created and second.id != first.id
    with session_scope(engine) as s:
        old = runs.get_run(s, first.id)
        assert old.status == "errored" and "abandoned" in (old.error or "")


def test_without_files_write_the_report_stands_and_charts_are_skipped(
    slack_app: SlackApp,
    scorer: str,
    credit_files: dict[str, Path],
    caplog: pytest.LogCaptureFixture,
) -> None:
    slack_app.fake.fail_next("files.getUploadURLExternal", status=200, error="missing_scope")
    slack_app.command(f"check scorer v1 {credit_files['shifted'].as_uri()}")
    [update] = slack_app.fake.wait_for("chat.update", timeout=90)
    assert update.params["blocks"][0]["text"]["text"] == ":warning: scorer v1 · WARNED"
    slack_app.fake.wait_for("files.getUploadURLExternal")
    deadline = time.monotonic() + 10
    while not any("not uploaded" in r.getMessage() for r in caplog.records):
        assert time.monotonic() < deadline, "no warning about the skipped charts"
        time.sleep(0.1)
    assert slack_app.fake.uploaded_files == []
    assert "missing_scope" in next(
        r.getMessage() for r in caplog.records if "not uploaded" in r.getMessage()
    )
