"""load_model: skops allow-list, pickle refusal, sha256 pinning."""

from __future__ import annotations

import hashlib
import os
import pickle

import joblib
import numpy as np
import pytest
import skops.io as sio
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import FunctionTransformer

from checks.base import CheckInputError
from checks.models import PICKLE_SETTING, is_allowed_type, load_model


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def pipeline(german):
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    cats, nums = ["sex", "purpose", "housing"], ["age", "credit_amount"]
    model = Pipeline(
        [
            (
                "encode",
                ColumnTransformer(
                    [("cat", OneHotEncoder(handle_unknown="ignore"), cats)], remainder="passthrough"
                ),
            ),
            ("forest", RandomForestClassifier(n_estimators=10, random_state=0)),
        ]
    )
    X = german[cats + nums]
    return model.fit(X, german["target"]), X


def test_skops_pipeline_round_trip(tmp_path, pipeline):
    model, X = pipeline
    path = tmp_path / "model.skops"
    sio.dump(model, path)
    assert sio.get_untrusted_types(file=path)  # the forest's Tree is not trusted by default
    loaded = load_model(path, expected_sha256=sha(path))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    np.testing.assert_allclose(loaded.predict_proba(X), model.predict_proba(X))
    via_uri = load_model(path.as_uri(), expected_sha256=sha(path).upper())
    assert type(via_uri).__name__ == "Pipeline"


def test_skops_with_a_type_outside_the_allow_list_is_refused(tmp_path):
    path = tmp_path / "sneaky.skops"
    sio.dump(FunctionTransformer(func=np.log1p, inverse_func=os.system), path)
    with pytest.raises(CheckInputError) as err:
        load_model(path, expected_sha256=sha(path))
    msg = str(err.value)
    assert "outside the allow-list" in msg and "posix.system" in msg and str(path) in msg
    # an operator who reviewed the type may trust it explicitly
    loaded = load_model(path, expected_sha256=None, trusted=["posix.system"])
    assert loaded.inverse_func is os.system


def test_allow_list_rules():
    assert is_allowed_type("sklearn.tree._tree.Tree")
    assert is_allowed_type("scipy.sparse._csr.csr_matrix")
    assert not is_allowed_type("numpy.load")
    assert not is_allowed_type("numpy.lib.npyio.load")
    assert not is_allowed_type("builtins.eval")
    assert not is_allowed_type("sklearnx.evil")
    assert is_allowed_type("mypkg.Custom", trusted=["mypkg.Custom"])


def test_pickle_refused_by_default_naming_the_setting(tmp_path):
    model = LogisticRegression().fit([[0.0], [1.0]], [0, 1])
    for name, dump in (("m.pkl", pickle.dumps), ("m.joblib", None)):
        path = tmp_path / name
        if dump:
            path.write_bytes(dump(model))
        else:
            joblib.dump(model, path)
        with pytest.raises(CheckInputError) as err:
            load_model(path, expected_sha256=sha(path))
        msg = str(err.value)
        assert PICKLE_SETTING in msg and "MODELGATE_ALLOW_PICKLE=true" in msg
        assert "arbitrary code" in msg and str(path) in msg
        loaded = load_model(path, expected_sha256=sha(path), allow_pickle=True)
        assert loaded.predict([[1.0]])[0] == 1


def test_sha_mismatch_refused(tmp_path, pipeline):
    path = tmp_path / "model.skops"
    sio.dump(pipeline[0], path)
    with pytest.raises(CheckInputError) as err:
        load_model(path, expected_sha256="0" * 64)
    assert "does not match the registered" in str(err.value) and sha(path) in str(err.value)
    pkl = tmp_path / "m.pkl"
    pkl.write_bytes(pickle.dumps(LogisticRegression()))
    with pytest.raises(CheckInputError, match="does not match"):
        load_model(pkl, expected_sha256="0" * 64, allow_pickle=True)


def test_bad_inputs(tmp_path):
    with pytest.raises(CheckInputError, match="file not found"):
        load_model(tmp_path / "absent.skops", expected_sha256=None)
    with pytest.raises(CheckInputError, match="unsupported artifact type"):
        load_model(tmp_path / "model.onnx", expected_sha256=None)
    junk = tmp_path / "junk.skops"
    junk.write_bytes(b"not a zip file")
    with pytest.raises(CheckInputError, match="not a readable skops file"):
        load_model(junk, expected_sha256=None)
    with pytest.raises(CheckInputError, match="only local paths"):
        load_model("https://example.com/m.skops", expected_sha256=None)
