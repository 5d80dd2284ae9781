"""Self-normalizing neural networks as scikit-learn estimators.

``SNNClassifier`` and ``SNNRegressor`` standardize their inputs, build a deep
SELU multilayer perceptron with AlphaDropout and LeCun-normal initialization
(Klambauer et al., 2017), and train it through skorch, on the GPU when there is
one.
"""

from ._classifier import SNNClassifier
from ._regressor import SNNRegressor
from .persistence import load, save

__version__ = "0.1.0.dev0"

__all__ = ["SNNClassifier", "SNNRegressor", "__version__", "load", "save"]
