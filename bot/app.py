"""The Slack app: a Bolt `AsyncApp` built by :func:`create_bolt_app`, mounted by
:func:`mount` at ``POST /slack/events`` for slash commands, interactivity and events alike.

Every listener acknowledges first (Slack wants an answer within 3 s) and then works:
database reads in a thread, check runs in the worker pool, results back through the
Notifier. One error handler gives the user a short message with an error id and logs the
trace under the same id.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request, Response
from slack_bolt.async_app import AsyncApp, AsyncBoltRequest
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.blocks import OPEN_REPORT_ACTION, RERUN_ACTION, error_message
from bot.commands import BotDeps, Respond, answering, dispatch, help_text, start_check
from bot.queries import UserError
from bot.reply import Replies
from bot.roles import RoleResolver, load_roles
from modelgate.config import Settings
from modelgate.db import session_scope
from modelgate.runs.models import SlackEvent
from modelgate.runs.worker import RunPool

log = logging.getLogger("modelgate.slack")
COMMAND = "/modelgate"


def make_client(settings: Settings) -> AsyncWebClient:
    """The Web API client: base URL from settings (tests: a fake server), 429s retried after
    Retry-After."""
    from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler

    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    client = AsyncWebClient(token=token, base_url=settings.slack_api_url)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=3))
    return client


def create_bolt_app(
    settings: Settings, engine: Engine, pool: RunPool, client: AsyncWebClient | None = None
) -> tuple[AsyncApp, BotDeps]:
    if settings.slack_signing_secret is None:
        raise ValueError("SLACK_SIGNING_SECRET is not set: Slack requests cannot be verified")
    client = client or make_client(settings)
    roles = RoleResolver(
        load_roles(settings.roles_file), client, cache_s=settings.usergroup_cache_s
    )
    deps = BotDeps(
        settings=settings, engine=engine, pool=pool, roles=roles, client=client, replies=Replies()
    )
    app = AsyncApp(
        client=client,
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        # mount() verifies every request before Bolt sees it (and before any parsing)
        request_verification_enabled=False,
        process_before_response=False,
        logger=log,
    )

    @app.command(COMMAND)
    async def on_command(ack: Any, body: dict[str, Any]) -> None:
        await ack()
        async with deps.after_ack:
            await dispatch(deps, body, deps.replies.to(body.get("response_url")))

    @app.action(RERUN_ACTION)
    async def on_rerun(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        respond = deps.replies.to(body.get("response_url"))
        async with deps.after_ack:
            await answering(respond, _rerun(deps, body, action, respond))

    @app.action(OPEN_REPORT_ACTION)
    async def on_open_report(ack: Any) -> None:
        await ack()  # a link button: the browser opens the URL; Slack still tells us

    @app.event("app_mention")
    async def on_mention(
        body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient
    ) -> None:
        if not await asyncio.to_thread(_first_delivery, engine, body, "app_mention"):
            return
        await client.chat_postMessage(
            channel=event["channel"],
            thread_ts=event.get("thread_ts") or event.get("ts"),
            **help_text().to_dict(),
        )

    @app.error
    async def on_error(error: Exception, body: dict[str, Any]) -> None:
        error_id = uuid.uuid4().hex[:10]
        log.error("slack handler error %s: %s", error_id, error, exc_info=error)
        if body.get("response_url"):
            message = error_message(
                f"Something went wrong on our side (error id {error_id}).",
                "Try again in a minute; if it keeps failing, give the error id to your "
                "modelgate admins.",
            )
            try:
                await deps.replies.to(body["response_url"])(
                    response_type="ephemeral", **message.to_dict()
                )
            except Exception:
                log.exception("could not tell the user about error %s", error_id)

    return app, deps


async def _rerun(
    deps: BotDeps, body: dict[str, Any], action: dict[str, Any], respond: Respond
) -> None:
    """The Re-run button: the same model, version and window, by whoever clicked."""
    try:
        what = json.loads(action.get("value") or "{}")
        args = [str(what["model"]), str(what["version"])]
    except (ValueError, KeyError, TypeError):
        raise UserError(
            "This button no longer knows what to run.",
            "Run `/modelgate check <model> <version>` instead.",
        ) from None
    current = what.get("current")
    if not current and what.get("run"):  # the URI was too long for the button: look it up
        current = await asyncio.to_thread(_current_of, deps.engine, str(what["run"]))
    if current:
        args.append(str(current))
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    await start_check(deps, respond, user=body["user"]["id"], args=args, channel=channel)


def _current_of(engine: Engine, run_id: str) -> str | None:
    from modelgate.runs.service import get_run

    with session_scope(engine) as s:
        return get_run(s, run_id).current_data_uri


def _first_delivery(engine: Engine, body: dict[str, Any], kind: str) -> bool:
    """Record the event id; False if it was seen before (Slack retries deliveries)."""
    event_id = str(body.get("event_id") or "")
    if not event_id:
        return True
    try:
        with session_scope(engine) as s:
            s.add(SlackEvent(event_id=event_id[:128], kind=kind))
    except IntegrityError:
        log.info("event %s already handled (retry %s)", event_id, kind)
        return False
    return True


class SlackRequest(AsyncBoltRequest):
    """Bolt's request, with its body-parser pitfall fixed: a form body that merely contains
    the word "payload" (``/modelgate status payload-scorer``) is parsed as a slash command,
    not as an empty interactivity payload."""

    def __init__(self, *, body: str, query: str, headers: dict[str, str]) -> None:
        super().__init__(body=body, query=query, headers=headers)
        if not self.body and body and not body.lstrip().startswith("{"):
            fields = dict(parse_qsl(body, keep_blank_values=True))
            if "payload" not in fields and "command" in fields:
                self.body = fields
                self.context = build_async_context(AsyncBoltContext({}), self.body)


# Requests Slack only needs an empty 200 for: our listeners for these always ack with no
# body, so the endpoint answers at once and lets Bolt dispatch in the background. Anything
# else (url_verification's challenge, modal submissions' response_action) waits for Bolt.
ACK_AT_ONCE = frozenset({"slash_command", "block_actions", "event_callback"})


def _kind(body: dict[str, Any]) -> str:
    if "command" in body:
        return "slash_command"
    return str(body.get("type") or "")


def mount(api: FastAPI, app: AsyncApp, signing_secret: str) -> None:
    """``POST /slack/events``: verify the signature, then let Bolt dispatch."""
    verifier = SignatureVerifier(signing_secret)
    pending: set[asyncio.Task[Any]] = set()

    async def dispatch_late(bolt_request: SlackRequest) -> None:
        try:
            resp = await app.async_dispatch(bolt_request)
        except Exception:  # Bolt reports listener errors to on_error; this is anything else
            log.exception("Slack request dispatch failed")
            return
        if resp.status != 200:
            log.warning("Slack request answered 200 early, but Bolt said %s", resp.status)

    @api.post("/slack/events", include_in_schema=False)
    async def slack_events(request: Request) -> Response:
        raw = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        # Verified before parsing, so a forged body never reaches a parser (nor Bolt).
        if not verifier.is_valid_request(raw, headers):
            return Response(
                status_code=401,
                content='{"error":"invalid request"}',
                media_type="application/json",
            )
        try:
            text = raw.decode("utf-8")
            bolt_request = SlackRequest(body=text, query=request.url.query, headers=headers)
        except (UnicodeDecodeError, ValueError):
            return Response(
                status_code=400,
                content='{"error":"unreadable body"}',
                media_type="application/json",
            )
        if _kind(bolt_request.body) in ACK_AT_ONCE:
            task = asyncio.create_task(dispatch_late(bolt_request))
            pending.add(task)
            task.add_done_callback(pending.discard)
            return Response(status_code=200)
        resp = await app.async_dispatch(bolt_request)
        return Response(
            status_code=resp.status,
            content=resp.body,
            headers=resp.first_headers_without_set_cookie(),
        )
