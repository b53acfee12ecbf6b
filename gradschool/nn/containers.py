"""Containers: modules that hold other modules, registered under the names "0", "1", ... as in PyTorch."""

from collections.abc import Iterable, Iterator

from gradschool.nn.module import Module


def _check_module(m, container: str) -> Module:
    if not isinstance(m, Module):
        raise TypeError(f"{container} holds Modules, got a {type(m).__name__}")
    return m


class ModuleList(Module):
    """A list of modules whose parameters the parent finds (a plain Python list would hide them)."""

    def __init__(self, modules: Iterable[Module] = ()):
        super().__init__()
        self.extend(modules)

    def append(self, module: Module) -> "ModuleList":
        setattr(self, str(len(self)), _check_module(module, type(self).__name__))
        return self

    def extend(self, modules: Iterable[Module]) -> "ModuleList":
        for m in modules:
            self.append(m)
        return self

    def __getitem__(self, i: int) -> Module:
        return list(self._modules.values())[i]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())


class Sequential(ModuleList):
    """Modules applied one after the other: Sequential(a, b, c)(x) = c(b(a(x)))."""

    def __init__(self, *modules: Module):
        super().__init__(modules)

    def forward(self, x):
        for module in self:
            x = module(x)
        return x
