"""The seam to skorch: devices, tensor-resident batches, training and prediction.

This is the only module that imports skorch. The estimators hand it
standardized float32 arrays; it moves them to the training device once, trains
a :class:`skorch.NeuralNet` whose batches are drawn from those tensors by a
shuffled index (no per-sample ``Dataset`` access, no collate), and predicts in
large batches.
"""

import contextlib
import copy
import math
import types
import warnings
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from skorch import NeuralNet
from skorch.callbacks import Callback, ProgressBar
from torch.optim.adamw import adamw

#: Rows per batch at predict time on the CPU. Memory beyond the output stays
#: at about one batch of inputs and activations.
PREDICT_BATCH_SIZE = 8192

#: Rows per batch at predict time on a GPU, where each batch costs a
#: host-device round trip; a 8x1024 network needs about 0.5 GB for it.
CUDA_PREDICT_BATCH_SIZE = 65536

#: Training data is copied to a GPU once when it takes at most this fraction of
#: the GPU's free memory; larger data stays in pinned host memory and each
#: batch is copied over as it is drawn.
MAX_DEVICE_DATA_FRACTION = 0.5


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
    """

    X: torch.Tensor
    y: torch.Tensor
    sample_weight: torch.Tensor

    @classmethod
    def from_arrays(cls, X, y, sample_weight, device):
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
        nbytes = sum(t.element_size() * t.nelement() for t in tensors.values())
        where = storage_device(nbytes, device)
        if torch.device(where).type != torch.device(device).type:
            tensors = {name: t.pin_memory() for name, t in tensors.items()}
        else:
            tensors = {name: t.to(device) for name, t in tensors.items()}
        return cls(**tensors)

    def __len__(self):
        return len(self.X)


@dataclass
class TrainValidData:
    """The training data and the early-stopping validation data (or None)."""

    train: TensorData
    valid: TensorData | None


class TensorBatches:
    """Mini-batches drawn from :class:`TensorData` by index.

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
    """

    def __init__(self, data, batch_size, shuffle, device, drop_last=False):
        self.data = data
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.device = device
        self.drop_last = drop_last

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
            order = torch.randperm(len(data), device=data.X.device)
        for start in range(0, self._stop(), self.batch_size):
            if order is None:
                index = slice(start, start + self.batch_size)
            else:
                index = order[start : start + self.batch_size]
            inputs = {
                "X": data.X[index].to(self.device, non_blocking=True),
                "sample_weight": data.sample_weight[index].to(
                    self.device, non_blocking=True
                ),
            }
            yield inputs, data.y[index].to(self.device, non_blocking=True)


#: Stands in a pickled net for its ``module``, which is ``module_`` itself.
_SAME_AS_MODULE_ = "<module_>"


class SNNNet(NeuralNet):
    """A skorch net that trains on :class:`TensorData` with sample weights.

    Parameters
    ----------
    module : torch.nn.Module
        The network to train.
    classification : bool
        Whether the targets are class indices (cross-entropy on logits) or
        standardized values (squared error).
    precision : {'float32', 'bf16'}, default='float32'
        'bf16' runs the forward pass under bfloat16 autocast.
    use_compiled_step : bool, default=False
        Whether to compile each training step with ``torch.compile`` and
        update the weights with a fused AdamW. On the CPU the forward and
        backward passes are compiled as one function that returns the
        gradients (:class:`CompiledGradients`). On CUDA the forward pass and
        loss are compiled, and the whole step, update included, is replayed
        as one CUDA graph (:class:`CUDAGraphStep`).
    weight_constraint : {None, 'center'}, default=None
        'center' applies :meth:`SELUNetwork.center_weights_` after every
        optimizer step.
    feature_sparsity : float, default=0.0
        Strength of the group-lasso penalty on the first layer: after every
        optimizer step :meth:`SELUNetwork.shrink_input_weights_` removes
        ``lr * feature_sparsity`` from the norm of each input feature's
        weights. 0 disables it.
    sparse_members : {'all', 'alternate'}, default='all'
        Which ensemble members the penalty applies to: all of them, or every
        second one (members 1, 3, ...), so that the ensemble holds networks
        with and without it (see :func:`select_members`).
    **kwargs
        Passed to :class:`skorch.NeuralNet`.
    """

    def __init__(
        self,
        module,
        *,
        classification,
        precision="float32",
        use_compiled_step=False,
        weight_constraint=None,
        feature_sparsity=0.0,
        sparse_members="all",
        **kwargs,
    ):
        self.classification = classification
        self.precision = precision
        self.use_compiled_step = use_compiled_step
        self.weight_constraint = weight_constraint
        self.feature_sparsity = feature_sparsity
        self.sparse_members = sparse_members
        criterion = torch.nn.CrossEntropyLoss if classification else torch.nn.MSELoss
        super().__init__(
            module, criterion=criterion, criterion__reduction="none", **kwargs
        )

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        """Run one pass over ``iterator`` with one host-device sync at its end.

        skorch records each batch's loss with ``.item()``, which makes the host
        wait for the device after every step. Here the losses stay on the
        device during the pass and are written to the history together at its
        end, so the host queues the next steps while the device works.
        """
        if iterator is None:
            return
        losses, sizes = [], []
        for batch in iterator:
            self.notify("on_batch_begin", batch=batch, training=training)
            step = step_fn(batch, **fit_params)
            losses.append(step["loss"].detach())
            sizes.append(len(batch[1]))
            self.notify("on_batch_end", batch=batch, training=training, **step)
        if losses:
            rows = self.history[-1]["batches"][-len(losses) :]
            values = torch.stack(losses).float().tolist()
            for row, loss, size in zip(rows, values, sizes, strict=True):
                row[prefix + "_loss"] = loss
                row[prefix + "_batch_size"] = size
        self.history.record(prefix + "_batch_count", len(losses))

    def get_split_datasets(self, X, y=None, **fit_params):
        """Return the training and validation data that the estimator split."""
        return X.train, X.valid

    def get_iterator(self, dataset, training=False):
        """Return tensor batches, shuffled for training.

        A compiled step sees only full batches, so that it compiles once.
        """
        return TensorBatches(
            dataset,
            self.batch_size,
            shuffle=training,
            device=self.device,
            drop_last=training and self.use_compiled_step,
        )

    def _autocast(self):
        # Without the cast cache, which a CUDA graph capture must not use;
        # each weight is cast once per forward pass anyway.
        return torch.autocast(
            torch.device(self.device).type,
            dtype=torch.bfloat16,
            enabled=self.precision == "bf16",
            cache_enabled=False,
        )

    def infer(self, x, **fit_params):
        """Run the network on a batch: each member's outputs while training.

        In training mode every ensemble member is fitted to the targets on its
        own; in evaluation mode (validation) the ensemble's combined output is
        scored.
        """
        with self._autocast():
            if self.module_.training:
                return self.module_.member_outputs(x["X"])
            return self.module_(x["X"])

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """Return the sample-weighted mean loss of a batch."""
        return self._weighted_loss(y_pred, y_true, X["sample_weight"])

    def _weighted_loss(self, y_pred, y_true, sample_weight):
        if y_pred.ndim == 3:
            # One block of outputs per ensemble member: the mean of the
            # members' losses.
            n_members = y_pred.shape[0]
            y_pred = y_pred.flatten(0, 1)
            if n_members > 1:
                y_true = y_true.repeat(n_members, *[1] * (y_true.ndim - 1))
                sample_weight = sample_weight.repeat(n_members)
        per_sample = self.criterion_(y_pred.float(), y_true)
        if per_sample.ndim == 2:
            per_sample = per_sample.mean(dim=1)
        return (per_sample * sample_weight).mean()

    def _forward_loss(self, X, y, sample_weight):
        """Return a batch's loss and each member's outputs: what gets compiled."""
        with self._autocast():
            y_pred = self.module_.member_outputs(X)
        loss = self.get_loss(
            y_pred, y, X={"sample_weight": sample_weight}, training=True
        )
        return loss, y_pred

    def _step(self, X, y, sample_weight):
        self.optimizer_.zero_grad(set_to_none=True)
        forward_loss = (
            self.compiled_forward_loss_
            if self.use_compiled_step
            else self._forward_loss
        )
        loss, y_pred = forward_loss(X, y, sample_weight)
        loss.backward()
        self.optimizer_.step()
        return loss.detach(), y_pred.detach()

    def _cpu_compiled_step(self, X, y, sample_weight):
        loss, y_pred = self.compiled_gradients_(X, y, sample_weight)
        self.adamw_step_()
        return loss, y_pred

    def train_step(self, batch, **fit_params):
        """Run one training step, then the weight constraint and penalty.

        The step is the same computation as skorch's ``train_step`` (zero the
        gradients, forward, sample-weighted loss, backward, optimizer step),
        written as one function of tensors so that it can be compiled and
        captured, and without skorch's per-step callback notifications, which
        this net's callbacks do not use. With ``use_compiled_step`` the
        optimizer's update runs outside the compiled function, without graph
        breaks: ``zero_grad`` and ``step`` are functions torch.compile does not
        trace, and breaking the compiled function at them cost a tenth of a
        step on a 2-core CPU. On the CPU the compiled function returns the
        gradients (:class:`CompiledGradients`); on CUDA it is the forward pass
        and loss, and the whole step is also captured, with the update, as one
        CUDA graph (:class:`CUDAGraphStep`) for the fit.
        """
        if not (self.module_.training and self.criterion_.training):
            self._set_training(True)
        inputs, y = batch
        loss, y_pred = self._step_function()(inputs["X"], y, inputs["sample_weight"])
        if self.weight_constraint == "center":
            self.module_.center_weights_()
        if self.feature_sparsity > 0:
            members = (
                slice(1, None, 2) if self.sparse_members == "alternate" else slice(None)
            )
            self.module_.shrink_input_weights_(self.lr * self.feature_sparsity, members)
        if self.use_compiled_step:
            # The compiled function and the graph reuse their output buffers.
            loss, y_pred = loss.clone(), y_pred.clone()
        return {"loss": loss, "y_pred": y_pred}

    def _step_function(self):
        if not self.use_compiled_step:
            return self._step
        if torch.device(self.device).type != "cuda":
            compiled = getattr(self, "compiled_gradients_", None)
            if compiled is None or compiled.network is not self.module_:
                self.compiled_gradients_ = CompiledGradients(
                    self.module_, self._weighted_loss, self._autocast
                )
            adamw_step = getattr(self, "adamw_step_", None)
            if adamw_step is None or adamw_step.optimizer is not self.optimizer_:
                self.adamw_step_ = FusedAdamWStep(self.optimizer_)
            return self._cpu_compiled_step
        if getattr(self, "compiled_forward_loss_", None) is None:
            self.compiled_forward_loss_ = torch.compile(_own_code(self._forward_loss))
        if getattr(self, "graph_step_", None) is None:
            self.graph_step_ = CUDAGraphStep(self._step, self.optimizer_)
        return self.graph_step_

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        """Train, then free the CUDA graph of the fit (see :class:`CUDAGraphStep`).

        A graph holds the optimizer's state and a fixed batch size, so every fit
        captures its own.
        """
        self.graph_step_ = None
        try:
            return super().fit_loop(X, y, epochs=epochs, **fit_params)
        finally:
            self.graph_step_ = None

    def __getstate__(self):
        state = super().__getstate__()
        for compiled in (
            "compiled_forward_loss_",
            "compiled_gradients_",
            "adamw_step_",
            "graph_step_",
        ):
            state.pop(compiled, None)
        if "module_" in self.__dict__ and state.get("module") is self.module_:
            # ``module_`` is the very network passed as ``module``. skorch
            # pickles ``module_`` so that CUDA weights load on a CPU-only
            # machine; pickling ``module`` too would store the CUDA weights a
            # second time, in a form that only loads where CUDA is available.
            state["module"] = _SAME_AS_MODULE_
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if isinstance(self.module, str) and self.module == _SAME_AS_MODULE_:
            self.module = self.module_


class _MemberOutputs(torch.nn.Module):
    """A network's ``member_outputs`` as a module's forward pass.

    ``torch.func.functional_call`` runs a module's forward pass with the
    parameters it is given; the training loss needs every member's outputs.
    """

    def __init__(self, network):
        super().__init__()
        self.network = network

    def forward(self, X):
        """Return every member's outputs for a batch."""
        return self.network.member_outputs(X)


