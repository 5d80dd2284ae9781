"""The architecture of a SELU network, as data: :class:`NetworkSpec`.

A spec is what a model file declares and what a warm start compares, so it
holds every size the network's weights have, and nothing that training
changes.
"""

from dataclasses import dataclass, field

from . import _defaults


@dataclass(frozen=True)
class NetworkSpec:
    """The architecture of a :class:`SELUNetwork`.

    Parameters
    ----------
    n_features : int
        Number of input features.
    hidden_layer_sizes : tuple of int
        Width of each hidden layer.
    n_outputs : int
        Number of outputs (logits for a classifier, targets for a regressor).
    dropout : float
        AlphaDropout rate after each hidden layer; 0 disables it.
    n_estimators : int, default=1
        Number of independent networks trained together.
    combine : {'outputs', 'probabilities'}, default='outputs'
        How :meth:`SELUNetwork.forward` combines the members: the mean of
        their outputs (regression), or the log of the mean of their softmax
        probabilities (classification; a softmax of the result gives the
        mean).
    output_init : {'lecun', 'zero'}, default='lecun'
        Initial weights of the output layer: LeCun-normal like the hidden
        layers, or zero, so that the untrained network outputs 0. It matters
        only at initialization, so two specs that differ only in it compare
        equal.
    embeddings : tuple of int, default=()
        Number of codes of each embedded categorical column. These columns
        are the last ``len(embeddings)`` of the ``n_features`` inputs.
    embedding_dim : int, default=8
        Width of each column's embedding.
    periodic_features : int, default=0
        Number of leading inputs, the numeric columns, that also enter
        through a :class:`PeriodicEmbedding`; 0 for none.
    periodic_frequencies : int, default=16
        Waves per input of the periodic embedding.
    periodic_dim : int, default=3
        Learned features per input of the periodic embedding.
    periodic_sigma : float, default=0.1
        Standard deviation of the periodic embedding's initial frequencies
        (RealMLP's 0.1 by default; each estimator passes its own).
        It matters only at initialization, so it does not take part in
        comparisons.
    """

    n_features: int
    hidden_layer_sizes: tuple
    n_outputs: int
    dropout: float
    n_estimators: int = 1
    combine: str = "outputs"
    output_init: str = field(default="lecun", compare=False)
    embeddings: tuple = ()
    embedding_dim: int = 8
    periodic_features: int = 0
    periodic_frequencies: int = _defaults.PERIODIC_FREQUENCIES
    periodic_dim: int = _defaults.PERIODIC_DIM
    periodic_sigma: float = field(default=0.1, compare=False)

    @property
    def first_layer_features(self):
        """The input feature that each first-layer input comes from.

        A feature's first-layer inputs are its own column, or its embedding,
        and its periodic features: the group that ``feature_sparsity``
        shrinks as one.
        """
        n_dense = self.n_features - len(self.embeddings)
        periodic = [
            i for i in range(self.periodic_features) for _ in range(self.periodic_dim)
        ]
        embedded = [
            n_dense + j
            for j in range(len(self.embeddings))
            for _ in range(self.embedding_dim)
        ]
        return (*range(n_dense), *periodic, *embedded)

    @property
    def n_first_layer_inputs(self):
        """Inputs of the first hidden layer: features, codes and periodic features."""
        n_codes = len(self.embeddings)
        return (
            self.n_features
            - n_codes
            + n_codes * self.embedding_dim
            + self.periodic_features * self.periodic_dim
        )
