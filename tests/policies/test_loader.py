"""Policy files: the packs validate, errors name file:line:field, merging follows priority."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from policies import PACKS_DIR
from policies.loader import PolicyError, effective_policy, load_policies, load_policy_file
from policies.schema import format_duration, parse_duration


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_shipped_packs_validate() -> None:
    loaded = load_policies([PACKS_DIR])
    assert {p.spec.name for p in loaded} == {"baseline", "high-risk"}
    high = next(p for p in loaded if p.spec.name == "high-risk")
    assert high.spec.approvals["production"].required == 2
    assert high.spec.approvals["production"].quorum == {"risk-officer": 1}


def test_every_problem_is_reported_with_file_line_and_field(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "bad.yaml",
        """\
name: bad
checks:
  - type: fairnes
  - type: drift
    params:
      drift_share: {max: 'x'}
      colums: [a]
  - type: kpi
    severity: fatal
approvals:
  production:
    roles: []
schedule:
  cron: '61 * * * *'
""",
    )
    with pytest.raises(PolicyError) as err:
        load_policy_file(path)
    issues = "\n".join(err.value.issues)
    assert f"{path}:3: checks[0].type: unknown check type 'fairnes'" in issues
    assert "did you mean 'fairness'?" in issues and "known: drift, explainability" in issues
    assert f"{path}:6: checks[1].params.drift_share.max:" in issues
    assert f"{path}:7: checks[1].params.colums: unknown field" in issues
    assert f"{path}:9: checks[2].severity: Input should be 'block', 'warn' or 'info'" in issues
    assert f"{path}:12: approvals.production.roles:" in issues
    assert f"{path}:14: schedule.cron: not a valid crontab expression" in issues


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: x\nchecks: [\n", "not valid YAML"),
        ("- just\n- a list\n", "must be a mapping"),
        ("name: x\nname: y\n", ":2: name: duplicate key"),
        ("name: x\napprovals:\n  production: {roles: [a], quorum: {b: 1}}\n", "not in `roles`"),
        ("name: x\nchecks:\n  - type: kpi\n  - type: kpi\n", "two checks are named 'kpi'"),
        ("name: x\napprovals:\n  canary: {roles: [a], expires_after: soon}\n", "like 30m, 24h"),
        ("name: x\nschedule: {cron: '0 * * * *', timezone: Mars/Olympus}\n", "unknown time zone"),
    ],
)
def test_bad_files(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(PolicyError) as err:
        load_policy_file(write(tmp_path, "p.yaml", text))
    assert expected in str(err.value)


def test_duplicate_policy_names_across_files(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "name: same\n")
    write(tmp_path, "b.yaml", "name: same\n")
    with pytest.raises(PolicyError, match="also defined in"):
        load_policies([tmp_path])


def test_merge_by_priority_name_and_enabled(tmp_path: Path) -> None:
    write(
        tmp_path,
        "base.yaml",
        """\
name: base
checks:
  - {type: kpi, params: {metrics: {roc_auc: {min: 0.7}}}}
  - {type: drift, severity: warn}
  - {type: quality}
approvals:
  staging: {roles: [ml-engineer]}
  production: {roles: [ml-lead]}
schedule: {cron: '0 * * * *'}
""",
    )
    write(
        tmp_path,
        "strict.yaml",
        """\
name: strict
priority: 10
applies_to: {risk_tiers: [high]}
on_insufficient_data: fail
checks:
  - {type: kpi, params: {metrics: {roc_auc: {min: 0.8}}}}
  - {type: quality, enabled: false}
  - {name: fair-sex, type: fairness, params: {sensitive_features: [sex]}}
approvals:
  production: {roles: [ml-lead, risk-officer], required: 2}
""",
    )
    write(
        tmp_path,
        "other.yaml",
        "name: other\napplies_to: {models: ['churn-*']}\nchecks: [{type: explainability}]\n",
    )
    loaded = load_policies([tmp_path])
    high = effective_policy(loaded, model="credit", risk_tier="high", tags=[])
    assert [c.key for c in high.checks] == ["drift", "kpi", "fair-sex"]
    kpi = next(c for c in high.checks if c.key == "kpi")
    assert kpi.params["metrics"]["roc_auc"] == {"min": 0.8}
    assert high.check_sources["kpi"].endswith("strict.yaml:6")
    assert high.approvals["production"].required == 2 and "staging" in high.approvals
    assert high.on_insufficient_data == "fail" and high.schedule is not None
    low = effective_policy(loaded, model="credit", risk_tier="low", tags=[])
    assert [c.key for c in low.checks] == ["kpi", "drift", "quality"]
    assert low.sha256 != high.sha256
    churn = effective_policy(loaded, model="churn-eu", risk_tier="low", tags=[])
    assert "explainability" in [c.key for c in churn.checks]


def test_policy_hash_changes_with_the_text(tmp_path: Path) -> None:
    path = write(tmp_path, "p.yaml", "name: p\nchecks: [{type: quality}]\n")
    before = effective_policy(load_policies([path]), model="m", risk_tier="low", tags=[])
    path.write_text("name: p\nchecks: [{type: quality, severity: warn}]\n")
    after = effective_policy(load_policies([path]), model="m", risk_tier="low", tags=[])
    assert before.sha256 != after.sha256


@pytest.mark.parametrize(
    ("text", "td", "back"),
    [
        ("30m", timedelta(minutes=30), "30m"),
        ("24h", timedelta(days=1), "1d"),
        ("36h", timedelta(hours=36), "36h"),
        ("PT12H", timedelta(hours=12), "12h"),
        (90, timedelta(seconds=90), "90s"),
    ],
)
def test_durations(text: object, td: timedelta, back: str) -> None:
    assert parse_duration(text) == td
    assert format_duration(td) == back
