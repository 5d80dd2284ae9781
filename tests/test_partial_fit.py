"""partial_fit: one pass per call, the optimizer's state kept, the scaling frozen."""

import numpy as np
import pytest
from conftest import FAST

from sklearn_snn import SNNClassifier, SNNRegressor

PARAMS = {**FAST, "n_estimators": 1}


def _chunks(X, y, n_chunks):
    return zip(np.array_split(X, n_chunks), np.array_split(y, n_chunks), strict=True)


def test_classes_are_required_on_the_first_call(classification_data):
    X, y = classification_data
    with pytest.raises(ValueError, match="classes"):
        SNNClassifier(**PARAMS).partial_fit(X, y)


def test_each_call_is_one_pass_and_keeps_the_optimizer_state(classification_data):
    X, y = classification_data
    clf = SNNClassifier(**PARAMS)
    n_batches = 0
    for index, (X_chunk, y_chunk) in enumerate(_chunks(X, y, 4)):
        clf.partial_fit(X_chunk, y_chunk, classes=np.unique(y))
        n_batches += -(-len(X_chunk) // FAST["batch_size"])
        assert clf.n_iter_ == index + 1
        assert len(clf.loss_curve_) == index + 1
        # AdamW's step count runs on over the calls: its state is kept.
        state = clf.net_.optimizer_.state[next(clf.net_.module_.parameters())]
        assert int(state["step"]) == n_batches
    assert clf.validation_scores_ is None


def test_the_scaling_of_the_first_chunk_is_kept(rng):
    X = rng.normal(size=(300, 3))
    y = X[:, 0] + X[:, 1]
    reg = SNNRegressor(**PARAMS).partial_fit(X[:100], y[:100])
    mean, scale = reg.scaler_.mean_.copy(), reg.scaler_.scale_.copy()
    target_mean = reg.target_scaler_.mean_.copy()
    # A later chunk from elsewhere does not move the network's inputs.
    reg.partial_fit(X[100:] * 10 + 5, y[100:] * 3 - 7)
    np.testing.assert_array_equal(reg.scaler_.mean_, mean)
    np.testing.assert_array_equal(reg.scaler_.scale_, scale)
    np.testing.assert_array_equal(reg.target_scaler_.mean_, target_mean)


def test_passes_over_the_chunks_learn(classification_data):
    X, y = classification_data
    clf = SNNClassifier(**PARAMS)
    classes = np.unique(y)
    clf.partial_fit(X[:40], y[:40], classes=classes)
    first = clf.score(X, y)
    for _ in range(15):
        for X_chunk, y_chunk in _chunks(X, y, 5):
            clf.partial_fit(X_chunk, y_chunk)
    assert clf.score(X, y) > first + 0.15


def test_partial_fit_is_reproducible_and_each_pass_draws_anew(classification_data):
    X, y = classification_data
    models = [SNNClassifier(**{**PARAMS, "random_state": 3}) for _ in range(2)]
    for model in models:
        for _ in range(3):
            model.partial_fit(X, y, classes=np.unique(y))
    np.testing.assert_array_equal(
        models[0].predict_proba(X), models[1].predict_proba(X)
    )
    # The passes do not repeat one shuffled order: the losses differ.
    assert len(set(models[0].loss_curve_)) == 3


def test_a_class_outside_classes_is_refused(classification_data):
    X, y = classification_data
    clf = SNNClassifier(**PARAMS).partial_fit(X, y, classes=np.unique(y))
    with pytest.raises(ValueError, match="classes"):
        clf.partial_fit(X[:5], np.full(5, 99))
    with pytest.raises(ValueError, match="not in classes"):
        SNNClassifier(**PARAMS).partial_fit(X, y, classes=[0])


def test_fit_after_partial_fit_starts_over(classification_data):
    X, y = classification_data
    clf = SNNClassifier(**PARAMS).partial_fit(X, y, classes=np.unique(y))
    clf.partial_fit(X, y)
    clf.set_params(max_iter=3).fit(X, y)
    assert clf.n_iter_ <= 3
    fresh = SNNClassifier(**{**PARAMS, "max_iter": 3}).fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), fresh.predict_proba(X))


def test_partial_fit_continues_a_fitted_model(regression_data):
    X, y = regression_data
    reg = SNNRegressor(**{**PARAMS, "max_iter": 3}).fit(X, y)
    net, scaler, n_iter = reg.net_, reg.scaler_, reg.n_iter_
    reg.partial_fit(X, y)
    assert reg.net_ is net
    assert reg.scaler_ is scaler
    assert reg.n_iter_ == n_iter + 1
