"""The CLI as a user and a CI pipeline meet it: tables, --json, exit codes, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modelgate.cli import app


@pytest.fixture
def cli(settings, engine, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Run `modelgate ...` against this test's (migrated) database."""
    monkeypatch.setenv("MODELGATE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("MODELGATE_HOME", str(settings.home))
    monkeypatch.setenv("MODELGATE_ACTOR", "cli:tester")
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(app, list(args))
        assert result.exit_code == code, (result.output, result.stderr)
        return result.output if code == 0 else result.stderr

    return run


def test_model_and_version_round_trip(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cli(
        "model",
        "register",
        "credit-risk",
        "--owner",
        "ana",
        "--risk-tier",
        "high",
        "--tag",
        "credit",
        "--channel",
        "#credit",
        "--flavor",
        "sklearn",
    )
    artifact = tmp_path / "model.skops"
    artifact.write_bytes(b"not really a model")
    ref = tmp_path / "ref.csv"
    ref.write_text("age,score\n30,0.5\n")
    out = cli(
        "version",
        "register",
        "credit-risk",
        "v1",
        "--artifact",
        str(artifact),
        "--reference",
        str(ref),
        "--features",
        "age,amount",
        "--target",
        "y",
        "--sensitive",
        "sex",
        "--code-commit",
        "abcdef1",
        "--param",
        "max_depth=8",
        "--param",
        "criterion=gini",
        "--seed",
        "7",
        "--metric",
        "auc=0.81",
        "--json",
    )
    v = json.loads(out)
    import hashlib

    assert v["artifact_sha256"] == hashlib.sha256(b"not really a model").hexdigest()
    assert v["artifact_uri"] == artifact.resolve().as_uri()
    assert v["lineage"]["hyperparameters"] == {"max_depth": 8, "criterion": "gini"}
    assert v["lineage"]["random_seed"] == 7 and v["metrics"] == {"auc": 0.81}
    assert v["data_schema"]["features"] == ["age", "amount"]
    assert v["created_by"] == "cli:tester"
    listed = json.loads(cli("model", "list", "--json"))
    assert listed["total"] == 1 and listed["items"][0]["name"] == "credit-risk"
    table = cli("version", "show", "credit-risk", "v1")
    assert "abcdef1" in table and "max_depth=8" in table
    cli("model", "stage", "credit-risk", "production", "v1", "--reason", "first release")
    shown = json.loads(cli("model", "show", "credit-risk", "--json"))
    assert shown["model"]["stages"] == {"production": "v1"}
    assert shown["history"][0]["actor"] == "cli:tester"
    assert "production" in cli("model", "show", "credit-risk")


def test_version_from_file(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cli("model", "register", "churn", "--owner", "bo", "--flavor", "predictions-only")
    spec = tmp_path / "v.yaml"
    spec.write_text(
        "description: from yaml\ndata_schema:\n  features: [a, b]\n  prediction: p\n"
        "lineage:\n  data_version: dvc-abc\n  training_data_uri: s3://b/t.csv\n"
    )
    v = json.loads(cli("version", "register", "churn", "2.0.0", "--from-file", str(spec), "--json"))
    assert v["description"] == "from yaml" and v["lineage"]["data_version"] == "dvc-abc"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("model", "show", "ghost"), "no model named 'ghost'"),
        (("model", "register", "Bad Name", "--owner", "x"), "name: String should match pattern"),
        (("version", "register", "ghost", "v1"), "no model named 'ghost'"),
        (("version", "register", "m", "v1", "--artifact", "/nope/model.skops"), "no such file"),
        (("version", "register", "m", "v1", "--param", "oops"), "--param expects KEY=VALUE"),
        (("token", "create", "--name", "x", "--scopes", "read,root"), "got root"),
        (("token", "revoke", "ghost"), "no token named 'ghost'"),
    ],
)
def test_errors_are_one_line_and_exit_1(cli, args, message) -> None:  # type: ignore[no-untyped-def]
    cli("model", "register", "m", "--owner", "x", "--flavor", "predictions-only")
    err = cli(*args, code=1)
    assert message in err
    assert "Traceback" not in err and err.strip().count("\n") == 0


def test_tokens(cli) -> None:  # type: ignore[no-untyped-def]
    created = json.loads(cli("token", "create", "--name", "ci", "--scopes", "read,write", "--json"))
    assert created["token"].startswith("mg_") and created["scopes"] == ["read", "write"]
    listed = json.loads(cli("token", "list", "--json"))
    assert [t["name"] for t in listed] == ["ci"] and "token" not in listed[0]
    assert created["token"] not in cli("token", "list")
    cli("token", "create", "--name", "ci", code=1)
    cli("token", "revoke", "ci")
    assert json.loads(cli("token", "list", "--json"))[0]["revoked_at"] is not None


def test_audit_verify_and_export(cli, engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cli("model", "register", "m", "--owner", "x", "--flavor", "predictions-only")
    cli("token", "create", "--name", "ci")
    assert "2 entries" in cli("audit", "verify")
    out = tmp_path / "audit.jsonl"
    cli("audit", "export", "--output", str(out), "--action", "model.create")
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [e["action"] for e in lines] == ["model.create"]
    from sqlalchemy import text

    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("DROP TRIGGER audit_event_no_delete")
        else:
            conn.exec_driver_sql("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only")
        conn.execute(text("DELETE FROM audit_event WHERE seq = 1"))
    assert "broken at entry 1" in cli("audit", "verify", code=1)


def test_unmigrated_database_says_what_to_run(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MODELGATE_HOME", str(tmp_path / "fresh"))
    result = CliRunner().invoke(app, ["model", "list"])
    assert result.exit_code == 1 and "run `modelgate db upgrade` first" in result.stderr
    result = CliRunner().invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0 and "latest" in result.output
    assert CliRunner().invoke(app, ["model", "list"]).exit_code == 0
