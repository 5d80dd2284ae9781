"""Reading a model file within bounds: its format, zip members and weights.

``persistence.load`` reads a model file through these functions. Each checks a
size before it allocates it, and reads no member beyond the size that its
header declares, so that a small hostile file is refused at once instead of
exhausting memory. The network that the metadata declares is checked in
``_network_json``. A refusal is a ``ValueError`` that names the problem.
"""

import contextlib
import errno
import json
import math
import os
import struct
import zipfile
import zlib

import safetensors.torch
import torch

#: Name written in every file, so that other zip archives are refused.
FORMAT_NAME = "sklearn-snn"
#: Version of the file layout that ``save`` writes. Version 4 added the
#: encoding of categorical and missing values (``fitted["encoding"]``) and
#: the network's embeddings; version 5 the robust scaling of the numeric
#: columns (``fitted["clipper"]``, with ``input_scaling='robust'``); version
#: 6 the periodic embedding of the numeric columns
#: (``numerical_embedding='periodic'``); version 7 the imputation of missing
#: numeric values from the rest of the row (``fitted["imputer"]``); version
#: 8 the columns with missing values apart from those with an indicator
#: (``fitted["encoding"]["incomplete"]``).
FORMAT_VERSION = 8
#: Oldest version that ``load`` reads, the first that a release wrote; its
#: files load with every column of ``X`` numeric, as they were fitted.
OLDEST_FORMAT_VERSION = 3
#: The first version whose files hold the encoding and the embeddings.
ENCODING_VERSION = 4
#: The first version whose files may hold a periodic embedding.
PERIODIC_VERSION = 6
#: The first version whose files hold the imputer of missing values.
IMPUTATION_VERSION = 7
#: The first version whose encodings may drop a column's missing indicator.
INCOMPLETE_VERSION = 8

#: Largest ``metadata.json`` that ``load`` reads: about 100 bytes a feature
#: hold models of up to 80,000 features (the levels of categorical columns
#: count too), while the worst JSON for its size (a list of empty lists, about
#: 25 times its size in memory) stays near 200 MB.
MAX_METADATA_BYTES = 8 << 20
#: Largest header of ``weights.safetensors``: its 2 tensors a layer and 1 an
#: embedded column take about 100 bytes each, so this holds the header of the
#: deepest network allowed with the most embedded columns.
MAX_WEIGHTS_HEADER_BYTES = 1 << 20
#: Weights up to this size load whatever their compression ratio; a small
#: file cannot cost more memory than this by holding compressed zeros.
UNCHECKED_WEIGHTS_BYTES = 64 << 20
#: Largest ratio of a larger weights member's size to its compressed size.
#: Trained float32 weights barely compress (about 1.1), so only a zip bomb
#: reaches it; ``save`` stores such weights uncompressed instead.
MAX_COMPRESSION_RATIO = 100

#: The estimator classes that a model file may name.
ESTIMATOR_NAMES = ("SNNClassifier", "SNNRegressor")
_METADATA = "metadata.json"
_WEIGHTS = "weights.safetensors"
#: The zip compression methods that ``save`` writes; others are refused, so
#: that no other decompressor reads a hostile stream.
_COMPRESSIONS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
#: How every refusal of a damaged file ends: the way out.
_WAY_OUT = (
    "The file is damaged, or was not written by sklearn_snn.save; save the "
    "fitted model again."
)


class _RefusedFile(ValueError):
    """A refusal whose message is complete (it names the file and the way out)."""


@contextlib.contextmanager
def _open(path):
    """Open ``path`` for reading, or use a binary file object as it is."""
    if hasattr(path, "read"):
        yield path
        return
    # zipfile would call a missing file "not a zip archive".
    if not os.path.exists(path):
        raise FileNotFoundError(errno.ENOENT, "No such file", os.fspath(path))
    if os.path.isdir(path):
        raise ValueError(f"{path} is a directory, not a sklearn-snn model file.")
    with open(path, "rb") as file:
        yield file


