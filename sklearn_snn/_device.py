"""Devices: which one trains, where its data is kept, and a fit's random state."""

import contextlib

import torch

#: The device types that the estimators train and predict on.
TRAINING_DEVICE_TYPES = ("cpu", "cuda")

#: Training data is copied to a GPU once when it takes at most this fraction of
#: the GPU's free memory; larger data stays in pinned host memory and each
#: batch is copied over as it is drawn.
MAX_DEVICE_DATA_FRACTION = 0.5


def resolve_device(device):
    """Turn the ``device`` parameter into a torch device string.

    Parameters
    ----------
    device : str
        ``'auto'`` (CUDA when available, else CPU) or any torch device string.

    Returns
    -------
    str
        The device to train on, such as ``'cpu'`` or ``'cuda'``.

    Raises
    ------
    ValueError
        If the string is not a torch device, not one that trains (such as
        ``'meta'``), or the device is not available.
    """
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"device={device!r} is not a torch device. Use 'auto', 'cpu', 'cuda' "
            "or 'cuda:N'."
        ) from exc
    if parsed.type not in TRAINING_DEVICE_TYPES:
        raise ValueError(
            f"device={device!r} is a torch device that sklearn-snn cannot train "
            "or predict on. Use 'auto', 'cpu', 'cuda' or 'cuda:N'."
        )
    try:
        torch.empty(0, device=parsed)
    except (RuntimeError, AssertionError) as exc:
        raise ValueError(
            f"device={device!r} is not available on this machine. Use "
            "device='auto' to train on a GPU when there is one and on the CPU "
            "otherwise."
        ) from exc
    return str(parsed)


def resolve_precision(precision, device):
    """Turn the ``precision`` parameter into ``'float32'`` or ``'bf16'``.

    Parameters
    ----------
    precision : {'auto', 'float32', 'bf16'}
        ``'auto'`` is ``'bf16'`` on a CPU with bfloat16 matrix instructions
        (AVX512-BF16 or AMX), where the autocast training step is faster than
        float32, and ``'float32'`` elsewhere: a CPU without them emulates bf16
        arithmetic, and on CUDA the eager step of these networks is
        bound by kernel launches, which the casts only add to.
    device : str
        The training device, as :func:`resolve_device` returns it.

    Returns
    -------
    str
    """
    if precision != "auto":
        return precision
    if torch.device(device).type == "cpu" and cpu_has_bf16_matrix_units():
        return "bf16"
    return "float32"


def cpu_has_bf16_matrix_units():
    """Whether this CPU multiplies bfloat16 matrices natively (AVX512-BF16, AMX).

    Returns
    -------
    bool
    """
    return torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()


def storage_device(nbytes, device):
    """Where training data of ``nbytes`` bytes is kept for training on ``device``.

    Parameters
    ----------
    nbytes : int
        Size of the training data.
    device : str
        The training device.

    Returns
    -------
    str
        ``device`` itself when the data fits (always on the CPU), else ``'cpu'``
        (pinned host memory, streamed batch by batch).
    """
    parsed = torch.device(device)
    if parsed.type != "cuda":
        return device
    free, _ = torch.cuda.mem_get_info(parsed)
    return device if nbytes <= MAX_DEVICE_DATA_FRACTION * free else "cpu"


class FitGenerators:
    """The torch generators of one fit, one per device, all from one seed.

    Every random draw of a fit (initial weights, shuffling, dropout) comes
    from these instead of torch's global generators, so that fits running at
    once in several threads are each reproducible, and the caller's random
    state is never touched. The one exception is dropout inside a CUDA graph
    (``compile_step=True`` on a GPU), which draws from the device's own
    generator, forked for the fit (:meth:`forked_cuda_generator`).

    Parameters
    ----------
    seed : int
        The fit's seed.
    """

    def __init__(self, seed):
        self.seed = seed
        self._generators = {}

    def on(self, device):
        """Return the fit's generator on ``device``, created at the first call.

        Parameters
        ----------
        device : str or torch.device
            A CPU or CUDA device.

        Returns
        -------
        torch.Generator
        """
        device = torch.device(device)
        if device.type == "cuda" and device.index is None:
            device = torch.device("cuda", torch.cuda.current_device())
        if device not in self._generators:
            generator = torch.Generator(device=device)
            generator.manual_seed(self.seed)
            self._generators[device] = generator
        return self._generators[device]

    @contextlib.contextmanager
    def forked_cuda_generator(self, device):
        """Seed ``device``'s own CUDA generator inside the block; restore it after.

        Parameters
        ----------
        device : str or torch.device
            A CUDA device.
        """
        device = torch.device(device)
        state = torch.cuda.get_rng_state(device)
        with torch.cuda.device(device):
            torch.cuda.manual_seed(self.seed)
        try:
            yield
        finally:
            torch.cuda.set_rng_state(state, device)
