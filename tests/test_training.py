import contextlib

import numpy as np
import pytest
import torch

from sklearn_snn._network import SELUNetwork
from sklearn_snn._training import (
    CompiledGradients,
    FusedAdamWStep,
    TensorBatches,
    TensorData,
    TrainingConfig,
    TrainValidData,
    fit_network,
    resolve_device,
    seeded_rng,
    select_members,
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


def test_members_are_chosen_at_the_epoch_whose_weights_are_kept():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 8)).astype(np.float32)
    y = (X[:, :1] + 0.3 * rng.normal(size=(300, 1))).astype(np.float32)
    data = TrainValidData(
        TensorData.from_arrays(X[:240], y[:240], np.ones(240), "cpu"),
        TensorData.from_arrays(X[240:], y[240:], np.ones(60), "cpu"),
    )
    config = TrainingConfig(
        batch_size=32,
        learning_rate=0.01,
        weight_decay=0.0,
        max_epochs=40,
        n_iter_no_change=5,
        min_steps_no_change=0,
        tol=1e-4,
        verbose=0,
        feature_sparsity=4.0,
        sparse_members="alternate",
        select_members=True,
    )
    torch.manual_seed(0)
    module = SELUNetwork(8, (16, 16), 1, dropout=0.0, n_estimators=4)
    net = fit_network(module, data, classification=False, config=config, device="cpu")
    monitor = dict(net.callbacks_)["monitor"]
    kept = net.module_.kept_members
    # Each epoch's validation loss is that of the members it chose; the best
    # one is restored together with its choice.
    assert min(net.history[:, "valid_loss"]) == pytest.approx(monitor.best_loss_)
    loss, outputs = select_members(net, data.valid)
    assert net.module_.kept_members == kept
    assert loss == pytest.approx(monitor.best_loss_, rel=1e-5)
    assert outputs.shape == (60, 1)


def test_fused_adamw_step_updates_as_the_optimizer_does():
    torch.manual_seed(0)
    networks = [SELUNetwork(4, (8,), n_outputs=2, dropout=0.0) for _ in range(2)]
    networks[1].load_state_dict(networks[0].state_dict())
    optimizers = [
        torch.optim.AdamW(n.parameters(), lr=0.01, weight_decay=0.1, fused=True)
        for n in networks
    ]
    update = FusedAdamWStep(optimizers[1])
    for step in range(4):
        if step == 2:
            # A learning rate set between steps is read at the next one.
            for optimizer in optimizers:
                optimizer.param_groups[0]["lr"] = 0.001
        X = torch.randn(16, 4)
        for network in networks:
            network.zero_grad()
            network(X).square().mean().backward()
        optimizers[0].step()
        update()
    for expected, ours in zip(*(n.parameters() for n in networks), strict=True):
        torch.testing.assert_close(ours, expected, rtol=0, atol=0)
        state, our_state = optimizers[0].state[expected], optimizers[1].state[ours]
        for key in ("exp_avg", "exp_avg_sq", "step"):
            torch.testing.assert_close(our_state[key], state[key], rtol=0, atol=0)
    assert float(our_state["step"]) == 4


def test_compiled_gradients_equal_autograd_and_match_the_weights_layout():
    # A batched product's gradient can come out transposed; the fused AdamW
    # reads a gradient in its parameter's layout, so every gradient must be
    # contiguous like its parameter.
    torch.manual_seed(0)
    network = SELUNetwork(6, (32, 16), n_outputs=3, dropout=0.0, n_estimators=3)
    X, y, weights = torch.randn(64, 6), torch.randint(0, 3, (64,)), torch.rand(64)

    def loss(y_pred, y, sample_weight):
        per_sample = torch.nn.functional.cross_entropy(
            y_pred.flatten(0, 1), y.repeat(3), reduction="none"
        )
        return (per_sample * sample_weight.repeat(3)).mean()

    compiled = CompiledGradients(network, loss, contextlib.nullcontext)
    value, _ = compiled(X, y, weights)
    ours = {name: p.grad for name, p in network.named_parameters()}
    network.zero_grad()
    expected = loss(network.member_outputs(X), y, weights)
    expected.backward()
    torch.testing.assert_close(value, expected.detach())
    for name, parameter in network.named_parameters():
        assert ours[name].is_contiguous()
        torch.testing.assert_close(ours[name], parameter.grad)