def _describe(exc):
    """Name the problem that ``exc`` reports, with its kind where it is foreign."""
    message = str(exc)
    if len(message) > 300:  # zipfile quotes whole damaged names
        message = message[:299] + "…"
    if isinstance(exc, (ValueError, TypeError)) and not isinstance(exc, UnicodeError):
        return message  # the checks' own messages, and the parameters' validation
    if isinstance(exc, EOFError):
        return "its compressed data ends early"
    if isinstance(exc, zlib.error):
        return f"its compressed data is damaged ({message})"
    if isinstance(exc, zipfile.BadZipFile):
        return f"its zip structure is damaged ({message})"
    return f"{type(exc).__name__}: {message}"


def _members(archive, path, file_size):
    """Return the ZipInfo of each member, refusing what ``save`` never writes."""
    infos = {}
    for info in archive.infolist():
        if info.filename in infos:
            raise ValueError(f"it holds {info.filename} twice")
        infos[info.filename] = info
    missing = {_METADATA, _WEIGHTS} - set(infos)
    if missing:
        raise _RefusedFile(
            f"{path} is not a sklearn-snn model file: it lacks {sorted(missing)}."
        )
    for name in (_METADATA, _WEIGHTS):
        info = infos[name]
        if info.compress_type not in _COMPRESSIONS:
            raise ValueError(
                f"{name} uses zip compression method {info.compress_type}; model "
                "files use deflate or none"
            )
        if info.flag_bits & 0x1:
            raise ValueError(f"{name} is encrypted")
        if info.compress_size > file_size:
            raise ValueError(
                f"{name} declares {info.compress_size} compressed bytes, more than "
                f"the whole file ({file_size} bytes)"
            )
    return infos


def _read_member(member, size, name):
    """Read exactly ``size`` bytes from an open member, never more."""
    data = member.read(size)
    if len(data) != size:
        raise ValueError(f"{name} ends before the size that its zip header declares")
    return data


def _read_metadata(archive, info, path):
    """Return the metadata dict, read within ``MAX_METADATA_BYTES`` and checked."""
    if info.file_size > MAX_METADATA_BYTES:
        raise ValueError(
            f"{_METADATA} declares {info.file_size} bytes, more than the "
            f"{MAX_METADATA_BYTES} that a model file's metadata may take"
        )
    with archive.open(info) as member:
        text = _read_member(member, info.file_size, _METADATA)
        if member.read(1):
            raise ValueError(f"{_METADATA} is longer than its zip header declares")
    try:
        metadata = json.loads(text)
    except (ValueError, RecursionError) as exc:  # not UTF-8, not JSON, too deep
        raise _RefusedFile(
            f"{path} is not a valid sklearn-snn model file: unreadable "
            f"{_METADATA} ({str(exc)[:200]}). {_WAY_OUT}"
        ) from exc
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT_NAME:
        raise _RefusedFile(f"{path} is not a sklearn-snn model file (unknown format).")
    version = metadata.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _RefusedFile(
            f"{path} is not a valid sklearn-snn model file: invalid format_version "
            f"{version!r:.60}. {_WAY_OUT}"
        )
    if version < OLDEST_FORMAT_VERSION:
        raise _RefusedFile(
            f"{path} has format version {version}, written by a "
            "development version of sklearn-snn before its first release; "
            f"this one reads versions {OLDEST_FORMAT_VERSION} to "
            f"{FORMAT_VERSION}. Fit and save the model again."
        )
    if version > FORMAT_VERSION:
        raise _RefusedFile(
            f"{path} has format version {version}, written by a newer "
            f"sklearn-snn (this one reads versions up to {FORMAT_VERSION})."
            " Upgrade sklearn-snn to load it."
        )
    estimator = metadata.get("estimator")
    if not isinstance(estimator, str) or estimator not in ESTIMATOR_NAMES:
        raise _RefusedFile(
            f"{path} holds an unknown estimator {estimator!r:.60}; expected one "
            f"of {sorted(ESTIMATOR_NAMES)}."
        )
    return metadata


