"""Encoding a table for the network: categorical levels and missing values.

The first SELU layer must see inputs near mean 0 and variance 1 (Klambauer et
al., 2017), so every column is turned into inputs of that kind:

- a numeric column keeps its values; a missing value stays NaN here,
  becomes the column's mean (0) in standardization, and is then imputed
  from the rest of its row (``_imputation``). A column that had missing
  values in ``fit`` also gets an indicator column (1 where the value was
  missing), unless its missingness shows no association with the target
  in the training rows (:func:`drop_uninformative_indicators`);
- a categorical column's levels become codes: 1, 2, ... for the levels seen in
  at least ``MIN_LEVEL_COUNT`` training rows (a missing value is a level of
  its own), and 0 for the rest, merged into one "rare" level with every level
  first seen at predict time. A column of at most ``MAX_ONE_HOT_LEVELS``
  codes becomes one-hot columns (one column for two codes); a wider one
  becomes its codes, which the network embeds (``NetworkSpec.embeddings``), so
  that no dense one-hot matrix of its levels is ever built;
- a categorical column whose levels are numbers (integer codes, ratings)
  is one-hot encoded when its levels are few enough; with more, or none
  frequent, it is a numeric column instead, since many numbered levels are
  most often a measurement's values (cast them to strings to have them
  embedded). So is a column of two numbered levels, whose one-hot column
  would hold the same information as its numbers.

One-hot columns are standardized like numeric ones, but never to more than
``MAX_INDICATOR_STANDARDIZED`` standard units (:func:`scale_binary_inputs`):
standardized to unit variance, a level present in one row in a thousand
would reach 32 and swamp that row's other inputs. Missing indicators are
centered but not scaled: unlike a level, a missing value says something only
when missingness is informative, so an indicator enters with a small
variance (at most 1/4), and the network gives it weight where it matters.

A categorical column without a level seen ``MIN_LEVEL_COUNT`` times, such as
an identifier, carries nothing that generalizes and is dropped with a
warning (unless its levels are numbers: it is then numeric), as is a
column that is missing in every training row.
"""

import warnings
from collections import Counter
from dataclasses import dataclass, field
from numbers import Number

import numpy as np

from . import _defaults
from ._columns import resolve_categorical

_ALL_MISSING = "is missing in every training row"


@dataclass
class CategoricalColumn:
    """The fitted levels of one categorical column.

    Parameters
    ----------
    index : int
        The column's position in ``X``.
    levels : list
        The kept levels (strings, numbers or booleans, None for missing),
        coded 1, 2, ... in this order; code 0 is rare or unknown.
    has_rare : bool
        Whether some training rows had code 0.
    embedded : bool
        Whether the network embeds the codes, rather than seeing one-hot
        columns.
    """

    index: int
    levels: list
    has_rare: bool
    embedded: bool

    @property
    def n_codes(self):
        """Number of codes, code 0 included."""
        return len(self.levels) + 1

    def codes(self, values, missing):
        """Return the code of each value (0 for a level not kept)."""
        lookup = {level: code for code, level in enumerate(self.levels, start=1)}
        return np.fromiter(
            (
                lookup.get(None if is_missing else value, 0)
                for value, is_missing in zip(values, missing, strict=True)
            ),
            dtype=np.int64,
            count=len(values),
        )

    def one_hot_codes(self):
        """Return the codes that get a one-hot column, in column order."""
        codes = list(range(1, self.n_codes)) + ([0] if self.has_rare else [])
        # Two codes need one column: the second one's.
        return codes[1:] if len(codes) == 2 else codes


