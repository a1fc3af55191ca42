"""`make demo` runs the real demo: trains, saves with skops, registers, promotes, audits."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from modelgate.config import Settings
from modelgate.demo import SEED, run_demo
from modelgate.files import local_path, sha256_file


@pytest.mark.slow
def test_demo_runs_and_is_repeatable(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    console = Console(record=True, width=140)
    summary = run_demo(settings, console)
    v1, v2 = summary["versions"]["v1"], summary["versions"]["v2"]
    assert (v1.stage, v2.stage) == ("production", "staging")
    assert summary["audit"].ok and summary["audit"].entries == 5  # before the checks ran
    artifact = local_path(v1.artifact_uri)
    assert artifact is not None and sha256_file(artifact) == v1.artifact_sha256
    import skops.io

    model = skops.io.load(artifact, trusted=skops.io.get_untrusted_types(file=artifact))
    assert hasattr(model, "predict_proba")
    assert "personal_status_sex" in v2.data_schema["features"]
    assert "personal_status_sex" not in v1.data_schema["features"]
    assert 0.6 < v1.metrics["accuracy"] < 0.9 and v1.lineage.random_seed == SEED
    text = console.export_text()
    assert "credit-risk" in text and "intact" in text

    runs = summary["runs"]
    assert {k: r.status for k, r in runs.items()} == {
        "v1-stable": "passed",
        "v2-stable": "failed",
        "v1-shifted": "warned",
    }
    failed = {r.check: r for r in runs["v2-stable"].results if r.status == "fail"}
    assert set(failed) == {"fairness", "explainability"}
    assert "personal_status_sex" in failed["explainability"].message
    drift = next(r for r in runs["v1-shifted"].results if r.check == "drift")
    assert drift.status == "warn" and "credit_amount" in drift.message
    for run in runs.values():
        assert (settings.home / "artifacts" / run.id / "report.html").is_file()
        assert run.policy_sha256 and len(run.policy_sha256) == 64
    assert "report:" in text and "PASSED" in text and "FAILED" in text

    # without a Slack token, the console notifier shows and saves what Slack would receive
    import json

    outbox = sorted((settings.home / "outbox").glob("*.json"))
    assert len(outbox) == 3
    sent = [json.loads(p.read_text()) for p in outbox]
    assert {m["channel"] for m in sent} == {"#credit-risk-models"}
    headers = [m["blocks"][0]["text"]["text"] for m in sent]
    assert headers == [
        ":white_check_mark: credit-risk v1 · PASSED",
        ":x: credit-risk v2 · FAILED",
        ":warning: credit-risk v1 · WARNED",
    ]
    assert all(0 < len(m["blocks"]) <= 50 and m["text"] for m in sent)
    assert "personal_status_sex" in json.dumps(sent[1]["blocks"])
    assert "Slack message to #credit-risk-models" in text

    again = run_demo(settings, Console(record=True, width=140))
    # nothing registered twice, no stage churn: only the three new runs were audited
    assert again["audit"].ok and again["audit"].entries > 5
    assert {k: r.status for k, r in again["runs"].items()} == {k: r.status for k, r in runs.items()}
