"""policy → checks → results → report → notify: one run, start to finish.

`execute_run` is what a worker process (or the CLI, in-process) calls with a run id. It
claims the run (a conditional update, so two workers never both execute it), loads inputs
outside any transaction, runs each check under its time limit, stores the results and the
verdict in one transaction with the audit entry, and writes the HTML report.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from checks.base import CheckContext, CheckInputError, CheckResult, Severity, Status, execute
from modelgate.config import Settings
from modelgate.db import make_engine, session_scope
from modelgate.ports import Notifier
from modelgate.registry.models import Model, ModelVersion
from modelgate.runs import service
from modelgate.runs.inputs import champion_of, expand_roles, load_inputs, version_info
from modelgate.runs.schemas import RunOut
from modelgate.runs.state import RunStatus, verdict
from policies.schema import CheckSpec, EffectivePolicy

log = logging.getLogger(__name__)

Progress = Callable[[CheckSpec, CheckResult | None], None]


class CheckTimeout(Exception):
    pass


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Interrupt the block after `seconds` (main thread only: worker processes and the CLI
    run checks there; elsewhere the limit is not enforced and a warning is logged)."""
    if threading.current_thread() is not threading.main_thread():
        log.debug("time limit not enforced outside the main thread")
        yield
        return

    def _expired(_signum: int, _frame: Any) -> None:
        raise CheckTimeout(f"took longer than its {seconds:g} s time limit")

    previous = signal.signal(signal.SIGALRM, _expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run_artifacts_dir(settings: Settings, run_id: str) -> Path:
    return settings.artifacts_dir / run_id


def _run_check(spec: CheckSpec, policy: EffectivePolicy, ctx: CheckContext) -> CheckResult:
    from checks.registry import CHECKS

    check = CHECKS[spec.type]
    params = check.Params.model_validate(expand_roles(spec.params, ctx.roles))
    try:
        with time_limit(spec.timeout_s):
            result = execute(check, ctx, params, name=spec.key, severity=spec.severity)
        # checks name artifacts relative to their own directory; store them relative to the run's
        result.artifacts = [
            a.model_copy(update={"path": f"{spec.key}/{a.path}"}) for a in result.artifacts
        ]
        return result
    except CheckTimeout as exc:
        return CheckResult(
            check=spec.key,
            type=spec.type,
            status=Status.ERROR,
            severity=spec.severity,
            message=f"check `{spec.key}` {exc}",
        )


def runnable(policy: EffectivePolicy, *, has_current: bool) -> list[CheckSpec]:
    """The checks a run executes: monitoring checks (drift, quality) need a current window;
    a run without one (a pre-promotion gate) judges the version on its own data."""
    from checks.registry import CHECKS

    return [c for c in policy.checks if has_current or not CHECKS[c.type].needs_current]


def skipped(policy: EffectivePolicy, *, has_current: bool) -> list[str]:
    keep = {c.key for c in runnable(policy, has_current=has_current)}
    return [c.key for c in policy.checks if c.key not in keep]


def execute_run(
    settings: Settings,
    run_id: str,
    *,
    notifier: Notifier | None = None,
    progress: Progress | None = None,
) -> RunOut | None:
    """Execute a queued run; returns its final state, or None if another worker had it."""
    engine = make_engine(settings)
    try:
        with session_scope(engine) as s:
            if not service.claim_run(s, run_id):
                log.info("run %s was already claimed; skipping", run_id)
                return None
            run = service.get_run(s, run_id)
            model = s.get(Model, run.model_id)
            version = s.get(ModelVersion, run.version_id)
            assert model is not None and version is not None
            info = version_info(model, version)
            champion, champion_values = champion_of(s, model, version)
            policy = EffectivePolicy.model_validate(run.policy)
            current_uri = run.current_data_uri
        try:
            results, status, error, current_sha = _judge(
                settings, run_id, info, policy, current_uri, champion, champion_values, progress
            )
        except Exception as exc:  # a claimed run must end in a recorded state, never "running"
            log.exception("run %s failed", run_id)
            results, status, current_sha = [], RunStatus.ERRORED, None
            error = f"the run failed: {type(exc).__name__}: {exc}"
        with session_scope(engine) as s:
            service.finish_run(
                s,
                run_id,
                status=status,
                results=results,
                error=error,
                current_sha256=current_sha,
                skipped=skipped(policy, has_current=current_uri is not None),
            )
            out = service.run_out(s, service.get_run(s, run_id))
        _write_report(settings, out)
        if notifier is not None:
            notifier.run_finished(out)
        return out
    finally:
        engine.dispose()


def run_now(
    settings: Settings,
    *,
    model_name: str,
    version: str,
    requested_by: str,
    trigger: str,
    current_uri: str | None = None,
    override_yaml: str | None = None,
    override_name: str = "<request>",
    progress: Progress | None = None,
    notifier: Notifier | None = None,
) -> RunOut:
    """Create a run and execute it in this process (the CLI and the demo)."""
    from modelgate.policy import effective_for

    engine = make_engine(settings)
    try:
        with session_scope(engine) as s:
            policy = effective_for(
                s,
                settings,
                model_name=model_name,
                override_yaml=override_yaml,
                override_name=override_name,
            )
            run_id = service.create_run(
                s,
                model_name=model_name,
                version=version,
                policy=policy,
                requested_by=requested_by,
                trigger=trigger,
                current_data_uri=current_uri,
            ).id
    finally:
        engine.dispose()
    out = execute_run(settings, run_id, progress=progress, notifier=notifier)
    assert out is not None  # nobody else can have claimed a run created just now
    return out


def _judge(
    settings: Settings,
    run_id: str,
    info: Any,
    policy: EffectivePolicy,
    current_uri: str | None,
    champion: Any,
    champion_values: dict[str, Any],
    progress: Progress | None,
) -> tuple[list[CheckResult], RunStatus, str | None, str | None]:
    try:
        inputs = load_inputs(settings, info, current_uri, champion, champion_values)
    except CheckInputError as exc:
        return [], RunStatus.ERRORED, str(exc), None
    except Exception as exc:  # the run must end in a recorded state, whatever happened
        log.exception("run %s: loading inputs failed", run_id)
        return [], RunStatus.ERRORED, f"loading inputs failed: {type(exc).__name__}: {exc}", None
    specs = runnable(policy, has_current=inputs.current is not None)
    if not specs:
        why = (
            "the effective policy has no checks"
            if not policy.checks
            else "none of the policy's checks can run without a current data window; pass "
            "--current (CLI) or current_data_uri (API)"
        )
        return [], RunStatus.ERRORED, why, None
    results: list[CheckResult] = []
    for spec in specs:
        if progress:
            progress(spec, None)
        ctx = CheckContext(
            roles=inputs.roles,
            reference=inputs.reference,
            current=inputs.current,
            model=inputs.model,
            champion_model=inputs.champion_model,
            champion_values=inputs.champion_values,
            artifacts_dir=run_artifacts_dir(settings, run_id) / spec.key,
            time_budget_s=min(spec.timeout_s * 0.5, 60.0),
            source=policy.check_sources.get(spec.key, ""),
        )
        ctx.artifacts_dir.mkdir(parents=True, exist_ok=True)  # type: ignore[union-attr]
        result = _run_check(spec, policy, ctx)
        results.append(result)
        if progress:
            progress(spec, result)
    status = verdict(results, policy.on_insufficient_data)
    error = None
    if status is RunStatus.ERRORED:
        failed = [
            r.check for r in results if r.status is Status.ERROR and r.severity is Severity.BLOCK
        ]
        error = f"blocking check(s) could not be judged: {', '.join(failed)}"
    current_sha = inputs.current.sha256 if inputs.current is not None else None
    return results, status, error, current_sha


def _write_report(settings: Settings, out: RunOut) -> None:
    """The on-disk copy of the report (the API renders its own from the database)."""
    from modelgate.runs.report import render_report

    path = run_artifacts_dir(settings, out.id) / "report.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        html = render_report(out, settings.artifacts_dir / out.id, link_prefix="")
    except Exception:  # the run is already recorded; a report bug must not undo that
        log.exception("run %s: rendering the report failed", out.id)
        return
    path.write_text(html, encoding="utf-8")