@dataclass
class TableEncoding:
    """How ``X`` becomes the network's inputs, learned in ``fit``.

    The encoded columns are, in order: the kept numeric columns, their
    missing indicators, the one-hot columns, and last the codes of the
    embedded columns (not standardized).

    Parameters
    ----------
    n_features : int
        Columns of ``X``.
    numeric : list of int
        Positions of the numeric columns kept.
    incomplete : list of int
        Positions (within ``numeric``) of the columns that had missing values
        in ``fit``: they are imputed.
    indicated : list of int
        Positions (within ``numeric``) of those of them with a missing
        indicator.
    categorical : list of CategoricalColumn
        The categorical columns kept.
    dropped : list of int
        Positions of the columns dropped in ``fit``.
    """

    n_features: int
    numeric: list
    incomplete: list
    indicated: list
    categorical: list = field(default_factory=list)
    dropped: list = field(default_factory=list)

    @property
    def is_identity(self):
        """Whether the encoded inputs are ``X``'s columns, unchanged."""
        return (
            not self.categorical
            and not self.incomplete
            and len(self.numeric) == self.n_features
        )

    @property
    def n_numeric_inputs(self):
        """Encoded columns that are standardized: all but the embedded codes."""
        one_hot = sum(len(c.one_hot_codes()) for c in self._one_hot_columns)
        return len(self.numeric) + len(self.indicated) + one_hot

    @property
    def embeddings(self):
        """Number of codes of each embedded column, in encoded order."""
        return tuple(c.n_codes for c in self.categorical if c.embedded)

    @property
    def _one_hot_columns(self):
        return [c for c in self.categorical if not c.embedded]

    def indicator_slice(self):
        """Return the encoded columns of the missing indicators."""
        start = len(self.numeric)
        return slice(start, start + len(self.indicated))

    def one_hot_slice(self):
        """Return the encoded one-hot columns."""
        return slice(len(self.numeric) + len(self.indicated), self.n_numeric_inputs)

    def encode(self, table):
        """Encode a table: ``fit``'s inputs, or new ones of the same columns.

        Parameters
        ----------
        table : Table
            The inputs.

        Returns
        -------
        ndarray of shape (n_samples, n_encoded)
            The encoded inputs, missing numeric values as NaN; float32 when
            the input is a float32 array without categorical columns, else
            float64.
        """
        numeric = table.numeric(self.numeric)
        if self.is_identity:
            return numeric
        numeric = numeric.astype(np.float64, copy=False)
        blocks = [numeric, np.isnan(numeric[:, self.indicated]).astype(np.float64)]
        embedded = []
        for column in self.categorical:
            codes = column.codes(*table.categories(column.index))
            if column.embedded:
                embedded.append(codes[:, None].astype(np.float64))
            else:
                blocks.append(
                    (codes[:, None] == np.array(column.one_hot_codes())).astype(
                        np.float64
                    )
                )
        return np.hstack(blocks + embedded)


def fit_encoding(table, categorical_features, feature_names=None):
    """Learn how to encode a table, and warn about the columns it drops.

    Parameters
    ----------
    table : Table
        Training inputs.
    categorical_features : 'auto', None or array-like
        Which columns are categorical (see :func:`resolve_categorical`).
    feature_names : ndarray of str, default=None
        Column names of a DataFrame.

    Returns
    -------
    TableEncoding

    Raises
    ------
    ValueError
        If a column cannot be read as numbers or as categories, or every
        column is dropped.
    """
    mask = resolve_categorical(table, categorical_features, feature_names)
    categorical, dropped, by_number = [], [], []
    for j in np.flatnonzero(mask).tolist():
        column, numbers = _fit_categorical(table, j)
        several_one_hot = (
            isinstance(column, CategoricalColumn)
            and not column.embedded
            and len(column.one_hot_codes()) > 1
        )
        if numbers and not several_one_hot:
            # Numbered levels too many to one-hot (or all rare) are most often
            # a measurement's values: their order and distances are what the
            # network sees, as a numeric column. Two numbered levels already
            # are their own one-hot column; as a numeric one they are treated
            # as the same 0/1 column of a float array would be.
            by_number.append(j)
        elif isinstance(column, CategoricalColumn):
            categorical.append(column)
        else:
            dropped.append((j, column))
    numeric_positions = sorted(
        [j for j in range(table.n_columns) if not mask[j]] + by_number
    )
    values = table.numeric(numeric_positions)
    n_missing = np.isnan(values).sum(axis=0)
    numeric, incomplete = [], []
    for position, j in enumerate(numeric_positions):
        if table.n_rows and n_missing[position] == table.n_rows:
            dropped.append((j, _ALL_MISSING))
            continue
        if n_missing[position]:
            incomplete.append(len(numeric))
        numeric.append(j)
    for j, reason in sorted(dropped):
        warnings.warn(
            f"X {table.name(j)} {reason}; it was dropped. Remove it from X to "
            "silence this warning, or, if it holds information, encode it "
            "yourself.",
            UserWarning,
            # Past this function, _fit, fit (or partial_fit) and
            # scikit-learn's _fit_context wrapper.
            stacklevel=5,
        )
    encoding = TableEncoding(
        n_features=table.n_columns,
        numeric=numeric,
        incomplete=incomplete,
        indicated=list(incomplete),
        categorical=categorical,
        dropped=sorted(j for j, _ in dropped),
    )
    if table.n_columns and not (numeric or categorical):
        raise ValueError(
            "Every column of X was dropped (see the warnings above), so there "
            "is nothing to learn from. Give X columns with information."
        )
    return encoding