class CompiledGradients:
    """The forward and backward passes of a training step as one compiled call.

    This is the compiled step on the CPU. The forward pass and the loss are
    differentiated by ``torch.func.grad_and_value`` inside the compiled
    function, so the backward pass is compiled into the same graph, and a
    call returns the gradients instead of leaving a graph for autograd to
    run. On a 2-core CPU this removed about a tenth of a step of a 4x256
    network at batch 256 (autograd's engine and the wrappers around a
    separately compiled backward pass). Random numbers come from torch's
    generator rather than inductor's, which draws them one element at a
    time; the only ones are AlphaDropout's seeds (see
    ``_network.selu_alpha_dropout``).

    Parameters
    ----------
    network : SELUNetwork
        The network being trained.
    loss : callable
        ``loss(y_pred, y, sample_weight)``: a batch's loss from every
        member's outputs.
    autocast : callable
        Returns the context the forward pass runs in (bf16 autocast or none).
    """

    def __init__(self, network, loss, autocast):
        self.network = network
        self.members = _MemberOutputs(network)
        # Training updates the parameters in place, so the same tensors serve
        # every step; walking the modules for them cost 0.1 ms a step.
        self.parameters = dict(self.members.named_parameters())
        self.loss = loss
        self.autocast = autocast
        self.compiled = torch.compile(
            _own_code(self._gradients), options={"fallback_random": True}
        )

    def _gradients(self, parameters, X, y, sample_weight):
        def loss(parameters):
            with self.autocast():
                y_pred = torch.func.functional_call(self.members, parameters, (X,))
            return self.loss(y_pred, y, sample_weight), y_pred

        gradients, (value, y_pred) = torch.func.grad_and_value(loss, has_aux=True)(
            parameters
        )
        # The fused AdamW reads a gradient in its parameter's memory layout,
        # which is contiguous; a batched product's gradient may come out
        # transposed.
        gradients = {name: g.contiguous() for name, g in gradients.items()}
        return gradients, value, y_pred

    def __call__(self, X, y, sample_weight):
        """Set every parameter's ``grad`` for a batch; return its ``(loss, y_pred)``."""
        # Detached, the parameters are plain inputs: torch.compile then builds
        # no autograd graph around the function, which computes the
        # gradients itself.
        gradients, loss, y_pred = self.compiled(
            {name: p.detach() for name, p in self.parameters.items()},
            X,
            y,
            sample_weight,
        )
        for name, parameter in self.parameters.items():
            parameter.grad = gradients[name]
        return loss, y_pred


