"""Imputing missing numeric values from the rest of the row."""

import json
import warnings
import zipfile

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning

from sklearn_snn import SNNClassifier, SNNRegressor, _imputation, load, save

TINY = {"hidden_layer_sizes": (8,), "max_iter": 2, "random_state": 0, "device": "cpu"}
N = 400


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def _correlated(rng, n=N, missing=0.3):
    """``b`` is nearly twice ``a`` and missing in ``missing`` of the rows; ``c``
    is independent of both and missing in a fifth."""
    a = rng.normal(size=n)
    X = np.c_[a, 2 * a + rng.normal(scale=0.05, size=n), rng.normal(size=n)]
    truth = X.copy()
    X[rng.random(n) < missing, 1] = np.nan
    X[rng.random(n) < 0.2, 2] = np.nan
    return X, truth


def _standardized(model, X):
    return model._standardize(model._validate_X_predict(X))


def test_a_correlated_column_is_recovered_from_the_others():
    X, truth = _correlated(np.random.default_rng(0))
    reg = SNNRegressor(**TINY).fit(X, truth[:, 0])
    missing = np.isnan(X[:, 1])
    expected = (truth[:, 1] - reg.scaler_.mean_[1]) / reg.scaler_.scale_[1]
    imputed = _standardized(reg, X)[:, 1]
    assert np.abs(imputed[missing] - expected[missing]).max() < 0.1
    # Present values are standardized as before.
    np.testing.assert_allclose(imputed[~missing], expected[~missing], atol=1e-6)


def test_an_independent_column_is_imputed_near_its_mean():
    X, _ = _correlated(np.random.default_rng(1))
    reg = SNNRegressor(**TINY).fit(X, np.nan_to_num(X[:, 0]))
    imputed = _standardized(reg, X)[np.isnan(X[:, 2]), 2]
    assert np.abs(imputed).max() < 0.1


def test_imputed_inputs_stay_within_unit_variance():
    # What a SELU network needs of its inputs: the imputed column, present
    # and imputed values together, keeps mean 0 and variance at most 1.
    X, _ = _correlated(np.random.default_rng(2), n=4000)
    reg = SNNRegressor(**TINY).fit(X, np.nan_to_num(X[:, 0]))
    inputs = _standardized(reg, X)[:, :3]
    assert np.abs(inputs.mean(axis=0)).max() < 0.05
    assert (inputs.var(axis=0) < 1.01).all()


def test_the_tensor_path_imputes_as_the_numpy_path():
    X, truth = _correlated(np.random.default_rng(3))
    clf = SNNClassifier(**TINY).fit(X, truth[:, 0] > 0)
    encoded = clf._validate_X_predict(X)
    on_device = clf._standardize_tensor(encoded, torch.device("cpu"))
    np.testing.assert_array_equal(on_device.numpy(), clf._standardize(encoded))


def test_only_columns_with_missing_values_in_fit_are_imputed():
    X, truth = _correlated(np.random.default_rng(4))
    reg = SNNRegressor(**TINY).fit(X, truth[:, 0])
    assert reg.imputer_.columns.tolist() == [1, 2]
    # A column that had no missing values in fit gets its mean at predict time.
    X_test = truth[:5].copy()
    X_test[:, 0] = np.nan
    assert (_standardized(reg, X_test)[:, 0] == 0).all()


def test_without_missing_values_there_is_no_imputer(regression_data):
    X, y = regression_data
    assert SNNRegressor(**TINY).fit(X, y).imputer_ is None


def test_predictors_and_imputed_columns_are_bounded(monkeypatch):
    rng = np.random.default_rng(5)
    X = rng.normal(size=(300, 40)) + rng.normal(size=(300, 1))
    for j in range(40):
        X[: 5 * (j + 1), j] = np.nan
    monkeypatch.setattr(_imputation._defaults, "MAX_IMPUTED_COLUMNS", 3)
    reg = SNNRegressor(**TINY).fit(X, rng.normal(size=300))
    imputer = reg.imputer_
    # The three columns missing most often, each on the 32 inputs most
    # correlated with it (neither itself nor its own indicator).
    assert imputer.columns.tolist() == [37, 38, 39]
    assert imputer.predictors.shape == (3, 32)
    for column, predictors in zip(imputer.columns, imputer.predictors, strict=True):
        assert column not in predictors
        assert 40 + column not in predictors


def test_a_column_present_in_too_few_rows_keeps_its_mean():
    X, truth = _correlated(np.random.default_rng(6), missing=0.97)
    reg = SNNRegressor(**TINY).fit(X, truth[:, 0])
    assert reg.imputer_.columns.tolist() == [2]


