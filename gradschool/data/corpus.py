"""Text to learn from: the corpora shipped with gradschool, or any UTF-8 text file.

    load_text("shakespeare")     # the shipped ~1 MB of Shakespeare, one string
    load_lines("names")          # the shipped 32,000 names, one per line, most common first
    load_text("my_poems.txt")    # any UTF-8 text file by path

Every problem with a file is a DataError whose message says what is wrong and what to do about it.
"""

from pathlib import Path

CORPORA_DIR = Path(__file__).parent / "corpora"
CORPORA = {"names": "names.txt", "shakespeare": "shakespeare.txt"}


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


def load_text(name_or_path: str | Path) -> str:
    """The whole text of a shipped corpus or of a UTF-8 file (Windows line endings become \\n)."""
    path = corpus_path(name_or_path)
    data = path.read_bytes()
    if not data:
        raise DataError(f"{str(path)!r} is empty; give a file with some text in it")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DataError(
            f"{str(path)!r} is not UTF-8 text: byte 0x{data[e.start]:02x} at offset {e.start} cannot be "
            "decoded; save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8 old.txt > new.txt)"
        ) from None
    return text.replace("\r\n", "\n")


def load_lines(name_or_path: str | Path) -> list[str]:
    """The non-empty lines of a corpus or file, without surrounding whitespace (e.g. one name per line)."""
    path = corpus_path(name_or_path)
    lines = [line.strip() for line in load_text(path).splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        raise DataError(f"{str(path)!r} has only blank lines; give a file with one example per line")
    return lines
