"""The API's one exception map: domain errors to 4xx, never a stack trace to a client."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
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


class ErrorBody(BaseModel):
    detail: str
    code: str | None = None
    field: str | None = None
    error_id: str | None = None


def _doc(text: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": text}


# Documented on every /api/v1 route so clients (and the OpenAPI spec) know the failure modes.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _doc("missing, invalid, expired or revoked token"),
    403: _doc("the token lacks the scope this operation needs"),
    404: _doc("no such model, version or stage"),
    409: _doc("conflicts with the current state (duplicate, archived, concurrent change)"),
    503: _doc("the database is unavailable"),
}

# For routes whose success is not JSON (the HTML report): FastAPI would document the error
# models under the route's media type, so say explicitly that errors are JSON.
HTML_ROUTE_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {
        "description": doc["description"],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
    }
    for status, doc in ERROR_RESPONSES.items()
}

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
    if status == 422:  # the same shape as request validation errors: one format for clients
        field = exc.field or ""
        return JSONResponse(
            {
                "detail": [
                    {
                        "loc": [field] if field else [],
                        "field": field,
                        "msg": exc.message,
                        "type": exc.code,
                    }
                ]
            },
            status_code=422,
        )
    body: dict[str, object] = {"detail": exc.message, "code": exc.code}
    if exc.field:
        body["field"] = exc.field
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


async def invalid_request(_request: Request, exc: Exception) -> JSONResponse:
    """422 naming each field at fault. The offending input is not echoed back: it may be
    huge, secret, or not representable in JSON (NaN)."""
    assert isinstance(exc, RequestValidationError)
    detail = []
    for err in exc.errors():
        loc = [p if isinstance(p, int | str) else str(p) for p in err.get("loc", ())]
        field = ".".join(str(p) for p in loc[1:]) or str(loc[0] if loc else "")
        detail.append(
            {
                "loc": loc,
                "field": field,
                "msg": str(err.get("msg", "invalid")),
                "type": str(err.get("type", "value_error")),
            }
        )
    return JSONResponse({"detail": detail}, status_code=422)


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
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(OperationalError, database_unavailable)
    app.add_exception_handler(Exception, unexpected)
