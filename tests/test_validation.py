"""The input checks that run before scikit-learn's validate_data."""

import sys
import warnings

import numpy as np
import pandas as pd
import pytest

from sklearn_snn import SNNClassifier
from sklearn_snn._validation import (
    check_label_types,
    check_missing_targets,
    prepare_X,
    warn_if_index_differs,
)


def test_prepare_X_leaves_arrays_and_string_named_frames_alone():
    X = np.zeros((3, 2))
    assert prepare_X(X) is X
    frame = pd.DataFrame(X, columns=["a", "b"])
    assert prepare_X(frame) is frame


def test_prepare_X_names_non_string_columns_by_str_without_copying_data():
    frame = pd.DataFrame(np.arange(6.0).reshape(3, 2), columns=[10, 20])
    prepared = prepare_X(frame)
    assert list(prepared.columns) == ["10", "20"]
    assert list(frame.columns) == [10, 20]
    assert np.shares_memory(prepared.to_numpy(), frame.to_numpy())


def test_mixed_string_and_int_column_names_are_refused_as_by_scikit_learn():
    frame = pd.DataFrame(np.zeros((4, 2)), columns=["a", 1])
    assert prepare_X(frame) is frame
    with pytest.raises(TypeError, match="all input features have string names"):
        SNNClassifier(max_iter=1, device="cpu").fit(frame, [0, 1, 0, 1])


@pytest.mark.parametrize(
    "y",
    [None, [0, 1], np.array(["a", "b"]), pd.Series([1.5, 2.5]), [[0, 1], [2]]],
    ids=["none", "list", "strings", "floats", "ragged"],
)
def test_check_missing_targets_passes_what_has_no_missing_value(y):
    check_missing_targets(y, "label")


def test_check_missing_targets_without_pandas(monkeypatch):
    # Without pandas imported, None and NaN are the missing markers.
    monkeypatch.setitem(sys.modules, "pandas", None)
    y = np.array(["a", None, "b", float("nan")], dtype=object)
    with pytest.raises(
        ValueError, match=r"2 of its 4 labels are missing \(NaN, None\)"
    ):
        check_missing_targets(y, "label")


def test_check_missing_targets_counts_nat():
    y = np.array(["2020-01-01", "NaT"], dtype="datetime64[D]")
    with pytest.raises(ValueError, match=r"1 of its 2 labels is missing \(NaT\)"):
        check_missing_targets(y, "label")


def test_check_label_types_accepts_mixed_numbers():
    check_label_types(np.array([1, 2.5, np.int64(3)], dtype=object))
    with pytest.raises(
        ValueError, match=r"mixes labels of different types \(int, str\)"
    ):
        check_label_types(np.array([1, "a"], dtype=object))


def test_warn_if_index_differs_ignores_what_is_not_pandas_or_of_another_length():
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_if_index_differs(frame, [0, 1, 0], "y")
        warn_if_index_differs(
            frame.to_numpy(), pd.Series([0, 1, 0], index=[5, 6, 7]), "y"
        )
        warn_if_index_differs(frame, pd.Series([0, 1], index=[5, 6]), "y")
        warn_if_index_differs(frame, None, "sample_weight")
