"""Messages about check runs: the report posted when a run finishes, and the acks before."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from slack_sdk.models.blocks import ActionsBlock, Block

from bot.blocks.common import (
    BUTTON_VALUE_MAX,
    MAX_BLOCKS,
    SECTION_MAX,
    TEXT_MAX,
    Message,
    button,
    by_attention,
    check_entry,
    clip,
    context,
    counts_text,
    emoji,
    escape,
    fit_sections,
    fmt_value,
    header,
    plural,
    section,
    slack_date,
    status_value,
    who,
)

if TYPE_CHECKING:
    from checks.base import CheckResult
    from modelgate.runs.schemas import RunOut

RERUN_ACTION = "run.rerun"
OPEN_REPORT_ACTION = "run.open_report"  # a link button: Slack still sends a payload; just ack
LIST_ALL_UP_TO = 20  # runs with more checks list passes as one collapsed line
# metrics compared with the champion, in order of preference
HEADLINE_METRICS = ("roc_auc", "pr_auc", "average_precision", "f1", "accuracy", "log_loss")


def window_name(uri: str | None) -> str | None:
    """The last path segment of a data URI (``s3://b/windows/2024-06.parquet`` → the file)."""
    if not uri:
        return None
    return uri.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1] or uri


def rerun_value(run: RunOut) -> str:
    """The Re-run button's value: what to run again (the run id if the URI is too long)."""
    value = json.dumps(
        {"model": run.model, "version": run.version, "current": run.current_data_uri},
        separators=(",", ":"),
    )
    if len(value) <= BUTTON_VALUE_MAX:
        return value
    return json.dumps({"model": run.model, "version": run.version, "run": run.id})


def _headline(run: RunOut) -> dict[str, float]:
    found: dict[str, float] = {}
    for r in run.results:
        for key, value in r.values.items():
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            if key in HEADLINE_METRICS and numeric and key not in found:
                found[key] = float(value)
    return found


def champion_line(run: RunOut, champion: RunOut) -> str:
    verdict = status_value(champion.status)
    line = (
        f":crown: *Champion* `{escape(champion.version)}`: {emoji(verdict)} {verdict.upper()} "
        f"(run `{escape(champion.id)}`)"
    )
    ours, theirs = _headline(run), _headline(champion)
    shared = [m for m in HEADLINE_METRICS if m in ours and m in theirs][:3]
    if shared:
        vs = "; ".join(
            f"{m} {fmt_value(ours[m])} vs {fmt_value(theirs[m])} (champion)" for m in shared
        )
        line += f" · {vs}"
    return line


def _pass_summary(passes: Sequence[CheckResult], listed_any: bool) -> str:
    names = ", ".join(escape(r.check) for r in passes)
    what = "more " if listed_any else ("all " if len(passes) > 1 else "")
    noun = "check" if len(passes) == 1 else "checks"
    lead = f"{emoji('pass')} *{len(passes)} {what}{noun} passed:* "
    return clip(lead + names, SECTION_MAX)


def _fallback(run: RunOut) -> str:
    verdict = status_value(run.status).upper()
    failed = [r.check for r in run.results if status_value(r.status) == "fail"]
    text = f"{run.model} {run.version}: {verdict} — {counts_text(run.results)}"
    if failed:
        text += f". Failed: {', '.join(failed)}"
    if run.error:
        text += f". Error: {run.error}"
    return clip(text, TEXT_MAX)


