"""Data drift: per-column drift with Evidently 0.7.23's tests and thresholds, fast.

Each feature column is compared between the reference data and the current window with the test
evidently would pick (see :mod:`checks.stattests`), or the one the policy names. The share of
drifted columns is judged against ``drift_share`` (default max 0.5, evidently's dataset-drift
share); prediction, score and target columns are tested on their own. The reference side is
prepared once per reference dataset (:mod:`checks.drift_profile`) and reused.

Policy example::

    - type: drift
      params:
        columns: [age, credit_amount, purpose]   # default: the model's features
        stattest: {credit_amount: psi}     # per column; or one name for every column
        cat_stattest: jensenshannon        # per kind (num_stattest / cat_stattest)
        stattest_threshold: {credit_amount: 0.2}   # likewise, with num_/cat_stattest_threshold
        drift_share: {max: 0.3}
        fail_on: [age]              # drift of these columns alone is a violation
        max_drifted_columns: 5
        min_rows: 200
"""

from __future__ import annotations

import hashlib
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd
from pydantic import Field, field_validator

from checks.base import (
    Artifact,
    Bound,
    CheckContext,
    CheckInputError,
    CheckParams,
    Dataset,
    InsufficientData,
    Measurement,
    library_versions,
)
from checks.drift_profile import ReferenceProfile, _workers, column_kinds, get_profile
from checks.drift_report import drift_violations, write_evidently_html, write_score_chart
from checks.stattests import (
    NUM,
    STATTESTS,
    ColumnData,
    default_stattest,
    prepare_column,
    run_stattest,
)


class DriftParams(CheckParams):
    """Tests and thresholds resolve as in evidently: per column, else per kind, else global."""

    columns: list[str] | None = None
    stattest: str | dict[str, str] | None = None  # one name for all columns, or per column
    num_stattest: str | None = None
    cat_stattest: str | None = None
    stattest_threshold: float | dict[str, float] | None = None
    num_stattest_threshold: float | None = None
    cat_stattest_threshold: float | None = None
    drift_share: Bound = Field(default_factory=lambda: Bound(max=0.5))
    max_drifted_columns: int | None = Field(default=None, ge=0)
    fail_on: list[str] = Field(default_factory=list)
    min_rows: int = Field(default=100, ge=1)
    prediction_drift: bool = True
    target_drift: bool = True
    report_sample_rows: int = Field(default=5000, ge=10)
    html_report: bool = True

    @field_validator("stattest", "num_stattest", "cat_stattest")
    @classmethod
    def _known_tests(cls, v: str | dict[str, str] | None) -> str | dict[str, str] | None:
        names = [v] if isinstance(v, str) else list((v or {}).values())
        unknown = [n for n in names if n not in STATTESTS]
        if unknown:
            raise ValueError(
                f"unknown stattest {', '.join(unknown)}; known: {', '.join(sorted(STATTESTS))}"
            )
        return v

    @field_validator("stattest_threshold", "num_stattest_threshold", "cat_stattest_threshold")
    @classmethod
    def _positive(cls, v: float | dict[str, float] | None) -> float | dict[str, float] | None:
        values = [v] if isinstance(v, float | int) else list((v or {}).values())
        if any(x <= 0 for x in values):
            raise ValueError("stattest thresholds must be > 0")
        return v

    def test_for(self, column: str, kind: str) -> str | None:
        if isinstance(self.stattest, dict) and column in self.stattest:
            return self.stattest[column]
        by_kind = self.num_stattest if kind == NUM else self.cat_stattest
        if by_kind is not None:
            return by_kind
        return self.stattest if isinstance(self.stattest, str) else None

    def threshold_for(self, column: str, kind: str) -> float | None:
        thr = self.stattest_threshold
        if isinstance(thr, dict) and column in thr:
            return thr[column]
        by_kind = self.num_stattest_threshold if kind == NUM else self.cat_stattest_threshold
        if by_kind is not None:
            return by_kind
        return thr if isinstance(thr, float | int) else None


