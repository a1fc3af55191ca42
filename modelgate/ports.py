"""The Protocols through which the domain calls out. The Slack bot implements Notifier;
without a token a console notifier does, so every flow runs and is testable without Slack."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from modelgate.runs.schemas import RunOut


class Notifier(Protocol):
    def run_finished(self, run: RunOut) -> None:
        """A check run reached a final state."""
