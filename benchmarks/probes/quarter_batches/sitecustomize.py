"""Probe of ``batch_size='auto'`` as a quarter of the training rows (round 26).

Not a feature of the estimators: a study tool. With this folder on
``PYTHONPATH``, Python imports this module at start-up in every process,
loky's workers of ``benchmarks/pmlb.py --jobs 2`` included, and with
``SNN_QUARTER_BATCHES=1`` the automatic batch size becomes
``min(256, max(32, ceil(n_train / 4)))`` rows (at most ``n_train``): an
epoch of 128 to 1,024 training rows takes four optimizer steps instead of
one to four::

    SNN_QUARTER_BATCHES=1 PYTHONPATH=benchmarks/probes/quarter_batches \\
        OMP_NUM_THREADS=1 python benchmarks/pmlb.py --models snn --jobs 2 ...
"""

import math
import os

if os.environ.get("SNN_QUARTER_BATCHES") == "1":
    from sklearn_snn import _base

    _default_batch_size = _base.BaseSNN._effective_batch_size

    def _effective_batch_size(self, n_train):
        batch_size = _default_batch_size(self, n_train)
        if self.batch_size == "auto":
            return min(batch_size, max(32, math.ceil(n_train / 4)))
        return batch_size

    _base.BaseSNN._effective_batch_size = _effective_batch_size
