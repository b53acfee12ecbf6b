"""Tokenization: byte-pair encoding from scratch, and a GPT that reads tokens instead of characters.

A language model reads integers, so text must become a sequence of ids first. Characters give a small
vocabulary but long sequences, and only the characters of the training text; UTF-8 bytes cover every text
ever written with 256 ids, at the price of even longer sequences. Byte-pair encoding (GPT-2, GPT-4) starts
from the bytes and learns merges: the most frequent pair of adjacent tokens becomes a new token, again and
again. Common words become one token, rare ones several, and anything at all can still be written.

Much of what is odd about language models comes from here: a word with and without its leading space is two
unrelated tokens, numbers are cut into arbitrary pieces, and a token can exist that the model never saw
(" SolidGoldMagikarp"). This rung learns a BPE on Shakespeare (gradschool/data/bpe.py), looks at its merges
and its quirks, and trains the same small GPT on characters and on BPE tokens for the same number of steps.
"""

import tempfile
import time
from collections import Counter

import numpy as np

from gradschool.data import load_text
from gradschool.data.bpe import (
    GPT2_SPLIT_PATTERN,
    GPT4_SPLIT_PATTERN,
    BPETokenizer,
    best_pair,
    merge,
    pair_counts,
    split_chunks,
)
from gradschool.data.splits import split_text
from gradschool.runs import read_metrics
from gradschool.train import make_config, train

