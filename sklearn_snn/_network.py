"""The self-normalizing network: a SELU multilayer perceptron.

Each hidden layer is ``Linear -> SELU -> AlphaDropout``; the output layer is
linear. Weights are LeCun-normal (``N(0, 1/fan_in)``) and biases are zero, so
that standardized inputs keep activations near the SELU fixed point (mean 0,
variance 1) through every layer (Klambauer et al., 2017). There are no skip
connections and no batch normalization: both break self-normalization.
"""

from torch import nn


def lecun_normal_(linear):
    """Initialize a linear layer in place: weights ``N(0, 1/fan_in)``, biases 0.

    Parameters
    ----------
    linear : torch.nn.Linear
        The layer to initialize.

    Returns
    -------
    linear : torch.nn.Linear
        The same layer.
    """
    nn.init.kaiming_normal_(linear.weight, mode="fan_in", nonlinearity="linear")
    nn.init.zeros_(linear.bias)
    return linear


class SELUNetwork(nn.Module):
    """A fully connected SELU network with AlphaDropout and LeCun-normal init.

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
    """

    def __init__(self, n_features, hidden_layer_sizes, n_outputs, dropout):
        super().__init__()
        self.n_features = n_features
        self.hidden_layer_sizes = tuple(hidden_layer_sizes)
        self.n_outputs = n_outputs
        self.dropout = dropout
        layers = []
        fan_in = n_features
        for width in hidden_layer_sizes:
            layers.append(lecun_normal_(nn.Linear(fan_in, width)))
            layers.append(nn.SELU())
            if dropout > 0:
                layers.append(nn.AlphaDropout(dropout))
            fan_in = width
        self.hidden = nn.Sequential(*layers)
        self.output = lecun_normal_(nn.Linear(fan_in, n_outputs))

    def forward(self, X):
        """Return the network's raw outputs for a batch.

        Parameters
        ----------
        X : torch.Tensor of shape (n_samples, n_features)
            Standardized inputs.

        Returns
        -------
        torch.Tensor of shape (n_samples, n_outputs)
            Logits or standardized regression outputs.
        """
        return self.output(self.hidden(X))
