import copy
import io
import json
import os
import pickle
import subprocess
import sys
import textwrap
import warnings
import zipfile

import numpy as np
import pandas as pd
import pytest
import safetensors.torch
import torch
from conftest import FAST
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV

import sklearn_snn
import sklearn_snn.persistence as persistence
from sklearn_snn import (
    SNNClassifier,
    SNNRegressor,
    _model_archive,
    _network_json,
    load,
    save,
)
from sklearn_snn._network import NetworkSpec, SELUNetwork
from sklearn_snn.persistence import FORMAT_VERSION


class _WritesMarker:
    """A pickle payload that creates a file when unpickled."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _rewrite(path, metadata=None, weights=None, drop=()):
    """Rewrite a model file with changed members."""
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    if metadata is not None:
        members["metadata.json"] = json.dumps(metadata)
    if weights is not None:
        members["weights.safetensors"] = weights
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            if name not in drop:
                archive.writestr(name, data)


@pytest.fixture
def saved_classifier(classification_data, tmp_path):
    X, y = classification_data
    clf = SNNClassifier(**FAST).fit(X, y)
    path = tmp_path / "model.snn"
    save(clf, path)
    return clf, path


@pytest.mark.parametrize(
    "labels",
    [
        np.array(["cat", "dog", "eel"]),
        np.array([True, False, True]),
        np.array([-1, 5, 7]),
        np.array([1.0, 2.0, 4.0]),
        np.array(["x", "y", "z"], dtype=object),
    ],
    ids=["str", "bool", "int", "float", "object"],
)
def test_classifier_round_trip_keeps_predictions_and_labels(
    labels, classification_data, tmp_path
):
    X, y = classification_data
    if labels.dtype == bool:
        y = y % 2
    y = labels[y]
    clf = SNNClassifier(**FAST, class_weight={y[0]: 2.0}).fit(X, y)
    save(clf, tmp_path / "m.snn")
    loaded = load(tmp_path / "m.snn")
    assert type(loaded) is SNNClassifier
    assert loaded.get_params() == clf.get_params()
    assert loaded.classes_.dtype == clf.classes_.dtype
    np.testing.assert_array_equal(loaded.classes_, clf.classes_)
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    assert loaded.score(X, y) == clf.score(X, y)


@pytest.mark.parametrize("multi_output", [False, True])
def test_regressor_round_trip(multi_output, regression_data, tmp_path):
    X, y = regression_data
    if multi_output:
        y = np.c_[y, -2 * y]
    X = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    reg = SNNRegressor(**FAST).fit(X, y, sample_weight=np.linspace(1, 2, len(y)))
    save(reg, tmp_path / "m.snn")
    loaded = load(tmp_path / "m.snn")
    np.testing.assert_array_equal(loaded.predict(X), reg.predict(X))
    np.testing.assert_array_equal(loaded.feature_names_in_, reg.feature_names_in_)
    for name in ["n_iter_", "loss_curve_", "validation_scores_", "n_outputs_"]:
        assert getattr(loaded, name) == getattr(reg, name)
    assert loaded.best_validation_score_ == reg.best_validation_score_
    for attr in ["mean_", "var_", "scale_"]:
        np.testing.assert_array_equal(
            getattr(loaded.target_scaler_, attr), getattr(reg.target_scaler_, attr)
        )
    with pytest.raises(ValueError, match="feature names"):
        loaded.predict(X[X.columns[::-1]])


def test_round_trip_of_columns_whose_variance_overflows(regression_data, tmp_path):
    # Their variance is stored as inf; their scale and the predictions are
    # finite and come back unchanged.
    X, y = regression_data
    X = np.c_[X, np.linspace(-1e200, 1e200, len(X))]
    reg = SNNRegressor(**FAST).fit(X, y * 1e200)
    assert np.isinf(reg.scaler_.var_[-1])
    assert np.isinf(reg.target_scaler_.var_[0])
    save(reg, tmp_path / "m.snn")
    loaded = load(tmp_path / "m.snn")
    np.testing.assert_array_equal(loaded.predict(X), reg.predict(X))
    assert np.isfinite(loaded.predict(X)).all()
    for attr in ["mean_", "var_", "scale_"]:
        np.testing.assert_array_equal(
            getattr(loaded.scaler_, attr), getattr(reg.scaler_, attr)
        )


def test_round_trip_of_robust_input_scaling(regression_data, tmp_path):
    X, y = regression_data
    X = np.c_[X, np.r_[np.full(len(X) - 3, 1.0), 1e9, -1e9, np.nan]]
    reg = SNNRegressor(**FAST, input_scaling="robust").fit(X, y)
    save(reg, tmp_path / "m.snn")
    loaded = load(tmp_path / "m.snn")
    np.testing.assert_array_equal(loaded.predict(X), reg.predict(X))
    for attr in ["center", "scale", "clip"]:
        np.testing.assert_array_equal(
            getattr(loaded.clipper_, attr), getattr(reg.clipper_, attr)
        )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"clipper": None}, "input_scaling is 'robust' but the file holds no clipper"),
        ({"clipper": {"center": 1}}, "clipper center"),
        ({"clip": -1.0}, "clipper clip is -1.0, not positive"),
        ({"scale": [0.0]}, "clipper scale holds values that are not finite"),
        ({"center": [0.0, 1.0]}, "clipper has 2 centers and 1 scales"),
        (
            {"center": [0.0, 1.0], "scale": [1.0, 1.0]},
            "clipper has size 2, the encoding's numeric columns 1",
        ),
    ],
)
def test_damaged_clipper_is_refused(change, message, regression_data, tmp_path):
    X, y = regression_data
    reg = SNNRegressor(**FAST, input_scaling="robust").fit(X[:, :1], y)
    save(reg, tmp_path / "m.snn")
    metadata = _metadata(tmp_path / "m.snn")
    fitted = metadata["fitted"]
    if "clipper" in change:
        fitted["clipper"] = change["clipper"]
    else:
        for key, value in change.items():
            fitted["clipper"][key] = (
                {"dtype": "<f8", "values": value} if isinstance(value, list) else value
            )
    _rewrite(tmp_path / "m.snn", metadata=metadata)
    with pytest.raises(ValueError, match=message):
        load(tmp_path / "m.snn")


def test_standard_file_with_a_clipper_is_refused(saved_classifier, tmp_path):
    path = saved_classifier[1]
    metadata = _metadata(path)
    metadata["fitted"]["clipper"] = {
        "center": {"dtype": "<f8", "values": [0.0]},
        "scale": {"dtype": "<f8", "values": [1.0]},
        "clip": 3.0,
    }
    _rewrite(path, metadata=metadata)
    with pytest.raises(ValueError, match="'standard' but the file holds a clipper"):
        load(path)


def test_loaded_model_can_be_warm_started(saved_classifier, classification_data):
    X, y = classification_data
    loaded = load(saved_classifier[1])
    loaded.set_params(warm_start=True, max_iter=2, early_stopping=False)
    with pytest.warns(ConvergenceWarning, match="Maximum iterations"):
        loaded.fit(X, y)
    assert loaded.n_iter_ == 2
    assert np.isfinite(loaded.predict_proba(X)).all()


def test_file_holds_only_json_and_safetensors(saved_classifier):
    with zipfile.ZipFile(saved_classifier[1]) as archive:
        assert sorted(archive.namelist()) == ["metadata.json", "weights.safetensors"]
        metadata = json.loads(archive.read("metadata.json"))
    assert metadata["format"] == "sklearn-snn"
    assert metadata["format_version"] == FORMAT_VERSION
    assert metadata["estimator"] == "SNNClassifier"
    assert metadata["versions"]["sklearn_snn"] == sklearn_snn.__version__


def test_random_state_instance_is_stored_as_none(classification_data, tmp_path):
    X, y = classification_data
    params = {**FAST, "random_state": np.random.RandomState(0)}
    clf = SNNClassifier(**params).fit(X, y)
    save(clf, tmp_path / "m.snn")
    assert load(tmp_path / "m.snn").random_state is None


def test_pickle_file_is_refused_and_its_code_does_not_run(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "model.snn"
    path.write_bytes(pickle.dumps(_WritesMarker(marker)))
    with pytest.raises(ValueError, match="not a zip archive"):
        load(path)
    assert not marker.exists()


def test_torch_save_file_is_refused_and_its_code_does_not_run(tmp_path):
    # torch.save writes a zip archive with a pickle inside.
    marker = tmp_path / "pwned"
    path = tmp_path / "model.snn"
    torch.save({"payload": _WritesMarker(marker)}, path)
    with pytest.raises(ValueError, match="lacks"):
        load(path)
    assert not marker.exists()


def test_pickle_as_weights_member_is_refused(saved_classifier, tmp_path):
    marker = tmp_path / "pwned"
    path = saved_classifier[1]
    _rewrite(path, weights=pickle.dumps(_WritesMarker(marker)))
    with pytest.raises(ValueError, match="not a valid sklearn-snn model file"):
        load(path)
    assert not marker.exists()


def test_pickle_as_metadata_member_is_refused(saved_classifier, tmp_path):
    marker = tmp_path / "pwned"
    path = saved_classifier[1]
    with zipfile.ZipFile(path) as archive:
        weights = archive.read("weights.safetensors")
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("metadata.json", pickle.dumps(_WritesMarker(marker)))
        archive.writestr("weights.safetensors", weights)
    with pytest.raises(ValueError, match="not a valid sklearn-snn model file"):
        load(path)
    assert not marker.exists()


def _metadata(path):
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read("metadata.json"))


def test_newer_format_version_names_the_way_out(saved_classifier):
    path = saved_classifier[1]
    metadata = _metadata(path)
    metadata["format_version"] = FORMAT_VERSION + 1
    _rewrite(path, metadata=metadata)
    with pytest.raises(ValueError, match="newer sklearn-snn.*Upgrade"):
        load(path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": "other"}, "unknown format"),
        ({"format_version": "1"}, "invalid format_version"),
        ({"estimator": "os.system"}, "unknown estimator"),
        ({"params": {"no_such_param": 1}}, "not a valid"),
        ({"network": {"n_features": 3}}, "not a valid"),
        ({"fitted": {}}, "not a valid"),
    ],
)
def test_damaged_metadata_is_refused(change, message, saved_classifier):
    path = saved_classifier[1]
    _rewrite(path, metadata={**_metadata(path), **change})
    with pytest.raises(ValueError, match=message):
        load(path)


def test_mismatched_parts_are_refused(saved_classifier):
    path = saved_classifier[1]
    metadata = _metadata(path)
    metadata["fitted"]["classes"]["values"] = [0, 1]
    _rewrite(path, metadata=metadata)
    with pytest.raises(ValueError, match="n_outputs"):
        load(path)


def test_missing_member_and_garbage_are_refused(saved_classifier, tmp_path):
    path = saved_classifier[1]
    _rewrite(path, drop={"weights.safetensors"})
    with pytest.raises(ValueError, match="lacks"):
        load(path)
    garbage = tmp_path / "garbage.snn"
    garbage.write_bytes(os.urandom(256))
    with pytest.raises(ValueError, match="not a zip"):
        load(garbage)


def test_save_refuses_unfitted_and_foreign_estimators(tmp_path):
    with pytest.raises(NotFittedError):
        save(SNNClassifier(), tmp_path / "m.snn")
    with pytest.raises(TypeError, match="SNNClassifier and SNNRegressor"):
        save(object(), tmp_path / "m.snn")


def test_unknown_device_at_load(saved_classifier):
    with pytest.raises(ValueError, match="device"):
        load(saved_classifier[1], device="tpu")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_model_loads_on_cpu(classification_data, tmp_path):
    X, y = classification_data
    clf = SNNClassifier(**{**FAST, "device": "cuda"}).fit(X, y)
    save(clf, tmp_path / "m.snn")
    loaded = load(tmp_path / "m.snn", device="cpu")
    assert loaded.device_ == "cpu"
    np.testing.assert_allclose(loaded.predict_proba(X), clf.predict_proba(X), atol=1e-5)


def test_saved_and_loaded_in_fresh_processes_predicts_bit_identically(tmp_path):
    fit_and_save = textwrap.dedent(
        """
        import sys
        import numpy as np
        from sklearn.datasets import make_classification
        from sklearn_snn import SNNClassifier, save

        X, y = make_classification(n_samples=200, n_features=6, random_state=0)
        clf = SNNClassifier(
            hidden_layer_sizes=(16, 16), max_iter=10, random_state=0, device="cpu"
        )
        clf.fit(X, y)
        save(clf, sys.argv[1])
        np.save(sys.argv[2], clf.predict_proba(X))
        """
    )
    load_and_predict = textwrap.dedent(
        """
        import sys
        import numpy as np
        from sklearn.datasets import make_classification
        from sklearn_snn import load

        X, y = make_classification(n_samples=200, n_features=6, random_state=0)
        np.save(sys.argv[2], load(sys.argv[1]).predict_proba(X))
        """
    )
    model, saved, loaded = (tmp_path / n for n in ["m.snn", "a.npy", "b.npy"])
    for script, output in [(fit_and_save, saved), (load_and_predict, loaded)]:
        subprocess.run(
            [sys.executable, "-W", "ignore", "-c", script, str(model), str(output)],
            check=True,
        )
    np.testing.assert_array_equal(np.load(saved), np.load(loaded))


@pytest.mark.parametrize("Estimator", [SNNClassifier, SNNRegressor])
def test_ensemble_round_trip(Estimator, classification_data, tmp_path):
    X, y = classification_data
    model = Estimator(**FAST, n_estimators=3, weight_constraint="center").fit(X, y)
    save(model, tmp_path / "ensemble.snn")
    loaded = load(tmp_path / "ensemble.snn")
    assert loaded.net_.module_.spec.n_estimators == 3
    assert loaded.get_params() == model.get_params()
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


@pytest.mark.parametrize("version", [1, 2])
def test_format_versions_before_the_first_release_are_refused(
    version, saved_classifier
):
    # Versions 1 and 2 were written only by development versions; a release
    # reads version 3, the first released, and later.
    path = saved_classifier[1]
    metadata = _metadata(path)
    metadata["format_version"] = version
    _rewrite(path, metadata=metadata)
    with pytest.raises(ValueError, match=f"format version {version}.*save the model"):
        load(path)


@pytest.mark.parametrize("Estimator", [SNNClassifier, SNNRegressor])
def test_kept_members_round_trip(Estimator, classification_data, tmp_path):
    X, y = classification_data
    model = Estimator(**FAST, n_estimators=4, feature_sparsity="auto").fit(X, y)
    model.net_.module_.kept_members = (1, 3)
    save(model, tmp_path / "kept.snn")
    loaded = load(tmp_path / "kept.snn")
    assert loaded.net_.module_.kept_members == (1, 3)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_kept_members_outside_the_ensemble_are_refused(classification_data, tmp_path):
    X, y = classification_data
    path = tmp_path / "kept.snn"
    save(SNNClassifier(**FAST, n_estimators=2).fit(X, y), path)
    metadata = _metadata(path)
    metadata["network"]["kept_members"] = [0, 5]
    _rewrite(path, metadata=metadata)
    with pytest.raises(ValueError, match="does not name members of an ensemble of 2"):
        load(path)


class _TensorSpy(pickle.Pickler):
    """A pickler that records every tensor it is asked to pickle itself."""

    def __init__(self, file):
        super().__init__(file)
        self.tensors = []

    def reducer_override(self, obj):
        if isinstance(obj, torch.Tensor):
            self.tensors.append(tuple(obj.shape))
        return NotImplemented


def test_pickle_leaves_every_tensor_to_skorchs_device_mapping(classification_data):
    # skorch pickles the network and optimizer so that a model trained on a
    # GPU unpickles on a CPU-only machine; a tensor pickled any other way
    # would keep its CUDA device and fail to load there.
    X, y = classification_data
    clf = SNNClassifier(**FAST).fit(X, y)
    spy = _TensorSpy(io.BytesIO())
    spy.dump(clf)
    assert spy.tensors == []
    restored = pickle.loads(pickle.dumps(clf))
    assert restored.net_.module is restored.net_.module_
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))


@pytest.fixture(scope="module")
def tiny_file(tmp_path_factory):
    """A tiny fitted classifier, its data and the bytes of its file.

    Its network has no periodic embedding, so that the file can stand for one
    of every format version.
    """
    X, y = make_classification(
        n_samples=60, n_features=5, n_informative=3, n_classes=3, random_state=0
    )
    clf = SNNClassifier(
        hidden_layer_sizes=(8,),
        max_iter=3,
        n_estimators=2,
        numerical_embedding=None,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    path = tmp_path_factory.mktemp("tiny") / "tiny.snn"
    save(clf, path)
    return clf, X, y, path.read_bytes()


@pytest.fixture
def tiny_path(tiny_file, tmp_path):
    path = tmp_path / "model.snn"
    path.write_bytes(tiny_file[3])
    return path


@pytest.fixture
def built_networks(monkeypatch):
    """The specs of the networks that load builds; building one is refused."""
    specs = []

    def refuse_to_build(spec, *args, **kwargs):
        specs.append(spec)
        raise RuntimeError("load built the network")

    monkeypatch.setattr(persistence, "SELUNetwork", refuse_to_build)
    return specs


@pytest.fixture
def read_sizes(monkeypatch):
    """The sizes that load asks zip members for; -1 is a read to the end."""
    sizes = []
    read = zipfile.ZipExtFile.read

    def recording_read(self, n=-1):
        sizes.append(-1 if n is None else n)
        return read(self, n)

    monkeypatch.setattr(zipfile.ZipExtFile, "read", recording_read)
    return sizes


def test_missing_file_is_reported_as_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="No such file"):
        load(tmp_path / "absent.snn")
    with pytest.raises(ValueError, match="is a directory"):
        load(tmp_path)


def _write_deflated(path, metadata, weights):
    """Write a model file from its members, compressed as save compresses them."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("metadata.json", metadata)
        archive.writestr("weights.safetensors", weights)


