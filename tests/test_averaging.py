"""WeightAverage: the moving average of the weights, and its swaps."""

import pytest
import torch

from sklearn_snn._training._averaging import WeightAverage


def _module():
    module = torch.nn.Linear(3, 2)
    with torch.no_grad():
        module.weight.fill_(0.0)
        module.bias.fill_(0.0)
    return module


def test_the_average_follows_the_weights_with_a_warm_up():
    module = _module()
    average = WeightAverage(module, decay=0.99)
    with torch.no_grad():
        module.weight.fill_(1.0)
    average.update()
    # First step: decay (1 + 1) / (10 + 1), below 0.99.
    assert average.average[0][0, 0].item() == pytest.approx(1 - 2 / 11)
    for _ in range(2000):
        average.update()
    assert average.average[0][0, 0].item() == pytest.approx(1.0, abs=1e-6)


def test_swaps_keep_the_parameters_and_their_training_storage():
    module = _module()
    average = WeightAverage(module, decay=0.5)
    weight = module.weight
    pointer = weight.data_ptr()
    with torch.no_grad():
        module.weight.fill_(2.0)
    average.swap_in()
    assert (module.weight == 0.0).all()
    average.swap_in()  # a second swap keeps the trained weights aside
    average.swap_out()
    assert (module.weight == 2.0).all()
    assert module.weight is weight
    assert module.weight.data_ptr() == pointer


def test_restart_takes_the_replaced_weights_as_average_and_to_train():
    module = _module()
    pointer = module.weight.data_ptr()
    average = WeightAverage(module, decay=0.9)
    average.swap_in()
    with torch.no_grad():
        module.weight.fill_(3.0)
    average.restart()
    average.swap_out()
    assert (module.weight == 3.0).all()
    assert (average.average[0] == 3.0).all()
    # Training goes on in the storage it started in (a CUDA graph's).
    assert module.weight.data_ptr() == pointer
    with torch.no_grad():
        module.weight.fill_(4.0)
    average.swap_in()
    assert (module.weight == 3.0).all()
