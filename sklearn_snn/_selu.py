"""SELU's constants and the fused SELU + AlphaDropout kernel of the compiled step.

SELU (Klambauer et al., 2017) is ``lambda * x`` for ``x > 0`` and
``lambda * alpha * (exp(x) - 1)`` otherwise; with the constants below, mean 0
and variance 1 is a stable fixed point of a layer with LeCun-normal weights.
AlphaDropout sets dropped units to SELU's saturation value and restores mean 0
and variance 1 with an affine map. :func:`selu_alpha_dropout` computes both in
the form that ``torch.compile`` fuses into one loop on the CPU.
"""

import math

import torch

#: SELU's ``lambda``, its slope for positive inputs, and ``alpha``.
SELU_LAMBDA, SELU_ALPHA = 1.0507009873554805, 1.6732632423543772
#: SELU's negative saturation value, ``-lambda * alpha``: where AlphaDropout
#: sets the units it drops.
SELU_SATURATION = -SELU_LAMBDA * SELU_ALPHA
#: Slopes below this are rounding error around SELU's saturation: zero.
_ZERO_SLOPE = 1e-6


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


def dropout_seeds(n_layers, generator):
    """Draw one seed per hidden layer for the hashed AlphaDropout masks of a step.

    Parameters
    ----------
    n_layers : int
        Number of hidden layers.
    generator : torch.Generator
        A CPU generator.

    Returns
    -------
    torch.Tensor of shape (n_layers,), dtype int32
    """
    return torch.randint(
        -(1 << 31), 1 << 31, (n_layers,), dtype=torch.int32, generator=generator
    )


def selu_alpha_dropout(X, p, seed=None):
    """Apply SELU, then AlphaDropout at rate ``p``, as one compiled CPU kernel.

    This is the hidden layers' ``SELU -> AlphaDropout`` in the form that
    ``torch.compile`` turns into one fast loop on the CPU. The mask comes from
    a counter-based hash of each element's index and a seed: torch's own mask
    (``bernoulli_``) runs on a single thread on CPUs other than Intel's and
    took a quarter of a compiled step of a 4x256 network on a 2-core AMD
    EPYC. The gradient is computed from the output (see
    ``_SELUAlphaDropout``): recomputing the SELU's exponential and the mask in
    the backward pass cost a tenth of that step.

    Parameters
    ----------
    X : torch.Tensor
        Pre-activations of a hidden layer, fewer than ``2**31`` elements.
    p : float
        Dropout rate; 0 applies the SELU alone.
    seed : torch.Tensor of shape (), dtype int32, default=None
        The mask's seed (see :func:`dropout_seeds`); drawn from torch's
        global generator when None.

    Returns
    -------
    torch.Tensor of the same shape
    """
    if p and seed is None:
        seed = torch.randint(-(1 << 31), 1 << 31, (), dtype=torch.int32)
    return _SELUAlphaDropout.apply(X, seed, p)


def hashed_alpha_dropout(activations, p, seed):
    """Apply AlphaDropout with the hashed mask of :func:`selu_alpha_dropout`.

    The same masks as the fused kernel, differentiated by autograd rather
    than from the output: the form for bf16 autocast, whose rounding would
    blur the output that the fused kernel's gradient is computed from.

    Parameters
    ----------
    activations : torch.Tensor
        SELU activations of a hidden layer, fewer than ``2**31`` elements.
    p : float
        Dropout rate, above 0.
    seed : torch.Tensor of shape (), dtype int32
        The mask's seed (see :func:`dropout_seeds`).

    Returns
    -------
    torch.Tensor of the same shape
    """
    scale, shift = _alpha_dropout_affine(p)
    keep = _hashed_keep_mask(activations.shape, seed, p)
    return scale * torch.where(keep, activations, SELU_SATURATION) + shift


def alpha_dropout(activations, p, generator):
    """Apply AlphaDropout as ``torch.nn.AlphaDropout`` does in training.

    The same arithmetic as torch's kernel, with the mask drawn from
    ``generator`` instead of torch's global generator, so that a fit's
    dropout depends on its own random state alone.

    Parameters
    ----------
    activations : torch.Tensor
        SELU activations of a hidden layer.
    p : float
        Dropout rate, above 0.
    generator : torch.Generator
        A generator on the activations' device.

    Returns
    -------
    torch.Tensor of the same shape
    """
    keep = torch.empty_like(activations).bernoulli_(1 - p, generator=generator)
    scale, shift = _alpha_dropout_affine(p)
    # Kept units become scale * x + shift, dropped ones scale * saturation +
    # shift: torch's kernel, which multiplies by the mask instead of choosing.
    offset = (keep - 1) * (-SELU_SATURATION * scale) + shift
    return activations * (keep * scale) + offset
