"""Save and load fitted estimators as data-only files.

A model file is a zip archive with two members: ``metadata.json`` (format
version, library versions, the estimator's class and parameters, and its
fitted state: feature names, classes, scaler statistics, training curves) and
``weights.safetensors`` (the network's weights). Loading reads JSON and
safetensors only; nothing is unpickled, so a file cannot run code.

Loading also bounds what a file can cost: every size that ``load`` allocates
is checked against the file before it is allocated (the members' sizes, the
network's shapes against the weights' header), so that a small hostile file
is refused at once instead of exhausting memory, and every value is checked,
so that a damaged file is refused instead of predicting garbage.
"""

import dataclasses
import io
import json
import zipfile

import numpy as np
import safetensors.torch
import sklearn
import torch
from sklearn.utils.validation import check_is_fitted

from ._classifier import SNNClassifier
from ._device import resolve_device
from ._model_archive import (
    _METADATA,
    _WAY_OUT,
    _WEIGHTS,
    FORMAT_NAME,
    FORMAT_VERSION,
    MAX_HIDDEN_LAYERS,
    MAX_MEMBER_LAYERS,
    MAX_METADATA_BYTES,
    _describe,
    _members,
    _open,
    _read_metadata,
    _read_weights,
    _RefusedFile,
    _too_compressed,
)
from ._model_json import (
    checked_int,
    checked_number,
    fitted_from_json,
    fitted_to_json,
    params_from_json,
    params_to_json,
    scalar,
)
from ._network import NetworkSpec, SELUNetwork
from ._regressor import SNNRegressor
from ._training import net_for_prediction

#: The architecture fields stored in a file; the others follow from the
#: estimator's class.
_NETWORK_FIELDS = ("n_features", "hidden_layer_sizes", "n_outputs", "dropout")
_NETWORK_FIELDS += ("n_estimators",)
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
    ValueError
        If the file would be one that :func:`load` refuses: weights that are
        not finite, more than ``MAX_HIDDEN_LAYERS`` hidden layers or
        ``MAX_MEMBER_LAYERS`` member layers, or metadata (mostly the feature
        names and scaling, about 100 bytes a feature) larger than
        ``MAX_METADATA_BYTES``.
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
    try:
        _check_buildable(module.spec.n_estimators, len(module.spec.hidden_layer_sizes))
    except ValueError as exc:
        raise ValueError(
            f"This model cannot be saved for load: {exc}. Save it with joblib, "
            "for your own use only."
        ) from None
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
            "hidden_layer_sizes": [int(w) for w in module.spec.hidden_layer_sizes],
            "kept_members": (
                None
                if module.kept_members is None
                else [int(i) for i in module.kept_members]
            ),
        },
        "fitted": fitted_to_json(estimator),
    }
    text = json.dumps(metadata, indent=1).encode()
    if len(text) > MAX_METADATA_BYTES:
        raise ValueError(
            f"The model's metadata takes {len(text)} bytes, more than the "
            f"{MAX_METADATA_BYTES} that load reads (it grows with the number of "
            "features, about 100 bytes each). Save this model with joblib, for "
            "your own use only."
        )
    state = {
        key: value.detach().to("cpu").contiguous()
        for key, value in module.state_dict().items()
    }
    for key, value in state.items():
        if not torch.isfinite(value).all():
            raise ValueError(
                f"The network's weights {key} hold nan or infinite values, which "
                "load refuses: the fit diverged. Fit the model again, with a "
                "lower learning_rate_init."
            )
    weights = safetensors.torch.save(state)
    if _write(path, text, weights, zipfile.ZIP_DEFLATED):
        # Weights that are mostly zeros would read as a zip bomb.
        _write(path, text, weights, zipfile.ZIP_STORED)


