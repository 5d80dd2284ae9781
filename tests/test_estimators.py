"""Behaviour of SNNClassifier and SNNRegressor as scikit-learn estimators."""

import pickle
import re
import subprocess
import sys
import textwrap
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from conftest import FAST
from sklearn.base import clone
from sklearn.datasets import load_iris, make_regression
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_snn import SNNClassifier, SNNRegressor, _defaults, _predict
from sklearn_snn._network import EnsembleLinear, SELUNetwork

ESTIMATORS = [SNNClassifier, SNNRegressor]


def _data_for(Estimator, classification_data, regression_data):
    return classification_data if Estimator is SNNClassifier else regression_data


# --- Fitted attributes and predictions ---------------------------------------------


def test_classifier_fitted_attributes_and_proba(classification_data):
    X, y = classification_data
    clf = SNNClassifier(**FAST).fit(X, y)
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    assert clf.n_features_in_ == X.shape[1]
    assert clf.n_iter_ == len(clf.loss_curve_) >= 1
    assert len(clf.validation_scores_) == clf.n_iter_
    assert clf.best_validation_score_ in clf.validation_scores_
    assert clf.device_ == "cpu"
    assert clf.net_.module_ is not None

    proba = clf.predict_proba(X)
    assert isinstance(proba, np.ndarray)
    assert proba.shape == (len(X), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])
    assert clf.score(X, y) > 0.8


@pytest.mark.parametrize(
    "labels",
    [
        np.array(["cat", "dog"]),
        np.array([True, False]),
        np.array([-3, 7]),
        np.array(["a", "b", "c", "d"], dtype=object),
    ],
)
def test_classifier_labels_of_any_type(labels, rng):
    X = rng.normal(size=(120, 4))
    index = np.arange(120) % len(labels)
    X[:, 0] += 3 * index
    y = labels[index]
    clf = SNNClassifier(**FAST).fit(X, y)
    np.testing.assert_array_equal(clf.classes_, np.unique(labels))
    predictions = clf.predict(X)
    assert predictions.dtype == y.dtype
    assert set(predictions) <= set(labels)
    assert clf.score(X, y) > 0.8


def test_regressor_single_and_multi_output(regression_data):
    X, y = regression_data
    reg = SNNRegressor(**FAST).fit(X, y)
    assert reg.predict(X).shape == (len(X),)
    assert reg.n_outputs_ == 1
    assert reg.score(X, y) > 0.8

    Y = np.column_stack([y, -2 * y + 1e4, X[:, 0] ** 2])
    multi = SNNRegressor(**FAST).fit(X, Y)
    assert multi.predict(X).shape == (len(X), 3)
    assert multi.n_outputs_ == 3
    assert multi.score(X, Y) > 0.5


def test_regressor_undoes_target_standardization(regression_data):
    X, y = regression_data
    reg = SNNRegressor(**FAST).fit(X, y)
    # The targets are near 5000; without un-standardizing, predictions would
    # be near 0.
    assert abs(reg.predict(X).mean() - y.mean()) < 0.1 * y.std()


def test_dataframe_records_feature_names(classification_data):
    X, y = classification_data
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    clf = SNNClassifier(**FAST).fit(df, y)
    np.testing.assert_array_equal(clf.feature_names_in_, df.columns)
    np.testing.assert_allclose(clf.predict_proba(df), clf.predict_proba(X))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_int_and_float32_inputs(Estimator, classification_data, regression_data):
    X, y = _data_for(Estimator, classification_data, regression_data)
    X_int = np.round(X * 10).astype(np.int64)
    model = Estimator(**FAST).fit(X_int, y)
    assert np.isfinite(model.predict(X_int.astype(np.float32))).all()


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_predictions_are_computed_in_batches(
    Estimator, classification_data, regression_data, monkeypatch
):
    X, y = _data_for(Estimator, classification_data, regression_data)
    model = Estimator(**FAST).fit(X, y)
    whole = model.predict(X)
    monkeypatch.setattr(_predict, "PREDICT_BATCH_SIZE", 7)
    np.testing.assert_allclose(model.predict(X), whole, rtol=1e-12)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_a_rows_prediction_does_not_depend_on_its_batch(
    Estimator, classification_data, regression_data
):
    # A BLAS kernel gives the columns left over after its full blocks another
    # rounding: blocks of 100 rows leave 4 over on a CPU whose kernel takes 8.
    X, y = _data_for(Estimator, classification_data, regression_data)
    params = {**FAST, "hidden_layer_sizes": (16,), "n_estimators": 1, "max_iter": 3}
    model = Estimator(**params).fit(X, y)
    outputs = model.predict_proba if Estimator is SNNClassifier else model.predict
    whole = outputs(X)
    blocks = [outputs(X[i : i + 100]) for i in range(0, len(X), 100)]
    np.testing.assert_array_equal(np.concatenate(blocks), whole)
    rows = [outputs(X[i : i + 1]) for i in range(0, len(X), 9)]
    np.testing.assert_array_equal(np.concatenate(rows), whole[::9])


