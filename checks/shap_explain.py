"""Global SHAP attributions per original feature, within a time budget.

* The explainer follows the final estimator: ``shap.TreeExplainer`` for tree ensembles,
  ``shap.LinearExplainer`` for linear models, and otherwise permutation SHAP: the algorithm of
  ``shap.PermutationExplainer`` (antithetic feature orderings over a background sample),
  vectorised here over original features, because shap's class JIT-compiles numba code on
  first use in every process (~13 s here), more than a typical budget. A scikit-learn
  ``Pipeline`` is split: ``pipe[:-1]`` transforms, the last step is explained on the
  transformed matrix, and each transformed column is mapped back to the input column it came
  from (ColumnTransformer / one-hot encoders / 1:1 transformers; see :func:`output_sources`).
* An original feature's SHAP value in a row is the sum of its transformed columns' values
  (SHAP values add up); the global score is the mean of its absolute value over rows.
* Rows are explained in growing batches of a fixed random order until the top-k set is
  separated (the k-th and (k+1)-th means differ by more than ``Z`` standard errors, after at
  least ``min_samples`` rows), the time budget would be exceeded, or ``max_samples`` is reached.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

Z_SEPARATION = 3.0
PERMUTATION_BACKGROUND = 50  # background rows each masked feature is drawn from
PERMUTATION_PAIRS = 2  # antithetic pairs of feature orderings per explained row


@dataclass
class Explanation:
    method: str
    features: list[str]
    mean_abs: np.ndarray
    stderr: np.ndarray
    rows: np.ndarray  # positions (in the explained frame) of the rows used, in order
    seconds: float
    stop_reason: str
    notes: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.rows)

    def ranking(self) -> list[str]:
        order = np.argsort(-self.mean_abs, kind="stable")
        return [self.features[i] for i in order]

    def as_dict(self) -> dict[str, float]:
        return {f: float(self.mean_abs[self.features.index(f)]) for f in self.ranking()}


def split_model(model: Any) -> tuple[Any | None, Any]:
    """(preprocessing, final estimator) of a Pipeline; (None, model) otherwise.

    Threshold wrappers (FixedThresholdClassifier, TunedThresholdClassifierCV) only move the
    decision cut-off; their probabilities are the inner estimator's, so that is explained.
    """
    from sklearn.model_selection import FixedThresholdClassifier, TunedThresholdClassifierCV
    from sklearn.pipeline import Pipeline

    if isinstance(model, FixedThresholdClassifier | TunedThresholdClassifierCV):
        return split_model(model.estimator_)
    if isinstance(model, Pipeline) and len(model.steps) > 1:
        return model[:-1], model.steps[-1][1]
    if isinstance(model, Pipeline):
        return None, model.steps[-1][1]
    return None, model


def output_sources(transformer: Any, inputs: list[str]) -> list[str] | None:
    """For each output column of a fitted transformer, the input column it derives from.
    None when some output mixes inputs (PCA, ...) or the structure is not understood."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import FeatureUnion, Pipeline
    from sklearn.preprocessing import OneHotEncoder

    if transformer is None or (isinstance(transformer, str) and transformer == "passthrough"):
        return list(inputs)
    if isinstance(transformer, str) and transformer == "drop":
        return []
    if isinstance(transformer, Pipeline):
        cols: list[str] | None = list(inputs)
        for _, step in transformer.steps:
            cols = output_sources(step, cols) if cols is not None else None
        return cols
    if isinstance(transformer, ColumnTransformer):
        base = list(getattr(transformer, "feature_names_in_", inputs))
        out: list[str] = []
        for _, sub, cols_spec in transformer.transformers_:
            selected = _select_columns(cols_spec, base)
            if not selected or (isinstance(sub, str) and sub == "drop"):
                continue
            mapped = output_sources(sub, selected)
            if mapped is None:
                return None
            out += mapped
        return out
    if isinstance(transformer, FeatureUnion):
        out = []
        for _, sub in transformer.transformer_list:
            mapped = output_sources(sub, inputs)
            if mapped is None:
                return None
            out += mapped
        return out
    if isinstance(transformer, OneHotEncoder) and hasattr(transformer, "_n_features_outs"):
        counts = list(transformer._n_features_outs)
        if len(counts) == len(inputs):
            return [c for c, k in zip(inputs, counts, strict=True) for _ in range(k)]
    if hasattr(transformer, "components_"):
        return None  # projections mix every input
    try:
        own = list(getattr(transformer, "feature_names_in_", [f"x{i}" for i in range(len(inputs))]))
        names = [str(n) for n in transformer.get_feature_names_out()]
    except Exception:
        return None
    if len(names) == len(inputs):
        return list(inputs)
    rename = dict(zip(own, inputs, strict=False))
    out = []
    for name in names:  # e.g. "purpose_car" -> "purpose"; the longest matching input wins
        hits = [c for c in own if name == c or name.startswith(f"{c}_") or name.endswith(f"_{c}")]
        if not hits:
            return None
        out.append(rename[max(hits, key=len)])
    return out