def _fit_categorical(table, j):
    """Return the column's levels (or why it has none), and if they are numbers."""
    values, missing = table.categories(j)
    counts = Counter(values[~missing].tolist())
    numbers = any(
        isinstance(value, Number) and not isinstance(value, bool) for value in counts
    )
    if not counts and table.n_rows:
        return _ALL_MISSING, numbers
    kept = sorted(v for v, n in counts.items() if n >= _defaults.MIN_LEVEL_COUNT)
    if not kept and len(counts) > 1:
        return (
            f"has {len(counts)} distinct values in {table.n_rows} rows, none "
            f"of them in {_defaults.MIN_LEVEL_COUNT} rows or more, like an "
            "identifier: nothing in it generalizes to new rows"
        ), numbers
    if not kept:
        # One level, seen in too few rows to be rare: it is the column's only level.
        kept = list(counts)
    levels = kept + ([None] if missing.any() else [])
    has_rare = len(kept) < len(counts)
    n_codes = len(levels) + 1
    column = CategoricalColumn(
        index=j,
        levels=levels,
        has_rare=has_rare,
        embedded=n_codes > _defaults.MAX_ONE_HOT_LEVELS,
    )
    return column, numbers


def scale_binary_inputs(scaler, encoding):
    """Set the scales of the 0/1 inputs, in place.

    A one-hot column with mean ``p`` standardizes to ``(1 - p) / scale`` and
    ``-p / scale``; its scale is raised to ``max(p, 1 - p)`` divided by
    ``MAX_INDICATOR_STANDARDIZED`` where that keeps both values within it,
    which leaves columns with ``p`` between about 0.1 and 0.9 at unit
    variance. A missing indicator keeps a scale of 1: centered only.

    Parameters
    ----------
    scaler : sklearn.preprocessing.StandardScaler
        Fitted on the encoded numeric inputs.
    encoding : TableEncoding
        Where the indicator and one-hot columns are.
    """
    one_hot = encoding.one_hot_slice()
    mean = scaler.mean_[one_hot]
    floor = np.maximum(mean, 1 - mean) / _defaults.MAX_INDICATOR_STANDARDIZED
    scale = np.maximum(scaler.scale_[one_hot], floor)
    scaler.scale_[one_hot] = scale
    scaler.var_[one_hot] = scale**2
    indicators = encoding.indicator_slice()
    scaler.scale_[indicators] = 1.0
    scaler.var_[indicators] = 1.0


def drop_uninformative_indicators(encoding, encoded, p_values):
    """Drop the missing indicators that show no association with the target.

    An indicator of values missing at random is a column of noise, and on
    the benchmark tables with 10% of their numbers removed at random such
    indicators cost accuracy; where missingness says something about the
    target, its indicator is what lets the network learn it. So an
    indicator is kept when a test of its association with the target on
    the training rows (of positive weight) gives a p-value below
    ``MISSING_INDICATOR_P_VALUE``, or when the test cannot tell (a NaN
    p-value: a ``partial_fit``'s first chunk of one class, say), as every
    indicator was before. Its column is imputed either way.

    Parameters
    ----------
    encoding : TableEncoding
        The encoding that made ``encoded``; its ``indicated`` columns are
        updated in place.
    encoded : ndarray of shape (n_samples, n_encoded)
        The encoded training inputs.
    p_values : ndarray of shape (len(encoding.indicated),)
        The p-value of each indicator's test, or NaN where it cannot tell.

    Returns
    -------
    ndarray of shape (n_samples, n_encoded - n_dropped)
        ``encoded`` without the dropped indicators' columns.
    """
    keep = ~(np.asarray(p_values) >= _defaults.MISSING_INDICATOR_P_VALUE)
    if keep.all():
        return encoded
    positions = np.arange(encoded.shape[1])[encoding.indicator_slice()]
    encoding.indicated = np.asarray(encoding.indicated)[keep].tolist()
    return np.delete(encoded, positions[~keep], axis=1)