class DriftCheck:
    type: ClassVar[str] = "drift"
    Params: ClassVar[type[CheckParams]] = DriftParams
    needs_current: ClassVar[bool] = True

    def measure(self, ctx: CheckContext, params: DriftParams) -> Measurement:
        started = time.perf_counter()
        ref_ds, cur_ds = _datasets(ctx)
        ref, cur = ref_ds.frame, cur_ds.frame
        for label, ds in (("reference", ref_ds), ("current", cur_ds)):
            if ds.rows < params.min_rows:
                raise InsufficientData(
                    f"{label} data {ds.uri} has {ds.rows} rows; drift needs at least "
                    f"{params.min_rows} (min_rows)"
                )
        features = self._feature_columns(ctx, params)
        _require_columns(features, params, ctx)
        details: dict[str, Any] = {"skipped_columns": {}}
        extra, notes = self._extra_columns(ctx, params)
        details["skipped_columns"].update(notes)

        extra_cols = [c for cols in extra.values() for c in cols]
        kinds_all = column_kinds(
            ref, dict.fromkeys([*features, *extra_cols]), ctx.roles.categorical
        )
        kinds: dict[str, str] = {}
        for col, kind in kinds_all.items():
            if kind in ("num", "cat"):
                kinds[col] = kind
            else:
                details["skipped_columns"][col] = f"{kind} column: no drift test for this type"
        profile, reused = get_profile(ref, kinds, ref_ds.sha256)
        prepared = time.perf_counter()

        results, errors = self._score_all(ctx, params, profile, cur, kinds)
        feature_res = {c: results[c] for c in features if c in results}
        n_cols, drifted = len(feature_res), [c for c, r in feature_res.items() if r["drifted"]]
        share = len(drifted) / n_cols if n_cols else 0.0
        dataset_share = 0.5 if params.drift_share.max is None else params.drift_share.max
        by_role = {
            role: {c: results[c] for c in cols if c in results} for role, cols in extra.items()
        }

        m = Measurement(
            values={
                "columns": feature_res,
                "n_columns": n_cols,
                "n_drifted": len(drifted),
                "share_drifted": share,
                "drifted_columns": drifted,
                # evidently's own dataset-drift rule: share >= drift_share (0 is a real limit)
                "dataset_drift": bool(n_cols and share >= dataset_share),
                "prediction_drift": by_role.get("prediction") or None,
                "target_drift": by_role.get("target") or None,
                "reference_rows": ref_ds.rows,
                "current_rows": cur_ds.rows,
            },
            thresholds={
                "drift_share": params.drift_share.applied(),
                "max_drifted_columns": params.max_drifted_columns,
                "fail_on": params.fail_on,
            },
            library_versions=library_versions("evidently", "scipy", "numpy", "pandas"),
        )
        m.violations = drift_violations(params, feature_res, by_role, errors, share)
        bound = ", ".join(f"{k} {v:.2f}" for k, v in params.drift_share.applied().items())
        m.ok_message = f"{len(drifted)} of {n_cols} columns drifted (share {share:.2f}; {bound})"
        details.update(
            {
                "column_errors": errors,
                "reference_profile": {"reused": reused, "build_seconds": profile.build_seconds},
                "seconds": {
                    "prepare_reference": prepared - started,
                    "tests": time.perf_counter() - prepared,
                },
                "rule": "evidently 0.7.23 default stattest selection and thresholds; NaN/inf "
                "dropped before testing",
            }
        )
        m.details = details
        if ctx.artifacts_dir is not None:
            self._artifacts(ctx, params, m, results, kinds)
        return m

    # ------------------------------------------------------------------ columns

    def _feature_columns(self, ctx: CheckContext, params: DriftParams) -> list[str]:
        if params.columns is not None:
            return list(dict.fromkeys(params.columns))
        if ctx.roles.features:
            return list(ctx.roles.features)
        roles = ctx.roles
        special = {roles.target, roles.prediction, roles.score, roles.timestamp}
        return [c for c in ctx.reference.frame.columns if c not in special]  # type: ignore[union-attr]

    def _extra_columns(
        self, ctx: CheckContext, params: DriftParams
    ) -> tuple[dict[str, list[str]], dict[str, str]]:
        """Prediction/score and target columns present on both sides (with labels)."""
        ref, cur = ctx.reference.frame, ctx.current.frame  # type: ignore[union-attr]
        roles, out, notes = ctx.roles, {"prediction": [], "target": []}, {}
        wanted = []
        if params.prediction_drift:
            wanted += [("prediction", c) for c in (roles.prediction, roles.score) if c]
        if params.target_drift and roles.target:
            wanted.append(("target", roles.target))
        for role, col in wanted:
            if col not in ref.columns or col not in cur.columns:
                where = "reference" if col not in ref.columns else "current window"
                notes[col] = f"{role} column `{col}` not in the {where}; its drift not measured"
            elif role == "target" and cur[col].notna().sum() < params.min_rows:
                notes[col] = (
                    f"current window has {int(cur[col].notna().sum())} labels in `{col}` "
                    f"(< min_rows {params.min_rows}); target drift not measured"
                )
            else:
                out[role].append(col)
        return out, notes

    # ------------------------------------------------------------------ scoring

    def _score_all(
        self,
        ctx: CheckContext,
        params: DriftParams,
        profile: ReferenceProfile,
        cur: pd.DataFrame,
        kinds: dict[str, str],
    ) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
        def one(col: str) -> tuple[str, dict[str, Any] | str]:
            ref_col = profile.columns[col]
            numeric = pd.api.types.is_numeric_dtype(cur[col])
            if kinds[col] == NUM and not numeric and cur[col].notna().any():
                raise CheckInputError(
                    f"column `{col}` is numerical in the reference but has dtype "
                    f"{cur[col].dtype} in current window {ctx.current.uri}"  # type: ignore[union-attr]
                )
            cur_col = prepare_column(cur[col], kinds[col])  # type: ignore[arg-type]
            if ref_col.n == 0 or cur_col.n == 0:
                side = "reference" if ref_col.n == 0 else "current window"
                return col, f"column `{col}` has no non-missing values in the {side}"
            return col, self._score(ctx, params, col, ref_col, cur_col)

        with ThreadPoolExecutor(max_workers=_workers(len(kinds))) as pool:
            pairs = list(pool.map(one, kinds))
        results = {c: r for c, r in pairs if isinstance(r, dict)}
        errors = {c: r for c, r in pairs if isinstance(r, str)}
        return results, errors

    def _score(
        self, ctx: CheckContext, params: DriftParams, col: str, ref: ColumnData, cur: ColumnData
    ) -> dict[str, Any]:
        name = params.test_for(col, ref.kind)
        chosen_by = "policy"
        if name is None:
            name, chosen_by = default_stattest(ref, cur), "evidently default"
        elif ref.kind not in STATTESTS[name].kinds:
            label = {"num": "numerical", "cat": "categorical"}
            takes = " or ".join(label[k] for k in STATTESTS[name].kinds)
            raise CheckInputError(
                f"stattest `{name}` named in policy {ctx.source or '(unknown)'} does not apply "
                f"to {label[ref.kind]} column `{col}` (it takes {takes} columns)"
            )
        res = run_stattest(name, ref, cur, params.threshold_for(col, ref.kind))
        spec = STATTESTS[name]
        return {
            "kind": ref.kind,
            "stattest": name,
            "score": res.score,
            "threshold": res.threshold,
            "drifted": res.drifted,
            "score_type": spec.score,
            "op": spec.op,
            "chosen_by": chosen_by,
            "reference_n": ref.n,
            "current_n": cur.n,
        }

    # ------------------------------------------------------------------ artifacts

    def _artifacts(
        self,
        ctx: CheckContext,
        params: DriftParams,
        m: Measurement,
        results: dict[str, dict[str, Any]],
        kinds: dict[str, str],
    ) -> None:
        out_dir = Path(ctx.artifacts_dir)  # type: ignore[arg-type]
        tag = hashlib.sha1(
            json.dumps(params.model_dump(), sort_keys=True, default=str).encode()
        ).hexdigest()[:8]
        problems: dict[str, str] = {}
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
            png = f"drift-{tag}-scores.png"
            write_score_chart(results, out_dir / png)
            m.artifacts.append(Artifact(name="drift scores", path=png, media_type="image/png"))
        except Exception as exc:  # an artifact must never fail the check
            problems["png"] = f"{type(exc).__name__}: {exc}"
        if params.html_report:
            try:
                html = f"drift-{tag}-evidently.html"
                sampled = write_evidently_html(
                    ctx.reference.frame,  # type: ignore[union-attr]
                    ctx.current.frame,  # type: ignore[union-attr]
                    kinds,
                    out_dir / html,
                    params.report_sample_rows,
                )
                m.artifacts.append(
                    Artifact(name="evidently drift report", path=html, media_type="text/html")
                )
                m.details["evidently_report_sample"] = sampled
            except Exception as exc:
                problems["html"] = f"{type(exc).__name__}: {exc}"
        if problems:
            m.details["artifact_errors"] = problems


