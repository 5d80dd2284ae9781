"""The skorch net that trains a SELU network on tensor-resident batches."""

import contextlib

import torch
from skorch import NeuralNet

from .._selu import dropout_seeds
from ._averaging import WeightAverage
from ._data import TensorBatches
from ._steps import CompiledGradients, CUDAGraphStep, FusedAdamWStep, own_code

#: Stands in a pickled net for its ``module``, which is ``module_`` itself.
_SAME_AS_MODULE_ = "<module_>"


def member_weights(data):
    """Return each member's loss weights for the samples of ``data``.

    Parameters
    ----------
    data : TensorData
        Training samples.

    Returns
    -------
    torch.Tensor of shape (n_samples,) or (n_estimators, n_samples)
        The sample weights, when every member trains on every sample;
        otherwise each member's, zero for the samples it does not train on.
    """
    if data.members is None:
        return data.sample_weight
    return data.sample_weight * data.members.T


class SNNNet(NeuralNet):
    """A skorch net that trains on :class:`TensorData` with sample weights.

    The estimator passes what differs between classification and regression:
    the criterion, and through the network, how the members combine.

    Parameters
    ----------
    module : SELUNetwork
        The network to train.
    criterion : type
        The loss, a ``torch.nn`` loss class; it is built with
        ``reduction='none'`` so that the net can weigh each sample.
    precision : {'float32', 'bf16'}, default='float32'
        'bf16' runs the training step's forward pass under bfloat16 autocast;
        validation stays in float32 (see :meth:`infer`).
    use_compiled_step : bool, default=False
        Whether to compile each training step with ``torch.compile`` and
        update the weights with a fused AdamW: the estimator's
        ``compile_step``, named apart because skorch reserves the prefix
        ``compile_`` for its own ``compile`` option. On the CPU the forward and
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
        ``lr * feature_sparsity`` times the square root of their number of
        columns from the norm of each input feature's weights. 0 disables it.
    sparse_members : {'all', 'alternate'}, default='all'
        Which ensemble members the penalty applies to: all of them, or every
        second one (members 1, 3, ...), so that the ensemble holds networks
        with and without it (see :class:`MemberSelection`).
    weight_averaging : float, default=0.0
        Decay of the moving average of the weights (:class:`WeightAverage`)
        that the network holds between epochs; 0 keeps no average.
    **kwargs
        Passed to :class:`skorch.NeuralNet`.
    """

    def __init__(
        self,
        module,
        *,
        criterion,
        precision="float32",
        use_compiled_step=False,
        weight_constraint=None,
        feature_sparsity=0.0,
        sparse_members="all",
        weight_averaging=0.0,
        **kwargs,
    ):
        self.precision = precision
        self.use_compiled_step = use_compiled_step
        self.weight_constraint = weight_constraint
        self.feature_sparsity = feature_sparsity
        self.sparse_members = sparse_members
        self.weight_averaging = weight_averaging
        super().__init__(
            module, criterion=criterion, criterion__reduction="none", **kwargs
        )

    def get_default_callbacks(self):
        """Return skorch's default callbacks, without the log when silent.

        skorch's ``PrintLog`` formats every epoch's table row even with
        ``verbose=0``, which costs a small fit about a twentieth of its time.
        """
        callbacks = super().get_default_callbacks()
        if self.verbose:
            return callbacks
        return [(name, callback) for name, callback in callbacks if name != "print_log"]

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        """Run one pass over ``iterator`` with one host-device sync at its end.

        skorch records each batch's loss with ``.item()``, which makes the host
        wait for the device after every step. Here the losses stay on the
        device during the pass and are written to the history together at its
        end, so the host queues the next steps while the device works.

        The validation pass keeps every member's outputs as ``valid_outputs_``,
        of shape ``(n_estimators, n_samples, n_outputs)``, for the callbacks
        that choose the members and score the epoch.
        """
        if iterator is None:
            return
        average = getattr(self, "weight_average_", None)
        if training and average is not None:
            average.swap_out()
        losses, sizes, outputs = [], [], []
        for batch in iterator:
            self.notify("on_batch_begin", batch=batch, training=training)
            step = step_fn(batch, **fit_params)
            losses.append(step["loss"].detach())
            sizes.append(len(batch[1]))
            if not training:
                outputs.append(step["y_pred"])
            self.notify("on_batch_end", batch=batch, training=training, **step)
        if outputs:
            self.valid_outputs_ = torch.cat(outputs, dim=1)
        if losses:
            rows = self.history[-1]["batches"][-len(losses) :]
            values = torch.stack(losses).float().tolist()
            for row, loss, size in zip(rows, values, sizes, strict=True):
                row[prefix + "_loss"] = loss
                row[prefix + "_batch_size"] = size
        self.history.record(prefix + "_batch_count", len(losses))
        if training and average is not None:
            average.swap_in()

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
            generator=self.generators_.on(dataset.X.device) if training else None,
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
        """Return every member's outputs for a batch of :class:`TensorData`.

        The outputs have shape ``(n_estimators, n_samples, n_outputs)``: the
        loss decides how to use them (see :meth:`get_loss`). skorch calls this
        for validation only, as :meth:`train_step` runs its own forward pass;
        it stays in float32 whatever ``precision``, so that the validation
        scores that early stopping compares are those of the predictions.
        """
        return self.module_.member_outputs(x.X)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """Return the loss of a batch: skorch's hook.

        In training, every ensemble member is fitted to the targets on its own
        (:meth:`training_loss`); in evaluation (validation), the ensemble's
        combined output is scored (:meth:`ensemble_loss`).
        """
        if training:
            return self.training_loss(y_pred, y_true, member_weights(X))
        return self.ensemble_loss(y_pred, y_true, X.sample_weight, X.members)

    def training_loss(self, y_pred, y, sample_weight):
        """Return the mean over the members of their sample-weighted losses.

        Parameters
        ----------
        y_pred : torch.Tensor of shape (n_estimators, n_samples, n_outputs)
            Every member's outputs.
        y : torch.Tensor
            The batch's targets.
        sample_weight : torch.Tensor of shape (n_samples,) or \
                (n_estimators, n_samples)
            The batch's sample weights, the same for every member or each
            member's own (see :func:`member_weights`).

        Returns
        -------
        torch.Tensor
            A scalar.
        """
        n_members = y_pred.shape[0]
        y_pred = y_pred.flatten(0, 1)
        if n_members > 1:
            y = y.repeat(n_members, *[1] * (y.ndim - 1))
            if sample_weight.ndim == 1:
                sample_weight = sample_weight.repeat(n_members)
        return self._weighted_criterion(y_pred, y, sample_weight.flatten())

    def ensemble_loss(self, y_pred, y, sample_weight, members=None):
        """Return the sample-weighted loss of the kept members' combined outputs.

        Parameters
        ----------
        y_pred : torch.Tensor of shape (n_estimators, n_samples, n_outputs)
            Every member's outputs; :meth:`SELUNetwork.combine` combines them.
        y : torch.Tensor
            The targets.
        sample_weight : torch.Tensor of shape (n_samples,)
            The sample weights.
        members : torch.Tensor of shape (n_samples, n_estimators), dtype bool, \
                default=None
            Which members each sample's combined output comes from; None: all.

        Returns
        -------
        torch.Tensor
            A scalar.
        """
        combined = self.module_.combine(y_pred, members)
        return self._weighted_criterion(combined, y, sample_weight)

    def _weighted_criterion(self, y_pred, y, sample_weight):
        per_sample = self.criterion_(y_pred.float(), y)
        if per_sample.ndim == 2:
            per_sample = per_sample.mean(dim=1)
        return (per_sample * sample_weight).mean()

    def _forward_loss(self, X, y, sample_weight):
        """Return a batch's loss and each member's outputs: what gets compiled.

        Eagerly, dropout draws from the fit's generator; compiled for CUDA,
        from the device's generator, which :meth:`fit_loop` forks for the fit,
        since a CUDA graph replays the device generator's draws.
        """
        generator = None if self.use_compiled_step else self.generators_.on(X.device)
        with self._autocast():
            y_pred = self.module_.member_outputs(X, generator=generator)
        return self.training_loss(y_pred, y, sample_weight), y_pred

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
        seeds = None
        if self.module_.spec.dropout:
            n_layers = len(self.module_.spec.hidden_layer_sizes)
            seeds = dropout_seeds(n_layers, self.generators_.on("cpu"))
        loss, y_pred = self.compiled_gradients_(X, y, sample_weight, seeds)
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
        rows, y = batch
        loss, y_pred = self._step_function()(rows.X, y, member_weights(rows))
        if self.weight_constraint == "center":
            self.module_.center_weights_()
        if self.feature_sparsity > 0:
            members = (
                slice(1, None, 2) if self.sparse_members == "alternate" else slice(None)
            )
            # The optimizer's rate, which early stopping may have dropped.
            lr = self.optimizer_.param_groups[0]["lr"]
            self.module_.shrink_input_weights_(lr * self.feature_sparsity, members)
        average = getattr(self, "weight_average_", None)
        if average is not None:
            average.update()
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
                    self.module_, self.training_loss, self._autocast
                )
            adamw_step = getattr(self, "adamw_step_", None)
            if adamw_step is None or adamw_step.optimizer is not self.optimizer_:
                self.adamw_step_ = FusedAdamWStep(self.optimizer_)
            return self._cpu_compiled_step
        if getattr(self, "compiled_forward_loss_", None) is None:
            self.compiled_forward_loss_ = torch.compile(own_code(self._forward_loss))
        if getattr(self, "graph_step_", None) is None:
            self.graph_step_ = CUDAGraphStep(self._step, self.optimizer_)
        return self.graph_step_

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        """Train, then free the CUDA graph of the fit (see :class:`CUDAGraphStep`).

        The last validation outputs are freed too.

        With ``weight_averaging``, the fit keeps a :class:`WeightAverage`, and
        the network ends it holding the average.

        A graph holds the optimizer's state and a fixed batch size, so every fit
        captures its own.
        """
        self.graph_step_ = None
        self.weight_average_ = (
            WeightAverage(self.module_, self.weight_averaging)
            if self.weight_averaging > 0
            else None
        )
        graphs = self.use_compiled_step and torch.device(self.device).type == "cuda"
        try:
            with (
                self.generators_.forked_cuda_generator(self.device)
                if graphs
                else contextlib.nullcontext()
            ):
                return super().fit_loop(X, y, epochs=epochs, **fit_params)
        finally:
            self.graph_step_ = None
            self.valid_outputs_ = None
            if self.weight_average_ is not None:
                self.weight_average_.swap_in()
                self.weight_average_ = None

    def __getstate__(self):
        state = super().__getstate__()
        for compiled in (
            "generators_",
            "compiled_forward_loss_",
            "compiled_gradients_",
            "adamw_step_",
            "graph_step_",
            "weight_average_",
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
