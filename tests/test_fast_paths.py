"""The bf16 and compiled-step training paths, and where training data lives."""

import logging
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import FAST
from sklearn.exceptions import ConvergenceWarning

from sklearn_snn import SNNClassifier, SNNRegressor


def _fit_quietly(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


def test_compiled_step_follows_the_eager_loss_trajectory(rng):
    # 192 rows in batches of 32: no partial batch, so both paths see the same
    # batches. Without dropout both draw no random numbers during a step.
    X = rng.normal(size=(192, 5))
    y = X @ rng.normal(size=5) + 0.1 * rng.normal(size=192)
    params = {
        **FAST,
        "dropout": 0.0,
        "early_stopping": False,
        "max_iter": 4,
        "batch_size": 32,
        # float32: under bf16 the two paths round differently.
        "precision": "float32",
    }
    eager = _fit_quietly(SNNRegressor(**params), X, y)
    compiled = _fit_quietly(SNNRegressor(**params, compile_step=True), X, y)
    np.testing.assert_allclose(compiled.loss_curve_, eager.loss_curve_, rtol=1e-4)
    np.testing.assert_allclose(
        compiled.predict(X), eager.predict(X), rtol=1e-3, atol=1e-3 * y.std()
    )


def test_compiled_step_follows_eager_with_member_folds(rng):
    # 200 rows in batches of 40: every row trains, so no partial batch.
    X = rng.normal(size=(200, 5))
    y = X @ rng.normal(size=5) + 0.1 * rng.normal(size=200)
    params = {
        **FAST,
        "dropout": 0.0,
        "max_iter": 3,
        "batch_size": 40,
        "member_validation": "pairs",
        # float32: under bf16 the two paths round differently.
        "precision": "float32",
    }
    eager = _fit_quietly(SNNRegressor(**params), X, y)
    compiled = _fit_quietly(SNNRegressor(**params, compile_step=True), X, y)
    np.testing.assert_allclose(compiled.loss_curve_, eager.loss_curve_, rtol=1e-4)


def test_compiled_step_trains_embeddings_like_the_eager_step(rng):
    # A column of 20 string levels, 10 rows each, is embedded; 200 rows in
    # batches of 40 leave no partial batch. Without dropout both paths follow
    # the same trajectory, embeddings included.
    city = np.arange(200) % 20
    X = pd.DataFrame({"x": rng.normal(size=200), "city": [f"c{c}" for c in city]})
    y = X["x"].to_numpy() + (city % 3)
    params = {
        **FAST,
        "dropout": 0.0,
        "early_stopping": False,
        "max_iter": 3,
        "batch_size": 40,
        # float32: under bf16 the two paths round differently.
        "precision": "float32",
    }
    eager = _fit_quietly(SNNRegressor(**params), X, y)
    compiled = _fit_quietly(SNNRegressor(**params, compile_step=True), X, y)
    assert compiled.net_.module_.spec.embeddings == (21,)
    shorter = _fit_quietly(SNNRegressor(**{**params, "max_iter": 1}), X, y)
    trained = eager.net_.module_.embeddings[0].weight.detach()
    assert not torch.equal(trained, shorter.net_.module_.embeddings[0].weight.detach())
    np.testing.assert_allclose(compiled.loss_curve_, eager.loss_curve_, rtol=1e-4)
    np.testing.assert_allclose(
        compiled.net_.module_.embeddings[0].weight.detach(),
        eager.net_.module_.embeddings[0].weight.detach(),
        atol=1e-4,
    )


def test_compiled_step_with_dropout_learns_like_the_eager_step(classification_data):
    # Compiled on the CPU, AlphaDropout draws its masks from a hash rather
    # than from torch's generator (see ``_network.selu_alpha_dropout``), so the two
    # runs differ; they must learn equally well.
    X, y = classification_data
    params = {**FAST, "dropout": 0.1, "early_stopping": False, "max_iter": 30}
    eager = _fit_quietly(SNNClassifier(**params), X, y)
    compiled = _fit_quietly(SNNClassifier(**params, compile_step=True), X, y)
    assert compiled.score(X, y) >= eager.score(X, y) - 0.05
    assert compiled.loss_curve_[-1] <= 1.25 * eager.loss_curve_[-1]
    assert not np.array_equal(compiled.loss_curve_, eager.loss_curve_)


def test_compiled_step_with_dropout_is_reproducible(classification_data):
    # The hashed masks' seeds come from torch's generator, which random_state
    # seeds: two compiled fits are identical.
    X, y = classification_data
    params = {**FAST, "dropout": 0.1, "max_iter": 3, "compile_step": True}
    first = _fit_quietly(SNNClassifier(**params), X, y)
    second = _fit_quietly(SNNClassifier(**params), X, y)
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))


def test_bf16_reaches_the_accuracy_of_float32(classification_data):
    X, y = classification_data
    full = SNNClassifier(**FAST, precision="float32").fit(X, y)
    half = SNNClassifier(**FAST, precision="bf16").fit(X, y)
    assert half.score(X, y) >= full.score(X, y) - 0.05
    assert next(half.net_.module_.parameters()).dtype == torch.float32


@pytest.mark.parametrize("has_units", [True, False])
def test_auto_precision_trains_in_bf16_where_the_cpu_has_bf16_units(
    monkeypatch, classification_data, has_units
):
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: has_units)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False)
    X, y = classification_data
    clf = _fit_quietly(SNNClassifier(**{**FAST, "max_iter": 2}, precision="auto"), X, y)
    assert clf.net_.precision == ("bf16" if has_units else "float32")
    assert clf.get_params()["precision"] == "auto"


def test_compiled_model_pickles(classification_data):
    import pickle

    X, y = classification_data
    clf = _fit_quietly(
        SNNClassifier(**{**FAST, "max_iter": 1}, compile_step=True), X, y
    )
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict(X), clf.predict(X))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_compiled_step_on_cuda_follows_eager(rng):
    X = rng.normal(size=(256, 5))
    y = X @ rng.normal(size=5)
    params = {**FAST, "dropout": 0.0, "early_stopping": False, "max_iter": 4}
    params.update(batch_size=64, device="cuda")
    eager = _fit_quietly(SNNRegressor(**params), X, y)
    compiled = _fit_quietly(SNNRegressor(**params, compile_step=True), X, y)
    np.testing.assert_allclose(compiled.loss_curve_, eager.loss_curve_, rtol=1e-3)


def test_compiled_fits_never_exhaust_the_recompile_limit(rng):
    # Every fit builds a new net and optimizer. If compiled code were shared
    # between nets, each fit would recompile it, and after recompile_limit
    # fits in one process torch.compile would give up and run eagerly.
    messages = []
    handler = logging.Handler(level=logging.WARNING)
    handler.emit = lambda record: messages.append(record.getMessage())
    logger = logging.getLogger("torch._dynamo.convert_frame")
    logger.addHandler(handler)
    X = rng.normal(size=(128, 4))
    y = X[:, 0] > 0
    params = {**FAST, "max_iter": 2, "early_stopping": False, "n_estimators": 1}
    # torch's own patch: monkeypatch's undo deletes the entry from torch's
    # config module instead of restoring it.
    try:
        with torch._dynamo.config.patch(recompile_limit=2):
            for seed in range(4):
                _fit_quietly(
                    SNNClassifier(
                        **{**params, "random_state": seed}, compile_step=True
                    ),
                    X,
                    y,
                )
    finally:
        logger.removeHandler(handler)
    assert not [m for m in messages if "recompile_limit" in m]
