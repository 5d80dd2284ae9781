"""Save and load fitted estimators as data-only files.

A model file is a zip archive with two members: ``metadata.json`` (format
version, library versions, the estimator's class and parameters, and its
fitted state: feature names, the encoding of categorical and missing values,
classes, scaler statistics, training curves) and ``weights.safetensors`` (the
network's weights, embeddings included). Loading reads JSON and
safetensors only; nothing is unpickled, so a file cannot run code.

Loading also bounds what a file can cost: every size that ``load`` allocates
is checked against the file before it is allocated (the members' sizes, the
network's shapes against the weights' header), so that a small hostile file
is refused at once instead of exhausting memory, and every value is checked,
so that a damaged file is refused instead of predicting garbage.
"""

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
from ._encoding_json import (
    encoding_from_json,
    encoding_to_json,
    identity_encoding,
    imputer_from_json,
    imputer_to_json,
)
from ._json_values import short_repr
from ._model_archive import (
    _METADATA,
    _WAY_OUT,
    _WEIGHTS,
    ENCODING_VERSION,
    FORMAT_NAME,
    FORMAT_VERSION,
    IMPUTATION_VERSION,
    INCOMPLETE_VERSION,
    MAX_METADATA_BYTES,
    PERIODIC_VERSION,
    _describe,
    _members,
    _open,
    _read_metadata,
    _read_weights,
    _RefusedFile,
    _too_compressed,
)
from ._model_json import (
    fitted_from_json,
    fitted_to_json,
    params_from_json,
    params_to_json,
)
from ._network import SELUNetwork
from ._network_json import (
    check_buildable,
    member_indices,
    network_spec_from_json,
    network_to_json,
    weight_shapes,
)
from ._regressor import SNNRegressor
from ._training import net_for_prediction

_ESTIMATORS = {cls.__name__: cls for cls in (SNNClassifier, SNNRegressor)}


def save(estimator, path):
    """Save a fitted estimator to a data-only file.

    The file is a zip archive with two members: ``metadata.json`` (the
    parameters, the fitted encoding and scaling, the classes and the training
    curves) and ``weights.safetensors`` (the network's weights). Nothing in
    it is code, so :func:`load` can read it without unpickling.

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
        parameter, class label or categorical level that JSON cannot store.
    ValueError
        If the file would be one that :func:`load` refuses: weights that are
        not finite, more than ``MAX_HIDDEN_LAYERS`` hidden layers,
        ``MAX_MEMBER_LAYERS`` member layers or ``MAX_EMBEDDINGS`` embedded
        columns, or metadata larger than ``MAX_METADATA_BYTES``: mostly the
        feature names and scaling, about 100 bytes a feature, and the levels
        of the categorical columns, which count in full (a column of 100,000
        levels of 20 characters takes about 3 MB).
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
    spec = module.spec
    try:
        check_buildable(
            spec.n_estimators, len(spec.hidden_layer_sizes), len(spec.embeddings)
        )
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
        "network": network_to_json(module),
        "fitted": {
            **fitted_to_json(estimator),
            "encoding": encoding_to_json(estimator._table_encoding),
            "imputer": imputer_to_json(estimator.imputer_),
        },
    }
    text = json.dumps(metadata, indent=1).encode()
    if len(text) > MAX_METADATA_BYTES:
        raise ValueError(
            f"The model's metadata takes {len(text)} bytes, more than the "
            f"{MAX_METADATA_BYTES} that load reads (it grows with the number of "
            "features, about 100 bytes each, and with the levels of categorical "
            "columns). Save this model with joblib, for your own use only, or "
            "reduce the levels of its categorical columns."
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
    categorical levels distinct strings, numbers or booleans, and every
    other value of the type and range that :func:`save` writes; anything
    else raises a ValueError that names it. Files of format version 3,
    written before categorical columns and missing values were encoded, load
    with every column numeric, as they were fitted, and files before
    version 7 impute each missing value with its column's mean, as they did.

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
        version = metadata["format_version"]
        params = params_from_json(metadata["params"])
        if version < PERIODIC_VERSION:
            # Older networks had none, whatever today's default.
            params.setdefault("numerical_embedding", None)
        estimator.set_params(**params)
        # What fit checks, so that the next fit of the loaded model can run.
        estimator._validate_params()
        estimator._check_hidden_layer_sizes()
        spec = network_spec_from_json(metadata["network"], estimator, version)
        fitted = metadata["fitted"]
        fitted_from_json(estimator, fitted)
        estimator._table_encoding = _encoding(estimator, fitted, version)
        # Older files imputed every missing value with its column's mean.
        estimator.imputer_ = (
            imputer_from_json(fitted["imputer"], estimator._table_encoding)
            if version >= IMPUTATION_VERSION
            else None
        )
        _check_consistent(estimator, spec)
        # After the check: the feature names must name every column.
        estimator._set_categorical_attributes()
        kept = metadata["network"].get("kept_members")
        kept = None if kept is None else member_indices(kept, spec)
        weights = _read_weights(archive, infos[_WEIGHTS], weight_shapes(spec))
    return estimator, spec, kept, weights


def _encoding(estimator, fitted, version):
    """Return the encoding of ``X`` that the file's fitted state declares, checked."""
    n_features = estimator.n_features_in_
    if version >= ENCODING_VERSION:
        return encoding_from_json(
            fitted["encoding"], n_features, version >= INCOMPLETE_VERSION
        )
    # Every column was numeric and standardized: the scaler, already read,
    # bounds the size of the encoding.
    if len(estimator.scaler_.scale_) != n_features:
        raise ValueError(
            f"scaler has size {len(estimator.scaler_.scale_)}, n_features_in "
            f"{n_features}"
        )
    return identity_encoding(n_features)


