"""How big a language model is before it is built: its parameters and the memory that training it takes.

    count_params("gpt", {"vocab_size": 65, "block_size": 64, "n_layer": 4, "n_head": 4, "n_embd": 128})
    training_memory("gpt", config, batch_size=12, seq_len=64)   # bytes, about 49 MB (measured: 45 MB)

The count is exact (the tests compare it with the parameters of the built model). The memory is an estimate
in float32 of what a training step keeps at its peak:
- every parameter 4 times: the weight, its gradient and AdamW's two moments;
- the activations that backward needs, per position of the batch: the GPT's ~18 n_embd numbers per layer
  (layer norms, q k v, attention output, residuals, the 4x MLP before and after GELU) plus its n_head
  attention weights per earlier position, and 3 vocab_size for the logits, their softmax and its gradient.
It leaves out the engine's temporaries, so it is a lower bound: at nanoGPT's GPU size (6 layers, 384 wide,
block 256, batch 64) it gives 4.16 GB where benchmarks/RESULTS.md measured 4.21 GB, and tracemalloc's peak of
a real step of a small GPT is 1.3x the estimate, of the MLP 2x (tests/test_language_model.py). Its purpose is
refusing sizes that cannot fit (`gradschool train --n-embd 1000000`) with a figure, before any memory is
allocated, and never refusing one that fits.
"""

import os
from typing import Any

from gradschool.nn.registry import config_fields

BYTES_PER_FLOAT = 4  # float32


def count_params(kind: str, model_config: dict[str, Any]) -> int:
    """The number of parameters of a `kind` model built from model_config (tied weights counted once)."""
    c = {**config_fields(kind), **model_config}
    V = c["vocab_size"]
    if kind == "bigram":
        return V * V
    if kind == "mlp":
        E, H = c["n_embd"], c["n_hidden"]
        rows = V + (c["pad_token"] is None)  # the extra padding token's embedding
        return rows * E + (c["block_size"] * E + 1) * H + (H + 1) * V
    C, L = c["n_embd"], c["n_layer"]
    # a block: c_attn 3C*C, c_proj C*C, c_fc 4C*C, c_proj 4C*C, 2 layer norms C; biases 2C + 3C + C + 4C + C
    per_block = 12 * C * C + 2 * C + (11 * C if c["bias"] else 0)
    ln_f = 2 * C if c["bias"] else C
    return V * C + c["block_size"] * C + L * per_block + ln_f  # wte (which is also lm_head), wpe, the blocks


def training_memory(kind: str, model_config: dict[str, Any], batch_size: int, seq_len: int) -> int:
    """An estimate in bytes of the peak memory of one training step (see the module's docstring)."""
    c = {**config_fields(kind), **model_config}
    per_position = 3 * c["vocab_size"]
    if kind == "mlp":
        per_position += c["block_size"] * c["n_embd"] + 2 * c["n_hidden"]
    elif kind == "gpt":
        per_position += c["n_layer"] * (18 * c["n_embd"] + 2 * c["n_head"] * seq_len) + 2 * c["n_embd"]
    floats = 4 * count_params(kind, model_config) + batch_size * seq_len * per_position
    return BYTES_PER_FLOAT * floats


def available_memory() -> int | None:
    """The bytes of memory this machine can give a new program now (Linux's MemAvailable), None if unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None
