"""Save and load fitted estimators as data-only files.

A model file is a zip archive with two members: ``metadata.json`` (format
version, library versions, the estimator's class and parameters, and its
fitted state: feature names, classes, scaler statistics, training curves) and
``weights.safetensors`` (the network's weights). Loading reads JSON and
safetensors only; nothing is unpickled, so a file cannot run code.
"""

import dataclasses
import json
import zipfile

import numpy as np
import safetensors.torch
import sklearn
import torch
from sklearn.utils.validation import check_is_fitted

from ._classifier import SNNClassifier
from ._device import resolve_device, seeded_rng
from ._model_json import (
    fitted_from_json,
    fitted_to_json,
    params_from_json,
    params_to_json,
    scalar,
)
from ._network import NetworkSpec, SELUNetwork
from ._regressor import SNNRegressor
from ._training import net_for_prediction

#: Name written in every file, so that other zip archives are refused.
FORMAT_NAME = "sklearn-snn"
#: Version of the file layout, the first that a release reads; files of any
#: other version are refused.
FORMAT_VERSION = 3
#: The architecture fields stored in a file; the others follow from the
#: estimator's class.
_NETWORK_FIELDS = ("n_features", "hidden_layer_sizes", "n_outputs", "dropout")
_NETWORK_FIELDS += ("n_estimators",)

_METADATA = "metadata.json"
_WEIGHTS = "weights.safetensors"
_ESTIMATORS = {cls.__name__: cls for cls in (SNNClassifier, SNNRegressor)}


def save(estimator, path):
    """Save a fitted estimator to a data-only file.

    The file is a zip archive with two members: ``metadata.json`` (the
    parameters, the fitted scaling, the classes and the training curves) and
    ``weights.safetensors`` (the network's weights). Nothing in it is code, so
    :func:`load` can read it without unpickling.

    Parameters
    ----------
    estimator : SNNClassifier or SNNRegressor
        A fitted estimator.
    path : str or path-like
        The file to write (conventionally with a ``.snn`` suffix). An
        existing file is overwritten.

    Raises
    ------
    TypeError
        If ``estimator`` is not an SNNClassifier or SNNRegressor, or holds a
        parameter or class label that JSON cannot store.
    sklearn.exceptions.NotFittedError
        If ``estimator`` is not fitted.

    See Also
    --------
    load : Read a file written by ``save``.

    Notes
    -----
    The file holds the parameters, the fitted preprocessing, the class labels,
    the training curves and the network weights, but not the optimizer state:
    a loaded model predicts identically, and ``warm_start=True`` continues
    from its weights with a fresh optimizer. A ``random_state`` that is a
    ``RandomState`` instance is stored as None.

    Use ``save``/``load`` for files you share or receive: loading never runs
    code from the file, and a model saved on a GPU loads on any device. Use
    :mod:`pickle` or :mod:`joblib` only for files you trust (your own
    checkpoints): they keep everything, including the optimizer state, but
    unpickling a file can run arbitrary code.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_snn import SNNClassifier, load, save
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = SNNClassifier(hidden_layer_sizes=(16,), max_iter=5, random_state=0)
    >>> clf = clf.fit(X, y)
    >>> path = os.path.join(tempfile.mkdtemp(), "iris.snn")
    >>> save(clf, path)
    >>> bool((load(path).predict_proba(X) == clf.predict_proba(X)).all())
    True
    """
    name = type(estimator).__name__
    if _ESTIMATORS.get(name) is not type(estimator):
        raise TypeError(
            f"save stores SNNClassifier and SNNRegressor estimators, got {name}. "
            "Use pickle or joblib for other objects."
        )
    check_is_fitted(estimator)
    module = estimator.net_.module_
    metadata = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "versions": _library_versions(),
        "estimator": name,
        "params": params_to_json(estimator.get_params(deep=False)),
        "network": {
            **{
                name: scalar(value)
                for name, value in dataclasses.asdict(module.spec).items()
                if name in _NETWORK_FIELDS
            },
            "hidden_layer_sizes": list(module.spec.hidden_layer_sizes),
            "kept_members": (
                None if module.kept_members is None else list(module.kept_members)
            ),
        },
        "fitted": fitted_to_json(estimator),
    }
    state = {
        key: value.detach().to("cpu").contiguous()
        for key, value in module.state_dict().items()
    }
    weights = safetensors.torch.save(state)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(_METADATA, json.dumps(metadata, indent=1))
        archive.writestr(_WEIGHTS, weights)


