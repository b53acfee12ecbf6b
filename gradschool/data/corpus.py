"""Text to learn from: the corpora shipped with gradschool, or any UTF-8 text file.

    load_text("shakespeare")     # the shipped ~1 MB of Shakespeare, one string
    load_lines("names")          # the shipped 32,000 names, one per line, most common first
    load_text("my_poems.txt")    # any UTF-8 text file by path

Every problem with a file is a DataError whose message says what is wrong and what to do about it. Only a
regular file is read (not a folder, a device like /dev/zero, or a pipe that would wait forever), only up to
max_mb megabytes, and only UTF-8 text without NUL bytes.
"""

import stat
from pathlib import Path

CORPORA_DIR = Path(__file__).parent / "corpora"
CORPORA = {"names": "names.txt", "shakespeare": "shakespeare.txt"}
MAX_DATA_MB = 100.0  # the largest file read unless asked (gradschool train --max-data-mb): 100x Shakespeare
FILE_KINDS = {stat.S_ISCHR: "a character device", stat.S_ISBLK: "a block device",
              stat.S_ISFIFO: "a pipe (FIFO)", stat.S_ISSOCK: "a socket"}


class DataError(ValueError):
    """A data file or dataset that cannot be used, with a message saying why and what to do."""


def corpus_path(name_or_path: str | Path) -> Path:
    """The file of a shipped corpus ("names", "shakespeare"), else the path itself (./names for a file)."""
    if isinstance(name_or_path, str) and name_or_path in CORPORA:
        return CORPORA_DIR / CORPORA[name_or_path]
    path = Path(name_or_path)
    if not path.exists():
        known = ", ".join(CORPORA)
        raise DataError(
            f"no such file: {str(path)!r}, and it is not the name of a shipped corpus ({known}); "
            "give one of those names or the path of a UTF-8 text file"
        )
    if path.is_dir():
        raise DataError(f"{str(path)!r} is a folder; give the path of a UTF-8 text file inside it")
    return path


def load_text(name_or_path: str | Path, max_mb: float = MAX_DATA_MB) -> str:
    """The whole text of a shipped corpus or of a UTF-8 file of at most max_mb MB (\\r\\n becomes \\n)."""
    path = corpus_path(name_or_path)
    mode = path.stat().st_mode  # before opening: opening a pipe waits for a writer
    if not stat.S_ISREG(mode):
        kind = next((name for is_kind, name in FILE_KINDS.items() if is_kind(mode)), "not a regular file")
        raise DataError(f"{str(path)!r} is {kind}, not a text file; give the path of a UTF-8 text file")
    limit = int(max_mb * 1e6)
    with path.open("rb") as f:
        data = f.read(limit + 1)  # never more: the file may grow while it is read
    if len(data) > limit:
        size = max(path.stat().st_size, len(data))
        raise DataError(f"{str(path)!r} is {size / 1e6:,.1f} MB, more than the limit of {max_mb:g} MB; "
                        "give a smaller file, or raise the limit with --max-data-mb")
    if not data:
        raise DataError(f"{str(path)!r} is empty; give a file with some text in it")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DataError(
            f"{str(path)!r} is not UTF-8 text: byte 0x{data[e.start]:02x} at offset {e.start} cannot be "
            "decoded; save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8 old.txt > new.txt)"
        ) from None
    if "\0" in text:
        raise DataError(f"{str(path)!r} looks like a binary file, not text: it has a NUL byte at offset "
                        f"{data.index(0)}; give a UTF-8 text file")
    return text.replace("\r\n", "\n")


def load_lines(name_or_path: str | Path, max_mb: float = MAX_DATA_MB) -> list[str]:
    """The non-empty lines of a corpus or file, without surrounding whitespace (e.g. one name per line)."""
    return non_empty_lines(load_text(name_or_path, max_mb), corpus_path(name_or_path))


def non_empty_lines(text: str, source: str | Path) -> list[str]:
    """The non-empty lines of text (read from source), without surrounding whitespace."""
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        raise DataError(f"{str(source)!r} has only blank lines; give a file with one example per line")
    return lines
