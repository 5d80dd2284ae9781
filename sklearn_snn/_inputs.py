"""The estimators' input side: from a table to the network's inputs.

``fit`` reads the table (pandas, polars or an array), learns its encoding
(``_encoding``), keeps the missing indicators related to the targets, and
learns the standardization of the encoded numeric inputs; a missing numeric
value is then imputed from the rest of its row (``_imputation``).
``predict`` and ``X_val`` go through the same steps with what ``fit``
learned. The embedded columns' codes follow the standardized inputs
unchanged.
"""

import warnings

import numpy as np
import torch
from sklearn.utils import check_array
from sklearn.utils.validation import check_is_fitted, check_X_y, validate_data

from . import _defaults
from ._columns import Table
from ._encoding import (
    drop_uninformative_indicators,
    fit_encoding,
    scale_binary_inputs,
)
from ._imputation import fit_imputer
from ._preprocessing import (
    fit_scaler,
    fit_smooth_clipper,
    standardize,
    standardize_tensor,
)
from ._validation import prepare_X


class TableInputs:
    """Encoding and standardization of ``X``, mixed into the estimators."""

    def _fit_encoding(self, X):
        """Learn how to encode ``X``, record its columns, and encode it."""
        table = Table(prepare_X(X))
        validate_data(self, table.X, reset=True, skip_check_array=True)
        self._table_encoding = fit_encoding(
            table,
            self.categorical_features,
            getattr(self, "feature_names_in_", None),
        )
        self._set_categorical_attributes()
        return self._table_encoding.encode(table)

    def _drop_uninformative_indicators(self, X_encoded, targets, sample_weight):
        """Drop the missing indicators unrelated to the targets (in ``fit``).

        Each subclass's :meth:`_indicator_p_values` tests the association on
        the rows of positive weight, unweighted otherwise; see
        :func:`~sklearn_snn._encoding.drop_uninformative_indicators`.
        """
        encoding = self._table_encoding
        if not encoding.indicated:
            return X_encoded
        rows = sample_weight > 0
        # Columns first: the row mask then copies the indicators only.
        indicators = X_encoded[:, encoding.indicator_slice()][rows]
        targets = targets[rows]
        # One class (or a constant target) leaves F undefined, a p-value of
        # NaN that keeps the indicator; one constant within every class has
        # an infinite F, a p-value of 0. Neither needs numpy's warnings.
        with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            p_values = self._indicator_p_values(indicators, targets)
        return drop_uninformative_indicators(encoding, X_encoded, p_values)

    def _fit_scaler(self, X_encoded, sample_weight):
        """Learn ``scaler_``, the standardization of the numeric inputs.

        ``imputer_`` then learns how to impute each column that had missing
        values from the other standardized inputs (None if none had). With
        ``input_scaling='robust'``, ``clipper_`` first learns the robust
        scaling of the numeric columns of ``X`` (not of their missing
        indicators or one-hot columns, which are 0/1 already), and
        ``scaler_`` standardizes what it returns.
        """
        self.clipper_ = None
        if self.input_scaling == "robust":
            n_columns = len(self._table_encoding.numeric)
            self.clipper_ = fit_smooth_clipper(
                X_encoded[:, :n_columns], sample_weight, _defaults.SMOOTH_CLIP
            )
        self.scaler_ = fit_scaler(self._scaled_inputs(X_encoded), sample_weight)
        scale_binary_inputs(self.scaler_, self._table_encoding)
        self.imputer_ = None
        if self._table_encoding.incomplete:
            self.imputer_ = fit_imputer(
                standardize(self.scaler_, self._scaled_inputs(X_encoded)),
                X_encoded,
                self._table_encoding,
                sample_weight,
            )

    def _scaled_inputs(self, X_encoded):
        """Return the columns that ``scaler_`` standardizes.

        They are the numeric columns, through ``clipper_`` where there is
        one, then their missing indicators and the one-hot columns.
        """
        inputs = X_encoded[:, : self._table_encoding.n_numeric_inputs]
        if getattr(self, "clipper_", None) is None:
            return inputs
        n_columns = len(self._table_encoding.numeric)
        inputs = inputs.astype(np.float64)
        inputs[:, :n_columns] = self.clipper_.transform(inputs[:, :n_columns])
        return inputs

    def _check_X_y(self, X_encoded, y):
        """Validate the encoded inputs with ``y``, in scikit-learn's words."""
        return check_X_y(
            X_encoded,
            y,
            dtype=[np.float64, np.float32],
            ensure_all_finite="allow-nan",
            multi_output=True,
            y_numeric=self._numeric_targets,
        )

    def _encode_X(self, X):
        """Check ``X`` against fit's columns and encode it as ``fit`` learned."""
        table = Table(prepare_X(X))
        validate_data(self, table.X, reset=False, skip_check_array=True)
        return self._table_encoding.encode(table)

    def _standardize(self, X_encoded):
        """Standardize and impute the numeric inputs; the codes follow unchanged."""
        n_numeric = self._table_encoding.n_numeric_inputs
        X_std = standardize(self.scaler_, self._scaled_inputs(X_encoded))
        if getattr(self, "imputer_", None) is not None:
            X_std = self.imputer_.impute(X_std, X_encoded)
        if n_numeric == X_encoded.shape[1]:
            return X_std
        codes = X_encoded[:, n_numeric:].astype(np.float32)
        return np.hstack([X_std, codes])

    def _standardize_tensor(self, rows, device):
        """:meth:`_standardize` on ``device``, for ``predict_outputs``."""
        n_numeric = self._table_encoding.n_numeric_inputs
        inputs = standardize_tensor(self.scaler_, self._scaled_inputs(rows), device)
        if getattr(self, "imputer_", None) is not None:
            inputs = self.imputer_.impute_tensor(inputs, rows)
        if n_numeric == rows.shape[1]:
            return inputs
        codes = torch.as_tensor(rows[:, n_numeric:], device=device).float()
        return torch.cat([inputs, codes], dim=1)

    def _set_categorical_attributes(self):
        """Set ``is_categorical_`` and ``categorical_levels_`` from the encoding."""
        encoding = self._table_encoding
        names = getattr(self, "feature_names_in_", None)
        if names is None:
            names = np.array(
                [f"x{j}" for j in range(encoding.n_features)], dtype=object
            )
        self.is_categorical_ = np.zeros(encoding.n_features, dtype=bool)
        self.categorical_levels_ = {}
        for column in encoding.categorical:
            self.is_categorical_[column.index] = True
            self.categorical_levels_[str(names[column.index])] = list(column.levels)

    def _validate_X_predict(self, X):
        """Check that the estimator is fitted, and encode ``X`` as fit did.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        ndarray of shape (n_samples, n_encoded), dtype float64 or float32
            The encoded inputs, unscaled, missing numeric values as NaN.
        """
        check_is_fitted(self)
        return check_array(
            self._encode_X(X),
            dtype=[np.float64, np.float32],
            ensure_all_finite="allow-nan",
            input_name="X",
        )