class FusedAdamWStep:
    """The fused AdamW update, called through torch's functional ``adamw``.

    It runs the same fused kernel as the optimizer's ``step()``, on the
    optimizer's own parameters and state, which therefore keep serving
    warm starts and pickling. ``step()`` spends about 0.3 ms of Python per
    call on checks whose answers do not change during a fit (hooks,
    profiling marks, gathering the state, grouping the tensors by device):
    on a 2-core CPU that was 6 to 7% of a compiled step of a 4x256 network.
    The first call goes through ``step()``, which creates the state.

    Parameters
    ----------
    optimizer : torch.optim.AdamW
        The fused AdamW that this module creates: one parameter group.
    """

    def __init__(self, optimizer):
        self.optimizer = optimizer
        self._tensors = None

    def __call__(self):
        """Update the parameters from their ``grad``, as ``optimizer.step()``."""
        if self._tensors is None:
            self.optimizer.step()
            (group,) = self.optimizer.param_groups
            states = [self.optimizer.state[p] for p in group["params"]]
            self._tensors = (
                group["params"],
                [state["exp_avg"] for state in states],
                [state["exp_avg_sq"] for state in states],
                [state["step"] for state in states],
            )
            return
        (group,) = self.optimizer.param_groups
        params, exp_avgs, exp_avg_sqs, steps = self._tensors
        beta1, beta2 = group["betas"]
        adamw(
            params,
            [p.grad for p in params],
            exp_avgs,
            exp_avg_sqs,
            [],
            steps,
            fused=True,
            amsgrad=group["amsgrad"],
            beta1=beta1,
            beta2=beta2,
            lr=group["lr"],
            weight_decay=group["weight_decay"],
            eps=group["eps"],
            maximize=group["maximize"],
        )


