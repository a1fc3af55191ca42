"""Messages about the registry and the user: help, model list, model status, stage history,
whoami and refusals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from slack_sdk.models.blocks import Block

from bot.blocks.common import (
    FIELDS_MAX,
    MAX_BLOCKS,
    SECTION_MAX,
    TEXT_MAX,
    Message,
    by_attention,
    check_line,
    clip,
    context,
    emoji,
    escape,
    fit_sections,
    header,
    plural,
    section,
    slack_date,
    status_value,
    who,
)

if TYPE_CHECKING:
    from modelgate.registry.schemas import ModelOut, StagesOut, TransitionOut
    from modelgate.runs.schemas import RunOut

MODELS_LISTED = 60  # beyond this, models are summarised by name
VERSIONS_SHOWN = 8  # in model_status
CHECKS_PER_VERSION = 8  # in model_status: beyond this, passes collapse


@dataclass(frozen=True)
class ModelRow:
    """One line of ``/modelgate models``."""

    name: str
    risk_tier: str
    production_version: str | None = None
    last_run_status: str | None = None
    last_run_at: datetime | None = None


def _more_names(names: Sequence[str], lead: str) -> str:
    return clip(lead + ", ".join(escape(n) for n in names), SECTION_MAX)


def help_message(commands: Sequence[tuple[str, str, str]]) -> Message:
    """``/modelgate help``: each subcommand with what it does and an example."""
    entries = [
        f"`{escape(sub)}` — {escape(desc)}\n      _e.g._ `{escape(example)}`"
        for sub, desc, example in commands
    ]
    blocks: list[Block] = [header(":shield: modelgate commands")]

    def overflow(first: int, count: int) -> str:
        subs = [f"`{escape(c[0])}`" for c in commands[first:]]
        return clip(f"…and {plural(count, 'more command')}: {', '.join(subs)}", SECTION_MAX)

    blocks += fit_sections(entries, MAX_BLOCKS - 1, overflow, one_per_block=False, sep="\n\n")
    subs = ", ".join(c[0] for c in commands)
    return Message(text=clip(f"modelgate commands: {subs}", TEXT_MAX), blocks=blocks)


def _model_line(row: ModelRow) -> str:
    prod = (
        f"production `{escape(row.production_version)}`"
        if row.production_version
        else "_no production version_"
    )
    if row.last_run_status:
        run = f"last run {emoji(row.last_run_status)} {escape(row.last_run_status)}"
        if row.last_run_at:
            run += f" {slack_date(row.last_run_at)}"
    else:
        run = "_never checked_"
    return f"*{escape(row.name)}* · risk {escape(row.risk_tier)} · {prod} · {run}"


def models_list(rows: Sequence[ModelRow]) -> Message:
    """``/modelgate models``: one line per model; beyond what fits, the remaining names."""
    blocks: list[Block] = [header(f"Models ({len(rows)})")]
    failing = [r.name for r in rows if r.last_run_status in ("failed", "errored")]
    if not rows:
        blocks.append(section("No models are registered yet."))
        return Message(text="No models are registered yet.", blocks=blocks)

    def more(first: int, count: int = 0) -> str:
        rest = [r.name for r in rows[first:]]
        return _more_names(rest, f"…and {plural(len(rest), 'more model')}: ")

    lines = [_model_line(r) for r in rows[:MODELS_LISTED]]
    if len(rows) > MODELS_LISTED:
        lines.append(more(MODELS_LISTED))
    blocks += fit_sections(lines, MAX_BLOCKS - 2, more, one_per_block=False)
    if failing:
        blocks.append(context(f"{emoji('fail')} Last run failed: {', '.join(failing)}"))
    text = f"{plural(len(rows), 'model')}"
    if failing:
        text += f"; last run failed or errored for {', '.join(failing)}"
    return Message(text=clip(text, TEXT_MAX), blocks=blocks)


def _run_summary(version: str, stages: Sequence[str], run: RunOut | None) -> str:
    where = f" ({', '.join(escape(s) for s in stages)})" if stages else ""
    lead = f"*`{escape(version)}`*{where}"
    if run is None:
        return f"{lead} — _no check runs yet_"
    verdict = status_value(run.status)
    when = f" · {slack_date(run.finished_at or run.created_at)}"
    lines = [f"{lead} — {emoji(verdict)} {verdict.upper()} · run `{escape(run.id)}`{when}"]
    ordered = by_attention(run.results)
    if len(ordered) <= CHECKS_PER_VERSION:
        lines += [check_line(r) for r in ordered]
    else:
        lines += [check_line(r) for r in ordered if status_value(r.status) != "pass"]
        passes = [r.check for r in ordered if status_value(r.status) == "pass"]
        if passes:
            lines.append(_more_names(passes, f"{emoji('pass')} {len(passes)} passed: "))
    return clip("\n".join(lines), SECTION_MAX)


def model_status(
    model: ModelOut,
    stages: StagesOut,
    latest: Sequence[tuple[str, RunOut | None]],
    open_alerts: int = 0,
) -> Message:
    """``/modelgate status <model>``: who holds which stage, the last known good version,
    and the latest results per check of the versions in `latest` (production first)."""
    title = f"{model.name}{' (archived)' if model.archived_at else ''}"
    blocks: list[Block] = [header(title)]
    facts = [f"owner {who(model.owner)}", f"risk *{escape(model.risk_tier)}*"]
    if model.team:
        facts.append(f"team {escape(model.team)}")
    facts.append(f"flavor {escape(model.flavor)}")
    if model.slack_channel:
        ch = model.slack_channel
        facts.append(f"<#{ch}>" if ch[:1] in "CG" else escape(ch))
    blocks.append(context(" · ".join(facts)))

    fields = []
    for h in stages.stages:
        held = f"`{escape(h.version)}`" if h.version else "_empty_"
        since = f"\nsince {slack_date(h.since)}" if h.since else ""
        by = f" by {who(h.by)}" if h.by else ""
        fields.append(f"*{escape(h.stage)}*\n{held}{since}{by}")
    lkg = f"`{escape(stages.last_known_good)}`" if stages.last_known_good else "_none_"
    extra = [f"*Last known good*\n{lkg}"]
    if open_alerts:
        extra.append(f"*Open alerts*\n:rotating_light: {open_alerts}")
    fields = fields[: FIELDS_MAX - len(extra)] + extra
    blocks.append(section(f"*Stages* of *{escape(model.name)}*", fields=fields))

    stage_of: dict[str, list[str]] = {}
    for h in stages.stages:
        if h.version:
            stage_of.setdefault(h.version, []).append(h.stage)
    entries = [_run_summary(v, stage_of.get(v, []), run) for v, run in latest[:VERSIONS_SHOWN]]
    if not entries:
        entries = ["_No versions to show._"]
    blocks += fit_sections(entries, MAX_BLOCKS - len(blocks) - 1, lambda i, n: f"…and {n} more")
    if len(latest) > VERSIONS_SHOWN:
        rest = [v for v, _ in latest[VERSIONS_SHOWN:]]
        blocks.append(context(_more_names(rest, "Also: ")))

    held = ", ".join(f"{h.stage} {h.version or 'empty'}" for h in stages.stages)
    text = (
        f"{model.name}: {held or 'no stages'}; last known good {stages.last_known_good or 'none'}"
    )
    if open_alerts:
        text += f"; {plural(open_alerts, 'open alert')}"
    return Message(text=clip(text, TEXT_MAX), blocks=blocks)


def stage_history(model: str, items: Sequence[TransitionOut], total: int) -> Message:
    """``/modelgate history <model>``: stage changes, who made them, how and why."""
    blocks: list[Block] = [header(f"Stage history · {model}")]
    if not items:
        blocks.append(section(f"No stage changes for *{escape(model)}* yet."))
        return Message(text=f"No stage changes for {model} yet.", blocks=blocks)
    entries = []
    for t in items:
        change = f"`{escape(t.from_version or '∅')}` → `{escape(t.to_version or '∅')}`"
        how = f"by {who(t.actor)} via {escape(t.via)}"
        line = f"{slack_date(t.at)} · *{escape(t.stage)}* {change} {how}"
        entries.append(f"{line}\n>{clip(escape(t.reason), 500)}")

    def overflow(first: int, count: int) -> str:
        return f"…and {plural(count, 'older change')}"

    blocks += fit_sections(entries, MAX_BLOCKS - 2, overflow, one_per_block=False, sep="\n\n")
    if total > len(items):
        blocks.append(context(f"Showing {len(items)} of {total} changes."))
    last = items[0]
    text = (
        f"Stage history of {model}: {plural(total, 'change')}; latest {last.stage} "
        f"{last.from_version or 'empty'} → {last.to_version or 'empty'} by {last.actor}"
    )
    return Message(text=clip(text, TEXT_MAX), blocks=blocks)


def whoami(user_id: str, roles: Sequence[str]) -> Message:
    """``/modelgate whoami``: the caller and their modelgate roles."""
    if roles:
        listed = ", ".join(f"`{escape(r)}`" for r in roles)
        line = f":bust_in_silhouette: You are {who(user_id)}. Your modelgate roles: {listed}."
        text = f"Your modelgate roles: {', '.join(roles)}"
    else:
        line = (
            f":bust_in_silhouette: You are {who(user_id)}. You have no modelgate roles yet: "
            "you can read, but ask an admin for a role to run checks or change stages."
        )
        text = "You have no modelgate roles yet."
    return Message(text=clip(text, TEXT_MAX), blocks=[section(line)])


def error_message(problem: str, suggestion: str | None = None) -> Message:
    """An (ephemeral) refusal: what is wrong, and what to do instead. Both are escaped;
    backticks still format, e.g. ``suggestion="Did you mean `scorer`?"``."""
    blocks: list[Block] = [section(f":no_entry_sign: {escape(problem)}")]
    if suggestion:
        blocks.append(context(f":bulb: {escape(suggestion)}"))
    text = problem + (f" {suggestion}" if suggestion else "")
    return Message(text=clip(text, TEXT_MAX), blocks=blocks)