def test_metadata_larger_than_its_bound_is_refused_unread(tiny_path, read_sizes):
    # Valid JSON padded with whitespace: before the bound, a 1 MB file whose
    # metadata expanded to 1 GiB loaded after 10 s and 1.7 GB of memory.
    text = json.dumps(_metadata(tiny_path))
    padding = " " * (_model_archive.MAX_METADATA_BYTES - len(text) + 1)
    _write_deflated(tiny_path, text + padding, _state_bytes(tiny_path))
    read_sizes.clear()
    with pytest.raises(ValueError, match="metadata.json declares .* more than"):
        load(tiny_path)
    assert read_sizes == []


def test_every_member_is_read_within_its_declared_size(tiny_path, read_sizes):
    load(tiny_path)
    with zipfile.ZipFile(tiny_path) as archive:
        largest = max(info.file_size for info in archive.infolist())
    assert read_sizes
    assert all(0 <= size <= largest for size in read_sizes), read_sizes


@pytest.mark.parametrize(
    "network",
    [
        {"n_features": 6_000_000},
        {"hidden_layer_sizes": [9]},
        {"n_estimators": 3},
        {"n_outputs": 4},
    ],
    ids=["6M_features", "wider_layer", "more_members", "more_outputs"],
)
def test_declared_network_is_checked_before_it_is_built(
    network, tiny_path, built_networks
):
    # Before the check, metadata that claimed 6,000,000 features in an 8 kB
    # file built a network of 1.1 GB before the weights refused it.
    metadata = _metadata(tiny_path)
    metadata["network"].update(network)
    if "n_outputs" in network:
        metadata["fitted"]["classes"]["values"] = [0, 1, 2, 3]
    _rewrite(tiny_path, metadata=metadata)
    with pytest.raises(ValueError, match="not a valid sklearn-snn model file"):
        load(tiny_path)
    assert built_networks == []


