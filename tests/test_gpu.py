"""Tests that need CUDA; they skip on machines without it."""

import os
import pickle
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import FAST

from sklearn_snn import SNNClassifier, SNNRegressor, load, save

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


@pytest.mark.parametrize("Estimator", [SNNClassifier, SNNRegressor])
def test_fit_on_cuda_predicts_numpy_on_cpu(Estimator, classification_data):
    X, y = classification_data
    model = Estimator(**{**FAST, "device": "cuda"}).fit(X, y)
    assert model.device_.startswith("cuda")
    assert next(model.net_.module_.parameters()).is_cuda
    predictions = model.predict(X)
    assert isinstance(predictions, np.ndarray)
    assert np.isfinite(predictions).all()


def test_cuda_model_loads_and_predicts_on_a_cpu_only_process(
    classification_data, tmp_path
):
    X, y = classification_data
    clf = SNNClassifier(**{**FAST, "device": "cuda"}).fit(X, y)
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(clf))
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "expected.npy", clf.predict_proba(X))
    script = f"""
import pickle, warnings
import numpy as np, torch
assert not torch.cuda.is_available()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    clf = pickle.loads(open({str(path)!r}, "rb").read())
proba = clf.predict_proba(np.load({str(tmp_path / "X.npy")!r}))
expected = np.load({str(tmp_path / "expected.npy")!r})
np.testing.assert_allclose(proba, expected, atol=1e-4)
print("ok")
"""
    result = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "CUDA_VISIBLE_DEVICES": ""},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_compiled_ensemble_with_weight_centering_on_cuda(classification_data):
    X, y = classification_data
    params = {**FAST, "max_iter": 3, "n_estimators": 3, "weight_constraint": "center"}
    clf = SNNClassifier(**{**params, "device": "cuda"}, compile_step=True).fit(X, y)
    module = clf.net_.module_
    assert module.hidden[0].weight.is_cuda
    for layer in (module.hidden[3],):
        assert layer.weight.mean(dim=2).abs().max().item() < 1e-5
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    assert np.isfinite(proba).all()


@pytest.mark.parametrize("precision", ["float32", "bf16"])
def test_cuda_graph_step_with_dropout_learns_like_eager(precision, classification_data):
    X, y = classification_data
    params = {**FAST, "dropout": 0.05, "device": "cuda", "precision": precision}
    eager = SNNClassifier(**params).fit(X, y)
    graphed = SNNClassifier(**params, compile_step=True).fit(X, y)
    assert graphed.net_.graph_step_ is None
    assert np.isfinite(graphed.loss_curve_).all()
    assert graphed.score(X, y) >= eager.score(X, y) - 0.05


def test_warm_start_with_a_cuda_graph_captures_a_new_one(classification_data):
    X, y = classification_data
    params = {**FAST, "max_iter": 3, "early_stopping": False, "device": "cuda"}
    clf = SNNClassifier(**params, compile_step=True, warm_start=True).fit(X, y)
    first = list(clf.loss_curve_)
    clf.set_params(learning_rate_init=0.001).fit(X, y)
    assert clf.loss_curve_[:3] == first
    assert len(clf.loss_curve_) == 6
    assert np.isfinite(clf.loss_curve_).all()


def test_a_cuda_graph_is_captured_again_at_the_lower_learning_rate(
    classification_data,
):
    # The captured graph holds the learning rate as a constant. After a drop
    # it must be captured again, or it would go on training at the old rate;
    # without dropout and with full batches, the graphed fit follows the
    # eager one before and after the drop, within float32 drift over 80
    # epochs, far closer than a tenfold rate would leave it.
    X, y = classification_data
    params = {
        **FAST,
        "batch_size": 40,
        "max_iter": 200,
        "device": "cuda",
        "dropout": 0.0,
        "early_stopping": False,
        "tol": 1e9,
        "n_iter_no_change": 2,
        "n_learning_rate_drops": 1,
    }
    eager = SNNClassifier(**params).fit(X, y)
    graphed = SNNClassifier(**params, compile_step=True).fit(X, y)
    rates = graphed.net_.history[:, "lr"]
    assert rates[0] == params["learning_rate_init"]
    assert rates[-1] == pytest.approx(params["learning_rate_init"] / 10)
    assert rates == eager.net_.history[:, "lr"]
    np.testing.assert_allclose(graphed.loss_curve_, eager.loss_curve_, rtol=1e-2)


def test_dask_workers_sharing_one_gpu_train_on_it(classification_data):
    # Several worker processes on one device, each fit with device='auto'
    # (as on a dask_cuda cluster, where CUDA_VISIBLE_DEVICES names the
    # worker's GPU): every fit trains on the GPU and comes back.
    from distributed import Client, LocalCluster

    X, y = classification_data
    params = {**FAST, "device": "auto", "max_iter": 5}
    with (
        LocalCluster(n_workers=2, threads_per_worker=2, processes=True) as cluster,
        Client(cluster) as client,
    ):
        futures = [
            client.submit(
                SNNClassifier(**{**params, "random_state": seed}).fit, X, y, pure=False
            )
            for seed in range(4)
        ]
        models = client.gather(futures)
    assert [model.device_ for model in models] == ["cuda"] * 4
    alone = SNNClassifier(**{**params, "random_state": 0}).fit(X, y)
    np.testing.assert_allclose(
        models[0].predict_proba(X), alone.predict_proba(X), rtol=1e-4, atol=1e-6
    )


@pytest.mark.parametrize("compile_step", [False, True])
def test_a_table_with_categories_and_gaps_trains_on_cuda(compile_step, tmp_path):
    rng = np.random.default_rng(0)
    n = 400
    X = pd.DataFrame(
        {
            "x": np.where(np.arange(n) % 7 == 0, np.nan, rng.normal(size=n)),
            "city": [f"c{i % 20}" for i in range(n)],
            "color": rng.choice(["red", "green", "blue"], n),
        }
    )
    y = (X["x"].fillna(0) > 0).to_numpy() ^ (np.arange(n) % 20 < 10)
    params = {**FAST, "device": "cuda", "compile_step": compile_step}
    clf = SNNClassifier(**params).fit(X, y)
    assert clf.net_.module_.spec.embeddings == (21,)
    assert clf.net_.module_.embeddings[0].weight.is_cuda
    proba = clf.predict_proba(X)
    assert np.isfinite(proba).all()
    save(clf, tmp_path / "model.snn")
    on_cpu = load(tmp_path / "model.snn", device="cpu")
    np.testing.assert_allclose(on_cpu.predict_proba(X), proba, atol=1e-4)
