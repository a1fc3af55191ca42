"""Signed Slack requests for tests: headers as Slack computes them, and request bodies shaped
like the slash commands, interactivity payloads and Events API callbacks Slack sends.

    signer = SlackSigner("secret")
    body = slash_command_body("status scorer", response_url=fake.response_url("r1"))
    client.post("/slack/events", content=body, headers=signer.headers(body))
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

TEAM_ID = "T1"
TEAM_DOMAIN = "modelgate-test"
APP_ID = "A_MODELGATE"
BOT_USER_ID = "U_BOT"
# Not routable: a handler that posts to a default response_url fails fast instead of
# reaching the internet. Tests pass FakeSlack.response_url(token) instead.
UNSET_RESPONSE_URL = "http://127.0.0.1:9/response/unset"


class SlackSigner:
    """Signs request bodies with a signing secret, exactly as Slack does (v0 scheme)."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self._verifier = SignatureVerifier(secret)

    def headers(
        self, body: bytes, timestamp: int | None = None, *, content_type: str | None = None
    ) -> dict[str, str]:
        """X-Slack-Request-Timestamp, X-Slack-Signature and a Content-Type (JSON if the body
        looks like JSON, else form-encoded, unless given)."""
        ts = str(int(time.time()) if timestamp is None else timestamp)
        signature = self._verifier.generate_signature(timestamp=ts, body=body)
        assert signature is not None
        if content_type is None:
            json_body = body.lstrip().startswith(b"{")
            content_type = "application/json" if json_body else "application/x-www-form-urlencoded"
        return {
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature,
            "Content-Type": content_type,
        }


def new_trigger_id() -> str:
    """A fresh trigger id in Slack's format (digits.digits.hex)."""
    return f"{int(time.time() * 1000)}.{uuid.uuid4().int % 10**12}.{uuid.uuid4().hex}"


def _name(user_id: str) -> str:
    return user_id.lower().removeprefix("u_").removeprefix("u") or "someone"


def slash_command_body(
    text: str,
    *,
    user_id: str = "U_ALICE",
    channel_id: str = "C_MODELS",
    command: str = "/modelgate",
    response_url: str = UNSET_RESPONSE_URL,
    trigger_id: str | None = None,
    team_id: str = TEAM_ID,
    user_name: str | None = None,
    channel_name: str | None = None,
) -> bytes:
    """A slash command as Slack posts it (application/x-www-form-urlencoded)."""
    fields = {
        "token": "unused-verification-token",
        "team_id": team_id,
        "team_domain": TEAM_DOMAIN,
        "channel_id": channel_id,
        "channel_name": channel_name or channel_id.lower().removeprefix("c_"),
        "user_id": user_id,
        "user_name": user_name or _name(user_id),
        "command": command,
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id or new_trigger_id(),
    }
    return urlencode(fields).encode()


def block_actions_body(
    action_id: str,
    value: str,
    *,
    user_id: str = "U_ALICE",
    channel_id: str = "C_MODELS",
    message_ts: str = "1700000000.000100",
    thread_ts: str | None = None,
    response_url: str = UNSET_RESPONSE_URL,
    block_id: str = "actions",
    trigger_id: str | None = None,
    team_id: str = TEAM_ID,
    message: dict[str, Any] | None = None,
) -> bytes:
    """A button click (block_actions) as Slack posts it: form field ``payload`` holding JSON.

    `message` is merged into the clicked message (e.g. its ``text`` and ``blocks``)."""
    container: dict[str, Any] = {
        "type": "message",
        "message_ts": message_ts,
        "channel_id": channel_id,
        "is_ephemeral": False,
    }
    clicked: dict[str, Any] = {
        "type": "message",
        "user": BOT_USER_ID,
        "bot_id": "B_BOT",
        "team": team_id,
        "ts": message_ts,
        "text": "",
        "blocks": [],
    }
    if thread_ts is not None:
        container["thread_ts"] = thread_ts
        clicked["thread_ts"] = thread_ts
    clicked.update(message or {})
    payload = {
        "type": "block_actions",
        "user": {
            "id": user_id,
            "username": _name(user_id),
            "name": _name(user_id),
            "team_id": team_id,
        },
        "api_app_id": APP_ID,
        "token": "unused-verification-token",
        "container": container,
        "trigger_id": trigger_id or new_trigger_id(),
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": channel_id.lower().removeprefix("c_")},
        "message": clicked,
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [
            {
                "action_id": action_id,
                "block_id": block_id,
                "text": {"type": "plain_text", "text": action_id, "emoji": True},
                "value": value,
                "type": "button",
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def view_submission_body(
    callback_id: str,
    values: dict[str, dict[str, Any]],
    *,
    private_metadata: str = "",
    user_id: str = "U_ALICE",
    team_id: str = TEAM_ID,
) -> bytes:
    """A modal submission; `values` is ``view.state.values`` (block_id → action_id → state),
    e.g. ``{"reason": {"reason": {"type": "plain_text_input", "value": "why"}}}``."""
    view = {
        "id": "V_MODAL",
        "team_id": team_id,
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": private_metadata,
        "state": {"values": values},
        "hash": f"{int(time.time())}.abc",
        "app_id": APP_ID,
        "bot_id": "B_BOT",
        "blocks": [],
    }
    payload = {
        "type": "view_submission",
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "user": {
            "id": user_id,
            "username": _name(user_id),
            "name": _name(user_id),
            "team_id": team_id,
        },
        "api_app_id": APP_ID,
        "token": "unused-verification-token",
        "trigger_id": new_trigger_id(),
        "view": view,
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def event_body(
    event: dict[str, Any], *, event_id: str | None = None, team_id: str = TEAM_ID
) -> bytes:
    """An Events API ``event_callback`` (JSON) wrapping `event`."""
    now = int(time.time())
    body = {
        "token": "unused-verification-token",
        "team_id": team_id,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": now,
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": BOT_USER_ID,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-{uuid.uuid4().hex}",
    }
    return json.dumps(body).encode()


def url_verification_body(challenge: str = "challenge-token") -> bytes:
    """The handshake Slack sends when the request URL is configured."""
    return json.dumps(
        {"token": "unused", "challenge": challenge, "type": "url_verification"}
    ).encode()