def _state_bytes(path):
    with zipfile.ZipFile(path) as archive:
        return archive.read("weights.safetensors")


def _state(path):
    return safetensors.torch.load(_state_bytes(path))


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_weights_are_refused(value, tiny_path):
    state = _state(tiny_path)
    state["output.weight"][0, 0, 0] = value
    _rewrite(tiny_path, weights=safetensors.torch.save(state))
    with pytest.raises(ValueError, match="nan or infinite values in output.weight"):
        load(tiny_path)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float16, torch.bfloat16])
def test_weights_of_another_dtype_are_refused_not_cast(dtype, tiny_path):
    state = {name: value.to(dtype) for name, value in _state(tiny_path).items()}
    _rewrite(tiny_path, weights=safetensors.torch.save(state))
    with pytest.raises(ValueError, match=r"float32 \(F32\) weights only"):
        load(tiny_path)


@pytest.mark.parametrize(
    "labels",
    [
        [[0], [1], [2]],
        [{"a": 0}, {"b": 1}, {"c": 2}],
        [None, 1, 2],
        ["0", "1", "2"],
        [0, 1, 1],
    ],
    ids=["lists", "dicts", "null", "strings_as_ints", "repeated"],
)
def test_labels_that_are_not_plain_numbers_or_strings_are_refused(labels, tiny_path):
    metadata = _metadata(tiny_path)
    metadata["fitted"]["classes"]["values"] = labels
    _rewrite(tiny_path, metadata=metadata)
    with pytest.raises(ValueError, match="classes"):
        load(tiny_path)


