"""Bad and unusual inputs: each is handled or refused with a clear error.

``CASES`` is the input matrix: one row per input, each with its expected
outcome, either ``OK`` (fit and predict finite values of the right shape) or
an exception type and a regex its message must match. The property-based
tests at the end draw random shapes, dtypes and values.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from sklearn_snn import SNNClassifier, SNNRegressor

pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning",
    "ignore::sklearn.exceptions.DataConversionWarning",
    "ignore:X does not have valid feature names:UserWarning",
    "ignore:X has feature names:UserWarning",
)

#: A tiny network and budget: these tests are about inputs, not accuracy.
TINY = {"hidden_layer_sizes": (4,), "max_iter": 3, "random_state": 0, "device": "cpu"}
OK = "ok"

_rng = np.random.default_rng(0)
X = _rng.normal(size=(40, 3))
Y = np.arange(40) % 2
Y_REG = _rng.normal(size=40)
DF = pd.DataFrame(X, columns=["a", "b", "c"])
F32_MAX = float(np.finfo(np.float32).max)
#: A float32 column whose deviations from its mean overflow float32, not float64.
NEAR_F32_MAX = np.r_[np.full(30, -0.9 * F32_MAX), np.full(10, 0.9 * F32_MAX)]
Y_STR = np.array(["1", "2"])[Y]
#: Rows 3, 13, 23 and 33, where the tests put missing labels.
EVERY_10TH = np.arange(40) % 10 == 3
DATES = pd.date_range("2020-01-01", periods=40, freq="D")
DF_INT = pd.DataFrame(X)
DF_MULTI = pd.DataFrame(
    X, columns=pd.MultiIndex.from_tuples([("a", 1), ("a", 2), ("b", 1)])
)


def with_missing(labels, value, where=3):
    labels = pd.Series(labels).astype(object)
    labels[where] = value
    return labels


def C(**params):
    return SNNClassifier(**{**TINY, **params})


def R(**params):
    return SNNRegressor(**{**TINY, **params})


def with_value(array, value, where=(3, 1)):
    array = np.array(array, dtype=np.float64)
    array[where] = value
    return array


def proba(model, X_fit, y, X_test=None, **fit_params):
    """Fit, then return predict_proba (classifier) or predict (regressor)."""
    model.fit(X_fit, y, **fit_params)
    X_test = X_fit if X_test is None else X_test
    if hasattr(model, "predict_proba"):
        return model.predict_proba(X_test)
    return model.predict(X_test)


CASES = [
    # --- X values -----------------------------------------------------------------
    # A missing value is imputed, with an indicator column (see test_encoding).
    ("X_nan", lambda: proba(C(), with_value(X, np.nan), Y), OK),
    ("X_inf", lambda: proba(R(), with_value(X, np.inf), Y_REG), (ValueError, "inf")),
    ("X_neg_inf", lambda: proba(C(), with_value(X, -np.inf), Y), (ValueError, "inf")),
    ("X_nan_at_predict", lambda: proba(C(), X, Y, with_value(X, np.nan)), OK),
    ("X_1e30", lambda: proba(C(), np.where(X > 1, 1e30, X), Y), OK),
    ("X_1e300", lambda: proba(C(), np.where(X > 1, 1e300, X), Y), OK),
    ("X_1e300_at_predict_only", lambda: proba(R(), X, Y_REG, X * 1e300), OK),
    # Columns whose squares overflow float64 are standardized all the same.
    (
        "X_column_whose_variance_overflows",
        lambda: proba(R(), np.c_[X, np.linspace(-1e200, 1e200, 40)], Y_REG),
        OK,
    ),
    (
        "X_column_whose_variance_overflows_with_mean_0",
        lambda: proba(R(), np.c_[X, np.tile([-1e200, 1e200], 20)], Y_REG),
        OK,
    ),
    (
        "X_column_whose_deviations_overflow",
        lambda: proba(R(), np.c_[X, np.r_[np.full(39, -1.7e308), 1.7e308]], Y_REG),
        (ValueError, "too large to standardize"),
    ),
    (
        "X_float32_near_its_maximum",
        lambda: proba(R(), np.c_[X, NEAR_F32_MAX].astype(np.float32), Y_REG),
        OK,
    ),
    (
        "X_float32_near_its_maximum_classifier",
        lambda: proba(C(), np.c_[X, NEAR_F32_MAX].astype(np.float32), Y),
        OK,
    ),
    ("X_constant_column", lambda: proba(R(), np.c_[X, np.full(40, 7.0)], Y_REG), OK),
    ("X_constant_1e30_column", lambda: proba(C(), np.c_[X, np.full(40, 1e30)], Y), OK),
    ("X_all_columns_constant", lambda: proba(C(), np.ones((40, 3)), Y), OK),
    ("X_duplicate_columns", lambda: proba(C(), np.c_[X, X], Y), OK),
    # --- Labels -------------------------------------------------------------------
    (
        "y_nan_classifier",
        lambda: proba(C(), X, with_value(Y, np.nan, 3)),
        (ValueError, "NaN"),
    ),
    (
        "y_nan_regressor",
        lambda: proba(R(), X, with_value(Y_REG, np.nan, 3)),
        (ValueError, "NaN"),
    ),
    (
        "y_inf_regressor",
        lambda: proba(R(), X, with_value(Y_REG, np.inf, 3)),
        (ValueError, "inf"),
    ),
    ("y_huge_regressor", lambda: proba(R(), X, Y_REG * 1e200), OK),
    (
        "y_whose_deviations_overflow",
        lambda: proba(R(), X, np.r_[np.full(39, -1.7e308), 1.7e308]),
        (ValueError, "too large to standardize"),
    ),
    (
        "y_single_class",
        lambda: proba(C(), X, np.zeros(40)),
        (ValueError, "only one class"),
    ),
    (
        "y_continuous_to_classifier",
        lambda: proba(C(), X, Y_REG),
        (ValueError, "continuous"),
    ),
    (
        "y_mixed_types_object",
        lambda: proba(C(), X, np.array([1, "a"] * 20, dtype=object)),
        (ValueError, "mixes labels of different types"),
    ),
    (
        "y_mixed_with_none",
        lambda: proba(C(), X, np.array([1, None] * 20, dtype=object)),
        (ValueError, "mixes labels of different types"),
    ),
    (
        "y_strings_with_pd_NA",
        lambda: proba(C(), X, pd.Series(Y_STR, dtype="string").mask(EVERY_10TH)),
        (
            ValueError,
            r"y has missing labels: \d+ of its 40 labels are missing \(pd.NA\)",
        ),
    ),
    (
        "y_strings_with_None",
        lambda: proba(C(), X, with_missing(Y_STR, None)),
        (ValueError, r"1 of its 40 labels is missing \(None\).*remove the samples"),
    ),
    (
        "y_strings_with_nan",
        lambda: proba(C(), X, with_missing(Y_STR, np.nan).to_numpy()),
        (ValueError, r"1 of its 40 labels is missing \(NaN\).*fill in their labels"),
    ),
    (
        "y_categorical_with_nan",
        lambda: proba(C(), X, pd.Series(Y_STR, dtype="category").mask(EVERY_10TH)),
        (ValueError, r"y has missing labels: .* \(NaN\)"),
    ),
    (
        "y_nan_classifier_names_missing_labels",
        lambda: proba(C(), X, with_value(Y, np.nan, 3)),
        (ValueError, r"y has missing labels: 1 of its 40 labels is missing \(NaN\)"),
    ),
    (
        "y_nan_regressor_names_missing_targets",
        lambda: proba(R(), X, with_value(Y_REG, np.nan, 3)),
        (ValueError, r"y has missing targets: 1 of its 40 targets is missing \(NaN\)"),
    ),
    (
        "y_nullable_float_with_NA_regressor",
        lambda: proba(R(), X, pd.Series(Y_REG, dtype="Float64").mask(EVERY_10TH)),
        (ValueError, "y has missing targets"),
    ),
    (
        "y_2d_with_nan_regressor",
        lambda: proba(R(), X, np.c_[Y_REG, with_value(Y_REG, np.nan, 5)]),
        (ValueError, "1 of its 80 targets is missing"),
    ),
    # numpy turns a list of ints and strings into strings: the labels are '1', 'a'.
    ("y_mixed_types_list", lambda: proba(C(), X, [1, "a"] * 20), OK),
    ("y_strings", lambda: proba(C(), X, np.array(["no", "yes"])[Y]), OK),
    ("y_bool", lambda: proba(C(), X, Y.astype(bool)), OK),
    ("y_column_vector", lambda: proba(C(), X, Y[:, None]), OK),
    (
        "y_2d_to_classifier",
        lambda: proba(C(), X, np.c_[Y, Y]),
        (ValueError, "1d array"),
    ),
    (
        "y_wrong_length",
        lambda: proba(C(), X, Y[:5]),
        (ValueError, "inconsistent numbers"),
    ),
    (
        "y_text_to_regressor",
        lambda: proba(R(), X, np.array(["a", "b"])[Y]),
        (ValueError, "convert"),
    ),
    # score counts unseen labels as wrong predictions.
    ("y_unseen_at_score", lambda: np.array([C().fit(X, Y).score(X, Y + 5)]), OK),
    (
        "y_200_classes",
        lambda: proba(C(), _rng.normal(size=(1000, 5)), np.arange(1000) % 200),
        OK,
    ),
    # --- Shapes -------------------------------------------------------------------
    ("X_1d", lambda: proba(C(), X[:, 0], Y), (ValueError, "2D array")),
    ("X_3d", lambda: proba(C(), X[:, :, None], Y), (ValueError, "dim 3")),
    ("X_empty", lambda: proba(C(), X[:0], Y[:0]), (ValueError, "0 sample")),
    ("X_0_features", lambda: proba(C(), X[:, :0], Y), (ValueError, "0 feature")),
    (
        "one_sample_classifier",
        lambda: proba(C(), X[:1], Y[:1]),
        (ValueError, "only one class"),
    ),
    (
        "one_sample_early_stopping",
        lambda: proba(R(), X[:1], Y_REG[:1]),
        (ValueError, "early_stopping=False"),
    ),
    (
        "one_sample_no_early_stopping",
        lambda: proba(R(early_stopping=False), X[:1], Y_REG[:1], X),
        OK,
    ),
    (
        "two_samples_two_classes_early_stopping",
        lambda: proba(C(), X[:2], [0, 1], X),
        OK,
    ),
    ("batch_size_above_n_samples", lambda: proba(C(batch_size=1000), X, Y), OK),
    (
        "validation_fraction_leaves_no_sample",
        lambda: proba(C(validation_fraction=1e-9), X, Y),
        OK,
    ),
    (
        "validation_fraction_leaves_no_training",
        lambda: proba(R(validation_fraction=0.999), X, Y_REG),
        OK,
    ),
    ("python_lists", lambda: proba(C(), X.tolist(), Y.tolist(), X.tolist()), OK),
    ("predict_one_row", lambda: proba(C(), X, Y, X[:1]), OK),
    ("predict_empty", lambda: proba(C(), X, Y, X[:0]), (ValueError, "0 sample")),
    ("predict_1d_row", lambda: proba(C(), X, Y, X[0]), (ValueError, "2D array")),
    # --- Columns at predict time --------------------------------------------------
    (
        "predict_wrong_feature_count",
        lambda: proba(C(), X, Y, X[:, :2]),
        (ValueError, "3 features"),
    ),
    (
        "predict_columns_reordered",
        lambda: proba(C(), DF, Y, DF[["c", "b", "a"]]),
        (ValueError, "same order"),
    ),
    (
        "predict_columns_renamed",
        lambda: proba(C(), DF, Y, DF.rename(columns={"a": "z"})),
        (ValueError, "unseen at fit time"),
    ),
    (
        "predict_int_named_columns_reordered",
        lambda: proba(C(), DF_INT, Y, DF_INT[[2, 1, 0]]),
        (ValueError, "same order"),
    ),
    (
        "predict_int_named_columns_renamed",
        lambda: proba(C(), DF_INT, Y, DF_INT.rename(columns={0: 5})),
        (ValueError, "unseen at fit time"),
    ),
    (
        "predict_multiindex_columns_reordered",
        lambda: proba(C(), DF_MULTI, Y, DF_MULTI.iloc[:, [2, 1, 0]]),
        (ValueError, "same order"),
    ),
    (
        "predict_multiindex_columns_reversed_view",
        lambda: proba(C(), DF_MULTI, Y, DF_MULTI.iloc[:, ::-1]),
        (ValueError, "same order"),
    ),
    ("predict_int_named_columns", lambda: proba(C(), DF_INT, Y, DF_INT), OK),
    ("predict_multiindex_columns", lambda: proba(C(), DF_MULTI, Y, DF_MULTI), OK),
    # A view with negative strides, which torch cannot wrap without a copy.
    ("predict_columns_reversed_view", lambda: proba(C(), X, Y, X[:, ::-1]), OK),
    ("predict_ndarray_after_dataframe", lambda: proba(C(), DF, Y, X), OK),
    ("predict_dataframe_after_ndarray", lambda: proba(C(), X, Y, DF), OK),
    # --- Column and array types ---------------------------------------------------
    (
        "X_object_strings",
        lambda: proba(C(), np.array([["a", "b", "c"]] * 40, dtype=object), Y),
        (ValueError, "column 0 holds values that are not numbers.*categorical_feat"),
    ),
    # A string column of a DataFrame is categorical (see test_encoding).
    (
        "dataframe_with_string_column",
        lambda: proba(C(), DF.assign(d=["x"] * 40), Y),
        OK,
    ),
    (
        "dataframe_datetime_column_alone",
        lambda: proba(R(), pd.DataFrame({"t": DATES}), Y_REG),
        (ValueError, r"datetime or timedelta columns \('t'\).*seconds since an epoch"),
    ),
    (
        "dataframe_datetime_beside_floats",
        lambda: proba(R(), DF.assign(t=DATES), Y_REG),
        (ValueError, r"datetime or timedelta columns \('t'\)"),
    ),
    (
        "dataframe_tz_aware_datetime_column",
        lambda: proba(C(), DF.assign(t=DATES.tz_localize("UTC")), Y),
        (ValueError, r"datetime or timedelta columns \('t'\).*\.dt\.year"),
    ),
    (
        "dataframe_timedelta_columns",
        lambda: proba(R(), DF.assign(d=DATES - DATES[0], e=DATES - DATES[1]), Y_REG),
        (ValueError, r"columns \('d', 'e'\).*total_seconds"),
    ),
    (
        "dataframe_datetime_column_at_predict",
        lambda: proba(C(), DF.assign(t=0.0), Y, DF.assign(t=DATES)),
        (ValueError, r"datetime or timedelta columns \('t'\)"),
    ),
    (
        "X_numpy_datetime64",
        lambda: proba(R(), np.tile(DATES.to_numpy()[:, None], 2), Y_REG),
        (ValueError, r"numpy datetime64\[\w+\] array.*np\.timedelta64\(1, 's'\)"),
    ),
    (
        "X_numpy_timedelta64",
        lambda: proba(R(), np.arange(80).reshape(40, 2).astype("m8[s]"), Y_REG),
        (ValueError, r"numpy timedelta64\[s\] array"),
    ),
    ("X_numeric_strings", lambda: proba(C(), X.astype(str), Y, X), OK),
    ("X_bool", lambda: proba(C(), X > 0, Y), OK),
    (
        "dataframe_bool_and_int_columns",
        lambda: proba(C(), pd.DataFrame({"b": X[:, 0] > 0, "i": Y}), Y),
        OK,
    ),
    (
        "dataframe_nullable_float_with_NA",
        lambda: proba(C(), DF.astype("Float64").mask(DF > 1.5), Y),
        OK,
    ),
    (
        "X_sparse_csr",
        lambda: proba(C(), sp.csr_matrix(X), Y),
        (TypeError, r"Sparse data.*toarray"),
    ),
    (
        "X_sparse_csc",
        lambda: proba(C(), sp.csc_matrix(X), Y),
        (TypeError, r"Sparse data.*toarray"),
    ),
    (
        "predict_sparse",
        lambda: proba(C(), X, Y, sp.csr_matrix(X)),
        (TypeError, "Sparse data"),
    ),
    (
        "X_fortran_order",
        lambda: proba(C(), np.asfortranarray(X), Y, np.asfortranarray(X)),
        OK,
    ),
    (
        "X_float16",
        lambda: proba(C(), X.astype(np.float16), Y, X.astype(np.float16)),
        OK,
    ),
    ("X_float32", lambda: proba(R(), X.astype(np.float32), Y_REG), OK),
    ("X_int64", lambda: proba(C(), (10 * X).astype(np.int64), Y), OK),
    ("X_uint8", lambda: proba(R(), (X > 0).astype(np.uint8), Y_REG), OK),
    (
        "X_complex",
        lambda: proba(C(), X.astype(complex), Y),
        (ValueError, "Complex data"),
    ),
    # --- Parameters ---------------------------------------------------------------
    ("max_iter_0", lambda: proba(C(max_iter=0), X, Y), (ValueError, "max_iter")),
    ("alpha_negative", lambda: proba(C(alpha=-1.0), X, Y), (ValueError, "alpha")),
    (
        "learning_rate_nan",
        lambda: proba(C(learning_rate_init=np.nan), X, Y),
        (ValueError, "learning_rate_init"),
    ),
    ("tol_nan", lambda: proba(R(tol=np.nan), X, Y_REG), (ValueError, "tol")),
    (
        "batch_size_negative",
        lambda: proba(C(batch_size=-5), X, Y),
        (ValueError, "batch_size"),
    ),
    ("dropout_1", lambda: proba(C(dropout=1.0), X, Y), (ValueError, "dropout")),
    (
        "validation_fraction_0",
        lambda: proba(C(validation_fraction=0.0), X, Y),
        (ValueError, "validation_fraction"),
    ),
    (
        "hidden_layer_sizes_empty",
        lambda: proba(C(hidden_layer_sizes=()), X, Y),
        (ValueError, "hidden_layer_sizes"),
    ),
    (
        "hidden_layer_sizes_zero",
        lambda: proba(C(hidden_layer_sizes=(0,)), X, Y),
        (ValueError, "hidden_layer_sizes"),
    ),
    (
        "unknown_hyperparameter",
        lambda: C(no_such_param=1),
        (TypeError, "unexpected keyword argument 'no_such_param'"),
    ),
    (
        "unknown_hyperparameter_set_params",
        lambda: C().set_params(no_such_param=1),
        (ValueError, "Invalid parameter 'no_such_param'"),
    ),
    (
        "unknown_device",
        lambda: proba(C(device="tpu"), X, Y),
        (ValueError, "not a torch device"),
    ),
    (
        "unavailable_device",
        lambda: proba(C(device="cuda:99"), X, Y),
        (ValueError, "not available"),
    ),
    (
        "class_weight_keyed_by_string_labels",
        lambda: proba(C(class_weight={"1": 5, "2": 1}), X, Y_STR),
        OK,
    ),
    (
        "class_weight_int_keys_for_string_labels",
        lambda: proba(C(class_weight={1: 5, 2: 1}), X, Y_STR),
        (
            ValueError,
            r"keys that are not classes of y: 1, 2\. The classes are \['1', '2'\]",
        ),
    ),
    (
        "class_weight_key_that_is_no_class",
        lambda: proba(C(class_weight={0: 5, 7: 1}), X, Y),
        (ValueError, r"not classes of y: 7\. The classes are \[0, 1\]"),
    ),
    (
        "class_weight_negative",
        lambda: proba(C(class_weight={0: -1.0}), X, Y),
        (ValueError, r"class_weight\[0\] is -1\.0; .* >= 0"),
    ),
    (
        "class_weight_nan",
        lambda: proba(C(class_weight={1: np.nan}), X, Y),
        (ValueError, "finite numbers"),
    ),
    (
        "class_weight_all_zero",
        lambda: proba(C(class_weight={0: 0, 1: 0}), X, Y),
        (ValueError, "weigh every sample zero"),
    ),
    # --- sample_weight ------------------------------------------------------------
    (
        "sample_weight_wrong_length",
        lambda: proba(C(), X, Y, sample_weight=np.ones(3)),
        (ValueError, "sample_weight has shape"),
    ),
    (
        "sample_weight_negative",
        lambda: proba(C(), X, Y, sample_weight=-np.ones(40)),
        (ValueError, "negative"),
    ),
    (
        "sample_weight_all_zero",
        lambda: proba(C(), X, Y, sample_weight=np.zeros(40)),
        (ValueError, "zero for every sample"),
    ),
    (
        "sample_weight_nan",
        lambda: proba(R(), X, Y_REG, sample_weight=with_value(np.ones(40), np.nan, 2)),
        (ValueError, "NaN"),
    ),
    (
        "sample_weight_huge",
        lambda: proba(C(), X, Y, sample_weight=np.full(40, 1e308)),
        OK,
    ),
    (
        "sample_weight_subnormal",
        lambda: proba(R(), X, Y_REG, sample_weight=np.full(40, 1e-320)),
        OK,
    ),
    # --- Order --------------------------------------------------------------------
    ("predict_before_fit", lambda: C().predict(X), (NotFittedError, "not fitted")),
    (
        "predict_proba_before_fit",
        lambda: C().predict_proba(X),
        (NotFittedError, "not fitted"),
    ),
    ("score_before_fit", lambda: R().score(X, Y_REG), (NotFittedError, "not fitted")),
]


def test_the_matrix_has_at_least_35_distinct_rows():
    ids = [case_id for case_id, _, _ in CASES]
    assert len(ids) == len(set(ids)) >= 35


@pytest.mark.parametrize(
    ("action", "expected"),
    [pytest.param(action, expected, id=case_id) for case_id, action, expected in CASES],
)
def test_input_matrix(action, expected):
    if expected == OK:
        output = np.asarray(action())
        assert output.shape[0] > 0
        assert np.isfinite(output.astype(np.float64)).all()
    else:
        error, message = expected
        assert issubclass(error, (ValueError, TypeError))
        with pytest.raises(error, match=message):
            action()


def test_200_classes_give_one_probability_column_each():
    X_many = _rng.normal(size=(1000, 5))
    clf = C().fit(X_many, np.arange(1000) % 200)
    assert clf.predict_proba(X_many[:7]).shape == (7, 200)


def test_mixed_list_labels_become_strings():
    clf = C().fit(X, [1, "a"] * 20)
    assert set(clf.predict(X)) <= {"1", "a"}


def test_float32_near_its_maximum_fits_like_float64():
    X32 = np.c_[X, NEAR_F32_MAX].astype(np.float32)
    X64 = X32.astype(np.float64)
    as_float32 = R().fit(X32, Y_REG)
    np.testing.assert_array_equal(
        as_float32.predict(X32), R().fit(X64, Y_REG).predict(X64)
    )


def test_class_weight_keyed_by_string_labels_shifts_predictions():
    rng = np.random.default_rng(0)
    X_cw = rng.normal(size=(300, 2))
    y = np.where(X_cw[:, 0] + 0.8 * rng.normal(size=300) > 0.8, "1", "2")
    params = {"early_stopping": False, "max_iter": 30}
    plain = C(**params).fit(X_cw, y)
    heavy = C(**params, class_weight={"1": 10.0}).fit(X_cw, y)
    assert (heavy.predict(X_cw) == "1").sum() > (plain.predict(X_cw) == "1").sum()


@pytest.mark.parametrize(
    "columns", [DF_INT, DF_MULTI], ids=["int_names", "multiindex_names"]
)
def test_non_string_column_names_are_recorded_as_strings(columns):
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = C().fit(columns, Y)
        clf.predict(columns)
    np.testing.assert_array_equal(clf.feature_names_in_, columns.columns.map(str))
    assert clf.feature_names_in_.dtype == object
    # The frame that the caller passed keeps its own column names.
    assert not any(isinstance(name, str) for name in columns.columns)


def test_int_column_names_are_checked_after_save_and_load(tmp_path):
    from sklearn_snn import load, save

    save(C().fit(DF_INT, Y), tmp_path / "model.zip")
    with pytest.raises(ValueError, match="same order"):
        load(tmp_path / "model.zip").predict(DF_INT[[1, 0, 2]])


def test_y_with_another_index_than_X_warns_and_is_used_by_position():
    X_df = DF.set_axis(np.arange(40) + 100)
    with pytest.warns(UserWarning, match="index of y differs") as record:
        shifted = C().fit(X_df, pd.Series(Y))
    message = str(record[0].message)
    assert "used by position" in message
    assert "y.reindex(X.index)" in message
    assert ".reset_index(drop=True)" in message
    assert record[0].filename == __file__
    np.testing.assert_array_equal(
        shifted.predict_proba(X_df), C().fit(X_df, Y).predict_proba(X_df)
    )


def test_sample_weight_with_another_index_than_X_warns():
    weights = pd.Series(np.ones(40), index=np.arange(40)[::-1])
    with pytest.warns(UserWarning, match="index of sample_weight differs"):
        C().fit(DF, Y, sample_weight=weights)


def test_y_indexed_like_X_does_not_warn():
    from sklearn.model_selection import train_test_split

    X_train, _, y_train, _ = train_test_split(DF, pd.Series(Y), random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        C().fit(X_train, y_train)
        R().fit(X_train, pd.DataFrame({"a": Y_REG, "b": Y_REG}).loc[X_train.index])


@pytest.fixture
def torch_warns_on_every_read_only_array(monkeypatch):
    """Make ``torch.as_tensor`` warn on every read-only array, not only once.

    torch warns about a read-only array once per process, so a test that
    relied on its warning would pass after any earlier test had set it off.
    """
    import torch

    as_tensor = torch.as_tensor

    def as_tensor_that_warns(data, *args, **kwargs):
        if isinstance(data, np.ndarray) and not data.flags.writeable:
            warnings.warn(
                "The given NumPy array is not writable", UserWarning, stacklevel=2
            )
        return as_tensor(data, *args, **kwargs)

    monkeypatch.setattr(torch, "as_tensor", as_tensor_that_warns)


@pytest.mark.usefixtures("torch_warns_on_every_read_only_array")
@pytest.mark.parametrize("Estimator", [C, R])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_predicting_on_a_dataframe_emits_no_warning(Estimator, dtype):
    frame = DF.astype(dtype)
    model = Estimator().fit(frame, Y if Estimator is C else Y_REG)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.predict(frame)
        if Estimator is C:
            model.predict_proba(frame)


# --- Property-based ----------------------------------------------------------------

_DTYPES = [np.float64, np.float32, np.float16, np.int64, np.int8, np.uint8, np.bool_]
_EXTREMES = [np.nan, np.inf, -np.inf, 1e300, -1e300, 1e30, 5e-324, 0.0, -0.0]


@st.composite
def _inputs(draw):
    n_samples = draw(st.integers(1, 25))
    n_features = draw(st.integers(0, 4))
    dtype = np.dtype(draw(st.sampled_from(_DTYPES)))
    if dtype.kind == "f":
        info = np.finfo(dtype)
        extremes = [
            v for v in _EXTREMES if not np.isfinite(v) or abs(v) <= float(info.max)
        ]
        extremes += [float(info.max), -float(info.max), float(info.smallest_subnormal)]
        if not draw(st.booleans()):  # half the draws are finite, to exercise fit
            extremes = [v for v in extremes if np.isfinite(v)]
        elements = st.one_of(
            st.floats(-1e4, 1e4, width=8 * dtype.itemsize),
            st.sampled_from([float(dtype.type(v)) for v in extremes]),
        )
    else:
        elements = None
    X = draw(hnp.arrays(dtype, (n_samples, n_features), elements=elements))
    return X


def _fit_predict_or_refuse(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            model.fit(X, y)
        except (ValueError, TypeError):
            return None
        if hasattr(model, "predict_proba"):
            output = model.predict_proba(X)
            assert output.shape == (X.shape[0], len(model.classes_))
        else:
            output = model.predict(X)
            assert output.shape == (X.shape[0],)
    assert np.isfinite(output).all()
    return output


_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@_SETTINGS
@given(X=_inputs(), data=st.data())
def test_classifier_fits_and_predicts_finite_or_refuses(X, data):
    y = data.draw(hnp.arrays(np.int64, X.shape[0], elements=st.integers(0, 3)))
    early_stopping = data.draw(st.booleans())
    _fit_predict_or_refuse(C(early_stopping=early_stopping), X, y)


@_SETTINGS
@given(X=_inputs(), data=st.data())
def test_regressor_fits_and_predicts_finite_or_refuses(X, data):
    y = data.draw(
        hnp.arrays(
            np.float64,
            X.shape[0],
            elements=st.one_of(st.floats(-1e6, 1e6), st.sampled_from(_EXTREMES)),
        )
    )
    early_stopping = data.draw(st.booleans())
    _fit_predict_or_refuse(R(early_stopping=early_stopping), X, y)
