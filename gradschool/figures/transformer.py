"""Chapter 8's figures: the block's live tensor shapes, and the residual / layer-norm ablation.

    block_shapes(batch=2, T=8, n_embd=32, n_head=4)["arrows"][0]   # {"name": "x", "shape": [2, 8, 32]}
    ablation(n_layer=2, steps=20, residual=False, layer_norm=True)["losses"]

block_shapes runs the library's own transformer block (gradschool.nn.gpt.Block) on a random input and reads
the shape of every tensor on its way through, by watching the calls of its layers. ablation trains rung 8's
DeepModel with rung 8's train() (same seed, same batches), so its losses are the rung's, and then measures
each layer: the size of the residual stream after it and of the gradient its weights got at the last step.
"""

from collections.abc import Callable
from typing import Any

import numpy as np

from gradschool.data.batches import get_batch
from gradschool.nn import Module
from gradschool.nn.gpt import Block, GPTConfig
from gradschool.rungs.r8_transformer import DeepModel, deep_config, shakespeare, train
from gradschool.tensor import Tensor, no_grad


def watch(module: Module, record: Callable[[Tensor, Tensor], None]) -> None:
    """Make module(x) call record(x, output) too (for this one module object)."""
    forward = module.forward

    def watched(x, *args, **kwargs):
        out = forward(x, *args, **kwargs)
        record(x, out)
        return out
    module.forward = watched


def block_shapes(batch: int, T: int, n_embd: int, n_head: int) -> dict[str, Any]:
    """The shape of every arrow of one transformer block on a (batch, T, n_embd) input, in order, and the
    number of weights the block holds."""
    if batch < 1 or T < 1:
        raise ValueError("batch and T must be at least 1")
    block = Block(GPTConfig(block_size=T, vocab_size=1, n_layer=1, n_head=n_head, n_embd=n_embd))
    seen: dict[str, tuple[int, ...]] = {}

    def keep(name: str, of_input: bool = False) -> Callable[[Tensor, Tensor], None]:
        def record(x: Tensor, out: Tensor) -> None:
            seen[name] = tuple((x if of_input else out).shape)
        return record

    watch(block.ln_1, keep("ln_1"))
    watch(block.attn.c_attn, keep("c_attn"))
    watch(block.attn.c_proj, keep("heads_joined", of_input=True))
    watch(block.attn, keep("attn"))
    watch(block.ln_2, keep("residual_1", of_input=True))  # ln_2 reads x + attn(ln_1(x))
    watch(block.ln_2, keep("ln_2"))
    watch(block.mlp.c_fc, keep("c_fc"))
    watch(block.mlp.c_proj, keep("gelu", of_input=True))
    watch(block.mlp, keep("mlp"))
    x = Tensor(np.random.default_rng(0).normal(size=(batch, T, n_embd)).astype(np.float32))
    with no_grad():
        out = block(x)
        q, _, _ = block.attn.heads(block.ln_1(x))
        weights = block.attn.attention_weights(block.ln_1(x))
    shapes = [("x", x.shape), ("ln_1", seen["ln_1"]), ("c_attn", seen["c_attn"]), ("q, k, v", q.shape),
              ("weights", weights.shape), ("heads_joined", seen["heads_joined"]), ("attn", seen["attn"]),
              ("residual_1", seen["residual_1"]), ("ln_2", seen["ln_2"]), ("c_fc", seen["c_fc"]),
              ("gelu", seen["gelu"]), ("mlp", seen["mlp"]), ("out", out.shape)]
    return {"arrows": [{"name": name, "shape": list(shape)} for name, shape in shapes],
            "parameters": sum(p.data.size for p in block.parameters())}


def layer_stats(model: DeepModel, idx: np.ndarray) -> list[dict[str, float]]:
    """Per layer: the residual stream's mean and std after it, and the rms gradient of its weights.

    Layer 0 is the token embedding (its stream: token + position embeddings); layer i is block i.
    """
    with no_grad():
        stream = model.stream(idx)
    layers = [model.wte, *model.h]  # layer 0: the embeddings; layer i: block i
    found = []
    for i, (x, layer) in enumerate(zip(stream, layers, strict=True)):
        grads = [p.grad.ravel() for p in layer.parameters() if p.grad is not None] or [np.zeros(1)]
        g = np.concatenate(grads).astype(np.float64)
        found.append({"layer": i, "mean": float(x.data.mean()), "std": float(x.data.std()),
                      "grad_rms": float(np.sqrt(np.mean(g * g)))})
    return found


def ablation(n_layer: int, steps: int, residual: bool, layer_norm: bool,
             on_loss: Callable[[float], None] | None = None) -> dict[str, Any]:
    """Train rung 8's DeepModel (one variant) and measure its layers: the losses and per-layer statistics."""
    if not 1 <= n_layer <= 16 or steps < 1:
        raise ValueError("n_layer must be 1 to 16 and steps at least 1")
    tokenizer, data = shakespeare()
    config = deep_config(tokenizer.vocab_size, n_layer)
    probe, _ = get_batch(data, 16, config.block_size, np.random.default_rng(1))
    last: list[DeepModel] = []

    def step(model: DeepModel, loss: float) -> None:
        if on_loss is not None:
            on_loss(loss)
        if not last:
            last.append(model)
    losses = train(config, data, residual, layer_norm, steps, on_step=step)
    return {"losses": losses, "layers": layer_stats(last[0], probe)}