class CUDAGraphStep:
    """A training step replayed as one CUDA graph.

    At small batches a step is launch-bound: the forward pass, the backward
    pass and the optimizer update are a hundred or so small kernels, each
    costing more to launch than to run. Captured once as a CUDA graph, the
    whole step is replayed with a single launch.

    The first ``n_warmup`` calls run ``step`` as it is, on a side stream, so
    that lazy initialization (the optimizer's state, cuBLAS workspaces,
    compilation) happens before the capture. Every call, warm-up or replay,
    is a real training step on its batch. The graph keeps its own copies of
    the batch tensors; each replay copies the new batch into them, so every
    batch must have the same shape (:class:`TensorBatches` with
    ``drop_last=True``). AlphaDropout's random numbers come from torch's
    CUDA generator, which advances at every replay.

    Parameters
    ----------
    step : callable
        ``step(X, y, sample_weight) -> (loss, y_pred)``: zeroes the gradients,
        runs the forward and backward passes and updates the weights.
    optimizer : torch.optim.Optimizer
        The optimizer that ``step`` updates the weights with. It must keep its
        state on the device (a fused or capturable optimizer); it is marked
        capturable for the capture.
    n_warmup : int, default=3
        Steps to run before capturing.
    """

    def __init__(self, step, optimizer, n_warmup=3):
        self.step = step
        self.optimizer = optimizer
        self.n_warmup = n_warmup
        self.n_calls = 0
        self.graph = None
        self.static_inputs = None
        self.static_outputs = None
        self.side_stream = None

    def __call__(self, X, y, sample_weight):
        """Run one step on a batch and return its ``(loss, y_pred)``.

        The returned tensors are the graph's own outputs after a capture:
        clone them to keep them past the next step.
        """
        self.n_calls += 1
        if self.n_calls <= self.n_warmup:
            return self._warm_up(X, y, sample_weight)
        if self.graph is None:
            self._capture(X, y, sample_weight)
        else:
            for static, value in zip(
                self.static_inputs, (X, y, sample_weight), strict=True
            ):
                static.copy_(value)
        self.graph.replay()
        return self.static_outputs

    def _warm_up(self, X, y, sample_weight):
        if self.side_stream is None:
            self.side_stream = torch.cuda.Stream(device=X.device)
        current = torch.cuda.current_stream(X.device)
        self.side_stream.wait_stream(current)
        with torch.cuda.stream(self.side_stream):
            outputs = self.step(X, y, sample_weight)
        current.wait_stream(self.side_stream)
        return outputs

    def _capture(self, X, y, sample_weight):
        for group in self.optimizer.param_groups:
            group["capturable"] = True
        self.static_inputs = tuple(t.clone() for t in (X, y, sample_weight))
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            self.static_outputs = self.step(*self.static_inputs)


