import pytest
import torch

from sklearn_snn._network import SELUNetwork, lecun_normal_


def test_lecun_normal_init_has_variance_one_over_fan_in():
    torch.manual_seed(0)
    layer = lecun_normal_(torch.nn.Linear(400, 300))
    assert layer.weight.std().item() == pytest.approx(1 / 400**0.5, rel=0.02)
    assert abs(layer.weight.mean().item()) < 0.002
    assert torch.count_nonzero(layer.bias) == 0


def test_layers_are_linear_selu_alpha_dropout_and_a_linear_output():
    net = SELUNetwork(5, (8, 4), n_outputs=2, dropout=0.1)
    kinds = [type(m) for m in net.hidden]
    assert kinds == [torch.nn.Linear, torch.nn.SELU, torch.nn.AlphaDropout] * 2
    assert isinstance(net.output, torch.nn.Linear)
    assert net.output.out_features == 2
    assert (net.n_features, net.hidden_layer_sizes, net.n_outputs, net.dropout) == (
        5,
        (8, 4),
        2,
        0.1,
    )


def test_zero_dropout_adds_no_dropout_layer():
    net = SELUNetwork(5, (8,), n_outputs=1, dropout=0.0)
    assert not any(isinstance(m, torch.nn.AlphaDropout) for m in net.modules())


def test_activations_stay_self_normalized_through_depth():
    torch.manual_seed(0)
    net = SELUNetwork(64, (256,) * 16, n_outputs=1, dropout=0.05).eval()
    out = torch.randn(4096, 64)
    with torch.no_grad():
        for layer in net.hidden:
            out = layer(out)
    assert abs(out.mean().item()) < 0.15
    assert out.var().item() == pytest.approx(1.0, abs=0.2)
