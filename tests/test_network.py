import pytest
import torch

from sklearn_snn import _network
from sklearn_snn._network import (
    EnsembleLinear,
    NetworkSpec,
    SELUNetwork,
    lecun_normal_,
)
from sklearn_snn._selu import selu_alpha_dropout


def test_lecun_normal_init_has_variance_one_over_fan_in():
    torch.manual_seed(0)
    layer = EnsembleLinear(400, 300, n_estimators=2)
    for weight in layer.weight:
        assert weight.std().item() == pytest.approx(1 / 400**0.5, rel=0.02)
        assert abs(weight.mean().item()) < 0.002
    assert torch.count_nonzero(layer.bias) == 0
    assert not torch.equal(layer.weight[0], layer.weight[1])


def test_lecun_normal_matches_torch_kaiming_fan_in_linear():
    torch.manual_seed(0)
    ours = lecun_normal_(torch.empty(30, 40))
    torch.manual_seed(0)
    theirs = torch.nn.init.kaiming_normal_(
        torch.empty(30, 40), mode="fan_in", nonlinearity="linear"
    )
    assert torch.equal(ours, theirs)


def test_layers_are_linear_selu_alpha_dropout_and_a_linear_output():
    net = SELUNetwork(NetworkSpec(5, (8, 4), n_outputs=2, dropout=0.1))
    kinds = [type(m) for m in net.hidden]
    assert kinds == [EnsembleLinear, torch.nn.SELU, torch.nn.AlphaDropout] * 2
    assert isinstance(net.output, EnsembleLinear)
    assert net.output.weight.shape == (1, 2, 4)
    assert (
        net.spec.n_features,
        net.spec.hidden_layer_sizes,
        net.spec.n_outputs,
        net.spec.dropout,
    ) == (
        5,
        (8, 4),
        2,
        0.1,
    )


def test_output_layer_is_lecun_normal_by_default():
    torch.manual_seed(0)
    net = SELUNetwork(NetworkSpec(5, (400,), n_outputs=300, dropout=0.0))
    assert net.output.weight.std().item() == pytest.approx(1 / 400**0.5, rel=0.02)


def test_zero_output_init_outputs_zero_and_keeps_lecun_hidden_layers():
    torch.manual_seed(0)
    net = SELUNetwork(
        NetworkSpec(
            300,
            (300, 300),
            n_outputs=3,
            dropout=0.0,
            n_estimators=2,
            output_init="zero",
        )
    )
    assert torch.count_nonzero(net.output.weight) == 0
    assert torch.count_nonzero(net.output.bias) == 0
    assert torch.count_nonzero(net.member_outputs(torch.randn(7, 300))) == 0
    for layer in net.hidden:
        if isinstance(layer, EnsembleLinear):
            fan_in = layer.weight.shape[2]
            assert layer.weight.std().item() == pytest.approx(fan_in**-0.5, rel=0.02)


def test_single_member_layer_is_a_linear_layer():
    torch.manual_seed(0)
    layer = EnsembleLinear(6, 3, n_estimators=1)
    linear = torch.nn.Linear(6, 3)
    with torch.no_grad():
        linear.weight.copy_(layer.weight[0])
        layer.bias.normal_()
        linear.bias.copy_(layer.bias[0])
    X = torch.randn(10, 6)
    # The layer takes and gives features first.
    torch.testing.assert_close(layer(X.T)[0], linear(X).T)


def test_members_are_independent_networks():
    torch.manual_seed(0)
    net = SELUNetwork(
        NetworkSpec(4, (8, 8), n_outputs=3, dropout=0.0, n_estimators=3)
    ).eval()
    X = torch.randn(5, 4)
    members = net.member_outputs(X)
    assert members.shape == (3, 5, 3)
    # Member 1 alone, rebuilt as a single network, gives the same outputs.
    single = SELUNetwork(NetworkSpec(4, (8, 8), n_outputs=3, dropout=0.0)).eval()
    with torch.no_grad():
        for ours, theirs in zip(single.parameters(), net.parameters(), strict=True):
            ours.copy_(theirs[1:2])
    torch.testing.assert_close(single(X), members[1])


def test_ensemble_averages_probabilities_or_outputs():
    torch.manual_seed(0)
    X = torch.randn(6, 4)
    clf = SELUNetwork(
        NetworkSpec(4, (8,), 3, 0.0, n_estimators=4, combine="probabilities")
    )
    members = clf.member_outputs(X)
    torch.testing.assert_close(
        torch.softmax(clf(X), dim=1), torch.softmax(members, dim=2).mean(dim=0)
    )
    reg = SELUNetwork(NetworkSpec(4, (8,), 2, 0.0, n_estimators=4, combine="outputs"))
    torch.testing.assert_close(reg(X), reg.member_outputs(X).mean(dim=0))


