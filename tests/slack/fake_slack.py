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
"""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

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


def _flat(qs: dict[str, list[str]]) -> dict[str, Any]:
    return {k: v[0] if len(v) == 1 else v for k, v in qs.items()}


def _parse_body(content_type: str, body: bytes) -> dict[str, Any]:
    try:
        return _parse(content_type, body)
    except (ValueError, UnicodeDecodeError):  # recorded raw in Call.body
        return {}


def _parse(content_type: str, body: bytes) -> dict[str, Any]:
    ctype = content_type.split(";")[0].strip().lower()
    if not body:
        return {}
    if ctype == "application/json":
        data = json.loads(body)
        return data if isinstance(data, dict) else {"_json": data}
    if ctype == "application/x-www-form-urlencoded":
        return _flat(parse_qs(body.decode(), keep_blank_values=True))
    if ctype == "multipart/form-data":
        head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
        out: dict[str, Any] = {}
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            data = part.get_payload(decode=True) or b""
            out[str(name)] = data if part.get_filename() else data.decode()
        return out
    return {}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the stdlib's 5 drops connections in a burst (1 s SYN retries)


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

    def _message(self, p: dict[str, Any], ts: str) -> dict[str, Any]:
        blocks = p.get("blocks")
        who = {"user": self.bot_user_id, "bot_id": self.bot_id, "team": self.team_id}
        msg: dict[str, Any] = {"type": "message", **who, "text": p.get("text", ""), "ts": ts}
        if blocks is not None:
            msg["blocks"] = json.loads(blocks) if isinstance(blocks, str) else blocks
        if p.get("thread_ts"):
            msg["thread_ts"] = p["thread_ts"]
        return msg

    def _user(self, user_id: str) -> dict[str, Any]:
        name = user_id.lower().removeprefix("u_").removeprefix("u")
        real, email = name.title(), f"{name}@example.com"
        profile = {"real_name": real, "display_name": name, "email": email}
        flags = {"deleted": False, "is_bot": False, "is_admin": False, "tz": "Europe/Berlin"}
        user = {"id": user_id, "team_id": self.team_id, "name": name, "real_name": real, **flags}
        return {**user, "profile": profile, **self.users.get(user_id, {})}


def _ok(**fields: Any) -> dict[str, Any]:
    return {"ok": True, **fields}


def _err(code: str) -> dict[str, Any]:
    return {"ok": False, "error": code}


def _no_message(p: dict[str, Any]) -> dict[str, Any] | None:
    if not p.get("channel"):
        return _err("channel_not_found")
    if not (p.get("text") or p.get("blocks") or p.get("attachments")):
        return _err("no_text")
    return None


def _post_message(f: FakeSlack, p: dict[str, Any]) -> dict[str, Any]:
    ts = f._ts()
    return _no_message(p) or _ok(channel=p["channel"], ts=ts, message=f._message(p, ts))


def _post_ephemeral(f: FakeSlack, p: dict[str, Any]) -> dict[str, Any]:
    if not p.get("user"):
        return _err("user_not_found")
    return _no_message(p) or _ok(message_ts=f._ts())


def _update(f: FakeSlack, p: dict[str, Any]) -> dict[str, Any]:
    if problem := (_err("message_not_found") if not p.get("ts") else _no_message(p)):
        return problem
    msg = f._message(p, p["ts"])
    return _ok(channel=p["channel"], ts=p["ts"], text=msg["text"], message=msg)


def _delete(f: FakeSlack, p: dict[str, Any]) -> dict[str, Any]:
    if not p.get("channel") or not p.get("ts"):
        return _err("message_not_found")
    return _ok(channel=p["channel"], ts=p["ts"])


def _views_open(f: FakeSlack, p: dict[str, Any]) -> dict[str, Any]:
    view = p.get("view")
    view = json.loads(view) if isinstance(view, str) else view
    if not p.get("trigger_id") or not isinstance(view, dict):
        return _err("invalid_arguments")
    ids = {"id": f._id("V"), "team_id": f.team_id, "app_id": "A1", "bot_id": f.bot_id}
    state = {"hash": f._ts(), "state": {"values": {}}, "private_metadata": "", "callback_id": ""}
    return _ok(view={**ids, **state, **view})


def _users_info(f: FakeSlack, p: dict[str, Any]) -> dict[str, Any]:
    user_id = str(p.get("user", ""))
    if user_id not in f.users and user_id[:1] not in ("U", "W"):
        return _err("user_not_found")
    return _ok(user=f._user(user_id))


def _usergroup_members(f: FakeSlack, p: dict[str, Any]) -> dict[str, Any]:
    group = str(p.get("usergroup", ""))
    if group not in f.usergroups:
        return _err("no_such_subteam")
    return _ok(users=list(f.usergroups[group]))


def _conversations_info(f: FakeSlack, p: dict[str, Any]) -> dict[str, Any]:
    cid = str(p.get("channel", ""))
    if not cid:
        return _err("channel_not_found")
    name = f.channels.get(cid, cid.lower().removeprefix("c_"))
    flags = {"is_channel": True, "is_private": cid.startswith("G"), "is_archived": False}
    return _ok(channel={"id": cid, "name": name, **flags, "is_member": True})


def _get_upload_url(f: FakeSlack, p: dict[str, Any]) -> dict[str, Any]:
    if not p.get("filename") or not str(p.get("length", "")).isdigit():
        return _err("invalid_arguments")
    file_id = f._id("F")
    with f._lock:
        f._state.uploads[file_id] = UploadedFile(file_id, p["filename"], int(p["length"]))
    return _ok(upload_url=f"{f.root_url}upload/{file_id}", file_id=file_id)


def _complete_upload(f: FakeSlack, p: dict[str, Any]) -> dict[str, Any]:
    files = p.get("files")
    items = json.loads(files) if isinstance(files, str) else files
    if not isinstance(items, list) or not items:
        return _err("invalid_arguments")
    out = []
    with f._lock:
        for item in items:
            up = f._state.uploads.get(str(item.get("id")))
            if up is None or len(up.data) != up.length:
                return _err("file_not_found")
            up.title = item.get("title") or up.filename
            up.channel = p.get("channel_id") or p.get("channels")
            up.thread_ts, up.initial_comment = p.get("thread_ts"), p.get("initial_comment")
            up.completed = True
            url = f"{f.root_url}files/{up.file_id}"
            info = {"id": up.file_id, "name": up.filename, "title": up.title}
            out.append({**info, "size": len(up.data), "url_private": url, "permalink": url})
    return _ok(files=out)


def _auth_test(f: FakeSlack, p: dict[str, Any]) -> dict[str, Any]:
    ids = {"team_id": f.team_id, "user_id": f.bot_user_id, "bot_id": f.bot_id}
    return _ok(
        url="https://modelgate-test.slack.com/",
        team="Modelgate Test",
        user="modelgate",
        **ids,
        is_enterprise_install=False,
    )


_ANSWERS: dict[str, Callable[[FakeSlack, dict[str, Any]], dict[str, Any]]] = {
    "auth.test": _auth_test,
    "chat.postMessage": _post_message,
    "chat.postEphemeral": _post_ephemeral,
    "chat.update": _update,
    "chat.delete": _delete,
    "views.open": _views_open,
    "users.info": _users_info,
    "usergroups.users.list": _usergroup_members,
    "conversations.info": _conversations_info,
    "files.getUploadURLExternal": _get_upload_url,
    "files.completeUploadExternal": _complete_upload,
}


class _Handler(BaseHTTPRequestHandler):
    fake: FakeSlack
    protocol_version = "HTTP/1.0"

    def _serve(self) -> None:
        url = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k.lower(): v for k, v in self.headers.items()}
        query = _flat(parse_qs(url.query, keep_blank_values=True))
        try:
            status, extra, payload = self.fake.handle(url.path, query, headers, body, self.command)
        except Exception as exc:  # a bug in the fake must show up in the test, not hang it
            status, extra = 500, {"Content-Type": "text/plain"}
            payload = f"fake slack error: {type(exc).__name__}: {exc}".encode()
        self.send_response(status)
        for k, v in extra.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = _serve
    do_POST = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """A running FakeSlack, stopped after the test."""
    with FakeSlack() as fake:
        yield fake
