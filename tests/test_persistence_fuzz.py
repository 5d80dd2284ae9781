"""Deterministic fuzzing of ``load`` with damaged and hostile model files.

Every mutation of a valid model file must either be refused with a clear
ValueError, quickly and without building the network, or load a model that
predicts exactly as the original. The mutations are drawn from a seeded
generator, so a failure reproduces.
"""

import copy
import io
import json
import math
import re
import resource
import struct
import time
import warnings
import zipfile

import numpy as np
import pandas as pd
import pytest
import safetensors.torch
import torch
from sklearn.datasets import make_classification
from test_persistence import _as_version_3

import sklearn_snn.persistence as persistence
from sklearn_snn import SNNClassifier, SNNRegressor, _model_archive, load, save

#: Longest that one load may take; refusals take milliseconds, so this only
#: catches a load that reads or builds something large.
MAX_SECONDS_PER_LOAD = 2.0
#: Most that the peak memory of the process may grow over the fuzzing.
MAX_PEAK_GROWTH_BYTES = 200 << 20

#: Values that no field of the metadata holds as ``save`` writes it.
GARBAGE = [
    "x",
    "9" * 60,
    None,
    True,
    -1,
    0,
    1.5,
    10**30,
    2**64,
    -(2**63),
    math.nan,
    math.inf,
    -math.inf,
    [],
    [[1, [2]]],
    [0] * 1000,
    {},
    {"a": {"b": []}},
    {"dtype": "<U1000000000", "values": ["a"]},
]