def _own_code(method):
    """Return ``method`` rebound to a private copy of its code object.

    torch.compile keeps its compiled graphs, and counts recompilations against
    ``torch._dynamo.config.recompile_limit``, per code object. Every net
    guards on its own module, so nets sharing ``_forward_loss``'s code would
    recompile it each time and fall back to eager once the limit is reached
    (after 8 fits in one process). A private code object gives each net its
    own cache, freed with the net.
    """
    function = method.__func__
    copy_ = types.FunctionType(
        function.__code__.replace(),
        function.__globals__,
        function.__name__,
        function.__defaults__,
        function.__closure__,
    )
    return types.MethodType(copy_, method.__self__)


def validation_score(y_pred, data, classification):
    """Weighted accuracy (classification) or mean R² (regression).

    Parameters
    ----------
    y_pred : torch.Tensor
        Network outputs for all of ``data``, in order.
    data : TensorData
        The validation samples.
    classification : bool
        Which score to compute.

    Returns
    -------
    float
    """
    weight = data.sample_weight
    if classification:
        correct = (y_pred.argmax(dim=1) == data.y).to(weight.dtype)
        return float((weight * correct).sum() / weight.sum())
    weight = weight[:, None]
    mean = (weight * data.y).sum(dim=0) / weight.sum()
    residual = (weight * (data.y - y_pred) ** 2).sum(dim=0)
    total = (weight * (data.y - mean) ** 2).sum(dim=0)
    perfect = (residual == 0).to(total.dtype)
    r2 = torch.where(total > 0, 1 - residual / total.clamp_min(1e-30), perfect)
    return float(r2.mean())


