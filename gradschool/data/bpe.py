"""Byte-pair encoding (BPE): the tokenizer of GPT-2 and GPT-4, written out to be read.

A language model reads integers. Characters make a small vocabulary but long sequences; a byte-level BPE
starts from the 256 possible bytes of UTF-8 text, so any text at all can be encoded, and then learns merges:
the most frequent pair of adjacent tokens in the training text becomes a new token, again and again, until
the vocabulary has the size asked for. Common words end up as one token; rare ones as several.

    tok = BPETokenizer.train(text, vocab_size=512)          # 256 bytes + 256 merges, GPT-4's split pattern
    ids = tok.encode("Hello world")                         # [72, 101, ...] merged where the merges say
    tok.decode(ids) == "Hello world"                        # any id sequence decodes (bad UTF-8 -> U+FFFD)
    tok.merges[:2]                                          # [(32, 116), (104, 101)]: ' t' and 'he'
    tok.save("shakespeare.bpe.json"); BPETokenizer.load("shakespeare.bpe.json")   # a readable JSON file

Before BPE runs, a split pattern (a regular expression, GPT-2's or GPT-4's; pattern=None for none) cuts the
text into chunks (words with their leading space, runs of digits, punctuation, whitespace), and merges never
cross a chunk's edge: " dog." never becomes one token with the full stop. The patterns need `\\p{L}` (any
letter) which Python's `re` lacks, hence the `regex` package.

Special tokens ("<|endoftext|>") are whole strings with ids of their own, never produced by merges. As in
tiktoken, `encode` refuses text that contains one unless it is allowed (allowed_special), since text typed by
a user must not be able to forge one; `encode_ordinary` treats them as plain text.

Interop with tiktoken: `tok.mergeable_ranks()` is tiktoken's form of the tokenizer (token bytes -> id, the
id being the merge's rank), and `BPETokenizer.from_ranks(ranks, pattern, special_tokens)` builds one back. For
the same ranks, pattern and special tokens, `encode` gives exactly what `tiktoken.Encoding.encode` gives,
because it encodes as tiktoken does: within each chunk, merge the adjacent pair whose joined bytes have the
lowest rank, until no pair joins into a token (and a chunk that is a token whole is that token).

Training comes in two versions that learn the same merges (ties between equally frequent pairs go to the
smaller pair of ids, as in rustbpe): `train_merges_naive`, the lesson (count every pair of the whole text
again after each merge), and `train_merges`, which the library uses (count once, then update the counts only
in the chunks that hold the merged pair, and keep the pairs in a heap by count).
"""

import heapq
import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import regex

from gradschool.data.corpus import DataError

# GPT-2's split pattern, as tiktoken writes it (r50k_base): contractions, words, numbers, punctuation, spaces
GPT2_SPLIT_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s"""
# GPT-4's (cl100k_base): contractions in any case, numbers of at most 3 digits, newlines kept apart
GPT4_SPLIT_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$"""
    r"""|\s*[\r\n]|\s+(?!\S)|\s"""
)
SPLIT_PATTERNS = {"gpt2": GPT2_SPLIT_PATTERN, "gpt4": GPT4_SPLIT_PATTERN}
FORMAT = "gradschool bpe"  # the "type" of a saved tokenizer
VERSION = 1

Pair = tuple[int, int]


# ---- the two steps of BPE: count pairs, merge one ---------------------------------------------------------
def pair_counts(ids: Sequence[int], counts: dict[Pair, int] | None = None,
                weight: int = 1) -> dict[Pair, int]:
    """How often each adjacent pair occurs in ids (added, weight times each, to counts if given).

    >>> pair_counts([1, 2, 3, 1, 2])
    {(1, 2): 2, (2, 3): 1, (3, 1): 1}
    """
    counts = {} if counts is None else counts
    for pair in zip(ids, ids[1:]):
        counts[pair] = counts.get(pair, 0) + weight
    return counts


def merge(ids: Sequence[int], pair: Pair, new_id: int) -> list[int]:
    """ids with every occurrence of pair, left to right, replaced by new_id.

    >>> merge([1, 2, 3, 1, 2], (1, 2), 4)
    [4, 3, 4]
    >>> merge([5, 5, 5], (5, 5), 6)
    [6, 5]
    """
    out, i, n = [], 0, len(ids)
    first, second = pair
    while i < n:
        if i + 1 < n and ids[i] == first and ids[i + 1] == second:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def best_pair(counts: Mapping[Pair, int]) -> Pair:
    """The most frequent pair; of equally frequent ones, the smallest (as rustbpe chooses)."""
    return min(counts, key=lambda pair: (-counts[pair], pair))


