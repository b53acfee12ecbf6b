"""Sampling text from a trained language model: new names, or text that continues a prompt."""

from pathlib import Path

import numpy as np

from gradschool.runs import load_model
from gradschool.sampling import check_sampling_options

MAX_NEW_TOKENS = 100_000  # per sample: minutes of a GPT's time on a CPU
MAX_NUM = 1_000  # samples at once (they are one batch)


def sample(
    run: str | Path,
    num: int = 10,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    prompt: str = "",
    max_new_tokens: int | None = None,
    seed: int | None = None,
) -> list[str]:
    """`num` samples from the model saved in `run` (a run folder or a checkpoint file).

    A model of lines (names) writes whole lines: each starts with the start token (then the prompt) and ends
    at the end token. A model of running text continues the prompt (or a new line) for max_new_tokens.
    """
    check_sampling_options(temperature, top_k, top_p)
    if not 1 <= num <= MAX_NUM:
        raise ValueError(f"--num {num} is out of range: ask for 1 to {MAX_NUM:,} samples at a time")
    if max_new_tokens is not None and not 1 <= max_new_tokens <= MAX_NEW_TOKENS:
        raise ValueError(f"--max-new-tokens {max_new_tokens} is out of range: a sample may have 1 to "
                         f"{MAX_NEW_TOKENS:,} new tokens (characters, or BPE tokens)")
    model, tokenizer, state = load_model(run)
    rng = np.random.default_rng(seed)
    lines = state["data_format"] == "lines"
    start = tokenizer.encode_prompt(prompt)
    if lines:
        max_new_tokens = max_new_tokens or state["seq_len"]
    else:
        start = start or (tokenizer.encode("\n") if tokenizer.encodes("\n") else [0])
        max_new_tokens = 500 if max_new_tokens is None else max_new_tokens
    idx = np.tile(np.array(start, dtype=np.int64), (num, 1))
    out = model.generate(idx, max_new_tokens, temperature=temperature, top_k=top_k, top_p=top_p, rng=rng)
    samples = []
    for row in np.asarray(out):
        if lines:
            new = list(row[len(start) :])
            end = new.index(tokenizer.boundary_id) if tokenizer.boundary_id in new else len(new)
            samples.append(prompt + tokenizer.decode(new[:end]))
        else:
            samples.append(prompt + tokenizer.decode(row[len(start) :]))
    return samples
