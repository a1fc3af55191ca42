"""load_dataset / require_columns / ensure_predictions."""

from __future__ import annotations

import gzip
import hashlib
import io

import httpx
import numpy as np
import pandas as pd
import pytest
import respx

from checks.base import CheckInputError, ColumnRoles, Dataset
from checks.data import (
    COMPUTED_PREDICTION,
    ensure_predictions,
    evaluation_data,
    load_dataset,
    require_columns,
)

SMALL = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})


def csv_bytes(df: pd.DataFrame = SMALL) -> bytes:
    return df.to_csv(index=False).encode()


def parquet_bytes(df: pd.DataFrame = SMALL) -> bytes:
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return buf.getvalue()


def test_local_csv_and_file_uri(tmp_path):
    path = tmp_path / "window.csv"
    path.write_bytes(csv_bytes())
    ds = load_dataset(str(path))
    pd.testing.assert_frame_equal(ds.frame, SMALL)
    assert ds.sha256 == hashlib.sha256(csv_bytes()).hexdigest() and ds.uri == str(path)
    via_uri = load_dataset(path.as_uri())
    assert via_uri.sha256 == ds.sha256 and via_uri.uri.startswith("file://")
    pd.testing.assert_frame_equal(via_uri.frame, SMALL)


def test_real_german_credit_file():
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "modelgate/demo_data/german_credit.csv"
    ds = load_dataset(str(path))
    assert ds.rows == 1000 and {"sex", "age", "credit_risk"} <= set(ds.frame.columns)
    assert ds.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_gzip_csv_and_parquet(tmp_path):
    gz = tmp_path / "w.csv.gz"
    gz.write_bytes(gzip.compress(csv_bytes()))
    pd.testing.assert_frame_equal(load_dataset(str(gz)).frame, SMALL)
    for suffix in (".parquet", ".pq"):
        pq = tmp_path / f"w{suffix}"
        pq.write_bytes(parquet_bytes())
        ds = load_dataset(str(pq))
        pd.testing.assert_frame_equal(ds.frame, SMALL)
        assert ds.sha256 == hashlib.sha256(parquet_bytes()).hexdigest()


@respx.mock
def test_http_csv_200():
    url = "https://data.example.com/windows/2024-06.csv?token=abc"
    route = respx.get(url).mock(return_value=httpx.Response(200, content=csv_bytes()))
    ds = load_dataset(url)
    assert route.called
    pd.testing.assert_frame_equal(ds.frame, SMALL)
    assert ds.sha256 == hashlib.sha256(csv_bytes()).hexdigest() and ds.uri == url


@respx.mock
def test_http_parquet():
    url = "http://data.example.com/w.parquet"
    respx.get(url).mock(return_value=httpx.Response(200, content=parquet_bytes()))
    pd.testing.assert_frame_equal(load_dataset(url).frame, SMALL)


@respx.mock
def test_http_404_names_uri_and_status():
    url = "https://data.example.com/missing.csv"
    respx.get(url).mock(return_value=httpx.Response(404))
    with pytest.raises(CheckInputError) as err:
        load_dataset(url)
    assert str(err.value) == f"cannot read {url}: HTTP 404 Not Found"


@respx.mock
def test_http_connection_error_and_disabled_http():
    url = "https://data.example.com/w.csv"
    respx.get(url).mock(side_effect=httpx.ConnectError("connection refused"))
    with pytest.raises(
        CheckInputError,
        match=r"cannot fetch https://data.example.com/w.csv: "
        r"ConnectError: connection refused",
    ):
        load_dataset(url)
    with pytest.raises(CheckInputError, match="HTTP data sources are disabled"):
        load_dataset(url, allow_http=False)


@respx.mock
def test_http_download_limit():
    url = "https://data.example.com/big.csv"
    respx.get(url).mock(return_value=httpx.Response(200, content=csv_bytes() * 100))
    with pytest.raises(CheckInputError, match="download limit"):
        load_dataset(url, max_bytes=100)


