"""Validation data (``X_val``, ``y_val``) and early stopping on ``scoring``."""

import numpy as np
import pytest
from sklearn import config_context
from sklearn.metrics import get_scorer, make_scorer, mean_absolute_error
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_snn import SNNClassifier, SNNRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SMALL = {
    "hidden_layer_sizes": (16,),
    "max_iter": 8,
    "n_iter_no_change": 2,
    "random_state": 0,
    "device": "cpu",
}


def _split(X, y):
    return X[:150], y[:150], X[150:], y[150:]


def test_x_val_replaces_the_internal_split(classification_data):
    X, y, X_val, y_val = _split(*classification_data)
    clf = SNNClassifier(batch_size=10, **SMALL).fit(X, y, X_val=X_val, y_val=y_val)
    # Every row of X trains: 15 batches, where the internal split leaves 14.
    assert clf.net_.history[-1, "train_batch_count"] == 15
    best = clf.best_validation_score_
    assert best == pytest.approx(clf.score(X_val, y_val), abs=1e-6)


def test_sample_weight_val_weighs_the_validation_score(classification_data):
    X, y, X_val, y_val = _split(*classification_data)
    weight = np.where(y_val == 0, 1.0, 0.0)
    clf = SNNClassifier(**SMALL).fit(
        X, y, X_val=X_val, y_val=y_val, sample_weight_val=weight
    )
    expected = clf.score(X_val, y_val, sample_weight=weight)
    assert clf.best_validation_score_ == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(
    ("fit_params", "message"),
    [
        ({"X_val": "X"}, "X_val and y_val must be passed together"),
        ({"y_val": "y"}, "X_val and y_val must be passed together"),
        ({"sample_weight_val": "w"}, "sample_weight_val is given without X_val"),
    ],
)
def test_validation_data_must_come_whole(classification_data, fit_params, message):
    X, y = classification_data
    values = {"X": X, "y": y, "w": np.ones(len(y))}
    params = {name: values[value] for name, value in fit_params.items()}
    with pytest.raises(ValueError, match=message):
        SNNClassifier(**SMALL).fit(X, y, **params)


def test_x_val_without_early_stopping_is_refused(classification_data):
    X, y, X_val, y_val = _split(*classification_data)
    with pytest.raises(ValueError, match="early_stopping=False uses no validation"):
        SNNClassifier(early_stopping=False, **SMALL).fit(X, y, X_val=X_val, y_val=y_val)


def test_x_val_with_other_columns_is_refused(classification_data):
    X, y, X_val, y_val = _split(*classification_data)
    with pytest.raises(ValueError, match="X has 5 features, but SNNClassifier"):
        SNNClassifier(**SMALL).fit(X, y, X_val=X_val[:, :5], y_val=y_val)


@pytest.mark.parametrize("scoring", ["roc_auc", "neg_log_loss", "accuracy"])
def test_scoring_is_reported_and_stopped_on(classification_data, scoring):
    X, y = classification_data
    y = (y == 0).astype(int)
    X, y, X_val, y_val = _split(X, y)
    clf = SNNClassifier(scoring=scoring, tol=0.0, **SMALL)
    clf.fit(X, y, X_val=X_val, y_val=y_val)
    scores = clf.validation_scores_
    assert len(scores) == clf.n_iter_
    assert clf.best_validation_score_ == max(scores)
    expected = get_scorer(scoring)(clf, X_val, y_val)
    assert clf.best_validation_score_ == pytest.approx(expected, abs=1e-5)


def test_regressor_scoring_by_name_and_by_callable(regression_data):
    X, y, X_val, y_val = _split(*regression_data)
    reg = SNNRegressor(scoring="r2", **SMALL).fit(X, y, X_val=X_val, y_val=y_val)
    assert reg.best_validation_score_ == pytest.approx(
        reg.score(X_val, y_val), abs=1e-5
    )
    scorer = make_scorer(mean_absolute_error, greater_is_better=False)
    reg = SNNRegressor(scoring=scorer, **SMALL).fit(X, y, X_val=X_val, y_val=y_val)
    expected = -mean_absolute_error(y_val, reg.predict(X_val))
    assert reg.best_validation_score_ == pytest.approx(expected, rel=1e-5)


def test_scoring_on_the_internal_split(classification_data):
    X, y = classification_data
    clf = SNNClassifier(scoring="neg_log_loss", **SMALL).fit(X, y)
    assert all(score <= 0 for score in clf.validation_scores_)


def test_loss_scoring_keeps_reporting_accuracy(classification_data):
    X, y = classification_data
    clf = SNNClassifier(**SMALL).fit(X, y)
    assert all(0 <= score <= 1 for score in clf.validation_scores_)


def test_an_unknown_scorer_name_is_refused(classification_data):
    with pytest.raises(ValueError, match="not_a_metric"):
        SNNClassifier(scoring="not_a_metric", **SMALL).fit(*classification_data)


def test_x_val_is_routed_through_a_pipeline(classification_data):
    X, y, X_val, y_val = _split(*classification_data)
    with config_context(enable_metadata_routing=True):
        snn = SNNClassifier(**SMALL).set_fit_request(X_val=True, y_val=True)
        pipe = Pipeline(
            [("scale", StandardScaler()), ("snn", snn)], transform_input=["X_val"]
        )
        pipe.fit(X, y, X_val=X_val, y_val=y_val)
    fitted = pipe[-1]
    expected = fitted.score(pipe[0].transform(X_val), y_val)
    assert fitted.best_validation_score_ == pytest.approx(expected, abs=1e-6)