# ---- training ------------------------------------------------------------------------------------------
def train_merges_naive(chunks: Mapping[bytes, int], num_merges: int) -> list[Pair]:
    """The merges learned from chunks (chunk bytes -> how often it occurs), counting all pairs each time.

    Each merge costs a pass over all the text: simple, and slow for a big vocabulary.
    """
    words = [list(chunk) for chunk in chunks]
    weights = list(chunks.values())
    vocab = [bytes([b]) for b in range(256)]
    ids_of = {token: i for i, token in enumerate(vocab)}
    merges: list[Pair] = []
    while len(merges) < num_merges:
        counts: dict[Pair, int] = {}
        for word, weight in zip(words, weights):
            pair_counts(word, counts, weight)
        if not counts:
            break
        pair = best_pair(counts)
        joined = vocab[pair[0]] + vocab[pair[1]]
        new_id = ids_of.get(joined)
        if new_id is None:  # a new token; else the pair spells a token there already is (see train_merges)
            new_id = len(vocab)
            vocab.append(joined)
            ids_of[joined] = new_id
            merges.append(pair)
        words = [merge(word, pair, new_id) for word in words]
    return merges


def train_merges(chunks: Mapping[bytes, int], num_merges: int) -> list[Pair]:
    """The same merges as train_merges_naive, with pair counts updated only where a merge changes them.

    Counting once: counts[pair] over all chunks, and where[pair], the chunks that hold it. A merge of pair
    changes only the chunks in where[pair], and in each of them only its own pairs, so each chunk's pairs are
    taken off the counts before the merge and put back after. The most frequent pair comes from a heap of
    (-count, pair); an entry whose count went stale is put back with its current count when it comes up.

    If the best pair joins into bytes that are a token already (ab+c when a+bc was merged before), its
    occurrences become that token and no new token is made: every token's bytes stay distinct, so that the
    tokenizer has tiktoken's form (bytes -> id).
    """
    words = [list(chunk) for chunk in chunks]
    weights = list(chunks.values())
    counts: dict[Pair, int] = defaultdict(int)
    where: dict[Pair, set[int]] = defaultdict(set)
    for i, word in enumerate(words):
        for pair in zip(word, word[1:]):
            counts[pair] += weights[i]
            where[pair].add(i)
    heap = [(-count, pair) for pair, count in counts.items()]
    heapq.heapify(heap)
    vocab = [bytes([b]) for b in range(256)]
    ids_of = {token: i for i, token in enumerate(vocab)}
    merges: list[Pair] = []
    while len(merges) < num_merges and heap:
        negative_count, pair = heapq.heappop(heap)
        count = counts.get(pair, 0)
        if count <= 0:
            continue
        if count != -negative_count:  # stale: back in with its current count
            heapq.heappush(heap, (-count, pair))
            continue
        joined = vocab[pair[0]] + vocab[pair[1]]
        new_id = ids_of.get(joined)
        if new_id is None:
            new_id = len(vocab)
            vocab.append(joined)
            ids_of[joined] = new_id
            merges.append(pair)
        grown = set()  # the pairs with new_id in them: the only ones whose counts went up
        for i in where.pop(pair):
            word, weight = words[i], weights[i]
            if len(word) < 2:
                continue
            merged = merge(word, pair, new_id)
            if len(merged) == len(word):  # a chunk where the pair was, before an earlier merge took it
                continue
            for old in zip(word, word[1:]):
                counts[old] -= weight
            for new in zip(merged, merged[1:]):
                counts[new] += weight
                if new_id in new:
                    where[new].add(i)
                    grown.add(new)
            words[i] = merged
        counts.pop(pair, None)
        for new in grown:
            heapq.heappush(heap, (-counts[new], new))
    return merges


def split_chunks(text: str, pattern: str | None) -> list[str]:
    """The chunks BPE works within: the pattern's matches in text (the whole text if pattern is None).

    >>> split_chunks("Hello world, 12345!", GPT4_SPLIT_PATTERN)
    ['Hello', ' world', ',', ' ', '123', '45', '!']
    """
    if pattern is None:
        return [text] if text else []
    return regex.findall(compile_pattern(pattern), text)


