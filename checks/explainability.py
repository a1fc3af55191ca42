"""Explainability: global SHAP attribution per original feature, and rules on it.

The model is explained on the current window when one is given, else on the reference data,
with as many rows as the time budget allows (see :mod:`checks.shap_explain`). Rules:

    - type: explainability
      params:
        forbidden_features: {personal_status_sex: 0.10, sex: 0.05}  # max share of attribution
        top_k: 10
        required_in_top_k: [checking_status]
        forbidden_in_top_k: [sex, foreign_worker]
        champion_stability: {min_overlap: 0.7}   # top-k overlap with the production model
        time_budget_s: 20          # default: the run's time budget
        max_samples: 2000
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from checks.base import (
    Artifact,
    Bound,
    CheckContext,
    CheckInputError,
    CheckParams,
    InsufficientData,
    Measurement,
    Violation,
    library_versions,
)
from checks.shap_explain import Explanation, explain, write_chart

BACKGROUND_ROWS = 200


class ChampionStability(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_overlap: float = Field(ge=0.0, le=1.0)


class ExplainabilityParams(CheckParams):
    forbidden_features: dict[str, float] = Field(default_factory=dict)
    top_k: int = Field(default=10, ge=1)
    required_in_top_k: list[str] = Field(default_factory=list)
    forbidden_in_top_k: list[str] = Field(default_factory=list)
    champion_stability: ChampionStability | None = None
    time_budget_s: float | None = Field(default=None, gt=0)
    max_samples: int = Field(default=2000, ge=10)
    min_samples: int = Field(default=200, ge=10)
    min_rows: int = Field(default=20, ge=1)
    positive_class: str | int | None = None
    explainer: Literal["auto", "tree", "linear", "permutation"] = "auto"
    seed: int = 0


class ExplainabilityCheck:
    type: ClassVar[str] = "explainability"
    Params: ClassVar[type[CheckParams]] = ExplainabilityParams
    needs_current: ClassVar[bool] = False

    def measure(self, ctx: CheckContext, params: ExplainabilityParams) -> Measurement:
        if ctx.model is None:
            raise CheckInputError(
                "explainability needs a model artifact; the model under review is "
                "predictions-only (no estimator was registered)"
            )
        ds = ctx.current if ctx.current is not None else ctx.reference
        if ds is None:
            raise CheckInputError("explainability needs data: no current window or reference")
        if ds.rows < params.min_rows:
            raise InsufficientData(
                f"{ds.uri} has {ds.rows} rows; explainability needs at least {params.min_rows}"
            )
        columns = _input_columns(ctx.model, ctx, ds.frame, ds.uri)
        bg_frame = ctx.reference.frame if ctx.reference is not None else ds.frame
        background = _background(bg_frame, columns, params.seed)
        budget = params.time_budget_s if params.time_budget_s is not None else ctx.time_budget_s
        champion = ctx.champion_model if params.champion_stability else None
        own_budget = budget / 2 if champion is not None else budget
        common = {
            "max_samples": params.max_samples,
            "min_samples": params.min_samples,
            "top_k": params.top_k,
            "positive_class": params.positive_class,
        }
        try:
            exp = explain(
                ctx.model,
                ds.frame,
                columns,
                background=background,
                budget_s=own_budget,
                seed=params.seed,
                explainer=params.explainer,
                **common,
            )
        except ValueError as exc:
            raise CheckInputError(f"the model could not be explained on {ds.uri}: {exc}") from exc

        ranking = exp.ranking()
        top = ranking[: params.top_k]
        total = float(exp.mean_abs.sum())
        shares = {f: (v / total if total > 0 else 0.0) for f, v in exp.as_dict().items()}
        m = Measurement(
            values={
                "method": exp.method,
                "n_samples": exp.n,
                "n_available": ds.rows,
                "seconds": round(exp.seconds, 3),
                "stop_reason": exp.stop_reason,
                "mean_abs_shap": exp.as_dict(),
                "attribution_share": shares,
                "top_k": top,
                "data": "current" if ds is ctx.current else "reference",
            },
            thresholds=params.model_dump(exclude={"seed"}),
            library_versions=library_versions("shap", "scikit-learn", "numpy"),
            ok_message=f"attribution rules met; top features: {', '.join(ranking[:5])}",
        )
        m.details["stderr"] = {
            f: float(s) for f, s in zip(exp.features, exp.stderr, strict=True) if s == s
        }
        m.details["notes"] = list(exp.notes)
        m.violations = _rule_violations(params, exp, ranking, shares, m.details)
        if champion is not None:
            m.violations += self._champion(
                ctx, params, exp, ds.frame, background, budget - exp.seconds, common, m
            )
        elif params.champion_stability is not None:
            m.details["notes"].append("no champion model in production; stability not measured")
        if ctx.artifacts_dir is not None:
            try:
                out = Path(ctx.artifacts_dir)
                out.mkdir(parents=True, exist_ok=True)
                tag = hashlib.sha1(repr(params.model_dump()).encode()).hexdigest()[:8]
                name = f"explainability-{tag}-shap.png"
                write_chart(exp, out / name)
                m.artifacts.append(Artifact(name="mean |SHAP|", path=name, media_type="image/png"))
            except Exception as exc:  # an artifact must never fail the check
                m.details["artifact_errors"] = {"png": f"{type(exc).__name__}: {exc}"}
        return m

    def _champion(
        self,
        ctx: CheckContext,
        params: ExplainabilityParams,
        exp: Explanation,
        frame: pd.DataFrame,
        background: pd.DataFrame,
        budget: float,
        common: dict[str, Any],
        m: Measurement,
    ) -> list[Violation]:
        assert params.champion_stability is not None
        try:
            columns = _input_columns(ctx.champion_model, ctx, frame, "the explained data")
            champ_bg = _background(
                frame if ctx.reference is None else ctx.reference.frame, columns, params.seed
            )
            champ = explain(
                ctx.champion_model,
                frame,
                columns,
                background=champ_bg,
                budget_s=max(budget, 1.0),
                rows=exp.rows,
                **common,
            )
        except (CheckInputError, ValueError) as exc:
            m.details["notes"].append(f"champion could not be explained: {exc}")
            return [
                Violation(
                    metric="champion_top_k_overlap",
                    value=None,
                    threshold=params.champion_stability.min_overlap,
                    op=">=",
                    message=f"champion model could not be explained, stability unknown: {exc}",
                )
            ]
        k = params.top_k
        cand, prod = exp.ranking(), champ.ranking()
        top_c, top_p = cand[:k], prod[:k]
        overlap = len(set(top_c) & set(top_p)) / min(k, len(top_c), len(top_p))
        m.values["champion"] = {
            "top_k_overlap": overlap,
            "kendall_tau": _kendall(exp, champ),
            "n_samples": champ.n,
            "method": champ.method,
            "top_k": top_p,
        }
        m.details["rank_changes"] = {
            f: {
                "champion": prod.index(f) + 1 if f in prod else None,
                "candidate": cand.index(f) + 1 if f in cand else None,
            }
            for f in dict.fromkeys(top_c + top_p)
        }
        v = Bound(min=params.champion_stability.min_overlap).violation(
            "champion_top_k_overlap", overlap
        )
        if v is None:
            return []
        entered = [f for f in top_c if f not in top_p]
        left = [f for f in top_p if f not in top_c]
        msg = (
            f"top-{k} features overlap {overlap:.0%} with the champion's "
            f"(min {params.champion_stability.min_overlap:.0%}); new: {', '.join(entered)}; "
            f"dropped: {', '.join(left)}"
        )
        return [v.model_copy(update={"message": msg})]


def _rule_violations(
    params: ExplainabilityParams,
    exp: Explanation,
    ranking: list[str],
    shares: dict[str, float],
    details: dict[str, Any],
) -> list[Violation]:
    out: list[Violation] = []
    k = params.top_k
    unknown = [
        f
        for f in [*params.forbidden_features, *params.required_in_top_k, *params.forbidden_in_top_k]
        if f not in shares
    ]
    if unknown:
        details["notes"].append(
            f"not model inputs (no attribution): {', '.join(dict.fromkeys(unknown))}"
        )
    for feature, max_share in params.forbidden_features.items():
        share = shares.get(feature, 0.0)
        v = Bound(max=max_share).violation(f"attribution_share.{feature}", share)
        if v is not None:
            msg = f"`{feature}` carries {_pct(share)} of attribution (max {_pct(max_share)})"
            out.append(v.model_copy(update={"message": msg}))
    for feature in params.forbidden_in_top_k:
        if feature in ranking[:k]:
            rank = ranking.index(feature) + 1
            out.append(
                Violation(
                    metric=f"rank.{feature}",
                    value=rank,
                    threshold=k,
                    op=">",
                    message=f"`{feature}` is in the top {k} features (forbidden; rank {rank})",
                )
            )
    for feature in params.required_in_top_k:
        if feature not in ranking[:k]:
            rank = ranking.index(feature) + 1 if feature in ranking else None
            where = f"rank {rank}" if rank else "not a model input"
            out.append(
                Violation(
                    metric=f"rank.{feature}",
                    value=rank,
                    threshold=k,
                    op="<=",
                    message=f"`{feature}` is not in the top {k} features (required; {where})",
                )
            )
    return out


def _pct(x: float) -> str:
    return f"{x * 100:.2g}%" if x < 0.1 else f"{x * 100:.0f}%"


def _kendall(a: Explanation, b: Explanation) -> float | None:
    from scipy.stats import kendalltau

    common = [f for f in a.features if f in b.features]
    if len(common) < 2:
        return None
    x = [a.mean_abs[a.features.index(f)] for f in common]
    y = [b.mean_abs[b.features.index(f)] for f in common]
    tau = kendalltau(x, y).statistic
    return None if tau != tau else float(tau)


def _input_columns(model: Any, ctx: CheckContext, frame: pd.DataFrame, where: str) -> list[str]:
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        columns = [str(c) for c in names]
    elif ctx.roles.features:
        columns = list(ctx.roles.features)
    else:
        r = ctx.roles
        special = {r.target, r.prediction, r.score, r.timestamp}
        columns = [c for c in frame.columns if c not in special]
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise CheckInputError(
            f"model input column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(f'`{c}`' for c in missing)} not in {where} "
            f"(check declared in {ctx.source or 'policy'})"
        )
    return columns


def _background(frame: pd.DataFrame, columns: list[str], seed: int) -> pd.DataFrame:
    if len(frame) <= BACKGROUND_ROWS:
        return frame[columns]
    rows = np.random.default_rng(seed + 1).choice(len(frame), BACKGROUND_ROWS, replace=False)
    return frame[columns].iloc[np.sort(rows)]
