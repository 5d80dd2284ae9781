"""Reading a table column by column: pandas, polars or an array.

The encoder in ``_encoding`` needs three things of each input column: whether
``categorical_features='auto'`` takes it for categorical, its values as
numbers (numeric columns) or as Python objects with a missing mask
(categorical columns), and a name for error messages. :class:`Table` answers
them for pandas and polars DataFrames and for anything that
``numpy.asarray`` turns into a 2-D array. Neither pandas nor polars is
imported here: each is looked up only when an input is one of its frames.
"""

import sys
from numbers import Integral, Number

import numpy as np
from sklearn.utils import check_array


class Table:
    """A 2-D input, read column by column.

    Parameters
    ----------
    X : array-like or DataFrame of shape (n_samples, n_features)
        Inputs: a pandas or polars DataFrame, or an array-like.
    """

    def __init__(self, X):
        if _is_frame(X, "pandas"):
            self.kind = "pandas"
        elif _is_frame(X, "polars"):
            self.kind = "polars"
        else:
            self.kind = "array"
            X = _as_2d_array(X)
        self.X = X
        self.n_rows, self.n_columns = X.shape
        # fit reads each column twice, to learn its encoding and to encode it.
        self._read = {}

    @property
    def is_frame(self):
        """Whether the input is a DataFrame, whose dtypes say what is categorical."""
        return self.kind != "array"

    def name(self, j):
        """Return the name of column ``j``, as error messages show it."""
        if self.kind == "array":
            return f"column {j}"
        return f"column {str(self.X.columns[j])!r}"

    def is_categorical_dtype(self, j):
        """Whether ``categorical_features='auto'`` takes column ``j`` for categorical.

        pandas ``category``, ``object``, ``string`` and ``bool`` (also the
        nullable ``boolean``) columns are, and polars ``Categorical``,
        ``Enum``, ``String`` and ``Boolean`` ones; array columns never are.
        """
        if self.kind == "pandas":
            dtype = self.X.dtypes.iloc[j]
            pd = sys.modules["pandas"]
            return (
                isinstance(dtype, pd.CategoricalDtype | pd.StringDtype)
                or pd.api.types.is_bool_dtype(dtype)
                or pd.api.types.is_object_dtype(dtype)
            )
        if self.kind == "polars":
            pl = sys.modules["polars"]
            dtype = self.X.dtypes[j]
            return isinstance(dtype, pl.Categorical | pl.Enum | pl.String | pl.Boolean)
        return False

    def numeric(self, columns, dtype=(np.float64, np.float32)):
        """Return the given columns as a float array, missing values as NaN.

        Parameters
        ----------
        columns : list of int
            Positions of the numeric columns.
        dtype : tuple of dtypes, default=(float64, float32)
            Accepted float dtypes: a float32 array stays float32, anything
            else becomes float64.

        Returns
        -------
        ndarray of shape (n_samples, len(columns))

        Raises
        ------
        ValueError
            If a column holds values that are not numbers, or infinity.
        """
        key = ("numeric", tuple(columns), tuple(dtype))
        if key in self._read:
            return self._read[key]
        try:
            values = self._as_floats(columns, dtype)
        except ValueError as error:
            if "could not convert" not in str(error):
                raise
            raise self._not_numeric_error(columns) or error from error
        if np.isinf(values).any():
            column = columns[int(np.isinf(values).any(axis=0).argmax())]
            raise ValueError(
                f"X contains infinity in {self.name(column)}, which has no place "
                "on a standardized scale. Replace it, with a large finite value "
                "or with NaN (a missing value, which is imputed), before fitting "
                "or predicting."
            )
        self._read[key] = values
        return values

    def _as_floats(self, columns, dtype):
        if not columns:
            return np.empty((self.n_rows, 0))
        if self.kind == "array" and len(columns) == self.n_columns:
            part = self.X
        elif self.kind == "array":
            part = self.X[:, columns]
        elif self.kind == "pandas":
            part = self.X.iloc[:, columns]
            if not all(dtype.kind in "biufc" for dtype in part.dtypes):
                # Nullable and object columns: pd.NA and None become NaN.
                part = part.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            part = self.X[:, columns]
        return check_array(
            part,
            dtype=list(dtype),
            ensure_all_finite=False,
            ensure_min_samples=0,
            ensure_min_features=0,
            input_name="X",
        )

    def _not_numeric_error(self, columns):
        """Return the error that names the first column that is not numeric."""
        for j in columns:
            try:
                self._as_floats([j], (np.float64,))
            except ValueError:
                return ValueError(
                    f"X {self.name(j)} holds values that are not numbers, and it "
                    "is not treated as categorical. Mark it categorical (list "
                    "it in categorical_features, or, in a DataFrame with "
                    "categorical_features='auto', give it a category or string "
                    "dtype), or convert it to numbers first."
                )
        return None

    def categories(self, j):
        """Return the values of column ``j`` as Python objects, and where missing.

        Returns
        -------
        values : ndarray of shape (n_samples,), dtype object
            Strings, numbers (Python ``int`` or ``float``) or booleans;
            missing entries hold None.
        missing : ndarray of shape (n_samples,), dtype bool
            Where the column has None, NaN, ``pd.NA`` or ``NaT``.

        Raises
        ------
        ValueError
            If the column holds values that are not strings, numbers or
            booleans, or mixes these kinds.
        """
        key = ("categories", j)
        if key not in self._read:
            self._read[key] = self._read_categories(j)
        return self._read[key]

    def _read_categories(self, j):
        if self.kind == "pandas":
            column = self.X.iloc[:, j]
            missing = column.isna().to_numpy()
            values = column.to_numpy(dtype=object, na_value=None)
        elif self.kind == "polars":
            column = self.X.to_series(j)
            missing = column.is_null().to_numpy()
            if column.dtype.is_float():
                missing |= column.is_nan().fill_null(False).to_numpy()
            values = np.array(column.to_list(), dtype=object)
        else:
            values = self.X[:, j].astype(object)
            missing = _isna(values)
        values = values.copy()
        values[missing] = None
        types = set(map(type, values[~missing]))
        if any(issubclass(t, np.generic) for t in types):
            values = np.array(
                [v.item() if isinstance(v, np.generic) else v for v in values],
                dtype=object,
            )
            types = set(map(type, values[~missing]))
        kinds = {_kind(t, self.name(j)) for t in types}
        if len(kinds) > 1:
            raise ValueError(
                f"X {self.name(j)} is categorical but mixes "
                f"{' and '.join(sorted(kinds))} values, so equal-looking levels "
                "such as 1 and '1' would be told apart. Convert the column to one "
                "type first, for example with X[col] = X[col].astype(str)."
            )
        return values, missing