def test_sample_weight_weights_the_regressions():
    # Half the rows follow another relation; with no weight, they are ignored.
    rng = np.random.default_rng(7)
    X, truth = _correlated(rng, n=800)
    X[400:, 1] = -X[400:, 1]
    weight = np.r_[np.ones(400), np.zeros(400)]
    reg = SNNRegressor(**TINY).fit(X, truth[:, 0], sample_weight=weight)
    coef = dict(zip(reg.imputer_.predictors[0], reg.imputer_.coef[0], strict=True))
    assert coef[0] > 0.9


def test_partial_fit_keeps_the_first_calls_imputer():
    X, truth = _correlated(np.random.default_rng(8))
    reg = SNNRegressor(**TINY).partial_fit(X[:200], truth[:200, 0])
    first = reg.imputer_
    reg.partial_fit(X[200:] * 3, truth[200:, 0])
    assert reg.imputer_ is first


def test_a_first_chunk_of_one_class_keeps_every_indicator():
    # One class cannot tell whether missingness relates to the label.
    X, _ = _correlated(np.random.default_rng(11))
    clf = SNNClassifier(**TINY).partial_fit(X, np.zeros(N), classes=[0, 1])
    assert clf._table_encoding.indicated == [1, 2]


def test_the_imputer_round_trips_through_a_model_file(tmp_path):
    X, truth = _correlated(np.random.default_rng(9))
    clf = SNNClassifier(**TINY).fit(X, truth[:, 0] > 0)
    save(clf, tmp_path / "m.snn")
    loaded = load(tmp_path / "m.snn")
    for name in ["columns", "predictors", "coef", "intercept"]:
        np.testing.assert_array_equal(
            getattr(loaded.imputer_, name), getattr(clf.imputer_, name)
        )
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


def _saved(tmp_path):
    """A saved classifier of 5 standardized inputs: ``a``, ``b``, ``c`` and the
    indicators of ``b`` and ``c``, whose missingness tells the label."""
    X, truth = _correlated(np.random.default_rng(10))
    clf = SNNClassifier(**TINY).fit(X, (truth[:, 0] > 0) | np.isnan(X).any(axis=1))
    assert clf._table_encoding.indicated == [1, 2]
    path = tmp_path / "m.snn"
    save(clf, path)
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    return clf, X, path, members


def _write(path, members, metadata):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("metadata.json", json.dumps(metadata))
        archive.writestr("weights.safetensors", members["weights.safetensors"])


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("columns", [0, 1], "not some of the columns with missing values in fit"),
        ("columns", [], "not some of the columns with missing values in fit"),
        ("predictors", {"dtype": "<i8", "values": [0] * 7}, "7 predictors"),
        ("predictors", {"dtype": "<i8", "values": [0, 9, 1, 0, 1, 3]}, "outside the 5"),
        ("coef", {"dtype": "<f8", "values": [0.5, None, 0, 0]}, "holds null"),
        ("intercept", {"dtype": "<f8", "values": [1e400, 0]}, "non-finite"),
    ],
)
def test_a_damaged_imputer_is_refused(tmp_path, field, value, message):
    _, _, path, members = _saved(tmp_path)
    metadata = json.loads(members["metadata.json"])
    metadata["fitted"]["imputer"][field] = value
    _write(path, members, metadata)
    with pytest.raises(ValueError, match=message):
        load(path)


def test_version_6_files_impute_the_mean(tmp_path):
    clf, X, path, members = _saved(tmp_path)
    metadata = json.loads(members["metadata.json"])
    metadata["format_version"] = 6
    del metadata["fitted"]["imputer"]
    del metadata["fitted"]["encoding"]["incomplete"]
    _write(path, members, metadata)
    loaded = load(path)
    assert loaded.imputer_ is None
    clf.imputer_ = None
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


def test_version_7_files_impute_every_indicated_column(tmp_path):
    # Before version 8 every column with missing values had an indicator, so
    # the encoding named those columns once, as ``indicated``.
    clf, X, path, members = _saved(tmp_path)
    metadata = json.loads(members["metadata.json"])
    metadata["format_version"] = 7
    del metadata["fitted"]["encoding"]["incomplete"]
    _write(path, members, metadata)
    loaded = load(path)
    assert loaded._table_encoding == clf._table_encoding
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


def test_an_indicator_of_a_complete_column_is_refused(tmp_path):
    _, _, path, members = _saved(tmp_path)
    metadata = json.loads(members["metadata.json"])
    metadata["fitted"]["encoding"]["incomplete"] = [1]
    metadata["fitted"]["imputer"] = None
    _write(path, members, metadata)
    with pytest.raises(ValueError, match="indicated holds columns that are not in"):
        load(path)