def _zero_network_file(path, width):
    """Rewrite a model file to a wider network whose weights are all zeros."""
    metadata = _metadata(path)
    metadata["network"]["hidden_layer_sizes"] = [width]
    metadata["params"]["hidden_layer_sizes"] = [width]
    state = {
        name: torch.zeros(value.shape[0], width, value.shape[2])
        if name == "hidden.0.weight"
        else torch.zeros(value.shape[0], width)
        if name == "hidden.0.bias"
        else torch.zeros(*value.shape[:2], width)
        if name == "output.weight"
        else torch.zeros_like(value)
        for name, value in _state(path).items()
    }
    _rewrite(path, metadata=metadata, weights=safetensors.torch.save(state))


def test_weights_that_expand_like_a_zip_bomb_are_refused_unread(
    tiny_path, monkeypatch, read_sizes
):
    # 18 kB of zeros deflate to about 60 bytes: weights larger than
    # UNCHECKED_WEIGHTS_BYTES (lowered here) that expand so much are a bomb.
    _zero_network_file(tiny_path, width=256)
    _write_deflated(
        tiny_path, json.dumps(_metadata(tiny_path)), _state_bytes(tiny_path)
    )
    tensors = sum(4 * value.numel() for value in _state(tiny_path).values())
    monkeypatch.setattr(_model_archive, "UNCHECKED_WEIGHTS_BYTES", 0)
    read_sizes.clear()
    with pytest.raises(ValueError, match="compressed .* times.*zip bomb"):
        load(tiny_path)
    # The safetensors header is read, the tensors are not.
    assert read_sizes
    assert max(read_sizes) < tensors


