"""The estimators on Dask: searches on a cluster, dask-ml's wrappers, out-of-core.

One ``LocalCluster`` of two worker processes (one thread each) serves the whole
module; the models are tiny so that everything runs in well under a minute on
two cores. The dask extra (dask[distributed], dask-ml, pyarrow) is a test
dependency: a missing module fails here rather than skips.
"""

import os
import weakref

import dask
import dask.array as da
import dask.dataframe as dd
import joblib
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from dask_ml.wrappers import Incremental, ParallelPostFit
from distributed import Client, LocalCluster
from sklearn.datasets import make_classification, make_regression
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import GridSearchCV, KFold, cross_validate

from sklearn_snn import SNNClassifier, SNNRegressor

#: Tiny networks: each fit takes a fraction of a second on one core.
TINY = {
    "device": "cpu",
    "hidden_layer_sizes": (16,),
    "n_estimators": 1,
    "learning_rate_init": 0.01,
    "batch_size": 32,
    "max_iter": 3,
    "early_stopping": False,
    "random_state": 0,
}

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    # The rule of the workers holds here too: while two worker processes
    # train on the two cores, this process's own fits take one thread.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def client():
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


@pytest.fixture
def binary_data():
    X, y = make_classification(
        n_samples=400, n_features=8, n_informative=5, random_state=0
    )
    return X, y


def test_nanny_gives_torch_one_thread_per_worker(client):
    # The rule that keeps workers from oversubscribing the cores: the nanny
    # sets OMP_NUM_THREADS=1 before it starts a worker process, so torch
    # starts with one thread there (and threads_per_worker fits share a
    # worker's cores).
    environ = dask.config.get("distributed.nanny.pre-spawn-environ")
    assert int(environ["OMP_NUM_THREADS"]) == 1
    assert set(client.run(os.environ.get, "OMP_NUM_THREADS").values()) == {"1"}
    threads = client.run(torch.get_num_threads)
    assert len(threads) == 2
    assert set(threads.values()) == {1}


def test_grid_search_on_the_dask_backend_matches_a_sequential_one(client, binary_data):
    X, y = binary_data
    grid = {"learning_rate_init": [0.003, 0.03], "dropout": [0.0, 0.1]}

    def pid(estimator, X, y):
        # Scored in the process that fitted the model.
        return os.getpid()

    scoring = {"accuracy": "accuracy", "pid": pid}
    cv = KFold(2, shuffle=True, random_state=0)

    def search(n_jobs):
        return GridSearchCV(
            SNNClassifier(**TINY), grid, cv=cv, scoring=scoring, refit="accuracy"
        ).set_params(n_jobs=n_jobs)

    sequential = search(n_jobs=None).fit(X, y)
    with joblib.parallel_config(backend="dask"):
        on_dask = search(n_jobs=-1).fit(X, y)

    # Every fit ran in a worker process, none in this one.
    worker_pids = set(client.run(os.getpid).values())
    fit_pids = {
        int(p)
        for split in range(cv.get_n_splits())
        for p in on_dask.cv_results_[f"split{split}_test_pid"]
    }
    assert fit_pids <= worker_pids
    assert os.getpid() not in worker_pids
    assert set(sequential.cv_results_["split0_test_pid"]) == {os.getpid()}

    # Fits are reproducible, wherever they run: the same scores, the same best
    # candidate and the same refitted model.
    for key in ("mean_test_accuracy", "split0_test_accuracy", "split1_test_accuracy"):
        np.testing.assert_array_equal(
            on_dask.cv_results_[key], sequential.cv_results_[key]
        )
    assert on_dask.best_params_ == sequential.best_params_
    np.testing.assert_array_equal(
        on_dask.best_estimator_.predict_proba(X),
        sequential.best_estimator_.predict_proba(X),
    )


@pytest.mark.parametrize(
    ("Estimator", "make_data"),
    [
        (SNNClassifier, lambda: make_classification(n_samples=200, random_state=0)),
        (SNNRegressor, lambda: make_regression(n_samples=200, random_state=0)),
    ],
)
def test_models_fitted_on_workers_come_back_to_the_client(client, Estimator, make_data):
    X, y = make_data()
    sequential = cross_validate(Estimator(**TINY), X, y, cv=2, return_estimator=True)
    with joblib.parallel_config(backend="dask"):
        on_dask = cross_validate(
            Estimator(**TINY), X, y, cv=2, return_estimator=True, n_jobs=-1
        )
    for mine, theirs in zip(sequential["estimator"], on_dask["estimator"], strict=True):
        assert theirs.device_ == "cpu"
        np.testing.assert_array_equal(theirs.predict(X), mine.predict(X))
    np.testing.assert_array_equal(on_dask["test_score"], sequential["test_score"])


def test_parallel_post_fit_predicts_dask_arrays_block_by_block(client, binary_data):
    X, y = binary_data
    model = SNNClassifier(**TINY).fit(X, y)
    X_dask = da.from_array(X, chunks=(100, X.shape[1]))
    wrapped = ParallelPostFit(model)

    labels = wrapped.predict(X_dask)
    proba = wrapped.predict_proba(X_dask)
    assert isinstance(labels, da.Array)
    assert isinstance(proba, da.Array)
    # One block of predictions per block of rows: nothing is concatenated
    # before it is predicted.
    assert labels.chunks == (X_dask.chunks[0],)
    assert proba.chunks == (X_dask.chunks[0], (2,))
    labels, proba = dask.compute(labels, proba)
    np.testing.assert_array_equal(labels, model.predict(X))
    np.testing.assert_array_equal(proba, model.predict_proba(X))


