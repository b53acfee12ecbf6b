"""gradschool: neural networks from scratch, from a single neuron to a tiny GPT."""

__version__ = "0.1.0"
