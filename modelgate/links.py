"""Signed, expiring links to run reports, so a person can open one from Slack in a browser
without an API token. The signature covers the run id and the expiry time."""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import urlencode

from modelgate.config import Settings

DEFAULT_TTL_S = 30 * 24 * 3600


def _signature(settings: Settings, run_id: str, expires: int) -> str:
    msg = f"report:{run_id}:{expires}".encode()
    return hmac.new(settings.link_secret(), msg, hashlib.sha256).hexdigest()


def report_query(
    settings: Settings, run_id: str, *, ttl_s: int = DEFAULT_TTL_S, now: float | None = None
) -> str:
    expires = int((now or time.time()) + ttl_s)
    return urlencode({"exp": expires, "sig": _signature(settings, run_id, expires)})


def report_query_for(expires: int, signature: str) -> str:
    """The query string of a signed link, to carry onto the report's artifact links."""
    return "?" + urlencode({"exp": expires, "sig": signature})


def report_url(settings: Settings, run_id: str) -> str | None:
    """The browser link for a run's report, or None without MODELGATE_PUBLIC_URL."""
    if not settings.public_url:
        return None
    return f"{settings.public_url.rstrip('/')}/reports/{run_id}?{report_query(settings, run_id)}"


def verify(
    settings: Settings, run_id: str, expires: int, signature: str, now: float | None = None
) -> bool:
    if expires < (now or time.time()):
        return False
    return hmac.compare_digest(_signature(settings, run_id, expires), signature)
