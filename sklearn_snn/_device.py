"""Devices: which one trains, where its data is kept, and forked random state."""

import contextlib

import torch

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
        If the string is not a torch device or the device is not available.
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
    try:
        torch.empty(0, device=parsed)
    except (RuntimeError, AssertionError) as exc:
        raise ValueError(
            f"device={device!r} is not available on this machine. Use "
            "device='auto' to train on a GPU when there is one and on the CPU "
            "otherwise."
        ) from exc
    return str(parsed)


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


@contextlib.contextmanager
def seeded_rng(seed, device):
    """Seed torch's generators inside the block and restore them after it.

    Network initialization, shuffling and dropout draw from torch's global
    generators; forking them keeps fits reproducible without changing the
    caller's random state.

    Parameters
    ----------
    seed : int
        Seed for the block.
    device : str
        The training device; its CUDA generator is forked too.
    """
    cuda_devices = []
    if torch.device(device).type == "cuda":
        cuda_devices = list(range(torch.cuda.device_count()))
    with torch.random.fork_rng(devices=cuda_devices):
        torch.manual_seed(seed)
        yield
