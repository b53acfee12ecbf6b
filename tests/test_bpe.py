"""gradschool.data.bpe: byte-level BPE, against tiktoken (encoding) and rustbpe (training) as oracles."""

import doctest
import json
import math
import random
import re

import numpy as np
import pytest
import rustbpe
import tiktoken
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import gradschool.data.bpe as bpe
from gradschool import checkpoint, rungs
from gradschool.checkpoint import CheckpointError
from gradschool.cli import cli
from gradschool.data import DataError, load_text
from gradschool.data.bpe import (
    GPT2_SPLIT_PATTERN,
    GPT4_SPLIT_PATTERN,
    BPETokenizer,
    merge,
    pair_counts,
    split_chunks,
    train_merges,
    train_merges_naive,
)
from gradschool.data.splits import split_text
from gradschool.rungs import r14_tokenization as r14
from gradschool.runs import BEST, LAST, load_model, read_model_state
from gradschool.sample import sample
from gradschool.train import LanguageData, make_config, resume_config, train

SHAKESPEARE = load_text("shakespeare")
SMALL = SHAKESPEARE[:6000] + "\nnaïve café 日本語 🙂🙂 12345 1,000,000  tabs\there \r\n  end  "
SPECIALS = ["<|endoftext|>", "<|fim_prefix|>"]
PATTERNS = {"gpt2": GPT2_SPLIT_PATTERN, "gpt4": GPT4_SPLIT_PATTERN}
TOKENIZERS = {name: BPETokenizer.train(SMALL, 420, pattern, special_tokens=SPECIALS)
              for name, pattern in PATTERNS.items()}

# texts like the training text (so that merges apply), mixed with any Unicode at all
english = st.text(alphabet=st.sampled_from(list(" \n\n\t\r  abcdeghilnorstuwyATHI'!?.,:;-0123456789éü日🙂")))
texts = st.one_of(english, st.text(), st.lists(st.one_of(english, st.text(max_size=5))).map("".join))


def oracle(tok: BPETokenizer) -> tiktoken.Encoding:
    """tiktoken's encoder for the same ranks, pattern and special tokens."""
    return tiktoken.Encoding("gradschool-test", pat_str=tok.pattern, mergeable_ranks=tok.mergeable_ranks(),
                             special_tokens=tok.special_tokens)


ORACLES = {name: oracle(tok) for name, tok in TOKENIZERS.items()}


# --- the two steps of BPE, and the docstrings' examples -----------------------------------------------------
def test_the_examples_in_the_docstrings_hold():
    result = doctest.testmod(bpe)
    assert result.attempted >= 8 and result.failed == 0


def test_pair_counts_count_adjacent_pairs_with_weights():
    assert pair_counts([1, 2, 1, 2, 1]) == {(1, 2): 2, (2, 1): 2}
    assert pair_counts([7, 7], {(7, 7): 1}, weight=3) == {(7, 7): 4}
    assert pair_counts([5]) == {}


def test_merge_replaces_left_to_right_without_overlap():
    assert merge([1, 1, 1, 1, 1], (1, 1), 9) == [9, 9, 1]
    assert merge([1, 2, 3], (2, 1), 9) == [1, 2, 3]
    assert merge([], (1, 2), 9) == []


# --- training -----------------------------------------------------------------------------------------------
def chunks_of(text: str, pattern: str | None = GPT4_SPLIT_PATTERN) -> dict[bytes, int]:
    counts: dict[bytes, int] = {}
    for chunk in split_chunks(text, pattern):
        counts[chunk.encode()] = counts.get(chunk.encode(), 0) + 1
    return counts


@pytest.mark.parametrize("text", [SMALL, "aaaaaaaaaa aaaa aa a aaaaaaa", "abababab cbcbcb ab"])
def test_incremental_training_learns_the_naive_merges(text):
    chunks = chunks_of(text)
    naive = train_merges_naive(chunks, 200)
    assert naive and train_merges(chunks, 200) == naive


@settings(max_examples=40, deadline=None)
@given(st.text(alphabet="ab c\n", max_size=60), st.integers(1, 30))
def test_incremental_training_agrees_with_naive_on_any_text(text, num_merges):
    chunks = chunks_of(text, None)
    assert train_merges(chunks, num_merges) == train_merges_naive(chunks, num_merges)


def test_the_most_frequent_pair_is_merged_first():
    tok = BPETokenizer.train("the cat the hat the bat", 257, pattern=None)
    counts = pair_counts(list(b"the cat the hat the bat"))
    most = max(counts.values())
    assert tok.merges == [min(pair for pair, count in counts.items() if count == most)]


