"""Who may do what: a roles file maps Slack users and user groups to modelgate roles.

    # roles.yaml (path in MODELGATE_ROLES_FILE)
    roles:
      ml-engineer: {users: [U01ANA], groups: [S01MLENG]}   # S… = a Slack user group
      ml-lead:     {users: [U01BO]}
      admin:       {users: [U01OPS]}
    permissions:          # optional; these are the defaults
      check: [ml-engineer, ml-lead, admin]

User-group membership comes from the Web API (`usergroups.users.list`, scope
`usergroups:read`) and is cached for `MODELGATE_USERGROUP_CACHE_S` seconds. Read commands are
open to everyone in the workspace; commands that change anything name a permission here.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

log = logging.getLogger(__name__)

DEFAULT_PERMISSIONS: dict[str, list[str]] = {
    "check": ["ml-engineer", "ml-lead", "admin"],
}


class Members(BaseModel):
    model_config = ConfigDict(extra="forbid")
    users: list[str] = Field(default_factory=list, description="Slack user ids (U…/W…)")
    groups: list[str] = Field(default_factory=list, description="Slack user group ids (S…)")


class RolesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    roles: dict[str, Members] = Field(default_factory=dict)
    permissions: dict[str, list[str]] = Field(default_factory=dict)

    def needed(self, permission: str) -> list[str]:
        return self.permissions.get(permission, DEFAULT_PERMISSIONS.get(permission, ["admin"]))


class RolesFileError(ValueError):
    pass


def load_roles(path: Path | None) -> RolesFile:
    """The roles file, validated; no file configured means nobody holds a role."""
    if path is None:
        return RolesFile()
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except OSError as exc:
        raise RolesFileError(f"cannot read roles file {path}: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise RolesFileError(f"roles file {path} is not valid YAML: {exc}") from exc
    try:
        return RolesFile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise RolesFileError(f"roles file {path}: {where}: {first['msg']}") from exc


class RoleResolver:
    """Roles of a Slack user, with user-group membership fetched through `client`."""

    def __init__(self, roles: RolesFile, client: Any, *, cache_s: float = 300.0) -> None:
        self.file = roles
        self._client = client
        self._cache_s = cache_s
        self._groups: dict[str, tuple[float, frozenset[str]]] = {}
        self._lock = asyncio.Lock()

    async def roles_of(self, user_id: str) -> list[str]:
        held = []
        for role, members in self.file.roles.items():
            if user_id in members.users:
                held.append(role)
                continue
            for group in members.groups:
                if user_id in await self._members(group):
                    held.append(role)
                    break
        return sorted(held)

    async def allowed(self, user_id: str, permission: str) -> tuple[bool, list[str]]:
        """Whether the user may do `permission`, and the roles that grant it."""
        needed = self.file.needed(permission)
        return bool(set(await self.roles_of(user_id)) & set(needed)), needed

    async def _members(self, group: str) -> frozenset[str]:
        now = time.monotonic()
        cached = self._groups.get(group)
        if cached and now - cached[0] < self._cache_s:
            return cached[1]
        async with self._lock:
            cached = self._groups.get(group)
            if cached and now - cached[0] < self._cache_s:
                return cached[1]
            try:
                resp = await self._client.usergroups_users_list(usergroup=group)
                members = frozenset(resp.get("users") or [])
            except Exception as exc:  # a missing scope or unknown group must not break commands
                log.warning("cannot read members of user group %s: %s", group, exc)
                members = cached[1] if cached else frozenset()
            self._groups[group] = (now, members)
            return members
