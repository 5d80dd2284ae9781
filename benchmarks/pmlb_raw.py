"""PMLB datasets as they came: string categories and missing values.

PMLB stores every dataset as numbers: a categorical feature's strings are
replaced by integer codes, and a missing value of such a feature (the string
``'?'`` in the original files) is one more code. Its metadata
(``metadata/NAME.yaml`` beside the data) gives each feature's ``type`` and,
where PMLB kept it, a ``code``: the string behind each integer, written as
``'Private' = 4, ...``. :func:`load_raw` undoes the coding, so that a model
meets the table the way a user who reads the original CSV does:

- a feature of type ``categorical`` or ``nominal`` becomes a pandas
  ``category`` column. With a ``code``, its integers are decoded to their
  strings; without one (most datasets), PMLB kept no strings, so its
  values stay the numbers they are, as the categories of a ``category``
  column (a user's table with integer-coded categories looks like that);
- a feature of type ``binary`` or ``ordinal`` becomes a ``category`` column
  of its strings only when it has a ``code`` (adult's ``sex`` and
  ``education``; PMLB numbered ``education``'s levels alphabetically, so its
  integers are not even the levels' order). Without a ``code`` it stays
  numeric: its integers are then the only form known, and 0/1 is how a binary
  column usually comes;
- every other feature (``continuous``) stays numeric (float64);
- a level in :data:`MISSING_LEVELS` (``'?'``) becomes a missing value (NaN),
  and is no category; values that were already NaN in the file stay NaN;
- an integer that a ``code`` does not list keeps the string of its integer.

The target is left as stored. Some datasets mark numeric measurements
categorical without a ``code`` (``dis``, ``allrep`` and ``hypothyroid``
mark ``age``, ``TSH``, ``T3``, ... categorical, with up to 288 levels): they
are decoded as the metadata says, as high-cardinality categories.

:func:`numeric_cells_mask` chooses a fraction of the numeric cells at random,
which :func:`blank_cells` sets missing: the same cells for every model, since
the choice depends on the dataset's name and the run's seed only.
"""

import re
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

#: Original strings that stood for a missing value.
MISSING_LEVELS = frozenset({"?"})
#: Feature types that are categorical with or without a ``code``.
CATEGORICAL_TYPES = frozenset({"categorical", "nominal"})
#: Feature types that are categorical only when the metadata has a ``code``.
CODED_TYPES = frozenset({"binary", "ordinal"})

# 'name' = 4 (or "name" = 4, name: 4): a quoted string may hold commas.
_QUOTED = re.compile(r"""(['"])(.*?)\1\s*[=:]\s*(-?\d+)""", re.DOTALL)
_PAIR = re.compile(r"^\s*(.+?)\s*[=:]\s*(.+?)\s*$", re.DOTALL)
_INTEGER = re.compile(r"^-?\d+$")


def parse_code(code):
    """Return the integer-to-string mapping of a metadata ``code`` entry.

    Parameters
    ----------
    code : str, dict, or None
        The ``code`` entry of one feature: ``"'?' = 0, 'Private' = 4"`` (the
        usual form, in a folded YAML scalar), unquoted ``"no = 0, yes = 1"``
        or ``"0 = no, 1 = yes"``, or a YAML mapping either way round.

    Returns
    -------
    dict or None
        ``{integer: string}``, or None where the entry gives no mapping
        (missing, ``null``, or PMLB's placeholder text "None yet. ...").
    """
    if isinstance(code, dict):
        pairs = code.items()
    elif isinstance(code, str):
        quoted = _QUOTED.findall(code)
        if quoted:
            pairs = [(name, number) for _, name, number in quoted]
        else:
            pairs = [
                match.groups()
                for piece in re.split(r"[,;\n]", code)
                if (match := _PAIR.match(piece))
            ]
    else:
        return None
    mapping = {}
    for left, right in pairs:
        left, right = str(left).strip(), str(right).strip()
        if _INTEGER.match(right):
            mapping[int(right)] = left
        elif _INTEGER.match(left):
            mapping[int(left)] = right
    return mapping or None


def read_metadata(path):
    """Return a dataset's metadata as ``{feature name: (type, mapping)}``.

    ``mapping`` is :func:`parse_code` of the feature's ``code`` (None without
    one). The target's entry is left out.
    """
    import yaml

    metadata = yaml.safe_load(Path(path).read_text())
    return {
        str(feature["name"]): (
            str(feature.get("type", "continuous")).strip().lower(),
            parse_code(feature.get("code")),
        )
        for feature in metadata.get("features") or []
    }


