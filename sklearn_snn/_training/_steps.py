"""The fast training-step engines behind ``compile_step=True``.

On the CPU, :class:`CompiledGradients` computes the forward and backward passes
in one compiled call and :class:`FusedAdamWStep` applies the fused AdamW update
without the optimizer's per-call checks. On CUDA, :class:`CUDAGraphStep`
replays the whole step as one CUDA graph. :func:`own_code` gives each net its
own compiled-code cache.
"""

import types

import torch
from torch.optim.adamw import adamw


class _MemberOutputs(torch.nn.Module):
    """A network's ``member_outputs`` as a module's forward pass.

    ``torch.func.functional_call`` runs a module's forward pass with the
    parameters it is given; the training loss needs every member's outputs.
    """

    def __init__(self, network):
        super().__init__()
        self.network = network

    def forward(self, X, dropout_seeds):
        """Return every member's outputs for a batch."""
        return self.network.member_outputs(X, dropout_seeds=dropout_seeds)


class CompiledGradients:
    """The forward and backward passes of a training step as one compiled call.

    This is the compiled step on the CPU. The forward pass and the loss are
    differentiated by ``torch.func.grad_and_value`` inside the compiled
    function, so the backward pass is compiled into the same graph, and a
    call returns the gradients instead of leaving a graph for autograd to
    run. On a 2-core CPU this removed about a tenth of a step of a 4x256
    network at batch 256 (autograd's engine and the wrappers around a
    separately compiled backward pass). The only random numbers are
    AlphaDropout's seeds (see ``_selu.selu_alpha_dropout``), which the caller
    draws from the fit's generator and passes in; inductor's own generator
    would draw them one element at a time.

    Parameters
    ----------
    network : SELUNetwork
        The network being trained.
    loss : callable
        ``loss(y_pred, y, sample_weight)``: a batch's training loss from
        every member's outputs.
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
            own_code(self._gradients), options={"fallback_random": True}
        )

    def _gradients(self, parameters, X, y, sample_weight, dropout_seeds):
        def loss(parameters):
            with self.autocast():
                y_pred = torch.func.functional_call(
                    self.members, parameters, (X, dropout_seeds)
                )
            return self.loss(y_pred, y, sample_weight), y_pred

        gradients, (value, y_pred) = torch.func.grad_and_value(loss, has_aux=True)(
            parameters
        )
        # The fused AdamW reads a gradient in its parameter's memory layout,
        # which is contiguous. The linear layers' gradients already are
        # (EnsembleLinear computes them in the weights' layout); this keeps
        # the contract for every parameter, free where it already holds.
        gradients = {name: g.contiguous() for name, g in gradients.items()}
        return gradients, value, y_pred

    def __call__(self, X, y, sample_weight, dropout_seeds=None):
        """Set every parameter's ``grad`` for a batch; return its ``(loss, y_pred)``.

        ``dropout_seeds`` are the step's AlphaDropout seeds, one per hidden
        layer (see ``_selu.dropout_seeds``), or None without dropout.
        """
        # Detached, the parameters are plain inputs: torch.compile then builds
        # no autograd graph around the function, which computes the
        # gradients itself.
        gradients, loss, y_pred = self.compiled(
            {name: p.detach() for name, p in self.parameters.items()},
            X,
            y,
            sample_weight,
            dropout_seeds,
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


def own_code(method):
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