def _write(path, metadata, weights, weights_compression):
    """Write a model file; return whether load would find it a zip bomb."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(_METADATA, metadata)
        archive.writestr(_WEIGHTS, weights, compress_type=weights_compression)
        return _too_compressed(archive.getinfo(_WEIGHTS))


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
    FileNotFoundError
        If there is no file at ``path``.
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

    A hostile file cannot exhaust memory or load as garbage either. Every
    size is checked before it is allocated: ``metadata.json`` is read only up
    to ``MAX_METADATA_BYTES``, the network's shapes are checked against the
    header of ``weights.safetensors`` before the weights are read or the
    network is built, and weights larger than ``UNCHECKED_WEIGHTS_BYTES``
    must not be compressed more than ``MAX_COMPRESSION_RATIO`` times. So
    loading costs about twice the memory of the weights that the file really
    holds. Weights must be finite float32, labels plain numbers or strings,
    and every other value of the type and range that :func:`save` writes;
    anything else raises a ValueError that names it.

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
    with _open(path) as file:
        try:
            estimator, spec, kept, weights = _read_model(file, path)
        except _RefusedFile as exc:
            raise ValueError(str(exc)) from exc.__cause__
        except MemoryError:
            raise
        except KeyError as exc:
            raise ValueError(
                f"{path} is not a valid sklearn-snn model file: a field is missing "
                f"from {_METADATA} ({exc}). {_WAY_OUT}"
            ) from exc
        except Exception as exc:  # zipfile and zlib raise many kinds on damage
            raise ValueError(
                f"{path} is not a valid sklearn-snn model file: {_describe(exc)}. "
                f"{_WAY_OUT}"
            ) from exc
    # Every size and value is checked: building the network cannot fail now,
    # and costs no more than the weights that the file holds.
    # The file's weights replace the initial ones; a generator of its own
    # leaves torch's global one alone.
    module = SELUNetwork(spec, torch.Generator())
    module.load_state_dict(weights, strict=True)
    module.kept_members = kept
    estimator.device_ = device
    estimator.net_ = net_for_prediction(module, estimator._criterion, device)
    return estimator


def _read_model(file, path):
    """Return the estimator, network spec, kept members and weights of a file.

    Everything is checked; the network is not built.
    """
    if not zipfile.is_zipfile(file):
        raise _RefusedFile(
            f"{path} is not a sklearn-snn model file (not a zip archive). Files "
            "written by pickle or joblib are refused: load them with joblib.load "
            "only if you trust their source."
        )
    file_size = file.seek(0, io.SEEK_END)
    try:
        archive = zipfile.ZipFile(file)
    except Exception as exc:  # zipfile raises many kinds on a damaged directory
        raise ValueError(f"its zip directory is damaged ({exc!r})") from exc
    with archive:
        infos = _members(archive, path, file_size)
        metadata = _read_metadata(archive, infos[_METADATA], path)
        estimator = _ESTIMATORS[metadata["estimator"]]()
        estimator.set_params(**params_from_json(metadata["params"]))
        # What fit checks, so that the next fit of the loaded model can run.
        estimator._validate_params()
        estimator._check_hidden_layer_sizes()
        spec = _network_spec(metadata["network"], estimator)
        fitted_from_json(estimator, metadata["fitted"])
        _check_consistent(estimator, spec)
        kept = metadata["network"].get("kept_members")
        kept = None if kept is None else _member_indices(kept, spec)
        weights = _read_weights(archive, infos[_WEIGHTS], _weight_shapes(spec))
    return estimator, spec, kept, weights


def _network_spec(stored, estimator):
    """Return the NetworkSpec that the metadata declares, checked but not built."""
    if not isinstance(stored, dict):
        raise ValueError(f"network is {type(stored).__name__}, not a JSON object")
    sizes = stored["hidden_layer_sizes"]
    if not isinstance(sizes, list) or not sizes:
        raise ValueError("network hidden_layer_sizes is not a non-empty list")
    n_estimators = checked_int(stored["n_estimators"], "network n_estimators", 1)
    _check_buildable(n_estimators, len(sizes))
    dropout = checked_number(stored["dropout"], "network dropout")
    if not 0 <= dropout < 1:
        raise ValueError(f"network dropout is {dropout}, not in [0, 1)")
    return NetworkSpec(
        n_features=checked_int(stored["n_features"], "network n_features", 1),
        hidden_layer_sizes=tuple(
            checked_int(width, "a hidden layer size", 1) for width in sizes
        ),
        n_outputs=checked_int(stored["n_outputs"], "network n_outputs", 1),
        dropout=dropout,
        n_estimators=n_estimators,
        combine=estimator._combine,
        output_init=estimator._output_init,
    )


def _check_buildable(n_estimators, n_hidden_layers):
    """Refuse a network that would take long to build, whatever its weights."""
    if n_hidden_layers > MAX_HIDDEN_LAYERS:
        raise ValueError(
            f"the network has {n_hidden_layers} hidden layers, more than the "
            f"{MAX_HIDDEN_LAYERS} of a model file"
        )
    if n_estimators * (n_hidden_layers + 1) > MAX_MEMBER_LAYERS:
        raise ValueError(
            f"the network has {n_estimators} members of {n_hidden_layers + 1} "
            f"layers, more than the {MAX_MEMBER_LAYERS} member layers of a model "
            "file"
        )


def _weight_shapes(spec):
    """Return ``{name: shape}`` of ``SELUNetwork(spec)``'s weights, without building it.

    Each hidden layer is Linear, SELU and, with dropout, AlphaDropout, so the
    linear layers are every third or every second module of ``hidden``.
    """
    step = 3 if spec.dropout > 0 else 2
    shapes = {}
    fan_in = spec.n_features
    for index, width in enumerate(spec.hidden_layer_sizes):
        shapes[f"hidden.{step * index}.weight"] = (spec.n_estimators, width, fan_in)
        shapes[f"hidden.{step * index}.bias"] = (spec.n_estimators, width)
        fan_in = width
    shapes["output.weight"] = (spec.n_estimators, spec.n_outputs, fan_in)
    shapes["output.bias"] = (spec.n_estimators, spec.n_outputs)
    return shapes


def _library_versions():
    from . import __version__

    return {
        "sklearn_snn": __version__,
        "scikit-learn": sklearn.__version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
    }


def _member_indices(kept, spec):
    """Return the kept members: distinct indices of members of the ensemble."""
    if (
        not isinstance(kept, list)
        or not kept
        or not all(
            type(i) is int and 0 <= i < spec.n_estimators  # not a bool or a float
            for i in kept
        )
        or len(set(kept)) != len(kept)
    ):
        raise ValueError(
            f"kept_members {kept!r:.60} does not name members of an ensemble of "
            f"{spec.n_estimators}"
        )
    return tuple(kept)


def _check_consistent(estimator, spec):
    """Refuse a file whose parts disagree, instead of failing at predict."""
    n_features, n_outputs = spec.n_features, spec.n_outputs
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