def test_constant_columns_are_safe(rng):
    X = rng.normal(size=(100, 3))
    X[:, 1] = 4.2
    y = (X[:, 0] > 0).astype(int)
    clf = SNNClassifier(**FAST).fit(X, y)
    assert np.isfinite(clf.predict_proba(X)).all()
    assert clf.score(X, y) > 0.9


# --- Network and training -----------------------------------------------------------


def test_network_architecture_follows_the_parameters(classification_data):
    X, y = classification_data
    clf = SNNClassifier(
        hidden_layer_sizes=(8, 5, 3), dropout=0.1, n_estimators=2, max_iter=2
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    layers = list(clf.net_.module_.modules())
    linears = [m for m in layers if isinstance(m, EnsembleLinear)]
    # The first layer sees the 6 columns and, by default, 3 periodic
    # features of each.
    assert clf.net_.module_.periodic.weight.shape == (6, 16, 3)
    assert [tuple(m.weight.shape) for m in linears] == [
        (2, 8, 6 + 6 * 3),
        (2, 5, 8),
        (2, 3, 5),
        (2, 3, 3),
    ]
    assert sum(isinstance(m, torch.nn.SELU) for m in layers) == 3
    dropouts = [m for m in layers if isinstance(m, torch.nn.AlphaDropout)]
    assert [m.p for m in dropouts] == [0.1] * 3
    assert not any(isinstance(m, torch.nn.Dropout) for m in layers)


#: Patience of exactly 5 epochs: with tol > 0 an improvement smaller than tol
#: is not "best"; tol=0 makes the best epoch the argmin of the validation
#: losses (with MIN_STEPS_NO_CHANGE set to 0).
PATIENT = {
    "hidden_layer_sizes": (64, 64),
    "n_estimators": 1,
    "n_iter_no_change": 5,
    "tol": 0.0,
    "random_state": 0,
}


def test_early_stopping_restores_the_best_epoch(classification_data, monkeypatch):
    monkeypatch.setattr(_defaults, "MIN_STEPS_NO_CHANGE", 0)
    X, y = classification_data
    # Without a learning-rate drop the first stall ends training; the drop
    # has its own test below.
    clf = SNNClassifier(**PATIENT, n_learning_rate_drops=0, max_iter=200).fit(X, y)
    history = clf.net_.history
    valid_losses = [row["valid_loss"] for row in history]
    best = int(np.argmin(valid_losses))
    # Training ran on after the best epoch, then stopped and went back to it.
    assert len(valid_losses) - 1 - best == 5
    assert clf.best_validation_score_ == clf.validation_scores_[best]
    assert clf.n_iter_ < 200


def test_only_the_classifier_ends_patience_when_its_validation_loss_rises(rng):
    # Random targets: the validation loss turns up within a few epochs. An
    # epoch of 120 rows is one step, so the 200-step floor alone trains the
    # whole max_iter; the regressor keeps that floor.
    X = rng.normal(size=(120, 10))
    params = {"device": "cpu", "hidden_layer_sizes": (32, 32), "random_state": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = SNNClassifier(**params).fit(X, rng.integers(0, 2, 120))
    assert clf.n_iter_ < 200
    with pytest.warns(ConvergenceWarning):
        reg = SNNRegressor(**params, max_iter=100).fit(X, rng.normal(size=120))
    assert reg.n_iter_ == 100


def test_a_learning_rate_drop_goes_on_from_the_best_epoch(
    classification_data, monkeypatch
):
    monkeypatch.setattr(_defaults, "MIN_STEPS_NO_CHANGE", 0)
    X, y = classification_data
    clf = SNNClassifier(
        **PATIENT, n_learning_rate_drops=1, learning_rate_init=0.01, max_iter=300
    )
    restores = []
    load_state_dict = torch.nn.Module.load_state_dict

    def recording_load(module, state, *args, **kwargs):
        if isinstance(module, SELUNetwork):
            restores.append(module)
        return load_state_dict(module, state, *args, **kwargs)

    monkeypatch.setattr(torch.nn.Module, "load_state_dict", recording_load)
    clf.fit(X, y)
    history = clf.net_.history
    valid_losses, rates = history[:, "valid_loss"], history[:, "lr"]
    # Five epochs after the best one at 0.01, the weights were restored and
    # training went on at 0.001, until five epochs after the best of all.
    drop = rates.index(0.001)
    assert set(rates[:drop]) == {0.01}
    assert set(rates[drop:]) == {0.001}
    assert drop - 1 - int(np.argmin(valid_losses[:drop])) == 5
    assert len(restores) == 2
    best = int(np.argmin(valid_losses))
    assert len(valid_losses) - 1 - best == 5
    assert best >= drop
    assert clf.best_validation_score_ == clf.validation_scores_[best]


def test_a_warm_start_trains_at_learning_rate_init_again(classification_data):
    X, y = classification_data
    clf = SNNClassifier(
        **{**FAST, "n_learning_rate_drops": 1, "max_iter": 300, "tol": 0.0}
    ).fit(X, y)
    assert clf.net_.optimizer_.param_groups[0]["lr"] < clf.learning_rate_init
    clf.set_params(warm_start=True, n_learning_rate_drops=0, max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    assert clf.net_.optimizer_.param_groups[0]["lr"] == clf.learning_rate_init
    assert clf.net_.history[-1, "lr"] == clf.learning_rate_init


def test_robust_input_scaling_bounds_what_reaches_the_network(rng):
    X = np.c_[rng.lognormal(sigma=2.0, size=300), rng.normal(size=300)]
    X[0, 1] = 1e6
    y = (X[:, 1] > 0).astype(int)
    inputs = {}
    for scaling in ["standard", "robust"]:
        clf = SNNClassifier(**FAST, input_scaling=scaling).fit(X, y)
        rows = clf._validate_X_predict(X)
        inputs[scaling] = clf._standardize(rows)
        np.testing.assert_allclose(
            clf._standardize_tensor(rows, "cpu").numpy(), inputs[scaling], atol=1e-6
        )
    assert clf.clipper_ is not None
    np.testing.assert_allclose(inputs["robust"].std(axis=0), 1, rtol=1e-3)
    # The outlier and the lognormal tail end within a few units of zero,
    # where standardization sends them far out and squeezes the rest.
    assert np.abs(inputs["robust"]).max() < 5
    assert np.abs(inputs["standard"]).max() > 15
    assert np.median(np.abs(inputs["robust"][:, 1])) > 0.5
    assert np.median(np.abs(inputs["standard"][:, 1])) < 0.1


def test_without_early_stopping_there_is_no_validation(classification_data):
    X, y = classification_data
    clf = SNNClassifier(**{**FAST, "early_stopping": False}).fit(X, y)
    assert clf.validation_scores_ is None
    assert clf.best_validation_score_ is None
    assert "valid_loss" not in clf.net_.history[-1]


def test_max_iter_reached_warns(classification_data):
    X, y = classification_data
    with pytest.warns(ConvergenceWarning, match="Maximum iterations"):
        clf = SNNClassifier(**{**FAST, "max_iter": 2}).fit(X, y)
    assert clf.n_iter_ == 2


def test_validation_split_is_stratified(rng):
    X = rng.normal(size=(100, 3))
    y = np.array([0] * 90 + [1] * 10)
    clf = SNNClassifier(
        **{**FAST, "max_iter": 1}, validation_fraction=0.2, member_validation="shared"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    valid = clf.net_.history[-1]
    # 20 validation rows, 2 of them from the 10% class.
    assert valid["valid_batch_count"] == 1
    assert valid["batches"][-1]["valid_batch_size"] == 20


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_sample_weight_changes_the_fit(Estimator, classification_data, regression_data):
    X, y = _data_for(Estimator, classification_data, regression_data)
    weight = np.where(np.arange(len(X)) % 2 == 0, 1.0, 5.0)
    plain = Estimator(**FAST).fit(X, y)
    weighted = Estimator(**FAST).fit(X, y, sample_weight=weight)
    assert not np.allclose(plain.predict(X), weighted.predict(X))
    ones = Estimator(**FAST).fit(X, y, sample_weight=np.ones(len(X)))
    np.testing.assert_array_equal(plain.predict(X), ones.predict(X))


def test_class_weight_shifts_predictions_towards_the_weighted_class(rng):
    X = rng.normal(size=(300, 2))
    y = (X[:, 0] + 0.8 * rng.normal(size=300) > 0.8).astype(int)
    params = {**FAST, "early_stopping": False}
    plain = SNNClassifier(**params).fit(X, y)
    balanced = SNNClassifier(**params, class_weight="balanced").fit(X, y)
    heavy = SNNClassifier(**params, class_weight={1: 10.0}).fit(X, y)
    assert (balanced.predict(X) == 1).sum() > (plain.predict(X) == 1).sum()
    assert (heavy.predict(X) == 1).sum() > (plain.predict(X) == 1).sum()


def test_verbose_prints_one_line_per_epoch(classification_data, capsys):
    X, y = classification_data
    SNNClassifier(**{**FAST, "max_iter": 3}, verbose=1).fit(X, y)
    out = capsys.readouterr().out
    header = out.splitlines()[0]
    for column in ["epoch", "train_loss", "valid_loss", "valid_score", "dur"]:
        assert column in header
    epoch_lines = [line for line in out.splitlines() if line.strip()[:1].isdigit()]
    assert len(epoch_lines) == 3


def test_verbose_2_adds_a_progress_bar(classification_data, capsys):
    X, y = classification_data
    SNNClassifier(**{**FAST, "max_iter": 2}, verbose=2).fit(X, y)
    captured = capsys.readouterr()
    assert "train_loss" in captured.out
    assert "%" in captured.err or "it/s" in captured.err


def test_silent_by_default(classification_data, capsys):
    X, y = classification_data
    SNNClassifier(**FAST).fit(X, y)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ""


# --- Reproducibility and random state -----------------------------------------------


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_same_random_state_gives_identical_predictions(
    Estimator, classification_data, regression_data
):
    X, y = _data_for(Estimator, classification_data, regression_data)
    first = Estimator(**FAST).fit(X, y).predict(X)
    second = Estimator(**FAST).fit(X, y).predict(X)
    np.testing.assert_array_equal(first, second)
    other = Estimator(**{**FAST, "random_state": 1}).fit(X, y)
    if Estimator is SNNRegressor:
        assert not np.array_equal(other.predict(X), first)


def test_fit_leaves_global_random_state_alone(classification_data):
    X, y = classification_data
    torch.manual_seed(123)
    np.random.seed(123)  # noqa: NPY002 (the global state is what is tested)
    torch_state = torch.get_rng_state()
    numpy_state = np.random.get_state()[1].copy()  # noqa: NPY002
    SNNClassifier(**FAST).fit(X, y)
    assert torch.equal(torch.get_rng_state(), torch_state)
    np.testing.assert_array_equal(np.random.get_state()[1], numpy_state)  # noqa: NPY002


def test_predictions_are_identical_across_processes(tmp_path):
    script = textwrap.dedent(
        """
        import sys
        import numpy as np
        from sklearn.datasets import make_classification
        from sklearn_snn import SNNClassifier

        X, y = make_classification(n_samples=200, n_features=6, random_state=0)
        clf = SNNClassifier(hidden_layer_sizes=(16, 16), max_iter=20, random_state=0)
        np.save(sys.argv[1], clf.fit(X, y).predict_proba(X))
        """
    )
    results = []
    for name in ["a.npy", "b.npy"]:
        path = tmp_path / name
        subprocess.run(
            [sys.executable, "-W", "ignore", "-c", script, str(path)], check=True
        )
        results.append(np.load(path))
    np.testing.assert_array_equal(results[0], results[1])


# --- Composition with scikit-learn --------------------------------------------------


def test_pipeline_and_clone(classification_data):
    X, y = classification_data
    pipe = make_pipeline(StandardScaler(), SNNClassifier(**FAST)).fit(X, y)
    assert pipe.score(X, y) > 0.8
    cloned = clone(pipe)
    assert not hasattr(cloned[-1], "net_")
    assert cloned.get_params()["snnclassifier__hidden_layer_sizes"] == (16, 16)


def test_grid_search_in_parallel_and_cross_val_score(regression_data):
    X, y = load_iris(return_X_y=True)
    search = GridSearchCV(
        SNNClassifier(**FAST),
        {"hidden_layer_sizes": [(8,), (16, 16)], "dropout": [0.0, 0.05]},
        cv=2,
        n_jobs=2,
    ).fit(X, y)
    assert search.best_score_ > 0.7
    assert search.best_estimator_.n_iter_ >= 1
    scores = cross_val_score(SNNRegressor(**FAST), *regression_data, cv=3)
    assert scores.shape == (3,)
    assert np.all(scores > 0.5)


def test_set_params_then_refit(classification_data):
    X, y = classification_data
    clf = SNNClassifier(**FAST).fit(X, y)
    clf.set_params(hidden_layer_sizes=(7,))
    clf.fit(X, y)
    assert clf.net_.module_.spec.hidden_layer_sizes == (7,)
    assert clf.get_params()["hidden_layer_sizes"] == (7,)


def test_refit_without_warm_start_starts_from_scratch(classification_data):
    X, y = classification_data
    clf = SNNClassifier(**FAST).fit(X, y)
    first_net = clf.net_
    first = clf.predict_proba(X)
    clf.fit(X, y)
    assert clf.net_ is not first_net
    assert clf.n_iter_ == len(clf.net_.history)
    np.testing.assert_array_equal(clf.predict_proba(X), first)


def test_warm_start_continues_from_previous_weights(classification_data):
    X, y = classification_data
    params = {**FAST, "early_stopping": False, "max_iter": 3}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = SNNClassifier(**params, warm_start=True).fit(X, y)
        n_first = clf.n_iter_
        before = [p.detach().clone() for p in clf.net_.module_.parameters()]
        net = clf.net_
        clf.fit(X, y)
        cold = SNNClassifier(**params).fit(X, y)
    assert clf.net_ is net
    assert clf.n_iter_ == n_first + 3
    assert len(clf.loss_curve_) == 6
    after = list(clf.net_.module_.parameters())
    assert any(not torch.equal(b, a) for b, a in zip(before, after, strict=True))
    # Six epochs in all: the training loss ends below that of a cold 3-epoch fit.
    assert clf.loss_curve_[-1] < cold.loss_curve_[-1]


@pytest.mark.parametrize("change", [{"hidden_layer_sizes": (4,)}, {"n_estimators": 2}])
def test_warm_start_refuses_a_changed_network(change, classification_data):
    X, y = classification_data
    clf = SNNClassifier(**FAST, warm_start=True).fit(X, y)
    clf.set_params(**change)
    with pytest.raises(ValueError, match="warm_start=False"):
        clf.fit(X, y)


@pytest.mark.parametrize("n_learning_rate_drops", [0, 1])
def test_patience_lasts_at_least_min_steps_on_small_data(rng, n_learning_rate_drops):
    # 40 rows are one batch, so one optimizer step per epoch: 2 epochs of
    # patience would be 2 steps; training waits for MIN_STEPS_NO_CHANGE steps,
    # and after a drop of the learning rate as long again.
    X = rng.normal(size=(40, 3))
    y = X[:, 0] > 0
    clf = SNNClassifier(
        **{**FAST, "batch_size": "auto", "max_iter": 1000},
        early_stopping=False,
        tol=1e9,
        n_iter_no_change=2,
        n_learning_rate_drops=n_learning_rate_drops,
    ).fit(X, y)
    waits = 1 + n_learning_rate_drops
    assert clf.n_iter_ == 1 + waits * _defaults.MIN_STEPS_NO_CHANGE


# --- Ensembles and weight centering -------------------------------------------------


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_ensemble_members_differ_and_predictions_average_them(
    Estimator, classification_data, regression_data
):
    X, y = _data_for(Estimator, classification_data, regression_data)
    model = Estimator(**FAST, n_estimators=3).fit(X, y)
    module = model.net_.module_
    assert module.spec.n_estimators == 3
    first_layer = module.hidden[0].weight
    assert not torch.equal(first_layer[0], first_layer[1])
    with torch.no_grad():
        members = module.member_outputs(
            torch.as_tensor(model.scaler_.transform(X), dtype=torch.float32)
        ).double()
    if module.kept_members is not None:
        # The regressor's default, feature_sparsity='auto', may keep a half.
        members = members[list(module.kept_members)]
    if Estimator is SNNClassifier:
        expected = torch.softmax(members, dim=2).mean(dim=0).numpy()
        np.testing.assert_allclose(model.predict_proba(X), expected, atol=1e-5)
    else:
        scaler = model.target_scaler_
        expected = members.mean(dim=0).numpy()[:, 0] * scaler.scale_[0]
        np.testing.assert_allclose(
            model.predict(X), expected + scaler.mean_[0], rtol=1e-4
        )


def test_ensemble_of_one_predicts_with_its_single_network(classification_data):
    X, y = classification_data
    clf = SNNClassifier(**FAST, n_estimators=1).fit(X, y)
    module = clf.net_.module_.double()
    with torch.no_grad():
        logits = module.member_outputs(torch.as_tensor(clf.scaler_.transform(X)))
    assert logits.shape[0] == 1
    expected = torch.softmax(logits[0].float().double(), dim=1).numpy()
    np.testing.assert_allclose(clf.predict_proba(X), expected, atol=1e-6)


def test_ensemble_is_at_least_as_good_as_its_members_on_average(classification_data):
    X, y = classification_data
    clf = SNNClassifier(**FAST, n_estimators=4).fit(X, y)
    with torch.no_grad():
        members = clf.net_.module_.member_outputs(
            torch.as_tensor(clf.scaler_.transform(X), dtype=torch.float32)
        )
    member_accuracy = (members.argmax(dim=2).numpy() == y).mean()
    assert clf.score(X, y) >= member_accuracy - 0.01


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_weight_centering_keeps_incoming_weights_at_zero_mean(
    Estimator, classification_data, regression_data
):
    X, y = _data_for(Estimator, classification_data, regression_data)
    params = {**FAST, "hidden_layer_sizes": (16, 16, 16), "n_estimators": 2}
    centered = Estimator(**params, weight_constraint="center").fit(X, y)
    free = Estimator(**params).fit(X, y)
    for model, is_centered in [(centered, True), (free, False)]:
        hidden = model.net_.module_.hidden
        linears = [m for m in hidden if isinstance(m, EnsembleLinear)]
        row_means = torch.stack([m.weight.mean(dim=2) for m in linears[1:]])
        assert (row_means.abs().max().item() < 1e-6) == is_centered


# --- Persistence --------------------------------------------------------------------


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_pickle_and_joblib_round_trip(
    Estimator, classification_data, regression_data, tmp_path
):
    X, y = _data_for(Estimator, classification_data, regression_data)
    model = Estimator(**FAST).fit(X, y)
    expected = model.predict(X)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict(X), expected)
    joblib.dump(model, tmp_path / "model.joblib")
    np.testing.assert_array_equal(
        joblib.load(tmp_path / "model.joblib").predict(X), expected
    )


def test_pickle_does_not_carry_training_buffers(classification_data):
    X, y = classification_data
    clf = SNNClassifier(**FAST).fit(X, y)
    early_stopping = dict(clf.net_.callbacks_)["early_stopping"]
    assert early_stopping.restore_state_ is None
    size = len(pickle.dumps(clf))
    n_parameters = sum(p.numel() for p in clf.net_.module_.parameters())
    # Weights plus Adam's two moments, and some bookkeeping.
    assert size < 3 * 4 * n_parameters + 200_000


# --- Bad input ----------------------------------------------------------------------


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("bad", [np.inf, -np.inf])
def test_infinite_X_is_refused(Estimator, bad, classification_data, regression_data):
    X, y = _data_for(Estimator, classification_data, regression_data)
    X = X.copy()
    X[3, 1] = bad
    with pytest.raises(ValueError, match="X contains infinity in column 1"):
        Estimator(**FAST).fit(X, y)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_nan_in_X_is_imputed(Estimator, classification_data, regression_data):
    X, y = _data_for(Estimator, classification_data, regression_data)
    X = X.copy()
    X[3, 1] = np.nan
    estimator = Estimator(**FAST).fit(X, y)
    assert np.isfinite(estimator.predict(X)).all()


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_y_is_refused(bad, regression_data, classification_data):
    X, y = regression_data
    y = y.copy()
    y[5] = bad
    with pytest.raises(ValueError, match="NaN|infinity"):
        SNNRegressor(**FAST).fit(X, y)
    X, y = classification_data
    y = y.astype(float)
    y[5] = bad
    with pytest.raises(ValueError, match="NaN|infinity"):
        SNNClassifier(**FAST).fit(X, y)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_wrong_number_of_features_at_predict(
    Estimator, classification_data, regression_data
):
    X, y = _data_for(Estimator, classification_data, regression_data)
    model = Estimator(**FAST).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        model.predict(X[:, :-1])


def test_single_class_is_refused(classification_data):
    X, _ = classification_data
    with pytest.raises(ValueError, match="only one class"):
        SNNClassifier(**FAST).fit(X, np.zeros(len(X)))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_empty_and_1d_X_are_refused(Estimator):
    with pytest.raises(ValueError, match="0 sample"):
        Estimator(**FAST).fit(np.empty((0, 3)), np.empty(0))
    with pytest.raises(ValueError, match="2D array"):
        Estimator(**FAST).fit(np.arange(10.0), np.arange(10) % 2)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_non_numeric_X_is_refused(Estimator):
    X = np.array([["a", "b"], ["c", "d"], ["e", "f"], ["g", "h"]], dtype=object)
    with pytest.raises(ValueError, match="convert|numeric"):
        Estimator(**FAST).fit(X, [0, 1, 0, 1])


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("hidden_layer_sizes", (16, 0)),
        ("hidden_layer_sizes", ()),
        ("dropout", 1.0),
        ("dropout", -0.1),
        ("learning_rate_init", 0.0),
        ("learning_rate_init", float("nan")),
        ("alpha", -1.0),
        ("beta_1", 1.0),
        ("beta_2", -0.1),
        ("batch_size", 0),
        ("batch_size", "big"),
        ("max_iter", 0),
        ("validation_fraction", 1.0),
        ("n_iter_no_change", 0),
        ("weight_averaging", 1.0),
        ("weight_averaging", -0.5),
        ("tol", -1.0),
        ("n_estimators", 0),
        ("weight_constraint", "unit_norm"),
        ("device", "gpu-please"),
        ("device", 3),
    ],
)
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_bad_parameters_raise_at_fit(Estimator, param, value, classification_data):
    X, y = classification_data
    model = Estimator(**FAST).set_params(**{param: value})
    with pytest.raises(ValueError, match=param if param != "device" else "device"):
        model.fit(X, y)


@pytest.mark.parametrize("value", [1.0, -0.1])
def test_bad_label_smoothing_raises(value, classification_data):
    X, y = classification_data
    with pytest.raises(ValueError, match="label_smoothing"):
        SNNClassifier(**FAST, label_smoothing=value).fit(X, y)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_adam_betas_reach_the_optimizer(Estimator, classification_data):
    X, y = classification_data
    model = Estimator(**FAST, beta_1=0.8, beta_2=0.95).fit(X, y)
    (group,) = model.net_.optimizer_.param_groups
    assert group["betas"] == (0.8, 0.95)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_weight_averaging_predicts_with_the_average_and_pickles(
    Estimator, classification_data
):
    X, y = classification_data
    model = Estimator(**FAST, weight_averaging=0.9).fit(X, y)
    plain = Estimator(**FAST, weight_averaging=0.0).fit(X, y)
    method = "predict_proba" if hasattr(model, "predict_proba") else "predict"
    predicted = getattr(model, method)(X[:20])
    assert not np.allclose(predicted, getattr(plain, method)(X[:20]))
    assert model.net_.weight_average_ is None
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_allclose(getattr(restored, method)(X[:20]), predicted)


def test_label_smoothing_smooths_the_training_loss(classification_data):
    X, y = classification_data
    plain = SNNClassifier(**FAST).fit(X, y)
    smoothed = SNNClassifier(**FAST, label_smoothing=0.2).fit(X, y)
    assert smoothed.net_.criterion_.label_smoothing == 0.2
    # Smoothed targets keep the loss away from zero, where plain labels let
    # a separable training set go.
    assert min(smoothed.loss_curve_) > min(plain.loss_curve_)


def test_warm_start_takes_a_new_label_smoothing(classification_data):
    X, y = classification_data
    clf = SNNClassifier(**{**FAST, "max_iter": 2}, warm_start=True).fit(X, y)
    clf.set_params(label_smoothing=0.3).fit(X, y)
    assert clf.net_.criterion_.label_smoothing == 0.3


def test_bad_class_weight_raises(classification_data):
    X, y = classification_data
    with pytest.raises(ValueError, match="class_weight"):
        SNNClassifier(**FAST, class_weight="heavy").fit(X, y)


def test_unavailable_cuda_device_names_the_way_out(classification_data):
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    X, y = classification_data
    with pytest.raises(ValueError, match="device='auto'"):
        SNNClassifier(**{**FAST, "device": "cuda"}).fit(X, y)


@pytest.mark.parametrize(
    ("weight", "message"),
    [
        (np.ones(5), "one weight per sample"),
        (-np.ones(200), "negative"),
        (np.zeros(200), "zero for every sample"),
        (np.full(200, np.nan), "NaN"),
    ],
)
def test_bad_sample_weight_raises(weight, message, classification_data):
    X, y = classification_data
    with pytest.raises(ValueError, match=message):
        SNNClassifier(**FAST).fit(X, y, sample_weight=weight)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_predict_before_fit_raises(Estimator):
    with pytest.raises(NotFittedError):
        Estimator().predict(np.zeros((2, 3)))


def test_early_stopping_with_one_sample_names_the_way_out():
    with pytest.raises(ValueError, match="early_stopping=False"):
        SNNRegressor(**FAST).fit(np.ones((1, 2)), [1.0])


def test_regressor_diverging_run_warns_and_keeps_finite_weights(regression_data):
    X, y = regression_data
    with pytest.warns(ConvergenceWarning, match="diverged"):
        reg = SNNRegressor(learning_rate_init=1e3, random_state=0).fit(X, y)
    assert np.isfinite(reg.predict(X)).all()
    for parameter in reg.net_.module_.parameters():
        assert torch.isfinite(parameter).all()


def test_classifier_with_huge_learning_rate_predicts_finite(classification_data):
    X, y = classification_data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = SNNClassifier(learning_rate_init=1e3, random_state=0, max_iter=20)
        clf.fit(X, y)
    proba = clf.predict_proba(X)
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_regressor_starts_from_the_mean_and_classifier_from_random_logits():
    # SNNRegressor's output layer starts at zero (see _defaults); the
    # classifier's is LeCun-normal like the hidden layers.
    # A learning rate of 1e-9 leaves the weights where they started.
    X, y = make_regression(n_samples=40, n_features=3, random_state=0)
    untrained = {**FAST, "max_iter": 1, "learning_rate_init": 1e-9}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg = SNNRegressor(**untrained).fit(X, y)
        clf = SNNClassifier(**untrained).fit(X, y > 0)
    assert reg.net_.module_.output.weight.abs().max().item() < 1e-6
    clf_weight = clf.net_.module_.output.weight
    assert clf_weight.std().item() == pytest.approx(
        clf_weight.shape[-1] ** -0.5, rel=0.3
    )


def _feature_norms(model):
    """Each member's first-layer weight norm of each input feature.

    A feature's weights are its column of the first layer and, with the
    periodic embedding, the columns of its periodic features, which follow
    the numeric columns, feature after feature.
    """
    first = model.net_.module_.hidden[0].weight.detach()
    n_members = first.shape[0]
    n_features = model.n_features_in_
    squares = first.square().sum(dim=1)
    periodic = squares[:, n_features:].reshape(n_members, n_features, -1)
    return (squares[:, :n_features] + periodic.sum(dim=-1)).sqrt()


@pytest.mark.parametrize(
    ("numerical_embedding", "noise_left"),
    # With its periodic features a noise column has more ways to fit the 300
    # training rows, and the penalty leaves more of it.
    [(None, 0.1), ("periodic", 0.3)],
)
@pytest.mark.parametrize("Estimator", [SNNClassifier, SNNRegressor])
def test_feature_sparsity_drops_uninformative_features(
    Estimator, numerical_embedding, noise_left
):
    X, y = make_regression(
        n_samples=300, n_features=12, n_informative=2, shuffle=False, random_state=0
    )
    # Without dropout (the default) the classifier fits the noise columns of
    # these 300 rows faster than a penalty of 1 removes them; 4 removes them.
    penalty = 1.0
    if Estimator is SNNClassifier:
        y = y > np.median(y)
        penalty = 4.0
    params = {**FAST, "numerical_embedding": numerical_embedding}
    sparse = _feature_norms(Estimator(**params, feature_sparsity=penalty).fit(X, y))
    dense = _feature_norms(Estimator(**params, feature_sparsity=0.0).fit(X, y))
    sparse, dense = sparse.mean(dim=0), dense.mean(dim=0)
    # The 10 noise features (columns 2 to 11) end near zero only with the
    # penalty; without it they keep about their initial norm, sqrt(16 / 12):
    # 16 units, each feature one twelfth of the inputs (with the periodic
    # embedding, its column and its 3 periodic features, 4 of 48).
    assert sparse[2:].max() < noise_left * sparse[:2].min()
    assert dense[2:].min() > 0.5 * (16 / 12) ** 0.5


@pytest.fixture
def fast_auto_penalty(monkeypatch):
    # The proximal step removes learning_rate_init * feature_sparsity from each
    # feature's norm. FAST trains at 10 times the default learning rate, which
    # makes the default 'auto' penalty 10 times stronger per step than in use:
    # on these 300 rows it then also removes the informative features. These
    # tests check which members are penalized, at round 7's strength of 4.
    monkeypatch.setattr(_defaults, "AUTO_FEATURE_SPARSITY", 4.0)


@pytest.mark.usefixtures("fast_auto_penalty")
@pytest.mark.parametrize("Estimator", [SNNClassifier, SNNRegressor])
def test_auto_feature_sparsity_penalizes_every_second_member(Estimator):
    X, y = make_regression(
        n_samples=300, n_features=12, n_informative=2, shuffle=False, random_state=0
    )
    if Estimator is SNNClassifier:
        y = y > np.median(y)
    model = Estimator(**FAST, n_estimators=4, feature_sparsity="auto").fit(X, y)
    noise = _feature_norms(model)[:, 2:].max(dim=1).values
    # Members 1 and 3 drop the 10 noise features; members 0 and 2 keep them.
    assert noise[[1, 3]].max() < 0.1
    assert noise[[0, 2]].min() > 0.5
    assert model.net_.module_.kept_members in (None, (0, 2), (1, 3))


@pytest.mark.usefixtures("fast_auto_penalty")
def test_only_the_regressor_chooses_feature_sparsity_by_default():
    X, y = make_regression(
        n_samples=300, n_features=12, n_informative=2, shuffle=False, random_state=0
    )
    reg = SNNRegressor(**FAST).fit(X, y)
    clf = SNNClassifier(**FAST).fit(X, y > np.median(y))

    def noise_norms(model):
        return _feature_norms(model)[:, 2:].max(dim=1).values

    # The regressor's default is 'auto': members 1 and 3 drop the 10 noise
    # features. The classifier's is no penalty.
    assert noise_norms(reg)[[1, 3]].max() < 0.1
    assert noise_norms(reg)[[0, 2]].min() > 0.5
    assert noise_norms(clf).min() > 0.5


@pytest.mark.parametrize(
    "params", [{"n_estimators": 1}, {"n_estimators": 4, "early_stopping": False}]
)
def test_auto_feature_sparsity_without_a_choice_trains_without_penalty(
    params, classification_data
):
    # One member, or no validation split: nothing to choose, so no penalty.
    X, y = classification_data
    auto = SNNClassifier(**FAST, **params, feature_sparsity="auto").fit(X, y)
    plain = SNNClassifier(**FAST, **params).fit(X, y)
    np.testing.assert_array_equal(auto.predict_proba(X), plain.predict_proba(X))
    assert auto.net_.module_.kept_members is None


def test_warm_start_chooses_the_members_again(classification_data):
    X, y = classification_data
    clf = SNNClassifier(
        **FAST, n_estimators=4, feature_sparsity="auto", warm_start=True
    ).fit(X, y)
    clf.net_.module_.kept_members = (3,)
    clf.set_params(max_iter=2).fit(X, y)
    assert clf.net_.module_.kept_members in (None, (0, 2), (1, 3))


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"hidden_layer_sizes": (8,)}, "hidden_layer_sizes from (16, 16) to (8,)"),
        ({"numerical_embedding": None}, "periodic_features from 6 to 0"),
    ],
)
def test_warm_start_refuses_a_changed_architecture_by_name(
    change, named, classification_data
):
    X, y = classification_data
    clf = SNNClassifier(**{**FAST, "max_iter": 2}, warm_start=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    with pytest.raises(ValueError, match=re.escape(named)):
        clf.set_params(**change).fit(X, y)
