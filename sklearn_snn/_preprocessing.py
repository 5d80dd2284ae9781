"""Input and target preprocessing.

Self-normalizing networks need standardized inputs: the SELU fixed point is
only reached from inputs with mean 0 and variance 1. Every estimator therefore
standardizes ``X`` with statistics learned in ``fit`` (constant columns get a
scale of 1), and the regressor also standardizes its targets.

With ``input_scaling='robust'`` the numeric columns are first centered on
their median, divided by their interquartile range and bent by a smooth clip
(:class:`SmoothClipper`), as RealMLP does (Holzmüller et al., 2024), and then
standardized: a heavy tail or a far outlier no longer shrinks the bulk of a
column to a sliver of its unit variance, and no input reaches the first layer
more than a few units from zero.
"""

import warnings

import numpy as np
import torch
from sklearn.preprocessing import StandardScaler

#: Standardized inputs are clipped to this many standard deviations, so that a
#: far out-of-range value at predict time cannot overflow float32 inside the
#: network. Sane data never comes near it.
MAX_ABS_STANDARDIZED = 1e4

#: Columns with a value beyond this are scaled by a power of two before their
#: statistics are taken, so that their squares cannot overflow float64.
_LARGEST_UNSCALED = 2.0**400

#: The interquartile range of a standard normal: dividing by it leaves a
#: normal column at unit scale before the clip.
_NORMAL_IQR = 1.3489795003921634


class SmoothClipper:
    """Robust scaling and smooth clipping of numeric columns.

    Each value ``x`` becomes ``z / sqrt(1 + (z / clip)**2)`` with
    ``z = (x - center) / scale``: close to ``z`` within a unit or two of the
    center, and never beyond ``clip``. Missing values (NaN) stay missing.

    Parameters
    ----------
    center : ndarray of shape (n_columns,)
        Each column's median.
    scale : ndarray of shape (n_columns,)
        Each column's interquartile range divided by a standard normal's, or
        its standard deviation where the quartiles coincide, or 1 for a
        constant column.
    clip : float
        The bound of the clipped values.
    """

    def __init__(self, center, scale, clip):
        self.center = center
        self.scale = scale
        self.clip = clip

    def transform(self, values):
        """Return the scaled and clipped values, float64.

        Parameters
        ----------
        values : ndarray of shape (n_samples, n_columns)
            Numeric columns, missing values as NaN.

        Returns
        -------
        ndarray of shape (n_samples, n_columns), dtype float64
        """
        with np.errstate(over="ignore", invalid="ignore"):
            z = (values.astype(np.float64) - self.center) / self.scale
            # hypot rather than the square root of a square, which overflows.
            bent = z / np.hypot(1.0, z / self.clip)
        # Where z overflowed, the limit of the clip.
        overflowed = np.isnan(bent) & ~np.isnan(values)
        bent[overflowed] = np.copysign(self.clip, z[overflowed])
        return bent


def fit_smooth_clipper(values, sample_weight=None, clip=3.0):
    """Learn each column's median and robust scale for :class:`SmoothClipper`.

    Parameters
    ----------
    values : ndarray of shape (n_samples, n_columns)
        Numeric columns, missing values as NaN.
    sample_weight : ndarray of shape (n_samples,), default=None
        Weights of the samples in the quantiles.
    clip : float, default=3.0
        The bound of the clipped values.

    Returns
    -------
    SmoothClipper
    """
    values = values.astype(np.float64)
    weights = np.ones(len(values)) if sample_weight is None else sample_weight
    n_columns = values.shape[1]
    center, scale = np.zeros(n_columns), np.ones(n_columns)
    for j in range(n_columns):
        present = ~np.isnan(values[:, j]) & (weights > 0)
        column, column_weights = values[present, j], weights[present]
        if column.size == 0:
            continue
        # Weighted quantiles of the observed values: inverted_cdf is the
        # method numpy weighs, and weights of 2 then match repeated rows.
        q25, q50, q75 = np.quantile(
            column, [0.25, 0.5, 0.75], weights=column_weights, method="inverted_cdf"
        )
        center[j] = q50
        with np.errstate(over="ignore", invalid="ignore"):
            spread = (q75 / 2 - q25 / 2) * (2 / _NORMAL_IQR)
            if not spread > 0:
                deviation = (column - q50) / 2
                spread = 2 * np.sqrt(np.average(deviation**2, weights=column_weights))
        if np.isfinite(spread) and spread > 0:
            scale[j] = spread
    return SmoothClipper(center, scale, clip)


