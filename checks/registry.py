"""The check registry: one literal dict from a policy's `type:` to the check that runs it."""

from __future__ import annotations

from checks.base import Check
from checks.drift import DriftCheck
from checks.explainability import ExplainabilityCheck
from checks.fairness import FairnessCheck
from checks.kpi import KpiCheck
from checks.quality import QualityCheck

CHECKS: dict[str, Check] = {
    "drift": DriftCheck(),
    "explainability": ExplainabilityCheck(),
    "fairness": FairnessCheck(),
    "kpi": KpiCheck(),
    "quality": QualityCheck(),
}
