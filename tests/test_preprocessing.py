import numpy as np
import pytest
import torch
from sklearn.preprocessing import StandardScaler

from sklearn_snn._preprocessing import (
    MAX_ABS_STANDARDIZED,
    fit_scaler,
    fit_smooth_clipper,
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


@pytest.mark.parametrize("sample_weight", [None, "random"])
def test_ordinary_columns_get_the_statistics_of_standard_scaler(rng, sample_weight):
    X = rng.normal(loc=[0, 1e3, -1e100], scale=[1, 1e-3, 1e100], size=(200, 3))
    if sample_weight == "random":
        sample_weight = rng.uniform(0.5, 2, size=200)
    ours = fit_scaler(X, sample_weight)
    theirs = StandardScaler().fit(X, sample_weight=sample_weight)
    for name in ("mean_", "var_", "scale_"):
        np.testing.assert_array_equal(getattr(ours, name), getattr(theirs, name))


@pytest.mark.parametrize(
    "column",
    [
        np.linspace(-1e200, 1e200, 40),
        np.tile([-1e200, 1e200], 20),
        np.where(np.arange(40) % 7 == 0, 1e300, np.linspace(-3, 3, 40)),
        np.tile([-1.7e308, 1.7e308], 20),
    ],
    ids=["linspace_1e200", "alternating_1e200", "outliers_1e300", "alternating_max"],
)
def test_columns_whose_squares_overflow_are_standardized_exactly(column):
    # Dividing by a power of two is exact, so the column standardizes to the
    # same bits as a copy small enough for StandardScaler.
    X = np.c_[column, np.linspace(0, 1, 40)]
    small = X / np.array([2.0**700, 1.0])
    Z = standardize(fit_scaler(X), X)
    np.testing.assert_array_equal(Z, standardize(fit_scaler(small), small))
    assert np.isfinite(Z).all()
    np.testing.assert_allclose(Z.std(axis=0), 1, atol=1e-6)


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


def test_float32_near_its_maximum_standardizes_as_in_float64():
    # Deviations from the mean beyond the float32 maximum overflow float32
    # arithmetic; they are standardized in float64 instead.
    big = 0.9 * float(np.finfo(np.float32).max)
    X = np.c_[np.r_[np.full(30, -big), np.full(10, big)], np.linspace(0, 1, 40)]
    X32 = X.astype(np.float32)
    Z = standardize(fit_scaler(X32), X32)
    assert np.isfinite(Z).all()
    X64 = X32.astype(np.float64)
    np.testing.assert_array_equal(Z, standardize(fit_scaler(X64), X64))


def test_ordinary_float32_keeps_the_arithmetic_of_standard_scaler(rng):
    X = rng.normal(loc=[0, -1e7], scale=[1, 1e6], size=(200, 2)).astype(np.float32)
    scaler = fit_scaler(X)
    np.testing.assert_array_equal(standardize(scaler, X), scaler.transform(X))


def test_standardize_tensor_hands_torch_writable_arrays(rng, monkeypatch):
    # torch warns once per process about a read-only array, so the test looks
    # at what reaches torch.as_tensor rather than at the warning.
    X = rng.normal(size=(40, 3))
    scaler = fit_scaler(X)
    read_only = X.copy()
    read_only.flags.writeable = False
    writable = []
    as_tensor = torch.as_tensor

    def recording_as_tensor(data, *args, **kwargs):
        if isinstance(data, np.ndarray):
            writable.append(data.flags.writeable)
        return as_tensor(data, *args, **kwargs)

    monkeypatch.setattr(torch, "as_tensor", recording_as_tensor)
    on_device = standardize_tensor(scaler, read_only, "cpu")
    assert writable
    assert all(writable)
    np.testing.assert_array_equal(on_device.numpy(), standardize(scaler, X))


def test_standardize_tensor_takes_negative_strides(rng):
    X = rng.normal(size=(40, 3))
    scaler = fit_scaler(X[:, ::-1])
    on_device = standardize_tensor(scaler, X[::-1, ::-1], "cpu")
    np.testing.assert_array_equal(on_device.numpy(), standardize(scaler, X[::-1, ::-1]))


def test_smooth_clipper_keeps_the_bulk_and_bounds_the_tail(rng):
    X = rng.normal(loc=5, scale=2, size=(2000, 1))
    X[:10] = 1e6
    clipper = fit_smooth_clipper(X, clip=3.0)
    np.testing.assert_allclose(clipper.center, 5, atol=0.2)
    np.testing.assert_allclose(clipper.scale, 2, rtol=0.1)
    Z = clipper.transform(X)
    assert np.abs(Z).max() < 3.0
    # Within a standard deviation of the median, the clip barely bends.
    near = np.abs(X[:, 0] - 5) < 2
    z = (X[near, 0] - clipper.center[0]) / clipper.scale[0]
    np.testing.assert_allclose(Z[near, 0], z, rtol=0.06)


def test_smooth_clipper_is_monotone_and_keeps_missing_values(rng):
    X = np.sort(rng.lognormal(sigma=2, size=(300, 1)), axis=0)
    X[5] = np.nan
    Z = fit_smooth_clipper(X).transform(X)
    assert np.isnan(Z[5, 0])
    assert np.isnan(Z).sum() == 1
    assert (np.diff(np.delete(Z[:, 0], 5)) >= 0).all()


def test_smooth_clipper_falls_back_from_a_zero_quartile_range():
    # Most values are 0: the quartiles coincide, and the deviation scales.
    X = np.zeros((100, 2))
    X[:10, 0] = 1.0
    clipper = fit_smooth_clipper(X)
    np.testing.assert_allclose(clipper.scale, [np.sqrt(0.1), 1.0])
    np.testing.assert_array_equal(clipper.transform(X)[:, 1], 0)


def test_smooth_clipper_weights_match_repeated_rows(rng):
    X = rng.normal(size=(40, 2))
    weights = rng.integers(0, 3, size=40)
    weighted = fit_smooth_clipper(X, weights.astype(float))
    repeated = fit_smooth_clipper(np.repeat(X, weights, axis=0))
    np.testing.assert_allclose(weighted.center, repeated.center)
    np.testing.assert_allclose(weighted.scale, repeated.scale)


def test_smooth_clipper_takes_values_near_the_float64_limit():
    X = np.array([[-1e308], [0.0], [1.0], [2.0], [1e308]])
    Z = fit_smooth_clipper(X).transform(X)
    assert np.isfinite(Z).all()
    np.testing.assert_allclose(Z[[0, -1], 0], [-3.0, 3.0])
