"""Imports every table module so SQLModel.metadata is complete (used by migrations)."""

from modelgate.audit.models import AuditEvent, AuditHead
from modelgate.registry.models import Model, ModelVersion, StageTransition
from modelgate.tokens import ApiToken

__all__ = ["ApiToken", "AuditEvent", "AuditHead", "Model", "ModelVersion", "StageTransition"]
