"""`/modelgate <subcommand>`: parsing, the read commands, and starting a check run.

Every handler is called after the request was acknowledged; database work runs in a
thread (`asyncio.to_thread`), check runs in the worker pool, so the event loop stays free.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine

from bot import queries
from bot.blocks import Message, error_message, help_message, run_queued_ack, run_started, whoami
from bot.queries import UserError, closest
from bot.reply import Replies
from bot.roles import RoleResolver
from modelgate.config import Settings
from modelgate.db import session_scope
from modelgate.errors import ModelgateError
from modelgate.policy import effective_for
from modelgate.runs import service as runs
from modelgate.runs.worker import RunPool

log = logging.getLogger(__name__)

Respond = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class Command:
    name: str
    usage: str
    description: str
    example: str


COMMANDS = (
    Command("help", "", "List the commands with examples", "/modelgate help"),
    Command(
        "models", "", "Models with risk tier, production version, last run", "/modelgate models"
    ),
    Command(
        "status",
        "<model>",
        "Versions by stage and the latest result of each check",
        "/modelgate status credit-risk",
    ),
    Command(
        "check",
        "<model> [version] [current-data-uri]",
        "Run the model's policy checks; the report is posted in the model's channel",
        "/modelgate check credit-risk v2",
    ),
    Command(
        "report",
        "<run-id>",
        "A run's report (the first 8 characters of its id do)",
        "/modelgate report 7abff69c",
    ),
    Command(
        "history",
        "<model>",
        "Stage history: who moved which version where, when and why",
        "/modelgate history credit-risk",
    ),
    Command("whoami", "", "Your modelgate roles", "/modelgate whoami"),
)
BY_NAME = {c.name: c for c in COMMANDS}


@dataclass
class BotDeps:
    settings: Settings
    engine: Engine
    pool: RunPool
    roles: RoleResolver
    client: Any  # AsyncWebClient
    replies: Replies
    # Work after an ack (database reads in threads, replies) competes for the GIL with the
    # event loop; a burst of commands runs it a few at a time instead of all at once.
    after_ack: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(2))


def help_text() -> Message:
    return help_message(
        [(f"{c.name} {c.usage}".strip(), c.description, c.example) for c in COMMANDS]
    )


async def dispatch(deps: BotDeps, body: dict[str, Any], respond: Respond) -> None:
    """Handle one `/modelgate` command (already acknowledged)."""
    await answering(respond, _handle(deps, body, respond))


async def answering(respond: Respond, work: Awaitable[Any]) -> None:
    """Run `work`; a UserError or a domain refusal becomes an ephemeral reply."""
    try:
        await work
    except UserError as exc:
        await respond(
            response_type="ephemeral", **error_message(exc.problem, exc.suggestion).to_dict()
        )
    except ModelgateError as exc:  # a domain refusal (archived version, bad policy, ...)
        hint = (
            "`/modelgate status <model>` lists its versions." if exc.code == "not_found" else None
        )
        await respond(response_type="ephemeral", **error_message(str(exc), hint).to_dict())


def parse(text: str) -> tuple[str, list[str]]:
    """The subcommand and its arguments; a UserError names what is wrong and what to type."""
    words = text.split()
    sub, args = (words[0].lower(), words[1:]) if words else ("help", [])
    if sub not in BY_NAME:
        guess = closest(sub, list(BY_NAME))
        hint = f"Did you mean `/modelgate {guess}`? " if guess else ""
        raise UserError(f"Unknown command {sub!r}.", hint + "Type `/modelgate help` for the list.")
    command = BY_NAME[sub]
    if len(args) < command.usage.count("<"):
        raise UserError(
            f"`{sub}` needs {command.usage.split()[len(args)]}.",
            f"Usage: `/modelgate {sub} {command.usage}`, e.g. `{command.example}`.",
        )
    return sub, args


async def _handle(deps: BotDeps, body: dict[str, Any], respond: Respond) -> None:
    sub, args = parse(body.get("text") or "")
    user = str(body.get("user_id") or "")
    if sub == "check":
        await start_check(deps, respond, user=user, args=args, channel=body.get("channel_id"))
        return
    message = await _read(deps, sub, args, user)
    await respond(response_type="ephemeral", **message.to_dict())


async def _read(deps: BotDeps, sub: str, args: list[str], user: str) -> Message:
    s, e = deps.settings, deps.engine
    if sub == "help":
        return help_text()
    if sub == "whoami":
        return whoami(user, await deps.roles.roles_of(user))
    if sub == "models":
        return await asyncio.to_thread(queries.models_message, e)
    if sub == "status":
        return await asyncio.to_thread(queries.status_message, s, e, args[0])
    if sub == "history":
        return await asyncio.to_thread(queries.history_message, e, args[0])
    if sub == "report":
        return await asyncio.to_thread(queries.report_message, s, e, args[0])
    raise AssertionError(sub)


@dataclass(frozen=True)
class Planned:
    model: str
    version: str
    channel: str | None  # the model's channel, if it has one
    run_id: str
    created: bool


def _plan(
    deps: BotDeps, *, user: str, model: str, version: str | None, current: str | None
) -> Planned:
    """Resolve the model and version and create the run, or join an identical active one."""
    settings = deps.settings
    with session_scope(deps.engine) as s:
        m = queries.resolve_model(s, model)
        v = (
            queries.resolve_version(s, m, version).version
            if version
            else runs.default_version(s, model_name=m.name)
        )
        policy = effective_for(s, settings, model_name=m.name)
        run, created = runs.start_or_join_run(
            s,
            model_name=m.name,
            version=v,
            policy=policy,
            requested_by=f"slack:{user}",
            trigger="slack",
            current_data_uri=current,
        )
        return Planned(m.name, v, m.slack_channel, run.id, created)


async def start_check(
    deps: BotDeps,
    respond: Respond,
    *,
    user: str,
    args: list[str],
    channel: str | None,
) -> None:
    """`check <model> [version] [current]` and the Re-run button: queue a run, post the
    "running…" root message in the model's channel (else here), answer ephemerally."""
    allowed, needed = await deps.roles.allowed(user, "check")
    if not allowed:
        raise UserError(
            "You need one of the roles " + ", ".join(f"`{r}`" for r in needed) + " to run checks.",
            "Ask a modelgate admin to add you to the roles file; `/modelgate whoami` shows "
            "your roles.",
        )
    model, version, current = (args + [None, None])[:3]
    if current is not None and "://" not in current:
        raise UserError(
            f"{current!r} is not a data URI.",
            "Give the current window as a URI, e.g. `file:///data/2026-11-22.parquet` or "
            "`https://…/window.csv`.",
        )
    plan = await asyncio.to_thread(
        _plan, deps, user=user, model=str(model), version=version, current=current
    )
    if not plan.created:
        message = error_message(
            f"A check of {plan.model} {plan.version} on the same data is already running "
            f"(run {plan.run_id[:8]}).",
            f"Its report will be posted when it finishes; `/modelgate report "
            f"{plan.run_id[:8]}` shows it then.",
        )
        await respond(response_type="ephemeral", **message.to_dict())
        return
    notify = await _post_root(deps, plan, channel, user)
    if notify is not None:
        await asyncio.to_thread(_set_notify, deps.engine, plan.run_id, notify)
    await asyncio.to_thread(deps.pool.submit, plan.run_id)  # the first may start processes
    ack = run_queued_ack(
        plan.model,
        plan.version,
        plan.run_id,
        current=current,
        posted_in=notify["channel"] if notify else None,
    )
    await respond(response_type="ephemeral", **ack.to_dict())


async def _post_root(
    deps: BotDeps, plan: Planned, invoked_in: str | None, user: str
) -> dict[str, Any] | None:
    """Post "running…" where the report will go; the report later replaces it."""
    from slack_sdk.errors import SlackApiError

    body = run_started(plan.model, plan.version, user).to_dict()
    for channel in dict.fromkeys(c for c in (plan.channel, invoked_in) if c):
        try:
            resp = await deps.client.chat_postMessage(channel=channel, **body)
        except SlackApiError as exc:  # e.g. not_in_channel: try the invoking channel
            log.warning("cannot post to %s: %s", channel, exc.response.get("error"))
            continue
        return {"channel": resp.get("channel") or channel, "ts": resp.get("ts"), "user": user}
    return None


def _set_notify(engine: Engine, run_id: str, notify: dict[str, Any]) -> None:
    with session_scope(engine) as s:
        runs.set_notify(s, run_id, notify)
