import numpy as np
import pytest
import torch

from sklearn_snn._training import (
    TensorBatches,
    TensorData,
    resolve_device,
    seeded_rng,
    validation_score,
)


def _data(n=10):
    return TensorData.from_arrays(
        np.arange(2 * n, dtype=np.float32).reshape(n, 2),
        np.arange(n),
        np.ones(n),
        "cpu",
    )


def test_resolve_device():
    assert resolve_device("cpu") == "cpu"
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto") == expected
    with pytest.raises(ValueError, match="not a torch device"):
        resolve_device("tpu-ish")


def test_batches_cover_every_row_once_and_reshuffle_each_epoch():
    data = _data(50)
    batches = TensorBatches(data, batch_size=16, shuffle=True, device="cpu")
    assert len(batches) == 4
    with seeded_rng(0, "cpu"):
        epochs = [torch.cat([y for _, y in batches]) for _ in range(2)]
    for order in epochs:
        assert sorted(order.tolist()) == list(range(50))
    assert not torch.equal(epochs[0], epochs[1])


def test_batches_keep_inputs_targets_and_weights_aligned():
    data = _data(9)
    for inputs, y in TensorBatches(data, batch_size=4, shuffle=True, device="cpu"):
        np.testing.assert_array_equal(inputs["X"][:, 0].numpy(), 2 * y.numpy())
        assert inputs["sample_weight"].shape == y.shape


def test_unshuffled_batches_keep_order():
    data = _data(9)
    order = torch.cat(
        [y for _, y in TensorBatches(data, batch_size=4, shuffle=False, device="cpu")]
    )
    assert order.tolist() == list(range(9))


def test_seeded_rng_is_reproducible_and_restores_global_state():
    torch.manual_seed(7)
    state = torch.get_rng_state()
    with seeded_rng(3, "cpu"):
        first = torch.rand(3)
    with seeded_rng(3, "cpu"):
        second = torch.rand(3)
    assert torch.equal(first, second)
    assert torch.equal(torch.get_rng_state(), state)


def test_validation_score_accuracy_and_r2():
    data = TensorData.from_arrays(
        np.zeros((4, 1), dtype=np.float32), np.array([0, 1, 1, 0]), np.ones(4), "cpu"
    )
    logits = torch.tensor([[2.0, 0.0], [0.0, 2.0], [2.0, 0.0], [2.0, 0.0]])
    assert validation_score(logits, data, classification=True) == pytest.approx(0.75)

    y = np.array([[1.0], [2.0], [3.0]], dtype=np.float32)
    data = TensorData.from_arrays(
        np.zeros((3, 1), dtype=np.float32), y, np.ones(3), "cpu"
    )
    perfect = torch.as_tensor(y)
    assert validation_score(perfect, data, classification=False) == pytest.approx(1.0)
    mean = torch.full((3, 1), 2.0)
    assert validation_score(mean, data, classification=False) == pytest.approx(0.0)
