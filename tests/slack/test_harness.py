"""The Slack test harness itself: real slack_sdk clients against FakeSlack, and signing."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from urllib.parse import parse_qs

import pytest
from slack_bolt.request.internals import parse_body
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook import WebhookClient

from tests.slack.fake_slack import FakeSlack
from tests.slack.signing import (
    SlackSigner,
    block_actions_body,
    event_body,
    slash_command_body,
    view_submission_body,
)

TOKEN = "xoxb-test-token"
BLOCKS = [
    {"type": "header", "text": {"type": "plain_text", "text": "scorer v1 · PASSED"}},
    {"type": "section", "text": {"type": "mrkdwn", "text": ":white_check_mark: *kpi*"}},
]
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy")


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in PROXY_VARS:  # slack_sdk honours these and ignores NO_PROXY
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack(usergroups={"S_LEADS": ["U_ALICE", "U_BOB"]}) as f:
        yield f


def client(fake: FakeSlack, **kwargs: object) -> WebClient:
    return WebClient(token=TOKEN, base_url=fake.base_url, **kwargs)  # type: ignore[arg-type]


def test_sync_client_post_message_records_exact_blocks(fake: FakeSlack) -> None:
    web = client(fake)
    first = web.chat_postMessage(channel="C_MODELS", text="scorer v1 passed", blocks=BLOCKS)
    second = web.chat_postMessage(channel="C_MODELS", text="again", thread_ts=first["ts"])

    assert first["ok"] and first["channel"] == "C_MODELS"
    assert first["ts"] != second["ts"]
    assert first["message"]["blocks"] == BLOCKS
    assert second["message"]["thread_ts"] == first["ts"]
    call = fake.calls("chat.postMessage")[0]
    assert call.params == {"channel": "C_MODELS", "text": "scorer v1 passed", "blocks": BLOCKS}
    assert call.headers["authorization"] == f"Bearer {TOKEN}"
    assert call.headers["content-type"].startswith("application/json")


def test_sync_client_other_methods(fake: FakeSlack) -> None:
    web = client(fake)
    assert web.auth_test()["user_id"] == "U_BOT"
    ts = web.chat_postMessage(channel="C1", text="x")["ts"]
    assert web.chat_update(channel="C1", ts=ts, text="y")["message"]["text"] == "y"
    assert web.chat_postEphemeral(channel="C1", user="U_ALICE", text="z")["message_ts"]
    assert web.chat_delete(channel="C1", ts=ts)["ok"]
    assert web.users_info(user="U_ALICE")["user"]["name"] == "alice"
    assert web.usergroups_users_list(usergroup="S_LEADS")["users"] == ["U_ALICE", "U_BOB"]
    assert web.conversations_info(channel="C_MODELS")["channel"]["name"] == "models"
    view = {"type": "modal", "callback_id": "promote", "title": {"type": "plain_text", "text": "t"}}
    assert web.views_open(trigger_id="1.2.abc", view=view)["view"]["callback_id"] == "promote"
    with pytest.raises(SlackApiError) as err:
        web.api_call("bogus.method")
    assert err.value.response["error"] == "unknown_method"
    with pytest.raises(SlackApiError, match="no_such_subteam"):
        web.usergroups_users_list(usergroup="S_NOPE")
    with pytest.raises(SlackApiError, match="not_authed"):
        WebClient(base_url=fake.base_url).auth_test()


def test_async_client_posts_json_and_gets_query(fake: FakeSlack) -> None:
    async def go() -> tuple[str, str]:
        web = AsyncWebClient(token=TOKEN, base_url=fake.base_url)
        posted = await web.chat_postMessage(channel="C_MODELS", text="hi", blocks=BLOCKS)
        user = await web.users_info(user="U_BOB")
        return posted["ts"], user["user"]["id"]

    ts, user_id = asyncio.run(go())
    assert ts and user_id == "U_BOB"
    assert fake.calls("chat.postMessage")[0].params["blocks"] == BLOCKS
    info = fake.calls("users.info")[0]
    assert (info.verb, info.params, info.body) == ("GET", {"user": "U_BOB"}, b"")


def test_files_upload_v2_round_trips_bytes(fake: FakeSlack) -> None:
    data = bytes(range(256)) * 40
    done = client(fake).files_upload_v2(
        channel="C_MODELS", thread_ts="1.2", filename="roc.png", content=data, title="ROC"
    )
    assert done["file"]["title"] == "ROC"
    [upload] = fake.uploaded_files
    assert upload.data == data and upload.filename == "roc.png" and upload.completed
    assert (upload.channel, upload.thread_ts) == ("C_MODELS", "1.2")
    methods = [c.method for c in fake.calls()]
    assert methods == ["files.getUploadURLExternal", "upload", "files.completeUploadExternal"]


def test_rate_limited_call_is_retried_after_retry_after(fake: FakeSlack) -> None:
    fake.fail_next("chat.postMessage", status=429, retry_after=0)
    web = client(fake, retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)])
    assert web.chat_postMessage(channel="C1", text="hello")["ok"]
    calls = fake.calls("chat.postMessage")
    assert [c.status for c in calls] == [429, 200]
    assert calls[0].params == calls[1].params


def test_rate_limit_without_retry_handler_raises(fake: FakeSlack) -> None:
    fake.fail_next("chat.postMessage", retry_after=7)
    with pytest.raises(SlackApiError) as err:
        client(fake, retry_handlers=[]).chat_postMessage(channel="C1", text="x")
    assert err.value.response.status_code == 429
    assert err.value.response.headers["Retry-After"] == "7"
    assert err.value.response["error"] == "ratelimited"


def test_async_rate_limit_retry(fake: FakeSlack) -> None:
    fake.fail_next("chat.update", retry_after=0)
    handlers: list[AsyncRetryHandler] = [AsyncRateLimitErrorRetryHandler(max_retry_count=1)]

    async def go() -> bool:
        web = AsyncWebClient(token=TOKEN, base_url=fake.base_url, retry_handlers=handlers)
        return bool((await web.chat_update(channel="C1", ts="1.1", text="x"))["ok"])

    assert asyncio.run(go())
    assert [c.status for c in fake.calls("chat.update")] == [429, 200]


def test_respond_overrides_and_errors(fake: FakeSlack) -> None:
    fake.respond("users.info", {"ok": True, "user": {"id": "U_X", "name": "custom"}})
    fake.fail_next("chat.postMessage", status=200, error="channel_not_found")
    web = client(fake)
    assert web.users_info(user="U_X")["user"]["name"] == "custom"
    with pytest.raises(SlackApiError, match="channel_not_found"):
        web.chat_postMessage(channel="C_GONE", text="x")
    assert web.chat_postMessage(channel="C1", text="x")["ok"]
    fake.reset()
    assert fake.calls() == []
    assert web.users_info(user="U_X")["user"]["name"] == "x"


def test_wait_for_sees_calls_made_later_and_times_out(fake: FakeSlack) -> None:
    def later() -> None:
        time.sleep(0.2)
        client(fake).chat_postMessage(channel="C1", text="done", thread_ts="9.9")

    threading.Thread(target=later).start()
    [call] = fake.wait_for("chat.postMessage", predicate=lambda c: c.params.get("text") == "done")
    assert call.params["thread_ts"] == "9.9"
    with pytest.raises(AssertionError, match=r"chat\.update"):
        fake.wait_for("chat.update", timeout=0.2)


def test_response_url_records_posts(fake: FakeSlack) -> None:
    url = fake.response_url("tok1")
    assert WebhookClient(url).send(text="queued", response_type="ephemeral").status_code == 200
    assert fake.responses("tok1") == [{"text": "queued", "response_type": "ephemeral"}]
    assert fake.responses("other") == []


def test_signatures_verify_and_tampering_fails() -> None:
    signer, verifier = SlackSigner("s3cret"), SignatureVerifier("s3cret")
    body = slash_command_body("status scorer")
    headers = signer.headers(body)
    assert verifier.is_valid_request(body, headers)
    assert not verifier.is_valid_request(body + b"&x=1", headers)
    assert not SignatureVerifier("other").is_valid_request(body, headers)
    stale = signer.headers(body, timestamp=int(time.time()) - 301)
    assert not verifier.is_valid_request(body, stale)
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert signer.headers(event_body({"type": "app_mention"}))["Content-Type"] == (
        "application/json"
    )


def test_body_builders_parse_like_slack_payloads() -> None:
    slash = parse_qs(slash_command_body("status scorer", response_url="http://r/1").decode())
    assert slash["command"] == ["/modelgate"] and slash["text"] == ["status scorer"]
    assert slash["user_id"] == ["U_ALICE"] and slash["response_url"] == ["http://r/1"]

    value = json.dumps({"model": "scorer", "version": "v1"})
    body = block_actions_body("run.rerun", value, message_ts="1.5", thread_ts="1.0")
    payload = parse_body(body.decode(), "application/x-www-form-urlencoded")
    assert payload["type"] == "block_actions" and payload["user"]["id"] == "U_ALICE"
    assert payload["actions"][0]["action_id"] == "run.rerun"
    assert payload["actions"][0]["value"] == value
    assert payload["container"]["message_ts"] == "1.5"
    assert payload["message"]["thread_ts"] == "1.0"

    event = parse_body(
        event_body({"type": "app_mention", "text": "hi"}, event_id="Ev1").decode(), None
    )
    assert (event["type"], event["event_id"], event["event"]["text"]) == (
        "event_callback",
        "Ev1",
        "hi",
    )

    sub = parse_body(view_submission_body("promote", {}, private_metadata="m").decode(), None)
    assert sub["view"]["callback_id"] == "promote" and sub["view"]["private_metadata"] == "m"


def test_bolt_payload_pitfall_is_reproducible() -> None:
    """Bolt parses any form body containing "payload" as interactivity (SLACK_NOTES.md)."""
    body = slash_command_body("status payload-scorer").decode()
    assert parse_body(body, "application/x-www-form-urlencoded") == {}


def test_bolt_app_verifies_signed_bodies_and_calls_the_fake(fake: FakeSlack) -> None:
    from slack_bolt import Ack, App, BoltRequest, Respond

    signer = SlackSigner("bolt-secret")
    app = App(signing_secret="bolt-secret", client=client(fake))

    @app.command("/modelgate")
    def command(ack: Ack, command: dict[str, str], respond: Respond) -> None:
        ack()
        respond(text=f"got {command['text']}", response_type="ephemeral")

    @app.action("run.rerun")
    def rerun(ack: Ack, body: dict[str, object], client: WebClient) -> None:
        ack()
        client.chat_postMessage(channel="C_MODELS", text="rerun", thread_ts="1.0")

    def dispatch(body: bytes, headers: dict[str, str]) -> int:
        return app.dispatch(BoltRequest(body=body.decode(), headers=headers)).status

    slash = slash_command_body("status scorer", response_url=fake.response_url("s1"))
    assert dispatch(slash, signer.headers(slash)) == 200
    fake.wait_for("response_url")  # Bolt runs the rest of the listener after the ack
    assert fake.responses("s1") == [{"text": "got status scorer", "response_type": "ephemeral"}]
    click = block_actions_body("run.rerun", "{}", thread_ts="1.0")
    assert dispatch(click, signer.headers(click)) == 200
    assert fake.wait_for("chat.postMessage")[0].params["thread_ts"] == "1.0"
    assert dispatch(slash + b"x", signer.headers(slash)) == 401
    assert dispatch(slash, signer.headers(slash, timestamp=int(time.time()) - 600)) == 401
    assert fake.calls("auth.test")  # the app verified its token against the fake
