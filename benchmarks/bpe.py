"""BPE training speed: gradschool's pure-Python trainer against the Rust ones, on the shipped Shakespeare.

    pip install -e ".[bench]"          # rustbpe and tokenizers (HF), the oracles
    python benchmarks/bpe.py           # vocab 512 and 4096, GPT-4's split pattern, median of 3 runs each
    python benchmarks/bpe.py --vocab 512 --naive    # also the naive trainer (the lesson's; slow)

Every trainer gets the whole text as one string and the same split pattern, and is timed from the text to
the finished merges (splitting and counting the chunks included). The ratio is gradschool's time over
rustbpe's; the goal is within 10x at vocab 4096. "merges agree" compares the learned tokens: rustbpe breaks
ties between equally frequent pairs as gradschool does (the smaller pair of ids), so its merges should be the
same, in the same order; HF tokenizers breaks ties its own way, so the same tokens may come in another order.
"""

import argparse
import json
import statistics
import time
from collections.abc import Callable

from gradschool.data import load_text
from gradschool.data.bpe import GPT4_SPLIT_PATTERN, BPETokenizer


def gradschool_tokens(text: str, vocab_size: int, naive: bool = False) -> list[bytes]:
    """The tokens gradschool learns beyond the 256 bytes, in the order it learns them."""
    return BPETokenizer.train(text, vocab_size, GPT4_SPLIT_PATTERN, naive=naive).vocab[256:]


def rustbpe_tokens(text: str, vocab_size: int) -> list[bytes]:
    import rustbpe

    tok = rustbpe.Tokenizer()
    tok.train_from_iterator([text], vocab_size, pattern=GPT4_SPLIT_PATTERN)
    return [bytes(token) for token, _ in sorted(tok.get_mergeable_ranks(), key=lambda item: item[1])][256:]


def hf_tokens(text: str, vocab_size: int) -> list[bytes]:
    """HF tokenizers' byte-level BPE, same split; its merges mapped back from GPT-2's byte alphabet."""
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(GPT4_SPLIT_PATTERN), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False, min_frequency=0)
    tok.train_from_iterator([text], trainer)
    merges = json.loads(tok.to_str())["model"]["merges"]
    byte_of = byte_level_alphabet()
    return [bytes(byte_of[c] for c in "".join(m if isinstance(m, list) else m.split(" "))) for m in merges]


def byte_level_alphabet() -> dict[str, int]:
    """GPT-2's printable stand-in character of each byte (HF's ByteLevel) -> the byte."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1),
                 *range(ord("®"), ord("ÿ") + 1)]
    others = [b for b in range(256) if b not in printable]
    return {chr(b): b for b in printable} | {chr(256 + k): b for k, b in enumerate(others)}


def timed(train: Callable[[], list[bytes]], repeats: int) -> tuple[float, list[bytes]]:
    """(median seconds, the tokens learned) of repeats runs."""
    times, tokens = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        tokens = train()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), tokens


def agreement(ours: list[bytes], theirs: list[bytes]) -> str:
    """How far two lists of learned tokens agree."""
    if ours == theirs:
        return "identical, same order"
    same_prefix = next((k for k, (a, b) in enumerate(zip(ours, theirs)) if a != b),
                       min(len(ours), len(theirs)))
    same_set = "same tokens" if set(ours) == set(theirs) else f"{len(set(ours) & set(theirs))} tokens shared"
    return f"{same_set}; the first {same_prefix} in the same order"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vocab", type=int, nargs="+", default=[512, 4096])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--naive", action="store_true", help="also time the naive trainer")
    args = parser.parse_args()
    text = load_text("shakespeare")
    print(f"shakespeare: {len(text):,} characters; GPT-4 split pattern; median of {args.repeats} runs")
    for vocab_size in args.vocab:
        ours_s, ours = timed(lambda v=vocab_size: gradschool_tokens(text, v), args.repeats)
        print(f"\nvocab {vocab_size} ({len(ours)} merges)")
        print(f"  gradschool (incremental, Python)  {ours_s:7.3f} s")
        if args.naive:
            naive_s, naive = timed(lambda v=vocab_size: gradschool_tokens(text, v, naive=True), 1)
            print(f"  gradschool (naive, Python)        {naive_s:7.3f} s  merges vs incremental: "
                  f"{agreement(naive, ours)}")
        for name, trainer in (("rustbpe (Rust)", rustbpe_tokens), ("HF tokenizers (Rust)", hf_tokens)):
            try:
                their_s, theirs = timed(lambda v=vocab_size, t=trainer: t(text, v), args.repeats)
            except ImportError as e:
                print(f"  {name:32s}  not installed ({e.name}): pip install -e '.[bench]'")
                continue
            ratio = f"gradschool/{name.split()[0]} = {ours_s / their_s:5.2f}x"
            print(f"  {name:32s}  {their_s:7.3f} s  {ratio};  "
                  f"merges: {agreement(ours, theirs)}")


if __name__ == "__main__":
    main()
