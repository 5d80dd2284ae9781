"""Probe of a piecewise-linear encoding of the numeric columns (round 32).

Not a feature of the estimators: a study tool. With this folder on
``PYTHONPATH``, Python imports this module at start-up in every process,
loky's workers of ``benchmarks/pmlb.py --jobs 2`` included. With
``SNN_PLE_BINS=T``, each numeric column of more than two values also enters
the first layer as the piecewise-linear encoding of Gorishniy et al. (2022)
over ``T`` quantile bins of the training rows: component ``t`` is 0 below
the bin, 1 above it and linear within it. Each component is standardized
over the training rows, with its scale floored as the one-hot columns' are,
so that it stays within 3 standard units. The components follow the
standardized numeric columns, their indicators and one-hot columns, beside
the periodic embedding, which is unchanged::

    SNN_PLE_BINS=8 PYTHONPATH=benchmarks/probes/piecewise_linear \\
        OMP_NUM_THREADS=1 python benchmarks/pmlb.py --models snn ...
"""

import os

if os.environ.get("SNN_PLE_BINS"):
    import numpy as np
    import torch

    from sklearn_snn import _defaults, _inputs

    N_BINS = int(os.environ["SNN_PLE_BINS"])
    Mixin = _inputs.TableInputs
    _fit_scaler = Mixin._fit_scaler
    _standardize = Mixin._standardize
    _standardize_tensor = Mixin._standardize_tensor

    def _fit_ple(X_std, n_columns):
        index, lower, width = [], [], []
        for j in range(n_columns):
            values = X_std[:, j]
            if np.unique(values).size <= 2:
                continue
            edges = np.unique(np.quantile(values, np.linspace(0, 1, N_BINS + 1)))
            index += [j] * (len(edges) - 1)
            lower += list(edges[:-1])
            width += list(np.diff(edges))
        index, lower, width = np.array(index, int), np.array(lower), np.array(width)
        parts = np.clip((X_std[:, index] - lower) / width, 0, 1)
        mean = parts.mean(axis=0)
        floor = np.maximum(mean, 1 - mean) / _defaults.MAX_INDICATOR_STANDARDIZED
        scale = np.maximum(parts.std(axis=0), floor)
        return index, lower, width, mean, scale

    def _ple(self, X_std, xp):
        index, lower, width, mean, scale = self._ple_
        if xp is torch:
            lower, width, mean, scale = (
                torch.as_tensor(a, dtype=X_std.dtype, device=X_std.device)
                for a in (lower, width, mean, scale)
            )
            parts = ((X_std[:, torch.as_tensor(index)] - lower) / width).clamp(0, 1)
        else:
            parts = np.clip((X_std[:, index] - lower) / width, 0, 1)
        return (parts - mean) / scale

    def _insert(X, parts, n_numeric, xp):
        if xp is torch:
            return torch.cat([X[:, :n_numeric], parts.to(X.dtype), X[:, n_numeric:]], 1)
        return np.hstack([X[:, :n_numeric], parts.astype(X.dtype), X[:, n_numeric:]])

    def fit_scaler(self, X_encoded, sample_weight):
        _fit_scaler(self, X_encoded, sample_weight)
        self._ple_pending = True

    def standardize(self, X_encoded):
        X_std = _standardize(self, X_encoded)
        n_numeric = self._table_encoding.n_numeric_inputs
        if self.__dict__.pop("_ple_pending", False):
            self._ple_ = _fit_ple(X_std, len(self._table_encoding.numeric))
        if not len(self._ple_[0]):
            return X_std
        return _insert(X_std, _ple(self, X_std, np), n_numeric, np)

    def standardize_tensor(self, rows, device):
        inputs = _standardize_tensor(self, rows, device)
        if not len(self._ple_[0]):
            return inputs
        n_numeric = self._table_encoding.n_numeric_inputs
        return _insert(inputs, _ple(self, inputs, torch), n_numeric, torch)

    Mixin._fit_scaler = fit_scaler
    Mixin._standardize = standardize
    Mixin._standardize_tensor = standardize_tensor
