"""A fake Slack Web API on loopback, for tests that drive a real WebClient / Bolt app.

    with FakeSlack() as fake:
        client = WebClient(token="xoxb-test", base_url=fake.base_url)
        client.chat_postMessage(channel="C1", text="hi")
        [call] = fake.wait_for("chat.postMessage")

Every request is recorded as a :class:`Call` whose ``params`` merge the query string and the
JSON, form or multipart body (slack_sdk sends chat.* as JSON, and the async client sends
users.info & co. as GET). Answers have the shapes Slack documents. ``fail_next`` scripts HTTP
errors (429 with Retry-After by default) and ``respond`` overrides an answer. Slash-command
and interactivity ``response_url`` posts go to ``response_url(token)`` and are recorded with
method ``"response_url"``. Raw uploads from ``files_upload_v2`` are recorded as ``"upload"``.

Also a pytest fixture, ``fake_slack``: ``from tests.slack.fake_slack import fake_slack``.
The Web API answers live in fake_slack_methods.py, the HTTP plumbing in fake_slack_http.py.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.slack.fake_slack_http import _Handler, _parse_body, _Server
from tests.slack.fake_slack_methods import _ANSWERS, _err

Payload = dict[str, Any] | Callable[["Call"], dict[str, Any]]


@dataclass(frozen=True)
class Call:
    method: str  # Web API method, or "upload" / "response_url"
    params: dict[str, Any]
    headers: dict[str, str]
    at: float  # time.time() when received
    path: str = ""
    status: int = 200  # the HTTP status the fake answered
    body: bytes = b""
    verb: str = "POST"  # the HTTP method


@dataclass
class UploadedFile:
    file_id: str
    filename: str
    length: int
    data: bytes = b""
    title: str | None = None
    channel: str | None = None
    thread_ts: str | None = None
    initial_comment: str | None = None
    completed: bool = False


@dataclass
class _Script:
    times: int | None  # None: until reset
    status: int = 200
    payload: Payload | None = None
    retry_after: int | None = None
    error: str | None = None


@dataclass
class _State:
    calls: list[Call] = field(default_factory=list)
    scripts: dict[str, list[_Script]] = field(default_factory=dict)
    uploads: dict[str, UploadedFile] = field(default_factory=dict)


class FakeSlack:
    """The fake server. Thread-safe; start with ``with`` or :meth:`start`/:meth:`stop`."""

    def __init__(
        self,
        *,
        team_id: str = "T1",
        bot_user_id: str = "U_BOT",
        bot_id: str = "B_BOT",
        usergroups: dict[str, list[str]] | None = None,
        users: dict[str, dict[str, Any]] | None = None,
        channels: dict[str, str] | None = None,
        check_auth: bool = True,
    ) -> None:
        self.team_id, self.bot_user_id, self.bot_id = team_id, bot_user_id, bot_id
        self.usergroups: dict[str, list[str]] = dict(usergroups or {})
        self.users: dict[str, dict[str, Any]] = dict(users or {})  # id → fields to merge
        self.channels: dict[str, str] = dict(channels or {})  # id → name
        self.check_auth = check_auth
        self._lock = threading.Condition()
        self._state = _State()
        self._seq = itertools.count(1)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> FakeSlack:
        if self._server is None:
            handler = type("_Handler", (_Handler,), {"fake": self})
            self._server = _Server(("127.0.0.1", 0), handler)
            self._server.daemon_threads = True
            self._thread = threading.Thread(
                target=self._server.serve_forever, args=(0.05,), name="fake-slack", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeSlack is not running; use `with FakeSlack() as fake:`")
        return int(self._server.server_address[1])

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def base_url(self) -> str:
        return f"{self.root_url}api/"

    def response_url(self, token: str = "r1") -> str:
        return f"{self.root_url}response/{token}"

    # -- scripting -------------------------------------------------------------------------
    def fail_next(
        self,
        method: str,
        status: int = 429,
        retry_after: int | None = 1,
        times: int = 1,
        error: str | None = None,
    ) -> None:
        """The next `times` calls of `method` answer HTTP `status` (429: with Retry-After).

        With status 200 and `error`, they answer ``{"ok": false, "error": error}`` instead.
        """
        script = _Script(times=times, status=status, retry_after=retry_after, error=error)
        with self._lock:
            self._state.scripts.setdefault(method, []).append(script)

    def respond(self, method: str, payload: Payload, *, times: int | None = None) -> None:
        """Answer `method` with `payload` (a dict, or a function of the Call) from now on."""
        with self._lock:
            self._state.scripts.setdefault(method, []).append(_Script(times, payload=payload))

    def reset(self) -> None:
        """Forget calls, scripts and uploads (configuration such as usergroups stays)."""
        with self._lock:
            self._state = _State()

    # -- inspection ------------------------------------------------------------------------
    def calls(self, method: str | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self._state.calls if method is None or c.method == method]

    def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 10,
        predicate: Callable[[Call], bool] | None = None,
    ) -> list[Call]:
        """Block until `count` matching calls arrived; returns them all (AssertionError on
        timeout, listing what did arrive)."""
        deadline = time.monotonic() + timeout

        def matching() -> list[Call]:
            return [
                c
                for c in self._state.calls
                if c.method == method and (predicate is None or predicate(c))
            ]

        with self._lock:
            while len(found := matching()) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [c.method for c in self._state.calls]
                    raise AssertionError(
                        f"waited {timeout}s for {count} {method} call(s), got {len(found)}; "
                        f"calls received: {seen}"
                    )
                self._lock.wait(left)
            return found

    async def await_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 10,
        predicate: Callable[[Call], bool] | None = None,
    ) -> list[Call]:
        """:meth:`wait_for` for async tests (does not block the event loop)."""
        return await asyncio.to_thread(self.wait_for, method, count, timeout, predicate)

    def responses(self, token: str | None = None) -> list[dict[str, Any]]:
        """The JSON bodies posted to response_url(token) (all tokens if None)."""
        return [
            c.params
            for c in self.calls("response_url")
            if token is None or c.path == f"/response/{token}"
        ]

    @property
    def uploaded_files(self) -> list[UploadedFile]:
        with self._lock:
            return [f for f in self._state.uploads.values() if f.data or f.completed]

    # -- request handling (called from the server threads) ----------------------------------
    def _record(self, call: Call) -> None:
        with self._lock:
            self._state.calls.append(call)
            self._lock.notify_all()

    def _next_script(self, method: str) -> _Script | None:
        with self._lock:
            queue = self._state.scripts.get(method, [])
            for script in queue:  # counted scripts first, in order; then the latest standing one
                if script.times is not None and script.times > 0:
                    script.times -= 1
                    return script
            standing = [s for s in queue if s.times is None]
            return standing[-1] if standing else None

    def _ts(self) -> str:
        return f"{int(time.time())}.{next(self._seq):06d}"

    def _id(self, prefix: str) -> str:
        return f"{prefix}{next(self._seq):08X}"

    def handle(
        self, path: str, query: dict[str, Any], headers: dict[str, str], body: bytes, verb: str
    ) -> tuple[int, dict[str, str], bytes]:
        """→ (status, extra headers, response body bytes)."""
        if path.startswith("/upload/"):
            return self._upload(path, headers, body, verb)
        params = {**query, **_parse_body(headers.get("content-type", ""), body)}
        if path.startswith("/response/"):
            self._record(Call("response_url", params, headers, time.time(), path, 200, body, verb))
            return 200, {}, b"ok"
        if not path.startswith("/api/"):
            return 404, {}, b"not found"
        method = path[len("/api/") :]
        script, extra = self._next_script(method), {"Content-Type": "application/json"}
        status, answer = 200, None
        if script is not None and script.status != 200:
            status = script.status
            answer = _err(script.error or ("ratelimited" if status == 429 else "fatal_error"))
            if script.retry_after is not None and script.status == 429:
                extra["Retry-After"] = str(script.retry_after)
        elif script is not None and script.error:
            answer = _err(script.error)
        call = Call(method, params, headers, time.time(), path, status, body, verb)
        if answer is None and script is not None and script.payload is not None:
            answer = script.payload(call) if callable(script.payload) else script.payload
        authed = headers.get("authorization") or params.get("token") or not self.check_auth
        if answer is None and not authed:
            answer = _err("not_authed")
        if answer is None:
            handler = _ANSWERS.get(method)
            answer = handler(self, params) if handler else _err("unknown_method")
        self._record(call)
        return status, extra, json.dumps(answer).encode()

    def _upload(
        self, path: str, headers: dict[str, str], body: bytes, verb: str
    ) -> tuple[int, dict[str, str], bytes]:
        """The raw upload to a URL from files.getUploadURLExternal: store the bytes."""
        file_id = path.rsplit("/", 1)[-1]
        with self._lock:
            upload = self._state.uploads.get(file_id)
            if upload is not None:
                upload.data = body
        status = 200 if upload is not None else 404
        info = {"file_id": file_id, "size": len(body)}
        self._record(Call("upload", info, headers, time.time(), path, status, body, verb))
        return status, {"Content-Type": "text/plain"}, f"OK - {len(body)}".encode()


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """A running FakeSlack, stopped after the test."""
    with FakeSlack() as fake:
        yield fake
