"""Runs end to end on SQLite and PostgreSQL: policy → checks → stored results → report."""

from __future__ import annotations

from sqlmodel import select

from checks.base import Status
from modelgate.audit import verify
from modelgate.audit.models import AuditEvent
from modelgate.db import session_scope
from modelgate.errors import InvalidInput
from modelgate.policy import effective_for
from modelgate.runs import service
from modelgate.runs.flows import execute_run, run_artifacts_dir, run_now


def _run(settings, current=None, **kw):  # type: ignore[no-untyped-def]
    return run_now(
        settings,
        model_name="scorer",
        version="v1",
        requested_by="ana",
        trigger="test",
        current_uri=current.as_uri() if current else None,
        **kw,
    )


def test_run_stores_results_audit_and_report(run_settings, engine, scorer, credit_files) -> None:  # type: ignore[no-untyped-def]
    out = _run(run_settings, credit_files["current"])
    assert out.status in ("passed", "warned"), out
    assert [r.check for r in out.results] == ["quality", "kpi", "fairness", "drift"]
    kpi = next(r for r in out.results if r.check == "kpi")
    assert kpi.status is Status.PASS and 0.6 < kpi.values["roc_auc"] < 1
    assert kpi.thresholds["roc_auc"] == {"min": 0.6}
    assert kpi.fingerprints["current"] == out.current_data_sha256
    assert out.policy_sha256 and out.policy_sources[0].endswith("test.yaml")
    with session_scope(engine) as s:
        stored = service.run_out(s, service.get_run(s, out.id))
        actions = [e.action for e in s.exec(select(AuditEvent)).all()]
        assert verify(s).ok
    assert stored.results == out.results
    assert actions[-2:] == ["run.create", "run.finish"]
    report = (run_artifacts_dir(run_settings, out.id) / "report.html").read_text()
    assert "scorer" in report and "fairness" in report and out.id in report


def test_blocking_failure_fails_the_run(run_settings, engine, scorer, credit_files) -> None:  # type: ignore[no-untyped-def]
    strict = (
        "name: strict\nchecks:\n  - type: kpi\n    params:\n      metrics: {roc_auc: {min: 0.99}}\n"
    )
    out = _run(run_settings, credit_files["current"], override_yaml=strict)
    assert out.status == "failed"
    kpi = next(r for r in out.results if r.check == "kpi")
    assert kpi.status is Status.FAIL and "below min 0.99" in kpi.message
    assert out.summary["blocking"] == ["kpi"]


def test_drift_on_a_shifted_window_warns(run_settings, engine, scorer, credit_files) -> None:  # type: ignore[no-untyped-def]
    out = _run(run_settings, credit_files["shifted"])
    drift = next(r for r in out.results if r.check == "drift")
    assert drift.status is Status.WARN
    assert "age" in drift.message or "credit_amount" in drift.message


def test_monitoring_checks_are_skipped_without_a_current_window(
    run_settings, engine, scorer
) -> None:  # type: ignore[no-untyped-def]
    out = _run(run_settings)
    assert [r.check for r in out.results] == ["kpi", "fairness"]
    assert out.summary["skipped"] == ["quality", "drift"]


def test_a_column_missing_from_the_data_is_an_error_that_says_where(
    run_settings, engine, scorer, credit_files
) -> None:  # type: ignore[no-untyped-def]
    bad = (
        "name: bad\nchecks:\n  - type: fairness\n    params:\n"
        "      sensitive_features: [nationality]\n"
    )
    out = _run(run_settings, credit_files["current"], override_yaml=bad, override_name="bad.yaml")
    fairness = next(r for r in out.results if r.check == "fairness")
    assert fairness.status is Status.ERROR
    assert "nationality" in fairness.message and "bad.yaml:3" in fairness.message
    assert out.status == "errored"  # a blocking check that could not judge
    assert [r.status for r in out.results if r.check != "fairness"].count(Status.ERROR) == 0


def test_unreadable_current_window_errors_the_run(run_settings, engine, scorer, tmp_path) -> None:  # type: ignore[no-untyped-def]
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"not parquet at all")
    out = _run(run_settings, broken)
    assert out.status == "errored" and out.results == []
    assert "broken.parquet" in (out.error or "")


def test_invalid_override_names_the_line(run_settings, engine, scorer) -> None:  # type: ignore[no-untyped-def]
    import pytest

    with pytest.raises(InvalidInput, match=r"x\.yaml:2: checks"), session_scope(engine) as s:
        effective_for(
            s,
            run_settings,
            model_name="scorer",
            override_yaml="name: x\nchecks: 3\n",
            override_name="x.yaml",
        )


def test_a_run_executes_once(run_settings, engine, scorer, credit_files) -> None:  # type: ignore[no-untyped-def]
    out = _run(run_settings, credit_files["current"])
    assert execute_run(run_settings, out.id) is None  # already claimed and finished
    with session_scope(engine) as s:
        assert len(service.results_of(s, out.id)) == len(out.results)
        rows, total = service.list_runs(s, model_name="scorer")
        assert total == 1 and rows[0].id == out.id


def test_a_run_that_can_check_nothing_says_what_to_pass(run_settings, engine, scorer) -> None:  # type: ignore[no-untyped-def]
    only_drift = (
        "name: only-drift\npriority: 99\nchecks:\n"
        "  - {type: quality, enabled: false}\n  - {type: kpi, enabled: false}\n"
        "  - {type: fairness, enabled: false}\n"
    )
    out = _run(run_settings, override_yaml=only_drift)
    assert out.status == "errored" and out.results == []
    assert "without a current data window; pass --current" in (out.error or "")
