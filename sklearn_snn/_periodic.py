"""A periodic embedding of the numeric inputs, scaled for a SELU network.

Each numeric input ``x`` (standardized) is expanded into ``n_frequencies``
waves ``sqrt(2) * (cos(2 pi f x + b) - m)``, mixed per input by a small
linear layer into ``dim`` learned features, which join ``x`` itself at the
first hidden layer. This is RealMLP's PBLD embedding (Holzmüller et al.,
2024), after the periodic embeddings of Gorishniy et al. (2022), with two
changes for the first SELU layer, whose inputs should be near mean 0 and
variance 1:

- ``m = cos(b) exp(-2 pi^2 f^2)`` is a wave's mean over standard-normal
  inputs, so every wave, and every mixed feature, starts centered;
- the mixing weights are LeCun-normal and the biases zero, as in the hidden
  layers.

The factor ``sqrt(2)`` gives a wave unit variance only where it spans many
periods of its input. Frequencies start small (``N(0, sigma^2)``), so that
each learned feature starts as a gentle function of its input and sharpens
only where training finds it pays; a slow wave varies little over its
input, though (variance about ``(2 pi f)^2``), and the features start with
a variance of about 0.1 (``sigma=0.05``) to 0.3 (``sigma=0.1``), not 1
(``benchmarks/results/default-activations-cpu.md``). That faint start is
kept on purpose: scaling each wave to unit variance lost accuracy on the
small classification datasets of the study set (``benchmarks/README.md``,
round 16). The embedding is shared by the members of the ensemble.
"""

import math

import torch
from torch import nn


class PeriodicEmbedding(nn.Module):
    """Learned periodic features of each numeric input.

    Parameters
    ----------
    n_features : int
        Number of numeric inputs embedded.
    n_frequencies : int
        Waves per input.
    dim : int
        Learned features per input.
    sigma : float
        Standard deviation of the initial frequencies, in cycles per
        standard unit of the input.
    generator : torch.Generator, default=None
        Where the initial parameters are drawn from; torch's global generator
        when None.

    Attributes
    ----------
    frequency : torch.nn.Parameter of shape (n_features, 1, n_frequencies)
    phase : torch.nn.Parameter of shape (n_features, 1, n_frequencies)
        Uniform in ``[-pi, pi]`` at initialization.
    weight : torch.nn.Parameter of shape (n_features, n_frequencies, dim)
        Each input's mixing weights, ``N(0, 1 / n_frequencies)`` at
        initialization.
    bias : torch.nn.Parameter of shape (n_features, 1, dim)
        Zero at initialization.
    """

    def __init__(self, n_features, n_frequencies, dim, sigma, generator=None):
        super().__init__()
        shape = (n_features, 1, n_frequencies)
        self.frequency = nn.Parameter(sigma * torch.randn(shape, generator=generator))
        self.phase = nn.Parameter(
            math.pi * (2 * torch.rand(shape, generator=generator) - 1)
        )
        self.weight = nn.Parameter(
            torch.randn(n_features, n_frequencies, dim, generator=generator)
            / math.sqrt(n_frequencies)
        )
        self.bias = nn.Parameter(torch.zeros(n_features, 1, dim))

    def forward(self, X):
        """Return the learned features of a batch of numeric inputs.

        Parameters
        ----------
        X : torch.Tensor of shape (n_samples, n_features)
            Standardized numeric inputs.

        Returns
        -------
        torch.Tensor of shape (n_samples, n_features * dim)
            Each input's ``dim`` features, input after input.
        """
        angles = 2 * math.pi * self.frequency * X.T.unsqueeze(-1) + self.phase
        mean = torch.cos(self.phase) * torch.exp(-2 * (math.pi * self.frequency) ** 2)
        waves = math.sqrt(2) * (torch.cos(angles) - mean)
        features = torch.baddbmm(self.bias, waves, self.weight)
        return features.transpose(0, 1).reshape(X.shape[0], -1)
