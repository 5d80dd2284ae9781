"""The estimator's parameters and fitted state as JSON, for model files.

``persistence`` writes what these functions return into ``metadata.json`` and
rebuilds an estimator from it. Every value is plain JSON: numbers, strings,
lists, and arrays as ``{"dtype": ..., "values": [...]}``.
"""

import json
from numbers import Integral

import numpy as np
from sklearn.preprocessing import StandardScaler

#: Label dtypes that JSON lists round-trip: bool, int, uint, float, str, object.
_LABEL_KINDS = "biufUO"


def params_to_json(params):
    """Return ``get_params(deep=False)`` as JSON; numpy scalars become Python ones."""
    params = dict(params)
    sizes = params["hidden_layer_sizes"]
    params["hidden_layer_sizes"] = (
        int(sizes) if isinstance(sizes, Integral) else [int(s) for s in sizes]
    )
    if not isinstance(params["random_state"], (Integral, type(None))):
        params["random_state"] = None
    elif params["random_state"] is not None:
        params["random_state"] = int(params["random_state"])
    class_weight = params.get("class_weight")
    if isinstance(class_weight, dict):
        # JSON keys are strings; pairs keep the label's type.
        params["class_weight"] = {
            "pairs": [[scalar(k), scalar(v)] for k, v in class_weight.items()]
        }
    out = {key: scalar(value) for key, value in params.items()}
    try:
        json.dumps(out)
    except TypeError as exc:
        raise TypeError(f"A parameter cannot be stored as JSON: {exc}") from exc
    return out


def params_from_json(params):
    """Return the parameters that :func:`params_to_json` stored, for ``set_params``."""
    params = dict(params)
    if isinstance(params.get("hidden_layer_sizes"), list):
        params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
    class_weight = params.get("class_weight")
    if isinstance(class_weight, dict):
        params["class_weight"] = {key: value for key, value in class_weight["pairs"]}
    return params


def scalar(value):
    """Return a numpy scalar as the Python number it holds; other values as they are."""
    return value.item() if isinstance(value, np.generic) else value


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


def _array_from_json(stored):
    dtype = np.dtype(stored["dtype"])
    if dtype.kind not in _LABEL_KINDS:
        raise ValueError(f"unsupported dtype {dtype}")
    return np.array(stored["values"], dtype=dtype)


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


def _scaler_from_json(stored):
    scaler = StandardScaler()
    scaler.mean_ = _array_from_json(stored["mean"]).astype(np.float64)
    scaler.var_ = _array_from_json(stored["var"]).astype(np.float64)
    scaler.scale_ = _array_from_json(stored["scale"]).astype(np.float64)
    seen = stored["n_samples_seen"]
    scaler.n_samples_seen_ = _array_from_json(seen) if isinstance(seen, dict) else seen
    scaler.n_features_in_ = len(scaler.mean_)
    return scaler


def fitted_to_json(estimator):
    """Return a fitted estimator's state (scaling, targets, curves) as JSON."""
    fitted = {
        "n_features_in": int(estimator.n_features_in_),
        "scaler": _scaler_to_json(estimator.scaler_),
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
    """Set the fitted attributes that :func:`fitted_to_json` stored."""
    estimator.n_features_in_ = int(fitted["n_features_in"])
    estimator.scaler_ = _scaler_from_json(fitted["scaler"])
    if estimator.scaler_.n_features_in_ != estimator.n_features_in_:
        raise ValueError("the scaler does not match n_features_in")
    if "feature_names_in" in fitted:
        estimator.feature_names_in_ = _array_from_json(
            fitted["feature_names_in"]
        ).astype(object)
    estimator.n_iter_ = int(fitted["n_iter"])
    estimator.loss_curve_ = [float(v) for v in fitted["loss_curve"]]
    scores = fitted["validation_scores"]
    estimator.validation_scores_ = None if scores is None else list(map(float, scores))
    best = fitted["best_validation_score"]
    estimator.best_validation_score_ = None if best is None else float(best)
    for attribute, kind in estimator._fitted_target_attributes.items():
        setattr(estimator, attribute, _FROM_JSON[kind](fitted[attribute.rstrip("_")]))


#: How each kind of fitted target attribute (``_fitted_target_attributes``)
#: is written to JSON and read back.
_TO_JSON = {"labels": _array_to_json, "int": int, "scaler": _scaler_to_json}
_FROM_JSON = {"labels": _array_from_json, "int": int, "scaler": _scaler_from_json}
