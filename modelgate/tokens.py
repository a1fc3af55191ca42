"""API tokens: random secrets shown once, stored as sha256, with scopes.

Scopes are ordered: `admin` implies `write`, which implies `read`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import JSON, Column
from sqlmodel import Field, Session, SQLModel, col, select

from modelgate import audit
from modelgate.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from modelgate.types import UTCDateTime, utcnow

Scope = Literal["read", "write", "admin"]
SCOPES: tuple[str, ...] = ("read", "write", "admin")
IMPLIES: dict[str, set[str]] = {
    "read": {"read"},
    "write": {"read", "write"},
    "admin": {"read", "write", "admin"},
}
PREFIX = "mg_"
LAST_USED_RESOLUTION = timedelta(minutes=5)


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=16)
    token_hash: str = Field(max_length=64, unique=True)
    scopes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class TokenInfo(BaseModel):
    name: str
    prefix: str
    scopes: list[str]
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, t: ApiToken) -> TokenInfo:
        return cls.model_validate(t, from_attributes=True)


class Principal(BaseModel):
    """Who is calling, and what they may do."""

    name: str
    scopes: frozenset[str]

    @property
    def actor(self) -> str:
        return self.name

    def allows(self, scope: str) -> bool:
        return scope in self.scopes


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def parse_scopes(text: str | list[str]) -> list[str]:
    items = [s.strip() for s in (text.split(",") if isinstance(text, str) else text) if s.strip()]
    unknown = [s for s in items if s not in SCOPES]
    if unknown or not items:
        raise InvalidInput(
            f"scopes must be a comma-separated subset of {', '.join(SCOPES)}; "
            f"got {', '.join(unknown) or 'nothing'}",
            field="scopes",
        )
    return sorted(set(items), key=SCOPES.index)


def create_token(
    session: Session,
    *,
    name: str,
    scopes: list[str],
    actor: str,
    expires_at: datetime | None = None,
) -> tuple[str, ApiToken]:
    """Create a token; returns the secret (shown once, never stored) and the record."""
    if session.exec(select(ApiToken).where(ApiToken.name == name)).first():
        raise Conflict(
            f"a token named {name!r} already exists; revoke it or pick another name", field="name"
        )
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name,
        prefix=secret[:10],
        token_hash=_digest(secret),
        scopes=parse_scopes(scopes),
        created_by=actor,
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="token.create",
        subject=f"token/{name}",
        payload={
            "scopes": token.scopes,
            "prefix": token.prefix,
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
    )
    return secret, token


def list_tokens(session: Session) -> list[ApiToken]:
    return list(session.exec(select(ApiToken).order_by(col(ApiToken.created_at))).all())


def revoke_token(session: Session, *, name: str, actor: str) -> ApiToken:
    token = session.exec(select(ApiToken).where(ApiToken.name == name)).first()
    if token is None:
        raise NotFound(f"no token named {name!r}; `modelgate token list` shows them")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.add(token)
        audit.record(session, actor=actor, action="token.revoke", subject=f"token/{name}")
    return token


def authenticate(session: Session, secret: str) -> Principal:
    """The principal for a presented secret; raises Unauthenticated for anything invalid."""
    if not secret.startswith(PREFIX) or len(secret) > 200:
        raise Unauthenticated("invalid token")
    digest = _digest(secret)
    token = session.exec(select(ApiToken).where(ApiToken.token_hash == digest)).first()
    if token is None or not hmac.compare_digest(token.token_hash, digest):
        raise Unauthenticated("invalid token")
    now = utcnow()
    if token.revoked_at is not None:
        raise Unauthenticated("token has been revoked")
    if token.expires_at is not None and token.expires_at <= now:
        raise Unauthenticated("token has expired")
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        token.last_used_at = now
        session.add(token)
    scopes: set[str] = set()
    for s in token.scopes:
        scopes |= IMPLIES.get(s, set())
    return Principal(name=f"token:{token.name}", scopes=frozenset(scopes))
