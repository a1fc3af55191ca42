"""Loading the data a check looks at, and the column checks every check needs.

`load_dataset` reads a CSV or Parquet table from a local path, a ``file://`` URI or an
``http(s)://`` URL and fingerprints the raw bytes with sha256. Every problem a person can fix
(missing file, unreadable bytes, unsupported suffix, HTTP error, empty table) becomes a
:class:`~checks.base.CheckInputError` whose one-line message names the URI.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname

import httpx
import numpy as np
import pandas as pd

from checks.base import CheckContext, CheckInputError, ColumnRoles, Dataset

log = logging.getLogger(__name__)

CSV_SUFFIXES = (".csv", ".csv.gz")
PARQUET_SUFFIXES = (".parquet", ".pq")
SUPPORTED_SUFFIXES = CSV_SUFFIXES + PARQUET_SUFFIXES
DEFAULT_MAX_BYTES = 2 * 1024**3  # an HTTP download larger than this is refused

# Column names used when the model version's schema names no prediction/score column and the
# predictions are computed from the model.
COMPUTED_PREDICTION = "_modelgate_prediction"
COMPUTED_SCORE = "_modelgate_score"


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    text = text if len(text) <= 200 else text[:197] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _format_of(uri: str) -> str:
    path = unquote(urlparse(uri).path if "://" in uri else uri).lower()
    for suffix in SUPPORTED_SUFFIXES:
        if path.endswith(suffix):
            return "csv" if suffix in CSV_SUFFIXES else "parquet"
    raise CheckInputError(
        f"cannot read {uri}: unsupported file type; use one of {', '.join(SUPPORTED_SUFFIXES)}"
    )


def _read_local(uri: str, path: Path) -> bytes:
    if not path.exists():
        raise CheckInputError(f"cannot read {uri}: file not found")
    if path.is_dir():
        raise CheckInputError(f"cannot read {uri}: it is a directory, not a file")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CheckInputError(f"cannot read {uri}: {_one_line(exc)}") from exc


def _read_http(uri: str, timeout_s: float, max_bytes: int) -> bytes:
    buf = bytearray()
    try:
        with (
            httpx.Client(timeout=timeout_s, follow_redirects=True) as client,
            client.stream("GET", uri) as resp,
        ):
            if resp.status_code >= 400:
                raise CheckInputError(
                    f"cannot read {uri}: HTTP {resp.status_code} {resp.reason_phrase}".rstrip()
                )
            for chunk in resp.iter_bytes():
                buf.extend(chunk)
                if len(buf) > max_bytes:
                    raise CheckInputError(
                        f"cannot read {uri}: larger than the {max_bytes:,} byte download limit"
                    )
    except httpx.HTTPError as exc:
        raise CheckInputError(f"cannot fetch {uri}: {_one_line(exc)}") from exc
    return bytes(buf)


def _parse(uri: str, raw: bytes, fmt: str) -> pd.DataFrame:
    if not raw:
        raise CheckInputError(f"cannot read {uri}: the file is empty")
    try:
        if fmt == "parquet":
            return pd.read_parquet(io.BytesIO(raw))
        # Trust the bytes, not the suffix: gzip magic means gzip (servers may also decompress).
        text = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
        return pd.read_csv(io.BytesIO(text), encoding="utf-8")
    except pd.errors.EmptyDataError as exc:
        raise CheckInputError(f"cannot read {uri}: the file has no columns") from exc
    except Exception as exc:  # parsers raise many types on garbled input
        raise CheckInputError(f"cannot read {uri} as {fmt.upper()}: {_one_line(exc)}") from exc


def load_dataset(
    uri: str,
    *,
    allow_http: bool = True,
    timeout_s: float = 30,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Dataset:
    """Read a CSV/Parquet table from a path, ``file://`` URI or ``http(s)://`` URL."""
    uri = str(uri)
    fmt = _format_of(uri)
    parsed = urlparse(uri)
    scheme = parsed.scheme.lower() if "://" in uri else ""
    if scheme in ("http", "https"):
        if not allow_http:
            raise CheckInputError(f"cannot read {uri}: HTTP data sources are disabled")
        raw = _read_http(uri, timeout_s, max_bytes)
    elif scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            raise CheckInputError(f"cannot read {uri}: only local file:// URIs are supported")
        raw = _read_local(uri, Path(url2pathname(parsed.path)))
    elif scheme == "":
        raw = _read_local(uri, Path(uri).expanduser())
    else:
        raise CheckInputError(
            f"cannot read {uri}: unsupported scheme `{scheme}`; use a path, file:// or http(s)://"
        )
    frame = _parse(uri, raw, fmt)
    if len(frame) == 0:
        raise CheckInputError(f"cannot use {uri}: the table has no rows")
    sha = hashlib.sha256(raw).hexdigest()
    log.debug("loaded %s: %d rows, %d columns, sha256 %s", uri, len(frame), frame.shape[1], sha)
    return Dataset(frame=frame, uri=uri, sha256=sha)


