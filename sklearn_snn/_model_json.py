"""The estimator's parameters and fitted state as JSON, for model files.

``persistence`` writes what these functions return into ``metadata.json`` and
rebuilds an estimator from it. Every value is plain JSON: numbers, strings,
lists, and arrays as ``{"dtype": ..., "values": [...]}``.

Reading checks every value's type and range, since a model file may come from
anyone: a value that is not what ``save`` writes raises a ValueError that
names it, instead of loading as garbage or failing later in ``predict``.
"""

import json
import math
from numbers import Integral

import numpy as np
from sklearn.preprocessing import StandardScaler

from ._preprocessing import SmoothClipper

#: Label dtypes that JSON lists round-trip: bool, int, uint, float, str, object.
_LABEL_KINDS = "biufUO"

#: The most memory that one array of the metadata may take once read. An
#: array of numbers takes at most 4 bytes per byte of its JSON (``0,`` for an
#: 8-byte number), so this admits every array that the largest metadata
#: ``load`` reads (8 MiB) can hold, while a dtype such as ``<U1000000000``
#: cannot make a short list allocate gigabytes.
MAX_ARRAY_BYTES = 32 << 20

#: JSON values that are plain scalars: what labels and pair keys may be.
_PLAIN_SCALARS = (str, int, float)


def params_to_json(params):
    """Return ``get_params(deep=False)`` as JSON; numpy scalars become Python ones.

    Numpy scalars are converted wherever they are, in tuples and lists too,
    so that parameters from a search over ``np.arange`` can be stored. An
    array of ``categorical_features`` is stored, and loads, as a list.
    """
    params = dict(params)
    sizes = params["hidden_layer_sizes"]
    params["hidden_layer_sizes"] = (
        int(sizes) if isinstance(sizes, Integral) else [int(s) for s in sizes]
    )
    categorical = params.get("categorical_features")
    if categorical is not None and not isinstance(categorical, (str, list, tuple)):
        # An array or a Series, such as X.dtypes == "category", as a JSON list.
        params["categorical_features"] = np.asarray(categorical).tolist()
    if not isinstance(params["random_state"], (Integral, type(None))):
        params["random_state"] = None
    elif params["random_state"] is not None:
        params["random_state"] = int(params["random_state"])
    class_weight = params.get("class_weight")
    if isinstance(class_weight, dict):
        # JSON keys are strings; pairs keep the label's type.
        params["class_weight"] = {
            "pairs": [[_plain(k), _plain(v)] for k, v in class_weight.items()]
        }
    out = {key: _plain(value) for key, value in params.items()}
    try:
        json.dumps(out)
    except TypeError as exc:
        raise TypeError(f"A parameter cannot be stored as JSON: {exc}") from exc
    return out


def _plain(value):
    """Return ``value`` with numpy scalars as Python ones, tuples as lists."""
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {_plain(key): _plain(item) for key, item in value.items()}
    return scalar(value)


def params_from_json(params):
    """Return the parameters that :func:`params_to_json` stored, for ``set_params``.

    Raises
    ------
    ValueError
        If ``params`` is not a JSON object, or ``class_weight`` is not stored
        as pairs of a label and a weight.
    """
    if not isinstance(params, dict):
        raise ValueError(f"params is {_kind(params)}, not a JSON object")
    params = dict(params)
    if isinstance(params.get("hidden_layer_sizes"), list):
        params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
    class_weight = params.get("class_weight")
    if isinstance(class_weight, dict):
        pairs = class_weight.get("pairs")
        if set(class_weight) != {"pairs"} or not isinstance(pairs, list):
            raise ValueError(
                "class_weight is stored as {'pairs': [[label, weight], ...]}, "
                f"found {_short(class_weight)}"
            )
        for pair in pairs:
            if not (
                isinstance(pair, list)
                and len(pair) == 2
                and isinstance(pair[0], _PLAIN_SCALARS)
            ):
                raise ValueError(
                    f"class_weight pair {_short(pair)} is not [label, weight] "
                    "with a number or string label"
                )
            checked_number(pair[1], f"the class_weight of {_short(pair[0])}")
        params["class_weight"] = {key: value for key, value in pairs}
    return params


def scalar(value):
    """Return a numpy scalar as the Python number it holds; other values as they are."""
    return value.item() if isinstance(value, np.generic) else value


