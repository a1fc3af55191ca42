"""Domain errors. Each front door (API, CLI, Slack) maps them to its own way of saying no."""

from __future__ import annotations


class ModelgateError(Exception):
    """Base class: a refusal a person can act on. `str(err)` is one clear line."""

    code = "error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(ModelgateError):
    code = "not_found"


class Conflict(ModelgateError):
    code = "conflict"


class InvalidInput(ModelgateError):
    code = "invalid"


class PermissionDenied(ModelgateError):
    code = "forbidden"


class Unauthenticated(ModelgateError):
    code = "unauthenticated"
