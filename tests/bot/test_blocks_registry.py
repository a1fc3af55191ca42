"""Block Kit builders for the registry and small replies (bot/blocks/registry.py)."""

from __future__ import annotations

from bot.blocks import (
    ModelRow,
    error_message,
    model_status,
    models_list,
    run_started,
    stage_history,
    whoami,
)
from modelgate.registry.schemas import TransitionOut
from tests.bot.blocks_data import NOW, model_fixture, run_out, small_run, texts


def test_models_list_with_200_models_fits() -> None:
    rows = [
        ModelRow(
            f"model-{i:03d}",
            "high" if i % 3 else "low",
            f"v{i % 5}" if i % 2 else None,
            "failed" if i == 7 else "passed",
            NOW,
        )
        for i in range(200)
    ]
    message = models_list(rows)
    dumped = texts(message)
    assert len(message.blocks) <= 50
    assert all(f"model-{i:03d}" in dumped for i in range(200))
    assert "140 more models" in dumped
    assert message.text.startswith("200 models") and "model-007" in message.text


def test_model_status_shows_stages_runs_and_alerts() -> None:
    model, stages = model_fixture()
    latest = [("v2", run_out(small_run().results, version="v2")), ("v3", None)]
    message = model_status(model, stages, latest, open_alerts=2)
    blocks = message.to_dict()["blocks"]
    fields = [f["text"] for f in blocks[2]["fields"]]
    assert fields[1].startswith("*production*\n`v2`") and "<@U_ANA>" in fields[1]
    assert fields[2] == "*Last known good*\n`v1`" and ":rotating_light: 2" in fields[3]
    v2 = blocks[3]["text"]["text"]
    assert v2.startswith("*`v2`* (production) — :x: FAILED")
    assert ":x: *fairness* · fpr_gap[sex] 0.2 (max 0.1)" in v2
    assert blocks[4]["text"]["text"] == "*`v3`* (staging) — _no check runs yet_"
    assert "production v2" in message.text and "2 open alerts" in message.text


def test_stage_history_and_small_messages() -> None:
    items = [
        TransitionOut(
            stage="production",
            from_version="v1",
            to_version="v2",
            actor="U_ANA",
            reason="better auc",
            via="slack",
            at=NOW,
        )
    ]
    history = stage_history("scorer", items, total=12)
    assert "`v1` → `v2` by <@U_ANA> via slack" in texts(history)
    assert history.to_dict()["blocks"][-1]["elements"][0]["text"] == "Showing 1 of 12 changes."

    refusal = error_message("No model `scorr`.", "Did you mean `scorer`?")
    assert refusal.to_dict()["blocks"][1]["elements"][0]["text"] == ":bulb: Did you mean `scorer`?"
    assert "<@U_ALICE>" in texts(whoami("U_ALICE", ["ml-lead"]))
    assert "no modelgate roles" in whoami("U_ALICE", []).text
    assert "U_ALICE" in run_started("scorer", "v1", "U_ALICE").text