@pytest.mark.parametrize("vocab_size", [300, 512])
def test_the_merges_are_those_rustbpe_learns(vocab_size):
    text = SHAKESPEARE[:20000]
    theirs = rustbpe.Tokenizer()
    theirs.train_from_iterator([text], vocab_size, pattern=GPT4_SPLIT_PATTERN)
    ours = BPETokenizer.train(text, vocab_size)
    assert ours.mergeable_ranks() == {bytes(token): i for token, i in theirs.get_mergeable_ranks()}


def test_special_tokens_take_the_last_ids_and_are_not_learned_from():
    text = "ab<|endoftext|>ab<|endoftext|>ab<|endoftext|>"
    tok = BPETokenizer.train(text, 258, pattern=None, special_tokens=["<|endoftext|>"])
    assert tok.special_tokens == {"<|endoftext|>": 257}
    assert tok.vocab_size == 258
    assert tok.vocab[256] == b"ab"  # "b<" never counted: the special token was cut out of the text


# --- encoding and decoding ----------------------------------------------------------------------------------
@settings(max_examples=150, deadline=None)
@given(texts, st.sampled_from(sorted(PATTERNS)))
def test_encode_equals_tiktokens_encode_for_the_same_ranks(text, pattern):
    assert TOKENIZERS[pattern].encode_ordinary(text) == ORACLES[pattern].encode_ordinary(text)
    assert TOKENIZERS[pattern].encode(text, allowed_special="all") == \
        ORACLES[pattern].encode(text, allowed_special="all")


@pytest.mark.parametrize("pattern", sorted(PATTERNS))
@pytest.mark.parametrize("corpus", ["shakespeare", "names"])
def test_encode_equals_tiktokens_encode_on_the_shipped_corpora(pattern, corpus):
    text = load_text(corpus)
    ids = TOKENIZERS[pattern].encode(text)
    assert ids == ORACLES[pattern].encode(text)
    assert len(ids) < len(text.encode())  # the merges shorten it


@pytest.mark.parametrize("vocab_size", [1000])
def test_a_tokenizer_trained_on_all_of_shakespeare_encodes_it_as_tiktoken_does(vocab_size):
    tok = BPETokenizer.train(SHAKESPEARE, vocab_size)
    assert tok.encode(SHAKESPEARE) == oracle(tok).encode(SHAKESPEARE)


@settings(max_examples=100, deadline=None)
@given(texts)
def test_decode_gives_back_the_text(text):
    tok = TOKENIZERS["gpt4"]
    assert tok.decode(tok.encode(text, allowed_special="all")) == text
    assert tok.decode(tok.encode_ordinary(text)) == text


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 419)))
def test_any_token_sequence_decodes_to_valid_text(ids):
    tok = TOKENIZERS["gpt4"]
    text = tok.decode(ids)
    text.encode("utf-8")  # a lone surrogate would raise here
    assert text == ORACLES["gpt4"].decode(ids)


def test_half_a_character_decodes_to_the_replacement_character():
    tok = TOKENIZERS["gpt4"]
    ids = tok.encode("é")  # two bytes: 0xc3 0xa9
    assert tok.decode(ids[:1]) == "\ufffd"
    assert tok.token_text(0xC3) == "\\xc3"


@pytest.mark.parametrize("pattern", sorted(PATTERNS))
@pytest.mark.parametrize("allowed", ["all", {"<|endoftext|>"}, set()])
def test_special_tokens_encode_as_tiktoken_allows_them(pattern, allowed):
    text = "Hello<|endoftext|> world<|fim_prefix|>!"
    tok, theirs = TOKENIZERS[pattern], ORACLES[pattern]
    assert tok.encode(text, allowed_special=allowed, disallowed_special=()) == \
        theirs.encode(text, allowed_special=allowed, disallowed_special=())
    if allowed == "all":
        ids = tok.encode(text, allowed_special="all")
        assert ids == theirs.encode(text, allowed_special="all")
        assert tok.special_tokens["<|endoftext|>"] in ids and tok.decode(ids) == text


def test_a_disallowed_special_token_in_the_text_is_refused_by_name():
    tok = TOKENIZERS["gpt4"]
    message = r"special token '<\|fim_prefix\|>' \(at character 2\).*allowed_special"
    with pytest.raises(DataError, match=message):
        tok.encode("ab<|fim_prefix|>", allowed_special={"<|endoftext|>"})
    with pytest.raises(ValueError):  # tiktoken refuses it too
        ORACLES["gpt4"].encode("ab<|fim_prefix|>", allowed_special={"<|endoftext|>"})


