"""The course's rungs: one short runnable program per step of the ladder."""

import importlib
from types import ModuleType

# rung number -> module inside gradschool.rungs; a rung is listed once its file exists.
RUNGS = {
    1: "r1_neuron",
    2: "r2_mlp",
    3: "r3_learning_well",
    4: "r4_bigram",
    5: "r5_embeddings",
    6: "r6_tensors",
    7: "r7_attention",
    8: "r8_transformer",
    9: "r9_gpt",
    14: "r14_tokenization",
}


def load(n: int) -> ModuleType | None:
    """Import rung `n`'s program, or return None if that rung is not written yet."""
    if n not in RUNGS:
        return None
    try:
        return importlib.import_module(f"gradschool.rungs.{RUNGS[n]}")
    except ModuleNotFoundError as e:
        if e.name == f"gradschool.rungs.{RUNGS[n]}":
            return None
        raise


def describe(module: ModuleType) -> str:
    """The first line of a rung's docstring."""
    return (module.__doc__ or "").strip().splitlines()[0]