def test_kept_members_are_the_only_ones_averaged():
    torch.manual_seed(0)
    X = torch.randn(6, 4)
    clf = SELUNetwork(
        NetworkSpec(4, (8,), 3, 0.0, n_estimators=4, combine="probabilities")
    )
    clf.kept_members = (1, 3)
    members = clf.member_outputs(X)[[1, 3]]
    torch.testing.assert_close(
        torch.softmax(clf(X), dim=1), torch.softmax(members, dim=2).mean(dim=0)
    )
    reg = SELUNetwork(NetworkSpec(4, (8,), 2, 0.0, n_estimators=4, combine="outputs"))
    reg.kept_members = (2,)
    assert torch.equal(reg(X), reg.member_outputs(X)[2])


def test_a_members_mask_combines_each_samples_chosen_members():
    torch.manual_seed(0)
    X = torch.randn(3, 4)
    chosen = torch.tensor(
        [[True, True, False, False], [False, False, True, True], [True] * 4]
    )
    clf = SELUNetwork(
        NetworkSpec(4, (8,), 3, 0.0, n_estimators=4, combine="probabilities")
    )
    outputs = clf.member_outputs(X)
    probabilities = torch.softmax(clf.combine(outputs, chosen), dim=1)
    for row, members in enumerate(chosen):
        expected = torch.softmax(outputs[members, row], dim=1).mean(dim=0)
        torch.testing.assert_close(probabilities[row], expected)
    torch.testing.assert_close(clf.combine(outputs, chosen)[2], clf(X)[2])
    reg = SELUNetwork(NetworkSpec(4, (8,), 2, 0.0, n_estimators=4, combine="outputs"))
    outputs = reg.member_outputs(X)
    combined = reg.combine(outputs, chosen)
    for row, members in enumerate(chosen):
        torch.testing.assert_close(combined[row], outputs[members, row].mean(dim=0))


def test_a_members_mask_applies_to_the_kept_members_only():
    torch.manual_seed(0)
    X = torch.randn(2, 4)
    reg = SELUNetwork(NetworkSpec(4, (8,), 1, 0.0, n_estimators=4, combine="outputs"))
    reg.kept_members = (0, 2)
    outputs = reg.member_outputs(X)
    chosen = torch.tensor([[True, True, False, False], [False, True, True, True]])
    combined = reg.combine(outputs, chosen)
    torch.testing.assert_close(combined[0], outputs[0, 0])
    torch.testing.assert_close(combined[1], outputs[2, 1])


def test_shrink_input_weights_of_some_members_only():
    torch.manual_seed(0)
    net = SELUNetwork(NetworkSpec(5, (8,), 1, 0.0, n_estimators=4))
    before = net.hidden[0].weight.detach().clone()
    net.shrink_input_weights_(0.1, slice(1, None, 2))
    after = net.hidden[0].weight.detach()
    assert torch.equal(after[[0, 2]], before[[0, 2]])
    norms = torch.linalg.vector_norm(after[[1, 3]], dim=1)
    expected = (torch.linalg.vector_norm(before[[1, 3]], dim=1) - 0.1).clamp_min(0)
    torch.testing.assert_close(norms, expected)


def test_center_weights_zeroes_the_incoming_mean_of_layers_fed_by_selu():
    torch.manual_seed(0)
    net = SELUNetwork(
        NetworkSpec(5, (8, 8, 8), n_outputs=2, dropout=0.0, n_estimators=2)
    )
    with torch.no_grad():
        for parameter in net.parameters():
            parameter.add_(0.3)
    first = net.hidden[0].weight.clone()
    output = net.output.weight.clone()
    net.center_weights_()
    for layer in (net.hidden[2], net.hidden[4]):
        torch.testing.assert_close(
            layer.weight.mean(dim=2), torch.zeros(2, 8), atol=1e-6, rtol=0
        )
    assert torch.equal(net.hidden[0].weight, first)
    assert torch.equal(net.output.weight, output)


def test_zero_dropout_adds_no_dropout_layer():
    net = SELUNetwork(NetworkSpec(5, (8,), n_outputs=1, dropout=0.0))
    assert not any(isinstance(m, torch.nn.AlphaDropout) for m in net.modules())


def test_activations_stay_self_normalized_through_depth():
    torch.manual_seed(0)
    net = SELUNetwork(NetworkSpec(64, (256,) * 16, n_outputs=1, dropout=0.05)).eval()
    # Features first, as the layers take them.
    out = torch.randn(4096, 64).T
    with torch.no_grad():
        for layer in net.hidden:
            out = layer(out)
    assert abs(out.mean().item()) < 0.15
    assert out.var().item() == pytest.approx(1.0, abs=0.2)


def test_shrink_input_weights_is_a_group_soft_threshold_per_feature():
    net = SELUNetwork(NetworkSpec(3, (4, 4), n_outputs=1, dropout=0.0, n_estimators=2))
    with torch.no_grad():
        net.hidden[0].weight[:, :, 0] = 0.1  # column norm 0.2: below the amount
        net.hidden[0].weight[:, :, 1] = 1.0  # column norm 2.0
        net.hidden[0].weight[:, :, 2] = 0.0
    second_layer = net.hidden[2].weight.clone()
    net.shrink_input_weights_(0.5)
    first = net.hidden[0].weight
    assert torch.count_nonzero(first[:, :, [0, 2]]) == 0
    # The norm 2.0 column keeps its direction and loses 0.5 of its norm.
    torch.testing.assert_close(first[:, :, 1], torch.full((2, 4), 0.75))
    assert not torch.isnan(first).any()
    # Only the first layer is touched.
    assert torch.equal(net.hidden[2].weight, second_layer)


