"""Training through skorch: the only package that imports it.

The estimators hand over standardized float32 arrays and a
:class:`TrainingConfig`; :func:`fit_network` moves the data to the training
device once, builds an :class:`SNNNet` with its callbacks, and trains.

========================  ==================================================
module                    job
========================  ==================================================
``_data``                 tensors on the device, and batches drawn by index
``_net``                  the skorch net: losses, the training step
``_steps``                the compiled and CUDA-graph step engines
``_callbacks``            member selection, scoring, divergence, stopping
``_averaging``            the moving average of the weights that is kept
``_scores``               validation scores computed on the device
``_fit``                  wiring: config to net and callbacks, and the fit
========================  ==================================================
"""

from ._data import TensorData, TrainValidData
from ._fit import TrainingConfig, fit_network, net_for_prediction, training_history
from ._scores import weighted_accuracy, weighted_r2

__all__ = [
    "TensorData",
    "TrainValidData",
    "TrainingConfig",
    "fit_network",
    "net_for_prediction",
    "training_history",
    "weighted_accuracy",
    "weighted_r2",
]