def _datasets(ctx: CheckContext) -> tuple[Dataset, Dataset]:
    if ctx.reference is None:
        raise CheckInputError(
            f"drift check in {ctx.source or 'policy'} needs reference data; none was given"
        )
    if ctx.current is None:
        raise CheckInputError(f"drift check in {ctx.source or 'policy'} needs a current window")
    return ctx.reference, ctx.current


def _require_columns(features: list[str], params: DriftParams, ctx: CheckContext) -> None:
    where = f"named in policy {ctx.source or '(unknown source)'}"
    if params.columns is None:
        where = "listed as a feature in the model's schema"
    for label, ds in (("reference data", ctx.reference), ("current window", ctx.current)):
        missing = [c for c in features if c not in ds.frame.columns]  # type: ignore[union-attr]
        if missing:
            names = ", ".join(f"`{c}`" for c in missing)
            plural = len(missing) > 1
            raise CheckInputError(
                f"column{'s' if plural else ''} {names} {where} {'are' if plural else 'is'} "
                f"not in {label} {ds.uri}"  # type: ignore[union-attr]
            )
    not_checked = [c for c in params.fail_on if c not in features]
    if not_checked:
        raise CheckInputError(
            f"fail_on names {', '.join(not_checked)} in policy {ctx.source or '(unknown)'}, "
            "which are not among the checked columns"
        )
