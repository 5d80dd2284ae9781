"""Probe of numbered categorical levels read as numbers too (round 30).

Not a feature of the estimators: a study tool. With this folder on
``PYTHONPATH``, Python imports this module at start-up in every process,
loky's workers of ``benchmarks/pmlb.py --jobs 2`` included. With
``SNN_NUMBERED_LEVELS=both``, a categorical column whose levels are numbers
and few enough to be one-hot encoded (three to ``MAX_ONE_HOT_LEVELS``
codes) keeps its one-hot columns and also enters as a numeric column of its
numbers, standardized, periodically embedded and, where it has missing
values, imputed with an indicator like any numeric column: the network sees
the levels' order beside their identity::

    SNN_NUMBERED_LEVELS=both PYTHONPATH=benchmarks/probes/numbered_levels \\
        OMP_NUM_THREADS=1 python benchmarks/pmlb.py --raw --models snn ...
"""

import os

if os.environ.get("SNN_NUMBERED_LEVELS") == "both":
    from numbers import Number

    import numpy as np

    from sklearn_snn import _inputs

    _fit_encoding = _inputs.fit_encoding

    def _is_numbered(column):
        return any(
            isinstance(level, Number) and not isinstance(level, bool)
            for level in column.levels
        )

    def _fit_encoding_both(table, categorical_features, feature_names=None):
        encoding = _fit_encoding(table, categorical_features, feature_names)
        extra = [
            column.index
            for column in encoding.categorical
            if not column.embedded and _is_numbered(column)
        ]
        if extra:
            encoding.numeric = sorted(encoding.numeric + extra)
            missing = np.isnan(table.numeric(encoding.numeric)).any(axis=0)
            encoding.indicated = np.flatnonzero(missing).tolist()
        return encoding

    _inputs.fit_encoding = _fit_encoding_both
