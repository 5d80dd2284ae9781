"""The training callbacks, and the choice of the ensemble members to keep."""

import numpy as np
import pytest
import torch
from conftest import FAST

from sklearn_snn import SNNClassifier, SNNRegressor
from sklearn_snn._training import TensorData
from sklearn_snn._training._callbacks import select_members


def _member_outputs(net, data):
    with torch.no_grad():
        return net.module_.eval().member_outputs(data.X)


@pytest.mark.parametrize("classification", [True, False])
def test_select_members_keeps_the_half_that_validates_best(classification, rng):
    X = rng.normal(size=(200, 4))
    y = (X[:, 0] > 0).astype(int) if classification else X[:, 0]
    Estimator = SNNClassifier if classification else SNNRegressor
    model = Estimator(**FAST, n_estimators=4).fit(X, y)
    net = model.net_
    targets = y if classification else ((y - y.mean()) / y.std())[:, None]
    valid = TensorData.from_arrays(
        model.scaler_.transform(X).astype(np.float32), targets, np.ones(200), "cpu"
    )
    output = net.module_.output
    for spoiled, kept in (([0, 2], (1, 3)), ([1, 3], (0, 2))):
        saved = output.bias.detach().clone()
        with torch.no_grad():
            output.bias[spoiled, 0] += 10.0
        select_members(net, _member_outputs(net, valid), valid)
        assert net.module_.kept_members == kept
        with torch.no_grad():
            output.bias.copy_(saved)
    select_members(net, _member_outputs(net, valid), valid)
    assert net.module_.kept_members in (None, (0, 2), (1, 3))