def test_unknown_special_tokens_on_encode_are_refused_by_name():
    tok = TOKENIZERS["gpt4"]
    with pytest.raises(DataError, match=r"allowed_special names special tokens .*'<\|nope\|>'.*it has: "):
        tok.encode("hi", allowed_special={"<|nope|>"})
    with pytest.raises(DataError, match="disallowed_special names special tokens .*'<x>'"):
        tok.encode("hi", disallowed_special={"<x>"})
    with pytest.raises(DataError, match="not the string"):
        tok.encode("hi", allowed_special="<|endoftext|>")


def test_ids_outside_the_vocabulary_are_refused_on_decode():
    with pytest.raises(DataError, match="token id 999 is not in this tokenizer"):
        TOKENIZERS["gpt4"].decode([1, 999])


# --- interop with tiktoken's form ---------------------------------------------------------------------------
def test_mergeable_ranks_load_back_into_the_same_tokenizer():
    tok = TOKENIZERS["gpt2"]
    again = BPETokenizer.from_ranks(tok.mergeable_ranks(), tok.pattern, tok.special_tokens)
    assert again == tok and again.merges == tok.merges


def test_ranks_whose_bytes_come_in_another_order_encode_as_tiktoken():
    """Like GPT-4's ranks, whose 256 single bytes are not in byte order."""
    tok = TOKENIZERS["gpt4"]
    order = list(range(256))
    random.Random(0).shuffle(order)  # byte b gets id order[b]
    ranks = {token: (order[token[0]] if len(token) == 1 else i) for token, i in tok.mergeable_ranks().items()}
    shuffled = BPETokenizer.from_ranks(ranks, tok.pattern)
    assert shuffled.mergeable_ranks() == ranks
    theirs = tiktoken.Encoding("shuffled", pat_str=tok.pattern, mergeable_ranks=ranks, special_tokens={})
    assert shuffled.encode(SMALL) == theirs.encode(SMALL)
    assert BPETokenizer.from_dict(shuffled.to_dict()) == shuffled


def test_ranks_that_are_not_a_bpe_are_refused():
    ranks = {bytes([b]): b for b in range(256)} | {b"abc": 256}  # "abc" is not two tokens ranked below it
    with pytest.raises(DataError, match="is not the merge of two tokens"):
        BPETokenizer.from_ranks(ranks, None)
    with pytest.raises(DataError, match="ranks 0..255 must be the 256 single bytes"):
        BPETokenizer.from_ranks({b"ab": 0, **{bytes([b]): b + 1 for b in range(255)}}, None)


# --- saving and loading -------------------------------------------------------------------------------------
def test_save_writes_a_readable_file_that_loads_back(tmp_path):
    tok = TOKENIZERS["gpt4"]
    path = tok.save(tmp_path / "tok.json")
    text = path.read_text(encoding="utf-8")
    saved = json.loads(text)  # plain JSON: the pattern, the special tokens, one merge per line
    assert saved["pattern"] == GPT4_SPLIT_PATTERN and saved["special_tokens"]["<|endoftext|>"] == 420 - 2
    first = [*tok.merges[0], tok.token_text(256)]
    assert saved["merges"][0] == first and f"\n  {json.dumps(first)}," in text
    loaded = BPETokenizer.load(path)
    assert loaded == tok and loaded.encode(SMALL) == tok.encode(SMALL)


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(type="char"), "not a saved BPE tokenizer"),
    (lambda d: d.update(version=99), "version 99"),
    (lambda d: d["merges"].append([5, 10_000]), "merge 162 joins tokens 5 and 10000"),
    (lambda d: d["merges"].append("ab"), "not a list of .left, right. id pairs"),
    (lambda d: d.update(special_tokens={}, merges=[*d["merges"], [113, 122, "no"]]),
     "merge 162 says it makes 'no', but .* make 'qz'"),
    (lambda d: d.update(pattern="(unclosed"), "not a valid regular expression"),
    (lambda d: d["special_tokens"].update({"<x>": 3}), "has id 3, which a merged or byte token has"),
    (lambda d: d["merges"].append(d["merges"][0]), "two merges make the same bytes"),
])
def test_a_damaged_file_is_refused_with_the_reason(tmp_path, change, message):
    d = TOKENIZERS["gpt4"].to_dict()
    change(d)
    path = tmp_path / "tok.json"
    path.write_text(json.dumps(d))
    with pytest.raises(DataError, match=message):
        BPETokenizer.load(path)