def run_report(run: RunOut, *, report_url: str | None, champion: RunOut | None = None) -> Message:
    """The verdict, one line per check (with the reasons for anything not passing), the
    champion comparison, and buttons to open the full report and to re-run."""
    verdict = status_value(run.status)
    head: list[Block] = [header(f"{emoji(verdict)} {run.model} {run.version} · {verdict.upper()}")]
    facts = [
        f"Run `{escape(run.id)}`",
        escape(run.trigger),
        f"requested by {who(run.requested_by)}",
    ]
    if run.policy_sha256:
        facts.append(f"policy `{run.policy_sha256[:12]}`")
    if window := window_name(run.current_data_uri):
        facts.append(f"window `{escape(window)}`")
    if run.finished_at:
        facts.append(f"finished {slack_date(run.finished_at)}")
    head.append(
        context(
            " · ".join(facts), f"{plural(len(run.results), 'check')}: {counts_text(run.results)}"
        )
    )
    if run.error:
        head.append(section(f"{emoji('error')} *Run error:* {escape(run.error)}"))

    tail: list[Block] = []
    skipped = [str(s) for s in run.summary.get("skipped") or []]
    if skipped:
        names = ", ".join(f"`{escape(s)}`" for s in skipped)
        tail.append(context(f":fast_forward: Skipped (they need a current data window): {names}"))
    if champion is not None:
        tail.append(section(champion_line(run, champion)))
    tail.append(ActionsBlock(block_id="run_actions", elements=_buttons(run, report_url)))

    ordered = by_attention(run.results)
    attention = [r for r in ordered if status_value(r.status) != "pass"]
    passes = [r for r in ordered if status_value(r.status) == "pass"]
    if len(run.results) <= LIST_ALL_UP_TO:
        entries = [check_entry(r) for r in ordered]
    else:
        entries = [check_entry(r) for r in attention]
        if passes:
            entries.append(_pass_summary(passes, listed_any=bool(attention)))
    if not entries and not run.error:
        entries = ["_No checks ran: the policy selected none for this version._"]

    def overflow(first: int, count: int) -> str:
        names = ", ".join(f"{emoji(r.status)} {escape(r.check)}" for r in ordered[first:])
        return clip(f"…and {plural(count, 'more line')}: {names}", SECTION_MAX)

    budget = MAX_BLOCKS - len(head) - len(tail)
    body = fit_sections(entries, budget, overflow)
    return Message(text=_fallback(run), blocks=[*head, *body, *tail])


def _buttons(run: RunOut, report_url: str | None) -> list[Any]:
    elements = []
    # Slack refuses relative URLs: without MODELGATE_PUBLIC_URL there is no link to give
    url = report_url or run.report_url
    if url and url.startswith(("https://", "http://")):
        elements.append(button("Open full report", action_id=OPEN_REPORT_ACTION, url=url))
    elements.append(button("Re-run check", action_id=RERUN_ACTION, value=rerun_value(run)))
    return elements


def run_started(model: str, version: str, user_id: str) -> Message:
    """Posted when a run starts (e.g. the thread root that the report later replaces)."""
    text = f"Running checks on {model} {version} requested by {who(user_id)}"
    line = (
        f"{emoji('running')} Running checks on *{escape(model)}* `{escape(version)}` "
        f"requested by {who(user_id)}…"
    )
    return Message(text=text, blocks=[section(line)])


def run_queued_ack(
    model: str,
    version: str,
    run_id: str,
    *,
    current: str | None = None,
    posted_in: str | None = None,
) -> Message:
    """The ephemeral answer to ``/modelgate check``: queued, and where results will appear
    (`posted_in`: the channel id or #name of the "running…" message; None: nowhere yet)."""
    window = window_name(current)
    on = f" on window `{escape(window)}`" if window else ""
    if posted_in is None:
        where = (
            "I could not post in the model's channel or here: `/invite @modelgate`, then "
            f"`/modelgate report {escape(run_id[:8])}` shows the result."
        )
    elif posted_in[:1] in "CG":
        where = f"The results will be posted in <#{posted_in}>."
    else:
        where = f"The results will be posted in {escape(posted_in)}."
    line = (
        f"{emoji('queued')} Queued run `{escape(run_id)}` for *{escape(model)}* "
        f"`{escape(version)}`{on}. {where}"
    )
    text = f"Queued run {run_id} for {model} {version}" + (f" on {window}" if window else "")
    return Message(text=text, blocks=[section(line)])