def test_save_stores_weights_uncompressed_where_they_would_read_as_a_bomb(
    tiny_file, tmp_path, monkeypatch
):
    clf, X, _, _ = tiny_file
    monkeypatch.setattr(_model_archive, "UNCHECKED_WEIGHTS_BYTES", 0)
    monkeypatch.setattr(_model_archive, "MAX_COMPRESSION_RATIO", 1)
    save(clf, tmp_path / "m.snn")
    with zipfile.ZipFile(tmp_path / "m.snn") as archive:
        assert archive.getinfo("weights.safetensors").compress_type == 0
        assert archive.getinfo("metadata.json").compress_type == zipfile.ZIP_DEFLATED
    np.testing.assert_array_equal(
        load(tmp_path / "m.snn").predict_proba(X), clf.predict_proba(X)
    )


def test_save_refuses_a_file_that_load_would_refuse(tiny_file, tmp_path, monkeypatch):
    clf = tiny_file[0]
    monkeypatch.setattr(persistence, "MAX_METADATA_BYTES", 1000)
    with pytest.raises(ValueError, match="more than the 1000 that load reads"):
        save(clf, tmp_path / "m.snn")
    monkeypatch.setattr(persistence, "MAX_METADATA_BYTES", 1 << 20)
    monkeypatch.setattr(_network_json, "MAX_MEMBER_LAYERS", 3)
    with pytest.raises(ValueError, match="cannot be saved for load"):
        save(clf, tmp_path / "m.snn")
    monkeypatch.undo()
    broken = pickle.loads(pickle.dumps(clf))
    with torch.no_grad():
        broken.net_.module_.output.bias[0, 0] = np.nan
    with pytest.raises(ValueError, match="nan or infinite values, which load refuses"):
        save(broken, tmp_path / "m.snn")
    assert not (tmp_path / "m.snn").exists()