def resolve_categorical(table, categorical_features, feature_names=None):
    """Return which columns are categorical, as a boolean mask.

    Parameters
    ----------
    table : Table
        The training inputs.
    categorical_features : 'auto', None, or array-like
        ``'auto'`` takes the columns whose DataFrame dtype is categorical
        (see :meth:`Table.is_categorical_dtype`); None takes none; otherwise
        column indices, column names (with a DataFrame) or a boolean mask.
    feature_names : ndarray of str, default=None
        The column names of a DataFrame, for names in ``categorical_features``.

    Returns
    -------
    ndarray of shape (n_features,), dtype bool

    Raises
    ------
    ValueError
        If ``categorical_features`` names columns that ``X`` does not have.
    """
    n = table.n_columns
    if categorical_features is None:
        return np.zeros(n, dtype=bool)
    if isinstance(categorical_features, str):
        return np.array([table.is_categorical_dtype(j) for j in range(n)], dtype=bool)
    given = np.asarray(categorical_features)
    if given.ndim != 1:
        raise ValueError(
            "categorical_features must be 'auto', None, or a 1-D list of column "
            f"indices, column names or booleans, got {categorical_features!r}."
        )
    if given.dtype == bool:
        if given.size != n:
            raise ValueError(
                f"categorical_features is a boolean mask of {given.size} values, "
                f"but X has {n} columns; give one boolean per column."
            )
        return given.copy()
    mask = np.zeros(n, dtype=bool)
    if given.dtype.kind in "OUS":
        if feature_names is None:
            raise ValueError(
                "categorical_features holds column names, but X has no column "
                "names; pass a DataFrame, or give column indices instead."
            )
        names = list(feature_names)
        unknown = [name for name in given.tolist() if name not in names]
        if unknown:
            raise ValueError(
                f"categorical_features names columns that X does not have: "
                f"{', '.join(repr(u) for u in unknown)}. X's columns are "
                f"{names}."
            )
        mask[[names.index(name) for name in given.tolist()]] = True
        return mask
    if given.size and not all(isinstance(i, Integral) for i in given.tolist()):
        raise ValueError(
            "categorical_features must hold column indices (ints), column names "
            f"(strs) or booleans, got {categorical_features!r}."
        )
    outside = [int(i) for i in given if not -n <= i < n]
    if outside:
        raise ValueError(
            f"categorical_features has column indices {outside} outside the "
            f"{n} columns of X."
        )
    mask[given.astype(int)] = True
    return mask


def _kind(value_type, name):
    """Return the kind of a category's type: boolean, string or number."""
    if issubclass(value_type, bool):
        return "boolean"
    if issubclass(value_type, str):
        return "string"
    if issubclass(value_type, Number) and not issubclass(value_type, complex):
        return "number"
    raise ValueError(
        f"X {name} is categorical but holds a {value_type.__name__} value; "
        "categories must be strings, numbers or booleans. Convert the column "
        "first, for example with X[col] = X[col].astype(str)."
    )


def _is_frame(X, package):
    module = sys.modules.get(package)
    return module is not None and isinstance(X, module.DataFrame)


def _as_2d_array(X):
    """Return ``X`` as a 2-D array without converting its values to numbers."""
    if hasattr(X, "shape") and len(X.shape) == 2 and hasattr(X, "dtype"):
        # Arrays, and sparse matrices, whose refusal is left to check_array.
        return X
    array = np.asarray(X, dtype=object) if _has_strings(X) else X
    return check_array(
        array,
        dtype=None,
        ensure_all_finite=False,
        ensure_min_samples=0,
        ensure_min_features=0,
        input_name="X",
    )


def _has_strings(X):
    try:
        array = np.asarray(X)
    except (TypeError, ValueError):
        return False
    return array.dtype.kind in "OUS"


def _isna(values):
    pd = sys.modules.get("pandas")
    if pd is not None:
        return np.asarray(pd.isna(values), dtype=bool)
    return np.array(
        [v is None or (isinstance(v, float | np.floating) and v != v) for v in values],
        dtype=bool,
    )