@pytest.fixture(scope="module")
def one_thread():
    """Run torch on one thread while fuzzing, and restore its threads after."""
    # On a busy machine, waking a pool of threads for each of thousands of
    # tiny predictions costs milliseconds every time.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _fitted_file(Estimator, tmp_path_factory, X=None, y=None, **params):
    """A tiny fitted model: its file's bytes, members, inputs and predictions."""
    if X is None:
        X, y = make_classification(
            n_samples=60, n_features=5, n_informative=3, n_classes=3, random_state=0
        )
    model = Estimator(
        hidden_layer_sizes=(8,), max_iter=3, n_estimators=2, random_state=0, **params
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 3 iterations do not converge
        model.fit(X, y)
    path = tmp_path_factory.mktemp("fuzz") / "original.snn"
    save(model, path)
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    predict = getattr(model, "predict_proba", model.predict)
    return {
        "bytes": path.read_bytes(),
        "members": members,
        "metadata": json.loads(members["metadata.json"]),
        "X": X,
        "predict": predict.__name__,
        "predictions": predict(X),
    }


@pytest.fixture(scope="module")
def original(tmp_path_factory, one_thread):
    return _fitted_file(SNNClassifier, tmp_path_factory)


@pytest.fixture(scope="module")
def original_plain(tmp_path_factory, one_thread):
    """A classifier without the periodic embedding, as a version 3 file held."""
    return _fitted_file(SNNClassifier, tmp_path_factory, numerical_embedding=None)


@pytest.fixture(scope="module")
def original_regressor(tmp_path_factory, one_thread):
    return _fitted_file(SNNRegressor, tmp_path_factory)


@pytest.fixture(scope="module")
def original_mixed(tmp_path_factory, one_thread):
    """A classifier of numeric, one-hot, embedded and missing-indicated inputs.

    Its columns: ``num`` with missing values, ``few`` (3 levels, one-hot),
    ``many`` (20 levels, embedded: 21 codes), ``flag`` (bool, one-hot) and
    ``x``: 7 standardized inputs and 1 embedded. The label is class 0
    wherever ``num`` is missing, so that its indicator is kept.
    """
    rng = np.random.default_rng(0)
    n_rows = 240
    X = pd.DataFrame(
        {
            "num": np.where(rng.random(n_rows) < 0.1, np.nan, rng.normal(size=n_rows)),
            "few": rng.choice(["blue", "green", "red"], n_rows).astype(object),
            "many": pd.Categorical(
                rng.permutation(np.repeat([f"m{k:02d}" for k in range(20)], 12))
            ),
            "flag": rng.random(n_rows) < 0.3,
            "x": rng.normal(size=n_rows),
        }
    )
    y = np.where(X["num"].isna(), 0, X["many"].cat.codes.to_numpy() % 3)
    return _fitted_file(SNNClassifier, tmp_path_factory, X, y)


@pytest.fixture(scope="module")
def peak_memory():
    """Check that the process's peak memory grows little over the whole module."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    yield
    # ru_maxrss is in kilobytes on Linux.
    growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024
    assert growth < MAX_PEAK_GROWTH_BYTES, f"peak memory grew {growth >> 20} MiB"


@pytest.fixture
def check(original, tmp_path, monkeypatch, peak_memory):
    """Return ``check(data, label)``: load ``data`` as a file; refused or identical.

    It also counts the networks built: a refused file must build none. The
    model that a loaded file must match is ``check.original``, ``original``
    unless a test sets another; ``check.last_error`` is the message of the
    last refusal.
    """
    builds = []
    real_network = persistence.SELUNetwork

    def counting_network(spec, *args, **kwargs):
        builds.append(spec)
        return real_network(spec, *args, **kwargs)

    monkeypatch.setattr(persistence, "SELUNetwork", counting_network)
    path = tmp_path / "mutated.snn"
    outcomes = {"refused": 0, "identical": 0}

    def _check(data, label):
        path.write_bytes(data)
        builds.clear()
        start = time.perf_counter()
        try:
            model, error = load(path), None
        except ValueError as exc:
            model, error = None, exc
        elapsed = time.perf_counter() - start
        assert elapsed < MAX_SECONDS_PER_LOAD, f"{label}: took {elapsed:.2f}s"
        if error is None:
            reference = _check.original
            np.testing.assert_array_equal(
                getattr(model, reference["predict"])(reference["X"]),
                reference["predictions"],
                err_msg=label,
            )
            outcomes["identical"] += 1
            return
        message = _check.last_error = str(error)
        # A plain ValueError, not a subclass that leaks out of a library.
        assert type(error) is ValueError, f"{label}: {type(error).__name__}"
        assert message.startswith(str(path)), f"{label}: {message}"
        assert len(message) < 1000, f"{label}: a message of {len(message)} chars"
        assert not builds, f"{label}: refused after building {builds}"
        outcomes["refused"] += 1

    _check.outcomes = outcomes
    _check.original = original
    return _check


def _zip(members):
    """Return the bytes of a zip archive of ``members``, (name, data) pairs."""
    buffer = io.BytesIO()
    with (
        warnings.catch_warnings(),
        zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive,
    ):
        warnings.simplefilter("ignore")  # a name twice is one of the mutations
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def _model_zip(original, metadata=None, weights=None):
    members = original["members"]
    if metadata is None:
        metadata = members["metadata.json"]
    elif not isinstance(metadata, (bytes, str)):
        metadata = json.dumps(metadata)
    return _zip(
        [
            ("metadata.json", metadata),
            (
                "weights.safetensors",
                members["weights.safetensors"] if weights is None else weights,
            ),
        ]
    )


def test_truncated_files_are_refused(original, check):
    data = original["bytes"]
    rng = np.random.default_rng(0)
    offsets = {0, 1, 4, 22, len(data) - 22, len(data) - 1}
    offsets |= set(rng.integers(0, len(data), 120).tolist())
    for offset in sorted(offsets):
        check(data[:offset], f"truncated at {offset}")
    assert check.outcomes["identical"] == 0


def _header_offsets(data):
    """Offsets of every byte of the zip headers: local, central and end record."""
    offsets = []
    for signature, fixed, name_at in [
        (b"PK\x03\x04", 30, 26),
        (b"PK\x01\x02", 46, 28),
    ]:
        start = data.find(signature)
        while start != -1:
            name_length, extra_length = struct.unpack_from("<HH", data, start + name_at)
            offsets.extend(range(start, start + fixed + name_length + extra_length))
            start = data.find(signature, start + 1)
    end = data.rfind(b"PK\x05\x06")
    offsets.extend(range(end, len(data)))
    return offsets


def test_flipped_bytes_are_refused_or_harmless(original, check):
    data = original["bytes"]
    rng = np.random.default_rng(1)
    positions = _header_offsets(data) + rng.integers(0, len(data), 300).tolist()
    for position in positions:
        mutated = bytearray(data)
        mutated[position] ^= int(rng.integers(1, 256))
        check(bytes(mutated), f"byte {position} flipped")
    assert check.outcomes["refused"] > len(positions) // 2


def test_swapped_and_extra_members(original, check):
    metadata = original["members"]["metadata.json"]
    weights = original["members"]["weights.safetensors"]
    cases = {
        "contents swapped": [
            ("metadata.json", weights),
            ("weights.safetensors", metadata),
        ],
        "metadata twice": [
            ("metadata.json", metadata),
            ("weights.safetensors", weights),
            ("metadata.json", b"{}"),
        ],
        "weights as metadata": [
            ("metadata.json", weights),
            ("weights.safetensors", weights),
        ],
        "metadata as weights": [
            ("metadata.json", metadata),
            ("weights.safetensors", metadata),
        ],
        "only metadata": [("metadata.json", metadata)],
        "only weights": [("weights.safetensors", weights)],
        "empty members": [("metadata.json", b""), ("weights.safetensors", b"")],
    }
    for label, members in cases.items():
        check(_zip(members), label)
    assert check.outcomes["identical"] == 0
    # Reordered members and an unknown extra member are harmless.
    check(
        _zip([("weights.safetensors", weights), ("metadata.json", metadata)]),
        "reordered",
    )
    check(
        _zip(
            [
                ("metadata.json", metadata),
                ("weights.safetensors", weights),
                ("notes.txt", b"hi"),
            ]
        ),
        "extra member",
    )
    assert check.outcomes["identical"] == 2


def _patch(data, offset, fmt, value):
    mutated = bytearray(data)
    struct.pack_into(fmt, mutated, offset, value)
    return bytes(mutated)


def test_inflated_declared_sizes_are_refused_before_reading(original, check):
    members = original["members"]
    weights = members["weights.safetensors"]
    limit = _model_archive.MAX_METADATA_BYTES
    # Valid JSON, padded with whitespace past the bound: 16 MiB from 16 kB.
    padded = members["metadata.json"][:-1] + b" " * (2 * limit) + b"}"
    check(_model_zip(original, metadata=padded), "huge metadata")
    check(_model_zip(original, weights=weights + bytes(2 * limit)), "huge weights")
    header_size = struct.unpack_from("<Q", weights)[0]
    for size in [
        2**63,
        2**40,
        _model_archive.MAX_WEIGHTS_HEADER_BYTES + 8,
        header_size + 1,
        len(weights),
        0,
        1,
    ]:
        check(
            _model_zip(original, weights=struct.pack("<Q", size) + weights[8:]),
            f"safetensors header size {size}",
        )
    assert check.outcomes["identical"] == 0
    # The sizes in the zip's central directory. Every wrong uncompressed size
    # is refused; a compressed size that reaches past the end of the deflate
    # stream is harmless, since the stream ends itself.
    data = original["bytes"]
    start = data.find(b"PK\x01\x02")
    while start != -1:
        for field, refused in [(24, True), (20, False)]:
            size = struct.unpack_from("<I", data, start + field)[0]
            for value in [0xFFFFFFFF, 0x7FFFFFFF, 0, 1, size - 1, size + 1, 2 * size]:
                identical = check.outcomes["identical"]
                check(_patch(data, start + field, "<I", value), f"size {value}")
                assert not refused or check.outcomes["identical"] == identical
        start = data.find(b"PK\x01\x02", start + 1)


def test_lying_header_cannot_inflate_a_member(original, check):
    # The directory declares the real metadata's size, but the member's
    # stream inflates to 16 MiB: reading stops at the declared size.
    members = original["members"]
    real = members["metadata.json"]
    bomb = _model_zip(
        original, metadata=real + b" " * (2 * _model_archive.MAX_METADATA_BYTES)
    )
    start = bomb.find(b"PK\x01\x02")
    bomb = _patch(bomb, start + 24, "<I", len(real))
    check(bomb, "lying directory size")
    assert check.outcomes["refused"] == 1


def _leaves(value, path=()):
    """Yield the path of every value in a JSON document, containers included."""
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        # The first and last items stand for the others.
        for index in sorted({0, len(value) - 1}) if value else ():
            yield from _leaves(value[index], (*path, index))


def _at(document, path):
    for key in path:
        document = document[key]
    return document


def _replaced(document, path, value):
    document = copy.deepcopy(document)
    if not path:
        return value
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return document


def _another_valid_model(path, value):
    """Whether ``value`` at ``path`` is a valid model that predicts differently.

    Any finite mean of a scaling, and any positive finite scale, is a valid
    model, not garbage; so is a categorical level that is another string or
    number, or null (the missing level) in place of the last, and so are
    most numbers in the imputer. Those values are not tried there.
    """
    categorical = path[:3] == ("fitted", "encoding", "categorical")
    if categorical and len(path) == 6 and path[4] == "levels":
        return (value is None and path[5] != 0) or (
            isinstance(value, (str, int, float))
            and not isinstance(value, bool)
            and value == value
        )
    if path == ("fitted", "imputer"):
        # Without an imputer, missing values get their column's mean.
        return value is None
    if path[:2] == ("fitted", "imputer") and len(path) == 5:
        # Any finite coefficient or intercept, and the input at position 0
        # as a predictor, make another imputer.
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if path[2] == "predictors":
            return number and value == 0
        return path[2] in ("coef", "intercept") and number and math.isfinite(value)
    return (
        path[:2] in {("fitted", "scaler"), ("fitted", "target_scaler")}
        and len(path) == 5
        and path[2] in ("mean", "scale")
        and isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and (path[2] == "mean" or value > 0)
    )


def _fuzz_fields(original, check, paths):
    for path in paths:
        for value in GARBAGE:
            if not _another_valid_model(path, value):
                mutated = _replaced(original["metadata"], path, value)
                check(_model_zip(original, metadata=mutated), f"{path} = {value!r:.40}")
    assert check.outcomes["refused"] > len(paths) * len(GARBAGE) // 2


def test_garbage_in_every_metadata_field(original, check):
    _fuzz_fields(original, check, list(_leaves(original["metadata"])))


def test_garbage_in_the_fitted_fields_of_a_regressor(original_regressor, check):
    # The regressor's own fields: its target scaling and number of outputs.
    check.original = original_regressor
    scaler = original_regressor["metadata"]["fitted"]["target_scaler"]
    paths = [("fitted", "target_scaler", *path) for path in _leaves(scaler)]
    _fuzz_fields(original_regressor, check, [("fitted", "n_outputs"), *paths])


def test_garbage_in_the_encoding_of_categorical_columns(original_mixed, check):
    check.original = original_mixed
    metadata = original_mixed["metadata"]
    encoding = metadata["fitted"]["encoding"]
    paths = [("fitted", "encoding", *path) for path in _leaves(encoding)]
    paths += [("network", *path) for path in _leaves(metadata["network"])]
    _fuzz_fields(original_mixed, check, paths)


def test_garbage_in_the_imputer(original_mixed, check):
    check.original = original_mixed
    imputer = original_mixed["metadata"]["fitted"]["imputer"]
    paths = [("fitted", "imputer", *path) for path in _leaves(imputer)]
    _fuzz_fields(original_mixed, check, paths)
    _missing_and_unknown_fields(original_mixed, check, paths)


def test_garbage_in_the_fitted_fields_of_a_version_3_file(original_plain, check):
    # Version 3 files hold no encoding: every column of n_features_in is
    # numeric, which the scaling must bound.
    check.original = original_plain
    metadata = _as_version_3(original_plain["metadata"])
    version_3 = {**original_plain, "metadata": metadata}
    paths = [("fitted", *path) for path in _leaves(metadata["fitted"])]
    paths += [("network", *path) for path in _leaves(metadata["network"])]
    _fuzz_fields(version_3, check, paths)
    assert check.outcomes["identical"] > 0
    # As an encoding of numeric columns, 10**8 of them would take gigabytes.
    refused = check.outcomes["refused"]
    huge = _replaced(metadata, ("fitted", "n_features_in"), 10**8)
    check(_model_zip(original_plain, metadata=huge), "n_features_in = 10**8")
    assert check.outcomes["refused"] == refused + 1
    assert "scaler has size 5, n_features_in 100000000" in check.last_error


def test_missing_and_unknown_fields(original, check):
    _missing_and_unknown_fields(original, check, _leaves(original["metadata"]))


def test_missing_and_unknown_fields_of_the_encoding(original_mixed, check):
    check.original = original_mixed
    encoding = original_mixed["metadata"]["fitted"]["encoding"]
    paths = [("fitted", "encoding", *path) for path in _leaves(encoding)]
    _missing_and_unknown_fields(original_mixed, check, paths)


def _missing_and_unknown_fields(original, check, paths):
    """Check the file without each field of ``paths``, and with an unknown field."""
    metadata = original["metadata"]
    for path in paths:
        parent = metadata
        for key in path[:-1]:
            parent = parent[key]
        if path and isinstance(parent, dict):
            mutated = copy.deepcopy(metadata)
            target = mutated
            for key in path[:-1]:
                target = target[key]
            del target[path[-1]]
            check(_model_zip(original, metadata=mutated), f"{path} deleted")
        value = parent[path[-1]] if path else metadata
        if isinstance(value, dict):
            check(
                _model_zip(
                    original, metadata=_replaced(metadata, path, {**value, "zz": [1]})
                ),
                f"{path} with an unknown field",
            )


def _weights(original):
    return safetensors.torch.load(original["members"]["weights.safetensors"])


def test_damaged_weights_are_refused(original, check):
    weights = _weights(original)
    name = "hidden.0.weight"
    cases = {
        "nan": {**weights, name: torch.full_like(weights[name], math.nan)},
        "inf": {
            **weights,
            name: weights[name].clone().index_fill_(0, torch.tensor([0]), math.inf),
        },
        "float64": {k: v.double() for k, v in weights.items()},
        "float16": {k: v.half() for k, v in weights.items()},
        "bfloat16": {k: v.bfloat16() for k, v in weights.items()},
        "int32": {**weights, name: weights[name].int()},
        "missing tensor": {k: v for k, v in weights.items() if k != name},
        "extra tensor": {**weights, "hidden.3.weight": weights[name].clone()},
        "transposed": {**weights, name: weights[name].transpose(1, 2).contiguous()},
        "wider": {**weights, name: torch.zeros(2, 9, 5)},
        "one member": {k: v[:1].contiguous() for k, v in weights.items()},
    }
    for label, state in cases.items():
        check(_model_zip(original, weights=safetensors.torch.save(state)), label)
    check(_model_zip(original, weights=b"\0" * 7), "7 bytes")
    check(_model_zip(original, weights=b""), "empty")
    assert check.outcomes["identical"] == 0
    raw = original["members"]["weights.safetensors"]
    header_size = struct.unpack_from("<Q", raw)[0]
    header = json.loads(raw[8 : 8 + header_size])
    rng = np.random.default_rng(2)
    for field in ["dtype", "shape", "data_offsets"]:
        for value in GARBAGE + [[0, 0], [0, 10**12], "F64"]:
            mutated = copy.deepcopy(header)
            mutated[name][field] = value
            text = json.dumps(mutated).encode()
            text += b" " * (-len(text) % 8)
            blob = struct.pack("<Q", len(text)) + text + raw[8 + header_size :]
            check(_model_zip(original, weights=blob), f"header {field} = {value!r:.40}")
    for value in GARBAGE:
        text = json.dumps({**header, "__metadata__": value}).encode()
        blob = struct.pack("<Q", len(text)) + text + raw[8 + header_size :]
        check(_model_zip(original, weights=blob), f"__metadata__ = {value!r:.40}")
    for _ in range(50):
        mutated = bytearray(raw)
        mutated[int(rng.integers(0, 8 + header_size))] ^= int(rng.integers(1, 256))
        check(_model_zip(original, weights=bytes(mutated)), "header byte flipped")


def _shorter_scaler(scaler):
    """The scaler without its last column."""
    return {
        key: {**value, "values": value["values"][:-1]}
        if isinstance(value, dict)
        else value
        for key, value in scaler.items()
    }


_COLUMN = ("fitted", "encoding", "categorical", 0)  # few: blue, green, red
_EMBEDDED = ("fitted", "encoding", "categorical", 1)  # many: 21 codes
#: Encodings that are refused, with the refusal's message: each changes one
#: field of the encoding, the network or the scaling, to a value given or
#: computed from the one that ``save`` wrote.
HOSTILE_ENCODINGS = {
    "index_out_of_range": (
        (*_COLUMN, "index"),
        99,
        r"categorical\[0\] index is 99, not one of the 5 columns of X",
    ),
    "index_of_a_numeric_column": (
        (*_COLUMN, "index"),
        0,
        "does not name each of the 5 columns of X once",
    ),
    "column_dropped_and_numeric": (
        ("fitted", "encoding", "dropped"),
        [4],
        "does not name each of the 5 columns of X once",
    ),
    "levels_of_strings_and_numbers": (
        (*_COLUMN, "levels"),
        ["blue", 1, "red"],
        "levels mix numbers and strings",
    ),
    "levels_of_strings_and_booleans": (
        (*_COLUMN, "levels"),
        ["blue", True, "red"],
        "levels mix booleans and strings",
    ),
    "null_level_before_the_last": (
        (*_COLUMN, "levels"),
        ["blue", None, "red"],
        "holds null; .* only last",
    ),
    "level_twice": ((*_COLUMN, "levels"), ["blue", "blue", "red"], "a level twice"),
    "nan_level": ((*_COLUMN, "levels"), ["blue", math.nan, "red"], "holds NaN"),
    "list_level": ((*_COLUMN, "levels"), [["blue"], "green", "red"], "a JSON list"),
    "no_levels": ((*_COLUMN, "levels"), [], "not a non-empty JSON list"),
    "has_rare_not_a_boolean": (
        (*_COLUMN, "has_rare"),
        1,
        "has_rare is the number 1, not a boolean",
    ),
    "embedded_not_a_boolean": (
        (*_EMBEDDED, "embedded"),
        "no",
        "embedded is a string 'no', not a boolean",
    ),
    "unknown_column_field": (
        _COLUMN,
        lambda column: {**column, "codes": [0, 1]},
        r"has the fields \['codes', ",
    ),
    "indicator_of_no_numeric_column": (
        ("fitted", "encoding", "indicated"),
        [2],
        "encoding indicated holds 2, not a position below 2",
    ),
    "numeric_out_of_order": (
        ("fitted", "encoding", "numeric"),
        [4, 0],
        "encoding numeric are not distinct and in increasing order",
    ),
    "other_number_of_columns": (
        ("fitted", "encoding", "n_features"),
        6,
        "encoding n_features is 6, but n_features_in is 5",
    ),
    # An embedding table of 8 GB, refused at the weights' header, unbuilt.
    "embedding_far_wider_than_its_weights": (
        ("network", "embedding_dim"),
        10**8,
        r"embeddings.0.weight with shape \[21, 8\], .* needs \[21, 100000000\]",
    ),
    "embedding_of_more_codes_than_levels": (
        ("network", "embeddings"),
        [10**9],
        r"network embeddings \[1000000000\] are not the codes of the encoding's",
    ),
    "too_many_embeddings": (
        ("network", "embeddings"),
        [21] * 5000,
        "embeds 5000 categorical columns, more than the 4096",
    ),
    "embedded_column_as_one_hot": (
        (*_EMBEDDED, "embedded"),
        False,
        "network n_features has size 8, the encoding's inputs 27",
    ),
    "scaler_of_other_length": (
        ("fitted", "scaler"),
        _shorter_scaler,
        "scaler has size 6, the encoding's standardized inputs 7",
    ),
}


@pytest.mark.parametrize("name", HOSTILE_ENCODINGS)
def test_hostile_encodings_are_refused_unbuilt(name, original_mixed, check):
    path, value, message = HOSTILE_ENCODINGS[name]
    check.original = original_mixed
    metadata = original_mixed["metadata"]
    if callable(value):
        value = value(_at(metadata, path))
    check(_model_zip(original_mixed, metadata=_replaced(metadata, path, value)), name)
    assert check.outcomes["refused"] == 1
    assert re.search(message, check.last_error), check.last_error