@pytest.mark.parametrize(
    "spec",
    [
        NetworkSpec(5, (8,), 3, 0.0, 2),
        NetworkSpec(5, (8,), 3, 0.1, 2),
        NetworkSpec(7, (4, 6, 3), 2, 0.05, 1),
        NetworkSpec(7, (4, 6, 3), 1, 0.0, 3),
        NetworkSpec(7, (4,), 2, 0.05, 2, embeddings=(20, 3), embedding_dim=5),
        NetworkSpec(
            7, (4,), 2, 0.05, 2, embeddings=(9,), periodic_features=4, periodic_dim=2
        ),
    ],
)
def test_weight_shapes_are_those_of_the_network(spec):
    # load checks the weights against these shapes without building the
    # network, so they must be what SELUNetwork builds.
    built = {name: tuple(v.shape) for name, v in SELUNetwork(spec).state_dict().items()}
    assert _network_json.weight_shapes(spec) == built


def test_numpy_scalar_parameters_are_saved(tiny_file, tmp_path):
    # GridSearchCV over np.arange sets numpy scalars, inside tuples too.
    clf, X, y, _ = tiny_file
    params = {
        "hidden_layer_sizes": (np.int64(8),),
        "n_estimators": np.int64(2),
        "early_stopping": np.bool_(False),
        "alpha": np.float32(0.5),
        "dropout": np.float64(0.1),
        "class_weight": {np.int64(0): np.float32(2.0)},
        "random_state": np.int32(0),
    }
    search = GridSearchCV(
        clone(clf).set_params(**params), {"max_iter": np.arange(1, 3)}, cv=2
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X, y)
    best = search.best_estimator_
    assert isinstance(best.max_iter, np.integer)
    save(best, tmp_path / "best.snn")
    loaded = load(tmp_path / "best.snn")
    assert loaded.get_params() == best.get_params()
    np.testing.assert_array_equal(loaded.predict_proba(X), best.predict_proba(X))


