"""Validation scores computed on the device."""

import numpy as np
import pytest
import torch

from sklearn_snn._training import TensorData, weighted_accuracy, weighted_r2


def test_validation_score_accuracy_and_r2():
    data = TensorData.from_arrays(
        np.zeros((4, 1), dtype=np.float32), np.array([0, 1, 1, 0]), np.ones(4), "cpu"
    )
    logits = torch.tensor([[2.0, 0.0], [0.0, 2.0], [2.0, 0.0], [2.0, 0.0]])
    assert weighted_accuracy(logits, data) == pytest.approx(0.75)

    y = np.array([[1.0], [2.0], [3.0]], dtype=np.float32)
    data = TensorData.from_arrays(
        np.zeros((3, 1), dtype=np.float32), y, np.ones(3), "cpu"
    )
    perfect = torch.as_tensor(y)
    assert weighted_r2(perfect, data) == pytest.approx(1.0)
    mean = torch.full((3, 1), 2.0)
    assert weighted_r2(mean, data) == pytest.approx(0.0)
