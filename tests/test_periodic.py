import math
import warnings

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning

from sklearn_snn import SNNClassifier, SNNRegressor
from sklearn_snn._periodic import PeriodicEmbedding


def test_features_come_input_after_input():
    embedding = PeriodicEmbedding(3, n_frequencies=4, dim=2, sigma=0.1)
    X = torch.randn(10, 3)
    features = embedding(X)
    assert features.shape == (10, 6)
    # The features of input 1 depend on input 1 only.
    changed = X.clone()
    changed[:, 1] += 1
    moved = (embedding(changed) != features).any(dim=0)
    assert moved.tolist() == [False, False, True, True, False, False]


def test_features_of_one_input_are_its_waves_mixed():
    embedding = PeriodicEmbedding(1, n_frequencies=3, dim=2, sigma=0.5)
    x = torch.randn(7, 1)
    f, b = embedding.frequency[0, 0], embedding.phase[0, 0]
    mean = torch.cos(b) * torch.exp(-2 * (math.pi * f) ** 2)
    waves = math.sqrt(2) * (torch.cos(2 * math.pi * f * x + b) - mean)
    expected = waves @ embedding.weight[0] + embedding.bias[0]
    torch.testing.assert_close(embedding(x), expected)


@pytest.mark.parametrize("sigma", [0.1, 1.0])
def test_features_start_centered_on_standard_normal_inputs(sigma):
    # The SELU fixed point needs the first layer's inputs near mean 0: the
    # waves are centered on their mean over N(0, 1) inputs.
    torch.manual_seed(0)
    embedding = PeriodicEmbedding(200, n_frequencies=16, dim=3, sigma=sigma)
    with torch.no_grad():
        features = embedding(torch.randn(20000, 200))
    assert features.mean(dim=0).abs().max() < 0.05
    assert 0.2 < features.var(dim=0).mean() < 1.2


def test_frequencies_and_phases_are_learned():
    embedding = PeriodicEmbedding(2, n_frequencies=4, dim=3, sigma=0.1)
    embedding(torch.randn(16, 2)).square().sum().backward()
    for parameter in embedding.parameters():
        assert parameter.grad is not None
        assert parameter.grad.abs().sum() > 0


def test_initialization_follows_the_generator():
    first, second = (
        PeriodicEmbedding(3, 4, 2, 0.1, torch.Generator().manual_seed(1))
        for _ in range(2)
    )
    for a, b in zip(first.parameters(), second.parameters(), strict=True):
        torch.testing.assert_close(a, b)


def test_each_estimator_draws_its_own_initial_frequencies():
    # The classifier's frequencies start at half the regressor's spread (see
    # _defaults); 1,000 columns of 16 waves estimate it within a few percent.
    X = np.random.default_rng(0).normal(size=(20, 1000))
    params = {"hidden_layer_sizes": (4,), "max_iter": 1, "n_estimators": 1}
    params["learning_rate_init"] = 1e-9
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = SNNClassifier(**params).fit(X, np.arange(20) % 2)
        reg = SNNRegressor(**params).fit(X, np.arange(20.0))
    for model, sigma in [(clf, 0.05), (reg, 0.1)]:
        assert model.net_.module_.spec.periodic_sigma == sigma
        frequency = model.net_.module_.periodic.frequency
        assert frequency.std().item() == pytest.approx(sigma, rel=0.05)
