"""Probe of the validation pass in the training step's precision (round 32).

Not a feature of the estimators: a study tool. With this folder on
``PYTHONPATH``, Python imports this module at start-up in every process,
loky's workers of ``benchmarks/pmlb.py --jobs 2`` included. With
``SNN_BF16_VALIDATION=1``, each epoch's validation pass runs under the same
bf16 autocast as the training step where ``precision`` resolves to bf16,
instead of in float32; the outputs and the loss are float32 again::

    SNN_BF16_VALIDATION=1 PYTHONPATH=benchmarks/probes/bf16_validation \\
        OMP_NUM_THREADS=1 python benchmarks/pmlb.py --models snn ...
"""

import os

if os.environ.get("SNN_BF16_VALIDATION") == "1":
    from sklearn_snn._training import _net

    Net = _net.SNNNet
    _infer = Net.infer

    def infer(self, x, **fit_params):
        with self._autocast():
            return _infer(self, x, **fit_params).float()

    Net.infer = infer