def compile_pattern(pattern: str) -> "regex.Pattern":
    """The compiled split pattern, or a DataError saying what is wrong with it."""
    try:
        return regex.compile(pattern)
    except (regex.error, TypeError) as e:
        raise DataError(f"the split pattern {str(pattern)[:80]!r} is not a valid regular expression: {e}") \
            from None


# ---- the tokenizer -------------------------------------------------------------------------------------
class BPETokenizer:
    """A byte-level BPE tokenizer: 256 byte tokens, then one token per merge, then the special tokens.

    merges[k] = (left, right) makes token 256 + k, whose bytes are those of left then right. byte_ids[b] is
    the id of the single byte b (b itself, except for tokenizers read from tiktoken's ranks, whose bytes may
    come in another order).

    >>> tok = BPETokenizer([(104, 101), (256, 108)])       # "he", then "hel"
    >>> tok.encode("hello")
    [257, 108, 111]
    >>> tok.decode([257, 108, 111])
    'hello'
    """

    def __init__(self, merges: Iterable[Pair], pattern: str | None = GPT4_SPLIT_PATTERN,
                 special_tokens: Mapping[str, int] | None = None, byte_ids: Sequence[int] | None = None):
        self.merges = [(int(a), int(b)) for a, b in merges]
        self.pattern = pattern
        self.compiled = compile_pattern(pattern) if pattern is not None else None
        self.byte_ids = list(range(256)) if byte_ids is None else [int(i) for i in byte_ids]
        if sorted(self.byte_ids) != list(range(256)):
            raise DataError("byte_ids must give each of the 256 bytes one of the ids 0..255")
        self.vocab: list[bytes] = [b""] * 256  # id -> the token's bytes
        for byte, i in enumerate(self.byte_ids):
            self.vocab[i] = bytes([byte])
        for k, (a, b) in enumerate(self.merges):
            if not (0 <= a < 256 + k and 0 <= b < 256 + k):
                raise DataError(f"merge {k} joins tokens {a} and {b}, but only tokens 0..{255 + k} exist "
                                "before it: the merges are damaged")
            self.vocab.append(self.vocab[a] + self.vocab[b])
        self.ranks = {token: i for i, token in enumerate(self.vocab)}  # tiktoken's mergeable_ranks
        if len(self.ranks) != len(self.vocab):
            raise DataError("two merges make the same bytes; a BPE tokenizer needs distinct tokens")
        self.special_tokens = dict(special_tokens or {})
        for name, i in self.special_tokens.items():
            if not isinstance(name, str) or not name or isinstance(i, bool) or not isinstance(i, int):
                raise DataError(f"a special token is a non-empty string with a whole-number id, not "
                                f"{name!r}: {i!r}")
            if i < len(self.vocab):
                raise DataError(f"the special token {name!r} has id {i}, which a merged or byte token has; "
                                f"special tokens take ids from {len(self.vocab)} on")
        if len(set(self.special_tokens.values())) != len(self.special_tokens):
            raise DataError("two special tokens have the same id")
        self.special_ids = {i: name for name, i in self.special_tokens.items()}
        # id -> the token as text, as CharTokenizer.itos (for showing tokens; "" for an id no token has)
        self.itos = [self.token_text(i) if i < len(self.vocab) or i in self.special_ids else ""
                     for i in range(self.vocab_size)]
        self.cache: dict[str, list[int]] = {}  # chunk -> ids: running text repeats its words
        self.boundary = self.boundary_id = None  # no start/end-of-line token: BPE models read running text

    # -- making one ------------------------------------------------------------------------------------
    @classmethod
    def train(cls, text: str, vocab_size: int, pattern: str | None = GPT4_SPLIT_PATTERN,
              special_tokens: Iterable[str] = (), naive: bool = False) -> "BPETokenizer":
        """Learn merges from text until there are vocab_size tokens (bytes, merges and special tokens).

        Special tokens get the last ids; where they occur in text they are cut out, not learned from.
        naive=True learns with train_merges_naive (the same merges, slowly).
        """
        special_tokens = list(dict.fromkeys(special_tokens))
        least = 256 + len(special_tokens)
        if isinstance(vocab_size, bool) or not isinstance(vocab_size, int) or vocab_size < least:
            raise DataError(f"a vocabulary size of {vocab_size!r} is too small: a byte-level BPE needs at "
                            f"least {least} tokens (the 256 bytes and {len(special_tokens)} special tokens)")
        if not text:
            raise DataError("cannot train a tokenizer on empty text; give it some text")
        pieces = split_on_specials(text, special_tokens) if special_tokens else [text]
        chunks = Counter(chunk.encode("utf-8") for piece in pieces for chunk in split_chunks(piece, pattern))
        num_merges = vocab_size - least
        merges = (train_merges_naive if naive else train_merges)(chunks, num_merges)
        if len(merges) < num_merges:
            most = 256 + len(merges) + len(special_tokens)
            raise DataError(f"the text is too small for a vocabulary of {vocab_size} tokens: after "
                            f"{len(merges)} merges no pair of tokens is left to merge, so it supports at "
                            f"most {most}; ask for a smaller vocabulary or train on more text")
        first_special = 256 + len(merges)
        return cls(merges, pattern, {name: first_special + k for k, name in enumerate(special_tokens)})

    @classmethod
    def from_ranks(cls, mergeable_ranks: Mapping[bytes, int], pattern: str | None,
                   special_tokens: Mapping[str, int] | None = None) -> "BPETokenizer":
        """A tokenizer from tiktoken's form: token bytes -> rank (= id), the 256 single bytes first.

        The merge that made each longer token is found again by encoding its bytes with the tokens ranked
        below it only: BPE stops at exactly two tokens, the pair that was merged.
        """
        ranks = dict(mergeable_ranks)
        if sorted(ranks.values()) != list(range(len(ranks))):
            raise DataError("the ranks must be the ids 0, 1, 2, ... each used once")
        if len(ranks) < 256 or any(len(token) != 1 for token, rank in ranks.items() if rank < 256):
            raise DataError("the ranks 0..255 must be the 256 single bytes (a byte-level BPE starts from "
                            "them)")
        byte_ids = [ranks[bytes([b])] for b in range(256)]
        merges = []
        for token, rank in sorted(ranks.items(), key=lambda item: item[1])[256:]:
            parts = bpe_parts(token, ranks, below=rank)
            if len(parts) != 2:
                raise DataError(f"token {rank} ({token!r}) is not the merge of two tokens ranked below "
                                "it, so these ranks are not a BPE")
            merges.append((ranks[parts[0]], ranks[parts[1]]))
        return cls(merges, pattern, special_tokens, byte_ids)

    def mergeable_ranks(self) -> dict[bytes, int]:
        """tiktoken's form of this tokenizer (token bytes -> id), for tiktoken.Encoding(mergeable_ranks=)."""
        return dict(self.ranks)

    # -- sizes -----------------------------------------------------------------------------------------
    @property
    def vocab_size(self) -> int:
        """How many ids a model needs: one more than the largest id."""
        return max([len(self.vocab) - 1, *self.special_tokens.values()]) + 1

    def __len__(self) -> int:
        return self.vocab_size

    # -- encoding --------------------------------------------------------------------------------------
    def encode_chunk(self, chunk: bytes) -> list[int]:
        """The ids of one chunk: merge the pair whose bytes rank lowest, again and again (as tiktoken)."""
        return [self.ranks[part] for part in bpe_parts(chunk, self.ranks)]

    def encode_ordinary(self, text: str) -> list[int]:
        """The ids of text, special tokens read as plain text."""
        ids: list[int] = []
        for chunk in split_chunks(text, None) if self.compiled is None else self.compiled.findall(text):
            cached = self.cache.get(chunk)
            if cached is None:
                cached = self.encode_chunk(chunk.encode("utf-8"))
                if len(self.cache) < 100_000 and len(chunk) <= 100:
                    self.cache[chunk] = cached
            ids.extend(cached)
        return ids

    def encode(self, text: str, allowed_special: Iterable[str] | str = (),
               disallowed_special: Iterable[str] | str = "all") -> list[int]:
        """The ids of text, as tiktoken's Encoding.encode: allowed special tokens become their ids.

        allowed_special: "all" or the special tokens that text may hold. disallowed_special: "all" (the
        others) or the special tokens that text may not hold: a DataError if it does. Naming a special
        token this tokenizer does not have is a DataError.

        >>> tok = BPETokenizer([], special_tokens={"<|endoftext|>": 256})
        >>> tok.encode("hi<|endoftext|>", allowed_special="all")
        [104, 105, 256]
        """
        allowed = self.special_set(allowed_special, "allowed_special")
        disallowed = (set(self.special_tokens) - allowed if disallowed_special == "all"
                      else self.special_set(disallowed_special, "disallowed_special"))
        if disallowed:
            found = special_regex(disallowed).search(text)
            if found:
                raise DataError(
                    f"the text contains the special token {found.group()!r} (at character {found.start()}), "
                    "which it may not hold: text from outside must not be able to make one; pass it in "
                    "allowed_special to encode it as the special token, or use encode_ordinary to encode "
                    "it as plain text"
                )
        if not allowed:
            return self.encode_ordinary(text)
        ids: list[int] = []
        for k, piece in enumerate(split_on_specials(text, allowed, keep=True)):
            if k % 2:  # the pieces alternate: text, special token, text, ...
                ids.append(self.special_tokens[piece])
            else:
                ids.extend(self.encode_ordinary(piece))
        return ids

    def special_set(self, names: Iterable[str] | str, argument: str) -> set[str]:
        """The special tokens named ("all" = every one), refusing names this tokenizer does not have."""
        if names == "all":
            return set(self.special_tokens)
        if isinstance(names, str):
            raise DataError(f"{argument} is 'all' or a collection of special tokens, not the string "
                            f"{names!r}")
        names = set(names)
        unknown = names - set(self.special_tokens)
        if unknown:
            known = ", ".join(map(repr, sorted(self.special_tokens))) or "none"
            raise DataError(f"{argument} names special tokens this tokenizer does not have: "
                            f"{', '.join(map(repr, sorted(unknown)))} (it has: {known})")
        return names

    def encode_prompt(self, prompt: str) -> list[int]:
        """The ids to start sampling from: the prompt's, with no special tokens allowed in it."""
        return self.encode(prompt)

    def encodes(self, text: str) -> bool:
        """Whether text can be encoded: always, bytes cover every text (special tokens as plain text)."""
        return True

    # -- decoding --------------------------------------------------------------------------------------
    def decode_bytes(self, ids: Iterable[int]) -> bytes:
        """The bytes of the tokens (a special token: its UTF-8 text)."""
        out = []
        for i in ids:
            i = int(i)
            if 0 <= i < len(self.vocab):
                out.append(self.vocab[i])
            elif i in self.special_ids:
                out.append(self.special_ids[i].encode("utf-8"))
            else:
                specials = f" and the special tokens' {sorted(self.special_ids)}" if self.special_ids else ""
                raise DataError(f"token id {i} is not in this tokenizer: it has the ids "
                                f"0..{len(self.vocab) - 1}{specials}")
        return b"".join(out)

    def decode(self, ids: Iterable[int]) -> str:
        """The text of the tokens; bytes that are not valid UTF-8 (half a character) become U+FFFD."""
        return self.decode_bytes(ids).decode("utf-8", errors="replace")

    def token_text(self, i: int) -> str:
        """One token shown for a person: its text, with bytes that are not whole characters as \\xNN."""
        return self.decode_bytes([i]).decode("utf-8", errors="backslashreplace")

    # -- saving ----------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description: the merges, the pattern, the special tokens (saved with a checkpoint)."""
        d: dict[str, Any] = {"type": "bpe", "format": FORMAT, "version": VERSION, "pattern": self.pattern,
                             "special_tokens": dict(self.special_tokens)}
        if self.byte_ids != list(range(256)):
            d["byte_ids"] = list(self.byte_ids)
        d["merges"] = [list(pair) for pair in self.merges]
        return d

    @classmethod
    def from_dict(cls, d: Any) -> "BPETokenizer":
        """The tokenizer of to_dict, checked: a damaged or crafted description is a DataError."""
        if not isinstance(d, dict) or d.get("type") != "bpe" or d.get("format") != FORMAT:
            raise DataError("this is not a saved BPE tokenizer (expected a dict with type 'bpe' and format "
                            f"{FORMAT!r}); the file may be damaged or written by another program")
        if d.get("version") != VERSION:
            raise DataError(f"this BPE tokenizer was saved in version {d.get('version')!r} of the format; "
                            f"this gradschool reads version {VERSION}")
        merges, specials, byte_ids = d.get("merges"), d.get("special_tokens", {}), d.get("byte_ids")
        pattern = d.get("pattern")
        if not isinstance(merges, list) or not all(
            isinstance(m, list) and len(m) in (2, 3) and is_whole(m[0]) and is_whole(m[1])
            and (len(m) == 2 or isinstance(m[2], str)) for m in merges
        ):
            raise DataError("the saved tokenizer's merges are not a list of [left, right] id pairs (each "
                            "maybe with the text of the token it makes)")
        if not isinstance(specials, dict) or not (pattern is None or isinstance(pattern, str)):
            raise DataError("the saved tokenizer's pattern is not a string, or its special tokens not a dict")
        if byte_ids is not None and (not isinstance(byte_ids, list) or not all(map(is_whole, byte_ids))):
            raise DataError("the saved tokenizer's byte_ids are not a list of ids")
        tok = cls([m[:2] for m in merges], pattern, specials, byte_ids)
        for k, m in enumerate(merges):
            if len(m) == 3 and m[2] != tok.token_text(256 + k):
                raise DataError(f"merge {k} says it makes {m[2]!r}, but tokens {m[0]} and {m[1]} make "
                                f"{tok.token_text(256 + k)!r}: the merges are damaged")
        return tok

    def save(self, path: str | Path) -> Path:
        """Write the tokenizer to a readable JSON file, one merge per line: [left, right, "the token"]."""
        d = self.to_dict()
        merges = d.pop("merges")
        head = json.dumps(d, ensure_ascii=False, indent=1)[:-2]  # without the closing "\n}"
        lines = [f"  {json.dumps([*pair, self.token_text(256 + k)], ensure_ascii=False)}"
                 for k, pair in enumerate(merges)]
        text = head + ',\n "merges": [\n' + ",\n".join(lines) + "\n ]\n}\n"
        path = Path(path)
        path.write_text(text, encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | Path) -> "BPETokenizer":
        """The tokenizer saved in path by save()."""
        path = Path(path)
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError, RecursionError) as e:
            raise DataError(f"cannot read a tokenizer from {str(path)!r}: {e}") from None
        try:
            return cls.from_dict(d)
        except DataError as e:
            raise DataError(f"{str(path)!r}: {e}") from None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BPETokenizer) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return (f"BPETokenizer(vocab_size={self.vocab_size}, merges={len(self.merges)}, "
                f"special_tokens={len(self.special_tokens)})")

    def check_matches(self, saved: "BPETokenizer | dict", what: str = "the checkpoint") -> None:
        """Raise a DataError unless this tokenizer (trained on the data) is exactly the `saved` one."""
        other = saved if isinstance(saved, BPETokenizer) else tokenizer_or_error(saved, what)
        if self == other:
            return
        same = next((k for k, (a, b) in enumerate(zip(self.merges, other.merges)) if a != b),
                    min(len(self.merges), len(other.merges)))
        raise DataError(
            f"the BPE tokenizer trained on the data ({self.vocab_size} tokens) is not that of {what} "
            f"({other.vocab_size} tokens): they agree on the first {same} merges only; use the data the "
            "model was trained on, or train a new model"
        )


