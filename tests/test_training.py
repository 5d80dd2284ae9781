"""fit_network: a net and its callbacks built from a TrainingConfig."""

import numpy as np
import pytest
import torch

from sklearn_snn._device import FitGenerators
from sklearn_snn._network import NetworkSpec, SELUNetwork
from sklearn_snn._training import (
    TensorData,
    TrainingConfig,
    TrainValidData,
    fit_network,
    weighted_r2,
)
from sklearn_snn._training._callbacks import select_members


def _regression_config(**params):
    """Return a quiet mean-squared-error TrainingConfig with ``params``."""
    return TrainingConfig(
        criterion=torch.nn.MSELoss,
        validation_score=weighted_r2,
        learning_rate_init=0.01,
        alpha=0.0,
        n_iter_no_change=5,
        min_steps_no_change=0,
        tol=1e-4,
        verbose=0,
        **params,
    )


def test_members_are_chosen_at_the_epoch_whose_weights_are_kept():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 8)).astype(np.float32)
    y = (X[:, :1] + 0.3 * rng.normal(size=(300, 1))).astype(np.float32)
    data = TrainValidData(
        TensorData.from_arrays(X[:240], y[:240], np.ones(240), "cpu"),
        TensorData.from_arrays(X[240:], y[240:], np.ones(60), "cpu"),
    )
    config = _regression_config(
        batch_size=32,
        max_iter=40,
        warn_at_max_iter=True,
        feature_sparsity=4.0,
        sparse_members="alternate",
        select_members=True,
    )
    torch.manual_seed(0)
    module = SELUNetwork(NetworkSpec(8, (16, 16), 1, dropout=0.0, n_estimators=4))
    net = fit_network(module, data, config, "cpu", FitGenerators(0))
    early_stopping = dict(net.callbacks_)["early_stopping"]
    kept = net.module_.kept_members
    # Each epoch's validation loss is that of the members it chose; the best
    # one is restored together with its choice.
    assert min(net.history[:, "valid_loss"]) == pytest.approx(early_stopping.best_loss_)
    loss, outputs = select_members(net, data.valid)
    assert net.module_.kept_members == kept
    assert loss == pytest.approx(early_stopping.best_loss_, rel=1e-5)
    assert outputs.shape == (60, 1)


def test_a_member_trains_only_on_its_rows_of_the_members_mask():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 4)).astype(np.float32)
    y = X[:, :1].astype(np.float32)
    members = np.ones((64, 2), dtype=bool)
    members[:32, 0] = False
    data = TrainValidData(
        TensorData.from_arrays(X, y, np.ones(64), "cpu", members=members), None
    )
    config = _regression_config(batch_size=64, max_iter=1, warn_at_max_iter=False)
    torch.manual_seed(0)
    module = SELUNetwork(NetworkSpec(4, (8,), 1, dropout=0.0, n_estimators=2))
    net = fit_network(module, data, config, "cpu", FitGenerators(0))
    y_pred = net.module_.member_outputs(data.train.X)
    y_pred.retain_grad()
    net.get_loss(y_pred, data.train.y, data.train, training=True).backward()
    # Member 0's loss has no gradient from the rows it does not train on.
    assert (y_pred.grad[0, :32] == 0).all()
    assert (y_pred.grad[0, 32:] != 0).all()
    assert (y_pred.grad[1] != 0).all()
