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

``n_estimators`` independent networks of the same shape are held as one
module whose linear layers are batched matrix products, so that an ensemble
trains in the same steps as a single network. Every member sees the same
batches; their initializations and dropout masks differ.
"""

import math

import torch
from torch import nn

#: SELU's ``lambda``, its slope for positive inputs, and ``alpha``.
SELU_LAMBDA, SELU_ALPHA = 1.0507009873554805, 1.6732632423543772
#: SELU's negative saturation value, ``-lambda * alpha``: where AlphaDropout
#: sets the units it drops.
SELU_SATURATION = -SELU_LAMBDA * SELU_ALPHA
#: Slopes below this are rounding error around SELU's saturation: zero.
_ZERO_SLOPE = 1e-6


def lecun_normal_(weight):
    """Initialize a weight matrix in place with ``N(0, 1/fan_in)``.

    Parameters
    ----------
    weight : torch.Tensor of shape (fan_out, fan_in)
        The weight matrix of one linear layer.

    Returns
    -------
    torch.Tensor
        The same tensor.
    """
    return nn.init.kaiming_normal_(weight, mode="fan_in", nonlinearity="linear")


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

    Attributes
    ----------
    weight : torch.nn.Parameter of shape (n_estimators, out_features, in_features)
        Each member's weights, LeCun-normal at initialization.
    bias : torch.nn.Parameter of shape (n_estimators, out_features)
        Each member's biases, zero at initialization.
    """

    def __init__(self, in_features, out_features, n_estimators):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_estimators, out_features, in_features))
        self.bias = nn.Parameter(torch.zeros(n_estimators, out_features))
        for member_weight in self.weight.data:
            lecun_normal_(member_weight)

    def forward(self, X):
        """Apply each member's layer to its inputs.

        Parameters
        ----------
        X : torch.Tensor of shape (n_samples, in_features) or \
                (n_estimators, n_samples, in_features)
            Inputs shared by all members, or one block per member.

        Returns
        -------
        torch.Tensor of shape (n_estimators, n_samples, out_features)
        """
        if self.weight.shape[0] == 1:
            rows = X.reshape(-1, X.shape[-1])
            # squeeze rather than [0]: the backward pass of a view is free,
            # that of an index is a copy of the gradient.
            weight, bias = self.weight.squeeze(0), self.bias.squeeze(0)
            return torch.addmm(bias, rows, weight.T).unsqueeze(0)
        return torch.baddbmm(
            self.bias.unsqueeze(1),
            X.expand(self.weight.shape[0], *X.shape[-2:]),
            self.weight.transpose(1, 2),
        )


def _int32(value):
    """Return an unsigned 32-bit constant as the int32 with the same bits."""
    return value - (1 << 32) if value >= 1 << 31 else value


#: The golden-ratio increment of a Weyl sequence and the two multipliers of
#: MurmurHash3's 32-bit finalizer (``fmix32``).
_GOLDEN, _FMIX_1, _FMIX_2 = map(_int32, (0x9E3779B9, 0x85EBCA6B, 0xC2B2AE35))


def _hashed_keep_mask(shape, seed, p):
    """Return a boolean mask that keeps each element with probability ``1 - p``.

    Element ``i`` is kept when the top 24 of the 32 bits of
    ``fmix32(i * golden + seed)`` exceed ``p * 2**24``. This is a
    counter-based generator: elementwise integer arithmetic on int32 tensors
    (which wrap around), so that torch.compile fuses it into the kernel that
    uses the mask, and so that the same seed gives the same mask again.
    ``>>`` on int32 is an arithmetic shift; the masks after it make it the
    logical shift of ``fmix32``.
    """
    h = torch.arange(math.prod(shape), dtype=torch.int32).view(shape) * _GOLDEN + seed
    h = h ^ ((h >> 16) & 0xFFFF)
    h = h * _FMIX_1
    h = h ^ ((h >> 13) & 0x7FFFF)
    h = h * _FMIX_2
    h = h ^ ((h >> 16) & 0xFFFF)
    return ((h >> 8) & 0xFFFFFF) >= round(p * (1 << 24))


