"""The worker process pool that executes check runs away from the web server's event loop."""

from __future__ import annotations

import logging
import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor

from sqlalchemy.engine import Engine

from modelgate.config import Settings
from modelgate.ports import Notifier

log = logging.getLogger(__name__)


WORKER_NICENESS = 10  # checks are batch work: the web server's acks come first


def _init_worker() -> None:
    """Each worker process runs at a lower CPU priority than the server that spawned it, so
    a 1M-row check cannot starve the event loop that must answer Slack within 3 s."""
    try:
        os.nice(WORKER_NICENESS)
    except (AttributeError, OSError):  # not on this platform, or not permitted: run as is
        log.debug("cannot lower the worker's priority")


def _work(settings: Settings, run_id: str) -> str | None:
    """Runs in a worker process: its main thread, so per-check time limits apply."""
    os.environ.setdefault("DO_NOT_TRACK", "1")
    from modelgate.runs.flows import execute_run

    out = execute_run(settings, run_id)
    return out.status if out else None


class RunPool:
    """Submits run ids to a lazily started pool of `settings.workers` processes.

    Processes are spawned (not forked) so they never inherit the server's threads or
    database connections; a worker keeps its caches (reference profiles) between runs.
    """

    def __init__(
        self, settings: Settings, engine: Engine, notifier: Notifier | None = None
    ) -> None:
        self._settings = settings
        self._engine = engine  # the server's: results are read and failures recorded with it
        self.notifier = notifier  # told about every run this pool finishes
        self._pool: ProcessPoolExecutor | None = None

    def executor(self) -> ProcessPoolExecutor:
        """The process pool, started on first use."""
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self._settings.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker,
            )
        return self._pool

    def submit(self, run_id: str) -> Future[str | None]:
        future = self.executor().submit(_work, self._settings, run_id)  # pickles secrets intact
        future.add_done_callback(lambda f: self._done(run_id, f))
        return future

    def shutdown(self, *, wait: bool = True) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=wait, cancel_futures=not wait)
            self._pool = None

    def _done(self, run_id: str, future: Future[str | None]) -> None:
        if future.cancelled():
            return
        exc = future.exception()
        if exc is not None:
            self._record_failure(run_id, exc)
        elif future.result() is None:
            return  # another worker had claimed it; that one reports
        if self.notifier is not None:
            try:
                self._notify(run_id)
            except Exception:
                log.exception("notifying about run %s failed", run_id)

    def _notify(self, run_id: str) -> None:
        from modelgate.db import session_scope
        from modelgate.runs.service import get_run, run_out

        with session_scope(self._engine) as s:
            out = run_out(s, get_run(s, run_id))
        assert self.notifier is not None
        self.notifier.run_finished(out)

    def _record_failure(self, run_id: str, exc: BaseException) -> None:
        """A worker that died (killed, out of memory) leaves its run errored, not running."""
        log.error("run %s failed in its worker: %s", run_id, exc, exc_info=exc)
        from modelgate.db import session_scope
        from modelgate.runs.service import finish_run
        from modelgate.runs.state import RunStatus

        with session_scope(self._engine) as s:
            finish_run(
                s,
                run_id,
                status=RunStatus.ERRORED,
                results=[],
                error=f"the worker failed: {type(exc).__name__}: {exc}",
            )