def checked_int(value, what, minimum=0):
    """Return ``value`` if it is a JSON integer of at least ``minimum``.

    Parameters
    ----------
    value : object
        A value read from JSON.
    what : str
        Its name, for the error message.
    minimum : int, default=0
        The smallest value allowed.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        If ``value`` is not an integer (a bool, a float and a string are not),
        or is below ``minimum``.
    """
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{what} is {_kind(value)}, not an integer")
    if value < minimum:
        raise ValueError(f"{what} is {value}, less than {minimum}")
    return value


def checked_number(value, what, finite=True):
    """Return ``value`` as a float if it is a JSON number (finite by default).

    Parameters
    ----------
    value : object
        A value read from JSON.
    what : str
        Its name, for the error message.
    finite : bool, default=True
        Whether nan and infinities are refused.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If ``value`` is not a number (a bool and a string are not), is too
        large for a float, or is not finite when ``finite`` is True.
    """
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise ValueError(f"{what} is {_kind(value)}, not a number")
    try:
        number = float(value)
    except OverflowError:
        raise ValueError(f"{what} is an integer too large for a float") from None
    if finite and not math.isfinite(number):
        raise ValueError(f"{what} is {number}, not a finite number")
    return number


def _kind(value):
    """Describe a JSON value briefly, for error messages."""
    names = {dict: "a JSON object", list: "a JSON list", str: "a string"}
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({value})"
    if isinstance(value, (int, float)):
        return f"the number {_short(value)}"
    return f"{names.get(type(value), type(value).__name__)} {_short(value)}"


def _short(value, limit=60):
    """Return ``repr(value)``, cut to ``limit`` characters."""
    try:
        text = repr(value)
    except ValueError:  # an int with more digits than Python converts
        text = "a very large integer"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _array_to_json(array):
    array = np.asarray(array)
    if array.dtype.kind not in _LABEL_KINDS:
        raise TypeError(f"Arrays of dtype {array.dtype} cannot be stored as JSON.")
    values = array.tolist()
    try:
        json.dumps(values)
    except TypeError as exc:
        raise TypeError(f"Values cannot be stored as JSON: {exc}") from exc
    return {"dtype": array.dtype.str, "values": values}


def _array_from_json(stored, what, kinds=_LABEL_KINDS, exact=True):
    """Return the 1-D array that :func:`_array_to_json` stored, checked.

    Every value must be a JSON scalar of the dtype's kind (a string for a
    string dtype, a number for a numeric one); a list, an object or null
    among the values, a dtype of another kind than ``kinds``, or an array
    larger than ``MAX_ARRAY_BYTES`` is refused. With ``exact``, so is a value
    that the dtype would change (a string cut to the dtype's width, a float
    rounded to an int).
    """
    if not isinstance(stored, dict) or set(stored) != {"dtype", "values"}:
        raise ValueError(
            f"{what} is {_kind(stored)}, not an array stored as "
            "{'dtype': ..., 'values': [...]}"
        )
    name, values = stored["dtype"], stored["values"]
    if not isinstance(name, str):
        raise ValueError(f"{what} has dtype {_kind(name)}, not a dtype name")
    try:
        dtype = np.dtype(name)
    except (TypeError, ValueError):
        raise ValueError(f"{what} has dtype {_short(name)}, not a dtype") from None
    if dtype.kind not in kinds:
        raise ValueError(f"{what} has the unsupported dtype {dtype}")
    if not isinstance(values, list):
        raise ValueError(f"{what} values are {_kind(values)}, not a JSON list")
    if len(values) * dtype.itemsize > MAX_ARRAY_BYTES:
        raise ValueError(
            f"{what} would take {len(values) * dtype.itemsize} bytes as {dtype}, "
            f"more than the {MAX_ARRAY_BYTES} that an array of a model file may"
        )
    types = _VALUE_TYPES[dtype.kind]
    for value in values:
        if not isinstance(value, types) or (
            isinstance(value, bool) and dtype.kind not in "bO"
        ):
            raise ValueError(
                f"{what} holds {_kind(value)}; its values must be "
                f"{_VALUE_NAMES[dtype.kind]}"
            )
    try:
        array = np.array(values, dtype=dtype)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{what} values do not fit its dtype {dtype}") from None
    if exact and array.tolist() != values:
        raise ValueError(f"{what} values change when stored as {dtype}")
    return array


