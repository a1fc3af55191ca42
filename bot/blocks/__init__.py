"""Block Kit messages: pure functions of read-only data that return a :class:`Message`.

No I/O and no database or web framework imports here: the bot's handlers fetch the data and
post what these functions build.
"""

from bot.blocks.common import Message, clip, escape
from bot.blocks.registry import (
    ModelRow,
    error_message,
    help_message,
    model_status,
    models_list,
    stage_history,
    whoami,
)
from bot.blocks.report import (
    OPEN_REPORT_ACTION,
    RERUN_ACTION,
    run_queued_ack,
    run_report,
    run_started,
)

__all__ = [
    "OPEN_REPORT_ACTION",
    "RERUN_ACTION",
    "Message",
    "ModelRow",
    "clip",
    "error_message",
    "escape",
    "help_message",
    "model_status",
    "models_list",
    "run_queued_ack",
    "run_report",
    "run_started",
    "stage_history",
    "whoami",
]