VOCAB_SIZE = 512
STEPS = 200  # per model: both see the same number of batches of the same shape
GPT = dict(n_layer=2, n_head=4, n_embd=64, block_size=64, batch_size=12, max_iters=STEPS,
           lr_decay_iters=STEPS, warmup_iters=20, eval_interval=STEPS // 2, eval_iters=8)


def show(token: bytes) -> str:
    """A token for a table: its text in quotes, with bytes that are not whole characters as \\xNN."""
    return repr(token.decode("utf-8", errors="backslashreplace"))


def bytes_and_characters() -> None:
    text = "héllo wörld 👋 日本"
    data = text.encode("utf-8")
    print(f"1. Characters or bytes. {text!r} has {len(text)} characters and {len(data)} UTF-8 bytes:")
    print(f"   characters {[ord(c) for c in text]}")
    print(f"   bytes      {list(data)}")
    print("   Characters: one id each, but only those of the training text (Shakespeare has 63; Unicode "
          "has 150,000).\n   Bytes: 256 ids write anything at all, but 'é' takes 2 and '👋' 4. BPE starts "
          "from the bytes and merges.")


def merges_by_hand(text: str, num_merges: int = 12) -> list[tuple[int, int]]:
    """The naive algorithm, one merge at a time, printed as the merge table."""
    print(f"\n2. Merges as a table: the first {num_merges} merges of BPE on {len(text):,} characters of "
          "Shakespeare, cut into\n   chunks by GPT-4's split pattern (a merge never crosses a chunk's edge)")
    chunks = Counter(chunk.encode("utf-8") for chunk in split_chunks(text, GPT4_SPLIT_PATTERN))
    words, weights = [list(c) for c in chunks], list(chunks.values())
    vocab = {i: bytes([i]) for i in range(256)}
    merges = []
    print("     id   left  right   count   new token")
    for k in range(num_merges):
        counts: dict[tuple[int, int], int] = {}
        for word, weight in zip(words, weights):
            pair_counts(word, counts, weight)
        pair = best_pair(counts)
        new_id = 256 + k
        vocab[new_id] = vocab[pair[0]] + vocab[pair[1]]
        words = [merge(word, pair, new_id) for word in words]
        merges.append(pair)
        print(f"    {new_id}  {pair[0]:5d}  {pair[1]:5d}  {counts[pair]:6d}   {show(vocab[pair[0]])} + "
              f"{show(vocab[pair[1]])} -> {show(vocab[new_id])}")
    return merges


def training_speed(table_text: str, merges: list[tuple[int, int]], text: str) -> None:
    same = BPETokenizer.train(table_text, 256 + len(merges), naive=True).merges == merges
    print(f"   BPETokenizer.train(naive=True) learns the same table: {same}")
    print("\n   The naive way counts every pair of the whole text again after each merge; the library's way "
          "counts once,\n   then updates the counts only in the chunks that held the merged pair:")
    for naive in (True, False):
        t0 = time.perf_counter()
        tok = BPETokenizer.train(text, VOCAB_SIZE, naive=naive)
        print(f"     {'naive' if naive else 'incremental'} training to {VOCAB_SIZE} tokens: "
              f"{time.perf_counter() - t0:.2f} s ({len(tok.merges)} merges)")


def compression(train_text: str, val_text: str) -> dict[int, BPETokenizer]:
    """Tokenizers of several sizes learned from train_text, and how much each shortens val_text."""
    print(f"\n3. Bigger vocabularies, shorter sequences: the {len(val_text):,} characters of the validation "
          "text, encoded by\n   tokenizers learned from the training text only")
    tokenizers = {}
    for vocab_size in (256, VOCAB_SIZE, 1024, 4096):
        tok = BPETokenizer.train(train_text, vocab_size)
        ids = tok.encode(val_text)
        print(f"     vocab {vocab_size:5d}: {len(ids):7,} tokens, {len(val_text) / len(ids):.2f} characters "
              "per token")
        tokenizers[vocab_size] = tok
    chosen = tokenizers[VOCAB_SIZE]
    longest = sorted(range(256, len(chosen.vocab)), key=lambda i: -len(chosen.vocab[i]))[:8]
    print(f"   the longest of the {VOCAB_SIZE}: {', '.join(show(chosen.vocab[i]) for i in longest)}")
    return tokenizers


def quirks(tok: BPETokenizer, big: BPETokenizer, train_text: str) -> None:
    print("\n4. Quirks")
    for text in ("the", " the", "The", " THE"):
        print(f"   {text!r:8} -> {tok.encode(text)}   ", end="")
    print("\n   a word with and without its space, or capitalized, is a different token (or several): the "
          "model must learn\n   each one's meaning separately")
    number = "In 1599, 1234567 ducats"
    print(f"   digits: {number!r} is cut into chunks")
    print(f"     GPT-2's pattern: {split_chunks(number, GPT2_SPLIT_PATTERN)}")
    print(f"     GPT-4's pattern: {split_chunks(number, GPT4_SPLIT_PATTERN)}  (at most 3 digits each)")
    print(f"     and then into tokens: {[tok.token_text(i) for i in tok.encode(number)]}")

    spam = " SolidGoldMagikarp" * 5000  # a user name all over a forum that the tokenizer read, the model not
    odd = BPETokenizer.train(train_text + spam, VOCAB_SIZE)
    ids = odd.encode(" SolidGoldMagikarp")
    seen = Counter(odd.encode(train_text))
    print("   rare tokens: train the tokenizer on the text plus a forum page full of ' SolidGoldMagikarp': "
          f"it becomes\n     {[odd.token_text(i) for i in ids]}, ids {ids}, which the model's training data "
          f"holds {sum(seen[i] for i in ids)} times.")
    print("     The model never reads such a token, so it never learns what it means (as an output it is "
          "only ever\n     pushed down): in GPT-2 and GPT-3 such tokens made the model say strange things.")
    seen = Counter(big.encode(train_text))
    never = [i for i in range(256, len(big.vocab)) if seen[i] == 0]
    rare = [i for i in range(256, len(big.vocab)) if seen[i] < 10]
    print(f"     Even without spam, {len(rare)} of the {len(big.merges)} merged tokens of the "
          f"{big.vocab_size}-token tokenizer occur fewer\n     than 10 times in the encoded training text "
          f"({len(never)} never: later merges swallowed them), e.g. "
          f"{', '.join(show(big.vocab[i]) for i in rare[:6])}")


def round_trip(tok: BPETokenizer) -> None:
    text = "Ünïcödé, emoji 🙂 and 日本語 were never in Shakespeare"
    ids = tok.encode(text)
    print(f"\n5. The round trip: {text!r} -> {len(ids)} tokens -> decode gives it back: "
          f"{tok.decode(ids) == text}")
    print(f"   any ids decode to valid text; half a character becomes U+FFFD: decode({ids[:1]}) = "
          f"{tok.decode(ids[:1])!r}")


def char_vs_bpe(plot: str | None) -> None:
    print(f"\n6. The same GPT ({GPT['n_layer']} layers, {GPT['n_embd']} wide, context {GPT['block_size']} "
          f"tokens) on characters and on {VOCAB_SIZE} BPE tokens,\n   {STEPS} steps of {GPT['batch_size']} "
          "sequences each (equal compute but for the bigger embedding table); val loss in bits per character")
    curves, bpc = {}, {}
    with tempfile.TemporaryDirectory() as root:
        for name, tokenizer in (("characters", {}), ("BPE", {"tokenizer": "bpe", "vocab_size": VOCAB_SIZE})):
            config = make_config("gpt", "shakespeare", out_dir=f"{root}/{tokenizer.get('tokenizer', 'char')}",
                                 **GPT, **tokenizer)
            t0 = time.perf_counter()
            result = train(config, progress=False)
            seconds = time.perf_counter() - t0
            bits_per_nat = result.best_val_bpc / result.best_val_loss  # 1 / (ln 2 * characters per token)
            curves[name] = [(r["iter"], r["val_loss"] * bits_per_nat)
                            for r in read_metrics(config.out_dir) if "val_loss" in r]
            bpc[name] = result.best_val_bpc
            print(f"     {name:10}  val loss {result.best_val_loss:.3f} nats per token = "
                  f"{result.best_val_bpc:.3f} bits per character  ({1 / bits_per_nat / np.log(2):.2f} "
                  f"characters per token, {seconds:.0f} s)")
    better = min(bpc, key=bpc.get)
    print("   Each BPE token stands for about two characters, so in the same steps the BPE model reads about "
          "twice the text\n   and sees twice as far back (its bigger output layer costs time). Here "
          f"{better} did better per character, by {abs(bpc['BPE'] - bpc['characters']):.3f} bits.")
    if plot:
        from gradschool.rungs.plots import figure, save

        fig, ax = figure((7, 4.5))
        for name, points in curves.items():
            ax.plot(*np.array(points).T, marker="o", label=name)
        ax.set_xlabel("step")
        ax.set_ylabel("val loss, bits per character")
        ax.set_title("the same GPT on characters and on BPE tokens")
        ax.legend()
        save(fig, plot)


def main(plot: str | None = None) -> None:
    text = load_text("shakespeare")
    train_text, val_text = split_text(text)
    bytes_and_characters()
    merges = merges_by_hand(train_text[:20_000])
    training_speed(train_text[:20_000], merges, train_text[:100_000])
    tokenizers = compression(train_text, val_text)
    quirks(tokenizers[VOCAB_SIZE], tokenizers[4096], train_text)
    round_trip(tokenizers[VOCAB_SIZE])
    char_vs_bpe(plot)
    print("\nchapter 14 of the course: `gradschool serve`, then http://127.0.0.1:8000/chapter/14")


if __name__ == "__main__":
    main()
