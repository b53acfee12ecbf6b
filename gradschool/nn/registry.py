"""The kinds of language model, by the name `gradschool train --model` takes: each one's config and class.

    model = build_model("gpt", {"vocab_size": 65, "block_size": 64, "n_layer": 4})  # other fields: defaults

Training builds its model here, and loading a checkpoint rebuilds it from the saved `model_config`.
"""

import dataclasses
from typing import Any

from gradschool.nn.bigram import Bigram, BigramConfig
from gradschool.nn.gpt import GPT, GPTConfig
from gradschool.nn.language_model import LanguageModel
from gradschool.nn.mlp_lm import MLPConfig, MLPLanguageModel

MODELS: dict[str, tuple[type, type[LanguageModel]]] = {
    "bigram": (BigramConfig, Bigram),
    "mlp": (MLPConfig, MLPLanguageModel),
    "gpt": (GPTConfig, GPT),
}


def config_fields(kind: str) -> dict[str, Any]:
    """The fields of the kind's config class with their defaults (every field has one)."""
    return {f.name: f.default for f in dataclasses.fields(MODELS[kind][0])}


def build_model(kind: str, model_config: dict[str, Any]) -> LanguageModel:
    """A fresh model of `kind` from a dict of its config's fields (missing ones take their defaults)."""
    if kind not in MODELS:
        raise ValueError(f"unknown model {kind!r}; the models are: {', '.join(MODELS)}")
    unknown = sorted(set(model_config) - set(config_fields(kind)))
    if unknown:
        raise ValueError(f"the {kind} model has no setting {', '.join(unknown)} "
                         f"(it has: {', '.join(config_fields(kind))})")
    config_cls, model_cls = MODELS[kind]
    return model_cls(config_cls(**model_config))