def test_parallel_post_fit_predicts_dask_dataframes(client, binary_data):
    X, y = binary_data
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    model = SNNClassifier(**TINY).fit(frame, y)
    frame_dask = dd.from_pandas(frame, npartitions=4)
    wrapped = ParallelPostFit(model)

    labels = wrapped.predict(frame_dask)
    proba = wrapped.predict_proba(frame_dask)
    # One block per partition; each partition keeps its column names, which
    # the model checks.
    assert labels.numblocks == (4,)
    assert proba.numblocks == (4, 1)
    labels, proba = dask.compute(labels, proba)
    np.testing.assert_array_equal(labels, model.predict(frame))
    np.testing.assert_array_equal(proba, model.predict_proba(frame))


def test_incremental_trains_block_by_block_through_partial_fit(client):
    X, y = make_classification(
        n_samples=1200, n_features=8, n_informative=5, random_state=1
    )
    X_train, y_train, X_test, y_test = X[:1000], y[:1000], X[1000:], y[1000:]
    X_dask = da.from_array(X_train, chunks=(100, 8))
    y_dask = da.from_array(y_train, chunks=100)
    incremental = Incremental(SNNClassifier(**TINY), shuffle_blocks=False)
    incremental.fit(X_dask, y_dask, classes=[0, 1])
    for _epoch in range(2):
        incremental.partial_fit(X_dask, y_dask, classes=[0, 1])

    # The same calls of partial_fit, one per block in order, in this process.
    model = SNNClassifier(**TINY)
    for _epoch in range(3):
        for start in range(0, 1000, 100):
            rows = slice(start, start + 100)
            model.partial_fit(X_train[rows], y_train[rows], classes=[0, 1])

    fitted = incremental.estimator_
    assert isinstance(fitted, SNNClassifier)
    np.testing.assert_array_equal(fitted.classes_, [0, 1])
    np.testing.assert_array_equal(
        fitted.predict_proba(X_test), model.predict_proba(X_test)
    )
    predicted = incremental.predict(da.from_array(X_test, chunks=(50, 8)))
    assert isinstance(predicted, da.Array)
    predicted = predicted.compute()
    np.testing.assert_array_equal(predicted, model.predict(X_test))
    assert accuracy_score(y_test, predicted) > 0.75


class ChunkWatch:
    """Record the chunks that ``partial_fit`` sees, and check that they are freed.

    ``seen(X)`` is called with each chunk before it is trained on; it fails
    when the previous chunk is still alive, so at most one chunk is ever held.
    Nothing holds a chunk in a reference cycle either: reference counting
    frees it as soon as the loop drops it, without the garbage collector.
    """

    def __init__(self):
        self.rows = []
        self._previous = None

    def seen(self, X):
        alive = self._previous is not None and self._previous() is not None
        assert not alive, "the previous chunk is still in memory"
        self._previous = weakref.ref(X)
        self.rows.append(len(X))


def test_out_of_core_training_on_parquet_reads_one_batch_at_a_time(tmp_path):
    X, y = make_classification(
        n_samples=2200, n_features=8, n_informative=5, random_state=2
    )
    X_test, y_test = X[2000:], y[2000:]
    columns = [f"x{i}" for i in range(8)]
    table = pa.table({**dict(zip(columns, X[:2000].T, strict=True)), "y": y[:2000]})
    path = tmp_path / "train.parquet"
    pq.write_table(table, path, row_group_size=100)
    file_bytes = table.nbytes
    del table

    model = SNNClassifier(**TINY)
    watch = ChunkWatch()
    allocated = []
    for _epoch in range(2):
        # pre_buffer=False: by default pyarrow reads every row group that
        # iter_batches will visit into memory before the first batch.
        batches = pq.ParquetFile(path, pre_buffer=False).iter_batches(batch_size=100)
        for batch in batches:
            allocated.append(pa.total_allocated_bytes())
            chunk = batch.to_pandas()
            del batch
            X_chunk = chunk[columns].to_numpy()
            y_chunk = chunk["y"].to_numpy()
            del chunk
            watch.seen(X_chunk)
            model.partial_fit(X_chunk, y_chunk, classes=[0, 1])
            del X_chunk, y_chunk

    assert watch.rows == [100] * 40
    # Arrow held a few batches' worth of buffers, never the whole file.
    assert max(allocated) < file_bytes / 3
    assert model.score(X_test, y_test) > 0.8


def test_out_of_core_training_on_csv_reads_one_chunk_at_a_time(tmp_path):
    X, y = make_regression(
        n_samples=1200, n_features=8, n_informative=5, noise=5.0, random_state=3
    )
    y = 10 * y + 1000
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(8)]).assign(y=y)
    path = tmp_path / "train.csv"
    frame.iloc[:1000].to_csv(path, index=False)
    X_test, y_test = frame.iloc[1000:].drop(columns="y"), y[1000:]
    del frame

    model = SNNRegressor(**TINY)
    watch = ChunkWatch()
    for _epoch in range(3):
        with pd.read_csv(path, chunksize=100) as reader:
            for chunk in reader:
                X_chunk = chunk.drop(columns="y")
                y_chunk = chunk["y"]
                del chunk
                watch.seen(X_chunk)
                model.partial_fit(X_chunk, y_chunk)
                del X_chunk, y_chunk

    assert watch.rows == [100] * 30
    assert list(model.feature_names_in_) == [f"x{i}" for i in range(8)]
    assert r2_score(y_test, model.predict(X_test)) > 0.8
