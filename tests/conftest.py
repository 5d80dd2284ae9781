import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression

#: Small networks and budgets that keep each fit in the test suite well under a
#: second on two CPU cores. They train on the CPU even where CUDA is available,
#: so that the CPU's guarantees (such as bit-identical predictions) are what the
#: tests check; the GPU tests ask for ``device="cuda"``.
FAST = {
    "device": "cpu",
    "hidden_layer_sizes": (16, 16),
    "learning_rate_init": 0.01,
    "batch_size": 32,
    "max_iter": 50,
    "random_state": 0,
}


@pytest.fixture
def classification_data():
    X, y = make_classification(
        n_samples=200,
        n_features=6,
        n_informative=4,
        n_classes=3,
        random_state=0,
    )
    return X, y


@pytest.fixture
def regression_data():
    X, y = make_regression(n_samples=200, n_features=6, noise=1.0, random_state=0)
    return X, y * 100 + 5000


@pytest.fixture
def rng():
    return np.random.default_rng(0)