def _snapshot(module):
    return {name: value.detach().clone() for name, value in module.state_dict().items()}


class TrainingMonitor(Callback):
    """Stops training and keeps the weights to restore.

    With a validation set, the monitored quantity is the validation loss and
    the weights of its best epoch are restored at the end (early stopping).
    Without one, the training loss is monitored and the last epoch's weights
    are kept. Either way, training stops when the monitored loss has not
    improved by ``tol`` for ``n_iter_no_change`` epochs and for at least
    ``min_steps_no_change`` optimizer steps, and a non-finite loss
    stops it and restores the last good weights. A decision taken at the end
    of an epoch takes effect at the start of the next one, so that the epoch
    is logged first.

    Parameters
    ----------
    n_iter_no_change : int
        Epochs without improvement before stopping.
    tol : float
        Minimum decrease of the monitored loss that counts as improvement.
    min_steps_no_change : int, default=0
        Optimizer steps without improvement before stopping, whatever the
        number of epochs; it matters on small datasets, where an epoch is a
        few steps.
    select_members : bool, default=False
        Whether every epoch also chooses the ensemble members to keep
        (:func:`select_members`). The monitored loss is then that of the
        chosen members, and the choice of the best epoch is restored with its
        weights: the members are chosen and the epoch is chosen on the same
        loss.
    """

    def __init__(
        self, n_iter_no_change, tol, min_steps_no_change=0, select_members=False
    ):
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.min_steps_no_change = min_steps_no_change
        self.select_members = select_members

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        """Reset the state of a fit."""
        self.stop_reason_ = None
        self.n_epochs_ = 0
        self.best_loss_ = math.inf
        self.best_validation_score_ = None
        self.n_stalled_ = 0
        self.steps_stalled_ = 0
        self.restore_state_ = _snapshot(net.module_)
        self.restore_members_ = net.module_.kept_members
        self._valid_outputs = []

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        """Stop before the next epoch once the last one decided to stop."""
        if self.stop_reason_ is not None:
            net.history.pop()
            raise KeyboardInterrupt

    def on_batch_end(
        self, net, batch=None, training=False, loss=None, y_pred=None, **kw
    ):
        """Collect the validation outputs of the epoch."""
        if not training:
            self._valid_outputs.append(y_pred)

    def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        """Score the epoch, keep the weights to restore, and decide whether to stop."""
        record = net.history[-1]
        if dataset_valid is None:
            monitored = record["train_loss"]
        else:
            outputs = torch.cat(self._valid_outputs)
            self._valid_outputs = []
            monitored = record["valid_loss"]
            if self.select_members and math.isfinite(monitored):
                monitored, outputs = select_members(net, dataset_valid)
                net.history.record("valid_loss", monitored)
            score = validation_score(outputs, dataset_valid, net.classification)
            net.history.record("valid_score", score)
        if not (math.isfinite(record["train_loss"]) and math.isfinite(monitored)):
            # The losses are read once per epoch (see SNNNet.run_single_epoch),
            # so divergence is caught at the end of the epoch it happened in;
            # that epoch is dropped and the kept weights come from before it.
            self.stop_reason_ = "diverged"
            net.history.pop()
            raise KeyboardInterrupt
        self.n_epochs_ += 1

        improved = monitored < self.best_loss_ - self.tol
        if improved:
            self.best_loss_ = monitored
            self.n_stalled_ = 0
            self.steps_stalled_ = 0
        else:
            self.n_stalled_ += 1
            self.steps_stalled_ += record["train_batch_count"]
        if dataset_valid is not None:
            net.history.record("valid_loss_best", improved)
        if dataset_valid is None or improved:
            self.restore_state_ = _snapshot(net.module_)
            self.restore_members_ = net.module_.kept_members
            self.best_validation_score_ = record.get("valid_score")
        if (
            self.n_stalled_ >= self.n_iter_no_change
            and self.steps_stalled_ >= self.min_steps_no_change
        ):
            self.stop_reason_ = "converged"

    def on_train_end(self, net, X=None, y=None, **kwargs):
        """Restore the kept weights and drop the per-fit buffers."""
        if self.stop_reason_ is None:
            finished = self.n_epochs_ >= net.max_epochs
            self.stop_reason_ = "max_iter" if finished else "interrupted"
        net.module_.load_state_dict(self.restore_state_)
        net.module_.kept_members = self.restore_members_
        self.restore_state_ = None
        self._valid_outputs = []


