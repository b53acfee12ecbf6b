"""The character tokenizer: every distinct character of the training text gets an integer id.

    tok = CharTokenizer.from_text(text)          # ids in sorted character order, like nanoGPT's stoi/itos
    tok.decode(tok.encode("hello")) == "hello"
    tok = CharTokenizer.from_lines(names)        # plus a boundary token '.' with id 0, like makemore

A checkpoint's tokenizer is this one or a byte-pair encoding (gradschool/data/bpe.py); tokenizer_from_dict
reads either back.

The boundary token marks both the start and the end of a line (a name), so a model learns which characters
begin a name and when a name is finished. The vocabulary is saved with a model checkpoint (to_dict/from_dict)
so that a model always decodes with the characters it was trained on.
"""

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from gradschool.data.corpus import DataError

if TYPE_CHECKING:
    from gradschool.data.bpe import BPETokenizer


def _show(chars: Iterable[str], limit: int = 10) -> str:
    """'a', 'b', ... for an error message (at most `limit` of them)."""
    chars = sorted(chars)
    shown = ", ".join(repr(c) for c in chars[:limit])
    return shown + (f" and {len(chars) - limit} more" if len(chars) > limit else "")


class CharTokenizer:
    """Characters <-> integer ids; itos[i] is the character with id i, stoi its inverse."""

    def __init__(self, itos: Sequence[str], boundary: str | None = None):
        itos = list(itos)
        if any(not isinstance(c, str) or len(c) != 1 for c in itos) or len(set(itos)) != len(itos):
            raise DataError(f"a vocabulary must be distinct single characters, got {itos[:10]!r}")
        if boundary is not None and (not itos or itos[0] != boundary):
            raise DataError(f"the boundary token {boundary!r} must have id 0, but itos starts {itos[:3]!r}")
        self.itos = itos
        self.stoi = {c: i for i, c in enumerate(itos)}
        self.boundary = boundary
        self.boundary_id = 0 if boundary is not None else None

    @classmethod
    def from_text(cls, text: str) -> "CharTokenizer":
        """One id per distinct character of `text`, in sorted order."""
        if not text:
            raise DataError("cannot build a vocabulary from empty text")
        return cls(sorted(set(text)))

    @classmethod
    def from_lines(cls, lines: Iterable[str], boundary: str = ".") -> "CharTokenizer":
        """The boundary token with id 0, then the distinct characters of the lines in sorted order."""
        chars = set("".join(lines))
        if not chars:
            raise DataError("cannot build a vocabulary from no lines (or only empty ones)")
        if boundary in chars:
            raise DataError(
                f"the boundary token {boundary!r} also occurs inside the lines; pick another boundary "
                "character that the lines do not use"
            )
        return cls([boundary, *sorted(chars)], boundary=boundary)

    @property
    def vocab_size(self) -> int:
        return len(self.itos)

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, text: str) -> list[int]:
        unknown = set(text) - self.stoi.keys()
        if unknown:
            raise DataError(
                f"characters not in the vocabulary: {_show(unknown)}; the vocabulary has the "
                f"{self.vocab_size} characters of the training text; remove these characters or train on "
                "text that has them"
            )
        return [self.stoi[c] for c in text]

    def encode_prompt(self, prompt: str) -> list[int]:
        """The ids to start sampling from: for a model of lines (names), the boundary token, then the prompt.

        A line ends at the boundary token, so the prompt of a model of lines may hold neither it nor a line
        break; characters outside the vocabulary are refused by name (encode).
        """
        if self.boundary is None:
            return self.encode(prompt)
        ends = {self.boundary: f"the end-of-line token {self.boundary!r}", "\n": "a line break"}
        for end, what in ends.items():
            if end in prompt:
                raise DataError(
                    f"the prompt may not contain {what} (at character {prompt.index(end)}): this model "
                    "writes one line, such as a name, and stops there; remove it from the prompt"
                )
        return [self.boundary_id, *self.encode(prompt)]

    def encodes(self, text: str) -> bool:
        """Whether every character of text is in the vocabulary."""
        return set(text) <= self.stoi.keys()

    def decode(self, ids: Iterable[int]) -> str:
        ids = [int(i) for i in ids]
        outside = {i for i in ids if not 0 <= i < self.vocab_size}
        if outside:
            top = self.vocab_size - 1
            raise DataError(f"token ids {sorted(outside)[:10]} are outside the vocabulary ids 0..{top}")
        return "".join(self.itos[i] for i in ids)

    def to_dict(self) -> dict:
        """A JSON-ready description, saved with a checkpoint."""
        return {"type": "char", "itos": list(self.itos), "boundary": self.boundary}

    @classmethod
    def from_dict(cls, d: dict) -> "CharTokenizer":
        if not isinstance(d, dict) or d.get("type") != "char" or not isinstance(d.get("itos"), list):
            raise DataError(
                "this is not a saved character vocabulary (expected a dict with type 'char' and a list "
                "'itos'); the checkpoint may be damaged or written by another program"
            )
        return cls(d["itos"], boundary=d.get("boundary"))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CharTokenizer) and (self.itos, self.boundary) == (other.itos, other.boundary)

    def __repr__(self) -> str:
        return f"CharTokenizer(vocab_size={self.vocab_size}, boundary={self.boundary!r})"

    def check_matches(self, saved: "CharTokenizer | dict", what: str = "the checkpoint") -> None:
        """Raise a DataError unless this vocabulary (of the data) is exactly the `saved` one (of a model)."""
        other = saved if isinstance(saved, CharTokenizer) else CharTokenizer.from_dict(saved)
        if self == other:
            return
        only_data, only_saved = set(self.itos) - set(other.itos), set(other.itos) - set(self.itos)
        parts = []
        if only_data:
            parts.append(f"only in the data: {_show(only_data)}")
        if only_saved:
            parts.append(f"only in {what}: {_show(only_saved)}")
        detail = "; ".join(parts) or "the same characters but different ids or boundary token"
        raise DataError(
            f"the vocabulary of the data ({self.vocab_size} characters) does not match that of {what} "
            f"({other.vocab_size} characters): {detail}; use the data the model was trained on, "
            "or train a new model"
        )


def tokenizer_from_dict(d: Any) -> "CharTokenizer | BPETokenizer":
    """The tokenizer saved with a checkpoint: characters (type 'char') or byte pairs (type 'bpe')."""
    if isinstance(d, dict) and d.get("type") == "bpe":
        from gradschool.data.bpe import BPETokenizer  # here: the regex package only when it is needed

        return BPETokenizer.from_dict(d)
    return CharTokenizer.from_dict(d)
