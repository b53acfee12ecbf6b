"""Module: the base class of every layer and model, as in PyTorch.

Assigning a Parameter or a Module to an attribute registers it (`__setattr__` below), so a model finds all its
weights by walking its attributes: `named_parameters()` yields them with dotted names such as
`transformer.h.0.attn.c_attn.weight`, the same names PyTorch gives the same model. A Parameter shared by two
modules (tied weights) is yielded once, under the first name found.
"""

from collections.abc import Iterator
from typing import Any, NamedTuple

import numpy as np

from gradschool.nn.parameter import Parameter


class IncompatibleKeys(NamedTuple):
    """What load_state_dict(strict=False) skipped."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Holds parameters and submodules; subclasses write `forward` and call the module like a function."""

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "training", True)

    def __setattr__(self, name: str, value: Any) -> None:
        registry = self.__dict__.get("_parameters")
        if registry is None and isinstance(value, Parameter | Module):
            raise AttributeError(f"cannot assign '{name}' before Module.__init__() ran: call "
                                 f"super().__init__() first in {type(self).__name__}.__init__")
        if isinstance(value, Parameter):
            self._modules.pop(name, None)
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._parameters.pop(name, None)
            self._modules[name] = value
        elif registry is not None and (name in self._parameters or name in self._modules):
            kind = "parameter" if name in self._parameters else "submodule"
            if value is not None:
                hint = "a Parameter, or set .data to change its values" if kind == "parameter" else "a Module"
                raise TypeError(f"cannot assign a {type(value).__name__} to {kind} '{name}' of "
                                f"{type(self).__name__}: assign {hint}")
            self._parameters.pop(name, None)  # `self.bias = None`: no longer a parameter
            self._modules.pop(name, None)
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        object.__delattr__(self, name)

    # ---- running -----------------------------------------------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward(): define it in the subclass")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def train(self, mode: bool = True) -> "Module":
        """Training mode (dropout active) for this module and all below it; returns self."""
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self) -> "Module":
        """Evaluation mode (dropout off); the same as train(False)."""
        return self.train(False)

    # ---- walking the tree -------------------------------------------------------------------------------
    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        yield from self._modules.items()

    def children(self) -> Iterator["Module"]:
        yield from self._modules.values()

    def named_modules(self, prefix: str = "", remove_duplicate: bool = True
                      ) -> Iterator[tuple[str, "Module"]]:
        """This module and every module below it, depth first, with dotted names; a shared one only once."""
        seen, stack = set(), [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if remove_duplicate and id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            stack.extend(reversed([(f"{name}.{child}" if name else child, m)
                                   for child, m in module._modules.items()]))

    def modules(self) -> Iterator["Module"]:
        for _, module in self.named_modules():
            yield module

    def named_parameters(self, remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, Parameter) for every parameter, in PyTorch's order; a shared one only once."""
        seen = set()
        for prefix, module in self.named_modules(remove_duplicate=remove_duplicate):
            for name, p in module._parameters.items():
                if remove_duplicate and id(p) in seen:
                    continue
                seen.add(id(p))
                yield (f"{prefix}.{name}" if prefix else name), p

    def parameters(self) -> Iterator[Parameter]:
        for _, p in self.named_parameters():
            yield p

    def zero_grad(self) -> None:
        """Forget the gradients (set them to None, as PyTorch does by default)."""
        for p in self.parameters():
            p.grad = None

    # ---- saving and loading -----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """A copy of every parameter's values, by dotted name (a tied parameter under its first name)."""
        return {name: p.data.copy() for name, p in self.named_parameters()}

    def load_state_dict(self, state_dict: dict[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy values into the parameters, by name. Checks everything before changing anything.

        strict=True: the keys must be exactly the model's (a tied parameter may come under any of its names).
        Shapes must always match. Values are cast to each parameter's dtype.
        """
        names = dict(self.named_parameters(remove_duplicate=False))  # every name, tied ones included
        values: dict[int, tuple[str, np.ndarray]] = {}
        unexpected, mismatched = [], []
        for key, value in state_dict.items():
            if key not in names:
                unexpected.append(key)
                continue
            p, value = names[key], np.asarray(value)
            if value.shape != p.shape:
                mismatched.append(f"{key}: model {p.shape}, state_dict {value.shape}")
            elif id(p) in values and not np.array_equal(values[id(p)][1], value):
                mismatched.append(f"{key}: the same (tied) parameter as {values[id(p)][0]}, "
                                  "but the state_dict gives them different values")
            else:
                values[id(p)] = (key, value)
        missing = [name for name, p in self.named_parameters() if id(p) not in values]
        if mismatched or (strict and (missing or unexpected)):
            lines = [f"load_state_dict: the state_dict does not fit this {type(self).__name__}:"]
            if strict and missing:
                lines.append(f"  missing keys (in the model, not in the state_dict): {', '.join(missing)}")
            if strict and unexpected:
                lines.append(f"  unexpected keys (in the state_dict, not in the model): "
                             f"{', '.join(unexpected)}")
            if mismatched:
                lines.append(f"  shape mismatches: {'; '.join(mismatched)}")
            lines.append("Nothing was loaded. Is it a checkpoint of a model with the same configuration?"
                         + ("" if mismatched else " (strict=False loads just the keys that match.)"))
            raise ValueError("\n".join(lines))
        for p in self.parameters():
            if id(p) in values:
                p.data[...] = values[id(p)][1]
        return IncompatibleKeys(missing, unexpected)

    # ---- printing ---------------------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The module's settings, shown inside its repr (e.g. `in_features=2, out_features=16`)."""
        return ""

    def __repr__(self) -> str:
        lines = [f"({name}): " + repr(m).replace("\n", "\n  ") for name, m in self._modules.items()]
        if not lines:
            return f"{type(self).__name__}({self.extra_repr()})"
        head = [self.extra_repr()] if self.extra_repr() else []
        return f"{type(self).__name__}(\n  " + "\n  ".join(head + lines) + "\n)"