def test_missing_file(tmp_path):
    path = tmp_path / "nope.csv"
    with pytest.raises(CheckInputError) as err:
        load_dataset(str(path))
    assert str(err.value) == f"cannot read {path}: file not found"
    with pytest.raises(CheckInputError, match="file not found"):
        load_dataset(path.as_uri())


def test_garbage_bytes(tmp_path, rng):
    garbage = rng.integers(0, 256, 4096, dtype=np.uint8).tobytes()
    for name, fmt in (("g.parquet", "PARQUET"), ("g.csv", "CSV"), ("g.csv.gz", "CSV")):
        path = tmp_path / name
        path.write_bytes(b"\x1f\x8b" + garbage if name.endswith(".gz") else garbage)
        with pytest.raises(CheckInputError) as err:
            load_dataset(str(path))
        msg = str(err.value)
        assert msg.startswith(f"cannot read {path} as {fmt}: ") and "\n" not in msg


def test_unsupported_suffix_empty_file_and_header_only(tmp_path):
    with pytest.raises(CheckInputError, match=r"unsupported file type; use one of \.csv"):
        load_dataset(str(tmp_path / "data.xlsx"))
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(CheckInputError, match=r"empty\.csv: the file is empty"):
        load_dataset(str(empty))
    header = tmp_path / "header.csv"
    header.write_bytes(b"a,b\n")
    with pytest.raises(CheckInputError, match=r"header\.csv: the table has no rows"):
        load_dataset(str(header))
    with pytest.raises(CheckInputError, match="unsupported scheme `s3`"):
        load_dataset("s3://bucket/x.csv")


def test_require_columns_message():
    ds = Dataset(frame=SMALL, uri="/data/x.parquet", sha256="0")
    require_columns(ds, ["a", "b"], role="feature")
    with pytest.raises(CheckInputError) as err:
        require_columns(
            ds,
            ["age", "a"],
            role="sensitive feature",
            source="policies/packs/high-risk.yaml:12",
            label="current window",
        )
    assert str(err.value) == (
        "column `age` (sensitive feature, named in policies/packs/high-risk.yaml:12) is not in "
        "current window /data/x.parquet; it has: a, b"
    )
    with pytest.raises(CheckInputError, match=r"columns `c`, `d` \(feature\) are not in dataset"):
        require_columns(ds, ["c", "d"], role="feature")


def test_ensure_predictions_with_and_without_model(scored, german_model, features):
    roles = ColumnRoles(
        features=tuple(features), target="target", prediction="prediction", score="score"
    )
    full = Dataset(frame=scored, uri="mem://x.csv", sha256="s")
    assert ensure_predictions(full, roles, None) is full  # nothing to compute
    bare = Dataset(
        frame=scored.drop(columns=["prediction", "score"]), uri="mem://x.csv", sha256="s"
    )
    out = ensure_predictions(bare, roles, german_model)
    np.testing.assert_array_equal(out.frame["prediction"], scored["prediction"])
    np.testing.assert_allclose(out.frame["score"], scored["score"])
    assert out.sha256 == "s" and "prediction" not in bare.frame.columns  # input untouched
    with pytest.raises(CheckInputError) as err:
        ensure_predictions(bare, roles, None, label="current window")
    assert "predictions-only" in str(err.value) and "`prediction`, `score`" in str(err.value)
    no_role = ColumnRoles(features=tuple(features))
    out = ensure_predictions(bare, no_role, german_model)
    assert COMPUTED_PREDICTION in out.frame.columns
    with pytest.raises(CheckInputError, match="failed to predict"):
        ensure_predictions(Dataset(bare.frame.assign(age="old"), "u", "s"), roles, german_model)


def test_evaluation_data_prefers_current():
    from checks.base import CheckContext

    ref, cur = Dataset(SMALL, "r", "1"), Dataset(SMALL, "c", "2")
    assert evaluation_data(CheckContext(ColumnRoles(), reference=ref)) == (ref, "reference data")
    assert evaluation_data(CheckContext(ColumnRoles(), reference=ref, current=cur))[1] == (
        "current window"
    )
    with pytest.raises(CheckInputError, match="neither a current window nor reference data"):
        evaluation_data(CheckContext(ColumnRoles()))