#: The JSON values that an array of each dtype kind holds, and their names.
_VALUE_TYPES = {
    "b": bool,
    "i": int,
    "u": int,
    "f": (int, float),
    "U": str,
    "O": _PLAIN_SCALARS,
}
_VALUE_NAMES = {
    "b": "booleans",
    "i": "integers",
    "u": "integers",
    "f": "numbers",
    "U": "strings",
    "O": "numbers or strings",
}


def _labels_from_json(stored):
    """Return class labels: distinct numbers or strings, sorted as fit sorts them."""
    labels = _array_from_json(stored, "classes")
    types = {type(label) for label in labels.tolist()}
    if len(types) > 1 and str in types:
        raise ValueError("classes mix strings and numbers")
    if len(labels) < 2:
        raise ValueError(f"classes has {len(labels)} labels; a classifier has 2+")
    try:
        distinct_sorted = np.array_equal(np.unique(labels), labels)
    except TypeError:
        distinct_sorted = False
    if not distinct_sorted:
        raise ValueError("classes are not distinct labels in sorted order")
    return labels


def _scaler_to_json(scaler):
    seen = scaler.n_samples_seen_
    return {
        "mean": _array_to_json(scaler.mean_),
        "var": _array_to_json(scaler.var_),
        "scale": _array_to_json(scaler.scale_),
        "n_samples_seen": _array_to_json(seen)
        if isinstance(seen, np.ndarray)
        else scalar(seen),
    }


def _scaler_from_json(stored, what="scaler"):
    """Return the scaler that :func:`_scaler_to_json` stored, checked.

    The mean and scale must be finite, the scale positive and the variance
    non-negative (infinite where a column's squares overflow), so that a
    damaged file cannot standardize inputs to nan.
    """
    if not isinstance(stored, dict):
        raise ValueError(f"{what} is {_kind(stored)}, not a JSON object")
    mean, var, scale = (
        _array_from_json(stored[key], f"{what} {key}", "f", exact=False).astype(
            np.float64
        )
        for key in ("mean", "var", "scale")
    )
    if not len(mean) == len(var) == len(scale):
        raise ValueError(
            f"{what} has {len(mean)} means, {len(var)} variances and "
            f"{len(scale)} scales"
        )
    if not np.isfinite(mean).all():
        raise ValueError(f"{what} mean holds non-finite values")
    if not (np.isfinite(scale).all() and (scale > 0).all()):
        raise ValueError(f"{what} scale holds values that are not finite and positive")
    if not (var >= 0).all():
        raise ValueError(f"{what} var holds negative or nan values")
    seen = stored["n_samples_seen"]
    if isinstance(seen, dict):
        seen = _array_from_json(seen, f"{what} n_samples_seen", "iuf", exact=False)
        if not (np.isfinite(seen).all() and (seen >= 0).all()):
            raise ValueError(f"{what} n_samples_seen holds counts not finite and >= 0")
    elif checked_number(seen, f"{what} n_samples_seen") < 0:
        raise ValueError(f"{what} n_samples_seen is negative")
    scaler = StandardScaler()
    scaler.mean_, scaler.var_, scaler.scale_ = mean, var, scale
    scaler.n_samples_seen_ = seen
    scaler.n_features_in_ = len(scaler.mean_)
    return scaler


def _clipper_to_json(clipper):
    if clipper is None:
        return None
    return {
        "center": _array_to_json(clipper.center),
        "scale": _array_to_json(clipper.scale),
        "clip": float(clipper.clip),
    }


def _clipper_from_json(stored):
    """Return the :class:`SmoothClipper` that :func:`_clipper_to_json` stored.

    The centers must be finite and the scales and the clip finite and
    positive, so that a damaged file cannot turn inputs into nan.
    """
    if stored is None:
        return None
    if not isinstance(stored, dict):
        raise ValueError(f"clipper is {_kind(stored)}, not a JSON object")
    center, scale = (
        _array_from_json(stored[key], f"clipper {key}", "f", exact=False).astype(
            np.float64
        )
        for key in ("center", "scale")
    )
    if len(center) != len(scale):
        raise ValueError(f"clipper has {len(center)} centers and {len(scale)} scales")
    if not np.isfinite(center).all():
        raise ValueError("clipper center holds non-finite values")
    if not (np.isfinite(scale).all() and (scale > 0).all()):
        raise ValueError("clipper scale holds values that are not finite and positive")
    clip = checked_number(stored["clip"], "clipper clip")
    if not clip > 0:
        raise ValueError(f"clipper clip is {clip}, not positive")
    return SmoothClipper(center, scale, clip)


