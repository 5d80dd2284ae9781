"""The estimator's parameters and fitted state as JSON, for model files.

``persistence`` writes what these functions return into ``metadata.json`` and
rebuilds an estimator from it. Every value is plain JSON: numbers, strings,
lists, and arrays as ``{"dtype": ..., "values": [...]}``.

Reading checks every value's type and range, since a model file may come from
anyone: a value that is not what ``save`` writes raises a ValueError that
names it, instead of loading as garbage or failing later in ``predict``.
"""

import json
from numbers import Integral

import numpy as np
from sklearn.preprocessing import StandardScaler

from ._json_values import (
    PLAIN_SCALARS,
    array_from_json,
    array_to_json,
    checked_int,
    checked_number,
    describe,
    scalar,
    short_repr,
)
from ._preprocessing import SmoothClipper


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
        raise ValueError(f"params is {describe(params)}, not a JSON object")
    params = dict(params)
    if isinstance(params.get("hidden_layer_sizes"), list):
        params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
    class_weight = params.get("class_weight")
    if isinstance(class_weight, dict):
        pairs = class_weight.get("pairs")
        if set(class_weight) != {"pairs"} or not isinstance(pairs, list):
            raise ValueError(
                "class_weight is stored as {'pairs': [[label, weight], ...]}, "
                f"found {short_repr(class_weight)}"
            )
        for pair in pairs:
            if not (
                isinstance(pair, list)
                and len(pair) == 2
                and isinstance(pair[0], PLAIN_SCALARS)
            ):
                raise ValueError(
                    f"class_weight pair {short_repr(pair)} is not [label, weight] "
                    "with a number or string label"
                )
            checked_number(pair[1], f"the class_weight of {short_repr(pair[0])}")
        params["class_weight"] = {key: value for key, value in pairs}
    return params


def _labels_from_json(stored):
    """Return class labels: distinct numbers or strings, sorted as fit sorts them."""
    labels = array_from_json(stored, "classes")
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
        "mean": array_to_json(scaler.mean_),
        "var": array_to_json(scaler.var_),
        "scale": array_to_json(scaler.scale_),
        "n_samples_seen": array_to_json(seen)
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
        raise ValueError(f"{what} is {describe(stored)}, not a JSON object")
    mean, var, scale = (
        array_from_json(stored[key], f"{what} {key}", "f", exact=False).astype(
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
        seen = array_from_json(seen, f"{what} n_samples_seen", "iuf", exact=False)
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
        "center": array_to_json(clipper.center),
        "scale": array_to_json(clipper.scale),
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
        raise ValueError(f"clipper is {describe(stored)}, not a JSON object")
    center, scale = (
        array_from_json(stored[key], f"clipper {key}", "f", exact=False).astype(
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
        fitted["feature_names_in"] = array_to_json(estimator.feature_names_in_)
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
        raise ValueError(f"fitted is {describe(fitted)}, not a JSON object")
    if not isinstance(fitted.get("device", ""), str):
        raise ValueError(f"fitted device is {describe(fitted['device'])}, not a string")
    estimator.n_features_in_ = checked_int(fitted["n_features_in"], "n_features_in", 1)
    # Its size is checked against the encoding's (persistence._check_consistent).
    estimator.scaler_ = _scaler_from_json(fitted["scaler"])
    # Files before version 5 have no clipper: they were standardized only.
    estimator.clipper_ = _clipper_from_json(fitted.get("clipper"))
    if "feature_names_in" in fitted:
        names = array_from_json(fitted["feature_names_in"], "feature_names_in", "UO")
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
        raise ValueError(f"{what} is {describe(values)}, not a JSON list")
    return [checked_number(v, f"a value of {what}", finite=False) for v in values]


def _n_outputs_from_json(value):
    return checked_int(value, "n_outputs", 1)


#: How each kind of fitted target attribute (``_fitted_target_attributes``)
#: is written to JSON and read back.
_TO_JSON = {"labels": array_to_json, "int": int, "scaler": _scaler_to_json}
_FROM_JSON = {
    "labels": _labels_from_json,
    "int": _n_outputs_from_json,
    "scaler": lambda stored: _scaler_from_json(stored, "target_scaler"),
}
