"""Answers through a command's `response_url`, over one shared HTTP connection pool.

Bolt's own `respond` opens a new aiohttp session and connection per reply; under a burst of
commands that work competes with the acks on the event loop. One pooled client keeps each
reply to a request on a warm connection."""

from __future__ import annotations

import logging
from typing import Any

import httpx

log = logging.getLogger(__name__)


class Replies:
    def __init__(self, timeout_s: float = 10.0) -> None:
        self._timeout = timeout_s
        self._client: httpx.AsyncClient | None = None

    def to(self, response_url: str | None) -> Any:
        """A `respond(**message)` callable for one request's response_url."""

        async def respond(**message: Any) -> None:
            if not response_url:
                log.warning("no response_url to answer on; dropped: %s", message.get("text"))
                return
            r = await self._http().post(response_url, json=message)
            if r.status_code >= 400:
                log.warning("response_url answered %s: %s", r.status_code, r.text[:200])

        return respond

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=self._timeout, limits=httpx.Limits(max_keepalive_connections=20)
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