def test_compiled_cpu_training_fuses_selu_and_alpha_dropout(monkeypatch):
    # The network's compiled training pass on the CPU runs every hidden
    # layer's SELU -> AlphaDropout as selu_alpha_dropout; evaluation, eager
    # training and bf16 autocast run torch's layers.
    calls = []

    def counted(X, p, seed=None):
        calls.append(p)
        return selu_alpha_dropout(X, p, seed)

    monkeypatch.setattr(_network, "selu_alpha_dropout", counted)
    torch.manual_seed(0)
    net = SELUNetwork(
        NetworkSpec(5, (64, 64), n_outputs=2, dropout=0.1, n_estimators=2)
    )
    X = torch.randn(128, 5)
    options = {"fallback_random": True}
    assert torch.compile(net.member_outputs, options=options)(X).shape == (2, 128, 2)
    assert calls == [0.1, 0.1]
    calls.clear()
    net.member_outputs(X)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        torch.compile(net.member_outputs, options=options)(X)
    net.eval()
    compiled_eval = torch.compile(net.member_outputs, options=options)(X)
    assert calls == []
    torch.testing.assert_close(compiled_eval, net.member_outputs(X))


def test_periodic_features_join_the_numeric_columns_before_the_codes():
    spec = NetworkSpec(
        5, (8,), 1, 0.0, embeddings=(4,), embedding_dim=2, periodic_features=3
    )
    net = SELUNetwork(spec)
    assert spec.n_first_layer_inputs == 4 + 3 * spec.periodic_dim + 2
    assert net.hidden[0].weight.shape[-1] == spec.n_first_layer_inputs
    X = torch.cat([torch.randn(6, 4), torch.randint(0, 4, (6, 1)).float()], dim=1)
    inputs = net._embed(X)
    torch.testing.assert_close(inputs[:, :4], X[:, :4])
    torch.testing.assert_close(inputs[:, 4:-2], net.periodic(X[:, :3]))
    torch.testing.assert_close(inputs[:, -2:], net.embeddings[0](X[:, 4].long()))


def test_shrink_input_weights_shrinks_a_feature_with_its_periodic_features():
    spec = NetworkSpec(3, (4,), 1, 0.0, n_estimators=2, periodic_features=2)
    assert spec.first_layer_features == (0, 1, 2, 0, 0, 0, 1, 1, 1)
    net = SELUNetwork(spec)
    with torch.no_grad():
        weight = net.hidden[0].weight
        weight[:] = 0.0
        weight[:, :, [1, 6, 7, 8]] = 0.1  # feature 1: norm 0.4, below 0.5 * 2
        weight[:, :, [0, 3, 4, 5]] = 1.0  # feature 0: norm 4.0
        weight[:, :, 2] = 1.0  # feature 2, alone: norm 2.0
    net.shrink_input_weights_(0.5)
    first = net.hidden[0].weight
    assert torch.count_nonzero(first[:, :, [1, 6, 7, 8]]) == 0
    # Feature 0 and its 3 periodic features lose 0.5 * sqrt(4) of their
    # joint norm of 4.0, each column in proportion; feature 2 loses 0.5.
    torch.testing.assert_close(first[:, :, [0, 3, 4, 5]], torch.full((2, 4, 4), 0.75))
    torch.testing.assert_close(first[:, :, 2], torch.full((2, 4), 0.75))


def test_shrink_input_weights_shrinks_an_embedded_column_as_one_feature():
    spec = NetworkSpec(2, (4,), 1, 0.0, embeddings=(5,), embedding_dim=2)
    assert spec.first_layer_features == (0, 1, 1)
    net = SELUNetwork(spec)
    with torch.no_grad():
        net.hidden[0].weight[:] = 1.0  # norms: 2.0 and, embedded, sqrt(8)
    net.shrink_input_weights_(0.5)
    first = net.hidden[0].weight
    torch.testing.assert_close(first[:, :, 0], torch.full((1, 4), 0.75))
    expected = 1 - 0.5 * 2**0.5 / 8**0.5
    torch.testing.assert_close(first[:, :, 1:], torch.full((1, 4, 2), expected))


def test_periodic_embedding_keeps_the_activations_self_normalized():
    torch.manual_seed(0)
    spec = NetworkSpec(32, (256,) * 8, 1, 0.0, periodic_features=32)
    net = SELUNetwork(spec).eval()
    with torch.no_grad():
        out = net.hidden(net._embed(torch.randn(4096, 32)).T)
    assert abs(out.mean().item()) < 0.15
    assert out.var().item() == pytest.approx(1.0, abs=0.25)