def _select_columns(spec: Any, base: list[str]) -> list[str]:
    if isinstance(spec, str):
        return [spec]
    if isinstance(spec, slice):
        return base[spec]
    items = list(spec) if not callable(spec) else []
    if not items:
        return []
    if isinstance(items[0], bool | np.bool_):
        return [c for c, keep in zip(base, items, strict=False) if keep]
    if isinstance(items[0], int | np.integer):
        return [base[int(i)] for i in items]
    return [str(c) for c in items]


def explainer_kind(estimator: Any) -> str:
    """'tree', 'linear' or 'permutation' for a final estimator."""
    name = type(estimator).__name__
    module = type(estimator).__module__
    tree_names = ("GradientBoosting", "RandomForest", "ExtraTrees", "DecisionTree", "XGB", "LGBM")
    if hasattr(estimator, "tree_") or any(t in name for t in tree_names):
        return "tree"
    if module.split(".")[0] in ("xgboost", "lightgbm", "catboost"):
        return "tree"
    if module.startswith("sklearn.linear_model") or name in ("LinearSVC", "LinearSVR"):
        return "linear"
    return "permutation"


class _Model:
    """Turns rows of the input frame into per-original-feature SHAP values."""

    def __init__(
        self,
        model: Any,
        columns: list[str],
        background: pd.DataFrame,
        positive_class: Any | None,
        explainer: str = "auto",
    ) -> None:
        import shap

        self.columns = columns
        self.pre, self.est = split_model(model)
        self.kind = explainer_kind(self.est) if explainer == "auto" else explainer
        self.notes: list[str] = []
        sources = output_sources(self.pre, columns) if self.pre is not None else list(columns)
        bg = self._transform(background[columns])
        width = bg.shape[1]
        if sources is None or len(sources) != width:
            self.notes.append(
                "transformed columns could not all be traced to input columns; "
                "attribution is reported per transformed column"
            )
            sources = self._output_names(width)
        self.features = list(dict.fromkeys(sources))
        index = {f: i for i, f in enumerate(self.features)}
        self.group = np.zeros((width, len(self.features)))
        self.group[np.arange(width), [index[s] for s in sources]] = 1.0
        self.class_index, self.classes = self._class_index(positive_class)
        if self.kind == "tree":
            try:
                self.explainer = shap.TreeExplainer(self.est)
            except Exception as exc:  # a tree model shap does not know: fall back
                self.notes.append(f"TreeExplainer refused the model ({exc}); permutation used")
                self.kind = "permutation"
        if self.kind == "linear":
            self.explainer = shap.LinearExplainer(self.est, bg)
        if self.kind == "permutation":
            self.background = bg[:PERMUTATION_BACKGROUND]
            self.rng = np.random.default_rng(0)

    def _transform(self, frame: pd.DataFrame) -> np.ndarray:
        out = frame if self.pre is None else self.pre.transform(frame)
        if hasattr(out, "toarray"):
            out = out.toarray()
        return np.asarray(out, dtype=np.float64)

    def _output_names(self, width: int) -> list[str]:
        try:
            names = [str(n) for n in self.pre.get_feature_names_out()]  # type: ignore[union-attr]
            if len(names) == width:
                return names
        except Exception:
            pass
        return [f"x{i}" for i in range(width)]

    def _class_index(self, positive_class: Any | None) -> tuple[int | None, list[Any]]:
        classes = list(getattr(self.est, "classes_", []))
        if not classes:
            return None, []
        if positive_class is not None:
            matches = [i for i, c in enumerate(classes) if str(c) == str(positive_class)]
            if not matches:
                raise ValueError(
                    f"positive_class {positive_class!r} not in model classes {classes}"
                )
            return matches[0], classes
        return (len(classes) - 1 if len(classes) == 2 else None), classes

    def _predict(self, x: np.ndarray) -> np.ndarray:
        if hasattr(self.est, "predict_proba") and self.classes:
            proba = self.est.predict_proba(x)
            return proba[:, self.class_index] if self.class_index is not None else proba
        return self.est.predict(x)

    def _permutation(self, x: np.ndarray) -> np.ndarray:
        """|permutation SHAP| per original feature (a feature's columns switch together):
        along each ordering, switch features from background to the row's values one at a
        time; a feature's value is the mean change of the model output it causes."""
        n_groups = self.group.shape[1]
        bg = self.background
        phi: np.ndarray | float = 0.0
        for _ in range(PERMUTATION_PAIRS):
            forward = self.rng.permutation(n_groups)
            for order in (forward, forward[::-1]):
                steps = np.zeros((n_groups + 1, n_groups), dtype=bool)
                for j, g in enumerate(order):
                    steps[j + 1 :, g] = True
                use_x = steps @ self.group.T > 0  # (steps, columns)
                z = np.where(use_x[None, :, None, :], x[:, None, None, :], bg[None, None, :, :])
                out = np.asarray(self._predict(z.reshape(-1, x.shape[1])), dtype=np.float64)
                out = out.reshape(len(x), n_groups + 1, len(bg), -1).mean(axis=2)
                contrib = np.empty((len(x), n_groups, out.shape[2]))
                contrib[:, order] = np.diff(out, axis=1)
                phi = phi + contrib
        # (rows, features, outputs): one output, or every class without a positive class
        return np.abs(np.asarray(phi) / (2 * PERMUTATION_PAIRS)).mean(axis=2)

    def values(self, rows: pd.DataFrame) -> np.ndarray:
        """|SHAP| per original feature for each row: (rows, features)."""
        x = self._transform(rows[self.columns])
        if self.kind == "tree":
            raw = self.explainer.shap_values(x, check_additivity=False)
        elif self.kind == "linear":
            raw = self.explainer.shap_values(x)
        else:
            return self._permutation(x)
        vals = np.stack(raw, axis=-1) if isinstance(raw, list) else np.asarray(raw)
        if vals.ndim == 3:  # (rows, columns, outputs)
            if self.class_index is not None and vals.shape[2] == len(self.classes):
                vals = vals[:, :, self.class_index]
            else:  # multi-class without a positive class: mean over classes
                grouped = np.einsum("rco,cf->rfo", vals, self.group)
                return np.abs(grouped).mean(axis=2)
        return np.abs(vals @ self.group)