def _names(columns: Iterable[str]) -> str:
    return ", ".join(f"`{c}`" for c in columns)


def require_columns(
    ds: Dataset,
    columns: Iterable[str],
    *,
    role: str,
    source: str = "",
    label: str = "dataset",
) -> None:
    """Raise CheckInputError naming every column of `columns` that `ds` lacks.

    `role` says what the columns are for ("sensitive feature"), `source` where they were named
    ("policies/packs/high-risk.yaml:12") and `label` which data it is ("current window").
    """
    missing = [c for c in dict.fromkeys(columns) if c not in ds.frame.columns]
    if not missing:
        return
    have = [str(c) for c in ds.frame.columns]
    shown = ", ".join(have[:40]) + (f", ... ({len(have)} in all)" if len(have) > 40 else "")
    noun = "column" if len(missing) == 1 else "columns"
    verb = "is" if len(missing) == 1 else "are"
    where = f", named in {source}" if source else ""
    raise CheckInputError(
        f"{noun} {_names(missing)} ({role}{where}) {verb} not in {label} {ds.uri}; it has: {shown}"
    )


def evaluation_data(ctx: CheckContext) -> tuple[Dataset, str]:
    """The data a model-evaluation check runs on: the current window if given, else reference."""
    if ctx.current is not None:
        return ctx.current, "current window"
    if ctx.reference is not None:
        return ctx.reference, "reference data"
    raise CheckInputError("no data to evaluate: neither a current window nor reference data")


def prediction_column(roles: ColumnRoles) -> str:
    return roles.prediction or COMPUTED_PREDICTION


def score_column(roles: ColumnRoles) -> str:
    return roles.score or COMPUTED_SCORE


def ensure_predictions(
    ds: Dataset,
    roles: ColumnRoles,
    model: Any,
    *,
    need_score: bool | None = None,
    need_prediction: bool = True,
    label: str = "dataset",
) -> Dataset:
    """`ds` with the prediction (and score) columns present, computed from `model` if needed.

    The score column is wanted when `need_score` is true, or (``need_score=None``) when
    ``roles.score`` is set. Without a model a missing column is an error: predictions-only
    models must log them.
    """
    frame = ds.frame
    pred_col, score_col = prediction_column(roles), score_column(roles)
    want_score = roles.score is not None if need_score is None else need_score
    missing_pred = need_prediction and pred_col not in frame.columns
    missing_score = want_score and score_col not in frame.columns
    if not (missing_pred or missing_score):
        return ds
    if model is None:
        wanted = [c for c, m in ((pred_col, missing_pred), (score_col, missing_score)) if m]
        if wanted[0].startswith("_modelgate_"):
            raise CheckInputError(
                "the model version is predictions-only (no model artifact) and its data schema "
                "names no prediction/score column; declare it so the check can read predictions"
            )
        raise CheckInputError(
            f"the model version is predictions-only (no model artifact), so {label} {ds.uri} "
            f"must contain the {_names(wanted)} column; it has: "
            + ", ".join(str(c) for c in frame.columns[:40])
        )
    if not roles.features:
        raise CheckInputError(
            "cannot compute predictions: the model version's data schema lists no feature columns"
        )
    require_columns(ds, roles.features, role="model feature", label=label)
    features = frame[list(roles.features)]
    out = frame.copy(deep=False)  # only columns are added: no need to copy 1M rows
    try:
        if missing_pred:
            out[pred_col] = np.asarray(model.predict(features))
        if missing_score:
            if not hasattr(model, "predict_proba"):
                raise CheckInputError(
                    f"the model ({type(model).__name__}) has no predict_proba, so the score "
                    f"column `{score_col}` cannot be computed; log it in {label} {ds.uri}"
                )
            out[score_col] = np.asarray(model.predict_proba(features))[:, 1]
    except CheckInputError:
        raise
    except Exception as exc:
        raise CheckInputError(
            f"the model failed to predict on {label} {ds.uri}: {_one_line(exc)}"
        ) from exc
    log.debug("computed predictions for %s (%d rows)", ds.uri, len(out))
    return Dataset(frame=out, uri=ds.uri, sha256=ds.sha256)


def missing_columns(frame: pd.DataFrame, columns: Sequence[str]) -> list[str]:
    """The names in `columns` that `frame` lacks, in order, without duplicates."""
    return [c for c in dict.fromkeys(columns) if c not in frame.columns]
