"""Request dependencies: the engine, the caller's identity, and scope checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine

from modelgate.config import Settings
from modelgate.db import session_scope
from modelgate.errors import PermissionDenied, Unauthenticated
from modelgate.tokens import Principal, authenticate

bearer = HTTPBearer(auto_error=False, description="an API token: `modelgate token create`")

ANONYMOUS = Principal(name="anonymous", scopes=frozenset({"read"}))


def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def get_engine(request: Request) -> Engine:
    return request.app.state.engine  # type: ignore[no-any-return]


EngineDep = Annotated[Engine, Depends(get_engine)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def require(scope: str) -> Callable[..., Principal]:
    """A dependency that authenticates the caller and insists on `scope`."""

    def dependency(
        engine: EngineDep,
        settings: SettingsDep,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Principal:
        if credentials is None:
            if scope == "read" and settings.allow_anonymous_read:
                return ANONYMOUS
            raise Unauthenticated("missing bearer token (Authorization: Bearer mg_...)")
        with session_scope(engine) as session:
            principal = authenticate(session, credentials.credentials)
        if not principal.allows(scope):
            raise PermissionDenied(
                f"this token lacks the `{scope}` scope; create one with "
                f"`modelgate token create --name NAME --scopes {scope}`"
            )
        return principal

    return dependency


Reader = Annotated[Principal, Depends(require("read"))]
Writer = Annotated[Principal, Depends(require("write"))]
Admin = Annotated[Principal, Depends(require("admin"))]

ModelName = Annotated[
    str, Path(pattern=r"^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$", description="model slug")
]
VersionPath = Annotated[
    str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$", description="version label")
]
Limit = Annotated[int, Query(ge=1, le=500, description="page size")]
Offset = Annotated[int, Query(ge=0, le=2**31, description="items to skip")]