def tokenizer_or_error(d: Any, what: str) -> BPETokenizer:
    """BPETokenizer.from_dict(d), or a DataError naming what holds it."""
    try:
        return BPETokenizer.from_dict(d)
    except DataError as e:
        raise DataError(f"the tokenizer of {what} is damaged: {e}") from None


def bpe_parts(chunk: bytes, ranks: Mapping[bytes, int], below: float = math.inf) -> list[bytes]:
    """chunk cut into tokens as tiktoken cuts it: start from its bytes, merge the adjacent pair whose
    joined bytes have the lowest rank (the leftmost of equals), until no pair joins into a token ranked below
    `below`.

    A chunk that is a token whole is that token, whatever the merges would make of it.
    """
    if ranks.get(chunk, math.inf) < below:
        return [chunk]
    parts = [chunk[i : i + 1] for i in range(len(chunk))]
    while len(parts) > 1:
        lowest, at = below, -1
        for i in range(len(parts) - 1):
            rank = ranks.get(parts[i] + parts[i + 1], math.inf)
            if rank < lowest:
                lowest, at = rank, i
        if at < 0:
            break
        parts[at : at + 2] = [parts[at] + parts[at + 1]]
    return parts


def special_regex(names: Iterable[str]) -> "regex.Pattern":
    """A pattern that finds any of the special tokens (the longest first where one starts another)."""
    return regex.compile("|".join(regex.escape(name) for name in sorted(names, key=lambda s: (-len(s), s))))


def split_on_specials(text: str, names: Iterable[str], keep: bool = False) -> list[str]:
    """text cut at each special token: [text, special, text, ...] with keep, else the text pieces only."""
    pieces = regex.split(f"({special_regex(names).pattern})", text)
    return pieces if keep else pieces[::2]


def is_whole(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)
