"""Policy-as-code: YAML files choosing which checks run for which models, with what
thresholds and severities, on what schedule, and who must approve what."""

from pathlib import Path

PACKS_DIR = Path(__file__).parent / "packs"
