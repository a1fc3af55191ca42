"""The modelgate app wired to a fake Slack: signed requests in, recorded Web API calls out."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from tests.slack.fake_slack import FakeSlack
from tests.slack.signing import SlackSigner, slash_command_body

SECRET = "test-signing-secret"
TOKEN = "xoxb-test-token"
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy")
ROLES = """\
roles:
  ml-engineer: {users: [U_ALICE]}
  ml-lead: {groups: [S_LEADS]}
"""


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in PROXY_VARS:  # slack_sdk honours these and ignores NO_PROXY
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack(usergroups={"S_LEADS": ["U_BOB"]}) as f:
        yield f


@dataclass
class SlackApp:
    """The running app, its fake Slack, and helpers to send what Slack sends."""

    http: TestClient
    fake: FakeSlack
    signer: SlackSigner
    settings: Any

    def post(self, body: bytes, headers: dict[str, str] | None = None) -> Any:
        return self.http.post(
            "/slack/events", content=body, headers=headers or self.signer.headers(body)
        )

    def command(self, text: str, *, token: str = "r1", **kwargs: Any) -> Any:
        body = slash_command_body(text, response_url=self.fake.response_url(token), **kwargs)
        return self.post(body)

    def reply(self, token: str = "r1", timeout: float = 10) -> dict[str, Any]:
        """The (single) message posted to response_url(token)."""
        self.fake.wait_for(
            "response_url", timeout=timeout, predicate=lambda c: c.path == f"/response/{token}"
        )
        [body] = self.fake.responses(token)
        return body


@pytest.fixture
def slack_settings(run_settings, fake: FakeSlack, tmp_path: Path):  # type: ignore[no-untyped-def]
    roles = tmp_path / "roles.yaml"
    roles.write_text(ROLES)
    return run_settings.model_copy(
        update={
            "slack_bot_token": SecretStr(TOKEN),
            "slack_signing_secret": SecretStr(SECRET),
            "slack_api_url": fake.base_url,
            "public_url": "http://modelgate.test",
            "roles_file": roles,
            "workers": 1,
        }
    )


@pytest.fixture
def slack_app(slack_settings, engine, fake: FakeSlack) -> Iterator[SlackApp]:  # type: ignore[no-untyped-def]
    from api.main import create_app

    settings = slack_settings
    with TestClient(create_app(settings)) as http:  # `with`: post-ack work is not dropped
        yield SlackApp(http=http, fake=fake, signer=SlackSigner(SECRET), settings=settings)
