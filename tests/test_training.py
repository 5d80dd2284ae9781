"""fit_network: a net and its callbacks built from a TrainingConfig."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from skorch.history import History

from sklearn_snn._device import FitGenerators
from sklearn_snn._network import NetworkSpec, SELUNetwork
from sklearn_snn._training import (
    TensorData,
    TrainingConfig,
    TrainValidData,
    fit_network,
    weighted_r2,
)
from sklearn_snn._training._callbacks import EarlyStopping, select_members
from sklearn_snn._training._fit import _FUSED_ADAMW_ON_CPU


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
    with torch.no_grad():
        member_outputs = net.module_.eval().member_outputs(data.valid.X)
    loss, outputs = select_members(net, member_outputs, data.valid)
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


def _validated_data():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 6)).astype(np.float32)
    y = (X[:, :2].sum(axis=1, keepdims=True) + 0.5 * rng.normal(size=(200, 1))).astype(
        np.float32
    )
    return TrainValidData(
        TensorData.from_arrays(X[:160], y[:160], np.ones(160), "cpu"),
        TensorData.from_arrays(X[160:], y[160:], np.ones(40), "cpu"),
    )


def _fit_with_averaging(weight_averaging, n_lr_drops=0):
    config = _regression_config(
        batch_size=32,
        max_iter=30,
        warn_at_max_iter=False,
        n_lr_drops=n_lr_drops,
        weight_averaging=weight_averaging,
    )
    torch.manual_seed(0)
    module = SELUNetwork(NetworkSpec(6, (16, 16), 1, dropout=0.05, n_estimators=2))
    return fit_network(module, _validated_data(), config, "cpu", FitGenerators(0))


def test_an_average_of_the_last_step_alone_trains_as_no_average():
    plain = _fit_with_averaging(0.0, n_lr_drops=1)
    # A decay this small makes the average the weights of the last step: the
    # swaps must then leave training exactly as it is without them.
    averaged = _fit_with_averaging(1e-12, n_lr_drops=1)
    for a, b in zip(
        plain.module_.parameters(), averaged.module_.parameters(), strict=True
    ):
        torch.testing.assert_close(a, b)
    assert plain.history[:, "valid_loss"] == pytest.approx(
        averaged.history[:, "valid_loss"]
    )


@pytest.mark.skipif(
    not _FUSED_ADAMW_ON_CPU, reason="torch has the fused AdamW on the CPU from 2.4"
)
def test_adamw_runs_fused_on_the_cpu():
    net = _fit_with_averaging(0.0, n_lr_drops=0)
    assert isinstance(net.optimizer_, torch.optim.AdamW)
    assert net.optimizer_.defaults["fused"] is True


@pytest.mark.parametrize("n_lr_drops", [0, 1])
def test_the_kept_weights_are_the_validated_average(n_lr_drops):
    net = _fit_with_averaging(0.9, n_lr_drops=n_lr_drops)
    early_stopping = dict(net.callbacks_)["early_stopping"]
    valid = _validated_data().valid
    net.module_.eval()
    with torch.no_grad():
        loss = net.ensemble_loss(
            net.module_.member_outputs(valid.X), valid.y, valid.sample_weight
        )
    assert float(loss) == pytest.approx(early_stopping.best_loss_, rel=1e-5)
    assert net.weight_average_ is None
    plain = _fit_with_averaging(0.0, n_lr_drops=n_lr_drops)
    assert net.history[:, "valid_loss"] != pytest.approx(plain.history[:, "valid_loss"])


def _early_stopping_after(valid_losses, **params):
    """Return an EarlyStopping that has seen epochs of these validation losses."""
    module = torch.nn.Linear(2, 1)
    module.kept_members = None
    net = SimpleNamespace(
        module_=module,
        history=History(),
        optimizer_=torch.optim.SGD(module.parameters(), lr=0.1),
    )
    early_stopping = EarlyStopping(
        n_iter_no_change=2, tol=0.0, min_steps_no_change=1000, **params
    )
    early_stopping.on_train_begin(net)
    for loss in valid_losses:
        net.history.new_epoch()
        net.history.record("train_batch_count", 1)
        net.history.record("valid_loss", loss)
        early_stopping.on_epoch_end(net, dataset_valid=object())
    return early_stopping


@pytest.mark.parametrize(
    ("losses", "overfit_rise", "stops"),
    [
        ([1.0, 0.9, 1.0, 1.0], 0.05, True),
        ([1.0, 0.9, 1.0, 1.0], None, False),
        ([1.0, 0.9, 0.93, 0.94], 0.05, False),
        ([1.0, 0.9, 1.0, 0.92], 0.05, False),
        # Risen from the first epoch on: nothing fitted yet to overfit.
        ([1.0, 1.1, 1.1, 1.1], 0.05, False),
    ],
)
def test_a_risen_validation_loss_ends_patience_without_the_step_floor(
    losses, overfit_rise, stops
):
    early_stopping = _early_stopping_after(losses, overfit_rise=overfit_rise)
    assert early_stopping.converged_ is stops
