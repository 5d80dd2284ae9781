"""Batched prediction from a trained network on its device.

The estimators predict through this module, not through the skorch net: it
needs only the torch module and the device, so that a loaded model predicts
the same way as a fitted one.
"""

import copy

import numpy as np
import torch

#: Rows per batch at predict time on the CPU. Memory beyond the output stays
#: at about one batch of inputs and activations.
PREDICT_BATCH_SIZE = 8192

#: Rows per batch at predict time on a GPU, where each batch costs a
#: host-device round trip; a 8x1024 network needs about 0.5 GB for it.
CUDA_PREDICT_BATCH_SIZE = 65536


def predict_outputs(module, device, X, transform, activation=None, decode=None):
    """Network outputs for ``X``, computed and decoded batch by batch.

    A row's prediction does not depend on which other rows share its batch.
    Matrix products round differently for different batch sizes: the rows
    left over after the BLAS kernel's full blocks of columns take another
    kernel. So on the CPU the forward pass runs in float64, where those
    differences are about 1e-16, and its outputs are rounded to float32, the
    precision of the trained weights, which removes them. On a GPU it runs
    in float32. When the device runs out of memory, the failed batch is
    retried with half as many rows, down to a single row.

    Parameters
    ----------
    module : SELUNetwork
        A trained network; it is copied, and the copy runs in evaluation mode.
    device : str
        The device that ``module`` is on.
    X : ndarray of shape (n_samples, n_features)
        Validated, unscaled inputs.
    transform : callable
        ``transform(rows, device)`` maps a block of rows of ``X`` to
        standardized float32 inputs, as a tensor on ``device``.
    activation : callable, default=None
        Maps a batch of float64 outputs to a tensor on the same device (a
        softmax, say), before it is copied to the CPU: on a GPU this is much
        faster than the same work in numpy.
    decode : callable, default=None
        Maps a block of outputs, after ``activation``, as a numpy array to the
        final predictions of those rows (labels, unscaled targets). Decoding
        per batch keeps the memory beyond the result at about one batch.

    Returns
    -------
    ndarray of shape (n_samples, ...)
        Decoded predictions (float64 outputs when ``activation`` and
        ``decode`` are None), on the CPU.

    Raises
    ------
    torch.cuda.OutOfMemoryError
        If even a single row does not fit in the device's memory.
    """
    device = torch.device(device)
    dtype = torch.float64 if device.type == "cpu" else torch.float32
    module = copy.deepcopy(module).to(dtype).eval()
    outputs = None
    batch_size = PREDICT_BATCH_SIZE if device.type == "cpu" else CUDA_PREDICT_BATCH_SIZE
    start = 0
    with torch.inference_mode():
        while start < X.shape[0]:
            stop = start + batch_size
            try:
                batch = transform(X[start:stop], device)
                block = module(batch.to(dtype)).float().double()
                if activation is not None:
                    block = activation(block)
                block = block.cpu().numpy()
            except torch.cuda.OutOfMemoryError as exc:
                batch = None
                if batch_size == 1:
                    raise torch.cuda.OutOfMemoryError(
                        f"Out of memory on {device} while predicting a single row. "
                        "Free device memory, or load the model on the CPU with "
                        "sklearn_snn.load(path, device='cpu')."
                    ) from exc
                batch_size //= 2
                if device.type == "cuda":
                    torch.cuda.empty_cache()
                continue
            if decode is not None:
                block = decode(block)
            if outputs is None:
                outputs = np.empty((X.shape[0], *block.shape[1:]), dtype=block.dtype)
            outputs[start:stop] = block
            start = stop
    return outputs
