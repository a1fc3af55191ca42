"""Shared pieces of the Block Kit builders: the Message type, Slack's limits, clipping and
escaping, status emoji, and the one-line rendering of a check result.

Everything here is a pure function of its arguments. Blocks are built with
``slack_sdk.models.blocks`` so the SDK checks its own limits; the limits it does not check
(50 blocks per message, field length) are enforced here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

if TYPE_CHECKING:
    from checks.base import CheckResult, Violation

MAX_BLOCKS = 50
HEADER_MAX = 150
SECTION_MAX = 3000
FIELD_MAX = 2000
FIELDS_MAX = 10
CONTEXT_ELEMENTS_MAX = 10
BUTTON_TEXT_MAX = 75
BUTTON_VALUE_MAX = 2000
TEXT_MAX = 3000  # the plain-text fallback: Slack accepts 40k, notifications show far less
ELLIPSIS = "…"

STATUS_EMOJI = {
    "pass": ":white_check_mark:",
    "warn": ":warning:",
    "fail": ":x:",
    "error": ":boom:",
    "insufficient_data": ":grey_question:",
    "passed": ":white_check_mark:",
    "warned": ":warning:",
    "failed": ":x:",
    "errored": ":boom:",
    "queued": ":hourglass_flowing_sand:",
    "running": ":arrows_counterclockwise:",
}
# the order checks are listed in: what needs attention first
STATUS_RANK = {"fail": 0, "error": 1, "warn": 2, "insufficient_data": 3, "pass": 4}
_OP_WORDS = {"<=": "max", ">=": "min", "<": "must be below", ">": "must be above"}
_SLACK_USER = re.compile(r"^(?:slack:)?([UW][A-Z0-9_]{2,})$")


@dataclass(frozen=True)
class Message:
    """A Slack message: the plain-text fallback and the blocks. Validated when built."""

    text: str
    blocks: list[Block]

    def __post_init__(self) -> None:
        if not self.text.strip():
            raise ValueError("a message needs a plain-text fallback")
        if len(self.text) > 40_000:
            raise ValueError("fallback text exceeds Slack's 40000 characters")
        if len(self.blocks) > MAX_BLOCKS:
            raise ValueError(f"{len(self.blocks)} blocks exceed Slack's {MAX_BLOCKS}")
        for block in self.blocks:
            block.validate_json()

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": [b.to_dict() for b in self.blocks]}


# -- text ------------------------------------------------------------------------------------
def escape(text: object) -> str:
    """Escape the three characters mrkdwn treats as control (so no <!channel> injection)."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    """`text` if it fits, else cut at the last word boundary before `limit` with "…".

    A single word longer than the limit is the only thing ever cut mid-word (and then never
    inside an ``&amp;``-style entity)."""
    if len(text) <= limit:
        return text
    if limit <= len(ELLIPSIS):
        return ELLIPSIS[:limit]
    cut = text[: limit - len(ELLIPSIS)]
    if not text[len(cut)].isspace():  # the cut falls inside a word: back up to its start
        boundary = max(cut.rfind(c) for c in (" ", "\n", "\t"))
        if boundary > 0:
            cut = cut[:boundary]
        else:
            amp = cut.rfind("&")
            if amp != -1 and ";" not in cut[amp:] and len(cut) - amp < 6:
                cut = cut[:amp]
    return cut.rstrip(" \t\n,") + ELLIPSIS


def fmt_value(value: object) -> str:
    """A measured value, compactly: 4 significant digits for floats."""
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return "NaN" if math.isnan(value) else f"{value:.4g}"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list | tuple):
        return clip(", ".join(fmt_value(v) for v in value), 80)
    return clip(str(value), 80)


def slack_date(at: datetime | None) -> str:
    """A date Slack renders in the reader's time zone (with a UTC fallback)."""
    if at is None:
        return "never"
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    fallback = at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(at.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def who(actor: str) -> str:
    """A mention for Slack user ids (``U…`` or ``slack:U…``), else the escaped name."""
    m = _SLACK_USER.match(actor)
    return f"<@{m.group(1)}>" if m else escape(actor)


def status_value(status: object) -> str:
    return str(getattr(status, "value", status))


def emoji(status: object) -> str:
    return STATUS_EMOJI.get(status_value(status), ":grey_question:")


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


# -- blocks ----------------------------------------------------------------------------------
def header(text: str) -> HeaderBlock:
    return HeaderBlock(text=PlainTextObject(text=clip(text, HEADER_MAX), emoji=True))


def section(text: str, *, fields: Sequence[str] = (), block_id: str | None = None) -> SectionBlock:
    return SectionBlock(
        text=MarkdownTextObject(text=clip(text, SECTION_MAX)),
        fields=[MarkdownTextObject(text=clip(f, FIELD_MAX)) for f in fields[:FIELDS_MAX]] or None,
        block_id=block_id,
    )


def context(*texts: str) -> ContextBlock:
    parts = [t for t in texts if t][:CONTEXT_ELEMENTS_MAX]
    return ContextBlock(elements=[MarkdownTextObject(text=clip(t, SECTION_MAX)) for t in parts])


def divider() -> DividerBlock:
    return DividerBlock()


def button(
    text: str,
    *,
    action_id: str,
    value: str | None = None,
    url: str | None = None,
    style: str | None = None,
) -> ButtonElement:
    if value is not None and len(value) > BUTTON_VALUE_MAX:
        raise ValueError(f"button value exceeds {BUTTON_VALUE_MAX} characters")
    label = PlainTextObject(text=clip(text, BUTTON_TEXT_MAX), emoji=True)
    return ButtonElement(text=label, action_id=action_id, value=value, url=url, style=style)


def pack(entries: Iterable[str], limit: int = SECTION_MAX, sep: str = "\n") -> list[list[str]]:
    """Group entries, in order, so each group joined by `sep` fits `limit` (an entry that is
    too long on its own is clipped and gets a group of its own)."""
    groups: list[list[str]] = []
    size = 0
    for entry in entries:
        entry = clip(entry, limit)
        if groups and size + len(sep) + len(entry) <= limit:
            groups[-1].append(entry)
            size += len(sep) + len(entry)
        else:
            groups.append([entry])
            size = len(entry)
    return groups


def fit_sections(
    entries: Sequence[str],
    budget: int,
    overflow: Callable[[int, int], str],
    *,
    one_per_block: bool = True,
    sep: str = "\n",
) -> list[SectionBlock]:
    """At most `budget` sections holding `entries`: one per entry when they fit (and
    `one_per_block`), else packed several to a section; whatever still does not fit is
    summarised by ``overflow(first_left_out_index, count_left_out)`` in the last section."""
    if budget <= 0 or not entries:
        return []
    if one_per_block and len(entries) <= budget:
        return [section(e) for e in entries]
    groups = pack(entries, sep=sep)
    if len(groups) > budget:
        groups = groups[: budget - 1]
        shown = sum(len(g) for g in groups)
        groups.append([overflow(shown, len(entries) - shown)])
    return [section(sep.join(g)) for g in groups]


# -- check results ---------------------------------------------------------------------------
def _bound(threshold: object) -> str:
    if isinstance(threshold, dict) and threshold:
        return ", ".join(f"{k} {fmt_value(v)}" for k, v in threshold.items())
    return f"threshold {fmt_value(threshold)}"


def describe_violation(v: Violation) -> str:
    """``metric value (max threshold)`` for a broken bound."""
    if v.value is None and v.op == "defined":
        return f"{v.metric} not computable"
    if v.op in _OP_WORDS:
        return f"{v.metric} {fmt_value(v.value)} ({_OP_WORDS[v.op]} {fmt_value(v.threshold)})"
    return f"{v.metric} {fmt_value(v.value)} (want {v.op} {fmt_value(v.threshold)})"


def measured(r: CheckResult, *, message: bool = True) -> str:
    """The key measured value against its threshold (escaped), else the message (if
    `message`: leave it out when a "why" line will show it anyway)."""
    if r.violations:
        return escape(describe_violation(r.violations[0]))
    for key, threshold in r.thresholds.items():
        value = r.values.get(key)
        if value is None:  # fairness names values metric[group]
            value = next((v for k, v in r.values.items() if k.startswith(f"{key}[")), None)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return escape(f"{key} {fmt_value(value)} ({_bound(threshold)})")
    return escape(clip(r.message, 200)) if r.message and message else ""


def check_line(r: CheckResult, *, message: bool = True) -> str:
    """``:x: *name* · metric value (min threshold) · _block_``"""
    parts = [
        f"{emoji(r.status)} *{escape(r.check)}*",
        measured(r, message=message),
        f"_{status_value(r.severity)}_",
    ]
    return " · ".join(p for p in parts if p)


def why_lines(r: CheckResult, *, most: int = 5, each: int = 500) -> list[str]:
    """Quoted reasons for anything but a pass: the violation messages, or the message."""
    if status_value(r.status) == "pass":
        return []
    reasons = [v.message for v in r.violations] or ([r.message] if r.message else [])
    lines = [f">{clip(escape(m), each)}" for m in reasons[:most]]
    if len(reasons) > most:
        lines.append(f">…and {plural(len(reasons) - most, 'more violation')}")
    return lines


def check_entry(r: CheckResult) -> str:
    """The check's line and, unless it passed, why."""
    whys = why_lines(r)
    return clip("\n".join([check_line(r, message=not whys), *whys]), SECTION_MAX)


def by_attention(results: Iterable[CheckResult]) -> list[CheckResult]:
    """Failures, errors, warnings, insufficient data, passes; run order within each."""
    return sorted(results, key=lambda r: STATUS_RANK.get(status_value(r.status), 3))


def counts_text(results: Sequence[CheckResult]) -> str:
    """``2 failed, 1 warning, 9 passed`` in attention order."""
    words = {
        "fail": ("failed", "failed"),
        "error": ("errored", "errored"),
        "warn": ("warning", "warnings"),
        "insufficient_data": ("without enough data", "without enough data"),
        "pass": ("passed", "passed"),
    }
    tally: dict[str, int] = {}
    for r in results:
        tally[status_value(r.status)] = tally.get(status_value(r.status), 0) + 1
    parts = []
    for status, (one, many) in words.items():
        if n := tally.get(status, 0):
            parts.append(f"{n} {one if n == 1 else many}")
    return ", ".join(parts) or "no checks"
