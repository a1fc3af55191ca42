"""The worker pool: runs execute in separate, lower-priority processes."""

from __future__ import annotations

import os

from modelgate.runs.worker import WORKER_NICENESS, RunPool


def test_workers_run_at_a_lower_cpu_priority_than_the_server(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from modelgate.config import Settings
    from modelgate.db import make_engine

    settings = Settings(home=tmp_path / "home", workers=1)
    pool = RunPool(settings, make_engine(settings))
    try:
        worker_pid = pool.executor().submit(os.getpid).result(timeout=60)
        worker_nice = pool.executor().submit(os.nice, 0).result(timeout=60)
    finally:
        pool.shutdown()
    assert worker_pid != os.getpid()
    assert worker_nice == min(os.nice(0) + WORKER_NICENESS, 19)
