"""The fake Slack's Web API answers, with the shapes Slack documents.

``_ANSWERS`` maps a method name to its answer, a function of the FakeSlack and the request's
params; ``FakeSlack.handle`` (tests/slack/fake_slack.py) looks it up.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.slack.fake_slack import FakeSlack


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


def _message(f: FakeSlack, p: dict[str, Any], ts: str) -> dict[str, Any]:
    blocks = p.get("blocks")
    who = {"user": f.bot_user_id, "bot_id": f.bot_id, "team": f.team_id}
    msg: dict[str, Any] = {"type": "message", **who, "text": p.get("text", ""), "ts": ts}
    if blocks is not None:
        msg["blocks"] = json.loads(blocks) if isinstance(blocks, str) else blocks
    if p.get("thread_ts"):
        msg["thread_ts"] = p["thread_ts"]
    return msg


def _user(f: FakeSlack, user_id: str) -> dict[str, Any]:
    name = user_id.lower().removeprefix("u_").removeprefix("u")
    real, email = name.title(), f"{name}@example.com"
    profile = {"real_name": real, "display_name": name, "email": email}
    flags = {"deleted": False, "is_bot": False, "is_admin": False, "tz": "Europe/Berlin"}
    user = {"id": user_id, "team_id": f.team_id, "name": name, "real_name": real, **flags}
    return {**user, "profile": profile, **f.users.get(user_id, {})}


def _post_message(f: FakeSlack, p: dict[str, Any]) -> dict[str, Any]:
    ts = f._ts()
    return _no_message(p) or _ok(channel=p["channel"], ts=ts, message=_message(f, p, ts))


def _post_ephemeral(f: FakeSlack, p: dict[str, Any]) -> dict[str, Any]:
    if not p.get("user"):
        return _err("user_not_found")
    return _no_message(p) or _ok(message_ts=f._ts())


def _update(f: FakeSlack, p: dict[str, Any]) -> dict[str, Any]:
    if problem := (_err("message_not_found") if not p.get("ts") else _no_message(p)):
        return problem
    msg = _message(f, p, p["ts"])
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
    return _ok(user=_user(f, user_id))


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
    from tests.slack.fake_slack import UploadedFile  # not at the top: fake_slack imports us

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
