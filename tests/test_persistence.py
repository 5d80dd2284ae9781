import io
import json
import os
import pickle
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import FAST
from sklearn.exceptions import ConvergenceWarning, NotFittedError

import sklearn_snn
from sklearn_snn import SNNClassifier, SNNRegressor, load, save
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
    # reads version 3 and later.
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
