"""Fits of a fixed random_state reproduce, also several at once in threads."""

import threading
import warnings

import numpy as np
import pytest
import torch
from conftest import FAST
from sklearn.exceptions import ConvergenceWarning

from sklearn_snn import SNNClassifier, SNNRegressor

CASES = [
    (SNNClassifier, {}),
    (SNNRegressor, {}),
    (SNNClassifier, {"n_estimators": 1, "weight_constraint": "center"}),
]


def _fit(Estimator, params, X, y, seed):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = Estimator(**{**FAST, **params, "random_state": seed}).fit(X, y)
    return model.predict(X)


@pytest.mark.parametrize(("Estimator", "params"), CASES)
def test_concurrent_fits_in_threads_equal_sequential_fits(
    Estimator, params, classification_data
):
    X, labels = classification_data
    y = labels if Estimator is SNNClassifier else X[:, 0] + X[:, 1]
    seeds = [0, 0, 1, 2]
    sequential = [_fit(Estimator, params, X, y, seed) for seed in seeds]
    concurrent = [None] * len(seeds)
    start = threading.Barrier(len(seeds))

    def run(index):
        start.wait()
        concurrent[index] = _fit(Estimator, params, X, y, seeds[index])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(seeds))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for alone, together in zip(sequential, concurrent, strict=True):
        np.testing.assert_array_equal(together, alone)


def test_fitting_never_touches_torchs_global_random_state(classification_data):
    X, y = classification_data
    torch.manual_seed(123)
    state = torch.get_rng_state()
    expected = torch.rand(3)
    torch.set_rng_state(state)
    for params in ({}, {"compile_step": True, "max_iter": 1}):
        _fit(SNNClassifier, params, X, y, seed=0)
    # The global generator is where it was: fitting drew nothing from it.
    assert torch.equal(torch.rand(3), expected)