def _read_weights(archive, info, shapes):
    """Return the weights, checked against ``shapes`` before they are read.

    The safetensors header is read first (within ``MAX_WEIGHTS_HEADER_BYTES``)
    and must list exactly the float32 tensors of ``shapes``; then the member
    must have exactly their size, and be compressed no more than
    ``MAX_COMPRESSION_RATIO`` times, before the tensors are read.
    """
    with archive.open(info) as member:
        prefix = _read_member(member, min(info.file_size, 8), _WEIGHTS)
        if len(prefix) < 8:
            raise ValueError(f"{_WEIGHTS} is too short for a safetensors file")
        (header_size,) = struct.unpack("<Q", prefix)
        if header_size > min(MAX_WEIGHTS_HEADER_BYTES, info.file_size - 8):
            raise ValueError(
                f"{_WEIGHTS} declares a header of {header_size} bytes, more than "
                f"the file or the {MAX_WEIGHTS_HEADER_BYTES} that a model's may take"
            )
        header = _read_member(member, header_size, _WEIGHTS)
        data_size = _check_header(header, shapes)
        if info.file_size != 8 + header_size + data_size:
            raise ValueError(
                f"{_WEIGHTS} declares {info.file_size} bytes, but its tensors "
                f"take {8 + header_size + data_size}"
            )
        if _too_compressed(info):
            raise ValueError(
                f"{_WEIGHTS} is compressed {info.file_size / info.compress_size:.0f} "
                f"times, more than the {MAX_COMPRESSION_RATIO} of real weights: it "
                "is a zip bomb"
            )
        data = _read_member(member, data_size, _WEIGHTS)
        if member.read(1):
            raise ValueError(f"{_WEIGHTS} is longer than its zip header declares")
    blob = prefix + header + data
    del data
    try:
        weights = safetensors.torch.load(blob)
    except Exception as exc:  # SafetensorError derives from Exception only
        raise ValueError(f"{_WEIGHTS} is not a valid safetensors file ({exc})") from exc
    for name, tensor in weights.items():
        if tensor.dtype != torch.float32 or tuple(tensor.shape) != shapes[name]:
            raise ValueError(f"{_WEIGHTS} holds {name} of another dtype or shape")
        if not torch.isfinite(tensor).all():
            raise ValueError(
                f"{_WEIGHTS} holds nan or infinite values in {name}; a model "
                "that predicts from them would predict nan"
            )
    return weights


def _check_header(header, shapes):
    """Return the size of the tensors that a safetensors header lists, checked.

    The header must list exactly the tensors of ``shapes``, as float32 of
    those shapes; the offsets are checked by safetensors when it reads them.
    """
    try:
        entries = json.loads(header)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"{_WEIGHTS} has an unreadable header ({exc})") from exc
    if not isinstance(entries, dict):
        raise ValueError(f"{_WEIGHTS} has a header that is not a JSON object")
    entries.pop("__metadata__", None)
    if set(entries) != set(shapes):
        unexpected = sorted(set(entries) - set(shapes))[:5]
        absent = sorted(set(shapes) - set(entries))[:5]
        raise ValueError(
            f"{_WEIGHTS} does not hold the tensors of the network that the "
            f"metadata declares (unexpected: {unexpected}, absent: {absent})"
        )
    for name, shape in shapes.items():
        entry = entries[name]
        if not isinstance(entry, dict):
            raise ValueError(f"{_WEIGHTS} has a damaged header entry for {name}")
        if entry.get("dtype") != "F32":
            raise ValueError(
                f"{_WEIGHTS} stores {name} as {entry.get('dtype')!r:.20}; model "
                "files hold float32 (F32) weights only, and load does not cast"
            )
        if entry.get("shape") != list(shape):
            raise ValueError(
                f"{_WEIGHTS} stores {name} with shape {entry.get('shape')!r:.60}, "
                f"but the network that the metadata declares needs {list(shape)}"
            )
    return 4 * sum(math.prod(shape) for shape in shapes.values())


def _too_compressed(info):
    """Whether a weights member expands more than real weights ever do."""
    return (
        info.file_size > UNCHECKED_WEIGHTS_BYTES
        and info.file_size > MAX_COMPRESSION_RATIO * info.compress_size
    )