def is_categorical(kind, mapping):
    """Whether a feature of type ``kind`` (with ``mapping``) is decoded."""
    return kind in CATEGORICAL_TYPES or (kind in CODED_TYPES and mapping is not None)


def _level(value, mapping):
    """Return the original string of one stored value (None if missing)."""
    if pd.isna(value):
        return None
    number = float(value)
    if number.is_integer():
        number = int(number)
        level = mapping.get(number, str(number)) if mapping else number
    else:
        level = str(value) if mapping else number
    return None if level in MISSING_LEVELS else level


def decode(frame, features):
    """Decode the categorical columns of a PMLB feature table.

    Parameters
    ----------
    frame : pandas.DataFrame
        The features as stored (integer codes), without the target.
    features : dict
        :func:`read_metadata`'s answer.

    Returns
    -------
    raw : pandas.DataFrame
        The decoded table: ``category`` columns for the categorical features
        (of strings where the metadata has a ``code``, else of the stored
        numbers), float64 for the others.
    categorical : list of str
        The names of the ``category`` columns, in column order.

    Raises
    ------
    KeyError
        If the metadata lists no feature of some column's name.
    """
    unknown = [name for name in frame.columns if name not in features]
    if unknown:
        raise KeyError(f"the metadata has no entry for columns {unknown}")
    columns = {}
    categorical = []
    for name in frame.columns:
        kind, mapping = features[name]
        if is_categorical(kind, mapping):
            values = frame[name]
            lookup = {value: _level(value, mapping) for value in values.dropna()}
            levels = [lookup.get(value) for value in values]
            columns[name] = pd.Series(
                levels, index=frame.index, dtype=object, name=name
            ).astype("category")
            categorical.append(name)
        else:
            columns[name] = frame[name].astype(np.float64)
    return pd.DataFrame(columns, index=frame.index), categorical


def load_raw(name, data_dir):
    """Return a PMLB dataset both as stored and as it came.

    Parameters
    ----------
    name : str
        The dataset's name.
    data_dir : path-like
        The folder of ``NAME.tsv.gz`` and ``metadata/NAME.yaml``.

    Returns
    -------
    codes : pandas.DataFrame
        The features as stored in the file (float64; NaN where the file has
        no value).
    raw : pandas.DataFrame
        :func:`decode`'s table.
    categorical : list of str
        The names of ``raw``'s ``category`` columns.
    y : numpy.ndarray
        The target, as stored.

    Raises
    ------
    FileNotFoundError
        If the data or the metadata file is missing.
    """
    data_dir = Path(data_dir)
    metadata_path = data_dir / "metadata" / f"{name}.yaml"
    if not metadata_path.exists():
        raise FileNotFoundError(
            f"{metadata_path} does not exist: the raw form needs PMLB's metadata"
        )
    frame = pd.read_csv(data_dir / f"{name}.tsv.gz", sep="\t")
    y = frame.pop("target").to_numpy()
    raw, categorical = decode(frame, read_metadata(metadata_path))
    return frame.astype(np.float64), raw, categorical, y


def numeric_cells_mask(raw, categorical, fraction, name, seed):
    """Choose ``fraction`` of the numeric cells at random, the same for all.

    Parameters
    ----------
    raw : pandas.DataFrame
        The table; cells already missing are never chosen.
    categorical : list of str
        The columns that are not numeric; none of their cells is chosen.
    fraction : float
        The share of the numeric cells (present or not) to choose, rounded to
        a whole number of cells.
    name : str
        The dataset's name, which with ``seed`` seeds the choice.
    seed : int
        The run's seed.

    Returns
    -------
    numpy.ndarray
        A boolean mask of ``raw``'s shape, True at the chosen cells.
    """
    mask = np.zeros(raw.shape, dtype=bool)
    numeric = np.flatnonzero(~raw.columns.isin(categorical))
    if fraction <= 0 or numeric.size == 0:
        return mask
    present = raw.iloc[:, numeric].notna().to_numpy()
    rows, columns = np.nonzero(present)
    n_chosen = min(int(round(fraction * present.size)), rows.size)
    rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
    chosen = rng.choice(rows.size, size=n_chosen, replace=False)
    mask[rows[chosen], numeric[columns[chosen]]] = True
    return mask


def blank_cells(frame, mask):
    """Return a copy of ``frame`` with the cells where ``mask`` is True as NaN.

    Meant for :func:`numeric_cells_mask`'s cells, which are in numeric
    columns only, so that every column keeps its dtype.
    """
    frame = frame.copy()
    for j in np.flatnonzero(mask.any(axis=0)):
        column = frame.columns[j]
        frame[column] = frame[column].mask(mask[:, j])
    return frame
