"""Checks of the inputs that scikit-learn's ``validate_data`` lets through.

``validate_data`` converts what it can to a float array and refuses the rest,
but a few inputs come out of it wrong without an error (datetime columns
become integers in some unit, non-string column names are dropped), or are
refused with a message about something else (missing class labels). The
checks here run on the raw inputs, before ``validate_data``, and name the
problem and the way out. pandas is optional: it is only looked up when it has
been imported, which it has whenever an input is a pandas object.
"""

import sys
import warnings
from numbers import Number

import numpy as np
from sklearn.utils import check_array


def prepare_X(X):
    """Refuse datetime inputs and give non-string column names a string form.

    Parameters
    ----------
    X : array-like
        Inputs, before ``validate_data``.

    Returns
    -------
    array-like
        ``X`` itself, or for a pandas DataFrame whose column names are none of
        them strings (integers, tuples of a MultiIndex), a shallow copy whose
        columns are named by ``str`` of each name, so that scikit-learn records
        them in ``feature_names_in_`` and checks them at predict time.

    Raises
    ------
    ValueError
        If ``X`` is a numpy datetime64 or timedelta64 array, or a DataFrame
        with datetime or timedelta columns.
    """
    if isinstance(X, np.ndarray) and X.dtype.kind in "mM":
        raise ValueError(
            f"X is a numpy {X.dtype} array; SNN estimators need numbers, and a "
            "datetime's or timedelta's integer value depends on its unit. "
            "Convert it first, for example to seconds with "
            "(X - np.datetime64('1970-01-01')) / np.timedelta64(1, 's') for "
            "datetimes or X / np.timedelta64(1, 's') for timedeltas."
        )
    if not _is_pandas(X, "DataFrame"):
        return X
    dated = [name for name, dtype in X.dtypes.items() if dtype.kind in "mM"]
    if dated:
        raise ValueError(
            f"X has datetime or timedelta columns ({_names(dated)}); SNN "
            "estimators need numbers, and a datetime's or timedelta's integer "
            "value depends on its unit. Convert each such column first, for "
            "example a datetime to seconds since an epoch with "
            "(X[col] - pd.Timestamp('1970-01-01')) / pd.Timedelta(seconds=1) "
            "(give the Timestamp the column's tz if it has one), or to features "
            "such as X[col].dt.year, X[col].dt.month and X[col].dt.day; a "
            "timedelta to seconds with X[col].dt.total_seconds()."
        )
    columns = X.columns
    if len(columns) and not any(isinstance(name, str) for name in columns):
        X = X.copy(deep=False)
        X.columns = [str(name) for name in columns]
    return X


def check_validation_data(X_val, y_val, sample_weight_val, early_stopping):
    """Check the validation arguments of ``fit``, as HistGradientBoosting does.

    Returns
    -------
    tuple or None
        ``(X_val, y_val, sample_weight_val)``, or None without validation data.

    Raises
    ------
    ValueError
        If only one of ``X_val`` and ``y_val`` is given, if they are given with
        ``early_stopping=False``, or ``sample_weight_val`` without them.
    """
    if X_val is not None or y_val is not None:
        if X_val is None or y_val is None:
            raise ValueError(
                "X_val and y_val must be passed together: give both, or "
                "neither to hold out validation_fraction of X."
            )
        if not early_stopping:
            raise ValueError(
                "X_val and y_val are passed to fit, but early_stopping=False "
                "uses no validation data. Set early_stopping=True, or do "
                "not pass X_val and y_val."
            )
        return X_val, y_val, sample_weight_val
    if sample_weight_val is not None:
        raise ValueError(
            "sample_weight_val is given without X_val and y_val; pass them "
            "too, or leave it out."
        )
    return None


def check_sample_weight(sample_weight, n_samples):
    """Check ``sample_weight`` (finite, >= 0, not all zero) and scale it to max 1."""
    if sample_weight is None:
        return np.ones(n_samples)
    sample_weight = check_array(
        sample_weight, ensure_2d=False, dtype=np.float64, input_name="sample_weight"
    )
    if sample_weight.shape != (n_samples,):
        raise ValueError(
            f"sample_weight has shape {sample_weight.shape}; expected ({n_samples},), "
            "one weight per sample."
        )
    if (sample_weight < 0).any():
        raise ValueError("sample_weight has negative values; weights must be >= 0.")
    if not sample_weight.any():
        raise ValueError(
            "sample_weight is zero for every sample, so there is nothing to learn "
            "from. Give at least one sample a positive weight."
        )
    # Only relative weights matter; scaling to a maximum of 1 keeps huge weights
    # from overflowing the weighted statistics.
    return sample_weight / sample_weight.max()


