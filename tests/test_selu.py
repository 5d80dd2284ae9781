import pytest
import torch

from sklearn_snn._selu import (
    SELU_SATURATION,
    alpha_dropout,
    dropout_seeds,
    hashed_alpha_dropout,
    selu_alpha_dropout,
)


def _alpha_dropout_affine(p):
    scale = ((1 - p) * (1 + p * SELU_SATURATION**2)) ** -0.5
    return scale, -scale * SELU_SATURATION * p


@pytest.fixture(scope="module")
def compiled_selu_alpha_dropout():
    return torch.compile(selu_alpha_dropout, options={"fallback_random": True})


def test_compiled_selu_alpha_dropout_keeps_the_fixed_point(
    compiled_selu_alpha_dropout,
):
    # The hashed mask: the rate, a fresh mask at every call, and the affine
    # correction that keeps SELU activations at mean 0 and variance 1.
    torch.manual_seed(0)
    X = torch.randn(4, 256, 256)
    first = compiled_selu_alpha_dropout(X, 0.1)
    second = compiled_selu_alpha_dropout(X, 0.1)
    scale, shift = _alpha_dropout_affine(0.1)
    dropped_value = scale * SELU_SATURATION + shift
    dropped = torch.isclose(first, torch.tensor(dropped_value))
    assert dropped.float().mean().item() == pytest.approx(0.1, abs=0.003)
    assert not torch.equal(first, second)
    assert first.mean().item() == pytest.approx(0, abs=0.01)
    assert first.var().item() == pytest.approx(1, abs=0.01)
    # Neighbouring elements are dropped independently.
    both = (dropped[..., 1:] & dropped[..., :-1]).float().mean().item()
    assert both == pytest.approx(0.01, abs=0.002)
    kept = first[~dropped]
    expected = scale * torch.selu(X[~dropped]) + shift
    torch.testing.assert_close(kept, expected)


def test_compiled_selu_alpha_dropout_gradient_follows_its_mask(
    compiled_selu_alpha_dropout,
):
    # The gradient comes from the output: SELU's slope times the affine
    # scale where a unit was kept, and zero where it was dropped.
    torch.manual_seed(0)
    X = torch.randn(256, 256, requires_grad=True)
    outputs = compiled_selu_alpha_dropout(X, 0.1)
    outputs.sum().backward()
    scale, shift = _alpha_dropout_affine(0.1)
    dropped = torch.isclose(outputs, torch.tensor(scale * SELU_SATURATION + shift))
    assert 0.05 < dropped.float().mean().item() < 0.15
    leaf = X.detach().requires_grad_()
    torch.selu(leaf).sum().backward()
    torch.testing.assert_close(X.grad[~dropped], scale * leaf.grad[~dropped])
    assert torch.count_nonzero(X.grad[dropped]) == 0


def test_compiled_selu_without_dropout_is_torchs_selu(compiled_selu_alpha_dropout):
    X = torch.linspace(-12, 6, 4001).reshape(1, -1).requires_grad_()
    compiled_selu_alpha_dropout(X, 0.0).sum().backward()
    leaf = X.detach().requires_grad_()
    outputs = torch.selu(leaf)
    outputs.sum().backward()
    torch.testing.assert_close(compiled_selu_alpha_dropout(X, 0.0), outputs)
    torch.testing.assert_close(X.grad, leaf.grad)


def test_alpha_dropout_with_a_generator_is_torchs_alpha_dropout():
    # The same arithmetic and the same mask as torch's kernel when both draw
    # from generators in the same state.
    X = torch.selu(torch.randn(300, 400, generator=torch.Generator().manual_seed(0)))
    torch.manual_seed(1)
    expected = torch.nn.functional.alpha_dropout(X, 0.1, training=True)
    ours = alpha_dropout(X, 0.1, torch.Generator().manual_seed(1))
    torch.testing.assert_close(ours, expected, rtol=0, atol=1e-6)


def test_hashed_alpha_dropout_draws_the_fused_kernels_mask():
    X = torch.randn(64, 128)
    seed = torch.tensor(12345, dtype=torch.int32)
    fused = selu_alpha_dropout(X, 0.1, seed)
    composed = hashed_alpha_dropout(torch.selu(X), 0.1, seed)
    torch.testing.assert_close(composed, fused)
    assert not torch.equal(fused, selu_alpha_dropout(X, 0.1, seed + 1))


def test_dropout_seeds_come_from_the_generator():
    first = dropout_seeds(4, torch.Generator().manual_seed(0))
    second = dropout_seeds(4, torch.Generator().manual_seed(0))
    assert first.dtype == torch.int32
    assert first.shape == (4,)
    assert torch.equal(first, second)
