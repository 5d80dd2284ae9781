"""Faults injected during fit and predict: the model must stay usable."""

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import FAST
from sklearn.exceptions import ConvergenceWarning

from sklearn_snn import SNNClassifier, SNNRegressor, _predict
from sklearn_snn._network import SELUNetwork
from sklearn_snn._training._callbacks import EarlyStopping
from sklearn_snn._training._net import SNNNet

#: Batches per epoch with FAST's batch_size=32 on the 200-row fixtures.
BATCHES_PER_EPOCH = 7


def _corrupt_loss_after(monkeypatch, n_batches, value):
    """Make the training loss ``value`` from training batch ``n_batches`` on."""
    original = SNNNet.training_loss
    calls = {"train": 0}

    def training_loss(self, y_pred, y, sample_weight):
        loss = original(self, y_pred, y, sample_weight)
        calls["train"] += 1
        if calls["train"] > n_batches:
            return loss * value
        return loss

    monkeypatch.setattr(SNNNet, "training_loss", training_loss)


def _interrupt_after(monkeypatch, n_batches):
    """Raise KeyboardInterrupt from a callback after ``n_batches``."""
    original = EarlyStopping.on_batch_end
    calls = {"train": 0}

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        original(self, net, batch=batch, training=training, **kwargs)
        if training:
            calls["train"] += 1
            if calls["train"] >= n_batches:
                raise KeyboardInterrupt

    monkeypatch.setattr(EarlyStopping, "on_batch_end", on_batch_end)


# --- Divergence ---------------------------------------------------------------------


@pytest.mark.parametrize("value", [np.nan, np.inf])
@pytest.mark.parametrize("Estimator", [SNNClassifier, SNNRegressor])
def test_divergence_restores_the_last_finite_epoch(
    Estimator, value, monkeypatch, classification_data, regression_data
):
    X, y = classification_data if Estimator is SNNClassifier else regression_data
    params = {**FAST, "early_stopping": False, "n_iter_no_change": 100}
    reference = Estimator(**{**params, "max_iter": 3}).fit(X, y)
    _corrupt_loss_after(monkeypatch, 3 * BATCHES_PER_EPOCH + 2, value)
    with pytest.warns(ConvergenceWarning, match="diverged.*after 3 completed epochs"):
        model = Estimator(**params).fit(X, y)
    assert model.n_iter_ == 3
    assert np.isfinite(model.loss_curve_).all()
    # The weights are exactly those after the third epoch.
    np.testing.assert_array_equal(model.predict(X), reference.predict(X))
    assert np.isfinite(model.score(X, y))


def test_divergence_in_the_first_batch_keeps_the_initial_weights(
    monkeypatch, classification_data
):
    X, y = classification_data
    _corrupt_loss_after(monkeypatch, 0, np.nan)
    with pytest.warns(ConvergenceWarning, match="diverged"):
        clf = SNNClassifier(**FAST).fit(X, y)
    assert clf.n_iter_ == 0
    assert np.isfinite(clf.predict_proba(X)).all()


def test_divergence_with_early_stopping_keeps_the_best_epoch(
    monkeypatch, classification_data
):
    X, y = classification_data
    # With the shared split, 180 training rows: 6 batches.
    _corrupt_loss_after(monkeypatch, 5 * 6, np.inf)
    with pytest.warns(ConvergenceWarning, match="diverged"):
        clf = SNNClassifier(**FAST, member_validation="shared").fit(X, y)
    assert clf.n_iter_ == 5
    assert clf.best_validation_score_ in clf.validation_scores_
    assert np.isfinite(clf.predict_proba(X)).all()


# --- KeyboardInterrupt --------------------------------------------------------------


def test_keyboard_interrupt_keeps_the_last_completed_epoch(
    monkeypatch, classification_data
):
    X, y = classification_data
    params = {**FAST, "early_stopping": False, "n_iter_no_change": 100}
    reference = SNNClassifier(**{**params, "max_iter": 2}).fit(X, y)
    _interrupt_after(monkeypatch, 2 * BATCHES_PER_EPOCH + 3)
    with pytest.warns(UserWarning, match="interrupted after 2 epochs"):
        clf = SNNClassifier(**params).fit(X, y)
    assert clf.n_iter_ == 2
    np.testing.assert_array_equal(clf.predict_proba(X), reference.predict_proba(X))


