"""Parameter: a Tensor that a Module learns."""

from gradschool.tensor import Tensor


class Parameter(Tensor):
    """A Tensor with requires_grad=True; assigned to a Module attribute, it is registered as a parameter."""

    def __init__(self, data, requires_grad: bool = True, dtype=None):
        super().__init__(data, requires_grad=requires_grad, dtype=dtype)

    def __repr__(self) -> str:
        return "Parameter" + super().__repr__().removeprefix("Tensor")