def fitted_to_json(estimator):
    """Return a fitted estimator's state (scaling, targets, curves) as JSON."""
    fitted = {
        "n_features_in": int(estimator.n_features_in_),
        "scaler": _scaler_to_json(estimator.scaler_),
        "clipper": _clipper_to_json(getattr(estimator, "clipper_", None)),
        "device": estimator.device_,
        "n_iter": int(estimator.n_iter_),
        "loss_curve": [float(v) for v in estimator.loss_curve_],
        "validation_scores": None
        if estimator.validation_scores_ is None
        else [float(v) for v in estimator.validation_scores_],
        "best_validation_score": None
        if estimator.best_validation_score_ is None
        else float(estimator.best_validation_score_),
    }
    if hasattr(estimator, "feature_names_in_"):
        fitted["feature_names_in"] = _array_to_json(estimator.feature_names_in_)
    for attribute, kind in estimator._fitted_target_attributes.items():
        fitted[attribute.rstrip("_")] = _TO_JSON[kind](getattr(estimator, attribute))
    return fitted


def fitted_from_json(estimator, fitted):
    """Set the fitted attributes that :func:`fitted_to_json` stored.

    Raises
    ------
    ValueError
        If a value is not of the type and range that ``fitted_to_json``
        writes.
    KeyError
        If a field is missing.
    """
    if not isinstance(fitted, dict):
        raise ValueError(f"fitted is {_kind(fitted)}, not a JSON object")
    if not isinstance(fitted.get("device", ""), str):
        raise ValueError(f"fitted device is {_kind(fitted['device'])}, not a string")
    estimator.n_features_in_ = checked_int(fitted["n_features_in"], "n_features_in", 1)
    # Its size is checked against the encoding's (persistence._check_consistent).
    estimator.scaler_ = _scaler_from_json(fitted["scaler"])
    # Files before version 5 have no clipper: they were standardized only.
    estimator.clipper_ = _clipper_from_json(fitted.get("clipper"))
    if "feature_names_in" in fitted:
        names = _array_from_json(fitted["feature_names_in"], "feature_names_in", "UO")
        if not all(isinstance(name, str) for name in names.tolist()):
            raise ValueError("feature_names_in holds values that are not strings")
        estimator.feature_names_in_ = names.astype(object)
    estimator.n_iter_ = checked_int(fitted["n_iter"], "n_iter")
    estimator.loss_curve_ = _curve(fitted["loss_curve"], "loss_curve")
    scores = fitted["validation_scores"]
    estimator.validation_scores_ = (
        None if scores is None else _curve(scores, "validation_scores")
    )
    best = fitted["best_validation_score"]
    estimator.best_validation_score_ = (
        None
        if best is None
        else checked_number(best, "best_validation_score", finite=False)
    )
    for attribute, kind in estimator._fitted_target_attributes.items():
        setattr(estimator, attribute, _FROM_JSON[kind](fitted[attribute.rstrip("_")]))


def _curve(values, what):
    """Return a training curve: a list of numbers, nan allowed (a diverged epoch)."""
    if not isinstance(values, list):
        raise ValueError(f"{what} is {_kind(values)}, not a JSON list")
    return [checked_number(v, f"a value of {what}", finite=False) for v in values]


def _n_outputs_from_json(value):
    return checked_int(value, "n_outputs", 1)


#: How each kind of fitted target attribute (``_fitted_target_attributes``)
#: is written to JSON and read back.
_TO_JSON = {"labels": _array_to_json, "int": int, "scaler": _scaler_to_json}
_FROM_JSON = {
    "labels": _labels_from_json,
    "int": _n_outputs_from_json,
    "scaler": lambda stored: _scaler_from_json(stored, "target_scaler"),
}