def _mixed_frame(n_rows, rng, n_many=40):
    """A table of every kind of column that fit encodes.

    ``few`` (3 string levels) and ``flag`` (bool) become one-hot columns,
    ``many`` (``n_many`` levels of a category dtype, more than one-hot takes)
    is embedded, and ``num`` has missing values (which tell the targets of
    ``mixed_models``, so it keeps an indicator there).
    """
    many = np.repeat([f"c{k:02d}" for k in range(n_many)], -(-n_rows // n_many))
    return pd.DataFrame(
        {
            "num": np.where(rng.random(n_rows) < 0.1, np.nan, rng.normal(size=n_rows)),
            "few": rng.choice(["red", "green", "blue"], n_rows).astype(object),
            "many": pd.Categorical(rng.permutation(many[:n_rows])),
            "flag": rng.random(n_rows) < 0.3,
            "x": rng.normal(size=n_rows),
        }
    )


def _new_rows(rng):
    """Rows to predict with levels unseen in fit and missing values everywhere."""
    X = _mixed_frame(40, rng)
    X.loc[:4, "few"] = ["purple", None, "red", "purple", None]
    X["many"] = X["many"].cat.add_categories(["c99"])
    X.loc[5:8, "many"] = ["c99", np.nan, "c99", np.nan]
    X.loc[9:12, "num"] = np.nan
    X["flag"] = X["flag"].astype(object)
    X.loc[13, "flag"] = None
    return X


@pytest.fixture(scope="module")
def mixed_models():
    """Mixed columns, new rows, and a classifier and a regressor fitted on them."""
    rng = np.random.default_rng(0)
    X = _mixed_frame(800, rng)
    codes = X["many"].cat.codes.to_numpy()
    missing = X["num"].isna().to_numpy()
    y_class = np.array(["lo", "mid", "hi"])[(codes + (X["few"] == "red")) % 3]
    y_class[missing] = "lo"
    y_reg = 0.5 * codes + np.nan_to_num(X["num"].to_numpy()) + X["flag"] + 2 * missing
    params = {**FAST, "hidden_layer_sizes": (16,), "max_iter": 5, "n_estimators": 2}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        models = {
            "classifier": SNNClassifier(**params).fit(X, y_class),
            # A Series of booleans, as in X.dtypes == "category", is stored as
            # a list.
            "regressor": SNNRegressor(
                **params, categorical_features=X.dtypes != "float64"
            ).fit(X, y_reg),
        }
    return X, _new_rows(rng), models


def _refuse(*args, **kwargs):
    raise AssertionError("load unpickled")


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_categorical_and_missing_values_round_trip(
    kind, mixed_models, tmp_path, monkeypatch
):
    X, X_new, models = mixed_models
    model = models[kind]
    assert model.is_categorical_.tolist() == [False, True, True, True, False]
    assert model.net_.module_.spec.embeddings == (41,)
    assert model._table_encoding.indicated == [0]
    save(model, tmp_path / "m.snn")
    for name in ["load", "loads", "Unpickler"]:
        monkeypatch.setattr(pickle, name, _refuse)
    loaded = load(tmp_path / "m.snn")
    monkeypatch.undo()
    assert loaded._table_encoding == model._table_encoding
    np.testing.assert_array_equal(loaded.is_categorical_, model.is_categorical_)
    assert loaded.categorical_levels_ == model.categorical_levels_
    assert loaded.categorical_levels_["flag"] == [False, True]
    for name, value in model.net_.module_.state_dict().items():
        assert torch.equal(loaded.net_.module_.state_dict()[name], value), name
    for rows in [X, X_new]:
        np.testing.assert_array_equal(loaded.predict(rows), model.predict(rows))
    if kind == "classifier":
        np.testing.assert_array_equal(
            loaded.predict_proba(X_new), model.predict_proba(X_new)
        )
        assert loaded.get_params() == model.get_params()
    else:
        assert loaded.categorical_features == [False, True, True, True, False]


def test_categorical_levels_count_towards_the_metadata_bound(
    mixed_models, tmp_path, monkeypatch
):
    model = copy.deepcopy(mixed_models[2]["classifier"])
    save(model, tmp_path / "short.snn")
    size = len(json.dumps(_metadata(tmp_path / "short.snn"), indent=1))
    column = model._table_encoding.categorical[1]
    assert column.embedded
    # 40 levels of 3,000 characters: 120 kB more metadata.
    column.levels = [level * 1000 for level in column.levels]
    monkeypatch.setattr(persistence, "MAX_METADATA_BYTES", size + 10_000)
    save(mixed_models[2]["classifier"], tmp_path / "again.snn")
    with pytest.raises(ValueError, match="levels of categorical columns"):
        save(model, tmp_path / "long.snn")
    assert not (tmp_path / "long.snn").exists()


_PERIODIC_FIELDS = ["periodic_features", "periodic_frequencies", "periodic_dim"]


def _as_version_3(metadata):
    """Return the metadata as a release of format version 3 wrote it."""
    metadata = copy.deepcopy(metadata)
    metadata["format_version"] = 3
    for name in ["encoding", "clipper", "imputer"]:
        del metadata["fitted"][name]
    for name in ["embeddings", "embedding_dim"] + _PERIODIC_FIELDS:
        del metadata["network"][name]
    for name in ["scoring", "categorical_features", "input_scaling"]:
        del metadata["params"][name]
    return metadata


def test_format_version_3_files_load_with_every_column_numeric(tiny_file, tiny_path):
    # Version 3 files were written before categorical columns and missing
    # values were encoded: every column was numeric.
    clf, X, y, _ = tiny_file
    _rewrite(tiny_path, metadata=_as_version_3(_metadata(tiny_path)))
    loaded = load(tiny_path)
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    assert loaded._table_encoding == clf._table_encoding
    assert loaded.is_categorical_.tolist() == [False] * X.shape[1]
    assert loaded.categorical_levels_ == {}
    # Its network is the one that fit builds, so a warm start continues it.
    loaded.set_params(warm_start=True, max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        loaded.fit(X, y)
    assert loaded.n_iter_ == 1


def test_format_version_4_files_must_hold_the_encoding(tiny_path, built_networks):
    metadata = _metadata(tiny_path)
    del metadata["fitted"]["encoding"]
    _rewrite(tiny_path, metadata=metadata)
    with pytest.raises(ValueError, match="a field is missing .*'encoding'"):
        load(tiny_path)
    assert built_networks == []


def test_periodic_embedding_round_trip(regression_data, tmp_path):
    X, y = regression_data
    reg = SNNRegressor(**FAST, numerical_embedding="periodic").fit(X, y)
    save(reg, tmp_path / "m.snn")
    loaded = load(tmp_path / "m.snn")
    assert loaded.net_.module_.spec == reg.net_.module_.spec
    assert loaded.net_.module_.spec.periodic_features == X.shape[1]
    np.testing.assert_array_equal(loaded.predict(X), reg.predict(X))


def test_periodic_features_that_disagree_with_the_parameters_are_refused(
    tiny_path, built_networks
):
    metadata = _metadata(tiny_path)
    metadata["network"]["periodic_features"] = 2
    _rewrite(tiny_path, metadata=metadata)
    with pytest.raises(
        ValueError,
        match="periodic_features is 2, but numerical_embedding=None with 5 numeric",
    ):
        load(tiny_path)
    assert built_networks == []


def test_format_version_5_files_load_without_a_periodic_embedding(
    tiny_file, tiny_path, monkeypatch
):
    # Whatever the default of numerical_embedding, a file written before the
    # periodic embedding existed holds a network without one.
    clf, X, _, _ = tiny_file
    metadata = _metadata(tiny_path)
    metadata["format_version"] = 5
    for name in _PERIODIC_FIELDS:
        del metadata["network"][name]
    del metadata["fitted"]["encoding"]["incomplete"]
    del metadata["params"]["numerical_embedding"]
    _rewrite(tiny_path, metadata=metadata)
    defaults = SNNClassifier.__init__.__kwdefaults__
    monkeypatch.setitem(defaults, "numerical_embedding", "periodic")
    loaded = load(tiny_path)
    assert loaded.numerical_embedding is None
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
