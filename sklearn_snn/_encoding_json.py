"""A fitted table encoding (``TableEncoding``) and imputer as JSON, for model files.

``persistence`` stores how ``fit`` turned ``X`` into the network's inputs:
which columns are numeric, which of them had missing values and which of
those have a missing indicator, the levels of each categorical column,
which columns were dropped, and how missing numeric values are imputed
(``LinearImputer``). Levels are JSON scalars, so a file holds no code.

Reading checks every value, as ``_model_json`` does, since a model file may
come from anyone: positions must lie among ``X``'s columns and account for
each of them exactly once, and levels must be distinct scalars of one kind.
A value that is not what ``save`` writes raises a ValueError that names it.
"""

import numpy as np

from ._encoding import CategoricalColumn, TableEncoding
from ._imputation import LinearImputer
from ._json_values import (
    array_from_json,
    array_to_json,
    checked_int,
    describe,
    scalar,
    short_repr,
)

_ENCODING_FIELDS = {
    "n_features",
    "numeric",
    "incomplete",
    "indicated",
    "categorical",
    "dropped",
}
_COLUMN_FIELDS = {"index", "levels", "has_rare", "embedded"}
_IMPUTER_FIELDS = {"columns", "predictors", "coef", "intercept"}
#: The kind of each JSON type that a level may be: a column's levels are all
#: of one kind, as fit requires of its values.
_LEVEL_KINDS = {str: "strings", int: "numbers", float: "numbers", bool: "booleans"}


def identity_encoding(n_features):
    """Return the encoding that passes ``X``'s columns through as numbers.

    Parameters
    ----------
    n_features : int
        Columns of ``X``.

    Returns
    -------
    TableEncoding
        The encoding of a model file written before encodings were stored,
        when every column was numeric.
    """
    return TableEncoding(
        n_features=n_features,
        numeric=list(range(n_features)),
        incomplete=[],
        indicated=[],
        categorical=[],
        dropped=[],
    )


def encoding_to_json(encoding):
    """Return a fitted encoding as JSON.

    Parameters
    ----------
    encoding : TableEncoding
        The encoding that ``fit`` learned.

    Returns
    -------
    dict
        Its fields; numpy scalars become Python ones.

    Raises
    ------
    TypeError
        If a categorical level is not a string, a number that JSON stores
        exactly, a boolean or None.
    """
    return {
        "n_features": int(encoding.n_features),
        "numeric": [int(j) for j in encoding.numeric],
        "incomplete": [int(i) for i in encoding.incomplete],
        "indicated": [int(i) for i in encoding.indicated],
        "categorical": [_column_to_json(column) for column in encoding.categorical],
        "dropped": [int(j) for j in encoding.dropped],
    }


def _column_to_json(column):
    """Return one categorical column as JSON, its levels as JSON scalars."""
    levels = [scalar(level) for level in column.levels]
    for level in levels:
        # A Decimal or a Fraction is a number to fit, but JSON would store it
        # as a float, which no longer equals it.
        if level is not None and not isinstance(level, (str, int, float)):
            raise TypeError(
                f"The categorical level {short_repr(level)} of X's column "
                f"{column.index} cannot be stored as JSON: levels must be "
                "strings, ints, floats or booleans. Convert the column first."
            )
    return {
        "index": int(column.index),
        "levels": levels,
        "has_rare": bool(column.has_rare),
        "embedded": bool(column.embedded),
    }


def encoding_from_json(stored, n_features_in, has_incomplete=True):
    """Return the encoding that :func:`encoding_to_json` stored, checked.

    Parameters
    ----------
    stored : object
        The value read from JSON.
    n_features_in : int
        Columns of ``X`` that the model was fitted on.
    has_incomplete : bool, default=True
        Whether ``stored`` names its ``incomplete`` columns, as files of
        format version 8 and later do; before, they were the ``indicated``.

    Returns
    -------
    TableEncoding

    Raises
    ------
    ValueError
        If a field is missing, unknown, or not of the type and range that
        ``encoding_to_json`` writes: positions outside ``X``'s columns, out
        of order or repeated, a column of ``X`` that is not exactly one of
        numeric, categorical and dropped, or levels that are repeated, of
        mixed kinds, NaN, or null before the last.
    """
    if has_incomplete:
        _check_fields(stored, _ENCODING_FIELDS, "encoding")
    else:
        _check_fields(stored, _ENCODING_FIELDS - {"incomplete"}, "encoding")
        # Every column with missing values had an indicator then.
        stored = {**stored, "incomplete": stored["indicated"]}
    n_features = checked_int(stored["n_features"], "encoding n_features", 1)
    if n_features != n_features_in:
        raise ValueError(
            f"encoding n_features is {n_features}, but n_features_in is {n_features_in}"
        )
    numeric = _positions(stored["numeric"], "encoding numeric", n_features)
    incomplete = _positions(stored["incomplete"], "encoding incomplete", len(numeric))
    indicated = _positions(stored["indicated"], "encoding indicated", len(numeric))
    if not set(indicated) <= set(incomplete):
        raise ValueError(
            "encoding indicated holds columns that are not in encoding incomplete"
        )
    columns = stored["categorical"]
    if not isinstance(columns, list):
        raise ValueError(
            f"encoding categorical is {describe(columns)}, not a JSON list"
        )
    categorical = [
        _column_from_json(column, f"encoding categorical[{k}]", n_features)
        for k, column in enumerate(columns)
    ]
    _check_increasing(
        [column.index for column in categorical], "encoding categorical indices"
    )
    dropped = _positions(stored["dropped"], "encoding dropped", n_features)
    accounted = numeric + [column.index for column in categorical] + dropped
    if len(accounted) != n_features or len(set(accounted)) != n_features:
        raise ValueError(
            f"encoding does not name each of the {n_features} columns of X once, "
            "as numeric, categorical or dropped"
        )
    return TableEncoding(
        n_features=n_features,
        numeric=numeric,
        incomplete=incomplete,
        indicated=indicated,
        categorical=categorical,
        dropped=dropped,
    )


