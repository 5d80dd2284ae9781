"""The self-normalizing network: an ensemble of SELU multilayer perceptrons.

Each hidden layer is ``Linear -> SELU -> AlphaDropout``; the output layer is
linear. Hidden weights are LeCun-normal (``N(0, 1/fan_in)``) and biases are
zero, so that standardized inputs keep activations near the SELU fixed point
(mean 0, variance 1) through every layer (Klambauer et al., 2017). There are no
skip connections and no batch normalization: both break self-normalization.

The output layer is LeCun-normal too, or starts at zero (``output_init``). No
SELU follows it, so its initialization does not touch the fixed point of the
hidden layers. A zero output layer makes the untrained network predict 0, the
mean of standardized targets, instead of a random function of every input,
irrelevant ones included, which a fit on few rows may never unlearn.

Categorical columns of many levels reach the network as integer codes in the
last input columns (``NetworkSpec.embeddings``). Each is looked up in an
embedding table, ``N(0, 1)`` at initialization like a standardized input, and
the embeddings join the other inputs of the first layer. Code 0, the rare and
unknown level, starts at 0, the mean of the others. The tables are shared by
the members. The numeric columns, first among the inputs, can also enter
through a periodic embedding (``NetworkSpec.periodic_features``, see
:mod:`._periodic`), shared by the members too.

``n_estimators`` independent networks of the same shape are held as one
module whose linear layers are batched matrix products, so that an ensemble
trains in the same steps as a single network. Every member sees the same
batches; their initializations and dropout masks differ.
"""

import math

import torch
from torch import nn

from ._network_spec import NetworkSpec
from ._periodic import PeriodicEmbedding
from ._selu import alpha_dropout, hashed_alpha_dropout, selu_alpha_dropout

# NetworkSpec is named here too: a network and its spec go together.
__all__ = ["EnsembleLinear", "NetworkSpec", "SELUNetwork", "lecun_normal_"]


def lecun_normal_(weight, generator=None):
    """Initialize a weight matrix in place with ``N(0, 1/fan_in)``.

    Parameters
    ----------
    weight : torch.Tensor of shape (fan_out, fan_in)
        The weight matrix of one linear layer.
    generator : torch.Generator, default=None
        Where the weights are drawn from; torch's global generator when None.

    Returns
    -------
    torch.Tensor
        The same tensor.
    """
    return nn.init.kaiming_normal_(
        weight, mode="fan_in", nonlinearity="linear", generator=generator
    )


class EnsembleLinear(nn.Module):
    """``n_estimators`` independent linear layers applied as one batched product.

    Parameters
    ----------
    in_features : int
        Inputs of each member's layer.
    out_features : int
        Outputs of each member's layer.
    n_estimators : int
        Number of members.
    generator : torch.Generator, default=None
        Where the initial weights are drawn from; torch's global generator
        when None.

    Attributes
    ----------
    weight : torch.nn.Parameter of shape (n_estimators, out_features, in_features)
        Each member's weights, LeCun-normal at initialization.
    bias : torch.nn.Parameter of shape (n_estimators, out_features)
        Each member's biases, zero at initialization.
    """

    def __init__(self, in_features, out_features, n_estimators, generator=None):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_estimators, out_features, in_features))
        self.bias = nn.Parameter(torch.zeros(n_estimators, out_features))
        for member_weight in self.weight.data:
            lecun_normal_(member_weight, generator)

    def forward(self, X):
        """Apply each member's layer to its inputs, features first.

        The samples are the last axis, of inputs and outputs alike: the
        product ``W @ X`` then leaves the weights' gradient, ``grad @ X.T``,
        in the weights' own layout. Samples first, ``X @ W.T`` gives that
        gradient transposed, and autograd copies it into the weights' layout
        at every step (``benchmarks/README.md``, round 30).

        Parameters
        ----------
        X : torch.Tensor of shape (in_features, n_samples) or \
                (n_estimators, in_features, n_samples)
            Inputs shared by all members, or one block per member.

        Returns
        -------
        torch.Tensor of shape (n_estimators, out_features, n_samples)
        """
        n_estimators, out_features, in_features = self.weight.shape
        if X.ndim == 2:
            # Inputs shared by the members: one product of all their weights
            # stacked, whose gradient with respect to X needs no sum over the
            # members.
            outputs = torch.addmm(
                self.bias.reshape(-1, 1),
                self.weight.reshape(-1, in_features),
                X,
            )
            return outputs.view(n_estimators, out_features, X.shape[1])
        return torch.baddbmm(self.bias.unsqueeze(2), self.weight, X)