def test_a_file_that_is_not_json_is_refused(tmp_path):
    path = tmp_path / "tok.json"
    path.write_bytes(b"\x80\x00 not json")
    with pytest.raises(DataError, match="cannot read a tokenizer from"):
        BPETokenizer.load(path)


# --- bad input to training ----------------------------------------------------------------------------------
def test_empty_text_is_refused():
    with pytest.raises(DataError, match="cannot train a tokenizer on empty text"):
        BPETokenizer.train("", 300)


@pytest.mark.parametrize("vocab_size", [0, 255, -1, 2.5, True])
def test_a_vocabulary_below_256_is_refused(vocab_size):
    with pytest.raises(DataError, match="is too small: a byte-level BPE needs at least 256 tokens"):
        BPETokenizer.train("hello", vocab_size)


def test_a_vocabulary_bigger_than_the_text_supports_is_refused_with_the_most_it_supports():
    message = "too small for a vocabulary of 300 tokens: after 3 merges .* at most 259"
    with pytest.raises(DataError, match=message):
        BPETokenizer.train("abcd", 300, pattern=None)
    assert BPETokenizer.train("abcd", 259, pattern=None).vocab_size == 259


# --- a GPT that reads BPE tokens ----------------------------------------------------------------------------
@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "plays.txt"
    path.write_text(SHAKESPEARE[:30000])
    return path


def tiny_bpe_config(data, out_dir, **overrides):
    values = dict(tokenizer="bpe", vocab_size=300, batch_size=4, block_size=8, n_layer=1, n_head=2, n_embd=16,
                  learning_rate=1e-2, min_lr=1e-3, warmup_iters=2, eval_iters=2, max_iters=8,
                  lr_decay_iters=8, eval_interval=4, seed=5)
    return make_config("gpt", str(data), out_dir=str(out_dir), **{**values, **overrides})


def test_the_tokenizer_learns_from_the_training_split_only(text_file):
    data = LanguageData(str(text_file), block_size=8, tokenizer="bpe", vocab_size=300)
    train_text, val_text = split_text(text_file.read_text())
    assert data.format == "text"
    assert data.tokenizer == BPETokenizer.train(train_text, 300)
    assert data.splits["train"].tolist() == data.tokenizer.encode(train_text)
    assert data.tokenizer.decode(data.splits["val"]) == val_text
    assert data.val_chars_per_token == len(val_text) / len(data.splits["val"]) > 1.2


def test_bits_per_character_count_the_characters_a_token_stands_for(text_file):
    chars = LanguageData(str(text_file), block_size=8)
    tokens = LanguageData(str(text_file), block_size=8, tokenizer="bpe", vocab_size=300)
    assert chars.bits_per_char(2.0) == pytest.approx(2.0 / math.log(2))
    assert tokens.bits_per_char(2.0) == pytest.approx(2.0 / math.log(2) / tokens.val_chars_per_token)


def test_a_gpt_trains_on_bpe_tokens_saves_its_tokenizer_and_samples_text(text_file, tmp_path):
    out = tmp_path / "run"
    result = train(tiny_bpe_config(text_file, out), progress=False)
    data = LanguageData(str(text_file), block_size=8, tokenizer="bpe", vocab_size=300)
    assert result.best_val_bpc == pytest.approx(data.bits_per_char(result.best_val_loss))
    model, tokenizer, state = load_model(out)
    assert state["vocab"]["type"] == "bpe" and tokenizer == data.tokenizer
    assert model.config.vocab_size == 300
    samples = sample(out, num=2, prompt="ROMEO:", max_new_tokens=20, seed=1)
    assert len(samples) == 2 and all(s.startswith("ROMEO:") and len(s) > len("ROMEO:") for s in samples)


def test_a_bpe_run_resumes_exactly(text_file, tmp_path):
    whole = train(tiny_bpe_config(text_file, tmp_path / "whole"), progress=False)
    train(tiny_bpe_config(text_file, tmp_path / "part", max_iters=5), progress=False)
    resumed = train(resume_config(tmp_path / "part", max_iters=8), resume=True, progress=False)
    assert resumed.iter_num == whole.iter_num == 8 and resumed.best_val_loss == whole.best_val_loss
    a, b = checkpoint.load(tmp_path / "whole" / LAST), checkpoint.load(tmp_path / "part" / LAST)
    for name, value in a["model"].items():
        assert np.array_equal(value, b["model"][name]), name


def test_resuming_on_text_that_trains_another_tokenizer_is_refused(text_file, tmp_path):
    train(tiny_bpe_config(text_file, tmp_path / "run", max_iters=2), progress=False)
    text_file.write_text(SHAKESPEARE[50000:80000])
    with pytest.raises(DataError, match="BPE tokenizer trained on the data .* is not that of the checkpoint"):
        train(resume_config(tmp_path / "run", max_iters=4), resume=True, progress=False,
              allow_data_change=True)