@dataclass
class TrainingConfig:
    """Hyperparameters of one training run, as the estimators validated them."""

    batch_size: int
    learning_rate: float
    weight_decay: float
    max_epochs: int
    n_iter_no_change: int
    min_steps_no_change: int
    tol: float
    verbose: int
    precision: str = "float32"
    compile_step: bool = False
    weight_constraint: str | None = None
    feature_sparsity: float = 0.0
    sparse_members: str = "all"
    select_members: bool = False


def _uses_fused_optimizer(compile_step, device):
    """Whether AdamW runs fused: one kernel per step instead of one per tensor.

    Always on CUDA, where launches are what small steps cost, and with a
    compiled step. Otherwise the CPU keeps torch's default implementation.
    """
    return compile_step or torch.device(device).type == "cuda"


def _net_params(config, device):
    return {
        "lr": config.learning_rate,
        "optimizer__weight_decay": config.weight_decay,
        "optimizer__fused": _uses_fused_optimizer(config.compile_step, device),
        "max_epochs": config.max_epochs,
        "batch_size": config.batch_size,
        "verbose": int(config.verbose > 0),
        "precision": config.precision,
        "use_compiled_step": config.compile_step,
        "weight_constraint": config.weight_constraint,
        "feature_sparsity": config.feature_sparsity,
        "sparse_members": config.sparse_members,
        "callbacks__monitor__n_iter_no_change": config.n_iter_no_change,
        "callbacks__monitor__tol": config.tol,
        "callbacks__monitor__min_steps_no_change": config.min_steps_no_change,
    }


def fit_network(module, data, *, classification, config, device, net=None):
    """Train ``module`` on ``data`` through a skorch net.

    Parameters
    ----------
    module : torch.nn.Module
        A freshly initialized network; ignored when ``net`` is given.
    data : TrainValidData
        Training data, and validation data for early stopping (or None).
    classification : bool
        Whether the targets are class indices.
    config : TrainingConfig
        Training hyperparameters.
    device : str
        Where to train.
    net : SNNNet, default=None
        A fitted net to continue training (warm start).

    Returns
    -------
    SNNNet
        The trained net, holding the weights to keep: those of the best
        validation epoch with early stopping, otherwise those of the last
        epoch, and the last finite ones if training diverged.
    """
    params = _net_params(config, device)
    if net is None:
        monitor = TrainingMonitor(
            config.n_iter_no_change,
            config.tol,
            config.min_steps_no_change,
            select_members=config.select_members,
        )
        callbacks = [("monitor", monitor)]
        if config.verbose >= 2:
            callbacks.append(("progress_bar", ProgressBar()))
        net = SNNNet(
            module,
            classification=classification,
            optimizer=torch.optim.AdamW,
            train_split=None,
            callbacks=callbacks,
            device=device,
            **params,
        )
    else:
        params["callbacks__monitor__select_members"] = config.select_members
        net.set_params(**params)
        net.module_.kept_members = None
    net.partial_fit(data)
    _warn_about_stop(net)
    return net


#: Validation rows per forward pass of :func:`select_members`.
_SELECTION_BATCH = 16_384


@torch.no_grad()
def select_members(net, data):
    """Keep the members whose ensemble predicts the validation data best.

    The candidates are all members, the even-numbered ones (0, 2, ...) and the
    odd-numbered ones (1, 3, ...): with ``sparse_members='alternate'``, the
    members trained without and with the feature-sparsity penalty. The one
    with the lowest validation loss (the training criterion applied to the
    ensemble's outputs: log loss of the mean probabilities, or squared error
    of the mean outputs) becomes ``net.module_.kept_members``; on a tie, all
    members stay.

    Parameters
    ----------
    net : SNNNet
        A net with at least two members.
    data : TensorData
        The validation samples.

    Returns
    -------
    loss : float
        The validation loss of the kept members.
    outputs : torch.Tensor of shape (n_samples, n_outputs)
        Their ensemble's outputs for ``data``.
    """
    module = net.module_
    n_members = module.n_estimators
    was_training = module.training
    module.eval()
    with net._autocast():
        outputs = torch.cat(
            [
                module.member_outputs(X.to(net.device)).float()
                for X in data.X.split(_SELECTION_BATCH)
            ],
            dim=1,
        )
    module.train(was_training)
    y = data.y.to(outputs.device)
    weight = {"sample_weight": data.sample_weight.to(outputs.device)}
    candidates = [
        None,
        tuple(range(0, n_members, 2)),
        tuple(range(1, n_members, 2)),
    ]
    losses = []
    for candidate in candidates:
        module.kept_members = candidate
        losses.append(float(net.get_loss(module.combine(outputs), y, X=weight)))
    best = min(range(len(candidates)), key=lambda i: (losses[i], i))
    module.kept_members = candidates[best]
    return losses[best], module.combine(outputs)


