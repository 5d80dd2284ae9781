import numpy as np
import pytest
import torch

from sklearn_snn._preprocessing import (
    MAX_ABS_STANDARDIZED,
    fit_scaler,
    standardize,
    standardize_tensor,
)


def test_standardize_gives_float32_with_mean_0_and_variance_1(rng):
    X = rng.normal(loc=50, scale=7, size=(500, 3))
    Z = standardize(fit_scaler(X), X)
    assert Z.dtype == np.float32
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(Z.std(axis=0), 1, atol=1e-5)


def test_constant_columns_become_zero(rng):
    X = np.column_stack([rng.normal(size=50), np.full(50, 3.0)])
    Z = standardize(fit_scaler(X), X)
    np.testing.assert_array_equal(Z[:, 1], 0)


def test_far_out_of_range_values_are_clipped(rng):
    scaler = fit_scaler(rng.normal(size=(50, 2)))
    Z = standardize(scaler, np.array([[1e30, -1e30]]))
    np.testing.assert_array_equal(Z, [[MAX_ABS_STANDARDIZED, -MAX_ABS_STANDARDIZED]])


def test_sample_weight_enters_the_statistics():
    X = np.array([[0.0], [10.0]])
    scaler = fit_scaler(X, sample_weight=np.array([3.0, 1.0]))
    assert scaler.mean_[0] == pytest.approx(2.5)


def test_standardize_tensor_matches_standardize(rng):
    X = rng.normal(loc=5, scale=3, size=(40, 3))
    X[0, 0] = 1e300
    scaler = fit_scaler(X[1:])
    on_device = standardize_tensor(scaler, X, "cpu")
    assert on_device.dtype == torch.float32
    np.testing.assert_array_equal(on_device.numpy(), standardize(scaler, X))


def test_standardize_tensor_names_an_overflow(rng):
    scaler = fit_scaler(np.array([[-1e300], [1e300]]))
    with pytest.raises(ValueError, match="too large to standardize"):
        standardize_tensor(scaler, np.array([[np.inf]]), "cpu")
