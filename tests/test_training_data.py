"""Training data held as tensors, and the batches drawn from it."""

import numpy as np
import torch

from sklearn_snn._training import TensorData
from sklearn_snn._training._data import TensorBatches


def _data(n=10):
    return TensorData.from_arrays(
        np.arange(2 * n, dtype=np.float32).reshape(n, 2),
        np.arange(n),
        np.ones(n),
        "cpu",
    )


def test_batches_cover_every_row_once_and_reshuffle_each_epoch():
    data = _data(50)
    generator = torch.Generator().manual_seed(0)
    batches = TensorBatches(
        data, batch_size=16, shuffle=True, device="cpu", generator=generator
    )
    assert len(batches) == 4
    epochs = [torch.cat([y for _, y in batches]) for _ in range(2)]
    for order in epochs:
        assert sorted(order.tolist()) == list(range(50))
    assert not torch.equal(epochs[0], epochs[1])


def test_batches_keep_inputs_targets_and_weights_aligned():
    data = _data(9)
    for inputs, y in TensorBatches(data, batch_size=4, shuffle=True, device="cpu"):
        np.testing.assert_array_equal(inputs.X[:, 0].numpy(), 2 * y.numpy())
        assert inputs.sample_weight.shape == y.shape


def test_unshuffled_batches_keep_order():
    data = _data(9)
    order = torch.cat(
        [y for _, y in TensorBatches(data, batch_size=4, shuffle=False, device="cpu")]
    )
    assert order.tolist() == list(range(9))


def test_drop_last_keeps_every_training_batch_the_same_size():
    data = TensorData.from_arrays(
        np.zeros((70, 2), dtype=np.float32),
        np.zeros(70, dtype=np.int64),
        np.ones(70),
        "cpu",
    )
    batches = TensorBatches(data, 32, shuffle=True, device="cpu", drop_last=True)
    assert [len(y) for _, y in batches] == [32, 32]
    assert len(batches) == 2
    small = TensorBatches(data, 100, shuffle=True, device="cpu", drop_last=True)
    assert [len(y) for _, y in small] == [70]
