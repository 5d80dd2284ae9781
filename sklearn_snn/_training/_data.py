"""Training data held as tensors on the device, and mini-batches drawn by index.

The estimators hand over standardized float32 arrays; they are copied to the
training device once, and every batch is a slice of those tensors taken by a
shuffled index: no per-sample ``Dataset`` access and no collate.
"""

import math
from dataclasses import dataclass

import torch

from .._device import storage_device


@dataclass
class TensorData:
    """Samples held as tensors on the training device.

    Parameters
    ----------
    X : torch.Tensor of shape (n_samples, n_features)
        Standardized float32 inputs.
    y : torch.Tensor
        Class indices (int64, 1-D) or standardized targets (float32, 2-D).
    sample_weight : torch.Tensor of shape (n_samples,)
        Per-sample loss weights.
    members : torch.Tensor of shape (n_samples, n_estimators), dtype bool, \
            default=None
        Which ensemble members each sample counts for: in training data, the
        members that train on it; in validation data, the members whose
        combined prediction it scores. None: all of them.
    """

    X: torch.Tensor
    y: torch.Tensor
    sample_weight: torch.Tensor
    members: torch.Tensor | None = None

    @classmethod
    def from_arrays(cls, X, y, sample_weight, device, members=None):
        """Copy numpy arrays to ``device`` once.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features), dtype float32
            Standardized inputs.
        y : ndarray
            Class indices or standardized targets.
        sample_weight : ndarray of shape (n_samples,)
            Per-sample loss weights.
        device : str
            The training device. The tensors are copied there once, unless
            :func:`storage_device` keeps them in pinned host memory.
        members : ndarray of shape (n_samples, n_estimators), dtype bool, \
                default=None
            Which members each sample counts for; None: all of them.

        Returns
        -------
        TensorData
        """
        y_dtype = torch.int64 if y.dtype.kind in "iu" else torch.float32
        tensors = {
            "X": torch.as_tensor(X, dtype=torch.float32),
            "y": torch.as_tensor(y, dtype=y_dtype),
            "sample_weight": torch.as_tensor(sample_weight, dtype=torch.float32),
        }
        if members is not None:
            tensors["members"] = torch.as_tensor(members, dtype=torch.bool)
        nbytes = sum(t.element_size() * t.nelement() for t in tensors.values())
        where = storage_device(nbytes, device)
        if torch.device(where).type != torch.device(device).type:
            tensors = {name: t.pin_memory() for name, t in tensors.items()}
        else:
            tensors = {name: t.to(device) for name, t in tensors.items()}
        return cls(**tensors)

    def __len__(self):
        return len(self.X)

    def take(self, index, device):
        """Return the rows at ``index`` as :class:`TensorData` on ``device``.

        Parameters
        ----------
        index : slice or torch.Tensor
            The rows.
        device : str
            Where the rows go; the copy is asynchronous, and a no-op when
            they are there already.

        Returns
        -------
        TensorData
        """
        return TensorData(
            *(
                None if tensor is None else tensor[index].to(device, non_blocking=True)
                for tensor in (self.X, self.y, self.sample_weight, self.members)
            )
        )


@dataclass
class TrainValidData:
    """The training data and the early-stopping validation data (or None)."""

    train: TensorData
    valid: TensorData | None


class TensorBatches:
    """Mini-batches drawn from :class:`TensorData` by index.

    Each batch is a pair ``(rows, rows.y)``, the form skorch's loops unpack
    into inputs and targets: ``rows`` is a :class:`TensorData`, so that the
    net reads the inputs and the sample weights from it.

    Parameters
    ----------
    data : TensorData
        The samples.
    batch_size : int
        Rows per batch; the last batch may be smaller.
    shuffle : bool
        Whether each pass draws a new random order.
    device : str
        Where the batches go; a no-op when the data is already there.
    drop_last : bool, default=False
        Skip a last, smaller batch (unless it is the only one), so that every
        batch has the same shape.
    generator : torch.Generator, default=None
        Where the shuffled order is drawn from, on the data's device; torch's
        global generator when None.
    """

    def __init__(
        self, data, batch_size, shuffle, device, drop_last=False, generator=None
    ):
        self.data = data
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.device = device
        self.drop_last = drop_last
        self.generator = generator

    def _stop(self):
        n_samples = len(self.data)
        if self.drop_last and n_samples > self.batch_size:
            return n_samples - n_samples % self.batch_size
        return n_samples

    def __len__(self):
        return math.ceil(self._stop() / self.batch_size)

    def __iter__(self):
        data = self.data
        order = None
        if self.shuffle:
            order = torch.randperm(
                len(data), device=data.X.device, generator=self.generator
            )
        for start in range(0, self._stop(), self.batch_size):
            if order is None:
                index = slice(start, start + self.batch_size)
            else:
                index = order[start : start + self.batch_size]
            batch = data.take(index, self.device)
            yield batch, batch.y