def _warn_about_stop(net):
    monitor = dict(net.callbacks_)["monitor"]
    reason = monitor.stop_reason_
    if reason == "diverged":
        warnings.warn(
            "Training diverged: the loss became NaN or infinite. Training stopped "
            f"after {monitor.n_epochs_} completed epochs and the last finite "
            "weights were restored. Lower learning_rate_init to train stably.",
            ConvergenceWarning,
            stacklevel=5,
        )
    elif reason == "interrupted":
        warnings.warn(
            f"Training was interrupted after {monitor.n_epochs_} epochs; the model "
            "keeps the best weights found so far.",
            UserWarning,
            stacklevel=5,
        )
    elif reason == "max_iter":
        warnings.warn(
            f"Maximum iterations ({net.max_epochs}) reached and the optimization "
            "hasn't converged yet. Increase max_iter to train longer.",
            ConvergenceWarning,
            stacklevel=5,
        )


def training_history(net):
    """Per-epoch curves of a fitted net, over all its fits.

    Parameters
    ----------
    net : SNNNet
        A fitted net.

    Returns
    -------
    loss_curve : list of float
        Training loss of each completed epoch.
    validation_scores : list of float or None
        Validation score of each completed epoch, or None without validation.
    best_validation_score : float or None
        Validation score of the epoch whose weights were kept.
    """
    epochs = [row for row in net.history if "train_loss" in row]
    loss_curve = [float(row["train_loss"]) for row in epochs]
    scores = [float(row["valid_score"]) for row in epochs if "valid_score" in row]
    monitor = dict(net.callbacks_)["monitor"]
    return loss_curve, (scores or None), monitor.best_validation_score_


def predict_outputs(net, X, transform, activation=None, decode=None):
    """Network outputs for ``X``, computed and decoded batch by batch.

    On the CPU the forward pass runs in float64, so that a row's prediction
    does not depend on which other rows share its batch (float32 matrix
    products round differently for different batch sizes). On a GPU it runs
    in float32. When the device runs out of memory, the failed batch is
    retried with half as many rows, down to a single row.

    Parameters
    ----------
    net : SNNNet
        A fitted net.
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
    device = torch.device(net.device)
    dtype = torch.float64 if device.type == "cpu" else torch.float32
    module = copy.deepcopy(net.module_).to(dtype).eval()
    outputs = None
    batch_size = PREDICT_BATCH_SIZE if device.type == "cpu" else CUDA_PREDICT_BATCH_SIZE
    start = 0
    with torch.inference_mode():
        while start < X.shape[0]:
            stop = start + batch_size
            try:
                batch = transform(X[start:stop], device)
                block = module(batch.to(dtype)).double()
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


def net_for_prediction(module, *, classification, device):
    """Wrap a network with loaded weights in an initialized net.

    The net is built like the one :func:`fit_network` trains, so that a
    loaded estimator predicts like a fitted one and can be warm-started (with
    a fresh optimizer state).

    Parameters
    ----------
    module : SELUNetwork
        The network, holding its weights.
    classification : bool
        Whether the outputs are class logits.
    device : str
        Where the net lives.

    Returns
    -------
    SNNNet
        An initialized net whose ``module_`` is ``module`` on ``device``.
    """
    net = SNNNet(
        module,
        classification=classification,
        optimizer=torch.optim.AdamW,
        optimizer__fused=_uses_fused_optimizer(False, device),
        train_split=None,
        callbacks=[("monitor", TrainingMonitor(n_iter_no_change=1, tol=0.0))],
        device=device,
    )
    return net.initialize()
