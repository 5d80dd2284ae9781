"""Validation scores computed on the device, from the ensemble's outputs.

Each score is ``score(y_pred, data) -> float``, with ``y_pred`` the combined
outputs for every row of ``data`` (a :class:`TensorData`), in order. The
estimators declare which one they report, as ``score`` reports it.
"""

import torch


def weighted_accuracy(y_pred, data):
    """Sample-weighted accuracy of the logits' most probable class.

    Parameters
    ----------
    y_pred : torch.Tensor of shape (n_samples, n_classes)
        Logits, or log-probabilities.
    data : TensorData
        The samples, with class indices as targets.

    Returns
    -------
    float
    """
    weight = data.sample_weight
    correct = (y_pred.argmax(dim=1) == data.y).to(weight.dtype)
    return float((weight * correct).sum() / weight.sum())


def weighted_r2(y_pred, data):
    """Sample-weighted R², averaged over the targets.

    A target that is constant in ``data`` scores 1 when it is predicted
    exactly and 0 otherwise, as in scikit-learn's ``r2_score``.

    Parameters
    ----------
    y_pred : torch.Tensor of shape (n_samples, n_outputs)
        Standardized predictions.
    data : TensorData
        The samples, with standardized targets of the same shape.

    Returns
    -------
    float
    """
    weight = data.sample_weight[:, None]
    mean = (weight * data.y).sum(dim=0) / weight.sum()
    residual = (weight * (data.y - y_pred) ** 2).sum(dim=0)
    total = (weight * (data.y - mean) ** 2).sum(dim=0)
    perfect = (residual == 0).to(total.dtype)
    r2 = torch.where(total > 0, 1 - residual / total.clamp_min(1e-30), perfect)
    return float(r2.mean())