def _library_versions():
    from . import __version__

    return {
        "sklearn_snn": __version__,
        "scikit-learn": sklearn.__version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
    }


def _check_consistent(estimator, spec):
    """Refuse a file whose parts disagree, instead of failing at predict."""
    encoding = estimator._table_encoding
    n_standardized = encoding.n_numeric_inputs
    n_inputs = n_standardized + len(encoding.embeddings)
    sizes = {
        "network n_features": (spec.n_features, n_inputs, "the encoding's inputs"),
        "scaler": (
            len(estimator.scaler_.scale_),
            n_standardized,
            "the encoding's standardized inputs",
        ),
        "n_outputs": (estimator._fitted_n_outputs(), spec.n_outputs, "the network"),
    }
    robust = estimator.input_scaling == "robust"
    if robust != (estimator.clipper_ is not None):
        raise ValueError(
            f"input_scaling is {estimator.input_scaling!r} but the file "
            f"{'holds no' if robust else 'holds a'} clipper"
        )
    if robust:
        sizes["clipper"] = (
            len(estimator.clipper_.scale),
            len(encoding.numeric),
            "the encoding's numeric columns",
        )
    for attribute, kind in estimator._fitted_target_attributes.items():
        if kind == "scaler":
            found = len(getattr(estimator, attribute).scale_)
            sizes[attribute] = (found, spec.n_outputs, "the network")
    if hasattr(estimator, "feature_names_in_"):
        found = len(estimator.feature_names_in_)
        sizes["feature_names_in"] = (found, estimator.n_features_in_, "n_features_in")
    for name, (found, expected, against) in sizes.items():
        if found != expected:
            raise ValueError(f"{name} has size {found}, {against} {expected}")
    n_periodic = estimator._n_periodic_features()
    if spec.periodic_features != n_periodic:
        raise ValueError(
            f"network periodic_features is {spec.periodic_features}, but "
            f"numerical_embedding={estimator.numerical_embedding!r} with "
            f"{len(encoding.numeric)} numeric columns makes it {n_periodic}"
        )
    if spec.embeddings != encoding.embeddings:
        raise ValueError(
            f"network embeddings {short_repr(list(spec.embeddings))} are not the "
            f"codes of the encoding's embedded columns "
            f"{short_repr(list(encoding.embeddings))}"
        )
