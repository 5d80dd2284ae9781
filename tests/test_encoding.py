"""Categorical columns and missing values: how tables reach the network."""

import pickle
import warnings

import numpy as np
import pandas as pd
import polars as pl
import pytest
from palmerpenguins import load_penguins
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_val_score

from sklearn_snn import SNNClassifier, SNNRegressor, _defaults, load, save
from sklearn_snn._columns import Table
from sklearn_snn._encoding import fit_encoding

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

TINY = {"hidden_layer_sizes": (8,), "max_iter": 3, "random_state": 0, "device": "cpu"}
N = 300


def _table(rng, n=N):
    """Numbers with gaps, a few-level string column, a wide one and booleans."""
    frame = pd.DataFrame(
        {
            "num": rng.normal(size=n),
            "color": rng.choice(["red", "green", "blue"], n),
            "city": [f"city{i % 20}" for i in range(n)],
            "flag": rng.random(n) > 0.5,
            "count": pd.array(rng.integers(0, 5, n), dtype="Int64"),
        }
    )
    frame.loc[::9, "num"] = np.nan
    frame.loc[::13, "color"] = None
    frame.loc[::7, "count"] = pd.NA
    return frame


def _target(frame):
    """True for red XOR positive ``num``, and wherever ``num`` or ``count`` is
    missing: missingness that tells the label, so both keep an indicator."""
    missing = frame["num"].isna() | frame["count"].isna()
    red_or_positive = (frame["color"] == "red") ^ (frame["num"].fillna(0) > 0)
    return (red_or_positive | missing).to_numpy()


def _encoding(X, categorical_features="auto"):
    table = Table(X)
    names = np.asarray(X.columns, dtype=object) if hasattr(X, "columns") else None
    return fit_encoding(table, categorical_features, names), table


# --- Which columns are categorical ------------------------------------------------


def test_auto_takes_string_category_and_bool_columns(rng):
    frame = _table(rng).assign(
        cat=lambda f: f["color"].astype("category"),
        nullable_bool=lambda f: pd.array(f["flag"], dtype="boolean"),
        arrow=lambda f: f["color"].astype("string[pyarrow]"),
    )
    clf = SNNClassifier(**TINY).fit(frame, _target(frame))
    categorical = dict(zip(frame.columns, clf.is_categorical_, strict=True))
    assert categorical == {
        "num": False,
        "color": True,
        "city": True,
        "flag": True,
        "count": False,
        "cat": True,
        "nullable_bool": True,
        "arrow": True,
    }
    assert clf.categorical_levels_["color"] == ["blue", "green", "red", None]
    assert clf.categorical_levels_["flag"] == [False, True]


@pytest.mark.parametrize(
    "given", [[1], ["color"], [False, True, False, False, False], np.array([-4])]
)
def test_categorical_features_by_index_name_or_mask(rng, given):
    frame = _table(rng).drop(columns="city").assign(city=0.0)
    clf = SNNClassifier(categorical_features=given, **TINY).fit(frame, _target(frame))
    assert clf.is_categorical_.tolist() == [False, True, False, False, False]


def test_categorical_features_none_refuses_strings_and_says_what_to_do(rng):
    frame = _table(rng)
    with pytest.raises(ValueError, match="'color' holds values that are not numbers"):
        SNNClassifier(categorical_features=None, **TINY).fit(frame, _target(frame))


def test_numeric_array_columns_can_be_categorical(rng):
    X = np.c_[rng.normal(size=N), rng.integers(0, 4, N)]
    clf = SNNClassifier(categorical_features=[1], **TINY).fit(X, X[:, 1] > 1)
    assert clf.categorical_levels_ == {"x1": [0.0, 1.0, 2.0, 3.0]}
    # The first column, then the second's four one-hot levels.
    assert clf.net_.module_.spec.n_features == 1 + 4


def test_many_numbered_levels_are_a_numeric_column(rng):
    frame = pd.DataFrame(
        {"age": np.arange(N) % 30 + 20, "grade": rng.integers(0, 4, N)}
    ).astype("category")
    clf = SNNClassifier(**TINY).fit(frame, frame["grade"].to_numpy() > 1)
    assert list(clf.categorical_levels_) == ["grade"]
    assert clf.is_categorical_.tolist() == [False, True]
    # age's values, then grade's four one-hot levels; nothing embedded.
    assert clf.net_.module_.spec.n_features == 1 + 4
    assert clf.net_.module_.spec.embeddings == ()
    np.testing.assert_array_equal(clf._validate_X_predict(frame)[:, 0], frame["age"])


