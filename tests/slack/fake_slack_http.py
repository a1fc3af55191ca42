"""The fake Slack's HTTP plumbing: request-body parsing, the loopback server, the handler.

The handler hands each request to ``FakeSlack.handle`` (tests/slack/fake_slack.py).
"""

from __future__ import annotations

import email.parser
import email.policy
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:
    from tests.slack.fake_slack import FakeSlack


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