def load(path, device="cpu"):
    """Load an estimator saved with :func:`save`.

    The estimator is rebuilt from the file's data alone: the file is checked
    against the format, the weights are read with safetensors, and nothing is
    unpickled. A file that does not match the format is refused.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save`.
    device : str, default='cpu'
        Where to put the network: ``'auto'`` (CUDA when available), ``'cpu'``,
        ``'cuda'`` or ``'cuda:N'``. It sets ``device_``; the ``device``
        parameter keeps its saved value and applies to the next fit.

    Returns
    -------
    SNNClassifier or SNNRegressor
        The fitted estimator, which predicts as the saved one did.

    Raises
    ------
    ValueError
        If the file is not a sklearn-snn model file, is damaged, was written
        by a newer version of sklearn-snn, or ``device`` is not available.

    See Also
    --------
    save : Write an estimator to a file.

    Notes
    -----
    ``load`` reads JSON and safetensors only and never unpickles anything, so
    loading a file from an untrusted source cannot run code. Pickle and joblib
    files, by contrast, can run arbitrary code when loaded: use them only for
    files you trust. Predictions of a loaded model on the CPU are
    bit-identical to those of the saved model on the CPU. On CUDA they agree
    to float32 rounding, not bit for bit: cuBLAS may pick different kernels
    for different batch shapes, devices and library versions.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn_snn import SNNRegressor, load, save
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = SNNRegressor(hidden_layer_sizes=(16,), max_iter=5, random_state=0)
    >>> reg = reg.fit(X, y)
    >>> path = os.path.join(tempfile.mkdtemp(), "diabetes.snn")
    >>> save(reg, path)
    >>> load(path, device="cpu").predict(X[:2]).shape
    (2,)
    """
    device = resolve_device(device)
    metadata, weights = _read_archive(path)
    try:
        estimator = _ESTIMATORS[metadata["estimator"]]()
        estimator.set_params(**params_from_json(metadata["params"]))
        spec = metadata["network"]
        with seeded_rng(0, "cpu"):
            module = SELUNetwork(
                NetworkSpec(
                    n_features=int(spec["n_features"]),
                    hidden_layer_sizes=tuple(
                        int(width) for width in spec["hidden_layer_sizes"]
                    ),
                    n_outputs=int(spec["n_outputs"]),
                    dropout=float(spec["dropout"]),
                    n_estimators=int(spec["n_estimators"]),
                    combine=estimator._combine,
                    output_init=estimator._output_init,
                )
            )
        module.load_state_dict(weights, strict=True)
        kept = spec.get("kept_members")
        module.kept_members = None if kept is None else _member_indices(kept, module)
        fitted_from_json(estimator, metadata["fitted"])
        _check_consistent(estimator, module)
    except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as exc:
        raise ValueError(
            f"{path} is not a valid sklearn-snn model file: {exc!r}"
        ) from exc
    estimator.device_ = device
    estimator.net_ = net_for_prediction(module, estimator._criterion, device)
    return estimator


def _read_archive(path):
    """Return the metadata dict and the weights of a model file, checked."""
    if not zipfile.is_zipfile(path):
        raise ValueError(
            f"{path} is not a sklearn-snn model file (not a zip archive). Files "
            "written by pickle or joblib are refused: load them with joblib.load "
            "only if you trust their source."
        )
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            missing = {_METADATA, _WEIGHTS} - names
            if missing:
                raise ValueError(
                    f"{path} is not a sklearn-snn model file: it lacks "
                    f"{sorted(missing)}."
                )
            try:
                metadata = json.loads(archive.read(_METADATA))
            except ValueError as exc:  # not UTF-8 or not JSON
                raise ValueError(
                    f"{path} is not a valid sklearn-snn model file: "
                    f"unreadable {_METADATA} ({exc})."
                ) from exc
            if not isinstance(metadata, dict) or metadata.get("format") != FORMAT_NAME:
                raise ValueError(
                    f"{path} is not a sklearn-snn model file (unknown format)."
                )
            version = metadata.get("format_version")
            if not isinstance(version, int) or version < 1:
                raise ValueError(f"{path} has an invalid format_version {version!r}.")
            if version < FORMAT_VERSION:
                raise ValueError(
                    f"{path} has format version {version}, written by a "
                    "development version of sklearn-snn before its first release; "
                    f"this one reads version {FORMAT_VERSION}. Fit and save the "
                    "model again."
                )
            if version > FORMAT_VERSION:
                raise ValueError(
                    f"{path} has format version {version}, written by a newer "
                    f"sklearn-snn (this one reads versions up to {FORMAT_VERSION})."
                    " Upgrade sklearn-snn to load it."
                )
            if metadata.get("estimator") not in _ESTIMATORS:
                raise ValueError(
                    f"{path} holds an unknown estimator "
                    f"{metadata.get('estimator')!r}; expected one of "
                    f"{sorted(_ESTIMATORS)}."
                )
            weights = safetensors.torch.load(archive.read(_WEIGHTS))
    except ValueError:
        raise
    except Exception as exc:  # zip, JSON or safetensors parse errors
        raise ValueError(
            f"{path} is not a valid sklearn-snn model file: {exc!r}"
        ) from exc
    return metadata, weights


def _library_versions():
    from . import __version__

    return {
        "sklearn_snn": __version__,
        "scikit-learn": sklearn.__version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
    }


def _member_indices(kept, module):
    indices = tuple(int(i) for i in kept)
    if not indices or not all(0 <= i < module.spec.n_estimators for i in indices):
        raise ValueError(
            f"kept_members {kept!r} does not name members of an ensemble of "
            f"{module.spec.n_estimators}."
        )
    return indices


def _check_consistent(estimator, module):
    """Refuse a file whose parts disagree, instead of failing at predict."""
    n_features, n_outputs = module.spec.n_features, module.spec.n_outputs
    sizes = {
        "n_features_in": (estimator.n_features_in_, n_features),
        "scaler": (len(estimator.scaler_.scale_), n_features),
        "n_outputs": (estimator._fitted_n_outputs(), n_outputs),
    }
    for attribute, kind in estimator._fitted_target_attributes.items():
        if kind == "scaler":
            sizes[attribute] = (len(getattr(estimator, attribute).scale_), n_outputs)
    if hasattr(estimator, "feature_names_in_"):
        sizes["feature_names_in"] = (len(estimator.feature_names_in_), n_features)
    for name, (found, expected) in sizes.items():
        if found != expected:
            raise ValueError(f"{name} has size {found}, the network {expected}")