def imputer_to_json(imputer):
    """Return a fitted :class:`LinearImputer`, or None, as JSON.

    The predictors and coefficients are stored row after row, flat.
    """
    if imputer is None:
        return None
    return {
        "columns": [int(j) for j in imputer.columns],
        "predictors": array_to_json(imputer.predictors.ravel()),
        "coef": array_to_json(imputer.coef.ravel()),
        "intercept": array_to_json(imputer.intercept),
    }


def imputer_from_json(stored, encoding):
    """Return the imputer that :func:`imputer_to_json` stored, checked.

    Parameters
    ----------
    stored : object
        The value read from JSON.
    encoding : TableEncoding
        The file's encoding, already checked.

    Returns
    -------
    LinearImputer or None

    Raises
    ------
    ValueError
        If a field is missing or unknown, an imputed column had no missing
        values in ``fit``, a predictor is not a standardized input, the sizes
        disagree, or a coefficient is not finite.
    """
    if stored is None:
        return None
    _check_fields(stored, _IMPUTER_FIELDS, "imputer")
    columns = _positions(stored["columns"], "imputer columns", len(encoding.numeric))
    if not columns or not set(columns) <= set(encoding.incomplete):
        raise ValueError(
            "imputer columns are not some of the columns with missing values in fit"
        )
    predictors = array_from_json(stored["predictors"], "imputer predictors", "iu")
    coef = array_from_json(stored["coef"], "imputer coef", "f", exact=False)
    intercept = array_from_json(
        stored["intercept"], "imputer intercept", "f", exact=False
    )
    n_predictors = len(predictors) // len(columns)
    if not (
        n_predictors > 0
        and len(predictors) == len(coef) == n_predictors * len(columns)
        and len(intercept) == len(columns)
    ):
        raise ValueError(
            f"imputer has {len(columns)} columns, {len(predictors)} predictors, "
            f"{len(coef)} coefficients and {len(intercept)} intercepts"
        )
    n_inputs = encoding.n_numeric_inputs
    if not ((predictors >= 0) & (predictors < n_inputs)).all():
        raise ValueError(
            f"imputer predictors hold positions outside the {n_inputs} "
            "standardized inputs"
        )
    if not (np.isfinite(coef).all() and np.isfinite(intercept).all()):
        raise ValueError("imputer coef or intercept holds non-finite values")
    return LinearImputer(
        columns=np.asarray(columns, dtype=np.int64),
        predictors=predictors.astype(np.int64).reshape(len(columns), n_predictors),
        coef=coef.astype(np.float64).reshape(len(columns), n_predictors),
        intercept=intercept.astype(np.float64),
    )


def _check_fields(stored, fields, what):
    """Refuse a value that is not a JSON object of exactly ``fields``."""
    if not isinstance(stored, dict):
        raise ValueError(f"{what} is {describe(stored)}, not a JSON object")
    if set(stored) != fields:
        raise ValueError(
            f"{what} has the fields {short_repr(sorted(stored))}, not {sorted(fields)}"
        )


def _positions(values, what, end):
    """Return distinct positions below ``end``, in increasing order, as fit writes."""
    if not isinstance(values, list):
        raise ValueError(f"{what} is {describe(values)}, not a JSON list")
    for value in values:
        if checked_int(value, f"a position in {what}") >= end:
            raise ValueError(f"{what} holds {value}, not a position below {end}")
    _check_increasing(values, what)
    return list(values)


def _check_increasing(values, what):
    """Refuse values that are not strictly increasing, so neither repeated."""
    if any(a >= b for a, b in zip(values, values[1:], strict=False)):
        raise ValueError(f"{what} are not distinct and in increasing order")


def _column_from_json(stored, what, n_features):
    """Return one categorical column, checked."""
    _check_fields(stored, _COLUMN_FIELDS, what)
    index = checked_int(stored["index"], f"{what} index")
    if index >= n_features:
        raise ValueError(
            f"{what} index is {index}, not one of the {n_features} columns of X"
        )
    flags = {}
    for name in ("has_rare", "embedded"):
        if not isinstance(stored[name], bool):
            raise ValueError(
                f"{what} {name} is {describe(stored[name])}, not a boolean"
            )
        flags[name] = stored[name]
    return CategoricalColumn(
        index=index, levels=_levels(stored["levels"], f"{what} levels"), **flags
    )


def _levels(levels, what):
    """Return a column's levels: distinct scalars of one kind, null only last."""
    if not isinstance(levels, list) or not levels:
        raise ValueError(f"{what} is {describe(levels)}, not a non-empty JSON list")
    known = levels[:-1] if levels[-1] is None else levels
    kinds = set()
    for level in known:
        kind = _LEVEL_KINDS.get(type(level))
        if kind is None:
            raise ValueError(
                f"{what} holds {describe(level)}; levels are strings, numbers or "
                "booleans, and null (the missing level) only last"
            )
        # A NaN level would equal no value: missing values are the null level.
        if level != level:
            raise ValueError(f"{what} holds NaN, which is no level")
        kinds.add(kind)
    if len(kinds) > 1:
        raise ValueError(f"{what} mix {' and '.join(sorted(kinds))}")
    if len(set(known)) != len(known):
        raise ValueError(f"{what} holds a level twice")
    return list(levels)
