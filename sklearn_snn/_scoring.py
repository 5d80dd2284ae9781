"""Early stopping on a scikit-learn scorer (``scoring``).

A scorer is called as ``scorer(estimator, X, y)`` and asks the estimator for
predictions. During training there is no fitted estimator to ask, but every
epoch's validation pass has computed the ensemble's outputs already, so the
scorer is handed a stand-in that answers ``predict`` (and the classifier's
``predict_proba``) with them, whatever ``X`` it is given.
"""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin


class ClassifierStandIn(ClassifierMixin, BaseEstimator):
    """Answers a scorer with the validation rows' class probabilities.

    Parameters
    ----------
    classes : ndarray of shape (n_classes,)
        The class labels.
    probabilities : ndarray of shape (n_samples, n_classes)
        Each validation row's class probabilities.
    """

    def __init__(self, classes, probabilities):
        self.classes = classes
        self.probabilities = probabilities
        self.classes_ = classes

    def predict_proba(self, X):
        """Return the validation rows' probabilities; ``X`` is ignored."""
        return self.probabilities

    def predict(self, X):
        """Return the validation rows' most probable classes; ``X`` is ignored."""
        return self.classes[self.probabilities.argmax(axis=1)]


class RegressorStandIn(RegressorMixin, BaseEstimator):
    """Answers a scorer with the validation rows' predictions.

    Parameters
    ----------
    predictions : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        Each validation row's predicted targets.
    """

    def __init__(self, predictions):
        self.predictions = predictions

    def predict(self, X):
        """Return the validation rows' predictions; ``X`` is ignored."""
        return self.predictions


class ScorerOnOutputs:
    """A validation score (``score(y_pred, data)``) computed by a scorer.

    Parameters
    ----------
    scorer : callable
        ``scorer(estimator, X, y, sample_weight=None) -> float``, greater
        is better.
    stand_in : callable
        ``stand_in(outputs, targets) -> (estimator, y)``: the estimator's
        stand-in for the network outputs, and the targets decoded to labels
        or values, both given as numpy arrays.
    """

    def __init__(self, scorer, stand_in):
        self.scorer = scorer
        self.stand_in = stand_in

    def __call__(self, y_pred, data):
        """Score the combined outputs ``y_pred`` of the rows of ``data``."""
        estimator, y_true = self.stand_in(
            y_pred.detach().double().cpu().numpy(), data.y.cpu().numpy()
        )
        weight = data.sample_weight.double().cpu().numpy()
        score = self.scorer(estimator, None, y_true, sample_weight=weight)
        return float(np.asarray(score))