def test_keyboard_interrupt_with_early_stopping_keeps_the_best_weights(
    monkeypatch, classification_data
):
    X, y = classification_data
    # With the shared split, 180 training rows: 6 batches.
    _interrupt_after(monkeypatch, 4 * 6 + 1)
    with pytest.warns(UserWarning, match="interrupted after 4 epochs"):
        clf = SNNClassifier(**FAST, member_validation="shared").fit(X, y)
    assert clf.n_iter_ == 4
    assert clf.best_validation_score_ in clf.validation_scores_
    assert np.isfinite(clf.predict_proba(X)).all()
    # The estimator can be fitted again normally afterwards.
    monkeypatch.undo()
    clf.set_params(max_iter=3).fit(X, y)
    assert clf.n_iter_ == 3


def test_keyboard_interrupt_in_the_first_epoch_leaves_a_usable_model(
    monkeypatch, regression_data
):
    X, y = regression_data
    _interrupt_after(monkeypatch, 1)
    with pytest.warns(UserWarning, match="interrupted after 0 epochs"):
        reg = SNNRegressor(**FAST).fit(X, y)
    assert np.isfinite(reg.predict(X)).all()


# --- Out of memory at predict time --------------------------------------------------


def _oom_above(monkeypatch, max_rows):
    """Make the network raise CUDA OOM for batches larger than ``max_rows``."""
    original = SELUNetwork.forward
    sizes = []

    def forward(self, X):
        sizes.append(len(X))
        if len(X) > max_rows:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")
        return original(self, X)

    monkeypatch.setattr(SELUNetwork, "forward", forward)
    return sizes


def test_predict_retries_smaller_batches_after_out_of_memory(
    monkeypatch, classification_data
):
    X, y = classification_data
    clf = SNNClassifier(**FAST).fit(X, y)
    expected = clf.predict_proba(X)
    monkeypatch.setattr(_predict, "PREDICT_BATCH_SIZE", 64)
    sizes = _oom_above(monkeypatch, 20)
    np.testing.assert_array_equal(clf.predict_proba(X), expected)
    # 64 and 32 fail once; then every batch has 16 rows (the last one 8).
    assert sizes[:3] == [64, 32, 16]
    assert max(sizes[2:]) == 16
    assert sum(s for s in sizes if s <= 20) == len(X)


def test_predict_out_of_memory_on_one_row_names_the_way_out(
    monkeypatch, classification_data
):
    X, y = classification_data
    clf = SNNClassifier(**FAST).fit(X, y)
    _oom_above(monkeypatch, 0)
    with pytest.raises(torch.cuda.OutOfMemoryError, match="single row.*device='cpu'"):
        clf.predict(X)


# --- Refit and warm start -----------------------------------------------------------


@pytest.mark.parametrize("Estimator", [SNNClassifier, SNNRegressor])
def test_refit_on_other_data_leaks_nothing_from_the_first_fit(
    Estimator, classification_data, regression_data, rng
):
    X, y = classification_data if Estimator is SNNClassifier else regression_data
    names = [f"c{i}" for i in range(9)]
    first_X = pd.DataFrame(rng.normal(size=(60, 9)), columns=names)
    first_y = (
        np.array(["a", "b", "c", "d"])[np.arange(60) % 4]
        if Estimator is SNNClassifier
        else rng.normal(size=(60, 3))
    )
    model = Estimator(**FAST).fit(first_X, first_y, sample_weight=np.arange(60) + 1)
    model.fit(X, y)
    fresh = Estimator(**FAST).fit(X, y)
    assert not hasattr(model, "feature_names_in_")
    assert model.n_features_in_ == X.shape[1]
    assert model.n_iter_ == fresh.n_iter_
    assert model.loss_curve_ == fresh.loss_curve_
    np.testing.assert_array_equal(model.predict(X), fresh.predict(X))
    if Estimator is SNNClassifier:
        np.testing.assert_array_equal(model.classes_, fresh.classes_)
    else:
        assert model.n_outputs_ == 1


def test_refit_after_divergence_is_clean(monkeypatch, classification_data):
    X, y = classification_data
    clf = SNNClassifier(**FAST)
    _corrupt_loss_after(monkeypatch, 3, np.nan)
    with pytest.warns(ConvergenceWarning, match="diverged"):
        clf.fit(X, y)
    monkeypatch.undo()
    clf.fit(X, y)
    fresh = SNNClassifier(**FAST).fit(X, y)
    assert clf.loss_curve_ == fresh.loss_curve_
    np.testing.assert_array_equal(clf.predict_proba(X), fresh.predict_proba(X))


def test_warm_start_refuses_unseen_classes(classification_data):
    X, y = classification_data
    clf = SNNClassifier(**FAST, warm_start=True).fit(X, y)
    with pytest.raises(ValueError, match="warm_start=False"):
        clf.fit(X, y + 10)
