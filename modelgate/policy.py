"""The effective policy of a model, from the configured policy paths."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session

from modelgate.config import Settings
from modelgate.errors import InvalidInput
from modelgate.registry import service as registry
from policies.loader import LoadedPolicy, PolicyError, effective_policy, load_policies, parse_policy
from policies.schema import EffectivePolicy

OVERRIDE_PRIORITY = 1_000_000


def load_configured(settings: Settings) -> list[LoadedPolicy]:
    return load_policies(settings.effective_policy_paths())


def effective_for(
    session: Session,
    settings: Settings,
    *,
    model_name: str,
    override_yaml: str | None = None,
    override_name: str = "<request>",
) -> EffectivePolicy:
    """Merge the configured policies for a model, plus an optional override applied last.

    Invalid policy text raises InvalidInput whose message lists each problem as file:line.
    """
    model = registry.get_model(session, name=model_name)
    try:
        loaded = load_configured(settings)
        if override_yaml is not None:
            extra = parse_policy(override_yaml, Path(override_name))
            spec = extra.spec.model_copy(update={"priority": OVERRIDE_PRIORITY})
            spec.applies_to.models = [model_name]
            spec.applies_to.risk_tiers = None
            spec.applies_to.tags = None
            loaded.append(
                LoadedPolicy(path=extra.path, text=extra.text, spec=spec, lines=extra.lines)
            )
    except PolicyError as exc:
        raise InvalidInput("policy errors:\n" + "\n".join(exc.issues), field="policy") from None
    policy = effective_policy(
        loaded, model=model.name, risk_tier=model.risk_tier, tags=list(model.tags)
    )
    if not policy.checks:
        raise InvalidInput(
            f"no policy with checks applies to {model_name!r}; policies are read "
            f"from {', '.join(map(str, settings.effective_policy_paths()))}",
            field="policy",
        )
    return policy