def _alpha_dropout_affine(p):
    """Return AlphaDropout's ``(scale, shift)``, applied after a unit is dropped.

    A dropped unit is set to SELU's saturation value; then ``scale * x +
    shift`` restores mean 0 and variance 1 (Klambauer et al., 2017).
    """
    scale = ((1 - p) * (1 + p * SELU_SATURATION**2)) ** -0.5
    return scale, -scale * SELU_SATURATION * p


class _SELUAlphaDropout(torch.autograd.Function):
    """SELU, then AlphaDropout with a hashed mask, differentiated from its output.

    The backward pass needs only the output, which the next layer's weight
    gradient keeps anyway: inverting the affine map gives the SELU value
    ``s`` of a kept unit, and SELU's slope is ``lambda`` where ``s > 0`` and
    ``s + lambda * alpha`` elsewhere (the form torch uses for an in-place
    SELU). A dropped unit holds the saturation value ``-lambda * alpha``,
    where that slope is zero, so it gets no gradient. Slopes within rounding
    of zero are set to zero, which also covers kept units deep in
    saturation (inputs below about -14, whose true slope is under 1e-6).
    Neither the mask nor an exponential is recomputed.
    """

    @staticmethod
    def forward(X, seed, p):
        activations = torch.selu(X)
        if not p:
            return activations
        scale, shift = _alpha_dropout_affine(p)
        keep = _hashed_keep_mask(X.shape, seed, p)
        return scale * torch.where(keep, activations, SELU_SATURATION) + shift

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.p = inputs[2]
        ctx.save_for_backward(output)

    @staticmethod
    def backward(ctx, grad_output):
        (output,) = ctx.saved_tensors
        scale, shift = _alpha_dropout_affine(ctx.p)
        activations = (output - shift) / scale
        slope = torch.where(activations > 0, SELU_LAMBDA, activations - SELU_SATURATION)
        slope = torch.where(slope > _ZERO_SLOPE, slope, 0.0)
        return grad_output * (scale * slope), None, None


def selu_alpha_dropout(X, p):
    """Apply SELU, then AlphaDropout at rate ``p``, as one compiled CPU kernel.

    This is the hidden layers' ``SELU -> AlphaDropout`` in the form that
    ``torch.compile`` turns into one fast loop on the CPU. The mask comes from
    a counter-based hash of each element's index and a seed drawn from torch's
    generator: torch's own mask (``bernoulli_``) runs on a single thread on
    CPUs other than Intel's and took a quarter of a compiled step of a 4x256
    network on a 2-core AMD EPYC. The gradient is computed from the output
    (see ``_SELUAlphaDropout``): recomputing the SELU's exponential and the
    mask in the backward pass cost a tenth of that step.

    Parameters
    ----------
    X : torch.Tensor
        Pre-activations of a hidden layer, fewer than ``2**31`` elements.
    p : float
        Dropout rate; 0 applies the SELU alone.

    Returns
    -------
    torch.Tensor of the same shape
    """
    seed = torch.randint(-(1 << 31), 1 << 31, (), dtype=torch.int32) if p else None
    return _SELUAlphaDropout.apply(X, seed, p)


