import numpy as np
import pytest
import torch
from conftest import FAST
from sklearn.exceptions import NotFittedError
from torch import nn

from sklearn_snn import SNNClassifier, SNNRegressor
from sklearn_snn._network import NetworkSpec, SELUNetwork
from sklearn_snn.diagnostics import ActivationStats, activation_stats

DEPTH = 16


@pytest.fixture
def gaussian_inputs(rng):
    return rng.standard_normal((2048, 64)).astype(np.float32)


def relu_mlp(width, depth):
    layers = []
    for _ in range(depth):
        layers += [nn.Linear(width, width), nn.ReLU()]
    return nn.Sequential(*layers)


def test_snn_at_initialization_stays_near_mean_0_variance_1(gaussian_inputs):
    torch.manual_seed(0)
    net = SELUNetwork(NetworkSpec(64, (128,) * DEPTH, n_outputs=1, dropout=0.05))
    stats = activation_stats(net, gaussian_inputs)
    assert isinstance(stats, ActivationStats)
    np.testing.assert_array_equal(stats.layer, np.arange(1, DEPTH + 1))
    assert np.all(np.abs(stats.mean) < 0.15)
    assert np.all(np.abs(stats.variance - 1) < 0.25)


def test_relu_mlp_with_default_init_drifts_away(gaussian_inputs):
    torch.manual_seed(0)
    stats = activation_stats(relu_mlp(64, DEPTH), gaussian_inputs)
    assert len(stats.layer) == DEPTH
    # torch's default init shrinks the variance at every layer.
    assert np.all(np.diff(stats.variance[:4]) < 0)
    assert np.all(stats.variance[3:] < 0.01)


def test_module_is_not_changed(gaussian_inputs):
    net = SELUNetwork(NetworkSpec(64, (32, 32), n_outputs=1, dropout=0.1)).train()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    activation_stats(net, gaussian_inputs)
    assert net.training
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
    assert all(not m._forward_hooks for m in net.modules())


@pytest.mark.parametrize("Estimator", [SNNClassifier, SNNRegressor])
def test_fitted_estimator_reports_one_row_per_hidden_layer(
    Estimator, classification_data
):
    X, y = classification_data
    est = Estimator(**{**FAST, "hidden_layer_sizes": (16, 8, 4)}).fit(X, y)
    stats = activation_stats(est, X)
    np.testing.assert_array_equal(stats.layer, [1, 2, 3])
    assert stats.mean.shape == stats.variance.shape == (3,)
    assert np.all(np.isfinite(stats.mean))
    assert np.all(stats.variance > 0)


def test_estimator_inputs_are_standardized_first(classification_data):
    X, y = classification_data
    clf = SNNClassifier(**FAST).fit(X, y)
    shifted = activation_stats(clf, X * 1000 + 50)
    plain = activation_stats(clf, X)
    # Inputs far outside the training scale push activations away from the
    # fixed point; the statistics see the inputs the network sees.
    assert not np.allclose(shifted.variance, plain.variance)
    clf_scaled = SNNClassifier(**FAST).fit(X * 1000 + 50, y)
    np.testing.assert_allclose(
        activation_stats(clf_scaled, X * 1000 + 50).variance,
        plain.variance,
        rtol=0.5,
    )


def test_unfitted_estimator_raises_not_fitted(classification_data):
    X, _ = classification_data
    with pytest.raises(NotFittedError):
        activation_stats(SNNClassifier(), X)


def test_wrong_number_of_features_raises_value_error(classification_data):
    X, y = classification_data
    clf = SNNClassifier(**FAST).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        activation_stats(clf, X[:, :3])


def test_module_with_wrong_input_width_raises_value_error(gaussian_inputs):
    net = SELUNetwork(NetworkSpec(64, (8,), n_outputs=1, dropout=0.0))
    with pytest.raises(ValueError, match="cannot run"):
        activation_stats(net, gaussian_inputs[:, :10])


def test_one_dimensional_input_raises_value_error():
    net = SELUNetwork(NetworkSpec(4, (8,), n_outputs=1, dropout=0.0))
    with pytest.raises(ValueError, match="2D"):
        activation_stats(net, np.zeros(4))


def test_module_without_activations_raises_value_error(gaussian_inputs):
    with pytest.raises(ValueError, match="no activation layer"):
        activation_stats(nn.Linear(64, 2), gaussian_inputs)


def test_other_objects_raise_type_error(gaussian_inputs):
    with pytest.raises(TypeError, match="torch.nn.Module"):
        activation_stats("not a model", gaussian_inputs)


def test_activation_types_choose_the_measured_layers(gaussian_inputs):
    model = nn.Sequential(nn.Linear(64, 32), nn.Tanh(), nn.Linear(32, 8), nn.SELU())
    assert len(activation_stats(model, gaussian_inputs).layer) == 2
    stats = activation_stats(model, gaussian_inputs, activation_types=(nn.SELU,))
    assert len(stats.layer) == 1


def test_training_mode_activates_dropout(gaussian_inputs):
    torch.manual_seed(0)
    net = SELUNetwork(NetworkSpec(64, (128,) * 8, n_outputs=1, dropout=0.0))
    layers = []
    for layer in net.hidden:
        layers.append(layer)
        if isinstance(layer, nn.SELU):
            layers.append(nn.Dropout(0.2))
    # The same network, its hidden layers followed by plain dropout.
    with_dropout = SELUNetwork(net.spec)
    with_dropout.load_state_dict(net.state_dict())
    with_dropout.hidden = nn.Sequential(*layers)
    evaluated = activation_stats(with_dropout, gaussian_inputs)
    np.testing.assert_allclose(
        evaluated.variance, activation_stats(net, gaussian_inputs).variance
    )
    trained = activation_stats(with_dropout, gaussian_inputs, training=True)
    # Plain dropout inflates the variance of SELU activations.
    assert trained.variance[-1] > 1.2 * evaluated.variance[-1]