def test_two_numbered_levels_are_a_numeric_column(rng):
    x = rng.normal(size=N)
    frame = pd.DataFrame(
        {
            "x": x,
            "flag": pd.Series(rng.integers(0, 2, N)).astype("category"),
            "label": pd.Series(rng.choice(["no", "yes"], N)).astype("category"),
        }
    )
    clf = SNNClassifier(**TINY).fit(frame, x > 0)
    # flag's 0/1 is a number, as in a float array; label's strings are one-hot.
    assert clf.is_categorical_.tolist() == [False, False, True]
    assert list(clf.categorical_levels_) == ["label"]
    np.testing.assert_array_equal(clf._validate_X_predict(frame)[:, 1], frame["flag"])
    assert clf.net_.module_.spec.periodic_features == 2


def test_rare_numeric_levels_keep_their_numeric_column_without_a_warning(rng):
    frame = pd.DataFrame({"x": rng.normal(size=N), "level": rng.normal(size=N)})
    frame["level"] = frame["level"].round(3).astype("category")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf = SNNRegressor(**TINY).fit(frame, rng.normal(size=N))
    assert not [w for w in caught if w.category is UserWarning]
    assert clf.categorical_levels_ == {}
    assert clf.net_.module_.spec.n_features == 2


def test_string_array_without_categorical_features_names_the_way_out():
    X = np.array([["a", "1.5"], ["b", "2"]] * 20, dtype=object)
    with pytest.raises(
        ValueError, match=r"column 0 holds values.*categorical_features"
    ):
        SNNClassifier(**TINY).fit(X, np.arange(40) % 2)


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (["nope"], r"names columns that X does not have: 'nope'"),
        ([7], r"indices \[7\] outside the 5 columns"),
        ([True, False], "boolean mask of 2 values, but X has 5 columns"),
        ([1.5], "must hold column indices"),
    ],
)
def test_bad_categorical_features_are_refused(rng, given, message):
    frame = _table(rng)
    with pytest.raises(ValueError, match=message):
        SNNClassifier(categorical_features=given, **TINY).fit(frame, _target(frame))


def test_column_names_need_a_dataframe(rng):
    with pytest.raises(ValueError, match="X has no column names"):
        SNNClassifier(categorical_features=["a"], **TINY).fit(
            rng.normal(size=(N, 2)), np.arange(N) % 2
        )


def test_a_column_of_mixed_python_objects_is_refused_by_name():
    frame = pd.DataFrame({"mixed": [1, "a"] * 20, "x": np.arange(40.0)})
    with pytest.raises(ValueError, match="'mixed' is categorical but mixes number"):
        SNNClassifier(**TINY).fit(frame, np.arange(40) % 2)
    frame = pd.DataFrame({"odd": [(1, 2), "a"] * 20, "x": np.arange(40.0)})
    with pytest.raises(ValueError, match="'odd' is categorical but holds a tuple"):
        SNNClassifier(**TINY).fit(frame, np.arange(40) % 2)


def test_datetime_columns_are_still_refused_with_the_way_out(rng):
    frame = _table(rng).assign(t=pd.date_range("2020-01-01", periods=N))
    with pytest.raises(ValueError, match=r"datetime or timedelta columns \('t'\)"):
        SNNClassifier(**TINY).fit(frame, _target(frame))


# --- Levels: rare, unknown, missing -------------------------------------------------