def explain(
    model: Any,
    data: pd.DataFrame,
    columns: list[str],
    *,
    background: pd.DataFrame,
    budget_s: float,
    max_samples: int,
    min_samples: int,
    top_k: int,
    positive_class: Any | None = None,
    rows: np.ndarray | None = None,
    seed: int = 0,
    explainer: str = "auto",
) -> Explanation:
    """Explain `model` on a random sample of `data` sized by the time budget.

    With `rows` given (the sample another model was explained on) those rows are explained in
    that order, as far as the budget allows.
    """
    started = time.perf_counter()
    m = _Model(model, columns, background, positive_class, explainer)
    fixed = rows is not None
    order = rows if rows is not None else np.random.default_rng(seed).permutation(len(data))
    order = order[: max(1, min(max_samples, len(order)))]
    batch = {"tree": 16, "linear": len(order), "permutation": 1}[m.kind]
    chunks: list[np.ndarray] = []
    done, reason = 0, "all rows explained"
    while done < len(order):
        part = order[done : done + batch]
        chunks.append(m.values(data.iloc[part]))
        done += len(part)
        spent = time.perf_counter() - started
        if done >= len(order):
            break
        per_row = spent / done
        left = budget_s - spent
        if left < per_row * min(batch, 8):
            reason = "time budget"
            break
        if not fixed and done >= min_samples and _separated(np.vstack(chunks), top_k):
            reason = f"top-{top_k} set separated"
            break
        batch = int(max(1, min(batch * 2, left / per_row * 0.9, len(order) - done)))
    values = np.vstack(chunks)
    stderr = values.std(axis=0, ddof=1) / np.sqrt(len(values)) if len(values) > 1 else None
    return Explanation(
        method=m.kind,
        features=m.features,
        mean_abs=values.mean(axis=0),
        stderr=stderr if stderr is not None else np.full(values.shape[1], np.nan),
        rows=order[:done],
        seconds=time.perf_counter() - started,
        stop_reason=reason,
        notes=m.notes,
    )


def _separated(values: np.ndarray, top_k: int) -> bool:
    """Is the k-th largest mean |SHAP| clearly above the (k+1)-th?"""
    k = min(top_k, values.shape[1] - 1)
    if k <= 0:
        return True
    mean = values.mean(axis=0)
    se = values.std(axis=0, ddof=1) / np.sqrt(len(values))
    order = np.argsort(-mean)
    a, b = order[k - 1], order[k]
    return bool(mean[a] - mean[b] > Z_SEPARATION * np.hypot(se[a], se[b]))


def write_chart(exp: Explanation, path: Any, top: int = 15) -> None:
    """Horizontal bars of mean |SHAP| (with standard errors) for the top features."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib import pyplot as plt

    order = np.argsort(-exp.mean_abs, kind="stable")[:top][::-1]
    fig, ax = plt.subplots(figsize=(8, max(2.5, 0.35 * len(order) + 1.2)))
    try:
        ax.barh(
            [exp.features[i] for i in order],
            exp.mean_abs[order],
            xerr=np.nan_to_num(exp.stderr[order]),
            color="#1f77b4",
        )
        ax.set_xlabel("mean |SHAP value|")
        ax.set_title(f"Global feature attribution ({exp.method} SHAP, {exp.n} rows)")
        fig.tight_layout()
        fig.savefig(path, dpi=100)
    finally:
        plt.close(fig)
