"""The Notifier port's two adapters: Slack, and a console outbox when there is no token.

Both render a finished run the same way (:func:`prepare`): the Block Kit report from
``bot.blocks``, where it goes (the message that said "running…", else the model's channel),
the champion's latest run to compare with, and the charts to attach.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.blocks import Message, run_report
from modelgate.config import Settings
from modelgate.db import session_scope
from modelgate.links import report_url
from modelgate.registry import service as registry
from modelgate.runs import service as runs
from modelgate.runs.schemas import RunOut

log = logging.getLogger(__name__)
MAX_CHARTS = 4  # images attached to a report thread


@dataclass
class Delivery:
    """A finished run's report and where it goes."""

    run: RunOut
    message: Message
    channel: str | None  # an id or #name; None: nowhere to post
    ts: str | None = None  # the message to replace (the "running…" root), if any
    charts: list[tuple[str, Path]] = field(default_factory=list)  # (title, file)


def champion_of(s: Session, run: RunOut) -> RunOut | None:
    """The production version's latest finished run, to compare `run` with."""
    latest = runs.champion_run(s, model_name=run.model, version=run.version)
    return runs.run_out(s, latest) if latest is not None else None


def prepare(settings: Settings, engine: Engine, run: RunOut) -> Delivery:
    """Everything needed to post `run` (synchronous: reads the database)."""
    with session_scope(engine) as s:
        model = registry.get_model(s, name=run.model)
        row = runs.get_run(s, run.id)
        notify = row.notify or {}
        champion = champion_of(s, run)
    message = run_report(run, report_url=report_url(settings, run.id), champion=champion)
    run_dir = settings.artifacts_dir / run.id
    charts = [
        (f"{r.check}: {a.name}", run_dir / a.path)
        for r in run.results
        for a in r.artifacts
        if a.media_type == "image/png" and (run_dir / a.path).is_file()
    ][:MAX_CHARTS]
    return Delivery(
        run=run,
        message=message,
        channel=notify.get("channel") or model.slack_channel,
        ts=notify.get("ts"),
        charts=charts,
    )


class ConsoleNotifier:
    """Without a Slack token: log each message as text and save its Block Kit JSON under
    ``MODELGATE_HOME/outbox/`` (paste it into Block Kit Builder to see it as Slack would)."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings, self.engine = settings, engine
        self.outbox = settings.home / "outbox"
        self.sent: list[Path] = []

    def run_finished(self, run: RunOut) -> None:
        d = prepare(self.settings, self.engine, run)
        self.outbox.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        path = self.outbox / f"{stamp}-run-{run.id[:12]}.json"
        doc = {
            "method": "chat.update" if d.ts else "chat.postMessage",
            "channel": d.channel,
            "ts": d.ts,
            **d.message.to_dict(),
            "attachments_to_upload": [str(p) for _, p in d.charts],
        }
        path.write_text(json.dumps(doc, indent=2, ensure_ascii=False))
        self.sent.append(path)
        log.info(
            "slack (console) to %s:\n%s\n[Block Kit: %s]", d.channel or "-", as_text(doc), path
        )


class SlackNotifier:
    """Posts run reports with the bot's async Web API client on the server's event loop.

    `run_finished` is called from a worker-pool callback thread: it reads the database
    there, then hands the posting to the loop."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        client: Any,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.settings, self.engine, self.client, self.loop = settings, engine, client, loop

    def run_finished(self, run: RunOut) -> None:
        d = prepare(self.settings, self.engine, run)
        if not d.channel:
            log.info("run %s finished; its model has no Slack channel to report to", run.id)
            return
        future: Future[None] = asyncio.run_coroutine_threadsafe(self.deliver(d), self.loop)
        future.add_done_callback(_log_failure)

    async def deliver(self, d: Delivery) -> None:
        body = d.message.to_dict()
        channel, ts = d.channel, d.ts
        if ts:
            resp = await self.client.chat_update(channel=channel, ts=ts, **body)
        else:
            resp = await self.client.chat_postMessage(channel=channel, **body)
            ts = resp.get("ts")
        channel = resp.get("channel") or channel  # an id, even if we posted to a #name
        if d.charts and ts:
            await self._upload_charts(channel, ts, d)

    async def _upload_charts(self, channel: str | None, ts: str, d: Delivery) -> None:
        from slack_sdk.errors import SlackApiError

        uploads = [
            {"file": str(path), "title": title, "filename": _filename(title)}
            for title, path in d.charts
        ]
        try:
            await self.client.files_upload_v2(
                channel=channel,
                thread_ts=ts,
                file_uploads=uploads,
                initial_comment=f"Charts for {d.run.model} {d.run.version} (run `{d.run.id}`)",
            )
        except SlackApiError as exc:  # e.g. the token lacks files:write: the report stands
            log.warning("charts for run %s not uploaded: %s", d.run.id, exc.response.get("error"))


def as_text(message: dict[str, Any]) -> str:
    """A Block Kit message as plain text, roughly as Slack lays it out (for logs, the demo)."""
    lines: list[str] = []
    for block in message.get("blocks") or []:
        kind = block.get("type")
        if kind == "header":
            lines.append(f"# {block['text']['text']}")
        elif kind == "section":
            if block.get("text"):
                lines.append(block["text"]["text"])
            lines += [f"  {f['text']}".replace("\n", " ") for f in block.get("fields") or []]
        elif kind == "context":
            lines.append("  " + " · ".join(e.get("text", "") for e in block.get("elements") or []))
        elif kind == "divider":
            lines.append("─" * 40)
        elif kind == "actions":
            labels = [e["text"]["text"] for e in block.get("elements") or [] if e.get("text")]
            lines.append("  " + "  ".join(f"[{label}]" for label in labels))
    return "\n".join(lines) if lines else str(message.get("text", ""))


def _filename(title: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", title).strip("-").lower() + ".png"


def _log_failure(future: Future[None]) -> None:
    if future.cancelled():  # the server is shutting down
        log.warning("a run report was not posted to Slack: the server stopped first")
        return
    exc = future.exception()
    if exc is not None:
        log.error("posting a run report to Slack failed: %s", exc, exc_info=exc)
