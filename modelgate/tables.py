"""Imports every table module so SQLModel.metadata is complete (used by migrations)."""

from modelgate.audit.models import AuditEvent, AuditHead
from modelgate.registry.models import Model, ModelVersion, StageTransition
from modelgate.runs.models import CheckResultRow, CheckRun, SlackEvent
from modelgate.tokens import ApiToken

__all__ = [
    "ApiToken",
    "AuditEvent",
    "AuditHead",
    "CheckResultRow",
    "CheckRun",
    "Model",
    "ModelVersion",
    "SlackEvent",
    "StageTransition",
]