def test_rare_levels_merge_and_unknown_levels_predict_like_them(rng):
    frame = pd.DataFrame({"x": rng.normal(size=N), "c": ["a", "b"] * (N // 2)})
    frame.loc[:3, "c"] = "rare"  # 4 rows, under MIN_LEVEL_COUNT
    clf = SNNClassifier(**TINY).fit(frame, frame["x"] > 0)
    assert clf.categorical_levels_["c"] == ["a", "b"]
    rare = frame.head(20).assign(c="rare")
    unknown = frame.head(20).assign(c="never seen")
    np.testing.assert_array_equal(clf.predict_proba(rare), clf.predict_proba(unknown))


def test_missing_is_a_level_of_its_own_and_new_missing_values_predict(rng):
    frame = _table(rng)
    clf = SNNClassifier(**TINY).fit(frame, _target(frame))
    assert clf.categorical_levels_["color"][-1] is None
    assert None not in clf.categorical_levels_["city"]
    test = frame.head(10).assign(city=None, flag=pd.NA)
    assert np.isfinite(clf.predict_proba(test)).all()


def test_categorical_column_in_category_dtype_with_unseen_categories(rng):
    frame = _table(rng).assign(color=lambda f: f["color"].astype("category"))
    clf = SNNClassifier(**TINY).fit(frame, _target(frame))
    test = frame.head(5).assign(
        color=pd.Categorical(["purple"] * 5, categories=["purple", "red"])
    )
    assert clf.predict_proba(test).shape == (5, 2)


def test_an_identifier_column_is_dropped_with_a_warning(rng):
    frame = _table(rng).assign(phone=[f"555-{i:04d}" for i in range(N)])
    with pytest.warns(UserWarning, match="'phone' has 300 distinct values.*identifier"):
        clf = SNNClassifier(**TINY).fit(frame, _target(frame))
    assert "phone" not in clf.categorical_levels_
    assert clf.predict(frame.head(3)).shape == (3,)


def test_few_levels_are_one_hot_and_many_are_embedded(rng):
    frame = _table(rng)
    clf = SNNClassifier(**TINY).fit(frame, _target(frame))
    spec = clf.net_.module_.spec
    # city: 20 levels and the rare code, over MAX_ONE_HOT_LEVELS: embedded.
    assert spec.embeddings == (21,)
    # num, count, their 2 indicators, color (4 levels: 4 columns), flag (1), city.
    assert spec.n_features == 2 + 2 + 4 + 1 + 1
    assert clf.scaler_.mean_.shape == (9,)


def test_periodic_embedding_takes_the_numeric_columns_only(rng, tmp_path):
    frame = _table(rng)
    clf = SNNClassifier(**TINY, numerical_embedding="periodic").fit(
        frame, _target(frame)
    )
    spec = clf.net_.module_.spec
    # num and count; not their indicators, the one-hot columns or city.
    assert spec.periodic_features == 2
    assert spec.n_first_layer_inputs == 10 - 1 + 2 * spec.periodic_dim + 8
    save(clf, tmp_path / "m.snn")
    loaded = load(tmp_path / "m.snn")
    np.testing.assert_array_equal(loaded.predict_proba(frame), clf.predict_proba(frame))


def test_one_hot_and_indicator_inputs_stay_near_unit_scale(rng):
    frame = pd.DataFrame(
        {
            "x": np.where(np.arange(2000) < 5, np.nan, rng.normal(size=2000)),
            "c": rng.choice(["a", "b", "c"], 2000, p=[0.01, 0.09, 0.9]),
        }
    )
    clf = SNNClassifier(**TINY).fit(frame, rng.random(2000) > 0.5)
    encoded = clf._standardize(clf._validate_X_predict(frame))
    assert abs(encoded.mean(axis=0)).max() < 1e-5
    # The indicator (5 rows in 2000) and level 'a' would standardize to 20 and 10.
    indicators = encoded[:, 1:]
    assert abs(indicators).max() <= _defaults.MAX_INDICATOR_STANDARDIZED + 1e-6
    assert encoded[:, 0].var() == pytest.approx(1.0, abs=0.01)


def test_a_huge_column_is_encoded_as_codes_not_a_dense_one_hot_matrix():
    # 100,000 levels over 1,000,000 rows, 10 rows each: every level is kept.
    n_rows, n_levels = 1_000_000, 100_000
    levels = np.array([f"L{i}" for i in range(n_levels)], dtype=object)
    column = levels[np.arange(n_rows) % n_levels]
    frame = pd.DataFrame({"c": column, "x": np.zeros(n_rows)})
    encoding, table = _encoding(frame)
    encoded = encoding.encode(table)
    assert encoded.shape == (n_rows, 2)
    assert encoding.embeddings == (n_levels + 1,)


# --- Missing numeric values ---------------------------------------------------------


def test_informative_missing_values_are_imputed_with_an_indicator(rng):
    X = rng.normal(size=(N, 3))
    X[::5, 1] = np.nan
    # The label is more often True where the value is missing.
    y = (X[:, 0] > 0) | np.isnan(X[:, 1])
    clf = SNNClassifier(**TINY).fit(X, y)
    assert clf._table_encoding.indicated == [1]
    assert clf.net_.module_.spec.n_features == 4
    encoded = clf._standardize(clf._validate_X_predict(X))
    # Nothing predicts the column: it is imputed near its mean, 0.
    assert np.abs(encoded[::5, 1]).max() < 0.1
    # The indicator is the encoded column after the three numeric ones.
    assert (encoded[::5, 3] > 0).all()
    assert (np.delete(encoded[:, 3], slice(0, N, 5)) < 0).all()


@pytest.mark.parametrize("Estimator", [SNNClassifier, SNNRegressor])
def test_values_missing_at_random_are_imputed_without_an_indicator(rng, Estimator):
    X = rng.normal(size=(1000, 3))
    X[rng.random(1000) < 0.2, 1] = np.nan
    y = X[:, 0] > 0
    model = Estimator(**TINY).fit(X, y)
    encoding = model._table_encoding
    assert (encoding.incomplete, encoding.indicated) == ([1], [])
    assert model.net_.module_.spec.n_features == 3
    np.testing.assert_array_equal(model.imputer_.columns, [1])
    assert np.isfinite(model._standardize(model._validate_X_predict(X))).all()


@pytest.mark.parametrize("Estimator", [SNNClassifier, SNNRegressor])
def test_the_network_learns_a_target_told_by_missingness_alone(rng, Estimator):
    X = rng.normal(size=(600, 2))
    missing = rng.random(600) < 0.5
    X[missing, 1] = np.nan
    model = Estimator(random_state=0, device="cpu").fit(X, missing)
    assert model._table_encoding.indicated == [1]
    assert model.score(X, missing) > 0.95


def test_rows_of_zero_weight_do_not_decide_an_indicator(rng):
    # Missingness tells the label only in the rows that weigh nothing.
    X = rng.normal(size=(1000, 2))
    y = X[:, 0] > 0
    weight = np.r_[np.ones(500), np.zeros(500)]
    X[:500][rng.random(500) < 0.2, 1] = np.nan
    X[500:][y[500:], 1] = np.nan
    unweighted = SNNClassifier(**TINY).fit(X, y)
    weighted = SNNClassifier(**TINY).fit(X, y, sample_weight=weight)
    assert unweighted._table_encoding.indicated == [1]
    assert weighted._table_encoding.indicated == []


def test_an_indicator_of_any_one_regression_output_is_kept(rng):
    X = rng.normal(size=(600, 2))
    missing = rng.random(600) < 0.3
    X[missing, 1] = np.nan
    y = np.column_stack([rng.normal(size=600), missing + 0.1 * rng.normal(size=600)])
    reg = SNNRegressor(**TINY).fit(X, y)
    assert reg._table_encoding.indicated == [1]


def test_values_missing_only_at_predict_time_are_imputed(rng):
    X = rng.normal(size=(N, 3))
    clf = SNNClassifier(**TINY).fit(X, X[:, 0] > 0)
    X_test = X[:10].copy()
    X_test[:, 2] = np.nan
    proba = clf.predict_proba(X_test)
    X_mean = X[:10].copy()
    X_mean[:, 2] = clf.scaler_.mean_[2]
    np.testing.assert_allclose(proba, clf.predict_proba(X_mean), atol=1e-6)


@pytest.mark.parametrize("missing", [np.nan, None, pd.NA])
def test_none_nan_and_pd_na_are_all_missing(rng, missing):
    frame = pd.DataFrame({"a": rng.normal(size=N), "b": rng.normal(size=N)})
    # Object columns are categorical for 'auto': None marks numbers missing
    # in an object column that categorical_features=None takes for numeric.
    frame = frame.astype(object) if missing is None else frame.astype("Float64")
    frame.loc[::4, "b"] = missing
    clf = SNNRegressor(categorical_features=None, **TINY).fit(frame, rng.normal(size=N))
    # Missing at random: imputed, without an indicator.
    assert clf._table_encoding.incomplete == [1]
    assert clf.net_.module_.spec.n_features == 2


def test_an_entirely_missing_column_is_dropped_with_a_warning(rng):
    frame = pd.DataFrame({"a": rng.normal(size=N), "gone": np.nan, "cat": None})
    frame["cat"] = frame["cat"].astype(object)
    with pytest.warns(UserWarning, match="'gone' is missing in every training row"):
        clf = SNNClassifier(**TINY).fit(frame, frame["a"] > 0)
    assert clf.net_.module_.spec.n_features == 1
    assert clf.predict(frame.assign(gone=1.0).head(3)).shape == (3,)


def test_every_column_dropped_is_an_error(rng):
    frame = pd.DataFrame({"gone": np.full(N, np.nan)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with pytest.raises(ValueError, match="Every column of X was dropped"):
            SNNClassifier(**TINY).fit(frame, np.arange(N) % 2)


def test_infinity_is_refused_by_column_at_fit_and_predict(rng):
    frame = pd.DataFrame({"a": rng.normal(size=N), "b": rng.normal(size=N)})
    bad = frame.assign(b=np.where(np.arange(N) == 3, np.inf, frame["b"]))
    y = rng.normal(size=N)
    with pytest.raises(ValueError, match="X contains infinity in column 'b'"):
        SNNRegressor(**TINY).fit(bad, y)
    reg = SNNRegressor(**TINY).fit(frame, y)
    with pytest.raises(ValueError, match="X contains infinity in column 'b'"):
        reg.predict(bad)


def test_polars_frames_with_categories_strings_and_nulls(rng):
    frame = _table(rng)
    polars = pl.DataFrame(
        {
            "num": frame["num"].to_numpy(),
            "color": pl.Series(
                [None if pd.isna(v) else v for v in frame["color"]],
                dtype=pl.Categorical,
            ),
            "city": frame["city"].tolist(),
            "flag": frame["flag"].tolist(),
            "count": frame["count"].astype("float64").tolist(),
        }
    )
    y = _target(frame)
    clf = SNNClassifier(**TINY).fit(polars, y)
    reference = SNNClassifier(**TINY).fit(frame, y)
    assert clf.is_categorical_.tolist() == reference.is_categorical_.tolist()
    assert clf.categorical_levels_ == reference.categorical_levels_
    np.testing.assert_allclose(
        clf.predict_proba(polars), reference.predict_proba(frame), atol=1e-6
    )
    assert list(clf.feature_names_in_) == list(frame.columns)


# --- The estimator around it ---------------------------------------------------------


def test_clone_pickle_grid_search_and_cross_validation_on_a_table(rng):
    frame = _table(rng)
    y = _target(frame)
    clf = SNNClassifier(**TINY).fit(frame, y)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(
        restored.predict_proba(frame), clf.predict_proba(frame)
    )
    assert clone(clf).get_params() == clf.get_params()
    search = GridSearchCV(SNNClassifier(**TINY), {"dropout": [0.0, 0.05]}, cv=2)
    assert search.fit(frame, y).best_estimator_.is_categorical_.sum() == 3
    assert cross_val_score(SNNClassifier(**TINY), frame, y, cv=2).shape == (2,)


def test_warm_start_and_partial_fit_keep_the_first_encoding(rng):
    frame = _table(rng)
    y = _target(frame)
    clf = SNNClassifier(warm_start=True, **TINY).fit(frame, y)
    levels = clf.categorical_levels_
    clf.fit(frame.assign(color="red"), y)
    assert clf.categorical_levels_ == levels
    online = SNNClassifier(**TINY)
    online.partial_fit(frame, y, classes=[False, True]).partial_fit(
        frame.head(50), y[:50]
    )
    assert online.categorical_levels_ == levels


def test_penguins_as_they_come():
    penguins = load_penguins()
    X, y = penguins.drop(columns="species"), penguins["species"]
    clf = SNNClassifier(
        hidden_layer_sizes=(32, 32),
        learning_rate_init=0.01,
        max_iter=100,
        random_state=0,
        device="cpu",
    ).fit(X, y)
    assert X.isna().any().any()
    assert clf.is_categorical_.tolist() == [
        True,
        False,
        False,
        False,
        False,
        True,
        False,
    ]
    assert clf.score(X, y) > 0.9