def fit_scaler(values, sample_weight=None, what="X"):
    """Learn per-column mean and standard deviation.

    Parameters
    ----------
    values : ndarray of shape (n_samples, n_columns)
        Inputs or 2-D targets.
    sample_weight : ndarray of shape (n_samples,), default=None
        Weights of the samples in the statistics.
    what : str, default="X"
        Name of the values, for the error message.

    Returns
    -------
    sklearn.preprocessing.StandardScaler
        The fitted scaler. Constant columns have a scale of 1, or the power
        of two that a column beyond ``2**400`` was divided by.

    Raises
    ------
    ValueError
        If a column's mean or standard deviation overflows float64, which
        sample weights near the float64 limit can cause.
    """
    # Squares of values beyond about 1e154 overflow float64, and the variance
    # of such a column would come out as nan, or as inf, which scikit-learn
    # takes for a constant column. Columns that large are standardized after
    # division by a power of two, which is exact, and the statistics are
    # multiplied back.
    with warnings.catch_warnings():
        # An all-NaN column (of X_val's rows, say) has no magnitude.
        warnings.simplefilter("ignore", RuntimeWarning)
        magnitude = np.maximum(
            np.nanmax(values, axis=0, initial=0), -np.nanmin(values, axis=0, initial=0)
        ).astype(np.float64)
    large = magnitude >= _LARGEST_UNSCALED
    power = np.where(large, np.ldexp(1.0, np.frexp(magnitude)[1] - 1), 1.0)
    with np.errstate(over="ignore", invalid="ignore"):
        scaler = StandardScaler().fit(
            values / power if large.any() else values, sample_weight=sample_weight
        )
        scaler.mean_ *= power
        scaler.scale_ *= power
        # Twice rather than by power**2, which overflows for large columns.
        scaler.var_ *= power
        scaler.var_ *= power
    if not (np.isfinite(scaler.mean_).all() and np.isfinite(scaler.scale_).all()):
        raise _overflow_error(what)
    return scaler


def standardize(scaler, values, what="X"):
    """Standardize with a fitted scaler and return float32 for the network.

    Parameters
    ----------
    scaler : sklearn.preprocessing.StandardScaler
        Scaler from :func:`fit_scaler`.
    values : ndarray of shape (n_samples, n_columns)
        Values to standardize.
    what : str, default="X"
        Name of the values, for the error message.

    Returns
    -------
    ndarray of shape (n_samples, n_columns), dtype float32
        Standardized values, clipped to ``MAX_ABS_STANDARDIZED``, missing
        values (NaN) imputed with the mean: 0. Float32 values are
        standardized in float32 arithmetic, as scikit-learn does, unless that
        overflows; then in float64.

    Raises
    ------
    ValueError
        If the values are too large to standardize in floating point.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        standardized = scaler.transform(values)
        if values.dtype != np.float64 and not np.isfinite(standardized).all():
            # scikit-learn standardizes float32 in float32, where deviations
            # near the float32 maximum overflow; float64 holds any of them.
            standardized = scaler.transform(values.astype(np.float64))
    np.nan_to_num(standardized, copy=False, nan=0.0, posinf=np.inf, neginf=-np.inf)
    if not np.isfinite(standardized).all():
        raise _overflow_error(what)
    np.clip(standardized, -MAX_ABS_STANDARDIZED, MAX_ABS_STANDARDIZED, out=standardized)
    return standardized.astype(np.float32, copy=False)


def standardize_tensor(scaler, values, device):
    """Standardize on ``device``: :func:`standardize` for the network's input.

    The arithmetic is the same (float64, then clipped and rounded to float32),
    but it runs where the network runs, so a GPU predicts without waiting for
    the CPU to standardize.

    Parameters
    ----------
    scaler : sklearn.preprocessing.StandardScaler
        Scaler from :func:`fit_scaler`.
    values : ndarray of shape (n_samples, n_features)
        Validated, unscaled inputs; copied when torch cannot share their
        memory (read-only or negative strides).
    device : torch.device or str
        Where to standardize and return the result.

    Returns
    -------
    torch.Tensor of shape (n_samples, n_features), dtype float32
        Standardized values on ``device``, clipped to ``MAX_ABS_STANDARDIZED``,
        missing values (NaN) imputed with the mean: 0.

    Raises
    ------
    ValueError
        If the values are too large to standardize in floating point.
    """
    if not values.flags.writeable or any(step < 0 for step in values.strides):
        # torch warns about read-only arrays (pandas 3 hands them out) and
        # cannot wrap negative strides (X[:, ::-1]); a copy of the batch is cheap.
        values = np.array(values, order="C")
    # Copied in its own dtype and widened on the device: a float32 input
    # crosses to a GPU in half the bytes.
    values = torch.as_tensor(values).to(device).to(torch.float64)
    mean = torch.as_tensor(scaler.mean_, device=device, dtype=torch.float64)
    scale = torch.as_tensor(scaler.scale_, device=device, dtype=torch.float64)
    standardized = ((values - mean) / scale).nan_to_num_(
        nan=0.0, posinf=torch.inf, neginf=-torch.inf
    )
    if not torch.isfinite(standardized).all():
        raise _overflow_error("X")
    standardized.clamp_(-MAX_ABS_STANDARDIZED, MAX_ABS_STANDARDIZED)
    return standardized.float()


def _overflow_error(what):
    return ValueError(
        f"{what} has values too large to standardize (their spread "
        "overflows float64). Rescale the affected columns, for example with "
        "a log transform, before fitting."
    )
