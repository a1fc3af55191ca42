"""Concurrent writers on SQLite and PostgreSQL: exactly one wins, the audit chain stays whole."""

from __future__ import annotations

import threading
from collections.abc import Callable

from modelgate.audit import verify
from modelgate.db import session_scope
from modelgate.errors import Conflict
from modelgate.registry import service
from tests.factories import model_spec, version_spec


def _race(n: int, work: Callable[[int], None]) -> tuple[int, list[BaseException]]:
    barrier = threading.Barrier(n)
    wins, errors, lock = [0], [], threading.Lock()

    def run(i: int) -> None:
        barrier.wait()
        try:
            work(i)
            with lock:
                wins[0] += 1
        except BaseException as exc:  # collected and asserted on by the caller
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return wins[0], errors


def test_same_version_from_two_threads_registers_once(engine) -> None:  # type: ignore[no-untyped-def]
    with session_scope(engine) as s:
        service.create_model(s, spec=model_spec(), actor="a")

    def register(i: int) -> None:
        with session_scope(engine) as s:
            service.register_version(
                s, model_name="credit-risk", spec=version_spec("v1"), actor=f"t{i}"
            )

    wins, errors = _race(2, register)
    assert wins == 1
    assert len(errors) == 1 and isinstance(errors[0], Conflict), errors
    with session_scope(engine) as s:
        _, total = service.list_versions(s, model_name="credit-risk")
        assert total == 1
        assert verify(s).ok


def test_concurrent_distinct_writes_all_land_on_one_chain(engine) -> None:  # type: ignore[no-untyped-def]
    def create(i: int) -> None:
        with session_scope(engine) as s:
            service.create_model(s, spec=model_spec(f"model-{i}"), actor=f"t{i}")

    wins, errors = _race(8, create)
    assert (wins, errors) == (8, [])
    with session_scope(engine) as s:
        result = verify(s)
    assert result.ok and result.entries == 8


def test_concurrent_promotions_leave_one_holder(engine) -> None:  # type: ignore[no-untyped-def]
    with session_scope(engine) as s:
        service.create_model(s, spec=model_spec(), actor="a")
        for v in ("v1", "v2", "v3", "v4"):
            service.register_version(s, model_name="credit-risk", spec=version_spec(v), actor="a")

    def promote(i: int) -> None:
        with session_scope(engine) as s:
            service.set_stage(
                s,
                model_name="credit-risk",
                stage="production",
                version=f"v{i + 1}",
                actor=f"t{i}",
                reason="race",
                stages=["production"],
            )

    _race(4, promote)
    with session_scope(engine) as s:
        holders = [
            v
            for v in service.list_versions(s, model_name="credit-risk")[0]
            if v.stage == "production"
        ]
        assert len(holders) == 1
        history, _ = service.stage_history(s, model_name="credit-risk")
        assert history[0].to_version == holders[0].version
        assert verify(s).ok
