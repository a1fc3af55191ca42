"""The API's one exception map: domain errors to 4xx, never a stack trace to a client."""

from __future__ import annotations

import logging
import uuid

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError

from modelgate.errors import (
    Conflict,
    InvalidInput,
    ModelgateError,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)

log = logging.getLogger("modelgate.api")

STATUS: dict[type[ModelgateError], int] = {
    NotFound: 404,
    Conflict: 409,
    InvalidInput: 422,
    PermissionDenied: 403,
    Unauthenticated: 401,
}


def _status(exc: ModelgateError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]  # type: ignore[index]
    return 400


async def domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ModelgateError)
    status = _status(exc)
    body: dict[str, object] = {"detail": exc.message, "code": exc.code}
    if exc.field:
        body["field"] = exc.field
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


async def database_unavailable(_request: Request, exc: Exception) -> JSONResponse:
    error_id = uuid.uuid4().hex[:12]
    log.error("database error %s: %s", error_id, exc)
    return JSONResponse(
        {"detail": "the database is unavailable; try again shortly", "error_id": error_id},
        status_code=503,
    )


async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
    error_id = uuid.uuid4().hex[:12]
    log.exception("unhandled error %s", error_id, exc_info=exc)
    return JSONResponse(
        {"detail": "internal error; the server log has the details", "error_id": error_id},
        status_code=500,
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(ModelgateError, domain_error)
    app.add_exception_handler(OperationalError, database_unavailable)
    app.add_exception_handler(Exception, unexpected)
