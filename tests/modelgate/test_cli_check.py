"""`modelgate check` and `modelgate policy` as a CI pipeline uses them: exit codes and JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modelgate.cli import app


@pytest.fixture
def cli(run_settings, engine, scorer, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MODELGATE_DATABASE_URL", run_settings.database_url)
    monkeypatch.setenv("MODELGATE_HOME", str(run_settings.home))
    monkeypatch.setenv(
        "MODELGATE_POLICY_PATHS", json.dumps([str(p) for p in run_settings.policy_paths])
    )
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(app, list(args))
        return result.exit_code, result.output, result.stderr

    return run


def test_check_exit_codes(cli, credit_files, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = cli("check", "scorer", "--current", str(credit_files["current"]))
    assert code == 0 and "scorer v1" in out and "report:" in out
    strict = tmp_path / "strict.yaml"
    strict.write_text(
        "name: strict\nchecks:\n  - type: kpi\n    params:\n      metrics: {roc_auc: {min: 0.99}}\n"
    )
    code, out, _ = cli("check", "scorer", "--version", "v1", "--policy", str(strict), "--json")
    assert code == 1 and json.loads(out)["status"] == "failed"
    broken = tmp_path / "broken.csv"
    broken.write_text("")
    code, out, _ = cli("check", "scorer", "--current", str(broken), "--json")
    assert code == 2 and json.loads(out)["status"] == "errored"
    code, _, err = cli("check", "ghost")
    assert code == 1 and "no model named 'ghost'" in err


def test_policy_validate_and_show(cli, run_settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = cli("policy", "validate")
    assert code == 0 and "ok" in out
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nchecks:\n  - type: drfit\n")
    code, _, err = cli("policy", "validate", str(bad))
    assert code == 1 and f"{bad}:3: checks[0].type: unknown check type 'drfit'" in err
    code, out, _ = cli("policy", "show", "scorer", "--json")
    shown = json.loads(out)
    assert code == 0 and [c["type"] for c in shown["checks"]] == [
        "quality",
        "kpi",
        "fairness",
        "drift",
    ]
    assert shown["approvals"]["production"]["expires_after"] == "1d"