def test_a_checkpoint_with_a_damaged_tokenizer_is_refused(text_file, tmp_path):
    train(tiny_bpe_config(text_file, tmp_path / "run", max_iters=1), progress=False)
    state = checkpoint.load(tmp_path / "run" / BEST)
    state["vocab"]["merges"][3] = [1, 99_999]
    checkpoint.save(tmp_path / "bad.ckpt", state)
    message = "its vocabulary is damaged: .*merge 3 joins tokens 1 and 99999"
    with pytest.raises(CheckpointError, match=message):
        read_model_state(tmp_path / "bad.ckpt")


@pytest.mark.parametrize("flags, message", [
    (["--vocab-size", "300"], "--vocab-size 300 applies only with --tokenizer bpe"),
    (["--tokenizer", "bpe", "--vocab-size", "255"], "--vocab-size must be a whole number >= 256"),
    (["--tokenizer", "bpe", "--vocab-size", "5000"], "--vocab-size 5000: the text is too small .* at most"),
    (["--tokenizer", "bpe", "--format", "lines"], "--tokenizer bpe reads running text"),
])
def test_the_cli_refuses_bad_tokenizer_flags_by_name(text_file, tmp_path, flags, message):
    args = ["train", "--data", str(text_file), "--out", str(tmp_path / "run"), *flags]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert re.search(message, result.output), result.output


def test_the_cli_trains_on_bpe_and_reports_bits_per_character(text_file, tmp_path):
    out = tmp_path / "run"
    args = ["train", "--model", "gpt", "--tokenizer", "bpe", "--vocab-size", "300", "--data", str(text_file),
            "--max-iters", "4", "--eval-interval", "2", "--eval-iters", "2", "--n-layer", "1",
            "--n-embd", "16", "--n-head", "2", "--block-size", "8", "--batch-size", "4", "--out", str(out)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    found = re.search(r"best val loss ([\d.]+) \(([\d.]+) bits per character\)", result.output)
    loss, bpc = float(found.group(1)), float(found.group(2))
    assert bpc < loss / math.log(2)  # a token stands for more than one character
    sampled = CliRunner().invoke(cli, ["sample", "--from", str(out), "--num", "1", "--max-new-tokens", "5"])
    assert sampled.exit_code == 0 and sampled.output.strip()


# --- rung 14 ------------------------------------------------------------------------------------------------
def test_rung_14_is_registered_and_the_rungs_before_it_are_not_written_yet():
    assert rungs.load(14) is r14
    assert CliRunner().invoke(cli, ["rungs"]).output.splitlines()[-1].startswith("14  Tokenization")
    result = CliRunner().invoke(cli, ["rung", "12"])
    assert result.exit_code == 1 and "rung 12 is not written yet" in result.output
    assert CliRunner().invoke(cli, ["rung", "15"]).exit_code == 2  # out of range: a usage error


def test_rung_14s_merge_table_is_what_the_library_learns():
    text = SHAKESPEARE[:5000]
    assert r14.merges_by_hand(text, 8) == BPETokenizer.train(text, 264, naive=True).merges


def test_rung_14_runs_from_start_to_end(monkeypatch, capsys):
    monkeypatch.setattr(r14, "load_text", lambda name: SHAKESPEARE[:300_000])
    for name, value in dict(max_iters=4, lr_decay_iters=4, warmup_iters=1, eval_interval=2, eval_iters=2,
                            n_layer=1, n_embd=16, block_size=16, batch_size=2).items():
        monkeypatch.setitem(r14.GPT, name, value)
    r14.main()
    out = capsys.readouterr().out
    assert "learns the same table: True" in out
    assert "[' SolidGoldMagikarp'], ids" in out and "holds 0 times" in out
    assert "decode gives it back: True" in out
    found = re.findall(r"(characters|BPE) +val loss [\d.]+ nats per token = ([\d.]+) bits per character", out)
    bpc = dict(found)
    assert set(bpc) == {"characters", "BPE"}


def test_itos_shows_each_token_as_text_like_the_character_tokenizer():
    tok = TOKENIZERS["gpt4"]
    assert len(tok.itos) == tok.vocab_size
    assert tok.itos[256] == tok.vocab[256].decode() and tok.itos[0xC3] == "\\xc3"
    assert tok.itos[tok.special_tokens["<|endoftext|>"]] == "<|endoftext|>"