class SELUNetwork(nn.Module):
    """Fully connected SELU networks with AlphaDropout and LeCun-normal init.

    Parameters
    ----------
    spec : NetworkSpec
        The architecture.
    generator : torch.Generator, default=None
        Where the initial weights are drawn from; torch's global generator
        when None.

    Attributes
    ----------
    kept_members : tuple of int or None
        The members whose outputs :meth:`forward` combines; None, the
        initial value, means all of them. Training sets it when it chooses
        among the members (``feature_sparsity='auto'``).
    """

    def __init__(self, spec, generator=None):
        super().__init__()
        self.spec = spec
        self.kept_members = None
        self.embeddings = nn.ModuleList(
            nn.Embedding(n_codes, spec.embedding_dim) for n_codes in spec.embeddings
        )
        with torch.no_grad():
            for embedding in self.embeddings:
                embedding.weight.normal_(generator=generator)
                embedding.weight[0] = 0
        self.periodic = (
            PeriodicEmbedding(
                spec.periodic_features,
                spec.periodic_frequencies,
                spec.periodic_dim,
                spec.periodic_sigma,
                generator,
            )
            if spec.periodic_features
            else None
        )
        features = torch.tensor(spec.first_layer_features)
        # Not in the state dict: they follow from the spec.
        self.register_buffer("_input_feature", features, persistent=False)
        self.register_buffer(
            "_input_group_scale",
            torch.bincount(features).sqrt()[features],
            persistent=False,
        )
        layers = []
        fan_in = spec.n_first_layer_inputs
        for width in spec.hidden_layer_sizes:
            layers.append(EnsembleLinear(fan_in, width, spec.n_estimators, generator))
            # In place: the linear layer's output is read by nothing else,
            # and SELU's gradient comes from its output, so one tensor fewer
            # per layer is written (about 5% of a fit on a CPU).
            layers.append(nn.SELU(inplace=True))
            if spec.dropout > 0:
                layers.append(nn.AlphaDropout(spec.dropout))
            fan_in = width
        self.hidden = nn.Sequential(*layers)
        self.output = EnsembleLinear(
            fan_in, spec.n_outputs, spec.n_estimators, generator
        )
        if spec.output_init == "zero":
            nn.init.zeros_(self.output.weight)

    def member_outputs(self, X, dropout_seeds=None, generator=None):
        """Return every member's raw outputs for a batch.

        Parameters
        ----------
        X : torch.Tensor of shape (n_samples, n_features)
            Standardized inputs.
        dropout_seeds : torch.Tensor of shape (n_hidden_layers,), default=None
            Seeds (int32) of the hashed AlphaDropout masks of training
            compiled for the CPU (see :meth:`_hashes_dropout`); drawn from
            torch's global generator when None.
        generator : torch.Generator, default=None
            Where eager training draws its AlphaDropout masks from; torch's
            global generator when None.

        Returns
        -------
        torch.Tensor of shape (n_estimators, n_samples, n_outputs)
            Each member's logits or standardized regression outputs.
        """
        # The layers take and give features first (see EnsembleLinear).
        X = self._embed(X).T
        if self._hashes_dropout(X):
            outputs = self._hashed_member_outputs(X, dropout_seeds)
        elif generator is None or not (self.training and self.spec.dropout):
            outputs = self.output(self.hidden(X))
        else:
            for layer in self.hidden:
                if isinstance(layer, nn.AlphaDropout):
                    X = alpha_dropout(X, layer.p, generator)
                else:
                    X = layer(X)
            outputs = self.output(X)
        return outputs.transpose(1, 2)

    def _embed(self, X):
        """Replace the code columns of ``X`` by their embeddings.

        The periodic features of the numeric columns, if any, come after the
        standardized columns and before the embedded codes.
        """
        if not self.embeddings and self.periodic is None:
            return X
        n_dense = X.shape[-1] - len(self.embeddings)
        blocks = [X[:, :n_dense]]
        if self.periodic is not None:
            blocks.append(self.periodic(X[:, : self.spec.periodic_features]))
        codes = X[:, n_dense:].long()
        blocks += [table(codes[:, i]) for i, table in enumerate(self.embeddings)]
        return torch.cat(blocks, dim=1)

    def _hashes_dropout(self, X):
        """Whether AlphaDropout's masks come from a hash of a seed per layer.

        That is training compiled for the CPU, where each ``SELU ->
        AlphaDropout`` runs as :func:`selu_alpha_dropout`, or under bf16
        autocast, whose rounding would blur the output that kernel's
        gradient is computed from, as SELU and :func:`hashed_alpha_dropout`.
        Run eagerly or compiled for a GPU, the layers are torch's own.
        """
        spec = self.spec
        largest_layer = spec.n_estimators * X.shape[-1] * max(spec.hidden_layer_sizes)
        return (
            self.training
            and torch.compiler.is_compiling()
            and X.device.type == "cpu"
            and largest_layer < 1 << 31
        )

    def _hashed_member_outputs(self, X, dropout_seeds):
        linears = [layer for layer in self.hidden if isinstance(layer, EnsembleLinear)]
        p = self.spec.dropout
        if p and dropout_seeds is None:
            dropout_seeds = torch.randint(
                -(1 << 31), 1 << 31, (len(linears),), dtype=torch.int32
            )
        fused = not torch.is_autocast_enabled("cpu")
        for index, layer in enumerate(linears):
            seed = dropout_seeds[index] if p else None
            if fused:
                X = selu_alpha_dropout(layer(X), p, seed)
            else:
                X = torch.selu(layer(X))
                if p:
                    X = hashed_alpha_dropout(X, p, seed)
        return self.output(X)

    def forward(self, X):
        """Return the ensemble's outputs for a batch.

        Parameters
        ----------
        X : torch.Tensor of shape (n_samples, n_features)
            Standardized inputs.

        Returns
        -------
        torch.Tensor of shape (n_samples, n_outputs)
            Logits or standardized regression outputs; with one member, that
            member's raw outputs. Only the members in ``kept_members`` count,
            or all of them when it is None.
        """
        return self.combine(self.member_outputs(X))

    def combine(self, outputs, members=None):
        """Combine the kept members' outputs into the ensemble's outputs.

        Parameters
        ----------
        outputs : torch.Tensor of shape (n_estimators, n_samples, n_outputs)
            Every member's outputs, as returned by :meth:`member_outputs`.
        members : torch.Tensor of shape (n_samples, n_estimators), dtype bool, \
                default=None
            Which members each sample's output combines (of those kept);
            every sample needs at least one. It may be on another device than
            ``outputs``, as validation data kept in host memory is. None: all
            of them, as :meth:`forward` does.

        Returns
        -------
        torch.Tensor of shape (n_samples, n_outputs)
            The outputs of :meth:`forward`.
        """
        if self.kept_members is not None:
            kept = list(self.kept_members)
            outputs = outputs[kept]
            members = None if members is None else members[:, kept]
        if members is not None:
            chosen = members.to(outputs.device).T.unsqueeze(-1)
            return self._combine_some(outputs, chosen)
        if outputs.shape[0] == 1:
            return outputs[0]
        if self.spec.combine == "probabilities":
            log_probabilities = torch.log_softmax(outputs.float(), dim=-1)
            return torch.logsumexp(log_probabilities, dim=0) - math.log(
                outputs.shape[0]
            )
        return outputs.mean(dim=0)

    def _combine_some(self, outputs, chosen):
        """Combine, for each sample, the members where ``chosen`` is True."""
        count = chosen.sum(dim=0)
        if self.spec.combine == "probabilities":
            log_probabilities = torch.log_softmax(outputs.float(), dim=-1)
            # log(0) = -inf leaves a member out of the log-sum-exp.
            log_chosen = torch.log(chosen.to(log_probabilities.dtype))
            return torch.logsumexp(log_probabilities + log_chosen, dim=0) - torch.log(
                count
            )
        return (outputs * chosen).sum(dim=0) / count

    @torch.no_grad()
    def shrink_input_weights_(self, amount, members=slice(None)):
        """Shrink each input feature's first-layer weights toward zero, in place.

        This is the proximal step of a group-lasso penalty on the first layer:
        the weights that leave one input feature lose ``amount * sqrt(k)`` of
        their Euclidean norm, and become zero if their norm is below that, so
        that the feature is ignored. They are the columns of the first weight
        matrix that the feature feeds (its own column or its embedding, and
        its periodic features; ``NetworkSpec.first_layer_features``), ``k``
        of them: the ``sqrt(k)`` shrinks a group of ``k`` columns of equal
        norm as fast as ``k`` single columns. Applied after every optimizer
        step, with ``amount`` the learning rate times the penalty's strength,
        it lets uninformative features drop out.

        Parameters
        ----------
        amount : float
            Norm to remove from each column.
        members : slice, default=slice(None)
            The members whose first layer shrinks; all of them by default.

        Returns
        -------
        self : SELUNetwork
        """
        weight = self.hidden[0].weight[members]
        squares = weight.square().sum(dim=1)
        feature_squares = squares.new_zeros(
            squares.shape[0], self.spec.n_features
        ).index_add_(1, self._input_feature, squares)
        norms = feature_squares.sqrt()[:, self._input_feature]
        threshold = amount * self._input_group_scale.to(norms.dtype)
        scale = (1 - threshold / torch.maximum(norms, threshold)).clamp_min(0)
        weight.mul_(scale.unsqueeze(1))
        return self

    @torch.no_grad()
    def center_weights_(self):
        """Subtract from each unit's incoming weights their mean, in place.

        This is weight centering: it keeps the sum of every unit's incoming
        weights at zero, which the SNN fixed point assumes, so that the mean
        of the activations cannot drift away from zero during training. It
        applies to the hidden layers that take SELU activations as inputs
        (all but the first hidden layer, whose inputs are standardized), not
        to the output layer, which is not followed by a SELU.

        Returns
        -------
        self : SELUNetwork
        """
        linears = [m for m in self.hidden if isinstance(m, EnsembleLinear)]
        for layer in linears[1:]:
            layer.weight -= layer.weight.mean(dim=2, keepdim=True)
        return self
