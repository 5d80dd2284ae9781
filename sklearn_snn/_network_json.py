"""The network that a model file declares, as JSON, checked without building it.

``persistence.save`` writes :func:`network_to_json`; ``persistence.load``
reads it back with :func:`network_spec_from_json`, which refuses a network
that would take long to build, and derives the shapes of its weights
(:func:`weight_shapes`) so that the weights' header is checked before any
tensor is read.
"""

from . import _defaults
from ._json_values import checked_int, checked_number, scalar
from ._model_archive import ENCODING_VERSION, PERIODIC_VERSION
from ._network_spec import NetworkSpec

#: Most hidden layers of a network that ``load`` builds: 32 times the deepest
#: network of the SNN paper, while building one (about half a millisecond a
#: layer) stays under a second.
MAX_HIDDEN_LAYERS = 1024
#: Most member layers (``n_estimators`` times the layers, output included):
#: building initializes each member's layer on its own (tens of microseconds),
#: and this keeps that under about a second, far above the default of 20.
MAX_MEMBER_LAYERS = 1 << 15
#: Most embedded categorical columns: building initializes each table on its
#: own (tens of microseconds), and the weights' header lists each.
MAX_EMBEDDINGS = 4096


def network_to_json(module):
    """Return the metadata of a network: its architecture and kept members.

    The other fields of its spec follow from the estimator's class.
    """
    spec = module.spec
    return {
        "n_features": int(spec.n_features),
        "hidden_layer_sizes": [int(width) for width in spec.hidden_layer_sizes],
        "n_outputs": int(spec.n_outputs),
        "dropout": scalar(spec.dropout),
        "n_estimators": int(spec.n_estimators),
        "embeddings": [int(n_codes) for n_codes in spec.embeddings],
        "embedding_dim": int(spec.embedding_dim),
        "periodic_features": int(spec.periodic_features),
        "periodic_frequencies": int(spec.periodic_frequencies),
        "periodic_dim": int(spec.periodic_dim),
        "kept_members": (
            None
            if module.kept_members is None
            else [int(i) for i in module.kept_members]
        ),
    }


def network_spec_from_json(stored, estimator, version):
    """Return the NetworkSpec that the metadata declares, checked but not built.

    Files older than ``ENCODING_VERSION`` declare no embeddings, and files
    older than ``PERIODIC_VERSION`` no periodic embedding.
    """
    if not isinstance(stored, dict):
        raise ValueError(f"network is {type(stored).__name__}, not a JSON object")
    sizes = stored["hidden_layer_sizes"]
    if not isinstance(sizes, list) or not sizes:
        raise ValueError("network hidden_layer_sizes is not a non-empty list")
    n_estimators = checked_int(stored["n_estimators"], "network n_estimators", 1)
    has_embeddings = version >= ENCODING_VERSION
    embeddings = stored["embeddings"] if has_embeddings else []
    if not isinstance(embeddings, list):
        raise ValueError("network embeddings is not a JSON list")
    check_buildable(n_estimators, len(sizes), len(embeddings))
    dropout = checked_number(stored["dropout"], "network dropout")
    if not 0 <= dropout < 1:
        raise ValueError(f"network dropout is {dropout}, not in [0, 1)")
    return NetworkSpec(
        n_features=checked_int(stored["n_features"], "network n_features", 1),
        hidden_layer_sizes=tuple(
            checked_int(width, "a hidden layer size", 1) for width in sizes
        ),
        n_outputs=checked_int(stored["n_outputs"], "network n_outputs", 1),
        dropout=dropout,
        n_estimators=n_estimators,
        combine=estimator._combine,
        output_init=estimator._output_init,
        periodic_sigma=estimator._periodic_sigma,
        # A categorical column has a level and code 0, the rare one.
        embeddings=tuple(
            checked_int(n_codes, "the number of codes of an embedding", 2)
            for n_codes in embeddings
        ),
        # An older file's network has no embeddings; fit's width lets a warm
        # start continue it.
        embedding_dim=checked_int(stored["embedding_dim"], "network embedding_dim", 1)
        if has_embeddings
        else _defaults.EMBEDDING_DIM,
        **_periodic_spec(stored, version),
    )


def _periodic_spec(stored, version):
    """Return the periodic embedding's fields of a NetworkSpec, checked."""
    if version < PERIODIC_VERSION:
        return {}
    return {
        "periodic_features": checked_int(
            stored["periodic_features"], "network periodic_features", 0
        ),
        "periodic_frequencies": checked_int(
            stored["periodic_frequencies"], "network periodic_frequencies", 1
        ),
        "periodic_dim": checked_int(stored["periodic_dim"], "network periodic_dim", 1),
    }


def check_buildable(n_estimators, n_hidden_layers, n_embeddings=0):
    """Refuse a network that would take long to build, whatever its weights."""
    if n_hidden_layers > MAX_HIDDEN_LAYERS:
        raise ValueError(
            f"the network has {n_hidden_layers} hidden layers, more than the "
            f"{MAX_HIDDEN_LAYERS} of a model file"
        )
    if n_estimators * (n_hidden_layers + 1) > MAX_MEMBER_LAYERS:
        raise ValueError(
            f"the network has {n_estimators} members of {n_hidden_layers + 1} "
            f"layers, more than the {MAX_MEMBER_LAYERS} member layers of a model "
            "file"
        )
    if n_embeddings > MAX_EMBEDDINGS:
        raise ValueError(
            f"the network embeds {n_embeddings} categorical columns, more than "
            f"the {MAX_EMBEDDINGS} of a model file"
        )


def weight_shapes(spec):
    """Return ``{name: shape}`` of ``SELUNetwork(spec)``'s weights, without building it.

    Each embedded column has a table of a row per code; the periodic
    embedding, if any, has its four tensors. Each hidden layer is
    Linear, SELU and, with dropout, AlphaDropout, so the linear layers are
    every third or every second module of ``hidden``.
    """
    shapes = {
        f"embeddings.{i}.weight": (n_codes, spec.embedding_dim)
        for i, n_codes in enumerate(spec.embeddings)
    }
    if spec.periodic_features:
        waves = (spec.periodic_features, 1, spec.periodic_frequencies)
        shapes["periodic.frequency"] = waves
        shapes["periodic.phase"] = waves
        shapes["periodic.weight"] = (
            spec.periodic_features,
            spec.periodic_frequencies,
            spec.periodic_dim,
        )
        shapes["periodic.bias"] = (spec.periodic_features, 1, spec.periodic_dim)
    step = 3 if spec.dropout > 0 else 2
    fan_in = spec.n_first_layer_inputs
    for index, width in enumerate(spec.hidden_layer_sizes):
        shapes[f"hidden.{step * index}.weight"] = (spec.n_estimators, width, fan_in)
        shapes[f"hidden.{step * index}.bias"] = (spec.n_estimators, width)
        fan_in = width
    shapes["output.weight"] = (spec.n_estimators, spec.n_outputs, fan_in)
    shapes["output.bias"] = (spec.n_estimators, spec.n_outputs)
    return shapes


def member_indices(kept, spec):
    """Return the kept members: distinct indices of members of the ensemble."""
    if (
        not isinstance(kept, list)
        or not kept
        or not all(
            type(i) is int and 0 <= i < spec.n_estimators  # not a bool or a float
            for i in kept
        )
        or len(set(kept)) != len(kept)
    ):
        raise ValueError(
            f"kept_members {kept!r:.60} does not name members of an ensemble of "
            f"{spec.n_estimators}"
        )
    return tuple(kept)
