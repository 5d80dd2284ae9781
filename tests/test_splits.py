import warnings

import numpy as np
import pytest
from conftest import FAST
from sklearn.exceptions import ConvergenceWarning

from sklearn_snn import SNNClassifier, SNNRegressor, _base
from sklearn_snn._splits import holdout_split, member_folds


@pytest.mark.parametrize("n_estimators", [4, 5, 8])
def test_member_folds_are_disjoint_and_each_pair_holds_out_its_own(n_estimators):
    n_samples, n_valid = 100, 10
    valid, train_members, valid_members = member_folds(
        n_samples, n_valid, n_estimators, None, np.random.RandomState(0)
    )
    n_folds = n_estimators // 2
    assert len(valid) == len(set(valid)) == n_valid * n_folds
    assert train_members.shape == (n_samples, n_estimators)
    assert valid_members.shape == (len(valid), n_estimators)
    # A fold row scores exactly the members that do not train on it.
    np.testing.assert_array_equal(valid_members, ~train_members[valid])
    # Rows outside every fold train every member.
    outside = np.setdiff1d(np.arange(n_samples), valid)
    assert train_members[outside].all()
    # Each member holds out one fold, and each fold is held out by its pair.
    np.testing.assert_array_equal((~train_members).sum(axis=0), n_valid)
    members_of_fold = {tuple(np.flatnonzero(row)) for row in valid_members}
    assert members_of_fold == {
        tuple(m for m in range(n_estimators) if min(m // 2, n_folds - 1) == fold)
        for fold in range(n_folds)
    }


def test_each_half_of_the_ensemble_has_a_member_out_of_every_fold():
    _, _, valid_members = member_folds(60, 6, 5, None, np.random.RandomState(0))
    assert valid_members[:, 0::2].any(axis=1).all()
    assert valid_members[:, 1::2].any(axis=1).all()


def test_the_first_fold_is_the_shared_split():
    y = np.repeat([0, 1, 2], 20)
    valid, _, valid_members = member_folds(60, 6, 4, y, np.random.RandomState(3))
    _, shared = holdout_split(np.arange(60), 6, y, np.random.RandomState(3))
    np.testing.assert_array_equal(np.sort(valid[valid_members[:, 0]]), np.sort(shared))


def test_member_folds_are_stratified():
    y = np.repeat([0, 1], [80, 20])
    valid, _, valid_members = member_folds(100, 10, 4, y, np.random.RandomState(0))
    for fold_members in (0, 2):
        fold = valid[valid_members[:, fold_members]]
        assert np.bincount(y[fold]).tolist() == [8, 2]


def test_fewer_folds_when_the_rows_do_not_suffice():
    valid, train_members, _ = member_folds(5, 2, 8, None, np.random.RandomState(0))
    assert len(valid) == 4
    assert train_members.sum(axis=0).min() == 3
    valid, train_members, valid_members = member_folds(
        3, 2, 4, None, np.random.RandomState(0)
    )
    assert len(valid) == 2
    assert valid_members.all()
    np.testing.assert_array_equal(
        train_members.sum(axis=1) == 0, np.isin([0, 1, 2], valid)
    )


def test_holdout_split_falls_back_to_random_when_a_class_is_too_small():
    y = np.array([0] * 9 + [1])
    train, valid = holdout_split(np.arange(10), 2, y, np.random.RandomState(0))
    assert sorted(np.concatenate([train, valid])) == list(range(10))
    assert len(valid) == 2


def _fit_quietly(estimator, X, y, **fit_params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y, **fit_params)


@pytest.mark.parametrize("Estimator", [SNNClassifier, SNNRegressor])
def test_pairs_trains_each_member_without_its_fold(
    Estimator, classification_data, regression_data, monkeypatch
):
    X, y = classification_data if Estimator is SNNClassifier else regression_data
    captured = {}
    fit_network = _base.fit_network

    def capturing_fit_network(module, data, *args, **kwargs):
        captured["data"] = data
        return fit_network(module, data, *args, **kwargs)

    monkeypatch.setattr(_base, "fit_network", capturing_fit_network)
    model = _fit_quietly(Estimator(**FAST, member_validation="pairs"), X, y)
    train, valid = captured["data"].train, captured["data"].valid
    # Every row trains; each pair of members holds out its own 10% of them.
    assert len(train.X) == len(X)
    assert len(valid.X) == 2 * round(0.1 * len(X))
    held_out = ~train.members.numpy()
    np.testing.assert_array_equal(held_out.sum(axis=0), round(0.1 * len(X)))
    np.testing.assert_array_equal(held_out[:, 0], held_out[:, 1])
    assert not (held_out[:, 0] & held_out[:, 2]).any()
    assert model.validation_scores_
    assert np.isfinite(model.best_validation_score_)


@pytest.mark.parametrize("Estimator", [SNNClassifier, SNNRegressor])
def test_pairs_out_of_fold_predictions_differ_from_the_shared_split(
    Estimator, classification_data, regression_data
):
    X, y = classification_data if Estimator is SNNClassifier else regression_data
    params = {**FAST, "max_iter": 5}
    shared = _fit_quietly(Estimator(**params, member_validation="shared"), X, y)
    pairs = _fit_quietly(Estimator(**params, member_validation="pairs"), X, y)
    assert not np.allclose(shared.loss_curve_, pairs.loss_curve_)


@pytest.mark.parametrize(
    "params", [{"n_estimators": 2}, {"n_estimators": 3}, {"early_stopping": False}]
)
def test_pairs_is_the_shared_split_where_there_are_no_pairs_to_form(
    params, classification_data
):
    X, y = classification_data
    params = {**FAST, "max_iter": 5, **params}
    shared = _fit_quietly(SNNClassifier(**params, member_validation="shared"), X, y)
    pairs = _fit_quietly(SNNClassifier(**params, member_validation="pairs"), X, y)
    np.testing.assert_array_equal(shared.predict_proba(X), pairs.predict_proba(X))


def test_pairs_uses_x_val_for_all_members_when_given(classification_data):
    X, y = classification_data
    fit_params = {"X_val": X[150:], "y_val": y[150:]}
    shared = _fit_quietly(
        SNNClassifier(**FAST, member_validation="shared"),
        X[:150],
        y[:150],
        **fit_params,
    )
    pairs = _fit_quietly(
        SNNClassifier(**FAST, member_validation="pairs"),
        X[:150],
        y[:150],
        **fit_params,
    )
    np.testing.assert_array_equal(shared.predict_proba(X), pairs.predict_proba(X))


def test_pairs_chooses_feature_sparsity_on_the_out_of_fold_score(regression_data):
    X, y = regression_data
    model = _fit_quietly(
        SNNRegressor(**FAST, n_estimators=5, member_validation="pairs"), X, y
    )
    assert model.net_.module_.kept_members in {(0, 1, 2, 3, 4), (0, 2, 4), (1, 3)}
    assert np.isfinite(model.predict(X)).all()


def test_pairs_scores_a_chosen_metric(classification_data):
    X, y = classification_data
    model = _fit_quietly(
        SNNClassifier(**FAST, member_validation="pairs", scoring="accuracy"), X, y
    )
    assert all(0 <= score <= 1 for score in model.validation_scores_)


def test_bad_member_validation_names_the_choices(classification_data):
    with pytest.raises(ValueError, match="member_validation"):
        SNNClassifier(member_validation="folds").fit(*classification_data)
