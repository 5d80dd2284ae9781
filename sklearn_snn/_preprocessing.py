"""Input and target preprocessing.

Self-normalizing networks need standardized inputs: the SELU fixed point is
only reached from inputs with mean 0 and variance 1. Every estimator therefore
standardizes ``X`` with statistics learned in ``fit`` (constant columns get a
scale of 1), and the regressor also standardizes its targets.
"""

import numpy as np
import torch
from sklearn.preprocessing import StandardScaler

#: Standardized inputs are clipped to this many standard deviations, so that a
#: far out-of-range value at predict time cannot overflow float32 inside the
#: network. Sane data never comes near it.
MAX_ABS_STANDARDIZED = 1e4


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
        The fitted scaler. Constant columns have a scale of 1.

    Raises
    ------
    ValueError
        If a column's mean or variance overflows float64.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        scaler = StandardScaler().fit(values, sample_weight=sample_weight)
    # Depending on the numpy version an overflowing variance comes out as
    # inf or nan; an infinite scale would silently map the column to 0.
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
        Standardized values, clipped to ``MAX_ABS_STANDARDIZED``.

    Raises
    ------
    ValueError
        If the values are too large to standardize in floating point.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        standardized = scaler.transform(values)
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
        Validated, unscaled inputs.
    device : torch.device or str
        Where to standardize and return the result.

    Returns
    -------
    torch.Tensor of shape (n_samples, n_features), dtype float32
        Standardized values on ``device``, clipped to ``MAX_ABS_STANDARDIZED``.

    Raises
    ------
    ValueError
        If the values are too large to standardize in floating point.
    """
    # Copied in its own dtype and widened on the device: a float32 input
    # crosses to a GPU in half the bytes.
    values = torch.as_tensor(values).to(device).to(torch.float64)
    mean = torch.as_tensor(scaler.mean_, device=device, dtype=torch.float64)
    scale = torch.as_tensor(scaler.scale_, device=device, dtype=torch.float64)
    standardized = (values - mean) / scale
    if not torch.isfinite(standardized).all():
        raise _overflow_error("X")
    standardized.clamp_(-MAX_ABS_STANDARDIZED, MAX_ABS_STANDARDIZED)
    return standardized.float()


def _overflow_error(what):
    return ValueError(
        f"{what} has values too large to standardize (their variance "
        "overflows float64). Rescale the affected columns, for example with "
        "a log transform, before fitting."
    )