def warn_if_index_differs(X, y, name):
    """Warn when a pandas ``y`` is not indexed like a DataFrame ``X``.

    Parameters
    ----------
    X : array-like
        Inputs.
    y : array-like or None
        Targets or sample weights, paired with ``X`` by position.
    name : str
        Name of ``y`` in the warning.
    """
    if not (_is_pandas(X, "DataFrame") and _is_pandas(y, "Series", "DataFrame")):
        return
    # Different lengths are refused by validate_data with a clearer message.
    if len(y.index) == len(X.index) and not y.index.equals(X.index):
        warnings.warn(
            f"The index of {name} differs from the index of X; {name} is used by "
            "position, so its i-th row goes with the i-th row of X whatever "
            "their index labels. If the rows belong together by label, align "
            f"them first with {name} = {name}.reindex(X.index); if they are "
            "already in the same order, drop both indexes with "
            ".reset_index(drop=True).",
            UserWarning,
            # Past this function, _fit, fit (or partial_fit) and
            # scikit-learn's _fit_context wrapper.
            stacklevel=5,
        )


def check_missing_targets(y, noun):
    """Refuse targets with missing values (None, NaN, pd.NA, NaT).

    Parameters
    ----------
    y : array-like or None
        Targets, before ``validate_data``. None is left to ``validate_data``,
        which refuses it in scikit-learn's words.
    noun : {"label", "target"}
        What a value of ``y`` is called in the error message.

    Raises
    ------
    ValueError
        If ``y`` has missing values.
    """
    if y is None:
        return
    try:
        array = np.asarray(y)
    except (TypeError, ValueError):
        # A ragged or otherwise malformed y: validate_data says what is wrong.
        return
    if array.dtype.kind in "fc":
        missing = np.isnan(array)
    elif array.dtype.kind in "mM":
        missing = np.isnat(array)
    elif array.dtype.kind == "O":
        missing = _isna_objects(array)
    else:
        return
    n_missing = int(missing.sum())
    if not n_missing:
        return
    markers = ", ".join(sorted({_marker(array, value) for value in array[missing]}))
    counted = (
        f"{n_missing} of its {array.size} {noun}s are missing ({markers})"
        if n_missing > 1
        else f"1 of its {array.size} {noun}s is missing ({markers})"
    )
    types = _label_type_mix(array) if noun == "label" else None
    if types is not None:
        counted += f", so it mixes labels of different types ({types})"
    raise ValueError(
        f"y has missing {noun}s: {counted}. Every sample needs a {noun}: "
        "remove the samples without one from both X and y, or fill in their "
        f"{noun}s, before fitting."
    )


def check_label_types(y):
    """Refuse class labels that mix types, such as ints and strings.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        Validated class labels.

    Raises
    ------
    ValueError
        If the labels are of more than one type and not all numbers.
    """
    types = _label_type_mix(y)
    if types is not None:
        raise ValueError(
            f"y mixes labels of different types ({types}); class labels must "
            "all be strings or all be numbers. Convert them, for example with "
            "y.astype(str)."
        )


def _label_type_mix(y):
    """Return the sorted type names of object labels that mix types, or None."""
    if y.dtype != object:
        return None
    types = {type(label) for label in y.ravel()}
    if len(types) > 1 and not all(issubclass(t, Number) for t in types):
        return ", ".join(sorted(t.__name__ for t in types))
    return None


def _isna_objects(array):
    pd = sys.modules.get("pandas")
    if pd is not None:
        return np.asarray(pd.isna(array), dtype=bool)
    # Without pandas, None and float NaN are the only missing markers.
    return np.frompyfunc(
        lambda v: v is None or (isinstance(v, float | np.floating) and v != v), 1, 1
    )(array).astype(bool)


def _marker(array, value):
    """Return the name of a missing value, as the error message shows it."""
    if array.dtype.kind in "mM":
        return "NaT"
    if value is None:
        return "None"
    if isinstance(value, float | np.floating):
        return "NaN"
    pd = sys.modules.get("pandas")
    if pd is not None and value is pd.NA:
        return "pd.NA"
    return repr(value)


def _is_pandas(obj, *kinds):
    pd = sys.modules.get("pandas")
    return pd is not None and isinstance(obj, tuple(getattr(pd, k) for k in kinds))


def _names(names):
    return ", ".join(repr(name) for name in names)
