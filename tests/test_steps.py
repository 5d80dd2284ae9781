"""The compiled and fused training-step engines."""

import contextlib

import torch

from sklearn_snn._network import NetworkSpec, SELUNetwork
from sklearn_snn._training._net import SNNNet
from sklearn_snn._training._steps import CompiledGradients, FusedAdamWStep, own_code


def test_fused_adamw_step_updates_as_the_optimizer_does():
    torch.manual_seed(0)
    networks = [
        SELUNetwork(NetworkSpec(4, (8,), n_outputs=2, dropout=0.0)) for _ in range(2)
    ]
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
    network = SELUNetwork(
        NetworkSpec(6, (32, 16), n_outputs=3, dropout=0.0, n_estimators=3)
    )
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


def test_each_compiled_net_gets_its_own_code_object():
    # torch.compile caches per code object; sharing one across nets would
    # recompile it for every fit and fall back to eager after the limit.
    net = SNNNet(
        torch.nn.Linear(2, 2),
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=torch.optim.AdamW,
    )
    first = own_code(net._forward_loss)
    second = own_code(net._forward_loss)
    assert first.__func__.__code__ is not second.__func__.__code__
    assert first.__func__.__code__ is not net._forward_loss.__func__.__code__
    assert first.__self__ is net
