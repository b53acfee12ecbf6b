"""Chapter 14's figures: a text cut into BPE tokens, and the merge table, of the tokenizer rung 14 learns.

    tokens_figure("To be, or not to be", 512, "gpt4")["tokens"][0]   # {"id": ..., "text": "To", ...}

The tokenizers are learned (gradschool.data.bpe) from the training split of the shipped Shakespeare, as
rung 14 learns them, once per size and split pattern, then kept in memory.
"""

from functools import cache
from typing import Any

from gradschool.data import load_text
from gradschool.data.bpe import GPT2_SPLIT_PATTERN, GPT4_SPLIT_PATTERN, BPETokenizer, split_chunks
from gradschool.data.splits import split_text

SIZES = (256, 512, 1024, 4096)
PATTERNS = {"gpt4": GPT4_SPLIT_PATTERN, "gpt2": GPT2_SPLIT_PATTERN}


@cache
def shakespeare_tokenizer(vocab_size: int, pattern: str) -> BPETokenizer:
    """BPE learned from the training split of the shipped Shakespeare (rung 14's tokenizers)."""
    if vocab_size not in SIZES or pattern not in PATTERNS:
        raise ValueError(f"the tokenizers here have {', '.join(map(str, SIZES))} tokens and the split "
                         f"patterns {', '.join(PATTERNS)}")
    train_text, _ = split_text(load_text("shakespeare"))
    return BPETokenizer.train(train_text, vocab_size, pattern=PATTERNS[pattern])


def tokens_figure(text: str, vocab_size: int = 512, pattern: str = "gpt4") -> dict[str, Any]:
    """The text's tokens (id, text, bytes), its split-pattern chunks, and its length in each unit."""
    tok = shakespeare_tokenizer(vocab_size, pattern)
    ids = tok.encode(text)
    return {
        "tokens": [{"id": i, "text": tok.token_text(i), "bytes": list(tok.vocab[i])} for i in ids],
        "chunks": split_chunks(text, PATTERNS[pattern]),
        "characters": len(text),
        "bytes": len(text.encode("utf-8")),
        "round_trip": tok.decode(ids) == text,
    }


def merges_figure(vocab_size: int = 512, pattern: str = "gpt4", start: int = 0, count: int = 20
                  ) -> dict[str, Any]:
    """Merges start .. start+count-1 of the tokenizer: each pair of tokens and the token it makes."""
    tok = shakespeare_tokenizer(vocab_size, pattern)
    rows = [{"id": 256 + k, "left": a, "right": b, "left_text": tok.token_text(a),
             "right_text": tok.token_text(b), "text": tok.token_text(256 + k)}
            for k, (a, b) in enumerate(tok.merges[start:start + count], start)]
    return {"merges": rows, "total": len(tok.merges)}