class SELUNetwork(nn.Module):
    """Fully connected SELU networks with AlphaDropout and LeCun-normal init.

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
    average : {'outputs', 'probabilities'}, default='outputs'
        How :meth:`forward` combines the members: the mean of their outputs
        (regression), or the log of the mean of their softmax probabilities
        (classification; a softmax of the result gives the mean).
    output_init : {'lecun', 'zero'}, default='lecun'
        Initial weights of the output layer: LeCun-normal like the hidden
        layers, or zero, so that the untrained network outputs 0.

    Attributes
    ----------
    kept_members : tuple of int or None
        The members whose outputs :meth:`forward` combines; None, the
        initial value, means all of them. Training sets it when it chooses
        among the members (``feature_sparsity='auto'``).
    """

    #: A class attribute too, so that networks pickled before it existed
    #: still predict.
    kept_members = None

    def __init__(
        self,
        n_features,
        hidden_layer_sizes,
        n_outputs,
        dropout,
        n_estimators=1,
        average="outputs",
        output_init="lecun",
    ):
        super().__init__()
        self.n_features = n_features
        self.hidden_layer_sizes = tuple(hidden_layer_sizes)
        self.n_outputs = n_outputs
        self.dropout = dropout
        self.n_estimators = n_estimators
        self.average = average
        self.kept_members = None
        layers = []
        fan_in = n_features
        for width in hidden_layer_sizes:
            layers.append(EnsembleLinear(fan_in, width, n_estimators))
            layers.append(nn.SELU())
            if dropout > 0:
                layers.append(nn.AlphaDropout(dropout))
            fan_in = width
        self.hidden = nn.Sequential(*layers)
        self.output = EnsembleLinear(fan_in, n_outputs, n_estimators)
        if output_init == "zero":
            nn.init.zeros_(self.output.weight)

    def member_outputs(self, X):
        """Return every member's raw outputs for a batch.

        Parameters
        ----------
        X : torch.Tensor of shape (n_samples, n_features)
            Standardized inputs.

        Returns
        -------
        torch.Tensor of shape (n_estimators, n_samples, n_outputs)
            Each member's logits or standardized regression outputs.
        """
        if not self._fuses_activations(X):
            return self.output(self.hidden(X))
        for layer in self.hidden:
            if isinstance(layer, EnsembleLinear):
                X = selu_alpha_dropout(layer(X), self.dropout)
        return self.output(X)

    def _fuses_activations(self, X):
        """Whether each ``SELU -> AlphaDropout`` runs as :func:`selu_alpha_dropout`.

        That is float32 training compiled for the CPU. Run eagerly, compiled
        for a GPU, or under bf16 autocast, whose rounding would blur the
        output the gradient is computed from, the layers are torch's own.
        """
        largest_layer = self.n_estimators * X.shape[-2] * max(self.hidden_layer_sizes)
        return (
            self.training
            and torch.compiler.is_compiling()
            and X.device.type == "cpu"
            and not torch.is_autocast_enabled("cpu")
            and largest_layer < 1 << 31
        )

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

    def combine(self, outputs):
        """Combine the kept members' outputs into the ensemble's outputs.

        Parameters
        ----------
        outputs : torch.Tensor of shape (n_estimators, n_samples, n_outputs)
            Every member's outputs, as returned by :meth:`member_outputs`.

        Returns
        -------
        torch.Tensor of shape (n_samples, n_outputs)
            The outputs of :meth:`forward`.
        """
        if self.kept_members is not None:
            outputs = outputs[list(self.kept_members)]
        if outputs.shape[0] == 1:
            return outputs[0]
        if self.average == "probabilities":
            log_probabilities = torch.log_softmax(outputs.float(), dim=-1)
            return torch.logsumexp(log_probabilities, dim=0) - math.log(
                outputs.shape[0]
            )
        return outputs.mean(dim=0)

    @torch.no_grad()
    def shrink_input_weights_(self, amount, members=slice(None)):
        """Shrink each input feature's first-layer weights toward zero, in place.

        This is the proximal step of a group-lasso penalty on the first layer:
        the weights that leave one input feature, a column of the first weight
        matrix, lose ``amount`` of their Euclidean norm, and a column whose
        norm is below ``amount`` becomes zero, so that feature is ignored.
        Applied after every optimizer step, with ``amount`` the learning rate
        times the penalty's strength, it lets uninformative features drop out.

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
        norms = torch.linalg.vector_norm(weight, dim=1, keepdim=True)
        weight.mul_((1 - amount / norms.clamp_min(amount)).clamp_min(0))
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
