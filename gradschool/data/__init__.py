"""Data for the models: corpora, the character tokenizer, splits and batches.

    from gradschool.data import load_text, load_lines, CharTokenizer, DataError   # standard library only
    from gradschool.data.bpe import BPETokenizer                                  # byte-pair encoding (regex)
    from gradschool.data.splits import split_text, split_lines                    # standard library only
    from gradschool.data.batches import get_batch, line_examples, context_windows  # these need NumPy
    from gradschool.data.toy import make_moons                                    # 2-D toy problems

Importing this package does not import NumPy, so the scalar rungs run with the standard library alone.
"""

from gradschool.data.corpus import CORPORA, DataError, corpus_path, load_lines, load_text
from gradschool.data.tokenizer import CharTokenizer, tokenizer_from_dict

__all__ = ["CORPORA", "CharTokenizer", "DataError", "corpus_path", "load_lines", "load_text",
           "tokenizer_from_dict"]
